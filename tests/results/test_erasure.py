"""The summer erasure of results (seed 001; issue 15 item 6): what is erased, what is archived,
what is kept, when, and the reminder four weeks before."""

from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass
from io import StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.audit.services import OPERATOR
from klaspoort.checks import production_errors
from klaspoort.results import erasure, erasure_tasks
from klaspoort.results.models import Delivery, LearningGoalScore, Result, SummerErasure
from klaspoort.roster.models import PupilCluster, TeacherGroup
from klaspoort.schools.models import School
from tests.concurrency import at_once
from tests.factories import (
    CoordinatorFactory,
    DeliveryFactory,
    GroupFactory,
    PupilFactory,
    ResultFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.licences.factories import ProductFactory

pytestmark = pytest.mark.django_db

ERASURE_DAY = datetime.date(2027, 7, 21)
REMINDER_DAY = datetime.date(2027, 6, 23)
OBS = Result.Kind.OBSERVATION
TEST = Result.Kind.TEST
PRACTICE = Result.Kind.PRACTICE


def teacher_of(group, email):
    teacher = TeacherFactory(school=group.school,
                             user=UserFactory(email=email, display_name=email))
    TeacherGroup.objects.create(teacher=teacher, group=group)
    return teacher


@dataclass
class World:
    school: School
    other: School
    results: dict[str, Result]
    pupils: dict[str, object]

    def left(self, school: School | None = None) -> set[str]:
        """The names of the results still there (of `school`, or of both)."""
        pks = set(Result.objects.filter(
            **({"school": school} if school else {})).values_list("pk", flat=True))
        return {name for name, result in self.results.items() if result.pk in pks}


@pytest.fixture
def world(school, coordinator) -> World:
    """School De Regenboog with pupils in groups 1, 2, 3 and 8 (and one who left), results of
    every kind with and without learning goals, and a second school with results of its own."""
    groups = {year: GroupFactory(school=school, jaargroep=year, name=f"Groep {year}")
              for year in ("1", "2", "3", "8")}
    pupils = {
        "p1": PupilFactory(school=school, group=groups["1"], jaargroep="1"),
        "p2": PupilFactory(school=school, group=groups["2"], jaargroep="2"),
        "p3": PupilFactory(school=school, group=groups["3"], jaargroep="3"),
        "p8": PupilFactory(school=school, group=groups["8"], jaargroep="8"),
        # Was in group 2 and left the school: no longer in the kindergarten groups.
        "gone": PupilFactory(school=school, group=groups["2"], jaargroep="2", active=False),
    }
    teacher_of(groups["1"], "juf.groep1@regenboog.example")
    teacher_of(groups["3"], "meester.groep3@regenboog.example")
    teacher_of(groups["8"], "juf.groep8@regenboog.example")
    kleuterplein = ProductFactory(name="Kleuterplein")
    pluspunt = ProductFactory(name="Pluspunt")
    d = datetime.date

    def result(pupil, kind, taken_on, goal="", score=5, product=pluspunt, note=""):
        return ResultFactory(pupil=pupils[pupil], kind=kind, taken_on=taken_on,
                             learning_goal_code=goal, learning_goal=goal and f"Doel {goal}",
                             score=score, product=product, note=note)

    results = {
        "p1_obs_oct": result("p1", OBS, d(2026, 10, 1), "K-1", 2, kleuterplein, "begint"),
        "p1_obs_mar": result("p1", OBS, d(2027, 3, 1), "K-1", 3, kleuterplein),
        "p2_obs": result("p2", OBS, d(2027, 2, 1), product=kleuterplein),
        "p2_practice": result("p2", PRACTICE, d(2027, 2, 2), "K-2", 4, kleuterplein),
        "gone_obs": result("gone", OBS, d(2026, 11, 1), "K-1", 1, kleuterplein),
        "p3_obs": result("p3", OBS, d(2026, 9, 10), "K-1", 4, kleuterplein),
        "p3_test_jan": result("p3", TEST, d(2027, 1, 20), "R-1", 5, note="knap gedaan"),
        "p3_test_may": result("p3", TEST, d(2027, 5, 20), "R-1", 8),
        "p8_test": result("p8", TEST, d(2027, 4, 4)),
        "p8_practice": result("p8", PRACTICE, d(2027, 6, 30), "R-2", 9),
    }
    other = SchoolFactory(name="De Linde")
    CoordinatorFactory(school=other, email="ict@delinde.example")
    linde_group = GroupFactory(school=other, jaargroep="3")
    linde_pupil = PupilFactory(school=other, group=linde_group, jaargroep="3")
    teacher_of(linde_group, "juf@delinde.example")
    pupils["linde"] = linde_pupil
    results["linde_test"] = ResultFactory(pupil=linde_pupil, kind=TEST, product=pluspunt,
                                          taken_on=d(2027, 3, 3), learning_goal_code="R-1",
                                          score=6)
    results["linde_obs"] = ResultFactory(pupil=linde_pupil, kind=OBS, product=kleuterplein,
                                         taken_on=d(2027, 3, 4))
    return World(school, other, results, pupils)


KEPT = {"p1_obs_oct", "p1_obs_mar", "p2_obs"}


def archive(school):
    """The school's archive by pupil, learning goal and school year (each in one product)."""
    scores = LearningGoalScore.objects.filter(school=school)
    found = {(score.pupil_id, score.learning_goal_code, score.school_year): score.score
             for score in scores}
    assert len(found) == scores.count()
    return found


def snapshot():
    return (sorted(Result.objects.values_list("pk", "version")),
            sorted(LearningGoalScore.objects.values_list("pk", "score")),
            Delivery.objects.count(), SummerErasure.objects.count(), AuditEntry.objects.count())


# --- Dates -------------------------------------------------------------------------------------

def test_the_dates_are_the_seed_s_by_default_and_follow_the_settings():
    assert erasure.erasure_date(2027) == ERASURE_DAY
    assert erasure.reminder_date(2027) == REMINDER_DAY  # four weeks before
    assert erasure.erased_school_year(2027) == "2026-2027"
    with override_settings(RESULTS_ERASURE_DAY="08-15", RESULTS_ERASURE_REMINDER_DAYS=14):
        assert erasure.erasure_date(2027) == datetime.date(2027, 8, 15)
        assert erasure.reminder_date(2027) == datetime.date(2027, 8, 1)


@pytest.mark.parametrize("value", ["7-21", "21-07", "02-29", "13-01", "07-32", "", "0721",
                                   "07-2a", "juli"])
def test_a_bad_erasure_day_is_refused_and_production_does_not_start(value):
    with override_settings(RESULTS_ERASURE_DAY=value):
        with pytest.raises(ImproperlyConfigured):
            erasure.erasure_date(2027)
        with pytest.raises(ImproperlyConfigured):
            erasure.erase_for_summer(ERASURE_DAY, None)
    with override_settings(RESULTS_ERASURE_DAY=value, ALLOWED_HOSTS=["klaspoort.example"]):
        assert "klaspoort.E006" in {error.id for error in production_errors()}
    with override_settings(ALLOWED_HOSTS=["klaspoort.example"]):
        assert "klaspoort.E006" not in {error.id for error in production_errors()}


def test_a_reminder_period_out_of_range_stops_production():
    with override_settings(RESULTS_ERASURE_REMINDER_DAYS=0,
                           ALLOWED_HOSTS=["klaspoort.example"]):
        assert "klaspoort.E007" in {error.id for error in production_errors()}
        with pytest.raises(ImproperlyConfigured):
            erasure.reminder_date(2027)


# --- The erasure -------------------------------------------------------------------------------

def test_nothing_is_erased_before_the_erasure_day(world):
    before = snapshot()
    with pytest.raises(erasure.ErasureNotDue):
        erasure.erase_for_summer(ERASURE_DAY - datetime.timedelta(days=1), OPERATOR)
    assert snapshot() == before


def test_the_erasure_keeps_exactly_what_the_seed_says(world):
    # A test of group 3 was delivered to the LAS: its delivery row goes with it.
    DeliveryFactory(result=world.results["p3_test_jan"], state=Delivery.State.SENT)

    plan = erasure.erase_for_summer(ERASURE_DAY, OPERATOR, school=world.school)

    # Kindergarten observations stay; group 3's observation, every test and practice result,
    # and the observation of the pupil who left are gone (with their notes and deliveries).
    assert world.left(world.school) == KEPT
    assert not Delivery.objects.exists()
    assert not Result.objects.filter(note="knap gedaan").exists()
    p = world.pupils
    assert archive(world.school) == {
        (p["p1"].pk, "K-1", "2026-2027"): 3,  # the latest of the two observations
        (p["p2"].pk, "K-2", "2026-2027"): 4,
        (p["gone"].pk, "K-1", "2026-2027"): 1,
        (p["p3"].pk, "K-1", "2026-2027"): 4,
        (p["p3"].pk, "R-1", "2026-2027"): 8,  # May's test, not January's
        (p["p8"].pk, "R-2", "2026-2027"): 9,
    }
    assert [(s.brin6, s.erased, s.archived, s.kept, s.held_back) for s in plan.schools] == [
        ("99ZZ00", 7, 6, 3, 0)]
    (entry,) = AuditEntry.objects.filter(action=AuditAction.RESULTS_ERASE)
    assert entry.school_id == world.school.pk and entry.actor_label == OPERATOR.label
    # Counts only: nothing in the trail names a pupil or a result.
    assert entry.after == {"school_year": "2026-2027", "erased": 7, "archived": 6, "kept": 3,
                           "held_back": 0}


def test_on_the_same_day_the_result_that_arrived_last_is_the_final_score(world):
    pupil = world.pupils["p8"]
    product = world.results["p8_test"].product
    first = ResultFactory(pupil=pupil, product=product, taken_on=datetime.date(2027, 6, 1),
                          learning_goal_code="R-9", score=3)
    later = ResultFactory(pupil=pupil, product=product, taken_on=datetime.date(2027, 6, 1),
                          learning_goal_code="R-9", score=6)
    Result.objects.filter(pk=first.pk).update(received_at=later.received_at
                                              + datetime.timedelta(hours=-1))
    erasure.erase_for_summer(ERASURE_DAY, OPERATOR)
    assert archive(world.school)[(pupil.pk, "R-9", "2026-2027")] == 6


def test_another_school_is_untouched(world):
    erasure.erase_for_summer(ERASURE_DAY, OPERATOR, school=world.school)

    assert world.left(world.other) == {"linde_test", "linde_obs"}
    assert not LearningGoalScore.objects.filter(school=world.other).exists()
    assert not AuditEntry.objects.filter(school=world.other).exists()

    # Its own erasure erases its own rows only (its group-3 observation included), and each
    # school's archive holds only its own pupils.
    erasure.erase_for_summer(ERASURE_DAY, None)
    assert world.left() == KEPT
    assert archive(world.other) == {(world.pupils["linde"].pk, "R-1", "2026-2027"): 6}
    assert {score.pupil.school_id for score in LearningGoalScore.objects.filter(
        school=world.school)} == {world.school.pk}
    assert AuditEntry.objects.filter(school=world.other,
                                     action=AuditAction.RESULTS_ERASE).count() == 1


def test_running_twice_is_harmless(world):
    erasure.erase_for_summer(ERASURE_DAY, OPERATOR)
    after_first = snapshot()
    scores = archive(world.school)

    again = erasure.erase_for_summer(ERASURE_DAY + datetime.timedelta(days=1), OPERATOR)

    assert again.schools == []
    assert snapshot() == after_first
    assert archive(world.school) == scores
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_ERASE).count() == 2  # 2 schools


