"""Roster messages are Dutch by default and English for a user who chose English.

The source texts are English; the Dutch comes from the catalogue. That the catalogue holds every
message, translated and compiled, is checked for the whole project in tests/test_i18n_pages.py.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from klaspoort.roster.edexml import RosterFileError, parse_edexml
from klaspoort.roster.spreadsheet import parse_spreadsheet
from tests.roster.test_edexml import PUPILS, edexml, line_of, pupil_xml


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

