"""`klaspoort demo-data` (make demo): the demo's tiles open the example publisher application,
the demo school's pupil page works on the machine itself, and its automatic coupling fetches
from the example LAS."""

from __future__ import annotations

import io
import re
import shlex
import threading
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import Application

from examples.las_app import Config, serve
from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.licences.models import Product
from klaspoort.roster import services
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import LasSystem, Pupil, RosterCoupling, RosterImport
from klaspoort.roster.secrets import open_text
from klaspoort.schools import services as school_services
from klaspoort.schools.checklist import checks_for
from klaspoort.schools.models import Publisher, School
from klaspoort.schools.selectors import (
    address_allowed,
    consented_publishers,
    current_school_year,
)
from klaspoort.sso.models import PublisherClient
from tests.roster.test_example_las_app import request as uwlr_request

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


def makefile_las_args() -> list[str]:
    """The example LAS's arguments as `make demo` starts it (the Makefile's DEMO_LAS_ARGS)."""
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    match = re.search(r"^DEMO_LAS_ARGS := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert match, "no DEMO_LAS_ARGS in the Makefile"
    return shlex.split(match[1].replace("\\\n", " "))


def test_demo_data_couples_the_demo_school_to_the_example_las_that_make_demo_starts(db):
    for slug, name in DEMO_PUBLISHERS.items():
        Publisher.objects.get_or_create(slug=slug, defaults={"name": name})
    out = io.StringIO()
    call_command("demo-data", stdout=io.StringIO())
    call_command("demo-data", stdout=out)  # idempotent

    las = LasSystem.objects.get(slug="voorbeeld-las")
    assert (las.name, las.method, las.endpoint, las.needs_key, las.active) == (
        "Voorbeeld-LAS", LasSystem.Method.PULL, settings.DEMO_LAS_URL, True, True)
    assert las.client_code and las.client_name
    school = School.objects.get(brin="99ZZ", dependancecode="00")
    coupling = RosterCoupling.objects.get(school=school)
    assert coupling.las == las and coupling.active and coupling.switched_by is not None
    key = open_text("las-key", coupling.sealed_key)
    assert key not in coupling.sealed_key and coupling.key_last4 == key[-4:]
    assert not RosterCoupling.objects.exclude(school=school).exists()
    assert AuditEntry.objects.filter(school_id=school.pk,
                                     action=AuditAction.ROSTER_COUPLING_ON).count() == 1
    assert settings.DEMO_LAS_URL in out.getvalue()

    # The LAS as the Makefile starts it accepts the coupling's key and answers with the demo
    # school's own roster: the first fetch changes no pupil.
    args = makefile_las_args()
    assert f"--port {settings.DEMO_LAS_URL.split(':')[-1].split('/')[0]}" in " ".join(args)
    config = Config.from_args([*args, "--host", "127.0.0.1", "--port", "0"])
    assert settings.DEMO_LAS_URL.endswith(config.path)
    server = serve(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = requests.post(
            f"http://127.0.0.1:{server.server_port}{config.path}", timeout=30,
            data=uwlr_request(key=key, client=(las.client_code, las.client_name),
                              school_year=current_school_year(timezone.localdate())))
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200, response.text[:300]
    before = set(Pupil.objects.filter(school=school, active=True)
                 .values_list("key", "first_name", "last_name", "group__key"))
    assert len(parse_edexml(response.content)["pupils"]) == len(before)
    record = services.receive_roster_file(response.content, school=school,
                                          source=RosterImport.Source.COUPLING)
    record = services.process_import(record.pk)
    assert record.status == RosterImport.Status.PROCESSED, (record.status, record.errors)
    after = set(Pupil.objects.filter(school=school, active=True)
                .values_list("key", "first_name", "last_name", "group__key"))
    assert after == before


def test_the_demo_las_takes_results_once_the_coordinator_adds_the_coupling(db):
    """demo-data gives the Voorbeeld-LAS its results address (practice results too) but no
    results coupling: that is the coordinator's step. Added with the key the LAS gave the
    school, a result reaches the LAS as the Makefile starts it."""
    from klaspoort.results import delivery
    from klaspoort.results.models import Delivery, ResultCoupling
    from tests.factories import ResultFactory
    from tests.results.las import coupling_for

    for slug, name in DEMO_PUBLISHERS.items():
        Publisher.objects.get_or_create(slug=slug, defaults={"name": name})
    call_command("demo-data", stdout=io.StringIO())
    las = LasSystem.objects.get(slug="voorbeeld-las")
    assert las.results_endpoint == settings.DEMO_LAS_RESULTS_URL
    assert las.takes_practice_results
    assert not ResultCoupling.objects.exists()

    config = Config.from_args([*makefile_las_args(), "--host", "127.0.0.1", "--port", "0"])
    assert settings.DEMO_LAS_RESULTS_URL.endswith(config.results_path)
    server = serve(config)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        LasSystem.objects.filter(pk=las.pk).update(
            results_endpoint=f"http://127.0.0.1:{server.server_port}{config.results_path}")
        school = School.objects.get(brin="99ZZ", dependancecode="00")
        key = open_text("las-key", RosterCoupling.objects.get(school=school).sealed_key)
        coupling = coupling_for(school, las, key=key)
        result = ResultFactory(pupil=Pupil.objects.filter(school=school).first())
        Delivery.objects.create(coupling=coupling, result=result,
                                next_attempt_at=timezone.now())
        assert delivery.deliver(coupling.pk).sent == 1
    finally:
        server.shutdown()
        server.server_close()
    coupling.refresh_from_db()
    assert coupling.state == ResultCoupling.State.OK and coupling.delivered_count == 1


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


def test_the_demo_schools_checklist_shows_a_red_item_whose_fix_is_one_click_away(db):
    """Issue 16, "Done when": the demo school's Schooljaar-checklist shows real states, some
    red on purpose: Zwijsen's method ordered for next year while Zwijsen is not ticked."""
    for slug, name in {**DEMO_PUBLISHERS, "zwijsen": "Zwijsen"}.items():
        Publisher.objects.get_or_create(slug=slug, defaults={"name": name})
    call_command("demo-data", stdout=io.StringIO())
    school = School.objects.get(brin="99ZZ", dependancecode="00")
    today = timezone.localdate()

    consents = {item.key: item for item in checks_for(school, today)}["licences.consents"]
    assert consents.state == "red" and "Zwijsen" in " ".join(consents.facts)
    assert consents.fix_url == f"/beheer/{school.brin6}/uitgeverijen/"

    coordinator = school.memberships.get().user
    school_services.set_publisher_consents(
        school, set(consented_publishers(school).values_list("pk", flat=True))
        | {Publisher.objects.get(slug="zwijsen").pk}, actor=coordinator)
    consents = {item.key: item for item in checks_for(school, today)}["licences.consents"]
    assert consents.state == "green"
