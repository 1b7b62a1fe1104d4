"""Requests carrying text no database can store are refused before any view sees them.

PostgreSQL cannot hold a NUL character in text, and a lone UTF-16 surrogate (which JSON's
"\\ud800" escape and Python's strings allow) cannot be encoded as UTF-8. Either one in a path,
a query string, a form field, a cookie, Basic credentials or a JSON body used to reach a query
and give a 500, also on anonymous pages (issue 10, finding 8). One check here instead of one in
every view: such input is never meaningful, so it is answered 400 — JSON for the machine
endpoints (/api/, /o/ except the browser's authorize page), a short Dutch page otherwise.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.html import escape

from klaspoort.i18n import bilingual as _
from klaspoort.i18n import english_of

# NUL, or a surrogate code point (never valid on its own in UTF-8 text).
BROKEN = re.compile("[\x00\ud800-\udfff]")
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _broken(values: Iterable[str]) -> bool:
    return any(BROKEN.search(value) for value in values)


def _json_strings(value: Any) -> Iterable[str]:
    """Every key and string in a parsed JSON document, without recursion (a deeply nested
    document must not exhaust the stack here either)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield str(key)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def _basic_credentials(request: HttpRequest) -> list[str]:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "basic":
        return [header]
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return [header]
    return [decoded]


def body_checked_by_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark an upload view that must check who is asking before any of its (multipart) body is
    read: this middleware then leaves the body alone, and the view's form refuses unstorable
    text itself (issue 10 §9: a stranger's 20 MB upload is never read)."""
    view.body_checked_by_view = True  # type: ignore[attr-defined]
    return view


def fields_are_broken(request: HttpRequest) -> bool:
    """True when a form field (urlencoded or multipart; files are not looked at) holds a NUL or
    a lone surrogate."""
    return _broken(key for key in request.POST) or _broken(
        value for _key, values in request.POST.lists() for value in values)


def request_is_broken(request: HttpRequest) -> bool:
    """True when the path, query, cookies, Basic credentials, urlencoded form fields or JSON body
    hold a NUL or a lone surrogate (multipart fields: process_view, once the view is known)."""
    if _broken([request.path, request.path_info]):
        return True
    if _broken(key for key in request.GET) or _broken(
            value for _key, values in request.GET.lists() for value in values):
        return True
    if _broken(request.COOKIES) or _broken(request.COOKIES.values()):
        return True
    if _broken(_basic_credentials(request)):
        return True
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    try:
        if content_type == FORM:
            return fields_are_broken(request)
        # The publisher API checks its JSON bodies against its own schema and answers 422 in
        # its documented shape (issue 10: a lone surrogate in a title is a 422 there).
        if (content_type == "application/json" or content_type.endswith("+json")) and not (
                request.path.startswith("/api/")):
            try:
                document = json.loads(request.body or b"null")
            except (ValueError, RecursionError):
                return False  # not JSON at all: the view answers that itself
            return _broken(_json_strings(document))
    except (SuspiciousOperation, MultiPartParserError):
        return False  # too big or unreadable: Django and the view answer this themselves
    return False


def _machine_endpoint(path: str) -> bool:
    return path.startswith(("/api/", "/ims/oneroster/token")) or (
        path.startswith("/o/") and not path.startswith("/o/authorize"))


def refusal(request: HttpRequest) -> HttpResponse:
    message = _("The request contains characters that cannot be processed (such as a NUL "
                "byte). Please check what was sent.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "detail_en": english_of(message),
                             "errors": []}, status=400)
    if request.path.startswith("/ims/oneroster/") and not _machine_endpoint(request.path):
        # OneRoster's error shape (imsx_StatusInfoDType, decision 0033).
        return JsonResponse({"imsx_codeMajor": "failure", "imsx_severity": "error",
                             "imsx_description": message, "imsx_CodeMinor": {
                                 "imsx_codeMinorField": [{
                                     "imsx_codeMinorFieldName": "TargetEndSystem",
                                     "imsx_codeMinorFieldValue": "invaliddata"}]}},
                            status=400)
    if _machine_endpoint(request.path):
        # The error format of OAuth 2.0 (RFC 6749 §5.2), which the token endpoints speak.
        return JsonResponse({"error": "invalid_request", "error_description": message},
                            status=400)
    title = _("Request not understood")
    page = (f'<!doctype html><html lang="nl"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} - Klaspoort</title></head><body><main>"
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
            f'<p><a href="/">{escape(_("Go to the start page"))}</a></p></main></body></html>')
    return HttpResponse(page, status=400, content_type="text/html; charset=utf-8")


class RefuseUnstorableTextMiddleware:
    """Answers 400 for a request with a NUL or a lone surrogate anywhere a view could read
    text from (see the module docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_is_broken(request):
            return refusal(request)
        response = self.get_response(request)
        if request.path.startswith("/api/") and response.status_code >= 400 and not (
                response.get("Content-Type", "").startswith("application/json")):
            return _api_error(response)
        return response

    def process_view(self, request: HttpRequest, view: Callable[..., HttpResponse],
                     args: Any, kwargs: Any) -> HttpResponse | None:
        # Multipart fields: files are not looked at (their names and contents are the views'
        # business); the upload handlers are the settings' ones, so reading the fields here
        # changes nothing (the CSRF middleware reads them the same way) — except for a view
        # that checks who asks before its body is read.
        if (request.method not in ("GET", "HEAD", "OPTIONS")
                and (request.content_type or "") == MULTIPART
                and not getattr(view, "body_checked_by_view", False)):
            try:
                if fields_are_broken(request):
                    return refusal(request)
            except (SuspiciousOperation, MultiPartParserError):
                return None
        return None


def _api_error(response: HttpResponse) -> HttpResponse:
    """An error Django or the router answered for an /api/ address outside the API's own
    handlers (unknown address 404, 405, a body Django refused, a 500) in the API's one shape."""
    details = {
        400: _("The request is not valid."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        413: _("The request body is too large."),
    }
    detail = details.get(response.status_code) or (
        _("Something went wrong on our side; please try again later.")
        if response.status_code >= 500 else _("The request is not valid."))
    answer = JsonResponse({"detail": detail, "detail_en": english_of(detail), "errors": []},
                          status=response.status_code)
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if header in response:
            answer[header] = response[header]
    return answer
