"""`klaspoort demo-data` (make demo): the demo's tiles open the example publisher application,
and the demo school's pupil page works on the machine itself."""

from __future__ import annotations

import io

from django.core.management import call_command
from oauth2_provider.models import Application

from klaspoort.licences.models import Product
from klaspoort.schools.models import Publisher, School
from klaspoort.schools.selectors import address_allowed
from klaspoort.sso.models import PublisherClient


def test_demo_data_registers_the_example_app_and_opens_the_pupil_page_on_localhost(db):
    # The catalogue comes from a data migration; a browser test (transactional) that ran before
    # in the same process has flushed it, so the publisher the demo needs is made sure of here.
    Publisher.objects.get_or_create(slug="malmberg", defaults={"name": "Malmberg"})
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
    assert not Product.objects.exclude(publisher__slug="malmberg").filter(
        launch_url__contains="localhost").exists()
    school = School.objects.get(brin="99ZZ", dependancecode="00")
    assert address_allowed(school, "127.0.0.1") and address_allowed(school, "::1")
    assert not address_allowed(school, "203.0.113.5")
    assert school.networks.count() == 2
    for output in (first, second):
        assert f"/leerling/{school.pupil_page_ref}/" in output.getvalue()
