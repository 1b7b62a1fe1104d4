"""klaspoort access BRIN6 USER_KEY --json"""

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.json_command import JsonCommand
from klaspoort.licences.access import access_for_user
from klaspoort.roster.selectors import person_by_key
from klaspoort.schools.selectors import school_by_brin6


class Command(JsonCommand):
    help = ("Which products a pupil or teacher (by LAS key) may open now, through which "
            "contracts, and why not the school's other products.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        parser.add_argument("user_key")
        parser.add_argument("--json", action="store_true", help="JSON (the only format)")

    def handle(self, *args: Any, **options: Any) -> None:
        school = school_by_brin6(options["brin6"])
        if school is None:
            raise CommandError(_("No school with BRIN6 %(brin6)s.") % {"brin6": options["brin6"]})
        person = person_by_key(school, options["user_key"])
        access = access_for_user(person.user) if person is not None else None
        if access is None:
            raise CommandError(_("No active pupil or teacher with key %(key)s at %(brin6)s.") % {
                "key": options["user_key"], "brin6": school.brin6})
        self.stdout.write(json.dumps(access.as_json(), ensure_ascii=False))
