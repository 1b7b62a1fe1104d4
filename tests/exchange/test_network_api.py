"""The network provider API (/api/network/v1/, decision 0032): which methods each user of a
consenting school may open, with Klaspoort's launch addresses; and `klaspoort network-token`."""

import datetime
import io
import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.exchange.models import NetworkProviderApiToken, PublisherApiToken
from klaspoort.licences.models import Contract, GroupLicence, Product, ProductIcon
from klaspoort.pseudonyms import subject_for
from klaspoort.roster.models import PupilCluster, TeacherGroup
from klaspoort.schools.models import NetworkProvider, NetworkProviderConsent, PublisherConsent
from tests.factories import (
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.licences.factories import (
    ChildLicenceFactory,
    ContractFactory,
    ProductFactory,
    PublisherFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/api/network/v1"


def provider(slug):
    return NetworkProvider.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]


def choose(school, network_provider):
    return NetworkProviderConsent.objects.create(school=school, provider=network_provider,
                                                 given_at=timezone.now())


@pytest.fixture
def heutink():
    return provider("heutink-test")


@pytest.fixture
def token(heutink):
    return NetworkProviderApiToken.issue(heutink, "portaal")[1]


@pytest.fixture
def get(client, token):
    def get(path, token=token, **query):
        return client.get(BASE + path, query, HTTP_AUTHORIZATION=f"Bearer {token}")

    return get


@pytest.fixture
def school(heutink):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="De Regenboog")
    choose(school, heutink)
    return school


@pytest.fixture
def klas(school):
    """Groep 5 with one pupil and its teacher; the publisher is consented; no licence yet."""
    group = GroupFactory(school=school, name="Groep 5a")
    pupil = PupilFactory(school=school, group=group, first_name="Zoë", last_name="Jansen")
    teacher = TeacherFactory(school=school, first_name="Marieke", last_name="Visser")
    TeacherGroup.objects.create(teacher=teacher, group=group)
    publisher = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    product = ProductFactory(publisher=publisher, code="ZB5", name="Zonnebloem 5",
                             product_type=Product.Type.PRACTICE)
    contract = ContractFactory(school=school, product=product)
    return {"group": group, "pupil": pupil, "teacher": teacher, "contract": contract,
            "product": product, "publisher": publisher}


def school_id(get):
    [only] = get("/schools").json()["items"]
    return only["id"]


def people(get, sid, **query):
    response = get(f"/schools/{sid}/access", **query)
    assert response.status_code == 200, response.content
    return {person["given_name"]: person for person in response.json()["items"]}


# ---------------------------------------------------------------------------------------------
# Which schools
# ---------------------------------------------------------------------------------------------
def test_a_provider_sees_the_schools_that_chose_it_with_brin6_and_name(get, school, heutink):
    SchoolFactory(brin="88YY", name="Niet gekozen")
    other = SchoolFactory(brin="77XX", name="Andere beheerder")
    choose(other, provider("concurrent"))
    answer = get("/schools").json()
    assert answer["count"] == 1
    [item] = answer["items"]
    assert (item["brin6"], item["name"]) == ("99ZZ00", "De Regenboog")
    assert len(item["id"]) == 64


def test_a_withdrawn_choice_hides_the_school_and_its_users_at_once(get, school, klas):
    sid = school_id(get)
    assert get(f"/schools/{sid}/access").status_code == 200
    NetworkProviderConsent.objects.update(withdrawn_at=timezone.now())
    assert get("/schools").json() == {"items": [], "count": 0}
    gone = get(f"/schools/{sid}/access")
    unknown = get(f"/schools/{'0' * 64}/access")
    # No oracle: a school that withdrew answers exactly as an id that never existed.
    assert gone.status_code == unknown.status_code == 404
    assert gone.json() == unknown.json()
    assert gone.json()["detail"]


