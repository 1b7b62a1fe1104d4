"""NUL bytes and lone surrogates never reach a query (issue 10, finding 8): PostgreSQL cannot
store them, and they used to give a 500, also on anonymous pages. One middleware answers 400."""

import base64
import json
from urllib.parse import urlencode

import pytest

from klaspoort.exchange.models import PublisherApiToken
from tests.licences.factories import PublisherFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", [
    "/thuis/%00/",
    "/thuis/?school=%00",
    "/o/authorize/?client_id=%00&response_type=code",
    "/o/authorize/?client_id=abc&redirect_uri=https://x.example/%00",
    "/api/publisher/v1/products/%00",
    "/api/publisher/v1/contracts?brin6=%00",
])
def test_a_nul_in_a_path_or_query_is_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json()["detail"]
    else:
        assert "Verzoek niet begrepen" in response.content.decode()


@pytest.mark.parametrize("field", ["code", "client_id", "redirect_uri", "code_verifier"])
def test_a_nul_in_a_token_request_field_is_a_400_in_the_oauth_error_shape(client, field):
    data = {"grant_type": "authorization_code", "code": "abc", "client_id": "klant",
            "redirect_uri": "https://x.example/cb", "code_verifier": "v" * 43, field: "a\x00b"}
    response = client.post("/o/token/", urlencode(data),
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_a_nul_in_basic_credentials_is_a_400(client):
    credentials = base64.b64encode(b"klant\x00:geheim").decode()
    response = client.post("/o/token/", {"grant_type": "authorization_code", "code": "abc"},
                           HTTP_AUTHORIZATION=f"Basic {credentials}")
    assert response.status_code == 400


@pytest.mark.parametrize("multipart", [False, True])
def test_a_nul_in_a_form_on_a_page_is_a_400(client, multipart):
    data = {"username": "a\x00@b.nl", "password": "x"}
    if multipart:
        response = client.post("/accounts/inloggen/", data)
    else:
        response = client.post("/accounts/inloggen/", urlencode(data),
                               content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


@pytest.mark.parametrize("text", ["a\\u0000b", "\\ud800"])
def test_a_nul_or_lone_surrogate_in_a_json_body_outside_the_api_is_a_400(client, text):
    response = client.post("/o/token/", data='{"code": "' + text + '"}',
                           content_type="application/json")
    assert response.status_code == 400


def test_the_publisher_api_refuses_a_nul_in_a_body_as_its_own_422(client):
    _row, token = PublisherApiToken.issue(PublisherFactory(), "crm")
    response = client.put("/api/publisher/v1/products/P1", data=json.dumps({"name": "a\x00b"}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "name"


def test_ordinary_text_passes(client):
    assert client.get("/thuis/?school=Regenboog%20%C3%A9").status_code != 400
