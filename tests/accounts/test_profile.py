"""*Mijn profiel*: the user's own details and the School ID of the schools they administer."""

from __future__ import annotations

from django.urls import reverse

from tests.factories import CoordinatorFactory, SchoolFactory


def test_mijn_profiel_shows_the_details_and_the_school_id_with_a_copy_button(
        coordinator_client, coordinator, school):
    coordinator.display_name = "Fatima el Idrissi"
    coordinator.save()
    page = coordinator_client.get(reverse("profile")).content.decode()
    assert "Mijn profiel" in page
    assert "Fatima el Idrissi" in page and coordinator.email in page
    assert f">{school.public_id}</code>" in page
    assert "iPad" in page
    assert 'data-copy="school-id-' in page and "Kopiëren" in page


def test_only_the_own_schools_ids_are_shown(coordinator_client, coordinator, school):
    second = SchoolFactory(name="OBS Het Kompas")
    coordinator.school_memberships.create(school=second)
    other = SchoolFactory(name="De Wereldwijzer")
    page = coordinator_client.get(reverse("profile")).content.decode()
    assert school.public_id in page and second.public_id in page
    assert other.public_id not in page and "De Wereldwijzer" not in page


def test_the_header_links_to_mijn_profiel(coordinator_client, school):
    page = coordinator_client.get(reverse("roster:groups", kwargs={"brin6": school.brin6}))
    assert f'href="{reverse("profile")}"' in page.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_without_schools_sees_no_school_id(client, db):
    user = CoordinatorFactory()
    user.school_memberships.all().delete()
    client.force_login(user)
    page = client.get(reverse("profile")).content.decode()
    assert "Mijn profiel" in page and "school-id-" not in page
