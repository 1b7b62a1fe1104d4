"""Reading EDEXML files: what a coordinator's file turns into, and what is refused and why.

The builders at the top (`edexml`, `line_of`, …) are shared with the other roster tests: they
write small, hand-made files in which every element starts its own line, so a test can say on
which line an error must be reported.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from klaspoort.roster.edexml import RosterFileError, max_bytes, parse_edexml, shown
from klaspoort.roster.generator import generate_school


@pytest.fixture(autouse=True)
def _dutch():
    """The messages are checked in Dutch, the default, whatever an earlier test in this process
    left active (a request with an English cookie activates English for the whole thread)."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


ECKID_1 = "https://ketenid.nl/201703/" + "a1" * 64
ECKID_2 = "https://ketenid.nl/201703/" + "b2" * 64
ECKID_T = "https://ketenid.nl/201703/" + "c3" * 64


def school_xml(*, brin="99ZZ", dependancecode="00", year="2025-2026", version="2.1",
               extra="") -> str:
    dep = f"\n    <dependancecode>{dependancecode}</dependancecode>" if dependancecode else ""
    ver = f"\n    <xsdversie>{version}</xsdversie>" if version else ""
    return (f"  <school>\n    <schooljaar>{year}</schooljaar>\n    <brincode>{brin}</brincode>"
            f"{dep}\n    <aanmaakdatum>2025-09-01T07:30:00</aanmaakdatum>{ver}{extra}\n"
            "  </school>\n")


GROUPS = """\
  <groepen>
    <groep key="g12">
      <naam>Groep 1-2</naam>
      <jaargroep>C</jaargroep>
    </groep>
    <groep key="g5">
      <naam>Groep 5</naam>
      <jaargroep>5</jaargroep>
      <mutatiedatum>2025-08-20T10:15:00</mutatiedatum>
    </groep>
    <samengestelde_groep key="plus">
      <naam>Plusklas</naam>
      <omschrijving>Verrijking groep 5 t/m 8</omschrijving>
    </samengestelde_groep>
  </groepen>
"""


def pupil_xml(key, *, last="Jansen", prefix=None, given=None, call="Sem", jaargroep=None,
              group=None, clusters=(), eckid=None, extra="", tail="") -> str:
    """One <leerling>, each child on its own line; `extra` goes after the group references
    (where vestiging, e-mail, country, BSN, postcode … belong), `tail` after that."""
    attrs = f' key="{key}"' + (f' eckid="{eckid}"' if eckid else "")
    lines = [f"    <leerling{attrs}>"]
    if last is not None:
        lines.append(f"      <achternaam>{last}</achternaam>")
    if prefix:
        lines.append(f"      <voorvoegsel>{prefix}</voorvoegsel>")
    if given:
        lines.append(f"      <voornamen>{given}</voornamen>")
    if call:
        lines.append(f"      <roepnaam>{call}</roepnaam>")
    lines.append("      <geboortedatum>2016-03-14</geboortedatum>")
    if jaargroep:
        lines.append(f"      <jaargroep>{jaargroep}</jaargroep>")
    if group:
        lines.append(f'      <groep key="{group}"/>')
    if clusters:
        lines.append("      <samengestelde_groepen>")
        lines += [f'        <samengestelde_groep key="{c}"/>' for c in clusters]
        lines.append("      </samengestelde_groepen>")
    if extra:
        lines.append(extra)
    if tail:
        lines.append(tail)
    lines.append("    </leerling>")
    return "\n".join(lines) + "\n"


def teacher_xml(key, *, last="Vries", prefix="de", call="Marieke", email=None, roles=(),
                groups=(), eckid=None) -> str:
    """One <leerkracht>; groups are (tag, key, roles) triples."""
    attrs = f' key="{key}"' + (f' eckid="{eckid}"' if eckid else "")
    lines = [f"    <leerkracht{attrs}>"]
    if last:
        lines.append(f"      <achternaam>{last}</achternaam>")
    if prefix:
        lines.append(f"      <voorvoegsel>{prefix}</voorvoegsel>")
    lines.append(f"      <roepnaam>{call}</roepnaam>")
    if email:
        lines.append(f"      <emailadres>{email}</emailadres>")
    lines += [f"      <rol>{r}</rol>" for r in roles]
    if groups:
        lines.append("      <groepen>")
        for tag, gkey, groles in groups:
            if groles:
                lines.append(f'        <{tag} key="{gkey}">')
                lines += [f"          <rol>{r}</rol>" for r in groles]
                lines.append(f"        </{tag}>")
            else:
                lines.append(f'        <{tag} key="{gkey}"/>')
        lines.append("      </groepen>")
    lines.append("    </leerkracht>")
    return "\n".join(lines) + "\n"


PUPILS = (
    pupil_xml("L1", last="Hof", prefix="van 't", given="Zoë Maria", call="Zoë", jaargroep="1",
              group="g12", eckid=ECKID_1)
    + pupil_xml("L2", last="Çelik", call="Ismaël", jaargroep="2", group="g12", eckid=ECKID_2)
    + pupil_xml("L3", last=None, call="Daan", jaargroep="5", group="g5", clusters=["plus"])
    + pupil_xml("L4", last="Jansen", given="Sem Willem", call=None, group="g5")
)
TEACHERS = (
    teacher_xml("T1", email="M.deVries@School.example", roles=["LRK"],
                groups=[("groep", "g12", ["LRK"]), ("samengestelde_groep", "plus", ["VAK"])],
                eckid=ECKID_T)
    + teacher_xml("T2", last="Bakker", prefix=None, call="Henk", roles=["ICT", "LRK"],
                  groups=[("groep", "g5", [])])
)


def edexml(*, school: str | None = None, groups: str | None = GROUPS, pupils: str = PUPILS,
           teachers: str | None = TEACHERS, encoding: str = "UTF-8", root: str = "EDEX",
           prolog: str = "", version: str = "2.1") -> bytes:
    """A complete file; pass None for groups/teachers to leave the element out."""
    school = school if school is not None else school_xml(version=version)
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n{prolog}'
        f'<{root} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="EDEXML.structuur.xsd">\n'
        f"{school}{groups or ''}  <leerlingen>\n{pupils}  </leerlingen>\n"
        + (f"  <leerkrachten>\n{teachers}  </leerkrachten>\n" if teachers else "")
        + f"</{root}>\n"
    )
    return text.encode(encoding)


