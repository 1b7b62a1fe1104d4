"""Roster messages are Dutch by default and English for a user who chose English.

The source texts are English; the Dutch comes from the catalogue. A message that is missing from
the catalogue, marked fuzzy or not compiled would silently show English to a Dutch coordinator,
so the catalogue itself is checked too.
"""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from django.utils import translation

from klaspoort.roster.edexml import RosterFileError, parse_edexml
from klaspoort.roster.spreadsheet import parse_spreadsheet
from tests.roster.test_edexml import PUPILS, edexml, line_of, pupil_xml

LOCALE = Path(__file__).resolve().parents[2] / "klaspoort" / "locale" / "nl" / "LC_MESSAGES"
PARSER_FILES = ("klaspoort/roster/edexml.py", "klaspoort/roster/spreadsheet.py")


def errors_of(data: bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(RosterFileError) as caught:
        parse_edexml(data)
    return [(e.line, e.message) for e in caught.value.errors]


def test_a_parser_error_is_dutch_by_default_and_english_when_chosen():
    data = edexml(pupils=PUPILS + pupil_xml("L9", group="g7"))
    line = line_of(data, '<groep key="g7"/>')

    assert errors_of(data) == [(line, (
        "Leerling 'L9' verwijst naar groep 'g7', maar die groep staat niet in <groepen>."))]
    with translation.override("en"):
        assert errors_of(data) == [(line, (
            "Pupil 'L9' refers to group 'g7', but that group is not in <groepen>."))]


def test_a_spreadsheet_error_names_the_dutch_columns_in_both_languages():
    data = b"soort;roepnaam;achternaam\r\nrobot;Sem;Jansen\r\n"

    def message() -> str:
        with pytest.raises(RosterFileError) as caught:
            parse_spreadsheet(data, brin="99ZZ", dependancecode="00", school_year="2025-2026")
        return caught.value.errors[0].message

    assert message() == "Soort 'robot' is onbekend; vul 'leerling' of 'leerkracht' in."
    with translation.override("en"):
        assert message() == ("Soort (kind) 'robot' is unknown; fill in 'leerling' (pupil) or "
                             "'leerkracht' (teacher).")


@pytest.mark.parametrize(("extra", "dutch", "english"), [
    (1, "… en nog 1 andere fout.", "… and 1 more error."),
    (3, "… en nog 3 andere fouten.", "… and 3 more errors."),
])
def test_the_count_of_errors_left_out_agrees_with_its_number(extra, dutch, english):
    data = edexml(pupils="".join(pupil_xml(f"L{i}", jaargroep="99") for i in range(200 + extra)))

    assert errors_of(data)[-1][1].startswith(dutch + " Herstel eerst de fouten hierboven")
    with translation.override("en"):
        assert errors_of(data)[-1][1].startswith(english + " First correct the errors above")


def _po_entries(path: Path) -> list[dict]:
    """The entries of a .po file: references, flags, msgid and msgstr(s), unquoted."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"refs": "", "flags": set(), "msgid": "", "plural": "", "msgstr": []}
        field = None
        for line in block.splitlines():
            if line.startswith("#:"):
                entry["refs"] += line[2:]
            elif line.startswith("#,"):
                entry["flags"] |= {f.strip() for f in line[2:].split(",")}
            elif line.startswith("msgid "):
                field, entry["msgid"] = "msgid", ast.literal_eval(line[6:])
            elif line.startswith("msgid_plural "):
                field, entry["plural"] = "plural", ast.literal_eval(line[13:])
            elif line.startswith("msgstr"):
                field = "msgstr"
                entry["msgstr"].append(ast.literal_eval(line.split(" ", 1)[1]))
            elif line.startswith('"') and field == "msgid":
                entry["msgid"] += ast.literal_eval(line)
            elif line.startswith('"') and field == "plural":
                entry["plural"] += ast.literal_eval(line)
            elif line.startswith('"') and field == "msgstr":
                entry["msgstr"][-1] += ast.literal_eval(line)
        if entry["msgid"]:
            entries.append(entry)
    return entries


def test_every_parser_message_is_translated_and_compiled():
    entries = [e for e in _po_entries(LOCALE / "django.po")
               if any(name in e["refs"] for name in PARSER_FILES)]
    compiled = gettext.GNUTranslations((LOCALE / "django.mo").open("rb"))

    assert len(entries) > 50  # the parsers' messages are in the catalogue at all
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert all(entry["msgstr"]), entry["msgid"]
        if entry["plural"]:  # Dutch has two forms: one, and all other numbers
            assert [compiled.ngettext(entry["msgid"], entry["plural"], n) for n in (1, 2)] \
                == entry["msgstr"], entry["msgid"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]
