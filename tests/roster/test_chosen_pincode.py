"""A pincode typed for one pupil: in Beheer and in *Mijn groepen*, trivial codes refused, audited
without the value (issue 11, item 9; decision 0022)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.roster import secrets
from klaspoort.roster.models import Group, Pupil, TeacherGroup
from tests.factories import (
    PASSWORD,
    GroupFactory,
    PupilFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def plain(pupil: Pupil) -> str:
    pupil.refresh_from_db()
    return secrets.decrypt(pupil.signin_secret)


@pytest.fixture
def group(school) -> Group:
    group = GroupFactory(school=school, jaargroep="6", name="Groep 6")
    for name in ("Anouk", "Bram"):
        PupilFactory(school=school, group=group, first_name=name, jaargroep="6",
                     signin_secret=secrets.encrypt("pincode:48213"))
    return group


def signin_url(group: Group) -> str:
    return reverse("roster:group_signin", kwargs={"brin6": group.school.brin6,
                                                  "group_id": group.pk})


def group_url(group: Group) -> str:
    return reverse("roster:group", kwargs={"brin6": group.school.brin6, "group_id": group.pk})


@pytest.mark.parametrize("code", ["11111", "00000", "12121", "00010", "12345", "01234",
                                  "54321", "98765", "1234", "123456", "12a45",
                                  "\uff11\uff12\uff13\uff19\uff18",
                                  "", " "])
def test_trivial_or_malformed_codes_are_refused(code):
    with pytest.raises(secrets.TrivialPincode):
        secrets.check_chosen_pincode(code)


@pytest.mark.parametrize("code", ["04217", "31415", "90210", "13579", "11223"])
def test_ordinary_codes_are_taken(code):
    assert secrets.check_chosen_pincode(code) == code


def test_a_coordinator_types_a_pincode_for_one_pupil(coordinator_client, group, school):
    anouk, bram = Pupil.objects.filter(group=group).order_by("first_name")
    page = coordinator_client.get(group_url(group)).content.decode()
    assert "Kies een pincode voor één leerling" in page
    response = coordinator_client.post(signin_url(group), {
        "action": "choose", "pupil": anouk.pk, "pincode": "31415"}, follow=True)
    assert plain(anouk) == "pincode:31415" and plain(bram) == "pincode:48213"
    assert f"{anouk.full_name} heeft de pincode die je koos." in response.content.decode()
    entry = AuditEntry.objects.get(action="roster.secret.choose")
    assert entry.school == school and entry.target == anouk.full_name
    assert "31415" not in str(entry.before) + str(entry.after) + entry.target


def test_a_trivial_code_is_refused_with_the_reason_in_dutch(coordinator_client, group):
    anouk = Pupil.objects.filter(group=group).order_by("first_name").first()
    response = coordinator_client.post(signin_url(group), {
        "action": "choose", "pupil": anouk.pk, "pincode": "12345"}, follow=True)
    assert "telt op of af" in response.content.decode()
    response = coordinator_client.post(signin_url(group), {
        "action": "choose", "pupil": anouk.pk, "pincode": "77777"}, follow=True)
    assert "minstens drie verschillende cijfers" in response.content.decode()
    assert plain(anouk) == "pincode:48213"
    assert not AuditEntry.objects.filter(action="roster.secret.choose").exists()


def test_a_pictures_group_gets_no_pincode(coordinator_client, school):
    young = GroupFactory(school=school, jaargroep="2", name="Groep 2")
    pupil = PupilFactory(school=school, group=young, jaargroep="2",
                         signin_secret=secrets.encrypt("plaatjes:3-11"))
    assert "Kies een pincode" not in coordinator_client.get(group_url(young)).content.decode()
    response = coordinator_client.post(signin_url(young), {
        "action": "choose", "pupil": pupil.pk, "pincode": "31415"}, follow=True)
    assert response.status_code == 200
    assert plain(pupil) == "plaatjes:3-11"


def test_a_pupil_of_another_group_cannot_be_given_a_code(coordinator_client, group, school):
    other = GroupFactory(school=school, jaargroep="7")
    stranger = PupilFactory(school=school, group=other, jaargroep="7",
                            signin_secret=secrets.encrypt("pincode:48213"))
    coordinator_client.post(signin_url(group), {
        "action": "choose", "pupil": stranger.pk, "pincode": "31415"})
    assert plain(stranger) == "pincode:48213"


def test_a_teacher_types_a_pincode_in_mijn_groepen(client, group, school):
    teacher = TeacherFactory(school=school, user=UserFactory(email="marieke@regenboog.example"),
                             email="marieke@regenboog.example")
    TeacherGroup.objects.create(teacher=teacher, group=group)
    assert client.login(email="marieke@regenboog.example", password=PASSWORD)
    bram = Pupil.objects.get(group=group, first_name="Bram")
    page = client.get(reverse("teacher:group", kwargs={"group_id": group.pk}))
    assert "Kies een pincode voor één leerling" in page.content.decode()
    client.post(reverse("teacher:group_signin", kwargs={"group_id": group.pk}),
                {"action": "choose", "pupil": bram.pk, "pincode": "90210"})
    assert plain(bram) == "pincode:90210"
    assert AuditEntry.objects.get(action="roster.secret.choose").actor_label == (
        "marieke@regenboog.example")