def test_the_preview_changes_nothing_and_counts_what_the_erasure_then_does(world):
    before = snapshot()
    preview = erasure.plan_erasure(ERASURE_DAY)
    assert snapshot() == before
    assert not preview.schools[0].already_erased

    done = erasure.erase_for_summer(ERASURE_DAY, OPERATOR)

    def counts(plan):
        return [(s.brin6, s.erased, s.archived, s.kept, s.held_back) for s in plan.schools]
    assert counts(preview) == counts(done)
    assert preview.total("erased") == 9
    assert erasure.plan_erasure(ERASURE_DAY).schools == []  # nothing left to do


def test_results_on_their_way_to_the_las_are_held_back_until_delivered(world):
    waiting = DeliveryFactory(result=world.results["p8_test"])
    gave_up_long_ago = DeliveryFactory(result=world.results["p3_test_may"])
    Delivery.objects.filter(pk=gave_up_long_ago.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=settings.RESULTS_GIVE_UP_HOURS + 1))

    first = erasure.erase_for_summer(ERASURE_DAY, None, school=world.school)

    # The result still being tried stays (and is in the archive already); the one whose
    # delivery is past giving up is erased.
    assert world.left(world.school) == KEPT | {"p8_test"}
    assert first.schools[0].held_back == 1
    assert Delivery.objects.filter(pk=waiting.pk).exists()

    Delivery.objects.filter(pk=waiting.pk).update(state=Delivery.State.SENT)
    later = erasure.erase_for_summer(ERASURE_DAY + datetime.timedelta(days=1), None,
                                     school=world.school)

    assert world.left(world.school) == KEPT
    assert [(s.erased, s.held_back, s.already_erased) for s in later.schools] == [(1, 0, True)]
    assert erasure.erase_for_summer(ERASURE_DAY + datetime.timedelta(days=2), None,
                                    school=world.school).schools == []
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_ERASE,
                                     school=world.school).count() == 2


