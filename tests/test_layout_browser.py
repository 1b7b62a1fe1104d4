"""Every Beheer page, the teacher's pages, *Mijn profiel* and the publisher portal fit the screen
at 320 px (a phone, or 400 % zoom), on a tablet and on a Chromebook (issue 11, items 8 and 13):
the page itself never scrolls sideways (a table's own scroll region may), the sign-in address
is shown whole and the school switcher shows a school's whole name."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from klaspoort.licences.models import Contract
from klaspoort.roster import coupling_services
from klaspoort.roster.models import Group, LasSystem, RosterImport
from tests.browser_support import chromium_page, needs_chromium, screenshot, sign_in
from tests.factories import (
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.licences.factories import ContractFactory, PublisherMemberFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]

WIDTHS = {"telefoon": (320, 640), "tablet": (768, 1024), "chromebook": (1366, 768)}
LONG_NAME = "Openbare Basisschool De Wonderwereld van Zuid-Oost Nieuwerkerk aan den IJssel"

# The page's width beyond the window, and the first few elements that stick out (to tell why).
OVERFLOW_JS = """() => {
  const width = window.innerWidth;
  const culprits = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.parentElement.closest(".table-scroll")) continue;
    const box = el.getBoundingClientRect();
    // A box inside the window can still hold a word that runs past it.
    const right = Math.max(box.right, box.left + el.scrollWidth);
    if (right > width + 1 && culprits.length < 5) {
      culprits.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                    + ' (' + Math.round(right) + ')');
    }
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode() && culprits.length < 5) {
    range.selectNodeContents(walker.currentNode);
    const right = range.getBoundingClientRect().right;
    if (right > width + 1 && !walker.currentNode.parentElement.closest('.table-scroll')) {
      const text = walker.currentNode.textContent.trim().slice(0, 30);
      culprits.push('"' + text + '" (' + Math.round(right) + ')');
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, culprits};
}"""

# Whether an element's whole text is on screen: not clipped by its box nor past the window.
WHOLE_JS = """el => {
  const box = el.getBoundingClientRect();
  return el.scrollWidth <= el.clientWidth + 1 && box.left >= 0 && box.right <= window.innerWidth;
}"""

# Whether a select is wide enough for its longest option (the arrow takes ~1rem) and on screen.
# At 320 px no select can hold a long school name on one line: there the current school's name
# is shown whole beside it (.school-context__name) and the open list shows every name whole.
SELECT_WHOLE_JS = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement('canvas').getContext('2d');
  context.font = style.font;
  let widest = 0;
  for (const option of select.options) {
    widest = Math.max(widest, context.measureText(option.text).width);
  }
  const room = select.clientWidth - parseFloat(style.paddingLeft)
               - parseFloat(style.paddingRight) - 16;
  const box = select.getBoundingClientRect();
  const fits = widest <= room || window.innerWidth < 600;
  const onScreen = box.left >= 0 && box.right <= window.innerWidth;
  return {ok: fits && onScreen, widest, room, right: box.right};
}"""


def misfits(page: Page, url: str, whole: tuple[str, ...] = (), selects: tuple[str, ...] = ()
            ) -> list[str]:
    """What does not fit on `url` at each width: sideways scroll of the page, a `whole` element
    cut off, a select too narrow for its names (all of them, so one run shows every page)."""
    page.goto(url)
    expect(page.locator("main")).to_be_visible()
    problems = []
    for device, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, "layout" + re.sub(r"[^a-zA-Z0-9]+", "-", urlsplit(url).path) + device)
        found = page.evaluate(OVERFLOW_JS)
        if found["scroll"] > found["width"] + 1:  # a pixel of rounding is no scrollbar
            problems.append(f"{url} at {device}: page {found['scroll']} px wide, "
                            f"sticking out: {found['culprits']}")
        for selector in whole:
            for element in page.locator(selector).all():
                if not element.evaluate(WHOLE_JS):
                    problems.append(f"{url} at {device}: {selector} cut off")
        for selector in selects:
            expect(page.locator(selector)).to_have_count(1)
            found = page.locator(selector).evaluate(SELECT_WHOLE_JS)
            if not found["ok"]:
                problems.append(f"{url} at {device}: {selector} cuts a name off ({found})")
    return problems


