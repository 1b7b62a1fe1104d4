"""Four people printing one group's Printversie at once all get the same, working cards."""

from __future__ import annotations

from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.roster.models import Pupil
from klaspoort.signin import services
from klaspoort.signin.models import PupilCard
from tests.concurrency import at_once
from tests.factories import GroupFactory, PupilFactory, SchoolFactory
from tests.signin.conftest import SCHOOL_IP


def test_four_simultaneous_prints_of_one_group_show_the_same_cards(
        shared_database, client):
    school = SchoolFactory()
    from klaspoort.schools.models import SchoolNetwork
    SchoolNetwork.objects.create(school=school, network="145.10.20.0/24")
    group = GroupFactory(school=school)
    for n in range(12):
        PupilFactory(school=school, group=group, first_name=f"Kind{n}")

    def print_group() -> dict[int, str]:
        pupils = list(Pupil.objects.filter(group=group).order_by("pk"))
        printed = services.attach_cards(actor=None, school=school, pupils=pupils)
        return {p.pk: p.card_url for p in printed}  # type: ignore[attr-defined]

    prints = at_once(4, lambda _thread: print_group())

    assert len(prints) == 4 and all(p == prints[0] for p in prints)
    assert all(prints[0].values())
    assert PupilCard.objects.filter(voided_at__isnull=True).count() == 12
    issued = sum(e.after["cards"] for e in AuditEntry.objects.filter(action="signin.card.issue"))
    assert issued == 12  # each card is recorded once, by the print that issued it
    # Every printed card signs its pupil in.
    url = next(iter(prints[0].values()))
    token = url.rstrip("/").rsplit("/", 1)[1]
    response = client.get(reverse("signin:card", args=[school.pupil_page_ref, token]),
                          REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302
