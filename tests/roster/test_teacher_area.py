"""The teacher area (/leerkracht/): a teacher sees and changes the secrets of their own groups.

A teacher of group A tries every teacher URL of group B (of their own school and of another
school) and gets 404 without changing anything — the stranger walk of *Beheer*, for teachers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from klaspoort.audit.models import AuditEntry
from klaspoort.roster import secrets
from klaspoort.roster.models import Group, Pupil, TeacherGroup
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def pupils_in(group: Group, *names: str) -> list[Pupil]:
    pupils = [PupilFactory(school=group.school, group=group, first_name=name,
                           jaargroep=group.jaargroep) for name in names]
    for pupil in pupils:
        pupil.signin_secret = secrets.encrypt(secrets.new_secret(secrets.PINCODE))
        pupil.save(update_fields=["signin_secret"])
    return pupils


def plain(pupil: Pupil) -> str:
    pupil.refresh_from_db()
    return secrets.decrypt(pupil.signin_secret)


@pytest.fixture
def classes(school):
    """Marieke teaches group A (groep 6) and a cluster; group B is a colleague's."""
    a = GroupFactory(school=school, name="Groep 6a", jaargroep="6")
    b = GroupFactory(school=school, name="Groep 7b", jaargroep="7")
    cluster = GroupFactory(school=school, name="Plusklas", jaargroep="",
                           kind=Group.Kind.CLUSTER)
    teacher = TeacherFactory(school=school, user=UserFactory(email="marieke@regenboog.example"),
                             email="marieke@regenboog.example")
    TeacherGroup.objects.create(teacher=teacher, group=a)
    TeacherGroup.objects.create(teacher=teacher, group=cluster)
    TeacherGroup.objects.create(teacher=TeacherFactory(school=school), group=b)
    return {"a": a, "b": b, "cluster": cluster, "teacher": teacher,
            "a_pupils": pupils_in(a, "Anouk", "Bram"), "b_pupils": pupils_in(b, "Daan", "Eva")}


@pytest.fixture
def teacher_client(client, classes):
    assert client.login(email="marieke@regenboog.example", password=PASSWORD)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # new text; Dutch comes with the .po
    return client


def teacher_patterns() -> Iterator[tuple[str, list[str]]]:
    """(view name, URL parameters) of every page of the teacher area (/leerkracht/)."""

    def walk(patterns: list[Any], namespace: str, params: list[str]) -> Iterator[Any]:
        for entry in patterns:
            found = [*params, *entry.pattern.converters]
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, entry.namespace or namespace, found)
            elif isinstance(entry, URLPattern) and (
                    namespace == "teacher"
                    # The teacher's Resultaten live in the results app, in the same area.
                    or (namespace == "results" and str(entry.name).startswith("teacher_"))):
                yield f"{namespace}:{entry.name}", found

    yield from walk(get_resolver().url_patterns, "", [])


def group_urls(group: Group) -> list[str]:
    urls = []
    for name, params in teacher_patterns():
        if "group_id" in params:
            assert set(params) == {"group_id"}, f"{name}: teach this test its parameters"
            urls.append(reverse(name, kwargs={"group_id": group.pk}))
    return urls


def test_the_walk_finds_every_teacher_group_page():
    assert {name for name, _params in teacher_patterns()} >= {
        "teacher:home", "teacher:group", "teacher:group_signin", "teacher:print_cards",
        "results:teacher_index", "results:teacher_results", "results:teacher_results_csv"}


def test_after_sign_in_a_teacher_goes_to_mijn_groepen_with_only_their_groups(teacher_client,
                                                                              classes):
    response = teacher_client.get(reverse("schools:home"))
    assert response.status_code == 302 and response["Location"] == reverse("teacher:home")
    page = teacher_client.get(reverse("teacher:home")).content.decode()
    assert "My groups" in page
    assert "Groep 6a" in page and "Plusklas" in page
    assert "Groep 7b" not in page
    assert reverse("teacher:group", kwargs={"group_id": classes["a"].pk}) in page


