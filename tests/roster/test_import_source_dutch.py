"""An import's source and kind of file in plain Dutch words: a spreadsheet is the *invulbestand*,
never "EDEXML-versie: csv" (issue 11, item 7)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from lxml import html

from klaspoort.roster.models import RosterImport

pytestmark = pytest.mark.django_db


def made(school, source: str, version: str) -> RosterImport:
    return RosterImport.objects.create(
        school=school, source=source, filename="leerlingen.bestand", edexml_version=version,
        status=RosterImport.Status.PROCESSED, file_sha256="ab" * 32, file_size=10)


def facts(client, record) -> dict[str, str]:
    page = html.fromstring(client.get(reverse("roster:import", kwargs={
        "brin6": record.school.brin6, "import_id": record.pk})).content)
    terms = [" ".join(t.text_content().split()) for t in page.xpath("//dl[@class='facts']/dt")]
    values = [" ".join(d.text_content().split()) for d in page.xpath("//dl[@class='facts']/dd")]
    return dict(zip(terms, values, strict=True))


def test_a_spreadsheet_import_shows_the_invulbestand(coordinator_client, school):
    shown = facts(coordinator_client, made(school, RosterImport.Source.SPREADSHEET, "csv"))
    assert shown["Bron"] == "Invulbestand (spreadsheet)"
    assert shown["Soort bestand"] == "Invulbestand (spreadsheet)"
    assert "EDEXML-versie" not in shown and "csv" not in " ".join(shown.values())


@pytest.mark.parametrize(("source", "words"), [
    (RosterImport.Source.UPLOAD, "Geüpload in Beheer"),
    (RosterImport.Source.COUPLING, "Automatische koppeling met je LAS"),
    (RosterImport.Source.COMMAND, "Ingelezen door de beheerders van Klaspoort"),
])
def test_an_edexml_import_names_its_source_in_words_and_its_version(coordinator_client, school,
                                                                    source, words):
    shown = facts(coordinator_client, made(school, source, "2.1"))
    assert shown["Bron"] == words
    assert shown["EDEXML-versie"] == "2.1"


def test_the_history_names_the_source_in_words(coordinator_client, school):
    made(school, RosterImport.Source.SPREADSHEET, "csv")
    made(school, RosterImport.Source.COMMAND, "2.1")
    page = coordinator_client.get(reverse("roster:imports", kwargs={"brin6": school.brin6}))
    text = " ".join(html.fromstring(page.content).text_content().split())
    assert "Invulbestand (spreadsheet)" in text
    assert "Ingelezen door de beheerders van Klaspoort" in text
    assert "Opdrachtregel" not in text and "XML-maker" not in text


def test_messages_stored_by_an_english_uploader_are_dutch_for_the_school(coordinator_client,
                                                                        school):
    coordinator_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    coordinator_client.post(reverse("roster:imports", kwargs={"brin6": school.brin6}),
                            {"file": SimpleUploadedFile("kapot.xml", b"<EDEXML>")})
    [error] = RosterImport.objects.get(school=school).errors
    assert error["message"].startswith("Het bestand is onvolledig")
