"""*Licentiebeheer* through the test client: what a coordinator sees and can do, and that bad
input or another school's ids never change anything."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from klaspoort.licences import services, views
from klaspoort.licences import urls as licence_urls
from klaspoort.licences.models import ChildLicence, Contract, GroupLicence
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
)

TODAY = datetime.date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The pages judge contracts by this day (start 1 August 2026, school year 2026-2027)."""
    monkeypatch.setattr(views, "today", lambda: TODAY)


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6, **kwargs})


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def contract_for(school, *, years=(5,), name="Pluspunt 4", number="MB-100201", **kwargs):
    product = kwargs.pop("product", None) or ProductFactory(
        name=name, year_groups=list(years),
        publisher=kwargs.pop("publisher", None) or PublisherFactory(name="Malmberg",
                                                                     slug="malmberg"))
    kwargs.setdefault("start", datetime.date(2026, 8, 1))
    kwargs.setdefault("end", datetime.date(2029, 7, 31))
    return ContractFactory(school=school, product=product, number=number,
                           title=kwargs.pop("title", f"{name} oefensoftware"), **kwargs)


def row_of(html: str, number: str) -> str:
    match = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(number)}</a>.*?</tr>",
                      html, re.S)
    assert match, f"no row for {number}"
    return match.group(0)


def cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def refusal(service, *args: Any, **kwargs: Any) -> str:
    """The Dutch message a service refuses with (the rule's own words, shown as they are)."""
    with translation.override("nl"), pytest.raises(ValidationError) as refused:
        service(*args, **kwargs)
    return " ".join(refused.value.messages)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------
def test_licentiebeheer_is_a_beheer_tab_and_shows_the_seeds_columns(coordinator_client, school):
    contract = contract_for(school)
    html = page(coordinator_client.get(url("licences:contracts", school)))
    assert f'href="{url("licences:contracts", school)}" aria-current="page">Licentiebeheer</a>' \
        in html
    assert "<h1>Licentiebeheer</h1>" in html
    for column in ("Contractnr.", "Titel", "Uitgeverij", "Startdatum", "Einddatum", "Type",
                   "Groepen", "Kinderen", "Status"):
        assert re.search(rf'<th scope="col"[^>]*>{re.escape(column)}</th>', html), column
    row = row_of(html, "MB-100201")
    assert url("licences:contract_groups", school, contract_id=contract.pk) in row
    assert cells(row)[0].startswith("Pluspunt 4 oefensoftware")
    assert cells(row)[1:7] == ["Malmberg", "01-08-2026", "31-07-2029", "Normaal", "0", "0"]
    assert "loopt" in row


def test_every_licence_page_renders_for_the_coordinator(coordinator_client, school):
    group_contract = contract_for(school)
    child_contract = contract_for(school, number="MB-9", name="Taal actief 4",
                                  contract_type=Contract.Type.CHILD, seats=3)
    for address, heading in (
            (url("licences:contracts", school), "Licentiebeheer"),
            (url("licences:child_contracts", school), "Licentiebeheer"),
            (url("licences:contract_groups", school, contract_id=group_contract.pk),
             "Pluspunt 4 oefensoftware"),
            (url("licences:contract_children", school, contract_id=group_contract.pk),
             "Pluspunt 4 oefensoftware"),
            (url("licences:contract_children", school, contract_id=child_contract.pk),
             "Taal actief 4 oefensoftware"),
            (url("licences:cancel", school, contract_id=group_contract.pk),
             "Pluspunt 4 oefensoftware opzeggen")):
        html = page(coordinator_client.get(address))
        assert re.search(rf"<h1( [^>]*)?>{re.escape(heading)}</h1>", html), address
        assert 'aria-current="page">Licentiebeheer</a>' in html, address


