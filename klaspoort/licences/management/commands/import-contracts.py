"""klaspoort import-contracts FILE.csv [--json] [--confirm-partial]"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.json_command import JsonCommand
from klaspoort.licences.contract_import import parse_csv
from klaspoort.licences.publisher_services import apply_contract_rows

# The operator's command reads the same 2 MB files as the portal and larger ones (a whole
# country's contracts); beyond this it is surely the wrong file.
MAX_BYTES = 50 * 1024 * 1024


class Command(JsonCommand):
    help = ("Import contracts from a UTF-8 CSV file (operator): unknown publishers and products "
            "are added; a file with bad rows changes nothing unless --confirm-partial.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--confirm-partial", action="store_true",
                            help="apply the good rows even when some rows are bad")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(reason)s")
                               % {"path": path, "reason": exc.strerror}) from None
        if len(data) > MAX_BYTES:
            raise CommandError(_("The file is too large (at most 50 MB)."))
        result = apply_contract_rows(parse_csv(data), actor=None, source="command",
                                     create_unknown=True,
                                     confirm_partial=options["confirm_partial"])
        # The keys and words of the output are a fixed machine format; messages are Dutch.
        if options["json"]:
            self.stdout.write(json.dumps({
                "created": result.created, "updated": result.updated,
                "unchanged": result.unchanged, "applied": result.applied,
                "errors": [error.as_dict() for error in result.errors]}, ensure_ascii=False))
        else:
            state = "applied" if result.applied else "not applied"
            self.stdout.write(f"{state}: created {result.created}, updated {result.updated}, "
                              f"unchanged {result.unchanged}, errors {len(result.errors)}")
            for error in result.errors:
                where = (_("line %(line)s: ") % {"line": error.line} if error.line
                         else "")
                field = f"{error.field}: " if error.field else ""
                self.stderr.write(f"  {where}{field}{error.message}")
        if not result.applied:
            raise SystemExit(1)
