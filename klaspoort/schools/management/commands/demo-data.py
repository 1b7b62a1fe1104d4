"""klaspoort demo-data: the demo schools and their coordinator (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from klaspoort.accounts.models import User
from klaspoort.roster import services
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import RosterImport
from klaspoort.schools.models import School, SchoolMembership

DEMO_EMAIL = "ict@regenboog.example"
DEMO_PASSWORD = "Regenboog2026"  # noqa: S105 - a demo account on localhost, printed on purpose
DEMO_SCHOOLS = [
    # (BRIN, dependancecode, name, pupils): a main location and a dependance, so the
    # coordinator of two locations sees the school switcher.
    ("99ZZ", "00", "Basisschool De Regenboog", 200),
    ("99ZZ", "01", "Basisschool De Regenboog, locatie Noord", 80),
]


class Command(BaseCommand):
    help = "Create the demo schools with a generated roster and the demo ICT coordinator."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD,
                                                display_name="Demo ICT-coördinator")
        for brin, dep, name, pupils in DEMO_SCHOOLS:
            school, _created = School.objects.get_or_create(brin=brin, dependancecode=dep,
                                                            defaults={"name": name})
            SchoolMembership.objects.get_or_create(user=user, school=school)
            if not school.imports.exists():
                record = services.receive_roster_file(
                    generate_school(brin, dep, pupils, seed=2025),
                    source=RosterImport.Source.COMMAND, filename=f"{brin}{dep}-demo.xml",
                )
                services.process_import(record.pk)
        # Translators: keep the values below each other (the second line's indent is as long
        # as "  ICT coordinator  ").
        login = _("Klaspoort demo: %(url)s\n"
                  "  ICT coordinator  e-mail: %(email)s\n"
                  "                   password: %(password)s") % {
            "url": "http://localhost:8000/", "email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        self.stdout.write(self.style.SUCCESS(f"\n{login}\n"))