def test_another_providers_school_is_invisible(client, get, school, klas):
    other = provider("concurrent")
    other_school = SchoolFactory(brin="66WW", name="Elders")
    choose(other_school, other)
    other_token = NetworkProviderApiToken.issue(other, "portaal")[1]
    other_sid = school_id(lambda path, **q: get(path, token=other_token, **q))
    assert get(f"/schools/{other_sid}/access").status_code == 404
    # Both chose the same school: each has its own id for it, and for its pupils.
    choose(school, other)
    theirs = get("/schools", token=other_token).json()["items"]
    mine = get("/schools").json()["items"]
    ours = next(s for s in theirs if s["brin6"] == "99ZZ00")
    assert ours["id"] != mine[0]["id"]
    assert get(f"/schools/{ours['id']}/access").status_code == 404
    their_ids = {p["id"] for p in get(f"/schools/{ours['id']}/access",
                                      token=other_token).json()["items"]}
    my_ids = {p["id"] for p in get(f"/schools/{mine[0]['id']}/access").json()["items"]}
    assert len(my_ids) == len(their_ids) == 2 and not my_ids & their_ids


def test_user_ids_differ_from_the_publishers_sub(get, school, klas):
    ids = {p["id"] for p in people(get, school_id(get)).values()}
    subs = {subject_for(klas["publisher"].pk, person.user_id)
            for person in (klas["pupil"], klas["teacher"])}
    assert len(ids) == 2 and not ids & subs


# ---------------------------------------------------------------------------------------------
# What they may open
# ---------------------------------------------------------------------------------------------
def test_products_follow_the_licences(get, school, klas, settings):
    sid = school_id(get)
    zoe = people(get, sid)["Zoë"]
    assert zoe["role"] == "pupil" and zoe["products"] == []
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    everyone = people(get, sid)
    zoe, marieke = everyone["Zoë"], everyone["Marieke"]
    assert (zoe["family_name_initial"], zoe["groups"]) == ("J", ["Groep 5a"])
    assert (marieke["role"], marieke["family_name_initial"]) == ("teacher", "V")
    [product] = zoe["products"]
    pk = klas["product"].pk
    assert product == {
        "code": "ZB5", "name": "Zonnebloem 5", "publisher": "Uitgeverij Zonnebloem",
        "product_type": "oefensoftware", "icon_url": "",
        # Klaspoort's own tile address, absolute: the same single sign-on as the portal's tile.
        "launch_url": f"{settings.SITE_URL}/lesmateriaal/open/{pk}/",
        "shortcut_url": f"{settings.SITE_URL}/leerling/{school.pupil_page_ref}/?next={pk}",
        "on_portal": True}
    assert marieke["products"][0]["launch_url"] == product["launch_url"]
    assert marieke["products"][0]["shortcut_url"] is None
    # The contract ends: gone the next day.
    Contract.objects.update(end=timezone.localdate() - datetime.timedelta(days=1))
    assert all(p["products"] == [] for p in people(get, sid).values())


def test_a_child_licence_and_a_cluster_count_and_nothing_personal_is_shown(get, school, klas):
    cluster = GroupFactory(school=school, name="Plusklas")
    PupilCluster.objects.create(pupil=klas["pupil"], group=cluster)
    child = ChildLicenceFactory(contract__school=school, pupil=klas["pupil"],
                                contract__product__name="Taalvonk",
                                contract__product__publisher=klas["publisher"])
    zoe = people(get, school_id(get))["Zoë"]
    assert zoe["groups"] == ["Groep 5a", "Plusklas"]
    assert [p["name"] for p in zoe["products"]] == [child.contract.product.name]
    shown = json.dumps(zoe)
    assert "Jansen" not in shown and klas["pupil"].key not in shown


def test_no_consent_to_the_publisher_no_product(get, school, klas):
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    PublisherConsent.objects.update(withdrawn_at=timezone.now())
    assert people(get, school_id(get))["Zoë"]["products"] == []


def test_whiteboard_software_is_not_a_pupils_tile_but_still_listed(get, school, klas):
    Product.objects.update(product_type=Product.Type.WHITEBOARD)
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    everyone = people(get, school_id(get))
    assert everyone["Zoë"]["products"][0]["on_portal"] is False
    assert everyone["Marieke"]["products"][0]["on_portal"] is True


