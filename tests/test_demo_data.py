"""`klaspoort demo-data` (make demo): the demo's tiles open the example publisher application,
and the demo school's pupil page works on the machine itself."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from oauth2_provider.models import Application

from klaspoort.licences.models import Product
from klaspoort.schools.models import Publisher, School
from klaspoort.schools.selectors import address_allowed
from klaspoort.sso.models import PublisherClient

DEMO_PUBLISHERS = {"malmberg": "Malmberg", "noordhoff": "Noordhoff",
                   "thiememeulenhoff": "ThiemeMeulenhoff"}


def test_demo_data_registers_the_example_app_and_opens_the_pupil_page_on_localhost(db):
    # The catalogue comes from a data migration; a browser test (transactional) that ran before
    # in the same process has flushed it, so the publisher the demo needs is made sure of here.
    for slug, name in DEMO_PUBLISHERS.items():
        Publisher.objects.get_or_create(slug=slug, defaults={"name": name})
    first, second = io.StringIO(), io.StringIO()
    call_command("demo-data", stdout=first)
    call_command("demo-data", stdout=second)  # idempotent: a second run changes nothing

    client = PublisherClient.objects.select_related("application", "publisher").get(
        application__client_id="klaspoort-demo-malmberg")
    assert Application.objects.filter(client_id="klaspoort-demo-malmberg").count() == 1
    assert client.publisher.slug == "malmberg"
    assert client.application.redirect_uris == "http://localhost:8001/callback"
    assert client.application.client_type == Application.CLIENT_CONFIDENTIAL
    launch = set(Product.objects.filter(publisher__slug="malmberg")
                 .values_list("launch_url", flat=True))
    assert launch == {"http://localhost:8001/login"}
    # Every demo publisher's tiles open the example application (issue 11, item 10): each
    # publisher is a registered client with its redirect URIs on localhost:8001, and no
    # product points at an unreachable *.example host.
    for slug in DEMO_PUBLISHERS:
        registered = PublisherClient.objects.select_related("application").get(
            publisher__slug=slug)
        base = "http://localhost:8001" + ("" if slug == "malmberg" else f"/{slug}")
        assert registered.application.redirect_uris == f"{base}/callback"
        assert registered.application.post_logout_redirect_uris == f"{base}/"
        assert set(Product.objects.filter(publisher__slug=slug).values_list(
            "launch_url", flat=True)) == {f"{base}/login"}
    assert PublisherClient.objects.count() == len(DEMO_PUBLISHERS)  # the second run added none
    assert not Product.objects.filter(launch_url__contains=".example").exists()
    school = School.objects.get(brin="99ZZ", dependancecode="00")
    assert address_allowed(school, "127.0.0.1") and address_allowed(school, "::1")
    assert not address_allowed(school, "203.0.113.5")
    assert school.networks.count() == 2
    for output in (first, second):
        assert f"/leerling/{school.pupil_page_ref}/" in output.getvalue()


def test_demo_data_refuses_a_database_with_a_real_school(db):
    from django.core.management.base import CommandError

    from klaspoort.accounts.models import User
    from tests.factories import SchoolFactory

    SchoolFactory(brin="12AB", dependancecode="00", name="Basisschool De Esch")
    out = io.StringIO()
    with pytest.raises(CommandError, match="12AB00 Basisschool De Esch"):
        call_command("demo-data", stdout=out)
    # Nothing was made: no accounts with printed passwords, no demo school, no demo client.
    assert not User.objects.filter(email__endswith=".example").exists()
    assert not School.objects.filter(brin="99ZZ").exists()
    assert not Application.objects.filter(client_id="klaspoort-demo-malmberg").exists()


def test_demo_data_refuses_settings_that_serve_another_host(db, settings):
    from django.core.management.base import CommandError

    settings.ALLOWED_HOSTS = ["klaspoort.example"]
    with pytest.raises(CommandError, match="localhost"):
        call_command("demo-data", stdout=io.StringIO())
    assert not School.objects.exists()
