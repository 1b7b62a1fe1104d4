"""Importing a roster into a school: what changes, what never changes, and for whom.

Every bad file of the issue's section 6 is offered to a school that already has a roster, and
the test checks the coordinator's message (Dutch, with the line) and that not one row of the
roster, its users or its change log moved.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from klaspoort.accounts.models import User
from klaspoort.roster import services
from klaspoort.roster.edexml import max_bytes
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import (
    Group,
    Pupil,
    PupilCluster,
    RosterEvent,
    RosterImport,
    Teacher,
    TeacherGroup,
)
from klaspoort.roster.selectors import export_roster, pupils_of
from klaspoort.schools.models import School
from tests.concurrency import at_once
from tests.factories import SchoolFactory
from tests.roster.test_edexml import (
    ECKID_1,
    ECKID_2,
    GROUPS,
    PUPILS,
    TEACHERS,
    edexml,
    line_of,
    pupil_xml,
    school_xml,
    teacher_xml,
)

UPLOAD = RosterImport.Source.UPLOAD
ROSTER_MODELS = (School, Group, Pupil, PupilCluster, Teacher, TeacherGroup, RosterEvent, User)
NO_CHANGES = {part: {"added": 0, "changed": 0, "deactivated": 0}
              for part in ("groups", "pupils", "teachers")}


def snapshot() -> dict[str, list[dict]]:
    """Every row of every roster table (and the users and schools), as it is now."""
    return {model.__name__: list(model.objects.order_by("pk").values())
            for model in ROSTER_MODELS}


def import_now(school, data: bytes, **kwargs) -> RosterImport:
    record = services.receive_roster_file(data, source=UPLOAD, school=school, **kwargs)
    assert record.status == RosterImport.Status.WAITING, record.errors
    return services.process_import(record.pk)


def pupil(school, key) -> Pupil:
    return Pupil.objects.select_related("user", "group").get(school=school, key=key)


@pytest.fixture
def imported(school):
    """School 99ZZ00 with the roster of the standard test file already applied."""
    record = import_now(school, edexml())
    assert record.status == RosterImport.Status.PROCESSED
    return school


# ---------------------------------------------------------------------------------------------
# The first import, and the same file again
# ---------------------------------------------------------------------------------------------
def test_a_first_import_waits_then_adds_everything(school):
    record = services.receive_roster_file(edexml(), source=UPLOAD, school=school,
                                          filename="export.xml")
    assert record.status == RosterImport.Status.WAITING
    assert Pupil.objects.count() == 0  # what you import today you see tomorrow
    assert record.payload["school"]["brin"] == "99ZZ"
    assert record.file_size == len(edexml()) and len(record.file_sha256) == 64

    record = services.process_import(record.pk)

    assert record.status == RosterImport.Status.PROCESSED
    assert record.payload is None  # the waiting roster is erased once applied
    assert record.counts == {"groups": {"added": 3, "changed": 0, "deactivated": 0},
                             "pupils": {"added": 4, "changed": 0, "deactivated": 0},
                             "teachers": {"added": 2, "changed": 0, "deactivated": 0}}
    zoe = pupil(school, "L1")
    assert (zoe.first_name, zoe.prefix, zoe.last_name) == ("Zoë", "van 't", "Hof")
    assert (zoe.group.name, zoe.jaargroep, zoe.eckid) == ("Groep 1-2", "1", ECKID_1)
    assert zoe.user.kind == User.Kind.PUPIL and not zoe.user.has_usable_password()
    daan = pupil(school, "L3")
    assert [g.key for g in daan.clusters.all()] == ["plus"]
    t1 = Teacher.objects.get(school=school, key="T1")
    assert dict(TeacherGroup.objects.filter(teacher=t1).values_list("group__key", "roles")) == {
        "g12": ["LRK"], "plus": ["VAK"]}
    assert Teacher.objects.get(school=school, key="T2").is_ict_coordinator
    school.refresh_from_db()
    assert school.school_year == "2025-2026"
    assert RosterEvent.objects.filter(school=school, action="added").count() == 9


def test_the_same_file_twice_changes_nothing(imported):
    before = snapshot()
    record = import_now(imported, edexml())
    assert record.counts == NO_CHANGES
    assert snapshot() == before  # no new event, no touched row


def test_a_generated_school_imports_and_again_changes_nothing(school, school_file):
    data = school_file(60)
    first = import_now(school, data)
    assert first.counts["pupils"]["added"] == 60
    assert Pupil.objects.filter(school=school, active=True).count() == 60
    events = RosterEvent.objects.count()
    assert import_now(school, data).counts == NO_CHANGES
    assert RosterEvent.objects.count() == events


# ---------------------------------------------------------------------------------------------
# Diff semantics
# ---------------------------------------------------------------------------------------------
def test_a_pupil_moved_to_another_group_is_one_change_and_keeps_identity(imported):
    before = pupil(imported, "L1")
    moved = PUPILS.replace('jaargroep>1</jaargroep>\n      <groep key="g12"/>',
                           'jaargroep>5</jaargroep>\n      <groep key="g5"/>', 1)
    last_event = RosterEvent.objects.latest("id").id

    record = import_now(imported, edexml(pupils=moved))

    assert record.counts["pupils"] == {"added": 0, "changed": 1, "deactivated": 0}
    assert record.counts["groups"] == record.counts["teachers"] == NO_CHANGES["groups"]
    after = pupil(imported, "L1")
    assert (after.pk, after.user_id) == (before.pk, before.user_id)
    assert (after.group.key, after.jaargroep) == ("g5", "5")
    [event] = RosterEvent.objects.filter(id__gt=last_event)
    assert (event.entity, event.entity_id, event.action) == ("pupil", after.pk, "changed")
    assert sorted(event.fields) == ["group_id", "jaargroep"]


def test_a_missing_pupil_is_deactivated_and_reactivated_when_back(imported):
    zoe = pupil(imported, "L1")
    without = PUPILS[PUPILS.index('    <leerling key="L2"'):]

    record = import_now(imported, edexml(pupils=without))

    assert record.counts["pupils"] == {"added": 0, "changed": 0, "deactivated": 1}
    gone = pupil(imported, "L1")
    assert gone.pk == zoe.pk and not gone.active and not gone.user.is_active
    assert RosterEvent.objects.latest("id").action == "deactivated"
    assert "L1" not in set(pupils_of(imported).values_list("key", flat=True))

    record = import_now(imported, edexml())

    assert record.counts["pupils"] == {"added": 1, "changed": 0, "deactivated": 0}
    back = pupil(imported, "L1")
    assert (back.pk, back.user_id) == (zoe.pk, zoe.user_id)
    assert back.active and back.user.is_active
    latest = RosterEvent.objects.latest("id")
    assert (latest.entity_id, latest.action) == (zoe.pk, "reactivated")


def test_a_missing_group_and_teacher_are_deactivated_not_deleted(imported):
    groups = GROUPS[:GROUPS.index('    <samengestelde_groep key="plus">')] + "  </groepen>\n"
    pupils = PUPILS.replace(
        '      <samengestelde_groepen>\n        <samengestelde_groep key="plus"/>\n'
        '      </samengestelde_groepen>\n', "")
    teachers = teacher_xml("T1", roles=["LRK"], groups=[("groep", "g12", ["LRK"])],
                           email="m.devries@school.example")
    record = import_now(imported, edexml(groups=groups, pupils=pupils, teachers=teachers))
    assert record.counts["groups"] == {"added": 0, "changed": 0, "deactivated": 1}
    assert record.counts["teachers"] == {"added": 0, "changed": 1, "deactivated": 1}
    assert not Group.objects.get(school=imported, key="plus").active
    henk = Teacher.objects.select_related("user").get(school=imported, key="T2")
    assert not henk.active and not henk.user.is_active


def test_teacher_group_links_change(imported):
    teachers = TEACHERS.replace('<groep key="g5"/>', '<groep key="g12"/>')
    last_event = RosterEvent.objects.latest("id").id

    record = import_now(imported, edexml(teachers=teachers))

    assert record.counts["teachers"] == {"added": 0, "changed": 1, "deactivated": 0}
    henk = Teacher.objects.get(school=imported, key="T2")
    assert list(henk.groups.values_list("key", flat=True)) == ["g12"]
    [event] = RosterEvent.objects.filter(id__gt=last_event)
    assert (event.entity_id, event.fields) == (henk.pk, ["groups"])


def test_cluster_membership_change(imported):
    pupils = PUPILS.replace('<groep key="g12"/>',
                            '<groep key="g12"/>\n      <samengestelde_groepen>\n'
                            '        <samengestelde_groep key="plus"/>\n'
                            '      </samengestelde_groepen>', 1)
    pupils = pupils.replace('      <samengestelde_groepen>\n        <samengestelde_groep '
                            'key="plus"/>\n      </samengestelde_groepen>\n    </leerling>\n'
                            '    <leerling key="L4"',
                            '    </leerling>\n    <leerling key="L4"')
    record = import_now(imported, edexml(pupils=pupils))
    assert record.counts["pupils"] == {"added": 0, "changed": 2, "deactivated": 0}
    plus = Group.objects.get(school=imported, key="plus")
    assert sorted(plus.cluster_pupils.values_list("key", flat=True)) == ["L1"]
    assert set(RosterEvent.objects.filter(fields=["clusters"]).values_list(
        "entity_id", flat=True)) == {pupil(imported, "L1").pk, pupil(imported, "L3").pk}


def test_a_new_las_key_with_the_same_eckid_keeps_the_pupil(imported):
    zoe = pupil(imported, "L1")
    record = import_now(imported, edexml(pupils=PUPILS.replace('key="L1"', 'key="NEW-1"')))
    assert record.counts["pupils"] == {"added": 0, "changed": 1, "deactivated": 0}
    same = Pupil.objects.get(pk=zoe.pk)
    assert (same.key, same.user_id, same.active) == ("NEW-1", zoe.user_id, True)
    assert not Pupil.objects.filter(school=imported, key="L1").exists()


def test_an_eckid_may_move_to_another_pupil_and_two_pupils_may_swap_theirs(imported):
    # Real LAS data gets corrected; the unique ECK iD index must not make such a file fail.
    swapped = PUPILS.replace(ECKID_1, "SWAP").replace(ECKID_2, ECKID_1).replace("SWAP", ECKID_2)
    record = import_now(imported, edexml(pupils=swapped))
    assert record.status == RosterImport.Status.PROCESSED, record.errors
    assert (pupil(imported, "L1").eckid, pupil(imported, "L2").eckid) == (ECKID_2, ECKID_1)

    moved = (PUPILS.replace(f' eckid="{ECKID_1}"', "").replace(f' eckid="{ECKID_2}"', "")
             + pupil_xml("L9", call="Noor", group="g5", eckid=ECKID_1))
    record = import_now(imported, edexml(pupils=moved))
    assert record.status == RosterImport.Status.PROCESSED, record.errors
    assert pupil(imported, "L1").eckid is None
    assert pupil(imported, "L9").eckid == ECKID_1


def test_a_renumbering_las_may_give_a_key_to_another_pupil(imported):
    # Daan's ECK iD says he is now K-3; his old key L3 now belongs to a new pupil.
    daan_eckid = "https://ketenid.nl/201703/" + "d4" * 64
    with_eckid = PUPILS.replace('<leerling key="L3">', f'<leerling key="L3" eckid="{daan_eckid}">')
    import_now(imported, edexml(pupils=with_eckid))
    daan = pupil(imported, "L3")

    renumbered = (with_eckid.replace('<leerling key="L3"', '<leerling key="K-3"')
                  + pupil_xml("L3", call="Noor", group="g5"))
    record = import_now(imported, edexml(pupils=renumbered))

    assert record.status == RosterImport.Status.PROCESSED, record.errors
    assert record.counts["pupils"] == {"added": 1, "changed": 1, "deactivated": 0}
    assert pupil(imported, "K-3").pk == daan.pk
    assert pupil(imported, "L3").first_name == "Noor"


def test_a_teacher_email_entered_by_the_coordinator_stays_when_the_file_has_none(imported):
    Teacher.objects.filter(school=imported, key="T2").update(email="henk@school.example")
    assert import_now(imported, edexml()).counts == NO_CHANGES
    assert Teacher.objects.get(school=imported, key="T2").email == "henk@school.example"


def test_events_have_increasing_ids_one_per_change(imported):
    first = RosterEvent.objects.latest("id").id
    pupils = (PUPILS.replace("<roepnaam>Daan</roepnaam>", "<roepnaam>Daniël</roepnaam>")
              + pupil_xml("L9", call="Noor", group="g5"))
    pupils = pupils[pupils.index('    <leerling key="L2"'):]  # L1 leaves
    record = import_now(imported, edexml(pupils=pupils))

    assert record.counts["pupils"] == {"added": 1, "changed": 1, "deactivated": 1}
    events = list(RosterEvent.objects.filter(id__gt=first).order_by("id"))
    assert len(events) == 3
    assert [e.id for e in events] == sorted({e.id for e in events})
    assert {(e.action, e.entity_id) for e in events} == {
        ("added", pupil(imported, "L9").pk), ("changed", pupil(imported, "L3").pk),
        ("deactivated", pupil(imported, "L1").pk)}
    assert all(e.school_id == imported.pk for e in events)


def test_a_failure_half_way_changes_nothing_and_the_import_fails_in_dutch(
        imported, monkeypatch, caplog):
    secret = "Geheime Naam " + ECKID_2

    def broken(*args, **kwargs):
        raise RuntimeError(f"duplicate key value violates unique constraint: {secret}")

    # Groups, pupils and teachers are written before the change log breaks.
    monkeypatch.setattr(services, "_append_events", broken)
    before = snapshot()
    changed = PUPILS.replace("<roepnaam>Daan</roepnaam>", "<roepnaam>Daniël</roepnaam>")
    record = services.receive_roster_file(edexml(pupils=changed), source=UPLOAD,
                                          school=imported)
    with caplog.at_level(logging.DEBUG):
        record = services.process_import(record.pk)

    assert record.status == RosterImport.Status.FAILED
    assert record.errors[0]["message"].startswith("Bij het verwerken ging iets mis; er is "
                                                  "niets gewijzigd.")
    assert record.payload is None
    assert snapshot() == before
    assert "RuntimeError" in caplog.text  # the helpdesk sees what broke …
    assert secret not in caplog.text and "ketenid" not in caplog.text  # … not whose data


def test_a_processed_import_is_not_processed_again(imported):
    record = RosterImport.objects.filter(school=imported).latest("id")
    before = snapshot()
    assert services.process_import(record.pk).status == RosterImport.Status.PROCESSED
    assert snapshot() == before


def test_the_nightly_run_processes_waiting_imports_oldest_first(imported):
    old = services.receive_roster_file(
        edexml(pupils=PUPILS.replace("<roepnaam>Daan</roepnaam>", "<roepnaam>Oud</roepnaam>")),
        source=UPLOAD, school=imported)
    new = services.receive_roster_file(
        edexml(pupils=PUPILS.replace("<roepnaam>Daan</roepnaam>", "<roepnaam>Nieuw</roepnaam>")),
        source=UPLOAD, school=imported)
    done = services.process_waiting_imports()
    assert [r.pk for r in done] == [old.pk, new.pk]
    assert pupil(imported, "L3").first_name == "Nieuw"  # the newest file wins


# ---------------------------------------------------------------------------------------------
# Section 6: bad input. Each one: a clear Dutch message with its line, and nothing changed.
# ---------------------------------------------------------------------------------------------
def _cut(data: bytes) -> bytes:
    return data[: data.index(b'<leerling key="L3"') + 30]


XXE = '<!DOCTYPE EDEX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = "<!DOCTYPE EDEX [\n<!ENTITY lol \"lol\">\n" + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
    for i in range(1, 10)) + "]>\n"

BAD_FILES = {
    # id: (file, needle whose line the error must name (None: no line), message fragment)
    "not-xml": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", 1, "geen XML-bestand"),
    "truncated": (_cut(edexml()), "last", "onvolledig"),
    "wrong-root": (edexml(root="ROSTER"), "<ROSTER", "geen EDEXML-bestand"),
    "invalid-year-group": (edexml(groups=GROUPS.replace("<jaargroep>5</jaargroep>",
                                                        "<jaargroep>9</jaargroep>")),
                           "<jaargroep>9</jaargroep>", "Jaargroep '9' van groep 'Groep 5'"),
    "xxe": (edexml(prolog=XXE).replace(b"<roepnaam>Daan</roepnaam>",
                                       b"<roepnaam>&xxe;</roepnaam>"), 1, "DOCTYPE"),
    "billion-laughs": (edexml(prolog=LAUGHS).replace(b"<roepnaam>Daan</roepnaam>",
                                                     b"<roepnaam>&lol9;</roepnaam>"),
                       1, "DOCTYPE"),
    "duplicate-pupil-key": (edexml(pupils=PUPILS + pupil_xml("L3", call="Noor")),
                            ('<leerling key="L3"', 2), "Leerling-key 'L3'"),
    "duplicate-teacher-key": (edexml(teachers=TEACHERS + teacher_xml("T1")),
                              ('<leerkracht key="T1"', 2), "Leerkracht-key 'T1'"),
    "duplicate-group-key": (edexml(groups=GROUPS.replace('<groep key="g5">',
                                                         '<groep key="g12">'),
                                   pupils=PUPILS.replace('key="g5"', 'key="g12"'),
                                   teachers=TEACHERS.replace('key="g5"', 'key="g12"')),
                            ('<groep key="g12">', 2), "Groep-key 'g12'"),
    "group-and-cluster-share-a-key": (
        edexml(groups=GROUPS.replace('<samengestelde_groep key="plus">',
                                     '<samengestelde_groep key="g5">')),
        '<samengestelde_groep key="g5">', "Groep-key 'g5'"),
    "duplicate-eckid": (edexml(pupils=PUPILS + pupil_xml("L9", group="g5", eckid=ECKID_2)),
                        '<leerling key="L9"', "ECK iD van leerling 'L9'"),
    "missing-group": (edexml(pupils=PUPILS + pupil_xml("L9", group="g6")),
                      '<groep key="g6"/>', "verwijst naar groep 'g6'"),
    "missing-cluster": (edexml(pupils=PUPILS + pupil_xml("L9", clusters=["koor"])),
                        '<samengestelde_groep key="koor"/>',
                        "verwijst naar samengestelde groep 'koor'"),
    "missing-required-element": (
        edexml(school=school_xml().replace("    <schooljaar>2025-2026</schooljaar>\n", "")),
        "<school>", "Verplicht element <schooljaar> ontbreekt"),
    "malformed-brin": (edexml(school=school_xml(brin="99Z")), "<brincode>",
                       "BRIN-code '99Z' is ongeldig"),
    "malformed-dependancecode": (edexml(school=school_xml(dependancecode="1")),
                                 "<dependancecode>", "Dependancecode '1' is ongeldig"),
    "malformed-schooljaar": (edexml(school=school_xml(year="2025/2026")), "<schooljaar>",
                             "Schooljaar '2025/2026' is ongeldig"),
    "file-of-another-school": (edexml(school=school_xml(brin="12AB")), None,
                               "hoort bij school 12AB00"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_gets_a_clear_message_and_changes_nothing(imported, name):
    data, where, fragment = BAD_FILES[name]
    before = snapshot()
    imports = RosterImport.objects.count()

    record = services.receive_roster_file(data, source=UPLOAD, school=imported)

    assert record.status == RosterImport.Status.FAILED
    assert record.payload is None
    assert record.school_id == imported.pk
    if where == "last":
        line = data.count(b"\n") + 1
    elif isinstance(where, tuple):
        line = line_of(data, *where)
    elif isinstance(where, str):
        line = line_of(data, where)
    else:
        line = where
    assert any(e["line"] == line and fragment in e["message"] for e in record.errors), \
        record.errors
    assert snapshot() == before
    assert RosterImport.objects.count() == imports + 1
    # A failed import waits for nothing: the nightly run leaves it (and the school) alone.
    assert services.process_waiting_imports() == []
    assert snapshot() == before


def test_external_entities_are_never_read(imported):
    data = BAD_FILES["xxe"][0]
    record = services.receive_roster_file(data, source=UPLOAD, school=imported)
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    with open("/etc/passwd") as passwd:
        first_line = passwd.readline().strip()
    assert first_line and first_line not in out.getvalue()
    assert first_line not in repr(record.errors)


def test_a_file_over_the_size_limit_is_refused(imported):
    before = snapshot()
    record = services.receive_roster_file(b"<" * (max_bytes() + 1), source=UPLOAD,
                                          school=imported)
    assert record.status == RosterImport.Status.FAILED
    assert record.file_size == max_bytes() + 1
    assert "te groot" in record.errors[0]["message"]
    assert snapshot() == before


def test_a_file_of_another_school_is_refused_and_that_school_is_untouched(imported):
    other = SchoolFactory(brin="12AB", dependancecode="00", name="De Vlinder")
    import_now(other, edexml(school=school_xml(brin="12AB")))
    before = snapshot()

    # The coordinator of De Vlinder uploads the file of 99ZZ00.
    record = services.receive_roster_file(edexml(), source=UPLOAD, school=other)

    assert record.status == RosterImport.Status.FAILED
    assert record.school_id == other.pk
    [error] = record.errors
    assert "Dit bestand hoort bij school 99ZZ00, niet bij De Vlinder (12AB00)" in \
        error["message"]
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Tenancy: one school's import never touches another's rows
# ---------------------------------------------------------------------------------------------
def test_an_import_never_touches_another_school_with_the_same_keys(imported):
    other = SchoolFactory(brin="12AB", dependancecode="00")
    import_now(other, edexml(school=school_xml(brin="12AB")))
    theirs = export_roster(other)
    their_rows = {model.__name__: list(model.objects.filter(school=other).order_by("pk").values())
                  for model in (Group, Pupil, Teacher, RosterEvent)}

    # 99ZZ00 loses L1 and T2, renames a group, moves a pupil: all keys exist at 12AB00 too.
    changed = edexml(pupils=PUPILS[PUPILS.index('    <leerling key="L2"'):].replace(
        '<groep key="g12"/>', '<groep key="g5"/>'),
        groups=GROUPS.replace("Groep 5", "Groep 5b"),
        teachers=teacher_xml("T1"))
    record = import_now(imported, changed)
    assert record.counts["pupils"]["deactivated"] == 1

    assert export_roster(other) == theirs
    assert {model.__name__: list(model.objects.filter(school=other).order_by("pk").values())
            for model in (Group, Pupil, Teacher, RosterEvent)} == their_rows
    assert set(pupils_of(other).values_list("key", flat=True)) == {"L1", "L2", "L3", "L4"}
    assert set(pupils_of(imported).values_list("key", flat=True)) == {"L2", "L3", "L4"}


# ---------------------------------------------------------------------------------------------
# Privacy: BSN, postcode, countries, ethnicity and weights are stored nowhere
# ---------------------------------------------------------------------------------------------
PRIVATE = {
    "sofinummer": "271828182",
    "bsn": "314159265",
    "onderwijsnummer": "141421356",
    "bsn_ondwnr-4": "Q4Z7",
    "postcodenl": "9999QZ",
    "postnummerbe": "BE-Q-4711",
    "postcodeoverig": "OVERIG-Q-0815",
    "land": "LAND-Q-1",
    "land_vader": "LAND-Q-2",
    "land_moeder": "LAND-Q-3",
    "etniciteit": "ETNI-Q-9",
    "gewicht_nieuw": "GEWNW-Q-0,3",
    "gewicht": "GEW-Q-0.25",
}


def _private_pupils() -> str:
    """Pupils that carry every field Klaspoort must drop, with unmistakable values."""
    countries = "\n".join(f"      <{n}>{PRIVATE[n]}</{n}>"
                          for n in ("etniciteit", "land", "land_vader", "land_moeder"))
    pupils = ""
    for i, (number, postcode) in enumerate([("sofinummer", "postcodenl"),
                                            ("bsn", "postnummerbe"),
                                            ("onderwijsnummer", "postcodeoverig"),
                                            ("bsn_ondwnr-4", "postcodenl")]):
        extra = (f"{countries}\n      <{number}>{PRIVATE[number]}</{number}>\n"
                 f"      <gewicht_nieuw>{PRIVATE['gewicht_nieuw']}</gewicht_nieuw>\n"
                 f"      <gewicht>{PRIVATE['gewicht']}</gewicht>\n"
                 f"      <{postcode}>{PRIVATE[postcode]}</{postcode}>")
        pupils += pupil_xml(f"P{i}", call="Noor", jaargroep="5", group="g5", extra=extra)
    return pupils


def _dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def _assert_private_nowhere(text: str) -> None:
    for name, value in PRIVATE.items():
        assert value not in text, f"{name} was stored or logged"


def test_privacy_fields_are_never_stored_or_logged(school, caplog):
    data = edexml(pupils=PUPILS + _private_pupils())
    for value in PRIVATE.values():
        assert value.encode() in data
    with caplog.at_level(logging.DEBUG):
        record = services.receive_roster_file(data, source=UPLOAD, school=school)
        assert record.status == RosterImport.Status.WAITING, record.errors
        waiting_dump = _dump()  # the validated roster waits in the import's payload
        record = services.process_import(record.pk)
        assert record.status == RosterImport.Status.PROCESSED
        assert Pupil.objects.filter(school=school, key__startswith="P").count() == 4

        # A rejected file with the same fields: its errors must not repeat them either.
        bad = edexml(pupils=PUPILS + _private_pupils().replace('key="g5"', 'key="g0"')
                     + _private_pupils().replace("<gewicht>", "<gewicht>x</gewicht><gewicht>"))
        failed = services.receive_roster_file(bad, source=UPLOAD, school=school)
        assert failed.status == RosterImport.Status.FAILED and len(failed.errors) > 4

    for text in (waiting_dump, _dump(), caplog.text, repr(failed.errors)):
        _assert_private_nowhere(text)
    assert ECKID_1 not in caplog.text


# ---------------------------------------------------------------------------------------------
# Two imports of one school at the same time
# ---------------------------------------------------------------------------------------------


def test_two_nightly_runs_at_once_process_each_import_exactly_once(shared_database):
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    first = services.receive_roster_file(generate_school("99ZZ", "00", 120, seed=1),
                                         source=UPLOAD, school=school)
    second = services.receive_roster_file(generate_school("99ZZ", "00", 140, seed=2),
                                          source=UPLOAD, school=school)

    at_once(2, lambda _thread: services.process_waiting_imports())

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == RosterImport.Status.PROCESSED
    # Applied once each, in order: every change has exactly one event and the newer file won.
    changes = sum(n for record in (first, second) for part in record.counts.values()
                  for n in part.values())
    assert RosterEvent.objects.filter(school=school).count() == changes
    assert first.counts["pupils"]["added"] == 120
    assert Pupil.objects.filter(school=school, active=True).count() == 140
    assert second.processed_at > first.processed_at
    assert User.objects.filter(kind=User.Kind.PUPIL).count() == Pupil.objects.count()


def test_two_workers_on_the_same_import_apply_it_once(shared_database):
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    record = services.receive_roster_file(generate_school("99ZZ", "00", 80, seed=4),
                                          source=UPLOAD, school=school)

    statuses = at_once(2, lambda _thread: services.process_import(record.pk).status)

    assert statuses == [RosterImport.Status.PROCESSED] * 2
    assert Pupil.objects.filter(school=school).count() == 80
    assert RosterEvent.objects.filter(school=school, entity="pupil").count() == 80


# ---------------------------------------------------------------------------------------------
# A file that names its school by a schoolkey only (the standard allows it)
# ---------------------------------------------------------------------------------------------
NO_BRIN = edexml(school=school_xml().replace("    <brincode>99ZZ</brincode>\n", "").replace(
    "    <dependancecode>00</dependancecode>\n", "    <schoolkey>regenboog</schoolkey>\n"))


def test_a_file_without_brin_code_is_taken_for_the_school_it_is_uploaded_to(school):
    record = services.receive_roster_file(NO_BRIN, source=UPLOAD, school=school)
    assert record.status == RosterImport.Status.WAITING, record.errors
    assert services.process_import(record.pk).status == RosterImport.Status.PROCESSED
    assert Pupil.objects.filter(school=school, active=True).count() == 4


def test_a_file_without_brin_code_on_the_command_line_needs_school(school, tmp_path):
    path = tmp_path / "zonder-brin.xml"
    path.write_bytes(NO_BRIN)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import-edexml", str(path), "--json", stdout=out, stderr=io.StringIO())
    assert "--school" in json.loads(out.getvalue())["errors"][0]["message"]

    out = io.StringIO()
    call_command("import-edexml", str(path), "--now", "--school", school.brin6, "--json",
                 stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["status"] == "processed"
    assert Pupil.objects.filter(school=school, active=True).count() == 4
