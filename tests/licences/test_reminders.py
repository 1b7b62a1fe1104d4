"""The reminder on 1 June: the contracts a school can still cancel, and the last day, 30 June."""

import datetime

import pytest

from klaspoort.licences import reminders
from klaspoort.licences.tasks import cancellation_reminders
from klaspoort.schools.models import School, SentReminder
from tests.factories import CoordinatorFactory, SchoolFactory
from tests.licences.factories import ContractFactory, ProductFactory, PublisherFactory

JUNE_1 = datetime.date(2027, 6, 1)


@pytest.fixture
def contracts(school):
    """Two contracts running on into next school year, and three that give nothing to cancel:
    one ending on 31 July anyway, one cancelled already, one of another school."""
    malmberg = PublisherFactory(name="Malmberg")
    zwijsen = PublisherFactory(name="Zwijsen")
    year = dict(start=datetime.date(2026, 8, 1))
    return {
        "runs_on": ContractFactory(school=school, number="MB-2026-001", end=datetime.date(
            2029, 7, 31), product=ProductFactory(publisher=malmberg, name="Pluspunt 4"), **year),
        "also": ContractFactory(school=school, number="ZW-77", end=datetime.date(2028, 7, 31),
                                product=ProductFactory(publisher=zwijsen, name="Veilig leren "
                                                       "lezen"), **year),
        "ends": ContractFactory(school=school, number="MB-OLD", end=datetime.date(2027, 7, 31),
                                product=ProductFactory(publisher=malmberg, name="Taal actief"),
                                **year),
        "cancelled": ContractFactory(
            school=school, number="ZW-GONE", end=datetime.date(2029, 7, 31),
            cancelled_at=datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC),
            cancelled_until=datetime.date(2027, 7, 31),
            product=ProductFactory(publisher=zwijsen, name="Estafette"), **year),
        "elsewhere": ContractFactory(school=SchoolFactory(brin="88YY"), number="MB-KLIMOP",
                                     end=datetime.date(2029, 7, 31),
                                     product=ProductFactory(publisher=malmberg,
                                                            name="Wereld in getallen"), **year),
    }


def run(day, capture):
    with capture(execute=True):
        return reminders.send_cancellation_reminders(day)


@pytest.mark.django_db
def test_on_1_june_coordinators_get_the_contracts_they_can_cancel_and_30_june(
        school, coordinator, contracts, mailoutbox, django_capture_on_commit_callbacks):
    assert run(JUNE_1, django_capture_on_commit_callbacks) == 1
    mail, = mailoutbox
    assert mail.to == ["ict@regenboog.example"]
    assert mail.subject == "Klaspoort: contracten voor volgend schooljaar opzeggen vóór " \
        "30 juni 2027"
    body = mail.body
    assert "uiterlijk 30 juni 2027 op in Klaspoort; het stopt dan op 31 juli 2027" in body
    assert "Malmberg, Pluspunt 4 (MB-2026-001), loopt tot 31 juli 2029" in body
    assert "Zwijsen, Veilig leren lezen (ZW-77), loopt tot 31 juli 2028" in body
    # Nothing to cancel: ends this year anyway, cancelled already, another school's.
    for number in ("MB-OLD", "ZW-GONE", "MB-KLIMOP"):
        assert number not in body
    assert f"/beheer/{school.brin6}/licenties/{contracts['runs_on'].pk}/" in body
    html = mail.alternatives[0][0]
    assert "Pluspunt 4 (MB-2026-001)</a>" in html and "Herinneringen" in html


@pytest.mark.django_db
def test_not_before_1_june_not_after_30_june_and_once(school, coordinator, contracts,
                                                      mailoutbox,
                                                      django_capture_on_commit_callbacks):
    assert run(datetime.date(2027, 5, 31), django_capture_on_commit_callbacks) == 0
    assert run(datetime.date(2027, 7, 1), django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []
    # A worker down on 1 June catches up on a later day of June.
    assert run(datetime.date(2027, 6, 30), django_capture_on_commit_callbacks) == 1
    assert run(datetime.date(2027, 6, 30), django_capture_on_commit_callbacks) == 0
    assert run(JUNE_1 + datetime.timedelta(days=3), django_capture_on_commit_callbacks) == 0
    assert len(mailoutbox) == 1
    assert SentReminder.objects.get(school=school).school_year == "2026-2027"


@pytest.mark.django_db
def test_switched_off_or_nothing_to_cancel_no_message(school, coordinator, contracts,
                                                      mailoutbox,
                                                      django_capture_on_commit_callbacks):
    other = contracts["elsewhere"].school
    CoordinatorFactory(school=other, email="ict@klimop.example")
    School.objects.filter(pk=school.pk).update(remind_cancellation=False)
    assert run(JUNE_1, django_capture_on_commit_callbacks) == 1
    mail, = mailoutbox
    assert mail.to == ["ict@klimop.example"] and "MB-KLIMOP" in mail.body
    assert "Pluspunt 4" not in mail.body  # nothing of the other school
    # Switched on again, but its contracts have all been cancelled: nothing to remind of.
    School.objects.filter(pk=school.pk).update(remind_cancellation=True)
    for key in ("runs_on", "also"):
        contracts[key].cancelled_at = datetime.datetime(2027, 6, 2, tzinfo=datetime.UTC)
        contracts[key].cancelled_until = datetime.date(2027, 7, 31)
        contracts[key].save()
    assert run(datetime.date(2027, 6, 3), django_capture_on_commit_callbacks) == 0
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_daily_task_reads_the_date(school, coordinator, contracts, monkeypatch, mailoutbox,
                                       django_capture_on_commit_callbacks):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: JUNE_1)
    with django_capture_on_commit_callbacks(execute=True):
        assert cancellation_reminders() == 1
    monkeypatch.setattr("django.utils.timezone.localdate",
                        lambda *a, **k: datetime.date(2027, 9, 1))
    assert cancellation_reminders() == 0
