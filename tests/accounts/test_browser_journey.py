"""An invited coordinator's first day in a real browser: the link from the e-mail, a password,
the authenticator app, and signing in again with a code."""

from __future__ import annotations

import base64
import os
import re

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django_otp.oath import TOTP
from playwright.sync_api import Page, expect

from klaspoort.schools.services import invite_coordinator
from tests.browser_support import chromium_page, needs_chromium, screenshot
from tests.factories import SchoolFactory

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# body are then refused as "async unsafe" although nothing here is concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

EMAIL = "ict@dewilg.example"
GOOD_PASSWORD = "Klaspoort2026wilg"


def app_code(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app shows for the key typed in by hand (the page's base32 text)."""
    raw = "".join(secret_text.split())
    key = base64.b32decode(raw + "=" * (-len(raw) % 8))
    return f"{TOTP(key, step=30, t0=0, digits=6, drift=steps_ahead).token():06d}"


def shot(page: Page, name: str) -> None:
    screenshot(page, f"journey-{name}", full_page=True)


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/accounts/inloggen/")
    page.get_by_label("E-mailadres").fill(EMAIL)
    page.get_by_label("Wachtwoord").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()


def test_an_invited_coordinator_sets_a_password_and_an_app_and_signs_in_with_a_code(
        live_server, transactional_db):
    cache.clear()  # no sign-in throttling left over from another test
    school = SchoolFactory(brin="98WW", dependancecode="00", name="OBS De Wilg")
    invite_coordinator(school, EMAIL)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://\S+/accounts/activeren/\S+/\S+/\S*", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    link_url = link.group(0).replace(settings.SITE_URL, live_server.url)

    with chromium_page() as page:
        page.goto(link_url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Wachtwoord instellen")
        expect(page.get_by_text(EMAIL)).to_be_visible()

        # Letters only: refused with the reason, the account stays without a password.
        page.locator("[name=new_password1]").fill("wilgenboomschool")
        page.locator("[name=new_password2]").fill("wilgenboomschool")
        page.get_by_role("button", name="Wachtwoord instellen").click()
        # The reason is at the field and in the summary at the top, which has the focus.
        expect(page.locator(".field__error", has_text=(
            "Het wachtwoord moet zowel letters als cijfers bevatten."))).to_be_visible()
        expect(page.locator("#error-summary")).to_be_focused()
        expect(page.get_by_role("heading", level=1)).to_have_text("Wachtwoord instellen")

        page.locator("[name=new_password1]").fill(GOOD_PASSWORD)
        page.locator("[name=new_password2]").fill(GOOD_PASSWORD)
        page.get_by_role("button", name="Wachtwoord instellen").click()
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/"))
        expect(page.get_by_text("Je wachtwoord is ingesteld. Je kunt nu inloggen.")).to_be_visible()

        # The link is spent once the password is set.
        page.goto(link_url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Deze link werkt niet meer")
        expect(page.locator("[name=new_password1]")).to_have_count(0)

        sign_in(page, live_server.url)
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")
        expect(page.get_by_role("navigation", name="Beheer")).to_be_visible()

        page.goto(live_server.url + "/accounts/tweestapsverificatie/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie instellen")
        expect(page.get_by_role("img", name=re.compile("QR"))).to_be_visible()
        secret = page.locator("#totp-secret").inner_text()
        assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", secret), secret
        page.get_by_label("Code", exact=True).fill(app_code(secret))
        page.get_by_role("button", name="Bevestigen").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Je herstelcodes")
        expect(page.get_by_text("Tweestapsverificatie staat aan.")).to_be_visible()
        codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(codes) == 10 and len(set(codes)) == 10
        shot(page, "recovery-codes")
        page.get_by_role("link", name="Verder").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")

        page.get_by_role("button", name="Uitloggen", exact=True).click()
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/"))

        # The password alone no longer opens Beheer: the code step comes first.
        sign_in(page, live_server.url)
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/code/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Tweestapsverificatie")
        page.goto(live_server.url + f"/beheer/{school.brin6}/gegevens/")
        expect(page).to_have_url(re.compile(r"/accounts/inloggen/code/"))
        shot(page, "code-step")

        # The enrolment code was spent (django-otp refuses a replay within its 30-second step);
        # the app's next code is what the user sees after it refreshes, and lies within the
        # server's tolerance of one step, so the test needs no waiting.
        page.get_by_label("Code", exact=True).fill(app_code(secret, steps_ahead=1))
        page.get_by_role("button", name="Verder").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Gegevens")
        expect(page.get_by_role("navigation", name="Beheer")).to_be_visible()
        expect(page.get_by_text("OBS De Wilg").first).to_be_visible()
