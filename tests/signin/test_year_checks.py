"""Sign-in's items of the *Schooljaar-checklist*: pupils signing in from the school's
addresses during the last school days, the shortcuts, and the home sign-in setting. Each
state, and never another school's rows."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone

from klaspoort.schools.checklist import AMBER, GREEN, OFF
from klaspoort.schools.models import SchoolNetwork
from klaspoort.signin.models import SchoolSigninFacts
from klaspoort.signin.year_checks import home_signin_check, shortcuts_check, signins_check
from tests.factories import SchoolFactory
from tests.signin.test_pupil_signin import pick

DAY = datetime.date(2026, 12, 1)


def signed_in_at_school(school, day: datetime.date) -> None:
    SchoolSigninFacts.objects.update_or_create(school=school, defaults={
        "last_school_signin_at": timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(9, 0)))})


def with_address(school):
    SchoolNetwork.objects.create(school=school, network="198.51.100.0/24")
    return school


# --- pupils signing in from the school's addresses -------------------------------------------
def test_without_addresses_there_is_nothing_to_check(school):
    signed_in_at_school(school, DAY)
    assert signins_check(school, DAY).state == OFF


def test_pupils_who_signed_in_at_school_this_week_make_it_green(school):
    with_address(school)
    signed_in_at_school(school, DAY - datetime.timedelta(days=3))
    check = signins_check(school, DAY)
    assert check.state == GREEN
    assert check.facts == ["Leerlingen logden op school in vanaf de adressen van de school, "
                           "het laatst op 28 november 2026."]
    assert check.fix_url.endswith(f"/{school.brin6}/ip-adressen/")


def test_no_pupil_signed_in_at_school_during_the_school_year_is_amber(school):
    with_address(school)
    signed_in_at_school(school, DAY - datetime.timedelta(days=8))
    check = signins_check(school, DAY)
    assert check.state == AMBER
    assert check.facts[0] == ("De laatste keer dat een leerling op school inlogde was op "
                              "23 november 2026.")
    assert check.facts[-1].startswith("Geen enkele leerling logde de afgelopen 7 dagen op "
                                      "school in")


def test_in_the_summer_holidays_no_sign_ins_are_expected(school):
    with_address(school)
    assert signins_check(school, datetime.date(2027, 8, 1)).state == OFF


def test_another_schools_sign_ins_never_count(school):
    with_address(school)
    signed_in_at_school(with_address(SchoolFactory()), DAY)
    check = signins_check(school, DAY)
    assert check.state == AMBER and check.facts[0] == "Nog geen enkele leerling logde op school in."


def test_a_pupil_signing_in_at_school_turns_the_item_green(client, klas):
    """The sign-in itself notes it (at most once an hour per school)."""
    assert signins_check(klas.school, timezone.localdate()).state == AMBER
    pick(client, klas, klas.sam, klas.pictures)
    assert signins_check(klas.school, timezone.localdate()).state == GREEN


# --- shortcuts and home sign-in ---------------------------------------------------------------
def test_shortcuts_never_downloaded_are_amber_and_link_to_snelkoppelingen(school):
    check = shortcuts_check(school, DAY)
    assert check.state == AMBER
    assert check.fix_url.endswith(f"/{school.brin6}/snelkoppelingen/")
    assert check.facts[0].startswith("Niemand heeft de snelkoppelingen nog gedownload.")


def test_downloading_the_shortcuts_turns_the_item_green(coordinator_client, school):
    assert coordinator_client.get(reverse("shortcuts:pupils", args=[school.brin6])
                                  ).status_code == 200
    check = shortcuts_check(school, timezone.localdate())
    assert check.state == GREEN and "gedownload op" in check.facts[0]
    assert shortcuts_check(SchoolFactory(), timezone.localdate()).state == AMBER


def test_the_home_sign_in_item_says_the_setting_as_it_stands(school):
    assert home_signin_check(school, DAY).facts == [
        "Thuisinlog staat uit: leerlingen kunnen alleen op school inloggen."]
    school.home_signin_enabled = True
    school.save()
    check = home_signin_check(school, DAY)
    assert check.state == OFF
    assert check.facts == ["Thuisinlog staat aan: leerlingen kunnen thuis inloggen."]
    assert check.fix_url.endswith(f"/{school.brin6}/gegevens/#home-signin-heading")
