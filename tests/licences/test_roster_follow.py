"""Licences follow the roster: an import links new groups by year group and tells the teachers
about a child who joined a licensed group in the middle of the year."""

import copy

from klaspoort.licences import selectors, services
from klaspoort.licences.models import GroupLicence
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Group, Pupil
from klaspoort.roster.services import apply_roster
from klaspoort.schools.models import School
from tests.factories import CoordinatorFactory
from tests.licences.factories import ContractFactory, ProductFactory


def test_an_import_links_groups_by_year_group_and_notices_a_mid_year_joiner(school,
                                                                               school_file):
    roster = parse_edexml(school_file(60))
    product = ProductFactory(year_groups=[4])
    contract = ContractFactory(school=school, product=product)
    apply_roster(school, roster)
    linked = {link.group for link in GroupLicence.objects.filter(contract=contract)}
    fours = {g for g in Group.objects.filter(school=school, kind="group")
             if "4" in {p.jaargroep for p in g.pupils.all()} or g.jaargroep == "4"}
    assert linked == fours and linked
    # The first roster brings nobody "in the middle of a lesson week".
    assert selectors.open_join_notices(school) == []

    group4 = next(iter(fours))
    moved = copy.deepcopy(roster)
    mover = next(p for p in moved["pupils"] if p["group"] != group4.key)
    mover["group"] = group4.key
    apply_roster(school, moved)
    notice, = selectors.open_join_notices(school)
    assert (notice.pupil, notice.group) == (Pupil.objects.get(key=mover["key"]), group4)


def test_a_new_school_year_gives_no_joiner_notices(school, school_file):
    roster = parse_edexml(school_file(40))
    ContractFactory(school=school, product=ProductFactory(year_groups=[1, 2, 3, 4, 5, 6, 7, 8]))
    apply_roster(school, roster)
    next_year = copy.deepcopy(roster)
    start = int(roster["school"]["school_year"][:4])
    next_year["school"]["school_year"] = f"{start + 1}-{start + 2}"
    keys = [g["key"] for g in next_year["groups"] if g["kind"] == "group"]
    for i, pupil in enumerate(next_year["pupils"]):
        pupil["group"] = keys[(i + 1) % len(keys)]
    apply_roster(school, next_year)
    assert selectors.open_join_notices(school) == []


def test_a_hand_link_asks_for_review_when_its_group_moves_up_only_at_its_own_school(
        school, school_file, coordinator):
    other = School.objects.create(brin="88YY", dependancecode="00", name="De Klimop")
    other_coordinator = CoordinatorFactory(school=other, email="ict@klimop.example")
    product = ProductFactory(year_groups=[])  # every year group: linked by hand only
    for each, who, brin in ((school, coordinator, "99ZZ"), (other, other_coordinator, "88YY")):
        apply_roster(each, parse_edexml(school_file(40, brin=brin)))
        contract = ContractFactory(school=each, product=product)
        services.link_group(school=each, contract=contract,
                            group=Group.objects.get(school=each, key="g5A"), actor=who)
    assert selectors.hand_links_to_review(school) == []
    # Only the first school's LAS moves its group 5 up (same key, year group 6).
    moved = parse_edexml(school_file(40))
    for group in moved["groups"]:
        if group["key"] == "g5A":
            group["jaargroep"] = "6"
    apply_roster(school, moved)
    review, = selectors.hand_links_to_review(school)
    assert (review.link.group.key, review.reason) == ("g5A", selectors.YEAR_GROUP_CHANGED)
    assert review.link.group.school == school
    assert selectors.hand_links_to_review(other) == []
    # Still linked: a hand link is never taken away by an import.
    assert GroupLicence.objects.filter(group=review.link.group, removed_at__isnull=True).exists()
