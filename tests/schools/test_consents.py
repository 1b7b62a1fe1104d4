"""*Uitgeverijen* and *Netwerkbeheerder instellen*: consent with history, audit and receipts."""

from __future__ import annotations

import importlib
import os
import re
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from playwright.sync_api import expect

from klaspoort.audit.models import AuditEntry
from klaspoort.licences.models import GroupLicence
from klaspoort.roster.models import TeacherGroup
from klaspoort.schools import selectors, services
from klaspoort.schools.models import (
    NetworkProvider,
    NetworkProviderConsent,
    Publisher,
    PublisherConsent,
)
from tests.browser_support import chromium_page, needs_chromium, screenshots
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
)
from tests.licences.factories import ContractFactory, ProductFactory

# Receipts leave after commit: what mails runs inside
# django_capture_on_commit_callbacks(execute=True), which runs what a commit would run (and
# nothing a rollback dropped), so these tests read the outbox as production fills it.


def url(name: str, school: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6})


# Transactional tests elsewhere in the suite flush the seeded rows, so tests make their own.
@pytest.fixture
def malmberg(db):
    return Publisher.objects.get_or_create(slug="malmberg", defaults={"name": "Malmberg"})[0]


@pytest.fixture
def zwijsen(db):
    return Publisher.objects.get_or_create(slug="zwijsen", defaults={"name": "Zwijsen"})[0]


def consents(school):
    return list(PublisherConsent.objects.filter(school=school).order_by("pk").values_list(
        "publisher__name", "withdrawn_at"))


def test_the_catalogues_are_seeded_with_network_providers_and_publishers(db):
    seeding = importlib.import_module("klaspoort.schools.migrations.0003_seed_catalogues")
    seeding.seed(django_apps, None)
    seeding.seed(django_apps, None)  # running it twice adds nothing
    assert NetworkProvider.objects.filter(name="Heutink").count() == 1
    assert {"Heutink", "QL-ICT", "Reinders", "Skool", "MOO", "Cool", "ZuluConnect",
            "Prowise Go"} <= set(NetworkProvider.objects.values_list("name", flat=True))
    assert {"Malmberg", "Noordhoff", "ThiemeMeulenhoff", "Zwijsen"} <= set(
        Publisher.objects.values_list("name", flat=True))


def test_give_withdraw_and_give_again_keeps_the_whole_history(
        school, coordinator, malmberg, zwijsen):
    services.set_publisher_consents(school, [malmberg.pk, zwijsen.pk], coordinator)
    assert selectors.has_publisher_consent(school, malmberg)
    assert set(selectors.consented_publishers(school)) == {malmberg, zwijsen}

    change = services.set_publisher_consents(school, [zwijsen.pk], coordinator)
    assert change.withdrawn == ["Malmberg"] and change.given == []
    assert not selectors.has_publisher_consent(school, malmberg)  # at once, no cache
    assert selectors.has_publisher_consent(school, zwijsen)

    services.set_publisher_consents(school, [malmberg.pk, zwijsen.pk], coordinator)
    assert selectors.has_publisher_consent(school, malmberg)
    history = list(selectors.publisher_consent_history(school))
    assert [c.publisher.name for c in history].count("Malmberg") == 2
    withdrawn = [c for c in history if c.withdrawn_at]
    assert len(withdrawn) == 1 and withdrawn[0].withdrawn_by == coordinator
    assert all(c.given_by == coordinator for c in history)


def test_the_database_refuses_a_second_open_consent_for_the_same_publisher(
        school, coordinator, malmberg):
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        PublisherConsent.objects.create(school=school, publisher=malmberg,
                                        given_by=coordinator, given_at=timezone.now())
    services.set_publisher_consents(school, [], coordinator)
    PublisherConsent.objects.create(school=school, publisher=malmberg,  # after a withdrawal
                                    given_by=coordinator, given_at=timezone.now())


def test_consent_is_per_school(school, coordinator, malmberg):
    other = SchoolFactory()
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    assert not selectors.has_publisher_consent(other, malmberg)
    assert list(selectors.consented_publishers(other)) == []


