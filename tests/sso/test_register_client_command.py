"""klaspoort register-client: operators register a publisher's software."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import CommandError, call_command
from oauth2_provider.models import Application

from klaspoort.audit.models import AuditEntry
from klaspoort.sso.models import PublisherClient
from tests.licences.factories import PublisherFactory

pytestmark = pytest.mark.django_db

CB = "https://rekenwonders.example/oidc/callback"


@pytest.fixture
def publisher():
    return PublisherFactory(name="Uitgeverij Zonnebloem", slug="zonnebloem")


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("register-client", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_plain_output_names_the_client_id_and_the_secret_once(publisher):
    out, err = run("zonnebloem", "Rekenwonders web", "--redirect-uri", CB,
                   "--redirect-uri", "http://localhost:8100/cb",
                   "--post-logout-uri", "https://rekenwonders.example/uit",
                   "--initiate-login-uri", "https://rekenwonders.example/login",
                   "--name-detail", "full", "--chain-partner")
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert set(lines) == {"client_id", "client_secret"}
    application = Application.objects.get(client_id=lines["client_id"])
    assert check_password(lines["client_secret"], application.client_secret)
    assert application.redirect_uris.split() == [CB, "http://localhost:8100/cb"]
    client = PublisherClient.objects.get(application=application)
    assert client.publisher == publisher and client.name_detail == "full"
    assert client.chain_partner
    assert client.initiate_login_uri == "https://rekenwonders.example/login"
    assert "één keer" in err
    entry = AuditEntry.objects.get(action="sso.client.create")
    assert entry.actor_label == "operator (command line)"
    assert lines["client_secret"] not in f"{entry.target} {entry.after}"


def test_json_prints_one_document(publisher):
    out, _err = run("zonnebloem", "Rekenwonders app", "--redirect-uri", CB, "--public",
                    "--json")
    document = json.loads(out)
    assert document["status"] == "ok"
    assert document["client_secret"] is None and document["client_type"] == "public"
    assert document["redirect_uris"] == [CB] and document["publisher"] == "zonnebloem"
    assert Application.objects.filter(client_id=document["client_id"]).exists()


def test_a_confidential_client_in_json_carries_its_secret(publisher):
    document = json.loads(run("zonnebloem", "Web", "--redirect-uri", CB, "--json")[0])
    stored = Application.objects.get(client_id=document["client_id"]).client_secret
    assert check_password(document["client_secret"], stored)


@pytest.mark.parametrize(("args", "message"), [
    (["onbekend", "Web", "--redirect-uri", CB], "onbekend"),
    (["zonnebloem", "Web", "--redirect-uri", "http://rekenwonders.example/cb"],
     "moet https gebruiken"),
    (["zonnebloem", "Web", "--redirect-uri", CB, "--initiate-login-uri", "login"],
     "login is geen volledig https-adres"),
])
def test_errors_are_a_clear_message_and_change_nothing(publisher, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("register-client", *args, "--json", stdout=out, stderr=err)
    assert exit_.value.code != 0
    document = json.loads(out.getvalue())
    assert document["status"] == "error" and message in document["error"]
    assert not Application.objects.exists() and not AuditEntry.objects.exists()
