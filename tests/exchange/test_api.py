"""The publisher API (/api/publisher/v1/): token auth, products, contracts, batch."""

import datetime
import json

import pytest
from django.db import connection
from django.utils import timezone

from klaspoort.audit.models import AuditEntry
from klaspoort.exchange.models import PublisherApiToken
from klaspoort.licences.models import Contract, GroupLicence, Product
from tests.factories import GroupFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

pytestmark = pytest.mark.django_db

BASE = "/api/publisher/v1"


@pytest.fixture
def school():
    return SchoolFactory(brin="99ZZ", dependancecode="00")


@pytest.fixture
def publisher():
    return PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")


@pytest.fixture
def token(publisher):
    _row, plain = PublisherApiToken.issue(publisher, "crm")
    return plain


@pytest.fixture
def api(client, token):
    class Api:
        def call(self, method, path, body=None, *, raw=None, auth=f"Bearer {token}"):
            headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
            data = raw if raw is not None else (json.dumps(body) if body is not None else "")
            return getattr(client, method)(BASE + path, data=data,
                                           content_type="application/json", **headers)

        def get(self, path, **kwargs):
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            return client.get(BASE + path, kwargs, **headers)

    return Api()


def contract(number="Z-1", **extra):
    return {"contract_number": number, "brin6": "99ZZ00", "product_code": "ZB5",
            "product_name": "Zonnebloem 5", "product_type": "oefensoftware",
            "year_groups": [5], "title": f"Zonnebloem {number}", "start": "2026-08-01",
            "end": "2027-07-31", "type": "group", **extra}


# ---------------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("auth", [None, "Bearer", "Bearer kp_nietbestaand", "Basic abc",
                                  "Bearer " + "x" * 10_000])
def test_without_a_valid_token_the_answer_is_401_json(api, auth):
    response = api.call("get", "/products", auth=auth)
    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_is_refused(api, publisher, token):
    assert api.call("get", "/products").status_code == 200
    PublisherApiToken.objects.update(revoked_at=timezone.now())
    assert api.call("get", "/products").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(api):
    api.call("get", "/products")
    row = PublisherApiToken.objects.get()
    first = row.last_used_at
    assert first is not None
    api.call("get", "/products")
    row.refresh_from_db()
    assert row.last_used_at == first
    PublisherApiToken.objects.update(last_used_at=first - datetime.timedelta(minutes=2))
    api.call("get", "/products")
    row.refresh_from_db()
    assert row.last_used_at > first - datetime.timedelta(minutes=1)


