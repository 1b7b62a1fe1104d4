"""Schemathesis over the whole API document, publishers' and network providers' operations,
in-process (issue 10, finding 8).

Every operation is fuzzed with all checks (server errors, status codes and response bodies as
documented, content types, headers, positive data accepted, negative data refused, ignored
auth, unsupported methods, …) and then the stateful phase runs sequences of calls. It is
bounded (derandomized, a fixed number of examples per operation) so it runs in the normal
suite, on SQLite and on PostgreSQL. A failure here is a difference between the OpenAPI
document and what the server does.

One setting is chosen on purpose (decision 0017): 422 counts as an acceptable answer to data
the schema allows, because some contract rules cannot be expressed in JSON Schema (an end
before the start, an unknown product code without its name, fewer seats than linked children).
"""

import json

import pytest
import schemathesis
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig

from klaspoort.exchange import feed, network_selectors
from klaspoort.exchange.api import api
from klaspoort.exchange.models import (
    LasApiToken,
    NetworkProviderApiToken,
    PublisherApiToken,
    hash_token,
)
from klaspoort.licences.models import GroupLicence, Product
from klaspoort.pseudonyms import school_id_for, subject_for
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import LasSystem, Pupil, RosterCoupling
from klaspoort.roster.services import process_waiting_imports
from klaspoort.schools.models import (
    NetworkProvider,
    NetworkProviderConsent,
    PublisherConsent,
    School,
)
from klaspoort.wsgi import application
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

EXAMPLES_PER_OPERATION = 30
# A fixed token, made in the database by the fixture: schemathesis must know the credentials
# to check that the API refuses requests without them.
TOKEN = "kp_schemathesis-fuzzing-token-0123456789"
ACCEPTABLE = ["2xx", "401", "404", "409", "422", "429"]
CONFIG = SchemathesisConfig.from_dict({
    "headers": {"Authorization": f"Bearer {TOKEN}"},
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTABLE}},
    # A cursor is opaque (decision 0030): any string of its pattern is schema-valid, but only
    # one the feed handed out is accepted; a made-up one is the documented 400.
    "operations": [{"include-path": "/api/publisher/v1/changes", "checks": {
        "positive_data_acceptance": {"expected-statuses": [*ACCEPTABLE, "400"]}}},
                   # Any string is a schema-valid roster body: the server then judges the file
                   # (422), its school (403: not switched on) or its bytes (400: NUL bytes).
                   {"include-path": "/api/las/v1/roster", "include-method": "POST", "checks": {
                       "positive_data_acceptance": {"expected-statuses": [
                           *ACCEPTABLE, "400", "403"]}}}],
})
# The document as /api/openapi.json serves it (test_the_served_document_is_the_one_fuzzed),
# read without a request: serving any page reads the database, which collection may not.
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema())),
                                        config=CONFIG)
schema.app = application
HYPOTHESIS = settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                      database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def token(db, settings, keep_the_test_connection):
    # Many requests in one minute: the rate limit has a test of its own.
    settings.PUBLISHER_API_RATE_PER_MINUTE = 10**9
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    publisher = PublisherFactory(name="Uitgeverij Fuzz")
    PublisherApiToken.objects.create(publisher=publisher, name="fuzz", prefix=TOKEN[:10],
                                     digest=hash_token(TOKEN))
    # The same value is also a network provider's token (the two kinds live in separate
    # tables), so the one Authorization header fuzzes the network provider routes as well,
    # for a school that chose the provider, with a licensed group (decision 0032).
    provider = NetworkProvider.objects.create(name="Netwerk Fuzz", slug="netwerk-fuzz")
    NetworkProviderApiToken.objects.create(provider=provider, name="fuzz", prefix=TOKEN[:10],
                                           digest=hash_token(TOKEN))
    NetworkProviderConsent.objects.create(school=school, provider=provider,
                                          given_at=timezone.now())
    PublisherConsent.objects.create(school=school, publisher=publisher, given_at=timezone.now())
    # And a LAS's token (issue 14), for a LAS the school switched on: the push routes are
    # fuzzed for a real coupled school.
    las = LasSystem.objects.create(name="LAS Fuzz", slug="las-fuzz",
                                   method=LasSystem.Method.PUSH, needs_key=False)
    LasApiToken.objects.create(las=las, name="fuzz", prefix=TOKEN[:10], digest=hash_token(TOKEN))
    RosterCoupling.objects.create(school=school, las=las, active=True, switched_at=timezone.now())
    group = GroupFactory(school=school)
    PupilFactory(school=school, group=group)
    GroupLicence.objects.create(contract=ContractFactory(
        school=school, product=ProductFactory(publisher=publisher)), group=group)
    # The test's transaction never commits: tell the publisher now what a commit would have,
    # so the feed and the snapshots answer with real records.
    feed.publish_school(school)
    cache.clear()
    return TOKEN


