"""Pairwise pseudonyms: the ids a publisher (or network provider) knows people, groups and
schools by (R4.4, R6).

One key (KLASPOORT_PSEUDONYM_KEY) keys an HMAC over who receives the id, the kind of thing and
its database id, so every receiver gets its own stable ids and two receivers cannot join their
data on them. Single sign-on's `sub` and `school_id`, the publisher feed, snapshots and
OneRoster all take their ids from here, so a publisher recognises in the API the person it
signed in. A project-level module (it imports no app) because sso and exchange, which may not
import each other, both need it.

Production sets the key; the embedded default generates one at first use and keeps it under
VAR_DIR (never derived from SECRET_KEY). Imported by settings: no Django imports at module level.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

PSEUDONYM_KEY_FILE = "pseudonym-key"

# Who receives a pseudonym: the first part of the HMAC message. Publishers keep the bare form
# ("user:7:42") that their ids have had since the first ID token.
PUBLISHER = ""
NETWORK_PROVIDER = "network"


def stored_key_file(var_dir: Path, name: str, make: Callable[[], bytes]) -> str:
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


def stored_pseudonym_key(var_dir: Path) -> str:
    """A single machine's own pseudonym key (no KLASPOORT_PSEUDONYM_KEY): random, generated on
    first use under var_dir and kept, so pseudonyms stay the same across restarts. Never
    derived from SECRET_KEY, whose embedded default is public."""
    return stored_key_file(var_dir, PSEUDONYM_KEY_FILE,
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


def pseudonym(receiver_id: int, kind: str, value: int, *, receiver: str = PUBLISHER) -> str:
    """A stable id of `value` that only this receiver sees: HMAC-SHA256 keyed by the
    pseudonym key over the receiver, the kind of thing and its id. Two receivers get
    unrelated values for the same person, so they cannot join their data on it."""
    owner = f"{receiver}{receiver_id}" if receiver else str(receiver_id)
    message = f"{kind}:{owner}:{value}".encode()
    return hmac.new(pseudonym_key(), message, hashlib.sha256).hexdigest()


class PublisherIds:
    """The same ids as `subject_for`, `school_id_for` and `group_id_for`, for many rows of one
    publisher at once: the HMAC of each kind's constant prefix is computed once and copied per
    row (a school's feed comparison makes thousands)."""

    def __init__(self, publisher_id: int) -> None:
        key = pseudonym_key()
        self._prefixes = {kind: hmac.new(key, f"{kind}:{publisher_id}:".encode(),
                                         hashlib.sha256)
                          for kind in ("user", "school", "group")}

    def _of(self, kind: str, value: int) -> str:
        mac = self._prefixes[kind].copy()
        mac.update(str(value).encode())
        return mac.hexdigest()

    def subject(self, user_id: int) -> str:
        return self._of("user", user_id)

    def school(self, school_id: int) -> str:
        return self._of("school", school_id)

    def group(self, group_id: int) -> str:
        return self._of("group", group_id)


def subject_for(publisher_id: int, user_id: int) -> str:
    """The `sub` of a user at a publisher, in ID tokens and in the API."""
    return pseudonym(publisher_id, "user", user_id)


def school_id_for(publisher_id: int, school_id: int) -> str:
    """The school's id at a publisher, in ID tokens and in the API."""
    return pseudonym(publisher_id, "school", school_id)


def group_id_for(publisher_id: int, group_id: int) -> str:
    """A group's or cluster's id at a publisher, in ID tokens and in the API."""
    return pseudonym(publisher_id, "group", group_id)
