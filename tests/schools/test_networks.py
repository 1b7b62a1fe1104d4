"""*IP-adressen*: the school's public addresses, the client address, and who may add them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.network import NetworkInputError, client_ip
from klaspoort.schools import selectors, services
from klaspoort.schools.models import SchoolNetwork
from tests.factories import CoordinatorFactory, SchoolFactory

pytestmark = pytest.mark.django_db


def page(school) -> str:
    return reverse("schools:networks", kwargs={"brin6": school.brin6})


def remove_url(school) -> str:
    return reverse("schools:network_remove", kwargs={"brin6": school.brin6})


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "stored"), [
    ("145.10.20.30", "145.10.20.30/32"),
    ("  145.10.20.30 ", "145.10.20.30/32"),
    ("145.10.20.77/24", "145.10.20.0/24"),
    ("2a01:7c8:aab0::1", "2a01:7c8:aab0::1/128"),
    ("2A01:7C8:AAB0:0:0:0:0:0/48", "2a01:7c8:aab0::/48"),
    ("145.10.0.0/16", "145.10.0.0/16"),
])
def test_public_addresses_and_ranges_are_stored_normalised(school, coordinator, raw, stored):
    entry = services.add_network(school, raw, "Hoofdgebouw", coordinator)
    assert entry.network == stored
    assert list(selectors.school_networks(school).values_list("network", flat=True)) == [stored]


BAD_INPUT = [
    ("10.0.0.1", "privé"),
    ("192.168.1.0/24", "privé"),
    ("127.0.0.1", "privé"),
    ("169.254.10.1", "privé"),
    ("224.0.0.5", "privé"),
    ("240.0.0.1", "privé"),
    ("0.0.0.0", "privé"),  # noqa: S104 - input to refuse, nothing binds to it
    ("::1", "privé"),
    ("::", "privé"),
    ("fe80::1", "privé"),
    ("fd12:3456::/48", "privé"),
    ("ff02::1", "privé"),
    ("8.0.0.0/4", "privé"),  # wide, and it contains 10.0.0.0/8
    ("0.0.0.0/0", "hele internet"),
    ("::/0", "hele internet"),
    ("2001:db8::/32", "documentatie"),
    ("192.0.2.15", "documentatie"),
    ("203.0.113.0/24", "documentatie"),
    ("300.1.1.1", "geen geldig"),
    ("1.2.3.4/33", "geen geldig"),
    ("2a01::/129", "geen geldig"),
    ("145.10.20.30/", "geen geldig"),
    ("school", "geen geldig"),
    ("", "Vul een IP-adres"),
    ("   ", "Vul een IP-adres"),
    ("1" * 10240, "te lang"),
]


@pytest.mark.parametrize(("raw", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_a_dutch_message_and_changes_nothing(
        coordinator_client, school, raw, message):
    response = coordinator_client.post(page(school), {"network": raw, "label": "Test"})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert not SchoolNetwork.objects.exists()
    assert not AuditEntry.objects.exists()


def test_a_10_kb_input_is_not_sent_back(coordinator_client, school):
    response = coordinator_client.post(page(school), {"network": "A" * 10240, "label": "x"})
    assert response.status_code == 400
    assert "A" * 200 not in response.content.decode()


def test_a_too_long_label_is_refused(coordinator_client, school):
    response = coordinator_client.post(page(school), {"network": "145.10.20.30",
                                                      "label": "x" * 101})
    assert response.status_code == 400
    assert "maximaal 100 tekens" in response.content.decode()
    assert not SchoolNetwork.objects.exists()


@pytest.mark.parametrize(("raw", "stored"), [("145.0.0.0/15", "145.0.0.0/15"),
                                              ("2a01:7c8::/32", "2a01:7c8::/32")])
def test_a_wide_range_needs_the_confirmation_box(coordinator_client, school, raw, stored):
    response = coordinator_client.post(page(school), {"network": raw, "label": "Stichting"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Vink het vakje aan" in body
    assert 'name="confirm_wide"' in body
    assert not SchoolNetwork.objects.exists()
    assert not AuditEntry.objects.exists()

    response = coordinator_client.post(page(school), {"network": raw, "label": "Stichting",
                                                      "confirm_wide": "on"})
    assert response.status_code == 302
    assert SchoolNetwork.objects.get(school=school).network == stored


def test_a_duplicate_is_refused(coordinator_client, school, coordinator):
    services.add_network(school, "145.10.20.0/24", "Hoofdgebouw", coordinator)
    response = coordinator_client.post(page(school), {"network": "145.10.20.99/24"})
    assert response.status_code == 400
    assert "staat al in de lijst" in response.content.decode()
    assert SchoolNetwork.objects.count() == 1
    assert AuditEntry.objects.count() == 1


def test_the_same_range_may_belong_to_two_schools(school, coordinator):
    other = SchoolFactory()
    services.add_network(school, "145.10.20.0/24", "", coordinator)
    services.add_network(other, "145.10.20.0/24", "", coordinator)
    assert SchoolNetwork.objects.count() == 2


def test_the_service_refuses_without_the_view_too(school, coordinator):
    with pytest.raises(NetworkInputError) as caught:
        services.add_network(school, "145.0.0.0/8", "", coordinator)
    assert caught.value.needs_confirmation
    assert not SchoolNetwork.objects.exists()


# ---------------------------------------------------------------------------------------------
# The page: add, list, remove, audit
# ---------------------------------------------------------------------------------------------
def test_adding_lists_the_address_and_writes_an_audit_entry(coordinator_client, school,
                                                            coordinator):
    response = coordinator_client.post(page(school), {"network": "145.10.20.30",
                                                      "label": "Hoofdgebouw"},
                                       REMOTE_ADDR="145.10.20.30", follow=True)
    body = response.content.decode()
    assert "145.10.20.30/32" in body
    assert "Hoofdgebouw" in body
    assert "is toegevoegd" in body
    entry = AuditEntry.objects.get()
    assert entry.actor == coordinator
    assert entry.actor_label == coordinator.email
    assert entry.school == school
    assert entry.action == "schools.ip.add"
    assert entry.target == "145.10.20.30/32"
    assert entry.before is None
    assert entry.after == {"network": "145.10.20.30/32", "label": "Hoofdgebouw"}
    assert entry.ip_address == "145.10.20.30"


def test_the_page_shows_the_current_ip_address(coordinator_client, school):
    response = coordinator_client.get(page(school), REMOTE_ADDR="145.10.20.31")
    body = response.content.decode()
    assert "Je huidige IP-adres is" in body
    assert "145.10.20.31" in body
    assert "IP-adres toevoegen" in body


def test_the_page_is_a_beheer_tab(coordinator_client, school):
    response = coordinator_client.get(reverse("schools:data", kwargs={"brin6": school.brin6}))
    assert page(school) in response.content.decode()
    assert "IP-adressen" in response.content.decode()


def test_removing_an_address(coordinator_client, school, coordinator):
    entry = services.add_network(school, "145.10.20.0/24", "Hoofdgebouw", coordinator)
    response = coordinator_client.post(remove_url(school), {"network": entry.pk},
                                       REMOTE_ADDR="145.10.20.40", follow=True)
    assert "is verwijderd" in response.content.decode()
    assert not SchoolNetwork.objects.exists()
    removal = AuditEntry.objects.get(action="schools.ip.remove")
    assert removal.before == {"network": "145.10.20.0/24", "label": "Hoofdgebouw"}
    assert removal.after is None
    assert removal.ip_address == "145.10.20.40"
    assert removal.actor == coordinator


def test_another_schools_address_cannot_be_removed(coordinator_client, school, coordinator):
    other = SchoolFactory()
    foreign = services.add_network(other, "145.10.20.0/24", "", coordinator)
    response = coordinator_client.post(remove_url(school), {"network": foreign.pk})
    assert response.status_code == 404
    response = coordinator_client.post(remove_url(school), {"network": "abc"})
    assert response.status_code == 404
    assert SchoolNetwork.objects.filter(pk=foreign.pk).exists()
    assert AuditEntry.objects.count() == 1


def test_a_stranger_cannot_add_to_another_school(client, school):
    client.force_login(CoordinatorFactory())
    response = client.post(page(school), {"network": "145.10.20.30"})
    assert response.status_code == 404
    assert not SchoolNetwork.objects.exists()


# ---------------------------------------------------------------------------------------------
# address_allowed
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("address", "allowed"), [
    ("145.10.20.1", True),
    ("145.10.20.255", True),
    ("145.10.21.1", False),
    ("::ffff:145.10.20.9", True),
    ("2a01:7c8:aab0:12::5", True),
    ("2a01:7c8:aab1::5", False),
    ("", False),
    ("not-an-ip", False),
])
def test_address_allowed(school, coordinator, address, allowed):
    services.add_network(school, "145.10.20.0/24", "", coordinator)
    services.add_network(school, "2a01:7c8:aab0::/48", "", coordinator)
    assert selectors.address_allowed(school, address) is allowed


def test_address_allowed_only_for_the_own_school(school, coordinator):
    other = SchoolFactory()
    services.add_network(other, "145.10.20.0/24", "", coordinator)
    assert not selectors.address_allowed(school, "145.10.20.1")
    assert selectors.address_allowed(other, "145.10.20.1")


# ---------------------------------------------------------------------------------------------
# client_ip
# ---------------------------------------------------------------------------------------------
def test_client_ip_is_the_connection_without_trusted_proxies(rf, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = []
    request = rf.get("/", REMOTE_ADDR="145.10.20.30", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(request) == "145.10.20.30"


def test_a_forged_forwarded_header_from_an_untrusted_peer_is_ignored(rf, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["172.18.0.2"]
    request = rf.get("/", REMOTE_ADDR="145.10.20.30", HTTP_X_FORWARDED_FOR="145.99.1.1")
    assert client_ip(request) == "145.10.20.30"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_counts(rf, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["172.18.0.0/16", "2a01:7c8:ffff::1"]
    # The client forged the first entry; our proxies appended the rest.
    request = rf.get("/", REMOTE_ADDR="172.18.0.2",
                     HTTP_X_FORWARDED_FOR="145.99.1.1, 145.10.20.30, 172.18.0.5")
    assert client_ip(request) == "145.10.20.30"
    request = rf.get("/", REMOTE_ADDR="2a01:7c8:ffff::1", HTTP_X_FORWARDED_FOR="2a01:7c8:aab0::9")
    assert client_ip(request) == "2a01:7c8:aab0::9"


def test_behind_a_trusted_proxy_without_header_the_proxy_is_the_client(rf, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["172.18.0.2"]
    assert client_ip(rf.get("/", REMOTE_ADDR="172.18.0.2")) == "172.18.0.2"
    request = rf.get("/", REMOTE_ADDR="172.18.0.2", HTTP_X_FORWARDED_FOR="garbage")
    assert client_ip(request) == "172.18.0.2"


def test_the_stranger_walk_covers_these_pages():
    from tests.roster.test_pages import beheer_patterns

    names = {name for name, _params in beheer_patterns()}
    assert {"schools:networks", "schools:network_remove", "schools:log"} <= names


def test_behind_the_documented_nginx_each_client_keeps_its_own_address(rf, settings):
    # docs/operations.md: gunicorn on 127.0.0.1, nginx appends the peer it saw
    # ($proxy_add_x_forwarded_for), KLASPOORT_TRUSTED_PROXIES=127.0.0.1.
    settings.KLASPOORT_TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="145.10.20.30")
    assert client_ip(request) == "145.10.20.30"
    # A client that forges the header only adds to the left of what nginx saw.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1",
                     HTTP_X_FORWARDED_FOR="145.10.20.30, 94.1.2.3")
    assert client_ip(request) == "94.1.2.3"
    # Forging a proxy's address as the last hop does not help: it is skipped as trusted.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="94.1.2.3, 127.0.0.1")
    assert client_ip(request) == "94.1.2.3"


def test_a_proxy_seen_through_a_dual_stack_socket_is_still_trusted(rf, settings):
    # gunicorn bound to [::] reports an IPv4 peer as ::ffff:127.0.0.1.
    settings.KLASPOORT_TRUSTED_PROXIES = ["127.0.0.1"]
    request = rf.get("/", REMOTE_ADDR="::ffff:127.0.0.1", HTTP_X_FORWARDED_FOR="145.10.20.30")
    assert client_ip(request) == "145.10.20.30"
    request = rf.get("/", REMOTE_ADDR="::ffff:145.10.20.30")
    assert client_ip(request) == "145.10.20.30"


def test_forwarded_addresses_with_ports_are_read(rf, settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    request = rf.get("/", REMOTE_ADDR="10.1.1.1",
                     HTTP_X_FORWARDED_FOR="145.10.20.30:4711, 10.2.2.2:80")
    assert client_ip(request) == "145.10.20.30"
    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="[2a01:7c8:aab0::9]:4711")
    assert client_ip(request) == "2a01:7c8:aab0::9"


def test_the_coordinator_sees_the_address_behind_the_proxy(coordinator_client, school,
                                                          settings):
    settings.KLASPOORT_TRUSTED_PROXIES = ["127.0.0.1"]
    response = coordinator_client.get(page(school), REMOTE_ADDR="127.0.0.1",
                                      HTTP_X_FORWARDED_FOR="145.10.20.30")
    assert "<code>145.10.20.30</code>" in response.content.decode()
