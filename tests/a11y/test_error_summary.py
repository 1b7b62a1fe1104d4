"""After a refused form the page opens on an error summary that links to each field (WCAG
3.3.1): the staff forms outside Beheer. Focus itself is checked in a browser in
tests/a11y/test_browser_a11y.py; here each page has the summary and keeps what was typed."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory


def summary_links(page: str) -> list[str]:
    start = page.index('id="error-summary"')
    block = page[start:page.index("</div>", start)]
    return [part.split('"')[0] for part in block.split('href="#')[1:]]


@pytest.mark.django_db
def test_a_refused_reset_request_has_a_summary_linking_to_the_address(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "geen-adres"})
    page = response.content.decode()
    assert summary_links(page) == ["id_email"]
    assert 'autofocus' in page[page.index('id="error-summary"') - 80:][:200]
    assert 'value="geen-adres"' in page


@pytest.mark.django_db
def test_a_refused_new_password_has_a_summary_linking_to_the_field(
        client, django_capture_on_commit_callbacks):
    user = UserFactory(email="bekend@regenboog.example")
    # Mail leaves after commit: the reset link is read from the outbox as production fills it.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": user.email})
    body = mail.outbox[0].body
    path = body[body.index("/accounts/wachtwoord-herstellen/"):].split()[0]
    form = client.get(path, follow=True)
    response = client.post(form.redirect_chain[-1][0],
                           {"new_password1": "wilgenboomschool", "new_password2": "anders"})
    page = response.content.decode()
    assert summary_links(page) == ["id_new_password2"]
    assert "Er is iets niet goed" in page


@pytest.mark.django_db
def test_a_page_without_errors_has_no_summary(client):
    page = client.get(reverse("accounts:password_reset")).content.decode()
    assert 'id="error-summary"' not in page
