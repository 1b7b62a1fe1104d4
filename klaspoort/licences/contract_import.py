"""Contracts from publishers: one validation for the CSV upload, the operator's command and the
JSON API (issue 4, R5.1).

Parsing is pure (no database): it checks the shape of every row and returns the good rows plus
per-row errors (line, field, Dutch message). `licences.publisher_services.apply_contract_rows`
then checks what needs the database (school known, publisher and product, tenancy) and applies
the rows in one transaction. See docs/decisions/0011-contract-import.md.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from klaspoort.licences.models import Contract, Product

HEADER = ("contract_number", "brin6", "publisher", "product_code", "product_name",
          "product_type", "year_groups", "title", "start", "end", "type", "seats")
# Limits of the model's columns; a longer value is a row error, never a database error.
MAX_LENGTHS = {"contract_number": 64, "product_code": 64, "product_name": 200, "title": 200,
               "publisher": 200}
MAX_SEATS = 100_000
MAX_ROWS = 20_000
# Shown back in an error message: never the whole of a 10 kB garbage value.
SHOWN_CHARS = 40
BRIN6 = re.compile(r"^[0-9]{2}[A-Z0-9]{2}[0-9]{2}$")
# The CSV's columns in Dutch, in the style of the school's *invulbestand* (lowercase, words
# joined by "_"), plus the spellings people type; keys are compared without case, spaces, "_"
# and "-" (_normal_header), so "Contract nummer" and "contract_nummer" are the same column.
DUTCH_HEADER = ("contractnummer", "brin6", "uitgeverij", "productcode", "productnaam",
                "productsoort", "jaargroepen", "titel", "startdatum", "einddatum", "soort",
                "aantal_licenties")
_COLUMN_NAMES = {
    **{name.replace("_", ""): name for name in HEADER},
    **{dutch.replace("_", ""): name for dutch, name in zip(DUTCH_HEADER, HEADER, strict=True)},
    "nummer": "contract_number", "contract": "contract_number", "brin": "brin6",
    "soortproduct": "product_type", "producttype": "product_type", "begindatum": "start",
    "startdatum": "start", "licentiesoort": "type", "soortlicentie": "type",
    "aantal": "seats", "licenties": "seats", "plaatsen": "seats", "aantalplaatsen": "seats",
}
# CSV values a Dutch spreadsheet holds, in the words of the format (the API keeps its own).
_CONTRACT_TYPES = {"pergroep": "group", "groep": "group", "normaal": "group",
                   "perkind": "child", "kind": "child"}
DUTCH_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")

FILE = 0  # the "line" of an error about the file as a whole


@dataclass(frozen=True)
class RowError:
    line: int  # CSV line number (the header is line 1), or position in a JSON list (from 1)
    field: str  # one of HEADER, or "" for the row or file as a whole
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


@dataclass
class ContractRow:
    """One valid contract row, in the words of the models."""

    line: int
    number: str
    brin6: str
    publisher: str  # name or slug as sent; "" when the sender is the publisher itself
    product_code: str
    product_name: str
    product_type: str  # "" when not given: only needed for a product that does not exist yet
    year_groups: list[int]
    title: str
    start: datetime.date
    end: datetime.date
    contract_type: str
    seats: int | None


@dataclass
class ParsedContracts:
    rows: list[ContractRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class ContractImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # False when errors kept everything back (then the counts say what would have happened).
    applied: bool = False
    contracts: list[Contract] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({error.line for error in self.errors if error.line != FILE})

    @property
    def file_error(self) -> bool:
        return any(error.line == FILE for error in self.errors)

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "applied": self.applied, "errors": [error.as_dict() for error in self.errors]}


# ---------------------------------------------------------------------------------------------
# Parsing (pure)
# ---------------------------------------------------------------------------------------------
def shown(value: str) -> str:
    return value if len(value) <= SHOWN_CHARS else value[:SHOWN_CHARS] + "…"


def _text(value: Any) -> str | None:
    """A JSON value as text: strings as they are, numbers written out; anything else is not a
    text (None), so a list or an object where text belongs is a row error, not a crash."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    return None


def _parse_date(raw: str, name: str, line: int, errors: list[RowError]) -> datetime.date | None:
    if not raw:
        errors.append(RowError(line, name, _("A date is required (YYYY-MM-DD).")))
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
        return datetime.date.fromisoformat(raw)
    except ValueError:
        errors.append(RowError(line, name, _("“%(value)s” is not a date in the form YYYY-MM-DD.")
                               % {"value": shown(raw)}))
        return None


