"""Path converters for the project's URLs. A project-level module: it imports no app."""

from __future__ import annotations


class Brin6Converter:
    """A school location's BRIN6 in a URL (`<brin6:brin6>`): four characters of BRIN (two
    digits, two capitals) and the two-digit dependancecode. Anything else is no *Beheer* URL at
    all, so a view never sees a malformed school code (404 before any lookup)."""

    regex = "[0-9]{2}[A-Z]{2}[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
