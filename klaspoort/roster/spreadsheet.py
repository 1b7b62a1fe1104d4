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
- The column names, the words in `soort` (leerling, leerkracht) and the example rows are a file
  format Dutch schools fill in, not interface text: they stay Dutch in every language, and the
  messages name them as they are. The messages themselves are translated (English msgids).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

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
from klaspoort.schools.selectors import current_school_year

SPREADSHEET_VERSION = "csv"
# The template's column names and the soort words are the sheet's file format (Dutch schools fill
# it in, and it is read back by these names): they are never translated.
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


def _split(value: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,;]", value)]
    return [p for p in parts if p]


def _generated_key(kind: str, first: str, prefix: str, last: str) -> str:
    name = " ".join(" ".join(p.split()) for p in (first, prefix, last) if p.strip())
    # Part of the stored key, so the same in every language.
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
                self.error(row, _("This row cannot be read (a quotation mark is not closed). "
                                  "Save the file as CSV from Excel again."))
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
                self.error(row, _("This row has more cells than there are columns in the "
                                  "header row."))
            yield row, values

    def header(self, cells: list[str], line: int) -> list[str | None] | None:
        if not any(_HEADER.get(_normal_header(cell)) for cell in cells):
            self.error(line, _("The first row contains no column names. Use Klaspoort's "
                               "template; its first row is: %(columns)s.")
                       % {"columns": ", ".join(COLUMNS)})
            return None
        columns: list[str | None] = []
        for cell in cells:
            if not cell.strip():
                columns.append(None)
                continue
            column = _HEADER.get(_normal_header(cell))
            if column is None:
                self.error(line, _("Unknown column '%(column)s' in the header row; use the "
                                   "columns of the template: %(columns)s.")
                           % {"column": shown(cell), "columns": ", ".join(COLUMNS)})
            elif column in columns:
                self.error(line, _("Column '%(column)s' appears twice in the header row.")
                           % {"column": column})
                column = None
            columns.append(column)
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            self.error(line, _("The header row lacks the required column(s) %(columns)s. Use "
                               "Klaspoort's template; the first row must hold the column "
                               "names.") % {"columns": ", ".join(missing)})
            return None
        return columns

    def person(self, line: int, values: dict[str, str]) -> _Row | None:
        kind_word = values.get("soort", "").lower()
        kind = KINDS.get(kind_word)
        if kind is None:
            self.error(line, _("Soort (kind) '%(soort)s' is unknown; fill in 'leerling' "
                               "(pupil) or 'leerkracht' (teacher).")
                       % {"soort": shown(kind_word, 20)})
            return None
        first = values.get("roepnaam", "")
        prefix = values.get("voorvoegsel", "")
        last = values.get("achternaam", "")
        if not first:
            self.error(line, _("The roepnaam (first name) is missing."))
        for column, limit in (("roepnaam", 64), ("voorvoegsel", 10), ("achternaam", 200)):
            if len(values.get(column, "")) > limit:
                self.error(line, _("The value in column %(column)s is longer than %(limit)s "
                                   "characters.") % {"column": column, "limit": limit})
        if prefix and not last:
            self.error(line, _("There is a voorvoegsel (name prefix) but no achternaam (last "
                               "name)."))
        wrong = TEACHER_ONLY if kind == "pupil" else PUPIL_ONLY
        for column in wrong:
            if values.get(column):
                message = (_("The column %(column)s is only for teachers.") if kind == "pupil"
                           else _("The column %(column)s is only for pupils; for teachers, use "
                                  "the column groepen."))
                self.error(line, message % {"column": column})
        key = values.get("key", "")
        if len(key) > 256:
            self.error(line, _("The key is longer than %(limit)s characters.") % {"limit": 256})
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
        raise RosterFileError([RosterError(None, _("The file is empty."))])
    if text.lstrip("\ufeff \r\n\t").startswith("<"):
        raise RosterFileError([RosterError(1, _(
            "This looks like an XML file, not a spreadsheet. An EDEXML file from the pupil "
            "administration system (LAS) can simply be uploaded as EDEXML."))])
    if "\x00" in text:
        # Translators: the name of the file type in Excel's "Save as" list, as the user's Excel
        # shows it ("CSV (gescheiden door lijstscheidingsteken)" in Dutch Excel).
        raise RosterFileError([RosterError(None, _(
            "This is not a CSV file. In Excel, save the spreadsheet as 'CSV (Comma delimited)' "
            "and upload that file."))])

    sheet = _Sheet()
    school_year = school_year or current_school_year(timezone.localdate())
    match = SCHOOLYEAR_RE.match(school_year)
    if not BRIN_RE.match(brin):
        sheet.error(None, _("The school's BRIN code '%(brin)s' is invalid.")
                    % {"brin": shown(brin, 20)})
    if not DEPENDANCE_RE.match(dependancecode or "00"):
        sheet.error(None, _("The school's location code (dependancecode) '%(code)s' is "
                            "invalid.") % {"code": shown(dependancecode, 20)})
    if not (match and int(match[2]) == int(match[1]) + 1):
        sheet.error(None, _("School year '%(year)s' is invalid; expected for example "
                            "2025-2026.") % {"year": shown(school_year, 20)})

    people = [p for line, values in sheet.rows(text)
              if (p := sheet.person(line, values)) is not None]
    if not sheet.errors and not any(p.kind == "pupil" for p in people):
        sheet.error(None, _("The file contains no pupils; below the header row, fill in one "
                            "row per pupil with soort 'leerling'."))

    groups = _groups(sheet, people)
    by_name = {g["name"].casefold(): g for g in groups}
    pupils: list[PupilData] = []
    teachers: list[TeacherData] = []
    seen: dict[tuple[str, str], _Row] = {}
    for row in people:
        earlier = seen.get((row.kind, row.key))
        if earlier is not None:
            pupil = row.kind == "pupil"
            if row.generated_key:
                message = (_("There is already a pupil with the same name in row %(row)s. "
                             "Fill in a key of their own for both, so that Klaspoort can tell "
                             "them apart.") if pupil else
                           _("There is already a teacher with the same name in row %(row)s. "
                             "Fill in a key of their own for both, so that Klaspoort can tell "
                             "them apart."))
            else:
                message = (_("The key '%(key)s' is also in row %(row)s; every pupil has a key "
                             "of their own.") if pupil else
                           _("The key '%(key)s' is also in row %(row)s; every teacher has a key "
                             "of their own."))
            sheet.error(row.line, message % {"key": shown(row.key), "row": earlier.line})
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
        # A sheet lists only the pupils who are at the school, and refuses what it cannot use.
        "left_pupils": [],
        "warnings": [],
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
                sheet.error(row.line, _("The group name '%(name)s' is longer than %(limit)s "
                                        "characters.") % {"name": shown(name), "limit": 64})
                continue
            folded = name.casefold()
            if folded not in kinds:
                kinds[folded] = (kind, name, row.line)
            elif kinds[folded][0] != kind:
                first_row = kinds[folded][2]
                message = _KIND_CLASH[(first_row == row.line, kinds[folded][0])]()
                sheet.error(row.line, message % {"name": shown(name), "row": first_row})
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


