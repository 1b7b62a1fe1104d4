"""The UWLR 2.2 Leerlinggegevens messages Klaspoort writes and reads itself (roster.uwlr).

Every request is checked against the official schemas (SOAP 1.1 envelope, Autorisatie,
Leerlinggegevens) in ../shared/standards/xsd/uwlr-2.2/, which are never copied into the
repository; without them the schema tests are skipped.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from lxml import etree

from klaspoort.roster import uwlr
from klaspoort.roster.edexml import UWLR_NS
from klaspoort.roster.models import RosterCoupling
from tests.uwlr_schemas import LEERLINGGEGEVENS, SCHEMAS, message_errors, needs_schemas

WSDL = SCHEMAS.parent / "wsdl" / "UWLR_Leerlinggegevens_v2p2.wsdl"

KEY = "S3cr3t-sleutel-4711"


def schema_errors(data: bytes) -> list[str]:
    return message_errors(data, LEERLINGGEGEVENS)


def request(**changes: str) -> bytes:
    values = {"key": KEY, "client_code": "KLASPOORT-01", "client_name": "Klaspoort",
              "school_year": "2026-2027", "brin": "99ZZ", "dependancecode": "00", **changes}
    return uwlr.build_request(**values)


# ---------------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------------
@needs_schemas
@pytest.mark.parametrize("changes", [
    {},
    {"dependancecode": "01"},
    {"dependancecode": ""},  # a school without a dependance asks for 00
    # A customer name beyond the schema's 64 characters is cut, not sent invalid.
    {"client_name": "Stichting Klaspoort voor het primair onderwijs in Nederland en verder"},
    {"key": "  " + KEY + "  "},
])
def test_every_request_validates_against_the_official_schemas(changes):
    assert schema_errors(request(**changes)) == []


@needs_schemas
def test_the_schema_check_has_teeth():
    broken = request().replace(b"<lg:xsdversie>", b"<lg:versie>").replace(
        b"</lg:xsdversie>", b"</lg:versie>")
    assert schema_errors(broken) != []
    assert schema_errors(request(brin="99zz")) != []


def test_the_request_asks_for_one_school_with_the_key_in_the_autorisatie_header():
    root = etree.fromstring(request())
    ns = {"s": uwlr.SOAP11_NS, "a": uwlr.AUTORISATIE_NS, "l": UWLR_NS}
    assert root.xpath("string(s:Header/a:autorisatie/a:autorisatiesleutel)", namespaces=ns) == KEY
    assert root.xpath("string(s:Header/a:autorisatie/a:klantcode)", namespaces=ns) == (
        "KLASPOORT-01")
    verzoek = root.xpath("s:Body/l:leerlinggegevens_verzoek", namespaces=ns)[0]
    assert [(etree.QName(c).localname, c.text) for c in verzoek] == [
        ("schooljaar", "2026-2027"), ("brincode", "99ZZ"), ("dependancecode", "00"),
        ("xsdversie", "2.2")]


@pytest.mark.skipif(not WSDL.is_file(), reason=f"{WSDL} is not there")
def test_operation_action_and_namespaces_are_the_wsdls():
    wsdl = etree.parse(str(WSDL))
    ns = {"w": "http://schemas.xmlsoap.org/wsdl/", "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    operation = wsdl.xpath("//w:binding[@name='bndLeerlinggegevens']/w:operation", namespaces=ns)
    assert [op.get("name") for op in operation] == [uwlr.OPERATION]
    assert operation[0].xpath("string(s:operation/@soapAction)", namespaces=ns) == (
        uwlr.SOAP_ACTION)
    assert wsdl.getroot().nsmap["aut"] == uwlr.AUTORISATIE_NS
    assert wsdl.getroot().get("targetNamespace") == UWLR_NS
    assert uwlr.request_headers()["SOAPAction"] == f'"{uwlr.SOAP_ACTION}"'


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------
def fault11(text: str, code: str = "soap:Client", detail: str = "") -> bytes:
    detail_el = f"<detail><melding>{detail}</melding></detail>" if detail else ""
    return (f'<soap:Envelope xmlns:soap="{uwlr.SOAP11_NS}"><soap:Body><soap:Fault>'
            f"<faultcode>{code}</faultcode><faultstring>{text}</faultstring>{detail_el}"
            "</soap:Fault></soap:Body></soap:Envelope>").encode()


def fault12(text: str) -> bytes:
    return (f'<env:Envelope xmlns:env="{uwlr.SOAP12_NS}"><env:Body><env:Fault><env:Code>'
            "<env:Value>env:Sender</env:Value></env:Code><env:Reason>"
            f'<env:Text xml:lang="nl">{text}</env:Text></env:Reason></env:Fault></env:Body>'
            "</env:Envelope>").encode()


def antwoord(inner: str) -> bytes:
    return (f'<s:Envelope xmlns:s="{uwlr.SOAP11_NS}"><s:Body><a:leerlinggegevens_antwoord '
            f'xmlns:a="{UWLR_NS}">{inner}</a:leerlinggegevens_antwoord></s:Body></s:Envelope>'
            ).encode()


def read(data: bytes) -> uwlr.Answer:
    return uwlr.read_answer(data, las="ParnasSys", school="99ZZ00", school_year="2026-2027",
                            secret=KEY)


@pytest.mark.parametrize(("data", "category"), [
    (fault11("Ongeldige autorisatiesleutel"), uwlr.Category.NOT_AUTHORISED),
    (fault11("Unauthorized", code="soap:Server"), uwlr.Category.NOT_AUTHORISED),
    (fault11("Access denied for klantcode KLASPOORT-01"), uwlr.Category.NOT_AUTHORISED),
    (fault12("Geen toegang"), uwlr.Category.NOT_AUTHORISED),
    (fault11("School met brincode 99ZZ00 is onbekend"), uwlr.Category.UNKNOWN_SCHOOL),
    (fault12("Unknown school 99ZZ00"), uwlr.Category.UNKNOWN_SCHOOL),
    (fault11("Schoolkey 41323 not found"), uwlr.Category.UNKNOWN_SCHOOL),
    (fault11("NullPointerException in LeerlingService"), uwlr.Category.LAS_ERROR),
    (antwoord("<a:geengegevens/>"), uwlr.Category.UNKNOWN_SCHOOL),
    (antwoord("<a:geenwijzigingen/>"), uwlr.Category.UNCHANGED),
    (antwoord("<a:leerlinggegevens/>"), uwlr.Category.ROSTER),
    (b"<EDEX><school/></EDEX>", uwlr.Category.ROSTER),
    (antwoord(""), uwlr.Category.NOT_UWLR),
    (b"<html><body>502 Bad Gateway</body></html>", uwlr.Category.NOT_UWLR),
    (b"Service Unavailable", uwlr.Category.NOT_UWLR),
    (b"", uwlr.Category.NOT_UWLR),
    (f'<s:Envelope xmlns:s="{uwlr.SOAP11_NS}"><s:Body/></s:Envelope>'.encode(),
     uwlr.Category.NOT_UWLR),
    (f'<r:leerresultaten_verzoek xmlns:r="{UWLR_NS}"/>'.encode(), uwlr.Category.NOT_UWLR),
    # An entity bomb is never expanded: refused before parsing.
    (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxxxx">]><a>&x;&x;</a>',
     uwlr.Category.NOT_UWLR),
])
def test_each_kind_of_answer_gets_its_category(data, category):
    assert read(data).category == category


def test_a_wrong_key_is_said_in_plain_dutch_naming_the_las():
    answer = read(fault11("Invalid autorisatiesleutel"))

    assert answer.text().startswith(
        "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys.")
    with translation.override("en"):
        assert answer.text().startswith("The authorisation key is not accepted by ParnasSys.")


def test_an_error_of_the_las_is_quoted_without_the_key_it_repeats():
    answer = read(fault11(f"Interne fout bij verzoek met {KEY}", code="soap:Server"))

    assert answer.category == uwlr.Category.LAS_ERROR
    assert KEY not in answer.text()
    assert answer.text().startswith("ParnasSys gaf een foutmelding: 'Interne fout bij verzoek")


def test_an_unknown_school_and_no_data_name_the_school():
    assert "99ZZ00" in read(fault11("Brin onbekend")).text()
    assert read(antwoord("<a:geengegevens/>")).text() == (
        "ParnasSys heeft geen gebruikersgegevens van school 99ZZ00 in schooljaar 2026-2027.")


def test_a_fault_is_recognised_whatever_the_http_status():
    assert uwlr.fault_in(fault11("x"))
    assert uwlr.fault_in(fault12("x"))
    assert not uwlr.fault_in(antwoord("<a:geengegevens/>"))
    assert not uwlr.fault_in(b"<html/>")
    assert not uwlr.fault_in(b"not xml")


@needs_schemas
def test_the_faults_used_here_are_valid_soap_11():
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "SOAP_Envelope.xsd")))
    assert schema.validate(etree.fromstring(fault11("Ongeldige autorisatiesleutel",
                                                    detail="code 401")))


# ---------------------------------------------------------------------------------------------
# The stored message, shown later
# ---------------------------------------------------------------------------------------------
def test_a_stored_failure_is_shown_in_the_readers_language():
    from klaspoort.roster.coupling_selectors import error_text

    answer = read(fault11("Ongeldige autorisatiesleutel"))
    stored = {"message": answer.message, "params": answer.params}

    assert error_text(stored).startswith(
        "De autorisatiesleutel wordt niet geaccepteerd door ParnasSys.")
    with translation.override("en"):
        assert error_text(stored).startswith("The authorisation key is not accepted by")
    assert error_text(RosterCoupling().last_error) == ""
    # A message that no longer fits its parameters never breaks the page.
    assert error_text({"message": answer.message, "params": {}}) == (
        "Het ophalen van de gebruikersgegevens is mislukt. Klaspoort probeert het de volgende "
        "nacht opnieuw.")
