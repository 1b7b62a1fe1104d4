"""The example LAS (examples/las_app) over real HTTP: a HaalLeerlinggegevens request written
with lxml per the UWLR 2.2 schemas gets the school's roster, which validates against the
official schemas and imports into Klaspoort; a wrong or missing key, an unknown school and
garbage get SOAP faults, never a crash; the latency option delays; later nights change a few
pupils.

The official schemas are read from ../shared/standards/xsd/uwlr-2.2/ (never copied here); the
tests that need them skip when they are absent.
"""

from __future__ import annotations

import io
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from lxml import etree

from examples.las_app import Config, School, school_key, serve
from examples.las_app.app import DEFAULT_KEY_SECRET, ThreadingServer
from examples.las_app.roster import country, school_sizes, to_uwlr
from klaspoort.roster import services
from klaspoort.roster.edexml import RosterFileError, parse_edexml
from klaspoort.roster.generator import generate_school, school_brins
from klaspoort.roster.models import RosterImport
from klaspoort.schools.models import School as SchoolModel
from tests.uwlr_schemas import LEERLINGGEGEVENS, SCHEMAS, message_errors, needs_schemas

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
LG = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
AUT = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
KEY = "sleutel-van-de-regenboog"
YEAR = "2024-2025"  # the last school year the UWLR 2.2 schema's enumeration knows
PUPILS = 30


def schema_errors(data: bytes) -> list[str]:
    return message_errors(data, LEERLINGGEGEVENS)


def request(brin: str = "99ZZ", dependancecode: str | None = "00", *, key: str | None = KEY,
            school_year: str = YEAR, client: tuple[str, str] = ("KP-TEST", "Klaspoort")
            ) -> bytes:
    """A HaalLeerlinggegevens request as a client writes it: the autorisatie header and the
    leerlinggegevens_verzoek body, in a SOAP 1.1 envelope."""
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    if key is not None:
        header = etree.SubElement(envelope, f"{{{SOAP}}}Header")
        autorisatie = etree.SubElement(header, f"{{{AUT}}}autorisatie", nsmap={"aut": AUT})
        for name, value in (("autorisatiesleutel", key), ("klantcode", client[0]),
                            ("klantnaam", client[1])):
            etree.SubElement(autorisatie, f"{{{AUT}}}{name}").text = value
    body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
    verzoek = etree.SubElement(body, f"{{{LG}}}leerlinggegevens_verzoek", nsmap={"lg": LG})
    fields = [("schooljaar", school_year), ("brincode", brin)]
    if dependancecode is not None:
        fields.append(("dependancecode", dependancecode))
    fields.append(("xsdversie", "2.2"))
    for name, value in fields:
        etree.SubElement(verzoek, f"{{{LG}}}{name}").text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


@dataclass
class Las:
    url: str
    config: Config

    def post(self, data: bytes, **headers: str) -> requests.Response:
        return requests.post(self.url, data=data, timeout=30, headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"HaalLeerlinggegevens"',
            **headers})


def fault_string(response: requests.Response) -> str:
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None, response.text[:300]
    assert fault.findtext("faultcode", "").startswith("soap:")
    return fault.findtext("faultstring", "")


@pytest.fixture
def las_server() -> Iterator[Callable[[Config], Las]]:
    """Starts the LAS's threaded server on a free port with the test's configuration."""
    servers: list[ThreadingServer] = []

    def start(config: Config) -> Las:
        config.host, config.port = "127.0.0.1", 0
        server = serve(config)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return Las(f"http://127.0.0.1:{server.server_port}{config.path}", config)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def regenboog(**options: Any) -> Config:
    return Config(schools={"99ZZ00": School("99ZZ", "00", PUPILS, KEY)}, seed=7, **options)


