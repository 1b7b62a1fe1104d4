"""The RSA key that signs ID tokens and the pseudonym key (docs/operations.md, "Single sign-on").

Production sets KLASPOORT_OIDC_PRIVATE_KEY (PEM) and KLASPOORT_PSEUDONYM_KEY. The embedded
default generates each once, at first use (importing the settings writes no files), and keeps
it under VAR_DIR with mode 0600, so a single machine works out of the box and its tokens and
pseudonyms stay the same across restarts; no key is ever in the repository, and none is derived
from SECRET_KEY. Imported by settings: no Django imports at module level.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_FILE = "oidc-signing-key.pem"
PSEUDONYM_KEY_FILE = "pseudonym-key"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
                        re.DOTALL)


def split_pems(text: str) -> list[str]:
    """Every PEM private key in `text` (an environment variable may hold several)."""
    return [match.group(0) + "\n" for match in _PEM_BLOCK.finditer(text.replace("\\n", "\n"))]


def _new_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _stored(var_dir: Path, name: str, make: Callable[[], bytes]) -> str:
    """The file `name` under var_dir, made with `make()` on first use (mode 0600).

    Several processes may start at once: each writes its own temporary file and links it into
    place, and whoever loses the race reads the winner's, so they all use one key.
    """
    path = var_dir / name
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = var_dir / f".{name}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, make())
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text()


def stored_signing_key(var_dir: Path) -> str:
    """The signing key kept under var_dir, generated on first use."""
    return _stored(var_dir, KEY_FILE, _new_key_pem)


def signing_key(var_dir: Path) -> str:
    """The current signing key: KLASPOORT_OIDC_PRIVATE_KEY, else the stored one."""
    configured = split_pems(os.environ.get("KLASPOORT_OIDC_PRIVATE_KEY", ""))
    if configured:
        return configured[0]
    return stored_signing_key(var_dir)


@functools.lru_cache(maxsize=4)
def _signing_key_once(var_dir: Path) -> str:
    return signing_key(var_dir)


def lazy_signing_key(var_dir: Path) -> Any:
    """The signing key as a string-like object that reads (or generates) it on first use, for
    OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]: importing the settings then writes no file."""
    from django.utils.functional import SimpleLazyObject

    return SimpleLazyObject(lambda: _signing_key_once(var_dir))


def stored_pseudonym_key(var_dir: Path) -> str:
    """A single machine's own pseudonym key (no KLASPOORT_PSEUDONYM_KEY): random, generated on
    first use under var_dir and kept, so pseudonyms stay the same across restarts. Never
    derived from SECRET_KEY, whose embedded default is public."""
    return _stored(var_dir, PSEUDONYM_KEY_FILE,
                   lambda: secrets.token_urlsafe(32).encode()).strip()


@functools.lru_cache(maxsize=4)
def _stored_pseudonym_key_once(var_dir: Path) -> bytes:
    return stored_pseudonym_key(var_dir).encode()


def pseudonym_key() -> bytes:
    """Rule: KLASPOORT_PSEUDONYM_KEY keys the pseudonyms. Unset, production refuses (its
    publishers' pseudonyms must not hang on one machine's file) and a single machine uses its
    own generated key (stored_pseudonym_key)."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from klaspoort.checks import is_production

    configured = settings.KLASPOORT_PSEUDONYM_KEY
    if configured:
        return configured.encode()
    if is_production():
        raise ImproperlyConfigured("Set KLASPOORT_PSEUDONYM_KEY (docs/operations.md).")
    return _stored_pseudonym_key_once(Path(settings.VAR_DIR))


def inactive_keys() -> list[str]:
    """Earlier keys still published in the JWKS so tokens they signed keep verifying."""
    return split_pems(os.environ.get("KLASPOORT_OIDC_PRIVATE_KEYS_INACTIVE", ""))