def line_of(data: bytes | str, needle: str, nth: int = 1) -> int:
    """The 1-based line on which `needle` occurs for the nth time."""
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    position = -1
    for _ in range(nth):
        position = text.index(needle, position + 1)
    return text.count("\n", 0, position) + 1


def errors_of(data: bytes) -> list:
    with pytest.raises(RosterFileError) as caught:
        parse_edexml(data)
    assert caught.value.errors, "a refused file must say why"
    return caught.value.errors


def by_key(items: list[dict]) -> dict[str, dict]:
    return {item["key"]: item for item in items}


def warnings_of(data: bytes) -> list[tuple[int | None, str]]:
    """The warnings of a file that is accepted, as (line, message)."""
    return [(w["line"], w["message"]) for w in parse_edexml(data)["warnings"]]


# ---------------------------------------------------------------------------------------------
# Valid files
# ---------------------------------------------------------------------------------------------
def test_a_2_1_file_gives_the_school_its_groups_pupils_and_teachers():
    roster = parse_edexml(edexml())

    assert roster["version"] == "2.1"
    assert roster["school"] == {"brin": "99ZZ", "dependancecode": "00",
                                "school_year": "2025-2026"}
    groups = by_key(roster["groups"])
    assert groups["g12"] == {"key": "g12", "kind": "group", "name": "Groep 1-2",
                             "jaargroep": "C", "description": ""}
    assert groups["plus"]["kind"] == "cluster"
    assert groups["plus"]["jaargroep"] == ""
    assert groups["plus"]["description"] == "Verrijking groep 5 t/m 8"

    pupils = by_key(roster["pupils"])
    assert [p["key"] for p in roster["pupils"]] == ["L1", "L2", "L3", "L4"]
    assert pupils["L1"] == {"key": "L1", "eckid": ECKID_1, "first_name": "Zoë",
                            "prefix": "van 't", "last_name": "Hof", "jaargroep": "1",
                            "group": "g12", "clusters": []}
    assert roster["left_pupils"] == []
    assert roster["warnings"] == []


def test_pupils_of_a_combination_group_keep_their_own_year_group():
    pupils = by_key(parse_edexml(edexml())["pupils"])
    assert (pupils["L1"]["group"], pupils["L1"]["jaargroep"]) == ("g12", "1")
    assert (pupils["L2"]["group"], pupils["L2"]["jaargroep"]) == ("g12", "2")


def test_a_pupil_without_a_year_group_takes_the_year_group_of_the_group():
    pupils = by_key(parse_edexml(edexml())["pupils"])
    assert pupils["L4"]["jaargroep"] == "5"


def test_names_follow_the_name_choice_of_the_standard():
    pupils = by_key(parse_edexml(edexml())["pupils"])
    # roepnaam only: no last name at all
    assert (pupils["L3"]["first_name"], pupils["L3"]["last_name"]) == ("Daan", "")
    # no roepnaam: the first of the voornamen
    assert (pupils["L4"]["first_name"], pupils["L4"]["last_name"]) == ("Sem", "Jansen")
    # prefix kept apart, with its apostrophe
    assert pupils["L1"]["prefix"] == "van 't"


def test_cluster_membership_and_teacher_roles_per_group():
    roster = parse_edexml(edexml())
    assert by_key(roster["pupils"])["L3"]["clusters"] == ["plus"]
    teachers = by_key(roster["teachers"])
    assert teachers["T1"]["groups"] == [{"key": "g12", "roles": ["LRK"]},
                                        {"key": "plus", "roles": ["VAK"]}]
    assert teachers["T1"]["email"] == "m.devries@school.example"
    assert teachers["T1"]["eckid"] == ECKID_T
    assert teachers["T2"]["roles"] == ["ICT", "LRK"]
    assert teachers["T2"]["groups"] == [{"key": "g5", "roles": []}]
    assert teachers["T2"]["email"] == ""


def test_iso_8859_1_file_with_dutch_diacritics_is_read_correctly():
    data = edexml(encoding="ISO-8859-1")
    assert "Ismaël".encode("latin-1") in data  # really Latin-1 bytes, not UTF-8
    pupils = by_key(parse_edexml(data)["pupils"])
    assert (pupils["L2"]["first_name"], pupils["L2"]["last_name"]) == ("Ismaël", "Çelik")
    assert pupils["L1"]["first_name"] == "Zoë"


def test_utf8_file_with_byte_order_mark_is_read():
    roster = parse_edexml(b"\xef\xbb\xbf" + edexml())
    assert by_key(roster["pupils"])["L2"]["first_name"] == "Ismaël"


def test_a_2_0_file_without_eckids_is_read():
    pupils = (pupil_xml("1071", last="Aar", prefix="van der", call="Savannah", group="g5")
              + pupil_xml("990", last="Aarts", given="Samantha", call="Sam", jaargroep="5",
                          group="g5", clusters=["plus"]))
    roster = parse_edexml(edexml(version="2.0", pupils=pupils))
    assert roster["version"] == "2.0"
    assert [p["eckid"] for p in roster["pupils"]] == [None, None]
    assert by_key(roster["pupils"])["1071"]["prefix"] == "van der"


def test_a_1_03_file_is_read():
    # 1.03: no voornamen, no clusters; a pupil carries a group or only a year group; teachers
    # have plain group references.
    groups = """\
  <groepen>
    <groep key="49">
      <naam>1A</naam>
      <jaargroep>1</jaargroep>
      <mutatiedatum>2005-08-29T22:19:18</mutatiedatum>
    </groep>
  </groepen>
"""
    pupils = (pupil_xml("3580", last="Aa", prefix="v. d.", call="Anouska", jaargroep="4",
                        extra="      <etniciteit>9</etniciteit>\n      <land>?</land>")
              + pupil_xml("1071", last="Aar", call="Savannah", group="49"))
    teachers = "    <leerkracht key=\"7\">\n      <achternaam>Smit</achternaam>\n" \
               "      <roepnaam>Karin</roepnaam>\n      <groepen>\n" \
               "        <groep key=\"49\"/>\n      </groepen>\n    </leerkracht>\n"
    roster = parse_edexml(edexml(version="1.03", groups=groups, pupils=pupils,
                                 teachers=teachers))
    assert roster["version"] == "1.03"
    pupils_read = by_key(roster["pupils"])
    assert (pupils_read["3580"]["group"], pupils_read["3580"]["jaargroep"]) == (None, "4")
    assert (pupils_read["1071"]["group"], pupils_read["1071"]["jaargroep"]) == ("49", "1")
    assert roster["teachers"][0]["groups"] == [{"key": "49", "roles": []}]


