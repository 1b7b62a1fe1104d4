"""The password forms say *je*: Django's own Dutch help text says *u* (issue 11, item 7)."""

from __future__ import annotations

import pytest
from django.core import mail

from klaspoort.schools import services as school_services
from tests.accounts.test_invitations import _link, _set_password

pytestmark = pytest.mark.django_db


def test_the_activation_page_states_the_rules_with_je(client, school,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the invitation leaves on commit
        school_services.invite_coordinator(school, "nieuw@regenboog.example")
    link = _link(mail.outbox[0])
    page = client.get(link).content.decode()
    assert "Minstens 8 tekens, met letters én cijfers" in page
    assert "Uw " not in page and " uw " not in page
    refused = _set_password(client, link, "kort1").content.decode()
    assert "Dit wachtwoord is te kort: gebruik minstens 8 tekens." in refused


def test_the_password_reset_page_states_the_rules_with_je(client):
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from tests.factories import UserFactory

    user = UserFactory()
    address = reverse("accounts:password_reset_confirm", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user)})
    page = client.get(address, follow=True).content.decode()
    assert "Minstens 8 tekens, met letters én cijfers" in page
    assert "Uw " not in page and " uw " not in page
