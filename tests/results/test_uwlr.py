"""The UWLR 2.2 Leerresultaten messages Klaspoort writes and reads itself (results.uwlr).

Every message is checked against the official schemas (SOAP 1.1 envelope, Autorisatie,
Leerresultaten) in ../shared/standards/xsd/uwlr-2.2/, never copied into the repository; without
them the schema tests are skipped.
"""

from __future__ import annotations

import datetime as dt
import itertools
from fractions import Fraction

import pytest
from lxml import etree

from klaspoort.results import uwlr
from klaspoort.roster import uwlr as roster_uwlr
from tests.uwlr_schemas import LEERRESULTATEN, SCHEMAS, message_errors, needs_schemas

WSDL = SCHEMAS.parent / "wsdl" / "UWLR_Leerresultaten_v2p2.wsdl"

KEY = "S3cr3t-sleutel-4711"
NS = {"s": roster_uwlr.SOAP11_NS, "a": roster_uwlr.AUTORISATIE_NS, "l": uwlr.LR_NS}
BANDS = [{"term": "onvoldoende", "grade_from": 1.0, "grade_to": 5.4},
         {"term": "voldoende", "grade_from": 5.5, "grade_to": 7.9},
         {"term": "goed", "grade_from": 8.0, "grade_to": 10.0}]


def schema_errors(data: bytes) -> list[str]:
    return message_errors(data, LEERRESULTATEN)


def score(key: str = "0b8f6a9e-1111-4c1e-9a55-000000000001", code: str = "REK-M5-B1",
          points: int = 31) -> uwlr.Score:
    return uwlr.Score(key, dt.date(2026, 11, 12), code, points)


def message(takings=None, tests=None, **changes) -> bytes:
    values = {"key": KEY, "client_code": "KLASPOORT-01", "client_name": "Klaspoort",
              "school_year": "2026-2027", "brin": "99ZZ", "dependancecode": "00",
              "created": dt.datetime(2026, 11, 12, 14, 30, tzinfo=dt.UTC), **changes}
    takings = takings if takings is not None else [uwlr.Taking("L1", "", (score(),))]
    tests = tests if tests is not None else [uwlr.Test("REK-M5-B1", "Rekenen blok 1")]
    return uwlr.build_request(takings=takings, tests=tests, **values)


# ---------------------------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------------------------
LONG = "x" * 300


@needs_schemas
@pytest.mark.parametrize("case", [
    "plain", "eckid", "norms", "observation", "several_pupils", "lengths", "dependance",
    "odd_characters"])
def test_every_message_validates_against_the_official_schemas(case):
    if case == "plain":
        data = message()
    elif case == "eckid":
        data = message([uwlr.Taking("L1", "https://ketenid.nl/201703/" + "a" * 64,
                                    (score(),))])
    elif case == "norms":
        data = message(tests=[uwlr.Test("REK-M5-B1", "Rekenen blok 1",
                                        uwlr.norms(BANDS, 40))])
    elif case == "observation":
        # An observation: a score on the publisher's scale, and no norms.
        data = message([uwlr.Taking("L1", "", (score(code="OBS-TAAL", points=3),))],
                       [uwlr.Test("OBS-TAAL", "Observatie taal")])
    elif case == "several_pupils":
        data = message(
            [uwlr.Taking(f"L{n}", "", (score(f"k{n}-a"), score(f"k{n}-b", "TAAL-1", 0)))
             for n in range(5)],
            [uwlr.Test("REK-M5-B1", "Rekenen", uwlr.norms(BANDS, 40)), uwlr.Test("TAAL-1")])
    elif case == "lengths":
        # Every value beyond the schema's maximum is cut, not sent invalid.
        data = message([uwlr.Taking(LONG, LONG, (score(code=LONG),))],
                       [uwlr.Test(LONG, LONG, uwlr.norms(
                           [{"term": LONG, "grade_from": 1, "grade_to": 10}], 7))],
                       client_name=LONG, client_code=LONG, key=LONG)
    elif case == "dependance":
        data = message(dependancecode="")
    else:
        data = message([uwlr.Taking("L\x001", "", (score(code="R\x0bEK "),))],
                       [uwlr.Test("R\x0bEK", "Rekenen\x00 blok")])
    assert schema_errors(data) == []


