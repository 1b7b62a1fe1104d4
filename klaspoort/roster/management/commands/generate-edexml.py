"""klaspoort generate-edexml --pupils N [--schools S] [--seed X] OUT"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from klaspoort.roster.generator import generate_school, school_brins


class Command(BaseCommand):
    help = ("Write valid synthetic EDEXML: OUT is a file for one school, or a directory that "
            "gets one file per school when --schools is more than 1.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--pupils", type=int, required=True, help="pupils in all schools")
        parser.add_argument("--schools", type=int, default=1)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        pupils, schools, out = options["pupils"], options["schools"], options["out"]
        if pupils < schools or schools < 1:
            raise CommandError(_("--pupils must be at least --schools, and --schools at least "
                                 "1."))
        if schools > 1:
            out.mkdir(parents=True, exist_ok=True)
        # Schools differ in size like real ones do (about 50 to 500 pupils), summing to --pupils.
        import random

        rng = random.Random(options["seed"])
        weights = [rng.uniform(0.25, 2.25) for _school in range(schools)]
        total = sum(weights)
        sizes = [max(1, int(pupils * w / total)) for w in weights]
        # Spread what rounding left over, one pupil each, instead of piling it on one school.
        for index in range(pupils - sum(sizes)):
            sizes[index % schools] += 1
        for (brin, dep), size in zip(school_brins(schools), sizes, strict=True):
            data = generate_school(brin, dep, max(1, size), seed=options["seed"])
            target = out / f"{brin}{dep}.xml" if schools > 1 else out
            target.write_bytes(data)
        # A developer's tool: its summary line is a fixed English format, not translated.
        self.stdout.write(f"{schools} school(s), {pupils} pupils written to {out}")
