"""The LAS push API (/api/las/v1/, issue 14 item 3): a pupil administration sends the roster
of a school that switched it on; it takes the upload's path and the nightly run applies it.
And `klaspoort las-token`."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from klaspoort.audit.models import AuditAction, AuditEntry
from klaspoort.exchange import services
from klaspoort.exchange.models import LasApiToken
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import LasSystem, Pupil, RosterCoupling, RosterImport
from tests.factories import CoordinatorFactory, PupilFactory, SchoolFactory

pytestmark = pytest.mark.django_db

URL = "/api/las/v1/roster"
REAL_UWLR = (Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real-rosters"
             / "magister-uwlr-2.3_leerlinggegevens_antwoord.soap.xml")
UWLR_NS = "http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens"


def las(slug="parnassys", method=LasSystem.Method.PUSH):
    return LasSystem.objects.get_or_create(slug=slug, defaults={
        "name": slug.title(), "method": method, "needs_key": False})[0]


def switch_on(school, system):
    return RosterCoupling.objects.create(school=school, las=system, active=True,
                                         switched_at=timezone.now())


@pytest.fixture
def parnassys():
    return las()


@pytest.fixture
def token(parnassys):
    return LasApiToken.issue(parnassys, "productie")[1]


@pytest.fixture
def coupled(school, parnassys):
    return switch_on(school, parnassys)


def push(client, body, token, content_type="application/xml", **extra):
    # CONTENT_TYPE as well: the test client leaves it out for an empty body.
    return client.post(URL, body, content_type=content_type, CONTENT_TYPE=content_type,
                       HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def status_of(client, token, import_id):
    return client.get(f"{URL}/{import_id}", HTTP_AUTHORIZATION=f"Bearer {token}")


def as_uwlr(edexml: bytes) -> bytes:
    """The generator's EDEXML file as a UWLR leerlinggegevens answer in a SOAP envelope: the
    same elements in the UWLR namespace (as the reader takes them)."""
    from lxml import etree

    edex = etree.fromstring(edexml)
    envelope = etree.Element("{http://schemas.xmlsoap.org/soap/envelope/}Envelope")
    body = etree.SubElement(envelope, "{http://schemas.xmlsoap.org/soap/envelope/}Body")
    answer = etree.SubElement(body, f"{{{UWLR_NS}}}leerlinggegevens_antwoord")
    data = etree.SubElement(answer, f"{{{UWLR_NS}}}leerlinggegevens")

    def copy(source, target):
        for child in source:
            made = etree.SubElement(target, f"{{{UWLR_NS}}}{child.tag}", dict(child.attrib))
            made.text = child.text
            copy(child, made)

    copy(edex, data)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


# -- accepted pushes end as processed imports -------------------------------------------------
def test_a_pushed_edexml_file_is_applied_by_the_nightly_run(client, school, coupled, token,
                                                            school_file):
    response = push(client, school_file(40), token)

    assert response.status_code == 202
    answer = response.json()
    assert answer["status"] == "waiting"
    assert answer["status_url"].endswith(f"{URL}/{answer['import_id']}")
    record = RosterImport.objects.get(pk=answer["import_id"])
    assert record.school == school and record.source == RosterImport.Source.COUPLING
    coupled.refresh_from_db()
    assert coupled.last_import == record and coupled.last_result == "ok"
    assert coupled.last_fetch_at is not None

    call_command("nightly", stdout=io.StringIO())

    assert Pupil.objects.filter(school=school, active=True).count() == 40
    shown = status_of(client, token, record.pk).json()
    assert shown["status"] == "processed" and shown["brin6"] == "99ZZ00"
    assert shown["counts"]["pupils"]["added"] == 40
    assert shown["status_text"] == "Verwerkt in de gebruikersgegevens van de school."
    assert shown["status_text_en"] == "Applied to the school's roster."
    assert shown["processed_at"]


def test_a_pushed_uwlr_answer_in_a_soap_envelope_is_applied_too(client, school, coupled, token):
    response = push(client, as_uwlr(generate_school("99ZZ", "00", 25, seed=3)), token,
                    content_type="text/xml")

    assert response.status_code == 202, response.json()
    call_command("nightly", stdout=io.StringIO())
    assert Pupil.objects.filter(school=school, active=True).count() == 25
    assert status_of(client, token, response.json()["import_id"]).json()["status"] == "processed"


@pytest.mark.skipif(not REAL_UWLR.exists(), reason="shared/data/real-rosters is not there")
def test_the_real_magister_uwlr_answer_is_taken_through_the_push(client, parnassys, token):
    school = SchoolFactory(brin="99DE", dependancecode="00")
    switch_on(school, parnassys)

    response = push(client, REAL_UWLR.read_bytes(), token)

    assert response.status_code == 202, response.json()
    import_id = response.json()["import_id"]
    call_command("nightly", stdout=io.StringIO())
    shown = status_of(client, token, import_id).json()
    assert shown["status"] == "processed", shown
    assert Pupil.objects.filter(school=school, active=True).count() == shown["counts"][
        "pupils"]["added"] > 0
    # What the reader dropped from the LAS's file is told in both languages.
    assert all(w["message"] and w["message_en"] for w in shown["warnings"])


def test_a_push_that_would_empty_the_school_is_held_like_an_upload(
        client, school, coupled, token, school_file, mailoutbox,
        django_capture_on_commit_callbacks):
    for _ in range(20):
        PupilFactory(school=school)
    coordinator = CoordinatorFactory(school=school, email="ict@school.example")

    with django_capture_on_commit_callbacks(execute=True):
        response = push(client, school_file(1, seed=9), token)

    assert response.status_code == 202
    assert response.json()["status"] == "held"
    call_command("nightly", stdout=io.StringIO())
    assert Pupil.objects.filter(school=school, active=True).count() == 20
    shown = status_of(client, token, response.json()["import_id"]).json()
    assert shown["status"] == "held" and "coördinator" in shown["status_text"]
    # Nobody watches the page at night: the coordinators get a mail with the way to decide.
    mail, = [m for m in mailoutbox if m.to == [coordinator.email]]
    assert "vast" in mail.subject and "Toch verwerken" in mail.body


# -- refusals store nothing -------------------------------------------------------------------
def test_a_school_that_did_not_switch_this_las_on_is_refused_and_nothing_is_stored(
        client, school, token, school_file):
    known = push(client, school_file(10), token)
    unknown = push(client, school_file(10, brin="98YY"), token)

    assert known.status_code == unknown.status_code == 403
    # The same words whether or not the school uses Klaspoort.
    assert known.json() == unknown.json()
    assert "Automatische koppeling" in known.json()["detail"]
    assert "switched this LAS on" in known.json()["detail_en"]
    assert not RosterImport.objects.exists()


def test_a_coupling_switched_off_refuses_pushes(client, school, coupled, token, school_file):
    coupled.active = False
    coupled.save()

    assert push(client, school_file(10), token).status_code == 403
    assert not RosterImport.objects.exists()


def test_a_coupling_switched_off_while_the_file_was_read_refuses_it(client, school, coupled,
                                                                     token, school_file,
                                                                     monkeypatch):
    from klaspoort.exchange import las_selectors

    found = las_selectors.push_coupling

    def switched_off_meanwhile(*args):
        coupling = found(*args)
        RosterCoupling.objects.filter(pk=coupled.pk).update(active=False)
        return coupling

    monkeypatch.setattr(las_selectors, "push_coupling", switched_off_meanwhile)

    assert push(client, school_file(10), token).status_code == 403
    assert not RosterImport.objects.exists()


def test_another_las_token_is_refused_for_the_school(client, school, coupled, school_file):
    other = LasApiToken.issue(las("esis"), "productie")[1]

    response = push(client, school_file(10), other)

    assert response.status_code == 403
    assert not RosterImport.objects.exists()


def test_a_pull_las_cannot_push_even_for_its_own_school(client, school, school_file):
    pulling = las("dotcom", method=LasSystem.Method.PULL)
    switch_on(school, pulling)

    response = push(client, school_file(10), LasApiToken.issue(pulling, "x")[1])

    assert response.status_code == 403


@pytest.mark.parametrize("kind", ["revoked", "unknown", "publisher"])
def test_a_revoked_or_unknown_token_is_401(client, school, coupled, token, school_file, kind):
    if kind == "revoked":
        services.revoke_las_token(LasApiToken.objects.get(), actor=None)
    if kind == "unknown":
        token = "kpl_" + "x" * 43
    if kind == "publisher":
        from tests.licences.factories import PublisherFactory
        token = services.PublisherApiToken.issue(PublisherFactory(), "x")[1]

    response = push(client, school_file(10), token)

    assert response.status_code == 401
    assert response.json()["detail_en"].startswith("A valid API token is required")
    assert not RosterImport.objects.exists()


def test_a_body_that_is_not_xml_is_415(client, school, coupled, token, school_file):
    response = push(client, school_file(10), token, content_type="application/json")

    assert response.status_code == 415
    assert "application/xml" in response.json()["detail_en"]
    assert not RosterImport.objects.exists()


def test_a_body_over_the_upload_limit_is_413(client, school, coupled, token, school_file,
                                             settings):
    settings.ROSTER_MAX_UPLOAD_BYTES = 10_000

    response = push(client, school_file(200), token)

    assert response.status_code == 413
    assert response.json()["detail"].startswith("De inhoud van het verzoek is te groot")
    assert not RosterImport.objects.exists()


def test_a_roster_larger_than_djangos_in_memory_limit_is_still_taken(client, school, coupled,
                                                                     token, school_file,
                                                                     settings):
    # request.body would refuse anything over DATA_UPLOAD_MAX_MEMORY_SIZE (a 500 before the
    # handler): the body is read up to the roster limit instead.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    data = school_file(10).replace(b"<school>", b"<school><!--" + b"x" * 200_000 + b"-->", 1)

    response = push(client, data, token)

    assert response.status_code == 202


def test_nul_bytes_are_400(client, school, coupled, token, school_file):
    data = school_file(10).replace(b"<naam>", b"<naam>\x00", 1)

    response = push(client, data, token)

    assert response.status_code == 400
    assert "NUL" in response.json()["detail_en"]
    assert not RosterImport.objects.exists()


@pytest.mark.parametrize("body", [b"", b"not xml at all", b"<EDEX><school/></EDEX>",
                                  b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><x/>",
                                  b"\xff\xfe<\x00x\x00/\x00>\x00", b"<a>" * 100_000])
def test_a_file_that_is_no_valid_roster_is_422_with_every_error_and_stores_nothing(
        client, school, coupled, token, body):
    response = push(client, body, token)

    assert response.status_code == 422
    answer = response.json()
    assert answer["detail_en"] == "The file is not a valid roster; nothing has been stored."
    assert answer["errors"] and all(e["message"] and e["message_en"] for e in answer["errors"])
    assert not RosterImport.objects.exists()
    coupled.refresh_from_db()
    assert coupled.last_import is None


def test_errors_of_an_invalid_file_are_in_dutch_and_english(client, school, coupled, token):
    response = push(client, b"", token)

    [error] = response.json()["errors"]
    assert error["message"] == "Het bestand is leeg."
    assert error["message_en"] == "The file is empty."


def test_a_file_that_names_no_school_is_422(client, school, coupled, token, school_file):
    data = school_file(5).replace(b"<brincode>99ZZ</brincode>", b"")

    response = push(client, data, token)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["message_en"].startswith("The file does not name its school")
    assert not RosterImport.objects.exists()


def test_the_rate_limit_answers_429_with_retry_after(client, school, coupled, token, settings):
    settings.PUBLISHER_API_RATE_PER_MINUTE = 2
    for _ in range(2):
        assert status_of(client, token, 1).status_code == 404

    response = status_of(client, token, 1)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60


# -- status ----------------------------------------------------------------------------------
def test_the_status_is_only_for_imports_of_schools_coupled_to_this_las(
        client, school, coupled, token, school_file):
    import_id = push(client, school_file(10), token).json()["import_id"]
    other_token = LasApiToken.issue(las("esis"), "productie")[1]
    upload = RosterImport.objects.create(school=school, source=RosterImport.Source.UPLOAD,
                                         file_sha256="0" * 64, file_size=1)

    assert status_of(client, token, import_id).status_code == 200
    assert status_of(client, other_token, import_id).status_code == 404
    assert status_of(client, token, upload.pk).status_code == 404
    assert status_of(client, token, 10**9).status_code == 404
    coupled.active = False
    coupled.save()
    assert status_of(client, token, import_id).status_code == 404


def test_a_waiting_import_shows_its_warnings_in_both_languages(client, school, coupled, token,
                                                                school_file):
    data = school_file(5).replace(b"miriam.t0001.99zz00@school.example", b"geen adres")

    response = push(client, data, token)
    shown = status_of(client, token, response.json()["import_id"]).json()

    assert shown["status"] == "waiting" and shown["counts"] == {}
    assert shown["status_text_en"] == "Accepted; it is applied in the coming nightly run."
    [warning] = shown["warnings"]
    assert warning["message"].startswith("E-mailadres 'geen adres' van leerkracht")
    assert warning["message_en"].startswith("E-mail address 'geen adres' of teacher")


def test_the_openapi_document_describes_the_push(client):
    document = client.get("/api/openapi.json").json()
    post = document["paths"][URL]["post"]

    assert {"application/xml", "text/xml"} <= set(post["requestBody"]["content"])
    assert {"202", "401", "403", "413", "415", "422", "429"} <= set(post["responses"])
    assert "200" in document["paths"][URL + "/{import_id}"]["get"]["responses"]


# -- the command ------------------------------------------------------------------------------
def test_las_token_prints_the_token_once_and_revokes_it_by_prefix(parnassys):
    out, err = io.StringIO(), io.StringIO()
    call_command("las-token", "parnassys", "productie", stdout=out, stderr=err)

    plain = out.getvalue().strip()
    assert plain.startswith("kpl_")
    row = LasApiToken.objects.get()
    assert row.las == parnassys and row.prefix == plain[:10] and plain not in err.getvalue()
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_LAS_TOKEN_CREATE).exists()

    revoked = io.StringIO()
    call_command("las-token", "parnassys", "--revoke", plain[:10], "--json", stdout=revoked)

    assert json.loads(revoked.getvalue())["changed"] is True
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEntry.objects.filter(action=AuditAction.EXCHANGE_LAS_TOKEN_REVOKE).exists()


@pytest.mark.parametrize(("args", "message"), [
    (("onbekend", "x"), "No pupil administration (LAS) with slug onbekend."),
    (("dotcom", "x"), "is coupled by fetching (pull)"),
    (("parnassys", "   "), "Give the token a name."),
    (("parnassys", "--revoke", "kpl_"), "at least the first 8 characters"),
    (("parnassys", "--revoke", "kpl_zzzzzz"), "no token starting with"),
])
def test_las_token_refuses_what_it_cannot_do(parnassys, args, message, settings):
    las("dotcom", method=LasSystem.Method.PULL)
    settings.LANGUAGE_CODE = "en"

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("las-token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not LasApiToken.objects.exists()
