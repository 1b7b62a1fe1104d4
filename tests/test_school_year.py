"""A school through a whole school year (issue 16): the September import, licences linked by
year group and by hand, a change in January, the reminder and cancellation in June, results and
the July erasure, the reminder before the year, and the rollover on 1 August with the new year's
first import (pupils one year group up, last year's group 8 gone).

At each step the test asserts what the coordinator (and the pupils) would see: which methods
each pupil may open (`licences.access.access_for_user`, the one access rule), the school year
on *Gegevens*, which links were recomputed and which hand links ask for review.

The clock is Django's (`timezone.now`), set to each step's day, so everything that reads "today"
itself (automatic linking after an import, the join notices, the pages) lives in that day.
"""

from __future__ import annotations

import copy
import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.licences import selectors as licence_selectors
from klaspoort.licences import services as licence_services
from klaspoort.licences.access import access_for_user
from klaspoort.licences.models import Contract, GroupLicence
from klaspoort.licences.reminders import send_cancellation_reminders
from klaspoort.results import erasure
from klaspoort.results.models import LearningGoalScore, Result
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Group, Pupil
from klaspoort.roster.services import apply_roster
from klaspoort.schools import reminders as school_reminders
from klaspoort.schools.models import PublisherConsent
from klaspoort.schools.reminders import send_year_start_reminders
from klaspoort.schools.selectors import current_school_year
from tests.factories import CoordinatorFactory, ResultFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

pytestmark = pytest.mark.django_db

D = datetime.date
YEAR_START, NEXT_YEAR_START = D(2026, 8, 1), D(2027, 8, 1)
TWO_YEARS_END = D(2028, 7, 31)


class Clock:
    """Django's clock on a chosen day; each reading a millisecond later than the one before,
    so the order of what happens on one day is kept."""

    def __init__(self) -> None:
        self.moment = datetime.datetime(2026, 8, 1, 7, 0, tzinfo=datetime.UTC)

    def set(self, day: datetime.date) -> datetime.date:
        self.moment = datetime.datetime(day.year, day.month, day.day, 7, 0, tzinfo=datetime.UTC)
        return day

    def now(self) -> datetime.datetime:
        self.moment += datetime.timedelta(milliseconds=1)
        return self.moment


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    return clock


# ---------------------------------------------------------------------------------------------
# The roster files
# ---------------------------------------------------------------------------------------------
def september_file() -> dict:
    return parse_edexml(generate_school("99ZZ", "00", 60, seed=3, school_year="2026-2027"))


def year_groups(roster: dict) -> dict[str, str]:
    return {p["key"]: p["jaargroep"] for p in roster["pupils"]}


def next_year_file(roster: dict, newcomers: int = 2) -> dict:
    """The LAS's first file of 2027-2028, as many LASes write it: each class keeps its key and
    moves up a year group with its pupils; last year's group 8 has left (no longer in the file);
    the oldest kindergartners go to a new group 3; new kindergartners arrive."""
    new = copy.deepcopy(roster)
    new["school"]["school_year"] = "2027-2028"
    new["groups"] = [g for g in new["groups"] if g["key"] != "g8A"]
    for group in new["groups"]:
        if group["jaargroep"].isdigit():
            group["jaargroep"] = str(int(group["jaargroep"]) + 1)
            group["name"] = f"Groep {group['jaargroep']}"
    new["groups"].append({"key": "g3B", "kind": "group", "name": "Groep 3", "jaargroep": "3",
                          "description": ""})
    pupils = []
    for pupil in new["pupils"]:
        if pupil["jaargroep"] == "8":
            continue  # to secondary school
        if pupil["group"] == "g12A" and pupil["jaargroep"] == "2":
            pupil["group"] = "g3B"
        pupil["jaargroep"] = str(int(pupil["jaargroep"]) + 1)
        pupils.append(pupil)
    first = next(p for p in new["pupils"] if p["group"] == "g12A")
    for number in range(newcomers):
        pupils.append({**copy.deepcopy(first), "key": f"N{number + 1:06d}", "eckid": None,
                       "first_name": f"Nieuw{number + 1}", "jaargroep": "1", "clusters": []})
    new["pupils"] = pupils
    for teacher in new["teachers"]:
        teacher["groups"] = [g for g in teacher["groups"] if g["key"] != "g8A"]
    return new


