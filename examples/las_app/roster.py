"""The rosters the example LAS serves: Klaspoort's generator (EDEXML 2.1) made into the UWLR 2.2
`<leerlinggegevens>` a LAS answers with, and a few changes per later night.

EDEXML 2.1 and UWLR 2.2 *Leerlinggegevens* carry the same data, but UWLR puts every element in
the namespace http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens (attributes stay
unqualified), calls the root `<leerlinggegevens>` instead of `<EDEX>`, has no role TAL (UWLR 2.2
predates it) and no `<toevoegingen>` blocks with content, and wants the children of each element
in the order of its sequences. The conversion below does exactly that with lxml, so the answer
validates against the official UWLR_Leerlinggegevens_v2p2.xsd (apart from `<schooljaar>`, whose
enumeration in that schema stops at 2024-2025; a LAS answers for the year it is asked).
"""

from __future__ import annotations

import datetime as dt
import random

from lxml import etree

from klaspoort.roster.generator import FIRST_NAMES, generate_school, school_brins

LG_NS = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
UWLR_VERSION = "2.2"

# The children of an element in the order of the UWLR schema's sequences (EDEXML.elementen.xsd
# of UWLR 2.2); the name fields are one group and keep their own order.
_NAME = ("achternaam", "voorvoegsel", "voornamen", "voorletters-1", "roepnaam")
_ORDER: dict[str, tuple[str, ...]] = {
    "leerlinggegevens": ("school", "vestigingen", "groepen", "leerlingen", "leerkrachten"),
    "school": ("schooljaar", "peildatum", "brincode", "instellingsnummer", "dependancecode",
               "schoolkey", "aanmaakdatum", "auteur", "xsdversie", "commentaar", "toevoegingen"),
    "groep": ("naam", "jaargroep", "omschrijving", "toevoegingen", "mutatiedatum"),
    "samengestelde_groep": ("naam", "omschrijving", "toevoegingen", "mutatiedatum"),
    "leerling": (*_NAME, "geboortedatum", "geslacht", "start_ondw_jgr3", "jaargroep", "groep",
                 "samengestelde_groepen", "vestiging", "gebruikersnaam", "emailadres",
                 "fotourl", "etniciteit", "land", "land_vader", "land_moeder", "sofinummer",
                 "bsn", "onderwijsnummer", "bsn_ondwnr-4", "rijksregisternummer",
                 "gewicht_nieuw", "gewicht", "postcodenl", "postnummerbe", "postcodeoverig",
                 "instroomdatum", "uitstroomdatum", "toevoegingen", "mutatiedatum"),
    # rol and rolomschrijving are one repeated choice: the same rank keeps them in their order.
    "leerkracht": (*_NAME, "gebruikersnaam", "emailadres", "rol", "groepen", "toevoegingen",
                   "mutatiedatum"),
}
_RANK = {parent: {name: i for i, name in enumerate(names)} for parent, names in _ORDER.items()}
_RANK["leerkracht"]["rolomschrijving"] = _RANK["leerkracht"]["rol"]
# EDEXML 2.1 role codes the UWLR 2.2 list does not have, and what a LAS sends instead.
_ROLES = {"TAL": "LRK"}


def school_sizes(schools: int, pupils: int, seed: int) -> list[int]:
    """Pupils per school for `pupils` in `schools` schools, drawn exactly as `klaspoort
    generate-edexml --pupils P --schools S --seed X` draws them (about 50 to 500 a school), so
    this LAS serves the very rosters the country benchmark imported from those files."""
    rng = random.Random(seed)
    weights = [rng.uniform(0.25, 2.25) for _school in range(schools)]
    total = sum(weights)
    sizes = [max(1, int(pupils * w / total)) for w in weights]
    for index in range(pupils - sum(sizes)):
        sizes[index % schools] += 1
    return [max(1, size) for size in sizes]


def country(schools: int, pupils: int | None, per_school: int, seed: int
            ) -> list[tuple[str, str, int]]:
    """The first `schools` schools of the generator (BRIN, dependancecode, pupils)."""
    sizes = (school_sizes(schools, pupils, seed) if pupils is not None
             else [per_school] * schools)
    return [(brin, dep, size) for (brin, dep), size in zip(school_brins(schools), sizes,
                                                             strict=True)]


