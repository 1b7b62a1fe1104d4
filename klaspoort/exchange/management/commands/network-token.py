"""klaspoort network-token PROVIDER_SLUG NAME [--json]
klaspoort network-token PROVIDER_SLUG --revoke PREFIX [--json]"""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.exchange import network_selectors, services
from klaspoort.json_command import JsonCommand


class Command(JsonCommand):
    help = ("Make an API token for a network provider (netwerkbeheerder) and print it once, or "
            "revoke one by the first characters it was printed with. Audit-logged as an "
            "operator.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", help="the network provider's slug")
        parser.add_argument("name", nargs="?", default="",
                            help="what the token is for, e.g. its portal (when making one)")
        parser.add_argument("--revoke", metavar="PREFIX",
                            help="revoke the provider's token that starts with PREFIX")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        provider = network_selectors.provider_by_slug(options["provider"])
        if provider is None:
            raise CommandError(_("No network provider with slug %(slug)s.")
                               % {"slug": options["provider"]})
        if options["revoke"] is not None:
            self._revoke(provider, options)
            return
        if not provider.active:
            raise CommandError(_("%(provider)s is not active in the catalogue; its tokens would "
                                 "be refused.") % {"provider": provider.name})
        try:
            row, plain = services.issue_network_token(provider, options["name"],
                                                      actor=OPERATOR)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if options["json"]:
            self.stdout.write(json.dumps({
                "status": "ok", "provider": provider.slug, "name": row.name,
                "prefix": row.prefix, "token": plain,
                "created_at": row.created_at.isoformat()}, ensure_ascii=False))
            return
        self.stdout.write(plain)
        self.stderr.write(_("Token %(prefix)s… for %(provider)s (%(name)s). Keep it now: it is "
                            "not shown again.") % {"prefix": row.prefix,
                                                   "provider": provider.name, "name": row.name})

    def _revoke(self, provider: Any, options: dict[str, Any]) -> None:
        try:
            row = services.network_token_by_prefix(provider, options["revoke"])
        except services.TokenPrefixError as exc:
            raise CommandError(str(exc)) from exc
        changed = services.revoke_network_token(row, actor=OPERATOR)
        if options["json"]:
            self.stdout.write(json.dumps({
                "status": "ok", "provider": provider.slug, "name": row.name,
                "prefix": row.prefix, "revoked": True, "changed": changed}, ensure_ascii=False))
            return
        message = (_("Token %(prefix)s… of %(provider)s (%(name)s) revoked.") if changed else
                   _("Token %(prefix)s… of %(provider)s (%(name)s) was already revoked."))
        self.stdout.write(message % {"prefix": row.prefix, "provider": provider.name,
                                     "name": row.name})
