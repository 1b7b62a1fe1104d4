"""The example LAS's Leerresultaten service (examples/las_app) over real HTTP: a message written by
results.uwlr is confirmed and each result held once; a repeat replaces and is counted; the key
is checked as for Leerlinggegevens; garbage gets a SOAP fault, never a crash; the page and the
JSON counts show what arrived; the slow option slows each message."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from lxml import etree

from examples.las_app.results import keys_digest
from klaspoort.results import uwlr
from klaspoort.roster import uwlr as roster_uwlr
from tests.results.las import BRIN6, KEY, served_las
from tests.results.test_uwlr import needs_schemas, schema_errors


def message(keys=("k1", "k2"), key=KEY, brin="99ZZ", code="REK-M5-B1") -> bytes:
    return uwlr.build_request(
        key=key, client_code="KP", client_name="Klaspoort", school_year="2026-2027",
        brin=brin, dependancecode="00", created=dt.datetime(2026, 11, 12, tzinfo=dt.UTC),
        takings=[uwlr.Taking(f"L{n}", "", (uwlr.Score(k, dt.date(2026, 11, 12), code, n),))
                 for n, k in enumerate(keys)],
        tests=[uwlr.Test(code, "Rekenen", uwlr.norms(
            [{"term": "voldoende", "grade_from": 1, "grade_to": 10}], 40))])


def undescribed_test() -> bytes:
    root = etree.fromstring(message())
    root.xpath("//*[local-name()='toets']/*[local-name()='toetscode']")[0].text = "ANDERS"
    return etree.tostring(root)


def post(url: str, data: bytes, action: str = '"BrengLeerresultaten"') -> requests.Response:
    return requests.post(url, data=data, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8",
                                  "SOAPAction": action})


@pytest.fixture
def las():
    with served_las() as served:
        yield served


def read(response: requests.Response) -> uwlr.Answer:
    return uwlr.read_answer(response.content, las="Voorbeeld-LAS", school=BRIN6)


def test_results_are_confirmed_and_held_once_each_and_a_repeat_replaces(las):
    first = post(las.url, message(("k1", "k2")))
    assert first.status_code == 200 and read(first).ok
    again = post(las.url, message(("k2", "k3")))
    assert read(again).ok
    counts = requests.get(las.url.replace("/leerresultaten", "/resultaten.json"),
                          params={"keys": 1, "digest": 1}, timeout=10).json()
    assert counts["messages"] == 2 and counts["received"] == 4
    assert counts["results"] == 3 and counts["repeats"] == 1
    assert counts["keys"] == ["k1", "k2", "k3"]
    assert counts["keys_sha256"] == keys_digest(["k3", "k1", "k2"])
    assert counts["schools"] == {BRIN6: 3} and counts["normeringen"] == 2


@needs_schemas
def test_the_confirmation_is_valid_uwlr(las):
    response = post(las.url, message())
    assert schema_errors(response.content) == []
    root = etree.fromstring(response.content)
    assert root.xpath("//*[local-name()='leerresultaten_bevestiging']")


@pytest.mark.parametrize("data, status, words", [
    (message(key="niet-de-sleutel"), 500, "autorisatiesleutel is onjuist"),
    (message(brin="12AB"), 500, "Onbekende school"),
    (b"", 400, "leeg"),
    (b"\x00\x01garbage", 400, "geen goed gevormde XML"),
    (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', 400, "DOCTYPE"),
    (message().replace(b"<lr:score>0</lr:score>", b"<lr:score>veel</lr:score>"), 400,
     "geen geheel getal"),
    (undescribed_test(), 400, "staat niet onder"),
    (roster_uwlr.build_request(key=KEY, client_code="KP", client_name="K",
                               school_year="2026-2027", brin="99ZZ", dependancecode="00"),
     400, "leerresultaten_verzoek"),
])
def test_a_wrong_key_an_unknown_school_and_garbage_get_a_soap_fault(las, data, status, words):
    response = post(las.url, data)
    assert response.status_code == status
    assert roster_uwlr.fault_in(response.content)
    assert words in response.text
    counts = las.store.counts()
    assert counts["results"] == 0 and counts["faults"] == 1


def test_klaspoort_reads_the_wrong_key_fault_as_a_refused_key(las):
    answer = read(post(las.url, message(key="niet-de-sleutel")))
    assert answer.category == uwlr.Category.NOT_AUTHORISED


def test_another_soap_action_is_refused(las):
    response = post(las.url, message(), action='"HaalLeerlinggegevens"')
    assert response.status_code == 400 and las.store.counts()["results"] == 0


def test_the_page_shows_what_arrived_per_school(las):
    post(las.url, message(("k1", "k2")))
    page = requests.get(las.url.replace("/leerresultaten", "/resultaten"), timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert f"School {BRIN6}: 2 resultaten" in page.text
    assert "REK-M5-B1" in page.text and "Rekenen" in page.text


def test_the_slow_option_waits_before_each_answer():
    with served_las(delay_ms=300) as slow:
        started = time.monotonic()
        assert read(post(slow.url, message())).ok
        assert time.monotonic() - started >= 0.3


def test_the_leerlinggegevens_service_still_answers_beside_it(las):
    url = las.url.replace("/leerresultaten", "/leerlinggegevens")
    response = requests.post(url, data=roster_uwlr.build_request(
        key=KEY, client_code="KP", client_name="K", school_year="2026-2027", brin="99ZZ",
        dependancecode="00"), headers=roster_uwlr.request_headers(), timeout=30)
    assert response.status_code == 200 and b"leerlinggegevens_antwoord" in response.content
