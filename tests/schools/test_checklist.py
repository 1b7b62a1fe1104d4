"""The *Schooljaar-checklist* (issue 16): the items every app answers, the school's own item
(its IP addresses), the Beheer page and the summary on Home."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from klaspoort.schools import views as school_views
from klaspoort.schools.checklist import AMBER, GREEN, OFF, RED, CheckItem, checks_for, summarise
from klaspoort.schools.models import SchoolMembership, SchoolNetwork
from klaspoort.schools.year_checks import networks_check
from tests.factories import PASSWORD, CoordinatorFactory, SchoolFactory

DAY = datetime.date(2026, 12, 1)


def item(items: list[CheckItem], key: str) -> CheckItem:
    return next(each for each in items if each.key == key)


@pytest.fixture
def fixed_day(monkeypatch):
    monkeypatch.setattr(school_views, "today", lambda: DAY)


def test_every_app_answers_the_checklist_in_its_order(school):
    keys = [each.key for each in checks_for(school, DAY)]
    assert keys == [
        "roster.import", "roster.group8", "roster.teachers", "schools.networks",
        "signin.recent", "licences.consents", "licences.group_links", "licences.child_seats",
        "licences.contracts_ending", "results.couplings", "results.erasure",
        "signin.shortcuts", "signin.home"]


def test_a_school_without_ip_addresses_is_red_and_links_to_ip_adressen(school):
    check = networks_check(school, DAY)
    assert check.state == RED
    assert check.fix_url == reverse("schools:networks", kwargs={"brin6": school.brin6})
    assert check.facts == [
        "Er is geen IP-adres ingevoerd: leerlingen kunnen op school niet inloggen."]


def test_a_school_with_an_ip_address_is_green_and_another_schools_address_never_counts(school):
    SchoolNetwork.objects.create(school=SchoolFactory(), network="192.0.2.0/24")
    assert networks_check(school, DAY).state == RED
    SchoolNetwork.objects.create(school=school, network="198.51.100.7")
    check = networks_check(school, DAY)
    assert check.state == GREEN
    assert "198.51.100.7" in check.facts[0]
    assert "192.0.2.0/24" not in check.facts[0]


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError):
        CheckItem(key="x", title="x", state="purple")


def test_the_summary_counts_red_and_amber_only():
    items = [CheckItem(key=str(n), title="t", state=state)
             for n, state in enumerate([RED, RED, AMBER, GREEN, OFF])]
    summary = summarise(items)
    assert (summary.red, summary.amber, summary.all_clear) == (2, 1, False)
    assert summarise([CheckItem(key="g", title="t", state=GREEN)]).all_clear


def test_the_checklist_page_lists_every_item_in_dutch_with_state_in_words_and_the_fix_link(
        coordinator_client, school, fixed_day):
    response = coordinator_client.get(reverse("schools:checklist", args=[school.brin6]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Schooljaar-checklist</h1>" in page
    assert "voor schooljaar 2026-2027" in page
    assert "IP-adressen van de school" in page
    assert "Er is geen IP-adres ingevoerd: leerlingen kunnen op school niet inloggen." in page
    assert "Actie nodig" in page and "Ter informatie" in page
    # The state is said in words, its sign hidden from screen readers (not colour alone).
    assert '<span aria-hidden="true">✗ </span>Actie nodig' in page
    assert f'href="{reverse("schools:networks", args=[school.brin6])}"' in page
    assert "Naar IP-adressen" in page
    # The tab is in Beheer's navigation, marked as the current one.
    assert 'aria-current="page"' in page.split("Schooljaar-checklist</a>")[0][-300:]


def test_the_checklist_of_another_school_is_not_found(coordinator_client, db):
    other = SchoolFactory()
    response = coordinator_client.get(reverse("schools:checklist", args=[other.brin6]))
    assert response.status_code == 404


def test_home_shows_the_number_of_red_and_amber_items_with_a_link(
        coordinator_client, school, fixed_day):
    response = coordinator_client.get(reverse("schools:home"), follow=True)
    page = response.content.decode()
    red = summarise(checks_for(school, DAY)).red
    assert red >= 1  # no IP addresses, no user data
    assert f"{red} onderdelen vragen actie" in page
    assert f'href="{reverse("schools:checklist", args=[school.brin6])}"' in page
    assert "Open de schooljaar-checklist" in page


def test_home_with_several_schools_shows_each_schools_summary(client, school, fixed_day):
    coordinator = CoordinatorFactory(school=school)
    other = SchoolFactory(name="Basisschool Het Anker")
    SchoolMembership.objects.create(user=coordinator, school=other)
    SchoolNetwork.objects.create(school=other, network="198.51.100.7")
    assert client.login(email=coordinator.email, password=PASSWORD)
    page = client.get(reverse("schools:home")).content.decode()
    for each in (school, other):
        assert reverse("schools:checklist", args=[each.brin6]) in page
    # The other school has an address, so one item fewer needs action there.
    assert (summarise(checks_for(school, DAY)).red
            == summarise(checks_for(other, DAY)).red + 1)