def test_a_file_without_xsdversie_is_read_as_2_1():
    data = edexml(school=school_xml(version=None))
    assert parse_edexml(data)["version"] == "2.1"


def test_dependancecode_absent_means_00():
    roster = parse_edexml(edexml(school=school_xml(dependancecode=None)))
    assert roster["school"]["dependancecode"] == "00"


def test_a_generated_school_file_is_valid_and_carries_no_privacy_fields():
    data = generate_school("12AB", "01", 120, seed=3)
    assert b"<bsn>" in data and b"<postcodenl>" in data  # the generator writes them …
    postcode = re.search(rb"<postcodenl>(\w+)</postcodenl>", data)[1].decode()
    bsn = re.search(rb"<bsn>(\w+)</bsn>", data)[1].decode()
    roster = parse_edexml(data)
    assert len(roster["pupils"]) == 120
    assert roster["warnings"] == []
    text = repr(roster)
    for word in ("bsn", "postcode", "land", "geboortedatum", postcode, bsn):
        assert word not in text  # … and the reader keeps none of them


# ---------------------------------------------------------------------------------------------
# Refused files: a Dutch message with the line
# ---------------------------------------------------------------------------------------------
def test_not_xml():
    [error] = errors_of(b"Naam;Groep\nSem;5\n")
    assert error.line == 1
    assert "geen XML-bestand" in error.message


def test_a_truncated_file_says_it_is_incomplete():
    data = edexml()
    cut = data[: data.index(b"<leerling key=\"L3\"") + 30]
    [error] = errors_of(cut)
    assert "onvolledig" in error.message
    assert error.line == cut.count(b"\n") + 1


def test_wrong_root_element():
    [error] = errors_of(edexml(root="LAS"))
    assert error.line == 2
    assert "geen EDEXML-bestand" in error.message and "<LAS>" in error.message


def test_an_unknown_version_is_read_by_the_2_1_rules_with_a_warning():
    # <xsdversie> is a free string in the standard (EDEXString32Type).
    data = edexml(version="3.0")
    roster = parse_edexml(data)
    assert roster["version"] == "2.1"
    assert len(roster["pupils"]) == 4
    assert warnings_of(data) == [(line_of(data, "<xsdversie>"), (
        "EDEXML-versie '3.0' kent Klaspoort niet; het bestand is gelezen volgens de regels van "
        "versie 2.1."))]


def test_doctype_with_external_entity_is_refused_before_parsing():
    prolog = '<!DOCTYPE EDEX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    data = edexml(prolog=prolog).replace(b"<roepnaam>Daan</roepnaam>",
                                         b"<roepnaam>&xxe;</roepnaam>")
    assert b"&xxe;" in data
    [error] = errors_of(data)
    assert "DOCTYPE" in error.message and "veiligheidsredenen" in error.message
    assert "root:" not in error.message


def test_billion_laughs_is_refused():
    entities = '<!ENTITY lol "lol">\n' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10))
    data = edexml(prolog=f"<!DOCTYPE EDEX [\n{entities}]>\n").replace(
        b"<roepnaam>Daan</roepnaam>", b"<roepnaam>&lol9;</roepnaam>")
    [error] = errors_of(data)
    assert "DOCTYPE" in error.message


def test_a_doctype_hidden_behind_a_long_comment_is_still_refused():
    # The quick scan reads the first 64 KB; the parser's own DOCTYPE check is the second lock.
    prolog = "<!--" + "x" * 70_000 + "-->\n" + \
        '<!DOCTYPE EDEX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    data = edexml(prolog=prolog).replace(b"<roepnaam>Daan</roepnaam>",
                                         b"<roepnaam>&xxe;</roepnaam>")
    assert b"&xxe;" in data
    [error] = errors_of(data)
    assert error.message.startswith("Het bestand bevat een DOCTYPE- of ENTITY-declaratie.")


def test_a_file_over_the_size_limit_is_refused_without_parsing():
    [error] = errors_of(b" " * (max_bytes() + 1))
    assert "te groot" in error.message and "MB" in error.message


def test_an_empty_file():
    [error] = errors_of(b"  \n")
    assert "leeg" in error.message


def test_duplicate_pupil_and_teacher_keys():
    pupils = PUPILS + pupil_xml("L2", call="Noor", group="g5")
    teachers = TEACHERS + teacher_xml("T2", call="Rob")
    data = edexml(pupils=pupils, teachers=teachers)
    errors = errors_of(data)
    first_pupil = line_of(data, '<leerling key="L2"')
    first_teacher = line_of(data, '<leerkracht key="T2"')
    assert [(e.line, e.message) for e in errors] == [
        (line_of(data, '<leerling key="L2"', 2),
         f"Leerling-key 'L2' komt meer dan één keer voor (eerder op regel {first_pupil})."),
        (line_of(data, '<leerkracht key="T2"', 2),
         f"Leerkracht-key 'T2' komt meer dan één keer voor (eerder op regel {first_teacher})."),
    ]


def test_a_group_and_a_cluster_may_not_share_a_key():
    groups = GROUPS.replace('<samengestelde_groep key="plus">', '<samengestelde_groep key="g5">')
    pupils = PUPILS.replace('<samengestelde_groep key="plus"/>', '<samengestelde_groep key="g5"/>')
    teachers = TEACHERS.replace('key="plus"', 'key="g5"')
    data = edexml(groups=groups, pupils=pupils, teachers=teachers)
    errors = errors_of(data)
    assert errors[0].line == line_of(data, '<samengestelde_groep key="g5">')
    assert "Groep-key 'g5' komt meer dan één keer voor" in errors[0].message
    assert "samen uniek" in errors[0].message


