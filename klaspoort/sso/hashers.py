"""Hashing of publishers' client secrets.

A client secret is a long random string made by Klaspoort (sso.services.register_client), not a
word a person chose, so guessing it from its hash is hopeless whatever the hash; a slow password
hash (Argon2id, 23 ms of CPU) would only make every token request of every publisher that much
dearer (docs/benchmarks.md). So: HMAC-SHA256 with a per-secret salt, compared in constant time.
Never used for people's passwords: it is not first in PASSWORD_HASHERS, and only the toolkit's
CLIENT_SECRET_HASHER setting names it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "klaspoort_client_secret"

    def encode(self, password: str, salt: str) -> str:
        if password is None or not salt or "$" in salt:
            raise ValueError("a password and a salt without '$' are needed")
        digest = hmac.new(salt.encode(), password.encode(), hashlib.sha256).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return constant_time_compare(encoded, self.encode(password, decoded["salt"]))

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        # The keys are Django's own, translated by its catalogue where the admin shows them.
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]),
                "hash": mask_hash(decoded["hash"])}

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