# ---------------------------------------------------------------------------------------------
# The roster
# ---------------------------------------------------------------------------------------------
@needs_schemas
def test_the_request_and_the_answer_validate_against_the_official_schemas(las_server):
    las = las_server(regenboog())
    data = request()
    assert schema_errors(data) == []
    response = las.post(data)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["Content-Type"].startswith("text/xml")
    assert schema_errors(response.content) == []
    antwoord = etree.fromstring(response.content).find(f"{{{SOAP}}}Body/{{{LG}}}"
                                                      "leerlinggegevens_antwoord")
    assert antwoord is not None
    assert antwoord.findtext(f"{{{LG}}}leerlinggegevens/{{{LG}}}school/{{{LG}}}xsdversie") \
        == "2.2"


@needs_schemas
def test_an_answer_for_this_school_year_breaks_only_the_schemas_outdated_list_of_years(
        las_server):
    las = las_server(regenboog())
    response = las.post(request(school_year="2026-2027"))
    assert response.status_code == 200
    errors = schema_errors(response.content)
    # The schema's enumeration of school years stops at 2024-2025; a LAS answers for the year
    # it is asked all the same, and that is the only thing the schema finds.
    assert len(errors) == 1 and "schooljaar" in errors[0] and "2026-2027" in errors[0]
    assert parse_edexml(response.content)["school"]["school_year"] == "2026-2027"


@needs_schemas
def test_the_conversion_puts_any_edexml_order_into_the_uwlr_order():
    """EDEXML lets a LAS write elements in an order the UWLR schema does not allow (and the
    reader accepts any order); the conversion sorts them, and maps the role TAL, which UWLR 2.2
    does not know."""
    edex = etree.fromstring(generate_school("99ZZ", "00", PUPILS, seed=7, school_year=YEAR))
    rng = random.Random(1)
    for element in edex.iter("school", "leerling", "leerkracht", "groep"):
        children = list(element)
        rng.shuffle(children)
        element[:] = children
    teacher = edex.find("leerkrachten/leerkracht")
    assert teacher is not None
    teacher.insert(0, etree.Element("rol"))
    teacher[0].text = "TAL"
    expected = parse_edexml(etree.tostring(edex))
    envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    antwoord = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP}}}Body"),
                                f"{{{LG}}}leerlinggegevens_antwoord")
    antwoord.append(to_uwlr(edex))
    data = etree.tostring(envelope)
    assert schema_errors(data) == []
    roster = parse_edexml(data)
    assert roster["pupils"] == expected["pupils"]
    assert expected["teachers"][0]["roles"] == ["TAL", "LRK"]
    assert roster["teachers"][0]["roles"] == ["LRK"]


def test_the_answer_is_the_generated_school_read_by_klaspoorts_reader(las_server):
    las = las_server(regenboog())
    response = las.post(request())
    roster = parse_edexml(response.content)
    generated = parse_edexml(generate_school("99ZZ", "00", PUPILS, seed=7, school_year=YEAR))
    assert roster["warnings"] == []
    assert roster["school"] == {"brin": "99ZZ", "dependancecode": "00", "school_year": YEAR}
    assert len(roster["pupils"]) == PUPILS
    # Nothing got lost or changed in the conversion to UWLR: the same groups, pupils (names,
    # ECK iDs, groups, clusters) and teachers as the EDEXML file the generator writes.
    assert roster["pupils"] == generated["pupils"]
    assert roster["groups"] == generated["groups"]
    assert roster["teachers"] == generated["teachers"]


def test_the_answer_imports_through_the_coupling_path(db, las_server):
    school = SchoolModel.objects.create(brin="99ZZ", dependancecode="00", name="De Regenboog")
    las = las_server(regenboog())
    record = services.receive_roster_file(las.post(request()).content,
                                          source=RosterImport.Source.COUPLING, school=school)
    assert record.status == RosterImport.Status.WAITING, record.errors
    record = services.process_import(record.pk)
    assert record.status == RosterImport.Status.PROCESSED
    assert school.pupils.filter(active=True).count() == PUPILS


