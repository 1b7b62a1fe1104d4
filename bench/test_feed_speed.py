"""How fast a publisher reads its feed and a school's snapshot, and what the feed adds to an import.

Issue 13 item 9 (decision 0030): a feed page of 1,000 events in under 100 ms of server time, a
1,000-pupil school's snapshot in under 300 ms, and the nightly import's speed unchanged now that
every import also compares the school for its consenting publishers. Not part of the test suite;
run once per database (commands in docs/benchmarks.md, section 5):

    .venv/bin/pytest bench/test_feed_speed.py -p no:xdist
    DATABASE_URL=postgres://postgres@localhost/klaspoort .venv/bin/pytest \
        bench/test_feed_speed.py -p no:xdist

Server time is the whole request through Django's test client in this process (middleware,
token, rate limit, query, JSON), without a network. The school is `generate_school(…, 1000,
seed=1)` imported through the roster services (1,000 pupils, 41 groups, 44 teachers); one
publisher with a running per-group contract for year groups 1-8, linked by `auto_link` to every
group, and the school's consent: it sees every group, pupil and teacher (≈ 1,086 records).
"""

from __future__ import annotations

import datetime
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.country import change_roster
from klaspoort.exchange.models import FeedEvent, PublishedRecord, PublisherApiToken
from klaspoort.licences.models import Contract, Product
from klaspoort.licences.services import auto_link
from klaspoort.pseudonyms import school_id_for
from klaspoort.roster import services as roster
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import RosterImport
from klaspoort.schools.models import Publisher, PublisherConsent, School

PUPILS = 1000
ROUNDS = 30
FIRST_ROUNDS = 15  # each round imports a new school first
NIGHT_ROUNDS = 12
BASE = "/api/publisher/v1"
TODAY = timezone.localdate()

