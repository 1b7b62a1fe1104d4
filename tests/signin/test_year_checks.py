"""Sign-in's items of the *Schooljaar-checklist*: pupils signing in from the school's
addresses during the last school days, the shortcuts, and the home sign-in setting. Each
state, and never another school's rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from klaspoort.accounts.models import User
from klaspoort.schools.checklist import AMBER, GREEN, OFF
from klaspoort.schools.models import SchoolNetwork
from klaspoort.signin.year_checks import home_signin_check, shortcuts_check, signins_check
from tests.factories import PupilFactory, SchoolFactory

DAY = datetime.date(2026, 12, 1)


def signed_in(pupil, day: datetime.date) -> None:
    User.objects.filter(pk=pupil.user_id).update(last_login=timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(9, 0))))


def with_address(school):
    SchoolNetwork.objects.create(school=school, network="198.51.100.0/24")
    return school


# --- pupils signing in from the school's addresses -------------------------------------------
def test_without_addresses_there_is_nothing_to_check(school):
    signed_in(PupilFactory(school=school), DAY)
    assert signins_check(school, DAY).state == OFF


def test_pupils_who_signed_in_this_week_make_it_green(school):
    with_address(school)
    signed_in(PupilFactory(school=school), DAY - datetime.timedelta(days=3))
    check = signins_check(school, DAY)
    assert check.state == GREEN
    assert check.facts == ["1 leerling heeft de afgelopen 7 dagen ingelogd."]
    assert check.fix_url.endswith(f"/{school.brin6}/ip-adressen/")


def test_no_pupil_signed_in_during_the_school_year_is_amber(school):
    with_address(school)
    signed_in(PupilFactory(school=school), DAY - datetime.timedelta(days=8))
    check = signins_check(school, DAY)
    assert check.state == AMBER
    assert check.facts[-1] == ("Geen enkele leerling heeft ingelogd: controleer of de adressen "
                               "van de school nog kloppen.")


def test_in_the_summer_holidays_no_sign_ins_are_expected(school):
    with_address(school)
    assert signins_check(school, datetime.date(2027, 8, 1)).state == OFF


def test_with_home_sign_in_on_the_item_says_some_may_be_from_home(school):
    with_address(school)
    school.home_signin_enabled = True
    school.save()
    signed_in(PupilFactory(school=school), DAY)
    assert ("Thuisinlog staat aan: een deel van hen kan thuis hebben ingelogd."
            in signins_check(school, DAY).facts)


def test_another_schools_pupils_never_count(school):
    with_address(school)
    signed_in(PupilFactory(school=with_address(SchoolFactory())), DAY)
    assert signins_check(school, DAY).state == AMBER


# --- shortcuts and home sign-in (informational) ---------------------------------------------
def test_the_shortcuts_item_informs_and_links_to_snelkoppelingen(school):
    check = shortcuts_check(school, DAY)
    assert check.state == OFF
    assert check.fix_url.endswith(f"/{school.brin6}/snelkoppelingen/")
    assert "Klaspoort houdt niet bij" in check.facts[0]


def test_the_home_sign_in_item_says_the_setting_as_it_stands(school):
    assert home_signin_check(school, DAY).facts == [
        "Thuisinlog staat uit: leerlingen kunnen alleen op school inloggen."]
    school.home_signin_enabled = True
    school.save()
    check = home_signin_check(school, DAY)
    assert check.state == OFF
    assert check.facts == ["Thuisinlog staat aan: leerlingen kunnen thuis inloggen."]
    assert check.fix_url.endswith(f"/{school.brin6}/gegevens/#home-signin-heading")