def test_every_staff_page_fits_a_phone_a_tablet_and_a_chromebook(live_server, transactional_db):
    school = SchoolFactory(brin="99ZZ", dependancecode="00", name=LONG_NAME)
    other = SchoolFactory(brin="98YY", dependancecode="00", name="OBS Het Kompas")
    coordinator = CoordinatorFactory(school=school, email="ict@regenboog.example")
    coordinator.school_memberships.create(school=other)
    group = GroupFactory(school=school, name="Groep 1-2A", jaargroep="1")
    for number in range(6):
        PupilFactory(school=school, group=group, first_name=f"Mohammed{number}",
                     last_name="van den Boogaard-Wijnaldum")
    teacher = TeacherFactory(school=school, user=UserFactory(
        email="m.visser@regenboog.example", display_name="Marieke Visser-van Oosterhout"))
    teacher.groups.add(group)
    contract = ContractFactory(school=school, title="Pluspunt 4 oefensoftware voor de klas")
    per_child = ContractFactory(school=school, contract_type=Contract.Type.CHILD, seats=5)
    record = RosterImport.objects.create(
        school=school, source=RosterImport.Source.UPLOAD, status=RosterImport.Status.PROCESSED,
        filename="leerlingenbestand-van-de-wonderwereld-nieuwerkerk-2026.xml",
        edexml_version="2.1", file_sha256="ab" * 32, file_size=10)
    # The automatic coupling on, with a long LAS name, a masked key and a long last error.
    las = LasSystem.objects.create(
        name="Leerlingadministratiesysteem Dotcomschool SchoolOAS", slug="dotcomschool",
        method=LasSystem.Method.PULL, endpoint="https://uwlr.dotcomschool.example/ll")
    coupling = coupling_services.switch_on(school=school, las=las, key="dcs-0123456789abcdef",
                                           actor=coordinator)
    coupling.last_result, coupling.failures_in_a_row = "failed", 2
    coupling.last_error = {"message": "The pupil administration system (LAS) sent an error "
                           "message instead of the user data: '%(fault)s'. Try again later, "
                           "or ask the supplier of the LAS.",
                           "params": {"fault": "Autorisatiesleutel-niet-geldig-voor-deze-brin"}}
    coupling.save()
    publisher = contract.publisher
    PublisherMemberFactory(publisher=publisher,
                           user=UserFactory(email="helpdesk@uitgever.example"))
    brin6 = school.brin6
    base = live_server.url
    beheer = [
        reverse("schools:data", args=[brin6]),
        reverse("roster:import", args=[brin6, record.pk]),
        reverse("licences:contract_children", args=[brin6, per_child.pk]),
        reverse("signin:group_view", args=[brin6]) + f"?groep={group.pk}",
        reverse("schools:publishers", args=[brin6]),
        reverse("schools:network_providers", args=[brin6]),
        reverse("schools:networks", args=[brin6]),
        reverse("roster:imports", args=[brin6]),
        reverse("roster:coupling", args=[brin6]),
        reverse("roster:groups", args=[brin6]),
        reverse("roster:pupils", args=[brin6]),
        reverse("roster:teachers", args=[brin6]),
        reverse("roster:coordinators", args=[brin6]),
        reverse("licences:contracts", args=[brin6]),
        reverse("licences:child_contracts", args=[brin6]),
        reverse("licences:contract_groups", args=[brin6, contract.pk]),
        reverse("schools:log", args=[brin6]),
        reverse("shortcuts:index", args=[brin6]),
        reverse("schools:checklist", args=[brin6]),
        reverse("results:couplings", args=[brin6]),
        reverse("signin:why", args=[brin6]),
    ]
    group_page = reverse("roster:group", args=[brin6, group.pk])
    group_id = Group.objects.get(pk=group.pk).pk

    problems: list[str] = []
    with chromium_page() as page:
        sign_in(page, base, "ict@regenboog.example")
        for url in beheer:
            problems += misfits(page, base + url, selects=("#school-switch",))
        problems += misfits(page, base + group_page,
                            whole=(".signin-settings code", ".school-context__name"),
                    selects=("#school-switch",))
        problems += misfits(page, base + reverse("signin:print_cards", args=[brin6, group_id]))
        problems += misfits(page, base + reverse("profile"))

    with chromium_page() as page:
        sign_in(page, base, "m.visser@regenboog.example")
        problems += misfits(page, base + reverse("teacher:home"))
        problems += misfits(page, base + reverse("teacher:group", args=[group_id]),
                    whole=(".signin-settings code",))
        problems += misfits(page, base + reverse("teacher:print_cards", args=[group_id]))
        problems += misfits(page, base + reverse("results:teacher_results", args=[group_id]))
        problems += misfits(page, base + reverse("profile"))

    with chromium_page() as page:
        sign_in(page, base, "helpdesk@uitgever.example")
        slug = publisher.slug
        for name in ("publisher:home", "publisher:products", "publisher:product_create",
                     "publisher:contracts", "publisher:contract_create", "exchange:tokens",
                     "exchange:webhook", "exchange:oneroster_clients",
                     "sso_portal:clients", "sso_portal:client_create",
                     "publisher:helpdesk", "results:publisher_grade_boundaries",
                     "signin:publisher_why"):
            problems += misfits(page, base + reverse(name, args=[slug]))
        problems += misfits(page, base + reverse("publisher:product_edit",
                                                 args=[slug, contract.product.pk]))
        problems += misfits(page, base + reverse("profile"))
    assert not problems, "\n".join(problems)