def test_the_status_column_tells_running_future_ended_cancelled_and_to_be_ended(
        coordinator_client, school):
    old = ProductFactory(name="Pluspunt 3")
    new = ProductFactory(name="Pluspunt 4", publisher=old.publisher, replaces=old)
    contract_for(school, product=old, number="OLD", start=datetime.date(2024, 8, 1),
                 end=datetime.date(2027, 7, 31))
    contract_for(school, product=new, number="NEW")
    contract_for(school, number="FUTURE", name="Kleuterplein", start=datetime.date(2027, 8, 1))
    contract_for(school, number="ENDED", name="Estafette", start=datetime.date(2024, 8, 1),
                 end=datetime.date(2025, 7, 31))
    contract_for(school, number="CANCELLED", name="Taal actief 4",
                 cancelled_at=datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC),
                 cancelled_until=datetime.date(2027, 7, 31))
    html = page(coordinator_client.get(url("licences:contracts", school)))
    assert "te beëindigen" in row_of(html, "OLD")
    assert "loopt" in row_of(html, "NEW")
    assert "toekomstig" in row_of(html, "FUTURE")
    assert "verlopen" in row_of(html, "ENDED")
    assert "opgezegd" in row_of(html, "CANCELLED")
    # A cancelled contract shows the day it really ends.
    assert "31-07-2027" in row_of(html, "CANCELLED")


def test_filters_by_publisher_and_product_type_as_a_page_and_in_place(
        coordinator_client, school):
    malmberg = PublisherFactory(name="Malmberg", slug="malmberg")
    noordhoff = PublisherFactory(name="Noordhoff", slug="noordhoff")
    contract_for(school, publisher=malmberg, number="MB-1", name="Pluspunt 4")
    contract_for(school, publisher=malmberg, number="MB-2", name="Kleuterplein",
                 product=ProductFactory(publisher=malmberg, name="Kleuterplein",
                                        product_type="digibordsoftware"))
    contract_for(school, publisher=noordhoff, number="NH-1", name="Wereld in getallen 5")
    address = url("licences:contracts", school)

    html = page(coordinator_client.get(address, {"uitgeverij": noordhoff.pk}))
    assert "NH-1" in html and "MB-1" not in html and "MB-2" not in html
    assert "1 licentie" in html

    html = page(coordinator_client.get(address, {"uitgeverij": malmberg.pk,
                                                 "soort": "digibordsoftware"}))
    assert "MB-2" in html and "MB-1" not in html and "NH-1" not in html

    # htmx asks for the table only; the filter form stays as it is.
    partial = page(coordinator_client.get(address, {"soort": "oefensoftware"},
                                          HTTP_HX_REQUEST="true",
                                          HTTP_HX_TARGET="contract-table"))
    assert "<html" not in partial and "<form" not in partial
    assert "MB-1" in partial and "NH-1" in partial and "MB-2" not in partial

    # Nonsense in the address is ignored, not an error.
    html = page(coordinator_client.get(address, {"uitgeverij": "abc", "soort": "<script>"}))
    assert all(number in html for number in ("MB-1", "MB-2", "NH-1"))
    html = page(coordinator_client.get(address, {"soort": "toetsen"}))
    assert "Geen licentie voldoet aan dit filter." in html


def test_per_group_and_per_child_licences_each_have_their_own_list(coordinator_client, school):
    contract_for(school, number="GROUP-1")
    child = contract_for(school, number="CHILD-1", name="Taal actief 4",
                         contract_type=Contract.Type.CHILD, seats=8)
    pupil = PupilFactory(school=school, group=GroupFactory(school=school))
    services.link_child(school=school, contract=child, pupil=pupil, actor=None)
    groups_html = page(coordinator_client.get(url("licences:contracts", school)))
    assert "GROUP-1" in groups_html and "CHILD-1" not in groups_html
    assert "Er is ook 1 licentie per kind" in groups_html
    html = page(coordinator_client.get(url("licences:child_contracts", school)))
    assert "CHILD-1" in html and "GROUP-1" not in html
    row = cells(row_of(html, "CHILD-1"))
    assert "per kind" in row
    assert "1 / 8" in row and "7" in row  # used of seats, and still available


# ---------------------------------------------------------------------------------------------
# Groepen gekoppeld
# ---------------------------------------------------------------------------------------------
def test_linking_one_group_shows_it_linked_by_hand_and_counts_it(coordinator_client, school):
    contract = contract_for(school)
    group = GroupFactory(school=school, name="Groep 5a")
    address = url("licences:contract_groups", school, contract_id=contract.pk)
    html = page(coordinator_client.get(address))
    assert "Groep toevoegen" in html and "Groep 5a" in html
    response = coordinator_client.post(
        url("licences:link_groups", school, contract_id=contract.pk), {"groups": [group.pk]},
        follow=True)
    html = page(response)
    assert "Groep 5a is aan deze licentie gekoppeld." in html
    linked = html.split("Groep toevoegen")[0]
    assert "<th scope=\"row\">Groep 5a</th>" in linked and "handmatig" in linked
    assert GroupLicence.objects.get(contract=contract, group=group).automatic is False
    table = page(coordinator_client.get(url("licences:contracts", school)))
    assert cells(row_of(table, contract.number))[5] == "1"


