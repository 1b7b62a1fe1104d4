"""klaspoort import-edexml FILE [--now [--confirm-removals]] [--dry-run] [--school BRIN6]
[--json]"""

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.json_command import JsonCommand
from klaspoort.roster import selectors, services
from klaspoort.roster.edexml import max_bytes
from klaspoort.roster.models import RosterImport
from klaspoort.schools.selectors import school_by_brin6

# The status words and the keys of --json (and of the summary lines) are a fixed machine format
# that scripts read: never translated. The messages are in the default language, Dutch.
STATUS_WORDS = {
    RosterImport.Status.PROCESSED: "processed",
    RosterImport.Status.WAITING: "waiting",
    RosterImport.Status.RECEIVED: "waiting",
    RosterImport.Status.HELD: "held",
    RosterImport.Status.FAILED: "failed",
    RosterImport.Status.CANCELLED: "cancelled",
}
EMPTY = {"added": 0, "changed": 0, "deactivated": 0}
# Exit statuses a script can tell apart: the file was refused, or it waits for confirmation.
EXIT_FAILED = 1
EXIT_HELD = 3


class Command(JsonCommand):
    help = ("Store an EDEXML roster file as an import for its school; --now processes it at "
            "once, --dry-run shows what it would change and stores nothing.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--now", action="store_true", help="process at once")
        parser.add_argument(
            "--confirm-removals", action="store_true",
            help="with --now: also process a file that would deactivate more than 10%% of the "
                 "school's pupils, teachers or groups (otherwise it is held, exit status 3)")
        parser.add_argument("--dry-run", action="store_true",
                            help="check the file and show what it would change; store nothing")
        parser.add_argument("--school", metavar="BRIN6",
                            help="the school the file is for (required for a file without "
                                 "<brincode>); the file must not name another school")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["confirm_removals"] and not options["now"]:
            raise CommandError(_("--confirm-removals goes with --now."))
        if options["dry_run"] and (options["now"] or options["confirm_removals"]):
            raise CommandError(_("--dry-run changes nothing, so it does not go with --now."))
        school = None
        if options["school"]:
            school = school_by_brin6(options["school"])
            if school is None:
                raise CommandError(_("There is no school %(brin6)s.")
                                   % {"brin6": options["school"]})
        data, size, sha256 = self._read(options["file"])
        if options["dry_run"]:
            record, preview = services.dry_run_roster_file(
                data, source=RosterImport.Source.COMMAND, filename=options["file"].name,
                school=school)
            result = self._result(record)
            result["status"] = ("failed" if record.status == RosterImport.Status.FAILED
                                else "valid")
            result["dry_run"] = True
            if preview is not None:
                result.update({part: _tally(preview["counts"][part])
                               for part in ("groups", "pupils", "teachers")})
                result["held"] = bool(preview["mass_removals"])
                result["mass_removals"] = preview["mass_removals"]
                result["changes"] = preview["changes"]
        else:
            record = services.receive_roster_file(
                data, source=RosterImport.Source.COMMAND, filename=options["file"].name,
                file_size=size, file_sha256=sha256, school=school)
            if options["now"] and record.status == RosterImport.Status.WAITING:
                record = services.process_import(record.pk)
            if (options["now"] and options["confirm_removals"]
                    and record.status == RosterImport.Status.HELD):
                services.confirm_held_import(actor=OPERATOR, record=record)
                record = services.process_import(record.pk)
            result = self._result(record)
            if record.status == RosterImport.Status.HELD:
                preview = selectors.import_preview(record)
                result["mass_removals"] = preview["mass_removals"] if preview else {}
        self._print(result, as_json=options["json"])
        if record.status == RosterImport.Status.FAILED:
            raise SystemExit(EXIT_FAILED)
        if record.status == RosterImport.Status.HELD:
            raise SystemExit(EXIT_HELD)

    def _read(self, path: Path) -> tuple[bytes, int | None, str | None]:
        limit = max_bytes()
        try:
            with path.open("rb") as fh:
                # Never more than one byte over the limit in memory: that is enough for the
                # size check to refuse the file; the rest is only hashed, in chunks.
                data = fh.read(limit + 1)
                size, sha256 = None, None
                if len(data) > limit:
                    fh.seek(0)
                    sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
                    size = path.stat().st_size
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(reason)s")
                               % {"path": path, "reason": exc.strerror}) from None
        return data, size, sha256

    def _result(self, record: RosterImport) -> dict[str, Any]:
        return {
            "status": STATUS_WORDS[RosterImport.Status(record.status)],
            "school": record.school.brin6 if record.school else None,
            **{part: record.counts.get(part, EMPTY) for part in ("groups", "pupils", "teachers")},
            "errors": record.errors,
            "warnings": record.warnings,
        }

    def _print(self, result: dict[str, Any], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(f"{result['status']}: {result['school'] or '-'}")
        for part in ("groups", "pupils", "teachers"):
            self.stdout.write(f"  {part}: {result[part]}")
        for kind, counts in result.get("mass_removals", {}).items():
            self.stdout.write(f"  mass removal: {kind} {counts['deactivated']} of "
                              f"{counts['active']} deactivated")
        for message in (*result["errors"], *result["warnings"]):
            where = (_("line %(line)s: ") % {"line": message["line"]}
                     if message.get("line") else "")
            self.stderr.write(f"  {where}{message['message']}")


def _tally(counts: dict[str, int]) -> dict[str, int]:
    """The preview's counts as an import records them (a reactivation counts as added)."""
    return {"added": counts["added"] + counts["reactivated"], "changed": counts["changed"],
            "deactivated": counts["deactivated"]}
