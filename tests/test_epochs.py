"""The access epoch (klaspoort.epochs, decision 0039): a kept sign-in decision is trusted only
while nothing it was made of has changed, whatever way the change was written."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from klaspoort import epochs
from klaspoort.roster.models import Pupil
from klaspoort.schools.models import PublisherConsent
from tests.factories import PupilFactory, SchoolFactory
from tests.licences.factories import PublisherFactory

# Real commits: the test's own transaction would hide when the epoch moves.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_committed_change_moves_the_epoch_after_its_commit_not_before():
    pupil = PupilFactory()
    before = epochs.current()
    with transaction.atomic():
        pupil.first_name = "Noor"
        pupil.save()
        # Not yet: a decision read now still sees the old name, and must keep the old epoch.
        assert epochs.current() == before
    assert epochs.current() != before


def test_a_bulk_update_moves_it_too():
    pupil = PupilFactory()
    before = epochs.current()
    Pupil.objects.filter(pk=pupil.pk).update(active=False)  # no signal is sent for this
    assert epochs.current() != before


def test_a_withdrawn_consent_moves_it():
    school, publisher = SchoolFactory(), PublisherFactory()
    consent = PublisherConsent.objects.create(school=school, publisher=publisher,
                                              given_at=timezone.now())
    before = epochs.current()
    PublisherConsent.objects.filter(pk=consent.pk).update(withdrawn_at=timezone.now())
    assert epochs.current() != before


def test_a_rolled_back_change_leaves_it():
    pupil = PupilFactory()
    before = epochs.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        Pupil.objects.filter(pk=pupil.pk).update(active=False)
        raise RuntimeError("the import failed")
    assert epochs.current() == before
    # The next transaction that writes still moves it (nothing was left marked).
    with transaction.atomic():
        Pupil.objects.filter(pk=pupil.pk).update(active=False)
    assert epochs.current() != before


def test_a_write_after_a_rolled_back_savepoint_still_moves_it_at_commit():
    pupil = PupilFactory()
    before = epochs.current()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Pupil.objects.filter(pk=pupil.pk).update(first_name="Eerst")
            raise RuntimeError("one row refused")
        Pupil.objects.filter(pk=pupil.pk).update(first_name="Daarna")
    assert epochs.current() != before


def test_writes_that_no_decision_reads_leave_it():
    before = epochs.current()
    session = SessionStore()
    session["x"] = 1
    session.save()  # every sign-in writes its session: that must not undo every kept decision
    assert epochs.current() == before


def test_an_epoch_the_cache_lost_matches_nothing_kept():
    before = epochs.current()
    cache.clear()
    assert epochs.current() != before


@pytest.mark.parametrize(("sql", "watched"), [
    ('INSERT INTO "roster_pupil" ("first_name") VALUES (%s)', True),
    ('UPDATE "licences_contract" SET "end" = %s', True),
    ("DELETE FROM schools_publisherconsent WHERE id = 1", True),
    ('UPDATE "sso_publisherclient" SET "disabled_at" = %s', True),
    ('SELECT * FROM "roster_pupil"', False),
    ('UPDATE "accounts_user" SET "last_login" = %s', False),
    ('INSERT INTO "django_session" VALUES (%s)', False),
    ('INSERT INTO "oauth2_provider_grant" ("application_id") VALUES (%s)', False),
])
def test_which_statements_count_as_a_change(sql, watched):
    assert epochs.writes_watched_table(sql) is watched


def test_a_write_succeeds_when_the_cache_fails_to_move_the_epoch(monkeypatch, caplog):
    pupil = PupilFactory()

    def broken(*args, **kwargs):
        raise ConnectionError("Redis went away")

    monkeypatch.setattr(epochs.cache, "set", broken)
    with transaction.atomic():
        Pupil.objects.filter(pk=pupil.pk).update(first_name="Blijft")
    pupil.refresh_from_db()
    assert pupil.first_name == "Blijft"
    assert "could not move" in caplog.text


def test_migrations_start_a_new_epoch():
    from django.core.management import call_command

    before = epochs.current()
    call_command("migrate", "schools", verbosity=0)  # nothing to do; post_migrate all the same
    assert epochs.current() != before