def test_several_groups_at_once_and_a_double_submit_links_each_once(coordinator_client, school):
    contract = contract_for(school)
    a = GroupFactory(school=school, name="Groep 4")
    b = GroupFactory(school=school, name="Groep 6")
    address = url("licences:link_groups", school, contract_id=contract.pk)
    for _ in range(2):
        response = coordinator_client.post(address, {"groups": [a.pk, b.pk]}, follow=True)
    assert "Groep 4, Groep 6 zijn aan deze licentie gekoppeld." in page(response)
    assert GroupLicence.objects.filter(contract=contract).count() == 2
    table = page(coordinator_client.get(url("licences:contracts", school)))
    assert cells(row_of(table, contract.number))[5] == "2"


def test_removing_a_group_sticks_even_when_automatic_linking_runs_again(
        coordinator_client, school):
    contract = contract_for(school, years=(5,))
    group = GroupFactory(school=school, name="Groep 5b", jaargroep="5")
    services.auto_link(school, today=TODAY)
    address = url("licences:contract_groups", school, contract_id=contract.pk)
    linked = page(coordinator_client.get(address)).split("Groep toevoegen")[0]
    assert "Groep 5b" in linked and "automatisch" in linked

    response = coordinator_client.post(
        url("licences:unlink_group", school, contract_id=contract.pk),
        {"group": group.pk, "confirmed": "1"}, follow=True)
    html = page(response)
    assert "Groep 5b is niet meer aan deze licentie gekoppeld." in html
    services.auto_link(school, today=TODAY)
    html = page(coordinator_client.get(address))
    linked = html.split("Handmatig verwijderd")[0]
    assert "<th scope=\"row\">Groep 5b</th>" not in linked
    assert "Er is nog geen groep aan deze licentie gekoppeld." in linked
    assert "Groep 5b \N{EN DASH} verwijderd op" in html
    assert not GroupLicence.objects.filter(contract=contract, removed_at__isnull=True).exists()


@pytest.mark.parametrize("posted", [{}, {"groups": ["abc"]}, {"groups": ["1e3"]},
                                    {"groups": ["9" * 40]}, {"groups": ["1 OR 1=1"]}])
def test_bad_group_choices_give_a_dutch_message_and_change_nothing(coordinator_client, school,
                                                                   posted):
    contract = contract_for(school)
    response = coordinator_client.post(
        url("licences:link_groups", school, contract_id=contract.pk), posted, follow=True)
    assert re.search(r"Kies (ten minste één groep|een groep uit de lijst)\.", page(response))
    assert not GroupLicence.objects.exists()


def test_removing_with_a_group_that_is_no_number_is_a_message(coordinator_client, school):
    contract = contract_for(school)
    group = GroupFactory(school=school)
    services.link_group(school=school, contract=contract, group=group, actor=None)
    response = coordinator_client.post(
        url("licences:unlink_group", school, contract_id=contract.pk), {"group": "twee"},
        follow=True)
    assert "Kies een groep uit de lijst." in page(response)
    assert GroupLicence.objects.filter(removed_at__isnull=True).count() == 1


def test_groups_cannot_be_linked_to_a_per_child_licence(coordinator_client, school):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=2)
    group = GroupFactory(school=school)
    # Its licence page is the children tab: there is nothing to do with groups.
    response = coordinator_client.get(url("licences:contract_groups", school,
                                          contract_id=contract.pk))
    assert response.status_code == 302
    response = coordinator_client.post(
        url("licences:link_groups", school, contract_id=contract.pk), {"groups": [group.pk]},
        follow=True)
    assert "Er is niets gewijzigd." in page(response)
    assert not GroupLicence.objects.exists()


