import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

# Mail leaves after commit: each request that mails runs inside
# django_capture_on_commit_callbacks(execute=True), which runs what a commit would run (and
# nothing a rollback dropped), so the outbox is read as production fills it.


def test_new_hashes_are_argon2id_with_owasp_parameters():
    encoded = make_password("Zonnebloem47")
    assert encoded.startswith("argon2$argon2id$")
    assert "m=19456,t=2,p=1" in encoded


@pytest.mark.django_db
def test_reset_answers_the_same_for_known_and_unknown_addresses(
        client, django_capture_on_commit_callbacks):
    UserFactory(email="bekend@regenboog.example")
    url = reverse("accounts:password_reset")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": "bekend@regenboog.example"}, follow=True)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].alternatives
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(url, {"email": "onbekend@regenboog.example"}, follow=True)
    assert len(mail.outbox) == 1  # nothing sent for the unknown address
    assert known.redirect_chain == unknown.redirect_chain
    assert [t.name for t in known.templates] == [t.name for t in unknown.templates]
    assert "Kijk in je e-mail" in unknown.content.decode()


@pytest.mark.django_db
def test_reset_link_sets_a_new_password(client, django_capture_on_commit_callbacks):
    user = UserFactory(email="bekend@regenboog.example")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": user.email})
    body = mail.outbox[0].body
    path = body[body.index("/accounts/wachtwoord-herstellen/"):].split()[0]
    form = client.get(path, follow=True)
    response = client.post(form.redirect_chain[-1][0],
                           {"new_password1": "Nieuwjaar2026", "new_password2": "Nieuwjaar2026"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Nieuwjaar2026")