def test_duplicate_eckids_among_pupils_and_among_teachers_without_showing_them():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5", eckid=ECKID_1)
    teachers = TEACHERS + teacher_xml("T9", call="Rob", eckid=ECKID_T)
    data = edexml(pupils=pupils, teachers=teachers)
    errors = errors_of(data)
    assert [e.line for e in errors] == [line_of(data, '<leerling key="L9"'),
                                        line_of(data, '<leerkracht key="T9"')]
    first = line_of(data, '<leerling key="L1"')
    assert errors[0].message == (f"Het ECK iD van leerling 'L9' komt ook voor op regel {first}; "
                                 "een ECK iD moet uniek zijn.")
    for error in errors:
        assert "ketenid" not in error.message


def test_the_same_eckid_for_a_pupil_and_a_teacher_is_allowed():
    teachers = TEACHERS + teacher_xml("T9", call="Rob", eckid=ECKID_1)
    assert len(parse_edexml(edexml(teachers=teachers))["teachers"]) == 3


@pytest.mark.parametrize("eckid", [
    "https://ketenid.nl/201703/123",
    "https://id.school/LL_123467890abcdefghijklmnopqrstuvwxz!@#$%^_-",
    "https://ketenid.nl/pilot/" + "e1" * 64,
    "eckid_L1",
    " ",
    "x" * 256,
])
def test_an_eckid_is_any_string_of_1_to_256_characters_kept_as_given(eckid):
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5", eckid=eckid)
    roster = parse_edexml(edexml(pupils=pupils))
    assert by_key(roster["pupils"])["L9"]["eckid"] == eckid
    assert roster["warnings"] == []


def test_an_eckid_longer_than_the_standard_allows_is_dropped_with_a_warning_not_shown():
    eckid = "https://ketenid.nl/201703/" + "f" * 240
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5", eckid=eckid)
    data = edexml(pupils=pupils)
    roster = parse_edexml(data)
    assert by_key(roster["pupils"])["L9"]["eckid"] is None
    assert warnings_of(data) == [(line_of(data, '<leerling key="L9"'), (
        "Het ECK iD van leerling 'L9' is langer dan 256 tekens; het wordt genegeerd."))]


def test_references_to_missing_groups_and_clusters():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g7", clusters=["plus", "knutsel"])
    teachers = TEACHERS + teacher_xml("T9", call="Rob", groups=[("groep", "g8", [])])
    data = edexml(pupils=pupils, teachers=teachers)
    errors = errors_of(data)
    assert [(e.line, e.message) for e in errors] == [
        (line_of(data, '<groep key="g7"/>'),
         "Leerling 'L9' verwijst naar groep 'g7', maar die groep staat niet in <groepen>."),
        (line_of(data, '<samengestelde_groep key="knutsel"/>'),
         "Leerling 'L9' verwijst naar samengestelde groep 'knutsel', maar die samengestelde "
         "groep staat niet in <groepen>."),
        (line_of(data, '<groep key="g8"/>'),
         "Leerkracht 'T9' verwijst naar groep 'g8', maar die groep staat niet in <groepen>."),
    ]


def test_a_pupil_may_not_name_a_cluster_as_its_group():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="plus")
    data = edexml(pupils=pupils)
    [error] = errors_of(data)
    assert error.line == line_of(data, '<groep key="plus"/>')
    assert "in <groepen> is dat een samengestelde groep" in error.message


def test_missing_required_elements():
    groups = GROUPS.replace("      <jaargroep>5</jaargroep>\n", "")
    pupils = PUPILS + '    <leerling key="L9">\n      <jaargroep>5</jaargroep>\n    </leerling>\n'
    data = edexml(groups=groups, pupils=pupils,
                  school=school_xml().replace("    <schooljaar>2025-2026</schooljaar>\n", ""))
    messages = {(e.line, e.message) for e in errors_of(data)}
    assert (line_of(data, "<school>"),
            "Verplicht element <schooljaar> ontbreekt in <school>.") in messages
    assert (line_of(data, '<groep key="g5">'),
            "Verplicht element <jaargroep> ontbreekt in <groep>.") in messages
    assert (line_of(data, '<leerling key="L9">'),
            "Leerling 'L9' heeft geen naam: <achternaam> of <roepnaam> is verplicht.") in messages


def test_a_file_without_pupils_is_refused():
    data = edexml(pupils="")
    [error] = errors_of(data)
    assert error.message == "Verplicht element <leerling> ontbreekt in <leerlingen>."
    assert error.line == line_of(data, "<leerlingen>")


def test_elements_in_any_order_are_read():
    # Real exports (Magister) put <voorvoegsel> after <roepnaam>, <achternaam> last, the
    # school's <brincode> after <dependancecode> and <groepen> after <leerlingen>.
    school = ("  <school>\n    <xsdversie>2.1</xsdversie>\n    <dependancecode>01</dependancecode>"
              "\n    <brincode>99ZZ</brincode>\n    <schooljaar>2025-2026</schooljaar>\n"
              "  </school>\n")
    pupils = ('    <leerling key="L1">\n      <groep key="g5"/>\n      <roepnaam>Sem</roepnaam>\n'
              "      <voorvoegsel>de</voorvoegsel>\n      <jaargroep>5</jaargroep>\n"
              "      <achternaam>Boer</achternaam>\n    </leerling>\n")
    text = edexml(school=school, pupils=pupils, teachers=None).decode()
    groups_block = text[text.index("  <groepen>"):text.index("  <leerlingen>")]
    text = text.replace(groups_block, "").replace("</EDEX>", groups_block + "</EDEX>")
    roster = parse_edexml(text.encode())
    assert roster["school"] == {"brin": "99ZZ", "dependancecode": "01",
                                "school_year": "2025-2026"}
    assert roster["pupils"] == [{"key": "L1", "eckid": None, "first_name": "Sem",
                                 "prefix": "de", "last_name": "Boer", "jaargroep": "5",
                                 "group": "g5", "clusters": []}]
    assert roster["warnings"] == []


def test_an_unknown_element_is_ignored_with_a_warning_and_never_stored():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5",
                                tail="      <hobby>voetbal</hobby>\n      <leerjaar>6</leerjaar>")
    data = edexml(pupils=pupils)
    roster = parse_edexml(data)
    assert "voetbal" not in repr(roster["pupils"]) and "leerjaar" not in repr(roster["pupils"])
    assert by_key(roster["pupils"])["L9"]["jaargroep"] == "5"  # from its group, not <leerjaar>
    assert warnings_of(data) == [
        (line_of(data, "<hobby>"), "Onbekend element <hobby> in <leerling> (leerling 'L9') "
                                   "wordt genegeerd; dat hoort daar volgens de EDEXML-standaard "
                                   "niet."),
        (line_of(data, "<leerjaar>"), "Onbekend element <leerjaar> in <leerling> (leerling 'L9') "
                                      "wordt genegeerd; dat hoort daar volgens de "
                                      "EDEXML-standaard niet."),
    ]


