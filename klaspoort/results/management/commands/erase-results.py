"""klaspoort erase-results [--preview] [--day YYYY-MM-DD] [--school BRIN6] [--json]"""

import datetime
import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.json_command import JsonCommand
from klaspoort.results import erasure
from klaspoort.schools.selectors import school_by_brin6


class Command(JsonCommand):
    help = ("The summer erasure of results (what the daily summer_erasure task does): erase the "
            "results of the school year that ends this summer, after archiving the final score "
            "per learning goal and keeping the observations of pupils in groups 1 and 2. "
            "Refused before the erasure day. With --preview, only show what it would do.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--preview", action="store_true",
                            help="show per school what would be erased, archived and kept; "
                                 "change nothing")
        parser.add_argument("--day", help="the day to act as (YYYY-MM-DD; default today)")
        parser.add_argument("--school", help="only this school (BRIN6)")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        day = timezone.localdate()
        if options["day"] is not None:
            try:
                day = datetime.date.fromisoformat(options["day"].strip())
            except ValueError:
                raise CommandError(_("--day must be a date as YYYY-MM-DD.")) from None
        school = None
        if options["school"] is not None:
            school = school_by_brin6(options["school"])
            if school is None:
                raise CommandError(_("No school with BRIN6 %(brin6)s.")
                                   % {"brin6": options["school"]})
        if options["preview"]:
            plan = erasure.plan_erasure(day, school)
        else:
            try:
                plan = erasure.erase_for_summer(day, OPERATOR, school)
            except erasure.ErasureNotDue as exc:
                raise CommandError(_(
                    "Nothing erased: the summer erasure runs on or after %(date)s. "
                    "Use --preview to see what it will do.")
                    % {"date": formats.date_format(exc.due, "j F Y")}) from None
        if options["json"]:
            document = {"status": "failed" if plan.failed else "ok",
                        "preview": options["preview"], **plan.as_dict()}
            self.stdout.write(json.dumps(document, ensure_ascii=False))
        else:
            self._write(plan, options["preview"])
        if plan.failed:
            self.stderr.write(_("The erasure failed for: %(schools)s (see the log); the next "
                                "run tries again.") % {"schools": ", ".join(plan.failed)})
            raise SystemExit(1)

    def _write(self, plan: erasure.ErasurePlan, preview: bool) -> None:
        when = formats.date_format(plan.erasure_date, "j F Y")
        if preview:
            self.stdout.write(_("Preview of the summer erasure of school year %(year)s on "
                                "%(date)s (nothing is changed):")
                              % {"year": plan.school_year, "date": when})
        else:
            self.stdout.write(_("Summer erasure of school year %(year)s:")
                              % {"year": plan.school_year})
        for school in plan.schools:
            self.stdout.write(_(
                "%(brin6)s %(name)s: results erased %(erased)d, final scores per learning goal "
                "archived %(archived)d, kindergarten observations kept %(kept)d, held back "
                "until delivered to the LAS %(held_back)d")
                % {"brin6": school.brin6, "name": school.name, "erased": school.erased,
                   "archived": school.archived, "kept": school.kept,
                   "held_back": school.held_back})
        if not plan.schools:
            self.stdout.write(_("No school has results to erase."))