def test_inactive_people_are_left_out_and_pages_are_stable(get, school, klas):
    for n in range(5):
        PupilFactory(school=school, group=klas["group"], first_name=f"Kind{n}")
    PupilFactory(school=school, group=klas["group"], first_name="Weg", active=False)
    sid = school_id(get)
    first = get(f"/schools/{sid}/access", limit=4).json()
    second = get(f"/schools/{sid}/access", limit=4, offset=4).json()
    assert first["count"] == second["count"] == 7
    ids = [p["id"] for p in first["items"] + second["items"]]
    assert len(set(ids)) == 7 and ids == sorted(ids)
    assert "Weg" not in {p["given_name"] for p in first["items"] + second["items"]}
    assert first["school"]["brin6"] == "99ZZ00"


# ---------------------------------------------------------------------------------------------
# Tokens, errors and the rate limit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("auth", [None, "Bearer kpn_nietbestaand", "Basic abc"])
def test_without_a_valid_token_the_answer_is_401_json(client, auth):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    response = client.get(BASE + "/schools", **headers)
    assert response.status_code == 401 and response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_and_a_publishers_token_are_refused(get, school):
    assert get("/schools").status_code == 200
    NetworkProviderApiToken.objects.update(revoked_at=timezone.now())
    assert get("/schools").status_code == 401
    publisher_token = PublisherApiToken.issue(PublisherFactory(), "crm")[1]
    assert get("/schools", token=publisher_token).status_code == 401


def test_a_provider_taken_out_of_the_catalogue_is_refused(get, school, heutink):
    NetworkProvider.objects.filter(pk=heutink.pk).update(active=False)
    assert get("/schools").status_code == 401


