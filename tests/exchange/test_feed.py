"""What a publisher sees of a school, through the change feed and snapshots
(/api/publisher/v1/changes, /schools/{id}): the least data, pseudonymised, and a feed that adds
up to the snapshot after every kind of change."""

from __future__ import annotations

import copy
import datetime
import io
import json

import pytest
from django.db import connection, transaction
from django.utils import timezone

from klaspoort.exchange import feed
from klaspoort.exchange.models import FeedEvent, PublisherApiToken
from klaspoort.licences import services as licence_services
from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.pseudonyms import group_id_for, school_id_for, subject_for
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Group, Pupil, Teacher
from klaspoort.roster.services import apply_roster
from klaspoort.schools.models import PublisherConsent
from klaspoort.schools.services import set_publisher_consents
from tests.concurrency import at_once
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

pytestmark = pytest.mark.django_db

BASE = "/api/publisher/v1"


class Publisher:
    """A publisher's system as the API documents it: reads the feed and snapshots, and keeps
    its own copy of what it sees (a replica), applying events in sequence order."""

    def __init__(self, client, publisher):
        self.row = publisher
        _row, self.token = PublisherApiToken.issue(publisher, "roster sync")
        self.client = client
        self.cursor = "0"
        self.schools: dict[str, dict] = {}
        self.groups: dict[str, dict] = {}
        self.people: dict[str, dict] = {}
        self.sequences: list[int] = []

    def get(self, path, **params):
        return self.client.get(BASE + path, params,
                               HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def pull(self, limit=100):
        while True:
            page = self.get("/changes", after=self.cursor, limit=limit)
            assert page.status_code == 200, page.content
            body = page.json()
            for event in body["events"]:
                self.apply(event)
            self.cursor = body["next_cursor"]
            if not body["has_more"]:
                return body

    def apply(self, event):
        self.sequences.append(event["sequence"])
        table = {"school": self.schools, "group": self.groups, "person": self.people}[
            event["entity"]]
        if event["type"] in ("added", "changed"):
            if event["record"] is not None:
                table[event["id"]] = event["record"]
        else:
            table.pop(event["id"], None)

    def snapshot(self, school_id):
        return self.get(f"/schools/{school_id}")

    def view_of(self, school_id):
        return {"school": self.schools.get(school_id),
                "groups": sorted((g for g in self.groups.values()
                                  if g["school_id"] == school_id), key=lambda g: g["id"]),
                "people": sorted((p for p in self.people.values()
                                  if p["school_id"] == school_id), key=lambda p: p["id"])}


def snapshot_view(body):
    return {"school": body["school"], "groups": sorted(body["groups"], key=lambda g: g["id"]),
            "people": sorted(body["people"], key=lambda p: p["id"])}


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a change as a request would: its transaction commits, then what waits for the
    commit (telling the publishers) runs."""

    def run(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return run


@pytest.fixture
def world(school, school_file, coordinator, committed, client):
    """School 99ZZ00 with 60 pupils; Zonnebloem has a per-group licence for year group 5
    (linked by the import); the school consents to Zonnebloem."""
    zonnebloem = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    contract = ContractFactory(school=school, product=ProductFactory(
        publisher=zonnebloem, code="ZB5", year_groups=[5]))
    roster = parse_edexml(school_file(60))
    committed(apply_roster, school, roster)
    committed(set_publisher_consents, school, [zonnebloem.pk], coordinator)

    class World:
        pass

    w = World()
    w.school, w.roster, w.contract, w.coordinator = school, roster, contract, coordinator
    w.publisher = Publisher(client, zonnebloem)
    w.school_id = school_id_for(zonnebloem.pk, school.pk)
    return w


def test_a_snapshot_shows_the_linked_groups_their_pupils_and_teachers_and_no_more(world):
    body = world.publisher.snapshot(world.school_id).json()
    linked = set(GroupLicence.objects.filter(contract=world.contract).values_list(
        "group_id", flat=True))
    assert linked, "the import links year group 5"
    assert {g["id"] for g in body["groups"]} == {
        group_id_for(world.publisher.row.pk, pk) for pk in linked}
    pupils = Pupil.objects.filter(group_id__in=linked, active=True)
    teachers = Teacher.objects.filter(groups__in=linked, active=True).distinct()
    assert {p["id"] for p in body["people"] if p["role"] == "pupil"} == {
        subject_for(world.publisher.row.pk, p.user_id) for p in pupils}
    assert {p["id"] for p in body["people"] if p["role"] == "teacher"} == {
        subject_for(world.publisher.row.pk, t.user_id) for t in teachers}
    assert body["school"] == {"id": world.school_id, "name": world.school.name,
                              "brin6": "99ZZ00"}
    # The least data: given name and initial, never an e-mail, key, birth date or ECK iD.
    pupil = pupils.first()
    person = next(p for p in body["people"]
                  if p["id"] == subject_for(world.publisher.row.pk, pupil.user_id))
    assert person == {"id": person["id"], "school_id": world.school_id, "role": "pupil",
                      "given_name": pupil.first_name,
                      "family_name": pupil.last_name[0].upper() + ".",
                      "year_group": pupil.jaargroep,
                      "group_ids": [group_id_for(world.publisher.row.pk, pupil.group_id)],
                      "active": True}
    text = json.dumps(body)
    for secret in (pupil.key, pupil.last_name, pupil.eckid or "no-eckid"):
        assert secret not in text
    assert "@" not in text


def test_the_feed_adds_up_to_the_snapshot_after_imports_licence_changes_and_withdrawal(
        world, committed, school_file):
    publisher, school = world.publisher, world.school

    def in_step():
        publisher.pull(limit=7)  # small pages: the cursor carries across pages
        assert publisher.view_of(world.school_id) == snapshot_view(
            publisher.snapshot(world.school_id).json())

    in_step()
    # A pupil renamed, one leaves, one joins group 5 from another group.
    moved = copy.deepcopy(world.roster)
    fives = {g["key"] for g in moved["groups"] if g["jaargroep"] == "5"}
    in_five = [p for p in moved["pupils"] if p["group"] in fives]
    in_five[0]["first_name"] = "Fenna"
    moved["pupils"].remove(in_five[1])
    outsider = next(p for p in moved["pupils"] if p["group"] not in fives)
    outsider["group"] = next(iter(fives))
    committed(apply_roster, school, moved)
    in_step()
    # A group of year 6 is linked by hand, then year 5's link is removed.
    six = Group.objects.filter(school=school, jaargroep="6", kind="group").first()
    committed(licence_services.link_group, school=school, contract=world.contract, group=six,
              actor=world.coordinator)
    in_step()
    five = GroupLicence.objects.filter(contract=world.contract, group__jaargroep="5").first()
    committed(licence_services.unlink_group, school=school, contract=world.contract,
              group=five.group, actor=world.coordinator)
    in_step()
    # The school withdraws its consent: everything is removed, the school last.
    committed(set_publisher_consents, school, [], world.coordinator)
    publisher.pull()
    assert publisher.view_of(world.school_id) == {"school": None, "groups": [], "people": []}
    assert publisher.snapshot(world.school_id).status_code == 404
    # Consecutive sequence numbers from 1, each seen once.
    assert publisher.sequences == list(range(1, len(publisher.sequences) + 1))


def test_a_withdrawn_consent_removes_everything_at_once_and_nothing_comes_after(
        world, committed, school_file):
    publisher = world.publisher
    publisher.pull()
    seen = len(publisher.people) + len(publisher.groups) + 1
    committed(set_publisher_consents, world.school, [], world.coordinator)
    body = publisher.pull()
    removals = [e for e in body["events"] if e["type"] == "removed"]
    assert len(removals) == seen
    assert removals[-1]["entity"] == "school"
    assert all(e["record"] is None for e in removals)
    # What it was told before is blanked: the feed keeps no personal data of this school.
    assert not FeedEvent.objects.filter(publisher=publisher.row, school=world.school,
                                        record__isnull=False).exists()
    # Another import, a new link, the nightly comparison: nothing more for this publisher.
    changed = copy.deepcopy(world.roster)
    changed["pupils"][0]["first_name"] = "Anders"
    committed(apply_roster, world.school, changed)
    feed.publish_everything()
    assert publisher.pull()["events"] == []


def test_a_pupil_who_left_the_school_is_deactivated_with_the_last_record(world, committed):
    publisher = world.publisher
    publisher.pull()
    leaver = Pupil.objects.filter(group__licences__contract=world.contract).first()
    roster = copy.deepcopy(world.roster)
    roster["pupils"] = [p for p in roster["pupils"] if p["key"] != leaver.key]
    committed(apply_roster, world.school, roster)
    body = publisher.pull()
    sub = subject_for(publisher.row.pk, leaver.user_id)
    event, = [e for e in body["events"] if e["id"] == sub]
    assert event["type"] == "deactivated" and event["record"]["active"] is False
    assert sub not in publisher.people


def test_a_contract_that_ends_by_date_is_removed_by_the_nightly_comparison(world):
    publisher = world.publisher
    publisher.pull()
    assert publisher.people
    tomorrow = timezone.localdate() + datetime.timedelta(days=400)
    feed.publish_everything(day=tomorrow)
    publisher.pull()
    assert publisher.people == {} and publisher.groups == {}
    assert set(publisher.schools) == {world.school_id}  # still consents: the school stays


def test_the_nightly_comparison_looks_only_at_schools_whose_contracts_started_or_ended(
        world, committed, coordinator, school_file, monkeypatch):
    """The first night compares every school; later nights only the schools where one of the
    publisher's contracts began or stopped counting since the night before, so a quiet night
    costs nothing, and a contract's last day is still in the view."""
    publisher = world.publisher
    other = SchoolFactory(brin="88YY", dependancecode="00")
    today = timezone.localdate()
    committed(ContractFactory, school=other, product=world.contract.product,
              end=world.contract.end + datetime.timedelta(days=365))
    committed(set_publisher_consents, other, [publisher.row.pk], coordinator)
    compared = []
    compare = feed.publish_school

    def spy(school, **kwargs):
        compared.append(school.brin6)
        return compare(school, **kwargs)

    monkeypatch.setattr(feed, "publish_school", spy)
    feed.publish_everything(day=today)
    assert sorted(compared) == ["88YY00", "99ZZ00"]
    compared.clear()
    feed.publish_everything(day=today + datetime.timedelta(days=1))
    assert compared == []
    publisher.pull()
    last_day = world.contract.end
    Contract.objects.filter(pk=world.contract.pk).update(end=last_day)  # no signal: by date
    feed.publish_everything(day=last_day)
    assert compared == [] and publisher.people, "a contract counts on its end date"
    feed.publish_everything(day=last_day + datetime.timedelta(days=1))
    assert compared == ["99ZZ00"]
    publisher.pull()
    assert not [p for p in publisher.people.values() if p["school_id"] == world.school_id]


def _rename_one_year_5_pupil(world, name):
    renamed = copy.deepcopy(world.roster)
    fives = {g["key"] for g in renamed["groups"] if g["jaargroep"] == "5"}
    next(p for p in renamed["pupils"] if p["group"] in fives)["first_name"] = name
    return renamed


def test_a_failed_comparison_stays_pending_and_the_next_night_tells_it(world, committed,
                                                                       monkeypatch):
    feed.publish_everything()
    world.publisher.pull()

    def broken(school, **kwargs):
        raise RuntimeError("database went away")

    with monkeypatch.context() as patched:
        patched.setattr(feed, "publish_school", broken)
        committed(apply_roster, world.school, _rename_one_year_5_pupil(world, "Anders"))
    assert world.publisher.pull()["events"] == []  # the import committed; only the feed failed
    assert feed.pending_school_ids() == [world.school.pk]
    feed.publish_everything()  # no contract started or ended, yet the change is told
    event, = world.publisher.pull()["events"]
    assert event["type"] == "changed" and event["record"]["given_name"] == "Anders"
    assert feed.pending_school_ids() == []
    feed.publish_everything()
    assert world.publisher.pull()["events"] == [], "told once, not again"


def test_a_change_whose_comparison_never_ran_is_told_by_the_next_drain(world, committed,
                                                                       monkeypatch):
    """A worker that died or a broker that was down between the commit and the comparison:
    the change was written down with the import, so nothing is lost."""
    world.publisher.pull()
    with monkeypatch.context() as patched:
        patched.setattr(feed, "_dispatch", lambda: None)
        committed(apply_roster, world.school, _rename_one_year_5_pupil(world, "Bram"))
    assert world.publisher.pull()["events"] == []
    feed.publish_pending()
    event, = world.publisher.pull()["events"]
    assert event["record"]["given_name"] == "Bram"


def test_a_rolled_back_change_leaves_nothing_pending(world, committed):
    world.publisher.pull()
    with pytest.raises(RuntimeError), transaction.atomic():
        apply_roster(world.school, _rename_one_year_5_pupil(world, "Cas"))
        raise RuntimeError("the import failed after writing")
    assert feed.pending_school_ids() == []
    assert world.publisher.pull()["events"] == []


def test_during_the_nightly_run_the_feed_waits_until_every_import_is_done(world, committed):
    world.publisher.pull()
    feed.hold_comparisons()
    try:
        committed(apply_roster, world.school, _rename_one_year_5_pupil(world, "Daan"))
        assert world.publisher.pull()["events"] == [], "compared only after the imports"
        assert feed.pending_school_ids() == [world.school.pk]
    finally:
        feed.release_comparisons()
    event, = world.publisher.pull()["events"]
    assert event["record"]["given_name"] == "Daan"
    assert feed.pending_school_ids() == []


def test_another_publisher_sees_nothing_and_an_unknown_school_looks_the_same(world, client):
    other = Publisher(client, PublisherFactory(name="Uitgeverij Distel", slug="distel"))
    assert other.pull()["events"] == []
    assert other.get("/schools").json()["schools"] == []
    mine = school_id_for(other.row.pk, world.school.pk)
    for school_id in (mine, world.school_id, "0" * 64):
        response = other.snapshot(school_id)
        assert response.status_code == 404
        assert response.json()["detail"]


def test_cursors_are_opaque_and_a_bad_one_is_a_400(world, client):
    publisher = world.publisher
    body = publisher.pull(limit=3)
    cursor = body["next_cursor"]
    assert cursor.isascii() and str(publisher.sequences[-1]) != cursor
    other = Publisher(client, PublisherFactory(name="Uitgeverij Distel", slug="distel"))
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "x" * 30, "abc", cursor + "A"):
        response = publisher.get("/changes", after=bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == "after"
        # Dutch for the school's world, English for an international publisher's developer.
        assert response.json()["detail"].startswith("Deze cursor is niet geldig")
        assert response.json()["detail_en"].startswith("This cursor is not valid")
    assert other.get("/changes", after=cursor).status_code == 400
    # The same cursor again gives the same events: replayable, never expiring.
    first = publisher.get("/changes", after="0", limit=5).json()
    again = publisher.get("/changes", after="0", limit=5).json()
    assert first["events"] == again["events"]


def test_a_snapshot_and_the_feed_after_its_cursor_lose_nothing(world, committed):
    publisher = world.publisher
    snap = publisher.snapshot(world.school_id).json()
    changed = copy.deepcopy(world.roster)
    fives = {g["key"] for g in changed["groups"] if g["jaargroep"] == "5"}
    renamed = next(p for p in changed["pupils"] if p["group"] in fives)
    renamed["first_name"] = "Jip"
    committed(apply_roster, world.school, changed)
    publisher.cursor = snap["cursor"]
    for record in snap["people"]:
        publisher.people[record["id"]] = record
    for record in snap["groups"]:
        publisher.groups[record["id"]] = record
    publisher.schools[world.school_id] = snap["school"]
    body = publisher.pull()
    assert [e["type"] for e in body["events"]] == ["changed"]
    assert publisher.view_of(world.school_id) == snapshot_view(
        publisher.snapshot(world.school_id).json())


def test_a_per_child_licence_shows_the_child_but_not_its_group(committed, school, coordinator,
                                                               client):
    publisher = PublisherFactory(name="Uitgeverij Klaproos", slug="klaproos")
    contract = ContractFactory(school=school, product=ProductFactory(
        publisher=publisher, allows_group_licences=False), contract_type=Contract.Type.CHILD,
        seats=3)
    group = GroupFactory(school=school)
    child, _other = PupilFactory(school=school, group=group), PupilFactory(school=school,
                                                                          group=group)
    committed(set_publisher_consents, school, [publisher.pk], coordinator)
    committed(licence_services.link_child, school=school, contract=contract, pupil=child,
              actor=coordinator)
    reader = Publisher(client, publisher)
    body = reader.snapshot(school_id_for(publisher.pk, school.pk)).json()
    assert [p["id"] for p in body["people"]] == [subject_for(publisher.pk, child.user_id)]
    assert body["people"][0]["group_ids"] == [] and body["groups"] == []


def test_concurrent_changes_leave_no_gap_and_no_duplicate(shared_database, school_file):
    """Several schools' imports and comparisons at the same moment: the publisher's sequence
    numbers stay consecutive and every event is seen exactly once."""
    publisher, schools = _publisher_with_four_schools()

    def work(index):
        school = schools[index % 4]
        roster = parse_edexml(school_file(30, brin=school.brin, seed=index))
        apply_roster(school, roster)
        return feed.publish_school(school)

    at_once(8, work)
    _assert_the_feed_adds_up_to_the_snapshots(publisher, schools)


def _assert_the_feed_adds_up_to_the_snapshots(publisher, schools):
    events = list(FeedEvent.objects.filter(publisher=publisher).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1)) and events
    # Replayed in order, the events add up to each school's snapshot: none lost, none twice
    # (an "added" for something already there would mean a change told twice).
    replica: dict[str, dict] = {}
    for event in events:
        if event.action == "added":
            assert event.entity_ref not in replica, event
        if event.action in ("added", "changed"):
            replica[event.entity_ref] = event.record
        else:
            del replica[event.entity_ref]
    for school in schools:
        found = feed.snapshot(publisher.pk, school_id_for(publisher.pk, school.pk))
        assert found is not None and found.people
        record, groups, people = found.parsed()
        mine = {ref: r for ref, r in replica.items() if r.get("school_id", ref) == record[
            "id"] or ref == record["id"]}
        assert mine == {r["id"]: r for r in [record, *groups, *people]}