def test_results_of_the_new_school_year_are_not_erased_by_a_late_run(world):
    new_year = ResultFactory(pupil=world.pupils["p3"], product=world.results["p3_obs"].product,
                             taken_on=datetime.date(2027, 8, 10), learning_goal_code="R-1",
                             score=2)
    erasure.erase_for_summer(datetime.date(2027, 8, 20), OPERATOR, school=world.school)

    assert Result.objects.filter(pk=new_year.pk).exists()
    # Nor is it taken for last year's final score.
    assert archive(world.school)[(world.pupils["p3"].pk, "R-1", "2026-2027")] == 8


def test_an_earlier_score_never_replaces_an_archived_later_one(world):
    p3 = world.pupils["p3"]
    erasure.erase_for_summer(ERASURE_DAY, OPERATOR, school=world.school)
    # A late sync brings January's test again after the erasure; a later run archives it
    # without replacing May's final score.
    ResultFactory(pupil=p3, product=world.results["p3_test_may"].product,
                  taken_on=datetime.date(2027, 1, 20), learning_goal_code="R-1", score=5)
    SummerErasure.objects.filter(school=world.school).update(held_back=1)
    erasure.erase_for_summer(ERASURE_DAY + datetime.timedelta(days=1), OPERATOR)
    assert archive(world.school)[(p3.pk, "R-1", "2026-2027")] == 8


