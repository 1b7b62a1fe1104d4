"""Pupils' sign-in secrets: two pictures or a five-digit pincode, encrypted at rest.

The decisions (sizes, key, defaults) are in docs/decisions/0009-pupil-secrets.md. A secret's
plain form is "plaatjes:3-11" or "pincode:04217"; it only exists in memory, on the coordinator's
screen and on the printed cards. It never goes into a log, the audit trail or the roster's
change log: audit entries name the method, never the value.

This module is the secrets themselves (their forms, generation, the chosen-pincode rule) and
their encryption; it writes nothing. The writes, audited, are `roster.secret_services`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from klaspoort.checks import is_production
from klaspoort.roster.models import Group, Pupil

PICTURES = "plaatjes"
PINCODE = "pincode"
PICTURES_PER_SECRET = 2
PINCODE_DIGITS = 5
# Bound into every ciphertext: a token from another purpose never decrypts as a secret.
_AAD_V1 = b"klaspoort:pupil-secret:v1"
_AAD_V2 = b"klaspoort:pupil-secret:v2:"
_PREFIX_V1 = "v1:"  # before key rotation: no key id (still read, rewritten by rotate_all)
_PREFIX_V2 = "v2:"

# The sixteen pictures, by their Dutch names (the words the children learn on the card). The
# order is part of the stored secrets: append, never reorder.
PICTURE_NAMES: tuple[str, ...] = (
    "appel", "auto", "bal", "boom", "eend", "fiets", "huis", "kat",
    "maan", "paraplu", "ster", "vis", "vlinder", "zon", "hond", "bloem",
)
PICTURE_LABELS = {
    "appel": _("apple"), "auto": _("car"), "bal": _("ball"), "boom": _("tree"),
    "eend": _("duck"), "fiets": _("bicycle"), "huis": _("house"), "kat": _("cat"),
    "maan": _("moon"), "paraplu": _("umbrella"), "ster": _("star"), "vis": _("fish"),
    "vlinder": _("butterfly"), "zon": _("sun"), "hond": _("dog"), "bloem": _("flower"),
}
# Young children (groep 1-3, and combination groups that may hold them) cannot type a code yet.
PICTURE_YEAR_GROUPS = {"0", "1", "2", "3", "C"}


def default_method(jaargroep: str) -> str:
    """Pictures for jaargroep 0-3 and C (and groups without one), a pincode from groep 4."""
    return PICTURES if jaargroep in PICTURE_YEAR_GROUPS or not jaargroep else PINCODE


def method_of(group: Group | None, jaargroep: str = "") -> str:
    """The group's chosen method; without a choice, the default for its year group."""
    if group is None:
        return default_method(jaargroep)
    return group.signin_method or default_method(group.jaargroep)


# ---------------------------------------------------------------------------------------------
# Encryption
# ---------------------------------------------------------------------------------------------
def _is_production() -> bool:
    # One rule for "production" (decision 0019), the one the start-up checks use.
    return is_production()


@dataclass(frozen=True)
class _Keyring:
    """The keys that read secrets, by key id; `current` encrypts. See decision 0009."""

    current: str
    keys: dict[str, bytes]


def key_id(key: bytes) -> str:
    """A short public name of a key, derived from it: written in every token so decryption
    takes the right key at once. It reveals nothing usable about the key."""
    digest = hashlib.sha256(b"klaspoort pupil secret key id\0" + key).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


def _decode_key(configured: str, name: str) -> bytes:
    configured = configured.strip()
    try:
        key = base64.urlsafe_b64decode(configured.encode() + b"=" * (-len(configured) % 4))
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must hold keys of 32 bytes, URL-safe base64.")
    return key


@functools.lru_cache(maxsize=8)
def _build_keyring(several: tuple[str, ...], single: str, secret_key: str,
                   production: bool) -> _Keyring:
    keys = [_decode_key(k, "KLASPOORT_SECRETS_KEYS") for k in several if k.strip()]
    if single:
        keys.append(_decode_key(single, "KLASPOORT_SECRETS_KEY"))
    if not keys:
        if production:
            raise ImproperlyConfigured(
                "Set KLASPOORT_SECRETS_KEYS: pupils' secrets need their own key.")
        # Development only: a key of its own derived from SECRET_KEY, so a local machine works.
        keys.append(hashlib.sha256(b"klaspoort pupil secrets\0" + secret_key.encode()).digest())
    ring = {key_id(key): key for key in reversed(keys)}  # the first listed wins a (nil) clash
    return _Keyring(current=key_id(keys[0]), keys=ring)