def _publisher_with_four_schools():
    publisher = PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")
    product = ProductFactory(publisher=publisher, code="ZB", year_groups=[4, 5, 6])
    schools = []
    for i in range(4):
        school = SchoolFactory(brin=f"9{i}ZZ", dependancecode="00")
        ContractFactory(school=school, product=product)
        PublisherConsent.objects.create(school=school, publisher=publisher,
                                        given_at=timezone.now())
        schools.append(school)
    return publisher, schools


def _a_night_held(schools, school_file, seed):
    """Each school's roster replaced while the comparisons are held, as `klaspoort nightly`
    holds them: everything is pending afterwards."""
    feed.hold_comparisons()
    try:
        for school in schools:
            apply_roster(school, parse_edexml(school_file(30, brin=school.brin, seed=seed)))
    except BaseException:
        feed.release_comparisons()
        raise
    assert feed.pending_school_ids() == sorted(school.pk for school in schools)


def test_drains_at_the_same_moment_tell_each_change_once(shared_database, school_file):
    publisher, schools = _publisher_with_four_schools()
    feed.publish_everything()
    _a_night_held(schools, school_file, seed=7)
    try:
        at_once(4, lambda _index: feed.publish_pending())
        assert feed.pending_school_ids() == []
    finally:
        feed.release_comparisons()  # nothing left to compare
    _assert_the_feed_adds_up_to_the_snapshots(publisher, schools)


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="processes share a database server, not an in-memory SQLite file")
def test_after_the_night_the_comparisons_run_in_as_many_processes_as_the_imports(
        shared_database, school_file):
    publisher, schools = _publisher_with_four_schools()
    feed.publish_everything()
    before = FeedEvent.objects.filter(publisher=publisher).count()
    _a_night_held(schools, school_file, seed=8)
    feed.release_comparisons(workers=2)
    assert feed.pending_school_ids() == []
    assert FeedEvent.objects.filter(publisher=publisher).count() > before
    _assert_the_feed_adds_up_to_the_snapshots(publisher, schools)


