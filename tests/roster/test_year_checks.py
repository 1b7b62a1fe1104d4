"""The roster's items of the *Schooljaar-checklist*: the last import (automatic coupling or
manual), last year's group 8, and the teachers. Each state, and never another school's rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from klaspoort.roster.models import RosterCoupling, RosterImport, TeacherGroup
from klaspoort.roster.year_checks import group8_check, import_check, teachers_check
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED
from tests.factories import (
    GroupFactory,
    LasSystemFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
)

DAY = datetime.date(2026, 12, 1)


def moment(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(2, 0)))


def an_import(school, status=RosterImport.Status.PROCESSED, *, on=DAY,
              source=RosterImport.Source.UPLOAD) -> RosterImport:
    record = RosterImport.objects.create(
        school=school, source=source, status=status, file_sha256="0" * 64, file_size=1,
        processed_at=moment(on) if status == RosterImport.Status.PROCESSED else None)
    RosterImport.objects.filter(pk=record.pk).update(received_at=moment(on))
    return record


# --- the last import --------------------------------------------------------------------------
def test_no_user_data_at_all_is_red(school):
    check = import_check(school, DAY)
    assert check.state == RED
    assert check.facts == ["Er zijn nog geen gebruikersgegevens ingelezen."]
    assert check.fix_url.endswith(f"/{school.brin6}/gebruikersgegevens/")


def test_a_recent_processed_import_is_green(school):
    an_import(school, on=DAY - datetime.timedelta(days=2))
    check = import_check(school, DAY)
    assert check.state == GREEN
    assert check.facts == ["Laatste import: handmatige import van 29 november 2026, verwerkt."]


def test_an_import_older_than_a_week_during_the_school_year_is_amber(school):
    an_import(school, on=DAY - datetime.timedelta(days=10))
    check = import_check(school, DAY)
    assert check.state == AMBER
    assert "De nieuwste gebruikersgegevens zijn 10 dagen oud." in check.facts


def test_an_old_import_in_the_summer_holidays_is_green(school):
    summer = datetime.date(2027, 7, 30)
    an_import(school, on=summer - datetime.timedelta(days=20))
    assert import_check(school, summer).state == GREEN


def test_a_failed_last_import_is_red_even_after_an_earlier_good_one(school):
    an_import(school, on=DAY - datetime.timedelta(days=3))
    an_import(school, RosterImport.Status.FAILED, on=DAY - datetime.timedelta(days=1))
    check = import_check(school, DAY)
    assert check.state == RED
    assert "mislukt" in check.facts[-1]


def test_a_held_last_import_is_red(school):
    an_import(school, RosterImport.Status.HELD, on=DAY)
    assert import_check(school, DAY).state == RED


def test_a_failed_fetch_of_the_automatic_coupling_is_red(school):
    an_import(school, on=DAY - datetime.timedelta(days=1), source=RosterImport.Source.COUPLING)
    RosterCoupling.objects.create(
        school=school, las=LasSystemFactory(name="ESIS"), active=True,
        last_fetch_at=moment(DAY), last_result=RosterCoupling.Result.FAILED,
        last_error={"message": "The LAS did not answer.", "params": {}})
    check = import_check(school, DAY)
    assert check.state == RED
    assert "ESIS" in check.facts[0] and "mislukt" in check.facts[0]


def test_a_fetch_without_changes_keeps_the_coupling_green(school):
    an_import(school, on=DAY - datetime.timedelta(days=30), source=RosterImport.Source.COUPLING)
    RosterCoupling.objects.create(
        school=school, las=LasSystemFactory(name="ESIS"), active=True,
        last_fetch_at=moment(DAY), last_result=RosterCoupling.Result.OK)
    assert import_check(school, DAY).state == GREEN


def test_another_schools_imports_never_count(school):
    an_import(SchoolFactory(), on=DAY)
    assert import_check(school, DAY).state == RED


# --- last year's group 8 --------------------------------------------------------------------
def test_group_8_still_there_in_august_without_a_new_roster_is_amber(school):
    an_import(school, on=datetime.date(2026, 6, 20))
    PupilFactory.create_batch(3, school=school, jaargroep="8")
    check = group8_check(school, datetime.date(2026, 8, 20))
    assert check.state == AMBER
    assert check.facts == ["3 leerlingen van jaargroep 8 zijn nog actief, en sinds 1 augustus "
                           "2026 zijn er geen gebruikersgegevens ingelezen."]


def test_group_8_still_there_in_september_is_red(school):
    an_import(school, on=datetime.date(2026, 6, 20))
    PupilFactory(school=school, jaargroep="8")
    assert group8_check(school, datetime.date(2026, 9, 2)).state == RED


def test_after_the_new_years_first_import_group_8_is_this_years_and_green(school):
    PupilFactory(school=school, jaargroep="8")
    an_import(school, on=datetime.date(2026, 8, 10))
    assert group8_check(school, datetime.date(2026, 9, 2)).state == GREEN


def test_gone_group_8_pupils_and_another_schools_group_8_do_not_count(school):
    an_import(school, on=datetime.date(2026, 6, 20))
    PupilFactory(school=school, jaargroep="8", active=False)
    PupilFactory(school=SchoolFactory(), jaargroep="8")
    assert group8_check(school, datetime.date(2026, 9, 2)).state == GREEN


# --- teachers -------------------------------------------------------------------------------
def linked_teacher(school, **kwargs):
    teacher = TeacherFactory(school=school, **kwargs)
    TeacherGroup.objects.create(teacher=teacher, group=GroupFactory(school=school))
    return teacher


def test_no_teachers_is_off(school):
    assert teachers_check(school, DAY).state == OFF


def test_teachers_with_a_group_and_their_own_address_are_green(school):
    linked_teacher(school, email="a@regenboog.example")
    linked_teacher(school, email="b@regenboog.example")
    check = teachers_check(school, DAY)
    assert check.state == GREEN
    assert check.facts == ["2 actieve leerkrachten."]


def test_a_teacher_without_a_group_is_amber(school):
    linked_teacher(school, email="a@regenboog.example")
    TeacherFactory(school=school, email="b@regenboog.example", first_name="Ruud",
                   last_name="Bakker")
    check = teachers_check(school, DAY)
    assert check.state == AMBER
    assert "1 leerkracht is niet aan een groep gekoppeld: Ruud Bakker." in check.facts


def test_a_teacher_without_an_address_is_amber(school):
    linked_teacher(school, email="", first_name="Ruud", last_name="Bakker")
    check = teachers_check(school, DAY)
    assert check.state == AMBER
    assert "1 leerkracht heeft geen e-mailadres: Ruud Bakker." in check.facts


def test_two_teachers_sharing_an_address_are_red(school):
    linked_teacher(school, email="groep5@regenboog.example")
    linked_teacher(school, email="Groep5@regenboog.example")
    check = teachers_check(school, DAY)
    assert check.state == RED
    assert ("E-mailadressen die bij meer dan één leerkracht staan: groep5@regenboog.example."
            in check.facts)


def test_the_same_address_at_another_school_and_inactive_teachers_do_not_count(school):
    linked_teacher(school, email="ict@regenboog.example")
    linked_teacher(SchoolFactory(), email="ict@regenboog.example")
    TeacherFactory(school=school, email="ict@regenboog.example", active=False)
    assert teachers_check(school, DAY).state == GREEN
