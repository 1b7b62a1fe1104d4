"""Knowing what a file will do before it happens, and the guard against emptying a school.

A coordinator sees, as soon as a file is validated, who and what it will add, change,
deactivate or bring back; a file that would deactivate a large part of the school waits for a
coordinator's *Toch verwerken* or *Annuleren* and changes nothing until then (issue 9).
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from lxml import etree

from klaspoort.audit.models import AuditEntry
from klaspoort.roster import services
from klaspoort.roster.models import Pupil, RosterImport, Teacher
from klaspoort.schools.models import School
from tests.factories import CoordinatorFactory, PupilFactory
from tests.roster.test_services import snapshot

UPLOAD = RosterImport.Source.UPLOAD
HELD = RosterImport.Status.HELD


def trimmed(data: bytes, *, keep_pupils: int | None = None, drop_keys: tuple[str, ...] = (),
            drop_year: str | None = None, school_year: str | None = None) -> bytes:
    """The same school's file with pupils left out: all after the first `keep_pupils`, those
    with the given keys, or those of one year group; optionally for another school year."""
    root = etree.fromstring(data)
    pupils = root.find("leerlingen")
    for number, el in enumerate(list(pupils), start=1):
        if ((keep_pupils is not None and number > keep_pupils) or el.get("key") in drop_keys
                or (drop_year and el.findtext("jaargroep") == drop_year)):
            pupils.remove(el)
    if school_year:
        root.find("school/schooljaar").text = school_year
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def named(data: bytes, name: str) -> io.BytesIO:
    """A file object with a name, as the test client uploads it."""
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def upload(client, school, data: bytes, name: str = "leerlingen.xml"):
    return client.post(reverse("roster:imports", kwargs={"brin6": school.brin6}),
                       {"file": named(data, name)}, follow=True)


def import_url(school, record, name="roster:import"):
    return reverse(name, kwargs={"brin6": school.brin6, "import_id": record.pk})


def active_pupils(school) -> int:
    return Pupil.objects.filter(school=school, active=True).count()


@pytest.fixture
def imported(school, school_file):
    """The school with a 60-pupil roster processed, as after a nightly run."""
    record = services.receive_roster_file(school_file(60), source=UPLOAD, school=school)
    assert services.process_import(record.pk).status == RosterImport.Status.PROCESSED
    school.refresh_from_db()
    return school


# ---------------------------------------------------------------------------------------------
# The preview
# ---------------------------------------------------------------------------------------------
def test_the_page_of_a_validated_file_names_who_is_added_changed_and_deactivated(
        coordinator_client, imported, school_file):
    school = imported
    data = school_file(60).decode()
    first = Pupil.objects.get(school=school, key="L000001")
    data = data.replace("<roepnaam>Isa</roepnaam>", "<roepnaam>Isabel</roepnaam>", 1)
    data = data.replace('<leerling key="L000002"', '<leerling key="L000999"', 1)
    before = snapshot()

    page = upload(coordinator_client, school, data.encode()).content.decode()

    # Nothing happened yet: the file waits for the night.
    assert snapshot() == before
    assert "Wat dit bestand verandert" in page
    assert f"{first.last_name}, Isabel: roepnaam" in page
    assert '<span class="before">Isa</span>' in page and '<span class="after">Isabel</span>' in page
    # Key L000002 is gone, but the ECK iD finds the same pupil: a change of key, not a removal.
    second = Pupil.objects.get(school=school, key="L000002")
    assert f"{second.sort_name}: sleutel in het LAS" in page
    assert "Gedeactiveerd:" not in page


def test_the_preview_is_worked_out_against_todays_roster(coordinator_client, imported,
                                                         school_file):
    school = imported
    record = services.receive_roster_file(trimmed(school_file(60), drop_keys=("L000003",)),
                                          source=UPLOAD, school=school)
    gone = Pupil.objects.get(school=school, key="L000003")
    page = coordinator_client.get(import_url(school, record)).content.decode()
    assert "Gedeactiveerd: 1" in page
    assert f"{gone.sort_name} <span class=\"muted\">({gone.group.name})</span>" in page

    # The pupil left the roster some other way since: the file no longer deactivates anyone.
    Pupil.objects.filter(pk=gone.pk).update(active=False)
    page = coordinator_client.get(import_url(school, record)).content.decode()
    assert "Gedeactiveerd:" not in page


def test_a_processed_failed_or_cancelled_import_has_no_preview(coordinator_client, imported):
    record = RosterImport.objects.get(school=imported)
    page = coordinator_client.get(import_url(imported, record)).content.decode()
    assert "Wat dit bestand verandert" not in page


def test_pupils_the_file_lists_as_gone_are_shown_as_no_longer_at_school(
        coordinator_client, imported, school_file):
    school = imported
    data = school_file(60).decode().replace(
        "<jaargroep>1</jaargroep>", "<jaargroep>H</jaargroep>", 1)
    record = services.receive_roster_file(data.encode(), source=UPLOAD, school=school)
    page = coordinator_client.get(import_url(school, record)).content.decode()
    assert "In het bestand, maar niet meer op school: 1" in page
    assert "jaargroep H (oud-leerling)" in page
    preview = services.selectors.import_preview(record)
    assert [p["key"] for p in preview["changes"]["pupils"]["not_active"]] == ["L000001"]
    assert [p["key"] for p in preview["changes"]["pupils"]["deactivated"]] == ["L000001"]


# ---------------------------------------------------------------------------------------------
# The mass-removal guard
# ---------------------------------------------------------------------------------------------
def test_a_file_that_would_empty_the_school_waits_for_confirmation_and_changes_nothing(
        coordinator_client, imported, school_file):
    school = imported
    before = snapshot()

    page = upload(coordinator_client, school, trimmed(school_file(60), keep_pupils=10)
                  ).content.decode()
    record = RosterImport.objects.filter(school=school).first()

    assert record.status == HELD
    assert "Wacht op bevestiging" in page
    assert "50 van de 60 leerlingen" in page
    assert "Toch verwerken" in page and "Annuleren" in page
    call_command("nightly", stdout=io.StringIO())
    record.refresh_from_db()
    assert record.status == HELD
    assert snapshot() == before
    # The history says so too, with the way to the choice.
    history = coordinator_client.get(reverse("roster:imports", kwargs={"brin6": school.brin6}))
    assert "Bevestigen of annuleren" in history.content.decode()


def test_toch_verwerken_lets_the_night_apply_it_and_is_audited(
        coordinator_client, coordinator, imported, school_file):
    school = imported
    record = services.receive_roster_file(trimmed(school_file(60), keep_pupils=10),
                                          source=UPLOAD, school=school)
    assert record.status == HELD

    response = coordinator_client.post(import_url(school, record, "roster:confirm"), follow=True)

    assert "vannacht verwerkt" in response.content.decode()
    record.refresh_from_db()
    assert record.status == RosterImport.Status.WAITING
    assert record.removals_confirmed["pupils"] == 50
    entry = AuditEntry.objects.get(action="roster.import.confirm")
    assert entry.actor == coordinator and entry.school == school
    assert active_pupils(school) == 60
    call_command("nightly", stdout=io.StringIO())
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert active_pupils(school) == 10


def test_a_night_that_finds_more_removals_than_were_confirmed_holds_it_again(
        coordinator_client, imported, school_file):
    school = imported
    record = services.receive_roster_file(trimmed(school_file(60), keep_pupils=10),
                                          source=UPLOAD, school=school)
    coordinator_client.post(import_url(school, record, "roster:confirm"))
    # Five pupils join the school after the coordinator looked: the file would remove them too.
    PupilFactory.create_batch(5, school=school)

    services.process_waiting_imports()

    record.refresh_from_db()
    assert record.status == HELD
    assert active_pupils(school) == 65


def test_annuleren_stops_a_held_or_waiting_import_and_is_audited(
        coordinator_client, imported, school_file):
    school = imported
    held = services.receive_roster_file(trimmed(school_file(60), keep_pupils=10),
                                        source=UPLOAD, school=school)
    waiting = services.receive_roster_file(school_file(60), source=UPLOAD, school=school)
    assert waiting.status == RosterImport.Status.WAITING

    for record in (held, waiting):
        page = coordinator_client.post(import_url(school, record, "roster:cancel"),
                                       follow=True).content.decode()
        assert "Er is niets gewijzigd" in page
        record.refresh_from_db()
        assert record.status == RosterImport.Status.CANCELLED
        assert record.payload is None
    assert AuditEntry.objects.filter(action="roster.import.cancel").count() == 2
    services.process_waiting_imports()
    assert active_pupils(school) == 60


def test_a_processed_import_cannot_be_cancelled_or_confirmed(coordinator_client, imported):
    record = RosterImport.objects.get(school=imported)
    for name in ("roster:cancel", "roster:confirm"):
        response = coordinator_client.post(import_url(imported, record, name), follow=True)
        assert response.status_code == 200
        assert "alert" in response.content.decode()
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert not AuditEntry.objects.filter(action__startswith="roster.import.").exists()


def test_a_coordinator_of_another_school_cannot_confirm_or_cancel(client, imported,
                                                                  school_file):
    record = services.receive_roster_file(trimmed(school_file(60), keep_pupils=10),
                                          source=UPLOAD, school=imported)
    client.force_login(CoordinatorFactory())
    for name in ("roster:confirm", "roster:cancel"):
        assert client.post(import_url(imported, record, name)).status_code == 404
    record.refresh_from_db()
    assert record.status == HELD


@pytest.mark.parametrize(("removed", "held"), [(2, False), (6, False), (7, True)])
def test_the_line_lies_above_ten_percent_and_at_least_three(imported, school_file, removed,
                                                            held):
    # 60 active pupils: 6 is exactly 10 %, which is not more than 10 %.
    data = trimmed(school_file(60), keep_pupils=60 - removed)
    record = services.receive_roster_file(data, source=UPLOAD, school=imported)
    assert (record.status == HELD) is held


def test_the_summers_leavers_of_group_8_do_not_hold_the_new_school_years_file(
        imported, school_file):
    leavers = Pupil.objects.filter(school=imported, jaargroep="8").count()
    assert leavers * 10 > 60  # more than 10 %: without the rule this file would be held
    data = trimmed(school_file(60), drop_year="8", school_year="2026-2027")
    record = services.receive_roster_file(data, source=UPLOAD, school=imported)
    assert record.status == RosterImport.Status.WAITING
    # The same file within the school year: group 8 vanishing is a mistake.
    data = trimmed(school_file(60), drop_year="8")
    assert services.receive_roster_file(data, source=UPLOAD, school=imported).status == HELD


def test_teachers_count_on_their_own(imported, school_file):
    root = etree.fromstring(school_file(60))
    teachers = root.find("leerkrachten")
    for el in list(teachers)[3:]:
        teachers.remove(el)
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    record = services.receive_roster_file(data, source=UPLOAD, school=imported)
    assert record.status == HELD
    preview = services.selectors.import_preview(record)
    assert set(preview["mass_removals"]) == {"teachers"}
    assert Teacher.objects.filter(school=imported, active=True).count() > 3


def test_a_three_line_spreadsheet_is_held_like_a_file(coordinator_client, imported):
    school = imported
    sheet = (b"soort;key;roepnaam;voorvoegsel;achternaam;jaargroep;groep\n"
             b"leerling;L000001;Isa;;Mulder;1;Groep 1-2A\n"
             b"leerling;L000002;Liam;;Kaya;1;Groep 1-2A\n")
    coordinator_client.post(reverse("roster:spreadsheet_upload", kwargs={"brin6": school.brin6}),
                            {"file": named(sheet, "invulbestand.csv")})
    record = RosterImport.objects.filter(school=school).first()
    assert record.source == RosterImport.Source.SPREADSHEET
    assert record.status == HELD, record.errors
    services.process_waiting_imports()
    assert active_pupils(school) == 60


def test_a_newer_processed_file_cancels_an_older_held_one(imported, school_file):
    held = services.receive_roster_file(trimmed(school_file(60), keep_pupils=10),
                                        source=UPLOAD, school=imported)
    newer = services.receive_roster_file(school_file(60), source=UPLOAD, school=imported)
    assert services.process_import(newer.pk).status == RosterImport.Status.PROCESSED
    held.refresh_from_db()
    assert held.status == RosterImport.Status.CANCELLED
    assert "nieuwer bestand" in held.errors[0]["message"]


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------
def run(*args) -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("import-edexml", *args, stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exc:
        code = int(exc.code)
    return code, json.loads(out.getvalue())


def test_dry_run_stores_nothing_and_lists_the_changes_per_kind(imported, school_file, tmp_path):
    path = tmp_path / "school.xml"
    path.write_bytes(trimmed(school_file(60), drop_keys=("L000003",)))
    before, imports = snapshot(), RosterImport.objects.count()

    code, result = run(str(path), "--dry-run", "--json")

    assert code == 0
    assert result["status"] == "valid" and result["dry_run"] is True and not result["held"]
    assert result["pupils"] == {"added": 0, "changed": 0, "deactivated": 1}
    assert [p["key"] for p in result["changes"]["pupils"]["deactivated"]] == ["L000003"]
    assert set(result["changes"]) == {"groups", "pupils", "teachers"}
    assert snapshot() == before and RosterImport.objects.count() == imports


def test_dry_run_of_a_new_school_does_not_create_it(db, school_file, tmp_path):
    path = tmp_path / "school.xml"
    path.write_bytes(school_file(20, brin="12AB"))
    code, result = run(str(path), "--dry-run", "--json")
    assert code == 0 and result["pupils"]["added"] == 20
    assert len(result["changes"]["pupils"]["added"]) == 20
    assert not School.objects.filter(brin="12AB").exists()
    assert not RosterImport.objects.exists()


def test_now_holds_a_mass_removal_and_confirm_removals_applies_it(imported, school_file,
                                                                   tmp_path):
    path = tmp_path / "school.xml"
    path.write_bytes(trimmed(school_file(60), keep_pupils=10))

    code, result = run(str(path), "--now", "--json")
    assert code == 3 and result["status"] == "held"
    assert result["mass_removals"]["pupils"] == {"deactivated": 50, "active": 60}
    assert active_pupils(imported) == 60

    code, result = run(str(path), "--now", "--confirm-removals", "--json")
    assert code == 0 and result["status"] == "processed"
    assert active_pupils(imported) == 10
    entry = AuditEntry.objects.get(action="roster.import.confirm")
    assert entry.actor is None and entry.actor_label == "operator (command line)"


# ---------------------------------------------------------------------------------------------
# Warnings
# ---------------------------------------------------------------------------------------------
def test_a_file_with_a_remark_still_applies_and_beheer_shows_the_remark_with_its_line(
        coordinator_client, imported, school_file):
    school = imported
    data = school_file(60).decode()
    address = data[data.index("<emailadres>") + len("<emailadres>"):data.index("</emailadres>")]
    data = data.replace(f"<emailadres>{address}</emailadres>",
                        "<emailadres>j.vanbemmel@school</emailadres>", 1)
    line = data[:data.index("j.vanbemmel@school")].count("\n") + 1

    page = upload(coordinator_client, school, data.encode()).content.decode()

    record = RosterImport.objects.filter(school=school).first()
    assert record.status == RosterImport.Status.WAITING
    assert [w["line"] for w in record.warnings] == [line]
    assert "Opmerkingen" in page and f'<td class="num">{line}</td>' in page
    assert "j.vanbemmel@school" in page
    history = coordinator_client.get(reverse("roster:imports", kwargs={"brin6": school.brin6}))
    assert "1 opmerking" in history.content.decode()
    services.process_waiting_imports()
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert record.warnings[0]["line"] == line


def test_the_operator_admin_shows_a_held_imports_remarks_and_cannot_confirm_it_there(
        client, imported, school_file):
    data = trimmed(school_file(60), keep_pupils=10).decode().replace(
        "<xsdversie>2.1</xsdversie>", "<xsdversie>2.3</xsdversie>")
    record = services.receive_roster_file(data.encode(), source=UPLOAD, school=imported)
    assert record.status == HELD and record.warnings
    client.force_login(CoordinatorFactory(is_staff=True, is_superuser=True))
    address = reverse("admin:roster_rosterimport_change", args=[record.pk])

    page = client.get(address).content.decode()
    client.post(address, {"removals_confirmed": '{"pupils": 50}', "status": "waiting",
                          "warnings": "[]"})

    assert "2.3" in page
    record.refresh_from_db()
    assert record.status == HELD and record.removals_confirmed == {} and record.warnings