# ---------------------------------------------------------------------------------------------
# Kinderen gekoppeld
# ---------------------------------------------------------------------------------------------
def test_a_child_of_another_group_is_linked_by_choosing_group_then_child(
        coordinator_client, school):
    contract = contract_for(school)
    own = GroupFactory(school=school, name="Groep 5")
    services.link_group(school=school, contract=contract, group=own, actor=None)
    other = GroupFactory(school=school, name="Groep 4")
    child = PupilFactory(school=school, group=other, first_name="Daan", last_name="de Vries")
    children_url = url("licences:contract_children", school, contract_id=contract.pk)

    # Step 1 without JavaScript: the group, by a GET form.
    html = page(coordinator_client.get(children_url))
    assert "Kind toevoegen" in html and "1. Kies de groep van het kind" in html
    assert 'name="pupil"' not in html
    html = page(coordinator_client.get(children_url, {"groep": other.pk}))
    assert "2. Kies het kind (uit Groep 4)" in html
    assert f'<option value="{child.pk}">{child.sort_name}</option>' in html
    # With htmx only the child choice is loaded.
    partial = page(coordinator_client.get(children_url, {"groep": other.pk},
                                          HTTP_HX_REQUEST="true", HTTP_HX_TARGET="child-picker"))
    assert "<html" not in partial and f'<option value="{child.pk}">' in partial

    response = coordinator_client.post(
        url("licences:link_child", school, contract_id=contract.pk),
        {"groep": other.pk, "pupil": child.pk}, follow=True)
    html = page(response)
    assert "Daan de Vries is aan deze licentie gekoppeld." in html
    assert ChildLicence.objects.filter(contract=contract, pupil=child).count() == 1
    assert "Groep 4" in html.split("Kind toevoegen")[0]
    # Linked already: no longer offered.
    assert f'<option value="{child.pk}">{child.sort_name}</option>' not in html
    table = page(coordinator_client.get(url("licences:contracts", school)))
    assert cells(row_of(table, contract.number))[5:7] == ["1", "1"]


def test_per_child_licences_run_out_with_a_clear_message(coordinator_client, school):
    contract = contract_for(school, name="Taal actief 4", contract_type=Contract.Type.CHILD,
                            seats=2)
    group = GroupFactory(school=school, name="Groep 7")
    pupils = [PupilFactory(school=school, group=group, first_name=f"Kind{i}")
              for i in range(3)]
    address = url("licences:link_child", school, contract_id=contract.pk)
    children_url = url("licences:contract_children", school, contract_id=contract.pk)
    assert "Er zijn nog 2 licenties beschikbaar." in page(coordinator_client.get(children_url))
    for pupil in pupils[:2]:
        coordinator_client.post(address, {"groep": group.pk, "pupil": pupil.pk,
                                          "confirmed": "1"})
    html = page(coordinator_client.get(children_url))
    assert "2 van 2" in html
    assert "Alle 2 licenties van dit contract zijn in gebruik." in html
    response = coordinator_client.post(address, {"groep": group.pk, "pupil": pupils[2].pk},
                                       follow=True)
    assert ChildLicence.objects.filter(contract=contract).count() == 2
    assert messages_of(response) == refusal(services.link_child, school=school,
                                            contract=contract, pupil=pupils[2], actor=None)
    table = page(coordinator_client.get(url("licences:child_contracts", school)))
    assert "2 / 2" in cells(row_of(table, contract.number))


def test_a_coordinator_cannot_unlink_a_child_licence_and_is_told_who_can(
        coordinator_client, school):
    contract = contract_for(school, contract_type=Contract.Type.CHILD, seats=5)
    pupil = PupilFactory(school=school, group=GroupFactory(school=school))
    services.link_child(school=school, contract=contract, pupil=pupil, actor=None)
    html = page(coordinator_client.get(url("licences:contract_children", school,
                                           contract_id=contract.pk)))
    linked = html.split('id="linked-children-heading"')[1].split("Kind toevoegen")[0]
    assert pupil.sort_name in linked
    assert "<form" not in linked and "<button" not in linked
    assert "Een kindlicentie kun je niet zelf ontkoppelen" in html
    assert "helpdesk van de uitgeverij" in html
    assert not any("unlink" in p.name and "child" in p.name for p in licence_urls.urlpatterns)


def test_bad_child_choices_never_crash_and_change_nothing(coordinator_client, school):
    contract = contract_for(school)
    children_url = url("licences:contract_children", school, contract_id=contract.pk)
    html = page(coordinator_client.get(children_url, {"groep": "vijf"}))
    assert "Kies een groep uit de lijst." in html
    address = url("licences:link_child", school, contract_id=contract.pk)
    for posted in ({}, {"pupil": "abc"}, {"pupil": "-1"}, {"pupil": "1" * 30}):
        response = coordinator_client.post(address, posted, follow=True)
        assert "Kies een kind uit de lijst." in page(response)
    other_school_pupil = PupilFactory(school=SchoolFactory())
    assert coordinator_client.post(address, {"pupil": other_school_pupil.pk}).status_code == 404
    other_group = GroupFactory(school=SchoolFactory())
    assert coordinator_client.get(children_url, {"groep": other_group.pk}).status_code == 404
    assert not ChildLicence.objects.exists()


