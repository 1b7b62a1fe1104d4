"""The publisher API's results and grade boundaries (issue 15): POST /results, GET/PUT
/products/{code}/grade-boundaries/{test_type}."""

import json

import pytest

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.exchange.api import api as ninja_api
from klaspoort.exchange.models import PublisherApiToken
from klaspoort.results.models import GradeBoundary, Result
from tests.licences.factories import ProductFactory
from tests.results.ingest_world import licensed_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return licensed_world()

BASE = "/api/publisher/v1"
SEED = [{"term": "onvoldoende", "grade_from": 1, "grade_to": 5.4},
        {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.4},
        {"term": "goed", "grade_from": 7.5, "grade_to": 10}]


@pytest.fixture
def call(client, world):
    _row, token = PublisherApiToken.issue(world.publisher, "lms")

    def call(method, path, body=None, *, raw=None, auth=True):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if auth else {}
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return getattr(client, method)(BASE + path, data=data, content_type="application/json",
                                       **headers)

    return call


def test_a_batch_is_stored_and_the_answer_says_what_happened_per_row(call, world):
    rows = [world.row("a"), world.row("b", score=30), world.row("c")]

    response = call("post", "/results", {"results": rows})

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"], body["refused"]) == (2, 0, 0, 1)
    [error] = body["errors"]
    assert (error["line"], error["field"]) == (2, "score")
    assert error["message_en"] == "The score is higher than max_score."
    assert set(Result.objects.values_list("external_id", flat=True)) == {"a", "c"}

    again = call("post", "/results", {"results": [world.row("a"), world.row("c", score=3)]})
    assert (again.json()["unchanged"], again.json()["updated"]) == (1, 1)


def test_a_pupil_the_publisher_may_not_see_is_refused_without_telling_why(call, world):
    response = call("post", "/results", {"results": [{**world.row(), "user_id": "ab" * 32}]})

    assert response.status_code == 200
    assert response.json()["errors"][0]["field"] == "user_id"
    assert not Result.objects.exists()


def test_more_than_1000_results_are_refused_whole_with_a_clear_error(call, world):
    rows = [world.row(f"r{i}") for i in range(1001)]

    response = call("post", "/results", {"results": rows})

    assert response.status_code == 422
    assert "1000" in response.json()["detail_en"]
    assert not Result.objects.exists()


def test_a_row_that_breaks_the_schema_stores_nothing_and_names_the_row(call, world):
    response = call("post", "/results", {"results": [world.row("a"), world.row("b", score="7")]})

    assert response.status_code == 422
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, "score")]
    assert not Result.objects.exists()


@pytest.mark.parametrize("body", [None, [], {}, {"results": []}, {"results": "x"},
                                  {"results": [{}], "extra": 1}, {"results": None}])
def test_a_body_of_another_shape_is_a_422(call, body):
    response = call("post", "/results", body if body is not None else None,
                    raw="null" if body is None else None)

    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("row", [{"test_name": "Blok\x003"}, {"test_name": "Blok\ud8003"},
                                 {"note": "a\x00b"}, {"id\x00": "x"}, {"\ud800": "x"}])
def test_nul_bytes_and_lone_surrogates_are_a_422_naming_the_row(call, world, row):
    body = json.dumps({"results": [world.row("ok"), {**world.row(), **row}]})

    response = call("post", "/results", raw=body)

    assert response.status_code == 422
    assert [e["line"] for e in response.json()["errors"]] == [2]
    assert not Result.objects.exists()


def test_bad_json_and_a_huge_body_are_refused_before_anything_is_stored(call, world):
    assert call("post", "/results", raw='{"results": [').status_code == 400
    assert call("post", "/results", raw="x" * (2 * 1024 * 1024)).status_code == 413
    assert not Result.objects.exists()


def test_a_huge_string_is_a_row_error(call, world):
    response = call("post", "/results", {"results": [world.row(test_name="x" * 200_000)]})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "test_name"


def test_results_need_a_token(call, world):
    response = call("post", "/results", {"results": [world.row()]}, auth=False)

    assert response.status_code == 401
    assert not Result.objects.exists()


def test_grade_boundaries_are_set_and_read_back(call, world):
    response = call("put", "/products/ZB5/grade-boundaries/methodetoets", {"bands": SEED})

    assert response.status_code == 200
    assert response.json()["bands"][1] == {"term": "voldoende", "grade_from": 5.5,
                                           "grade_to": 7.4}
    assert call("get", "/products/ZB5/grade-boundaries/methodetoets").json() == response.json()
    assert [b["test_type"] for b in call("get", "/products/ZB5/grade-boundaries").json()] == [
        "methodetoets"]
    entry = AuditEntry.objects.get(action=AuditAction.RESULTS_GRADE_BOUNDARIES)
    assert entry.actor_label.startswith("api:")


def test_bands_with_a_gap_are_refused_with_the_band_named(call, world):
    bands = [SEED[0], {**SEED[1], "grade_from": 5.6}, SEED[2]]

    response = call("put", "/products/ZB5/grade-boundaries/methodetoets", {"bands": bands})

    assert response.status_code == 422
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, "grade_from")]
    assert not GradeBoundary.objects.exists()


def test_observations_have_no_grade_boundaries(call, world):
    response = call("put", "/products/ZB5/grade-boundaries/observatie", {"bands": SEED})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "test_type"


def test_another_publishers_product_is_not_found(call, world):
    ProductFactory(code="THEIRS")

    assert call("put", "/products/THEIRS/grade-boundaries/toets",
                {"bands": SEED}).status_code == 404
    assert call("get", "/products/ZB5/grade-boundaries/toets").status_code == 404
    assert not GradeBoundary.objects.exists()


def test_the_openapi_document_lists_the_new_paths():
    paths = ninja_api.get_openapi_schema()["paths"]

    assert "post" in paths[f"{BASE}/results"]
    assert {"get", "put"} <= set(paths[f"{BASE}/products/{{code}}/grade-boundaries/{{test_type}}"])
    assert "get" in paths[f"{BASE}/products/{{code}}/grade-boundaries"]


def test_the_same_new_result_stored_at_the_same_moment_elsewhere_is_a_409(call, world,
                                                                       monkeypatch):
    # Two requests with one new result id: the second's insert meets the unique constraint.
    from django.db import IntegrityError

    from klaspoort.results import services

    def collide(*args, **kwargs):
        raise IntegrityError("result_publisher_external_id_unique")

    monkeypatch.setattr(services, "_store", collide)

    response = call("post", "/results", {"results": [world.row()]})

    assert response.status_code == 409
    assert "send again" in response.json()["detail_en"]