def test_a_pupil_without_a_year_of_its_own_in_a_kindergarten_combination_group_is_kept(world):
    school = world.school
    combination = GroupFactory(school=school, jaargroep="C", name="Groep 1/2")
    PupilFactory(school=school, group=combination, jaargroep="1")
    unknown = PupilFactory(school=school, group=combination, jaargroep="")
    in_cluster = PupilFactory(school=school, group=combination, jaargroep="C")
    upper = GroupFactory(school=school, jaargroep="C", name="Groep 5/6")
    PupilFactory(school=school, group=upper, jaargroep="5")
    older = PupilFactory(school=school, group=upper, jaargroep="")
    kept = [ResultFactory(pupil=pupil, kind=OBS) for pupil in (unknown, in_cluster)]
    erased = ResultFactory(pupil=older, kind=OBS)

    erasure.erase_for_summer(ERASURE_DAY, OPERATOR, school=school)

    assert Result.objects.filter(pk__in=[r.pk for r in kept]).count() == 2
    assert not Result.objects.filter(pk=erased.pk).exists()


def test_the_daily_task_reminds_on_the_reminder_day_and_erases_on_the_erasure_day(
        world, monkeypatch, django_capture_on_commit_callbacks):
    def on(day):
        monkeypatch.setattr(erasure_tasks, "timezone", SimpleNamespace(localdate=lambda: day))
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            return erasure_tasks.summer_erasure()

    assert on(REMINDER_DAY - datetime.timedelta(days=1)) == {"reminders": 0, "erased": 0}
    assert on(REMINDER_DAY)["reminders"] > 0 and mail.outbox
    assert on(REMINDER_DAY + datetime.timedelta(days=1)) == {"reminders": 0, "erased": 0}
    assert Result.objects.count() == len(world.results)
    assert on(ERASURE_DAY) == {"reminders": 0, "erased": 9}
    assert on(ERASURE_DAY + datetime.timedelta(days=1)) == {"reminders": 0, "erased": 0}
    assert world.left() == KEPT


