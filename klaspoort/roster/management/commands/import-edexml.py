"""klaspoort import-edexml FILE [--now] [--json]"""

import hashlib
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.roster import services
from klaspoort.roster.edexml import max_bytes
from klaspoort.roster.models import RosterImport

# The status words and the keys of --json (and of the summary lines) are a fixed machine format
# that scripts read: never translated. The error messages are in the default language, Dutch.
STATUS_WORDS = {
    RosterImport.Status.PROCESSED: "processed",
    RosterImport.Status.WAITING: "waiting",
    RosterImport.Status.RECEIVED: "waiting",
    RosterImport.Status.FAILED: "failed",
}
EMPTY = {"added": 0, "changed": 0, "deactivated": 0}


class Command(BaseCommand):
    help = "Store an EDEXML roster file as an import for its school; --now processes it at once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--now", action="store_true", help="process at once")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
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
        record = services.receive_roster_file(data, source=RosterImport.Source.COMMAND,
                                              filename=path.name, file_size=size,
                                              file_sha256=sha256)
        if options["now"] and record.status == RosterImport.Status.WAITING:
            record = services.process_import(record.pk)
        result = {
            "status": STATUS_WORDS[RosterImport.Status(record.status)],
            "school": record.school.brin6 if record.school else None,
            **{part: record.counts.get(part, EMPTY) for part in ("groups", "pupils", "teachers")},
            "errors": record.errors,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        else:
            self.stdout.write(f"{result['status']}: {result['school'] or '-'}")
            for part in ("groups", "pupils", "teachers"):
                self.stdout.write(f"  {part}: {result[part]}")
            for error in record.errors:
                where = (_("line %(line)s: ") % {"line": error["line"]}
                         if error.get("line") else "")
                self.stderr.write(f"  {where}{error['message']}")
        if record.status == RosterImport.Status.FAILED:
            raise SystemExit(1)
