"""Signing in, choosing and switching schools, and the *Gegevens* page."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from klaspoort.roster import services
from klaspoort.roster.models import RosterImport
from klaspoort.schools import views as school_views
from klaspoort.schools.selectors import current_school_year
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory, UserFactory

LOGIN = reverse("accounts:login")


def test_the_login_page_is_dutch_with_labelled_fields(client, db):  # the CSP reads publishers
    page = client.get(LOGIN).content.decode()
    assert '<html lang="nl">' in page
    assert '<label for="id_username">E-mailadres</label>' in page
    assert '<label for="id_password">Wachtwoord</label>' in page
    assert ">Inloggen</button>" in page


def test_a_wrong_password_gives_a_clear_dutch_error(client, coordinator):
    response = client.post(LOGIN, {"username": coordinator.email, "password": "fout12345"})
    assert response.status_code == 200
    assert "Dit e-mailadres en wachtwoord horen niet bij elkaar" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_in_with_capitals_in_the_address_leads_to_the_only_school(
        client, coordinator, school):
    response = client.post(LOGIN, {"username": coordinator.email.upper(), "password": PASSWORD},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("schools:data",
                                                     kwargs={"brin6": school.brin6})
    assert school.name in response.content.decode()


def test_signing_out_is_a_post_and_ends_the_session(coordinator_client):
    page = coordinator_client.get(reverse("schools:home"), follow=True).content.decode()
    assert f'<form method="post" action="{reverse("accounts:logout")}">' in page
    response = coordinator_client.post(reverse("accounts:logout"))
    assert response["Location"] == LOGIN
    assert coordinator_client.get(reverse("schools:home")).status_code == 302


def test_a_coordinator_of_several_schools_chooses_one(client, school):
    other = SchoolFactory(name="OBS Het Kompas")
    user = CoordinatorFactory(school=school)
    user.school_memberships.create(school=other)
    client.force_login(user)
    page = client.get(reverse("schools:home")).content.decode()
    assert "Kies een school" in page
    assert reverse("schools:data", kwargs={"brin6": school.brin6}) in page
    assert reverse("schools:data", kwargs={"brin6": other.brin6}) in page


def test_a_user_without_a_school_gets_a_friendly_page(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("schools:home"))
    assert response.status_code == 200
    assert "Je beheert (nog) geen school" in response.content.decode()


def test_the_switcher_shows_only_with_several_schools_and_keeps_the_tab(client, school):
    user = CoordinatorFactory(school=school)
    client.force_login(user)
    pupils = reverse("roster:pupils", kwargs={"brin6": school.brin6})
    assert "Andere school" not in client.get(pupils).content.decode()

    other = SchoolFactory(name="OBS Het Kompas")
    user.school_memberships.create(school=other)
    page = client.get(pupils).content.decode()
    assert "Andere school" in page and "OBS Het Kompas" in page
    assert '<input type="hidden" name="tab" value="roster:pupils">' in page
    response = client.get(reverse("schools:switch"),
                          {"school": other.brin6, "tab": "roster:pupils"})
    assert response["Location"] == reverse("roster:pupils", kwargs={"brin6": other.brin6})


@pytest.mark.parametrize("tab", ["", "admin:index", "roster:group"])
def test_the_switcher_falls_back_to_gegevens_for_an_unknown_tab(coordinator_client, school, tab):
    response = coordinator_client.get(reverse("schools:switch"),
                                      {"school": school.brin6, "tab": tab})
    assert response["Location"] == reverse("schools:data", kwargs={"brin6": school.brin6})


def test_the_switcher_does_not_open_a_school_the_user_does_not_administer(coordinator_client):
    stranger_school = SchoolFactory()
    response = coordinator_client.get(reverse("schools:switch"),
                                      {"school": stranger_school.brin6})
    assert response.status_code == 404


def test_gegevens_shows_the_school_its_ids_and_counts(coordinator_client, school, school_file):
    school.dependancecode = "01"
    school.save()
    record = services.receive_roster_file(school_file(25, dependancecode="01"),
                                          source=RosterImport.Source.UPLOAD, school=school)
    services.process_import(record.pk)
    school.refresh_from_db()

    page = coordinator_client.get(reverse("schools:data", kwargs={"brin6": school.brin6}))
    text = page.content.decode()
    assert "Basisschool De Regenboog" in text
    for label, value in (("BRIN", "99ZZ"), ("Dependancecode", "01"), ("BRIN6", "99ZZ01"),
                         ("Schooljaar", "2025-2026"), ("School ID", school.public_id)):
        assert f"<dt>{label}</dt><dd>" in text and value in text
    assert "Verwerkt" in text
    assert "<dt>Actieve leerlingen</dt><dd>25</dd>" in text
    assert "<dt>Actieve leerkrachten</dt><dd>" in text
    assert "samengestelde groep" in text


def test_gegevens_before_any_import_says_so(coordinator_client, school):
    page = coordinator_client.get(reverse("schools:data", kwargs={"brin6": school.brin6}))
    assert "Nog geen import" in page.content.decode()
    assert "<dt>Actieve leerlingen</dt><dd>0</dd>" in page.content.decode()


@pytest.mark.parametrize("day, year", [
    ("2026-07-31", "2025-2026"), ("2026-08-01", "2026-2027"), ("2026-12-01", "2026-2027"),
    ("2027-01-01", "2026-2027"), ("2027-07-31", "2026-2027"), ("2027-08-01", "2027-2028"),
])
def test_the_current_school_year_follows_the_date_from_1_august_to_31_july(day, year):
    assert current_school_year(datetime.date.fromisoformat(day)) == year


def test_gegevens_on_1_december_2026_shows_school_year_2026_2027_whatever_the_last_roster_said(
        coordinator_client, school, monkeypatch):
    """Issue 11, item 6: the page showed the school year of the latest roster file."""
    school.school_year = "2025-2026"
    school.save()
    monkeypatch.setattr(school_views, "today", lambda: datetime.date(2026, 12, 1))
    text = coordinator_client.get(reverse("schools:data", kwargs={"brin6": school.brin6})
                                  ).content.decode()
    assert "<dt>Schooljaar</dt><dd>2026-2027 " in text
    assert "de laatste gebruikersgegevens zijn van schooljaar 2025-2026" in text