def test_each_token_is_rate_limited_with_retry_after(get, school, settings):
    settings.PUBLISHER_API_RATE_PER_MINUTE = 2
    answers = [get("/schools") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60 and answers[-1].json()["detail"]


def test_errors_are_dutch_json(get, school, client, token):
    with_typo = get("/schools", limt="5")
    assert with_typo.status_code == 422
    assert with_typo.json()["errors"][0]["message"] == "Onbekende parameter."
    assert get("/schools", limit="0").status_code == 422
    assert get("/schools/kort/access").status_code == 422
    missing = get(f"/schools/{'f' * 64}/access")
    assert missing.json()["detail"] == "Niet gevonden."
    wrong = client.post(BASE + "/schools", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert wrong.status_code == 405 and wrong.json()["detail"]


def test_the_read_is_a_fixed_number_of_queries_whatever_the_schools_size(get, school, klas):
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    sid = school_id(get)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert get(f"/schools/{sid}/access").status_code == 200
        return len(captured.captured_queries)

    small = queries()
    for n in range(20):
        PupilFactory(school=school, group=klas["group"], first_name=f"Kind{n}")
    assert queries() == small <= 16


# ---------------------------------------------------------------------------------------------
# klaspoort network-token
# ---------------------------------------------------------------------------------------------
def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("network-token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_a_working_token_once_and_audits_it(client, heutink, school):
    out, _err = run("heutink-test", "Portaal", "--json")
    document = json.loads(out)
    assert document["status"] == "ok" and document["token"].startswith("kpn_")
    row = NetworkProviderApiToken.objects.get(prefix=document["prefix"])
    assert row.digest != document["token"] and document["token"] not in row.digest
    answer = client.get(BASE + "/schools", HTTP_AUTHORIZATION=f"Bearer {document['token']}")
    assert answer.status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_NETWORK_TOKEN_CREATE).exists()
    plain, _err = run("heutink-test", "Tweede")
    assert plain.strip().startswith("kpn_")


def test_the_command_revokes_by_prefix(client, heutink, school):
    token = json.loads(run("heutink-test", "Portaal", "--json")[0])
    out, _err = run("heutink-test", "--revoke", token["prefix"], "--json")
    assert json.loads(out) == {"status": "ok", "provider": "heutink-test", "name": "Portaal",
                               "prefix": token["prefix"], "revoked": True, "changed": True}
    answer = client.get(BASE + "/schools", HTTP_AUTHORIZATION=f"Bearer {token['token']}")
    assert answer.status_code == 401
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_NETWORK_TOKEN_REVOKE).count() == 1
    again, _err = run("heutink-test", "--revoke", token["prefix"])
    assert "al ingetrokken" in again  # the operator reads Dutch


@pytest.mark.parametrize("args", [("bestaat-niet", "Portaal"), ("heutink-test", "  "),
                                  ("heutink-test", "--revoke", "kpn_zzzzzz")])
def test_the_command_refuses_clearly_and_changes_nothing(heutink, args, capsys):
    with pytest.raises(SystemExit) as stopped:
        call_command("network-token", *args, "--json", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert stopped.value.code != 0
    assert not NetworkProviderApiToken.objects.exists()
    assert not AuditEntry.objects.exists()


def test_the_command_json_refusal_is_one_document(heutink):
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("network-token", "bestaat-niet", "x", "--json", stdout=out,
                     stderr=io.StringIO())
    document = json.loads(out.getvalue())
    assert document["status"] == "error" and "bestaat-niet" in document["error"]


# ---------------------------------------------------------------------------------------------
# The operator's admin: a list to read, and revoking
# ---------------------------------------------------------------------------------------------
def test_the_operator_sees_the_tokens_and_revokes_one(client, heutink):
    row, plain = NetworkProviderApiToken.issue(heutink, "Portaal")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = reverse("admin:exchange_networkproviderapitoken_changelist")
    page = client.get(listing)
    assert page.status_code == 200
    assert row.prefix in page.content.decode() and plain not in page.content.decode()
    assert client.get(reverse("admin:exchange_networkproviderapitoken_add")).status_code == 403
    done = client.post(listing, {"action": "revoke", "_selected_action": [row.pk]})
    assert done.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEntry.objects.get(action=AuditAction.EXCHANGE_NETWORK_TOKEN_REVOKE).target == (
        f"{heutink.name}: Portaal ({row.prefix}…)")
    answer = client.get(BASE + "/schools", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert answer.status_code == 401


def test_the_launch_address_starts_klaspoorts_own_single_sign_on(client, get, school, klas):
    Product.objects.update(launch_url="https://zonnebloem.example/start")
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    launch = people(get, school_id(get))["Marieke"]["products"][0]["launch_url"]
    path = urlsplit(launch).path
    # Not signed in: Klaspoort's sign-in first, then back to the same tile.
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "next=" in anonymous["Location"]
    client.force_login(klas["teacher"].user)
    started = client.get(path)
    assert started.status_code == 302
    target = urlsplit(started["Location"])
    assert (target.netloc, target.path) == ("zonnebloem.example", "/start")
    assert {"iss", "login_hint", "target_link_uri"} <= set(parse_qs(target.query))


def test_the_icon_address_is_klaspoorts_own_and_absolute(client, get, school, klas, settings):
    ProductIcon.objects.create(product=klas["product"], content_type="image/png",
                               data=b"\x89PNG", sha256="ab" * 32, width=64, height=64)
    GroupLicence.objects.create(contract=klas["contract"], group=klas["group"])
    icon = people(get, school_id(get))["Zoë"]["products"][0]["icon_url"]
    assert icon.startswith(f"{settings.SITE_URL}/icoon/")
    assert client.get(urlsplit(icon).path).status_code == 200


def test_either_api_module_may_be_imported_first():
    # api.py mounts this router at its end and network_api imports api.py's pieces: a fresh
    # interpreter that imports network_api first still serves both routes.
    script = ("import django; django.setup(); import klaspoort.exchange.network_api; "
              "from klaspoort.exchange.api import api; "
              "print(sorted(p for p in api.get_openapi_schema()['paths'] if 'network' in p))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "klaspoort.settings"})
    assert done.returncode == 0, done.stderr
    assert "/api/network/v1/schools/{school_id}/access" in done.stdout
