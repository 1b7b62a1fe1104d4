"""The roster as a spreadsheet, for schools without a LAS (the seeds' *XML-maker*, R2.6).

The coordinator downloads `csv_template()`, fills it in with Excel or LibreOffice and uploads
it; `parse_spreadsheet` turns it into the same validated roster as `edexml.parse_edexml`, so it
goes through the same import, diff and history. Errors are the same RosterFileError, with the
row number of the spreadsheet as the line.

The sheet: one row per person, with these columns (header names are matched without regard to
capitals, spaces, hyphens or underscores; the order is free; empty rows are skipped):

    soort                  leerling or leerkracht (required)
    key                    the person's own, stable code; optional, see below
    roepnaam               first name (required)
    voorvoegsel            e.g. "van 't", "de"
    achternaam             last name (may be empty only when there is a roepnaam)
    jaargroep              pupils only, required: 0-8, 11-16 or B, C, D, H, N, S, V
    groep                  pupils only: the name of the pupil's group, e.g. "Groep 5"
    samengestelde_groepen  pupils only: names of clusters, comma-separated, e.g. "Plusklas"
    e-mailadres            teachers only
    groepen                teachers only: names of groups and clusters, comma-separated
    rollen                 teachers only: EDEXML role codes, comma-separated, e.g. "LRK, ICT"

Decisions:
- Groups are made from the names used: a name in `groep` is a group, a name in
  `samengestelde_groepen` a cluster; the name is also the group's key, so renaming a group in the
  sheet makes a new group (the old one is deactivated). A group's jaargroep is that of its
  pupils, or C (combination group) when they differ. A teacher may only name groups and clusters
  that pupils use (names are matched without regard to capitals), so a typo is reported instead of
  creating an empty group.
- `key` may stay empty: the key is then made from soort and name ("leerling:zoë van 't hof"),
  the same on every upload as long as the name is spelled the same. Correcting a name then makes
  a new person, and two pupils with the same name need a key; the message says so. Schools that
  want to correct names later fill in a key (a number of their own is fine).
- The file may be UTF-8 (with or without the BOM Excel writes) or Windows-1252 (what Dutch Excel
  saves as "CSV (gescheiden door lijstscheidingsteken)"), separated by semicolons or commas.
- An empty school year means the current one (a Dutch school year starts on 1 August).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from klaspoort.roster.edexml import (
    BRIN_RE,
    DEPENDANCE_RE,
    JAARGROEPEN,
    ROLE_CODES,
    SCHOOLYEAR_RE,
    GroupData,
    PupilData,
    RosterData,
    RosterError,
    RosterFileError,
    TeacherData,
    TeacherGroupData,
    cap_errors,
    max_bytes,
    shown,
    too_large_error,
)

SPREADSHEET_VERSION = "csv"
COLUMNS = (
    "soort", "key", "roepnaam", "voorvoegsel", "achternaam", "jaargroep", "groep",
    "samengestelde_groepen", "e-mailadres", "groepen", "rollen",
)
REQUIRED_COLUMNS = ("soort", "roepnaam", "achternaam")
PUPIL_ONLY = ("jaargroep", "groep", "samengestelde_groepen")
TEACHER_ONLY = ("e-mailadres", "groepen", "rollen")
KINDS = {"leerling": "pupil", "leerlingen": "pupil", "leerkracht": "teacher",
         "leerkrachten": "teacher"}
EXAMPLE_ROWS = (
    ("leerling", "", "Zoë", "van 't", "Hof", "5", "Groep 5", "Plusklas", "", "", ""),
    ("leerkracht", "", "Marieke", "de", "Vries", "", "", "", "m.devries@school.example",
     "Groep 5, Plusklas", "LRK"),
)


def csv_template() -> bytes:
    """The empty sheet to download: a header row and two example rows to overwrite.

    UTF-8 with a BOM and semicolons, because that is what Dutch Excel opens correctly with a
    double click (without the BOM it shows Zoë as ZoÃ«).
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(EXAMPLE_ROWS)
    return "\ufeff".encode() + out.getvalue().encode()


def _normal_header(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lstrip("\ufeff").lower())


