"""The RSA key that signs ID tokens, read at start-up (docs/operations.md, "Single sign-on").

Production sets KLASPOORT_OIDC_PRIVATE_KEY (PEM). The embedded default generates a key once and
keeps it under VAR_DIR with mode 0600, so a single machine works out of the box and its tokens
stay valid across restarts; the key is never in the repository. Imported by settings: no Django
imports here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

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
    """The key kept under var_dir, generated on first use.

    Several processes may start at once: each writes its own temporary file and links it into
    place, and whoever loses the race reads the winner's key, so they all sign with one key.
    """
    path = var_dir / KEY_FILE
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        temporary = var_dir / f".{KEY_FILE}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, _new_key_pem())
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text()


def signing_key(var_dir: Path) -> str:
    """The current signing key: KLASPOORT_OIDC_PRIVATE_KEY, else the stored one."""
    configured = split_pems(os.environ.get("KLASPOORT_OIDC_PRIVATE_KEY", ""))
    if configured:
        return configured[0]
    return stored_signing_key(var_dir)


def inactive_keys() -> list[str]:
    """Earlier keys still published in the JWKS so tokens they signed keep verifying."""
    return split_pems(os.environ.get("KLASPOORT_OIDC_PRIVATE_KEYS_INACTIVE", ""))
