"""The *Beheer* pages through the test client: what a coordinator sees, a stranger does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.html import escape

from klaspoort.licences.models import ChildLicence, Contract, GroupLicence
from klaspoort.results.models import ResultCoupling
from klaspoort.roster import services
from klaspoort.roster.models import Group, Pupil, RosterImport
from klaspoort.signin.models import PupilCard
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    GroupFactory,
    LasSystemFactory,
    PupilFactory,
    SchoolFactory,
    TeacherFactory,
)
from tests.licences.factories import ContractFactory


def url(name: str, school: Any, **kwargs: Any) -> str:
    return reverse(name, kwargs={"brin6": school.brin6, **kwargs})


def upload(client: Any, school: Any, data: bytes, filename: str = "school.xml", **extra: Any):
    return client.post(url("roster:imports", school),
                       {"file": SimpleUploadedFile(filename, data)}, **extra)


@pytest.fixture
def imported(school, school_file):
    """The school with its roster processed, as after a nightly run."""
    record = services.receive_roster_file(
        school_file(60), source=RosterImport.Source.UPLOAD, school=school)
    return services.process_import(record.pk)


# ---------------------------------------------------------------------------------------------
# Every Beheer URL, found by walking the URL configuration
# ---------------------------------------------------------------------------------------------
def beheer_patterns() -> Iterator[tuple[str, list[str]]]:
    """(view name, URL parameters) of every page that takes a school's BRIN6."""

    def walk(patterns: list[Any], namespace: str, params: list[str]) -> Iterator[Any]:
        for entry in patterns:
            found = [*params, *entry.pattern.converters]
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns,
                                entry.namespace or namespace, found)
            elif isinstance(entry, URLPattern) and "brin6" in found:
                yield f"{namespace}:{entry.name}", found

    yield from walk(get_resolver().url_patterns, "", [])


def beheer_urls(school: Any, group: Group, record: RosterImport) -> list[str]:
    teacher = school.teachers.first()
    # A licence of the school, so the Licentiebeheer pages are walked with a real id.
    contract = Contract.objects.filter(school=school).first() or ContractFactory(school=school)
    # A results coupling of the school, so the Resultatenkoppelingen pages are walked too.
    coupling = (ResultCoupling.objects.filter(school=school).first()
                or ResultCoupling.objects.create(school=school, las=LasSystemFactory(),
                                                 since=timezone.now()))
    values = {"brin6": school.brin6, "group_id": group.pk, "import_id": record.pk,
              "user_id": record.uploaded_by_id or 1, "teacher_id": teacher.pk if teacher else 1,
              "contract_id": contract.pk, "coupling_id": coupling.pk}
    urls = []
    for name, params in beheer_patterns():
        missing = set(params) - set(values)
        assert not missing, f"{name}: give this test a value for {missing}"
        urls.append(reverse(name, kwargs={p: values[p] for p in params}))
    return urls


def test_the_walk_finds_every_beheer_page():
    names = {name for name, _params in beheer_patterns()}
    assert {"schools:data", "roster:imports", "roster:groups", "roster:group",
            "roster:coordinators", "roster:teachers", "roster:pupils", "roster:import",
            "roster:process", "roster:spreadsheet_upload",
            "roster:spreadsheet_template", "licences:contracts", "licences:child_contracts",
            "licences:contract_groups", "licences:contract_children", "licences:link_groups",
            "licences:unlink_group", "licences:link_child", "licences:cancel"} <= names


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_coordinator_of_another_school_gets_404_on_every_beheer_url(
        client, school, imported, method):
    stranger = CoordinatorFactory(is_staff=True)  # even an operator, if not this school's
    client.force_login(stranger)
    group = Group.objects.filter(school=school).first()
    pupil = Pupil.objects.filter(school=school, active=True).first()
    contract = ContractFactory(school=school)
    for address in beheer_urls(school, group, imported):
        # The form fields the licence pages read, so a POST would change something if let in.
        response = getattr(client, method)(address, {"groups": [group.pk], "group": group.pk,
                                                     "pupil": pupil.pk, "groep": group.pk,
                                                     "action": "card",
                                                     "home_signin_enabled": "on"})
        assert response.status_code == 404, address
        assert school.name not in response.content.decode()
    assert RosterImport.objects.get(pk=imported.pk).status == RosterImport.Status.PROCESSED
    assert not GroupLicence.objects.exists() and not ChildLicence.objects.exists()
    assert not Contract.objects.filter(pk=contract.pk, cancelled_at__isnull=False).exists()
    assert not PupilCard.objects.exists()
    assert ResultCoupling.objects.filter(school=school).count() == 1
    school.refresh_from_db()
    assert not school.home_signin_enabled


