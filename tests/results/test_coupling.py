"""*Resultatenkoppelingen* (issue 15, item 3): what a coordinator sees and does.

A coordinator adds a coupling with a LAS of the catalogue that takes results, with the key that
LAS gave; the key is sealed, shown masked, never in a page or the audit trail. Nothing is sent
without a coupling; results from before it only when the coordinator asks, once. Removing a
coupling drops what still waited for it. Another school sees none of it.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.results import coupling_selectors, coupling_services, outbox
from klaspoort.results.coupling_services import AlreadySent, CouplingRefused
from klaspoort.results.delivery_selectors import delivery_counts
from klaspoort.results.models import Delivery, Result, ResultCoupling
from klaspoort.roster import uwlr
from klaspoort.roster.secrets import open_text
from tests.concurrency import at_once
from tests.factories import (
    CoordinatorFactory,
    LasSystemFactory,
    PupilFactory,
    ResultFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)

KEY = "pns-7f3a9c2e-4b1d-1234"
NEW_KEY = "pns-0b9e8d7c-6a5f-9876"


@pytest.fixture
def parnassys(db):
    return LasSystemFactory(name="ParnasSys", slug="parnassys")


@pytest.fixture
def momento(db):
    return LasSystemFactory(name="Momento", slug="momento", takes_practice_results=True)


@pytest.fixture(autouse=True)
def no_sending(monkeypatch):
    """What would start the sending task after a commit, recorded instead of sent."""
    started: list[list[int]] = []
    monkeypatch.setattr(outbox, "start_delivery", lambda ids: started.append(list(ids)))
    return started


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(f"results:{name}", kwargs={"brin6": school.brin6, **kwargs})


def add(school: Any, las: Any, actor: Any, key: str = KEY, **kwargs: Any) -> ResultCoupling:
    return coupling_services.add_coupling(school=school, las=las, key=key,
                                          send_grade_boundaries=kwargs.get("grades", False),
                                          actor=actor)


def results_entries(school: Any) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(school=school, action__startswith="results.")
                .order_by("pk"))


def assert_no_key_in_the_trail(*keys: str) -> None:
    for entry in AuditEntry.objects.all():
        written = json.dumps([entry.target, entry.before, entry.after])
        for key in keys:
            assert key not in written and key[-4:] not in written


def earlier(result: Result, minutes: int = 60) -> Result:
    """The result as if it arrived before the coupling."""
    Result.objects.filter(pk=result.pk).update(
        received_at=timezone.now() - datetime.timedelta(minutes=minutes))
    result.refresh_from_db()
    return result


# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
def test_adding_seals_the_key_shows_it_masked_and_audits_without_it(
        school, coordinator, parnassys):
    before = timezone.now()
    coupling = add(school, parnassys, coordinator, key=f"  {KEY}\n", grades=True)
    coupling.refresh_from_db()
    assert open_text("results-key", coupling.sealed_key) == KEY
    with pytest.raises(ValueError):
        open_text("las-key", coupling.sealed_key)  # never opens as a roster coupling's key
    assert KEY not in coupling.sealed_key
    assert coupling.since >= before and coupling.send_grade_boundaries
    assert coupling.created_by == coordinator
    [status] = coupling_selectors.coupling_statuses(school)
    assert status.masked_key == "\N{BULLET}" * 4 + "1234"
    [entry] = results_entries(school)
    assert entry.action == AuditAction.RESULTS_COUPLING_ADD and entry.target == "ParnasSys"
    assert entry.after == {"las": "ParnasSys", "send_grade_boundaries": True}
    assert_no_key_in_the_trail(KEY)


def test_only_an_active_las_with_a_results_endpoint_can_be_coupled(school, coordinator):
    roster_only = LasSystemFactory(name="ESIS", slug="esis", results_endpoint="")
    withdrawn = LasSystemFactory(name="Oud", slug="oud", active=False)
    for las in (roster_only, withdrawn):
        with pytest.raises(CouplingRefused) as refused:
            add(school, las, coordinator)
        assert refused.value.field == "las"
    assert not ResultCoupling.objects.exists() and not results_entries(school)
    assert list(coupling_selectors.offered_las(school)) == []


def test_a_second_coupling_with_the_same_las_is_refused_in_dutch(school, coordinator,
                                                                   parnassys, momento):
    add(school, parnassys, coordinator)
    with pytest.raises(CouplingRefused) as refused:
        add(school, parnassys, coordinator, key=NEW_KEY)
    assert refused.value.message.startswith("Je school heeft al een resultatenkoppeling met "
                                            "ParnasSys.")
    assert open_text("results-key", ResultCoupling.objects.get().sealed_key) == KEY
    # Another LAS is a coupling of its own; another school may couple ParnasSys too.
    add(school, momento, coordinator)
    add(SchoolFactory(), parnassys, coordinator)
    assert ResultCoupling.objects.count() == 3
    assert list(coupling_selectors.offered_las(school)) == []


@pytest.mark.parametrize(("key", "field"), [
    ("kort", "key"), ("", "key"), ("K" * 65, "key"), ("twee woorden-1234", "key"),
    ("pns\x00sleutel-1234", "key"),
])
def test_a_bad_key_is_refused_and_nothing_is_stored(school, coordinator, parnassys, key,
                                                    field):
    with pytest.raises(CouplingRefused) as refused:
        add(school, parnassys, coordinator, key=key)
    assert refused.value.field == field
    assert not ResultCoupling.objects.exists() and not results_entries(school)


def test_nothing_is_queued_without_a_coupling_and_earlier_results_not_by_themselves(
        school, coordinator, parnassys):
    pupil = PupilFactory(school=school)
    before = ResultFactory(pupil=pupil)
    assert outbox.queue_deliveries([before]) == 0  # no coupling: nothing to send
    earlier(before)
    coupling = add(school, parnassys, coordinator)
    after = ResultFactory(pupil=pupil)
    assert outbox.queue_deliveries([earlier(before, 90), after]) == 1
    assert list(Delivery.objects.values_list("result_id", flat=True)) == [after.pk]
    [status] = coupling_selectors.coupling_statuses(school)
    assert status.earlier == 1 and status.waiting == 1 and status.pk == coupling.pk


def test_earlier_results_are_sent_only_when_asked_and_only_once(
        school, coordinator, parnassys, no_sending, django_capture_on_commit_callbacks):
    pupil = PupilFactory(school=school)
    old = [earlier(ResultFactory(pupil=pupil)) for _ in range(3)]
    practice = earlier(ResultFactory(pupil=pupil, kind=Result.Kind.PRACTICE))
    elsewhere = earlier(ResultFactory())  # another school's
    coupling = add(school, parnassys, coordinator)
    assert not Delivery.objects.exists()
    assert coupling_selectors.coupling_statuses(school)[0].earlier == 3  # no practice

    with django_capture_on_commit_callbacks(execute=True):
        queued = coupling_services.send_earlier_results(coupling=coupling, actor=coordinator)
    assert queued == 3
    assert sorted(Delivery.objects.values_list("result_id", flat=True)) == sorted(
        r.pk for r in old)
    assert practice.pk not in Delivery.objects.values_list("result_id", flat=True)
    assert elsewhere.pk not in Delivery.objects.values_list("result_id", flat=True)
    assert no_sending == [[coupling.pk]]
    coupling.refresh_from_db()
    assert coupling.backfilled_at is not None
    assert coupling_selectors.coupling_statuses(school)[0].earlier == 0
    entry = results_entries(school)[-1]
    assert entry.action == AuditAction.RESULTS_BACKFILL and entry.after == {"queued": 3}

    with pytest.raises(AlreadySent):
        coupling_services.send_earlier_results(coupling=coupling, actor=coordinator)
    assert Delivery.objects.count() == 3


def test_a_las_that_takes_practice_results_gets_the_earlier_ones_too(
        school, coordinator, momento):
    pupil = PupilFactory(school=school)
    earlier(ResultFactory(pupil=pupil, kind=Result.Kind.PRACTICE))
    earlier(ResultFactory(pupil=pupil, kind=Result.Kind.OBSERVATION))
    coupling = add(school, momento, coordinator)
    assert coupling_services.send_earlier_results(coupling=coupling, actor=coordinator) == 2


def test_a_new_key_for_a_refused_coupling_makes_its_waiting_results_due_now(
        school, coordinator, parnassys, no_sending, django_capture_on_commit_callbacks):
    coupling = add(school, parnassys, coordinator)
    later = timezone.now() + datetime.timedelta(hours=3)
    result = ResultFactory(pupil=PupilFactory(school=school))
    waiting = Delivery.objects.create(coupling=coupling, result=result, next_attempt_at=later,
                                      attempts=4)
    sent = Delivery.objects.create(coupling=coupling, result=ResultFactory(
        pupil=result.pupil), next_attempt_at=later, state=Delivery.State.SENT)
    ResultCoupling.objects.filter(pk=coupling.pk).update(
        state=ResultCoupling.State.REFUSED,
        last_error={"message": uwlr.NOT_AUTHORISED, "params": {"las": "ParnasSys"}})

    with django_capture_on_commit_callbacks(execute=True):
        coupling_services.change_key(coupling=coupling, key=NEW_KEY, actor=coordinator)
    coupling.refresh_from_db()
    waiting.refresh_from_db()
    sent.refresh_from_db()
    assert open_text("results-key", coupling.sealed_key) == NEW_KEY
    assert coupling.key_last4 == "9876"
    assert coupling.state == ResultCoupling.State.OK and coupling.last_error == {}
    assert waiting.next_attempt_at <= timezone.now() and sent.next_attempt_at == later
    assert no_sending == [[coupling.pk]]
    assert results_entries(school)[-1].action == AuditAction.RESULTS_COUPLING_KEY
    assert_no_key_in_the_trail(KEY, NEW_KEY)


def test_a_new_key_for_a_coupling_that_delivers_does_not_hurry_anything(
        school, coordinator, parnassys, no_sending, django_capture_on_commit_callbacks):
    coupling = add(school, parnassys, coordinator)
    later = timezone.now() + datetime.timedelta(minutes=5)
    row = Delivery.objects.create(coupling=coupling, next_attempt_at=later,
                                  result=ResultFactory(pupil=PupilFactory(school=school)))
    with django_capture_on_commit_callbacks(execute=True):
        coupling_services.change_key(coupling=coupling, key=NEW_KEY, actor=coordinator)
    row.refresh_from_db()
    assert row.next_attempt_at == later and no_sending == []
    with pytest.raises(CouplingRefused):
        coupling_services.change_key(coupling=coupling, key="kort", actor=coordinator)
    coupling.refresh_from_db()
    assert open_text("results-key", coupling.sealed_key) == NEW_KEY


def test_removing_deletes_the_coupling_its_key_and_what_still_waited(
        school, coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    pupil = PupilFactory(school=school)
    now = timezone.now()
    for state in ("waiting", "waiting", "sent", "failed"):
        Delivery.objects.create(coupling=coupling, result=ResultFactory(pupil=pupil),
                                state=state, next_attempt_at=now)
    assert delivery_counts([coupling.pk]) == {
        coupling.pk: {"sent": 1, "waiting": 2, "failed": 1}}
    assert coupling_services.remove_coupling(coupling=coupling, actor=coordinator) == 2
    assert not ResultCoupling.objects.exists() and not Delivery.objects.exists()
    assert Result.objects.count() == 4  # the results themselves stay
    entry = results_entries(school)[-1]
    assert entry.action == AuditAction.RESULTS_COUPLING_REMOVE
    assert entry.after == {"waiting_deleted": 2}
    with pytest.raises(coupling_services.CouplingGone):
        coupling_services.remove_coupling(coupling=coupling, actor=coordinator)


def test_the_grade_boundary_choice_is_audited_only_when_it_changes(
        school, coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    coupling_services.set_send_grade_boundaries(coupling=coupling, send=False,
                                                actor=coordinator)
    assert len(results_entries(school)) == 1
    coupling_services.set_send_grade_boundaries(coupling=coupling, send=True, actor=coordinator)
    coupling.refresh_from_db()
    assert coupling.send_grade_boundaries
    entry = results_entries(school)[-1]
    assert entry.action == AuditAction.RESULTS_COUPLING_SETTINGS
    assert (entry.before, entry.after) == ({"send_grade_boundaries": False},
                                           {"send_grade_boundaries": True})


def test_delivery_counts_answer_every_coupling_asked_for(school, coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    assert delivery_counts([coupling.pk, 999_999]) == {
        coupling.pk: {"sent": 0, "waiting": 0, "failed": 0},
        999_999: {"sent": 0, "waiting": 0, "failed": 0}}
    assert delivery_counts([]) == {}


@pytest.mark.parametrize("value", [
    {"message": ["geen tekst"], "params": 7}, "kapot", {"message": "%(missing)s"},
])
def test_a_malformed_last_error_reads_as_a_general_sentence(school, coordinator, parnassys,
                                                             value):
    coupling = add(school, parnassys, coordinator)
    ResultCoupling.objects.filter(pk=coupling.pk).update(state="failing", last_error=value)
    [status] = coupling_selectors.coupling_statuses(school)
    assert status.reason == "Het versturen van de resultaten is mislukt. Klaspoort probeert " \
                            "het later opnieuw."


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------
def test_the_tab_lists_nothing_until_a_coupling_is_added(coordinator_client, school, parnassys):
    response = coordinator_client.get(url("couplings", school))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Resultatenkoppelingen</h1>" in html
    assert 'aria-current="page">Resultatenkoppelingen</a>' in html  # the Beheer tab
    assert "nog geen resultatenkoppeling" in html
    assert "Koppeling toevoegen" in html and "ParnasSys" in html
    assert "Schoolcijfergrenzen meesturen" in html and "Autorisatiesleutel" in html


def test_a_coordinator_adds_a_coupling_and_sees_its_status(coordinator_client, school,
                                                           parnassys):
    response = coordinator_client.post(url("couplings", school), {
        "las": parnassys.pk, "key": KEY, "send_grade_boundaries": "on"}, follow=True)
    html = response.content.decode()
    assert response.redirect_chain == [(url("couplings", school), 302)]
    assert "De resultatenkoppeling met ParnasSys is toegevoegd" in html
    assert "\N{BULLET}" * 4 + "1234" in html and KEY not in html
    assert "0 verstuurd, 0 wachtend, 0 mislukt" in html
    assert "Verstuurt resultaten" in html  # the state
    coupling = ResultCoupling.objects.get()
    assert coupling.school == school and coupling.send_grade_boundaries
    assert_no_key_in_the_trail(KEY)
    # ParnasSys is coupled: it is no longer offered to add.
    assert f'name="las" value="{parnassys.pk}"' not in html


@pytest.mark.parametrize(("las", "key", "message"), [
    ("parnassys", "kort", "De autorisatiesleutel is te kort"),
    ("parnassys", "", "Vul de autorisatiesleutel in die je van ParnasSys hebt gekregen."),
    ("parnassys", "K" * 20_000, "De autorisatiesleutel is te lang (hoogstens 64 tekens)."),
    ("parnassys", "twee woorden-12345", "zonder spaties"),
    ("", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("abc", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("roster_only", KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
    ("9" * 40, KEY, "Kies een leerlingadministratie (LAS) uit de lijst."),
])
def test_bad_input_gets_a_dutch_message_and_changes_nothing(
        coordinator_client, school, parnassys, las, key, message):
    roster_only = LasSystemFactory(name="ESIS", slug="esis", results_endpoint="")
    value = {"parnassys": parnassys.pk, "roster_only": roster_only.pk}.get(las, las)
    response = coordinator_client.post(url("couplings", school), {"las": value, "key": key})
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert "Er is iets niet goed" in html
    assert key not in html or len(key) < 5  # a refused key is never sent back
    assert not ResultCoupling.objects.exists() and not results_entries(school)


def test_adding_the_same_las_again_is_refused_in_dutch(coordinator_client, school,
                                                       coordinator, parnassys):
    add(school, parnassys, coordinator)
    response = coordinator_client.post(url("couplings", school),
                                       {"las": parnassys.pk, "key": NEW_KEY})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Je school heeft al een resultatenkoppeling met ParnasSys" in html
    assert NEW_KEY not in html
    assert open_text("results-key", ResultCoupling.objects.get().sealed_key) == KEY


def test_a_nul_in_the_key_is_refused_in_dutch_before_any_view(coordinator_client, school,
                                                              parnassys):
    response = coordinator_client.post(url("couplings", school),
                                       {"las": parnassys.pk, "key": "pns\x00sleutel-1234"})
    assert response.status_code == 400
    assert "tekens" in response.content.decode()  # the Dutch page of unstorable text
    assert not ResultCoupling.objects.exists()


def test_a_bad_new_key_keeps_the_old_one_and_is_never_sent_back(
        coordinator_client, school, coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    response = coordinator_client.post(url("coupling_key", school, coupling_id=coupling.pk),
                                       {f"c{coupling.pk}-key": "pns sleutel 99"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "zonder spaties" in html and f'href="#id_c{coupling.pk}-key"' in html
    assert "pns sleutel 99" not in html
    assert "\N{BULLET}" * 4 + "1234" in html
    assert open_text("results-key", ResultCoupling.objects.get().sealed_key) == KEY

    response = coordinator_client.post(url("coupling_key", school, coupling_id=coupling.pk),
                                       {f"c{coupling.pk}-key": NEW_KEY}, follow=True)
    html = response.content.decode()
    assert "De nieuwe autorisatiesleutel voor ParnasSys is opgeslagen." in html
    assert NEW_KEY not in html and "\N{BULLET}" * 4 + "9876" in html
    assert_no_key_in_the_trail(KEY, NEW_KEY)


def test_the_refusal_of_the_las_shows_in_dutch(coordinator_client, school, coordinator,
                                               parnassys):
    coupling = add(school, parnassys, coordinator)
    ResultCoupling.objects.filter(pk=coupling.pk).update(
        state=ResultCoupling.State.REFUSED,
        last_error={"message": uwlr.NOT_AUTHORISED, "params": {"las": "ParnasSys"}})
    html = coordinator_client.get(url("couplings", school)).content.decode()
    assert "Geweigerd door het leerlingvolgsysteem" in html
    assert "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys." in html


def test_removing_asks_first_then_deletes_what_waited(coordinator_client, school, coordinator,
                                                      parnassys):
    coupling = add(school, parnassys, coordinator)
    Delivery.objects.create(coupling=coupling, next_attempt_at=timezone.now(),
                            result=ResultFactory(pupil=PupilFactory(school=school)))
    remove = url("coupling_remove", school, coupling_id=coupling.pk)
    question = coordinator_client.post(remove)
    html = question.content.decode()
    assert question.status_code == 200
    assert "Resultatenkoppeling met ParnasSys verwijderen?" in html
    assert "1 resultaat dat nog wacht, wordt niet verstuurd." in html
    assert ResultCoupling.objects.exists()
    in_place = coordinator_client.post(remove, HTTP_HX_REQUEST="true")
    assert "<html" not in in_place.content.decode() and "confirm-heading" in \
        in_place.content.decode()

    response = coordinator_client.post(remove, {"confirmed": "1"}, follow=True)
    assert "De resultatenkoppeling met ParnasSys is verwijderd" in response.content.decode()
    assert not ResultCoupling.objects.exists() and not Delivery.objects.exists()
    again = coordinator_client.post(remove, {"confirmed": "1"})
    assert again.status_code == 404


def test_earlier_results_are_offered_with_their_number_and_sent_once(
        coordinator_client, school, coordinator, parnassys):
    pupil = PupilFactory(school=school)
    for _ in range(2):
        earlier(ResultFactory(pupil=pupil))
    coupling = add(school, parnassys, coordinator)
    html = coordinator_client.get(url("couplings", school)).content.decode()
    assert "Eerdere resultaten versturen (2)" in html
    backfill = url("coupling_backfill", school, coupling_id=coupling.pk)
    question = coordinator_client.post(backfill).content.decode()
    assert "2 eerdere resultaten naar ParnasSys versturen?" in question
    assert not Delivery.objects.exists()

    response = coordinator_client.post(backfill, {"confirmed": "1"}, follow=True)
    html = response.content.decode()
    assert "2 eerdere resultaten worden naar ParnasSys verstuurd." in html
    assert "Eerdere resultaten versturen" not in html
    assert Delivery.objects.count() == 2
    response = coordinator_client.post(backfill, {"confirmed": "1"}, follow=True)
    assert "De eerdere resultaten zijn al naar ParnasSys verstuurd." in \
        response.content.decode()
    assert Delivery.objects.count() == 2
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_BACKFILL).count() == 1


def test_the_grade_boundaries_are_switched_with_one_button(coordinator_client, school,
                                                           coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    switch = url("coupling_grade_boundaries", school, coupling_id=coupling.pk)
    response = coordinator_client.post(switch, {"send": "1"}, follow=True)
    assert "gaan de schoolcijfergrenzen mee" in response.content.decode()
    coupling.refresh_from_db()
    assert coupling.send_grade_boundaries
    coordinator_client.post(switch, {"send": "ja\x01"})
    coupling.refresh_from_db()
    assert not coupling.send_grade_boundaries


def test_another_schools_coordinator_gets_nothing(client, school, coordinator, parnassys):
    coupling = add(school, parnassys, coordinator)
    Delivery.objects.create(coupling=coupling, next_attempt_at=timezone.now(),
                            result=ResultFactory(pupil=PupilFactory(school=school)))
    other = SchoolFactory(name="OBS Het Kompas")
    client.force_login(CoordinatorFactory(school=other))
    before = list(ResultCoupling.objects.values())
    for name in ("coupling_key", "coupling_grade_boundaries", "coupling_remove",
                 "coupling_backfill"):
        # Their own school's address with this coupling, and this school's address.
        for brin_school in (other, school):
            address = url(name, brin_school, coupling_id=coupling.pk)
            response = client.post(address, {f"c{coupling.pk}-key": NEW_KEY, "send": "1",
                                             "confirmed": "1"})
            assert response.status_code == 404, address
            assert "ParnasSys" not in response.content.decode()
    assert client.get(url("couplings", school)).status_code == 404
    assert list(ResultCoupling.objects.values()) == before
    assert Delivery.objects.count() == 1
    own = client.get(url("couplings", other)).content.decode()
    assert "\N{BULLET}" * 4 not in own and "nog geen resultatenkoppeling" in own


def test_a_teacher_or_somebody_signed_out_never_reaches_the_tab(client, school, coordinator,
                                                                 parnassys):
    add(school, parnassys, coordinator)
    assert client.get(url("couplings", school)).status_code == 302  # to sign in
    teacher = TeacherFactory(school=school, user=UserFactory())
    client.force_login(teacher.user)
    assert client.get(url("couplings", school)).status_code == 404


def test_a_refused_form_keeps_the_chosen_las_and_the_box(coordinator_client, school,
                                                         parnassys, momento):
    html = coordinator_client.post(url("couplings", school), {
        "las": momento.pk, "key": "kort", "send_grade_boundaries": "on"}).content.decode()
    assert f'value="{momento.pk}" id="id_las_0" checked>' in html
    assert f'value="{parnassys.pk}" id="id_las_1">' in html
    assert 'id="id_send_grade_boundaries" checked>' in html
    assert 'value="kort"' not in html


# ---------------------------------------------------------------------------------------------
# At the same moment
# ---------------------------------------------------------------------------------------------
def _refusal_or_coupling(work: Any) -> Any:
    try:
        return work()
    except (CouplingRefused, AlreadySent) as exc:
        return exc


def test_two_coordinators_adding_the_same_las_at_once_leave_one_coupling(shared_database):
    """A double click, or two coordinators: they queue on the school; the second one gets the
    Dutch refusal, not a database error."""
    school = SchoolFactory()
    coordinators = [CoordinatorFactory(school=school) for _ in range(2)]
    las = LasSystemFactory(name="ParnasSys", slug="parnassys")
    keys = [KEY, NEW_KEY]
    answers = at_once(2, lambda index: _refusal_or_coupling(lambda: add(
        school, las, coordinators[index], key=keys[index])))
    [coupling] = ResultCoupling.objects.all()
    assert open_text("results-key", coupling.sealed_key) in keys
    refusals = [answer for answer in answers if isinstance(answer, CouplingRefused)]
    assert len(refusals) == 1 and "al een resultatenkoppeling" in refusals[0].message
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_COUPLING_ADD).count() == 1


def test_asking_twice_at_once_sends_the_earlier_results_once(shared_database):
    school = SchoolFactory()
    coordinator = CoordinatorFactory(school=school)
    pupil = PupilFactory(school=school)
    for _ in range(3):
        earlier(ResultFactory(pupil=pupil))
    coupling = add(school, LasSystemFactory(), coordinator)
    answers = at_once(2, lambda _index: _refusal_or_coupling(
        lambda: coupling_services.send_earlier_results(coupling=coupling, actor=coordinator)))
    assert 3 in answers
    assert sum(isinstance(answer, AlreadySent) for answer in answers) == 1
    assert Delivery.objects.count() == 3
