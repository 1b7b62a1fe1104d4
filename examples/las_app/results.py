"""The example LAS's side of UWLR 2.2 *Leerresultaten* (operation BrengLeerresultaten): it takes
the results an access platform brings, checks the school's authorisation key as its
Leerlinggegevens service does, and holds each result once, by its `resultaat/@key`.

A result that arrives again (a platform that was not sure its message arrived sends it again)
replaces the one held: the LAS counts such repeats, so a test or benchmark can see that nothing
was lost and nothing is held twice. Everything lives in memory, behind one lock: a message of
500 results is stored in well under a millisecond.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from lxml import etree

from examples.las_app.roster import hardened_parser

LR_NS = "http://www.edustandaard.nl/leerresultaten/2/leerresultaten"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
AUT_NS = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
SOAP_ACTION = "BrengLeerresultaten"
# A message of a few thousand results is a few megabytes.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
_LR = f"{{{LR_NS}}}"


class ResultsFault(Exception):
    """A SOAP 1.1 Fault to answer with (HTTP status, faultstring in Dutch, faultcode)."""

    def __init__(self, status: int, message: str, code: str = "Client"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def invalid(reason: str) -> ResultsFault:
    return ResultsFault(400, f"Ongeldig bericht: {reason} Stuur een BrengLeerresultaten-"
                             "bericht volgens UWLR 2.2.")


@dataclass(frozen=True, slots=True)
class Held:
    """One result as this LAS holds it (slots: a national week is a million of them)."""

    brin6: str
    pupil: str
    eckid: str
    test_code: str
    score: str
    taken_on: str
    received: str


@dataclass(frozen=True)
class Message:
    brin6: str
    key: str | None
    client_name: str
    results: list[tuple[str, Held]]  # (resultaat/@key, result)
    tests: dict[str, str]  # toetscode → toetsnaam
    norms: int  # toetsen with a toetsnormering


def _text(element: etree._Element, name: str) -> str:
    found = element.find(f"{_LR}{name}")
    return (found.text or "").strip() if found is not None else ""


def read_message(data: bytes) -> Message:
    """The BrengLeerresultaten message in `data`; ResultsFault(400) when it is not one. Checks
    what this LAS needs and can check cheaply (the envelope, the school, each result's key,
    date, test code and whole-number score, every test code described under `toetsen`), not
    the whole schema."""
    if not data.strip():
        raise invalid("het bericht is leeg.")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data[:4096].upper():
        raise invalid("een DOCTYPE of ENTITY hoort niet in een SOAP-bericht.")
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise invalid("het bericht is geen goed gevormde XML.") from None
    if root.tag == f"{{{SOAP12_NS}}}Envelope":
        raise ResultsFault(400, "Deze dienst spreekt SOAP 1.1, niet SOAP 1.2.", "VersionMismatch")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise invalid("het bericht is geen SOAP 1.1-envelop.")
    body = root.find(f"{{{SOAP_NS}}}Body")
    content = [c for c in body if isinstance(c.tag, str)] if body is not None else []
    if len(content) != 1 or content[0].tag != f"{_LR}leerresultaten_verzoek":
        raise invalid("de Body moet precies één <leerresultaten_verzoek> bevatten.")
    verzoek = content[0]
    school = verzoek.find(f"{_LR}school")
    if school is None:
        raise invalid("<school> ontbreekt.")
    brin, schoolkey = _text(school, "brincode"), _text(school, "schoolkey")
    if not (brin or schoolkey):
        raise invalid("<school> bevat geen brincode of schoolkey.")
    brin6 = brin + (_text(school, "dependancecode") or "00") if brin else schoolkey
    key, client_name = None, ""
    autorisatie = root.find(f"{{{SOAP_NS}}}Header/{{{AUT_NS}}}autorisatie")
    if autorisatie is not None:
        key = (autorisatie.findtext(f"{{{AUT_NS}}}autorisatiesleutel") or "").strip()
        if not key:
            raise ResultsFault(500, "Autorisatie mislukt: het bericht bevat geen "
                                    "autorisatiesleutel.")
        client_name = (autorisatie.findtext(f"{{{AUT_NS}}}klantnaam") or "").strip()
    tests: dict[str, str] = {}
    norms = 0
    for toets in verzoek.iterfind(f"{_LR}toetsen/{_LR}toets"):
        tests[_text(toets, "toetscode")] = _text(toets, "toetsnaam")
        norms += toets.find(f"{_LR}toetsnormering") is not None
    received = dt.datetime.now().isoformat(timespec="seconds")
    results: list[tuple[str, Held]] = []
    for afname in verzoek.iterfind(f"{_LR}toetsafnames/{_LR}toetsafname"):
        pupil, eckid = _text(afname, "leerlingid"), _text(afname, "eckid")
        if not pupil:
            raise invalid("een <toetsafname> zonder <leerlingid>.")
        for resultaat in afname.iterfind(f"{_LR}resultaten/{_LR}resultaat"):
            result_key = resultaat.get("key") or ""
            code, score = _text(resultaat, "toetscode"), _text(resultaat, "score")
            taken_on = _text(resultaat, "afnamedatum")
            if not result_key:
                raise invalid("een <resultaat> zonder key.")
            if not score.isdigit():
                raise invalid(f"de score van resultaat {result_key} is geen geheel getal.")
            if code not in tests:
                raise invalid(f"toetscode {code!r} staat niet onder <toetsen>.")
            try:
                dt.date.fromisoformat(taken_on)
            except ValueError:
                raise invalid(f"de afnamedatum van resultaat {result_key} is geen datum.") from None
            results.append((result_key, Held(brin6, pupil, eckid, code, score, taken_on,
                                             received)))
    if not results:
        raise invalid("het bericht bevat geen resultaten.")
    return Message(brin6, key, client_name, results, tests, norms)


class ResultsStore:
    """The results this LAS holds, each once by its key, and what it counted on the way."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.held: dict[str, Held] = {}
        self.messages = 0
        self.received = 0
        self.repeats = 0
        self.faults = 0
        self.norms = 0
        self.tests: dict[str, str] = {}
        self.by_school: dict[str, int] = defaultdict(int)

    def take(self, message: Message) -> int:
        """Hold the message's results (a repeat replaces); returns the new ones."""
        new = 0
        with self.lock:
            held = self.held
            for key, result in message.results:
                before = held.get(key)
                if before is None:
                    new += 1
                    self.by_school[result.brin6] += 1
                elif before.brin6 != result.brin6:
                    self.by_school[before.brin6] -= 1
                    self.by_school[result.brin6] += 1
                held[key] = result
            self.messages += 1
            self.received += len(message.results)
            self.repeats += len(message.results) - new
            self.norms += message.norms
            self.tests.update(message.tests)
        return new

    def fault(self) -> None:
        with self.lock:
            self.faults += 1

    def counts(self, *, keys: bool = False, digest: bool = False) -> dict[str, Any]:
        """What arrived: messages confirmed, results received in them, results held (each
        once), repeats among the received, faults answered, and results held per school;
        with `keys` every key held, with `digest` the SHA-256 of the sorted keys, one a line."""
        with self.lock:
            out: dict[str, Any] = {
                "messages": self.messages, "received": self.received,
                "results": len(self.held), "repeats": self.repeats, "faults": self.faults,
                "normeringen": self.norms,
                "schools": {brin6: n for brin6, n in sorted(self.by_school.items()) if n}}
            held_keys = list(self.held) if keys or digest else []
        if keys:
            out["keys"] = sorted(held_keys)
        if digest:
            out["keys_sha256"] = keys_digest(held_keys)
        return out

    def recent(self, brin6: str, count: int = 20) -> list[tuple[str, Held]]:
        with self.lock:
            items = [(k, r) for k, r in self.held.items() if r.brin6 == brin6]
        return items[-count:]