# ---------------------------------------------------------------------------------------------
# Opzeggen
# ---------------------------------------------------------------------------------------------
def test_opzeggen_asks_to_confirm_then_ends_the_contract_after_this_school_year(
        coordinator_client, school, monkeypatch):
    monkeypatch.setattr(views, "today", lambda: datetime.date(2027, 6, 30))
    contract = contract_for(school)
    html = page(coordinator_client.get(url("licences:contract_groups", school,
                                           contract_id=contract.pk)))
    cancel_url = url("licences:cancel", school, contract_id=contract.pk)
    assert f'href="{cancel_url}"' in html and ">Opzeggen</a>" in html
    html = page(coordinator_client.get(cancel_url))
    assert "eindigt dan op 31-07-2027" in html and "Ja, zeg dit contract op" in html
    contract.refresh_from_db()
    assert contract.cancelled_at is None  # looking is not cancelling

    # An unconfirmed POST only asks (the confirm pattern); the confirmed one cancels.
    assert "Ja, zeg dit contract op" in page(coordinator_client.post(cancel_url))
    assert Contract.objects.get(pk=contract.pk).cancelled_at is None
    response = coordinator_client.post(cancel_url, {"confirmed": "1"}, follow=True)
    html = page(response)
    assert "Het contract is opgezegd. Het loopt tot en met 31-07-2027." in html
    contract.refresh_from_db()
    assert contract.cancelled_until == datetime.date(2027, 7, 31)
    assert "opgezegd" in cells(row_of(page(coordinator_client.get(
        url("licences:contracts", school))), contract.number))[-1]

    # A second click changes nothing and says why.
    response = coordinator_client.post(cancel_url, follow=True)
    assert messages_of(response) == refusal(services.cancel_contract, school=school,
                                            contract=contract, actor=None,
                                            today=datetime.date(2027, 6, 30))
    assert Contract.objects.get(pk=contract.pk).cancelled_at == contract.cancelled_at


def test_opzeggen_after_30_june_is_refused_and_changes_nothing(coordinator_client, school,
                                                               monkeypatch):
    monkeypatch.setattr(views, "today", lambda: datetime.date(2027, 7, 1))
    contract = contract_for(school)
    cancel_url = url("licences:cancel", school, contract_id=contract.pk)
    html = page(coordinator_client.get(cancel_url))
    assert "kan nu niet worden opgezegd" in html and "Ja, zeg dit contract op" not in html
    assert ">Opzeggen</a>" not in page(coordinator_client.get(
        url("licences:contract_groups", school, contract_id=contract.pk)))
    response = coordinator_client.post(cancel_url, follow=True)
    assert messages_of(response) == refusal(services.cancel_contract, school=school,
                                            contract=contract, actor=None,
                                            today=datetime.date(2027, 7, 1))
    assert "30" in messages_of(response)
    contract.refresh_from_db()
    assert contract.cancelled_at is None


# ---------------------------------------------------------------------------------------------
# Tenancy
# ---------------------------------------------------------------------------------------------
def test_a_coordinator_of_another_school_gets_404_and_changes_nothing(client, school):
    contract = contract_for(school)
    group = GroupFactory(school=school)
    pupil = PupilFactory(school=school, group=group)
    other_school = SchoolFactory()
    client.force_login(CoordinatorFactory(school=other_school))
    # Under the other school's address, and under their own school with this school's ids.
    for brin6_school in (school, other_school):
        for name in ("contract_groups", "contract_children", "cancel"):
            assert client.get(url(f"licences:{name}", brin6_school, contract_id=contract.pk)
                              ).status_code == 404
        for name, data in (("link_groups", {"groups": [group.pk]}),
                           ("unlink_group", {"group": group.pk}),
                           ("link_child", {"pupil": pupil.pk}), ("cancel", {})):
            response = client.post(url(f"licences:{name}", brin6_school, contract_id=contract.pk),
                                   data)
            assert response.status_code == 404, name
    for name in ("contracts", "child_contracts"):
        assert client.get(url(f"licences:{name}", school)).status_code == 404
    assert contract.number not in page(client.get(url("licences:contracts", other_school)))
    # Their own contract with this school's group or child: also 404.
    own = contract_for(other_school, number="OWN-1")
    assert client.post(url("licences:link_groups", other_school, contract_id=own.pk),
                       {"groups": [group.pk]}).status_code == 404
    assert client.post(url("licences:link_child", other_school, contract_id=own.pk),
                       {"pupil": pupil.pk}).status_code == 404
    assert not GroupLicence.objects.exists() and not ChildLicence.objects.exists()
    contract.refresh_from_db()
    assert contract.cancelled_at is None