def test_anonymous_visitors_are_sent_to_the_login_page_from_every_beheer_url(
        client, school, imported):
    group = Group.objects.filter(school=school).first()
    login = reverse("accounts:login")
    for address in beheer_urls(school, group, imported):
        response = client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(f"{login}?next="), address


def test_a_group_or_import_of_another_school_is_404_under_the_own_school(
        coordinator_client, school):
    other = SchoolFactory()
    group = GroupFactory(school=other, name="Groep van een ander")
    record = services.receive_roster_file(b"<EDEX/>", source=RosterImport.Source.UPLOAD,
                                          school=other)
    assert coordinator_client.get(url("roster:group", school, group_id=group.pk)
                                  ).status_code == 404
    assert coordinator_client.get(url("roster:group", school, group_id=group.pk),
                                  HTTP_HX_REQUEST="true").status_code == 404
    response = coordinator_client.get(url("roster:import", school, import_id=record.pk))
    assert response.status_code == 404
    assert "Deze pagina bestaat niet" in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Each page shows the school's own data
# ---------------------------------------------------------------------------------------------
def test_the_beheer_navigation_has_every_tab_and_marks_the_current_one(
        coordinator_client, school):
    page = coordinator_client.get(url("roster:groups", school)).content.decode()
    for label in ("Gegevens", "Gebruikersgegevens invoeren", "Groepen", "ICT-coördinatoren",
                  "Leerkrachten", "Leerlingen"):
        assert f">{label}</a>" in page
    assert f'href="{url("roster:groups", school)}" aria-current="page"' in page
    assert '<html lang="nl">' in page
    assert 'href="#inhoud"' in page
    assert "django_htmx/htmx-2.min.js" in page


def test_groepen_lists_active_groups_with_jaargroep_kind_and_pupil_count(
        coordinator_client, school, imported):
    page = coordinator_client.get(url("roster:groups", school)).content.decode()
    combination = Group.objects.get(school=school, jaargroep="C")
    assert combination.name in page
    assert "combinatiegroep" in page
    assert "Samengestelde groep" in page  # the Plusklas cluster
    assert page.index(">Groep 3<") < page.index(">Groep 8<") < page.index(">Plusklas<")
    group = Group.objects.filter(school=school, kind=Group.Kind.GROUP).first()
    count = Pupil.objects.filter(group=group, active=True).count()
    assert re.search(rf'>{re.escape(group.name)}</a></th>.*?<td class="num">{count}</td>',
                     page, re.S)


def test_a_group_shows_its_teachers_and_pupils_as_a_page_and_as_an_htmx_panel(
        coordinator_client, school):
    group = GroupFactory(school=school, name="Groep 5a")
    PupilFactory(school=school, group=group, first_name="Sem", last_name="Bakker")
    PupilFactory(school=school, group=group, first_name="Oud", last_name="Leerling", active=False)
    teacher = TeacherFactory(school=school, first_name="Marieke", last_name="Visser",
                             email="m.visser@school.example")
    teacher.groups.add(group)
    other_group = GroupFactory(school=school, name="Groep 6b")
    PupilFactory(school=school, group=other_group, first_name="Tess", last_name="Mulder")

    address = url("roster:group", school, group_id=group.pk)
    page = coordinator_client.get(address).content.decode()
    assert "<html" in page  # a real page, works without JavaScript
    assert "Bakker, Sem" in page and "Marieke Visser" in page
    assert "Mulder, Tess" not in page and "Leerling, Oud" not in page

    panel = coordinator_client.get(address, HTTP_HX_REQUEST="true")
    assert "<html" not in panel.content.decode()
    assert "Bakker, Sem" in panel.content.decode()
    assert "HX-Request" in panel["Vary"]


def test_ict_coordinatoren_shows_klaspoort_coordinators_and_roster_ict_teachers(
        coordinator_client, school, coordinator):
    TeacherFactory(school=school, first_name="Ilse", last_name="de Wit", roles=["ICT", "LRK"],
                   email="ilse@school.example")
    TeacherFactory(school=school, first_name="Gewone", last_name="Leerkracht", roles=["LRK"])
    CoordinatorFactory(email="ict@andere-school.example")
    page = coordinator_client.get(url("roster:coordinators", school)).content.decode()
    assert coordinator.email in page
    assert "de Wit, Ilse" in page and "ilse@school.example" in page
    assert "Leerkracht, Gewone" not in page
    assert "ict@andere-school.example" not in page