def test_the_openapi_and_docs_are_public_and_describe_the_endpoints(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    for path in ["/products", "/products/{code}", "/contracts", "/contracts/{number}",
                 "/contracts/batch"]:
        assert f"/api/publisher/v1{path}" in paths
    put = paths["/api/publisher/v1/contracts/{number}"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    group, child = body["oneOf"]
    assert group["properties"]["brin6"]["description"]
    assert "seats" not in group["properties"] and "seats" in child["required"]
    assert child["properties"]["seats"] == {"type": "integer", "minimum": 1, "maximum": 100_000,
                                            "description": "Number of children.",
                                            "title": "Seats"}
    assert group["properties"]["start"]["format"] == "date"
    assert group["properties"]["title"]["minLength"] == 1
    # Every error status is documented on every operation, in one shape.
    # (A LAS's refused roster file gives ErrorOut with each error in English too.)
    # (So do refused results and grade boundaries: ResultsErrorOut, issue 15.)
    special = {("/api/las/v1/roster", "post", "422"): "FileErrorOut",
               ("/api/publisher/v1/results", "post", "422"): "ResultsErrorOut",
               ("/api/publisher/v1/products/{code}/grade-boundaries/{test_type}", "put",
                "422"): "ResultsErrorOut"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status in ("400", "401", "404", "405", "409", "413", "415", "422", "429",
                           "500"):
                shape = special.get((path, method, status), "ErrorOut")
                assert operation["responses"][status]["content"]["application/json"][
                    "schema"] == {"$ref": f"#/components/schemas/{shape}"}
    file_error = spec["components"]["schemas"]["FileErrorOut"]
    error = spec["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == set(file_error["properties"])
    assert spec["components"]["securitySchemes"]
    assert client.get("/api/docs").status_code == 200


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------
def test_put_product_creates_then_updates_and_get_lists_only_own(api, publisher):
    ProductFactory(code="VREEMD")  # another publisher's
    body = {"name": "Zonnebloem 5", "product_type": "toetsen", "year_groups": [5, 6],
            "launch_url": "https://zonnebloem.example/start"}
    created = api.call("put", "/products/ZB5", body)
    assert created.status_code == 201
    assert created.json()["year_groups"] == [5, 6]
    updated = api.call("put", "/products/ZB5", {**body, "name": "Zonnebloem 5 nieuw"})
    assert updated.status_code == 200
    assert Product.objects.get(publisher=publisher, code="ZB5").name == "Zonnebloem 5 nieuw"
    listed = api.call("get", "/products").json()
    assert [p["code"] for p in listed] == ["ZB5"]
    assert AuditEntry.objects.filter(action="licences.product.update").exists()


@pytest.mark.parametrize("body", [
    {"name": "x", "year_groups": [9]},
    {"name": "x", "year_groups": "5"},
    {"name": "x", "year_groups": ["5"]},
    {"name": "x", "allows_group_licences": "yes"},
    {"name": "x", "icon_url": None},
    {"name": "   "},
    {"name": "x", "onbekend": 1},
    {"name": "x", "product_type": "spelletjes"},
    {"name": "x" * 10_000},
    {"name": "x", "launch_url": "geen adres"},
    {"name": "x", "replaces": "ONBEKEND"},
    {},
    [],
])
def test_a_bad_product_is_422_with_errors_and_changes_nothing(api, body):
    response = api.call("put", "/products/ZB5", body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert not Product.objects.filter(code="ZB5").exists()


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------
def test_put_contract_creates_updates_and_links_groups(api, publisher, school):
    group = GroupFactory(school=school, jaargroep="5")
    today = timezone.localdate()
    body = contract(start=today.isoformat(), end=(today + datetime.timedelta(days=300))
                    .isoformat())
    body.pop("contract_number")
    created = api.call("put", "/contracts/Z-1", body)
    assert created.status_code == 201, created.json()
    assert created.json()["contract_number"] == "Z-1" and created.json()["brin6"] == "99ZZ00"
    assert GroupLicence.objects.get(contract__number="Z-1").group == group
    same = api.call("put", "/contracts/Z-1", body)
    assert same.status_code == 200
    changed = api.call("put", "/contracts/Z-1", {**body, "title": "Nieuw"})
    assert changed.status_code == 200 and changed.json()["title"] == "Nieuw"
    entry = AuditEntry.objects.get(action="licences.contract.update")
    assert entry.after["via"].startswith("api:kp_") and entry.school == school


def test_a_contract_number_of_another_publisher_is_its_own_namespace(api, publisher, school):
    theirs = ContractFactory(number="Z-1", school=school, title="Van een ander")
    response = api.call("put", "/contracts/Z-1", contract())
    assert response.status_code == 201
    theirs.refresh_from_db()
    assert theirs.title == "Van een ander"
    assert Contract.objects.get(publisher=publisher, number="Z-1").title == "Zonnebloem Z-1"
    listed = api.get("/contracts").json()
    assert [c["title"] for c in listed["items"]] == ["Zonnebloem Z-1"]


def test_naming_another_publisher_in_the_body_is_refused(api, school):
    PublisherFactory(name="Concurrent")
    response = api.call("put", "/contracts/Z-1", contract(publisher="Concurrent"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "publisher"
    assert not Contract.objects.exists()


def test_get_contracts_filters_by_brin6(api, publisher, school):
    product = ProductFactory(publisher=publisher)
    ContractFactory(product=product, school=school, number="A")
    ContractFactory(product=product, school=SchoolFactory(), number="B")
    assert {c["contract_number"] for c in api.get("/contracts").json()["items"]} == {"A", "B"}
    assert api.get("/contracts", brin6="99zz00").status_code == 422  # the schema's pattern
    only = api.get("/contracts", brin6="99ZZ00").json()
    assert [c["contract_number"] for c in only["items"]] == ["A"] and only["count"] == 1


@pytest.mark.parametrize("raw", [
    "{not json", "null", "[]", '"tekst"', json.dumps({"title": ["a"], "brin6": 5}),
    json.dumps({**contract(), "seats": "veel", "type": "child"}),
    json.dumps({**contract(), "start": "x" * 10_000}),
    json.dumps({**contract(), "contract_number": "ANDERS"}),
    json.dumps({**contract(), "type": "CHILD", "seats": 5}),
    json.dumps({**contract(), "type": "child", "seats": "5"}),
    json.dumps({**contract(), "type": "child", "seats": 0}),
    json.dumps({**contract(), "type": "child", "seats": None}),
    json.dumps({**contract(), "type": "group", "seats": None}),
    json.dumps({**contract(), "start": "2026-02-30"}),
    json.dumps({**contract(), "start": "20260801"}),
    json.dumps({**contract(), "title": ""}),
    json.dumps({**contract(), "product_code": " "}),
    json.dumps({**contract(), "title": "a\x00b"}),
    '{"title": "\\ud800", "brin6": "99ZZ00"}',
    json.dumps(contract()).replace('"Zonnebloem Z-1"', '"Zon\\udc00"'),
    "\xff\xfe", "[" * 100_000,
])
def test_junk_bodies_for_one_contract_are_4xx_json_never_500(api, school, raw):
    response = api.call("put", "/contracts/Z-1", raw=raw)
    assert response.status_code in (400, 422)
    assert response.json()["detail"]
    assert not Contract.objects.exists()


def test_a_lone_surrogate_in_a_title_is_422_not_500(api, school):
    raw = json.dumps(contract()).replace('"Zonnebloem Z-1"', '"Zon\\ud800"')
    response = api.call("put", "/contracts/Z-1", raw=raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "title"


# ---------------------------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------------------------
def test_batch_applies_all_good_contracts_with_counts(api, publisher, school):
    response = api.call("post", "/contracts/batch",
                        {"contracts": [contract("Z-1"), contract("Z-2", type="child", seats=20)]})
    assert response.status_code == 200
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0, "applied": True,
                                "errors": []}
    again = api.call("post", "/contracts/batch",
                     {"contracts": [contract("Z-1"), contract("Z-2", type="child", seats=25)]})
    assert again.json()["unchanged"] == 1 and again.json()["updated"] == 1


def test_batch_with_a_bad_row_is_422_and_applies_nothing_unless_confirmed(api, school):
    body = {"contracts": [contract("Z-1"), contract("Z-2", end="2020-01-01")]}
    held = api.call("post", "/contracts/batch", body)
    assert held.status_code == 422
    result = held.json()
    assert result["detail"]
    assert {(e["line"], e["field"]) for e in result["errors"]} == {(2, "end")}
    assert not Contract.objects.exists()

    done = api.call("post", "/contracts/batch", {**body, "confirm_partial": True})
    assert done.status_code == 200
    assert done.json()["created"] == 1 and done.json()["applied"] is True
    assert list(Contract.objects.values_list("number", flat=True)) == ["Z-1"]


@pytest.mark.parametrize("body", [
    {}, {"contracts": "veel"}, {"contracts": []}, {"contracts": [contract()],
                                                   "confirm_partial": "ja"},
    {"contracts": [contract(f"Z-{n}") for n in range(1001)]},
    {"contracts": [contract("Z-1"), "rommel"], "confirm_partial": True},
])
def test_batch_junk_is_422_with_a_reason(api, school, body):
    response = api.call("post", "/contracts/batch", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"]
    assert not Contract.objects.exists()


def test_batch_invalid_json_is_400(api):
    response = api.call("post", "/contracts/batch", raw="{")
    assert response.status_code == 400 and response.json()["detail"]


# ---------------------------------------------------------------------------------------------
# Issue 10: no membership oracle, one error shape, strict bodies, limits
# ---------------------------------------------------------------------------------------------
def test_a_school_not_on_the_platform_gets_the_same_answer_and_its_contract_waits(
        api, publisher, school):
    known = api.call("put", "/contracts/Z-1", contract(brin6="99ZZ00"))
    unknown = api.call("put", "/contracts/Z-2", contract("Z-2", brin6="11AA00"))
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json()) and unknown.json()["brin6"] == "11AA00"
    held = Contract.objects.get(number="Z-2")
    assert held.school is None
    # The school arrives (a roster import or an operator creates it): the contract attaches.
    arrived = SchoolFactory(brin="11AA", dependancecode="00")
    held.refresh_from_db()
    assert held.school == arrived
    assert AuditEntry.objects.filter(school=arrived, action="licences.contract.create").exists()


@pytest.mark.parametrize("limit, offset", [(0, 0), (501, 0), (1, -1), (1, 10**9 + 1),
                                           (1, 2**70), (2**70, 0), ("veel", 0)])
def test_limit_and_offset_are_bounded(api, limit, offset):
    response = api.get("/contracts", limit=limit, offset=offset)
    assert response.status_code == 422 and response.json()["detail"]


def test_a_body_that_is_not_json_is_415(api, client, token):
    response = client.put(BASE + "/contracts/Z-1", data=json.dumps(contract()),
                          content_type="text/plain", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 415 and response.json()["detail"]


def test_an_oversized_body_is_413_json(api, settings):
    settings.PUBLISHER_API_MAX_BODY_BYTES = 1000
    response = api.call("put", "/contracts/Z-1", {**contract(), "title": "x" * 2000})
    assert response.status_code == 413 and response.json()["detail"]


def test_unknown_addresses_and_methods_answer_json(api, client, token):
    missing = client.get("/api/publisher/v1/bestaat-niet", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert missing.status_code == 404 and missing.json()["detail"]
    wrong = client.delete(BASE + "/products", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert wrong.status_code == 405 and wrong.json()["detail"] and "GET" in wrong["Allow"]


def test_each_token_is_rate_limited_with_retry_after(api, settings):
    settings.PUBLISHER_API_RATE_PER_MINUTE = 3
    answers = [api.call("get", "/products") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    assert answers[-1].json()["detail"]


def test_an_error_of_ours_is_a_json_500(api, monkeypatch):
    from klaspoort.exchange import api as module

    def broken(*args, **kwargs):
        raise RuntimeError("stuk")

    monkeypatch.setattr(module.Product.objects, "filter", broken)
    response = api.call("get", "/products")
    assert response.status_code == 500 and response.json()["detail"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="two writers at once need PostgreSQL (SQLite queues its writers)")
def test_two_simultaneous_creates_of_one_contract_both_succeed(monkeypatch):
    import threading

    from klaspoort.licences import publisher_services

    SchoolFactory(brin="99ZZ", dependancecode="00")
    publisher = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    _row, plain = PublisherApiToken.issue(publisher, "crm")
    ProductFactory(publisher=publisher, code="ZB5")
    # Both requests look for the contract before either has created it.
    barrier = threading.Barrier(2, timeout=10)
    original = publisher_services._existing_contract
    first_look: set[int] = set()

    def racing(owner, number):
        if threading.get_ident() not in first_look:
            first_look.add(threading.get_ident())
            found = original(owner, number)
            barrier.wait()
            return found
        return original(owner, number)

    monkeypatch.setattr(publisher_services, "_existing_contract", racing)
    answers: list[int] = []

    def put() -> None:
        from django.test import Client

        try:
            response = Client().put(BASE + "/contracts/Z-1", data=json.dumps(contract()),
                                    content_type="application/json",
                                    HTTP_AUTHORIZATION=f"Bearer {plain}")
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=put) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 201]
    assert Contract.objects.filter(number="Z-1").count() == 1