_brins = (f"{n:02d}{a}{b}" for a, b in itertools.product("FG", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
          for n in range(100))


def _import(data: bytes, school: School) -> RosterImport:
    record = roster.receive_roster_file(data, source=RosterImport.Source.UPLOAD, school=school)
    assert record.status == RosterImport.Status.WAITING, record.errors
    return roster.process_import(record.pk)


def _publisher(slug: str) -> tuple[Publisher, Product, str]:
    publisher = Publisher.objects.create(name=f"Uitgeverij {slug}", slug=slug)
    product = Product.objects.create(publisher=publisher, code=f"{slug}-ALL",
                                     name="Methode voor alle groepen",
                                     year_groups=list(range(1, 9)))
    _row, token = PublisherApiToken.issue(publisher, "bench")
    return publisher, product, token


def _license(school: School, publisher: Publisher, product: Product, *,
             start: datetime.date = TODAY) -> Contract:
    """The school consents and has a per-group contract for year groups 1-8, linked to all its
    groups as automatic linking does. One transaction, as the contract import makes it: its
    commit compares the school for the publisher (auto_link's bulk insert sends no signal of
    its own; the contract's does)."""
    with transaction.atomic():
        PublisherConsent.objects.create(school=school, publisher=publisher,
                                        given_at=timezone.now())
        contract = Contract.objects.create(
            publisher=publisher, school=school, number=f"{publisher.slug}-{school.pk}",
            title=product.name, product=product, start=start,
            end=TODAY + datetime.timedelta(days=365), contract_type=Contract.Type.GROUP)
        auto_link(school, today=TODAY)
    return contract


def _analyze() -> None:
    if connection.vendor == "postgresql":
        # This machine's server runs without autovacuum (docs/benchmarks.md); production's
        # would have analysed the new tables by now.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _extra(benchmark: Any, what: str) -> None:
    benchmark.group = f"publisher feed, {PUPILS} pupils, {connection.vendor}"
    benchmark.extra_info.update(database=connection.vendor, what=what,
                                load_average_1min=os.getloadavg()[0])


@pytest.fixture
def unlimited(settings: Any) -> None:
    # Hundreds of rounds in a minute from one token: the rate limit is not what is measured.
    settings.PUBLISHER_API_RATE_PER_MINUTE = 10**9


@pytest.fixture(autouse=True)
def pseudonym_key(settings: Any) -> None:
    # As production (docs/operations.md): a configured key. Without one a single machine
    # looks for its generated key file on every pseudonym, which costs about a third of a
    # comparison (bench/profile_feed.py) and is not what production pays.
    settings.KLASPOORT_PSEUDONYM_KEY = "bench-feed-pseudonym-key-" + "k" * 32


@pytest.fixture
def world(transactional_db: Any) -> Iterator[dict[str, Any]]:
    """One school of 1,000 pupils whose every group, pupil and teacher the publisher sees, and
    the feed that told it so (≈ 1,086 events). Committed for real, so a snapshot pays for its
    commit as in production."""
    school = School.objects.create(brin="95ZZ", dependancecode="00", name="De Boomgaard")
    _import(generate_school("95ZZ", "00", PUPILS, seed=1), school)
    publisher, product, token = _publisher("bench-feed")
    _license(school, publisher, product)
    _analyze()
    events = FeedEvent.objects.filter(publisher=publisher).count()
    assert events > 1000, events
    yield {"school": school, "publisher": publisher, "product": product, "token": token,
           "school_ref": school_id_for(publisher.pk, school.pk), "events": events}


def _get(client: Client, token: str, path: str, **params: Any) -> Any:
    response = client.get(BASE + path, params, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content[:500]
    return response


@pytest.mark.django_db(transaction=True)
def test_a_feed_page_of_1000_events(benchmark: Any, world: dict[str, Any],
                                    unlimited: None) -> None:
    """Target: < 100 ms. GET /changes?after=0&limit=1000, the first page of a replay."""
    _extra(benchmark, "feed page, 1,000 events")
    client = Client()
    body = _get(client, world["token"], "/changes", after="0", limit=1000).json()
    assert len(body["events"]) == 1000 and body["has_more"]
    benchmark.extra_info["bytes"] = len(_get(client, world["token"], "/changes", after="0",
                                             limit=1000).content)
    benchmark.pedantic(lambda: _get(client, world["token"], "/changes", after="0",
                                    limit=1000), rounds=100, warmup_rounds=5)


@pytest.mark.django_db(transaction=True)
def test_a_snapshot_nothing_changed(benchmark: Any, world: dict[str, Any],
                                    unlimited: None) -> None:
    """Target: < 300 ms. GET /schools/{id} again: the comparison finds nothing to write."""
    _extra(benchmark, "snapshot, nothing changed")
    client = Client()
    before = FeedEvent.objects.count()
    body = _get(client, world["token"], f"/schools/{world['school_ref']}").json()
    assert len(body["people"]) == world["events"] - 1 - len(body["groups"])
    benchmark.extra_info["bytes"] = len(_get(client, world["token"],
                                             f"/schools/{world['school_ref']}").content)
    benchmark.pedantic(lambda: _get(client, world["token"], f"/schools/{world['school_ref']}"),
                       rounds=ROUNDS * 2, warmup_rounds=2)
    assert FeedEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_a_first_snapshot(benchmark: Any, unlimited: None) -> None:
    """Target: < 300 ms. A contract that starts today, before the nightly comparison has run
    (contracts start by date, without any write): the snapshot's own comparison finds the
    whole school new and writes its ≈ 1,086 events, then returns it."""
    _extra(benchmark, "snapshot, first (writes the school's events)")
    publisher, product, token = _publisher("bench-first")
    client = Client()
    written: list[int] = []

    def setup() -> tuple[tuple[str], dict[str, Any]]:
        brin = next(_brins)
        school = School.objects.create(brin=brin, dependancecode="00", name=f"School {brin}")
        _import(generate_school(brin, "00", PUPILS, seed=1), school)
        # Starts tomorrow: linked, compared, nothing visible yet but the school itself...
        contract = _license(school, publisher, product,
                            start=TODAY + datetime.timedelta(days=1))
        assert PublishedRecord.objects.filter(publisher=publisher, school=school).count() == 1
        # ...and then its day comes (the calendar: no write, no comparison).
        Contract.objects.filter(pk=contract.pk).update(start=TODAY)
        written.append(FeedEvent.objects.filter(publisher=publisher).count())
        return (school_id_for(publisher.pk, school.pk),), {}

    def first(school_ref: str) -> Any:
        return _get(client, token, f"/schools/{school_ref}")

    response = benchmark.pedantic(first, setup=setup, rounds=FIRST_ROUNDS, warmup_rounds=1)
    new = FeedEvent.objects.filter(publisher=publisher).count() - written[-1]
    benchmark.extra_info["events_written"] = new
    assert new == 1 + len(response.json()["groups"]) + len(response.json()["people"]) - 1 > 1000


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("share", [0.0, 0.05], ids=["unchanged", "5% changed"])
@pytest.mark.parametrize("publishers", [0, 1], ids=["no publisher", "a consenting publisher"])
def test_a_night_with_and_without_a_publisher(benchmark: Any, share: float,
                                              publishers: int) -> None:
    """"The nightly import's speed is unchanged": the same import (receive + process, as in
    bench/test_import_speed.py), for a school that consents to no publisher and for one whose
    publisher sees every group, pupil and teacher. With the publisher each import also compares
    the school when it commits (exchange.receivers -> feed.publish_after_commit)."""
    _extra(benchmark, f"import, {share:.0%} changed, {publishers} publisher(s)")
    found = _publisher(f"bench-night-{publishers}-{int(share * 100)}") if publishers else None
    made: dict[str, int] = {}

    def setup() -> tuple[tuple[bytes, School], dict[str, Any]]:
        brin = next(_brins)
        school = School.objects.create(brin=brin, dependancecode="00", name=f"School {brin}")
        original = generate_school(brin, "00", PUPILS, seed=1)
        _import(original, school)
        if found is not None:
            _license(school, found[0], found[1])
        changed, counts = change_roster(original, share, "bench") if share else (original, {})
        made.update(counts)
        return (changed, school), {}

    before = FeedEvent.objects.count()
    record = benchmark.pedantic(_import, setup=setup, rounds=NIGHT_ROUNDS, warmup_rounds=1)
    assert record.status == RosterImport.Status.PROCESSED
    if share:
        assert record.counts["pupils"]["added"] == made["new"]
    told = FeedEvent.objects.filter(school=record.school).count()
    benchmark.extra_info["feed_events_of_last_school"] = told
    if found is None:
        assert FeedEvent.objects.count() == before
