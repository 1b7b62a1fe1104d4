"""The base of every command with a --json option: its standard output is one JSON document.

Scripts read that output, so a command that is refused (an unknown school, an unreadable file, a
wrong argument) still prints one document, `{"status": "error", "error": "…"}`, and exits
non-zero as before; the human-readable message also goes to standard error. Imports no app.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser


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
