"""*Automatische koppeling* (issue 14, R2.3): what a coordinator and an operator see and do.

A coordinator chooses the LAS from the operators' catalogue, enters the authorisation key where
that LAS needs one, sees the status and switches off; keys are sealed at rest, shown masked,
never in the audit trail, and wiped when the coupling is switched off.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.roster import coupling_selectors, coupling_services
from klaspoort.roster.coupling_services import CouplingNotOn, CouplingRefused
from klaspoort.roster.models import LasSystem, RosterCoupling, RosterImport
from klaspoort.roster.secrets import open_text
from tests.concurrency import at_once
from tests.factories import CoordinatorFactory, SchoolFactory, UserFactory

KEY = "esis-7f3a9c2e-4b1d-1234"
NEW_KEY = "esis-0b9e8d7c-6a5f-9876"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def esis(db):
    """A LAS Klaspoort fetches from, with a key the school enters."""
    return LasSystem.objects.create(name="ESIS", slug="esis", method=LasSystem.Method.PULL,
                                    endpoint="https://uwlr.esis.example/leerlinggegevens",
                                    needs_key=True, client_code="KP", client_name="Klaspoort")


@pytest.fixture
def parnassys(db):
    """A LAS Klaspoort fetches from where the consent is given in the LAS itself (no key)."""
    return LasSystem.objects.create(name="ParnasSys", slug="parnassys",
                                    method=LasSystem.Method.PULL,
                                    endpoint="https://uwlr.parnassys.example/ll",
                                    needs_key=False)


@pytest.fixture
def eduscope(db):
    """A LAS that sends the roster itself (push)."""
    return LasSystem.objects.create(name="EDUscope", slug="eduscope",
                                    method=LasSystem.Method.PUSH, needs_key=False)


def url(name: str, school: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6})


def coupling_entries(school: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(school=school, action__startswith="roster.coupling")
                .order_by("pk"))


def assert_no_key_in(entries: list[AuditEntry], *keys: str) -> None:
    for entry in entries:
        written = json.dumps([entry.target, entry.before, entry.after])
        for key in keys:
            assert key not in written and key[-4:] not in written


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
def test_switching_on_with_a_key_seals_it_and_audits_without_it(school, coordinator, esis):
    coupling = coupling_services.switch_on(school=school, las=esis, key=f"  {KEY}\n",
                                           actor=coordinator)
    coupling.refresh_from_db()
    assert coupling.active and coupling.las == esis and coupling.switched_by == coordinator
    assert KEY not in coupling.sealed_key
    assert open_text("las-key", coupling.sealed_key) == KEY  # spaces around it dropped
    assert coupling.key_last4 == KEY[-4:]
    [entry] = coupling_entries(school)
    assert entry.action == AuditAction.ROSTER_COUPLING_ON
    assert entry.target == "ESIS" and entry.after == {"las": "ESIS", "enabled": True}
    assert_no_key_in([entry], KEY)


@pytest.mark.parametrize("key, words", [
    ("", "Vul de autorisatiesleutel in"),
    ("   ", "Vul de autorisatiesleutel in"),
    ("abc123", "te kort"),
    ("x" * 65, "te lang"),
    ("x" * 100_000, "te lang"),
    ("esis 7f3a 9c2e", "zonder spaties"),
    ("esis\x007f3a9c2e", "zonder spaties"),
    ("esis\t7f3a9c2e", "zonder spaties"),
    ("sleutél-7f3a9c2e", "zonder spaties"),
])
def test_a_bad_key_is_refused_in_dutch_and_nothing_is_stored(school, coordinator, esis, key,
                                                             words):
    with pytest.raises(CouplingRefused) as refused:
        coupling_services.switch_on(school=school, las=esis, key=key, actor=coordinator)
    assert refused.value.field == "key"
    assert words in refused.value.message
    assert key.strip() == "" or key not in refused.value.message  # never quoted back
    assert not RosterCoupling.objects.exists() and not coupling_entries(school)


def test_a_key_of_64_characters_is_the_longest_uwlr_allows(school, coordinator, esis):
    coupling = coupling_services.switch_on(school=school, las=esis, key="k" * 64,
                                           actor=coordinator)
    assert open_text("las-key", coupling.sealed_key) == "k" * 64


def test_a_las_without_a_key_takes_none_and_refuses_one(school, coordinator, parnassys,
                                                        eduscope):
    with pytest.raises(CouplingRefused) as refused:
        coupling_services.switch_on(school=school, las=eduscope, key=KEY, actor=coordinator)
    assert refused.value.message == (
        "EDUscope gebruikt in Klaspoort geen autorisatiesleutel: laat het veld leeg.")
    assert not RosterCoupling.objects.exists()
    coupling = coupling_services.switch_on(school=school, las=parnassys, key="",
                                           actor=coordinator)
    assert coupling.active and coupling.sealed_key == "" and coupling.key_last4 == ""


def test_a_push_las_never_needs_a_key_even_if_its_row_says_so(school, coordinator, eduscope):
    eduscope.needs_key = True  # an old row from before the catalogue rule
    eduscope.save()
    coupling = coupling_services.switch_on(school=school, las=eduscope, key=None,
                                           actor=coordinator)
    assert coupling.active and not coupling.sealed_key


def test_only_an_active_las_of_the_catalogue_can_be_switched_on(school, coordinator, esis):
    esis.active = False
    esis.save()
    with pytest.raises(CouplingRefused) as refused:
        coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    assert refused.value.field == "las"
    assert refused.value.message == "Kies een leerlingadministratie (LAS) uit de lijst."
    assert not RosterCoupling.objects.exists()


def test_switching_on_another_las_replaces_the_coupling_and_starts_afresh(
        school, coordinator, esis, parnassys):
    first = coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    record = RosterImport.objects.create(school=school, source=RosterImport.Source.COUPLING,
                                         status=RosterImport.Status.PROCESSED,
                                         file_sha256="ab" * 32, file_size=1)
    RosterCoupling.objects.filter(pk=first.pk).update(
        last_fetch_at=datetime.datetime(2026, 11, 30, 2, tzinfo=AMSTERDAM),
        last_result="failed", last_error={"message": "x"}, failures_in_a_row=2,
        last_import=record)
    coupling_services.switch_on(school=school, las=parnassys, key="", actor=coordinator)
    [coupling] = RosterCoupling.objects.all()
    assert coupling.pk == first.pk and coupling.las == parnassys and coupling.active
    assert coupling.sealed_key == "" and coupling.key_last4 == ""  # ESIS's key is gone
    assert (coupling.last_fetch_at, coupling.last_result, coupling.last_error,
            coupling.last_import, coupling.failures_in_a_row) == (None, "", {}, None, 0)
    second = coupling_entries(school)[-1]
    assert second.before == {"las": "ESIS", "enabled": True}
    assert second.after == {"las": "ParnasSys", "enabled": True}


def test_changing_the_key_seals_the_new_one_and_clears_the_old_keys_failures(
        school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    RosterCoupling.objects.update(last_result="failed", failures_in_a_row=2,
                                  last_error={"message": "The key is wrong."})
    coupling = coupling_services.change_key(school=school, key=NEW_KEY, actor=coordinator)
    coupling.refresh_from_db()
    assert open_text("las-key", coupling.sealed_key) == NEW_KEY
    assert coupling.key_last4 == NEW_KEY[-4:]
    assert (coupling.last_result, coupling.last_error, coupling.failures_in_a_row) == ("", {}, 0)
    entries = coupling_entries(school)
    assert entries[-1].action == AuditAction.ROSTER_COUPLING_KEY
    assert_no_key_in(entries, KEY, NEW_KEY)


def test_a_bad_new_key_changes_nothing(school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    sealed = RosterCoupling.objects.get().sealed_key
    with pytest.raises(CouplingRefused):
        coupling_services.change_key(school=school, key="kort", actor=coordinator)
    assert RosterCoupling.objects.get().sealed_key == sealed
    assert len(coupling_entries(school)) == 1


def test_a_key_can_only_change_for_a_coupling_that_is_on_and_takes_one(
        school, coordinator, esis, parnassys):
    with pytest.raises(CouplingNotOn):
        coupling_services.change_key(school=school, key=NEW_KEY, actor=coordinator)
    coupling_services.switch_on(school=school, las=parnassys, key="", actor=coordinator)
    with pytest.raises(CouplingRefused):
        coupling_services.change_key(school=school, key=NEW_KEY, actor=coordinator)
    assert RosterCoupling.objects.get().sealed_key == ""


def test_switching_off_wipes_the_key_and_is_audited(school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    coupling_services.switch_off(school=school, actor=coordinator)
    coupling = RosterCoupling.objects.get()
    assert not coupling.active
    assert coupling.sealed_key == "" and coupling.key_last4 == ""
    assert coupling.las == esis  # the page can still say what the coupling was
    entry = coupling_entries(school)[-1]
    assert entry.action == AuditAction.ROSTER_COUPLING_OFF
    assert entry.after == {"las": "ESIS", "enabled": False}
    with pytest.raises(CouplingNotOn):
        coupling_services.switch_off(school=school, actor=coordinator)
    assert len(coupling_entries(school)) == 2


def test_coordinators_switching_on_at_once_leave_one_coupling(shared_database):
    """Two coordinators (or a double click) at the same moment: they queue on the school, so
    the school keeps its one coupling and nobody gets an error."""
    school = SchoolFactory()
    coordinators = [CoordinatorFactory(school=school) for _ in range(2)]
    esis = LasSystem.objects.create(name="ESIS", slug="esis", method=LasSystem.Method.PULL,
                                    endpoint="https://uwlr.esis.example/ll", needs_key=True)
    keys = [KEY, NEW_KEY]
    at_once(2, lambda index: coupling_services.switch_on(
        school=school, las=esis, key=keys[index], actor=coordinators[index]))
    [coupling] = RosterCoupling.objects.all()
    assert coupling.active and open_text("las-key", coupling.sealed_key) in keys
    assert AuditEntry.objects.filter(action=AuditAction.ROSTER_COUPLING_ON).count() == 2


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------
def switched_on_and_fetched(school, las, coordinator, *, added, changed, gone):
    """The coupling switched on, and a night's fetch that became a processed import with these
    counts for every kind (fetched at 02:00:04 on 1 December)."""
    coupling_services.switch_on(school=school, las=las, key=KEY, actor=coordinator)
    counts = {kind: {"added": added, "changed": changed, "deactivated": gone}
              for kind in ("groups", "pupils", "teachers")}
    record = RosterImport.objects.create(school=school, source=RosterImport.Source.COUPLING,
                                         status=RosterImport.Status.PROCESSED, counts=counts,
                                         file_sha256="ab" * 32, file_size=1)
    RosterCoupling.objects.update(last_import=record, last_result="ok",
                                  last_fetch_at=datetime.datetime(2026, 12, 1, 2, 0, 4,
                                                                  tzinfo=AMSTERDAM))
    return record


def test_the_status_shows_the_key_masked_and_the_last_imports_counts(school, coordinator, esis):
    assert coupling_selectors.coupling_status(school) is None
    record = switched_on_and_fetched(school, esis, coordinator, added=3, changed=1, gone=0)
    status = coupling_selectors.coupling_status(
        school, now=datetime.datetime(2026, 12, 1, 20, 0, tzinfo=AMSTERDAM))
    assert status is not None and status.active and status.las == esis
    assert status.masked_key == "\N{BULLET}" * 4 + KEY[-4:]
    assert status.last_result_label == "gelukt"
    assert status.last_import == record and status.counts == record.counts
    assert status.next_fetch_at == datetime.datetime(2026, 12, 2, 2, 0, tzinfo=AMSTERDAM)
    assert status.last_error == ""


def test_the_status_never_links_an_import_of_another_school(school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    foreign = RosterImport.objects.create(school=SchoolFactory(),
                                          source=RosterImport.Source.COUPLING,
                                          status=RosterImport.Status.PROCESSED,
                                          counts={"pupils": {"added": 99}},
                                          file_sha256="ab" * 32, file_size=1)
    RosterCoupling.objects.update(last_import=foreign)
    status = coupling_selectors.coupling_status(school)
    assert status is not None and status.last_import is None and status.counts is None


def test_a_push_coupling_and_a_coupling_that_is_off_have_no_next_fetch(
        school, coordinator, eduscope):
    coupling_services.switch_on(school=school, las=eduscope, key="", actor=coordinator)
    status = coupling_selectors.coupling_status(school)
    assert status is not None and status.pushes and status.next_fetch_at is None
    coupling_services.switch_off(school=school, actor=coordinator)
    status = coupling_selectors.coupling_status(school)
    assert status is not None and not status.active and status.next_fetch_at is None


@pytest.mark.parametrize("now, expected", [
    (datetime.datetime(2026, 12, 1, 20, 0), datetime.datetime(2026, 12, 2, 3, 0)),
    (datetime.datetime(2026, 12, 2, 1, 59), datetime.datetime(2026, 12, 2, 3, 0)),
    (datetime.datetime(2026, 12, 2, 3, 0), datetime.datetime(2026, 12, 3, 3, 0)),
    # The night summer time ends: 03:00 comes once, at its own offset.
    (datetime.datetime(2026, 10, 24, 22, 0), datetime.datetime(2026, 10, 25, 3, 0)),
])
def test_the_next_fetch_is_the_next_start_of_the_nightly_run(now, expected):
    schedule = {"nightly-roster-run": {"task": "klaspoort.roster.tasks.nightly_run",
                                       "schedule": crontab(hour=3, minute=0)}}
    with override_settings(CELERY_BEAT_SCHEDULE=schedule):
        found = coupling_selectors.next_nightly_run(now.replace(tzinfo=AMSTERDAM))
    assert found == expected.replace(tzinfo=AMSTERDAM)
    assert found.tzinfo is not None and found.utcoffset() == expected.replace(
        tzinfo=AMSTERDAM).utcoffset()


FAULT = ("The pupil administration system (LAS) sent an error message instead of the user "
         "data: '%(fault)s'. Try again later, or ask the supplier of the LAS.")
GENERAL = ("Het ophalen van de gebruikersgegevens is mislukt. Klaspoort probeert het de "
           "volgende nacht opnieuw.")


def test_the_last_error_reads_in_the_readers_language():
    value = {"message": FAULT, "params": {"fault": "Onbekende school"}}
    assert coupling_selectors.error_text(value).startswith(
        "Het LAS stuurde een foutmelding in plaats van de gebruikersgegevens: 'Onbekende school'")
    with translation.override("en"):
        assert coupling_selectors.error_text(value).startswith(
            "The pupil administration system (LAS) sent an error message")
    assert coupling_selectors.error_text({}) == ""
    assert coupling_selectors.error_text(None) == ""


@pytest.mark.parametrize("value", [
    "De sleutel klopt niet",
    ["a"],
    {"message": None},
    {"message": ""},
    {"message": 12},
    {"message": FAULT},  # its parameter is missing
    {"message": FAULT, "params": {"other": "x"}},
    {"message": FAULT, "params": ["Onbekende school"]},
    {"message": "%(n)d nights", "params": {"n": "drie"}},
    {"message": "100% kapot", "params": {}},
    {"message": "x" * 5000, "params": {}},
])
def test_a_malformed_last_error_becomes_a_general_sentence(value):
    assert coupling_selectors.error_text(value) == GENERAL


# ---------------------------------------------------------------------------------------------
# The coordinator's page
# ---------------------------------------------------------------------------------------------
def test_a_coordinator_switches_on_sees_the_status_changes_the_key_and_switches_off(
        coordinator_client, school, coordinator, esis, parnassys):
    page = coordinator_client.get(url("roster:coupling", school))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Automatische koppeling</h1>" in html
    assert "ESIS" in html and "ParnasSys" in html and "Autorisatiesleutel" in html
    assert 'aria-current="page">Gebruikersgegevens invoeren</a>' in html

    response = coordinator_client.post(url("roster:coupling", school),
                                       {"las": esis.pk, "key": KEY}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == url("roster:coupling", school)
    assert "De automatische koppeling met ESIS staat aan" in html
    assert "\N{BULLET}" * 4 + KEY[-4:] in html and KEY not in html
    assert "Volgende keer ophalen" in html and "Nog niet opgehaald" in html
    assert "Koppeling uitzetten" in html and "Sleutel wijzigen" in html

    response = coordinator_client.post(url("roster:coupling_key", school),
                                       {"new-key": NEW_KEY}, follow=True)
    html = response.content.decode()
    assert "De nieuwe autorisatiesleutel is opgeslagen" in html
    assert "\N{BULLET}" * 4 + NEW_KEY[-4:] in html and NEW_KEY not in html

    # Switching off asks first, and the question alone changes nothing.
    asked = coordinator_client.post(url("roster:coupling_off", school))
    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Koppeling met ESIS uitzetten?" in html and "De autorisatiesleutel wordt gewist" in html
    assert "Ja, zet de koppeling uit" in html and 'name="confirmed" value="1"' in html
    assert RosterCoupling.objects.get().active

    response = coordinator_client.post(url("roster:coupling_off", school), {"confirmed": "1"},
                                       follow=True)
    html = response.content.decode()
    assert "De automatische koppeling met ESIS staat uit" in html
    assert "De koppeling met ESIS staat uit." in html
    coupling = RosterCoupling.objects.get()
    assert not coupling.active and coupling.sealed_key == ""
    entries = coupling_entries(school)
    assert [e.action for e in entries] == [AuditAction.ROSTER_COUPLING_ON,
                                           AuditAction.ROSTER_COUPLING_KEY,
                                           AuditAction.ROSTER_COUPLING_OFF]
    assert all(e.actor == coordinator for e in entries)
    assert_no_key_in(entries, KEY, NEW_KEY)
    log = coordinator_client.get(url("schools:log", school)).content.decode()
    assert "Automatische koppeling aangezet" in log and "leerlingadministratie (LAS): ESIS" in log
    assert KEY not in log and NEW_KEY not in log


def test_switching_off_with_htmx_asks_in_place(coordinator_client, school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    asked = coordinator_client.post(url("roster:coupling_off", school), HTTP_HX_REQUEST="true")
    html = asked.content.decode()
    assert "<html" not in html and "Ja, zet de koppeling uit" in html
    assert RosterCoupling.objects.get().active


def test_htmx_shows_the_key_field_only_for_a_las_that_needs_one(
        coordinator_client, school, esis, eduscope):
    address = url("roster:coupling", school)
    with_key = coordinator_client.get(address, {"las": esis.pk}, HTTP_HX_REQUEST="true")
    without = coordinator_client.get(address, {"las": eduscope.pk}, HTTP_HX_REQUEST="true")
    assert "<html" not in with_key.content.decode()
    assert 'name="key"' in with_key.content.decode()
    assert 'name="key"' not in without.content.decode()
    assert "HX-Request" in with_key["Vary"]
    # Without JavaScript the page has the field for whichever LAS needs it.
    assert 'name="key"' in coordinator_client.get(address).content.decode()


def test_a_push_las_switches_on_without_a_key(coordinator_client, school, eduscope):
    response = coordinator_client.post(url("roster:coupling", school), {"las": eduscope.pk},
                                       follow=True)
    html = response.content.decode()
    assert "EDUscope kan je gebruikersgegevens nu sturen" in html
    assert "Laatst ontvangen" in html and "Volgende keer ophalen" not in html
    assert RosterCoupling.objects.get().active


@pytest.mark.parametrize("las, key, message", [
    ("999999", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("abc", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("9" * 40, KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("inactive", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("esis", "", "Vul de autorisatiesleutel in die je van ESIS hebt gekregen."),
    ("esis", "K" * 20_000, "De autorisatiesleutel is te lang (hoogstens 64 tekens)."),
    ("esis", "twee woorden-12345", "zonder spaties"),
    ("eduscope", KEY, "EDUscope gebruikt in Klaspoort geen autorisatiesleutel"),
])
def test_bad_input_gets_a_dutch_message_and_changes_nothing(
        coordinator_client, school, coordinator, esis, eduscope, parnassys, las, key, message):
    coupling_services.switch_on(school=school, las=parnassys, key="", actor=coordinator)
    before = list(RosterCoupling.objects.values())
    inactive = LasSystem.objects.create(name="Oud LAS", slug="oud", method="pull",
                                        endpoint="https://oud.example/", active=False)
    value = {"esis": esis.pk, "eduscope": eduscope.pk, "inactive": inactive.pk}.get(las, las)
    response = coordinator_client.post(url("roster:coupling", school),
                                       {"las": value, "key": key})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Er is iets niet goed" in html  # the error summary at the top takes the focus
    assert len(key) < 30 or key not in html  # a huge key is never sent back
    assert list(RosterCoupling.objects.values()) == before
    assert len(coupling_entries(school)) == 1


def test_a_nul_in_the_key_is_refused_before_any_view(coordinator_client, school, esis):
    response = coordinator_client.post(url("roster:coupling", school),
                                       {"las": esis.pk, "key": "esis\x00sleutel-1234"})
    assert response.status_code == 400
    assert "tekens" in response.content.decode()  # the Dutch page of unstorable text
    assert not RosterCoupling.objects.exists()


def test_a_bad_new_key_keeps_the_old_one_with_a_dutch_message(
        coordinator_client, school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    sealed = RosterCoupling.objects.get().sealed_key
    response = coordinator_client.post(url("roster:coupling_key", school), {"new-key": "kort"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "De autorisatiesleutel is te kort" in html and 'href="#id_new-key"' in html
    assert RosterCoupling.objects.get().sealed_key == sealed
    assert "\N{BULLET}" * 4 + KEY[-4:] in html


def test_changing_the_key_or_switching_off_a_coupling_that_is_off_says_so(
        coordinator_client, school):
    response = coordinator_client.post(url("roster:coupling_key", school), {"new-key": KEY},
                                       follow=True)
    assert "De automatische koppeling staat uit" in response.content.decode()
    response = coordinator_client.post(url("roster:coupling_off", school), {"confirmed": "1"},
                                       follow=True)
    assert "De automatische koppeling staat al uit." in response.content.decode()
    assert not RosterCoupling.objects.exists()


def test_the_last_error_shows_in_dutch_on_the_page_and_a_malformed_one_does_no_harm(
        coordinator_client, school, coordinator, esis):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    RosterCoupling.objects.update(last_result="failed", failures_in_a_row=3, last_error={
        "message": FAULT, "params": {"fault": "Autorisatiesleutel ongeldig"}})
    html = coordinator_client.get(url("roster:coupling", school)).content.decode()
    assert "Het LAS stuurde een foutmelding" in html and "Autorisatiesleutel ongeldig" in html
    assert "3 nachten achter elkaar" in html and "Mislukt" in html
    imports = coordinator_client.get(url("roster:imports", school)).content.decode()
    assert "Het LAS stuurde een foutmelding" in imports

    RosterCoupling.objects.update(last_error={"message": ["geen tekst"], "params": 7})
    response = coordinator_client.get(url("roster:coupling", school))
    assert response.status_code == 200
    assert "Het ophalen van de gebruikersgegevens is mislukt" in response.content.decode()


def test_the_import_page_points_to_the_coupling_and_shows_its_state(
        coordinator_client, school, coordinator, parnassys):
    html = coordinator_client.get(url("roster:imports", school)).content.decode()
    assert "Automatische koppeling instellen" in html
    assert f'href="{url("roster:coupling", school)}"' in html
    coupling_services.switch_on(school=school, las=parnassys, key="", actor=coordinator)
    html = coordinator_client.get(url("roster:imports", school)).content.decode()
    assert "Aan: je gebruikersgegevens komen vanzelf uit ParnasSys." in html


def test_the_last_import_links_to_its_page_with_its_counts(
        coordinator_client, school, coordinator, esis):
    record = switched_on_and_fetched(school, esis, coordinator, added=7, changed=2, gone=1)
    html = coordinator_client.get(url("roster:coupling", school)).content.decode()
    assert reverse("roster:import", kwargs={"brin6": school.brin6, "import_id": record.pk}) in html
    assert "+7" in html and "7 toegevoegd" in html
    assert "1 december 2026, 02:00" in html and "Gelukt" in html


def test_another_schools_coordinator_gets_nothing(client, school, coordinator, esis,
                                                  parnassys):
    coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    other = SchoolFactory(name="OBS Het Kompas")
    stranger = CoordinatorFactory(school=other)
    client.force_login(stranger)
    before = list(RosterCoupling.objects.values())
    for name in ("roster:coupling", "roster:coupling_key", "roster:coupling_off"):
        assert client.get(url(name, school)).status_code in (404, 405)
        response = client.post(url(name, school), {"las": parnassys.pk, "key": "",
                                                   "new-key": NEW_KEY, "confirmed": "1"})
        assert response.status_code == 404
        assert school.name not in response.content.decode()
    assert list(RosterCoupling.objects.values()) == before
    # Their own school's page knows nothing of this coupling.
    own = client.get(url("roster:coupling", other)).content.decode()
    assert "\N{BULLET}" * 4 not in own and "Koppeling uitzetten" not in own
    assert client.post(url("roster:coupling_off", other), {"confirmed": "1"}).status_code == 302
    assert RosterCoupling.objects.get().active


# ---------------------------------------------------------------------------------------------
# The operators' catalogue and the couplings in the admin
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def las_form(**overrides: Any) -> dict[str, Any]:
    return {"name": "Dotcomschool", "slug": "dotcomschool", "method": "pull",
            "endpoint": "https://uwlr.dotcomschool.example/ll", "needs_key": "on",
            "client_code": "KP", "client_name": "Klaspoort", "timeout_seconds": "60",
            "active": "on", **overrides}


def test_an_operator_adds_a_pull_las_with_its_endpoint(operator_client):
    response = operator_client.post(reverse("admin:roster_lassystem_add"), las_form())
    assert response.status_code == 302
    las = LasSystem.objects.get(slug="dotcomschool")
    assert las.method == "pull" and las.endpoint == "https://uwlr.dotcomschool.example/ll"
    listing = operator_client.get(reverse("admin:roster_lassystem_changelist"))
    assert listing.status_code == 200 and "Dotcomschool" in listing.content.decode()


@pytest.mark.parametrize("overrides, field, words", [
    ({"endpoint": ""}, "endpoint", "heeft een UWLR-adres nodig"),
    ({"method": "push", "needs_key": ""}, "endpoint", "heeft geen UWLR-adres"),
    ({"method": "push", "endpoint": ""}, "needs_key", "eigen API-token"),
    ({"endpoint": "ftp://uwlr.dotcomschool.example/ll"}, "endpoint", "https://"),
    ({"endpoint": "https://kp:geheim@uwlr.dotcomschool.example/ll"}, "endpoint",
     "gebruikersnaam of wachtwoord"),
    ({"endpoint": "https://uwlr.dotcomschool.example/ll#x"}, "endpoint", "#"),
    ({"timeout_seconds": "0"}, "timeout_seconds", "1 tot 300 seconden"),
    ({"client_code": ""}, "client_code", "klantcode"),
    ({"results_endpoint": "ftp://uwlr.dotcomschool.example/lr"}, "results_endpoint",
     "https://"),
    ({"method": "push", "endpoint": "", "needs_key": "", "client_name": "",
      "results_endpoint": "https://uwlr.dotcomschool.example/lr"}, "client_name", "klantnaam"),
    ({"client_name": "K" * 65}, "client_name", "hoogstens 64 tekens"),
])
def test_the_catalogue_rule_refuses_a_las_that_cannot_work(operator_client, overrides, field,
                                                           words):
    response = operator_client.post(reverse("admin:roster_lassystem_add"),
                                    las_form(**overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors and words in " ".join(errors[field])
    assert not LasSystem.objects.exists()


def test_an_operator_gives_a_las_its_results_endpoint(operator_client):
    response = operator_client.post(reverse("admin:roster_lassystem_add"), las_form(
        name="Momento", slug="momento", method="push", endpoint="", needs_key="",
        results_endpoint="https://uwlr.momento.example/lr", takes_practice_results="on"))
    assert response.status_code == 302
    las = LasSystem.objects.get(slug="momento")
    assert las.results_endpoint == "https://uwlr.momento.example/lr"
    assert las.takes_practice_results


def test_a_push_las_has_neither_endpoint_nor_key(operator_client):
    response = operator_client.post(reverse("admin:roster_lassystem_add"), las_form(
        name="EDUscope", slug="eduscope", method="push", endpoint="", needs_key="",
        client_code="", client_name=""))
    assert response.status_code == 302
    assert LasSystem.objects.get(slug="eduscope").method == "push"


def test_in_production_the_endpoint_must_be_https(operator_client, monkeypatch):
    monkeypatch.setattr(coupling_services, "is_production", lambda: False)
    response = operator_client.post(reverse("admin:roster_lassystem_add"), las_form(
        endpoint="http://localhost:8400/uwlr"))
    assert response.status_code == 302  # a LAS on the developer's own machine
    LasSystem.objects.all().delete()
    monkeypatch.setattr(coupling_services, "is_production", lambda: True)
    response = operator_client.post(reverse("admin:roster_lassystem_add"), las_form(
        endpoint="http://uwlr.dotcomschool.example/ll"))
    assert response.status_code == 200
    assert "met https:// beginnen" in " ".join(
        response.context["adminform"].form.errors["endpoint"])
    assert not LasSystem.objects.exists()


def test_the_operator_reads_couplings_but_never_the_key(operator_client, school, coordinator,
                                                        esis):
    coupling = coupling_services.switch_on(school=school, las=esis, key=KEY, actor=coordinator)
    RosterCoupling.objects.update(last_result="failed", failures_in_a_row=2, last_error={
        "message": FAULT, "params": {"fault": "Onbekende school"}})
    listing = operator_client.get(reverse("admin:roster_rostercoupling_changelist"))
    assert listing.status_code == 200
    assert school.name in listing.content.decode() and "ESIS" in listing.content.decode()
    detail = operator_client.get(reverse("admin:roster_rostercoupling_change",
                                         args=[coupling.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "Onbekende school" in html
    sealed = RosterCoupling.objects.get().sealed_key
    assert KEY not in html and sealed not in html and sealed[:12] not in html
    assert operator_client.get(reverse("admin:roster_rostercoupling_add")).status_code == 403
    assert operator_client.post(reverse("admin:roster_rostercoupling_change",
                                        args=[coupling.pk]),
                                {"active": ""}).status_code == 403
    assert RosterCoupling.objects.get().active
