"""The "kan niet worden geopend" page (issue 11, item 5): a pupil gets the pupil layout with
their own name, short words and a big way back; staff keep the staff page."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from lxml import html

from klaspoort.signin.services import PUPIL_NAME
from klaspoort.sso.selectors import IP_RULE, REFUSALS
from tests.sso.conftest import ELSEWHERE_IP, SCHOOL_IP


def _page(response):
    assert response.status_code == 403
    return html.fromstring(response.content.decode())


def test_a_refused_pupil_sees_the_pupil_layout_with_their_name(pupil_client, world):
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=ELSEWHERE_IP)
    tree = _page(response)
    text = tree.text_content()
    assert tree.xpath("//body[contains(@class, 'kid')]"), "not the pupil layout"
    assert tree.xpath("//span[@class='kid-header__user']")[0].text_content() == "Zoë J."
    assert "None" not in text
    assert "Overal uitloggen" not in text and "Sign out everywhere" not in text
    assert "Dit gaat nu niet open" in text and world.a.product.name in text
    back = tree.xpath("//main//a[contains(@class, 'kid-button')]")
    assert [a.get("href") for a in back] == [reverse("signin:portal")]
    assert back[0].text_content().strip() == "Terug"
    # The reason stays there, folded away, for the teacher who comes to help.
    with translation.override("nl"):
        assert escape(str(REFUSALS[IP_RULE])) in response.content.decode()


def test_the_pupil_page_uses_the_name_chosen_at_sign_in(pupil_client, world):
    session = pupil_client.session
    session[PUPIL_NAME] = "Zoë de J."
    session.save()
    tree = _page(pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                  REMOTE_ADDR=ELSEWHERE_IP))
    assert tree.xpath("//span[@class='kid-header__user']")[0].text_content() == "Zoë de J."


def test_a_refused_teacher_keeps_the_staff_page(client, world):
    world.a.contract.start = timezone.localdate() - datetime.timedelta(days=100)
    world.a.contract.end = timezone.localdate() - datetime.timedelta(days=1)
    world.a.contract.save()
    client.force_login(world.teacher.user)
    tree = _page(client.get(reverse("sso:launch", args=[world.a.product.pk]),
                            REMOTE_ADDR=SCHOOL_IP))
    assert not tree.xpath("//body[contains(@class, 'kid')]")
    assert "Overal uitloggen" in tree.text_content()
    assert "Dit gaat nu niet open" not in tree.text_content()


def test_a_pupils_tile_without_a_launch_address_uses_the_pupil_layout(pupil_client, world):
    world.a.product.launch_url = ""
    world.a.product.save()
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 404
    tree = html.fromstring(response.content.decode())
    assert tree.xpath("//body[contains(@class, 'kid')]")
    assert "Overal uitloggen" not in tree.text_content() and "None" not in tree.text_content()
    assert world.a.publisher.name in tree.text_content()