def test_an_element_that_occurs_more_often_than_allowed_is_still_an_error():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5", jaargroep="5",
                                tail="      <jaargroep>6</jaargroep>")
    data = edexml(pupils=pupils)
    [error] = errors_of(data)
    assert error.line == line_of(data, "<jaargroep>6</jaargroep>")
    assert error.message == ("Element <jaargroep> komt te vaak voor in <leerling> (leerling "
                             "'L9'); het mag er maar één keer staan.")


def test_empty_optional_elements_count_as_absent():
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5", prefix=None,
                                extra="      <voorvoegsel></voorvoegsel>\n"
                                      "      <samengestelde_groepen/>\n      <vestiging/>\n"
                                      "      <emailadres> </emailadres>\n      <toevoegingen/>")
    teachers = TEACHERS + ('    <leerkracht key="T9">\n      <roepnaam>Rob</roepnaam>\n'
                           "      <emailadres/>\n      <rol/>\n      <groepen>\n"
                           "      </groepen>\n    </leerkracht>\n")
    text = edexml(pupils=pupils, teachers=teachers).decode().replace(
        "  <leerlingen>", "  <vestigingen/>\n  <leerlingen>")
    roster = parse_edexml(text.encode())
    assert by_key(roster["pupils"])["L9"]["prefix"] == ""
    assert by_key(roster["pupils"])["L9"]["clusters"] == []
    assert by_key(roster["teachers"])["T9"] == {
        "key": "T9", "eckid": None, "first_name": "Rob", "prefix": "", "last_name": "",
        "email": "", "roles": [], "groups": []}
    assert roster["warnings"] == []
    # An empty <leerkrachten/> is no teachers at all.
    assert parse_edexml(edexml(teachers=None).replace(
        b"</EDEX>", b"  <leerkrachten/>\n</EDEX>"))["teachers"] == []


def test_a_key_of_one_space_is_a_key_and_an_empty_key_is_an_error():
    groups = GROUPS.replace('<groep key="g5">', '<groep key=" ">')
    pupils = (PUPILS.replace('<groep key="g5"/>', '<groep key=" "/>')
              + pupil_xml(" ", call="Noor", group=" "))
    teachers = TEACHERS.replace('<groep key="g5"/>', '<groep key=" "/>')
    roster = parse_edexml(edexml(groups=groups, pupils=pupils, teachers=teachers))
    assert by_key(roster["groups"])[" "]["name"] == "Groep 5"
    assert by_key(roster["pupils"])[" "]["group"] == " "
    assert by_key(roster["pupils"])["L4"]["group"] == " "
    data = edexml(pupils=PUPILS + pupil_xml("", call="Noor", group="g5"))
    [error] = errors_of(data)
    assert error.line == line_of(data, '<leerling key=""')
    assert error.message == ('Een leerling heeft geen key (het verplichte attribuut key="…" '
                             "ontbreekt of is leeg).")


@pytest.mark.parametrize(("school", "needle", "expected"), [
    (school_xml(brin="99zz"), "<brincode>", "BRIN-code '99zz' is ongeldig"),
    (school_xml(brin="9ZZZ"), "<brincode>", "BRIN-code '9ZZZ' is ongeldig"),
    (school_xml(dependancecode="A1"), "<dependancecode>", "Dependancecode 'A1' is ongeldig"),
    (school_xml(year="2025-2027"), "<schooljaar>", "Schooljaar '2025-2027' is ongeldig"),
    (school_xml(year="2025"), "<schooljaar>", "Schooljaar '2025' is ongeldig"),
])
def test_malformed_school_values(school, needle, expected):
    data = edexml(school=school)
    [error] = errors_of(data)
    assert error.line == line_of(data, needle)
    assert expected in error.message


@pytest.mark.parametrize(("bad", "expected"), [
    ("2016-02-30", "'2016-02-30'"),
    ("14-03-2016", "'14-03-2016'"),
])
def test_an_invalid_date_klaspoort_does_not_keep_is_ignored_with_a_warning(bad, expected):
    data = edexml().replace(b"<geboortedatum>2016-03-14</geboortedatum>",
                            f"<geboortedatum>{bad}</geboortedatum>".encode(), 1)
    assert len(parse_edexml(data)["pupils"]) == 4
    assert warnings_of(data) == [(line_of(data, "<geboortedatum>"), (
        f"<geboortedatum> van leerling 'L1' is geen geldige datum (verwacht JJJJ-MM-DD): "
        f"{expected}; de waarde wordt genegeerd."))]


@pytest.mark.parametrize("value", ["2016-03-14Z", "2016-03-14+02:00", "2016-03-14-14:00",
                                   " 2016-03-14 ", "12016-03-14"])
def test_dates_in_every_form_of_the_standard_are_accepted_silently(value):
    data = edexml().replace(b"<geboortedatum>2016-03-14</geboortedatum>",
                            f"<geboortedatum>{value}</geboortedatum>".encode(), 1)
    assert parse_edexml(data)["warnings"] == []


def test_mutatiedatum_and_aanmaakdatum_are_dates_and_times_ignored_with_a_warning_if_not():
    # The standard types both as xs:dateTime; a real LAS writes 2025-08-20T10:15:00.
    assert parse_edexml(edexml())["warnings"] == []
    data = (edexml().replace(b"2025-08-20T10:15:00", b"2025-13-20T10:15:00")
            .replace(b"2025-09-01T07:30:00", b"01-09-2025 07:30"))
    roster = parse_edexml(data)
    assert len(roster["groups"]) == 3
    assert warnings_of(data) == [
        (line_of(data, "<aanmaakdatum>"), "<aanmaakdatum> van de school is geen geldige datum "
         "en tijd (verwacht JJJJ-MM-DDTuu:mm:ss): '01-09-2025 07:30'; de waarde wordt "
         "genegeerd."),
        (line_of(data, "<mutatiedatum>"), "<mutatiedatum> van een groep is geen geldige datum "
         "en tijd (verwacht JJJJ-MM-DDTuu:mm:ss): '2025-13-20T10:15:00'; de waarde wordt "
         "genegeerd."),
    ]


