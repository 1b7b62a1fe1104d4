"""The spreadsheet template for schools without a LAS (the XML-maker): download, fill, import."""

from __future__ import annotations

import csv
import functools
import io

import pytest

from klaspoort.roster import services
from klaspoort.roster.edexml import RosterFileError, max_bytes
from klaspoort.roster.models import Pupil, RosterImport, Teacher
from klaspoort.roster.spreadsheet import COLUMNS, csv_template, parse_spreadsheet

SCHOOL = {"brin": "99ZZ", "dependancecode": "00", "school_year": "2025-2026"}
HEADER = "soort;key;roepnaam;voorvoegsel;achternaam;jaargroep;groep;samengestelde_groepen;" \
         "e-mailadres;groepen;rollen"


def sheet(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def parse(data: bytes, **school) -> dict:
    return parse_spreadsheet(data, **{**SCHOOL, **school})


def errors_of(data: bytes, **school) -> list:
    with pytest.raises(RosterFileError) as caught:
        parse(data, **school)
    assert caught.value.errors
    return caught.value.errors


ROWS = (
    "leerling;1001;Zoë;van 't;Hof;1;Groep 1-2;;;;",
    "leerling;1002;Ismaël;;Çelik;2;Groep 1-2;;;;",
    "leerling;;Daan;;;5;Groep 5;Plusklas, Koor;;;",
    "leerkracht;T1;Marieke;de;Vries;;;;M.deVries@School.example;Groep 1-2, plusklas;LRK",
    "leerkracht;T2;Henk;;Bakker;;;;;Groep 5;ICT, LRK",
)


def test_the_template_opens_in_dutch_excel_and_imports_as_it_is():
    data = csv_template()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM makes Excel read UTF-8 (Zoë, not ZoÃ«)
    rows = list(csv.reader(io.StringIO(data[3:].decode()), delimiter=";"))
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 3 and all(len(r) == len(COLUMNS) for r in rows)
    roster = parse(data)
    assert [p["first_name"] for p in roster["pupils"]] == ["Zoë"]
    assert [t["first_name"] for t in roster["teachers"]] == ["Marieke"]


def test_a_filled_in_sheet_gives_the_same_roster_as_an_edexml_file():
    roster = parse(sheet(*ROWS))
    assert roster["school"] == SCHOOL
    assert roster["groups"] == [
        {"key": "Groep 1-2", "kind": "group", "name": "Groep 1-2", "jaargroep": "C",
         "description": ""},
        {"key": "Groep 5", "kind": "group", "name": "Groep 5", "jaargroep": "5",
         "description": ""},
        {"key": "Plusklas", "kind": "cluster", "name": "Plusklas", "jaargroep": "",
         "description": ""},
        {"key": "Koor", "kind": "cluster", "name": "Koor", "jaargroep": "", "description": ""},
    ]
    zoe, ismael, daan = roster["pupils"]
    assert zoe == {"key": "1001", "eckid": None, "first_name": "Zoë", "prefix": "van 't",
                   "last_name": "Hof", "jaargroep": "1", "group": "Groep 1-2", "clusters": []}
    assert (ismael["first_name"], ismael["last_name"], ismael["jaargroep"]) == \
        ("Ismaël", "Çelik", "2")
    assert daan["key"] == "leerling:daan" and daan["last_name"] == ""
    assert daan["clusters"] == ["Plusklas", "Koor"]
    marieke, henk = roster["teachers"]
    assert marieke["email"] == "m.devries@school.example"
    # Names are matched without regard to capitals: "plusklas" is the cluster Plusklas.
    assert marieke["groups"] == [{"key": "Groep 1-2", "roles": []},
                                 {"key": "Plusklas", "roles": []}]
    assert henk["roles"] == ["ICT", "LRK"]


def test_windows_1252_and_comma_separated_sheets_are_read():
    rows = [r.replace(";", ",") for r in ROWS[:2]]
    data = sheet(*rows, header=HEADER.replace(";", ","), encoding="cp1252")
    assert "Zoë".encode("cp1252") in data
    pupils = parse(data)["pupils"]
    assert [(p["first_name"], p["last_name"]) for p in pupils] == [("Zoë", "Hof"),
                                                                   ("Ismaël", "Çelik")]


def test_comma_separated_lists_in_a_comma_separated_sheet_are_quoted():
    data = sheet('leerling,,Daan,,Dijk,5,Groep 5,"Plusklas, Koor",,,',
                 header=HEADER.replace(";", ","))
    assert parse(data)["pupils"][0]["clusters"] == ["Plusklas", "Koor"]


def test_an_excel_sep_line_and_free_column_order_and_spelling():
    data = (b"sep=;\r\nAchternaam;Roepnaam;Soort;Jaargroep;Groep;Tussenvoegsel\r\n"
            b"Vries;Sem;Leerling;3;Groep 3;de\r\n")
    [pupil] = parse(data)["pupils"]
    assert (pupil["first_name"], pupil["prefix"], pupil["last_name"]) == ("Sem", "de", "Vries")


def test_generated_keys_are_stable_so_a_second_upload_changes_nothing(school):
    data = sheet(*ROWS)
    read = functools.partial(parse_spreadsheet, **SCHOOL)
    first = services.receive_roster_file(data, source=RosterImport.Source.SPREADSHEET,
                                         school=school, parse=read)
    assert first.status == RosterImport.Status.WAITING, first.errors
    first = services.process_import(first.pk)
    assert first.counts["pupils"]["added"] == 3
    assert first.edexml_version == "csv"
    assert Teacher.objects.get(school=school, key="T2").is_ict_coordinator
    assert Pupil.objects.get(school=school, key="leerling:daan").group.jaargroep == "5"

    again = services.process_import(services.receive_roster_file(
        data, source=RosterImport.Source.SPREADSHEET, school=school, parse=read).pk)
    assert again.counts == {p: {"added": 0, "changed": 0, "deactivated": 0}
                            for p in ("groups", "pupils", "teachers")}


def test_a_bad_sheet_changes_nothing(school):
    data = sheet("leerling;;Zoë;;Hof;9;Groep 1;;;;")
    record = services.receive_roster_file(
        data, source=RosterImport.Source.SPREADSHEET, school=school,
        parse=functools.partial(parse_spreadsheet, **SCHOOL))
    assert record.status == RosterImport.Status.FAILED
    assert record.errors == [{"line": 2, "message": "Jaargroep '9' is ongeldig; toegestaan "
                                                    "zijn 0 t/m 8, 11 t/m 16 en B, C, D, H, N, "
                                                    "S, V."}]
    assert not Pupil.objects.exists()


def test_every_error_at_once_with_its_row_number():
    data = sheet(
        "leerling;1;Zoë;;Hof;5;Groep 5;;;;",            # 2: fine
        "leraar;2;Sem;;Jong;5;Groep 5;;;;",             # 3: unknown kind
        "leerling;1;Noor;;Bos;5;Groep 5;;;;",           # 4: key of row 2
        "leerling;;Daan;;;;Groep 5;;;;",                # 5: no jaargroep
        "leerling;;Daan;;;5;Groep 5;;;;",               # 6: the same name as row 5
        "leerling;;;;Smit;5;Groep 5;;;;",               # 7: no roepnaam
        "leerling;;Liv;van;;5;Groep 5;;liv@x.nl;;",     # 8: prefix without last name; e-mail
        "leerkracht;;Rob;;Kok;5;;;rob@;Groep 9;BAAS",   # 9: jaargroep; e-mail; group; role
        "leerling;;Eva;;Kok;4;Plusklas;Plusklas;;;",    # 10: group and cluster at once
    )
    errors = [(e.line, e.message) for e in errors_of(data)]
    assert errors == [
        (3, "Soort 'leraar' is onbekend; vul 'leerling' of 'leerkracht' in."),
        (4, "De key '1' staat ook op rij 2; elke leerling heeft een eigen key."),
        (5, "De jaargroep van deze leerling ontbreekt (bijvoorbeeld 5 voor groep 5)."),
        (6, "Er staat al een leerling met dezelfde naam op rij 5. Vul voor beiden een eigen key "
            "in, zodat Klaspoort ze uit elkaar houdt."),
        (7, "De roepnaam ontbreekt."),
        (8, "Er is een voorvoegsel maar geen achternaam."),
        (8, "De kolom e-mailadres is alleen voor leerkrachten."),
        (9, "De kolom jaargroep is alleen voor leerlingen; gebruik voor leerkrachten de kolom "
            "groepen."),
        (9, "E-mailadres 'rob@' is ongeldig."),
        (9, "Onbekende rol 'BAAS'; toegestaan zijn ADJ, ADM, CON, DIR, IB, ICT, KLA, LOC, LOS, "
            "LRK, OUD, OWA, RT, SMW, STA, TAL, VAK."),
        (9, "Groep 'Groep 9' komt bij geen enkele leerling voor. Controleer de schrijfwijze; "
            "een leerkracht kan alleen gekoppeld worden aan groepen die leerlingen hebben."),
        (10, "'Plusklas' wordt in deze rij als groep gebruikt en hier als samengestelde groep; "
             "een naam kan maar één van beide zijn."),
    ]


def test_two_pupils_with_the_same_name_need_a_key():
    [error] = errors_of(sheet("leerling;;Sem;de;Jong;5;Groep 5;;;;",
                              "leerling;;Sem;de;Jong;6;Groep 6;;;;"))
    assert error.line == 3
    assert "zelfde naam op rij 2" in error.message and "eigen key" in error.message


def test_the_header_must_name_the_columns():
    [error] = errors_of(b"Sem;de;Jong;5\r\n")
    assert error.line == 1
    assert error.message.startswith("De eerste regel bevat geen kolomnamen.")

    [error] = errors_of(b"soort;roepnaam;jaargroep\r\nleerling;Sem;5\r\n")
    assert (error.line, error.message) == (1, "De kopregel mist de verplichte kolom(men) "
                                              "achternaam. Gebruik het sjabloon van Klaspoort; "
                                              "de eerste regel moet de kolomnamen bevatten.")

    errors = errors_of(sheet("leerling;;Sem;;Jong;5;Groep 5;;;;;x",
                             header=HEADER + ";hobby"))
    assert (1, "Onbekende kolom 'hobby' in de kopregel; gebruik de kolommen van het sjabloon: "
               + ", ".join(COLUMNS) + ".") in [(e.line, e.message) for e in errors]


@pytest.mark.parametrize(("data", "fragment"), [
    (b"", "leeg"),
    (b'<?xml version="1.0"?><EDEX/>', "XML-bestand"),
    (b"PK\x03\x04\x00\x00xlsx", "geen CSV-bestand"),
    (HEADER.encode() + b"\r\n", "geen leerlingen"),
    (b"x" * (max_bytes() + 1), "te groot"),
])
def test_files_that_are_no_roster_sheet(data, fragment):
    assert fragment in " ".join(e.message for e in errors_of(data))


def test_a_quote_that_is_never_closed():
    errors = errors_of(sheet("leerling;;Zoë;;Hof;5;Groep 5;;;;",
                             'leerling;;"Sem;;Jong;5;Groep 5;;;;'))
    assert [(e.line, e.message) for e in errors] == [(3, (
        "Deze rij kan niet worden gelezen (een aanhalingsteken wordt niet afgesloten). Sla het "
        "bestand opnieuw op als CSV vanuit Excel."))]


def test_the_school_must_be_valid_and_an_empty_year_is_the_current_one():
    messages = [e.message for e in errors_of(sheet(*ROWS), brin="99Z", dependancecode="A",
                                                   school_year="2025")]
    assert messages == ["BRIN-code '99Z' van de school is ongeldig.",
                        "Dependancecode 'A' van de school is ongeldig.",
                        "Schooljaar '2025' is ongeldig; verwacht bijvoorbeeld 2025-2026."]
    year = parse(sheet(*ROWS), school_year="")["school"]["school_year"]
    start, end = (int(y) for y in year.split("-"))
    assert end == start + 1


def test_a_bsn_in_a_key_is_not_repeated_in_a_message():
    [error] = errors_of(sheet("leerling;123456782;Sem;;Jong;5;Groep 5;;;;",
                              "leerling;123456782;Noor;;Bos;5;Groep 5;;;;"))
    assert "123456782" not in error.message


def test_row_numbers_are_the_rows_excel_shows_even_with_a_line_break_in_a_cell():
    errors = errors_of(sheet('leerling;;"Zoë\nMaria";;Hof;5;Groep 5;;;;',
                             "",
                             "leerling;;Sem;;Jong;10;Groep 5;;;;"))
    assert [e.line for e in errors] == [4]
