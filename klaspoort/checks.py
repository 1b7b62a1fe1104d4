"""Production refuses to start unsafe (docs/decisions/0019-production-refuses-to-start-unsafe.md).

An installation is *production* when it serves a host other than the machine itself: an
ALLOWED_HOSTS entry, or the host of KLASPOORT_SITE_URL, that is not localhost, a loopback
address or Django's test host. There the embedded defaults that make a single machine work out
of the box are holes, so each one is a system-check ERROR: `klaspoort check --deploy`, `migrate`
and `runserver` stop, and the WSGI application (gunicorn) refuses to load (`refuse_unsafe_start`).

Project-level: imports no app, so every app may ask `is_production()`. Registered by
klaspoort.core (an AppConfig without models).
"""

from __future__ import annotations

import base64
import datetime
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# The key in settings.py when KLASPOORT_SECRET_KEY is unset: public, in the repository.
BUILT_IN_SECRET_KEY = "embedded-default-key-change-me-in-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 50  # as Django's own deploy check (security.W009)
MIN_PSEUDONYM_KEY_LENGTH = 32
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1", "testserver"})
# Backends whose counters every web process shares and increments atomically.
SHARED_CACHE_BACKENDS = ("redis", "memcached")
TAG = "klaspoort_production"
# The summer erasure's reminder goes out at most this many days before it (half a year).
MAX_ERASURE_REMINDER_DAYS = 180


def _is_local_host(host: str) -> bool:
    host = host.strip().lower().rstrip(".")
    # RFC 6761: *.localhost never leaves the machine.
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def is_production() -> bool:
    """Rule: Klaspoort is in production when it serves any host but the machine itself: an
    ALLOWED_HOSTS entry ("*" included) or the KLASPOORT_SITE_URL host that is not localhost,
    127.0.0.1, [::1] (or Django's `testserver`). DEBUG does not change this: DEBUG on a
    public host is itself refused."""
    hosts = list(getattr(settings, "ALLOWED_HOSTS", []))
    site_host = urlsplit(str(getattr(settings, "SITE_URL", "") or "")).hostname
    if site_host:
        hosts.append(site_host)
    return any(not _is_local_host(str(host)) for host in hosts)


def _is_secrets_key(value: str) -> bool:
    value = value.strip()
    try:
        key = base64.urlsafe_b64decode(value.encode() + b"=" * (-len(value) % 4))
    except ValueError:
        return False
    return len(key) == 32


def month_day(value: object) -> tuple[int, int] | None:
    """RULE: a day of the year as "MM-DD" (the summer erasure's day, seed 001): a day every
    year has, so 29 February is refused; None when `value` is not one."""
    text = str(value or "").strip()
    if len(text) != 5 or text[2] != "-" or not (text[:2] + text[3:]).isdigit():
        return None
    month, day = int(text[:2]), int(text[3:])
    try:
        datetime.date(2027, month, day)  # not a leap year: 29 February is refused
    except ValueError:
        return None
    return month, day


def erasure_setting_errors() -> list[checks.CheckMessage]:
    """The summer erasure's dates are settings: a wrong one would erase the schools' results on
    a day nobody was told of, so production does not start with one."""
    errors: list[checks.CheckMessage] = []
    if month_day(getattr(settings, "RESULTS_ERASURE_DAY", "07-21")) is None:
        errors.append(checks.Error(
            "KLASPOORT_RESULTS_ERASURE_DAY is not a day of the year as MM-DD.",
            hint="The day the summer erasure of results runs, e.g. 07-21 (21 July, the "
                 "default); 29 February is refused because not every year has it.",
            id="klaspoort.E006"))
    days = getattr(settings, "RESULTS_ERASURE_REMINDER_DAYS", 28)
    if not isinstance(days, int) or not 1 <= days <= MAX_ERASURE_REMINDER_DAYS:
        errors.append(checks.Error(
            "KLASPOORT_RESULTS_ERASURE_REMINDER_DAYS is not a number of days from 1 to "
            f"{MAX_ERASURE_REMINDER_DAYS}.",
            hint="How many days before the summer erasure coordinators and teachers are "
                 "reminded to download results; the default is 28 (four weeks).",
            id="klaspoort.E007"))
    return errors


