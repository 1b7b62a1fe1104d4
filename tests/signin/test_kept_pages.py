"""The pupil pages, the portal and a tile read what every pupil of the school reads from the
cache while nothing changed (klaspoort.kept), yet a change a coordinator or an operator makes
shows on the very next page: nothing stale is ever served (issue 17)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lxml import html

from klaspoort import epochs
from klaspoort.licences.models import GroupLicence
from klaspoort.schools.models import SchoolNetwork
from klaspoort.signin import selectors
from klaspoort.signin.models import MaintenanceNotice
from klaspoort.sso.models import PublisherClient
from tests.factories import PupilFactory
from tests.signin.conftest import SCHOOL_IP
from tests.signin.test_portal import licensed, tiles
from tests.sso.conftest import sign_in_pupil

pytestmark = pytest.mark.django_db


def at_school(client: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    if data is None:
        return client.get(url, REMOTE_ADDR=SCHOOL_IP)
    return client.post(url, data, REMOTE_ADDR=SCHOOL_IP)


def text(response: Any) -> str:
    return html.fromstring(response.content.decode()).text_content()


def queries_of(send: Any) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = send()
    return response, len(queries)


def test_the_second_pupil_reads_the_pupil_page_and_the_names_from_the_cache(client, klas):
    at_school(client, klas.page())
    at_school(client, klas.names(klas.groep6))
    page, count = queries_of(lambda: at_school(client, klas.page()))
    assert page.status_code == 200 and "Groep 6" in text(page) and count == 0
    names, count = queries_of(lambda: at_school(client, klas.names(klas.groep6)))
    assert names.status_code == 200 and "Noor V." in text(names) and count == 0


def test_a_group_renamed_shows_at_once_on_the_pupil_page_and_its_names_page(client, klas):
    assert "Groep 6" in text(at_school(client, klas.page()))
    at_school(client, klas.names(klas.groep6))
    klas.groep6.name = "Groep 6 Zeeleeuwen"
    klas.groep6.save()
    assert "Groep 6 Zeeleeuwen" in text(at_school(client, klas.page()))
    assert "Groep 6 Zeeleeuwen" in text(at_school(client, klas.names(klas.groep6)))


def test_a_pupil_deactivated_disappears_at_once_and_cannot_sign_in(client, klas):
    assert "Noor V." in text(at_school(client, klas.names(klas.groep6)))
    at_school(client, klas.secret(klas.noor))
    klas.noor.active = False
    klas.noor.save()
    assert "Noor V." not in text(at_school(client, klas.names(klas.groep6)))
    response = at_school(client, klas.secret(klas.noor), {"code": klas.code, "key": "ok"})
    assert response.status_code == 404 and "_auth_user_id" not in client.session


def test_a_pupil_added_shows_at_once(client, klas):
    at_school(client, klas.names(klas.groep6))
    PupilFactory(school=klas.school, group=klas.groep6, first_name="Ilse", last_name="Kok",
                 jaargroep="6")
    assert "Ilse K." in text(at_school(client, klas.names(klas.groep6)))


def test_a_group_ended_is_gone_at_once(client, klas):
    at_school(client, klas.page())
    at_school(client, klas.names(klas.groep6))
    klas.groep6.active = False
    klas.groep6.save()
    assert "Groep 6" not in text(at_school(client, klas.page()))
    assert at_school(client, klas.names(klas.groep6)).status_code == 404


def test_a_network_removed_closes_the_pupil_page_at_once(client, klas):
    assert at_school(client, klas.page()).status_code == 200
    SchoolNetwork.objects.filter(school=klas.school).delete()
    response = at_school(client, klas.page())
    assert response.status_code == 403 and klas.school.name not in response.content.decode()


def test_a_new_pupil_page_address_closes_the_old_one_at_once(client, klas):
    old = klas.page()
    assert at_school(client, old).status_code == 200
    klas.school.pupil_page_ref = "nieuweverwijzing-1234"
    klas.school.save()
    assert at_school(client, old).status_code == 403
    assert at_school(client, klas.page()).status_code == 200


def test_a_maintenance_notice_posted_shows_at_once_and_goes_when_it_ends(client, klas,
                                                                         monkeypatch):
    assert "onderhoud" not in text(at_school(client, klas.page()))
    now = timezone.now()
    notice = MaintenanceNotice.objects.create(
        message="Vanavond onderhoud aan Klaspoort.", starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=1))
    assert "Vanavond onderhoud" in text(at_school(client, klas.page()))
    assert "Vanavond onderhoud" in text(at_school(client, klas.names(klas.groep6)))
    # Two hours later nothing changed in the database, the cache still holds the notice: the
    # page applies the window itself.
    later = notice.ends_at + datetime.timedelta(minutes=1)
    monkeypatch.setattr(selectors, "timezone", SimpleNamespace(now=lambda: later))
    assert "Vanavond onderhoud" not in text(at_school(client, klas.page()))


def test_nothing_is_kept_without_a_shared_cache(client, klas, settings):
    settings.KLASPOORT_REUSE_DECISIONS = False
    at_school(client, klas.page())
    _page, count = queries_of(lambda: at_school(client, klas.page()))
    assert count >= 3  # the school, its networks, its groups: read again
    assert cache.get(f"kept:{epochs.current()}:groups:{klas.school.pk}") is None


def test_a_licence_removed_takes_the_tile_off_the_portal_and_refuses_its_launch(client, klas):
    contract = licensed(klas.school, "Pluspunt", launch_url="https://pluspunt.example/start")
    link = GroupLicence.objects.create(contract=contract, group=klas.groep6)
    sign_in_pupil(client, klas.noor)
    assert tiles(client.get(reverse("signin:portal"))) == ["Pluspunt"]
    launch = reverse("sso:launch", args=[contract.product_id])
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP).status_code == 302
    link.removed_at = timezone.now()
    link.save()
    assert tiles(client.get(reverse("signin:portal"))) == []
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP).status_code == 403


def _pluspunt_tile(client, klas):
    """Noor signed in, with a group licence for Pluspunt: its contract and its tile's address."""
    contract = licensed(klas.school, "Pluspunt", launch_url="https://pluspunt.example/start")
    GroupLicence.objects.create(contract=contract, group=klas.groep6)
    sign_in_pupil(client, klas.noor)
    return contract, reverse("sso:launch", args=[contract.product_id])


def test_a_network_removed_refuses_a_tile_at_once(client, klas):
    _contract, launch = _pluspunt_tile(client, klas)
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP).status_code == 302
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP).status_code == 302
    SchoolNetwork.objects.filter(school=klas.school).delete()
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP).status_code == 403


def test_a_publishers_new_login_address_is_used_at_the_next_tile(client, klas):
    contract, launch = _pluspunt_tile(client, klas)
    first = client.get(launch, REMOTE_ADDR=SCHOOL_IP)
    assert first["Location"].startswith("https://pluspunt.example/start")
    from klaspoort.sso.services import register_client

    registered = register_client(contract.publisher, "Pluspunt app",
                                 ["https://pluspunt.example/cb"])
    PublisherClient.objects.filter(application__client_id=registered.client_id).update(
        initiate_login_uri="https://login.pluspunt.example/begin")
    assert client.get(launch, REMOTE_ADDR=SCHOOL_IP)["Location"].startswith(
        "https://login.pluspunt.example/begin")
