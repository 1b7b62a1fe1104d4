"""The RSA key that signs ID tokens (docs/operations.md, "Single sign-on"); the pseudonym key is
klaspoort.pseudonyms'.

Production sets KLASPOORT_OIDC_PRIVATE_KEY (PEM). The embedded
default generates each once, at first use (importing the settings writes no files), and keeps
it under VAR_DIR with mode 0600, so a single machine works out of the box and its tokens and
pseudonyms stay the same across restarts; no key is ever in the repository, and none is derived
from SECRET_KEY. Imported by settings: no Django imports at module level.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from klaspoort.pseudonyms import stored_key_file

KEY_FILE = "oidc-signing-key.pem"
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----",
                        re.DOTALL)


def split_pems(text: str) -> list[str]:
    """Every PEM private key in `text` (an environment variable may hold several)."""
    return [match.group(0) + "\n" for match in _PEM_BLOCK.finditer(text.replace("\\n", "\n"))]


def _new_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def stored_signing_key(var_dir: Path) -> str:
    """The signing key kept under var_dir, generated on first use."""
    return stored_key_file(var_dir, KEY_FILE, _new_key_pem)


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


def inactive_keys() -> list[str]:
    """Earlier keys still published in the JWKS so tokens they signed keep verifying."""
    return split_pems(os.environ.get("KLASPOORT_OIDC_PRIVATE_KEYS_INACTIVE", ""))
