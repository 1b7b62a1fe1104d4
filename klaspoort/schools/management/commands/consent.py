"""klaspoort consent BRIN6 PUBLISHER on|off"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.schools import selectors, services


class Command(BaseCommand):
    help = ("Give (on) or withdraw (off) a school's consent for a publisher, as the "
            "Uitgeverijen tick does; audit-logged as an operator.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        parser.add_argument("publisher", help="the publisher's name or slug")
        parser.add_argument("state", choices=["on", "off"])

    def handle(self, *args: Any, **options: Any) -> None:
        school = selectors.school_by_brin6(options["brin6"])
        if school is None:
            raise CommandError(_("No school with BRIN6 %(brin6)s.") % {"brin6": options["brin6"]})
        publisher = selectors.publisher_by_name(options["publisher"])
        if publisher is None:
            raise CommandError(_("No publisher named %(name)s.") % {"name": options["publisher"]})
        try:
            change = services.set_publisher_consent(
                school, publisher, options["state"] == "on", actor=OPERATOR)
        except services.ConsentError as exc:
            raise CommandError(str(exc)) from exc
        done = _("changed") if change.changed else _("unchanged")
        self.stdout.write(f"{school.brin6} {publisher.name}: {options['state']} ({done})")
