"""From what a user sends to what the code works with: the path converter for a BRIN6 and the
one parser of database ids in forms and posted fields. A project-level module: it imports no
app."""

from __future__ import annotations

from typing import Any

# The largest id a database key column holds (bigint); a longer "number" would overflow the
# query instead of matching nothing.
MAX_ID = 2**63 - 1
MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(raw: Any) -> int | None:
    """RULE: a database id from user input is a positive whole number in digits only (no sign,
    no spaces inside, no exponent) that fits a key column; anything else is None, never an
    error."""
    text = str(raw if raw is not None else "")[:20].strip()
    if not text.isdigit() or not text.isascii():
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


class Brin6Converter:
    """A school location's BRIN6 in a URL (`<brin6:brin6>`): four characters of BRIN (two
    digits, two capitals) and the two-digit dependancecode. Anything else is no *Beheer* URL at
    all, so a view never sees a malformed school code (404 before any lookup)."""

    regex = "[0-9]{2}[A-Z]{2}[0-9]{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