def test_each_change_writes_an_audit_entry(school, coordinator, malmberg, zwijsen):
    services.set_publisher_consents(school, [malmberg.pk, zwijsen.pk], coordinator)
    services.set_publisher_consents(school, [zwijsen.pk], coordinator)
    entries = AuditEntry.objects.filter(school=school).order_by("pk")
    assert [(e.action, e.target, e.before, e.after, e.actor) for e in entries] == [
        ("schools.publisher.give", "Malmberg", {"consent": False}, {"consent": True},
         coordinator),
        ("schools.publisher.give", "Zwijsen", {"consent": False}, {"consent": True},
         coordinator),
        ("schools.publisher.withdraw", "Malmberg", {"consent": True}, {"consent": False},
         coordinator),
    ]


def test_the_receipt_goes_to_each_coordinator_of_that_school_only(
        school, coordinator, malmberg, zwijsen, django_capture_on_commit_callbacks):
    colleague = CoordinatorFactory(school=school, email="tweede@regenboog.example")
    CoordinatorFactory(school=SchoolFactory(), email="ander@kompas.example")
    with django_capture_on_commit_callbacks(execute=True):
        services.set_publisher_consents(school, [malmberg.pk], coordinator)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([coordinator.email, colleague.email])
    assert all(len(m.to) == 1 for m in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == "Ontvangstbewijs: toestemming voor uitgeverijen gewijzigd"
    assert "Toestemming gegeven aan deze uitgeverijen:\n- Malmberg" in message.body
    assert f"Gewijzigd door {coordinator.email} op" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<li>Malmberg</li>" in html

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.set_publisher_consents(school, [zwijsen.pk], colleague)
    body = mail.outbox[0].body
    assert "Toestemming ingetrokken bij deze uitgeverijen:\n- Malmberg" in body
    assert "- Zwijsen" in body and f"Gewijzigd door {colleague.email}" in body


def test_saving_without_a_change_sends_nothing(school, coordinator, malmberg,
                                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.set_publisher_consents(school, [malmberg.pk], coordinator)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        change = services.set_publisher_consents(school, [malmberg.pk], coordinator)
    assert not change.changed and mail.outbox == []
    assert PublisherConsent.objects.filter(school=school).count() == 1


@pytest.mark.parametrize("bad", [[999999], ["abc"], [None]])
def test_the_service_refuses_unknown_ids_and_changes_nothing(
        school, coordinator, malmberg, bad, django_capture_on_commit_callbacks):
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    mail.outbox.clear()
    with (django_capture_on_commit_callbacks(execute=True),
          pytest.raises(services.ConsentError)):
        services.set_publisher_consents(school, bad, coordinator)
    assert consents(school) == [("Malmberg", None)]
    assert mail.outbox == []


def test_an_inactive_publisher_cannot_be_given_consent_but_can_be_withdrawn(
        school, coordinator, malmberg, zwijsen):
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    Publisher.objects.filter(pk__in=[malmberg.pk, zwijsen.pk]).update(active=False)
    with pytest.raises(services.ConsentError):
        services.set_publisher_consents(school, [malmberg.pk, zwijsen.pk], coordinator)
    assert consents(school) == [("Malmberg", None)]
    # Keeping an existing consent to a publisher that went inactive is allowed; so is withdrawing.
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    services.set_publisher_consents(school, [], coordinator)
    assert not selectors.has_publisher_consent(school, malmberg)


# ---------------------------------------------------------------------------------------------
# The pages
# ---------------------------------------------------------------------------------------------
def test_the_publishers_page_explains_and_lists_checkboxes_in_dutch(
        coordinator_client, school, malmberg):
    page = coordinator_client.get(url("schools:publishers", school)).content.decode()
    assert "<h1>Uitgeverijen</h1>" in page
    assert escape("krijgt niets") in page and "niet worden geopend" in page
    assert "<legend>Uitgeverijen die de gegevens van je school mogen ontvangen</legend>" in page
    assert f'value="{malmberg.pk}"' in page and "Malmberg</label>" in page
    assert ">Opslaan</button>" in page
    assert f'href="{url("schools:publishers", school)}" aria-current="page"' in page
    assert ">Netwerkbeheerder instellen</a>" in page


def test_ticking_on_the_page_saves_confirms_and_shows_the_history(
        coordinator_client, coordinator, school, malmberg, zwijsen,
        django_capture_on_commit_callbacks):
    address = url("schools:publishers", school)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(address, {"chosen": [malmberg.pk, zwijsen.pk]},
                                           follow=True)
    page = response.content.decode()
    assert "Je keuze is opgeslagen" in page
    assert selectors.has_publisher_consent(school, malmberg)
    assert page.count(coordinator.email) >= 2  # the history says who
    assert re.search(rf'value="{malmberg.pk}" id="id_chosen_\d+" checked>', page)

    with django_capture_on_commit_callbacks(execute=True):
        page = coordinator_client.post(address, {"chosen": [zwijsen.pk], "confirmed": "1"},
                                       follow=True).content.decode()
    assert not selectors.has_publisher_consent(school, malmberg)
    assert "nog aangevinkt" in page  # Zwijsen's open consent in the history
    assert not re.search(rf'value="{malmberg.pk}" id="id_chosen_\d+" checked>', page)
    assert len(mail.outbox) == 2


@pytest.mark.parametrize("bad", ["999999", "abc", "inactive"])
def test_a_bad_post_is_refused_in_dutch_and_changes_nothing(
        coordinator_client, school, coordinator, malmberg, zwijsen, bad,
        django_capture_on_commit_callbacks):
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    mail.outbox.clear()
    if bad == "inactive":
        zwijsen.active = False
        zwijsen.save()
        bad = str(zwijsen.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(url("schools:publishers", school),
                                           {"chosen": [malmberg.pk, bad]})
    assert response.status_code == 400
    assert "Er is niets gewijzigd" in response.content.decode()
    assert consents(school) == [("Malmberg", None)]
    assert mail.outbox == []
    assert not AuditEntry.objects.filter(action__endswith="withdraw").exists()


def test_the_network_provider_page_ticks_providers(coordinator_client, school,
                                                   django_capture_on_commit_callbacks):
    heutink = NetworkProvider.objects.get_or_create(slug="heutink", defaults={"name": "Heutink"})[0]
    address = url("schools:network_providers", school)
    page = coordinator_client.get(address).content.decode()
    assert "<h1>Netwerkbeheerder instellen</h1>" in page
    assert "als je school" in page and "Heutink</label>" in page
    with django_capture_on_commit_callbacks(execute=True):
        coordinator_client.post(address, {"chosen": [heutink.pk]})
    assert selectors.has_network_provider_consent(school, heutink)
    assert mail.outbox[0].subject == "Ontvangstbewijs: netwerkbeheerders gewijzigd"
    assert AuditEntry.objects.filter(action="schools.network_provider.give",
                                     target="Heutink").exists()
    coordinator_client.post(address, {})
    assert not selectors.has_network_provider_consent(school, heutink)
    assert NetworkProviderConsent.objects.filter(school=school).count() == 1


@pytest.mark.parametrize("name", ["schools:publishers", "schools:network_providers"])
def test_another_schools_coordinator_gets_404_and_changes_nothing(client, school, malmberg,
                                                                  name):
    client.force_login(CoordinatorFactory())
    assert client.get(url(name, school)).status_code == 404
    assert client.post(url(name, school), {"chosen": [malmberg.pk]}).status_code == 404
    assert not PublisherConsent.objects.exists() and not NetworkProviderConsent.objects.exists()


def test_the_walk_over_every_beheer_url_includes_these_pages():
    from tests.roster.test_pages import beheer_patterns

    names = {name for name, _params in beheer_patterns()}
    assert {"schools:publishers", "schools:network_providers"} <= names


# ---------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------
@pytest.mark.browser
@needs_chromium
def test_a_coordinator_ticks_a_publisher_in_the_browser(live_server, transactional_db):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, no concurrency
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    malmberg = Publisher.objects.get_or_create(slug="malmberg", defaults={"name": "Malmberg"})[0]
    Publisher.objects.get_or_create(slug="zwijsen", defaults={"name": "Zwijsen"})

    with chromium_page() as page:
        page.goto(live_server.url + "/")
        page.get_by_label("E-mailadres").fill("ict@regenboog.example")
        page.get_by_label("Wachtwoord").fill(PASSWORD)
        page.get_by_role("button", name="Inloggen").click()
        page.get_by_role("navigation", name="Beheer").get_by_role(
            "link", name="Uitgeverijen", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Uitgeverijen")
        page.get_by_role("group", name="Uitgeverijen die de gegevens van je school mogen "
                                        "ontvangen").get_by_label("Malmberg").check()
        page.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_role("status")).to_contain_text("Je keuze is opgeslagen")
        expect(page.get_by_label("Malmberg")).to_be_checked()
        expect(page.get_by_role("table")).to_contain_text("nog aangevinkt")
        screenshots(page, "uitgeverijen")

        # Unticking asks first, in place (issue 11, item 2); "Nee, terug" keeps the tick.
        page.get_by_label("Malmberg").uncheck()
        page.get_by_role("button", name="Opslaan").click()
        question = page.locator("#confirm")
        expect(question).to_contain_text("Malmberg: niemand van je school opent vandaag")
        expect(question).to_be_focused()
        assert selectors.has_publisher_consent(school, malmberg)
        question.get_by_role("link", name="Nee, terug").click()
        expect(page.get_by_label("Malmberg")).to_be_checked()
        page.get_by_label("Malmberg").uncheck()
        page.get_by_role("button", name="Opslaan").click()
        page.get_by_role("button", name="Ja, vink Malmberg uit").click()
        expect(page.get_by_role("status")).to_contain_text("Je keuze is opgeslagen")
        expect(page.get_by_label("Malmberg")).not_to_be_checked()
    assert not selectors.has_publisher_consent(school, malmberg)
    assert len(mail.outbox) == 2


def test_the_logboek_names_consent_changes_in_dutch(coordinator_client, coordinator, school,
                                                    malmberg):
    services.set_publisher_consents(school, [malmberg.pk], coordinator)
    services.set_publisher_consents(school, [], coordinator)
    page = coordinator_client.get(url("schools:log", school)).content.decode()
    assert "Toestemming gegeven aan een uitgeverij" in page
    assert "Toestemming ingetrokken bij een uitgeverij" in page


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}],
                         ids=["without JavaScript", "with htmx"])
