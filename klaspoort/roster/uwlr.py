"""UWLR 2.2 Leerlinggegevens: the request Klaspoort sends to a LAS, and what its answer says.

Klaspoort writes and reads these messages itself with lxml; no WSDL is needed at run time. The
names come from the official WSDL (UWLR_Leerlinggegevens_v2p2.wsdl, binding
bndLeerlinggegevens): operation HaalLeerlinggegevens, document/literal over SOAP 1.1, SOAPAction
"HaalLeerlinggegevens", the `autorisatie` element (UWLR_Autorisatie_v2p2.xsd) as SOAP header and
`leerlinggegevens_verzoek` (UWLR_Leerlinggegevens_v2p2.xsd) as body.

Reading an answer only decides what kind of answer it is; the roster in a good answer is read
by the same reader as an uploaded file (edexml.parse_edexml, through
services.receive_roster_file). The kinds:
- a `leerlinggegevens_antwoord` with `leerlinggegevens` (or a bare EDEXML file): a roster;
- a `leerlinggegevens_antwoord` with the standard's own exception answers
  (gAntwoordUitzonderingen): `geengegevens` ("no data were found for this request": the LAS does
  not know the school, or has nothing for it) and `geenwijzigingen` ("nothing changed since the
  date in the request"; Klaspoort never sends that date, so a LAS that answers it says nothing
  changed: not a failure);
- a SOAP Fault (1.1: faultcode/faultstring/detail; 1.2: Code/Subcode/Reason/Detail). The
  standard defines no fault codes for HaalLeerlinggegevens, so the words of the fault decide:
  words about the key or authorisation mean the key is not accepted; words about an unknown or
  missing school mean the LAS does not know the school; anything else is an error of the LAS,
  quoted in the message (with the key taken out, should the LAS repeat it);
- anything else (HTML, another UWLR message, no XML): not a UWLR answer.

Messages are English msgids marked with gettext_noop, stored with their parameters and
translated when shown (roster.coupling_selectors.error_text); each names the LAS.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext, gettext_noop
from lxml import etree

from klaspoort.roster.edexml import (
    EDEX_NS,
    SOAP_NS,
    UWLR_NS,
    shown,
    untrusted_root,
)

AUTORISATIE_NS = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
# From the WSDL: <soap:operation soapAction="HaalLeerlinggegevens"/> of HaalLeerlinggegevens.
OPERATION = "HaalLeerlinggegevens"
SOAP_ACTION = "HaalLeerlinggegevens"
# SOAP 1.1 over HTTP: text/xml, and the SOAPAction header quoted.
CONTENT_TYPE = "text/xml; charset=utf-8"
# The UWLR version Klaspoort speaks (the request's <xsdversie>).
XSD_VERSION = "2.2"
# tpString64 of the autorisatie schema.
AUTH_MAX = 64


class Category(enum.StrEnum):
    ROSTER = "roster"
    UNCHANGED = "unchanged"
    NOT_AUTHORISED = "not_authorised"
    UNKNOWN_SCHOOL = "unknown_school"
    LAS_ERROR = "las_error"
    NOT_UWLR = "not_uwlr"


@dataclass(frozen=True)
class Answer:
    """What a LAS's answer says. `message` is an English msgid (gettext_noop) and `params` its
    parameters; both empty for a roster or an unchanged answer."""

    category: Category
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.category in (Category.ROSTER, Category.UNCHANGED)

    def text(self) -> str:
        return gettext(self.message) % self.params if self.message else ""


# -- the request ------------------------------------------------------------------------------
def soap_request(*, key: str, client_code: str, client_name: str, prefix: str,
                 namespace: str) -> tuple[etree._Element, etree._Element]:
    """A SOAP 1.1 envelope with the UWLR `autorisatie` header, and its empty Body to put the
    request in (`prefix` names `namespace`, the request's own); shared by every UWLR message
    Klaspoort sends (Leerlinggegevens here, Leerresultaten in results.uwlr).

    Rule: the header carries the school's authorisation key and Klaspoort's customer code and
    name at this LAS (each 1 to 64 characters, as the schema allows: a longer name is cut).
    """
    soap = f"{{{SOAP11_NS}}}"
    aut = f"{{{AUTORISATIE_NS}}}"
    envelope = etree.Element(f"{soap}Envelope",
                             nsmap={"soap": SOAP11_NS, "aut": AUTORISATIE_NS, prefix: namespace})
    header = etree.SubElement(envelope, f"{soap}Header")
    autorisatie = etree.SubElement(header, f"{aut}autorisatie")
    for name, value in (("autorisatiesleutel", key), ("klantcode", client_code),
                        ("klantnaam", client_name)):
        etree.SubElement(autorisatie, f"{aut}{name}").text = value.strip()[:AUTH_MAX]
    return envelope, etree.SubElement(envelope, f"{soap}Body")


def build_request(*, key: str, client_code: str, client_name: str, school_year: str, brin: str,
                  dependancecode: str) -> bytes:
    """The SOAP 1.1 envelope of HaalLeerlinggegevens for one school, as UTF-8 bytes.

    Rule: the header as soap_request writes it; the body asks for the complete user data (no
    laatstontvangengegevens) of the school year.
    """
    lg = f"{{{UWLR_NS}}}"
    envelope, body = soap_request(key=key, client_code=client_code, client_name=client_name,
                                  prefix="lg", namespace=UWLR_NS)
    request = etree.SubElement(body, f"{lg}leerlinggegevens_verzoek")
    etree.SubElement(request, f"{lg}schooljaar").text = school_year
    etree.SubElement(request, f"{lg}brincode").text = brin
    etree.SubElement(request, f"{lg}dependancecode").text = dependancecode or "00"
    etree.SubElement(request, f"{lg}xsdversie").text = XSD_VERSION
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def request_headers(action: str = SOAP_ACTION) -> dict[str, str]:
    """The HTTP headers of a UWLR request for the operation whose SOAPAction is `action`."""
    return {"Content-Type": CONTENT_TYPE, "SOAPAction": f'"{action}"',
            "Accept": "text/xml, application/soap+xml, application/xml"}


# -- the answer -------------------------------------------------------------------------------
# Words in a fault that say the key or the customer was refused. "schoolkey" is a school's id
# in UWLR, not an authorisation key, so it is read as "school" first.
_AUTH_WORDS = re.compile(
    r"autoris|authori[sz]|sleutel|\bkey\b|klantcode|klantnaam|toegang|access denied|denied|"
    r"forbidden|credential", re.IGNORECASE)
_SCHOOL_WORDS = re.compile(r"brin|school|dependance|vestiging|instelling", re.IGNORECASE)
_UNKNOWN_WORDS = re.compile(
    r"onbekend|unknown|niet gevonden|not found|no such|bestaat niet|does not exist|"
    r"niet bekend|geen|invalid|ongeldig|niet gekoppeld|not linked", re.IGNORECASE)

NOT_AUTHORISED = gettext_noop(
    "The authorisation key is not accepted by %(las)s. Check the key that %(las)s gave "
    "your school and enter it again.")
UNKNOWN_SCHOOL = gettext_noop(
    "%(las)s does not know school %(school)s. Check in %(las)s that the coupling with "
    "Klaspoort is switched on for this school.")
NO_DATA = gettext_noop(
    "%(las)s has no user data for school %(school)s in school year %(school_year)s.")
LAS_ERROR = gettext_noop(
    "%(las)s answered with an error: '%(reason)s'. Klaspoort tries again next night; if "
    "this keeps happening, ask the supplier of %(las)s.")
NOT_UWLR = gettext_noop(
    "%(las)s did not send a UWLR answer with user data. Klaspoort tries again next night; "
    "if this keeps happening, ask the supplier of %(las)s.")


def read_answer(data: bytes, *, las: str, school: str, school_year: str,
                secret: str = "") -> Answer:
    """What kind of answer this is (see the module's docstring). `secret` (the key that was
    sent) is taken out of any text of the LAS that the message quotes."""
    def failure(category: Category, message: str, **params: Any) -> Answer:
        return Answer(category, message, {"las": las, **params})

    not_uwlr = failure(Category.NOT_UWLR, NOT_UWLR)
    root = untrusted_root(data)
    if root is None:
        return not_uwlr
    el = root
    name = etree.QName(el)
    if name.localname == "EDEX" and name.namespace in (None, EDEX_NS):
        return Answer(Category.ROSTER)  # a bare EDEXML file: the reader decides
    if name.namespace in SOAP_NS and name.localname == "Envelope":
        body = _child(el, "Body")
        content = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if not content:
            return not_uwlr
        el = content[0]
        name = etree.QName(el)
        if name.localname == "Fault" or (name.namespace == UWLR_NS
                                         and name.localname.endswith("Fault")):
            return _fault(el, las=las, school=school, secret=secret)
    if name.namespace != UWLR_NS:
        return not_uwlr
    if name.localname == "leerlinggegevens":
        return Answer(Category.ROSTER)
    if name.localname != "leerlinggegevens_antwoord":
        return not_uwlr
    children = {etree.QName(c).localname for c in el if isinstance(c.tag, str)
                and etree.QName(c).namespace == UWLR_NS}
    if "leerlinggegevens" in children:
        return Answer(Category.ROSTER)
    if "geenwijzigingen" in children:
        return Answer(Category.UNCHANGED)
    if "geengegevens" in children:
        return failure(Category.UNKNOWN_SCHOOL, NO_DATA, school=school, school_year=school_year)
    return not_uwlr


def read_fault(data: bytes, *, las: str, school: str, secret: str = "") -> Answer | None:
    """The category and message of a SOAP Fault in `data` (read as for Leerlinggegevens: see
    the module's docstring), or None when `data` is no SOAP envelope with a Fault. Any UWLR
    operation's faults are read this way (results.uwlr for BrengLeerresultaten)."""
    element = _fault_element(data)
    return None if element is None else _fault(element, las=las, school=school, secret=secret)


def fault_in(data: bytes) -> bool:
    """Whether these bytes are a SOAP envelope with a Fault (a LAS answers faults with HTTP
    500, as SOAP 1.1 prescribes: such an answer is final, not a reason to try again)."""
    return _fault_element(data) is not None


def _fault_element(data: bytes) -> etree._Element | None:
    root = untrusted_root(data)
    if root is None or etree.QName(root).namespace not in SOAP_NS:
        return None
    body = _child(root, "Body")
    first = next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    return first if first is not None and etree.QName(first).localname.endswith("Fault") else None


def _child(el: etree._Element, localname: str) -> etree._Element | None:
    return next((c for c in el if isinstance(c.tag, str)
                 and etree.QName(c).localname == localname), None)


def _words(el: etree._Element | None) -> str:
    if el is None:
        return ""
    return " ".join(" ".join(el.itertext()).split())


def _fault(el: etree._Element, *, las: str, school: str, secret: str) -> Answer:
    """A SOAP 1.1 or 1.2 Fault as a category and a message."""
    if etree.QName(el).namespace == SOAP12_NS:
        code = _words(_child(el, "Code"))
        reason = _words(_child(el, "Reason"))
    else:
        code = _words(_child(el, "faultcode"))
        reason = _words(_child(el, "faultstring"))
    detail = _words(_child(el, "detail")) or _words(_child(el, "Detail"))
    said = " ".join(part for part in (code, reason, detail) if part)
    if len(secret) >= 4:
        said = said.replace(secret, "…")
        reason = reason.replace(secret, "…")
    looked_at = said.lower().replace("schoolkey", "school")
    if _AUTH_WORDS.search(looked_at):
        return Answer(Category.NOT_AUTHORISED, NOT_AUTHORISED, {"las": las})
    if _SCHOOL_WORDS.search(looked_at) and _UNKNOWN_WORDS.search(looked_at):
        return Answer(Category.UNKNOWN_SCHOOL, UNKNOWN_SCHOOL, {"las": las, "school": school})
    return Answer(Category.LAS_ERROR, LAS_ERROR,
                  {"las": las, "reason": shown(reason or code or "?", 160)})
