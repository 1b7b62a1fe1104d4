"""Pupils' sign-in secrets: encrypted at rest, issued at import, changed in *Groepen*, audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.roster import secrets, services
from klaspoort.roster.edexml import parse_edexml
from klaspoort.roster.models import Group, Pupil, RosterEvent
from tests.factories import CoordinatorFactory, GroupFactory, PupilFactory, SchoolFactory


def signin_url(group: Group) -> str:
    return reverse("roster:group_signin", kwargs={"brin6": group.school.brin6,
                                                  "group_id": group.pk})


def plain(pupil: Pupil) -> str:
    pupil.refresh_from_db()
    return secrets.decrypt(pupil.signin_secret)


def raw_column(pupil: Pupil) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT signin_secret FROM roster_pupil WHERE id = %s", [pupil.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def imported(school, school_file):
    services.apply_roster(school, parse_edexml(school_file(60)))
    return school


@pytest.fixture
def group_with_pupils(school):
    group = GroupFactory(school=school, jaargroep="6", name="Groep 6")
    pupils = [PupilFactory(school=school, group=group, first_name=name, jaargroep="6")
              for name in ("Anouk", "Bram", "Chaima")]
    for pupil in pupils:
        pupil.signin_secret = secrets.encrypt(secrets.new_secret(secrets.PINCODE))
        pupil.save()
    return group, pupils


# ---------------------------------------------------------------------------------------------
# Encryption and the secrets' form
# ---------------------------------------------------------------------------------------------
def test_the_database_holds_only_the_encrypted_secret(imported):
    for pupil in Pupil.objects.filter(school=imported)[:20]:
        secret = plain(pupil)
        value = secret.partition(":")[2]
        column = raw_column(pupil)
        assert column.startswith("v2:")
        assert secret not in column and value not in column


def test_the_same_secret_encrypts_differently_each_time_and_decrypts_back():
    first, second = secrets.encrypt("pincode:04217"), secrets.encrypt("pincode:04217")
    assert first != second
    assert secrets.decrypt(first) == secrets.decrypt(second) == "pincode:04217"


def test_an_altered_or_foreign_token_does_not_decrypt():
    token = secrets.encrypt("pincode:12345")
    altered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        secrets.decrypt(altered)
    with pytest.raises(ValueError):
        secrets.decrypt("pincode:12345")
    assert secrets.reveal(altered) is None


def test_another_key_cannot_read_the_secrets():
    token = secrets.encrypt("plaatjes:1-2")
    with override_settings(KLASPOORT_SECRETS_KEY="A" * 43), pytest.raises(ValueError):
        secrets.decrypt(token)


@override_settings(KLASPOORT_SECRETS_KEY="", DEBUG=False, ALLOWED_HOSTS=["klaspoort.nl"])
def test_production_refuses_to_run_without_its_own_key():
    from django.core.exceptions import ImproperlyConfigured
    with pytest.raises(ImproperlyConfigured):
        secrets.encrypt("pincode:12345")


def test_pictures_are_two_of_sixteen_and_a_pincode_five_digits():
    assert len(secrets.PICTURE_NAMES) == len(set(secrets.PICTURE_NAMES)) == 16
    for _round in range(50):
        method, _sep, value = secrets.new_secret(secrets.PICTURES).partition(":")
        picks = [int(n) for n in value.split("-")]
        assert method == "plaatjes" and len(picks) == 2 and all(0 <= n < 16 for n in picks)
        method, _sep, code = secrets.new_secret(secrets.PINCODE).partition(":")
        assert method == "pincode" and len(code) == 5 and code.isdigit()


@pytest.mark.parametrize(("jaargroep", "method"), [
    ("0", "plaatjes"), ("1", "plaatjes"), ("3", "plaatjes"), ("C", "plaatjes"),
    ("4", "pincode"), ("8", "pincode"), ("", "plaatjes")])
def test_young_groups_sign_in_with_pictures_older_ones_with_a_pincode(jaargroep, method):
    assert secrets.default_method(jaargroep) == method


# ---------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------
def test_every_new_pupil_gets_a_secret_in_their_groups_method(imported):
    pupils = list(Pupil.objects.filter(school=imported).select_related("group"))
    assert pupils
    for pupil in pupils:
        method = plain(pupil).partition(":")[0]
        assert method == secrets.method_of(pupil.group, pupil.jaargroep)
    methods = {plain(p).partition(":")[0] for p in pupils}
    assert methods == {"plaatjes", "pincode"}


def test_the_same_import_twice_keeps_every_secret(school, school_file):
    roster = parse_edexml(school_file(60))
    services.apply_roster(school, roster)
    before = dict(Pupil.objects.filter(school=school).values_list("pk", "signin_secret"))
    services.apply_roster(school, roster)
    after = dict(Pupil.objects.filter(school=school).values_list("pk", "signin_secret"))
    assert before == after


def test_the_change_log_never_holds_a_secret(imported):
    for event in RosterEvent.objects.filter(school=imported):
        assert "signin_secret" not in str(event.fields)


# ---------------------------------------------------------------------------------------------
# Changing secrets in Groepen
# ---------------------------------------------------------------------------------------------
def assert_audit_without_secrets(entry: AuditEntry, pupils: list[Pupil]) -> None:
    text = f"{entry.target} {entry.before} {entry.after}"
    for pupil in pupils:
        pupil.refresh_from_db()
        value = secrets.decrypt(pupil.signin_secret).partition(":")[2]
        assert value not in text.replace(str(len(pupils)), "")
        assert pupil.signin_secret not in text


def test_the_coordinator_changes_one_pupils_secret(coordinator_client, coordinator,
                                                   group_with_pupils):
    group, (anouk, bram, chaima) = group_with_pupils
    before = {p.pk: plain(p) for p in (anouk, bram, chaima)}
    response = coordinator_client.post(signin_url(group), {"action": "pupil", "pupil": bram.pk})
    assert response.status_code == 302
    assert plain(bram) != before[bram.pk]
    assert plain(bram).startswith("pincode:")
    assert plain(anouk) == before[anouk.pk] and plain(chaima) == before[chaima.pk]
    entry = AuditEntry.objects.get(action="roster.secret.change")
    assert entry.actor == coordinator and entry.target == bram.full_name
    assert_audit_without_secrets(entry, [bram])


def test_the_coordinator_regenerates_the_whole_group(coordinator_client, group_with_pupils):
    group, pupils = group_with_pupils
    before = {p.pk: plain(p) for p in pupils}
    coordinator_client.post(signin_url(group), {"action": "group"})
    assert all(plain(p) != before[p.pk] for p in pupils)
    entry = AuditEntry.objects.get(action="roster.secret.regenerate")
    assert entry.after == {"method": "pincode", "pupils": 3}
    assert_audit_without_secrets(entry, pupils)


def test_switching_the_method_gives_secrets_in_the_new_form(coordinator_client,
                                                             group_with_pupils):
    group, pupils = group_with_pupils
    coordinator_client.post(signin_url(group), {"action": "method", "method": "plaatjes"})
    group.refresh_from_db()
    assert group.signin_method == "plaatjes"
    assert all(plain(p).startswith("plaatjes:") for p in pupils)
    entry = AuditEntry.objects.get(action="roster.secret.method")
    assert entry.before == {"method": "pincode"}
    assert entry.after == {"method": "plaatjes", "pupils": 3}
    assert_audit_without_secrets(entry, pupils)
    page = coordinator_client.get(reverse("roster:group", kwargs={
        "brin6": group.school.brin6, "group_id": group.pk})).content.decode()
    assert "Overstappen op pincode" in page


@pytest.mark.parametrize("data", [
    {}, {"action": "method", "method": "wachtwoord"}, {"action": "pupil", "pupil": "x"},
    {"action": "pupil", "pupil": "9" * 40}, {"action": "nonsense"}])
def test_bad_input_changes_nothing(coordinator_client, group_with_pupils, data):
    group, pupils = group_with_pupils
    before = {p.pk: plain(p) for p in pupils}
    response = coordinator_client.post(signin_url(group), data)
    assert response.status_code == 302
    assert {p.pk: plain(p) for p in pupils} == before
    assert not AuditEntry.objects.filter(action__startswith="roster.secret").exists()


def test_a_pupil_of_another_group_or_school_cannot_be_changed_here(
        coordinator_client, school, group_with_pupils):
    group, _pupils = group_with_pupils
    elsewhere = PupilFactory(school=school, group=GroupFactory(school=school))
    stranger = PupilFactory(school=SchoolFactory())
    for pupil in (elsewhere, stranger):
        pupil.signin_secret = secrets.encrypt(secrets.new_secret(secrets.PINCODE))
        pupil.save()
        before = plain(pupil)
        coordinator_client.post(signin_url(group), {"action": "pupil", "pupil": pupil.pk})
        assert plain(pupil) == before


def test_the_group_panel_shows_each_pupils_secret(coordinator_client, group_with_pupils):
    group, pupils = group_with_pupils
    page = coordinator_client.get(reverse("roster:group", kwargs={
        "brin6": group.school.brin6, "group_id": group.pk})).content.decode()
    for pupil in pupils:
        assert plain(pupil).partition(":")[2] in page
    assert "Printversie" in page


def test_a_coordinator_of_another_school_gets_404_and_changes_nothing(client, group_with_pupils):
    group, pupils = group_with_pupils
    client.force_login(CoordinatorFactory())
    before = {p.pk: plain(p) for p in pupils}
    addresses: list[Any] = [signin_url(group), reverse("signin:print_cards", kwargs={
        "brin6": group.school.brin6, "group_id": group.pk})]
    for address in addresses:
        assert client.get(address).status_code == 404
        for data in ({"action": "group"}, {"action": "method", "method": "plaatjes"},
                     {"action": "pupil", "pupil": pupils[0].pk}):
            assert client.post(address, data).status_code == 404
    assert {p.pk: plain(p) for p in pupils} == before


def test_the_stranger_walk_covers_the_new_pages():
    from tests.roster.test_pages import beheer_patterns
    names = {name for name, _params in beheer_patterns()}
    assert {"roster:group_signin", "signin:print_cards"} <= names


def test_the_logboek_names_the_change_in_dutch(coordinator_client, group_with_pupils):
    group, _pupils = group_with_pupils
    coordinator_client.post(signin_url(group), {"action": "method", "method": "plaatjes"})
    page = coordinator_client.get(reverse("schools:log", kwargs={"brin6": group.school.brin6}))
    assert "Inlogmethode van groep gewijzigd" in page.content.decode()
