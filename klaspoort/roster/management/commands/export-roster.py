"""klaspoort export-roster BRIN6 --json"""

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.json_command import JsonCommand
from klaspoort.roster.selectors import export_roster
from klaspoort.schools.selectors import school_by_brin6


class Command(JsonCommand):
    help = "Print a school's roster as one JSON object."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        parser.add_argument("--json", action="store_true", help="JSON (the only format)")

    def handle(self, *args: Any, **options: Any) -> None:
        school = school_by_brin6(options["brin6"])
        if school is None:
            raise CommandError(_("No school with BRIN6 %(brin6)s.") % {"brin6": options["brin6"]})
        self.stdout.write(json.dumps(export_roster(school), ensure_ascii=False))
