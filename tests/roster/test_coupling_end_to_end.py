"""Issue 14, done when: a coordinator switches the coupling on in the browser with a key, the
night comes (`klaspoort nightly`), and the roster from the LAS is there with its counts; a wrong
key shows its Dutch message; switching off stops the fetch. The LAS is the example LAS
(examples/las_app) over real HTTP."""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from examples.las_app import Config, School, serve
from klaspoort.roster.models import LasSystem, Pupil, RosterCoupling, RosterImport
from tests.browser_support import chromium_page, needs_chromium, sign_in
from tests.factories import CoordinatorFactory, SchoolFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

KEY = "regenboog-uwlr-sleutel-2026"
PUPILS = 40


@pytest.fixture
def las() -> Iterator[tuple[str, list[str]]]:
    """The example LAS serving school 99ZZ00 with KEY; the second value lists the schools it
    was asked for, request by request."""
    config = Config(schools={"99ZZ00": School("99ZZ", "00", PUPILS, KEY)}, seed=7,
                    fixed_night=True, host="127.0.0.1", port=0)
    server = serve(config)
    asked: list[str] = []
    handler = server.get_app()

    def counting(environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("REQUEST_METHOD") == "POST":
            asked.append(environ.get("PATH_INFO", ""))
        return handler(environ, start_response)

    server.set_app(counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}{config.path}", asked
    server.shutdown()
    server.server_close()


def night() -> str:
    out = io.StringIO()
    call_command("nightly", stdout=out)
    return out.getvalue()


def test_the_coupling_switched_on_in_the_browser_brings_the_roster_at_night(
        live_server, transactional_db, las, settings):
    settings.LAS_FETCH_BACKOFF_SECONDS = 0
    url, asked = las
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    LasSystem.objects.create(name="Voorbeeld-LAS", slug="voorbeeld-las",
                             method=LasSystem.Method.PULL, endpoint=url, needs_key=True,
                             client_code="KLASPOORT", client_name="Klaspoort")
    coupling_page = live_server.url + reverse("roster:coupling", args=[school.brin6])

    with chromium_page() as page:
        sign_in(page, live_server.url, "ict@regenboog.example")
        page.goto(coupling_page)
        page.get_by_role("radio", name=re.compile("Voorbeeld-LAS")).check()
        page.wait_for_load_state("networkidle")  # htmx swaps the key field in for this LAS
        page.get_by_role("textbox", name="Autorisatiesleutel").fill(KEY)
        page.get_by_role("button", name="Koppeling aanzetten").click()
        expect(page.get_by_text("De automatische koppeling met Voorbeeld-LAS staat aan")
               ).to_be_visible()

        # The night: fetched from the LAS, received as an import, processed.
        assert "1 coupling(s) fetched, 0 failed, 1 import(s) received" in night()
        assert asked == ["/leerlinggegevens"]
        record = RosterImport.objects.get(school=school)
        assert record.source == RosterImport.Source.COUPLING
        assert record.status == RosterImport.Status.PROCESSED
        assert Pupil.objects.filter(school=school, active=True).count() == PUPILS
        assert record.counts["pupils"]["added"] == PUPILS
        # The history shows it, with its counts, as the automatic coupling's.
        page.goto(live_server.url + reverse("roster:imports", args=[school.brin6]))
        history = page.get_by_role("row").filter(has_text="automatische koppeling")
        expect(history.first).to_contain_text(str(PUPILS))

        # A wrong key: the next night the page says so, in Dutch, naming the LAS.
        page.goto(coupling_page)
        change = page.get_by_role("region", name="Koppeling wijzigen")
        change.get_by_role("textbox", name="Autorisatiesleutel").fill("verkeerde-sleutel-123")
        change.get_by_role("button", name="Nieuwe sleutel opslaan").click()
        assert "1 failed" in night()
        page.goto(coupling_page)
        expect(page.get_by_text(
            "De autorisatiesleutel wordt niet geaccepteerd door Voorbeeld-LAS")).to_be_visible()
        assert RosterImport.objects.filter(school=school).count() == 1

        # Switched off: the night asks the LAS nothing.
        page.get_by_role("button", name="Koppeling uitzetten").click()
        page.get_by_role("button", name="Ja, zet de koppeling uit").click()
        expect(page.get_by_text("De automatische koppeling met Voorbeeld-LAS staat uit")
               ).to_be_visible()
        before = len(asked)
        assert "coupling(s) fetched" not in night()
        assert len(asked) == before
        assert not RosterCoupling.objects.get(school=school).active
