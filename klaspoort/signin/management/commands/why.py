"""klaspoort why BRIN6 USER_KEY PRODUCT [--json]"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.json_command import JsonCommand
from klaspoort.schools.selectors import school_by_brin6
from klaspoort.signin import why

MARKS = {why.OK: "[ok]", why.BROKEN: "[X] ", why.NOT_REACHED: "[..]", why.INFO: "[i] "}


class Command(JsonCommand):
    help = ("Why a pupil or teacher (by roster key) can or cannot open a product (by product "
            "code): the chain from account to method, with the broken link and its fix.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("brin6")
        parser.add_argument("user_key")
        parser.add_argument("product", help="the product code")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        school = school_by_brin6(options["brin6"]) if "\x00" not in options["brin6"] else None
        if school is None:
            raise CommandError(_("No school with BRIN6 %(brin6)s.") % {
                "brin6": options["brin6"]})
        person = why.find_person(school, options["user_key"])
        if person is None:
            raise CommandError(_("No pupil or teacher with key %(key)s at %(brin6)s.") % {
                "key": options["user_key"], "brin6": school.brin6})
        product = why.find_product(school, options["product"])
        if product is None:
            raise CommandError(_("No product with code %(code)s (or several publishers use "
                                 "it).") % {"code": options["product"]})
        chain = why.explain(school, person, product)
        if options["json"]:
            self.stdout.write(json.dumps(chain.as_json(), ensure_ascii=False))
            return
        self.stdout.write(chain.summary)
        for link in chain.links:
            self.stdout.write(f"{MARKS[link.state]} {link.title}")
            for fact in link.facts:
                self.stdout.write(f"       {fact}")
            if link.state == why.BROKEN and link.fix_url:
                self.stdout.write(f"       → {link.fix_label}: {link.fix_url}")
