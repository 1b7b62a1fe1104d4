"""Teachers get their staff account address and activation link from the roster (issue 3)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from klaspoort.accounts import services
from klaspoort.accounts.models import User
from klaspoort.audit.models import AuditEntry
from klaspoort.roster import services as roster
from klaspoort.roster import teacher_accounts
from klaspoort.roster.models import RosterImport, Teacher
from klaspoort.schools.models import SchoolMembership
from tests.factories import SchoolFactory, TeacherFactory, UserFactory
from tests.roster.test_edexml import GROUPS, PUPILS, edexml, teacher_xml

pytestmark = pytest.mark.django_db


def teachers(*, t1: str | None = "M.deVries@School.example", t2: str | None = None,
             t2_roles=("ICT", "LRK")) -> str:
    return (teacher_xml("T1", email=t1, roles=["LRK"], groups=[("groep", "g12", [])])
            + teacher_xml("T2", last="Bakker", prefix=None, call="Henk", email=t2,
                          roles=list(t2_roles), groups=[("groep", "g5", [])]))


@pytest.fixture
def import_now(django_capture_on_commit_callbacks):
    """Receive and process a roster as the nightly import does. The activation links leave
    after commit: what a commit would run (and nothing a rolled-back import dropped) runs at
    the end, so the tests read the outbox as production fills it."""

    def run(school, **kwargs) -> RosterImport:
        data = edexml(groups=GROUPS, pupils=PUPILS, teachers=teachers(**kwargs))
        with django_capture_on_commit_callbacks(execute=True):
            record = roster.receive_roster_file(data, source=RosterImport.Source.UPLOAD,
                                                school=school)
            assert record.status == RosterImport.Status.WAITING, record.errors
            return roster.process_import(record.pk)

    return run


def teacher(school, key) -> Teacher:
    return Teacher.objects.select_related("user").get(school=school, key=key)


def test_a_teacher_with_an_address_in_the_roster_gets_it_and_an_activation_link(
        school, mailoutbox, import_now):
    record = import_now(school)
    assert record.status == RosterImport.Status.PROCESSED
    assert record.warnings == []
    vries = teacher(school, "T1")
    assert vries.user.email == "m.devries@school.example"
    assert services.is_pending(vries.user)
    [message] = mailoutbox
    assert message.to == ["m.devries@school.example"]
    assert "/accounts/activeren/" in message.body
    assert AuditEntry.objects.filter(school=school, action="accounts.teacher.email_from_roster",
                                     after={"email": "m.devries@school.example"}).exists()
    # Henk has no address in the roster: no account address, no mail.
    assert teacher(school, "T2").user.email is None


def test_the_same_roster_again_sends_nothing(school, mailoutbox, import_now):
    import_now(school)
    mailoutbox.clear()
    assert import_now(school).status == RosterImport.Status.PROCESSED
    assert mailoutbox == []


def test_an_address_used_by_someone_else_is_not_given_and_the_import_says_so(
        school, coordinator_client, mailoutbox, import_now, django_capture_on_commit_callbacks):
    UserFactory(email="henk@ander.example")
    record = import_now(school, t2="Henk@Ander.example")
    assert record.status == RosterImport.Status.PROCESSED
    bakker = teacher(school, "T2")
    assert bakker.user.email is None
    assert [m.to for m in mailoutbox] == [["m.devries@school.example"]]
    [warning] = record.warnings
    assert warning["teacher"] == "Henk Bakker" and warning["email"] == "henk@ander.example"

    # In English: the Dutch of new text arrives with the translations file.
    coordinator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = coordinator_client.get(reverse("roster:import", kwargs={
        "brin6": school.brin6, "import_id": record.pk})).content.decode()
    assert ("Henk Bakker: the e-mail address henk@ander.example from the user data is already "
            "used by someone else in Klaspoort.") in page
    assert reverse("roster:teachers", kwargs={"brin6": school.brin6}) in page
    history = coordinator_client.get(reverse("roster:imports", kwargs={
        "brin6": school.brin6})).content.decode()
    assert "1 remark" in history

    # On Leerkrachten the coordinator enters another address; the LAS address stays on record.
    teachers_page = coordinator_client.get(reverse("roster:teachers", kwargs={
        "brin6": school.brin6})).content.decode()
    assert f'id="teacher-email-{bakker.pk}"' in teachers_page
    with django_capture_on_commit_callbacks(execute=True):  # the activation link, on commit
        coordinator_client.post(reverse("roster:teacher_email", kwargs={"brin6": school.brin6,
                                "teacher_id": bakker.pk}), {"email": "h.bakker@regenboog.example"})
    bakker = teacher(school, "T2")
    assert bakker.user.email == "h.bakker@regenboog.example"
    assert bakker.email == "henk@ander.example"
    assert mailoutbox[-1].to == ["h.bakker@regenboog.example"]
    # The next night sees no change: no warning, no mail.
    mailoutbox.clear()
    again = import_now(school, t2="Henk@Ander.example")
    assert again.warnings == [] and mailoutbox == []
    assert teacher(school, "T2").user.email == "h.bakker@regenboog.example"


def test_an_address_another_schools_teacher_carries_is_refused(school, mailoutbox,
                                                               import_now):
    TeacherFactory(school=SchoolFactory(), email="m.devries@school.example")
    record = import_now(school)
    assert teacher(school, "T1").user.email is None
    assert [w["teacher"] for w in record.warnings] == ["Marieke de Vries"]
    assert mailoutbox == []


def test_two_teachers_of_one_roster_with_one_address_both_get_none(school, mailoutbox,
                                                                   import_now):
    record = import_now(school, t2="m.devries@school.example")
    assert teacher(school, "T1").user.email is None
    assert teacher(school, "T2").user.email is None
    assert len(record.warnings) == 2
    assert mailoutbox == []


def test_a_changed_address_of_a_pending_account_gets_the_new_address_and_a_fresh_link(
        school, client, mailoutbox, import_now):
    import_now(school)
    [first] = mailoutbox
    old_link = next(line for line in first.body.split() if "/activeren/" in line)
    mailoutbox.clear()
    import_now(school, t1="marieke@nieuw.example")
    assert teacher(school, "T1").user.email == "marieke@nieuw.example"
    [fresh] = mailoutbox
    assert fresh.to == ["marieke@nieuw.example"]
    assert client.get(old_link).status_code == 400  # the earlier link stops working


def test_an_activated_accounts_login_address_is_not_changed_by_the_roster(school, mailoutbox,
                                                                           import_now):
    import_now(school)
    vries = teacher(school, "T1")
    services.activate(vries.user, "Zonnebloem47")
    mailoutbox.clear()
    record = import_now(school, t1="marieke@nieuw.example")
    assert record.status == RosterImport.Status.PROCESSED
    vries = teacher(school, "T1")
    assert vries.email == "marieke@nieuw.example"  # the roster record follows the LAS
    assert vries.user.email == "m.devries@school.example"  # the sign-in address does not
    assert mailoutbox == []


def test_an_ict_teacher_from_the_roster_becomes_coordinator_once_activated(
        school, client, mailoutbox, import_now):
    import_now(school, t2="henk@regenboog.example")
    bakker = teacher(school, "T2")
    assert not SchoolMembership.objects.filter(user=bakker.user).exists()
    [message] = [m for m in mailoutbox if m.to == ["henk@regenboog.example"]]
    link = next(word for word in message.body.split() if "/activeren/" in word)
    response = client.post(link, {"new_password1": "Zonnebloem47", "new_password2": "Zonnebloem47"})
    assert response.status_code == 302, response.content.decode()
    assert SchoolMembership.objects.filter(user=bakker.user, school=school).exists()


def test_a_rolled_back_import_mails_nobody(school, mailoutbox, monkeypatch, import_now):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(roster, "sync_ict_coordinators", broken)
    record = import_now(school)
    assert record.status == RosterImport.Status.FAILED
    assert mailoutbox == []
    assert not User.objects.filter(email="m.devries@school.example").exists()


def test_finding_the_teachers_costs_a_few_queries_however_many_there_are(school):
    for n in range(30):
        TeacherFactory(school=school, email=f"leerkracht{n}@regenboog.example")
    with CaptureQueriesContext(connection) as few:
        teacher_accounts.provision_teacher_accounts(school)
    assert User.objects.filter(email__startswith="leerkracht").count() == 30
    # Nothing left to do: one query, whatever the school's size.
    with CaptureQueriesContext(connection) as none:
        assert teacher_accounts.provision_teacher_accounts(school) == {}
    assert len(none) == 1
    # Per invited teacher: the address, the fresh link and the audit entry; the checks of all
    # 30 addresses together cost three queries.
    per_teacher = (len(few) - 3) / 30
    assert per_teacher <= 6, [q["sql"] for q in few.captured_queries[:12]]
