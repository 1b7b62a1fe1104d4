"""How the user of a session proved who they are: the `amr` values of OpenID Connect (RFC 8176).

Sign-in code records each method as it succeeds; single sign-on reads them into the ID token's
`amr` and `acr` claims, so a publisher can tell a pupil's pictures from a teacher's password and
code. A project-level module: it imports no app, so every app may use it.
"""

from __future__ import annotations

import time

from django.http import HttpRequest

SESSION_KEY = "klaspoort_amr"
AUTH_TIME_KEY = "klaspoort_auth_time"  # when the user last proved who they are (Unix seconds)

PASSWORD = "pwd"  # noqa: S105 (the name of a method, not a password)
ONE_TIME_CODE = "otp"  # the code of an authenticator app, or a recovery code
PIN = "pin"  # a pupil's pincode
PICTURES = "pictures"  # a pupil's two pictures (not an RFC 8176 value; documented for publishers)
CARD = "card"  # a pupil's printed QR card (not an RFC 8176 value; documented for publishers)


def record_method(request: HttpRequest, method: str) -> None:
    """Add one method to the session's record; call after login() (which starts a new one)."""
    methods = list(request.session.get(SESSION_KEY, []))
    if method not in methods:
        methods.append(method)
    request.session[SESSION_KEY] = methods
    record_auth_time(request)


def record_auth_time(request: HttpRequest) -> None:
    """Note that the user proved who they are just now (OpenID Connect `auth_time`, which
    `max_age` and `prompt=login` at /o/authorize are checked against)."""
    request.session[AUTH_TIME_KEY] = int(time.time())


def auth_time(request: HttpRequest) -> int | None:
    """When this session's user last passed a sign-in step (Unix seconds), or None if unknown."""
    value = request.session.get(AUTH_TIME_KEY)
    return value if isinstance(value, int) else None


def methods_of(request: HttpRequest) -> list[str]:
    """The methods this session's user has passed, in the order they passed them."""
    return list(request.session.get(SESSION_KEY, []))
