"""Results in from a publisher (results.services.ingest_results): per-row errors, idempotency,
and only for pupils the publisher may see."""

import datetime

import pytest
from django.utils import timezone, translation

from klaspoort.licences.models import ChildLicence, GroupLicence
from klaspoort.results.models import Delivery, Result
from klaspoort.results.services import MAX_BATCH, TooManyRows, ingest_results
from klaspoort.schools.models import PublisherConsent
from tests.factories import (
    GroupFactory,
    LasSystemFactory,
    PupilFactory,
    ResultCouplingFactory,
)
from tests.licences.factories import ContractFactory, ProductFactory
from tests.results.ingest_world import licensed_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return licensed_world()

NOT_YOURS = "You may not send results for this pupil"


def coupled(school, *, practice=False):
    return ResultCouplingFactory(school=school,
                                 las=LasSystemFactory(takes_practice_results=practice),
                                 since=timezone.now() - datetime.timedelta(days=1))


def test_a_good_row_is_stored_for_the_pupil(world):
    outcome = ingest_results(world.publisher, [world.row(note="Goed gedaan")])

    assert outcome.as_dict() == {"created": 1, "updated": 0, "unchanged": 0, "refused": 0,
                                 "errors": []}
    result = Result.objects.get()
    assert (result.pupil, result.school, result.product) == (world.pupil, world.school,
                                                             world.product)
    assert (result.external_id, result.score, result.max_score, result.kind, result.note) == (
        "r-1", 17, 20, "toets", "Goed gedaan")
    assert result.version == 1


def test_each_row_is_judged_on_its_own_and_the_good_ones_are_stored(world):
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    rows = [world.row("ok-1"),
            world.row("bad-score", score="17"),
            world.row("future", date=tomorrow),
            world.row("too-high", score=21),
            {**world.row("extra"), "bsn": "123456789"},
            world.row("ok-2", kind="observatie", test_type=None, max_score=None),
            "not an object",
            world.row("old", date="1999-12-31"),
            world.row("no-date", date="12-11-2026"),
            world.row("obs-type", kind="observatie")]

    outcome = ingest_results(world.publisher, rows)

    assert (outcome.created, outcome.refused) == (2, 8)
    errors = {(error.line, error.field) for error in outcome.errors}
    assert errors == {(2, "score"), (3, "date"), (4, "score"), (5, "bsn"), (7, ""),
                      (8, "date"), (9, "date"), (10, "test_type")}
    by_line = {error.line: error.as_dict() for error in outcome.errors}
    # Dutch for the helpdesk, English for an international developer.
    assert by_line[3]["message_en"] == "The date lies in the future."
    assert by_line[3]["message"] != by_line[3]["message_en"]
    assert set(Result.objects.values_list("external_id", flat=True)) == {"ok-1", "ok-2"}


def test_nul_bytes_huge_strings_and_wrong_types_are_row_errors(world):
    rows = [world.row("a", test_name="Blok\x003"), world.row("b", test_name="x" * 100_000),
            world.row("c", score=True), world.row("d", score=1.5), world.row("e", score=10**30),
            world.row("f", id=["list"]), world.row("g", note={"a": 1}), {}, None, 7]

    outcome = ingest_results(world.publisher, rows)

    assert outcome.refused == 10
    assert not Result.objects.exists()
    assert all(len(error.message) < 200 for error in outcome.errors)


def test_a_result_id_twice_in_one_request_is_refused_the_second_time(world):
    outcome = ingest_results(world.publisher, [world.row("same"), world.row("same", score=3)])

    assert [(e.line, e.field) for e in outcome.errors] == [(2, "id")]
    assert Result.objects.get().score == 17


def test_the_same_row_again_changes_nothing_and_queues_nothing(world):
    coupled(world.school)
    ingest_results(world.publisher, [world.row()])
    result = Result.objects.get()

    outcome = ingest_results(world.publisher, [world.row()])

    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 1)
    assert Result.objects.get().version == result.version == 1
    assert Delivery.objects.count() == 1


def test_a_changed_row_updates_in_place_bumps_the_version_and_queues_again(world):
    coupled(world.school)
    ingest_results(world.publisher, [world.row()])
    uid = Result.objects.get().uid

    outcome = ingest_results(world.publisher, [world.row(score=19)])

    assert (outcome.created, outcome.updated) == (0, 1)
    result = Result.objects.get()
    assert (result.uid, result.score, result.version) == (uid, 19, 2)
    assert sorted(Delivery.objects.values_list("result_version", flat=True)) == [1, 2]