@pytest.mark.parametrize(("value", "warned"), [
    ("1", False), ("+1", False), ("01", False), ("-0", False), (" 9 ", False),
    ("M", True), ("3", True),
])
def test_geslacht_is_an_integer_0_1_2_or_9_and_otherwise_ignored(value, warned):
    pupils = PUPILS + pupil_xml("L9", call="Noor", group="g5",
                                extra=f"      <geslacht>{value}</geslacht>")
    data = edexml(pupils=pupils)
    expected = [(line_of(data, "<geslacht>"),
                 "<geslacht> van leerling 'L9' moet 0, 1, 2 of 9 zijn; de waarde wordt "
                 "genegeerd.")] if warned else []
    assert warnings_of(data) == expected


def test_an_unknown_year_group_is_an_error():
    groups = GROUPS.replace("<jaargroep>5</jaargroep>", "<jaargroep>9</jaargroep>")
    data = edexml(groups=groups)
    [error] = errors_of(data)
    assert error.line == line_of(data, "<jaargroep>9</jaargroep>")
    assert "Jaargroep '9' van groep 'Groep 5' is ongeldig" in error.message


def test_an_unknown_role_is_dropped_with_a_warning():
    teachers = TEACHERS.replace("<rol>ICT</rol>", "<rol>BAAS</rol>")
    data = edexml(teachers=teachers)
    roster = parse_edexml(data)
    assert by_key(roster["teachers"])["T2"]["roles"] == ["LRK"]
    [(line, message)] = warnings_of(data)
    assert line == line_of(data, "<rol>BAAS</rol>")
    assert message.startswith("Onbekende rol 'BAAS' bij leerkracht 'T2' wordt genegeerd; "
                              "bekende rollen zijn ADJ, ADM, CON, DIR, IB, ICT,")


def test_every_error_is_reported_at_once_and_capped():
    pupils = "".join(pupil_xml(f"X{i}", call="Noor", group="nergens") for i in range(250))
    errors = errors_of(edexml(pupils=pupils))
    assert len(errors) == 201
    assert errors[-1].line is None
    assert errors[-1].message.startswith("… en nog 50 andere fouten.")
    assert [e.line for e in errors[:200]] == sorted(e.line for e in errors[:200])


def test_errors_never_quote_an_eckid_or_a_bsn_shaped_value():
    pupils = (PUPILS
              + pupil_xml("123456782", call="Noor", group="g99")
              + pupil_xml("L10", call="Sara", group=ECKID_2))
    messages = " ".join(e.message for e in errors_of(edexml(pupils=pupils)))
    assert "123456782" not in messages
    assert "ketenid" not in messages
    assert "(waarde niet getoond)" in messages


def test_shown_masks_secrets_and_shortens():
    assert shown("https://ketenid.nl/201703/abc") == "(waarde niet getoond)"
    assert shown(" 123456782 ") == "(waarde niet getoond)"
    assert shown("L000123") == "L000123"
    assert shown("x" * 100, 10) == "x" * 9 + "…"


def test_a_namespace_on_the_root_is_refused_clearly():
    data = edexml().replace(b"<EDEX ", b'<EDEX xmlns="urn:edex" ', 1)
    [error] = errors_of(data)
    assert "namespace" in error.message


def test_latin_1_bytes_in_a_file_that_says_utf_8():
    data = edexml(encoding="ISO-8859-1").replace(b'encoding="ISO-8859-1"', b'encoding="UTF-8"')
    [error] = errors_of(data)
    assert error.line == line_of(data.decode("latin-1"), "Zoë")  # the first ë
    assert "tekenset" in error.message


def test_values_fit_what_klaspoort_keeps():
    long_given = "A" * 150
    pupils = PUPILS + pupil_xml("L9", given=long_given, call=None, group="g5")
    groups = GROUPS.replace("Verrijking groep 5 t/m 8", "x" * 256)
    data = edexml(pupils=pupils, groups=groups)
    roster = parse_edexml(data)
    assert len(by_key(roster["pupils"])["L9"]["first_name"]) == 100
    assert len(by_key(roster["groups"])["plus"]["description"]) == 200
    assert roster["warnings"] == []


@pytest.mark.parametrize("address", [
    "j.vanbemmel@school",
    "email",
    "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "eeee.nl",  # 255 characters: too long for mail
])
def test_a_teacher_address_that_is_not_usable_is_dropped_with_a_warning(address):
    teachers = TEACHERS + teacher_xml("T9", call="Rob", email=address)
    data = edexml(teachers=teachers)
    roster = parse_edexml(data)
    assert by_key(roster["teachers"])["T9"]["email"] == ""
    assert by_key(roster["teachers"])["T1"]["email"] == "m.devries@school.example"
    [(line, message)] = warnings_of(data)
    assert line == line_of(data, "<emailadres>" + address)
    assert message.startswith("E-mailadres '")
    assert message.endswith("' van leerkracht 'T9' is geen bruikbaar e-mailadres; de leerkracht "
                            "wordt zonder e-mailadres ingelezen. Verbeter het in het LAS, of vul "
                            "het adres in bij Leerkrachten.")


def test_the_technical_part_of_a_syntax_error_repeats_no_secret():
    data = edexml().replace(b"<roepnaam>Daan</roepnaam>",
                            b"<roepnaam>Daan</c123456782>", 1)
    [error] = errors_of(data)
    assert "c123456782" not in error.message  # the plain Dutch message names no tag
    assert "c123456782" in data.decode() and error.technical  # the helpdesk still gets it
    assert "123456782" not in error.technical


# ---------------------------------------------------------------------------------------------
# Pupils who are not at the school
# ---------------------------------------------------------------------------------------------
def _leaving(day: str) -> str:
    return f"      <uitstroomdatum>{day}</uitstroomdatum>"