def test_an_unknown_licence_is_404(coordinator_client, school):
    assert coordinator_client.get(url("licences:contract_groups", school, contract_id=999999)
                                  ).status_code == 404


# ---------------------------------------------------------------------------------------------
# Every status text agrees with the actions on offer (issue 11, item 6)
# ---------------------------------------------------------------------------------------------
CANCELLED_AT = datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC)


@pytest.mark.parametrize("day, contract_kwargs, newer, status, may_cancel", [
    # An older version the school must end, long-running: Opzeggen is there.
    ("2026-11-23", {"end": datetime.date(2029, 7, 31)}, True, "te beëindigen", True),
    # The same, but it ends this school year anyway: nothing to cancel (the reported case).
    ("2026-11-23", {"start": datetime.date(2024, 8, 1), "end": datetime.date(2027, 7, 31)},
     True, "te beëindigen", False),
    # The same after 30 June: too late, the publisher is the one to contact.
    ("2027-07-01", {"end": datetime.date(2029, 7, 31)}, True, "te beëindigen", False),
    ("2026-11-23", {}, False, "loopt", True),
    ("2027-07-01", {}, False, "loopt", False),
    ("2026-11-23", {"start": datetime.date(2027, 8, 1)}, False, "toekomstig", True),
    ("2026-11-23", {"cancelled_at": CANCELLED_AT, "cancelled_until": datetime.date(2027, 7, 31)},
     True, "opgezegd", False),
    # Cancelled before it started: it never runs, and says so (it is not "toekomstig").
    ("2026-11-23", {"start": datetime.date(2027, 8, 1), "cancelled_at": CANCELLED_AT,
                    "cancelled_until": datetime.date(2027, 7, 31)}, False, "opgezegd", False),
    ("2026-11-23", {"start": datetime.date(2023, 8, 1), "end": datetime.date(2025, 7, 31)},
     False, "verlopen", False),
])
def test_every_status_text_matches_the_actions_on_offer(
        coordinator_client, school, monkeypatch, day, contract_kwargs, newer, status, may_cancel):
    today = datetime.date.fromisoformat(day)
    monkeypatch.setattr(views, "today", lambda: today)
    old = ProductFactory(name="Pluspunt 3")
    contract = contract_for(school, product=old, number="OLD", **contract_kwargs)
    if newer:
        contract_for(school, product=ProductFactory(name="Pluspunt 4", publisher=old.publisher,
                                                    replaces=old), number="NEW")
    table = page(coordinator_client.get(url("licences:contracts", school)))
    assert cells(row_of(table, "OLD"))[-1] == status
    licence_page = page(coordinator_client.get(url("licences:contract_groups", school,
                                                   contract_id=contract.pk)))
    cancel_page = page(coordinator_client.get(url("licences:cancel", school,
                                                  contract_id=contract.pk)))
    # The button, the request to cancel and the confirmation are there together or not at all.
    assert (">Opzeggen</a>" in licence_page) is may_cancel
    assert ("zeg hem op" in licence_page) is (may_cancel and status == "te beëindigen")
    assert ("Ja, zeg dit contract op" in cancel_page) is may_cancel
    if status == "te beëindigen":
        assert "nieuwere versie" in licence_page  # and the page says why, with what to do
    # ... and the cancellation itself follows the same rule.
    coordinator_client.post(url("licences:cancel", school, contract_id=contract.pk),
                            {"confirmed": "1"})
    contract_after = Contract.objects.get(pk=contract.pk)
    assert (contract_after.cancelled_at != contract.cancelled_at) is may_cancel