def test_the_served_document_is_the_one_fuzzed(db, client):
    assert client.get("/api/openapi.json").json() == schema.raw_schema


@schema.parametrize()
@HYPOTHESIS
def test_every_operation_is_exactly_its_schema(case, token):
    case.call_and_validate()


NETWORK_ACCESS = schema["/api/network/v1/schools/{school_id}/access"]["GET"]


@given(case=NETWORK_ACCESS.as_strategy())
@HYPOTHESIS
def test_a_consenting_schools_access_page_is_exactly_its_schema(case, token):
    # A random school id is a 404 (fuzzed above); here the id is the school's real one, so the
    # pages of people and their products are checked against the document too.
    case.path_parameters = {"school_id": network_selectors.school_id_for(
        NetworkProvider.objects.get(slug="netwerk-fuzz"), School.objects.get(brin="99ZZ"))}
    case.call_and_validate()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("media_type", ["application/xml", "text/xml"])
def test_an_accepted_push_and_its_status_are_exactly_their_schema(token, media_type):
    # A random string is never a roster of the coupled school (fuzzed above: 422, 403); here
    # a real one is, so the 202 and the status of the import are checked against the document.
    roster = generate_school("99ZZ", "00", 12, seed=4).decode()
    case = schema["/api/las/v1/roster"]["POST"].Case(body=roster, media_type=media_type,
                                                     headers=AUTH)
    response = case.call_and_validate()
    assert response.status_code == 202
    import_id = response.json()["import_id"]
    status = schema["/api/las/v1/roster/{import_id}"]["GET"].Case(
        path_parameters={"import_id": import_id}, headers=AUTH).call_and_validate()
    assert status.json()["status"] == "waiting"
    process_waiting_imports()
    status = schema["/api/las/v1/roster/{import_id}"]["GET"].Case(
        path_parameters={"import_id": import_id}, headers=AUTH).call_and_validate()
    assert status.json()["counts"]["pupils"]["added"] == 12


@pytest.mark.parametrize("path", ["/api/publisher/v1/schools/{school_id}",
                                  "/api/publisher/v1/schools/{school_id}/groups",
                                  "/api/publisher/v1/schools/{school_id}/people"])
def test_a_snapshot_with_records_is_exactly_its_schema(token, path):
    publisher = PublisherApiToken.objects.get(digest=hash_token(TOKEN)).publisher
    case = schema[path]["GET"].Case(path_parameters={"school_id": school_id_for(
        publisher.pk, School.objects.get(brin="99ZZ").pk)}, headers=AUTH)
    response = case.call_and_validate()
    assert response.status_code == 200 and '"active": true' in response.text  # records


def test_a_feed_page_with_events_is_exactly_its_schema(token):
    case = schema["/api/publisher/v1/changes"]["GET"].Case(query={"limit": 5000}, headers=AUTH)
    response = case.call_and_validate()
    # The school, its licensed group and its pupil.
    assert [e["type"] for e in response.json()["events"]] == ["added"] * 3


def test_sequences_of_calls_hold_the_schema_too(token):
    schema.as_state_machine().run(settings=settings(
        max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
        stateful_step_count=5, suppress_health_check=list(HealthCheck)))


def test_stored_results_and_grade_boundaries_are_exactly_their_schema(token):
    # Made-up pupil ids are refused row by row (fuzzed above); here the pupil is the licensed
    # one, so the answer with a stored result is checked against the document too.
    publisher = PublisherApiToken.objects.get(digest=hash_token(TOKEN)).publisher
    pupil = Pupil.objects.get(school__brin="99ZZ")
    product = Product.objects.get(publisher=publisher)
    row = {"id": "fuzz-1", "school_id": school_id_for(publisher.pk, pupil.school_id),
           "user_id": subject_for(publisher.pk, pupil.user_id), "product": product.code,
           "test_code": "T1", "test_name": "Toets 1", "kind": "toets", "score": 3,
           "date": timezone.localdate().isoformat()}
    response = schema["/api/publisher/v1/results"]["POST"].Case(
        body={"results": [row]}, media_type="application/json",
        headers=AUTH).call_and_validate()
    assert response.json()["created"] == 1
    path = "/api/publisher/v1/products/{code}/grade-boundaries/{test_type}"
    bands = [{"term": "onvoldoende", "grade_from": 1, "grade_to": 5.4},
             {"term": "voldoende", "grade_from": 5.5, "grade_to": 10}]
    parameters = {"code": product.code, "test_type": "methodetoets"}
    schema[path]["PUT"].Case(path_parameters=parameters, body={"bands": bands},
                             media_type="application/json", headers=AUTH).call_and_validate()
    read = schema[path]["GET"].Case(path_parameters=parameters, headers=AUTH).call_and_validate()
    assert read.json()["bands"][1]["term"] == "voldoende"