@needs_schemas
def test_the_schema_check_has_teeth():
    assert schema_errors(message(brin="99zz")) != []
    broken = message().replace(b"<lr:score>31</lr:score>", b"<lr:score>-1</lr:score>")
    assert schema_errors(broken) != []
    # A result whose test is not described breaks the schema's key reference.
    orphan = etree.fromstring(message())
    orphan.xpath("//l:toetsen/l:toets/l:toetscode", namespaces=NS)[0].text = "ANDERS"
    assert schema_errors(etree.tostring(orphan)) != []


def test_the_message_carries_the_key_the_school_and_each_result_under_its_stable_key():
    root = etree.fromstring(message(
        [uwlr.Taking("L1", "ECK-1", (score("uid-1"), score("uid-2", "TAAL-1", 12))),
         uwlr.Taking("L2", "", (score("uid-3"),))],
        [uwlr.Test("REK-M5-B1", "Rekenen blok 1"), uwlr.Test("TAAL-1", "Taal")]))
    assert root.xpath("string(s:Header/a:autorisatie/a:autorisatiesleutel)", namespaces=NS) == KEY
    school = root.xpath("s:Body/l:leerresultaten_verzoek/l:school", namespaces=NS)[0]
    assert [(etree.QName(c).localname, c.text) for c in school] == [
        ("schooljaar", "2026-2027"), ("brincode", "99ZZ"), ("dependancecode", "00"),
        ("aanmaakdatum", "2026-11-12T14:30:00+00:00"), ("auteur", "Klaspoort"),
        ("xsdversie", "2.2")]
    afnames = root.xpath("//l:toetsafname", namespaces=NS)
    assert [a.xpath("string(l:leerlingid)", namespaces=NS) for a in afnames] == ["L1", "L2"]
    assert afnames[0].xpath("string(l:eckid)", namespaces=NS) == "ECK-1"
    assert afnames[1].xpath("l:eckid", namespaces=NS) == []  # none known: none sent
    assert root.xpath("//l:resultaat/@key", namespaces=NS) == ["uid-1", "uid-2", "uid-3"]
    assert root.xpath("//l:resultaat[@key='uid-2']/l:score/text()", namespaces=NS) == ["12"]
    # One toets per test code, even when several results use it.
    assert root.xpath("//l:toets/l:toetscode/text()", namespaces=NS) == ["REK-M5-B1", "TAAL-1"]
    assert root.xpath("//l:toetsnormering", namespaces=NS) == []


def test_grade_boundaries_become_raw_score_ranges_on_the_linear_scale():
    norms = uwlr.norms(BANDS, 40)
    assert [(n.term, n.begin, n.end) for n in norms] == [
        ("onvoldoende", 0, 19), ("voldoende", 20, 31), ("goed", 32, 40)]
    # grade = 1 + 9 * score / 40: 19 is a 5.275 (below 5.5), 20 a 5.5, 31 a 7.975 (below 8.0,
    # so still voldoende: "to 7.9" means below 8.0), 32 an 8.2. No score falls between bands.
    assert all(a.end + 1 == b.begin for a, b in itertools.pairwise(norms))
    for norm in norms:
        for points in (norm.begin, norm.end):
            grade = 1 + Fraction(9 * points, 40)
            assert norm.grade_from - Fraction(1, 10) < grade <= norm.grade_to + Fraction(1, 10)
    root = etree.fromstring(message(tests=[uwlr.Test("REK-M5-B1", "Rekenen", norms)]))
    first = root.xpath("//l:norm", namespaces=NS)[0]
    assert [(etree.QName(c).localname, c.text) for c in first] == [
        ("term", "onvoldoende"), ("beginnormwaarde", "0"), ("eindnormwaarde", "19"),
        ("schoolcijfer_vanaf", "1.00"), ("schoolcijfer_totenmet", "5.40")]


@pytest.mark.parametrize("bands, max_score", [
    (BANDS, None),  # no scale: no raw ranges
    ([], 40),
    ([{"term": "x", "grade_from": 0.5, "grade_to": 5}], 40),  # outside 1-10
    ([{"grade_from": 1, "grade_to": 5}], 40),  # no term
    ([{"term": "x", "grade_from": "abc", "grade_to": 5}], 40),
])
def test_boundaries_that_cannot_be_converted_give_no_norms_at_all(bands, max_score):
    assert uwlr.norms(bands, max_score) == ()


