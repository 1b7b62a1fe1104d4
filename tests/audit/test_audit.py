"""The audit trail: written by changes, never changed itself, shown per school on *Logboek*."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from klaspoort.audit import services
from klaspoort.audit.models import AuditAction, AuditEntry, AuditEntryImmutable
from klaspoort.audit.selectors import entries_for_school
from klaspoort.roster.models import RosterImport
from tests.factories import CoordinatorFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


def log_url(school) -> str:
    return reverse("schools:log", kwargs={"brin6": school.brin6})


def test_record_keeps_who_what_where_before_after_and_address(rf, school, coordinator):
    request = rf.post("/", REMOTE_ADDR="145.10.20.30")
    entry = services.record(actor=coordinator, school=school, action=AuditAction.SCHOOLS_IP_ADD,
                            target="145.10.20.0/24", before={"a": 1}, after={"a": 2},
                            request=request)
    entry.refresh_from_db()
    assert (entry.actor, entry.actor_label, entry.school) == (coordinator, coordinator.email,
                                                              school)
    assert (entry.before, entry.after, entry.ip_address) == ({"a": 1}, {"a": 2}, "145.10.20.30")
    assert entry.created_at is not None


def test_the_actor_label_survives_the_deleted_account(school):
    user = UserFactory(email="weg@school.example")
    entry = services.record(actor=user, school=school, action=AuditAction.ROSTER_UPLOAD,
                            target="x.xml")
    get_user_model().objects.filter(pk=user.pk).delete()
    entry.refresh_from_db()
    assert entry.actor is None
    assert entry.actor_label == "weg@school.example"


def test_entries_cannot_be_changed_or_deleted(school, coordinator):
    entry = services.record(actor=coordinator, school=school, action=AuditAction.ROSTER_UPLOAD,
                            target="x.xml", after={"status": "received"})
    entry.target = "y.xml"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(target="z.xml")
    with pytest.raises(AuditEntryImmutable):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).target == "x.xml"


def test_the_admin_is_read_only_for_operators(client, school, coordinator):
    entry = services.record(actor=coordinator, school=school, action=AuditAction.ROSTER_UPLOAD,
                            target="x.xml")
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    listing = client.get(reverse("admin:audit_auditentry_changelist"))
    assert listing.status_code == 200
    assert "x.xml" in listing.content.decode()
    change_url = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.post(change_url, {"target": "y.xml"}).status_code == 403
    delete_url = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).target == "x.xml"


def test_the_log_shows_only_the_own_schools_entries(coordinator_client, school, coordinator):
    other = SchoolFactory()
    services.record(actor=coordinator, school=school, action=AuditAction.SCHOOLS_IP_ADD,
                    target="145.10.20.0/24", after={"network": "145.10.20.0/24"})
    services.record(actor=coordinator, school=other, action=AuditAction.SCHOOLS_IP_ADD,
                    target="145.99.0.0/24")
    services.record(actor=None, school=None, action=AuditAction.SCHOOLS_IP_ADD,
                    target="145.98.0.0/24")
    assert list(entries_for_school(school).values_list("target", flat=True)) == [
        "145.10.20.0/24"]
    body = coordinator_client.get(log_url(school)).content.decode()
    assert "145.10.20.0/24" in body
    assert "IP-adres toegevoegd" in body
    assert "adres: 145.10.20.0/24" in body
    assert coordinator.email in body
    assert "145.99.0.0/24" not in body
    assert "145.98.0.0/24" not in body


def test_the_log_is_paginated_by_50(coordinator_client, school, coordinator):
    for number in range(51):
        services.record(actor=coordinator, school=school, action=AuditAction.ROSTER_UPLOAD,
                        target=f"bestand-{number:02d}.xml")
    first = coordinator_client.get(log_url(school)).content.decode()
    assert "bestand-50.xml" in first
    assert "bestand-00.xml" not in first
    assert "Pagina 1 van 2" in first
    second = coordinator_client.get(log_url(school), {"pagina": 2}).content.decode()
    assert "bestand-00.xml" in second


def test_a_stranger_gets_404_on_the_log(client, school):
    client.force_login(CoordinatorFactory())
    assert client.get(log_url(school)).status_code == 404


def test_a_roster_upload_is_audited(coordinator_client, school, coordinator, school_file):
    response = coordinator_client.post(
        reverse("roster:imports", kwargs={"brin6": school.brin6}),
        {"file": SimpleUploadedFile("regenboog.xml", school_file(10))},
        REMOTE_ADDR="145.10.20.30")
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.ROSTER_UPLOAD)
    assert (entry.actor, entry.school, entry.target) == (coordinator, school, "regenboog.xml")
    record = RosterImport.objects.get(school=school)
    # Audited as it arrived, before the background check gave it its outcome.
    assert entry.after == {"status": "received", "file_sha256": record.file_sha256}
    assert record.status == RosterImport.Status.WAITING
    assert entry.ip_address == "145.10.20.30"
    body = coordinator_client.get(log_url(school)).content.decode()
    assert "regenboog.xml" in body


def test_deleting_a_school_keeps_its_entries(school, coordinator):
    entry = services.record(actor=coordinator, school=school, action=AuditAction.ROSTER_UPLOAD,
                            target="x.xml")
    school.delete()
    entry.refresh_from_db()
    assert entry.school is None
    assert entry.target == "x.xml"