def _parse_year_groups(raw: Any, line: int, errors: list[RowError]) -> list[int] | None:
    if isinstance(raw, list):
        parts: list[Any] = raw
    else:
        text = _text(raw)
        if text is None:
            errors.append(RowError(line, "year_groups", _("Year groups must be numbers 1 to 8, "
                                                          "separated by “;”, e.g. 4;5.")))
            return None
        parts = [part.strip() for part in text.split(";") if part.strip()]
    groups: set[int] = set()
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, int | str):
            number = None
        elif isinstance(part, int):
            number = part
        else:
            number = int(part) if re.fullmatch(r"[0-9]", part) else None
        if number is None or not 1 <= number <= 8:
            errors.append(RowError(line, "year_groups", _("Year groups must be numbers 1 to 8, "
                                                          "separated by “;”, e.g. 4;5.")))
            return None
        groups.add(number)
    return sorted(groups)


def validate_row(values: Mapping[str, Any], line: int, *, publisher_required: bool = True
                 ) -> tuple[ContractRow | None, list[RowError]]:
    """Check one row (CSV cells or a JSON object) against the rules of the contract format.
    Returns the row when it is valid, and every error found in it (not just the first)."""
    errors: list[RowError] = []
    text: dict[str, str] = {}
    for name in HEADER:
        if name == "year_groups":
            continue
        value = _text(values.get(name))
        if value is None:
            errors.append(RowError(line, name, _("This must be text or a number.")))
            value = ""
        text[name] = value
        limit = MAX_LENGTHS.get(name)
        if limit and len(value) > limit:
            errors.append(RowError(line, name, _("At most %(limit)d characters (this value has "
                                                 "%(length)d).")
                                   % {"limit": limit, "length": len(value)}))
    required = ["contract_number", "brin6", "product_code", "title"]
    if publisher_required:
        required.append("publisher")
    for name in required:
        if not text[name]:
            errors.append(RowError(line, name, _("This field is required.")))

    brin6 = text["brin6"].upper()
    if brin6 and not BRIN6.match(brin6):
        errors.append(RowError(line, "brin6", _("“%(value)s” is not a BRIN6 (four characters of "
                                                "the BRIN and two of the location, e.g. 99ZZ00).")
                               % {"value": shown(text["brin6"])}))
    product_type = text["product_type"].lower()
    if product_type and product_type not in Product.Type.values:
        errors.append(RowError(line, "product_type", _("Unknown product type “%(value)s”; "
                                                       "choose one of: %(choices)s.")
                               % {"value": shown(text["product_type"]),
                                  "choices": ", ".join(Product.Type.values)}))
    year_groups = _parse_year_groups(values.get("year_groups"), line, errors)
    start = _parse_date(text["start"], "start", line, errors)
    end = _parse_date(text["end"], "end", line, errors)
    if start and end and end < start:
        errors.append(RowError(line, "end", _("The end date is before the start date.")))

    contract_type = text["type"].lower()
    seats: int | None = None
    if contract_type not in Contract.Type.values:
        errors.append(RowError(line, "type", _("The type must be “group” or “child”.")))
    raw_seats = text["seats"]
    if contract_type == Contract.Type.GROUP and raw_seats:
        errors.append(RowError(line, "seats", _("Leave seats empty for a per-group contract.")))
    elif contract_type == Contract.Type.CHILD:
        if not re.fullmatch(r"[0-9]{1,7}", raw_seats) or not 1 <= int(raw_seats) <= MAX_SEATS:
            errors.append(RowError(line, "seats", _("A per-child contract needs a number of "
                                                    "seats from 1 to %(max)d.")
                                   % {"max": MAX_SEATS}))
        else:
            seats = int(raw_seats)
    if errors:
        return None, errors
    assert start is not None and end is not None and year_groups is not None
    return ContractRow(
        line=line, number=text["contract_number"], brin6=brin6, publisher=text["publisher"],
        product_code=text["product_code"], product_name=text["product_name"],
        product_type=product_type, year_groups=year_groups, title=text["title"], start=start,
        end=end, contract_type=contract_type, seats=seats,
    ), []


def _collect(rows: Iterable[tuple[int, Mapping[str, Any]]], *, publisher_required: bool
             ) -> ParsedContracts:
    parsed = ParsedContracts()
    first_line: dict[tuple[str, str], int] = {}
    for line, values in rows:
        row, errors = validate_row(values, line, publisher_required=publisher_required)
        parsed.errors.extend(errors)
        if row is None:
            continue
        # Twice the same number in one delivery: which one is meant? Neither guess is safe.
        key = (row.publisher.casefold(), row.number)
        if key in first_line:
            parsed.errors.append(RowError(line, "contract_number", _(
                "Contract number %(number)s already appears on line %(line)d.")
                % {"number": shown(row.number), "line": first_line[key]}))
            continue
        first_line[key] = line
        parsed.rows.append(row)
    return parsed