@pytest.mark.skipif(not WSDL.is_file(), reason=f"{WSDL} is not there")
def test_operation_action_and_namespaces_are_the_wsdls():
    wsdl = etree.parse(str(WSDL))
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    operation = wsdl.xpath("//w:binding[@name='bndLeerresultaten']/w:operation", namespaces=ns)
    assert [op.get("name") for op in operation] == [uwlr.OPERATION]
    assert operation[0].xpath("string(s:operation/@soapAction)", namespaces=ns) == (
        uwlr.SOAP_ACTION)
    assert operation[0].xpath("string(w:input/s:header/@part)", namespaces=ns) == "msgpHeader"
    parts = {m.get("name"): m.xpath("string(w:part/@element)", namespaces=ns)
             for m in wsdl.xpath("//w:message", namespaces=ns)}
    assert parts["msgLeerresultaten"] == "lr:leerresultaten_verzoek"
    assert parts["msgLeerresultatenAntwoord"] == "lr:leerresultaten_bevestiging"
    assert parts["msgHeader"] == "aut:autorisatie"
    assert wsdl.getroot().nsmap["aut"] == roster_uwlr.AUTORISATIE_NS
    assert wsdl.getroot().get("targetNamespace") == uwlr.LR_NS
    assert uwlr.request_headers()["SOAPAction"] == '"BrengLeerresultaten"'


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------
def fault(text: str) -> bytes:
    return (f'<soap:Envelope xmlns:soap="{roster_uwlr.SOAP11_NS}"><soap:Body><soap:Fault>'
            f"<faultcode>soap:Client</faultcode><faultstring>{text}</faultstring>"
            "</soap:Fault></soap:Body></soap:Envelope>").encode()


def read(data: bytes) -> uwlr.Answer:
    return uwlr.read_answer(data, las="ParnasSys", school="99ZZ00", secret=KEY)


CONFIRMATION = (f'<soap:Envelope xmlns:soap="{roster_uwlr.SOAP11_NS}"><soap:Body>'
                f'<lr:leerresultaten_bevestiging xmlns:lr="{uwlr.LR_NS}"/></soap:Body>'
                "</soap:Envelope>").encode()


@pytest.mark.parametrize("data, category", [
    (CONFIRMATION, uwlr.Category.CONFIRMED),
    (f'<leerresultaten_bevestiging xmlns="{uwlr.LR_NS}"/>'.encode(), uwlr.Category.CONFIRMED),
    (fault("Autorisatie mislukt: de autorisatiesleutel is onjuist"),
     uwlr.Category.NOT_AUTHORISED),
    (fault("Onbekende school: 99ZZ00 is niet bekend"), uwlr.Category.UNKNOWN_SCHOOL),
    (fault("Toetscode ontbreekt in toetsen"), uwlr.Category.REFUSED),
    (b"<html><body>Service Unavailable</body></html>", uwlr.Category.NOT_UWLR),
    (b"", uwlr.Category.NOT_UWLR),
    # A Leerlinggegevens answer is not a confirmation of results.
    (CONFIRMATION.replace(b"leerresultaten_bevestiging", b"leerlinggegevens_antwoord"),
     uwlr.Category.NOT_UWLR),
])
def test_each_kind_of_answer_gets_its_category(data, category):
    assert read(data).category == category
    assert read(data).ok == (category == uwlr.Category.CONFIRMED)


def test_a_wrong_key_is_said_in_plain_dutch_naming_the_las():
    answer = read(fault("Autorisatie mislukt: de autorisatiesleutel is onjuist"))
    assert answer.text() == ("De autorisatiesleutel wordt niet geaccepteerd door ParnasSys. "
                             "Controleer de sleutel die ParnasSys aan je school gaf en vul hem "
                             "opnieuw in.")


def test_a_refusal_quotes_the_las_without_the_key_it_repeats():
    answer = read(fault(f"Bericht geweigerd: toetscode onbekend bij {KEY}"))
    assert answer.category == uwlr.Category.REFUSED
    assert KEY not in str(answer.params)
    assert "toetscode onbekend" in answer.params["reason"]