def test_unticking_a_publisher_asks_first_saying_how_many_pupils_and_tiles_stop(
        coordinator_client, coordinator, school, malmberg, zwijsen, headers):
    """Issue 11, item 2: unticking stopped every pupil's access in one click."""
    group = GroupFactory(school=school, name="Groep 5")
    for _ in range(3):
        PupilFactory(school=school, group=group)
    teacher = TeacherFactory(school=school)
    TeacherGroup.objects.create(teacher=teacher, group=group)
    for name in ("Pluspunt 4", "Taal actief 4"):
        contract = ContractFactory(school=school, product=ProductFactory(
            publisher=malmberg, name=name, year_groups=[]))
        GroupLicence.objects.create(contract=contract, group=group, automatic=False)
    services.set_publisher_consents(school, [malmberg.pk, zwijsen.pk], coordinator)
    address = url("schools:publishers", school)
    assert f'hx-post="{address}" hx-target="#consent-confirm"' in coordinator_client.get(
        address).content.decode()

    asked = coordinator_client.post(address, {"chosen": [zwijsen.pk]}, **headers)
    html = asked.content.decode()
    assert asked.status_code == 200
    assert ("Malmberg: 3 leerlingen en 1 leerkracht kunnen de methodes dan meteen niet meer "
            "openen. 2 tegels verdwijnen: Pluspunt 4, Taal actief 4.") in html
    assert "Ja, vink Malmberg uit" in html and "Nee, terug" in html
    assert re.search(rf'name="chosen" value="{zwijsen.pk}"', html)
    assert ("<html" in html) is (not headers)
    assert selectors.has_publisher_consent(school, malmberg)  # nothing until confirmed

    done = coordinator_client.post(address, {"chosen": [zwijsen.pk], "confirmed": "1"},
                                   **headers)
    assert done.status_code == (200 if headers else 302)
    assert not selectors.has_publisher_consent(school, malmberg)
    assert selectors.has_publisher_consent(school, zwijsen)


def test_ticking_only_adds_and_saves_at_once(coordinator_client, school, malmberg):
    coordinator_client.post(url("schools:publishers", school), {"chosen": [malmberg.pk]})
    assert selectors.has_publisher_consent(school, malmberg)
