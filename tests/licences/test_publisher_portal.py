"""The publisher portal (/uitgever/<slug>/): products, contracts, upload, tokens, helpdesk."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort.audit.models import AuditEntry
from klaspoort.exchange.models import PublisherApiToken, hash_token
from klaspoort.licences import publisher_urls
from klaspoort.licences.contract_import import HEADER
from klaspoort.licences.models import ChildLicence, Contract, Product, PublisherMembership
from klaspoort.schools.models import PublisherConsent
from tests.factories import PASSWORD, GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
    PublisherMemberFactory,
)

pytestmark = pytest.mark.django_db


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
def helpdesk_client(publisher):
    return signed_in(PublisherMemberFactory(publisher=publisher,
                                            role=PublisherMembership.Role.HELPDESK).user)


def url(name, publisher, **kwargs):
    # The API tokens page is the exchange app's, shown among the portal's tabs.
    namespace = "exchange" if name in ("tokens", "token_revoke") else "publisher"
    return reverse(f"{namespace}:{name}", kwargs={"slug": publisher.slug, **kwargs})


def csv_file(*lines):
    return "\n".join([",".join(HEADER), *lines]).encode()


def row(number, brin6="99ZZ00", code="ZB5", kind="group", seats="", start="2026-08-01"):
    return f"{number},{brin6},,{code},Zonnebloem 5,oefensoftware,5,Zonnebloem {number},{start}," \
           f"2027-07-31,{kind},{seats}"


# ---------------------------------------------------------------------------------------------
# Entry and tenancy
# ---------------------------------------------------------------------------------------------
def test_uitgever_sends_a_member_to_their_publishers_products(admin_client, publisher):
    response = admin_client.get("/uitgever/")
    assert response.status_code == 302
    assert response["Location"] == url("products", publisher)


def test_a_user_without_publisher_membership_gets_404(coordinator_client, publisher):
    assert coordinator_client.get("/uitgever/").status_code == 404
    assert coordinator_client.get(url("products", publisher)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, publisher):
    response = client.get(url("contracts", publisher))
    assert response.status_code == 302 and "/accounts/" in response["Location"]


def test_a_member_with_an_app_first_shows_a_code(admin, publisher):
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    response = signed_in(admin).get(url("products", publisher))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:second_factor_code"))


def portal_urls(publisher, ids):
    """Every portal URL of `publisher`, with ids of its own rows filled in."""
    urls = []
    for pattern in publisher_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        names = re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern))
        if "slug" not in names:
            continue
        kwargs = {name: ids[name] for name in names if name != "slug"}
        urls.append(url(pattern.name, publisher, **kwargs))
    return urls


def test_every_portal_url_of_publisher_a_is_404_for_staff_of_publisher_b(publisher, admin):
    school = SchoolFactory()
    product = ProductFactory(publisher=publisher)
    contract = ContractFactory(product=product, school=school, contract_type="child", seats=5)
    licence = ChildLicenceFactory(contract=contract)
    token, _plain = PublisherApiToken.issue(publisher, "crm")
    ids = {"product_id": product.pk, "contract_id": contract.pk, "token_id": token.pk,
           "licence_id": licence.pk}
    other_admin = PublisherMemberFactory(publisher=PublisherFactory()).user
    stranger = signed_in(other_admin)
    own = signed_in(admin)
    urls = portal_urls(publisher, ids)
    assert len(urls) == len(publisher_urls.urlpatterns) - 1  # all but /uitgever/ itself
    for address in urls:
        assert stranger.get(address).status_code == 404, address
        assert stranger.post(address, {"name": "x", "digest": "x"}).status_code == 404, address
        # The same address works for the publisher's own admin (so the 404 is tenancy).
        assert own.get(address).status_code in (200, 302, 405), address
    token.refresh_from_db()
    licence.refresh_from_db()
    assert token.revoked_at is None and licence.removed_at is None


def test_admin_only_pages_refuse_the_helpdesk_with_403(helpdesk_client, publisher):
    product = ProductFactory(publisher=publisher)
    for name, kwargs in [("product_create", {}), ("product_edit", {"product_id": product.pk}),
                         ("contract_create", {}), ("tokens", {})]:
        assert helpdesk_client.get(url(name, publisher, **kwargs)).status_code == 403, name
    assert helpdesk_client.post(url("contract_upload", publisher)).status_code == 403
    # Reading and the helpdesk page itself are open to the helpdesk.
    page = helpdesk_client.get(url("contracts", publisher))
    assert page.status_code == 200
    assert url("tokens", publisher) not in page.content.decode()
    assert helpdesk_client.get(url("helpdesk", publisher)).status_code == 200


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------
def test_an_admin_adds_and_edits_a_product_audited(admin_client, publisher):
    old = ProductFactory(publisher=publisher, code="ZB4", name="Zonnebloem 4")
    response = admin_client.post(url("product_create", publisher), {
        "code": "ZB5", "name": "Zonnebloem 5", "product_type": "oefensoftware",
        "year_groups": ["5", "6"],
        "launch_url": "https://zonnebloem.example/start", "allows_group_licences": "on",
        "replaces": old.pk})
    assert response.status_code == 302
    product = Product.objects.get(publisher=publisher, code="ZB5")
    assert product.year_groups == [5, 6] and product.replaces == old
    assert product.allows_group_licences and not product.allows_child_licences
    assert AuditEntry.objects.filter(action="licences.product.create").exists()

    page = admin_client.get(url("product_edit", publisher, product_id=product.pk))
    assert 'value="6" checked' in page.content.decode().replace(' id="id_year_groups_5"', "")
    edited = admin_client.post(url("product_edit", publisher, product_id=product.pk), {
        "code": "ZB5", "name": "Zonnebloem 5 (2026)", "product_type": "toetsen",
        "year_groups": ["5"], "allows_child_licences": "on"})
    assert edited.status_code == 302, edited.context["form"].errors
    product.refresh_from_db()
    assert (product.name, product.product_type, product.year_groups) == (
        "Zonnebloem 5 (2026)", "toetsen", [5])
    update = AuditEntry.objects.get(action="licences.product.update")
    assert update.before["name"] == "Zonnebloem 5" and update.after["name"] == "Zonnebloem 5 (2026)"
    listing = admin_client.get(url("products", publisher)).content.decode()
    assert "Zonnebloem 5 (2026)" in listing


def test_a_product_code_is_unique_within_the_publisher_only(admin_client, publisher):
    ProductFactory(publisher=publisher, code="ZB5")
    ProductFactory(code="ZB6")  # another publisher's
    data = {"name": "x", "product_type": "oefensoftware"}
    taken = admin_client.post(url("product_create", publisher), {**data, "code": "ZB5"})
    assert taken.status_code == 400
    assert Product.objects.filter(publisher=publisher, code="ZB5").count() == 1
    free = admin_client.post(url("product_create", publisher), {**data, "code": "ZB6"})
    assert free.status_code == 302


def test_another_publishers_product_cannot_be_replaced_or_edited(admin_client, publisher):
    foreign = ProductFactory()
    response = admin_client.post(url("product_create", publisher), {
        "code": "ZB7", "name": "x", "product_type": "oefensoftware", "replaces": foreign.pk})
    assert response.status_code == 400
    assert admin_client.get(url("product_edit", publisher, product_id=foreign.pk)
                            ).status_code == 404


def test_the_products_list_shows_only_own_products(admin_client, publisher):
    ProductFactory(publisher=publisher, name="Eigen methode")
    ProductFactory(name="Methode van een ander")
    page = admin_client.get(url("products", publisher)).content.decode()
    assert "Eigen methode" in page and "Methode van een ander" not in page


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------
def test_the_contract_list_filters_by_school_product_and_status(admin_client, publisher):
    other_school = SchoolFactory(brin="11AA", dependancecode="00")
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    product = ProductFactory(publisher=publisher)
    today = timezone.localdate()
    ContractFactory(product=product, school=school, number="LOPEND")
    ContractFactory(product=product, school=other_school, number="ANDERE-SCHOOL")
    ContractFactory(product=product, school=school, number="VOORBIJ",
                    start=today - datetime.timedelta(days=700),
                    end=today - datetime.timedelta(days=300))
    ContractFactory(school=school, number="VREEMD")  # another publisher's
    page = admin_client.get(url("contracts", publisher)).content.decode()
    assert "LOPEND" in page and "ANDERE-SCHOOL" in page and "VREEMD" not in page
    page = admin_client.get(url("contracts", publisher), {"brin6": "99zz00",
                                                           "status": "running"}).content.decode()
    assert "LOPEND" in page and "ANDERE-SCHOOL" not in page and "VOORBIJ" not in page
    page = admin_client.get(url("contracts", publisher), {"status": "ended"}).content.decode()
    assert "VOORBIJ" in page and "LOPEND" not in page


def test_an_admin_adds_a_contract_in_the_form_and_links_run(admin_client, publisher):
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    group = GroupFactory(school=school, jaargroep="5")
    product = ProductFactory(publisher=publisher, year_groups=[5])
    today = timezone.localdate()
    data = {"contract_number": "Z-100", "brin6": "99ZZ00", "product": product.pk,
            "title": "Zonnebloem groep 5", "start": today.isoformat(),
            "end": (today + datetime.timedelta(days=365)).isoformat(), "type": "group"}
    response = admin_client.post(url("contract_create", publisher), data)
    assert response.status_code == 302
    contract = Contract.objects.get(publisher=publisher, number="Z-100")
    assert contract.school == school
    assert contract.group_licences.get().group == group
    entry = AuditEntry.objects.get(action="licences.contract.create")
    assert entry.actor.email and entry.school == school

    again = admin_client.post(url("contract_create", publisher), data)
    assert again.status_code == 400  # a typed-in number that exists is a mistake

    edit = admin_client.post(url("contract_edit", publisher, contract_id=contract.pk),
                             {**data, "contract_number": "IGNORED", "title": "Nieuw"})
    assert edit.status_code == 302
    contract.refresh_from_db()
    assert contract.title == "Nieuw" and contract.number == "Z-100"


def test_the_contract_form_shows_the_rule_errors_at_their_fields(admin_client, publisher):
    product = ProductFactory(publisher=publisher)
    response = admin_client.post(url("contract_create", publisher), {
        "contract_number": "Z-1", "brin6": "11AA00", "product": product.pk, "title": "x",
        "start": "2026-08-01", "end": "2026-07-01", "type": "child"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"end", "seats"}
    assert not Contract.objects.exists()
    # A school not on the platform (yet) is accepted like any other: the contract waits for
    # it, and the list shows only the BRIN6 the publisher typed (decision 0016).
    unknown_school = admin_client.post(url("contract_create", publisher), {
        "contract_number": "Z-1", "brin6": "11AA00", "product": product.pk, "title": "x",
        "start": "2026-08-01", "end": "2027-07-01", "type": "group"})
    assert unknown_school.status_code == 302
    assert Contract.objects.get(number="Z-1").school is None
    assert "11AA00" in admin_client.get(url("contracts", publisher)).content.decode()


# ---------------------------------------------------------------------------------------------
# CSV upload
# ---------------------------------------------------------------------------------------------
def upload(client, publisher, data, **headers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(url("contract_upload", publisher),
                       {"file": SimpleUploadedFile("contracten.csv", data, "text/csv")},
                       **headers)


def test_a_clean_upload_applies_at_once(admin_client, publisher):
    SchoolFactory(brin="99ZZ", dependancecode="00")
    response = upload(admin_client, publisher, csv_file(row("Z-1"), row("Z-2")))
    assert response.status_code == 200
    assert response.context["result"].created == 2
    assert set(Contract.objects.filter(publisher=publisher).values_list("number", flat=True)
               ) == {"Z-1", "Z-2"}
    # The unknown product was added to this publisher's catalogue.
    assert Product.objects.get(code="ZB5").publisher == publisher


def test_a_bad_upload_shows_row_errors_changes_nothing_and_the_good_rows_apply_on_confirm(
        admin_client, publisher):
    SchoolFactory(brin="99ZZ", dependancecode="00")
    data = csv_file(row("Z-1"), row("Z-2", brin6="11AA00"), "rommel" * 2000,
                    row("Z-3", kind="child", seats="12"))
    response = upload(admin_client, publisher, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only successful answers in
    result = response.context["result"]
    assert {(e.line, e.field) for e in result.errors} == {(4, "")}
    page = response.content.decode()
    assert 'id="upload-result"' in page and url("contract_upload_confirm", publisher) in page
    assert not Contract.objects.exists()

    digest = response.context["digest"]
    confirmed = admin_client.post(url("contract_upload_confirm", publisher), {"digest": digest})
    assert confirmed.status_code == 200
    assert confirmed.context["result"].applied is True
    assert set(Contract.objects.values_list("number", flat=True)) == {"Z-1", "Z-2", "Z-3"}
    # The kept file is used up: confirming twice does not apply anything again.
    twice = admin_client.post(url("contract_upload_confirm", publisher), {"digest": digest})
    assert twice.status_code == 302


def test_an_upload_naming_another_publisher_is_refused_per_row(admin_client, publisher):
    SchoolFactory(brin="99ZZ", dependancecode="00")
    other = PublisherFactory(name="Concurrent")
    line = row("Z-1").replace(",,ZB5", ",Concurrent,ZB5")
    response = upload(admin_client, publisher, csv_file(line))
    assert [(e.line, e.field) for e in response.context["result"].errors] == [(2, "publisher")]
    assert not Contract.objects.filter(publisher=other).exists()


@pytest.mark.parametrize("data", [b"", b"\xff\xfe\x00\x00", b"niet,de,kop\n1,2,3",
                                  "é".encode("latin-1") * 10])
def test_a_broken_file_is_a_clear_error_never_a_crash(admin_client, publisher, data):
    response = upload(admin_client, publisher, data)
    assert response.status_code == 400
    assert not Contract.objects.exists()


# ---------------------------------------------------------------------------------------------
# API tokens
# ---------------------------------------------------------------------------------------------
def test_a_token_is_shown_once_and_can_be_revoked(admin_client, publisher):
    response = admin_client.post(url("tokens", publisher), {"name": "CRM koppeling"})
    assert response.status_code == 200
    plain = response.context["plain_token"]
    assert plain.startswith("kp_") and plain in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = PublisherApiToken.objects.get(publisher=publisher)
    assert token.digest == hash_token(plain) and token.name == "CRM koppeling"
    assert plain not in admin_client.get(url("tokens", publisher)).content.decode()
    assert AuditEntry.objects.filter(action="exchange.token.create").exists()

    revoked = admin_client.post(url("token_revoke", publisher, token_id=token.pk))
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="exchange.token.revoke").exists()


# ---------------------------------------------------------------------------------------------
# Helpdesk
# ---------------------------------------------------------------------------------------------
def test_the_helpdesk_shows_only_its_child_licences_and_a_name_only_after_consent(
        helpdesk_client, publisher):
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    stranger_school = SchoolFactory(brin="11AA", dependancecode="00")
    contract = ContractFactory(product=ProductFactory(publisher=publisher), school=school,
                               contract_type="child", seats=5)
    pupil = PupilFactory(school=school, first_name="Noor", last_name="Bakker")
    licence = ChildLicenceFactory(contract=contract, pupil=pupil)
    foreign = ChildLicenceFactory(contract=ContractFactory(school=school, contract_type="child",
                                                           seats=5))
    assert stranger_school  # exists, but has no contract with this publisher
    stranger = helpdesk_client.get(url("helpdesk", publisher), {"brin6": "11AA00"})
    nowhere = helpdesk_client.get(url("helpdesk", publisher), {"brin6": "22BB00"})
    # The same page whether or not a school is on the platform: no name, no licences.
    assert stranger.context["customer"] == {"brin6": "11AA00", "name": ""}
    assert nowhere.context["customer"] == {"brin6": "22BB00", "name": ""}
    assert stranger.context["licences"] == nowhere.context["licences"] == []

    page = helpdesk_client.get(url("helpdesk", publisher), {"brin6": "99zz00"})
    assert page.context["customer"] == {"brin6": "99ZZ00", "name": ""}  # no consent yet
    assert page.context["licences"] == [licence]
    assert "Noor B." in page.content.decode() and school.name not in page.content.decode()
    PublisherConsent.objects.create(school=school, publisher=publisher,
                                    given_at=timezone.now())
    page = helpdesk_client.get(url("helpdesk", publisher), {"brin6": "99ZZ00"})
    assert page.context["customer"]["name"] == school.display_name

    response = helpdesk_client.post(url("helpdesk_unlink", publisher, licence_id=licence.pk),
                                    {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"].endswith("?brin6=99ZZ00")
    licence.refresh_from_db()
    assert licence.removed_at is not None and licence.removed_by is not None
    entry = AuditEntry.objects.get(action="licences.child.unlink")
    assert entry.school == school

    # Another publisher's child licence at the same school is out of reach.
    assert helpdesk_client.post(url("helpdesk_unlink", publisher, licence_id=foreign.pk),
                                {"confirmed": "1"}).status_code == 404
    assert ChildLicence.objects.get(pk=foreign.pk).removed_at is None


def test_publisher_staff_land_on_the_portal_after_sign_in(client):
    member = PublisherMemberFactory()
    assert client.login(email=member.user.email, password=PASSWORD)
    response = client.get("/beheer/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/uitgever/")
    assert member.publisher.name in response.content.decode()


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}],
                         ids=["without JavaScript", "with htmx"])
def test_ontkoppelen_asks_first_saying_who_loses_what_and_the_seats_after(
        helpdesk_client, publisher, headers):
    """Issue 11, item 2: the helpdesk's Ontkoppelen acted in one click."""
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    contract = ContractFactory(product=ProductFactory(publisher=publisher), school=school,
                               contract_type="child", seats=5, number="ZB-7",
                               title="Zonnebloem 5")
    licence = ChildLicenceFactory(contract=contract, pupil=PupilFactory(
        school=school, first_name="Noor", last_name="Bakker"))
    ChildLicenceFactory(contract=contract)
    address = url("helpdesk_unlink", publisher, licence_id=licence.pk)
    page = helpdesk_client.get(url("helpdesk", publisher), {"brin6": "99ZZ00"}).content.decode()
    assert f'hx-post="{address}" hx-target="#unlink-confirm"' in page

    asked = helpdesk_client.post(address, **headers)
    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Noor B. kan Zonnebloem 5 dan niet meer openen via contract ZB-7." in html
    assert "De plaats komt vrij: daarna 1 van 5 in gebruik." in html
    assert "Ja, ontkoppel Noor B." in html and "Nee, terug" in html
    assert ("<html" in html) is (not headers)
    licence.refresh_from_db()
    assert licence.removed_at is None  # nothing until confirmed

    done = helpdesk_client.post(address, {"confirmed": "1"}, **headers)
    assert done.status_code == (200 if headers else 302)
    licence.refresh_from_db()
    assert licence.removed_at is not None


def test_a_cancelled_contract_past_its_last_day_is_ended_not_running(admin_client, publisher):
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    product = ProductFactory(publisher=publisher)
    today = timezone.localdate()
    ContractFactory(product=product, school=school, number="OPGEZEGD",
                    end=today + datetime.timedelta(days=700), cancelled_at=timezone.now(),
                    cancelled_until=today - datetime.timedelta(days=1))
    ContractFactory(product=product, school=school, number="LAATSTE-DAG",
                    end=today + datetime.timedelta(days=700), cancelled_at=timezone.now(),
                    cancelled_until=today)
    page = admin_client.get(url("contracts", publisher), {"status": "running"}).content.decode()
    assert "LAATSTE-DAG" in page and "OPGEZEGD" not in page
    page = admin_client.get(url("contracts", publisher), {"status": "ended"}).content.decode()
    assert "OPGEZEGD" in page and "LAATSTE-DAG" not in page
