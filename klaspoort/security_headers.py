"""Browser hardening on every response: a strict Content-Security-Policy and no caching of
signed-in pages (issue 10, finding 10).

The policy allows only Klaspoort's own scripts, styles, images and fonts: no inline script or
style (templates carry none; behaviour lives in klaspoort/static/klaspoort/*.js), no plugins,
no <base>, and no framing by anyone. Forms may post to Klaspoort itself and to the addresses
publishers registered for single sign-on: a form whose answer redirects there (the consent
page, a sign-in with ?next= that ends at /o/authorize, signing out with a post-logout address)
is checked against form-action by Chromium at every hop of the redirect chain.

Every page for a signed-in user gets `Cache-Control: no-store, private`: such pages show the
group panel, printed cards, secrets and codes, which must never stay in a browser's or a
proxy's cache on a shared school device. A project-level module: it imports no app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

FORM_TARGETS_KEY = "kp:csp:form-targets"
FORM_TARGETS_SECONDS = 60  # a newly registered publisher address works within a minute
# Each process keeps the shared entry this long as well: the header goes on every response, and
# a round trip to Redis on each of the nine requests of a pupil's sign-in was measurable.
FORM_TARGETS_PROCESS_SECONDS = 10
_process_copy: tuple[float, list[str]] | None = None

BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # data: for the small icons inside the stylesheets
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


def _origin(uri: str) -> str | None:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def form_targets() -> list[str]:
    """The origins of every redirect and post-logout address registered by a publisher's
    client, sorted; read from the database at most once a minute (a shared cache entry), and
    from the shared cache at most once every ten seconds per process."""
    global _process_copy
    now = time.monotonic()
    if _process_copy is not None and now - _process_copy[0] < FORM_TARGETS_PROCESS_SECONDS:
        return list(_process_copy[1])
    targets = _shared_form_targets()
    _process_copy = (now, list(targets))
    return targets


def forget_form_targets() -> None:
    """Drop this process's copy (tests that register a client and read the header at once)."""
    global _process_copy
    _process_copy = None


def _shared_form_targets() -> list[str]:
    targets = cache.get(FORM_TARGETS_KEY)
    if targets is None:
        from oauth2_provider.models import get_application_model

        origins: set[str] = set()
        rows = get_application_model().objects.values_list("redirect_uris",
                                                            "post_logout_redirect_uris")
        for redirects, logouts in rows:
            for uri in f"{redirects or ''} {logouts or ''}".split():
                origin = _origin(uri)
                if origin and not any(c in origin for c in " ;,'\""):
                    origins.add(origin)
        targets = sorted(origins)
        cache.set(FORM_TARGETS_KEY, targets, FORM_TARGETS_SECONDS)
    return list(targets)


def content_security_policy() -> str:
    form_action = " ".join(["form-action 'self'", *form_targets()])
    return "; ".join([*BASE_POLICY, form_action])


class SecurityHeadersMiddleware:
    """Adds the Content-Security-Policy to HTML pages and no-store to signed-in pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            current = response.get("Cache-Control", "")
            # A response its view declared public is the same for everybody (a product icon):
            # it stays cacheable. Every other answer to a signed-in user may show their data.
            if "no-store" not in current and "public" not in current:
                response["Cache-Control"] = "no-store, private"
        return response
