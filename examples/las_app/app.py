"""The example LAS: a UWLR 2.2 *Leerlinggegevens* service (SOAP 1.1, operation
HaalLeerlinggegevens) answering with rosters it generates.

What a pupil administration's server does when an access platform fetches a school's roster:

- POST /leerlinggegevens  a SOAP 1.1 envelope with the `autorisatie` header (autorisatiesleutel,
                          klantcode, klantnaam) and a `leerlinggegevens_verzoek` body
                          (schooljaar, brincode + dependancecode or schoolkey, xsdversie);
                          SOAPAction "HaalLeerlinggegevens" (or none). The answer is a
                          `leerlinggegevens_antwoord` with the school's roster, or a SOAP Fault:
                          HTTP 400 for a request that is not a valid HaalLeerlinggegevens, 500
                          for a missing or wrong key or a school this LAS does not know.
- POST /leerresultaten    a UWLR 2.2 *Leerresultaten* message (operation BrengLeerresultaten,
                          SOAPAction "BrengLeerresultaten" or none): the same autorisatie header
                          and key check, a `leerresultaten_verzoek` body; the results are held
                          once each by resultaat/@key (a repeat replaces) and the answer is a
                          `leerresultaten_bevestiging` (examples/las_app/results.py).
- GET /resultaten         what arrived, per school (an HTML page in Dutch).
- GET /resultaten.json    the counts (messages, received, results held, repeats, faults, per
                          school; ?keys=1 every key held, ?digest=1 their SHA-256).
- GET /                   what this LAS serves (plain text), for people and for scripts that
                          wait until it is up.

Only the standard library serves HTTP (wsgiref, one thread per request, so thousands of
concurrent fetches each wait out the simulated latency side by side) and lxml reads and writes
the XML: the request is parsed the hardened way (no DOCTYPE, no entities, no network, bounded
size), as klaspoort/roster/edexml.py does.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree

from examples.las_app import results as lr
from examples.las_app.roster import LG_NS, country, hardened_parser, leerlinggegevens

log = logging.getLogger("las_app")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
AUT_NS = "http://www.edustandaard.nl/leerresultaten/2/autorisatie"
SOAP_ACTION = "HaalLeerlinggegevens"
MAX_REQUEST_BYTES = 64 * 1024  # a request is a few hundred bytes
DRAIN_BYTES = 1024 * 1024
DEFAULT_KEY_SECRET = "voorbeeld-las"  # noqa: S105 - the example's documented default
KEY_LENGTH = 32

# The request body (gVerzoekBasis of UWLR_Leerlinggegevens_v2p2.xsd) as the sequence of its
# children's names.
_VERZOEK = re.compile(r"^schooljaar (brincode( dependancecode)?|schoolkey) xsdversie"
                      r"( gegevenssetid)?( laatstontvangengegevens)?$")
_AUTORISATIE = ("autorisatiesleutel", "klantcode", "klantnaam")
# Values as the schema's types allow them (ASCII digits and capitals: no real BRIN code uses
# other scripts, though \p{Nd} and \p{Lu} would).
_VALUES = {
    "schooljaar": re.compile(r"^[12][0-9]{3}-[12][0-9]{3}$"),
    "brincode": re.compile(r"^[0-9]{2}[A-Z]{2}$"),
    "dependancecode": re.compile(r"^[0-9]{2}$"),
    "schoolkey": re.compile(r"^.{1,256}$", re.S),
    "xsdversie": re.compile(r"^.{1,32}$", re.S),
    "gegevenssetid": re.compile(r"^.{1,64}$", re.S),
    "laatstontvangengegevens": re.compile(
        r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
        r"(Z|[+-][0-9]{2}:[0-9]{2})?$"),
    "autorisatiesleutel": re.compile(r"^.{1,64}$", re.S),
    "klantcode": re.compile(r"^.{1,64}$", re.S),
    "klantnaam": re.compile(r"^.{1,64}$", re.S),
}
_BRIN6 = re.compile(r"^([0-9]{2}[A-Z]{2})([0-9]{2})?$")


def school_key(secret: str, brin6: str) -> str:
    """The authorisation key this LAS gave school `brin6` (BRIN + dependancecode, e.g.
    "99ZZ00"): the first 32 hex digits of HMAC-SHA256(secret, brin6). The demo and the
    benchmark compute it the same way to give Klaspoort the right key."""
    return hmac.new(secret.encode(), brin6.encode(), hashlib.sha256).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class School:
    brin: str
    dependancecode: str
    pupils: int
    key: str

    @property
    def brin6(self) -> str:
        return self.brin + self.dependancecode


@dataclass
class Config:
    """What the LAS serves; `from_args` reads it from the command line (see README.md)."""

    schools: dict[str, School] = field(default_factory=dict)  # by BRIN6
    seed: int = 0
    latency_ms: int = 0
    # The night the first answer for a school shows; every later answer for the same school
    # shows the next night (a rename and a move more), unless fixed_night.
    night: int = 0
    fixed_night: bool = False
    path: str = "/leerlinggegevens"
    host: str = "localhost"
    port: int = 8002
    results_path: str = "/leerresultaten"
    # Wait this long before answering each results message (the crash test kills a worker
    # while it waits).
    results_delay_ms: int = 0

    @classmethod
    def from_args(cls, argv: Sequence[str] | None = None) -> Config:
        args = parser().parse_args(argv)
        schools: dict[str, School] = {}
        for brin, dep, pupils in country(args.schools, args.pupils, args.pupils_per_school,
                                         args.seed):
            schools[brin + dep] = School(brin, dep, pupils,
                                         school_key(args.key_secret, brin + dep))
        for brin6, key in args.school:
            schools[brin6] = School(brin6[:4], brin6[4:], args.pupils_per_school,
                                    key or school_key(args.key_secret, brin6))
        return cls(schools=schools, seed=args.seed, latency_ms=args.latency_ms,
                   night=args.night, fixed_night=args.fixed_night, path=args.path,
                   host=args.host, port=args.port, results_path=args.results_path,
                   results_delay_ms=args.results_delay_ms)


def _school_option(value: str) -> tuple[str, str]:
    brin6, _eq, key = value.partition("=")
    match = _BRIN6.match(brin6.strip().upper())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected BRIN6=KEY, e.g. 99ZZ00=geheim (BRIN, dependancecode)")
    if len(key) > 64:
        raise argparse.ArgumentTypeError("a key has at most 64 characters (UWLR tpString64)")
    return match[1] + (match[2] or "00"), key


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m examples.las_app",
        description="An example LAS: UWLR 2.2 Leerlinggegevens (HaalLeerlinggegevens) over "
                    "SOAP 1.1, with generated rosters.")
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, default=8002)
    p.add_argument("--path", default="/leerlinggegevens", help="the service's address")
    p.add_argument("--schools", type=int, default=0,
                   help="serve the first N schools of klaspoort.roster.generator.school_brins")
    p.add_argument("--pupils", type=int, default=None,
                   help="pupils in those N schools together, spread as `klaspoort "
                        "generate-edexml --pupils P --schools N --seed X` spreads them")
    p.add_argument("--pupils-per-school", type=int, default=200,
                   help="pupils of each school (without --pupils, and for --school)")
    p.add_argument("--school", type=_school_option, action="append", default=[],
                   metavar="BRIN6[=KEY]",
                   help="serve this school too (again for more), with this key; without a "
                        "key the derived one")
    p.add_argument("--key-secret", default=DEFAULT_KEY_SECRET,
                   help="derives each school's key: HMAC-SHA256(secret, BRIN6), first 32 hex "
                        "digits")
    p.add_argument("--seed", type=int, default=0, help="the generator's seed")
    p.add_argument("--latency-ms", type=int, default=0, help="simulated latency per call")
    p.add_argument("--night", type=int, default=0,
                   help="the night the first answer shows; each later answer for the same "
                        "school shows the next night (a rename and a move more)")
    p.add_argument("--fixed-night", action="store_true",
                   help="every answer shows --night (repeatable runs)")
    p.add_argument("--results-path", default="/leerresultaten",
                   help="the address of the Leerresultaten service")
    p.add_argument("--results-delay-ms", type=int,
                   default=int(os.environ.get("LAS_RESULTS_DELAY_MS", "0") or 0),
                   help="wait N ms before answering each results message (default: "
                        "$LAS_RESULTS_DELAY_MS or 0)")
    return p


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------
class Fault(Exception):
    """A SOAP 1.1 Fault: HTTP status, faultcode (Client: the request; Server: this LAS) and a
    faultstring in Dutch, as the LAS's own helpdesk would word it."""

    def __init__(self, status: int, message: str, code: str = "Client"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def invalid(reason: str) -> Fault:
    return Fault(400, f"Ongeldig verzoek: {reason} Stuur een HaalLeerlinggegevens-verzoek "
                      "volgens UWLR 2.2.")


def key_fault(brin6: str) -> Fault:
    return Fault(500, f"Autorisatie mislukt: de autorisatiesleutel is onjuist of ingetrokken "
                      f"voor school {brin6}. Vraag een nieuwe autorisatiesleutel aan bij de "
                      "leerlingadministratie.")


def _envelope() -> tuple[etree._Element, etree._Element]:
    envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"soap": SOAP_NS})
    return envelope, etree.SubElement(envelope, f"{{{SOAP_NS}}}Body")


