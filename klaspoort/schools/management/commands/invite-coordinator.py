"""klaspoort invite-coordinator BRIN6 EMAIL [--create-school --name NAME]"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from klaspoort.schools.models import School
from klaspoort.schools.selectors import school_by_brin6
from klaspoort.schools.services import invite_coordinator

BRIN6 = re.compile(r"^[0-9]{2}[A-Z]{2}[0-9]{2}$")


class Command(BaseCommand):
    help = ("Invite EMAIL to become an ICT coordinator of the school BRIN6; the owner of the "
            "address accepts by e-mail.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        parser.add_argument("email")
        parser.add_argument("--create-school", action="store_true",
                            help="create the school when it does not exist yet")
        parser.add_argument("--name", default="", help="the new school's name")

    def handle(self, *args: Any, **options: Any) -> None:
        brin6: str = options["brin6"].strip().upper()
        if not BRIN6.match(brin6):
            raise CommandError(_("%(brin6)s is not a BRIN6 (such as 12AB00).") % {"brin6": brin6})
        try:
            validate_email(options["email"])
        except ValidationError as exc:
            raise CommandError(_("%(email)s is not a valid e-mail address.")
                               % {"email": options["email"]}) from exc
        school = school_by_brin6(brin6)
        if school is None:
            if not options["create_school"]:
                raise CommandError(_("No school with BRIN6 %(brin6)s.") % {"brin6": brin6})
            school = School.objects.create(brin=brin6[:4], dependancecode=brin6[4:],
                                           name=options["name"])
        invite_coordinator(school, options["email"])
        # The same words whether or not the address has an account.
        self.stdout.write(_("%(email)s has been invited to become an ICT coordinator of "
                            "%(school)s.") % {"email": options["email"].strip().lower(),
                                              "school": school.display_name})