def production_errors() -> list[checks.CheckMessage]:
    """What makes this production installation unsafe: an empty list when it is safe, or when
    it is not production at all (a single machine keeps its embedded defaults)."""
    if not is_production():
        return []
    errors: list[checks.CheckMessage] = []
    secret_key = str(getattr(settings, "SECRET_KEY", "") or "")
    if secret_key == BUILT_IN_SECRET_KEY or len(secret_key) < MIN_SECRET_KEY_LENGTH \
            or len(set(secret_key)) < 5:
        errors.append(checks.Error(
            "KLASPOORT_SECRET_KEY is the built-in key or shorter than 50 characters.",
            hint="Set KLASPOORT_SECRET_KEY to a random value of at least 50 characters: "
                 "python -c \"import secrets;print(secrets.token_urlsafe(50))\".",
            id="klaspoort.E001"))
    pseudonym_key = str(getattr(settings, "KLASPOORT_PSEUDONYM_KEY", "") or "")
    if len(pseudonym_key) < MIN_PSEUDONYM_KEY_LENGTH:
        errors.append(checks.Error(
            "KLASPOORT_PSEUDONYM_KEY is missing or shorter than 32 characters.",
            hint="It keys every publisher's pseudonyms (`sub`, school id) and is never "
                 "rotated: set it once, before the first sign-on, and keep it with the "
                 "backups (docs/operations.md).",
            id="klaspoort.E002"))
    several = getattr(settings, "KLASPOORT_SECRETS_KEYS", []) or []
    if isinstance(several, str):
        several = several.split(",")
    secrets_keys = [key for key in several if key.strip()]
    single = str(getattr(settings, "KLASPOORT_SECRETS_KEY", "") or "")
    if single:
        secrets_keys.append(single)
    if not secrets_keys or not all(_is_secrets_key(key) for key in secrets_keys):
        errors.append(checks.Error(
            "KLASPOORT_SECRETS_KEYS (or KLASPOORT_SECRETS_KEY) is missing or not a key of "
            "32 bytes in URL-safe base64.",
            hint="The pupils' sign-in secrets need their own key (decision 0009): "
                 "python -c \"import base64,os;print(base64.urlsafe_b64encode("
                 "os.urandom(32)).decode())\".",
            id="klaspoort.E003"))
    if "PRIVATE KEY-----" not in os.environ.get("KLASPOORT_OIDC_PRIVATE_KEY", ""):
        errors.append(checks.Error(
            "KLASPOORT_OIDC_PRIVATE_KEY is missing or holds no PEM private key.",
            hint="Without it each machine signs ID tokens with a key of its own (VAR_DIR), and "
                 "a token made by one machine fails at a publisher that fetched the keys from "
                 "another. Set the same RSA key (PEM) on every web machine "
                 "(docs/operations.md, single sign-on).",
            id="klaspoort.E008"))
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", "")).lower()
    if not any(kind in backend for kind in SHARED_CACHE_BACKENDS):
        errors.append(checks.Error(
            "No shared cache: each web process would keep its own sign-in throttling counters, "
            "multiplying every limit by the number of processes.",
            hint="Set KLASPOORT_CACHE_URL (or REDIS_URL) to a Redis all web processes share, "
                 "e.g. redis://127.0.0.1:6379/1.",
            id="klaspoort.E004"))
    if settings.DEBUG:
        errors.append(checks.Error(
            "KLASPOORT_DEBUG is on for a host other than localhost: error pages would show "
            "settings and code to anyone.",
            hint="Remove KLASPOORT_DEBUG (or set it to 0).",
            id="klaspoort.E005"))
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not getattr(
            settings, "KLASPOORT_TRUSTED_PROXIES", []):
        errors.append(checks.Warning(
            "KLASPOORT_HTTPS trusts a proxy's X-Forwarded-Proto, but KLASPOORT_TRUSTED_PROXIES "
            "is empty: every request seems to come from the proxy's address, so sign-in "
            "throttling counts all users together and no school's IP rule matches.",
            hint="Set KLASPOORT_TRUSTED_PROXIES to the proxy's address, e.g. 127.0.0.1.",
            id="klaspoort.W001"))
    errors.extend(erasure_setting_errors())
    return errors


def check_production(app_configs: Iterable[Any] | None = None,
                     **kwargs: Any) -> list[checks.CheckMessage]:
    """The system check (run by every management command and by `check --deploy`)."""
    return production_errors()


def refuse_unsafe_start() -> None:
    """Called by the WSGI entry point, which runs no system checks of its own: a web server
    with an unsafe production configuration does not start."""
    errors = [message for message in production_errors() if message.is_serious()]
    if errors:
        lines = "\n".join(f"{message.id}: {message.msg} {message.hint}" for message in errors)
        raise ImproperlyConfigured(f"Klaspoort refuses to start unsafe:\n{lines}")