# A name used as a group and as a cluster: (used so in the same row?, kind of the first use).
# Functions, so each message is translated in the language active when it is reported.
_KIND_CLASH = {
    (True, "group"): lambda: _(
        "'%(name)s' is used as a group in this row and also as a cluster; a name can only be one "
        "of the two."),
    (True, "cluster"): lambda: _(
        "'%(name)s' is used as a cluster in this row and also as a group; a name can only be one "
        "of the two."),
    (False, "group"): lambda: _(
        "'%(name)s' is used as a group in row %(row)s and as a cluster here; a name can only be "
        "one of the two."),
    (False, "cluster"): lambda: _(
        "'%(name)s' is used as a cluster in row %(row)s and as a group here; a name can only be "
        "one of the two."),
}


def _pupil(sheet: _Sheet, row: _Row, by_name: dict[str, GroupData]) -> PupilData:
    jaargroep = row.values.get("jaargroep", "")
    if not jaargroep:
        sheet.error(row.line, _("This pupil's year group (jaargroep) is missing (for example 5 "
                                "for groep 5)."))
    elif jaargroep not in JAARGROEPEN:
        sheet.error(row.line, _("Year group '%(year)s' is invalid; the allowed values are 0 to "
                                "8, 11 to 16 and B, C, D, H, N, S, V.")
                    % {"year": shown(jaargroep, 10)})
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
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            sheet.error(row.line, _("E-mail address '%(email)s' is invalid.")
                        % {"email": shown(email, 80)})
        email = email.lower()
    roles: list[str] = []
    for code in _split(row.values.get("rollen", "").upper()):
        if code not in ROLE_CODES:
            sheet.error(row.line, _("Unknown role '%(role)s'; the allowed roles are %(roles)s.")
                        % {"role": shown(code, 20), "roles": ", ".join(sorted(ROLE_CODES))})
        elif code not in roles:
            roles.append(code)
    groups: list[TeacherGroupData] = []
    for name in _split(row.values.get("groepen", "")):
        group = by_name.get(name.casefold())
        if group is None:
            sheet.error(row.line, _("Group '%(name)s' is not used by any pupil. Check the "
                                    "spelling; a teacher can only be linked to groups that have "
                                    "pupils.") % {"name": shown(name)})
        elif all(g["key"] != group["key"] for g in groups):
            groups.append({"key": group["key"], "roles": []})
    return {
        "key": row.key, "eckid": None, "first_name": row.first_name, "prefix": row.prefix,
        "last_name": row.last_name, "email": email, "roles": roles, "groups": groups,
    }
