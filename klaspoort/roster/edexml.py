"""Reading an EDEXML roster file (versions 1.03, 2.0 and 2.1) into a validated roster.

The file is parsed with a hardened lxml parser: a DOCTYPE is refused before parsing (so no
entity, external DTD or "billion laughs" ever reaches libxml2), the parser itself resolves no
entities and touches no network, and the size is bounded. Every error is reported at once (up to
MAX_ERRORS), with its line and a message a coordinator understands, in the active language
(Dutch unless the user chose English).

One reader serves the three versions: 1.03 and 2.0 are subsets of 2.1 (1.03 lets a pupil carry
either a group or a year group; 2.x allows both), so a file is read by the 2.1 rules and
`<xsdversie>` only says which version it claims to be.

The rule: the official XSDs decide what is valid, and Klaspoort accepts at least what they
accept. Where a file breaks a rule of the standard, or a rule Klaspoort would like, in a value
Klaspoort does not need, that one value is dropped with a warning (RosterData["warnings"]) and
the file is still read; only what Klaspoort cannot do without (the school, the school year, keys,
groups and the references to them, names, year groups) still refuses the file. Decisions:
- Elements may come in any order (exports of real LAS's get the order wrong); required elements
  are still required and an element may not occur more often than the standard allows.
- An optional element that is present but empty (`<voorvoegsel/>`, `<groepen/>`) counts as
  absent; an element the standard does not know is ignored with a warning (never stored).
- `<xsdversie>` is a free string: a known way of writing 1.03, 2.0 or 2.1 keeps its version;
  anything else (e.g. "2.3") is read by the 2.1 rules and recorded as 2.1, with a warning.
- `<schooljaar>` accepts any two consecutive years (the published schema stops at 2024-2025).
- `<school>` may name no school (the standard lets it carry only a schoolkey): the roster then
  has brin "" and the caller takes the school the file was given to.
- Keys (EDEXKeyType) are kept exactly as written: only an empty key is an error, a key of one
  space is a key. An ECK iD is any string of 1 to 256 characters, kept as given
  (https://ketenid.nl/201703/…, https://id.school/…, pilot values); longer ones are dropped with
  a warning. ECK iDs are unique among the pupils and among the teachers of a file.
- A name of only spaces is valid: a person is then imported without a name and a group gets
  its key as its name, each with a warning.
- A teacher's e-mail address that is not usable (the standard allows any string) is dropped with
  a warning; the teacher is imported without one.
- Values Klaspoort does not keep (dates, geslacht, mutatiedatum, aanmaakdatum, auteur,
  gebruikersnaam, rolomschrijving, unknown role codes, a description beyond 256 characters) are
  checked against the standard and dropped with a warning when wrong.
- A pupil with jaargroep H (historical), or whose `<uitstroomdatum>` lies before the file's
  reference date (`<peildatum>`, else the date of `<aanmaakdatum>`, else today) is not at the
  school: such pupils are listed in `left_pupils`, not in `pupils`.
- Character sets: UTF-8 with or without BOM, UTF-16 with BOM, and ISO-8859-1 or windows-1252 as
  declared. A file that declares ISO-8859-1 or windows-1252 but whose bytes are UTF-8 (an export
  that wrote UTF-8 under the wrong declaration) is read as UTF-8 with a warning, so no name is
  ever stored garbled. Bytes that are not valid in the file's character set refuse the file with
  one error on the first line where that happens. Blank lines before the XML declaration are
  accepted.
- Besides `<EDEX>` the reader accepts the same data as a UWLR message: a
  `<leerlinggegevens_antwoord>` in the namespace
  http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens (with any prefix, bare or inside
  a SOAP 1.1 or 1.2 Envelope/Body), or its bare `<leerlinggegevens>`. The namespace is taken off
  and the content read by the same rules; UWLR 2.x carries EDEXML 2.1 data, so its `<xsdversie>`
  (the UWLR version, e.g. 2.3) is recorded as 2.1 without a warning. A SOAP Fault, or an answer
  without `<leerlinggegevens>`, is refused with a clear message. `<EDEX>` in the namespace
  http://www.edustandaard.nl/edex (which some exports put on the root) is read as plain EDEXML:
  the intent is unmistakable and nothing is lost. Any other namespace on the root is refused.
- Flemish files (`<instellingsnummer>`) are refused: Klaspoort works with Dutch BRIN codes.
- A BRIN code or dependancecode must be ASCII digits and capitals (the schema's \\p{Nd} and
  \\p{Lu} allow other scripts, which no real BRIN code uses).

Privacy: fields Klaspoort has no use for (BSN and the other national numbers, postcode,
countries, ethnicity, weights, photos) are never read into the result, and their values are never
checked, so they never appear in a message either. Messages show no ECK iD, and mask any value
that looks like one or like a BSN.

Messages: English msgids, Dutch in the catalogue. Element names such as <leerling> are names of
the EDEXML format and stay as they are in every language. Many messages name the thing they are
about with a phrase (`what`: "a pupil", "pupil 'L1'", "the school") that is translated on its own
and put into the sentence as %(what)s.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
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
# The version whose rules read a file that names another one.
READ_AS = "2.1"
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
# EDEXKeyType: 1 to 256 characters, nothing more (the ECK iD is one too).
KEY_MAX = 256
# xs:date and xs:dateTime (the value is trimmed first, as the schema collapses whitespace).
DATE_RE = re.compile(r"^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})(Z|[+-][0-9]{2}:[0-9]{2})?$")
DATETIME_RE = re.compile(
    r"^(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
# xs:integer, for <geslacht> (0, 1, 2 or 9; "+1" and "01" are the same numbers).
INTEGER_RE = re.compile(r"^[+-]?[0-9]+$")
GESLACHT = frozenset({0, 1, 2, 9})
_GESLACHT_PLAIN = frozenset({"0", "1", "2", "9"})
# A value a message must not repeat: an ECK iD, or a number shaped like a BSN or
# onderwijsnummer (8 or 9 digits).
_SECRET_RE = re.compile(r"ketenid|id\.school|^[0-9]{8,9}$", re.IGNORECASE)
# Description length Klaspoort keeps (Group.description); the standard allows 256.
DESCRIPTION_KEPT = 200

# Namespaces of the messages that carry the same data as an EDEXML file.
EDEX_NS = "http://www.edustandaard.nl/edex"
UWLR_NS = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
SOAP_NS = frozenset({
    "http://schemas.xmlsoap.org/soap/envelope/",  # SOAP 1.1
    "http://www.w3.org/2003/05/soap-envelope",  # SOAP 1.2
})


def max_bytes() -> int:
    """The largest roster file accepted: the upload limit of the settings, else MAX_BYTES."""
    return int(getattr(settings, "ROSTER_MAX_UPLOAD_BYTES", MAX_BYTES))


# ---------------------------------------------------------------------------------------------
# The validated roster: plain JSON-able data, stored as the import's payload while it waits.
# ---------------------------------------------------------------------------------------------
class SchoolData(TypedDict):
    brin: str  # "" when the file names no school (only a schoolkey)
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
    # The XML library's own (English) words, for the helpdesk; Beheer folds them away.
    technical: str = ""

    def as_dict(self) -> dict[str, int | str | None]:
        found: dict[str, int | str | None] = {"line": self.line, "message": self.message}
        if self.technical:
            found["technical"] = self.technical
        return found


class RosterFileError(Exception):
    """The file is not a valid roster; nothing may change. Carries every error found."""

    def __init__(self, errors: Sequence[RosterError]):
        super().__init__("; ".join(e.message for e in errors[:3]))
        self.errors = list(errors)


def shown(value: str | None, limit: int = 40) -> str:
    """A value from the file as a message may quote it: short, and never an ECK iD or
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


