"""Contracts from CSV/JSON: the shared validation, apply_contract_rows and import-contracts."""

import json

import pytest
from django.core.management import call_command
from django.utils import translation

from klaspoort.audit.models import AuditEntry
from klaspoort.licences.contract_import import FILE, HEADER, parse_csv, parse_dicts
from klaspoort.licences.models import Contract, GroupLicence, Product
from klaspoort.licences.publisher_services import apply_contract_rows
from klaspoort.schools.models import Publisher, School
from tests.factories import GroupFactory, PupilFactory, SchoolFactory, UserFactory
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # Messages are Dutch once the lead merges the translations; the English msgids are what
    # these tests can rely on meanwhile (the words are the same facts).
    with translation.override("en"):
        yield

HEAD = ",".join(HEADER)


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join([HEAD, *lines]) + "\n").encode()


def line(number="K-1", brin6="99ZZ00", publisher="Leeruitgeverij Noord", code="PP4",
         name="Pluspunt 4", ptype="oefensoftware", years="4;5", title="Pluspunt 4 groep 4-5",
         start="2026-08-01", end="2027-07-31", kind="group", seats=""):
    return ",".join([number, brin6, publisher, code, name, ptype, years, title, start, end,
                     kind, seats])


def errors_of(parsed):
    return {(e.line, e.field) for e in parsed.errors}


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------
def test_a_good_file_gives_rows_in_model_words():
    parsed = parse_csv(csv_bytes(line(), line(number="K-2", kind="child", seats="25",
                                              years="")))
    assert parsed.errors == []
    first, second = parsed.rows
    assert (first.number, first.brin6, first.year_groups, first.contract_type, first.seats) == (
        "K-1", "99ZZ00", [4, 5], "group", None)
    assert first.start.isoformat() == "2026-08-01" and first.line == 2
    assert (second.contract_type, second.seats, second.year_groups) == ("child", 25, [])


@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"a,b,c\n1,2,3\n", "first line"),
    (HEAD.encode() + b"\n", "no contracts"),
    ("\ufeff".encode("utf-16") + HEAD.encode("utf-16-le"), "UTF-16"),
    (csv_bytes(line(title="Caf\xe9")).replace(b"\xc3\xa9", b"\xe9"), "UTF-8"),
])
def test_a_bad_file_is_one_file_error(data, words):
    parsed = parse_csv(data)
    assert parsed.rows == []
    assert [(e.line, e.field) for e in parsed.errors] == [(FILE, "")]
    assert words in parsed.errors[0].message


def test_a_utf8_byte_order_mark_from_a_spreadsheet_is_accepted():
    parsed = parse_csv(b"\xef\xbb\xbf" + csv_bytes(line()))
    assert parsed.errors == [] and len(parsed.rows) == 1


DUTCH_SHEET = (
    "\ufeffContractnummer;BRIN6;Uitgeverij;Productcode;Productnaam;Productsoort;Jaargroepen;"
    "Titel;Startdatum;Einddatum;Soort;Aantal licenties\r\n"
    "K-1;99ZZ00;Leeruitgeverij Noord;PP4;Pluspunt 4;oefensoftware;4,5;Pluspunt 4 groep 4-5;"
    "1-8-2026;31-07-2027;per groep;\r\n"
    "K-2;99ZZ00;Leeruitgeverij Noord;RT;Rekentuin;oefensoftware;;Rekentuin plus;"
    "01-08-2026;31-07-2027;Per kind;25\r\n").encode()


def test_a_dutch_spreadsheet_with_semicolons_reads_like_the_english_file():
    parsed = parse_csv(DUTCH_SHEET)
    assert parsed.errors == []
    first, second = parsed.rows
    assert (first.number, first.year_groups, first.contract_type, first.start.isoformat(),
            first.end.isoformat()) == ("K-1", [4, 5], "group", "2026-08-01", "2027-07-31")
    assert (second.contract_type, second.seats, second.title) == ("child", 25, "Rekentuin plus")


def test_columns_may_come_in_any_order_but_each_exactly_once():
    columns = DUTCH_SHEET.decode().split("\r\n")[0].split(";")
    swapped = ";".join([columns[1], columns[0], *columns[2:]])
    data = DUTCH_SHEET.decode().split("\r\n")
    cells = data[1].split(";")
    moved = "\r\n".join([swapped, ";".join([cells[1], cells[0], *cells[2:]])]).encode()
    assert [row.number for row in parse_csv(moved).rows] == ["K-1"]
    twice = DUTCH_SHEET.replace(b"Titel", b"Contractnummer")
    assert [(e.line, e.field) for e in parse_csv(twice).errors] == [(FILE, "")]