def test_a_later_night_renames_one_pupil_and_moves_another(las_server):
    las = las_server(regenboog())
    first, second, third = (parse_edexml(las.post(request()).content) for _night in range(3))
    before = {p["key"]: p for p in first["pupils"]}
    after = {p["key"]: p for p in second["pupils"]}
    assert before.keys() == after.keys()  # nobody new, nobody gone
    renamed = [k for k in before if before[k]["first_name"] != after[k]["first_name"]]
    moved = [k for k in before if before[k]["group"] != after[k]["group"]]
    assert len(renamed) == 1 and len(moved) == 1 and renamed != moved
    assert after[moved[0]]["group"] in {g["key"] for g in second["groups"]}
    assert third["pupils"] != second["pupils"]  # and the next night changes again


def test_a_fixed_night_answers_the_same_every_time(las_server):
    las = las_server(regenboog(night=2, fixed_night=True))
    rosters = [parse_edexml(las.post(request()).content)["pupils"] for _fetch in range(2)]
    assert rosters[0] == rosters[1]
    night0 = parse_edexml(generate_school("99ZZ", "00", PUPILS, seed=7, school_year=YEAR))
    assert rosters[0] != night0["pupils"]


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("what", "data", "expected"), [
    ("wrong key", lambda: request(key="niet-de-sleutel"),
     "autorisatiesleutel is onjuist of ingetrokken voor school 99ZZ00"),
    ("no autorisatie header", lambda: request(key=None), "geen autorisatiesleutel"),
    ("empty key", lambda: request(key=""), "geen autorisatiesleutel"),
    ("unknown school", lambda: request("12AB", "00"), "Onbekende school: 12AB00"),
    ("another location of the school", lambda: request("99ZZ", "01"),
     "Onbekende school: 99ZZ01"),
])
def test_a_wrong_key_or_an_unknown_school_gets_a_soap_fault_in_dutch(
        las_server, what, data, expected):
    las = las_server(regenboog())
    response = las.post(data())
    assert response.status_code == 500, what
    assert expected in fault_string(response)
    assert KEY not in response.text  # the right key is never told
    with pytest.raises(RosterFileError):  # Klaspoort's reader refuses a fault
        parse_edexml(response.content)
    if SCHEMAS.is_dir():
        assert schema_errors(response.content) == []


def test_the_dependancecode_may_be_left_out_for_the_main_location(las_server):
    las = las_server(regenboog())
    response = las.post(request(dependancecode=None))
    assert response.status_code == 200
    assert len(parse_edexml(response.content)["pupils"]) == PUPILS


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 '
                  b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lol>&lol2;</lol>')


@pytest.mark.parametrize(("what", "data", "headers", "status"), [
    ("empty", b"", {}, 400),
    ("NUL bytes", b"\x00\x00<soap:Envelope\x00>", {}, 400),
    ("NUL inside a good request", request().replace(b"99ZZ", b"99\x00Z"), {}, 400),
    ("garbage", b"\xff\xfe\x00garbage \x89PNG", {}, 400),
    ("not XML", b"brincode=99ZZ&sleutel=x", {}, 400),
    ("entities", BILLION_LAUGHS, {}, 400),
    ("an unclosed envelope", request()[:-30], {}, 400),
    ("no envelope", etree.tostring(etree.fromstring(request())[1][0]), {}, 400),
    ("SOAP 1.2", request().replace(SOAP.encode(), b"http://www.w3.org/2003/05/soap-envelope"),
     {}, 400),
    ("another operation", request().replace(b"leerlinggegevens_verzoek", b"structuur_verzoek"),
     {}, 400),
    ("a school year that is none", request(school_year="dit jaar"), {}, 400),
    ("a lower-case BRIN", request("99zz"), {}, 400),
    ("another SOAPAction", request(), {"SOAPAction": '"HaalStructuur"'}, 400),
    ("too large", b"<x>" + b"a" * 100_000 + b"</x>", {}, 413),
])
def test_a_request_that_is_no_haalleerlinggegevens_gets_a_fault_never_a_crash(
        las_server, what, data, headers, status):
    las = las_server(regenboog())
    response = las.post(data, **headers)
    assert response.status_code == status, what
    assert fault_string(response)  # a SOAP fault with a Dutch reason
    # The server still answers the next request.
    assert las.post(request()).status_code == 200