# ---------------------------------------------------------------------------------------------
# What the coordinator sees
# ---------------------------------------------------------------------------------------------
def opens(pupil_key: str, day: datetime.date) -> set[str]:
    """The methods this pupil may open on `day` (the portal's tiles), by the access rule."""
    pupil = Pupil.objects.get(key=pupil_key)
    access = access_for_user(pupil.user_id, today=day)
    return set() if access is None else {p.product.name for p in access.products}


def pupils_of(group_key: str) -> list[str]:
    return sorted(Pupil.objects.filter(group__key=group_key, active=True)
                  .values_list("key", flat=True))


def linked(contract: Contract) -> dict[str, bool]:
    """The contract's linked groups on its *Licentiebeheer* page: key → made automatically."""
    return {link.group.key: link.automatic for link in licence_selectors.group_links(contract)}


def data_page(client, coordinator, school) -> str:
    client.force_login(coordinator)
    page = client.get(f"/beheer/{school.brin6}/gegevens/")
    assert page.status_code == 200
    return page.content.decode()


def test_a_school_through_a_whole_year(clock, client, mailoutbox, monkeypatch,
                                       django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    # -- Summer 2026: the school, its coordinator, its contracts with Malmberg ----------------
    clock.set(D(2026, 8, 20))
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    coordinator = CoordinatorFactory(school=school, email="ict@regenboog.example")
    malmberg = PublisherFactory(name="Malmberg")
    PublisherConsent.objects.create(school=school, publisher=malmberg, given_at=timezone.now())

    def contract(name, years, number, start=YEAR_START, end=TWO_YEARS_END):
        return ContractFactory(school=school, number=number, start=start, end=end,
                               product=ProductFactory(publisher=malmberg, name=name,
                                                      year_groups=years))

    pluspunt4 = contract("Pluspunt 4", [4], "MB-P4")  # two years
    estafette6 = contract("Estafette 6", [6], "MB-E6")  # two years, cancelled in June
    taal3 = contract("Taal actief 3", [3], "MB-T3", end=D(2027, 7, 31))  # this year only
    blink5 = contract("Blink 5", [5], "MB-B5", start=NEXT_YEAR_START)  # next year's
    squla = contract("Squla", [], "MB-SQ")  # every year group: linked by hand only

    # -- September: the first import ----------------------------------------------------------
    september = clock.set(D(2026, 9, 1))
    roster = september_file()
    apply_roster(school, roster)
    school.refresh_from_db()
    assert school.school_year == "2026-2027"
    assert Pupil.objects.filter(school=school, active=True).count() == 60
    identities = dict(Pupil.objects.filter(school=school).values_list("key", "pk"))

    # Automatic links by year group, also for next year's contract (it counts from 1 August).
    assert linked(pluspunt4) == {"g4A": True}
    assert linked(estafette6) == {"g6A": True}
    assert linked(taal3) == {"g3A": True}
    assert linked(blink5) == {"g5A": True}
    assert linked(squla) == {}
    # The coordinator links Squla by hand to group 5 and group 8.
    groups = {g.key: g for g in Group.objects.filter(school=school)}
    licence_services.link_groups(school=school, contract=squla,
                                 groups=[groups["g5A"], groups["g8A"]], actor=coordinator)
    assert linked(squla) == {"g5A": False, "g8A": False}
    assert licence_selectors.hand_links_to_review(school) == []

    in_4, in_5, in_8 = pupils_of("g4A")[0], pupils_of("g5A")[0], pupils_of("g8A")[0]
    in_3, in_6 = pupils_of("g3A")[0], pupils_of("g6A")[0]
    assert opens(in_3, september) == {"Taal actief 3"}
    assert opens(in_4, september) == {"Pluspunt 4"}
    assert opens(in_5, september) == {"Squla"}  # Blink 5 only from 1 August 2027
    assert opens(in_6, september) == {"Estafette 6"}
    assert opens(in_8, september) == {"Squla"}
    assert "2026-2027" in data_page(client, coordinator, school)

    # -- January: a change in the middle of the year -------------------------------------------
    january = clock.set(D(2027, 1, 15))
    mid_year = copy.deepcopy(roster)
    mover = next(p for p in mid_year["pupils"] if p["key"] == in_3)
    mover["group"], mover["jaargroep"] = "g4A", "4"
    joiner = {**copy.deepcopy(mover), "key": "L900001", "eckid": None, "first_name": "Noor"}
    mid_year["pupils"].append(joiner)
    apply_roster(school, mid_year)
    assert Pupil.objects.get(key=in_3).pk == identities[in_3]  # the same pupil, moved
    assert opens(in_3, january) == {"Pluspunt 4"}  # group 3's method gone, group 4's there
    assert opens("L900001", january) == {"Pluspunt 4"}
    noticed = {(n.pupil.key, n.group.key) for n in licence_selectors.open_join_notices(school)}
    assert noticed == {(in_3, "g4A"), ("L900001", "g4A")}
    assert linked(pluspunt4) == {"g4A": True}  # the links follow year groups, not pupils

    # -- June: the reminder to cancel, and a cancellation -------------------------------------
    june = clock.set(D(2027, 6, 1))
    with capture(execute=True):
        assert send_cancellation_reminders(june) == 1
        assert send_cancellation_reminders(june) == 0
    reminder, = mailoutbox
    assert reminder.to == ["ict@regenboog.example"]
    assert "30 juni 2027" in reminder.subject
    # What can still be cancelled: not Taal actief 3, which ends this year anyway.
    for number in ("MB-P4", "MB-E6", "MB-B5", "MB-SQ"):
        assert f"({number})" in reminder.body
    assert "MB-T3" not in reminder.body
    mailoutbox.clear()

    cancel_day = clock.set(D(2027, 6, 10))
    licence_services.cancel_contract(school=school, contract=estafette6, actor=coordinator,
                                     today=cancel_day)
    estafette6.refresh_from_db()
    assert estafette6.effective_end == D(2027, 7, 31)
    assert opens(in_6, cancel_day) == {"Estafette 6"}  # still until the end of this year

    # -- Results, and the July erasure ----------------------------------------------------------
    results_pupil = Pupil.objects.get(key=in_5)
    for score, taken in ((5, D(2027, 3, 15)), (8, D(2027, 6, 14))):
        ResultFactory(pupil=results_pupil, product=blink5.product, score=score,
                      learning_goal_code="REK-5.1", taken_on=taken)
    erasure_day = clock.set(D(2027, 7, 21))
    plan = erasure.erase_for_summer(erasure_day, None)
    assert plan.total("erased") == 2
    assert not Result.objects.filter(school=school).exists()
    kept, = LearningGoalScore.objects.filter(school=school)
    assert (kept.pupil_id, kept.school_year, kept.learning_goal_code) == (
        results_pupil.pk, "2026-2027", "REK-5.1")

    # -- 25 July: the checklist still has red items, the coordinator hears of it ---------------
    red = SimpleNamespace(title="Every group linked to its licences", state="red",
                          facts=["Groep 8 has no licence."], fix_url="/beheer/", fix_label="")
    monkeypatch.setattr(school_reminders, "checks_for", lambda school, day: [red])
    with capture(execute=True):
        assert send_year_start_reminders(clock.set(D(2027, 7, 25))) == 1
    assert "2027-2028" in mailoutbox[0].subject

    # -- 31 July: the last day of the school year ----------------------------------------------
    last_day = clock.set(D(2027, 7, 31))
    assert opens(in_3, last_day) == {"Pluspunt 4"}
    assert opens(pupils_of("g3A")[0], last_day) == {"Taal actief 3"}
    assert opens(in_6, last_day) == {"Estafette 6"}
    assert opens(in_5, last_day) == {"Squla"}

    # -- 1 August: a new school year, before the new roster arrives -----------------------------
    first_of_august = clock.set(NEXT_YEAR_START)
    assert current_school_year(first_of_august) == "2027-2028"
    page = data_page(client, coordinator, school)
    assert "2027-2028" in page and "2026-2027" in page  # the latest user data are of last year
    # Last year's contracts have ended and next year's started, by their dates alone: Taal
    # actief 3 and the cancelled Estafette 6 are gone, Blink 5 opens for the group linked to it.
    assert opens(pupils_of("g3A")[0], first_of_august) == set()
    assert opens(in_6, first_of_august) == set()
    assert opens(in_5, first_of_august) == {"Squla", "Blink 5"}
    assert opens(in_4, first_of_august) == {"Pluspunt 4"}

    # -- August: the first import of the new year ------------------------------------------------
    rollover = clock.set(D(2027, 8, 20))
    before = {p.key: (p.pk, p.jaargroep) for p in Pupil.objects.filter(school=school,
                                                                       active=True)}
    new_roster = next_year_file(mid_year)
    apply_roster(school, new_roster)
    school.refresh_from_db()
    assert school.school_year == "2027-2028"
    page = data_page(client, coordinator, school)
    assert "2026-2027" not in page

    # Pupils keep their identity (the same account, their pupil id) one year group up ...
    after = {p.key: (p.pk, p.jaargroep, p.group.key if p.group else "")
             for p in Pupil.objects.filter(school=school, active=True)}
    for key, (pk, jaargroep) in before.items():
        if jaargroep == "8":
            assert key not in after
            continue
        assert after[key][:2] == (pk, str(int(jaargroep) + 1))
    # ... last year's group 8 is gone, its pupils no longer sign in or open anything ...
    assert not Group.objects.get(school=school, key="g8A").active
    assert opens(in_8, rollover) == set()
    # ... and the kindergartners of year 2 moved to their new group 3, keeping who they are.
    moved = [k for k, (_pk, j) in before.items() if j == "2"]
    assert moved and all(after[k][2] == "g3B" and after[k][1] == "3" for k in moved)
    assert {"N000001", "N000002"} <= set(after)
    # No joiner notices for a new school year: everyone "moved".
    assert {(n.pupil.key, n.group.key) for n in licence_selectors.open_join_notices(school)
            } == noticed

    # Automatic links are recomputed for the new year groups: the class that was 4 is 5 now.
    assert linked(pluspunt4) == {"g3A": True}  # the former group 3 is group 4 now
    assert linked(blink5) == {"g4A": True}
    assert opens(in_3, rollover) == {"Blink 5"}  # was in 4, is in 5
    assert opens(pupils_of("g3A")[0], rollover) == {"Pluspunt 4"}
    assert opens(moved[0], rollover) == set()  # the new group 3: Taal actief 3 has ended
    # The *Logboek* says so: one entry for the import's automatic linking.
    entry = AuditEntry.objects.filter(school=school, action=AuditAction.LICENCES_AUTO_LINK
                                      ).latest("pk")
    assert entry.after == {"added": 2, "removed": 2}
    # Hand links are kept, and ask for review: group 5 became 6, group 8 is gone.
    assert linked(squla) == {"g5A": False, "g8A": False}
    assert opens(in_5, rollover) == {"Squla"}  # was in 5 (Blink 5 moved on), is in 6
    review = {(r.link.group.key, r.reason) for r in licence_selectors.hand_links_to_review(
        school)}
    assert review == {("g5A", licence_selectors.YEAR_GROUP_CHANGED),
                      ("g8A", licence_selectors.GROUP_GONE)}
    client.force_login(coordinator)
    page = client.get(f"/beheer/{school.brin6}/licenties/{squla.pk}/").content.decode()
    assert "de jaargroep is veranderd sinds je hem koppelde" in page
    assert "deze groep staat niet meer in de gebruikersgegevens" in page

    # The coordinator looks again: keeps group 6 on Squla by linking it anew (after the change,
    # so no longer flagged) and removes group 8.
    licence_services.unlink_group(school=school, contract=squla, group=groups["g8A"],
                                  actor=coordinator)
    licence_services.unlink_group(school=school, contract=squla, group=groups["g5A"],
                                  actor=coordinator)
    licence_services.link_group(school=school, contract=squla, group=groups["g5A"],
                                actor=coordinator)
    assert licence_selectors.hand_links_to_review(school) == []
    # A second import of the new year changes nothing in the links.
    apply_roster(school, copy.deepcopy(new_roster))
    assert linked(pluspunt4) == {"g3A": True} and linked(blink5) == {"g4A": True}
    assert GroupLicence.objects.filter(contract=squla, removed_at__isnull=True).count() == 1