def test_historical_pupils_and_pupils_who_left_before_the_reference_date_are_not_active():
    school = school_xml(extra="").replace(
        "    <brincode>", "    <peildatum>2025-10-01</peildatum>\n    <brincode>")
    pupils = (PUPILS
              + pupil_xml("H1", last="Oud", call="Bas", jaargroep="H")
              + pupil_xml("W1", last="Weg", call="Anna", group="g5", extra=_leaving("2025-09-30"))
              + pupil_xml("D1", last="Blijft", call="Ties", group="g5",
                          extra=_leaving("2025-10-01"))
              + pupil_xml("Z1", last="Later", call="Fenna", group="g5",
                          extra=_leaving("2026-07-10")))
    roster = parse_edexml(edexml(school=school, pupils=pupils))
    assert [p["key"] for p in roster["pupils"]] == ["L1", "L2", "L3", "L4", "D1", "Z1"]
    assert roster["left_pupils"] == [
        {"key": "H1", "first_name": "Bas", "prefix": "", "last_name": "Oud",
         "reason": "historical"},
        {"key": "W1", "first_name": "Anna", "prefix": "", "last_name": "Weg", "reason": "left"},
    ]
    assert roster["warnings"] == []


def test_a_pupil_in_a_historical_group_is_historical():
    groups = GROUPS.replace("<jaargroep>5</jaargroep>", "<jaargroep>H</jaargroep>")
    roster = parse_edexml(edexml(groups=groups))
    # L4 has no year group of its own and is in g5; L3 says jaargroep 5 itself.
    assert [p["key"] for p in roster["left_pupils"]] == ["L4"]
    assert "L3" in by_key(roster["pupils"])


def test_without_a_peildatum_the_creation_date_and_else_today_is_the_reference():
    pupils = PUPILS + pupil_xml("W1", call="Anna", group="g5", extra=_leaving("2025-08-31"))
    # aanmaakdatum 2025-09-01: W1 left the day before.
    assert [p["key"] for p in parse_edexml(edexml(pupils=pupils))["left_pupils"]] == ["W1"]
    school = school_xml().replace("    <aanmaakdatum>2025-09-01T07:30:00</aanmaakdatum>\n", "")
    far = pupil_xml("F1", call="Anna", group="g5", extra=_leaving("2999-01-01"))
    gone = pupil_xml("G1", call="Bo", group="g5", extra=_leaving("2001-01-01"))
    roster = parse_edexml(edexml(school=school, pupils=PUPILS + far + gone))
    assert [p["key"] for p in roster["left_pupils"]] == ["G1"]
    assert "F1" in by_key(roster["pupils"])


def test_an_invalid_leaving_date_keeps_the_pupil_active_with_a_warning():
    pupils = PUPILS + pupil_xml("W1", call="Anna", group="g5", extra=_leaving("30-09-2001"))
    data = edexml(pupils=pupils)
    roster = parse_edexml(data)
    assert "W1" in by_key(roster["pupils"]) and roster["left_pupils"] == []
    assert [line for line, _message in warnings_of(data)] == [line_of(data, "<uitstroomdatum>")]


# ---------------------------------------------------------------------------------------------
# The school
# ---------------------------------------------------------------------------------------------
def test_a_school_named_only_by_its_schoolkey_has_no_brin_and_no_error():
    school = ("  <school>\n    <schooljaar>2025-2026</schooljaar>\n"
              "    <schoolkey>41323</schoolkey>\n  </school>\n")
    roster = parse_edexml(edexml(school=school))
    assert roster["school"] == {"brin": "", "dependancecode": "", "school_year": "2025-2026"}
    assert roster["warnings"] == []


def test_a_flemish_file_is_refused():
    school = ("  <school>\n    <schooljaar>2025-2026</schooljaar>\n"
              "    <instellingsnummer>12345</instellingsnummer>\n  </school>\n")
    data = edexml(school=school)
    [error] = errors_of(data)
    assert error.line == line_of(data, "<instellingsnummer>")
    assert error.message == ("Dit bestand gebruikt een Vlaams instellingsnummer; Klaspoort werkt "
                             "met Nederlandse BRIN-codes.")


def test_a_name_of_only_spaces_is_accepted_with_a_warning():
    # The standard allows <roepnaam> </roepnaam> (one character); there is no name to keep.
    pupils = PUPILS + '    <leerling key="L9">\n      <roepnaam> </roepnaam>\n    </leerling>\n'
    data = edexml(pupils=pupils)
    roster = parse_edexml(data)
    assert by_key(roster["pupils"])["L9"]["first_name"] == ""
    assert warnings_of(data) == [(line_of(data, '<leerling key="L9"'), (
        "Leerling 'L9' heeft in het bestand geen naam (de naam bestaat alleen uit spaties); de "
        "persoon wordt zonder naam ingelezen."))]


def test_warnings_are_capped_like_errors():
    pupils = "".join(pupil_xml(f"X{i}", call="Noor", group="g5", tail="      <hobby>x</hobby>")
                     for i in range(203))
    warnings = parse_edexml(edexml(pupils=pupils))["warnings"]
    assert len(warnings) == 201
    assert warnings[-1] == {"line": None, "message": "… en nog 3 andere waarschuwingen."}
    assert [w["line"] for w in warnings[:200]] == sorted(w["line"] for w in warnings[:200])


# ---------------------------------------------------------------------------------------------
# The same data as a UWLR message
# ---------------------------------------------------------------------------------------------
UWLR = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"
SOAP_11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_12 = "http://www.w3.org/2003/05/soap-envelope"


def uwlr_body(prefix: str = "lg", version: str = "2.3") -> str:
    """The roster of edexml() as <leerlinggegevens> in the UWLR namespace with a prefix."""
    text = edexml(version=version).decode()
    inner = text[text.index("<EDEX"):].split(">", 1)[1].rsplit("</EDEX>", 1)[0]
    inner = re.sub(r"<(/?)([a-z])", rf"<\1{prefix}:\2", inner)
    return (f'<{prefix}:leerlinggegevens xmlns:{prefix}="{UWLR}">{inner}'
            f"</{prefix}:leerlinggegevens>")


def envelope(body: str, soap: str = SOAP_11) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<S:Envelope xmlns:S="{soap}"><S:Header/>'
            f"<S:Body>{body}</S:Body></S:Envelope>\n").encode()


def plain(roster: dict) -> dict:
    return {k: v for k, v in roster.items() if k not in ("version", "warnings")}


