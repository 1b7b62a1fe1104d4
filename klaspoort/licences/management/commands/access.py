"""klaspoort access BRIN6 USER_KEY --json"""

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.json_command import SchoolJsonCommand
from klaspoort.licences.access import access_for_user
from klaspoort.roster.selectors import person_by_key
from klaspoort.schools.selectors import school_by_brin6


class Command(SchoolJsonCommand):
    help = ("Which products a pupil or teacher (by LAS key) may open now, through which "
            "contracts, and why not the school's other products.")
    find_school = staticmethod(school_by_brin6)

    def add_school_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user_key")

    def document(self, school: Any, **options: Any) -> Any:
        person = person_by_key(school, options["user_key"])
        access = access_for_user(person.user) if person is not None else None
        if access is None:
            raise CommandError(_("No active pupil or teacher with key %(key)s at %(brin6)s.") % {
                "key": options["user_key"], "brin6": school.brin6})
        return access.as_json()
