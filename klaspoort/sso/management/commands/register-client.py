"""klaspoort register-client PUBLISHER NAME --redirect-uri URI [--redirect-uri URI …] [--public]
[--post-logout-uri URI] [--initiate-login-uri URI] [--name-detail initial|full]
[--chain-partner] [--json]"""

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.audit.services import OPERATOR
from klaspoort.json_command import JsonCommand
from klaspoort.schools.selectors import publisher_by_name
from klaspoort.sso.models import PublisherClient
from klaspoort.sso.services import register_client


class Command(JsonCommand):
    help = ("Register a publisher's software as an OpenID Connect client (operator); prints "
            "the client id and, for a confidential client, its secret, once.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("publisher", help="the publisher's slug")
        parser.add_argument("name", help="the client's name, e.g. “Rekenwonders web”")
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris",
                            metavar="URI", required=True,
                            help="a redirect URI (repeat for several); https, http only on "
                                 "localhost")
        parser.add_argument("--public", action="store_true",
                            help="a public client (an app without a server): PKCE, no secret")
        parser.add_argument("--post-logout-uri", action="append", default=[],
                            dest="post_logout_uris", metavar="URI",
                            help="an address Klaspoort may send the browser to after signing "
                                 "out (repeat for several)")
        parser.add_argument("--initiate-login-uri", default="", metavar="URI",
                            help="the publisher's login address a tile opens (iss, login_hint, "
                                 "target_link_uri)")
        parser.add_argument("--name-detail", choices=PublisherClient.NameDetail.values,
                            default=PublisherClient.NameDetail.INITIAL,
                            help="the name the data agreement allows in the claims")
        parser.add_argument("--chain-partner", action="store_true",
                            help="a registered ECK iD chain partner (Edu-K)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        publisher = publisher_by_name(options["publisher"])
        if publisher is None:
            raise CommandError(_("No publisher named %(name)s.") % {"name": options["publisher"]})
        try:
            registered = register_client(
                publisher, options["name"], options["redirect_uris"],
                confidential=not options["public"], name_detail=options["name_detail"],
                chain_partner=options["chain_partner"],
                post_logout_redirect_uris=options["post_logout_uris"],
                initiate_login_uri=options["initiate_login_uri"], actor=OPERATOR)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        application = registered.client.application
        if options["json"]:
            # The keys are a fixed machine format; the secret appears here and nowhere else.
            self.stdout.write(json.dumps({
                "status": "ok", "publisher": publisher.slug, "name": application.name,
                "client_id": registered.client_id,
                "client_secret": registered.client_secret or None,
                "client_type": application.client_type,
                "redirect_uris": application.redirect_uris.split(),
                "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
                "initiate_login_uri": registered.client.initiate_login_uri,
                "name_detail": registered.client.name_detail,
                "chain_partner": registered.client.chain_partner}, ensure_ascii=False))
            return
        self.stdout.write(f"client_id: {registered.client_id}")
        if registered.client_secret:
            self.stdout.write(f"client_secret: {registered.client_secret}")
            self.stderr.write(_("Store the client secret now: it is shown only once."))
