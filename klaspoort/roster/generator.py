"""Synthetic but realistic EDEXML 2.1 files for demos, tests and benchmarks.

A school looks like a Dutch primary school: combination groups 1-2, groups 3 to 8 (parallel
classes when the school is large), a cluster (plusklas) across groups 5-8, one class teacher per
group plus an intern supervisor, an ICT coordinator and a gym teacher. Names carry diacritics
and prefixes, some pupils are twins, and the files carry the fields a real LAS exports and
Klaspoort must drop (BSN, postcode, country, birth date).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

FIRST_NAMES = [
    "Emma",
    "Julia",
    "Mila",
    "Tess",
    "Sophie",
    "Zoë",
    "Sara",
    "Nora",
    "Yara",
    "Eva",
    "Liv",
    "Lotte",
    "Noor",
    "Saar",
    "Noëlle",
    "Chloë",
    "Fenna",
    "Lieke",
    "Anna",
    "Maud",
    "Fleur",
    "Roos",
    "Isa",
    "Ilse",
    "Hiba",
    "Aya",
    "Fatima",
    "Amira",
    "Elif",
    "Meryem",
    "Lina",
    "Jasmijn",
    "Floor",
    "Noah",
    "Sem",
    "Liam",
    "Lucas",
    "Daan",
    "Finn",
    "Levi",
    "Luuk",
    "Mees",
    "Sam",
    "Bram",
    "Thijs",
    "Jesse",
    "Milan",
    "Ismaël",
    "Daniël",
    "Mohammed",
    "Adam",
    "Yusuf",
    "Ayoub",
    "Emir",
    "Mehmet",
    "Ömer",
    "Gijs",
    "Jurre",
    "Teun",
    "Stijn",
    "Ruben",
    "Joep",
    "Siem",
    "Hugo",
    "Jayden",
    "Dex",
    "Olivier",
    "Boaz",
    "Tim",
    "Koen",
    "Joël",
    "Raphaël",
    "Sven",
    "Niels",
    "Kaj",
    "Ties",
]
LAST_NAMES = [
    ("de", "Jong"),
    ("", "Jansen"),
    ("de", "Vries"),
    ("van den", "Berg"),
    ("van", "Dijk"),
    ("", "Bakker"),
    ("", "Janssen"),
    ("", "Visser"),
    ("", "Smit"),
    ("", "Meijer"),
    ("de", "Boer"),
    ("", "Mulder"),
    ("de", "Groot"),
    ("", "Bos"),
    ("", "Vos"),
    ("", "Peters"),
    ("", "Hendriks"),
    ("van", "Leeuwen"),
    ("", "Dekker"),
    ("", "Brouwer"),
    ("de", "Wit"),
    ("", "Dijkstra"),
    ("", "Smits"),
    ("de", "Graaf"),
    ("van der", "Meer"),
    ("van der", "Linden"),
    ("", "Kok"),
    ("", "Jacobs"),
    ("de", "Haan"),
    ("", "Vermeulen"),
    ("van 't", "Hof"),
    ("", "Çelik"),
    ("", "Yılmaz"),  # noqa: RUF001 - a real Turkish name, dotless i included
    ("", "El Amrani"),
    ("", "Öztürk"),
    ("", "Nguyen"),
    ("", "Kaya"),
    ("", "Bouzid"),
    ("ter", "Horst"),
    ("van", "Wijk"),
    ("", "Schouten"),
    ("", "Koster"),
    ("", "Prins"),
    ("", "Postma"),
    ("van", "Beek"),
    ("", "Willems"),
    ("in 't", "Veld"),
    ("", "Kramer"),
    ("van den", "Heuvel"),
    ("", "Hoekstra"),
]
TEACHER_FIRST = [
    "Marieke",
    "Anouk",
    "Esther",
    "Ingrid",
    "Judith",
    "Karin",
    "Linda",
    "Monique",
    "Petra",
    "Sandra",
    "Wendy",
    "Yvonne",
    "Henk",
    "Jeroen",
    "Mark",
    "Pieter",
    "Rob",
    "Sander",
    "Tom",
    "Wouter",
    "Hanneke",
    "Ellen",
    "Femke",
    "Miriam",
]


@dataclass
class _Group:
    key: str
    name: str
    jaargroep: str
    years: tuple[int, ...]


def _brin(index: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"{index % 100:02d}{letters[(index // 100) % 26]}{letters[(index // 2600) % 26]}"


def school_brins(count: int, start: int = 0) -> Iterator[tuple[str, str]]:
    """Distinct (BRIN, dependancecode) pairs; 67,600 before they repeat with another code."""
    for i in range(start, start + count):
        yield _brin(i % 67600), f"{i // 67600:02d}"


def _plan_groups(pupils: int) -> list[_Group]:
    per_year = max(1, pupils / 8)
    groups: list[_Group] = []
    classes_12 = max(1, math.ceil(per_year * 2 / 27))
    for c in range(classes_12):
        suffix = chr(ord("A") + c) if classes_12 > 1 else ""
        groups.append(_Group(f"g12{suffix or 'A'}", f"Groep 1-2{suffix}", "C", (1, 2)))
    for year in range(3, 9):
        classes = max(1, math.ceil(per_year / 28))
        for c in range(classes):
            suffix = chr(ord("A") + c) if classes > 1 else ""
            groups.append(
                _Group(f"g{year}{suffix or 'A'}", f"Groep {year}{suffix}", str(year), (year,))
            )
    return groups


def _eckid(rng: random.Random) -> str:
    return "https://ketenid.nl/201703/" + "".join(
        rng.choice("0123456789abcdef") for _ in range(128)
    )


def _postcode(number: int) -> str:
    """A Dutch postcode (1234 AB, written without the space as the standard wants) from its
    four digits; the letters follow from them, so a seed draws the same numbers as ever."""
    return f"{number}{chr(65 + number % 26)}{chr(65 + number // 26 % 26)}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = text
    return el


def _name(parent: etree._Element, rng: random.Random, first: str, family: tuple[str, str]) -> None:
    prefix, last = family
    _sub(parent, "achternaam", last)
    if prefix:
        _sub(parent, "voorvoegsel", prefix)
    extra = rng.choice(["", " Maria", " Johannes", " Sophia", " Willem"])
    _sub(parent, "voornamen", first + extra)
    _sub(parent, "voorletters-1", first[0] + ".")
    _sub(parent, "roepnaam", first)


def generate_school(
    brin: str,
    dependancecode: str,
    pupils: int,
    seed: int = 0,
    school_year: str = "2025-2026",
    encoding: str = "UTF-8",
) -> bytes:
    """One school's EDEXML 2.1 file with `pupils` pupils."""
    rng = random.Random(f"{seed}-{brin}{dependancecode}")
    root = etree.Element("EDEX")
    school = _sub(root, "school")
    _sub(school, "schooljaar", school_year)
    _sub(school, "brincode", brin)
    _sub(school, "dependancecode", dependancecode)
    _sub(school, "aanmaakdatum", "2025-09-01T07:30:00")
    _sub(school, "auteur", "Klaspoort generator")
    _sub(school, "xsdversie", "2.1")

    plan = _plan_groups(pupils)
    groups_el = _sub(root, "groepen")
    for g in plan:
        el = _sub(groups_el, "groep", key=g.key)
        _sub(el, "naam", g.name)
        _sub(el, "jaargroep", g.jaargroep)
    cluster = _sub(groups_el, "samengestelde_groep", key="plusklas")
    _sub(cluster, "naam", "Plusklas")
    _sub(cluster, "omschrijving", "Verrijking voor groep 5 t/m 8")

    start_year = int(school_year[:4])
    pupils_el = _sub(root, "leerlingen")
    twin_of: tuple[tuple[str, str], dt.date] | None = None
    for i in range(pupils):
        group = plan[i * len(plan) // pupils]
        year = rng.choice(group.years)
        if twin_of is not None:
            family, birth = twin_of
            twin_of = None
        else:
            family = rng.choice(LAST_NAMES)
            birth = dt.date(start_year - year - 4, rng.randint(1, 12), rng.randint(1, 28))
            if rng.random() < 0.02:
                twin_of = (family, birth)
        el = _sub(pupils_el, "leerling", key=f"L{i + 1:06d}")
        if rng.random() < 0.8:
            el.set("eckid", _eckid(rng))
        _name(el, rng, rng.choice(FIRST_NAMES), family)
        _sub(el, "geboortedatum", birth.isoformat())
        _sub(el, "geslacht", rng.choice("12"))
        _sub(el, "jaargroep", str(year))
        _sub(el, "groep", key=group.key)
        if year >= 5 and rng.random() < 0.05:
            box = _sub(el, "samengestelde_groepen")
            _sub(box, "samengestelde_groep", key="plusklas")
        _sub(el, "land", "NL")
        _sub(el, "bsn", f"{rng.randint(100000000, 999999999)}")
        _sub(el, "postcodenl", _postcode(rng.randint(1000, 9999)))

    teachers_el = _sub(root, "leerkrachten")
    staff: list[tuple[str, list[str], list[tuple[str, str]]]] = [
        (f"T{n + 1:04d}", ["LRK"], [("groep", g.key)]) for n, g in enumerate(plan)
    ]
    base = len(staff)
    staff.append((f"T{base + 1:04d}", ["IB"], [("groep", g.key) for g in plan]))
    staff.append((f"T{base + 2:04d}", ["ICT", "LRK"], [("samengestelde_groep", "plusklas")]))
    staff.append((f"T{base + 3:04d}", ["VAK"], [("groep", g.key) for g in plan if g.years[0] >= 3]))
    staff.append((f"T{base + 4:04d}", ["DIR"], []))
    # About one class in twelve is shared by a duo of part-time teachers, as in many Dutch
    # schools; a separate generator keeps the pupils of a seed the same as before.
    duo = random.Random(f"duo-{seed}-{brin}{dependancecode}")
    for g in plan:
        if duo.random() < 0.08:
            staff.append((f"T{len(staff) + 1:04d}", ["LRK"], [("groep", g.key)]))
    for key, roles, links in staff:
        el = _sub(teachers_el, "leerkracht", key=key)
        first = rng.choice(TEACHER_FIRST)
        family = rng.choice(LAST_NAMES)
        _name(el, rng, first, family)
        if rng.random() < 0.9:
            _sub(
                el,
                "emailadres",
                f"{first.lower()}.{key.lower()}.{brin.lower()}{dependancecode}@school.example",
            )
        for role in roles:
            _sub(el, "rol", role)
        if links:
            box = _sub(el, "groepen")
            for tag, group_key in links:
                _sub(box, tag, key=group_key)
    return etree.tostring(root, xml_declaration=True, encoding=encoding, pretty_print=True)