def test_other_addresses_and_methods_get_faults_and_the_root_says_what_is_served(las_server):
    las = las_server(regenboog())
    assert requests.get(las.url, timeout=10).status_code == 405
    assert requests.post(las.url.replace("/leerlinggegevens", "/elders"), data=request(),
                         timeout=10).status_code == 404
    root = requests.get(las.url.replace("/leerlinggegevens", "/"), timeout=10)
    assert root.status_code == 200 and "1 school." in root.text


# ---------------------------------------------------------------------------------------------
# Latency and concurrency
# ---------------------------------------------------------------------------------------------
def test_the_latency_option_delays_each_call_and_calls_wait_side_by_side(las_server):
    las = las_server(regenboog(latency_ms=400))
    started = time.monotonic()
    assert las.post(request()).status_code == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda _i: las.post(request()).status_code, range(10)))
    assert statuses == [200] * 10
    # One after the other these would take at least 4 s: the server is threaded.
    assert time.monotonic() - started < 3.0


# ---------------------------------------------------------------------------------------------
# Schools and keys from the command line
# ---------------------------------------------------------------------------------------------
def test_keys_are_derived_from_the_secret_and_the_brin6():
    assert school_key("geheim", "99ZZ00") == school_key("geheim", "99ZZ00")
    assert school_key("geheim", "99ZZ00") != school_key("geheim", "99ZZ01")
    assert school_key("geheim", "99ZZ00") != school_key("ander-geheim", "99ZZ00")
    assert re.fullmatch(r"[0-9a-f]{32}", school_key("geheim", "99ZZ00"))


def test_the_options_make_the_schools_and_their_keys():
    config = Config.from_args(["--schools", "3", "--pupils-per-school", "40", "--key-secret",
                               "s", "--school", "99ZZ00=eigen-sleutel", "--school", "98YY",
                               "--seed", "5"])
    brins = [b + d for b, d in school_brins(3)]
    assert set(config.schools) == {*brins, "99ZZ00", "98YY00"}
    assert config.schools["99ZZ00"].key == "eigen-sleutel"
    assert config.schools["98YY00"].key == school_key("s", "98YY00")
    assert all(config.schools[b].key == school_key("s", b) for b in brins)
    assert {s.pupils for s in config.schools.values()} == {40}
    with pytest.raises(SystemExit):
        Config.from_args(["--school", "geen-brin=x"])


def test_pupils_are_spread_over_the_schools_as_generate_edexml_spreads_them(tmp_path):
    call_command("generate-edexml", str(tmp_path), pupils=700, schools=4, seed=3,
                 stdout=io.StringIO())
    written = {path.stem: len(parse_edexml(path.read_bytes())["pupils"])
               for path in tmp_path.glob("*.xml")}
    served = {brin + dep: pupils for brin, dep, pupils in country(4, 700, 0, seed=3)}
    assert written == served
    assert sum(school_sizes(4, 700, 3)) == 700


def test_the_command_serves_the_schools_it_was_given():
    """`python -m examples.las_app` as `make demo` starts it: a school with its own key, and
    the first school of the country with its derived key."""
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.las_app", "--host", "127.0.0.1", "--port", "0",
         "--schools", "2", "--pupils-per-school", "20", "--school", f"99ZZ00={KEY}"],
        cwd=root, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:([0-9]+)(/\S+):", line)
        assert match, line
        url = f"http://127.0.0.1:{match[1]}{match[2]}"
        brin, dep = next(school_brins(1))
        for data in (request(), request(brin, dep, key=school_key(DEFAULT_KEY_SECRET,
                                                                   brin + dep))):
            response = requests.post(url, data=data, timeout=30)
            assert response.status_code == 200, response.text[:300]
            assert len(parse_edexml(response.content)["pupils"]) == 20
        assert requests.post(url, data=request(brin, dep), timeout=30).status_code == 500
    finally:
        process.terminate()
        process.wait(timeout=10)
