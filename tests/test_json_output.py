"""Every command with --json prints exactly one JSON document on standard output, nothing else.

Scripts read that output, so e-mail (in the embedded default: files under VAR_DIR/mail/), Celery's
task lines and other logs (standard error) must never land before or after it. The commands run
as the shell runs them: real `klaspoort` processes on a fresh SQLite database in a temporary
VAR_DIR, with the embedded defaults (no mail server, no broker, no DATABASE_URL). One database
is built and filled once for the module; the commands then run against it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import load_command_class

from klaspoort.roster.generator import generate_school

PACKAGE = Path(__file__).resolve().parents[1] / "klaspoort"
BRIN6 = "99ZZ00"
PUBLISHER = "Uitgeverij JSON-test"
# Variables that would send the commands elsewhere than the embedded default: a real database,
# a mail server, a broker, a shared cache.
NOT_EMBEDDED = ("DATABASE_URL", "EMAIL_HOST", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER",
                "KLASPOORT_CACHE_URL", "REDIS_URL")
# Every command with a --json option, and the test below that runs it.
COVERED = {"import-edexml", "import-contracts", "licences", "access", "export-roster",
           "network-token", "register-client", "publish-feeds", "las-token", "erase-results",
           "why"}


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def document(self) -> object:
        """The whole of standard output as one JSON document (json.loads refuses anything
        before or after it, such as an e-mail or a log line)."""
        assert self.stdout.strip(), f"nothing on stdout; stderr: {self.stderr}"
        return json.loads(self.stdout)


@dataclass
class World:
    var: Path
    roster: bytes
    imported: Run
    contracts: Run
    mail_folder_before_mail: bool


def roster_elements(roster: bytes, tag: str) -> list[ET.Element]:
    # The file is the generator's own output, not untrusted input.
    return list(ET.fromstring(roster).iter(tag))  # noqa: S314


def klaspoort_command() -> list[str]:
    script = Path(sys.executable).with_name("klaspoort")
    return [str(script)] if script.exists() else [sys.executable, "-m", "klaspoort"]


def klaspoort(var: Path, *args: str | Path) -> Run:
    env = {name: value for name, value in os.environ.items() if name not in NOT_EMBEDDED}
    env.update(KLASPOORT_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="klaspoort.settings")
    done = subprocess.run([*klaspoort_command(), *map(str, args)], env=env, cwd=var.parent,
                          capture_output=True, text=True, timeout=120, check=False)
    return Run(done.returncode, done.stdout, done.stderr)


def contracts_csv(*rows: str) -> bytes:
    header = ("contract_number,brin6,publisher,product_code,product_name,product_type,"
              "year_groups,title,start,end,type,seats")
    return "\n".join([header, *rows, ""]).encode()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A migrated database in a fresh VAR_DIR, the school imported from a generated file whose
    teachers have e-mail addresses, and two current contracts of one publisher it consents to."""
    var = tmp_path_factory.mktemp("json-output") / "var"
    migrated = klaspoort(var, "migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    mail_folder_before_mail = (var / "mail").exists()

    roster = generate_school(BRIN6[:4], BRIN6[4:], 30, seed=3)
    (var.parent / "school.xml").write_bytes(roster)
    imported = klaspoort(var, "import-edexml", var.parent / "school.xml", "--now", "--json")

    today = datetime.date.today()
    start, end = today - datetime.timedelta(days=30), today + datetime.timedelta(days=365)
    (var.parent / "contracts.csv").write_bytes(contracts_csv(
        f"JS-1,{BRIN6},{PUBLISHER},RK,Rekenkring,oefensoftware,3;4;5;6;7;8,Rekenkring groep 3 "
        f"t/m 8,{start},{end},group,",
        f"JS-2,{BRIN6},{PUBLISHER},TL,Taallijn,oefensoftware,4;5;6,Taallijn per kind,{start},"
        f"{end},child,5"))
    contracts = klaspoort(var, "import-contracts", var.parent / "contracts.csv", "--json")
    consent = klaspoort(var, "consent", BRIN6, PUBLISHER, "on")
    assert consent.returncode == 0, consent.stderr
    return World(var, roster, imported, contracts, mail_folder_before_mail)


def test_every_command_with_a_json_option_is_covered_here():
    def has_json_option(path: Path) -> bool:
        command = load_command_class(f"klaspoort.{path.parents[2].name}", path.stem)
        parser = command.create_parser("klaspoort", path.stem)
        return any("--json" in action.option_strings for action in parser._actions)

    found = {path.stem for path in PACKAGE.glob("*/management/commands/*.py")
             if not path.stem.startswith("_") and has_json_option(path)}
    assert found == COVERED


def test_tests_keep_the_in_memory_mail_backend():
    # pytest-django swaps the file backend of the embedded default for locmem (mail.outbox).
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"


def test_import_edexml_prints_one_document_and_writes_the_activation_mails_to_var_mail(world):
    assert world.imported.returncode == 0, world.imported.stderr
    result = world.imported.document()
    assert result["status"] == "processed"
    assert result["school"] == BRIN6
    assert result["pupils"]["added"] == 30
    assert result["errors"] == []

    # Each teacher with an address in the file got an activation mail, as a file: the folder
    # is made by the first mail, not by reading the settings.
    assert not world.mail_folder_before_mail
    teachers = {element.text.strip().lower()
                for element in roster_elements(world.roster, "emailadres")
                if element.text and element.text.strip()}
    assert teachers
    mails = "\n".join(path.read_text(encoding="utf-8")
                      for path in (world.var / "mail").iterdir())
    assert set(re.findall(r"^To: (\S+)$", mails, re.MULTILINE)) == teachers
    assert "/accounts/activeren/" in mails
    assert "activeren" not in world.imported.stdout


def test_import_edexml_of_a_broken_file_still_prints_one_document(world):
    broken = world.var.parent / "broken.xml"
    broken.write_bytes(b"<EDEX><school><brincode>99ZZ</brincode>")
    run = klaspoort(world.var, "import-edexml", broken, "--now", "--json")

    assert run.returncode == 1
    result = run.document()
    assert result["status"] == "failed"
    assert result["errors"]


def test_import_edexml_dry_run_prints_one_document_with_the_changes(world):
    run = klaspoort(world.var, "import-edexml", world.var.parent / "school.xml", "--dry-run",
                    "--json")

    assert run.returncode == 0, run.stderr
    result = run.document()
    assert result["status"] == "valid" and result["dry_run"] is True
    assert set(result["changes"]) == {"groups", "pupils", "teachers"}


def test_import_edexml_of_a_file_that_empties_the_school_prints_one_held_document(world):
    root = ET.fromstring(world.roster)  # noqa: S314 (the generator's own output)
    pupils = root.find("leerlingen")
    for el in list(pupils)[5:]:
        pupils.remove(el)
    few = world.var.parent / "few.xml"
    few.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    run = klaspoort(world.var, "import-edexml", few, "--now", "--json")

    assert run.returncode == 3, run.stderr
    result = run.document()
    assert result["status"] == "held"
    assert result["mass_removals"]["pupils"] == {"deactivated": 25, "active": 30}


def test_import_contracts_prints_one_document(world):
    assert world.contracts.returncode == 0, world.contracts.stderr
    assert world.contracts.document() == {"created": 2, "updated": 0, "unchanged": 0,
                                          "applied": True, "errors": []}


def test_import_contracts_with_a_bad_row_still_prints_one_document(world):
    bad = world.var.parent / "bad.csv"
    bad.write_bytes(contracts_csv(
        f"JS-9,{BRIN6},{PUBLISHER},RK,Rekenkring,no-such-type,3,Fout,2026-08-01,2027-07-31,"
        "group,"))
    run = klaspoort(world.var, "import-contracts", bad, "--json")

    assert run.returncode == 1
    result = run.document()
    assert result["applied"] is False
    assert [(error["line"], error["field"]) for error in result["errors"]] == [
        (2, "product_type")]


def test_licences_prints_one_document(world):
    run = klaspoort(world.var, "licences", BRIN6, "--json")

    assert run.returncode == 0, run.stderr
    contracts = {c["number"]: c for c in run.document()["contracts"]}
    assert set(contracts) == {"JS-1", "JS-2"}
    assert contracts["JS-1"]["groups"]  # linked to the school's groups 3 to 8 automatically


def test_access_prints_one_document(world):
    pupil = next(element.get("key") for element in roster_elements(world.roster, "leerling")
                 if element.findtext("jaargroep") == "6")
    run = klaspoort(world.var, "access", BRIN6, pupil, "--json")

    assert run.returncode == 0, run.stderr
    access = run.document()
    assert access["user"] == pupil
    assert [p["product"] for p in access["products"]] == ["RK"]
    assert access["denied"] == [{"product": "TL", "reason": "not_linked"}]


def test_why_prints_one_document(world):
    pupil = next(element.get("key") for element in roster_elements(world.roster, "leerling")
                 if element.findtext("jaargroep") == "6")
    run = klaspoort(world.var, "why", BRIN6, pupil, "TL", "--json")

    assert run.returncode == 0, run.stderr
    chain = run.document()
    assert chain["user"] == pupil and chain["product"] == "TL"
    assert chain["reason"] == "not_linked" and chain["broken"] == "linked"


def test_export_roster_prints_one_document(world):
    run = klaspoort(world.var, "export-roster", BRIN6, "--json")

    assert run.returncode == 0, run.stderr
    roster = run.document()
    assert roster["school"]["brin"] + roster["school"]["dependancecode"] == BRIN6
    assert len(roster["pupils"]) == 30


def test_network_token_prints_one_document_and_revokes_by_prefix(world):
    run = klaspoort(world.var, "network-token", "heutink", "Portaal", "--json")

    assert run.returncode == 0, run.stderr
    made = run.document()
    assert made["status"] == "ok" and made["token"].startswith(made["prefix"])
    revoked = klaspoort(world.var, "network-token", "heutink", "--revoke", made["prefix"],
                        "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.document()["revoked"] is True


def test_las_token_prints_one_document_and_revokes_by_prefix(world):
    # The LAS catalogue is the operators' (no command of its own here): one pushing LAS.
    made_las = klaspoort(world.var, "shell", "-c", (
        "from klaspoort.roster.models import LasSystem; LasSystem.objects.get_or_create("
        "slug='json-las', defaults={'name': 'JSON-LAS', 'method': 'push'})"))
    assert made_las.returncode == 0, made_las.stderr
    run = klaspoort(world.var, "las-token", "json-las", "Productie", "--json")

    assert run.returncode == 0, run.stderr
    made = run.document()
    assert made["status"] == "ok" and made["token"].startswith("kpl_")
    assert made["token"].startswith(made["prefix"])
    revoked = klaspoort(world.var, "las-token", "json-las", "--revoke", made["prefix"], "--json")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.document()["revoked"] is True


def test_publish_feeds_prints_one_document(world):
    # The consenting publisher was told the school when the consent was given; the whole
    # comparison finds nothing more, and no log line of the comparison reaches stdout.
    run = klaspoort(world.var, "publish-feeds", "--whole", "--json")

    assert run.returncode == 0, run.stderr
    assert run.document() == {"status": "ok", "whole": True, "events": 0}


def test_erase_results_preview_prints_one_document(world):
    # The school has no results yet: the preview names no school and changes nothing.
    run = klaspoort(world.var, "erase-results", "--preview", "--day", "2027-07-21", "--json")

    assert run.returncode == 0, run.stderr
    plan = run.document()
    assert plan["status"] == "ok" and plan["preview"] is True and plan["due"] is True
    assert plan["schools"] == [] and plan["school_year"] == "2026-2027"


def test_register_client_prints_one_document(world):
    # The contracts import made the publisher; its slug names it.
    run = klaspoort(world.var, "register-client", "uitgeverij-json-test", "JSON-test web",
                    "--redirect-uri", "https://json-test.example/cb", "--json")

    assert run.returncode == 0, run.stderr
    client = run.document()
    assert client["status"] == "ok" and client["client_id"] and client["client_secret"]


@pytest.mark.parametrize(("args", "code"), [
    (("network-token", "bestaat-niet", "Portaal", "--json"), 1),
    (("las-token", "bestaat-niet", "Productie", "--json"), 1),
    (("register-client", "no-such-publisher", "Web", "--redirect-uri",
      "https://web.example/cb", "--json"), 1),
    (("register-client", "uitgeverij-json-test", "Web", "--redirect-uri",
      "http://web.example/cb", "--json"), 1),
    (("register-client", "uitgeverij-json-test", "Web", "--json"), 2),
    (("import-edexml", "does-not-exist.xml", "--json"), 1),
    (("export-roster", "00XX00", "--json"), 1),
    (("licences", "00XX00", "--json"), 1),
    (("access", "00XX00", "nobody", "--json"), 1),
    (("why", "00XX00", "nobody", "RK", "--json"), 1),
    (("why", BRIN6, "nobody", "RK", "--json"), 1),
    (("import-contracts", "does-not-exist.csv", "--json"), 1),
    (("import-edexml", "--json", "--no-such-option"), 2),
    (("erase-results", "--day", "2027-07-20", "--json"), 1),
    (("erase-results", "--school", "00XX00", "--json"), 1),
])
def test_a_refused_command_still_prints_one_document(world, args, code):
    run = klaspoort(world.var, *args)

    assert run.returncode == code
    result = run.document()
    assert result["status"] == "error" and result["error"]
    assert run.stderr.strip()  # people at a terminal read the reason there
