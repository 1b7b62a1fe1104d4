"""The roster commands operators and scripts use: names, fields and exit codes are a contract."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from klaspoort.roster.edexml import max_bytes, parse_edexml
from klaspoort.roster.models import Pupil, RosterEvent, RosterImport
from klaspoort.schools.models import School
from tests.roster.test_edexml import PUPILS, edexml, line_of, pupil_xml, school_xml

KLASPOORT = Path(sys.executable).with_name("klaspoort")
NO_CHANGES = {"added": 0, "changed": 0, "deactivated": 0}


def run(*args: str) -> tuple[int, dict]:
    """call_command as the shell sees it: (exit code, the one JSON object printed)."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


@pytest.fixture
def roster_file(tmp_path):
    def write(data: bytes, name: str = "export.xml") -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


# ---------------------------------------------------------------------------------------------
# import-edexml
# ---------------------------------------------------------------------------------------------
def test_import_stores_a_waiting_import_and_creates_the_new_school(db, roster_file):
    code, result = run("import-edexml", roster_file(edexml(school=school_xml(brin="12AB"))),
                       "--json")

    assert code == 0
    assert result == {"status": "waiting", "school": "12AB00", "groups": NO_CHANGES,
                      "pupils": NO_CHANGES, "teachers": NO_CHANGES, "errors": [],
                      "warnings": []}
    school = School.objects.get(brin="12AB", dependancecode="00")
    record = RosterImport.objects.get(school=school)
    assert (record.source, record.filename) == (RosterImport.Source.COMMAND, "export.xml")
    assert not Pupil.objects.exists()


def test_import_now_processes_at_once(school, roster_file):
    code, result = run("import-edexml", roster_file(edexml()), "--now", "--json")

    assert code == 0
    assert result == {
        "status": "processed", "school": "99ZZ00",
        "groups": {"added": 3, "changed": 0, "deactivated": 0},
        "pupils": {"added": 4, "changed": 0, "deactivated": 0},
        "teachers": {"added": 2, "changed": 0, "deactivated": 0},
        "errors": [],
        "warnings": [],
    }
    assert School.objects.count() == 1  # the existing school, not a new one
    assert Pupil.objects.filter(school=school, active=True).count() == 4


def test_import_of_a_bad_file_fails_with_lines_and_changes_nothing(school, roster_file):
    run("import-edexml", roster_file(edexml()), "--now", "--json")
    pupils, events = list(Pupil.objects.values()), RosterEvent.objects.count()
    data = edexml(pupils=PUPILS + pupil_xml("L9", group="g7"))

    code, result = run("import-edexml", roster_file(data, "kapot.xml"), "--now", "--json")

    assert code == 1
    assert result["status"] == "failed"
    assert result["school"] is None
    assert result["pupils"] == NO_CHANGES
    assert result["errors"] == [{"line": line_of(data, '<groep key="g7"/>'), "message": (
        "Leerling 'L9' verwijst naar groep 'g7', maar die groep staat niet in <groepen>.")}]
    assert list(Pupil.objects.values()) == pupils
    assert RosterEvent.objects.count() == events


def test_import_without_json_prints_dutch_errors_with_their_line(db, roster_file):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import-edexml", roster_file(b"geen xml"), stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert out.getvalue().startswith("failed: -")
    assert "regel 1: Dit is geen XML-bestand" in err.getvalue()


def test_import_of_a_200_mb_file_is_refused_without_reading_it_whole(db, tmp_path):
    path = tmp_path / "groot.xml"
    with path.open("wb") as fh:  # sparse: 200 MB on paper, nothing on disk
        fh.truncate(200 * 1024 * 1024)

    code, result = run("import-edexml", str(path), "--now", "--json")

    assert code == 1
    assert result["status"] == "failed"
    assert "te groot" in result["errors"][0]["message"]
    record = RosterImport.objects.get()
    assert record.file_size == 200 * 1024 * 1024  # the real size, though only 20 MB was read
    assert record.payload is None and record.school is None
    assert not School.objects.exists()


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match=r"Kan .*bestaat-niet\.xml niet lezen"):
        call_command("import-edexml", str(tmp_path / "bestaat-niet.xml"))


