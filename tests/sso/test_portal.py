"""The portal's *Inloggen (OIDC)* pages: a publisher's admins manage their own clients."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from lxml import html
from oauth2_provider.models import Application

from klaspoort.audit.models import AuditEntry
from klaspoort.licences.models import PublisherMembership
from klaspoort.sso import portal_urls, services
from klaspoort.sso.models import PublisherClient
from tests.factories import PASSWORD
from tests.licences.factories import PublisherFactory, PublisherMemberFactory
from tests.sso.conftest import authorize, pkce_pair

pytestmark = pytest.mark.django_db

REDIRECT = "https://rekenwonders.example/oidc/callback"


def signed_in(user) -> Client:
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


@pytest.fixture
def publisher():
    return PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")


@pytest.fixture
def admin(publisher):
    return PublisherMemberFactory(publisher=publisher, role=PublisherMembership.Role.ADMIN).user


@pytest.fixture
def admin_client(admin):
    return signed_in(admin)


@pytest.fixture
def registered(publisher):
    return services.register_client(publisher, "Rekenwonders web", [REDIRECT],
                                    name_detail="full", chain_partner=True)


def url(name, publisher, **kwargs):
    return reverse(f"sso_portal:{name}", kwargs={"slug": publisher.slug, **kwargs})


def text(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


def form(**overrides):
    data = {"name": "Rekenwonders app", "redirect_uris": f"{REDIRECT}\nhttp://localhost:8100/cb",
            "initiate_login_uri": "https://rekenwonders.example/login",
            "post_logout_uris": "https://rekenwonders.example/uitgelogd",
            "default_target_uri": "", "client_type": "confidential"}
    return {**data, **overrides}


# ---------------------------------------------------------------------------------------------
# Tenancy
# ---------------------------------------------------------------------------------------------
def test_every_page_of_publisher_a_is_404_for_the_admin_of_publisher_b(publisher, admin,
                                                                       registered):
    stranger = signed_in(PublisherMemberFactory(publisher=PublisherFactory()).user)
    own = signed_in(admin)
    client_pk = registered.client.pk
    addresses = []
    for pattern in portal_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        kwargs = {"client_id": client_pk} if "client_id" in names else {}
        addresses.append(url(pattern.name, publisher, **kwargs))
    assert len(addresses) == len(portal_urls.urlpatterns)
    for address in addresses:
        assert stranger.get(address).status_code == 404, address
        assert stranger.post(address, {**form(name="Overgenomen"), "confirmed": "1"}
                             ).status_code == 404, address
        assert own.get(address).status_code in (200, 405), address
    row = PublisherClient.objects.select_related("application").get(pk=client_pk)
    assert row.application.name == "Rekenwonders web" and row.disabled_at is None
    assert row.previous_secret == ""
    assert not AuditEntry.objects.exclude(action="sso.client.create").exists()


def test_a_client_of_another_publisher_is_404_on_my_own_pages(admin_client, publisher):
    theirs = services.register_client(PublisherFactory(), "Hun app", [REDIRECT])
    assert admin_client.get(url("client_edit", publisher,
                                client_id=theirs.client.pk)).status_code == 404
    assert admin_client.post(url("client_delete", publisher, client_id=theirs.client.pk),
                             {"confirmed": "1"}).status_code == 404
    assert Application.objects.filter(client_id=theirs.client_id).exists()
    assert "Hun app" not in text(admin_client.get(url("clients", publisher)))


def test_the_helpdesk_may_not_use_these_pages_and_has_no_tab(publisher, registered):
    helpdesk = signed_in(PublisherMemberFactory(publisher=publisher,
                                                role=PublisherMembership.Role.HELPDESK).user)
    assert helpdesk.get(url("clients", publisher)).status_code == 403
    assert helpdesk.post(url("client_delete", publisher, client_id=registered.client.pk),
                         {"confirmed": "1"}).status_code == 403
    products = helpdesk.get(reverse("publisher:products", kwargs={"slug": publisher.slug}))
    assert "Inloggen (OIDC)" not in text(products)


def test_the_tab_leads_admins_to_their_clients(admin_client, publisher, registered):
    products = admin_client.get(reverse("publisher:products", kwargs={"slug": publisher.slug}))
    page = html.fromstring(products.content.decode())
    tab = [a for a in page.findall(".//nav[@class='tabs']//a")
           if a.text_content().strip() == "Inloggen (OIDC)"]
    assert tab and tab[0].get("href") == url("clients", publisher)
    listing = admin_client.get(url("clients", publisher))
    assert listing.status_code == 200
    assert "Rekenwonders web" in text(listing) and registered.client_id in text(listing)


# ---------------------------------------------------------------------------------------------
# Adding and changing a client
# ---------------------------------------------------------------------------------------------
def test_adding_a_client_shows_its_secret_once(admin_client, publisher, admin):
    response = admin_client.post(url("client_create", publisher), form())
    assert response.status_code == 200
    secret = response.context["plain_secret"]
    assert secret and secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    row = PublisherClient.objects.select_related("application").get(publisher=publisher)
    assert row.application.redirect_uris.split() == [REDIRECT, "http://localhost:8100/cb"]
    assert row.initiate_login_uri == "https://rekenwonders.example/login"
    assert row.application.post_logout_redirect_uris == "https://rekenwonders.example/uitgelogd"
    assert row.application.client_secret != secret  # stored hashed
    assert row.name_detail == "initial" and not row.chain_partner  # the operator's to set
    again = admin_client.get(url("client_edit", publisher, client_id=row.pk))
    assert secret not in again.content.decode()
    entry = AuditEntry.objects.get(action="sso.client.create")
    assert entry.actor == admin and secret not in str(entry.after)


def test_a_public_client_gets_no_secret(admin_client, publisher):
    response = admin_client.post(url("client_create", publisher), form(client_type="public"))
    assert response.status_code == 200 and response.context["plain_secret"] == ""
    row = PublisherClient.objects.get(publisher=publisher)
    assert not row.is_confidential
    assert "Nieuw geheim" not in text(admin_client.get(
        url("client_edit", publisher, client_id=row.pk)))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("redirect_uris", "http://rekenwonders.example/cb",
     "http://rekenwonders.example/cb moet https gebruiken (gewoon http alleen voor localhost)."),
    ("redirect_uris", "https://rekenwonders.example/cb#frag",
     "https://rekenwonders.example/cb#frag is geen volledig https-adres."),
    ("redirect_uris", "  ", "Geef minstens één redirect-URI."),
    ("initiate_login_uri", "rekenwonders.example/login",
     "rekenwonders.example/login is geen volledig https-adres."),
    ("post_logout_uris", "http://evil.example/", "moet https gebruiken"),
    ("name", " ", "Dit veld is verplicht."),
])
def test_bad_addresses_are_refused_in_dutch_and_nothing_is_stored(admin_client, publisher,
                                                                  field, value, message):
    response = admin_client.post(url("client_create", publisher), form(**{field: value}))
    assert response.status_code == 400
    page = html.fromstring(response.content.decode())
    errors = " ".join(e.text_content() for e in page.find_class("field__error"))
    assert message in errors
    assert not PublisherClient.objects.exists() and not Application.objects.exists()
    assert not AuditEntry.objects.exists()


def test_editing_changes_the_addresses_but_not_what_the_agreement_decides(
        admin_client, publisher, registered):
    pk = registered.client.pk
    page = html.fromstring(admin_client.get(url("client_edit", publisher,
                                                 client_id=pk)).content.decode())
    facts = {dt.text_content().strip(): dt.getnext().text_content().strip()
             for dt in page.iter("dt")}
    assert facts["Naam in de gegevens aan de uitgeverij"] == "volledige naam"
    assert facts["Ketenpartner ECK iD"] == "ja"
    assert facts["Soort client"] == "vertrouwelijk"
    assert not page.xpath("//input[@name='name_detail' or @name='chain_partner']")
    response = admin_client.post(url("client_edit", publisher, client_id=pk), {
        **form(name="Rekenwonders web", redirect_uris="https://rekenwonders.example/nieuw"),
        "name_detail": "initial", "chain_partner": "", "client_type": "public"})
    assert response.status_code == 302
    row = PublisherClient.objects.select_related("application").get(pk=pk)
    assert row.application.redirect_uris == "https://rekenwonders.example/nieuw"
    assert row.initiate_login_uri == "https://rekenwonders.example/login"
    assert row.name_detail == "full" and row.chain_partner and row.is_confidential
    entry = AuditEntry.objects.get(action="sso.client.update")
    assert entry.before == {"redirect_uris": [REDIRECT], "post_logout_uris": [],
                            "initiate_login_uri": ""}
    assert entry.after["redirect_uris"] == ["https://rekenwonders.example/nieuw"]
    assert "name" not in entry.after  # only what changed


def test_a_bad_edit_changes_nothing(admin_client, publisher, registered):
    pk = registered.client.pk
    response = admin_client.post(url("client_edit", publisher, client_id=pk),
                                 form(redirect_uris="http://elders.example/cb"))
    assert response.status_code == 400
    assert "moet https gebruiken" in text(response)
    row = PublisherClient.objects.select_related("application").get(pk=pk)
    assert row.application.redirect_uris == REDIRECT and row.initiate_login_uri == ""
    assert not AuditEntry.objects.filter(action="sso.client.update").exists()


# ---------------------------------------------------------------------------------------------
# Secret, switching off, deleting
# ---------------------------------------------------------------------------------------------
def test_new_secret_then_revoke_the_old_one_asking_first(admin_client, publisher, registered):
    pk = registered.client.pk
    page = html.fromstring(admin_client.get(url("client_edit", publisher,
                                                 client_id=pk)).content.decode())
    buttons = [b.text_content().strip() for b in page.iter("button")]
    assert "Nieuw geheim" in buttons and "Oud geheim intrekken" not in buttons
    rotated = admin_client.post(url("secret_rotate", publisher, client_id=pk))
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    first_new = rotated.context["plain_secret"]
    assert first_new and first_new != registered.client_secret
    assert "Het oude geheim werkt nog tot" in text(rotated)
    assert "blijft daarna nog 7 dagen werken" in text(rotated)
    assert "Oud geheim intrekken" in text(rotated)

    # A second new secret while the old one still overlaps would stop it at once: asked.
    asked = admin_client.post(url("secret_rotate", publisher, client_id=pk))
    assert asked.status_code == 200 and "Ja, nieuw geheim maken" in text(asked)
    assert PublisherClient.objects.get(pk=pk).overlap_running(timezone.now())
    assert AuditEntry.objects.filter(action="sso.secret.rotate").count() == 1

    asked = admin_client.post(url("secret_end_overlap", publisher, client_id=pk))
    assert "Ja, oud geheim intrekken" in text(asked)
    assert PublisherClient.objects.get(pk=pk).previous_secret != ""
    done = admin_client.post(url("secret_end_overlap", publisher, client_id=pk),
                             {"confirmed": "1"})
    assert done.status_code == 302
    assert PublisherClient.objects.get(pk=pk).previous_secret == ""
    assert AuditEntry.objects.filter(action="sso.secret.end_overlap").count() == 1


def test_switching_off_stops_sign_ins_until_switched_on(pupil_client, world):
    own_admin = PublisherMemberFactory(publisher=world.a.publisher).user
    portal = signed_in(own_admin)
    pk = world.a.client.client.pk
    asked = portal.post(url("client_disable", world.a.publisher, client_id=pk))
    assert "Ja, uitschakelen" in text(asked)
    assert PublisherClient.objects.get(pk=pk).disabled_at is None
    portal.post(url("client_disable", world.a.publisher, client_id=pk), {"confirmed": "1"})
    assert PublisherClient.objects.get(pk=pk).disabled_at is not None

    _verifier, challenge = pkce_pair()
    refused = authorize(pupil_client, world.a, challenge=challenge)
    assert refused.status_code == 403

    portal.post(url("client_enable", world.a.publisher, client_id=pk))
    assert PublisherClient.objects.get(pk=pk).disabled_at is None
    assert authorize(pupil_client, world.a, challenge=challenge).status_code == 302
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="sso.client.")
            .order_by("pk")][-2:] == ["sso.client.disable", "sso.client.enable"]


def test_deleting_asks_first_then_removes_the_client(admin_client, publisher, registered):
    pk = registered.client.pk
    asked = admin_client.post(url("client_delete", publisher, client_id=pk))
    assert asked.status_code == 200
    assert registered.client_id in text(asked) and "Ja, verwijderen" in text(asked)
    assert PublisherClient.objects.filter(pk=pk).exists()
    done = admin_client.post(url("client_delete", publisher, client_id=pk), {"confirmed": "1"})
    assert done.status_code == 302 and done["Location"] == url("clients", publisher)
    assert not PublisherClient.objects.filter(pk=pk).exists()
    assert not Application.objects.filter(client_id=registered.client_id).exists()
    entry = AuditEntry.objects.get(action="sso.client.delete")
    assert entry.before["name"] == "Rekenwonders web"