def test_the_group_page_shows_each_pupils_secret_and_the_print_version(teacher_client,
                                                                       classes):
    page = teacher_client.get(reverse("teacher:group", kwargs={"group_id": classes["a"].pk})
                              ).content.decode()
    for pupil in classes["a_pupils"]:
        assert pupil.full_name in page or pupil.sort_name in page
        assert plain(pupil).partition(":")[2] in page
    assert "Daan" not in page
    assert reverse("teacher:print_cards", kwargs={"group_id": classes["a"].pk}) in page
    assert reverse("teacher:group_signin", kwargs={"group_id": classes["a"].pk}) in page
    assert f"/beheer/{classes['a'].school.brin6}/" not in page  # no link into Beheer

    cards = teacher_client.get(reverse("teacher:print_cards",
                                       kwargs={"group_id": classes["a"].pk})).content.decode()
    assert cards.count('class="pupil-card"') == 2
    assert plain(classes["a_pupils"][0]).partition(":")[2] in cards
    assert f"/leerling/{classes['a'].school.pupil_page_ref}/" in cards


def test_a_teacher_changes_one_secret_regenerates_and_switches_audited(teacher_client, classes,
                                                                       school):
    anouk, bram = classes["a_pupils"]
    url = reverse("teacher:group_signin", kwargs={"group_id": classes["a"].pk})
    before_anouk, before_bram = plain(anouk), plain(bram)
    response = teacher_client.post(url, {"action": "pupil", "pupil": anouk.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("teacher:group", kwargs={"group_id": classes["a"].pk})
    assert plain(anouk) != before_anouk and plain(bram) == before_bram
    entry = AuditEntry.objects.get(action="roster.secret.change")
    assert entry.school == school and entry.actor_label == "marieke@regenboog.example"

    teacher_client.post(url, {"action": "group"})
    assert plain(bram) != before_bram
    assert AuditEntry.objects.filter(action="roster.secret.regenerate", school=school).exists()

    teacher_client.post(url, {"action": "method", "method": secrets.PICTURES})
    assert plain(anouk).startswith("plaatjes:")
    assert AuditEntry.objects.filter(action="roster.secret.method", school=school).exists()


def test_a_pupil_of_another_group_cannot_be_changed_through_the_own_group(teacher_client,
                                                                          classes):
    daan = classes["b_pupils"][0]
    before = plain(daan)
    teacher_client.post(reverse("teacher:group_signin", kwargs={"group_id": classes["a"].pk}),
                        {"action": "pupil", "pupil": daan.pk})
    assert plain(daan) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_teacher_of_group_a_gets_404_on_every_teacher_url_of_group_b(teacher_client, classes,
                                                                       method):
    other_school = GroupFactory(school=SchoolFactory(), name="Groep elders")
    elsewhere = pupils_in(other_school, "Fenna")
    before = {p.pk: plain(p) for p in [*classes["b_pupils"], *elsewhere]}
    audit_before = AuditEntry.objects.count()
    for group in (classes["b"], other_school):
        for address in group_urls(group):
            for data in ({}, {"action": "group"},
                         {"action": "method", "method": secrets.PICTURES}):
                response = getattr(teacher_client, method)(address, data)
                assert response.status_code == 404, address
                assert group.name not in response.content.decode()
    assert {p.pk: plain(p) for p in [*classes["b_pupils"], *elsewhere]} == before
    assert AuditEntry.objects.count() == audit_before


def test_a_cluster_shows_its_pupils_but_has_no_secrets_or_cards(teacher_client, classes):
    cluster = classes["cluster"]
    assert teacher_client.get(reverse("teacher:group", kwargs={"group_id": cluster.pk})
                              ).status_code == 200
    assert teacher_client.get(reverse("teacher:print_cards", kwargs={"group_id": cluster.pk})
                              ).status_code == 404
    assert teacher_client.post(reverse("teacher:group_signin", kwargs={"group_id": cluster.pk}),
                               {"action": "group"}).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, classes):
    login = reverse("accounts:login")
    for address in [reverse("teacher:home"), *group_urls(classes["a"])]:
        response = client.get(address)
        assert response.status_code == 302 and response["Location"].startswith(login)


def test_a_coordinator_who_teaches_nothing_gets_404_and_keeps_beheer(coordinator_client,
                                                                     school, classes):
    assert coordinator_client.get(reverse("teacher:home")).status_code == 404
    for address in group_urls(classes["a"]):
        assert coordinator_client.get(address).status_code == 404
    assert coordinator_client.get(reverse("schools:home"))["Location"] == reverse(
        "schools:data", kwargs={"brin6": school.brin6})


def test_a_coordinator_who_also_teaches_keeps_the_school_and_gets_a_mijn_groepen_link(
        client, school, classes):
    coordinator = CoordinatorFactory(school=school)
    TeacherGroup.objects.create(teacher=TeacherFactory(school=school, user=coordinator),
                                group=classes["b"])
    client.force_login(coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert client.get(reverse("schools:home"))["Location"] == reverse(
        "schools:data", kwargs={"brin6": school.brin6})
    page = client.get(reverse("schools:data", kwargs={"brin6": school.brin6})).content.decode()
    assert f'href="{reverse("teacher:home")}"' in page and "My groups" in page
    groups = client.get(reverse("teacher:home")).content.decode()
    assert "Groep 7b" in groups and "Groep 6a" not in groups


def test_a_teacher_who_left_the_roster_gets_404(teacher_client, classes):
    classes["teacher"].active = False
    classes["teacher"].save()
    assert teacher_client.get(reverse("teacher:home")).status_code == 404
    assert teacher_client.get(reverse("schools:home")).status_code == 200  # "no school" page


def test_the_second_factor_step_comes_first(teacher_client, classes, school):
    school.require_second_factor = True
    school.save()
    response = teacher_client.get(reverse("teacher:home"))
    assert response["Location"].startswith(reverse("accounts:second_factor_setup"))
    TOTPDevice.objects.create(user=classes["teacher"].user, name="app", confirmed=True)
    response = teacher_client.get(reverse("teacher:group", kwargs={"group_id": classes["a"].pk}))
    assert response["Location"].startswith(reverse("accounts:second_factor_code"))


def test_a_child_who_joined_a_licensed_group_shows_until_the_teacher_marks_it_done(
        teacher_client, classes, school):
    from klaspoort.licences.models import GroupLicence, JoinNotice
    from tests.licences.factories import ContractFactory

    for key in ("a", "b"):
        GroupLicence.objects.create(contract=ContractFactory(school=school), group=classes[key])
    newcomer = PupilFactory(school=school, group=classes["a"], first_name="Noor")
    elsewhere = PupilFactory(school=school, group=classes["b"], first_name="Sem")
    from klaspoort.licences.services import notice_joiners
    assert notice_joiners(school, [newcomer.pk, elsewhere.pk]) == 2

    page = teacher_client.get(reverse("teacher:home")).content.decode()
    assert "Noor" in page and "Start the running lesson week" in page
    assert "Sem" not in page  # a colleague's group
    other = JoinNotice.objects.get(pupil=elsewhere)
    assert teacher_client.post(reverse("teacher:dismiss_notice",
                                       kwargs={"notice_id": other.pk})).status_code == 404
    mine = JoinNotice.objects.get(pupil=newcomer)
    teacher_client.post(reverse("teacher:dismiss_notice", kwargs={"notice_id": mine.pk}))
    assert "Noor" not in teacher_client.get(reverse("teacher:home")).content.decode()
    other.refresh_from_db()
    assert other.dismissed_at is None
