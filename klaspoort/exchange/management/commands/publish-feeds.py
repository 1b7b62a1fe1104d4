"""klaspoort publish-feeds [--whole] [--json]"""

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from klaspoort.exchange import feed
from klaspoort.json_command import JsonCommand


class Command(JsonCommand):
    help = ("Tell publishers what is still pending (a change whose comparison failed or was "
            "lost) and what the calendar changed: compare every school where one of a "
            "publisher's contracts started or ended since the last night (what the nightly "
            "publish_feeds task does; run it from cron without Celery beat). With --whole, "
            "compare every school each publisher sees.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--whole", action="store_true",
                            help="compare every school, not only the calendar's")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        written = feed.publish_everything(whole=options["whole"])
        if options["json"]:
            self.stdout.write(json.dumps({"status": "ok", "whole": options["whole"],
                                          "events": written}))
            return
        self.stdout.write(_("%(count)d feed event(s) written.") % {"count": written})