def keys_digest(keys: list[str]) -> str:
    """SHA-256 of the sorted keys, one a line: a benchmark compares it with its own."""
    return hashlib.sha256("".join(f"{k}\n" for k in sorted(keys)).encode()).hexdigest()


def check_key(given: str | None, expected: str, brin6: str) -> None:
    """The same rule as for Leerlinggegevens: no key, or not the school's, is a fault."""
    if given is None:
        raise ResultsFault(500, "Autorisatie mislukt: het bericht bevat geen "
                                "autorisatiesleutel.")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise ResultsFault(500, f"Autorisatie mislukt: de autorisatiesleutel is onjuist of "
                                f"ingetrokken voor school {brin6}. Vraag een nieuwe "
                                "autorisatiesleutel aan bij de leerlingadministratie.")


def confirmation() -> bytes:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS, "lr": LR_NS})
    body = etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")
    etree.SubElement(body, f"{_LR}leerresultaten_bevestiging")
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def page(store: ResultsStore) -> bytes:
    """GET /resultaten: what arrived, per school (Dutch, as the LAS's own screen)."""
    from html import escape

    counts = store.counts()
    rows = []
    for brin6, held in counts["schools"].items():
        recent = "".join(
            f"<tr><td>{escape(r.pupil)}</td><td>{escape(r.test_code)}</td>"
            f"<td>{escape(store.tests.get(r.test_code, ''))}</td><td>{escape(r.score)}</td>"
            f"<td>{escape(r.taken_on)}</td><td>{escape(r.received)}</td></tr>"
            for _key, r in reversed(store.recent(brin6)))
        rows.append(
            f"<h2>School {escape(brin6)}: {held} resultaten</h2><table><thead><tr>"
            "<th>Leerling</th><th>Toetscode</th><th>Toets</th><th>Score</th>"
            "<th>Afnamedatum</th><th>Ontvangen</th></tr></thead>"
            f"<tbody>{recent}</tbody></table>")
    text = (
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\">"
        "<title>Voorbeeld-LAS: ontvangen resultaten</title></head><body>"
        "<h1>Ontvangen resultaten</h1>"
        f"<p>{counts['messages']} berichten, {counts['results']} resultaten, "
        f"{counts['repeats']} herhaald ontvangen (vervangen), {counts['faults']} geweigerd.</p>"
        + ("".join(rows) or "<p>Nog geen resultaten ontvangen.</p>") + "</body></html>")
    return text.encode()