def cap_warnings(warnings: list[RosterError]) -> list[MessageData]:
    """Warnings in file order, at most MAX_ERRORS and a last line saying how many were left
    out, as the import stores them."""
    warnings = sorted(warnings, key=lambda e: e.line or 0)
    if len(warnings) > MAX_ERRORS:
        extra = len(warnings) - MAX_ERRORS
        warnings = [*warnings[:MAX_ERRORS], RosterError(None, ngettext(
            "… and %(count)s more warning.", "… and %(count)s more warnings.",
            extra) % {"count": extra})]
    return [{"line": w.line, "message": w.message} for w in warnings]


def too_large_error() -> RosterError:
    limit_mb = max_bytes() // (1024 * 1024)
    return RosterError(None, _(
        "The file is too large: the maximum is %(limit)s MB. An EDEXML file of one school is "
        "much smaller; check that you chose the right file.") % {"limit": limit_mb})


# ---------------------------------------------------------------------------------------------
# Structure: the children each element may have, in any order.
# A slot is (allowed names, minimum, maximum); names in one slot are alternatives that together
# may occur at most `maximum` times.
# ---------------------------------------------------------------------------------------------
UNBOUNDED = 1_000_000_000
Slot = tuple[frozenset[str], int, int]


def _slots(*spec: tuple[str, int, int]) -> tuple[Slot, ...]:
    return tuple((frozenset(names.split("|")), lo, hi) for names, lo, hi in spec)