# --- an import's comparison looks only at what it touched -------------------------------------

def _random_night(roster, rng, counter):
    """One night's changes in a LAS, drawn at random: pupils renamed, moved (also into a
    combination group, which can link it by year group), leaving and joining; clusters joined
    and left; groups renamed or given another year group; teachers renamed and given other
    groups."""
    groups = [g for g in roster["groups"] if g["kind"] == "group"]
    clusters = [g for g in roster["groups"] if g["kind"] == "cluster"]
    pupils, teachers = roster["pupils"], roster["teachers"]
    for _ in range(rng.randint(1, 4)):
        pupil, group, teacher = rng.choice(pupils), rng.choice(groups), rng.choice(teachers)
        change = rng.choice(["rename", "move", "move", "leave", "join", "cluster",
                             "group year", "group name", "teacher name", "teacher groups"])
        if change == "rename":
            pupil["first_name"] = f"Naam{next(counter)}"
        elif change == "move":
            pupil["group"] = group["key"]
        elif change == "leave" and len(pupils) > 30:
            pupils.remove(pupil)
        elif change == "join":
            pupils.append({**copy.deepcopy(pupil), "key": f"N{next(counter):06d}",
                           "eckid": None, "group": group["key"]})
        elif change == "cluster" and clusters:
            pupil["clusters"] = [] if pupil["clusters"] else [clusters[0]["key"]]
        elif change == "group year" and group["jaargroep"] != "C":
            group["jaargroep"] = rng.choice("345678")
        elif change == "group name":
            group["name"] = f"Groep {next(counter)}"
        elif change == "teacher name":
            teacher["first_name"] = f"Juf{next(counter)}"
        elif change == "teacher groups":
            teacher["groups"] = [{"key": rng.choice(groups)["key"], "roles": []}]