_HEADER = {_normal_header(c): c for c in COLUMNS}
# Spellings coordinators use for the same columns.
_HEADER.update({"email": "e-mailadres", "emailadres": "e-mailadres", "mail": "e-mailadres",
                "samengesteldegroep": "samengestelde_groepen", "clusters": "samengestelde_groepen",
                "voornaam": "roepnaam", "tussenvoegsel": "voorvoegsel", "rol": "rollen"})


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _current_school_year(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{start + 1}"


def _split(value: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,;]", value)]
    return [p for p in parts if p]


def _generated_key(kind: str, first: str, prefix: str, last: str) -> str:
    name = " ".join(" ".join(p.split()) for p in (first, prefix, last) if p.strip())
    label = "leerling" if kind == "pupil" else "leerkracht"
    return unicodedata.normalize("NFC", f"{label}:{name.lower()}")[:256]


@dataclass
class _Row:
    line: int
    kind: str
    key: str
    generated_key: bool
    first_name: str
    prefix: str
    last_name: str
    values: dict[str, str]


@dataclass
class _Sheet:
    errors: list[RosterError] = field(default_factory=list)

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(RosterError(line, message))

    def rows(self, text: str) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {column: value}) for every non-empty data row; header checked."""
        first_line = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
        # Excel understands (and sometimes writes) a first line "sep=;" naming the separator.
        declared = re.fullmatch(r"\s*sep=(.)\s*", first_line)
        if declared:
            delimiter = declared[1]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        columns: list[str | None] | None = None
        # The row number as the spreadsheet shows it: records, not physical lines (a cell may
        # hold a line break), counting empty rows too.
        row = 0
        while True:
            row += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error:
                self.error(row, "Deze rij kan niet worden gelezen (een aanhalingsteken wordt "
                                "niet afgesloten). Sla het bestand opnieuw op als CSV vanuit "
                                "Excel.")
                return
            if not any(c.strip() for c in cells):
                continue
            if declared:
                declared = None  # the "sep=" line itself
                continue
            if columns is None:
                columns = self.header(cells, row)
                if columns is None:
                    return
                continue
            values = {}
            for column, cell in zip(columns, cells, strict=False):
                if column is not None:
                    values[column] = cell.strip()
            if any(c.strip() for c in cells[len(columns):]):
                self.error(row, "Deze rij heeft meer cellen dan er kolommen in de kopregel "
                                "staan.")
            yield row, values

    def header(self, cells: list[str], line: int) -> list[str | None] | None:
        if not any(_HEADER.get(_normal_header(cell)) for cell in cells):
            self.error(line, "De eerste regel bevat geen kolomnamen. Gebruik het sjabloon van "
                             f"Klaspoort; de eerste regel is dan: {', '.join(COLUMNS)}.")
            return None
        columns: list[str | None] = []
        for cell in cells:
            if not cell.strip():
                columns.append(None)
                continue
            column = _HEADER.get(_normal_header(cell))
            if column is None:
                self.error(line, f"Onbekende kolom '{shown(cell)}' in de kopregel; gebruik de "
                                 f"kolommen van het sjabloon: {', '.join(COLUMNS)}.")
            elif column in columns:
                self.error(line, f"Kolom '{column}' staat twee keer in de kopregel.")
                column = None
            columns.append(column)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            self.error(line, "De kopregel mist de verplichte kolom(men) "
                             f"{', '.join(missing)}. Gebruik het sjabloon van Klaspoort; de "
                             "eerste regel moet de kolomnamen bevatten.")
            return None
        return columns

    def person(self, line: int, values: dict[str, str]) -> _Row | None:
        soort = values.get("soort", "").lower()
        kind = KINDS.get(soort)
        if kind is None:
            self.error(line, f"Soort '{shown(soort, 20)}' is onbekend; vul 'leerling' of "
                             "'leerkracht' in.")
            return None
        first = values.get("roepnaam", "")
        prefix = values.get("voorvoegsel", "")
        last = values.get("achternaam", "")
        if not first:
            self.error(line, "De roepnaam ontbreekt.")
        for column, limit in (("roepnaam", 64), ("voorvoegsel", 10), ("achternaam", 200)):
            if len(values.get(column, "")) > limit:
                self.error(line, f"De {column} is langer dan {limit} tekens.")
        if prefix and not last:
            self.error(line, "Er is een voorvoegsel maar geen achternaam.")
        wrong = TEACHER_ONLY if kind == "pupil" else PUPIL_ONLY
        for column in wrong:
            if values.get(column):
                hint = ("alleen voor leerkrachten" if kind == "pupil"
                        else "alleen voor leerlingen; gebruik voor leerkrachten de kolom groepen")
                self.error(line, f"De kolom {column} is {hint}.")
        key = values.get("key", "")
        if len(key) > 256:
            self.error(line, "De key is langer dan 256 tekens.")
            key = key[:256]
        # A row with errors still goes on, so its other mistakes are reported in the same go.
        generated = not key
        if generated:
            key = _generated_key(kind, first, prefix, last)
        return _Row(line, kind, key, generated, first, prefix, last, values)


def parse_spreadsheet(data: bytes, *, brin: str, dependancecode: str, school_year: str
                      ) -> RosterData:
    """Read a filled-in roster template into a validated roster for the given school.

    Rules: the same as an EDEXML file where they apply (unique keys, known year groups and
    roles, references to existing groups, names and lengths), every error at once with its row
    number; see the module docstring for what the sheet decides itself.
    """
    if len(data) > max_bytes():
        raise RosterFileError([too_large_error()])
    text = _decode(data)
    if not text.strip().strip("\ufeff"):
        raise RosterFileError([RosterError(None, "Het bestand is leeg.")])
    if text.lstrip("\ufeff \r\n\t").startswith("<"):
        raise RosterFileError([RosterError(1, (
            "Dit lijkt een XML-bestand, geen spreadsheet. Een EDEXML-bestand uit het LAS kunt u "
            "gewoon als EDEXML uploaden."))])
    if "\x00" in text:
        raise RosterFileError([RosterError(None, (
            "Dit is geen CSV-bestand. Sla de spreadsheet in Excel op als 'CSV (gescheiden door "
            "lijstscheidingsteken)' en upload dat bestand."))])

    sheet = _Sheet()
    school_year = school_year or _current_school_year()
    match = SCHOOLYEAR_RE.match(school_year)
    if not BRIN_RE.match(brin):
        sheet.error(None, f"BRIN-code '{shown(brin, 20)}' van de school is ongeldig.")
    if not DEPENDANCE_RE.match(dependancecode or "00"):
        sheet.error(None, f"Dependancecode '{shown(dependancecode, 20)}' van de school is "
                          "ongeldig.")
    if not (match and int(match[2]) == int(match[1]) + 1):
        sheet.error(None, f"Schooljaar '{shown(school_year, 20)}' is ongeldig; verwacht "
                          "bijvoorbeeld 2025-2026.")

    people = [p for line, values in sheet.rows(text)
              if (p := sheet.person(line, values)) is not None]
    if not sheet.errors and not any(p.kind == "pupil" for p in people):
        sheet.error(None, "Het bestand bevat geen leerlingen; vul onder de kopregel per "
                          "leerling een rij in met soort 'leerling'.")

    groups = _groups(sheet, people)
    by_name = {g["name"].casefold(): g for g in groups}
    pupils: list[PupilData] = []
    teachers: list[TeacherData] = []
    seen: dict[tuple[str, str], _Row] = {}
    for row in people:
        earlier = seen.get((row.kind, row.key))
        if earlier is not None:
            what = "leerling" if row.kind == "pupil" else "leerkracht"
            if row.generated_key:
                sheet.error(row.line, f"Er staat al een {what} met dezelfde naam op rij "
                                      f"{earlier.line}. Vul voor beiden een eigen key in, zodat "
                                      "Klaspoort ze uit elkaar houdt.")
            else:
                sheet.error(row.line, f"De key '{shown(row.key)}' staat ook op rij "
                                      f"{earlier.line}; elke {what} heeft een eigen key.")
            continue
        seen[(row.kind, row.key)] = row
        if row.kind == "pupil":
            pupils.append(_pupil(sheet, row, by_name))
        else:
            teachers.append(_teacher(sheet, row, by_name))

    if sheet.errors:
        raise RosterFileError(cap_errors(sheet.errors))
    return {
        "version": SPREADSHEET_VERSION,
        "school": {"brin": brin, "dependancecode": dependancecode or "00",
                   "school_year": school_year},
        "groups": groups,
        "pupils": pupils,
        "teachers": teachers,
    }


def _groups(sheet: _Sheet, people: list[_Row]) -> list[GroupData]:
    """Groups and clusters from the names pupils use, in order of first use."""
    kinds: dict[str, tuple[str, str, int]] = {}  # folded name -> (kind, name, first row)
    years: dict[str, set[str]] = {}
    for row in people:
        if row.kind != "pupil":
            continue
        named = [(row.values.get("groep", ""), "group")]
        named += [(n, "cluster") for n in _split(row.values.get("samengestelde_groepen", ""))]
        for name, kind in named:
            if not name:
                continue
            if len(name) > 64:
                sheet.error(row.line, f"De groepsnaam '{shown(name)}' is langer dan 64 tekens.")
                continue
            folded = name.casefold()
            if folded not in kinds:
                kinds[folded] = (kind, name, row.line)
            elif kinds[folded][0] != kind:
                where = ("in deze rij" if kinds[folded][2] == row.line
                         else f"op rij {kinds[folded][2]}")
                sheet.error(row.line, f"'{shown(name)}' wordt {where} als "
                                      f"{_kind_word(kinds[folded][0])} gebruikt en hier als "
                                      f"{_kind_word(kind)}; een naam kan maar één van beide "
                                      "zijn.")
                continue
            if kind == "group" and row.values.get("jaargroep"):
                years.setdefault(folded, set()).add(row.values["jaargroep"])
    groups: list[GroupData] = []
    for folded, (kind, name, _line) in kinds.items():
        jaargroep = ""
        if kind == "group":
            found = years.get(folded, set()) & JAARGROEPEN
            jaargroep = found.pop() if len(found) == 1 else "C"
        groups.append({"key": name, "kind": kind, "name": name, "jaargroep": jaargroep,
                       "description": ""})
    return groups


def _kind_word(kind: str) -> str:
    return "samengestelde groep" if kind == "cluster" else "groep"


def _pupil(sheet: _Sheet, row: _Row, by_name: dict[str, GroupData]) -> PupilData:
    jaargroep = row.values.get("jaargroep", "")
    if not jaargroep:
        sheet.error(row.line, "De jaargroep van deze leerling ontbreekt (bijvoorbeeld 5 voor "
                              "groep 5).")
    elif jaargroep not in JAARGROEPEN:
        sheet.error(row.line, f"Jaargroep '{shown(jaargroep, 10)}' is ongeldig; toegestaan zijn "
                              "0 t/m 8, 11 t/m 16 en B, C, D, H, N, S, V.")
    group_name = row.values.get("groep", "")
    group = by_name.get(group_name.casefold()) if group_name else None
    clusters: list[str] = []
    for name in _split(row.values.get("samengestelde_groepen", "")):
        cluster = by_name.get(name.casefold())
        if cluster is not None and cluster["kind"] == "cluster" and cluster["key"] not in clusters:
            clusters.append(cluster["key"])
    return {
        "key": row.key, "eckid": None, "first_name": row.first_name, "prefix": row.prefix,
        "last_name": row.last_name, "jaargroep": jaargroep,
        "group": group["key"] if group is not None and group["kind"] == "group" else None,
        "clusters": clusters,
    }


def _teacher(sheet: _Sheet, row: _Row, by_name: dict[str, GroupData]) -> TeacherData:
    email = row.values.get("e-mailadres", "")
    if email:
        try:
            if len(email) > 254:  # the longest address mail servers accept (RFC 5321)
                raise ValidationError("te lang")
            validate_email(email)
        except ValidationError:
            sheet.error(row.line, f"E-mailadres '{shown(email, 80)}' is ongeldig.")
        email = email.lower()
    roles: list[str] = []
    for code in _split(row.values.get("rollen", "").upper()):
        if code not in ROLE_CODES:
            sheet.error(row.line, f"Onbekende rol '{shown(code, 20)}'; toegestaan zijn "
                                  f"{', '.join(sorted(ROLE_CODES))}.")
        elif code not in roles:
            roles.append(code)
    groups: list[TeacherGroupData] = []
    for name in _split(row.values.get("groepen", "")):
        group = by_name.get(name.casefold())
        if group is None:
            sheet.error(row.line, f"Groep '{shown(name)}' komt bij geen enkele leerling voor. "
                                  "Controleer de schrijfwijze; een leerkracht kan alleen "
                                  "gekoppeld worden aan groepen die leerlingen hebben.")
        elif all(g["key"] != group["key"] for g in groups):
            groups.append({"key": group["key"], "roles": []})
    return {
        "key": row.key, "eckid": None, "first_name": row.first_name, "prefix": row.prefix,
        "last_name": row.last_name, "email": email, "roles": roles, "groups": groups,
    }