def test_leerkrachten_shows_name_email_and_groups(coordinator_client, school):
    teacher = TeacherFactory(school=school, first_name="Jan", prefix="de", last_name="Vries",
                             email="jan@school.example")
    teacher.groups.add(GroupFactory(school=school, name="Groep 3"),
                       GroupFactory(school=school, name="Groep 4"))
    TeacherFactory(school=SchoolFactory(), first_name="Vreemde", last_name="Leerkracht")
    page = coordinator_client.get(url("roster:teachers", school)).content.decode()
    assert re.search(r"Vries, Jan de.*jan@school\.example.*Groep 3, Groep 4", page, re.S)
    assert "Vreemde" not in page


# ---------------------------------------------------------------------------------------------
# Leerlingen: search, sort, pages
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def pupils(school):
    groep5 = GroupFactory(school=school, name="Groep 5")
    groep7 = GroupFactory(school=school, name="Groep 7", jaargroep="7")
    PupilFactory(school=school, first_name="Anna", last_name="Bakker", group=groep7,
                 jaargroep="7")
    PupilFactory(school=school, first_name="Zeynep", last_name="Yilmaz", group=groep5,
                 jaargroep="5")
    PupilFactory(school=school, first_name="Daan", prefix="van", last_name="Dijk",
                 group=groep5, jaargroep="5")
    PupilFactory(school=SchoolFactory(), first_name="Vreemd", last_name="Kind")


def names_in_order(page: str) -> list[str]:
    return re.findall(r'<th scope="row">([^<]+)</th>', page)


def test_leerlingen_lists_the_schools_pupils_sorted_by_name(coordinator_client, school, pupils):
    page = coordinator_client.get(url("roster:pupils", school)).content.decode()
    assert names_in_order(page) == ["Bakker, Anna", "Dijk, Daan van", "Yilmaz, Zeynep"]
    assert "Vreemd" not in page
    assert 'aria-sort="ascending"' in page


def test_leerlingen_sorts_on_every_column_both_ways(coordinator_client, school, pupils):
    def order(sort: str) -> list[str]:
        page = coordinator_client.get(url("roster:pupils", school), {"sort": sort})
        return names_in_order(page.content.decode())

    assert order("-naam") == ["Yilmaz, Zeynep", "Dijk, Daan van", "Bakker, Anna"]
    assert order("jaargroep") == ["Dijk, Daan van", "Yilmaz, Zeynep", "Bakker, Anna"]
    assert order("-jaargroep") == ["Bakker, Anna", "Dijk, Daan van", "Yilmaz, Zeynep"]
    assert order("groep") == ["Dijk, Daan van", "Yilmaz, Zeynep", "Bakker, Anna"]
    assert order("-groep") == ["Bakker, Anna", "Dijk, Daan van", "Yilmaz, Zeynep"]
    page = coordinator_client.get(url("roster:pupils", school), {"sort": "-groep"}).content
    assert re.search(rb'aria-sort="descending">\s*<a[^>]*sort=groep', page)
    assert order("nonsense") == ["Bakker, Anna", "Dijk, Daan van", "Yilmaz, Zeynep"]


