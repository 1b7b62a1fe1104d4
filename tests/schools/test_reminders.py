"""The reminder one week before the school year starts: the checklist's red items by e-mail to
the coordinators, once a year, on its days only, and not when the school switched it off.

The checklist's own states are tested with the checklist (tests/schools/test_checklist.py); here
it answers what each test needs: items with a title, a state, facts and the page that fixes it."""

import datetime
from types import SimpleNamespace

import pytest
from django.conf import settings

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.celery import app
from klaspoort.schools import reminders
from klaspoort.schools.checklist import CheckItem
from klaspoort.schools.models import School, SentReminder
from klaspoort.schools.tasks import year_start_reminders
from tests.factories import CoordinatorFactory, SchoolFactory

ON_THE_DAY = datetime.date(2027, 7, 25)


RED_TEACHERS = CheckItem("teachers", "Every teacher linked to a group", "red",
                    ["2 teachers are not linked to a group."], "/beheer/99ZZ00/gebruikers/",
                    "Link the teachers")
GREEN_IMPORT = CheckItem("import", "Last import", "green", ["Imported 2 days ago."])


@pytest.fixture
def checklist(monkeypatch):
    """What the checklist answers per school (by BRIN6), and the days it was asked."""
    answers: dict[str, list[CheckItem]] = {}
    asked: list[datetime.date] = []

    def checks_for(school, day):
        asked.append(day)
        return answers.get(school.brin6, [])

    monkeypatch.setattr(reminders, "checks_for", checks_for)
    return SimpleNamespace(answers=answers, asked=asked)


@pytest.fixture
def two_coordinators(school):
    return [CoordinatorFactory(school=school, email="ict@regenboog.example"),
            CoordinatorFactory(school=school, email="directie@regenboog.example")]


def run(day, capture):
    with capture(execute=True):
        return reminders.send_year_start_reminders(day)


@pytest.mark.django_db
def test_a_week_before_the_year_each_coordinator_gets_the_red_items_in_dutch(
        school, two_coordinators, checklist, mailoutbox, django_capture_on_commit_callbacks):
    checklist.answers[school.brin6] = [GREEN_IMPORT, RED_TEACHERS]
    assert run(ON_THE_DAY, django_capture_on_commit_callbacks) == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["directie@regenboog.example",
                                                  "ict@regenboog.example"]
    mail = mailoutbox[0]
    assert len(mail.to) == 1  # colleagues' addresses are not shared
    assert "2027-2028" in mail.subject and "checklist" in mail.subject
    assert "1 augustus 2027" in mail.body and "Basisschool De Regenboog" in mail.body
    assert "Every teacher linked to a group" in mail.body  # the item, with its facts and fix
    assert "2 teachers are not linked to a group." in mail.body
    assert "Link the teachers: http" in mail.body and "/beheer/99ZZ00/gebruikers/" in mail.body
    assert "Last import" not in mail.body  # green items need nobody
    assert "Herinneringen" in mail.body  # where to switch it off
    html = mail.alternatives[0][0]
    assert "<strong>Every teacher linked to a group</strong>" in html
    assert checklist.asked == [ON_THE_DAY]


@pytest.mark.django_db
def test_not_before_its_day_and_once_a_year(school, two_coordinators, checklist, mailoutbox,
                                            django_capture_on_commit_callbacks):
    checklist.answers[school.brin6] = [RED_TEACHERS]
    assert run(ON_THE_DAY - datetime.timedelta(days=1), django_capture_on_commit_callbacks) == 0
    assert run(datetime.date(2027, 6, 1), django_capture_on_commit_callbacks) == 0
    assert mailoutbox == [] and checklist.asked == []
    assert run(ON_THE_DAY, django_capture_on_commit_callbacks) == 2
    # The task runs every day of the window (and maybe twice a day): nothing more this year.
    assert run(ON_THE_DAY, django_capture_on_commit_callbacks) == 0
    assert run(datetime.date(2027, 7, 31), django_capture_on_commit_callbacks) == 0
    assert len(mailoutbox) == 2
    # 1 August: the year has started, no reminder about it any more.
    assert run(datetime.date(2027, 8, 1), django_capture_on_commit_callbacks) == 0
    # Next summer it comes again.
    assert run(datetime.date(2028, 7, 25), django_capture_on_commit_callbacks) == 2
    assert SentReminder.objects.filter(school=school).count() == 2


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_and_an_item_that_turns_red_later_is_told(
        school, two_coordinators, checklist, mailoutbox, django_capture_on_commit_callbacks):
    checklist.answers[school.brin6] = [GREEN_IMPORT]
    assert run(ON_THE_DAY, django_capture_on_commit_callbacks) == 0  # all green: no message
    checklist.answers[school.brin6] = [RED_TEACHERS]
    assert run(datetime.date(2027, 7, 28), django_capture_on_commit_callbacks) == 2


