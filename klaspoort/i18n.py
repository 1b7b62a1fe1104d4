"""Dutch first: the interface is Dutch unless the user chose English.

Django's LocaleMiddleware follows the browser's Accept-Language, but a school Chromebook set to
English must still show a Dutch coordinator *Beheer* and a four-year-old the Dutch pupil page.
So only an explicit choice (the language cookie set by Django's set_language view) switches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class DutchFirstLocaleMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        if language not in self.languages:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class Bilingual(str):
    """A message in the active language (Dutch for machines, unless asked otherwise) that
    also carries its English: the APIs' errors give both, for a school's helpdesk and an
    international publisher's developer. Formatting with % keeps both."""

    english: str

    def __new__(cls, text: str, english: str) -> Bilingual:
        made = super().__new__(cls, text)
        made.english = english
        return made

    def __mod__(self, params: Any) -> Bilingual:
        return Bilingual(str.__mod__(self, params), self.english % params)


def bilingual(message: str) -> Bilingual:
    """`gettext` for messages of the machine interfaces: the English msgid travels along."""
    return Bilingual(translation.gettext(message), message)


def english_of(message: Any) -> str:
    """The English of a message made by `bilingual`, else the message itself."""
    return getattr(message, "english", str(message))