def fault_message(fault: Fault) -> bytes:
    envelope, body = _envelope()
    element = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    # faultcode and faultstring are unqualified (SOAP 1.1); the code is a QName.
    etree.SubElement(element, "faultcode").text = f"soap:{fault.code}"
    etree.SubElement(element, "faultstring").text = fault.message
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------------------------------
# The request
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    school_year: str
    brin6: str  # BRIN + dependancecode, or the schoolkey as given
    key: str | None  # None: no autorisatie header
    client_name: str


def _children(element: etree._Element, namespace: str, what: str) -> list[etree._Element]:
    children = [c for c in element if isinstance(c.tag, str)]
    for child in children:
        if etree.QName(child).namespace != namespace:
            raise invalid(f"<{etree.QName(child).localname}> in {what} hoort in de namespace "
                          f"{namespace}.")
    return children


def _values(children: list[etree._Element]) -> dict[str, str]:
    values = {}
    for child in children:
        name = etree.QName(child).localname
        text = child.text or ""
        if len(child) or not _VALUES[name].match(text):
            raise invalid(f"de waarde van <{name}> is niet geldig.")
        values[name] = text
    return values


def read_request(data: bytes) -> Request:
    """The HaalLeerlinggegevens request in `data`; Fault(400) when it is not one."""
    if not data.strip():
        raise invalid("het verzoek is leeg.")
    if re.search(rb"<!(DOCTYPE|ENTITY)", data[:4096], re.IGNORECASE):
        raise invalid("een DOCTYPE of ENTITY hoort niet in een SOAP-bericht.")
    try:
        root = etree.fromstring(data, parser=hardened_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise invalid("het verzoek is geen goed gevormde XML.") from None
    if root.getroottree().docinfo.doctype:
        raise invalid("een DOCTYPE hoort niet in een SOAP-bericht.")
    if root.tag == f"{{{SOAP12_NS}}}Envelope":
        raise Fault(400, "Deze dienst spreekt SOAP 1.1, niet SOAP 1.2.", "VersionMismatch")
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise invalid("het bericht is geen SOAP 1.1-envelop.")
    parts = [etree.QName(c).localname for c in _children(root, SOAP_NS, "de envelop")]
    if parts not in (["Body"], ["Header", "Body"]):
        raise invalid("de envelop moet een Body hebben, eventueel na een Header.")
    header = root.find(f"{{{SOAP_NS}}}Header")
    body = root.find(f"{{{SOAP_NS}}}Body")
    assert body is not None
    content = [c for c in body if isinstance(c.tag, str)]
    if len(content) != 1 or content[0].tag != f"{{{LG_NS}}}leerlinggegevens_verzoek":
        raise invalid("de Body moet precies één <leerlinggegevens_verzoek> bevatten.")
    children = _children(content[0], LG_NS, "<leerlinggegevens_verzoek>")
    if not _VERZOEK.match(" ".join(etree.QName(c).localname for c in children)):
        raise invalid("<leerlinggegevens_verzoek> bevat niet schooljaar, brincode (met "
                      "eventueel dependancecode) of schoolkey, en xsdversie, in die volgorde.")
    values = _values(children)
    brin6 = (values["brincode"] + values.get("dependancecode", "00") if "brincode" in values
             else values["schoolkey"])
    key, client_name = None, ""
    autorisatie = None if header is None else header.find(f"{{{AUT_NS}}}autorisatie")
    if autorisatie is not None:
        fields = _children(autorisatie, AUT_NS, "<autorisatie>")
        given = autorisatie.findtext(f"{{{AUT_NS}}}autorisatiesleutel")
        if not given or not given.strip():
            raise Fault(500, "Autorisatie mislukt: het verzoek bevat geen autorisatiesleutel.")
        if [etree.QName(c).localname for c in fields] != list(_AUTORISATIE):
            raise invalid("<autorisatie> bevat niet autorisatiesleutel, klantcode en "
                          "klantnaam, in die volgorde.")
        auth = _values(fields)
        key, client_name = auth["autorisatiesleutel"], auth["klantnaam"]
    return Request(values["schooljaar"], brin6, key, client_name)


# ---------------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------------
class Nights:
    """How often each school was answered: its next answer shows one night more."""

    def __init__(self, config: Config):
        self.config = config
        self.answered: dict[str, int] = {}
        self.lock = threading.Lock()

    def current(self, brin6: str) -> int:
        if self.config.fixed_night:
            return self.config.night
        with self.lock:
            return self.config.night + self.answered.get(brin6, 0)

    def answered_once(self, brin6: str) -> None:
        with self.lock:
            self.answered[brin6] = self.answered.get(brin6, 0) + 1


def answer(config: Config, nights: Nights, request: Request) -> bytes:
    """The leerlinggegevens_antwoord for an authorised request, or a Fault."""
    school = config.schools.get(request.brin6)
    if school is None:
        raise Fault(500, f"Onbekende school: {request.brin6} (brincode en dependancecode) is "
                         "niet bekend bij deze leerlingadministratie.")
    if request.key is None:
        raise Fault(500, "Autorisatie mislukt: het verzoek bevat geen autorisatiesleutel.")
    if not hmac.compare_digest(request.key.encode(), school.key.encode()):
        raise key_fault(school.brin6)
    night = nights.current(school.brin6)
    roster = leerlinggegevens(school.brin, school.dependancecode, school.pupils,
                              seed=config.seed, school_year=request.school_year, night=night,
                              created=dt.datetime.now())  # the LAS's local time
    envelope, body = _envelope()
    antwoord = etree.SubElement(body, f"{{{LG_NS}}}leerlinggegevens_antwoord",
                                nsmap={None: LG_NS})
    antwoord.append(roster)
    data = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    nights.answered_once(school.brin6)
    log.info("%s: %d leerlingen (nacht %d) voor %s", school.brin6, school.pupils, night,
             request.client_name)
    return data


def _soap_action_ok(value: str | None) -> bool:
    # SOAP 1.1 quotes the action; some clients do not, some send none.
    return value is None or value.strip().strip('"') in ("", SOAP_ACTION)


def take_results(config: Config, store: lr.ResultsStore, data: bytes) -> bytes:
    """The leerresultaten_bevestiging for an authorised message whose results are now held,
    or a fault (the school unknown, the key missing or wrong: as for Leerlinggegevens)."""
    message = lr.read_message(data)
    school = config.schools.get(message.brin6)
    if school is None:
        raise lr.ResultsFault(500, f"Onbekende school: {message.brin6} (brincode en "
                                   "dependancecode) is niet bekend bij deze "
                                   "leerlingadministratie.")
    lr.check_key(message.key, school.key, school.brin6)
    new = store.take(message)
    log.info("%s: %d resultaten (%d nieuw) van %s", school.brin6, len(message.results), new,
             message.client_name)
    return lr.confirmation()


def make_app(config: Config, results: lr.ResultsStore | None = None) -> WSGIApp:
    """The WSGI application of the LAS; `results` holds what arrives at the Leerresultaten
    service (a new, empty store when not given)."""
    nights = Nights(config)
    store = results if results is not None else lr.ResultsStore()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        content_type = "text/xml; charset=utf-8"
        try:
            if method in ("GET", "HEAD") and path == "/":
                status, content_type = "200 OK", "text/plain; charset=utf-8"
                body = (f"Voorbeeld-LAS: UWLR 2.2 Leerlinggegevens (HaalLeerlinggegevens, "
                        f"SOAP 1.1) op POST {config.path}, Leerresultaten "
                        f"(BrengLeerresultaten) op POST {config.results_path}, "
                        f"{_schools(len(config.schools))}.\n").encode()
            elif method in ("GET", "HEAD") and path == "/resultaten":
                status, content_type = "200 OK", "text/html; charset=utf-8"
                body = lr.page(store)
            elif method in ("GET", "HEAD") and path == "/resultaten.json":
                query = environ.get("QUERY_STRING", "")
                status, content_type = "200 OK", "application/json"
                body = json.dumps(store.counts(keys="keys=1" in query,
                                               digest="digest=1" in query)).encode()
            elif path == config.results_path:
                status, body = _results(config, store, environ, method)
            elif path != config.path:
                raise Fault(404, f"Hier is geen dienst; de dienst Leerlinggegevens staat op "
                                 f"{config.path}.")
            elif method != "POST":
                raise Fault(405, "Stuur het verzoek met POST.")
            else:
                if config.latency_ms:
                    time.sleep(config.latency_ms / 1000)
                if not _soap_action_ok(environ.get("HTTP_SOAPACTION")):
                    raise invalid("de SOAPAction is niet HaalLeerlinggegevens.")
                status, body = "200 OK", answer(config, nights, read_request(_body(environ)))
        except Fault as fault:
            status, body = _status(fault.status), fault_message(fault)
        except Exception:  # the LAS answers even its own mistakes with a SOAP Fault
            log.exception("HaalLeerlinggegevens failed")
            status, body = "500 Internal Server Error", fault_message(Fault(
                500, "Er ging iets mis in de leerlingadministratie. Probeer het later nog eens.",
                "Server"))
        log.debug("%s %s %s in %.0f ms", method, path, status,
                  (time.monotonic() - started) * 1000)
        start_response(status, [("Content-Type", content_type),
                                ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store")])
        return [b"" if method == "HEAD" else body]

    return app


def _results(config: Config, store: lr.ResultsStore, environ: dict[str, Any],
             method: str) -> tuple[str, bytes]:
    """POST /leerresultaten: the confirmation, or the fault as its HTTP status and body."""
    try:
        if method != "POST":
            raise lr.ResultsFault(405, "Stuur het bericht met POST.")
        if config.results_delay_ms:
            time.sleep(config.results_delay_ms / 1000)
        action = environ.get("HTTP_SOAPACTION")
        if action is not None and action.strip().strip('"') not in ("", lr.SOAP_ACTION):
            raise lr.invalid("de SOAPAction is niet BrengLeerresultaten.")
        return "200 OK", take_results(config, store,
                                      _body(environ, lr.MAX_MESSAGE_BYTES, lr.invalid))
    except Fault as fault:
        store.fault()
        return _status(fault.status), fault_message(fault)
    except lr.ResultsFault as fault:
        store.fault()
        return _status(fault.status), fault_message(Fault(fault.status, fault.message,
                                                          fault.code))


def _body(environ: dict[str, Any], limit: int = MAX_REQUEST_BYTES,
          bad: Callable[[str], Exception] | None = None) -> bytes:
    bad = bad or invalid
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("de Content-Length is geen getal.") from None
    if length > limit:
        # Read (and drop) a moderate excess, so the client gets to read the fault instead of
        # a connection reset while it is still sending.
        if length <= DRAIN_BYTES:
            environ["wsgi.input"].read(length)
        raise Fault(413, f"Het verzoek is te groot (meer dan {limit} bytes).")
    return bytes(environ["wsgi.input"].read(max(length, 0)))


def _schools(count: int) -> str:
    return f"{count} school" if count == 1 else f"{count} scholen"


def _status(code: int) -> str:
    reasons = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
               413: "Content Too Large", 500: "Internal Server Error"}
    return f"{code} {reasons.get(code, 'Error')}"


# ---------------------------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------------------------
class ThreadingServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so many fetches wait out the latency together; a long listen
    queue, so a burst of connections is queued instead of refused."""

    daemon_threads = True
    request_queue_size = 1024


class _QuietHandler(WSGIRequestHandler):
    timeout = 30  # a client that promises more bytes than it sends does not hold a thread
    def log_message(self, format: str, *args: Any) -> None:
        # The request line only: the key travels in the body and is never logged.
        log.debug("%s %s", self.address_string(), format % args)


def serve(config: Config, app: WSGIApp | None = None) -> ThreadingServer:
    """A threaded server for the LAS (not yet serving: call serve_forever)."""
    server = make_server(config.host, config.port, app or make_app(config),
                         server_class=ThreadingServer, handler_class=_QuietHandler)
    assert isinstance(server, ThreadingServer)
    return server


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="[las_app] %(message)s")
    config = Config.from_args(argv)
    with serve(config) as server:
        log.info("Voorbeeld-LAS op http://%s:%s%s: %s, %d ms vertraging per verzoek",
                 config.host, server.server_port, config.path, _schools(len(config.schools)),
                 config.latency_ms)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
