"""The example publisher application's *Resultaat versturen* (issue 15 item 7): a teacher signed
in at the publisher sends one result for a pupil of her group through the documented results
API, with the app's token, and sees Klaspoort's answer; the result is stored for that pupil."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from klaspoort.pseudonyms import subject_for
from klaspoort.results.models import Result
from klaspoort.roster.models import TeacherGroup
from klaspoort.schools.models import Publisher
from tests.browser_support import chromium_page, needs_chromium, sign_in
from tests.factories import (
    CoordinatorFactory,
    GroupFactory,
    LasSystemFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
)
from tests.results.las import KEY as LAS_KEY
from tests.results.las import served_las
from tests.sso.test_example_app import as_browser, licensed_example_app

FORM = re.compile(r'<form method="post" action="/resultaat" class="send-result">'
                  r'<input type="hidden" name="form_token" value="([^"]+)">'
                  r'<input type="hidden" name="pupil" value="([0-9a-f]+)">')


@pytest.fixture
def signed_in_teacher(live_server, issuer, example_server):
    """A teacher of Groep 5a (licensed) signed in at the example app, which keeps the roster
    with its token; the page she lands on, her browser, the pupils and the app's address."""
    app_url = f"http://127.0.0.1:{example_server.server_port}"
    school = SchoolFactory(brin="99ZZ", dependancecode="00")
    group = GroupFactory(school=school, name="Groep 5a", jaargroep="5")
    other = GroupFactory(school=school, name="Groep 6b", jaargroep="6")
    daan = PupilFactory(school=school, group=group, first_name="Daan", last_name="Bakker")
    sem = PupilFactory(school=school, group=other, first_name="Sem", last_name="Smit")
    teacher = TeacherFactory(school=school)
    TeacherGroup.objects.create(teacher=teacher, group=group)
    product = licensed_example_app(live_server, issuer, example_server, school, [group, other])
    browser = as_browser(live_server, teacher.user, {})
    page = browser.get(live_server.url + reverse("sso:launch", kwargs={"product_id": product.pk}),
                       timeout=30)
    assert page.status_code == 200, page.text
    return {"page": page.text, "browser": browser, "daan": daan, "sem": sem, "app": app_url,
            "live_server": live_server.url}


def test_a_teacher_sends_a_result_for_a_pupil_and_sees_the_answer(signed_in_teacher):
    page = signed_in_teacher["page"]
    assert "Resultaat versturen" in page
    [(form_token, pupil_id)] = FORM.findall(page)  # one pupil in her group: Daan

    answer = signed_in_teacher["browser"].post(f"{signed_in_teacher['app']}/resultaat", data={
        "form_token": form_token, "pupil": pupil_id}, timeout=30)

    assert answer.status_code == 200
    assert "Resultaat verstuurd" in answer.text and "<strong>200</strong>" in answer.text
    assert "&quot;created&quot;: 1" in answer.text
    result = Result.objects.get()
    assert result.pupil == signed_in_teacher["daan"]
    assert (result.test_name, result.kind, result.max_score) == (
        "Demotoets rekenen blok 3", "toets", 20)


def test_without_the_pages_form_token_nothing_is_sent(signed_in_teacher):
    [(_token, pupil_id)] = FORM.findall(signed_in_teacher["page"])

    answer = signed_in_teacher["browser"].post(f"{signed_in_teacher['app']}/resultaat", data={
        "form_token": "forged", "pupil": pupil_id}, timeout=30)

    assert answer.status_code == 403
    assert not Result.objects.exists()


def test_a_pupil_outside_the_teachers_groups_is_not_sent(signed_in_teacher):
    [(form_token, _pupil)] = FORM.findall(signed_in_teacher["page"])
    # Sem's id as the publisher knows him (his group 6b is licensed too, not hers).
    other_pupil = subject_for(Publisher.objects.get(name="Uitgeverij Voorbeeld").pk,
                              signed_in_teacher["sem"].user_id)
    answer = signed_in_teacher["browser"].post(f"{signed_in_teacher['app']}/resultaat", data={
        "form_token": form_token, "pupil": other_pupil}, timeout=30)

    assert answer.status_code == 400 and "niet in een van je groepen" in answer.text
    assert not Result.objects.exists()


@needs_chromium
@pytest.mark.browser
def test_a_result_travels_from_the_publisher_app_to_the_las_once(signed_in_teacher):
    """Issue 15, "Done when": in a real browser the coordinator adds a coupling with a key the
    example LAS refuses; a result the teacher sends from the example publisher app reaches
    Klaspoort, the LAS's refusal shows on the coupling in Dutch; with the right key the result
    arrives at the LAS, once, and the next one goes straight through."""
    school = signed_in_teacher["daan"].school
    CoordinatorFactory(school=school, email="ict@regenboog.example")
    with served_las() as las:
        LasSystemFactory(name="Voorbeeld-LAS", slug="voorbeeld-las", results_endpoint=las.url)
        _couple_wrongly_send_and_mend(signed_in_teacher, school, las)
    # Each result the teacher sent is held by the LAS once, under Daan's LAS key.
    uids = {str(uid) for uid in Result.objects.values_list("uid", flat=True)}
    assert len(uids) == 2 and set(las.store.held) == uids
    assert {held.pupil for held in las.store.held.values()} == {signed_in_teacher["daan"].key}
    assert las.store.counts()["repeats"] == 0


def _couple_wrongly_send_and_mend(signed_in_teacher, school, las):
    """The browser part: no database access of the test's own in here (Playwright's loop)."""
    with chromium_page() as page:
        sign_in(page, signed_in_teacher["live_server"], "ict@regenboog.example")
        page.goto(signed_in_teacher["live_server"]
                  + reverse("results:couplings", args=[school.brin6]))
        page.get_by_role("radio", name=re.compile("Voorbeeld-LAS")).check()
        page.get_by_role("textbox", name="Autorisatiesleutel").fill("verkeerde-sleutel-0000")
        page.get_by_role("button", name="Opslaan", exact=True).click()
        expect(page.get_by_text("De resultatenkoppeling met Voorbeeld-LAS is toegevoegd")
               ).to_be_visible()

        [(form_token, pupil_id)] = FORM.findall(signed_in_teacher["page"])
        send = {"form_token": form_token, "pupil": pupil_id}
        answer = signed_in_teacher["browser"].post(f"{signed_in_teacher['app']}/resultaat",
                                                   data=send, timeout=30)
        assert "Resultaat verstuurd" in answer.text
        assert las.store.counts()["results"] == 0  # refused: the key is wrong

        page.reload()
        card = page.get_by_role("region", name="Voorbeeld-LAS")
        expect(card.get_by_text("De autorisatiesleutel wordt niet geaccepteerd door "
                                "Voorbeeld-LAS.")).to_be_visible()
        expect(card.get_by_text("0 verstuurd, 1 wachtend, 0 mislukt")).to_be_visible()

        card.get_by_role("textbox", name="Nieuwe autorisatiesleutel voor Voorbeeld-LAS"
                         ).fill(LAS_KEY)
        card.get_by_role("button", name="Nieuwe sleutel opslaan").click()
        page.reload()
        card = page.get_by_role("region", name="Voorbeeld-LAS")
        expect(card.get_by_text("1 verstuurd, 0 wachtend, 0 mislukt")).to_be_visible()

        # A second result, now that the coupling works, goes straight through.
        signed_in_teacher["browser"].post(f"{signed_in_teacher['app']}/resultaat", data=send,
                                          timeout=30)
