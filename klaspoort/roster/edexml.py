"""Reading an EDEXML roster file (versions 1.03, 2.0 and 2.1) into a validated roster.

The file is parsed with a hardened lxml parser: a DOCTYPE is refused before parsing (so no
entity, external DTD or "billion laughs" ever reaches libxml2), the parser itself resolves no
entities and touches no network, and the size is bounded. Every rule of the standard is checked
and every error is reported at once (up to MAX_ERRORS), with its line and a message a
coordinator understands, in the active language (Dutch unless the user chose English).

One reader serves the three versions: 1.03 and 2.0 are subsets of 2.1 with the same element
order (1.03 lets a pupil carry either a group or a year group; 2.x allows both), so a file is
read by the 2.1 rules and `<xsdversie>` only says which version it claims to be.

Decisions where the standard is stricter than real files need:
- an optional text element that is present but empty (`<voorvoegsel/>`) counts as absent;
- `<schooljaar>` accepts any two consecutive years (the published schema stops at 2024-2025);
- a `<groepen>` description longer than the 200 characters Klaspoort keeps is cut, not refused.

Privacy: fields Klaspoort has no use for (BSN and the other national numbers, postcode,
countries, ethnicity, weights, birth date, sex, user names, photos) are never read into the
result, and their values are never checked, so they never appear in an error message either.
Error messages show no ECK iD, and mask any value that looks like one or like a BSN.

Messages: English msgids, Dutch in the catalogue. Element names such as <leerling> are names of
the EDEXML format and stay as they are in every language. Many messages name the thing they are
about with a phrase (`what`: "a pupil", "pupil 'L1'", "the school") that is translated on its own
and put into the sentence as %(what)s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

SUPPORTED_VERSIONS = ("1.03", "2.0", "2.1")
# How a version may be written in <xsdversie>; the canonical form is what an import records.
_VERSION_ALIASES = {
    "1.03": "1.03", "1.0.3": "1.03", "1.3": "1.03",
    "2.0": "2.0", "2": "2.0", "2.00": "2.0", "2.0.0": "2.0",
    "2.1": "2.1", "2.10": "2.1", "2.1.0": "2.1",
}
MAX_ERRORS = 200
MAX_BYTES = 20 * 1024 * 1024

JAARGROEPEN = frozenset(
    [str(n) for n in range(9)] + [str(n) for n in range(11, 17)] + list("BDSVCNH")
)
ROLE_CODES = frozenset(
    ["ADJ", "ADM", "CON", "DIR", "ICT", "IB", "KLA", "LRK", "LOS", "LOC", "OWA", "OUD", "RT",
     "SMW", "STA", "TAL", "VAK"]
)
BRIN_RE = re.compile(r"^[0-9]{2}[A-Z]{2}$")
DEPENDANCE_RE = re.compile(r"^[0-9]{2}$")
SCHOOLYEAR_RE = re.compile(r"^([0-9]{4})-([0-9]{4})$")
ECKID_RE = re.compile(r"^https://ketenid\.nl/201703/[0-9A-Fa-f]{128}$")
DATE_RE = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?$")
DATETIME_RE = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2}:[0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
# A value an error message must not repeat: an ECK iD, or a number shaped like a BSN or
# onderwijsnummer (8 or 9 digits).
_SECRET_RE = re.compile(r"ketenid|^[0-9]{8,9}$", re.IGNORECASE)
# Description length Klaspoort keeps (Group.description); the standard allows 256.
DESCRIPTION_KEPT = 200


def max_bytes() -> int:
    """The largest roster file accepted: the upload limit of the settings, else MAX_BYTES."""
    return int(getattr(settings, "ROSTER_MAX_UPLOAD_BYTES", MAX_BYTES))


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


class MessageData(TypedDict):
    """An error or warning about a file: its line (None for the file as a whole), Dutch text."""

    line: int | None
    message: str


class LeftPupilData(TypedDict):
    """A pupil the file lists who is not (or no longer) at the school: jaargroep H, or a
    leaving date before the file's reference date. Such a pupil gets no sign-in; one who was
    active is deactivated. Only what the preview shows is kept."""

    key: str
    first_name: str
    prefix: str
    last_name: str
    reason: str  # "historical" | "left"


class RosterData(TypedDict):
    version: str
    school: SchoolData
    groups: list[GroupData]
    pupils: list[PupilData]
    teachers: list[TeacherData]
    left_pupils: NotRequired[list[LeftPupilData]]
    # What the reader accepted but dropped or corrected; receive_roster_file moves these to
    # the import's own `warnings`, so the stored roster never carries them.
    warnings: NotRequired[list[MessageData]]


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


def shown(value: str | None, limit: int = 40) -> str:
    """A value from the file as an error message may quote it: short, and never an ECK iD or
    anything shaped like a BSN (those are replaced by a placeholder)."""
    if value is None:
        return ""
    value = value.strip()
    if _SECRET_RE.search(value):
        return _("(value not shown)")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def cap_errors(errors: list[RosterError]) -> list[RosterError]:
    """Errors in file order, at most MAX_ERRORS and a last line saying how many were left out."""
    errors = sorted(errors, key=lambda e: e.line or 0)
    if len(errors) > MAX_ERRORS:
        extra = len(errors) - MAX_ERRORS
        errors = [*errors[:MAX_ERRORS], RosterError(None, ngettext(
            "… and %(count)s more error. First correct the errors above, then try again.",
            "… and %(count)s more errors. First correct the errors above, then try again.",
            extra) % {"count": extra})]
    return errors


def too_large_error() -> RosterError:
    limit_mb = max_bytes() // (1024 * 1024)
    return RosterError(None, _(
        "The file is too large: the maximum is %(limit)s MB. An EDEXML file of one school is "
        "much smaller; check that you chose the right file.") % {"limit": limit_mb})


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
    "vestigingen": _slots(("vestiging", 1, UNBOUNDED)),
    "vestiging": _slots(
        ("naam", 1, 1),
        ("omschrijving", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "groepen": _slots(("groep|samengestelde_groep", 1, UNBOUNDED)),
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
    "leerkrachten": _slots(("leerkracht", 1, UNBOUNDED)),
    "leerkracht": _slots(
        *NAME_SLOTS,
        ("gebruikersnaam", 0, 1),
        ("emailadres", 0, 1),
        ("rol|rolomschrijving", 0, UNBOUNDED),
        ("groepen", 0, 1),
        ("toevoegingen", 0, 1),
        ("mutatiedatum", 0, 1),
    ),
    "leerkracht/groepen": _slots(("groep|samengestelde_groep", 1, UNBOUNDED)),
    "leerkracht/groepen/*": _slots(("rol|rolomschrijving", 0, UNBOUNDED)),
}
# name -> slot index, per structure: looked up for every element of a large file.
_SLOT_INDEX = {
    key: {name: i for i, (names, _lo, _hi) in enumerate(slots) for name in names}
    for key, slots in STRUCTURE.items()
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


def _doctype_error() -> RosterFileError:
    return RosterFileError([RosterError(1, _(
        "The file contains a DOCTYPE or ENTITY declaration. These do not belong in an EDEXML "
        "file and are refused for security reasons. Export the file from the pupil "
        "administration system (LAS) again."))])


def parse_edexml(data: bytes) -> RosterData:
    """Parse and validate an EDEXML file; raise RosterFileError with every error found."""
    if len(data) > max_bytes():
        raise RosterFileError([too_large_error()])
    if not data.strip():
        raise RosterFileError([RosterError(None, _("The file is empty."))])
    if _PROLOG_DANGER.search(_prolog(data)):
        raise _doctype_error()
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise RosterFileError([_syntax_error(exc, data)]) from None
    if root.getroottree().docinfo.doctype:
        raise _doctype_error()
    return _Reader().read(root)


_TECHNICAL_TAIL = re.compile(r",? ?\(<string>, line [0-9]+\)$")
_TECHNICAL_BYTES = re.compile(r"Bytes?:.*$", re.IGNORECASE)
_TECHNICAL_SECRET = re.compile(r"\S*ketenid\S*|(?<![0-9])[0-9]{8,9}(?![0-9])", re.IGNORECASE)


def _syntax_error(exc: etree.XMLSyntaxError, data: bytes) -> RosterError:
    text = str(exc)
    line = exc.lineno if exc.lineno and exc.lineno > 0 else None
    lowered = text.lower()
    truncated = ("premature end", "end of data", "not closed", "endtag: '</' not found")
    # A file cut off inside a tag fails on its last line, which does not end a tag.
    cut_in_tag = line is not None and line >= data.count(b"\n") + 1 \
        and not data.rstrip().endswith(b">")
    if "start tag expected" in lowered or "document is empty" in lowered:
        message = _("This is not an XML file. Choose the EDEXML file that the pupil "
                    "administration system (LAS) created (usually a file whose name ends in "
                    ".xml).")
    elif cut_in_tag or any(marker in lowered for marker in truncated):
        message = _("The file is incomplete: it stops before all elements are closed. Perhaps "
                    "the download or copy was interrupted; export the file from the pupil "
                    "administration system (LAS) again.")
    elif "utf-8" in lowered or "encoding" in lowered:
        message = _("The characters in the file do not match the character set in the XML "
                    "declaration (UTF-8 or ISO-8859-1). Save the file from the pupil "
                    "administration system (LAS) again.")
    else:
        message = _("The file is not valid XML; there is a mistake in its structure. Export "
                    "the file from the pupil administration system (LAS) again.")
    # libxml2's own words help the helpdesk. They name tags rather than values, but the byte
    # dump of an encoding error is cut off, and anything shaped like an ECK iD or BSN masked.
    technical = _TECHNICAL_BYTES.sub("", _TECHNICAL_TAIL.sub("", text)).strip(" ,")
    technical = _TECHNICAL_SECRET.sub("…", technical)
    # Translators: %(technical)s is the XML library's own (English) description of the error.
    return RosterError(line, _("%(message)s (technical message: %(technical)s)")
                       % {"message": message, "technical": technical})


def _text(el: etree._Element | None) -> str:
    if el is None or el.text is None:
        return ""
    return el.text.strip()


def _date_ok(value: str) -> bool:
    match = DATE_RE.match(value)
    if not match:
        return False
    try:
        dt.date.fromisoformat(match[1])
    except ValueError:
        return False
    return True


def _datetime_ok(value: str) -> bool:
    match = DATETIME_RE.match(value)
    if not match:
        return False
    try:
        dt.date.fromisoformat(match[1])
        dt.time.fromisoformat(match[2])
    except ValueError:
        return False
    return True


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
        index_of = _SLOT_INDEX[slots_key]
        found: dict[str, list] = {}
        counts = [0] * len(slots)
        position = 0
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            index = index_of.get(tag)
            if index is None:
                name = etree.QName(child).localname if tag.startswith("{") else tag
                self.error(child, _("Unknown element <%(name)s> in %(what)s; the EDEXML standard "
                                    "does not allow it there.") % {"name": name, "what": what})
                continue
            if index < position:
                self.error(child, _("Element <%(name)s> is in the wrong place in %(what)s (the "
                                    "standard prescribes the order of the elements).")
                           % {"name": tag, "what": what})
            elif index > position:
                position = index
            counts[index] += 1
            if counts[index] > slots[index][2]:
                self.error(child, _("Element <%(name)s> occurs too often in %(what)s; it may "
                                    "appear only once.") % {"name": tag, "what": what})
            found.setdefault(tag, []).append(child)
        for (names, minimum, _maximum), count in zip(slots, counts, strict=True):
            if count < minimum:
                alternatives = [f"<{n}>" for n in sorted(names)]
                shown_names = alternatives[0]
                for other in alternatives[1:]:
                    # Translators: two alternative element names, e.g. "<groep> or
                    # <samengestelde_groep>".
                    shown_names = _("%(one)s or %(other)s") % {"one": shown_names,
                                                                "other": other}
                self.error(el, _("Required element %(name)s is missing from %(what)s.")
                           % {"name": shown_names, "what": what})
        return found

    def key(self, el: etree._Element, what: str) -> str | None:
        value = el.get("key")
        if value is None or not value.strip():
            # Translators: %(what)s begins the sentence, e.g. "A pupil" or "Pupil 'L1'".
            self.error(el, _("%(what)s has no key (the required attribute key=\"…\" is missing "
                             "or empty).") % {"what": _upper_first(what)})
            return None
        if len(value) > 256:
            self.error(el, _("The key of %(what)s is longer than %(limit)s characters.")
                       % {"what": what, "limit": 256})
            return None
        return value

    def one(self, found: dict[str, list], name: str) -> str:
        return _text(found[name][0]) if name in found else ""

    def bounded(self, found: dict[str, list], name: str, limit: int, what: str) -> str:
        value = self.one(found, name)
        if len(value) > limit:
            self.error(found[name][0], _("<%(name)s> of %(what)s is longer than %(limit)s "
                                         "characters.")
                       % {"name": name, "what": what, "limit": limit})
            return value[:limit]
        return value

    def date(self, found: dict[str, list], name: str, what: str) -> None:
        """Check a date's format (xs:date); the value itself is not kept."""
        if name in found and not _date_ok(_text(found[name][0])):
            self.error(found[name][0], _("<%(name)s> of %(what)s is not a valid date (expected "
                                         "YYYY-MM-DD): '%(value)s'.")
                       % {"name": name, "what": what, "value": shown(_text(found[name][0]))})

    def datetime(self, found: dict[str, list], name: str, what: str) -> None:
        """Check a date-and-time's format (xs:dateTime); the value itself is not kept."""
        if name in found and not _datetime_ok(_text(found[name][0])):
            self.error(found[name][0],
                       _("<%(name)s> of %(what)s is not a valid date and time (expected "
                         "YYYY-MM-DDThh:mm:ss): '%(value)s'.")
                       % {"name": name, "what": what, "value": shown(_text(found[name][0]))})

    # -- the file -------------------------------------------------------------------------------
    def read(self, root: etree._Element) -> RosterData:
        if root.tag != "EDEX":
            name = etree.QName(root).localname
            if name == "EDEX":
                message = _("This is not an EDEXML file: the root element <EDEX> has a "
                            "namespace, which the standard does not allow. Choose the EDEXML "
                            "file that the pupil administration system (LAS) created.")
            else:
                message = _("This is not an EDEXML file: the root element is called <%(name)s> "
                            "instead of <EDEX>. Choose the EDEXML file that the pupil "
                            "administration system (LAS) created.") % {"name": shown(name)}
            raise RosterFileError([RosterError(root.sourceline, message)])
        top = self.check_children(root, "EDEX", _("the file"))
        school, version = self.read_school(top["school"][0]) if "school" in top else (None, "")
        vestigingen = self.read_vestigingen(top.get("vestigingen", []))
        groups = self.read_groups(top["groepen"][0]) if "groepen" in top else []
        group_kinds = {g["key"]: g["kind"] for g in groups}
        pupils = self.read_pupils(top.get("leerlingen", []), group_kinds, vestigingen)
        teachers = self.read_teachers(top.get("leerkrachten", []), group_kinds)
        if school is None and not self.errors:
            self.errors.append(RosterError(None, _("The file names no school (BRIN code).")))
        if self.errors or school is None:
            raise RosterFileError(cap_errors(self.errors))
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
        written = self.one(found, "xsdversie")
        version = _VERSION_ALIASES.get(written or "2.1", "")
        if not version:
            # Later revisions of a supported version (e.g. 2.1.1) keep its structure.
            version = next((v for v in SUPPORTED_VERSIONS if written.startswith(v + ".")), "")
        if not version:
            self.error(found["xsdversie"][0],
                       _("EDEXML version '%(version)s' is not supported; Klaspoort reads versions "
                         "%(versions)s. In the pupil administration system (LAS), choose an "
                         "export in EDEXML 2.1.")
                       % {"version": shown(written, 20), "versions": ", ".join(SUPPORTED_VERSIONS)})
        year = self.one(found, "schooljaar")
        match = SCHOOLYEAR_RE.match(year)
        if "schooljaar" in found and not (match and int(match[2]) == int(match[1]) + 1):
            self.error(found["schooljaar"][0],
                       _("School year '%(year)s' is invalid; expected two consecutive years, for "
                         "example 2025-2026.") % {"year": shown(year, 20)})
            match = None
        the_school = _("the school")
        self.date(found, "peildatum", the_school)
        self.datetime(found, "aanmaakdatum", the_school)
        self.bounded(found, "auteur", 128, the_school)
        if "instellingsnummer" in found:
            self.error(found["instellingsnummer"][0],
                       _("This file uses a Flemish institution number; Klaspoort works with "
                         "Dutch BRIN codes."))
        ok = match is not None and bool(version)
        brin = self.one(found, "brincode")
        if "brincode" in found and not BRIN_RE.match(brin):
            self.error(found["brincode"][0],
                       _("BRIN code '%(brin)s' is invalid; a BRIN code is two digits and two "
                         "capital letters, for example 12AB.") % {"brin": shown(brin, 20)})
            ok = False
        dep = self.one(found, "dependancecode") or "00"
        if not DEPENDANCE_RE.match(dep):
            self.error(found["dependancecode"][0],
                       _("Location code (dependancecode) '%(code)s' is invalid; expected two "
                         "digits, for example 00 or 01.") % {"code": shown(dep, 20)})
            ok = False
        if "brincode" not in found or not ok:
            return None, version
        return {"brin": brin, "dependancecode": dep, "school_year": year}, version

    def read_vestigingen(self, containers: list) -> set[str]:
        keys: dict[str, int | None] = {}
        for container in containers:
            found = self.check_children(container, "vestigingen", "<vestigingen>")
            for child in found.get("vestiging", []):
                a_location = _("a location")
                key = self.key(child, a_location)
                children = self.check_children(child, "vestiging", "<vestiging>")
                self.bounded(children, "naam", 64, a_location)
                self.datetime(children, "mutatiedatum", a_location)
                if key is None:
                    continue
                if key in keys:
                    self.error(child, _("Location key '%(key)s' occurs more than once (earlier "
                                        "on line %(line)s).")
                               % {"key": shown(key), "line": keys[key]})
                    continue
                keys[key] = child.sourceline
        return set(keys)

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
            what = _("a cluster") if is_cluster else _("a group")
            key = self.key(el, what)
            children = self.check_children(el, el.tag, f"<{el.tag}>")
            name = self.bounded(children, "naam", 64, what)
            if "naam" in children and not name:
                self.error(children["naam"][0], _("<%(name)s> of %(what)s is empty.")
                           % {"name": "naam", "what": what})
            jaargroep = ""
            if not is_cluster:
                jaargroep = self.one(children, "jaargroep")
                if "jaargroep" in children and jaargroep not in JAARGROEPEN:
                    self.error(children["jaargroep"][0],
                               _("Year group '%(year)s' of group '%(group)s' is invalid; the "
                                 "allowed values are 0 to 8, 11 to 16 and B, C, D, H, N, S, V.")
                               % {"year": shown(jaargroep, 10), "group": shown(name)})
            description = self.bounded(children, "omschrijving", 256, what)
            self.datetime(children, "mutatiedatum", what)
            if key is None:
                continue
            if key in seen:
                self.error(el, _("Group key '%(key)s' occurs more than once (earlier on line "
                                 "%(line)s); no two groups or clusters may share a key.")
                           % {"key": shown(key), "line": seen[key]})
                continue
            seen[key] = el.sourceline
            groups.append({
                "key": key,
                "kind": "cluster" if is_cluster else "group",
                "name": name,
                "jaargroep": jaargroep,
                "description": description[:DESCRIPTION_KEPT],
            })
        return groups

    def read_names(self, children: dict[str, list], el: etree._Element, what: str
                   ) -> tuple[str, str, str]:
        """The name choice: (achternaam, …) or only roepnaam; first name = roepnaam or the
        first of voornamen (else the initials)."""
        last = self.bounded(children, "achternaam", 200, what)
        prefix = self.bounded(children, "voorvoegsel", 10, what)
        given = self.bounded(children, "voornamen", 200, what)
        initials = self.bounded(children, "voorletters-1", 6, what)
        call = self.bounded(children, "roepnaam", 64, what)
        if "achternaam" not in children:
            if not call:
                # Translators: %(what)s begins the sentence, e.g. "Pupil 'L1'".
                self.error(el, _("%(what)s has no name: <achternaam> or <roepnaam> is "
                                 "required.") % {"what": _upper_first(what)})
            for name in ("voorvoegsel", "voornamen", "voorletters-1"):
                if name in children:
                    self.error(children[name][0],
                               _("<%(name)s> of %(what)s may only appear together with "
                                 "<achternaam>.") % {"name": name, "what": what})
        elif not last:
            self.error(children["achternaam"][0], _("<%(name)s> of %(what)s is empty.")
                       % {"name": "achternaam", "what": what})
        first = call or (given.split()[0] if given.split() else "") or initials
        # One given name of the 200 characters voornamen may hold is still a name; Klaspoort
        # keeps 100 (Person.first_name), as a roepnaam is at most 64.
        return first[:100], prefix, last

    def read_eckid(self, el: etree._Element, what: str, seen: dict[str, int | None]
                   ) -> str | None:
        eckid = el.get("eckid")
        if eckid is None or eckid == "":
            return None
        # The value itself is a pseudonym and is never echoed back.
        if not ECKID_RE.match(eckid):
            self.error(el, _("The ECK iD of %(what)s does not have the right form "
                             "(https://ketenid.nl/201703/ followed by 128 hexadecimal "
                             "characters).") % {"what": what})
            return None
        if eckid in seen:
            self.error(el, _("The ECK iD of %(what)s also occurs on line %(line)s; an ECK iD "
                             "must be unique.") % {"what": what, "line": seen[eckid]})
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
                key = self.key(el, _("a pupil"))
                what = _("pupil '%(key)s'") % {"key": shown(key)} if key else _("a pupil")
                children = self.check_children(el, "leerling", f"<leerling> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                jaargroep = self.one(children, "jaargroep")
                if "jaargroep" in children and jaargroep not in JAARGROEPEN:
                    self.error(children["jaargroep"][0],
                               _("Year group '%(year)s' of %(what)s is invalid; the allowed "
                                 "values are 0 to 8, 11 to 16 and B, C, D, H, N, S, V.")
                               % {"year": shown(jaargroep, 10), "what": what})
                for date_field in ("geboortedatum", "start_ondw_jgr3", "instroomdatum",
                                   "uitstroomdatum"):
                    self.date(children, date_field, what)
                self.datetime(children, "mutatiedatum", what)
                if "geslacht" in children and self.one(children, "geslacht") not in {
                        "0", "1", "2", "9"}:
                    self.error(children["geslacht"][0],
                               _("<geslacht> of %(what)s must be 0, 1, 2 or 9.") % {"what": what})
                self.bounded(children, "gebruikersnaam", 64, what)
                self.bounded(children, "emailadres", 256, what)
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
                                   _("%(what)s refers to location '%(key)s', but it is not in "
                                     "<vestigingen>.")
                                   % {"what": _upper_first(what), "key": shown(ref_key)})
                if key is None:
                    continue
                if key in seen_keys:
                    self.error(el, _("Pupil key '%(key)s' occurs more than once (earlier on "
                                     "line %(line)s).") % {"key": shown(key),
                                                           "line": seen_keys[key]})
                    continue
                seen_keys[key] = el.sourceline
                pupils.append({
                    "key": key, "eckid": eckid, "first_name": first, "prefix": prefix,
                    "last_name": last, "jaargroep": jaargroep, "group": group,
                    "clusters": clusters,
                })
        return pupils

    def email(self, children: dict[str, list], what: str) -> str:
        value = self.bounded(children, "emailadres", 256, what)
        if not value:
            return ""
        try:
            if len(value) > 254:  # the longest address mail servers accept (RFC 5321)
                raise ValidationError("too long")
            validate_email(value)
        except ValidationError:
            self.error(children["emailadres"][0],
                       _("E-mail address '%(email)s' of %(what)s is invalid.")
                       % {"email": shown(value, 80), "what": what})
            return ""
        return value.lower()

    def resolve(self, ref: etree._Element, kind: str, group_kinds: dict[str, str], what: str
                ) -> str | None:
        ref_key = ref.get("key")
        cluster = kind == "cluster"
        if not ref_key:
            self.error(ref, (_("The reference to a cluster from %(what)s has no key.") if cluster
                             else _("The reference to a group from %(what)s has no key."))
                       % {"what": what})
            return None
        actual = group_kinds.get(ref_key)
        if actual == kind:
            return ref_key
        # %(what)s begins each sentence below, so it is given capitalised ("Pupil 'L1'").
        if actual is None and cluster:
            message = _("%(what)s refers to cluster '%(key)s', but that cluster is not in "
                        "<groepen>.")
        elif actual is None:
            message = _("%(what)s refers to group '%(key)s', but that group is not in "
                        "<groepen>.")
        elif cluster:
            message = _("%(what)s refers to cluster '%(key)s', but in <groepen> that is an "
                        "ordinary group.")
        else:
            message = _("%(what)s refers to group '%(key)s', but in <groepen> that is a "
                        "cluster.")
        self.error(ref, message % {"what": _upper_first(what), "key": shown(ref_key)})
        return None

    def reference(self, children: dict[str, list], name: str, kind: str,
                  group_kinds: dict[str, str], what: str) -> str | None:
        if name not in children:
            return None
        return self.resolve(children[name][0], kind, group_kinds, what)

    def roles(self, elements: Iterable[etree._Element], what: str) -> list[str]:
        roles: list[str] = []
        for el in elements:
            if el.tag == "rolomschrijving":
                # Free text for humans; checked, not kept.
                if len(_text(el)) > 64:
                    self.error(el, _("<%(name)s> of %(what)s is longer than %(limit)s "
                                     "characters.")
                               % {"name": "rolomschrijving", "what": what, "limit": 64})
                continue
            if el.tag != "rol":
                continue
            code = _text(el)
            if code not in ROLE_CODES:
                self.error(el, _("Unknown role '%(role)s' for %(what)s; the allowed roles are "
                                 "%(roles)s.") % {"role": shown(code, 20), "what": what,
                                                  "roles": ", ".join(sorted(ROLE_CODES))})
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
                key = self.key(el, _("a teacher"))
                what = _("teacher '%(key)s'") % {"key": shown(key)} if key else _("a teacher")
                children = self.check_children(el, "leerkracht", f"<leerkracht> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                self.bounded(children, "gebruikersnaam", 64, what)
                email = self.email(children, what) if "emailadres" in children else ""
                self.datetime(children, "mutatiedatum", what)
                roles = self.roles(
                    [c for c in el if c.tag in ("rol", "rolomschrijving")], what)
                groups: list[TeacherGroupData] = []
                if "groepen" in children:
                    refs = self.check_children(children["groepen"][0], "leerkracht/groepen",
                                               _("<groepen> of %(what)s") % {"what": what})
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
                    self.error(el, _("Teacher key '%(key)s' occurs more than once (earlier on "
                                     "line %(line)s).") % {"key": shown(key),
                                                           "line": seen_keys[key]})
                    continue
                seen_keys[key] = el.sourceline
                teachers.append({
                    "key": key, "eckid": eckid, "first_name": first, "prefix": prefix,
                    "last_name": last, "email": email, "roles": roles, "groups": groups,
                })
        return teachers