def _normal_header(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lstrip("\ufeff").lower())


def _from_spreadsheet(values: dict[str, str]) -> dict[str, str]:
    """A CSV row with the Dutch spellings a spreadsheet holds turned into the format's words:
    *per groep*/*per kind* for the type, dates as DD-MM-YYYY, year groups separated by ","
    or spaces too (a ";"-separated file cannot use ";" inside a cell unquoted)."""
    kind = re.sub(r"[\s_\-]+", "", values["type"].lower())
    values["type"] = _CONTRACT_TYPES.get(kind, values["type"])
    for name in ("start", "end"):
        match = DUTCH_DATE.match(values[name].strip())
        if match:
            day, month, year = (int(part) for part in match.groups())
            # A day that does not exist is left as typed, so the error shows what was sent.
            with contextlib.suppress(ValueError):
                values[name] = datetime.date(year, month, day).isoformat()
    values["year_groups"] = re.sub(r"[,\s]+", ";", values["year_groups"].strip())
    return values


def parse_csv(data: bytes, *, publisher_required: bool = True) -> ParsedContracts:
    """Read a contracts CSV file (UTF-8; the header names the columns in English or Dutch, in
    any order; "," or ";" between the fields, as the header line shows). A problem with the
    file as a whole is one error on line 0; otherwise every bad row gets its own errors. A
    publisher's own upload may leave the publisher column empty (`publisher_required=False`)."""
    if not data.strip():
        return ParsedContracts(errors=[RowError(FILE, "", _("The file is empty."))])
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return ParsedContracts(errors=[RowError(FILE, "", _(
            "The file is in UTF-16; save it as CSV in UTF-8."))])
    # Spreadsheet programs put a byte order mark before UTF-8; it is not part of the header.
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return ParsedContracts(errors=[RowError(FILE, "", _(
            "The file is not UTF-8 text (line %(line)d); save it as CSV in UTF-8.")
            % {"line": line})])
    # The separator is whichever of ";" (Dutch Excel) and "," the header line uses most.
    first_line = next((row for row in text.splitlines() if row.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return ParsedContracts(errors=[RowError(FILE, "", _("The file has no header line."))])
    columns = [_COLUMN_NAMES.get(_normal_header(name)) for name in header]
    names = [name for name in columns if name is not None]
    if len(names) != len(header) or sorted(names, key=HEADER.index) != list(HEADER):
        return ParsedContracts(errors=[RowError(FILE, "", _(
            "The first line must name these columns (in any order): %(header)s, or in Dutch: "
            "%(dutch)s") % {"header": ",".join(HEADER), "dutch": ";".join(DUTCH_HEADER)})])

    def rows() -> Iterable[tuple[int, Mapping[str, Any]]]:
        count = 0
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                yield line, {"__broken__": True}
                continue
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                yield line, {"__too_many__": True}
                return
            if len(cells) != len(HEADER):
                yield line, {"__cells__": len(cells)}
                continue
            yield line, _from_spreadsheet(dict(zip(names, cells, strict=True)))

    parsed = ParsedContracts()
    shaped: list[tuple[int, Mapping[str, Any]]] = []
    for line, values in rows():
        if "__broken__" in values:
            parsed.errors.append(RowError(line, "", _("This line cannot be read as CSV.")))
        elif "__too_many__" in values:
            parsed.errors.append(RowError(FILE, "", _("At most %(max)d contracts per file.")
                                          % {"max": MAX_ROWS}))
        elif "__cells__" in values:
            parsed.errors.append(RowError(line, "", _(
                "Expected %(expected)d fields separated by “%(separator)s”, found %(found)d.")
                % {"expected": len(HEADER), "found": values["__cells__"],
                   "separator": delimiter}))
        else:
            shaped.append((line, values))
    collected = _collect(shaped, publisher_required=publisher_required)
    parsed.rows = collected.rows
    parsed.errors = sorted(parsed.errors + collected.errors, key=lambda e: e.line)
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(RowError(FILE, "", _("The file has no contracts.")))
    return parsed


def parse_dicts(items: Sequence[Any], *, publisher_required: bool = False) -> ParsedContracts:
    """Contracts from JSON objects (the API), with the CSV's field names and the same rules;
    `line` is the position in the list, from 1. For a publisher's own API the publisher field
    may be left out."""
    shaped: list[tuple[int, Mapping[str, Any]]] = []
    errors: list[RowError] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            errors.append(RowError(position, "", _("Each contract must be a JSON object.")))
            continue
        shaped.append((position, item))
    parsed = _collect(shaped, publisher_required=publisher_required)
    parsed.errors = sorted(errors + parsed.errors, key=lambda e: e.line)
    return parsed