@pytest.mark.django_db
def test_switched_off_no_message_and_other_schools_still_get_theirs(
        school, two_coordinators, checklist, mailoutbox, django_capture_on_commit_callbacks):
    other = SchoolFactory(brin="88YY", name="De Klimop")
    CoordinatorFactory(school=other, email="ict@klimop.example")
    checklist.answers[school.brin6] = [RED_TEACHERS]
    checklist.answers[other.brin6] = [RED_TEACHERS]
    School.objects.filter(pk=school.pk).update(remind_year_start=False)
    assert run(ON_THE_DAY, django_capture_on_commit_callbacks) == 1
    mail, = mailoutbox
    assert mail.to == ["ict@klimop.example"]
    assert "Regenboog" not in mail.body  # nothing of another school in it
    assert not SentReminder.objects.filter(school=school).exists()


@pytest.mark.django_db
def test_the_daily_task_does_nothing_on_other_days(school, two_coordinators, checklist,
                                                   monkeypatch, mailoutbox):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: datetime.date(
        2027, 3, 1))
    assert year_start_reminders() == 0
    assert checklist.asked == [] and mailoutbox == []


@pytest.mark.django_db
def test_the_coordinator_switches_reminders_off_in_beheer(coordinator_client, school):
    page = coordinator_client.get(f"/beheer/{school.brin6}/gegevens/")
    assert page.status_code == 200
    assert 'name="remind_year_start" checked' in page.content.decode()  # on unless switched off
    answer = coordinator_client.post(f"/beheer/{school.brin6}/gegevens/herinneringen/",
                                     {"remind_cancellation": "on",
                                      "remind_results_erasure": "on"})
    assert answer.status_code == 302
    school.refresh_from_db()
    assert (school.remind_year_start, school.remind_cancellation,
            school.remind_results_erasure) == (False, True, True)
    page = coordinator_client.get(f"/beheer/{school.brin6}/gegevens/").content.decode()
    assert 'name="remind_year_start">' in page and 'name="remind_cancellation" checked' in page
    # The Logboek says who switched which reminder, and saving again unchanged adds nothing.
    entry = AuditEntry.objects.get(action=AuditAction.SCHOOLS_REMINDERS_SET)
    assert (entry.school, entry.before, entry.after) == (
        school, {"remind_year_start": True}, {"remind_year_start": False})
    coordinator_client.post(f"/beheer/{school.brin6}/gegevens/herinneringen/",
                            {"remind_cancellation": "on", "remind_results_erasure": "on"})
    assert AuditEntry.objects.filter(action=AuditAction.SCHOOLS_REMINDERS_SET).count() == 1


@pytest.mark.django_db
def test_another_schools_coordinator_cannot_switch_them(client, school):
    other = SchoolFactory(brin="88YY")
    stranger = CoordinatorFactory(school=other, email="ict@klimop.example")
    client.force_login(stranger)
    answer = client.post(f"/beheer/{school.brin6}/gegevens/herinneringen/", {})
    assert answer.status_code == 404
    school.refresh_from_db()
    assert school.remind_year_start and school.remind_cancellation


def test_both_reminder_tasks_run_daily_in_beat_and_the_worker_finds_them():
    app.loader.import_default_modules()  # what a worker does at start: each app's `tasks`
    for name in ("klaspoort.schools.tasks.year_start_reminders",
                 "klaspoort.licences.tasks.cancellation_reminders"):
        entry, = [each for each in settings.CELERY_BEAT_SCHEDULE.values()
                  if each["task"] == name]
        assert entry["schedule"].day_of_month == set(range(1, 32))  # every day
        assert name in app.tasks
