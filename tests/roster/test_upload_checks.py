"""Uploads in Beheer (issue 10 §9): the school is checked before the body is read, the file is
checked by a background task and kept only encrypted until then, and one user cannot keep the
workers busy with a stream of files."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings
from django.urls import reverse

from klaspoort.audit.models import AuditEntry
from klaspoort.roster import services, tasks
from klaspoort.roster.models import RosterImport
from klaspoort.roster.uploads import BoundedMemoryUploadHandler
from tests.factories import CoordinatorFactory


def named(data: bytes, name: str = "leerlingen.xml") -> io.BytesIO:
    fh = io.BytesIO(data)
    fh.name = name
    return fh


def imports_url(school) -> str:
    return reverse("roster:imports", kwargs={"brin6": school.brin6})


def test_a_stranger_s_upload_is_refused_before_its_body_is_read(client, school, school_file,
                                                                  monkeypatch):
    read = []
    original = BoundedMemoryUploadHandler.receive_data_chunk

    def spy(self, raw_data, start):
        read.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(BoundedMemoryUploadHandler, "receive_data_chunk", spy)
    # A coordinator of another school, with a valid CSRF token of their own, as a browser has.
    client.handler.enforce_csrf_checks = True
    stranger = CoordinatorFactory()
    client.force_login(stranger)
    client.get(imports_url(stranger.school_memberships.get().school))
    token = client.cookies["csrftoken"].value
    for name in ("roster:imports", "roster:spreadsheet_upload"):
        response = client.post(reverse(name, kwargs={"brin6": school.brin6}),
                               {"file": named(school_file(60)),
                                "csrfmiddlewaretoken": token})
        assert response.status_code == 404
    assert read == []
    assert not RosterImport.objects.exists()


def test_the_own_coordinator_s_upload_still_needs_the_csrf_token(client, coordinator, school,
                                                                 school_file):
    client.handler.enforce_csrf_checks = True
    client.force_login(coordinator)
    response = client.post(imports_url(school), {"file": named(school_file(20))})
    assert response.status_code == 403
    assert not RosterImport.objects.exists()


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_the_file_waits_encrypted_for_the_background_check_then_is_gone(
        coordinator_client, coordinator, school, school_file, django_capture_on_commit_callbacks,
        monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.check_roster_file, "delay", queued.append)
    data = school_file(20)
    bsn = data.split(b"<bsn>")[1].split(b"</bsn>")[0]

    with django_capture_on_commit_callbacks(execute=True):
        page = coordinator_client.post(imports_url(school), {"file": named(data)},
                                       follow=True).content.decode()

    record = RosterImport.objects.get()
    assert queued == [record.pk]
    assert record.status == RosterImport.Status.RECEIVED
    assert "wordt gecontroleerd" in page
    assert bsn not in bytes(record.received_file) and b"<EDEX" not in bytes(record.received_file)
    assert record.payload is None
    assert AuditEntry.objects.filter(action="roster.upload", actor=coordinator).exists()

    tasks.check_roster_file(record.pk)

    record.refresh_from_db()
    assert record.status == RosterImport.Status.WAITING
    assert record.received_file is None
    assert bsn.decode() not in str(record.payload)
    # The same task again (a worker that died after its work) changes nothing.
    assert tasks.check_roster_file(record.pk) == RosterImport.Status.WAITING


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_htmx_asks_again_until_the_outcome_is_known(coordinator_client, school, school_file,
                                                    monkeypatch):
    monkeypatch.setattr(tasks.check_roster_file, "delay", lambda pk: None)
    response = coordinator_client.post(imports_url(school), {"file": named(school_file(20))},
                                       HTTP_HX_REQUEST="true")
    record = RosterImport.objects.get()
    again = reverse("roster:upload_result", kwargs={"brin6": school.brin6,
                                                    "import_id": record.pk})
    assert f'hx-get="{again}"' in response.content.decode()

    services.check_received_import(record.pk)
    outcome = coordinator_client.get(again, HTTP_HX_REQUEST="true").content.decode()
    assert "vannacht verwerkt" in outcome and "hx-get" not in outcome.split("import-history")[0]


def test_a_spreadsheet_is_checked_in_the_background_for_the_school_it_was_uploaded_to(
        coordinator_client, school):
    sheet = (b"soort;key;roepnaam;voorvoegsel;achternaam;jaargroep;groep\n"
             b"leerling;L1;Isa;;Mulder;1;Groep 1-2A\n")
    coordinator_client.post(reverse("roster:spreadsheet_upload", kwargs={"brin6": school.brin6}),
                            {"file": named(sheet, "invulbestand.csv")})
    record = RosterImport.objects.get()
    assert record.status == RosterImport.Status.WAITING, record.errors
    assert record.payload["school"]["brin"] == school.brin


def test_more_than_ten_uploads_in_ten_minutes_are_refused_in_dutch(coordinator_client, school):
    for _ in range(services.UPLOADS_PER_WINDOW):
        coordinator_client.post(imports_url(school), {"file": named(b"geen xml")})
    response = coordinator_client.post(imports_url(school), {"file": named(b"geen xml")})

    assert response.status_code == 400
    assert "Je hebt de afgelopen 10 minuten al 10 bestanden" in response.content.decode()
    assert RosterImport.objects.count() == services.UPLOADS_PER_WINDOW


@pytest.mark.parametrize("blob", [b"", b"k1\nnot-a-sealed-file"])
def test_a_file_that_cannot_be_read_back_fails_with_a_message(school, blob):
    record = RosterImport.objects.create(school=school, source=RosterImport.Source.UPLOAD,
                                         file_sha256="0" * 64, file_size=1,
                                         received_file=blob)
    assert services.check_received_import(record.pk).status == RosterImport.Status.FAILED
    record.refresh_from_db()
    assert record.received_file is None
    assert "opnieuw" in record.errors[0]["message"]



def test_a_nul_in_the_file_name_never_reaches_the_database(coordinator_client, school,
                                                           school_file):
    # The upload's body is left to the view (middleware.body_checked_by_view); Django's
    # multipart parser drops a NUL from a file name, so the import keeps a storable name.
    coordinator_client.post(imports_url(school),
                            {"file": named(school_file(20), "leer\x00lingen.xml")})
    assert RosterImport.objects.get().filename == "leerlingen.xml"


def test_the_xml_library_s_english_words_fold_away_under_technical_details(
        coordinator_client, school, school_file):
    broken = school_file(20).replace(b"</leerlingen>", b"</leerling>", 1)
    page = coordinator_client.post(imports_url(school), {"file": named(broken)},
                                   follow=True).content.decode()
    record = RosterImport.objects.get()
    assert record.status == RosterImport.Status.FAILED
    [error] = record.errors
    assert error["technical"] and error["technical"] not in error["message"]
    assert "<summary>Technische details (voor de helpdesk)</summary>" in page
    assert "(technische melding" not in page
