"""Authorization is refused with a Dutch page that says why (R4.5), and tiles open only what the
user may open."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from klaspoort.licences.access import ENDED
from klaspoort.licences.access import REASONS as LICENCE_REASONS
from klaspoort.schools.models import PublisherConsent
from klaspoort.signin.session import AT_HOME
from klaspoort.sso.selectors import (
    HINT_EXPIRED,
    IP_RULE,
    NO_CONSENT,
    NO_LICENCE,
    NOT_ON_ROSTER,
    OTHER_USER,
    REFUSALS,
    login_hint_for,
)
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory
from tests.sso.conftest import (
    ELSEWHERE_IP,
    SCHOOL_IP,
    authorize,
    code_from,
    no_code_issued,
    pkce_pair,
    redeem,
    sign_in_pupil,
)


def _refused(response, reason: str) -> None:
    """A 403 page that names the reason (in the page's language: Dutch once translated)."""
    assert response.status_code == 403
    with translation.override("nl"):
        message = escape(str(REFUSALS[reason]))
    page = response.content.decode()
    assert message in page, page
    assert no_code_issued()


def _authorize(client, pub, **kwargs):
    _verifier, challenge = pkce_pair()
    return authorize(client, pub, challenge=challenge, **kwargs)


def test_a_pupil_on_a_wrong_ip_is_refused(pupil_client, world):
    _refused(_authorize(pupil_client, world.a, ip=ELSEWHERE_IP), IP_RULE)


def test_a_pupil_at_home_may_sign_in_only_when_the_school_allows_it(client, world):
    sign_in_pupil(client, world.pupil, kind=AT_HOME)
    _refused(_authorize(client, world.a, ip=ELSEWHERE_IP), IP_RULE)
    world.school.home_signin_enabled = True
    world.school.save()
    assert code_from(_authorize(client, world.a, ip=ELSEWHERE_IP))


def test_no_consent_is_refused(pupil_client, world):
    PublisherConsent.objects.filter(publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())
    _refused(_authorize(pupil_client, world.a), NO_CONSENT)


def test_a_contract_that_ended_yesterday_is_refused(pupil_client, world):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    world.a.contract.start = yesterday - datetime.timedelta(days=100)
    world.a.contract.end = yesterday
    world.a.contract.save()
    _refused(_authorize(pupil_client, world.a), NO_LICENCE)
    # Beta's contract still runs: only Alfa is refused.
    assert code_from(_authorize(pupil_client, world.b))


def test_a_contract_that_ends_today_still_counts(pupil_client, world):
    world.a.contract.end = timezone.localdate()
    world.a.contract.save()
    assert code_from(_authorize(pupil_client, world.a))


def test_a_pupil_without_a_licence_is_refused(client, world):
    unlicensed = PupilFactory(school=world.school, group=GroupFactory(school=world.school))
    sign_in_pupil(client, unlicensed)
    _refused(_authorize(client, world.a), NO_LICENCE)


def test_a_coordinator_who_teaches_no_group_is_refused(client, world):
    client.force_login(CoordinatorFactory(school=world.school))
    _refused(_authorize(client, world.a), NOT_ON_ROSTER)


def test_consent_withdrawn_between_tile_and_authorize(pupil_client, world):
    launched = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    hint = parse_qs(urlsplit(launched["Location"]).query)["login_hint"][0]
    PublisherConsent.objects.filter(publisher=world.a.publisher).update(
        withdrawn_at=timezone.now())
    _refused(_authorize(pupil_client, world.a, login_hint=hint), NO_CONSENT)


# --- the tile --------------------------------------------------------------------------------

def test_a_tile_starts_third_party_initiated_login_at_the_publisher(pupil_client, world):
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == world.a.product.launch_url
    query = parse_qs(location.query)
    assert query["iss"] == [settings.SITE_URL + "/o"]
    assert query["target_link_uri"] == [world.a.product.launch_url]
    # The publisher comes back with the hint; it names this pupil.
    verifier, challenge = pkce_pair()
    code = code_from(authorize(pupil_client, world.a, challenge=challenge,
                               login_hint=query["login_hint"][0]))
    assert redeem(world.a, code, verifier).status_code == 200


def test_a_tile_uses_the_publishers_default_target(pupil_client, world):
    world.a.client.client.default_target_uri = "https://methode-a.example/home"
    world.a.client.client.save()
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["target_link_uri"] == ["https://methode-a.example/home"]


def test_a_login_hint_of_someone_else_is_refused(client, world):
    classmate = PupilFactory(school=world.school, group=world.group)
    sign_in_pupil(client, world.pupil)
    hint = login_hint_for(classmate.user, world.a.publisher.pk)
    _refused(_authorize(client, world.a, login_hint=hint), OTHER_USER)
    # A hint for another publisher does not name the pupil at this one either.
    other = login_hint_for(world.pupil.user, world.b.publisher.pk)
    _refused(_authorize(client, world.a, login_hint=other), OTHER_USER)
    _refused(_authorize(client, world.a, login_hint="forged"), OTHER_USER)


def test_an_old_login_hint_is_refused(pupil_client, world):
    hint = login_hint_for(world.pupil.user, world.a.publisher.pk)
    with override_settings(KLASPOORT_LOGIN_HINT_MAX_AGE=-1):
        _refused(_authorize(pupil_client, world.a, login_hint=hint), HINT_EXPIRED)


def test_a_tile_of_an_ended_contract_says_why(pupil_client, world):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    world.a.contract.start = yesterday - datetime.timedelta(days=100)
    world.a.contract.end = yesterday
    world.a.contract.save()
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 403
    with translation.override("nl"):
        assert escape(str(LICENCE_REASONS[ENDED])) in response.content.decode()


def test_a_tile_on_a_wrong_ip_is_refused(pupil_client, world):
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=ELSEWHERE_IP)
    _refused(response, IP_RULE)
    assert not response.has_header("Location")


def test_a_tile_of_a_product_without_launch_address(pupil_client, world):
    world.a.product.launch_url = ""
    world.a.product.save()
    response = pupil_client.get(reverse("sso:launch", args=[world.a.product.pk]),
                                REMOTE_ADDR=SCHOOL_IP)
    assert response.status_code == 404
    assert world.a.publisher.name in response.content.decode()
    assert not response.has_header("Location")


def test_a_tile_needs_a_session(client, world):
    response = client.get(reverse("sso:launch", args=[world.a.product.pk]))
    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_with_prompt_none_the_refusal_goes_back_to_the_publisher(pupil_client, world):
    response = _authorize(pupil_client, world.a, ip=ELSEWHERE_IP, prompt="none")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == world.a.redirect_uri
    query = parse_qs(location.query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st4te"]
    assert "code" not in query
    assert no_code_issued()


def test_with_prompt_none_and_no_session_the_publisher_hears_login_required(client, world):
    response = _authorize(client, world.a, prompt="none")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith(world.a.redirect_uri)
    assert query["error"] == ["login_required"]
    assert query["state"] == ["st4te"]


def test_with_prompt_none_a_signed_in_pupil_gets_a_code(pupil_client, world):
    assert code_from(_authorize(pupil_client, world.a, prompt="none"))