@pytest.mark.parametrize("seed", range(4))
def test_an_import_compares_only_what_it_touched_and_misses_nothing(world, committed, seed,
                                                                    monkeypatch):
    """After each night, the partial comparison has told the publisher exactly what a
    comparison of the whole school would: comparing the whole school afterwards finds
    nothing, and the replica equals the snapshot."""
    import itertools
    import random

    # Year group 3 as well: a year-3 pupil moving into the combination group 1-2 links that
    # group by year group, and the whole group enters the view though only one pupil moved.
    def add_contract():
        ContractFactory(school=world.school, product=ProductFactory(
            publisher=world.publisher.row, code="ZB3", year_groups=[3]))
        licence_services.auto_link(world.school)

    committed(add_contract)
    publisher, roster = world.publisher, copy.deepcopy(world.roster)
    publisher.pull()
    partial = []
    compare = feed.views_of_school

    def spy(*args, **kwargs):
        partial.append(kwargs.get("user_ids") is not None)
        return compare(*args, **kwargs)

    rng, counter = random.Random(seed), itertools.count(1)
    for _night in range(12):
        _random_night(roster, rng, counter)
        with monkeypatch.context() as patched:
            patched.setattr(feed, "views_of_school", spy)
            committed(apply_roster, world.school, roster)
        assert feed.publish_school(world.school) == 0
        publisher.pull()
        assert publisher.view_of(world.school_id) == snapshot_view(
            publisher.snapshot(world.school_id).json())
    assert publisher.sequences == list(range(1, len(publisher.sequences) + 1))
    # Most nights only what they touched (an automatic link taken away compares the whole).
    assert partial.count(True) >= len(partial) / 2


