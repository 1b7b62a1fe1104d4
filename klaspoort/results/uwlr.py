"""UWLR 2.2 Leerresultaten: the message that brings results to a LAS, and what its answer says.

Klaspoort writes and reads these messages itself with lxml, as roster.uwlr does for
Leerlinggegevens (whose envelope, autorisatie header and fault reading are reused here). The
names come from the official WSDL (UWLR_Leerresultaten_v2p2.wsdl, binding bndLeerresultaten):
operation BrengLeerresultaten, document/literal over SOAP 1.1, SOAPAction "BrengLeerresultaten",
`autorisatie` (UWLR_Autorisatie_v2p2.xsd) as SOAP header, `leerresultaten_verzoek`
(UWLR_Leerresultaten_v2p2.xsd) as body, `leerresultaten_bevestiging` as the answer.

The message: `school` (school year, BRIN and dependancecode, when it was made, author
"Klaspoort", xsdversie 2.2), `toetsafnames` (one `toetsafname` per pupil: leerlingid = the
pupil's LAS key, eckid when known, a `resultaat` per result whose @key is the result's stable
uid, so a LAS that receives it again replaces it) and `toetsen` (one `toets` per test code,
with its name and, when asked, a `toetsnormering`).

Grade boundaries as norms. A publisher's boundaries are school grades (1.0 to 10.0) per band;
UWLR's norm wants a range of raw scores (beginnormwaarde, eindnormwaarde) besides the grades
(schoolcijfer_vanaf, schoolcijfer_totenmet). Klaspoort converts with the linear scale
grade = 1 + 9 * score / max_score: a band from grade g1 begins at the score
ceil((g1 - 1) * max / 9) and ends just below where the next band begins (grades come to one
decimal, so a band "to 7.9" means "below 8.0": no score falls between two bands); the last band
ends at floor((g2 - 1) * max / 9), at max_score when it goes to 10. Without a maximum score no
raw range can be given, so then no normering is sent.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.utils.translation import gettext, gettext_noop
from lxml import etree

from klaspoort.roster import uwlr as roster_uwlr
from klaspoort.roster.edexml import SOAP_NS, untrusted_root

LR_NS = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
# From the WSDL: <soap:operation soapAction="BrengLeerresultaten"/> of BrengLeerresultaten.
OPERATION = "BrengLeerresultaten"
SOAP_ACTION = "BrengLeerresultaten"
AUTHOR = "Klaspoort"
XSD_VERSION = roster_uwlr.XSD_VERSION
# The schema's lengths: tpKey and tpString256, tpString128 (toetsnaam), tpString64 (term).
KEY_MAX = 256
NAME_MAX = 128
TERM_MAX = 64
# Characters XML 1.0 cannot carry at all (lxml refuses them); a value never contains them
# after ingest, but one that slipped through must not stop a whole batch.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Norm:
    """One band of a toetsnormering: its term, raw-score range and school-grade range."""

    term: str
    begin: int
    end: int
    grade_from: Fraction
    grade_to: Fraction


@dataclass(frozen=True)
class Test:
    """A `toets`: the code results refer to, its name, and its norms (empty: no normering)."""

    code: str
    name: str = ""
    norms: tuple[Norm, ...] = ()


@dataclass(frozen=True)
class Score:
    """A `resultaat`: the stable key (the result's uid), date, test code and score."""

    key: str
    taken_on: dt.date
    test_code: str
    score: int


@dataclass(frozen=True)
class Taking:
    """A `toetsafname`: one pupil (LAS key, ECK iD when known) and their results."""

    pupil_key: str
    eckid: str = ""
    scores: tuple[Score, ...] = ()


def norms(bands: Sequence[dict[str, Any]], max_score: int | None) -> tuple[Norm, ...]:
    """The norms for grade-boundary `bands` ({"term", "grade_from", "grade_to"}, grades 1.0 to
    10.0) on a scale up to `max_score`, by the linear rule of the module's docstring.

    RULE: no maximum score, or a band that is not understood (no term, grades outside 1-10),
    means no norms at all: a normering that leaves bands out would tell the LAS wrong grades.
    """
    if not max_score or not bands:
        return ()
    parsed: list[tuple[str, Fraction, Fraction]] = []
    for band in bands:
        try:
            low = Fraction(str(band["grade_from"]))
            high = Fraction(str(band["grade_to"]))
            term = _clean(str(band["term"]), TERM_MAX)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return ()
        if not term or not 1 <= low <= high <= 10:
            return ()
        parsed.append((term, low, high))
    parsed.sort(key=lambda band: band[1])
    begins = [max(0, min(max_score, math.ceil((low - 1) * max_score / 9)))
              for _term, low, _high in parsed]
    out: list[Norm] = []
    for index, (term, low, high) in enumerate(parsed):
        if index + 1 < len(begins):
            end = begins[index + 1] - 1
        else:
            end = max_score if high == 10 else math.floor((high - 1) * max_score / 9)
        begin = begins[index]
        out.append(Norm(term, begin, max(begin, min(end, max_score)), low, high))
    return tuple(out)


def build_request(*, key: str, client_code: str, client_name: str, school_year: str, brin: str,
                  dependancecode: str, created: dt.datetime, takings: Sequence[Taking],
                  tests: Sequence[Test]) -> bytes:
    """The SOAP 1.1 envelope of BrengLeerresultaten for one school, as UTF-8 bytes.

    RULE: the autorisatie header as for Leerlinggegevens (roster.uwlr.soap_request); every
    value within the schema's lengths (a longer one is cut) and without characters XML cannot
    carry; one `toets` per test code (the first given wins), every test code a result uses
    among them, as the schema's key reference demands.
    """
    lr = f"{{{LR_NS}}}"
    envelope, body = roster_uwlr.soap_request(
        key=key, client_code=client_code, client_name=client_name, prefix="lr",
        namespace=LR_NS)
    request = etree.SubElement(body, f"{lr}leerresultaten_verzoek")
    school = etree.SubElement(request, f"{lr}school")
    for name, value in (("schooljaar", school_year), ("brincode", brin),
                        ("dependancecode", dependancecode or "00"),
                        ("aanmaakdatum", created.isoformat(timespec="seconds")),
                        ("auteur", AUTHOR), ("xsdversie", XSD_VERSION)):
        etree.SubElement(school, f"{lr}{name}").text = value
    afnames = etree.SubElement(request, f"{lr}toetsafnames")
    used: dict[str, None] = {}
    for taking in takings:
        afname = etree.SubElement(afnames, f"{lr}toetsafname")
        etree.SubElement(afname, f"{lr}leerlingid").text = _clean(taking.pupil_key, KEY_MAX, "-")
        if taking.eckid.strip():
            etree.SubElement(afname, f"{lr}eckid").text = _clean(taking.eckid, KEY_MAX)
        resultaten = etree.SubElement(afname, f"{lr}resultaten")
        for score in taking.scores:
            code = _clean(score.test_code, KEY_MAX, "-")
            used[code] = None
            resultaat = etree.SubElement(resultaten, f"{lr}resultaat", key=score.key)
            etree.SubElement(resultaat, f"{lr}afnamedatum").text = score.taken_on.isoformat()
            etree.SubElement(resultaat, f"{lr}toetscode").text = code
            etree.SubElement(resultaat, f"{lr}score").text = str(max(0, int(score.score)))
    toetsen = etree.SubElement(request, f"{lr}toetsen")
    described: dict[str, Test] = {}
    for test in tests:
        described.setdefault(_clean(test.code, KEY_MAX, "-"), test)
    for code in used:
        test = described.get(code, Test(code))
        toets = etree.SubElement(toetsen, f"{lr}toets")
        etree.SubElement(toets, f"{lr}toetscode").text = code
        name = _clean(test.name, NAME_MAX)
        if name:
            etree.SubElement(toets, f"{lr}toetsnaam").text = name
        if test.norms:
            normering = etree.SubElement(toets, f"{lr}toetsnormering")
            for norm in test.norms:
                element = etree.SubElement(normering, f"{lr}norm")
                etree.SubElement(element, f"{lr}term").text = norm.term
                etree.SubElement(element, f"{lr}beginnormwaarde").text = str(norm.begin)
                etree.SubElement(element, f"{lr}eindnormwaarde").text = str(norm.end)
                etree.SubElement(element, f"{lr}schoolcijfer_vanaf").text = _grade(
                    norm.grade_from)
                etree.SubElement(element, f"{lr}schoolcijfer_totenmet").text = _grade(
                    norm.grade_to)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def request_headers() -> dict[str, str]:
    return roster_uwlr.request_headers(SOAP_ACTION)


def _clean(value: str, limit: int, empty: str = "") -> str:
    text = _NOT_XML.sub("", value or "").strip()[:limit]
    return text or empty


def _grade(value: Fraction) -> str:
    return f"{float(value):.2f}"


# -- the answer -------------------------------------------------------------------------------
class Category(enum.StrEnum):
    CONFIRMED = "confirmed"
    NOT_AUTHORISED = "not_authorised"
    UNKNOWN_SCHOOL = "unknown_school"
    REFUSED = "refused"
    NOT_UWLR = "not_uwlr"


REFUSED = gettext_noop(
    "%(las)s refused the results: '%(reason)s'. Klaspoort tries again later; if this keeps "
    "happening, ask the supplier of %(las)s.")
NOT_UWLR = gettext_noop(
    "%(las)s did not confirm the results with a UWLR answer. Klaspoort tries again later; if "
    "this keeps happening, ask the supplier of %(las)s.")


@dataclass(frozen=True)
class Answer:
    """What a LAS's answer to BrengLeerresultaten says; `message` an English msgid and
    `params` its parameters (empty when confirmed)."""

    category: Category
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.category == Category.CONFIRMED

    def text(self) -> str:
        return gettext(self.message) % self.params if self.message else ""


def read_answer(data: bytes, *, las: str, school: str, secret: str = "") -> Answer:
    """RULE: only a `leerresultaten_bevestiging` (bare or in a SOAP Body) confirms the results.
    A SOAP Fault is read as roster.uwlr reads one: words about the key mean the key is not
    accepted, words about an unknown school that the LAS does not know the school, anything
    else is a refusal quoting the LAS (the key taken out). Anything else is no UWLR answer."""
    fault = roster_uwlr.read_fault(data, las=las, school=school, secret=secret)
    if fault is not None:
        if fault.category == roster_uwlr.Category.NOT_AUTHORISED:
            return Answer(Category.NOT_AUTHORISED, fault.message, fault.params)
        if fault.category == roster_uwlr.Category.UNKNOWN_SCHOOL:
            return Answer(Category.UNKNOWN_SCHOOL, fault.message, fault.params)
        return Answer(Category.REFUSED, REFUSED,
                      {"las": las, "reason": fault.params.get("reason", "?")})
    not_uwlr = Answer(Category.NOT_UWLR, NOT_UWLR, {"las": las})
    root = untrusted_root(data)
    if root is None:
        return not_uwlr
    element = root
    if etree.QName(root).namespace in SOAP_NS and etree.QName(root).localname == "Envelope":
        body = next((c for c in root if isinstance(c.tag, str)
                     and etree.QName(c).localname == "Body"), None)
        content = [c for c in body if isinstance(c.tag, str)] if body is not None else []
        if len(content) != 1:
            return not_uwlr
        element = content[0]
    if element.tag != f"{{{LR_NS}}}leerresultaten_bevestiging":
        return not_uwlr
    return Answer(Category.CONFIRMED)