def test_the_task_runs_every_day_in_beat_and_the_worker_knows_it():
    entry = next(each for each in settings.CELERY_BEAT_SCHEDULE.values()
                 if each["task"] == erasure_tasks.summer_erasure.name)
    assert entry["schedule"].hour == {5}
    assert erasure_tasks.__name__ in settings.CELERY_IMPORTS


# --- The reminder ------------------------------------------------------------------------------

def messages_by_address():
    found = {}
    for message in mail.outbox:
        (address,) = message.to
        assert address not in found, f"two messages to {address}"
        found[address] = message
    return found


def test_coordinators_and_teachers_of_groups_with_results_get_one_reminder(
        world, django_capture_on_commit_callbacks):
    empty = SchoolFactory(name="De Lege School")
    CoordinatorFactory(school=empty, email="ict@leeg.example")

    with django_capture_on_commit_callbacks(execute=True):
        sent = erasure.send_erasure_reminders(REMINDER_DAY)

    messages = messages_by_address()
    # Group 1 has only kindergarten observations (kept): nothing to download before it.
    assert set(messages) == {"ict@regenboog.example", "meester.groep3@regenboog.example",
                             "juf.groep8@regenboog.example", "ict@delinde.example",
                             "juf@delinde.example"}
    assert sent == 5
    teacher = messages["meester.groep3@regenboog.example"]
    text = teacher.body
    assert teacher.subject == "Resultaten in Klaspoort worden op 21 juli 2027 gewist"
    assert "21 juli 2027" in text and "schooljaar 2026-2027" in text
    assert "eindscore van elk leerdoel" in text and "hele kleuterperiode bewaard" in text
    group3 = world.pupils["p3"].group
    assert f"Groep 3: {erasure.results_page_url(group3)}" in text
    assert "Groep 8" not in text
    html = teacher.alternatives[0][0]
    assert erasure.results_page_url(group3) in html
    coordinator = messages["ict@regenboog.example"].body
    assert settings.SITE_URL + "/leerkracht/" in coordinator
    assert "De Linde" not in coordinator


def test_the_reminder_goes_once_and_only_in_its_weeks(world, django_capture_on_commit_callbacks):
    def remind(day):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            queued = erasure.send_erasure_reminders(day)
        assert len(mail.outbox) == queued
        return queued

    assert remind(REMINDER_DAY - datetime.timedelta(days=1)) == 0
    # A worker that was down on the day catches up within the four weeks.
    assert remind(REMINDER_DAY + datetime.timedelta(days=2)) == 5
    assert remind(REMINDER_DAY + datetime.timedelta(days=3)) == 0
    assert remind(ERASURE_DAY - datetime.timedelta(days=1)) == 0
    assert SummerErasure.objects.filter(reminded_at__isnull=False).count() == 2


def test_a_school_that_switched_the_reminder_off_gets_none(world,
                                                          django_capture_on_commit_callbacks):
    regenboog = world.pupils["p3"].school
    School.objects.filter(pk=regenboog.pk).update(remind_results_erasure=False)
    with django_capture_on_commit_callbacks(execute=True):
        sent = erasure.send_erasure_reminders(REMINDER_DAY)
    # Neither its coordinators nor its teachers; the other school still hears.
    assert set(messages_by_address()) == {"ict@delinde.example", "juf@delinde.example"}
    assert sent == 2