def test_a_year_3_pupil_moving_into_the_combination_group_brings_the_whole_group(
        world, committed):
    committed(ContractFactory, school=world.school, product=ProductFactory(
        publisher=world.publisher.row, code="ZB3", year_groups=[3]))
    roster = copy.deepcopy(world.roster)
    roster["pupils"] = [p for p in roster["pupils"]
                        if p["group"] != "g12A" or p["jaargroep"] != "3"]
    committed(apply_roster, world.school, roster)
    world.publisher.pull()
    combination = Group.objects.get(school=world.school, key="g12A")
    assert group_id_for(world.publisher.row.pk, combination.pk) not in world.publisher.groups
    mover = next(p for p in roster["pupils"] if p["jaargroep"] == "3")
    mover["group"] = "g12A"
    committed(apply_roster, world.school, roster)
    world.publisher.pull()
    assert group_id_for(world.publisher.row.pk, combination.pk) in world.publisher.groups
    members = Pupil.objects.filter(group=combination, active=True)
    assert members.count() > 1
    assert {subject_for(world.publisher.row.pk, p.user_id) for p in members} <= set(
        world.publisher.people)


def test_publish_feeds_compares_every_school_when_asked_and_prints_one_json_document(
        world, committed):
    import io

    from django.core.management import call_command

    feed.publish_everything()
    world.publisher.pull()
    # A change no signal saw (a raw update): only the whole comparison finds it.
    Pupil.objects.filter(group__licences__contract=world.contract).update(first_name="Stil")
    out = io.StringIO()
    call_command("publish-feeds", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"status": "ok", "whole": False, "events": 0}
    out = io.StringIO()
    call_command("publish-feeds", "--whole", "--json", stdout=out)
    told = json.loads(out.getvalue())
    assert told["events"] > 0 and told["events"] == len(world.publisher.pull()["events"])
    assert {p["given_name"] for p in world.publisher.people.values()
            if p["role"] == "pupil"} == {"Stil"}


