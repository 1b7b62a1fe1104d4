"""klaspoort las-token LAS_SLUG NAME [--json]
klaspoort las-token LAS_SLUG --revoke PREFIX [--json]"""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.exchange import las_selectors, services
from klaspoort.exchange.models import LasApiToken
from klaspoort.json_command import JsonCommand
from klaspoort.roster.models import LasSystem


class Command(JsonCommand):
    help = ("Make an API token for a pupil administration (LAS) that pushes rosters and print "
            "it once, or revoke one by the first characters it was printed with. Audit-logged "
            "as an operator.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("las", help="the LAS's slug in the catalogue")
        parser.add_argument("name", nargs="?", default="",
                            help="what the token is for, e.g. the LAS's environment (when "
                                 "making one)")
        parser.add_argument("--revoke", metavar="PREFIX",
                            help="revoke the LAS's token that starts with PREFIX")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        las = las_selectors.las_by_slug(options["las"])
        if las is None:
            raise CommandError(_("No pupil administration (LAS) with slug %(slug)s.")
                               % {"slug": options["las"]})
        if options["revoke"] is not None:
            self._revoke(las, options)
            return
        if not las.active:
            raise CommandError(_("%(provider)s is not active in the catalogue; its tokens would "
                                 "be refused.") % {"provider": las.name})
        if las.method != LasSystem.Method.PUSH:
            # Refused rather than made: every push of a pull LAS would be refused (403).
            raise CommandError(_("%(las)s is coupled by fetching (pull), not by pushing; a "
                                 "token would be refused for every school.") % {"las": las.name})
        try:
            row, plain = services.issue_las_token(las, options["name"], actor=OPERATOR)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "status": "ok", "las": las.slug, "name": row.name, "prefix": row.prefix,
                "token": plain, "created_at": row.created_at.isoformat()}, ensure_ascii=False))
            return
        self.stdout.write(plain)
        self.stderr.write(_("Token %(prefix)s… for %(provider)s (%(name)s). Keep it now: it is "
                            "not shown again.") % {"prefix": row.prefix, "provider": las.name,
                                                   "name": row.name})

    def _revoke(self, las: LasSystem, options: dict[str, Any]) -> None:
        try:
            row: LasApiToken = services.las_token_by_prefix(las, options["revoke"])
        except services.TokenPrefixError as exc:
            raise CommandError(str(exc)) from exc
        changed = services.revoke_las_token(row, actor=OPERATOR)
        if options["json"]:
            self.stdout.write(json.dumps({
                "status": "ok", "las": las.slug, "name": row.name, "prefix": row.prefix,
                "revoked": True, "changed": changed}, ensure_ascii=False))
            return
        message = (_("Token %(prefix)s… of %(provider)s (%(name)s) revoked.") if changed else
                   _("Token %(prefix)s… of %(provider)s (%(name)s) was already revoked."))
        self.stdout.write(message % {"prefix": row.prefix, "provider": las.name,
                                     "name": row.name})