def test_practice_results_are_not_queued_for_a_las_that_takes_none(world):
    coupled(world.school, practice=False)

    ingest_results(world.publisher, [world.row("t"), world.row("p", kind="oefening")])

    assert Result.objects.count() == 2
    assert list(Delivery.objects.values_list("result__external_id", flat=True)) == ["t"]


def test_nothing_is_queued_without_a_coupling(world):
    ingest_results(world.publisher, [world.row()])

    assert Result.objects.count() == 1
    assert not Delivery.objects.exists()


def refusal(world, row):
    outcome = ingest_results(world.publisher, [row])
    assert not Result.objects.exists()
    [error] = outcome.errors
    return error.field, error.as_dict()["message_en"]


def test_a_pupil_without_a_licence_is_refused(world):
    other_group = GroupFactory(school=world.school)
    unlicensed = PupilFactory(school=world.school, group=other_group)

    field, message = refusal(world, world.row(pupil=unlicensed))

    assert field == "user_id" and message.startswith(NOT_YOURS)


def test_a_licence_of_another_product_is_not_enough(world):
    other = ProductFactory(publisher=world.publisher, code="ZB6")

    _field, message = refusal(world, world.row(product=other.code))

    assert message.startswith(NOT_YOURS)


def test_without_the_schools_consent_every_pupil_is_refused(world):
    PublisherConsent.objects.filter(school=world.school).update(withdrawn_at=timezone.now())

    _field, message = refusal(world, world.row())

    assert message.startswith(NOT_YOURS)


def test_an_ended_licence_is_refused(world):
    GroupLicence.objects.update(removed_at=timezone.now())

    _field, message = refusal(world, world.row())

    assert message.startswith(NOT_YOURS)


def test_a_pupil_of_another_school_is_refused_the_same_as_one_who_does_not_exist(world):
    elsewhere = licensed_world(world.publisher, brin="98ZZ")
    # The other school's pupil, named with this school's id; and a made-up pupil.
    crossed = world.row(pupil=elsewhere.pupil, school=world.school)
    made_up = {**world.row(), "user_id": "ab" * 32}
    unknown_school = {**world.row(), "school_id": "cd" * 32}

    answers = {refusal(world, row) for row in (crossed, made_up, unknown_school)}

    assert len(answers) == 1
    assert next(iter(answers))[1].startswith(NOT_YOURS)


def test_another_publishers_pupil_and_product_are_refused(world):
    theirs = licensed_world(ProductFactory().publisher, brin="97ZZ", code="TH1")

    outcome = ingest_results(world.publisher, [theirs.row()])

    assert [error.field for error in outcome.errors] == ["product"]
    outcome = ingest_results(theirs.publisher, [world.row()])
    assert [error.field for error in outcome.errors] == ["product"]
    assert not Result.objects.exists()


def test_a_child_licence_lets_the_publisher_send_for_that_child(world):
    child = PupilFactory(school=world.school, group=GroupFactory(school=world.school))
    contract = ContractFactory(school=world.school, product=world.product,
                               contract_type="child", seats=5)
    ChildLicence.objects.create(contract=contract, pupil=child)

    outcome = ingest_results(world.publisher, [world.row(pupil=child)])

    assert outcome.created == 1


def test_more_than_the_batch_limit_is_refused_whole(world):
    with pytest.raises(TooManyRows):
        ingest_results(world.publisher, [world.row(f"r{i}") for i in range(MAX_BATCH + 1)])
    assert not Result.objects.exists()


def test_a_full_batch_takes_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    pupils = [PupilFactory(school=world.school, group=world.group) for _ in range(30)]
    rows = [world.row(f"r{i}", pupil=pupils[i % 30]) for i in range(MAX_BATCH)]

    # A fixed number per school, plus the inserts (SQLite takes a few dozen rows a statement).
    with django_assert_max_num_queries(60):
        outcome = ingest_results(world.publisher, rows)

    assert outcome.created == MAX_BATCH


def test_a_field_message_is_in_the_language_of_the_moment_with_its_english(world):
    row = world.row(score="17")

    [dutch] = ingest_results(world.publisher, [row]).errors
    with translation.override("en"):
        [english] = ingest_results(world.publisher, [row]).errors

    assert dutch.as_dict()["message"] == "Een geheel getal van 0 tot en met 1000000."
    assert dutch.as_dict()["message_en"] == english.as_dict()["message"] == (
        "A whole number from 0 to 1000000.")