def _the_nightly_command():
    from django.core.management import call_command

    call_command("nightly", "--no-fetch", stdout=io.StringIO())


def _the_nightly_celery_task():
    from klaspoort.roster.tasks import nightly_run

    nightly_run()


@pytest.mark.django_db(transaction=True)  # each import commits, as at night
@pytest.mark.parametrize("night", [_the_nightly_command, _the_nightly_celery_task])
def test_the_night_tells_the_publishers_after_its_last_import(world, school_file, monkeypatch,
                                                              night):
    """The night's imports are not slowed by the feed: no comparison runs while an import
    waits, and once they are all done every change is told. Whether cron runs the command
    or Celery beat the task."""
    from klaspoort.roster.models import RosterImport
    from klaspoort.roster.services import receive_roster_file

    world.publisher.pull()
    data = school_file(60)
    fives = {g["key"] for g in world.roster["groups"] if g["jaargroep"] == "5"}
    name = next(p["first_name"] for p in world.roster["pupils"] if p["group"] in fives
                and data.count(f"<roepnaam>{p['first_name']}</roepnaam>".encode()) == 1)
    for renamed in ("Evi", "Fien"):  # two files wait: the second import renames again
        receive_roster_file(data.replace(f"<roepnaam>{name}<".encode(),
                                         f"<roepnaam>{renamed}<".encode()),
                            source=RosterImport.Source.COUPLING)
    waiting_while_compared = []
    compare = feed.publish_school

    def spy(school, **kwargs):
        waiting_while_compared.append(RosterImport.objects.filter(
            status=RosterImport.Status.WAITING).count())
        return compare(school, **kwargs)

    monkeypatch.setattr(feed, "publish_school", spy)
    night()
    assert waiting_while_compared == [0]
    assert feed.pending_school_ids() == []
    event, = world.publisher.pull()["events"]  # one comparison, after both imports
    assert event["type"] == "changed" and event["record"]["given_name"] == "Fien"


@pytest.mark.django_db(transaction=True)  # the foreign keys are checked at commit
def test_an_operator_can_delete_a_school_its_publisher_was_told_about():
    """Deleting a school cascades to its consents and contracts, whose signals would write
    the change down for the feed: nothing may be left pointing at the deleted school."""
    _publisher, schools = _publisher_with_four_schools()
    feed.publish_everything()
    with transaction.atomic():
        schools[0].delete()
    assert feed.pending_school_ids() == []
    assert feed.publish_pending() == 0