def _keyring() -> _Keyring:
    """KLASPOORT_SECRETS_KEYS (the first is current, the others only decrypt), then the older
    single KLASPOORT_SECRETS_KEY; without either, a development key (refused in production)."""
    several = settings.KLASPOORT_SECRETS_KEYS
    if isinstance(several, str):
        several = several.split(",")
    return _build_keyring(tuple(several), settings.KLASPOORT_SECRETS_KEY, settings.SECRET_KEY,
                          _is_production())


def current_key_id() -> str:
    return _keyring().current


@functools.lru_cache(maxsize=8)
def _cipher(key: bytes) -> AESGCM:
    # One cipher object per key: an import encrypts a secret for each of up to 1,000 pupils.
    return AESGCM(key)


def _aad(kid: str) -> bytes:
    # The key id is bound into the ciphertext too: a token cannot be relabelled to another key.
    return _AAD_V2 + kid.encode()


def encrypt(plain: str) -> str:
    """AES-256-GCM under the current key with a fresh random nonce (the same secret never gives
    the same column): "v2:<key id>:" + URL-safe base64 of nonce and ciphertext."""
    ring = _keyring()
    nonce = os.urandom(12)
    sealed = _cipher(ring.keys[ring.current]).encrypt(nonce, plain.encode(), _aad(ring.current))
    return f"{_PREFIX_V2}{ring.current}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


_AAD_FILE = b"klaspoort:roster-file:v1:"


def seal_file(data: bytes) -> bytes:
    """A received roster file encrypted under the current key while it waits to be checked
    (it may carry BSNs): key id, newline, nonce and AES-256-GCM ciphertext. Never a secret's
    token: the purpose is bound into the ciphertext."""
    ring = _keyring()
    nonce = os.urandom(12)
    aad = _AAD_FILE + ring.current.encode()
    sealed = _cipher(ring.keys[ring.current]).encrypt(nonce, data, aad)
    return ring.current.encode() + b"\n" + nonce + sealed


def open_file(blob: bytes | memoryview) -> bytes:
    """The file seal_file sealed; ValueError if it was altered or its key is gone."""
    ring = _keyring()
    kid, _sep, raw = bytes(blob).partition(b"\n")
    key = ring.keys.get(kid.decode("ascii", "replace"))
    if key is None:
        raise ValueError("roster file was sealed with a key that is not configured")
    try:
        return _cipher(key).decrypt(raw[:12], raw[12:], _AAD_FILE + kid)
    except InvalidTag as exc:
        raise ValueError("roster file does not decrypt") from exc


def decrypt(token: str) -> str:
    """The plain secret; ValueError for a token that is not ours, was altered, or whose key is
    no longer configured. A v2 token names its key; a v1 token (written before key ids) is
    read with each configured key in turn until rotate-pupil-secrets has rewritten it."""
    ring = _keyring()
    try:
        if token.startswith(_PREFIX_V2):
            kid, _sep, body = token[len(_PREFIX_V2):].partition(":")
            if kid not in ring.keys:
                raise ValueError("sign-in secret was encrypted with a key that is not configured")
            raw = base64.urlsafe_b64decode(body)
            return _cipher(ring.keys[kid]).decrypt(raw[:12], raw[12:], _aad(kid)).decode()
        if token.startswith(_PREFIX_V1):
            raw = base64.urlsafe_b64decode(token[len(_PREFIX_V1):])
            for key in ring.keys.values():
                try:
                    return _cipher(key).decrypt(raw[:12], raw[12:], _AAD_V1).decode()
                except InvalidTag:
                    continue
            raise ValueError("sign-in secret does not decrypt")
    except (InvalidTag, binascii.Error) as exc:
        raise ValueError("sign-in secret does not decrypt") from exc
    raise ValueError("not a sign-in secret")


def current_token_prefix() -> str:
    """How every token encrypted under the current key begins."""
    return f"{_PREFIX_V2}{current_key_id()}:"


# ---------------------------------------------------------------------------------------------
# Secrets
# ---------------------------------------------------------------------------------------------
def new_secret(method: str) -> str:
    """A random secret in the method's form, from the operating system's random source."""
    if method == PICTURES:
        picks = [secrets.randbelow(len(PICTURE_NAMES)) for _i in range(PICTURES_PER_SECRET)]
        return f"{PICTURES}:" + "-".join(str(n) for n in picks)
    return f"{PINCODE}:" + "".join(str(secrets.randbelow(10)) for _i in range(PINCODE_DIGITS))