# ---------------------------------------------------------------------------------------------
# Irreversible actions ask first, with the numbers (issue 11, item 2)
# ---------------------------------------------------------------------------------------------
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["without JavaScript", "with htmx"])
def test_kind_toevoegen_on_a_per_child_licence_asks_first_with_the_seats(
        coordinator_client, school, headers):
    contract = contract_for(school, name="Taal actief 4", contract_type=Contract.Type.CHILD,
                            seats=25)
    group = GroupFactory(school=school, name="Groep 7")
    ChildLicenceFactory(contract=contract, pupil=PupilFactory(school=school, group=group))
    noor = PupilFactory(school=school, group=group, first_name="Noor", last_name="de Jong")
    address = url("licences:link_child", school, contract_id=contract.pk)
    children = url("licences:contract_children", school, contract_id=contract.pk)
    # The form htmx sends shows the question in place of the child picker.
    picker = page(coordinator_client.get(f"{children}?groep={group.pk}"))
    assert f'hx-post="{address}" hx-target="#child-picker"' in picker

    asked = coordinator_client.post(address, {"groep": group.pk, "pupil": noor.pk}, **headers)
    html = page(asked)
    assert "Dit gebruikt 1 van de 25 plaatsen; alleen de uitgeverij kan die weer vrijmaken." \
        in html
    assert "Daarna zijn er nog 23 plaatsen vrij." in html
    assert "Ja, koppel Noor de Jong" in html and f'href="{children}?groep={group.pk}"' in html
    assert "Nee, terug" in html and 'name="confirmed" value="1"' in html
    # A fragment for htmx, a whole page without JavaScript.
    assert ("<html" in html) is (not headers)
    assert not ChildLicence.objects.filter(pupil=noor).exists()  # nothing until confirmed

    done = coordinator_client.post(address, {"groep": group.pk, "pupil": noor.pk,
                                             "confirmed": "1"}, **headers)
    assert ChildLicence.objects.filter(pupil=noor, contract=contract).exists()
    target = f"{children}?groep={group.pk}"
    if headers:
        assert done.status_code == 200 and done["HX-Redirect"] == target
    else:
        assert done.status_code == 302 and done["Location"] == target


def test_a_group_licences_extra_child_uses_no_seat_and_is_linked_at_once(
        coordinator_client, school):
    contract = contract_for(school)
    child = PupilFactory(school=school, group=GroupFactory(school=school))
    coordinator_client.post(url("licences:link_child", school, contract_id=contract.pk),
                            {"pupil": child.pk})
    assert ChildLicence.objects.filter(pupil=child, contract=contract).exists()


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["without JavaScript", "with htmx"])
def test_removing_a_group_asks_first_saying_how_many_pupils_lose_the_licence(
        coordinator_client, school, headers):
    contract = contract_for(school, years=(5,))
    group = GroupFactory(school=school, name="Groep 5b", jaargroep="5")
    pupils = [PupilFactory(school=school, group=group) for _ in range(4)]
    # One of them keeps it through a child licence: 3 lose it.
    ChildLicenceFactory(contract=contract, pupil=pupils[0])
    services.auto_link(school, today=TODAY)
    address = url("licences:unlink_group", school, contract_id=contract.pk)
    groups_page = page(coordinator_client.get(url("licences:contract_groups", school,
                                                  contract_id=contract.pk)))
    assert f'hx-post="{address}" hx-target="#group-confirm"' in groups_page

    html = page(coordinator_client.post(address, {"group": group.pk}, **headers))
    assert "3 leerlingen van Groep 5b hebben deze licentie dan niet meer." in html
    assert "automatisch" in html and "Ja, verwijder Groep 5b" in html
    assert ("<html" in html) is (not headers)
    assert GroupLicence.objects.filter(contract=contract, group=group,
                                       removed_at__isnull=True).exists()

    coordinator_client.post(address, {"group": group.pk, "confirmed": "1"}, **headers)
    assert not GroupLicence.objects.filter(contract=contract, group=group,
                                           removed_at__isnull=True).exists()


def test_linking_another_schools_group_is_404_and_links_nothing(coordinator_client, school):
    contract = contract_for(school)
    foreign = GroupFactory(school=SchoolFactory())
    own = GroupFactory(school=school)
    response = coordinator_client.post(url("licences:link_groups", school,
                                           contract_id=contract.pk),
                                       {"groups": [own.pk, foreign.pk]})
    assert response.status_code == 404
    assert not GroupLicence.objects.exists()
