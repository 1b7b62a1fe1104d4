"""axe-core on the teacher's and the publisher's journeys (issue 11, item 13): every page a
teacher and a publisher's staff member use, with zero WCAG 2.2 A/AA violations."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from klaspoort.exchange.models import Webhook, WebhookDelivery
from klaspoort.licences.models import GroupLicence
from klaspoort.roster.models import Pupil
from klaspoort.roster.secrets import seal_text
from klaspoort.schools.models import PublisherConsent
from tests.browser_support import assert_no_axe_violations, chromium_page, needs_chromium, sign_in
from tests.factories import (
    GroupFactory,
    PupilFactory,
    ResultFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)
from tests.licences.factories import ContractFactory, PublisherFactory, PublisherMemberFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, needs_chromium]


def test_the_teacher_s_pages_have_no_accessibility_violations(live_server, transactional_db):
    school = SchoolFactory(name="Basisschool De Regenboog")
    group = GroupFactory(school=school, name="Groep 6", jaargroep="6", signin_method="pincode")
    for name in ("Noor", "Sem", "Daan"):
        PupilFactory(school=school, group=group, first_name=name, jaargroep="6")
    teacher = TeacherFactory(school=school, user=UserFactory(email="m.visser@regenboog.example",
                                                             display_name="Marieke Visser"))
    teacher.groups.add(group)
    contract = ContractFactory(school=school, product__name="Wereld in getallen 6")
    PublisherConsent.objects.create(school=school, publisher=contract.publisher,
                                    given_at=timezone.now())
    GroupLicence.objects.create(contract=contract, group=group)

    noor = Pupil.objects.get(first_name="Noor")
    ResultFactory(pupil=noor, product=contract.product, test_name="Rekenen blok 3",
                  learning_goal="Breuken vergelijken")

    with chromium_page() as page:
        sign_in(page, live_server.url, "m.visser@regenboog.example")
        for address, state in (("/lesmateriaal/", "teacher Lesmateriaal"),
                               ("/leerkracht/", "Mijn groepen"),
                               (f"/leerkracht/groepen/{group.pk}/", "a teacher's group"),
                               ("/leerkracht/resultaten/", "Resultaten"),
                               (f"/leerkracht/resultaten/{group.pk}/", "a group's results"),
                               (f"/leerkracht/resultaten/{group.pk}/printversie/",
                                "the results' print version")):
            page.goto(live_server.url + address)
            assert_no_axe_violations(page, state)


def test_the_publisher_portal_has_no_accessibility_violations(live_server, transactional_db):
    SchoolFactory(brin="99ZZ", dependancecode="00", name="Basisschool De Regenboog")
    publisher = PublisherFactory(name="Malmberg", slug="malmberg")
    member = PublisherMemberFactory(publisher=publisher, user__email="beheer@malmberg.example")
    contract = ContractFactory(publisher=publisher, product__publisher=publisher)
    webhook = Webhook.objects.create(publisher=publisher, url="https://hooks.malmberg.example/kp",
                                     sealed_secret=seal_text("exchange-webhook", "whsec_a11y"))
    WebhookDelivery.objects.create(webhook=webhook, notice_id="ntc_1", sequence=4, attempt=1,
                                   status_code=500, error="status", duration_ms=31)
    WebhookDelivery.objects.create(webhook=webhook, notice_id="ntc_1", sequence=4, attempt=2,
                                   status_code=204, delivered=True, duration_ms=12)

    with chromium_page() as page:
        sign_in(page, live_server.url, member.user.email)
        base = f"{live_server.url}/uitgever/malmberg"
        for address, state in (("/", "publisher start"), ("/producten/", "products"),
                               ("/producten/nieuw/", "new product"),
                               (f"/producten/{contract.product.pk}/", "product form"),
                               ("/contracten/", "contracts"),
                               ("/contracten/nieuw/", "new contract"),
                               ("/api-sleutels/", "API tokens"), ("/webhook/", "webhook"),
                               ("/api-sleutels/oneroster/", "OneRoster clients"),
                               ("/inloggen/", "single sign-on clients"),
                               ("/inloggen/nieuw/", "new single sign-on client"),
                               ("/helpdesk/", "helpdesk"),
                               ("/cijfergrenzen/", "grade boundaries")):
            page.goto(base + address)
            assert_no_axe_violations(page, state)
        # The grade boundaries' form with its errors in place (a gap between two bands).
        page.fill("#id_test_type", "methodetoets")
        for number, (term, low, high) in enumerate(
                (("onvoldoende", "1", "5,4"), ("voldoende", "5,6", "10")), start=1):
            page.fill(f"#id_term_{number}", term)
            page.fill(f"#id_from_{number}", low)
            page.fill(f"#id_to_{number}", high)
        page.click("#grade-form button[type=submit]")
        page.wait_for_selector("#error-summary")
        assert_no_axe_violations(page, "grade boundaries with errors")
