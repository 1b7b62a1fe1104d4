"""The base of every command with a --json option: its standard output is one JSON document.

Scripts read that output, so a command that is refused (an unknown school, an unreadable file, a
wrong argument) still prints one document, `{"status": "error", "error": "…"}`, and exits
non-zero as before; the human-readable message also goes to standard error. Imports no app.

`SchoolJsonCommand` is the shape of the read-only commands about one school
(`klaspoort NAME BRIN6 … --json`): the school looked up, refused when unknown, one document out.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _


def _json_wanted(argv: list[str]) -> bool:
    return "--json" in argv


class JsonCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        command = self
        original_error = parser.error

        def error(message: str) -> NoReturn:
            # A wrong argument on the command line: argparse prints the usage and exits 2.
            if getattr(parser, "called_from_command_line", False) and _json_wanted(sys.argv):
                command.stdout.write(json.dumps({"status": "error", "error": message},
                                                ensure_ascii=False))
            original_error(message)
            raise AssertionError("unreachable")  # pragma: no cover (argparse exits)

        parser.error = error  # type: ignore[method-assign]
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if not options.get("json"):
                raise
            self.stdout.write(json.dumps({"status": "error", "error": str(exc)},
                                         ensure_ascii=False))
            self.stderr.write(str(exc))
            raise SystemExit(exc.returncode) from None


class SchoolJsonCommand(JsonCommand):
    """Prints one JSON document about the school named by BRIN6. A subclass says how a school
    is found (`find_school`: schools.selectors.school_by_brin6, which this module may not
    import), which arguments follow the BRIN6 (`add_school_arguments`) and what is printed
    (`document`, which may refuse with a CommandError)."""

    find_school: Callable[[str], Any]

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        self.add_school_arguments(parser)
        parser.add_argument("--json", action="store_true", help="JSON (the only format)")

    def add_school_arguments(self, parser: CommandParser) -> None:
        """Arguments after the BRIN6; none by default."""

    def handle(self, *args: Any, **options: Any) -> None:
        school = type(self).find_school(options["brin6"])
        if school is None:
            raise CommandError(_("No school with BRIN6 %(brin6)s.") % {"brin6": options["brin6"]})
        self.stdout.write(json.dumps(self.document(school, **options), ensure_ascii=False))

    def document(self, school: Any, **options: Any) -> Any:
        raise NotImplementedError