@dataclass(frozen=True)
class Revealed:
    """A secret as a person sees it: the pictures (name, label) or the digits."""

    method: str
    pictures: tuple[tuple[str, Any], ...] = ()
    code: str = ""


def reveal(token: str) -> Revealed | None:
    """What the coordinator and the card show; None for a pupil without a (readable) secret."""
    if not token:
        return None
    try:
        method, _sep, value = decrypt(token).partition(":")
    except ValueError:
        return None
    if method == PICTURES:
        names = [PICTURE_NAMES[int(n)] for n in value.split("-")]
        return Revealed(PICTURES, pictures=tuple((n, PICTURE_LABELS[n]) for n in names))
    return Revealed(PINCODE, code=value)


def attach_revealed(pupils: Iterable[Pupil]) -> list[Pupil]:
    """Give each pupil a `revealed` attribute for the templates."""
    pupils = list(pupils)
    for pupil in pupils:
        pupil.revealed = reveal(pupil.signin_secret)  # type: ignore[attr-defined]
    return pupils


class TrivialPincode(ValueError):
    """A chosen pincode was refused; the message says why, in the user's language."""


# The digit runs a child or a classmate guesses first (decision 0022).
_RUNS = "0123456789"


def check_chosen_pincode(code: str) -> str:
    """RULE (decision 0022): a pincode typed by a coordinator or teacher is exactly five digits
    0-9, has at least three different digits (refuses 11111, 12121, 00010) and is no run up or
    down (01234, 12345, 98765, 54321). Returns the code; raises TrivialPincode otherwise."""
    code = code.strip()
    if len(code) != PINCODE_DIGITS or not all(char in _RUNS for char in code):
        raise TrivialPincode(_("A pincode is exactly five digits."))
    if len(set(code)) < 3:
        raise TrivialPincode(_("This pincode is too easy to guess: use at least three "
                               "different digits."))
    if code in _RUNS or code in _RUNS[::-1]:
        raise TrivialPincode(_("This pincode is too easy to guess: it counts up or down."))
    return code


# ---------------------------------------------------------------------------------------------
# Other secrets under the same keys
# ---------------------------------------------------------------------------------------------
_PREFIX_SEALED = "s1:"
_AAD_SEALED = b"klaspoort:sealed:v1:"


def _sealed_aad(purpose: str, kid: str) -> bytes:
    return _AAD_SEALED + purpose.encode() + b":" + kid.encode()


def seal_text(purpose: str, plain: str) -> str:
    """A secret of another app (a publisher's webhook signing secret) encrypted at rest under
    the same keys (KLASPOORT_SECRETS_KEYS, decision 0009): "s1:<key id>:" + URL-safe base64
    of nonce and AES-256-GCM ciphertext. The purpose and key id are bound into the
    ciphertext: it never opens as a pupil's secret, a roster file or another purpose's
    secret."""
    ring = _keyring()
    nonce = os.urandom(12)
    sealed = _cipher(ring.keys[ring.current]).encrypt(
        nonce, plain.encode(), _sealed_aad(purpose, ring.current))
    return f"{_PREFIX_SEALED}{ring.current}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_text(purpose: str, token: str) -> str:
    """The plain text seal_text sealed for this purpose; ValueError if it was altered, is of
    another purpose, or its key is no longer configured."""
    ring = _keyring()
    if not token.startswith(_PREFIX_SEALED):
        raise ValueError("not a sealed secret")
    kid, _sep, body = token[len(_PREFIX_SEALED):].partition(":")
    key = ring.keys.get(kid)
    if key is None:
        raise ValueError("secret was sealed with a key that is not configured")
    try:
        raw = base64.urlsafe_b64decode(body)
        return _cipher(key).decrypt(raw[:12], raw[12:], _sealed_aad(purpose, kid)).decode()
    except (InvalidTag, binascii.Error) as exc:
        raise ValueError("sealed secret does not decrypt") from exc


def sealed_with_current_key(token: str) -> bool:
    """Whether the sealed text is under the current key (else its owner re-seals it)."""
    return token.startswith(f"{_PREFIX_SEALED}{current_key_id()}:")
