"""Password hashing with the OWASP parameters for Argon2id."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id with m=19 MiB, t=2, p=1 (OWASP Password Storage Cheat Sheet).

    Same algorithm name as Django's hasher, so hashes made with other parameters still verify
    and are rehashed with these at the next sign-in.
    """

    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
