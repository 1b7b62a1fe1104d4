"""The operator registers a publisher's software in the admin."""

import pytest
from django.urls import reverse
from oauth2_provider.models import Application

from klaspoort.sso.models import PublisherClient
from klaspoort.sso.services import register_client
from tests.factories import UserFactory
from tests.licences.factories import PublisherFactory


@pytest.fixture
def operator_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_operator_sees_the_clients(operator_client):
    registered = register_client(PublisherFactory(name="Uitgeverij Alfa"), "Alfa web",
                                 ["https://alfa.example/cb"])
    page = operator_client.get(reverse("admin:sso_publisherclient_changelist"))
    assert page.status_code == 200
    assert "Uitgeverij Alfa" in page.content.decode()
    change = operator_client.get(reverse("admin:oauth2_provider_application_change",
                                         args=[registered.client.application.pk]))
    assert change.status_code == 200


def _form(publisher, **changes):
    data = {
        "client_id": "alfa-web", "client_secret": "s3cret-of-alfa-web-0123456789",
        "hash_client_secret": "on", "redirect_uris": "https://alfa.example/cb",
        "post_logout_redirect_uris": "", "allowed_origins": "",
        "client_type": "confidential", "authorization_grant_type": "authorization-code",
        "name": "Alfa web", "algorithm": "RS256",
        "publisher_client-TOTAL_FORMS": "1", "publisher_client-INITIAL_FORMS": "0",
        "publisher_client-MIN_NUM_FORMS": "0", "publisher_client-MAX_NUM_FORMS": "1",
        "publisher_client-0-publisher": str(publisher.pk),
        "publisher_client-0-name_detail": "full",
    }
    data.update(changes)
    return data


def test_the_operator_adds_a_client_with_its_publisher(operator_client):
    publisher = PublisherFactory()
    response = operator_client.post(reverse("admin:oauth2_provider_application_add"),
                                    _form(publisher))
    assert response.status_code == 302, response.context["adminform"].form.errors
    app = Application.objects.get(client_id="alfa-web")
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert app.algorithm == Application.RS256_ALGORITHM
    assert app.skip_authorization
    assert PublisherClient.objects.get(application=app).publisher == publisher


@pytest.mark.parametrize(("field", "value"), [("authorization_grant_type", "password"),
                                              ("authorization_grant_type", "implicit"),
                                              ("authorization_grant_type", "client-credentials"),
                                              ("algorithm", "HS256")])
def test_the_admin_offers_no_other_grant_or_algorithm(operator_client, field, value):
    response = operator_client.post(reverse("admin:oauth2_provider_application_add"),
                                    _form(PublisherFactory(), **{field: value}))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not Application.objects.exists()
