"""The operator admin shows licences and tokens, but changes them only through the paths that
validate and audit (portal, API, import, Licentiebeheer); publisher staff are added here."""

import pytest
from django.urls import reverse

from klaspoort.licences.models import PublisherMembership
from tests.factories import UserFactory
from tests.licences.factories import ContractFactory, PublisherFactory

MODELS = ["licences_product", "licences_contract", "licences_grouplicence",
          "licences_childlicence", "licences_joinnotice", "licences_publishermembership",
          "exchange_publisherapitoken"]


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_licence_list_opens_for_the_operator(operator_client):
    contract = ContractFactory()
    for model in MODELS:
        assert operator_client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert contract.number in operator_client.get(
        reverse("admin:licences_contract_changelist")).content.decode()


def test_contracts_cannot_be_added_or_changed_in_the_admin(operator_client):
    contract = ContractFactory()
    assert operator_client.get(reverse("admin:licences_contract_add")).status_code == 403
    response = operator_client.post(
        reverse("admin:licences_contract_change", args=[contract.pk]), {"title": "x"})
    assert response.status_code in (302, 403)
    contract.refresh_from_db()
    assert contract.title != "x"


def test_the_operator_gives_a_publisher_its_first_staff_member(operator_client):
    publisher, user = PublisherFactory(), UserFactory()
    response = operator_client.post(reverse("admin:licences_publishermembership_add"), {
        "user": user.pk, "publisher": publisher.pk, "role": "admin"})
    assert response.status_code == 302
    assert PublisherMembership.objects.filter(user=user, publisher=publisher).exists()
