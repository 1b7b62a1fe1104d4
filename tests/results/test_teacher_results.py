"""The teacher's *Resultaten* (issue 15, item 5): per group she teaches, her pupils' results
per test, as a CSV file Dutch Excel opens as it is and as a page to print for the hand-over.
Only her own groups: another group of her school, another school's group and anybody who is
no teacher get nothing."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from klaspoort.results.models import Result
from klaspoort.results.teacher_selectors import safe_cell
from klaspoort.roster.models import Group
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    GroupFactory,
    PupilFactory,
    ResultFactory,
    SchoolFactory,
    TeacherFactory,
    UserFactory,
)

EMAIL = "m.visser@regenboog.example"


@pytest.fixture
def groep6(school):
    return GroupFactory(school=school, name="Groep 6", jaargroep="6")


@pytest.fixture
def teacher(school, groep6):
    teacher = TeacherFactory(school=school, user=UserFactory(email=EMAIL))
    teacher.groups.add(groep6)
    return teacher


@pytest.fixture
def teacher_client(client, teacher):
    assert client.login(email=EMAIL, password=PASSWORD)
    return client


@pytest.fixture
def noor(school, groep6):
    return PupilFactory(school=school, group=groep6, first_name="Noor", last_name="Vries")


@pytest.fixture
def sem(school, groep6):
    return PupilFactory(school=school, group=groep6, first_name="Sem", last_name="Bakker")


def url(name: str, group: Group | None = None) -> str:
    if group is None:
        return reverse(f"results:{name}")
    return reverse(f"results:{name}", kwargs={"group_id": group.pk})


def read_csv(response: Any) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_the_teacher_sees_her_groups_and_each_groups_results_per_pupil_and_test(
        teacher_client, groep6, noor, sem):
    ResultFactory(pupil=noor, test_name="Rekenen blok 3", score=8, max_score=10,
                  taken_on=datetime.date(2026, 11, 20), learning_goal="Breuken vergelijken",
                  learning_goal_code="RE-3.2")
    ResultFactory(pupil=sem, test_name="Kleuterobservatie", kind=Result.Kind.OBSERVATION,
                  score=3, max_score=None, taken_on=datetime.date(2026, 10, 2))
    index = teacher_client.get(url("teacher_index")).content.decode()
    assert "<h1>Resultaten</h1>" in index
    assert url("teacher_results", groep6) in index

    response = teacher_client.get(url("teacher_results", groep6))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Resultaten van Groep 6" in html
    # Sem Bakker comes before Noor Vries (by last name); each row names its pupil.
    assert html.index("Sem Bakker") < html.index("Noor Vries")
    assert "Rekenen blok 3" in html and "8/10" in html and "20-11-2026" in html
    assert "Breuken vergelijken" in html and "RE-3.2" in html
    assert "Toets" in html and "Observatie" in html
    assert url("teacher_results_csv", groep6) in html and "Downloaden (CSV)" in html
    assert "data-print" in html and url("teacher_results_print", groep6) in html
    # The teacher area's navigation leads here.
    assert f'href="{url("teacher_index")}"' in html


def test_the_csv_opens_in_dutch_excel_with_every_result(teacher_client, groep6, noor, sem):
    ResultFactory(pupil=noor, test_name="Spelling: é en ë", score=12, max_score=20,
                  taken_on=datetime.date(2026, 11, 20), learning_goal="Tweetekenklanken",
                  product__name="Taal actief 6")
    ResultFactory(pupil=sem, test_name="Oefenen", kind=Result.Kind.PRACTICE, score=5,
                  max_score=None, taken_on=datetime.date(2026, 9, 1))
    response = teacher_client.get(url("teacher_results_csv", groep6))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="resultaten-groep-6-')
    rows = read_csv(response)
    assert rows[0] == ["Leerling", "Groep", "Datum", "Toets", "Soort", "Score", "Maximumscore",
                       "Leerdoelcode", "Leerdoel", "Lesmateriaal"]
    assert rows[1] == ["Sem Bakker", "Groep 6", "01-09-2026", "Oefenen", "Oefening", "5", "",
                       "", "", rows[1][9]]
    assert rows[2] == ["Noor Vries", "Groep 6", "20-11-2026", "Spelling: é en ë", "Toets",
                       "12", "20", "", "Tweetekenklanken", "Taal actief 6"]
    assert len(rows) == 3


def test_a_cell_that_would_start_a_formula_is_written_as_text(teacher_client, groep6, school):
    evil = PupilFactory(school=school, group=groep6, first_name="=HYPERLINK(\"x\")",
                        last_name="")
    ResultFactory(pupil=evil, test_name="+SUM(A1:A9)", learning_goal="@cmd",
                  learning_goal_code="-2+3")
    [_header, row] = read_csv(teacher_client.get(url("teacher_results_csv", groep6)))
    assert row[0] == "'=HYPERLINK(\"x\")"
    assert row[3] == "'+SUM(A1:A9)"
    assert row[7] == "'-2+3" and row[8] == "'@cmd"
    assert safe_cell("\tTAB") == "'\tTAB" and safe_cell("Gewoon") == "Gewoon"
    assert safe_cell(7) == "7" and safe_cell(None) == ""


def test_the_print_version_has_the_table_without_the_site_navigation(
        teacher_client, groep6, noor):
    ResultFactory(pupil=noor, test_name="Rekenen blok 3")
    response = teacher_client.get(url("teacher_results_print", groep6))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Rekenen blok 3" in html and "Noor Vries" in html
    assert "site-header" not in html and 'class="tabs"' not in html
    assert "Print deze pagina" in html
    # The page's own print stylesheet hides the navigation on paper.
    with open(finders.find("klaspoort/klaspoort.css"), encoding="utf-8") as sheet:
        text = sheet.read()
    print_rules = text[text.index("@media print"):]
    assert ".site-header" in print_rules and "display: none" in print_rules


def test_a_group_without_results_says_so(teacher_client, groep6, noor):
    html = teacher_client.get(url("teacher_results", groep6)).content.decode()
    assert "Er zijn nog geen resultaten binnengekomen" in html
    assert read_csv(teacher_client.get(url("teacher_results_csv", groep6)))[1:] == []


def test_a_teacher_sees_only_her_own_groups(teacher_client, school, groep6, noor):
    ResultFactory(pupil=noor, test_name="Rekenen blok 3")
    # Another group of her own school, with a result.
    groep7 = GroupFactory(school=school, name="Groep 7", jaargroep="7")
    other_pupil = PupilFactory(school=school, group=groep7, first_name="Daan")
    ResultFactory(pupil=other_pupil, test_name="Geheim van groep 7")
    # A group of another school.
    elsewhere = GroupFactory(school=SchoolFactory(), name="Groep 6")
    ResultFactory(pupil=PupilFactory(school=elsewhere.school, group=elsewhere),
                  test_name="Geheim van elders")
    for group in (groep7, elsewhere):
        for name in ("teacher_results", "teacher_results_csv", "teacher_results_print"):
            response = teacher_client.get(url(name, group))
            assert response.status_code == 404, (name, group)
            assert b"Geheim" not in response.content
    index = teacher_client.get(url("teacher_index")).content.decode()
    assert url("teacher_results", groep7) not in index
    assert url("teacher_results", elsewhere) not in index
    # Her own group shows only its own pupils' results.
    own = teacher_client.get(url("teacher_results", groep6)).content.decode()
    assert "Rekenen blok 3" in own and "Geheim" not in own
    assert b"Geheim" not in teacher_client.get(url("teacher_results_csv", groep6)).content


def test_a_coordinator_who_teaches_nothing_and_somebody_signed_out_get_nothing(
        client, school, groep6, noor):
    ResultFactory(pupil=noor)
    for name in ("teacher_results", "teacher_results_csv", "teacher_results_print"):
        assert client.get(url(name, groep6)).status_code == 302  # to sign in
    client.force_login(CoordinatorFactory(school=school))
    assert client.get(url("teacher_index")).status_code == 404
    for name in ("teacher_results", "teacher_results_csv", "teacher_results_print"):
        assert client.get(url(name, groep6)).status_code == 404


def test_a_teacher_who_left_the_roster_gets_nothing(teacher_client, teacher, groep6):
    teacher.active = False
    teacher.save()
    assert teacher_client.get(url("teacher_index")).status_code == 404
    assert teacher_client.get(url("teacher_results_csv", groep6)).status_code == 404


def test_a_cluster_shows_the_results_of_its_members(teacher_client, school, teacher, noor):
    cluster = GroupFactory(school=school, name="Rekenclub", kind=Group.Kind.CLUSTER)
    teacher.groups.add(cluster)
    noor.clusters.add(cluster)
    ResultFactory(pupil=noor, test_name="Plusrekenen")
    html = teacher_client.get(url("teacher_results", cluster)).content.decode()
    assert "Plusrekenen" in html and "Noor Vries" in html


def test_only_reading_methods_answer(teacher_client, groep6):
    assert teacher_client.post(url("teacher_results_csv", groep6)).status_code == 405