def test_leerlingen_search_works_as_a_page_and_as_live_search(coordinator_client, school, pupils):
    page = coordinator_client.get(url("roster:pupils", school), {"q": "dijk"}).content.decode()
    assert names_in_order(page) == ["Dijk, Daan van"]
    assert "1 leerling gevonden" in page

    live = coordinator_client.get(url("roster:pupils", school), {"q": "groep 5"},
                                  HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in live
    assert names_in_order(live) == ["Dijk, Daan van", "Yilmaz, Zeynep"]

    nothing = coordinator_client.get(url("roster:pupils", school), {"q": "Vreemd"})
    assert "0 leerlingen gevonden" in nothing.content.decode()


def test_leerlingen_shows_100_pupils_a_page(coordinator_client, school):
    for n in range(105):
        PupilFactory(school=school, first_name="Kind", last_name=f"Achternaam{n:03d}")
    first = coordinator_client.get(url("roster:pupils", school)).content.decode()
    assert len(names_in_order(first)) == 100
    assert "Pagina 1 van 2" in first
    second = coordinator_client.get(url("roster:pupils", school), {"pagina": 2}).content.decode()
    assert names_in_order(second) == [f"Achternaam{n:03d}, Kind" for n in range(100, 105)]


# ---------------------------------------------------------------------------------------------
# Gebruikersgegevens invoeren: upload and history
# ---------------------------------------------------------------------------------------------
def test_the_import_page_explains_nightly_processing_and_has_the_upload_form(
        coordinator_client, school):
    page = coordinator_client.get(url("roster:imports", school)).content.decode()
    assert "Wat je vandaag importeert, zie je morgen terug" in page
    assert "Handmatige import" in page
    assert 'hx-encoding="multipart/form-data"' in page
    assert "<progress" in page
    assert 'accept=".xml' in page
    assert ">Importeer</button>" in page


def test_a_good_file_waits_for_the_night_and_changes_no_pupils_yet(
        coordinator_client, school, school_file, coordinator):
    response = upload(coordinator_client, school, school_file(40))
    record = RosterImport.objects.get(school=school)
    assert response.status_code == 302
    assert response["Location"] == url("roster:import", school, import_id=record.pk)
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Het bestand is goedgekeurd en wordt vannacht verwerkt" in page
    assert "wacht op nachtelijke verwerking" in page
    assert record.status == RosterImport.Status.WAITING
    assert record.uploaded_by == coordinator and record.filename == "school.xml"
    assert not Pupil.objects.filter(school=school).exists()

    history = coordinator_client.get(url("roster:imports", school)).content.decode()
    assert "school.xml" in history and "Wacht op nachtelijke verwerking" in history


def test_an_htmx_upload_answers_with_the_result_and_a_fresh_history(
        coordinator_client, school, school_file):
    response = upload(coordinator_client, school, school_file(20), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert "Het bestand is goedgekeurd en wordt vannacht verwerkt" in body
    assert 'id="import-history" class="history" aria-labelledby="history-heading" ' \
           'hx-swap-oob="true"' in body
    assert "school.xml" in body


def test_a_bad_file_shows_every_error_with_its_line_and_changes_nothing(
        coordinator_client, school, school_file, imported):
    before = list(Pupil.objects.filter(school=school).values_list("key", "last_name", "active"))
    data = school_file(60).replace(b'key="L000002"', b'key="L000001"')
    line = data[:data.index(b'key="L000001"', data.index(b'key="L000001"') + 1)].count(b"\n") + 1

    response = upload(coordinator_client, school, data, filename="kapot.xml")
    record = RosterImport.objects.filter(school=school).first()
    assert record.status == RosterImport.Status.FAILED
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Het bestand is niet geïmporteerd. Er is niets gewijzigd." in page
    assert '<th scope="col">Regel</th><th scope="col">Melding</th>' in page
    assert f'<td class="num">{line}</td>' in page
    assert list(Pupil.objects.filter(school=school).values_list(
        "key", "last_name", "active")) == before


def test_not_xml_at_all_gives_a_dutch_error_not_a_crash(coordinator_client, school):
    response = upload(coordinator_client, school, b"%PDF-1.4 dit is geen xml",
                      HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Het bestand is niet geïmporteerd" in response.content.decode()


def test_a_file_of_another_school_is_refused(coordinator_client, school, school_file):
    response = upload(coordinator_client, school, school_file(20, brin="11AA"),
                      HTTP_HX_REQUEST="true")
    record = RosterImport.objects.get(school=school)
    assert record.status == RosterImport.Status.FAILED
    [error] = record.errors
    assert "11AA00" in error["message"] and school.brin6 in error["message"]
    assert escape(error["message"]) in response.content.decode()
    assert not Pupil.objects.exists()


def test_uploading_without_a_file_asks_for_one(coordinator_client, school):
    response = coordinator_client.post(url("roster:imports", school), {})
    assert "Kies eerst een bestand" in response.content.decode()
    assert not RosterImport.objects.exists()


@override_settings(ROSTER_MAX_UPLOAD_BYTES=2048)
def test_a_too_large_file_is_refused_with_the_limit(coordinator_client, school, school_file):
    response = upload(coordinator_client, school, school_file(40))
    assert "Het bestand is te groot (maximaal" in response.content.decode()
    assert not RosterImport.objects.exists()
    htmx = upload(coordinator_client, school, school_file(40), HTTP_HX_REQUEST="true")
    assert "Het bestand is te groot (maximaal" in htmx.content.decode()


def test_the_history_shows_counts_and_links_to_errors(coordinator_client, school, imported):
    services.receive_roster_file(b"<EDEX>", source=RosterImport.Source.UPLOAD, school=school,
                                 filename="half.xml")
    page = coordinator_client.get(url("roster:imports", school)).content.decode()
    for heading in ("Ontvangen op", "Bestand", "Bron", "Status", "Groepen", "Leerlingen",
                    "Leerkrachten"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "+60" in page and "60 toegevoegd" in page
    assert "Verwerkt" in page and "Mislukt" in page
    assert "half.xml" in page
    failed = RosterImport.objects.get(filename="half.xml")
    detail = coordinator_client.get(url("roster:import", school, import_id=failed.pk))
    assert failed.errors[0]["message"] in detail.content.decode()


# ---------------------------------------------------------------------------------------------
# Nu verwerken: operators only (R2.4)
# ---------------------------------------------------------------------------------------------
def test_an_operator_may_process_a_waiting_import_at_once(client, school, school_file):
    operator = CoordinatorFactory(school=school, is_staff=True)
    assert client.login(email=operator.email, password=PASSWORD)
    upload(client, school, school_file(30))
    record = RosterImport.objects.get(school=school)
    assert "Nu verwerken" in client.get(url("roster:imports", school)).content.decode()

    response = client.post(url("roster:process", school, import_id=record.pk), follow=True)
    assert "Het bestand is verwerkt" in response.content.decode()
    record.refresh_from_db()
    assert record.status == RosterImport.Status.PROCESSED
    assert Pupil.objects.filter(school=school, active=True).count() == 30


def test_a_coordinator_cannot_process_at_once(coordinator_client, school, school_file):
    upload(coordinator_client, school, school_file(30))
    record = RosterImport.objects.get(school=school)
    assert "Nu verwerken" not in coordinator_client.get(
        url("roster:imports", school)).content.decode()
    response = coordinator_client.post(url("roster:process", school, import_id=record.pk))
    assert response.status_code == 403
    assert "Dit mag je niet doen" in response.content.decode()
    record.refresh_from_db()
    assert record.status == RosterImport.Status.WAITING
    assert not Pupil.objects.exists()


# ---------------------------------------------------------------------------------------------
# Schools without a LAS: the spreadsheet template (R2.6)
# ---------------------------------------------------------------------------------------------
def spreadsheet_module():
    return pytest.importorskip("klaspoort.roster.spreadsheet",
                               reason="the spreadsheet converter is not there yet")


def test_the_spreadsheet_template_downloads_as_csv(coordinator_client, school):
    module = spreadsheet_module()
    response = coordinator_client.get(url("roster:spreadsheet_template", school))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content == module.csv_template()


SHEET = (
    "soort;roepnaam;voorvoegsel;achternaam;jaargroep;groep;e-mailadres;groepen;rollen\r\n"
    "leerling;Zoë;van 't;Hof;5;Groep 5;;;\r\n"
    "leerling;Daan;;Smit;5;Groep 5;;;\r\n"
    "leerkracht;Marieke;de;Vries;;;m.devries@school.example;Groep 5;LRK\r\n"
)


def upload_sheet(client: Any, school: Any, text: str, **extra: Any):
    return client.post(url("roster:spreadsheet_upload", school),
                       {"file": SimpleUploadedFile("leerlingen.csv", text.encode())}, **extra)


def test_a_filled_in_spreadsheet_waits_for_the_night_like_an_edexml_file(
        coordinator_client, school):
    spreadsheet_module()
    response = upload_sheet(coordinator_client, school, SHEET)
    record = RosterImport.objects.get(school=school)
    assert record.source == RosterImport.Source.SPREADSHEET
    assert record.status == RosterImport.Status.WAITING
    page = coordinator_client.get(response["Location"]).content.decode()
    assert "Het bestand is goedgekeurd en wordt vannacht verwerkt" in page
    assert not Pupil.objects.exists()

    services.process_import(record.pk)
    pupils = coordinator_client.get(url("roster:pupils", school)).content.decode()
    assert names_in_order(pupils) == ["Hof, Zoë van &#x27;t", "Smit, Daan"]


def test_a_spreadsheet_with_mistakes_shows_them_per_row(coordinator_client, school):
    spreadsheet_module()
    bad = SHEET.replace("leerling;Daan;;Smit;5;", "leerling;Daan;;Smit;negen;")
    response = upload_sheet(coordinator_client, school, bad, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Het bestand is niet geïmporteerd" in body
    assert '<td class="num">3</td>' in body  # the third row of the sheet
    assert RosterImport.objects.get(school=school).status == RosterImport.Status.FAILED
    assert not Pupil.objects.exists()