def test_a_10_kb_garbage_line_is_a_row_error_and_the_message_stays_short():
    parsed = parse_csv(csv_bytes(line(), "x" * 10_000, line(number="K-3", title="y" * 10_000)))
    assert [row.number for row in parsed.rows] == ["K-1"]
    assert errors_of(parsed) == {(3, ""), (4, "title")}
    assert all(len(e.message) < 200 for e in parsed.errors)
    assert "12" in parsed.errors[0].message  # says how many fields were expected


@pytest.mark.parametrize("kwargs, field", [
    ({"number": ""}, "contract_number"),
    ({"brin6": "99ZZ0"}, "brin6"),
    ({"publisher": ""}, "publisher"),
    ({"code": ""}, "product_code"),
    ({"ptype": "spelletjes"}, "product_type"),
    ({"years": "4;9"}, "year_groups"),
    ({"years": "vier"}, "year_groups"),
    ({"title": ""}, "title"),
    ({"start": "1 augustus 2026"}, "start"),
    ({"start": "31-02-2026"}, "start"),
    ({"end": "2027-02-30"}, "end"),
    ({"end": "2026-07-31"}, "end"),
    ({"kind": "school"}, "type"),
    ({"seats": "10"}, "seats"),
    ({"kind": "child", "seats": ""}, "seats"),
    ({"kind": "child", "seats": "0"}, "seats"),
    ({"kind": "child", "seats": "-3"}, "seats"),
])
def test_each_field_rule_is_a_row_error_naming_the_field(kwargs, field):
    parsed = parse_csv(csv_bytes(line(**kwargs)))
    assert parsed.rows == []
    assert (2, field) in errors_of(parsed)
    assert all(e.message for e in parsed.errors)


def test_the_same_contract_number_twice_in_one_file_is_an_error_on_the_second():
    parsed = parse_csv(csv_bytes(line(), line(title="Anders")))
    assert [row.line for row in parsed.rows] == [2]
    assert errors_of(parsed) == {(3, "contract_number")}
    assert "line 2" in parsed.errors[0].message


def test_json_rows_share_the_rules_and_wrong_types_are_row_errors():
    good = {"contract_number": "K-1", "brin6": "99zz00", "product_code": "PP4",
            "title": "Pluspunt", "start": "2026-08-01", "end": "2027-07-31", "type": "child",
            "seats": 5, "year_groups": [4, 5]}
    parsed = parse_dicts([
        good,
        "not an object",
        {**good, "contract_number": "K-2", "title": ["a"], "seats": {"x": 1}},
        {**good, "contract_number": "K-3", "year_groups": [4, "x"], "start": 20260801},
        {**good, "contract_number": "K-4", "type": True},
    ])
    assert [row.number for row in parsed.rows] == ["K-1"]
    assert parsed.rows[0].brin6 == "99ZZ00" and parsed.rows[0].seats == 5
    assert errors_of(parsed) == {(2, ""), (3, "title"), (3, "seats"), (4, "year_groups"),
                                 (4, "start"), (5, "type")}


# ---------------------------------------------------------------------------------------------
# Applying
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def operator():
    return UserFactory(email="operator@klaspoort.example", is_staff=True)


def test_the_operator_import_creates_publisher_product_and_contract_audited(school, operator):
    result = apply_contract_rows(parse_csv(csv_bytes(line())), actor=operator,
                                 source="command", create_unknown=True)
    assert (result.created, result.updated, result.unchanged, result.applied) == (1, 0, 0, True)
    publisher = Publisher.objects.get(name="Leeruitgeverij Noord")
    assert publisher.slug == "leeruitgeverij-noord"
    product = Product.objects.get(publisher=publisher, code="PP4")
    assert (product.name, product.year_groups, product.product_type) == (
        "Pluspunt 4", [4, 5], "oefensoftware")
    contract = Contract.objects.get(publisher=publisher, number="K-1")
    assert (contract.school, contract.product, contract.seats) == (school, product, None)
    entry = AuditEntry.objects.get(action="licences.contract.create")
    assert entry.school == school and entry.actor == operator
    assert entry.before is None and entry.after["title"] == "Pluspunt 4 groep 4-5"