@pytest.fixture
def subprocess_database(transactional_db, tmp_path):
    """A DATABASE_URL under which a child process sees the test database."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(tmp_path / "klaspoort.sqlite3")
        connection.connection.backup(target)  # the in-memory test database, as a file
        target.close()
        return f"sqlite:///{tmp_path / 'klaspoort.sqlite3'}"
    return (f"postgres://{settings_dict['USER']}@{settings_dict['HOST'] or 'localhost'}:"
            f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}")


def test_the_console_command_exits_0_for_a_good_file_and_1_for_a_bad_one(
        subprocess_database, roster_file):
    env = {**os.environ, "DATABASE_URL": subprocess_database, "KLASPOORT_LOG_LEVEL": "WARNING"}

    good = subprocess.run([KLASPOORT, "import-edexml", roster_file(edexml()), "--json"],
                          capture_output=True, text=True, env=env, timeout=60)
    bad = subprocess.run([KLASPOORT, "import-edexml", roster_file(edexml(root="X"), "x.xml"),
                          "--json"], capture_output=True, text=True, env=env, timeout=60)

    assert (good.returncode, json.loads(good.stdout)["status"]) == (0, "waiting"), good.stderr
    assert (bad.returncode, json.loads(bad.stdout)["status"]) == (1, "failed"), bad.stderr
    assert json.loads(bad.stdout)["errors"][0]["line"] == 2


# ---------------------------------------------------------------------------------------------
# export-roster
# ---------------------------------------------------------------------------------------------
def test_export_prints_the_roster_in_the_agreed_format(school, roster_file):
    run("import-edexml", roster_file(edexml()), "--now", "--json")
    # Sem (L4) leaves: he stays in the export, inactive.
    without_sem = PUPILS[:PUPILS.index('    <leerling key="L4"')]
    run("import-edexml", roster_file(edexml(pupils=without_sem)), "--now", "--json")

    out = io.StringIO()
    call_command("export-roster", "99zz00", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {
        "school": {"brin": "99ZZ", "dependancecode": "00", "name": "Basisschool De Regenboog"},
        "groups": [
            {"key": "g12", "name": "Groep 1-2", "jaargroep": "C", "kind": "group",
             "active": True},
            {"key": "g5", "name": "Groep 5", "jaargroep": "5", "kind": "group", "active": True},
            {"key": "plus", "name": "Plusklas", "jaargroep": None, "kind": "cluster",
             "active": True},
        ],
        "pupils": [
            {"key": "L1", "first_name": "Zoë", "prefix": "van 't", "last_name": "Hof",
             "jaargroep": "1", "group": "g12", "clusters": [], "active": True},
            {"key": "L2", "first_name": "Ismaël", "prefix": None, "last_name": "Çelik",
             "jaargroep": "2", "group": "g12", "clusters": [], "active": True},
            {"key": "L3", "first_name": "Daan", "prefix": None, "last_name": None,
             "jaargroep": "5", "group": "g5", "clusters": ["plus"], "active": True},
            {"key": "L4", "first_name": "Sem", "prefix": None, "last_name": "Jansen",
             "jaargroep": "5", "group": "g5", "clusters": [], "active": False},
        ],
        "teachers": [
            {"key": "T1", "first_name": "Marieke", "prefix": "de", "last_name": "Vries",
             "email": "m.devries@school.example", "groups": ["g12", "plus"], "active": True},
            {"key": "T2", "first_name": "Henk", "prefix": None, "last_name": "Bakker",
             "email": None, "groups": ["g5"], "active": True},
        ],
    }


def test_export_of_a_school_created_by_an_import_has_no_name(db, roster_file):
    run("import-edexml", roster_file(edexml(school=school_xml(brin="12AB", dependancecode="01"))),
        "--now", "--json")
    out = io.StringIO()
    call_command("export-roster", "12AB01", "--json", stdout=out)
    assert json.loads(out.getvalue())["school"] == {"brin": "12AB", "dependancecode": "01",
                                                    "name": None}


@pytest.mark.parametrize("brin6", ["12AB00", "99ZZ0", "99ZZ0000"])
def test_export_of_an_unknown_school(school, brin6):
    with pytest.raises(CommandError, match=f"Geen school met BRIN6 {brin6}"):
        call_command("export-roster", brin6, stdout=io.StringIO())
    # With --json the refusal is a JSON document too, so a script can read it.
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("export-roster", brin6, "--json", stdout=out, stderr=io.StringIO())
    assert exit_.value.code == 1
    assert json.loads(out.getvalue()) == {"status": "error",
                                          "error": f"Geen school met BRIN6 {brin6}."}


# ---------------------------------------------------------------------------------------------
# generate-edexml
# ---------------------------------------------------------------------------------------------
def test_generated_files_import_without_errors_and_are_deterministic(db, tmp_path):
    call_command("generate-edexml", "--pupils", "300", "--schools", "3", "--seed", "7",
                 str(tmp_path / "a"), stdout=io.StringIO())
    call_command("generate-edexml", "--pupils", "300", "--schools", "3", "--seed", "7",
                 str(tmp_path / "b"), stdout=io.StringIO())
    call_command("generate-edexml", "--pupils", "300", "--schools", "3", "--seed", "8",
                 str(tmp_path / "c"), stdout=io.StringIO())

    files = sorted((tmp_path / "a").iterdir())
    assert len(files) == 3
    rosters = [parse_edexml(f.read_bytes()) for f in files]
    assert sum(len(r["pupils"]) for r in rosters) == 300
    assert len({r["school"]["brin"] + r["school"]["dependancecode"] for r in rosters}) == 3
    assert [f.read_bytes() for f in files] == \
        [f.read_bytes() for f in sorted((tmp_path / "b").iterdir())]
    assert [f.read_bytes() for f in files] != \
        [f.read_bytes() for f in sorted((tmp_path / "c").iterdir())]

    code, result = run("import-edexml", str(files[0]), "--now", "--json")
    assert (code, result["status"], result["errors"]) == (0, "processed", [])
    assert result["pupils"]["added"] == len(rosters[0]["pupils"])


def test_generate_one_school_into_one_file(tmp_path):
    target = tmp_path / "school.xml"
    call_command("generate-edexml", "--pupils", "50", str(target), stdout=io.StringIO())
    assert len(parse_edexml(target.read_bytes())["pupils"]) == 50


def test_generate_refuses_fewer_pupils_than_schools(tmp_path):
    with pytest.raises(CommandError, match="--pupils moet minstens --schools zijn"):
        call_command("generate-edexml", "--pupils", "2", "--schools", "3", str(tmp_path))


# ---------------------------------------------------------------------------------------------
# nightly
# ---------------------------------------------------------------------------------------------
def test_nightly_processes_waiting_imports_oldest_first(school, roster_file):
    for name in ("Oud", "Nieuw"):
        data = edexml(pupils=PUPILS.replace("<roepnaam>Daan</roepnaam>",
                                            f"<roepnaam>{name}</roepnaam>"))
        run("import-edexml", roster_file(data, f"{name}.xml"), "--json")
    run("import-edexml", roster_file(b"kapot", "kapot.xml"), "--json")
    out = io.StringIO()

    call_command("nightly", stdout=out)

    assert out.getvalue().strip() == "2 import(s) processed, 0 failed, 0 held for confirmation"
    old, new = RosterImport.objects.filter(school=school).order_by("id")
    assert old.status == new.status == RosterImport.Status.PROCESSED
    assert old.processed_at < new.processed_at
    assert new.counts["pupils"] == {"added": 0, "changed": 1, "deactivated": 0}
    assert Pupil.objects.get(school=school, key="L3").first_name == "Nieuw"

    call_command("nightly", stdout=out)  # nothing waits any more
    assert out.getvalue().strip().endswith(
        "0 import(s) processed, 0 failed, 0 held for confirmation")


def test_the_limit_is_twenty_megabytes_by_default():
    assert max_bytes() == 20 * 1024 * 1024
