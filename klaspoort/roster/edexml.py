"""Reading an EDEXML roster file (versions 1.03, 2.0 and 2.1) into a validated roster.

The file is parsed with a hardened lxml parser: a DOCTYPE is refused before parsing (so no
entity, external DTD or "billion laughs" ever reaches libxml2), the parser itself resolves no
entities and touches no network, and the size is bounded. Every rule of the standard is checked
and every error is reported at once, with its line and a Dutch message a coordinator understands.

Fields Klaspoort has no use for (BSN and the other national numbers, postcode, countries,
ethnicity, weights, birth date, sex) are never read into the result: what leaves this module is
only what the roster needs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from lxml import etree

SUPPORTED_VERSIONS = ("1.03", "2.0", "2.1")
MAX_ERRORS = 200
MAX_BYTES = 20 * 1024 * 1024

JAARGROEPEN = frozenset(
    [str(n) for n in range(9)] + [str(n) for n in range(11, 17)] + list("BDSVCNH")
)
ROLE_CODES = frozenset(
    ["ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT", "SMW", "STA", "TAL", "VAK"]
)
BRIN_RE = re.compile(r"^[0-9]{2}[A-Z]{2}$")
DEPENDANCE_RE = re.compile(r"^[0-9]{2}$")
SCHOOLYEAR_RE = re.compile(r"^([0-9]{4})-([0-9]{4})$")
ECKID_RE = re.compile(r"^https://ketenid\.nl/201703/[0-9A-Fa-f]{128}$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATETIME_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


# ---------------------------------------------------------------------------------------------
# The validated roster: plain JSON-able data, stored as the import's payload while it waits.
# ---------------------------------------------------------------------------------------------
class SchoolData(TypedDict):
    brin: str
    dependancecode: str
    school_year: str


class GroupData(TypedDict):
    key: str
    kind: str  # "group" | "cluster"
    name: str
    jaargroep: str
    description: str


class PupilData(TypedDict):
    key: str
    eckid: str | None
    first_name: str
    prefix: str
    last_name: str
    jaargroep: str
    group: str | None
    clusters: list[str]


class TeacherGroupData(TypedDict):
    key: str
    roles: list[str]


class TeacherData(TypedDict):
    key: str
    eckid: str | None
    first_name: str
    prefix: str
    last_name: str
    email: str
    roles: list[str]
    groups: list[TeacherGroupData]


class RosterData(TypedDict):
    version: str
    school: SchoolData
    groups: list[GroupData]
    pupils: list[PupilData]
    teachers: list[TeacherData]


@dataclass(frozen=True)
class RosterError:
    line: int | None
    message: str

    def as_dict(self) -> dict[str, int | str | None]:
        return {"line": self.line, "message": self.message}


class RosterFileError(Exception):
    """The file is not a valid roster; nothing may change. Carries every error found."""

    def __init__(self, errors: Sequence[RosterError]):
        super().__init__("; ".join(e.message for e in errors[:3]))
        self.errors = list(errors)


# ---------------------------------------------------------------------------------------------
# Structure: the children each element may have, in order.
# A slot is (allowed names, minimum, maximum); names in one slot are alternatives.
# ---------------------------------------------------------------------------------------------
UNBOUNDED = 1_000_000_000
Slot = tuple[frozenset[str], int, int]


def _slots(*spec: tuple[str, int, int]) -> tuple[Slot, ...]:
    return tuple((frozenset(names.split("|")), lo, hi) for names, lo, hi in spec)


NAME_SLOTS = (
    ("achternaam", 0, 1),
    ("voorvoegsel", 0, 1),
    ("voornamen", 0, 1),
    ("voorletters-1", 0, 1),
    ("roepnaam", 0, 1),
)
STRUCTURE: dict[str, tuple[Slot, ...]] = {
    "EDEX": _slots(
        ("school", 1, 1),
        ("vestigingen", 0, 1),
        ("groepen", 0, 1),
        ("leerlingen", 1, 1),
        ("leerkrachten", 0, 1),
    ),
    "school": _slots(
        ("schooljaar", 1, 1),
        ("peildatum", 0, 1),
        ("brincode|instellingsnummer", 1, 1),
        ("dependancecode", 0, 1),
        ("schoolkey", 0, 1),
        ("aanmaakdatum", 0, 1),
        ("auteur", 0, 1),
        ("xsdversie", 0, 1),
        ("commentaar", 0, 1),
        ("toevoegingen", 0, 1),
    ),
    "groepen": _slots(("groep|samengestelde_groep", 0, UNBOUNDED)),
    "groep": _slots(
        ("naam", 1, 1),
        ("jaargroep", 1, 1),
        ("omschrijving", 0, 1),
        ("toevoegingen", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "samengestelde_groep": _slots(
        ("naam", 1, 1),
        ("omschrijving", 0, 1),
        ("toevoegingen", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "leerlingen": _slots(("leerling", 1, UNBOUNDED)),
    "leerling": _slots(
        *NAME_SLOTS,
        ("geboortedatum", 0, 1),
        ("geslacht", 0, 1),
        ("start_ondw_jgr3", 0, 1),
        ("jaargroep", 0, 1),
        ("groep", 0, 1),
        ("samengestelde_groepen", 0, 1),
        ("vestiging", 0, 1),
        ("gebruikersnaam", 0, 1),
        ("emailadres", 0, 1),
        ("fotourl", 0, 1),
        ("etniciteit", 0, 1),
        ("land", 0, 1),
        ("land_vader", 0, 1),
        ("land_moeder", 0, 1),
        ("sofinummer|bsn|onderwijsnummer|bsn_ondwnr-4|rijksregisternummer", 0, 1),
        ("gewicht_nieuw", 0, 1),
        ("gewicht", 0, 1),
        ("postcodenl|postnummerbe|postcodeoverig", 0, 1),
        ("instroomdatum", 0, 1),
        ("uitstroomdatum", 0, 1),
        ("toevoegingen", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "samengestelde_groepen": _slots(("samengestelde_groep", 1, UNBOUNDED)),
    "leerkrachten": _slots(("leerkracht", 0, UNBOUNDED)),
    "leerkracht": _slots(
        *NAME_SLOTS,
        ("gebruikersnaam", 0, 1),
        ("emailadres", 0, 1),
        ("rol|rolomschrijving", 0, UNBOUNDED),
        ("groepen", 0, 1),
        ("toevoegingen", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "leerkracht/groepen": _slots(("groep|samengestelde_groep", 0, UNBOUNDED)),
    "leerkracht/groepen/*": _slots(("rol|rolomschrijving", 0, UNBOUNDED)),
}

ELEMENT_NAMES_NL = {
    "EDEX": "EDEX (het hoofdelement)",
    "groep": "groep",
    "samengestelde_groep": "samengestelde groep",
    "leerling": "leerling",
    "leerkracht": "leerkracht",
}


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------
def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_PROLOG_DANGER = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def _prolog(data: bytes) -> bytes:
    """The bytes before the root element, in the encodings an EDEXML file may use."""
    # UTF-16 files carry NUL bytes between ASCII characters; fold them so the scan sees markup.
    head = data[:65536]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00<" in head[:8] or b"<\x00" in head[:8]:
        head = head.replace(b"\x00", b"")
    match = re.search(rb"<[A-Za-z_]", head)
    return head[: match.start()] if match else head


def parse_edexml(data: bytes) -> RosterData:
    """Parse and validate an EDEXML file; raise RosterFileError with every error found."""
    if len(data) > MAX_BYTES:
        raise RosterFileError(
            [RosterError(None, f"Het bestand is te groot ({len(data) // (1024 * 1024)} MB); "
                               f"het maximum is {MAX_BYTES // (1024 * 1024)} MB.")]
        )
    if not data.strip():
        raise RosterFileError([RosterError(None, "Het bestand is leeg.")])
    if _PROLOG_DANGER.search(_prolog(data)):
        raise RosterFileError(
            [RosterError(1, "Het bestand bevat een DOCTYPE- of ENTITY-declaratie. Die horen niet "
                            "in een EDEXML-bestand en worden om veiligheidsredenen geweigerd.")]
        )
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise RosterFileError([_syntax_error(exc)]) from None
    if root.getroottree().docinfo.doctype:
        raise RosterFileError(
            [RosterError(1, "Het bestand bevat een DOCTYPE-declaratie; die wordt geweigerd.")]
        )
    return _Reader().read(root)


def _syntax_error(exc: etree.XMLSyntaxError) -> RosterError:
    text = str(exc)
    line = exc.lineno if exc.lineno and exc.lineno > 0 else None
    lowered = text.lower()
    if "premature end" in lowered or "end of data" in lowered or "not closed" in lowered:
        message = ("Het bestand is onvolledig: het houdt op voordat alle elementen zijn "
                   "afgesloten. Maak de export in het LAS opnieuw aan.")
    elif "not proper utf-8" in lowered or "encoding" in lowered:
        message = ("De tekens in het bestand passen niet bij de tekenset in de XML-declaratie "
                   "(UTF-8 of ISO-8859-1). Sla het bestand opnieuw op vanuit het LAS.")
    elif "start tag expected" in lowered or "document is empty" in lowered:
        message = "Dit is geen XML-bestand. Kies het EDEXML-bestand dat het LAS heeft gemaakt."
    else:
        message = "Het bestand is geen geldig XML-bestand."
    return RosterError(line, f"{message} (technische melding: {text})")


def _text(el: etree._Element | None) -> str:
    if el is None or el.text is None:
        return ""
    return el.text.strip()


@dataclass
class _Reader:
    errors: list[RosterError] = field(default_factory=list)

    def error(self, el: etree._Element | None, message: str) -> None:
        line = el.sourceline if el is not None else None
        self.errors.append(RosterError(line, message))

    # -- structure ------------------------------------------------------------------------------
    def check_children(self, el: etree._Element, slots_key: str, what: str) -> dict[str, list]:
        """Check order, occurrence and names of el's children; return them by name."""
        slots = STRUCTURE[slots_key]
        found: dict[str, list] = {}
        counts = [0] * len(slots)
        position = 0
        for child in el:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname if "}" in child.tag else child.tag
            index = next((i for i, s in enumerate(slots) if name in s[0]), None)
            if index is None:
                self.error(child, f"Onbekend element <{name}> in {what}.")
                continue
            if index < position:
                self.error(child, f"Element <{name}> staat op de verkeerde plaats in {what}.")
            position = max(position, index)
            counts[index] += 1
            if counts[index] > slots[index][2]:
                self.error(child, f"Element <{name}> komt te vaak voor in {what}.")
            found.setdefault(name, []).append(child)
        for (names, minimum, _maximum), count in zip(slots, counts, strict=True):
            if count < minimum:
                shown = " of ".join(f"<{n}>" for n in sorted(names))
                self.error(el, f"Verplicht element {shown} ontbreekt in {what}.")
        return found

    def key(self, el: etree._Element, what: str) -> str | None:
        value = el.get("key")
        if value is None or not value.strip():
            self.error(el, f"{what} heeft geen key-attribuut.")
            return None
        if len(value) > 256:
            self.error(el, f"De key van {what} is langer dan 256 tekens.")
            return None
        return value

    def one(self, found: dict[str, list], name: str) -> str:
        return _text(found[name][0]) if name in found else ""

    def bounded(self, found: dict[str, list], name: str, limit: int, what: str) -> str:
        value = self.one(found, name)
        if len(value) > limit:
            self.error(found[name][0], f"<{name}> van {what} is langer dan {limit} tekens.")
            return value[:limit]
        return value

    def date(self, found: dict[str, list], name: str, what: str) -> None:
        """Check a date's format; the value itself is not kept."""
        if name not in found:
            return
        value = _text(found[name][0])
        try:
            if not DATE_RE.match(value):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            self.error(found[name][0], f"<{name}> van {what} is geen geldige datum "
                                       f"(verwacht JJJJ-MM-DD): '{value[:40]}'.")

    # -- the file -------------------------------------------------------------------------------
    def read(self, root: etree._Element) -> RosterData:
        if root.tag != "EDEX":
            raise RosterFileError([RosterError(
                root.sourceline,
                f"Dit is geen EDEXML-bestand: het hoofdelement heet <{root.tag}> in plaats van "
                "<EDEX>.",
            )])
        top = self.check_children(root, "EDEX", "het bestand")
        school, version = self.read_school(top["school"][0]) if "school" in top else (None, "")
        vestigingen = self.read_vestigingen(top.get("vestigingen", []))
        groups = self.read_groups(top["groepen"][0]) if "groepen" in top else []
        group_kinds = {g["key"]: g["kind"] for g in groups}
        pupils = self.read_pupils(top.get("leerlingen", []), group_kinds, vestigingen)
        teachers = self.read_teachers(top.get("leerkrachten", []), group_kinds)
        if self.errors or school is None:
            self.errors.sort(key=lambda e: (e.line or 0))
            if len(self.errors) > MAX_ERRORS:
                extra = len(self.errors) - MAX_ERRORS
                self.errors = [*self.errors[:MAX_ERRORS],
                               RosterError(None, f"… en nog {extra} fouten.")]
            raise RosterFileError(self.errors)
        # Pupils without their own jaargroep take their group's, so every pupil has one where
        # the file says it (licences are linked by year group).
        group_year = {g["key"]: g["jaargroep"] for g in groups}
        for pupil in pupils:
            if not pupil["jaargroep"] and pupil["group"]:
                pupil["jaargroep"] = group_year.get(pupil["group"], "")
        return {"version": version, "school": school, "groups": groups, "pupils": pupils,
                "teachers": teachers}

    def read_school(self, el: etree._Element) -> tuple[SchoolData | None, str]:
        found = self.check_children(el, "school", "<school>")
        version = self.one(found, "xsdversie") or "2.1"
        if version not in SUPPORTED_VERSIONS and not any(
            version.startswith(v + ".") for v in SUPPORTED_VERSIONS
        ):
            self.error(found["xsdversie"][0],
                       f"EDEXML-versie '{version[:20]}' wordt niet ondersteund; Klaspoort leest "
                       f"versie {', '.join(SUPPORTED_VERSIONS)}.")
        year = self.one(found, "schooljaar")
        match = SCHOOLYEAR_RE.match(year)
        if "schooljaar" in found and not (match and int(match[2]) == int(match[1]) + 1):
            self.error(found["schooljaar"][0],
                       f"Schooljaar '{year[:20]}' is ongeldig; verwacht twee opeenvolgende jaren, "
                       "bijvoorbeeld 2025-2026.")
        self.date(found, "peildatum", "de school")
        if "aanmaakdatum" in found and not DATETIME_RE.match(self.one(found, "aanmaakdatum")):
            self.error(found["aanmaakdatum"][0], "<aanmaakdatum> is geen geldige datum en tijd.")
        if "instellingsnummer" in found:
            self.error(found["instellingsnummer"][0],
                       "Dit bestand gebruikt een Vlaams instellingsnummer; Klaspoort werkt met "
                       "Nederlandse BRIN-codes.")
            return None, version
        brin = self.one(found, "brincode")
        if "brincode" in found and not BRIN_RE.match(brin):
            self.error(found["brincode"][0],
                       f"BRIN-code '{brin[:20]}' is ongeldig; een BRIN-code is twee cijfers en "
                       "twee hoofdletters, bijvoorbeeld 12AB.")
            return None, version
        dep = self.one(found, "dependancecode") or "00"
        if not DEPENDANCE_RE.match(dep):
            self.error(found["dependancecode"][0],
                       f"Dependancecode '{dep[:20]}' is ongeldig; verwacht twee cijfers.")
            return None, version
        if "brincode" not in found:
            return None, version
        return {"brin": brin, "dependancecode": dep, "school_year": year}, version

    def read_vestigingen(self, containers: list) -> set[str]:
        keys: set[str] = set()
        for container in containers:
            for child in container:
                if not isinstance(child.tag, str):
                    continue
                if child.tag != "vestiging":
                    self.error(child, f"Onbekend element <{child.tag}> in <vestigingen>.")
                    continue
                key = self.key(child, "Vestiging")
                if key is not None:
                    if key in keys:
                        self.error(child, f"Vestiging-key '{key}' komt twee keer voor.")
                    keys.add(key)
        return keys

    def read_groups(self, container: etree._Element) -> list[GroupData]:
        found = self.check_children(container, "groepen", "<groepen>")
        elements = sorted(
            found.get("groep", []) + found.get("samengestelde_groep", []),
            key=lambda e: e.sourceline or 0,
        )
        groups: list[GroupData] = []
        seen: dict[str, int | None] = {}
        for el in elements:
            is_cluster = el.tag == "samengestelde_groep"
            what = "een samengestelde groep" if is_cluster else "een groep"
            key = self.key(el, "Samengestelde groep" if is_cluster else "Groep")
            children = self.check_children(el, el.tag, f"<{el.tag}>")
            if key is None:
                continue
            if key in seen:
                self.error(el, f"Groep-key '{key}' komt meer dan één keer voor (eerder op regel "
                               f"{seen[key]}); keys van groepen en samengestelde groepen moeten "
                               "uniek zijn.")
                continue
            seen[key] = el.sourceline
            name = self.bounded(children, "naam", 64, what)
            jaargroep = ""
            if not is_cluster:
                jaargroep = self.one(children, "jaargroep")
                if "jaargroep" in children and jaargroep not in JAARGROEPEN:
                    self.error(children["jaargroep"][0],
                               f"Jaargroep '{jaargroep[:10]}' van groep '{name}' is ongeldig; "
                               "toegestaan zijn 0 t/m 8, 11 t/m 16 en B, C, D, H, N, S, V.")
            self.date(children, "mutatiedatum", what)
            groups.append({
                "key": key,
                "kind": "cluster" if is_cluster else "group",
                "name": name,
                "jaargroep": jaargroep,
                "description": self.bounded(children, "omschrijving", 200, what),
            })
        return groups

    def read_names(self, children: dict[str, list], el: etree._Element, what: str
                   ) -> tuple[str, str, str]:
        """The name choice: (achternaam, …) or only roepnaam; first name = roepnaam or the
        first of voornamen."""
        last = self.bounded(children, "achternaam", 200, what)
        prefix = self.bounded(children, "voorvoegsel", 10, what)
        given = self.one(children, "voornamen")
        call = self.bounded(children, "roepnaam", 100, what)
        if "achternaam" not in children:
            if not call:
                self.error(el, f"{what} heeft geen naam: <achternaam> of <roepnaam> is verplicht.")
            for name in ("voorvoegsel", "voornamen", "voorletters-1"):
                if name in children:
                    self.error(children[name][0],
                               f"<{name}> mag alleen samen met <achternaam> voorkomen.")
        elif not last:
            self.error(children["achternaam"][0], f"<achternaam> van {what} is leeg.")
        first = call or (given.split()[0] if given.split() else "")
        if not first and last:
            first = self.one(children, "voorletters-1")
        return first[:100], prefix, last

    def read_eckid(self, el: etree._Element, what: str, seen: dict[str, int | None]
                   ) -> str | None:
        eckid = el.get("eckid")
        if eckid is None or eckid == "":
            return None
        if not ECKID_RE.match(eckid):
            # The value itself is a pseudonym and is never echoed back.
            self.error(el, f"Het ECK iD van {what} heeft niet de juiste vorm "
                           "(https://ketenid.nl/201703/ gevolgd door 128 hexadecimale tekens).")
            return None
        if eckid in seen:
            self.error(el, f"Het ECK iD van {what} komt ook voor op regel {seen[eckid]}; "
                           "een ECK iD moet uniek zijn.")
            return None
        seen[eckid] = el.sourceline
        return eckid

    def read_pupils(self, containers: list, group_kinds: dict[str, str],
                    vestigingen: set[str]) -> list[PupilData]:
        pupils: list[PupilData] = []
        seen_keys: dict[str, int | None] = {}
        seen_eckids: dict[str, int | None] = {}
        for container in containers:
            found = self.check_children(container, "leerlingen", "<leerlingen>")
            for el in found.get("leerling", []):
                key = self.key(el, "Leerling")
                what = f"leerling '{key}'" if key else "een leerling"
                children = self.check_children(el, "leerling", f"<leerling> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                jaargroep = self.one(children, "jaargroep")
                if "jaargroep" in children and jaargroep not in JAARGROEPEN:
                    self.error(children["jaargroep"][0],
                               f"Jaargroep '{jaargroep[:10]}' van {what} is ongeldig.")
                for date_field in ("geboortedatum", "instroomdatum", "uitstroomdatum",
                                   "mutatiedatum"):
                    self.date(children, date_field, what)
                if "geslacht" in children and self.one(children, "geslacht") not in {
                        "0", "1", "2", "9"}:
                    self.error(children["geslacht"][0],
                               f"<geslacht> van {what} moet 0, 1, 2 of 9 zijn.")
                if "emailadres" in children:
                    self.email(children, what)
                group = self.reference(children, "groep", "group", group_kinds, what)
                clusters: list[str] = []
                if "samengestelde_groepen" in children:
                    box = children["samengestelde_groepen"][0]
                    refs = self.check_children(box, "samengestelde_groepen",
                                               "<samengestelde_groepen>")
                    for ref in refs.get("samengestelde_groep", []):
                        cluster = self.resolve(ref, "cluster", group_kinds, what)
                        if cluster and cluster not in clusters:
                            clusters.append(cluster)
                if "vestiging" in children:
                    ref_key = children["vestiging"][0].get("key")
                    if ref_key not in vestigingen:
                        self.error(children["vestiging"][0],
                                   f"{what.capitalize()} verwijst naar vestiging '{ref_key}', "
                                   "maar die staat niet in <vestigingen>.")
                if key is None:
                    continue
                if key in seen_keys:
                    self.error(el, f"Leerling-key '{key}' komt meer dan één keer voor (eerder op "
                                   f"regel {seen_keys[key]}).")
                    continue
                seen_keys[key] = el.sourceline
                pupils.append({
                    "key": key, "eckid": eckid, "first_name": first, "prefix": prefix,
                    "last_name": last, "jaargroep": jaargroep, "group": group,
                    "clusters": clusters,
                })
        return pupils

    def email(self, children: dict[str, list], what: str) -> str:
        value = self.one(children, "emailadres")
        if not value:
            return ""
        try:
            validate_email(value)
        except ValidationError:
            self.error(children["emailadres"][0],
                       f"E-mailadres '{value[:80]}' van {what} is ongeldig.")
            return ""
        return value.lower()

    def resolve(self, ref: etree._Element, kind: str, group_kinds: dict[str, str], what: str
                ) -> str | None:
        ref_key = ref.get("key")
        label = "samengestelde groep" if kind == "cluster" else "groep"
        if not ref_key:
            self.error(ref, f"De verwijzing naar een {label} van {what} heeft geen key.")
            return None
        if group_kinds.get(ref_key) != kind:
            self.error(ref, f"{what.capitalize()} verwijst naar {label} '{ref_key}', maar die "
                            f"{label} staat niet in <groepen>.")
            return None
        return ref_key

    def reference(self, children: dict[str, list], name: str, kind: str,
                  group_kinds: dict[str, str], what: str) -> str | None:
        if name not in children:
            return None
        return self.resolve(children[name][0], kind, group_kinds, what)

    def roles(self, elements: Iterable[etree._Element], what: str) -> list[str]:
        roles: list[str] = []
        for el in elements:
            if el.tag != "rol":
                continue  # rolomschrijving is free text for humans; not kept
            code = _text(el)
            if code not in ROLE_CODES:
                self.error(el, f"Onbekende rol '{code[:20]}' bij {what}; toegestaan zijn "
                               f"{', '.join(sorted(ROLE_CODES))}.")
            elif code not in roles:
                roles.append(code)
        return roles

    def read_teachers(self, containers: list, group_kinds: dict[str, str]) -> list[TeacherData]:
        teachers: list[TeacherData] = []
        seen_keys: dict[str, int | None] = {}
        seen_eckids: dict[str, int | None] = {}
        for container in containers:
            found = self.check_children(container, "leerkrachten", "<leerkrachten>")
            for el in found.get("leerkracht", []):
                key = self.key(el, "Leerkracht")
                what = f"leerkracht '{key}'" if key else "een leerkracht"
                children = self.check_children(el, "leerkracht", f"<leerkracht> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                email = self.email(children, what) if "emailadres" in children else ""
                self.date(children, "mutatiedatum", what)
                roles = self.roles(children.get("rol", []), what)
                groups: list[TeacherGroupData] = []
                if "groepen" in children:
                    refs = self.check_children(children["groepen"][0], "leerkracht/groepen",
                                               "<groepen> van een leerkracht")
                    for ref in sorted(refs.get("groep", []) + refs.get("samengestelde_groep", []),
                                      key=lambda e: e.sourceline or 0):
                        kind = "cluster" if ref.tag == "samengestelde_groep" else "group"
                        self.check_children(ref, "leerkracht/groepen/*", f"<{ref.tag}>")
                        group_key = self.resolve(ref, kind, group_kinds, what)
                        if group_key and all(g["key"] != group_key for g in groups):
                            groups.append({"key": group_key,
                                           "roles": self.roles(list(ref), what)})
                if key is None:
                    continue
                if key in seen_keys:
                    self.error(el, f"Leerkracht-key '{key}' komt meer dan één keer voor (eerder "
                                   f"op regel {seen_keys[key]}).")
                    continue
                seen_keys[key] = el.sourceline
                teachers.append({
                    "key": key, "eckid": eckid, "first_name": first, "prefix": prefix,
                    "last_name": last, "email": email, "roles": roles, "groups": groups,
                })
        return teachers