def test_no_reminder_once_the_erasure_day_has_come(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert erasure.send_erasure_reminders(ERASURE_DAY) == 0
    assert mail.outbox == []


def test_a_coordinator_who_teaches_a_group_gets_one_message_with_the_group(
        world, coordinator, django_capture_on_commit_callbacks):
    teacher_group = world.pupils["p8"].group
    teacher = TeacherFactory(school=world.school, user=coordinator)
    TeacherGroup.objects.create(teacher=teacher, group=teacher_group)

    with django_capture_on_commit_callbacks(execute=True):
        erasure.send_erasure_reminders(REMINDER_DAY)

    message = messages_by_address()["ict@regenboog.example"]
    assert erasure.results_page_url(teacher_group) in message.body
    assert settings.SITE_URL + "/leerkracht/" in message.body


def test_a_cluster_teacher_is_reminded_too(world, django_capture_on_commit_callbacks):
    cluster = GroupFactory(school=world.school, kind="cluster", jaargroep="", name="Plusklas")
    PupilCluster.objects.create(pupil=world.pupils["p8"], group=cluster)
    teacher_of(cluster, "plusklas@regenboog.example")

    with django_capture_on_commit_callbacks(execute=True):
        erasure.send_erasure_reminders(REMINDER_DAY)

    assert "Plusklas" in messages_by_address()["plusklas@regenboog.example"].body


# --- The command -------------------------------------------------------------------------------

def run(*args):
    out, err = StringIO(), StringIO()
    call_command("erase-results", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_s_preview_prints_one_json_document_and_changes_nothing(world):
    before = snapshot()
    out, _ = run("--preview", "--day", "2027-07-01", "--json")
    assert snapshot() == before
    document = json.loads(out)
    assert document["status"] == "ok" and document["preview"] is True
    assert document["due"] is False and document["erasure_date"] == "2027-07-21"
    assert document["totals"] == {"erased": 9, "archived": 7, "kept": 3, "held_back": 0}
    assert {s["brin6"] for s in document["schools"]} == {world.school.brin6, world.other.brin6}


def test_the_command_erases_one_school_when_the_day_has_come(world):
    out, _ = run("--day", "2027-07-21", "--school", "99ZZ00", "--json")
    document = json.loads(out)
    assert document["preview"] is False
    assert [(s["brin6"], s["erased"]) for s in document["schools"]] == [("99ZZ00", 7)]
    assert world.left() == KEPT | {"linde_test", "linde_obs"}
    human, _ = run("--preview", "--day", "2027-07-21")
    assert "99ZZ00" not in human and "De Linde" in human


@pytest.mark.parametrize(("args", "message"), [
    (("--day", "2027-07-20"), "21 juli 2027"),
    (("--day", "20-07-2027"), "JJJJ-MM-DD"),
    (("--school", "00XX00", "--day", "2027-07-21"), "00XX00"),
])
def test_the_command_refuses_clearly_and_erases_nothing(world, args, message):
    before = snapshot()
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert snapshot() == before


def test_a_second_run_that_started_at_the_same_time_erases_nothing_more(world, monkeypatch):
    # Two runs at once (the task and an operator): both saw the school as still to do; the
    # second waits for the first's lock and then finds its record done.
    seen_first = erasure._schools_to_do(2027, world.school)
    erasure.erase_for_summer(ERASURE_DAY, None, school=world.school)
    late = ResultFactory(pupil=world.pupils["p8"], taken_on=datetime.date(2027, 7, 1))
    monkeypatch.setattr(erasure, "_schools_to_do", lambda year, school: seen_first)

    second = erasure.erase_for_summer(ERASURE_DAY, OPERATOR, school=world.school)

    assert second.schools == []
    assert Result.objects.filter(pk=late.pk).exists()
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_ERASE).count() == 1


def test_two_erasures_at_the_same_moment_erase_and_audit_once(shared_database, world,
                                                             monkeypatch):
    # The daily task and an operator's command at once: they queue on the school's record,
    # which the reminder made four weeks before.
    SummerErasure.objects.create(school=world.school, school_year="2026-2027",
                                 reminded_at=timezone.now())
    archive_slowly = erasure._archive

    def slow(*args):
        time.sleep(0.3)  # both runs are inside their transactions at the same time
        archive_slowly(*args)
    monkeypatch.setattr(erasure, "_archive", slow)
    done = at_once(2, lambda index: erasure.erase_for_summer(
        ERASURE_DAY, OPERATOR if index else None, school=world.school))

    assert [plan.failed for plan in done] == [[], []]  # the second waited, no error
    assert world.left(world.school) == KEPT
    assert sorted(s.erased for plan in done for s in plan.schools) == [7]
    assert AuditEntry.objects.filter(action=AuditAction.RESULTS_ERASE).count() == 1
    assert LearningGoalScore.objects.filter(school=world.school).count() == 6
