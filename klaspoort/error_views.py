"""The "not found" page, without reading the request's body.

Django's own handler is wrapped in `requires_csrf_token`, which looks for a CSRF token in a POST
body and so reads (and parses) the whole upload of a request that is refused anyway: a
stranger's 20 MB roster file would be read before it gets its 404. This handler renders the same
template; the page's forms still get their token from the cookie. Imports no app.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)