@pytest.mark.parametrize("soap", [SOAP_11, SOAP_12])
@pytest.mark.parametrize("prefix", ["le", "lg"])
def test_a_uwlr_answer_in_a_soap_envelope_is_read_like_an_edexml_file(soap, prefix):
    answer = (f'<{prefix}:leerlinggegevens_antwoord xmlns:{prefix}="{UWLR}">'
              f"{uwlr_body(prefix)}</{prefix}:leerlinggegevens_antwoord>")
    roster = parse_edexml(envelope(answer, soap))
    assert plain(roster) == plain(parse_edexml(edexml()))
    # <xsdversie> is UWLR's own version there; UWLR 2.x carries EDEXML 2.1.
    assert roster["version"] == "2.1"
    assert roster["warnings"] == []


def test_a_bare_uwlr_leerlinggegevens_and_an_edex_in_the_edex_namespace_are_read():
    bare = ('<?xml version="1.0" encoding="UTF-8"?>\n' + uwlr_body()).encode()
    assert plain(parse_edexml(bare)) == plain(parse_edexml(edexml()))
    namespaced = edexml().replace(b"<EDEX ", b'<EDEX xmlns="http://www.edustandaard.nl/edex" ')
    assert parse_edexml(namespaced) == parse_edexml(edexml())
    edex = edexml().decode()
    in_soap = envelope(edex[edex.index("<EDEX"):])
    assert parse_edexml(in_soap) == parse_edexml(edexml())


def test_a_soap_fault_is_refused_with_its_reason():
    fault = ("<S:Fault><faultcode>S:Server</faultcode><faultstring>Ongeldige "
             "autorisatiesleutel</faultstring></S:Fault>")
    [error] = errors_of(envelope(fault))
    assert error.message == ("Het LAS stuurde een foutmelding in plaats van de "
                             "gebruikersgegevens: 'Ongeldige autorisatiesleutel'. Probeer het "
                             "later opnieuw of vraag het na bij de leverancier van het LAS.")


@pytest.mark.parametrize("body", [
    f'<lg:leerlinggegevens_antwoord xmlns:lg="{UWLR}"><lg:geengegevens/>'
    "</lg:leerlinggegevens_antwoord>",
    f'<lg:leerlinggegevens_antwoord xmlns:lg="{UWLR}"/>',
])
def test_an_answer_without_leerlinggegevens_is_refused(body):
    [error] = errors_of(envelope(body))
    assert error.message.startswith("Dit UWLR-antwoord (<leerlinggegevens_antwoord>) bevat geen "
                                    "<leerlinggegevens>")


def test_other_soap_and_uwlr_messages_are_refused():
    [error] = errors_of(envelope(""))
    assert error.message == ("Dit SOAP-bericht bevat geen UWLR-antwoord met gebruikersgegevens "
                             "(<leerlinggegevens_antwoord>).")
    [error] = errors_of(envelope(f'<lg:leerlingen_antwoord xmlns:lg="{UWLR}"/>'))
    assert error.message.startswith("Dit UWLR-bericht (<leerlingen_antwoord>) is geen antwoord")


# ---------------------------------------------------------------------------------------------
# Character sets
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("declared", ["ISO-8859-1", "windows-1252", "iso-8859-15"])
def test_utf_8_bytes_under_a_single_byte_declaration_are_read_as_utf_8_with_a_warning(declared):
    data = edexml().replace(b'encoding="UTF-8"', f'encoding="{declared}"'.encode())
    roster = parse_edexml(data)
    pupils = by_key(roster["pupils"])
    assert (pupils["L2"]["first_name"], pupils["L2"]["last_name"]) == ("Ismaël", "Çelik")
    assert warnings_of(data) == [(1, (
        f"Volgens de XML-declaratie staat het bestand in {declared}, maar de tekens zijn UTF-8. "
        "Klaspoort heeft het als UTF-8 gelezen, zodat namen met accenten goed overkomen. Vraag "
        "de leverancier van het LAS om de declaratie te verbeteren."))]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf_16_with_a_byte_order_mark_is_read(codec):
    text = edexml().decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    roster = parse_edexml(bom + text.encode(codec))
    assert by_key(roster["pupils"])["L2"]["first_name"] == "Ismaël"
    assert roster["warnings"] == []


@pytest.mark.parametrize("space", ["\r\n", "\n\n  ", " "])
def test_blank_lines_before_the_declaration_are_accepted_and_lines_stay_right(space):
    data = space.encode() + edexml().replace(b"<jaargroep>5</jaargroep>",
                                              b"<jaargroep>5</jaargroep><hobby/>", 1)
    [(line, _message)] = warnings_of(data)
    assert line == line_of(data, "<hobby/>")


def test_bytes_that_are_not_utf_8_in_a_file_without_declaration_give_one_error_with_the_line():
    data = edexml(encoding="ISO-8859-1")
    data = data[data.index(b"\n") + 1:]  # no declaration: UTF-8 by the XML standard
    [error] = errors_of(data)
    assert error.line == line_of(data.decode("latin-1"), "Zoë")
    assert error.message == ("Deze regel bevat een teken dat geen geldige UTF-8 is (bijvoorbeeld "
                             "een é die in een andere tekenset is opgeslagen). Sla het bestand "
                             "opnieuw op vanuit het LAS, als UTF-8.")
    assert "declaratie" not in error.message


def test_a_binary_file_is_not_xml_rather_than_in_the_wrong_character_set():
    [error] = errors_of(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    assert error.line == 1
    assert "geen XML-bestand" in error.message


def test_a_group_name_of_only_spaces_becomes_its_key_and_an_empty_one_is_an_error():
    # The standard allows <naam> </naam> (one character), not <naam></naam>.
    spaces = GROUPS.replace("<naam>Groep 5</naam>", "<naam> </naam>")
    data = edexml(groups=spaces)
    assert by_key(parse_edexml(data)["groups"])["g5"]["name"] == "g5"
    assert warnings_of(data) == [(line_of(data, "<naam> </naam>"), (
        "<naam> van een groep met key 'g5' bestaat alleen uit spaties; Klaspoort gebruikt de "
        "key als naam."))]
    data = edexml(groups=GROUPS.replace("<naam>Groep 5</naam>", "<naam></naam>"))
    [error] = errors_of(data)
    assert error.line == line_of(data, "<naam></naam>")
    assert error.message == "<naam> van een groep is leeg."