# The name is a choice: <achternaam> (with the others), or only <roepnaam>; read_names checks it.
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
    # The school is named by brincode (+ dependancecode), by instellingsnummer (Flemish), or by
    # a schoolkey alone, or not at all; read_school sorts out the combinations.
    "school": _slots(
        ("schooljaar", 1, 1),
        ("peildatum", 0, 1),
        ("brincode", 0, 1),
        ("instellingsnummer", 0, 1),
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
# Per slot: whether an empty element there counts as absent (only optional ones do).
_OPTIONAL = {key: tuple(lo == 0 for _names, lo, _hi in slots) for key, slots in STRUCTURE.items()}


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


def untrusted_root(data: bytes) -> etree._Element | None:
    """The root element of XML from outside (a LAS's answer), read the hardened way: None for
    empty or oversized bytes, a DOCTYPE or ENTITY declaration, or bytes that are not XML."""
    if not data.strip() or len(data) > max_bytes() or _PROLOG_DANGER.search(_prolog(data)):
        return None
    try:
        root = etree.fromstring(data, parser=_hardened_parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    return None if root.getroottree().docinfo.doctype else root


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
    """Parse and validate an EDEXML file (or a UWLR roster answer); raise RosterFileError with
    every error found. What was accepted but dropped is in the result's "warnings"."""
    if len(data) > max_bytes():
        raise RosterFileError([too_large_error()])
    if not data.strip():
        raise RosterFileError([RosterError(None, _("The file is empty."))])
    if _PROLOG_DANGER.search(_prolog(data)):
        raise _doctype_error()
    source = _Source.of(data)
    try:
        root = etree.fromstring(source.data, parser=_hardened_parser())
    except etree.XMLSyntaxError as exc:
        # Bytes the character set cannot read are the likely cause, unless this is no XML at
        # all (a PDF or a spreadsheet is not "a file in the wrong character set").
        lowered = str(exc).lower()
        no_xml = "start tag expected" in lowered or "document is empty" in lowered
        error = None if no_xml else source.undecodable()
        raise RosterFileError([error or _syntax_error(exc, source.data)]) from None
    if root.getroottree().docinfo.doctype:
        raise _doctype_error()
    element, uwlr = _roster_element(root)
    return _Reader(warnings=source.warnings, uwlr=uwlr).read(element)


# -- character sets ---------------------------------------------------------------------------
_BOM_UTF8 = b"\xef\xbb\xbf"
_BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_DECLARATION = re.compile(rb"<\?xml[ \t\r\n][^>]*?\?>")
_DECLARATION_TEXT = re.compile(r"<\?xml[ \t\r\n][^>]*?\?>")
_ENCODING = re.compile(rb"""(encoding[ \t\r\n]*=[ \t\r\n]*)(["'])([A-Za-z0-9._\-]*)\2""")
_SPACE_BEFORE_DECLARATION = re.compile(rb"[ \t\r\n]+(?=<\?xml[ \t\r\n])")
# Single-byte character sets under which UTF-8 bytes would be read as two garbled characters.
_SINGLE_BYTE = frozenset({"iso8859_1", "cp1252", "iso8859_15", "ascii"})


def _codec(name: str) -> str | None:
    """Python's name for a character set named in a declaration, or None if unknown."""
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return None


@dataclass
class _Source:
    """The file's bytes as the parser gets them: in a character set it reads as the file means
    it, with the XML declaration first; and what was corrected on the way."""

    data: bytes
    declared: str | None  # the character set the declaration names, as written
    warnings: list[RosterError] = field(default_factory=list)

    @classmethod
    def of(cls, data: bytes) -> _Source:
        if data[:2] in _BOMS_UTF16:
            # Read here, and given to the parser as UTF-8 (which the new declaration says).
            return cls(_from_utf16(data), "UTF-8")
        if data.startswith(_BOM_UTF8):
            data = data[3:]
        # Blank lines before the declaration: the declaration goes first, the blank lines after
        # it, so every later line keeps its number.
        declaration_line = 1
        space = _SPACE_BEFORE_DECLARATION.match(data)
        if space:
            declaration = _DECLARATION.match(data, space.end())
            if declaration:
                declaration_line += space.group().count(b"\n")
                data = declaration.group() + space.group() + data[declaration.end():]
        declaration = _DECLARATION.match(data)
        encoding = _ENCODING.search(declaration.group()) if declaration else None
        source = cls(data, encoding[3].decode("ascii") if encoding else None)
        if encoding and _codec(source.declared or "") in _SINGLE_BYTE and not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return source  # really the declared character set
            assert declaration is not None
            fixed = _ENCODING.sub(rb"\1\2UTF-8\2", declaration.group(), count=1)
            source.data = fixed + data[declaration.end():]
            source.warnings.append(RosterError(declaration_line, _(
                "The XML declaration says the file is in %(encoding)s, but its characters are "
                "UTF-8; Klaspoort read it as UTF-8, so names with accents come out right. Ask "
                "the supplier of the pupil administration system (LAS) to correct the "
                "declaration.") % {"encoding": shown(source.declared, 20)}))
            source.declared = "UTF-8"
        return source

    def undecodable(self) -> RosterError | None:
        """The error for bytes the file's character set cannot read, on the first line with
        such bytes; None if every byte reads (the syntax error is something else)."""
        codec = _codec(self.declared) if self.declared else "utf_8"
        if codec is None:
            return None
        try:
            self.data.decode(codec)
        except UnicodeDecodeError as exc:
            return _undecodable_error(self.data.count(b"\n", 0, exc.start) + 1, self.declared)
        return None


def _undecodable_error(line: int, declared: str | None) -> RosterError:
    if declared is None:
        message = _("This line contains a character that is not valid UTF-8 (for example an é "
                    "saved in another character set). Save the file from the pupil "
                    "administration system (LAS) again, as UTF-8.")
    else:
        message = _("This line contains a character that does not fit the character set "
                    "%(encoding)s named in the XML declaration (for example an é saved in "
                    "another character set). Save the file from the pupil administration system "
                    "(LAS) again, preferably as UTF-8.") % {"encoding": shown(declared, 20)}
    return RosterError(line, message)


def _from_utf16(data: bytes) -> bytes:
    """A UTF-16 file (with its byte order mark) as UTF-8 with the same lines."""
    try:
        text = data.decode("utf-16")
    except UnicodeDecodeError as exc:
        line = data[: exc.start - exc.start % 2].decode("utf-16", "replace").count("\n") + 1
        raise RosterFileError([_undecodable_error(line, "UTF-16")]) from None
    body = text.lstrip(" \t\r\n")
    space = text[: len(text) - len(body)]
    declaration = _DECLARATION_TEXT.match(body)
    kept_lines = ""
    if declaration:
        kept_lines = "\n" * declaration.group().count("\n")
        body = body[declaration.end():]
    return (b'<?xml version="1.0" encoding="UTF-8"?>'
            + (kept_lines + space + body).encode("utf-8"))


# -- what the parser said ---------------------------------------------------------------------
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
    return RosterError(line, message, technical=technical)


# -- which element holds the roster -----------------------------------------------------------
def _refused(el: etree._Element, message: str) -> RosterFileError:
    return RosterFileError([RosterError(el.sourceline, message)])


def _element_children(el: etree._Element) -> list[etree._Element]:
    return [child for child in el if isinstance(child.tag, str)]


def _roster_element(root: etree._Element) -> tuple[etree._Element, bool]:
    """The element whose children are school, groepen, leerlingen …, with every name in it
    made plain (no namespace); and whether it came in a UWLR message."""
    if root.tag == "EDEX":
        return root, False
    el = root
    name = etree.QName(el)
    if name.namespace in SOAP_NS and name.localname == "Envelope":
        body = next((c for c in _element_children(el) if etree.QName(c).localname == "Body"),
                    None)
        content = _element_children(body)[:1] if body is not None else []
        if not content:
            raise _refused(el, _("This SOAP message does not contain a UWLR answer with user "
                                 "data (<leerlinggegevens_antwoord>)."))
        el = content[0]
        name = etree.QName(el)
        if name.localname.endswith("Fault"):
            # SOAP 1.1 says why in <faultstring>, SOAP 1.2 in <Reason><Text>.
            said = [t for t in el.iter() if isinstance(t.tag, str)
                    and etree.QName(t).localname in ("faultstring", "Text")] or [el]
            reason = " ".join(w for t in said for w in " ".join(t.itertext()).split())
            raise _refused(el, _(
                "The pupil administration system (LAS) sent an error message instead of the "
                "user data: '%(fault)s'. Try again later, or ask the supplier of the LAS.")
                % {"fault": shown(reason, 160)})
    if name.namespace == UWLR_NS:
        if name.localname == "leerlinggegevens_antwoord":
            inner = el.find(f"{{{UWLR_NS}}}leerlinggegevens")
            if inner is None:
                raise _refused(el, _(
                    "This UWLR answer (<leerlinggegevens_antwoord>) contains no "
                    "<leerlinggegevens>, so there are no user data to import. Request the "
                    "complete user data from the pupil administration system (LAS) again."))
            el, name = inner, etree.QName(inner)
        if name.localname == "leerlinggegevens":
            return _plain(el, UWLR_NS), True
        raise _refused(el, _("This UWLR message (<%(name)s>) is not an answer with complete "
                             "user data; Klaspoort reads <leerlinggegevens_antwoord>.")
                       % {"name": shown(name.localname)})
    if name.localname == "EDEX" and name.namespace in (None, EDEX_NS):
        return (_plain(el, EDEX_NS) if name.namespace else el), False
    if name.localname == "EDEX":
        message = _("This is not an EDEXML file: the root element <EDEX> has a "
                    "namespace, which the standard does not allow. Choose the EDEXML "
                    "file that the pupil administration system (LAS) created.")
    else:
        message = _("This is not an EDEXML file: the root element is called <%(name)s> "
                    "instead of <EDEX>. Choose the EDEXML file that the pupil "
                    "administration system (LAS) created.") % {"name": shown(name.localname)}
    raise _refused(el, message)


def _plain(el: etree._Element, namespace: str) -> etree._Element:
    """Take the namespace off every element in it (elements of other namespaces keep theirs,
    and are reported as unknown)."""
    prefix = f"{{{namespace}}}"
    cut = len(prefix)
    for child in el.iter():
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            child.tag = tag[cut:]
    return el


# -- values -----------------------------------------------------------------------------------
def _text(el: etree._Element | None) -> str:
    if el is None or el.text is None:
        return ""
    return el.text.strip()


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_ok(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= _DAYS[month - 1] + (month == 2 and leap)


def _zone_ok(zone: str | None) -> bool:
    if not zone or zone == "Z":
        return True
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    return minutes <= 59 and (hours < 14 or (hours == 14 and minutes == 0))


def _date_value(value: str) -> tuple[int, int, int] | None:
    """An xs:date as (year, month, day), or None if it is not one."""
    match = DATE_RE.match(value)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not (_day_ok(year, month, day) and _zone_ok(match[4])):
        return None
    return year, month, day


def _datetime_value(value: str) -> tuple[int, int, int] | None:
    """The date of an xs:dateTime as (year, month, day), or None if it is not one."""
    match = DATETIME_RE.match(value)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    hour, minute, second = int(match[4]), int(match[5]), int(match[6])
    midnight = hour == 24 and minute == 0 and second == 0 and not (match[7] or "").strip(".0")
    time_ok = (hour <= 23 or midnight) and minute <= 59 and second <= 60
    if not (time_ok and _day_ok(year, month, day) and _zone_ok(match[8])):
        return None
    return year, month, day


def _usable_email(value: str) -> bool:
    if len(value) > 254:  # the longest address mail servers accept (RFC 5321)
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The reader
# ---------------------------------------------------------------------------------------------
@dataclass
class _Reader:
    errors: list[RosterError] = field(default_factory=list)
    warnings: list[RosterError] = field(default_factory=list)
    uwlr: bool = False
    # Per pupil key: the leaving date (year, month, day), where the file gives a valid one.
    leaving: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # The date a leaving date is compared with (see the module docstring).
    reference: tuple[int, int, int] | None = None

    def error(self, el: etree._Element | None, message: str) -> None:
        line = el.sourceline if el is not None else None
        self.errors.append(RosterError(line, message))

    def warn(self, el: etree._Element | None, message: str) -> None:
        line = el.sourceline if el is not None else None
        self.warnings.append(RosterError(line, message))

    # -- structure ------------------------------------------------------------------------------
    def check_children(self, el: etree._Element, slots_key: str, what: str) -> dict[str, list]:
        """Check occurrence and names of el's children (in any order); return them by name.
        Empty optional elements are left out; unknown ones are reported as a warning."""
        slots = STRUCTURE[slots_key]
        index_of = _SLOT_INDEX[slots_key]
        optional = _OPTIONAL[slots_key]
        found: dict[str, list] = {}
        counts = [0] * len(slots)
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            index = index_of.get(tag)
            if index is None:
                name = etree.QName(child).localname if tag.startswith("{") else tag
                self.warn(child, _("Unknown element <%(name)s> in %(what)s is ignored; the "
                                   "EDEXML standard does not have it there.")
                          % {"name": name, "what": what})
                continue
            if optional[index]:
                # No text, no child elements and no attributes: it says nothing, so it is absent.
                text = child.text
                if (not text or text.isspace()) and len(child) == 0 and not child.attrib:
                    continue
            counts[index] += 1
            if counts[index] > slots[index][2]:
                self.error(child, _("Element <%(name)s> occurs too often in %(what)s; it may "
                                    "appear only once.") % {"name": tag, "what": what})
                continue
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
        if not value:
            # Translators: %(what)s begins the sentence, e.g. "A pupil" or "Pupil 'L1'".
            self.error(el, _("%(what)s has no key (the required attribute key=\"…\" is missing "
                             "or empty).") % {"what": _upper_first(what)})
            return None
        if len(value) > KEY_MAX:
            self.error(el, _("The key of %(what)s is longer than %(limit)s characters.")
                       % {"what": what, "limit": KEY_MAX})
            return None
        return value

    def one(self, found: dict[str, list], name: str) -> str:
        return _text(found[name][0]) if name in found else ""

    def bounded(self, found: dict[str, list], name: str, limit: int, what: str) -> str:
        """A value Klaspoort keeps: longer than the standard allows is an error."""
        value = self.one(found, name)
        if len(value) > limit:
            self.error(found[name][0], _("<%(name)s> of %(what)s is longer than %(limit)s "
                                         "characters.")
                       % {"name": name, "what": what, "limit": limit})
            return value[:limit]
        return value

    def unkept(self, found: dict[str, list], name: str, limit: int, what: str) -> None:
        """A value Klaspoort does not keep: longer than the standard allows is a warning."""
        value = self.one(found, name)
        if len(value) > limit:
            self.warn(found[name][0], _("<%(name)s> of %(what)s is longer than %(limit)s "
                                        "characters; the value is ignored.")
                      % {"name": name, "what": what, "limit": limit})

    def date(self, found: dict[str, list], name: str, what: str
             ) -> tuple[int, int, int] | None:
        """A date (xs:date); one that is not valid is ignored with a warning."""
        if name not in found:
            return None
        value = _text(found[name][0])
        parsed = _date_value(value)
        if parsed is None:
            self.warn(found[name][0], _("<%(name)s> of %(what)s is not a valid date (expected "
                                        "YYYY-MM-DD): '%(value)s'; the value is ignored.")
                      % {"name": name, "what": what, "value": shown(value)})
        return parsed

    def datetime(self, found: dict[str, list], name: str, what: str
                 ) -> tuple[int, int, int] | None:
        """The date of a date and time (xs:dateTime); one that is not valid is ignored with a
        warning."""
        if name not in found:
            return None
        value = _text(found[name][0])
        parsed = _datetime_value(value)
        if parsed is None:
            self.warn(found[name][0],
                      _("<%(name)s> of %(what)s is not a valid date and time (expected "
                        "YYYY-MM-DDThh:mm:ss): '%(value)s'; the value is ignored.")
                      % {"name": name, "what": what, "value": shown(value)})
        return parsed

    # -- the file -------------------------------------------------------------------------------
    def read(self, root: etree._Element) -> RosterData:
        top = self.check_children(root, "EDEX", _("the file"))
        school, version = self.read_school(top["school"][0]) if "school" in top else (None, "")
        locations = self.read_locations(top.get("vestigingen", []))
        groups = self.read_groups(top["groepen"][0]) if "groepen" in top else []
        group_kinds = {g["key"]: g["kind"] for g in groups}
        pupils = self.read_pupils(top.get("leerlingen", []), group_kinds, locations)
        teachers = self.read_teachers(top.get("leerkrachten", []), group_kinds)
        if self.errors or school is None:
            raise RosterFileError(cap_errors(self.errors))
        if self.reference is None:
            today = timezone.localdate()
            self.reference = (today.year, today.month, today.day)
        # Pupils without their own jaargroep take their group's, so every pupil has one where
        # the file says it (licences are linked by year group).
        group_year = {g["key"]: g["jaargroep"] for g in groups}
        active: list[PupilData] = []
        left: list[LeftPupilData] = []
        for pupil in pupils:
            if not pupil["jaargroep"] and pupil["group"]:
                pupil["jaargroep"] = group_year.get(pupil["group"], "")
            leaving = self.leaving.get(pupil["key"])
            if pupil["jaargroep"] == "H":
                reason = "historical"
            elif leaving is not None and leaving < self.reference:
                reason = "left"
            else:
                active.append(pupil)
                continue
            left.append({"key": pupil["key"], "first_name": pupil["first_name"],
                         "prefix": pupil["prefix"], "last_name": pupil["last_name"],
                         "reason": reason})
        return {"version": version, "school": school, "groups": groups, "pupils": active,
                "teachers": teachers, "left_pupils": left,
                "warnings": cap_warnings(self.warnings)}

    def read_version(self, found: dict[str, list]) -> str:
        written = self.one(found, "xsdversie")
        if not written:
            return READ_AS
        version = _VERSION_ALIASES.get(written, "")
        if not version:
            # Later revisions of a supported version (e.g. 2.1.1) keep its structure.
            version = next((v for v in SUPPORTED_VERSIONS if written.startswith(v + ".")), "")
        if not version and self.uwlr and re.fullmatch(r"2(\.[0-9]+)*", written):
            # In a UWLR message the version is UWLR's own; UWLR 2.x carries EDEXML 2.1.
            version = READ_AS
        if not version:
            self.warn(found["xsdversie"][0],
                      _("EDEXML version '%(version)s' is unknown to Klaspoort; the file was read "
                        "by the rules of version %(read_as)s.")
                      % {"version": shown(written, 20), "read_as": READ_AS})
            version = READ_AS
        return version

    def read_school(self, el: etree._Element) -> tuple[SchoolData | None, str]:
        found = self.check_children(el, "school", "<school>")
        version = self.read_version(found)
        year = self.one(found, "schooljaar")
        match = SCHOOLYEAR_RE.match(year)
        ok = True
        if "schooljaar" in found and not (match and int(match[2]) == int(match[1]) + 1):
            self.error(found["schooljaar"][0],
                       _("School year '%(year)s' is invalid; expected two consecutive years, for "
                         "example 2025-2026.") % {"year": shown(year, 20)})
            ok = False
        the_school = _("the school")
        reference_date = self.date(found, "peildatum", the_school)
        created = self.datetime(found, "aanmaakdatum", the_school)
        self.reference = reference_date or created
        self.unkept(found, "auteur", 128, the_school)
        if "instellingsnummer" in found:
            self.error(found["instellingsnummer"][0],
                       _("This file uses a Flemish institution number; Klaspoort works with "
                         "Dutch BRIN codes."))
            ok = False
        brin = self.one(found, "brincode")
        dependancecode = ""
        if "brincode" in found:
            if not BRIN_RE.match(brin):
                self.error(found["brincode"][0],
                           _("BRIN code '%(brin)s' is invalid; a BRIN code is two digits and two "
                             "capital letters, for example 12AB.") % {"brin": shown(brin, 20)})
                ok = False
            dependancecode = self.one(found, "dependancecode") or "00"
            if not DEPENDANCE_RE.match(dependancecode):
                self.error(found["dependancecode"][0],
                           _("Location code (dependancecode) '%(code)s' is invalid; expected two "
                             "digits, for example 00 or 01.")
                           % {"code": shown(dependancecode, 20)})
                ok = False
        elif "dependancecode" in found:
            self.warn(found["dependancecode"][0],
                      _("<dependancecode> without <brincode> is ignored."))
        if not ok or "schooljaar" not in found:
            return None, version
        return {"brin": brin, "dependancecode": dependancecode, "school_year": year}, version

    def read_locations(self, containers: list) -> set[str]:
        keys: dict[str, int | None] = {}
        a_location = _("a location")
        for container in containers:
            found = self.check_children(container, "vestigingen", "<vestigingen>")
            for child in found.get("vestiging", []):
                key = self.key(child, a_location)
                children = self.check_children(child, "vestiging", "<vestiging>")
                self.unkept(children, "naam", 64, a_location)
                self.unkept(children, "omschrijving", 256, a_location)
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
        a_cluster, a_group = _("a cluster"), _("a group")
        for el in elements:
            is_cluster = el.tag == "samengestelde_groep"
            what = a_cluster if is_cluster else a_group
            key = self.key(el, what)
            children = self.check_children(el, el.tag, f"<{el.tag}>")
            name = self.bounded(children, "naam", 64, what)
            if "naam" in children and not name:
                if children["naam"][0].text and key:
                    # Only spaces, which the standard allows; a group needs a name to be chosen.
                    name = key[:64]
                    self.warn(children["naam"][0],
                              _("<naam> of %(what)s with key '%(key)s' contains only spaces; "
                                "Klaspoort uses the key as its name.")
                              % {"what": what, "key": shown(key)})
                else:
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
            description = self.one(children, "omschrijving")
            if len(description) > 256:
                self.warn(children["omschrijving"][0],
                          _("<%(name)s> of %(what)s is longer than %(limit)s characters; "
                            "Klaspoort keeps the first %(kept)s.")
                          % {"name": "omschrijving", "what": what, "limit": 256,
                             "kept": DESCRIPTION_KEPT})
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
        first = call or (given.split()[0] if given.split() else "") or initials
        if "achternaam" not in children:
            # Present but only spaces, which the standard allows (empty ones count as absent).
            spaces = {c.tag for c in el if c.tag in ("achternaam", "roepnaam") and c.text}
            if "achternaam" not in spaces:
                if "roepnaam" not in children and "roepnaam" not in spaces:
                    # Translators: %(what)s begins the sentence, e.g. "Pupil 'L1'".
                    self.error(el, _("%(what)s has no name: <achternaam> or <roepnaam> is "
                                     "required.") % {"what": _upper_first(what)})
                    return "", prefix, last
                for name in ("voorvoegsel", "voornamen", "voorletters-1"):
                    if name in children:
                        self.error(children[name][0],
                                   _("<%(name)s> of %(what)s may only appear together with "
                                     "<achternaam>.") % {"name": name, "what": what})
            if not first:
                self.warn(el, _("%(what)s has no name in the file (the name contains only "
                                "spaces); the person is imported without a name.")
                          % {"what": _upper_first(what)})
        # One given name of the 200 characters voornamen may hold is still a name; Klaspoort
        # keeps 100 (Person.first_name), as a roepnaam is at most 64.
        return first[:100], prefix, last

    def read_eckid(self, el: etree._Element, what: str, seen: dict[str, int | None]
                   ) -> str | None:
        eckid = el.get("eckid")
        if not eckid:
            return None
        # The value itself is a pseudonym and is never echoed back.
        if len(eckid) > KEY_MAX:
            self.warn(el, _("The ECK iD of %(what)s is longer than %(limit)s characters; it is "
                            "ignored.") % {"what": what, "limit": KEY_MAX})
            return None
        if eckid in seen:
            self.error(el, _("The ECK iD of %(what)s also occurs on line %(line)s; an ECK iD "
                             "must be unique.") % {"what": what, "line": seen[eckid]})
            return None
        seen[eckid] = el.sourceline
        return eckid

    def read_pupils(self, containers: list, group_kinds: dict[str, str],
                    locations: set[str]) -> list[PupilData]:
        pupils: list[PupilData] = []
        seen_keys: dict[str, int | None] = {}
        seen_eckids: dict[str, int | None] = {}
        # Translated once per file: a thousand lookups of the same phrase cost milliseconds.
        a_pupil, pupil_named = _("a pupil"), _("pupil '%(key)s'")
        for container in containers:
            found = self.check_children(container, "leerlingen", "<leerlingen>")
            for el in found.get("leerling", []):
                key = self.key(el, a_pupil)
                what = pupil_named % {"key": shown(key)} if key else a_pupil
                children = self.check_children(el, "leerling", f"<leerling> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                jaargroep = self.one(children, "jaargroep")
                if "jaargroep" in children and jaargroep not in JAARGROEPEN:
                    self.error(children["jaargroep"][0],
                               _("Year group '%(year)s' of %(what)s is invalid; the allowed "
                                 "values are 0 to 8, 11 to 16 and B, C, D, H, N, S, V.")
                               % {"year": shown(jaargroep, 10), "what": what})
                for date_field in ("geboortedatum", "start_ondw_jgr3", "instroomdatum"):
                    self.date(children, date_field, what)
                leaving = self.date(children, "uitstroomdatum", what)
                self.datetime(children, "mutatiedatum", what)
                if "geslacht" in children:
                    self.geslacht(children["geslacht"][0], what)
                self.unkept(children, "gebruikersnaam", 64, what)
                self.unkept(children, "emailadres", 256, what)
                group = self.reference_to(children, "groep", "group", group_kinds, what)
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
                    if ref_key not in locations:
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
                if leaving is not None:
                    self.leaving[key] = leaving
                pupils.append({
                    "key": key, "eckid": eckid, "first_name": first, "prefix": prefix,
                    "last_name": last, "jaargroep": jaargroep, "group": group,
                    "clusters": clusters,
                })
        return pupils

    def geslacht(self, el: etree._Element, what: str) -> None:
        """xs:integer 0, 1, 2 or 9 (so "+1" and "01" are fine); the value is not kept."""
        value = _text(el)
        if value in _GESLACHT_PLAIN:
            return
        if not (INTEGER_RE.match(value) and int(value) in GESLACHT):
            self.warn(el, _("<geslacht> of %(what)s must be 0, 1, 2 or 9; the value is "
                            "ignored.") % {"what": what})

    def email(self, children: dict[str, list], what: str) -> str:
        """A teacher's address; one that cannot receive mail is dropped with a warning."""
        value = self.one(children, "emailadres")
        if not value:
            return ""
        if not _usable_email(value):
            self.warn(children["emailadres"][0],
                      _("E-mail address '%(email)s' of %(what)s is not a usable e-mail address; "
                        "the teacher is imported without one. Correct it in the pupil "
                        "administration system (LAS), or enter the address under Teachers.")
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

    def reference_to(self, children: dict[str, list], name: str, kind: str,
                     group_kinds: dict[str, str], what: str) -> str | None:
        if name not in children:
            return None
        return self.resolve(children[name][0], kind, group_kinds, what)

    def roles(self, elements: Iterable[etree._Element], what: str) -> list[str]:
        """Role codes in the file's order; free descriptions and unknown codes are not kept."""
        roles: list[str] = []
        for el in elements:
            if el.tag == "rolomschrijving":
                # Free text for humans; checked, not kept.
                if len(_text(el)) > 64:
                    self.warn(el, _("<%(name)s> of %(what)s is longer than %(limit)s "
                                    "characters; the value is ignored.")
                              % {"name": "rolomschrijving", "what": what, "limit": 64})
                continue
            if el.tag != "rol":
                continue
            code = _text(el)
            if not code:
                continue
            if code not in ROLE_CODES:
                self.warn(el, _("Unknown role '%(role)s' for %(what)s is ignored; the known "
                                "roles are %(roles)s.")
                          % {"role": shown(code, 20), "what": what,
                             "roles": ", ".join(sorted(ROLE_CODES))})
            elif code not in roles:
                roles.append(code)
        return roles

    def read_teachers(self, containers: list, group_kinds: dict[str, str]) -> list[TeacherData]:
        teachers: list[TeacherData] = []
        seen_keys: dict[str, int | None] = {}
        seen_eckids: dict[str, int | None] = {}
        a_teacher, teacher_named = _("a teacher"), _("teacher '%(key)s'")
        for container in containers:
            found = self.check_children(container, "leerkrachten", "<leerkrachten>")
            for el in found.get("leerkracht", []):
                key = self.key(el, a_teacher)
                what = teacher_named % {"key": shown(key)} if key else a_teacher
                children = self.check_children(el, "leerkracht", f"<leerkracht> ({what})")
                first, prefix, last = self.read_names(children, el, what)
                eckid = self.read_eckid(el, what, seen_eckids)
                self.unkept(children, "gebruikersnaam", 64, what)
                email = self.email(children, what)
                self.datetime(children, "mutatiedatum", what)
                roles = self.roles(
                    children.get("rol", []) + children.get("rolomschrijving", []), what)
                groups: list[TeacherGroupData] = []
                if "groepen" in children:
                    refs = self.check_children(children["groepen"][0], "leerkracht/groepen",
                                               _("<groepen> of %(what)s") % {"what": what})
                    for ref in sorted(refs.get("groep", []) + refs.get("samengestelde_groep", []),
                                      key=lambda e: e.sourceline or 0):
                        kind = "cluster" if ref.tag == "samengestelde_groep" else "group"
                        found_roles = self.check_children(ref, "leerkracht/groepen/*",
                                                          f"<{ref.tag}>")
                        group_key = self.resolve(ref, kind, group_kinds, what)
                        if group_key and all(g["key"] != group_key for g in groups):
                            groups.append({"key": group_key, "roles": self.roles(
                                found_roles.get("rol", []) + found_roles.get("rolomschrijving", []),
                                what)})
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