def hardened_parser(remove_blank_text: bool = False) -> etree.XMLParser:
    """The parser of klaspoort/roster/edexml.py: no entities, no DTD, no network, bounded."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True,
                           remove_pis=True, collect_ids=False,
                           remove_blank_text=remove_blank_text)


def leerlinggegevens(brin: str, dependancecode: str, pupils: int, *, seed: int, school_year: str,
                     night: int = 0, created: dt.datetime | None = None) -> etree._Element:
    """The school's roster as a UWLR 2.2 `<leerlinggegevens>` element, as it stands on `night`
    (0: as generated; each later night renames one pupil and moves another, see changes())."""
    edex = etree.fromstring(
        generate_school(brin, dependancecode, pupils, seed=seed, school_year=school_year),
        # Without the generator's indentation: the answer is a third smaller.
        parser=hardened_parser(remove_blank_text=True))
    for later in range(1, night + 1):
        changes(edex, brin, dependancecode, seed, later)
    school = edex.find("school")
    assert school is not None
    stamp = (created or dt.datetime.now()).replace(microsecond=0)  # the LAS's local time
    _set(school, "aanmaakdatum", stamp.isoformat())
    _set(school, "auteur", "Voorbeeld-LAS (examples/las_app)")
    _set(school, "xsdversie", UWLR_VERSION)
    return to_uwlr(edex)


def _set(parent: etree._Element, tag: str, text: str) -> None:
    child = parent.find(tag)
    if child is None:
        child = etree.SubElement(parent, tag)
    child.text = text


def to_uwlr(edex: etree._Element) -> etree._Element:
    """An EDEXML 2.1 `<EDEX>` tree (no namespace) as the UWLR `<leerlinggegevens>`: every
    element in the UWLR namespace, children in the schema's order, roles UWLR 2.2 knows."""
    for element in edex.iter():
        if not isinstance(element.tag, str):
            continue
        name = element.tag
        if name == "rol" and element.text in _ROLES:
            element.text = _ROLES[element.text]
        rank = _RANK.get("leerlinggegevens" if name == "EDEX" else name)
        if rank is not None and len(element) > 1:
            # A stable sort: what is already in order (the generator's output) stays as it is.
            element[:] = sorted(element, key=lambda child: rank.get(child.tag, len(rank)))
    for element in edex.iter():
        if isinstance(element.tag, str):
            name = "leerlinggegevens" if element.tag == "EDEX" else element.tag
            element.tag = f"{{{LG_NS}}}{name}"
    etree.cleanup_namespaces(edex)
    return edex


def changes(edex: etree._Element, brin: str, dependancecode: str, seed: int, night: int) -> None:
    """What happened at the school before `night` (1, 2, …), the same every time: one pupil
    goes by another first name, and another pupil moves to a parallel group, or else to the
    group of the year below (doubling a year). The pupils keep their keys, so Klaspoort sees a
    rename and a move, nobody new and nobody gone."""
    rng = random.Random(f"night-{seed}-{brin}{dependancecode}-{night}")
    pupils = edex.findall("leerlingen/leerling")
    groups = {g.get("key"): g.findtext("jaargroep") or "" for g in edex.findall("groepen/groep")}
    if not pupils:
        return
    renamed = rng.choice(pupils)
    old = renamed.findtext("roepnaam") or ""
    new = rng.choice([name for name in FIRST_NAMES if name != old])
    _set(renamed, "roepnaam", new)
    given = renamed.find("voornamen")
    if given is not None and given.text:
        given.text = " ".join([new, *given.text.split()[1:]])
    initials = renamed.find("voorletters-1")
    if initials is not None:
        initials.text = new[0] + "."
    movers = [p for p in pupils if p is not renamed and p.find("groep") is not None]
    if not movers or len(groups) < 2:
        return
    mover = rng.choice(movers)
    link = mover.find("groep")
    assert link is not None
    here = link.get("key")
    year = mover.findtext("jaargroep") or ""
    current = groups.get(here, "")
    # Neighbouring groups by year group; a combination group 1-2 (C) sits below group 3.
    order = ["C", *map(str, range(3, 9))]
    near = order.index(current) if current in order else -1
    below = order[near - 1] if near > 0 else None
    above = order[near + 1] if 0 <= near < len(order) - 1 else None
    parallel = [k for k, jg in groups.items() if k != here and jg == current]
    lower = [k for k, jg in groups.items() if jg == below]
    higher = [k for k, jg in groups.items() if jg == above]
    target = rng.choice(parallel or lower or higher or [k for k in groups if k != here])
    link.set("key", str(target))
    target_year = groups[target]
    if target_year == "C":  # a combination group 1-2: its pupils are in year 1 or 2
        target_year = year if year in ("1", "2") else "2"
    _set(mover, "jaargroep", target_year)
