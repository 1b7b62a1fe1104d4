"""OneRoster 1.2 Rostering for international publishers (issue 13 item 4, decision 0033):
OAuth 2.0 client credentials with scopes, every path of the official REST binding, the CSV
bulk zip; the same view and pairwise ids as the change feed."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from klaspoort.exchange.models import (
    OneRosterAccessToken,
    OneRosterClient,
    PublisherApiToken,
    hash_token,
)
from klaspoort.exchange.oneroster_auth import DEMOGRAPHICS, ROSTER, ROSTER_CORE
from klaspoort.exchange.oneroster_views import CSV_HEADERS
from klaspoort.licences.models import GroupLicence, PublisherMembership
from klaspoort.pseudonyms import group_id_for, school_id_for, subject_for
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Pupil, Teacher
from klaspoort.roster.services import apply_roster
from klaspoort.schools.services import set_publisher_consents
from tests.factories import PASSWORD, SchoolFactory
from tests.licences.factories import (
    ContractFactory,
    ProductFactory,
    PublisherFactory,
    PublisherMemberFactory,
)

pytestmark = pytest.mark.django_db

BASE = "/ims/oneroster/rostering/v1p2"
TOKEN_URL = "/ims/oneroster/token"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


class World:
    pass


@pytest.fixture
def world(school, school_file, coordinator, committed):
    """School 99ZZ00 (60 pupils) consents to Zonnebloem, which has a per-group licence for
    year group 5; school 98YY00 has a Zonnebloem licence too, but no consent."""
    zonnebloem = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    product = ProductFactory(publisher=zonnebloem, code="ZB5", year_groups=[5])
    contract = ContractFactory(school=school, product=product)
    committed(apply_roster, school, parse_edexml(school_file(60)))
    committed(set_publisher_consents, school, [zonnebloem.pk], coordinator)
    other = SchoolFactory(brin="98YY", dependancecode="00", name="De Klimop")
    ContractFactory(school=other, product=product)
    committed(apply_roster, other, parse_edexml(school_file(30, brin="98YY", seed=2)))
    w = World()
    w.school, w.other, w.contract, w.coordinator = school, other, contract, coordinator
    w.publisher = zonnebloem
    w.pid = zonnebloem.pk
    w.school_id = school_id_for(zonnebloem.pk, school.pk)
    w.client_row, w.secret = OneRosterClient.issue(zonnebloem, "LMS")
    return w


def post_form(client, data, **extra):
    return client.post(TOKEN_URL, urlencode(data),
                       content_type="application/x-www-form-urlencoded", **extra)


def get_token(client, world, scope=None, *, basic=True):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    extra = {}
    if basic:
        raw = f"{world.client_row.client_id}:{world.secret}".encode()
        extra["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(raw).decode()
    else:
        data.update(client_id=world.client_row.client_id, client_secret=world.secret)
    return post_form(client, data, **extra)


@pytest.fixture
def api(client, world):
    access = get_token(client, world).json()["access_token"]

    def get(path, **params):
        return client.get(BASE + path, params, HTTP_AUTHORIZATION=f"Bearer {access}")

    return get


# --- OAuth 2.0 client credentials -------------------------------------------------------------

@pytest.mark.parametrize("basic", [True, False])
def test_client_credentials_give_a_bearer_token_with_the_roster_scopes(client, world, basic):
    response = get_token(client, world, basic=basic)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert set(body["scope"].split()) == {ROSTER, ROSTER_CORE}
    # Only its digest is kept.
    assert not OneRosterAccessToken.objects.filter(digest=body["access_token"]).exists()


def test_token_errors_are_rfc_6749(client, world):
    wrong = post_form(client, {"grant_type": "client_credentials",
                                    "client_id": world.client_row.client_id,
                                    "client_secret": "ors_wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    password = post_form(client, {"grant_type": "password",
                                       "client_id": world.client_row.client_id,
                                       "client_secret": world.secret})
    assert password.json()["error"] == "unsupported_grant_type"
    demographics = get_token(client, world, scope=f"{ROSTER} {DEMOGRAPHICS}")
    assert demographics.status_code == 400
    assert demographics.json()["error"] == "invalid_scope"
    as_json = client.post(TOKEN_URL, {"grant_type": "client_credentials"},
                          content_type="application/json")
    assert as_json.json()["error"] == "invalid_request"
    assert client.get(TOKEN_URL).status_code == 405


def test_scopes_are_enforced_per_path_as_the_document_declares(client, world):
    core = get_token(client, world, scope=ROSTER_CORE).json()
    assert core["scope"] == ROSTER_CORE
    auth = {"HTTP_AUTHORIZATION": f"Bearer {core['access_token']}"}
    classes = client.get(BASE + "/classes", **auth)
    assert classes.status_code == 200
    class_id = classes.json()["classes"][0]["sourcedId"]
    # The relationship paths need roster.readonly.
    refused = client.get(f"{BASE}/classes/{class_id}/students", **auth)
    assert refused.status_code == 403
    assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == "forbidden"


def test_demographics_are_never_given(api):
    for path in ("/demographics", "/demographics/anything"):
        response = api(path)
        assert response.status_code == 403
        assert response.json()["imsx_codeMajor"] == "failure"


def test_no_expired_or_revoked_or_missing_token_reads_anything(client, world, api):
    assert client.get(BASE + "/orgs").status_code == 401
    assert client.get(BASE + "/orgs", HTTP_AUTHORIZATION="Bearer ort_made-up").status_code == 401
    assert api("/orgs").status_code == 200
    OneRosterAccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(1))
    assert api("/orgs").status_code == 401
    OneRosterAccessToken.objects.update(expires_at=timezone.now() + datetime.timedelta(1))
    OneRosterClient.objects.update(revoked_at=timezone.now())
    response = api("/orgs")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- What the publisher sees -------------------------------------------------------------------

def test_the_school_with_consent_is_an_org_and_the_other_is_unknown(api, world):
    orgs = api("/orgs").json()["orgs"]
    assert [o["sourcedId"] for o in orgs] == [world.school_id]
    assert orgs[0]["name"] == world.school.name and orgs[0]["identifier"] == "99ZZ00"
    assert orgs[0]["type"] == "school" and orgs[0]["status"] == "active"
    assert api("/schools").json()["orgs"] == orgs
    hidden = school_id_for(world.pid, world.other.pk)
    for path in (f"/schools/{hidden}", f"/orgs/{hidden}", f"/schools/{hidden}/classes",
                 f"/schools/{hidden}/students"):
        unknown = api(path.replace(hidden, "0" * 64))
        answer = api(path)
        assert answer.status_code == unknown.status_code == 404
        assert answer.json() == unknown.json()


def test_classes_users_and_enrollments_are_the_feeds_view_with_its_ids(api, world):
    linked = set(GroupLicence.objects.filter(contract=world.contract).values_list(
        "group_id", flat=True))
    classes = api("/classes").json()["classes"]
    assert {c["sourcedId"] for c in classes} == {group_id_for(world.pid, pk) for pk in linked}
    first = classes[0]
    assert first["classType"] == "homeroom" and first["grades"] == ["03"]
    assert first["school"]["sourcedId"] == world.school_id
    course = api(f"/courses/{first['course']['sourcedId']}").json()["course"]
    assert course["title"] == "Groep 5" and course["grades"] == ["03"]
    pupils = Pupil.objects.filter(group_id__in=linked, active=True)
    students = api("/students", limit=1000).json()["users"]
    assert {u["sourcedId"] for u in students} == {subject_for(world.pid, p.user_id)
                                                  for p in pupils}
    pupil = pupils.first()
    user = api(f"/users/{subject_for(world.pid, pupil.user_id)}").json()["user"]
    assert user["givenName"] == pupil.first_name
    assert user["familyName"] == pupil.last_name[0].upper() + "."
    assert user["roles"][0]["role"] == "student" and "email" not in user
    teachers = Teacher.objects.filter(groups__in=linked, active=True).distinct()
    assert {u["sourcedId"] for u in api("/teachers").json()["users"]} == {
        subject_for(world.pid, t.user_id) for t in teachers}
    # A class's students are its enrollments.
    class_id = group_id_for(world.pid, pupil.group_id)
    in_class = api(f"/classes/{class_id}/students", limit=1000).json()["users"]
    enrollments = api(f"/schools/{world.school_id}/classes/{class_id}/enrollments",
                      limit=1000).json()["enrollments"]
    assert {u["sourcedId"] for u in in_class} == {
        e["user"]["sourcedId"] for e in enrollments if e["role"] == "student"}
    one = api(f"/enrollments/{enrollments[0]['sourcedId']}").json()["enrollment"]
    assert one == enrollments[0]
    assert class_id in {c["sourcedId"] for c in api(
        f"/students/{user['sourcedId']}/classes").json()["classes"]}
    # A teacher is not found as a student.
    assert api(f"/students/{subject_for(world.pid, teachers[0].user_id)}").status_code == 404


def test_oneroster_and_the_feeds_snapshot_name_the_same_people_and_groups(api, world, client):
    _row, plain = PublisherApiToken.issue(world.publisher, "feed")
    snapshot = client.get(f"/api/publisher/v1/schools/{world.school_id}",
                          HTTP_AUTHORIZATION=f"Bearer {plain}").json()
    users = api(f"/schools/{world.school_id}/students", limit=1000).json()["users"] + api(
        f"/schools/{world.school_id}/teachers", limit=1000).json()["users"]
    assert {(u["sourcedId"], u["givenName"], u["familyName"]) for u in users} == {
        (p["id"], p["given_name"], p["family_name"]) for p in snapshot["people"]}
    classes = api(f"/schools/{world.school_id}/classes").json()["classes"]
    assert {(c["sourcedId"], c["title"]) for c in classes} == {
        (g["id"], g["name"]) for g in snapshot["groups"]}
    enrollments = api(f"/schools/{world.school_id}/enrollments", limit=1000).json()[
        "enrollments"]
    assert {(e["user"]["sourcedId"], e["class"]["sourcedId"]) for e in enrollments} == {
        (p["id"], g) for p in snapshot["people"] for g in p["group_ids"]}


def test_the_school_year_is_one_session_with_one_term(api):
    sessions = api("/academicSessions").json()["academicSessions"]
    assert [s["type"] for s in sessions] == ["schoolYear", "term"]
    year = sessions[0]
    assert year["startDate"].endswith("-08-01") and year["endDate"].endswith("-07-31")
    term = api("/terms").json()["academicSessions"]
    assert term == [sessions[1]]
    assert api(f"/terms/{term[0]['sourcedId']}/gradingPeriods").json() == {
        "academicSessions": []}
    assert api("/gradingPeriods").json() == {"academicSessions": []}


def test_a_withdrawn_consent_empties_the_roster_at_once(api, world, committed):
    assert api("/users").json()["users"]
    committed(set_publisher_consents, world.school, [], world.coordinator)
    assert api("/users").json() == {"users": []}
    assert api(f"/schools/{world.school_id}").status_code == 404


# --- Paging, filtering, sorting, field selection -----------------------------------------------

def test_paging_gives_the_total_and_links(api):
    everyone = api("/users", limit=1000).json()["users"]
    page = api("/users", limit=5, offset=5)
    assert page["X-Total-Count"] == str(len(everyone))
    assert page.json()["users"] == everyone[5:10]
    links = page["Link"]
    assert 'rel="next"' in links and 'rel="prev"' in links and 'rel="last"' in links
    assert "offset=10" in links and "limit=5" in links
    assert len(api("/users").json()["users"]) == min(100, len(everyone))


def test_filter_sort_and_fields(api):
    teachers = api("/users", filter="roles.role='teacher'").json()["users"]
    assert teachers and all(u["roles"][0]["role"] == "teacher" for u in teachers)
    name = teachers[0]["givenName"]
    both = api("/users", filter=f"roles.role='teacher' AND givenName='{name}'").json()["users"]
    assert both and all(u["givenName"] == name for u in both)
    either = api("/users", filter=f"givenName='{name}' OR roles.role='teacher'",
                 limit=1000).json()["users"]
    assert {u["sourcedId"] for u in teachers} <= {u["sourcedId"] for u in either}
    contains = api("/users", filter=f"givenName~'{name[1:3].upper()}'", limit=1000)
    assert name in {u["givenName"] for u in contains.json()["users"]}
    assert api("/users", filter="givenName!='zzz'")["X-Total-Count"] == api(
        "/users")["X-Total-Count"]
    ordered = api("/users", sort="givenName", orderBy="desc", limit=1000).json()["users"]
    names = [u["givenName"] for u in ordered]
    assert names == sorted(names, reverse=True)
    slim = api("/classes", fields="sourcedId,title").json()["classes"][0]
    assert "classType" not in slim and "title" in slim
    later = api("/users", filter="dateLastModified>'2000-01-01'")["X-Total-Count"]
    assert later == api("/users")["X-Total-Count"]


@pytest.mark.parametrize(("params", "code"), [
    ({"filter": "shoeSize='42'"}, "invalid_filter_field"),
    ({"filter": "givenName='a' XOR familyName='b'"}, "invalid_filter_field"),
    ({"filter": "givenName=a"}, "invalid_filter_field"),
    ({"fields": "sourcedId,shoeSize"}, "invalid_selection_field"),
    ({"sort": "shoeSize"}, "invalid_selection_field"),
    ({"limit": "0"}, "invaliddata"),
    ({"offset": "-1"}, "invaliddata"),
    ({"orderBy": "up"}, "invaliddata"),
    ({"brin": "99ZZ"}, "invaliddata"),
])
def test_a_bad_parameter_is_a_400_status_info(api, params, code):
    response = api("/users", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["imsx_codeMajor"] == "failure" and body["imsx_severity"] == "error"
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == code
    assert " / " in body["imsx_description"]  # English and Dutch


# --- CSV bulk ----------------------------------------------------------------------------------

def test_the_bulk_zip_holds_the_oneroster_csv_files_of_one_school(client, world, api):
    access = get_token(client, world).json()["access_token"]
    response = client.get(f"/ims/oneroster/bulk/v1p2/{world.school_id}.zip",
                          HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    files = {name: list(csv.reader(io.StringIO(archive.read(name).decode())))
             for name in archive.namelist()}
    assert set(files) == {"manifest.csv", *CSV_HEADERS}
    for name, header in CSV_HEADERS.items():
        assert tuple(files[name][0]) == header
    manifest = dict(files["manifest.csv"][1:])
    assert manifest["oneroster.version"] == "1.2" and manifest["file.users"] == "bulk"
    assert manifest["file.demographics"] == "absent"
    users = api("/users", limit=1000).json()["users"]
    assert {row[0] for row in files["users.csv"][1:]} == {u["sourcedId"] for u in users}
    assert len(files["enrollments.csv"]) - 1 == int(api("/enrollments")["X-Total-Count"])
    hidden = school_id_for(world.pid, world.other.pk)
    assert client.get(f"/ims/oneroster/bulk/v1p2/{hidden}.zip",
                      HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 404


# --- The publisher portal ----------------------------------------------------------------------

def test_a_publisher_admin_makes_a_client_sees_the_secret_once_and_revokes_it(world):
    admin = PublisherMemberFactory(publisher=world.publisher,
                                   role=PublisherMembership.Role.ADMIN).user
    browser = Client()
    assert browser.login(email=admin.email, password=PASSWORD)
    url = f"/uitgever/{world.publisher.slug}/api-sleutels/oneroster/"
    page = browser.post(url, {"name": "Rostering"})
    assert page.status_code == 200
    row = OneRosterClient.objects.get(name="Rostering")
    secret = page.context["secret"]
    assert secret and secret in page.content.decode() and row.client_id in page.content.decode()
    assert secret not in browser.get(url).content.decode()
    token = post_form(Client(), {"grant_type": "client_credentials",
                                 "client_id": row.client_id, "client_secret": secret})
    assert token.status_code == 200
    browser.post(f"{url}{row.pk}/intrekken/")
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert Client().get(BASE + "/orgs", HTTP_AUTHORIZATION="Bearer " + token.json()[
        "access_token"]).status_code == 401
    stranger = PublisherFactory(slug="ander")
    assert browser.post(f"/uitgever/{stranger.slug}/api-sleutels/oneroster/",
                        {"name": "x"}).status_code == 404


# --- Schemathesis with the OFFICIAL OneRoster 1.2 document ------------------------------------
# The 1EdTech document (../shared/standards/oneroster/, never copied into the repository)
# against Klaspoort's base URL, in-process: every operation fuzzed with all checks (no 500,
# status codes, content types and bodies as the document's schemas say, auth not ignored),
# then every path once more with the ids of real objects, so populated answers are validated
# too. Skipped when the document is absent.
OFFICIAL = (Path(__file__).resolve().parents[2].parent / "shared" / "standards" / "oneroster"
            / "onerosterv1p2rostersservice_openapi3_v1p0.json")
FUZZ_TOKEN = "ort_schemathesis-fuzzing-token-0123456789"
EXAMPLES_PER_OPERATION = 10


@pytest.fixture
def fuzz_world(school, school_file, coordinator, committed, settings,
               keep_the_test_connection):
    """A small school (the fuzzing makes one per operation) that consents to a publisher with
    a licence for year group 5, and a token of that publisher with both roster scopes."""
    settings.PUBLISHER_API_RATE_PER_MINUTE = 10**9
    publisher = PublisherFactory(name="Uitgeverij Fuzz", slug="fuzz")
    ContractFactory(school=school, product=ProductFactory(publisher=publisher, code="F5",
                                                          year_groups=[5]))
    committed(apply_roster, school, parse_edexml(school_file(16)))
    committed(set_publisher_consents, school, [publisher.pk], coordinator)
    row, _secret = OneRosterClient.issue(publisher, "fuzz")
    OneRosterAccessToken.objects.create(
        client=row, digest=hash_token(FUZZ_TOKEN), scope=f"{ROSTER} {ROSTER_CORE}",
        expires_at=timezone.now() + datetime.timedelta(hours=1))
    cache.clear()
    w = World()
    w.school_id = school_id_for(publisher.pk, school.pk)
    return w


if OFFICIAL.exists():
    import schemathesis
    from hypothesis import HealthCheck
    from hypothesis import settings as hypothesis_settings
    from schemathesis.config import SchemathesisConfig

    from klaspoort.wsgi import application

    _document = json.loads(OFFICIAL.read_text())
    _document["servers"] = [{"url": BASE}]
    official = schemathesis.openapi.from_dict(_document, config=SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {FUZZ_TOKEN}"},
        # 400: a filter, sort or field name the type does not have (the schema cannot say
        # which names are valid); 403: demographics, never given; 404: an unknown id.
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "403", "404"]}},
    }))
    official.app = application

    @official.parametrize()
    @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                         database=None, suppress_health_check=list(HealthCheck))
    def test_every_operation_of_the_official_document_holds_its_schemas(case, fuzz_world):
        case.call_and_validate()

    def test_every_path_answers_real_objects_exactly_as_the_official_schemas_say(
            fuzz_world, client):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {FUZZ_TOKEN}"}

        def first(path, key):
            return client.get(BASE + path, **auth).json()[key][0]["sourcedId"]

        ids = {
            "schoolSourcedId": fuzz_world.school_id,
            "classSourcedId": first("/classes", "classes"),
            "courseSourcedId": first("/courses", "courses"),
            "studentSourcedId": first("/students", "users"),
            "teacherSourcedId": first("/teachers", "users"),
            "userSourcedId": first("/users", "users"),
            "termSourcedId": first("/terms", "academicSessions"),
        }
        single = {"/academicSessions/{sourcedId}": first("/academicSessions", "academicSessions"),
                  "/classes/{sourcedId}": ids["classSourcedId"],
                  "/courses/{sourcedId}": ids["courseSourcedId"],
                  "/enrollments/{sourcedId}": first("/enrollments", "enrollments"),
                  "/orgs/{sourcedId}": fuzz_world.school_id,
                  "/schools/{sourcedId}": fuzz_world.school_id,
                  "/students/{sourcedId}": ids["studentSourcedId"],
                  "/teachers/{sourcedId}": ids["teacherSourcedId"],
                  "/terms/{sourcedId}": ids["termSourcedId"],
                  "/users/{sourcedId}": ids["userSourcedId"]}
        statuses = {}
        for path in _document["paths"]:
            operation = official[path]["GET"]
            names = [p for p in path.split("/") if p.startswith("{")]
            params = {name[1:-1]: single.get(path) or ids.get(name[1:-1], "unknown")
                      for name in names}
            for query in ({}, {"limit": 2, "offset": 1, "sort": "sourcedId",
                               "orderBy": "desc"}) if "{sourcedId}" not in path else ({},):
                response = operation.Case(path_parameters=params, query=query).call(
                    headers={"Authorization": f"Bearer {FUZZ_TOKEN}"})
                statuses[path] = response.status_code
                operation.validate_response(response)
        assert set(statuses) == set(_document["paths"]) and len(statuses) == 41
        refused = {"/demographics", "/demographics/{sourcedId}", "/gradingPeriods/{sourcedId}"}
        assert {p for p, status in statuses.items() if status != 200} == refused
else:
    def test_the_official_oneroster_document_is_absent():
        pytest.skip("../shared/standards/oneroster is not here")


def test_unreadable_text_and_unknown_paths_answer_in_the_oneroster_shape(api, client):
    nul = api("/users", filter="givenName='a\x00'")
    assert nul.status_code == 400 and nul.json()["imsx_codeMajor"] == "failure"
    for path in ("/nothing", "/classes//students", "/users/a/b/c"):
        response = api(path)
        assert response.status_code == 404
        assert response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "unknownobject"
    assert client.post(BASE + "/users").status_code == 405
    token_nul = client.post(TOKEN_URL, "grant_type=client_credentials&scope=%00",
                            content_type="application/x-www-form-urlencoded")
    assert token_nul.status_code == 400 and token_nul.json()["error"] == "invalid_request"


def test_each_client_is_rate_limited_with_retry_after(api, settings):
    cache.clear()
    settings.PUBLISHER_API_RATE_PER_MINUTE = 2
    assert api("/orgs").status_code == 200
    assert api("/orgs").status_code == 200
    refused = api("/orgs")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == "server_busy"
