"""Removing an ICT coordinator on *ICT-coördinatoren*: asked first, never the last one, audited
(issue 11, item 9)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.schools import services as school_services
from klaspoort.schools.models import SchoolMembership
from tests.factories import CoordinatorFactory, SchoolFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def remove_url(school, user) -> str:
    return reverse("roster:coordinator_remove", kwargs={"brin6": school.brin6, "user_id": user.pk})


def coordinators_url(school) -> str:
    return reverse("roster:coordinators", kwargs={"brin6": school.brin6})


def is_coordinator(user, school) -> bool:
    return SchoolMembership.objects.filter(user=user, school=school).exists()


@pytest.fixture
def colleague(school):
    return CoordinatorFactory(school=school, email="collega@regenboog.example")


def test_the_page_asks_first_saying_what_follows(coordinator_client, school, colleague):
    listing = coordinator_client.get(coordinators_url(school)).content.decode()
    assert remove_url(school, colleague) in listing
    page = coordinator_client.get(remove_url(school, colleague))
    assert page.status_code == 200
    text = page.content.decode()
    assert "collega@regenboog.example verwijderen?" in text
    assert "kan Basisschool De Regenboog dan niet meer beheren" in text
    assert "Het account zelf blijft bestaan" in text
    assert is_coordinator(colleague, school)  # asking changed nothing


def test_a_coordinator_removes_a_colleague_audited(coordinator_client, school, colleague,
                                                    coordinator):
    response = coordinator_client.post(remove_url(school, colleague), follow=True)
    assert "collega@regenboog.example is geen ICT-coördinator van" in response.content.decode()
    assert not is_coordinator(colleague, school)
    assert colleague.__class__.objects.filter(pk=colleague.pk, is_active=True).exists()
    entry = AuditEntry.objects.get(action="accounts.coordinator.remove")
    assert (entry.school, entry.actor, entry.before) == (
        school, coordinator, {"email": "collega@regenboog.example"})
    log = coordinator_client.get(reverse("schools:log", kwargs={"brin6": school.brin6}))
    assert "ICT-coördinator verwijderd" in log.content.decode()


def test_the_removed_coordinator_loses_beheer_at_once(client, school, colleague, coordinator):
    client.force_login(colleague)
    assert client.get(coordinators_url(school)).status_code == 200
    school_services.remove_coordinator(school=school, user=colleague, actor=coordinator)
    assert client.get(coordinators_url(school)).status_code == 404


def test_the_last_coordinator_cannot_be_removed(coordinator_client, school, coordinator):
    assert remove_url(school, coordinator) not in coordinator_client.get(
        coordinators_url(school)).content.decode()
    response = coordinator_client.post(remove_url(school, coordinator), follow=True)
    assert "de laatste ICT-coördinator van deze school" in response.content.decode()
    assert is_coordinator(coordinator, school)
    assert not AuditEntry.objects.filter(action="accounts.coordinator.remove").exists()


def test_an_invited_colleague_does_not_count_as_the_one_who_stays(coordinator_client, school,
                                                                  coordinator, colleague):
    colleague.set_unusable_password()
    colleague.save()
    coordinator_client.post(remove_url(school, coordinator))
    assert is_coordinator(coordinator, school)
    # The pending invitation itself can be withdrawn.
    coordinator_client.post(remove_url(school, colleague))
    assert not is_coordinator(colleague, school)


def test_removing_yourself_leaves_the_school(coordinator_client, school, coordinator, colleague):
    page = coordinator_client.get(remove_url(school, coordinator)).content.decode()
    assert "Je verwijdert jezelf" in page
    response = coordinator_client.post(remove_url(school, coordinator))
    assert response.status_code == 302
    assert not is_coordinator(coordinator, school)
    assert is_coordinator(colleague, school)


def test_a_las_ict_role_is_named_in_the_question(coordinator_client, school, colleague):
    TeacherFactory(school=school, user=colleague, email=colleague.email, roles=["ICT"])
    page = coordinator_client.get(remove_url(school, colleague)).content.decode()
    assert "bij de volgende import wordt deze persoon weer coördinator" in page


def test_another_schools_coordinator_is_404(coordinator_client, school):
    stranger = CoordinatorFactory(school=SchoolFactory())
    CoordinatorFactory(school=school)
    assert coordinator_client.get(remove_url(school, stranger)).status_code == 404
    assert coordinator_client.post(remove_url(school, stranger)).status_code == 404
    assert SchoolMembership.objects.filter(user=stranger).exists()


def test_an_invitation_from_before_the_removal_no_longer_brings_them_back(
        client, school, coordinator, colleague, monkeypatch):
    old_link = reverse("invitation",
                       kwargs={"token": school_services.invitation_token(colleague, school)})
    school_services.remove_coordinator(school=school, user=colleague, actor=coordinator)
    client.force_login(colleague)
    assert client.get(old_link).status_code == 400
    client.post(old_link)
    assert not is_coordinator(colleague, school)
    # Invited again afterwards: that invitation works.
    later = time.time() + 5
    monkeypatch.setattr(school_services.time, "time", lambda: later)
    new_link = reverse("invitation",
                       kwargs={"token": school_services.invitation_token(colleague, school)})
    assert client.get(new_link).status_code == 200
    client.post(new_link)
    assert is_coordinator(colleague, school)