def test_resending_is_idempotent_and_changes_update_with_before_and_after(school, operator):
    data = csv_bytes(line(), line(number="K-2"))
    apply_contract_rows(parse_csv(data), actor=operator, source="command", create_unknown=True)
    again = apply_contract_rows(parse_csv(data), actor=operator, source="command",
                                create_unknown=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = apply_contract_rows(
        parse_csv(csv_bytes(line(title="Nieuwe titel", end="2028-07-31"), line(number="K-2"))),
        actor=operator, source="command", create_unknown=True)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert Contract.objects.count() == 2
    contract = Contract.objects.get(number="K-1")
    assert contract.title == "Nieuwe titel" and contract.end.isoformat() == "2028-07-31"
    update = AuditEntry.objects.get(action="licences.contract.update")
    assert update.before["title"] == "Pluspunt 4 groep 4-5"
    assert update.after["title"] == "Nieuwe titel"
    assert AuditEntry.objects.filter(action="licences.contract.create").count() == 2


def test_a_bad_row_keeps_everything_back_unless_confirmed(school, operator):
    data = csv_bytes(line(), line(number="K-2", start="morgen"), line(number="K-3"))
    held = apply_contract_rows(parse_csv(data), actor=operator, source="command",
                               create_unknown=True)
    assert held.applied is False and held.created == 2  # what would have happened
    assert [(e.line, e.field) for e in held.errors] == [(3, "start")]
    assert not Contract.objects.exists() and not Publisher.objects.filter(
        name="Leeruitgeverij Noord").exists()
    assert not AuditEntry.objects.filter(action__startswith="licences.contract").exists()

    done = apply_contract_rows(parse_csv(data), actor=operator, source="command",
                               create_unknown=True, confirm_partial=True)
    assert done.applied is True and done.created == 2 and done.bad_rows == 1
    assert set(Contract.objects.values_list("number", flat=True)) == {"K-1", "K-3"}


def test_a_school_not_on_the_platform_gets_its_contract_when_it_arrives(school, operator):
    result = apply_contract_rows(parse_csv(csv_bytes(line(brin6="11AA00"))), actor=operator,
                                 source="command", create_unknown=True)
    assert result.applied and result.created == 1 and not result.errors
    held = Contract.objects.get()
    assert held.brin6 == "11AA00" and held.school is None
    arrived = School.objects.create(brin="11AA", dependancecode="00")
    held.refresh_from_db()
    assert held.school == arrived


def test_without_create_unknown_an_unknown_publisher_is_a_row_error(school, operator):
    result = apply_contract_rows(parse_csv(csv_bytes(line(publisher="Onbekend BV"))),
                                 actor=operator, source="command")
    assert [(e.line, e.field) for e in result.errors] == [(2, "publisher")]
    assert not Publisher.objects.filter(name="Onbekend BV").exists()


def test_a_publisher_delivers_only_its_own_contracts(school, operator):
    own = PublisherFactory(name="Zwijsen")
    other = PublisherFactory(name="Noordhoff")
    data = csv_bytes(line(publisher="Zwijsen"), line(number="K-2", publisher="Noordhoff"),
                     line(number="K-3", publisher=""))
    result = apply_contract_rows(parse_csv(data, publisher_required=False), publisher=own,
                                 actor=operator,
                                 source="upload", confirm_partial=True)
    assert [(e.line, e.field) for e in result.errors] == [(3, "publisher")]
    assert set(Contract.objects.values_list("publisher__name", "number")) == {
        ("Zwijsen", "K-1"), ("Zwijsen", "K-3")}
    # The unknown product was added to the publisher's own catalogue, nobody else's.
    assert Product.objects.get(code="PP4").publisher == own
    assert not Product.objects.filter(publisher=other).exists()


def test_the_same_contract_number_at_another_publisher_is_another_contract(school, operator):
    first = ContractFactory(number="K-1", school=school)
    second_publisher = PublisherFactory()
    result = apply_contract_rows(parse_csv(csv_bytes(line(publisher="")),
                                           publisher_required=False),
                                 publisher=second_publisher, actor=operator, source="api")
    assert result.created == 1
    first.refresh_from_db()
    assert first.title != "Pluspunt 4 groep 4-5"
    assert Contract.objects.filter(number="K-1").count() == 2


def test_a_new_product_needs_its_name_and_type(school, operator):
    publisher = PublisherFactory()
    parsed = parse_dicts([{"contract_number": "K-1", "brin6": "99ZZ00", "product_code": "NEW",
                           "title": "x", "start": "2026-08-01", "end": "2027-07-31",
                           "type": "group"}])
    result = apply_contract_rows(parsed, publisher=publisher, actor=operator, source="api")
    assert [(e.line, e.field) for e in result.errors] == [(1, "product_name")]
    assert not Product.objects.filter(code="NEW").exists()


def test_a_contract_cannot_move_to_another_school(school, operator):
    contract = ContractFactory(number="K-1", school=school)
    SchoolFactory(brin="11AA", dependancecode="00")
    parsed = parse_dicts([{"contract_number": "K-1", "brin6": "11AA00",
                           "product_code": contract.product.code, "title": "x",
                           "start": "2026-08-01", "end": "2027-07-31", "type": "group"}])
    result = apply_contract_rows(parsed, publisher=contract.publisher, actor=operator,
                                 source="api")
    assert [(e.line, e.field) for e in result.errors] == [(1, "brin6")]
    contract.refresh_from_db()
    assert contract.school == school


def test_seats_cannot_drop_below_the_children_linked(school, operator):
    contract = ContractFactory(school=school, contract_type="child", seats=3)
    for _ in range(2):
        ChildLicenceFactory(contract=contract, pupil=PupilFactory(school=school))
    row = {"contract_number": contract.number, "brin6": "99ZZ00",
           "product_code": contract.product.code, "title": contract.title,
           "start": contract.start.isoformat(), "end": contract.end.isoformat(),
           "type": "child", "seats": 1}
    result = apply_contract_rows(parse_dicts([row]), publisher=contract.publisher,
                                 actor=operator, source="api")
    assert [(e.line, e.field) for e in result.errors] == [(1, "seats")]
    ok = apply_contract_rows(parse_dicts([{**row, "seats": 2}]), publisher=contract.publisher,
                             actor=operator, source="api")
    assert ok.updated == 1


def test_a_product_without_per_child_licences_refuses_a_child_contract(school, operator):
    product = ProductFactory(allows_child_licences=False)
    row = {"contract_number": "K-9", "brin6": "99ZZ00", "product_code": product.code,
           "title": "x", "start": "2026-08-01", "end": "2027-07-31", "type": "child",
           "seats": 4}
    result = apply_contract_rows(parse_dicts([row]), publisher=product.publisher,
                                 actor=operator, source="api")
    assert [(e.line, e.field) for e in result.errors] == [(1, "type")]


def test_automatic_linking_runs_for_the_schools_that_got_contracts(school, operator):
    group5 = GroupFactory(school=school, jaargroep="5")
    group7 = GroupFactory(school=school, jaargroep="7")
    data = csv_bytes(line(start="2020-08-01", end="2099-07-31"))
    apply_contract_rows(parse_csv(data), actor=operator, source="command", create_unknown=True)
    linked = GroupLicence.objects.filter(contract__number="K-1", removed_at__isnull=True)
    assert {link.group for link in linked} == {group5}
    assert all(link.automatic for link in linked)
    assert group7 not in {link.group for link in linked}


# ---------------------------------------------------------------------------------------------
# import-contracts
# ---------------------------------------------------------------------------------------------
def test_command_json_prints_counts_and_errors_and_fails_without_changes(school, tmp_path,
                                                                         capsys):
    path = tmp_path / "contracten.csv"
    path.write_bytes(csv_bytes(line(), line(number="K-2", kind="child", seats="")))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import-contracts", str(path), "--json")
    assert exit_info.value.code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["created"] == 1 and out["applied"] is False
    assert out["errors"] == [{"line": 3, "field": "seats", "message": out["errors"][0]["message"]}]
    assert not Contract.objects.exists()

    call_command("import-contracts", str(path), "--json", "--confirm-partial")
    out = json.loads(capsys.readouterr().out)
    assert (out["created"], out["updated"], out["unchanged"], out["applied"]) == (1, 0, 0, True)
    assert Contract.objects.get().number == "K-1"


def test_command_text_output_names_the_lines(school, tmp_path, capsys):
    path = tmp_path / "contracten.csv"
    path.write_bytes(csv_bytes(line(), line(number="K-2", end="2000-01-01")))
    with pytest.raises(SystemExit):
        call_command("import-contracts", str(path))
    captured = capsys.readouterr()
    assert "not applied" in captured.out
    assert "line 3: end:" in captured.err


def test_command_on_a_clean_file_exits_normally(school, tmp_path, capsys):
    path = tmp_path / "contracten.csv"
    path.write_bytes(csv_bytes(line()))
    call_command("import-contracts", str(path))
    assert "applied: created 1" in capsys.readouterr().out
    assert Contract.objects.count() == 1


def test_the_operator_names_a_known_publisher_by_name_or_slug_in_any_case(school, operator):
    known = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    data = csv_bytes(line(publisher="ZONNEBLOEM"), line(number="K-2",
                                                        publisher="uitgeverij zonnebloem"))
    result = apply_contract_rows(parse_csv(data), actor=operator, source="command",
                                 create_unknown=True)
    assert result.created == 2
    assert set(Contract.objects.values_list("publisher", flat=True)) == {known.pk}
    assert Publisher.objects.filter(name__icontains="zonnebloem").count() == 1
