"""klaspoort demo-data: the demo schools, their coordinator, and three publishers with products,
contracts and a staff account, so every screen is full on first start (idempotent)."""

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import Application

from klaspoort.accounts.models import User
from klaspoort.addresses import pupil_page_url
from klaspoort.checks import is_production
from klaspoort.exchange.feed import publish_school
from klaspoort.exchange.models import PublisherApiToken, hash_token
from klaspoort.licences import services as licence_services
from klaspoort.licences.models import Contract, Product, PublisherMembership
from klaspoort.licences.schoolyear import school_year_start
from klaspoort.roster import coupling_services, services
from klaspoort.roster.generator import generate_school
from klaspoort.roster.models import Group, LasSystem, Pupil, RosterCoupling, RosterImport
from klaspoort.schools import selectors as school_selectors
from klaspoort.schools import services as school_services
from klaspoort.schools.models import Publisher, School, SchoolMembership, SchoolNetwork
from klaspoort.sso import services as sso_services
from klaspoort.tenancy import for_school

DEMO_EMAIL = "ict@regenboog.example"
DEMO_PASSWORD = "Regenboog2026"  # noqa: S105 - a demo account on localhost, printed on purpose
DEMO_SCHOOLS = [
    # (BRIN, dependancecode, name, pupils): a main location and a dependance, so the
    # coordinator of two locations sees the school switcher.
    ("99ZZ", "00", "Basisschool De Regenboog", 200),
    ("99ZZ", "01", "Basisschool De Regenboog, locatie Noord", 80),
]

PUBLISHER_EMAIL = "helpdesk@malmberg.example"
# The example publisher application (examples/publisher_app, started by `make demo` on port
# 8001) is the registered client of every demo publisher, so every demo tile opens something
# real: Malmberg at its root, the others each under their own path (the Makefile's
# DEMO_APP_ENV gives the application the same ids and secrets).
DEMO_CLIENT_ID = "klaspoort-demo-malmberg"
DEMO_CLIENT_SECRET = "demo-secret-malmberg-8001"  # noqa: S105 - the demo app's, on localhost
DEMO_APP = "http://localhost:8001"
# The example application reads Malmberg's roster feed with this token (Makefile DEMO_APP_ENV),
# so a teacher sees her group there before any pupil has signed in.
DEMO_API_TOKEN = "kp_demo-malmberg-roster-8001"  # noqa: S105 - the demo app's, on localhost
# Per demo publisher (slug): (path on the example application, client id, client secret, name).
DEMO_CLIENTS = {
    "malmberg": ("", DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "Malmberg"),
    "noordhoff": ("/noordhoff", "klaspoort-demo-noordhoff", "demo-secret-noordhoff-8001",
                  "Noordhoff"),
    "thiememeulenhoff": ("/thiememeulenhoff", "klaspoort-demo-thiememeulenhoff",
                         "demo-secret-thiememeulenhoff-8001", "ThiemeMeulenhoff"),
}
# The example LAS (examples/las_app, started by `make demo` on port 8002, settings.DEMO_LAS_URL)
# serves the demo school's roster (generated with the same seed, 2025, and size as in
# DEMO_SCHOOLS, so the first fetch changes nothing) and wants this authorisation key: the
# Makefile's DEMO_LAS_ARGS give it the same.
DEMO_LAS = ("voorbeeld-las", "Voorbeeld-LAS")
DEMO_LAS_KEY = "demo-las-sleutel-99ZZ00-8002"
DEMO_LAS_CLIENT = ("KLASPOORT-DEMO", "Klaspoort (demo)")  # klantcode, klantnaam
COUPLING_SCHOOL = ("99ZZ", "00")
# Pupils sign in on the machine itself in the demo: the pupil page works from loopback only.
DEMO_NETWORKS = ["127.0.0.0/8", "::1/128"]
LICENCE_SCHOOL = ("99ZZ", "00")
ALL_YEARS = [3, 4, 5, 6, 7, 8]
PRACTICE, WHITEBOARD, TESTS, TEACHER = (Product.Type.PRACTICE, Product.Type.WHITEBOARD,
                                        Product.Type.TESTS, Product.Type.TEACHER)
# Per catalogue publisher (slug, seeded by schools migration 0003): its products as
# (code, name, product type, year groups, replaces code, per-child licences possible).
DEMO_PRODUCTS: dict[str, list[tuple[str, str, str, list[int], str, bool]]] = {
    "malmberg": [
        ("PP3", "Pluspunt 3", PRACTICE, ALL_YEARS, "", False),
        ("PP4", "Pluspunt 4", PRACTICE, ALL_YEARS, "PP3", False),
        ("TA4", "Taal actief 4", PRACTICE, [4, 5, 6, 7, 8], "", True),
        ("KP", "Kleuterplein", WHITEBOARD, [1, 2], "", False),
        ("PP4-T", "Pluspunt 4 toetsen", TESTS, ALL_YEARS, "", False),
    ],
    "noordhoff": [
        ("WIG5", "Wereld in getallen 5", PRACTICE, ALL_YEARS, "", True),
        ("WIG5-DB", "Wereld in getallen 5 digibordsoftware", WHITEBOARD, ALL_YEARS, "", False),
        ("WIG5-T", "Wereld in getallen 5 toetsen", TESTS, ALL_YEARS, "", False),
    ],
    # Ordered for next school year and not ticked yet: the checklist's red item on purpose.
    "zwijsen": [
        ("VLL", "Veilig leren lezen", PRACTICE, [3], "", False),
    ],
    "thiememeulenhoff": [
        ("LIJN3", "Lijn 3", TEACHER, [3], "", False),
        ("STAAL", "Staal taal en spelling", PRACTICE, [4, 5, 6, 7, 8], "", True),
        ("STAAL-T", "Staal toetsen", TESTS, [4, 5, 6, 7, 8], "", False),
    ],
}
# (publisher slug, contract number, product code, title, first school year relative to this
# one, number of school years, seats for a per-child contract). A school year starts 1 August.
DEMO_CONTRACTS: list[tuple[str, str, str, str, int, int, int | None]] = [
    ("malmberg", "MB-100145", "PP3", "Pluspunt 3 oefensoftware groep 3 t/m 8", -2, 3, None),
    ("malmberg", "MB-100201", "PP4", "Pluspunt 4 oefensoftware groep 3 t/m 8", 0, 4, None),
    ("malmberg", "MB-100202", "TA4", "Taal actief 4 oefensoftware groep 4 t/m 8", 0, 3, None),
    ("malmberg", "MB-100203", "KP", "Kleuterplein digibordsoftware groep 1-2", -1, 3, None),
    ("malmberg", "MB-100204", "TA4", "Taal actief 4 plusmateriaal per kind", 0, 1, 8),
    ("malmberg", "MB-100205", "PP4-T", "Pluspunt 4 toetsen groep 3 t/m 8", 1, 2, None),
    ("noordhoff", "NH-5500321", "WIG5", "Wereld in getallen 5 oefensoftware", 0, 3, None),
    ("noordhoff", "NH-5500322", "WIG5-DB", "Wereld in getallen 5 digibordsoftware", 0, 3, None),
    ("noordhoff", "NH-5500323", "WIG5", "Wereld in getallen 5 verrijking per kind", 0, 2, 5),
    ("noordhoff", "NH-5500324", "WIG5-T", "Wereld in getallen 5 toetsen", -2, 1, None),
    ("thiememeulenhoff", "TM-88001", "LIJN3", "Lijn 3 leerkrachtomgeving groep 3", 0, 2, None),
    ("thiememeulenhoff", "TM-88002", "STAAL", "Staal taal en spelling groep 4 t/m 8", -1, 3,
     None),
    ("thiememeulenhoff", "TM-88003", "STAAL-T", "Staal toetsen groep 4 t/m 8", 0, 2, None),
    ("zwijsen", "ZW-2027-31", "VLL", "Veilig leren lezen groep 3", 1, 2, None),
]
# A publisher whose licences the demo school has but which it has not ticked on
# *Uitgeverijen*: the Schooljaar-checklist shows it red with its fix one click away.
DEMO_UNTICKED = "zwijsen"
# Children linked to each per-child contract, so seats show as partly used.
DEMO_CHILDREN = {"MB-100204": 6, "NH-5500323": 5}


def non_demo_schools() -> list[School]:
    """Rule (decision 0019): a demo school is one of DEMO_SCHOOLS, by BRIN and dependancecode
    (99ZZ is no school's BRIN). Any other school means the database holds real data, which the
    demo's accounts with printed passwords and its loopback pupil networks must never touch."""
    demo = Q()
    for brin, dep, _name, _pupils in DEMO_SCHOOLS:
        demo |= Q(brin=brin, dependancecode=dep)
    return list(School.objects.exclude(demo).order_by("brin", "dependancecode")[:3])


def _years(first: int, count: int) -> tuple[datetime.date, datetime.date]:
    start = school_year_start(timezone.localdate())
    start = start.replace(year=start.year + first)
    return start, start.replace(year=start.year + count) - datetime.timedelta(days=1)


def mail_folder() -> str | None:
    """Where the demo's e-mails are, when they are files (the embedded default, no EMAIL_HOST):
    relative to the current folder when inside it (`var/mail/` for `make demo`)."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return None
    folder = Path(settings.EMAIL_FILE_PATH).resolve()
    try:
        return f"{folder.relative_to(Path.cwd())}/"
    except ValueError:
        return f"{folder}/"


def demo_licences(school: School, coordinator: User) -> None:
    """Products, contracts, consents and links of the demo school; safe to run again."""
    publishers = {p.slug: p for p in Publisher.objects.filter(slug__in=DEMO_PRODUCTS)}
    products: dict[tuple[str, str], Product] = {}
    for slug, rows in DEMO_PRODUCTS.items():
        publisher = publishers.get(slug)
        if publisher is None:  # an operator removed it from the catalogue
            continue
        for code, name, product_type, years, replaces, per_child in rows:
            product, _created = Product.objects.update_or_create(
                publisher=publisher, code=code, defaults={
                    "name": name, "product_type": product_type, "year_groups": years,
                    "replaces": products.get((slug, replaces)),
                    "allows_child_licences": per_child,
                    "launch_url": (f"{DEMO_APP}{DEMO_CLIENTS[slug][0]}/login"
                                   if slug in DEMO_CLIENTS else "")})
            products[(slug, code)] = product
    for slug, number, code, title, first, count, seats in DEMO_CONTRACTS:
        if (slug, code) not in products:
            continue
        start, end = _years(first, count)
        Contract.objects.get_or_create(publisher=publishers[slug], number=number, defaults={
            "school": school, "title": title, "product": products[(slug, code)],
            "start": start, "end": end, "seats": seats,
            "contract_type": Contract.Type.CHILD if seats else Contract.Type.GROUP})
    consented = {p.pk for p in school_selectors.consented_publishers(school)}
    wanted = consented | {p.pk for slug, p in publishers.items() if slug != DEMO_UNTICKED}
    if wanted != consented:
        school_services.set_publisher_consents(school, wanted, actor=coordinator)
    licence_services.auto_link(school)
    # A few children of the upper groups on each per-child contract (the same ones each run).
    pupils = list(for_school(Pupil, school).filter(active=True, group__kind=Group.Kind.GROUP)
                  .order_by("-jaargroep", "key")[:8])
    for contract in for_school(Contract, school).filter(number__in=DEMO_CHILDREN):
        for pupil in pupils[:DEMO_CHILDREN[contract.number]]:
            licence_services.link_child(school=school, contract=contract, pupil=pupil,
                                            actor=coordinator)
    malmberg = publishers.get("malmberg")
    if malmberg is not None:
        staff = User.objects.filter(email=PUBLISHER_EMAIL).first()
        if staff is None:
            staff = User.objects.create_user(PUBLISHER_EMAIL, DEMO_PASSWORD,
                                             display_name="Helpdesk Malmberg")
        PublisherMembership.objects.get_or_create(
            user=staff, publisher=malmberg,
            defaults={"role": PublisherMembership.Role.ADMIN})
        PublisherApiToken.objects.get_or_create(
            digest=hash_token(DEMO_API_TOKEN), defaults={
                "publisher": malmberg, "name": "examples/publisher_app (demo)",
                "prefix": DEMO_API_TOKEN[:10]})
    for slug, (path, client_id, secret, name) in DEMO_CLIENTS.items():
        publisher = publishers.get(slug)
        if publisher is None or Application.objects.filter(client_id=client_id).exists():
            continue
        base = f"{DEMO_APP}{path}"
        sso_services.register_client(
            publisher, f"{name} demo (examples/publisher_app)", [f"{base}/callback"],
            client_id=client_id, client_secret=secret,
            post_logout_redirect_uris=[f"{base}/"], default_target_uri=f"{base}/")
    for network in DEMO_NETWORKS:
        # Not through schools.services.add_network: it rightly refuses non-public addresses.
        SchoolNetwork.objects.get_or_create(school=school, network=network,
                                            defaults={"label": "demo (localhost)"})


def demo_coupling(school: School, coordinator: User) -> None:
    """The demo LAS in the catalogue (pull, UWLR) and the demo school's automatic coupling to
    it, switched on with the key the LAS expects; safe to run again: the LAS's endpoint follows
    the settings, and a coupling the coordinator changed or switched off stays as it is.

    The LAS also takes results (its UWLR Leerresultaten endpoint, practice results too), but
    the demo school gets no *Resultatenkoppeling* here: adding one, with the same key, is the
    coordinator's step in the demo (the school's explicit consent, seed 000), and results
    sent before it exists are not sent unless asked."""
    slug, name = DEMO_LAS
    client_code, client_name = DEMO_LAS_CLIENT
    las, _created = LasSystem.objects.update_or_create(slug=slug, defaults={
        "name": name, "method": LasSystem.Method.PULL, "endpoint": settings.DEMO_LAS_URL,
        "needs_key": True, "client_code": client_code, "client_name": client_name,
        "active": True, "results_endpoint": settings.DEMO_LAS_RESULTS_URL,
        "takes_practice_results": True})
    if not RosterCoupling.objects.filter(school=school).exists():
        # As the coordinator switches it on in Beheer: the same rule, sealed key and trail.
        coupling_services.switch_on(school=school, las=las, key=DEMO_LAS_KEY,
                                    actor=coordinator)


def demo_results_page() -> str:
    """The example LAS's page of the results it received (beside its results endpoint)."""
    parts = urlsplit(settings.DEMO_LAS_RESULTS_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/resultaten", "", ""))


class Command(BaseCommand):
    help = "Create the demo schools with a generated roster and the demo ICT coordinator."

    def handle(self, *args: Any, **options: Any) -> None:
        if is_production():
            raise CommandError(_(
                "demo-data only runs on a machine serving localhost: it makes accounts with "
                "printed passwords. These settings serve another host (KLASPOORT_ALLOWED_HOSTS "
                "or KLASPOORT_SITE_URL)."))
        others = non_demo_schools()
        if others:
            raise CommandError(_(
                "demo-data only runs on an empty or demo database: this one holds other "
                "schools (%(schools)s). Use a database of its own for the demo, e.g. "
                "KLASPOORT_VAR_DIR=/tmp/klaspoort-demo.") % {
                "schools": ", ".join(f"{s.brin6} {s.name}" for s in others)})
        with transaction.atomic():
            user = User.objects.filter(email=DEMO_EMAIL).first()
            if user is None:
                user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD,
                                                display_name="Demo ICT-coördinator")
        pupil_pages = []
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
            if (brin, dep) == LICENCE_SCHOOL:
                with transaction.atomic():
                    demo_licences(school, user)
                # Automatic links are written in bulk (no signal): tell the publishers now, as
                # the nightly comparison would (the example application reads Malmberg's feed).
                publish_school(school)
                pupil_pages.append(_("  Pupil page (%(school)s): %(url)s") % {
                    "school": school.display_name, "url": pupil_page_url(school)})
            if (brin, dep) == COUPLING_SCHOOL:
                with transaction.atomic():
                    demo_coupling(school, user)
                pupil_pages.append(_("  Pupil administration (%(las)s): %(url)s, automatic "
                                     "coupling of %(school)s") % {
                    "las": DEMO_LAS[1], "url": settings.DEMO_LAS_URL,
                    "school": school.display_name})
                pupil_pages.append(_("  Results that arrived at %(las)s: %(url)s (first add "
                                     "the coupling under Resultatenkoppelingen with the key "
                                     "%(key)s)") % {
                    "las": DEMO_LAS[1], "url": demo_results_page(), "key": DEMO_LAS_KEY})
        # Translators: keep the values below each other (the second line's indent is as long
        # as "  ICT coordinator  ").
        login = _("Klaspoort demo: %(url)s\n"
                  "  ICT coordinator  e-mail: %(email)s\n"
                  "                   password: %(password)s") % {
            "url": "http://localhost:8000/", "email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        # Translators: as above; the indent is as long as "  Publisher (Malmberg)  ".
        publisher_login = _("  Publisher (Malmberg)  e-mail: %(email)s\n"
                            "                        password: %(password)s") % {
            "email": PUBLISHER_EMAIL, "password": DEMO_PASSWORD}
        pages = "".join(f"{line}\n" for line in pupil_pages)
        folder = mail_folder()
        mail = ""
        if folder:
            mail = _("  E-mails (activation links, receipts) are written to %(folder)s — open "
                     "them with any text editor.") % {"folder": folder} + "\n"
        self.stdout.write(self.style.SUCCESS(f"\n{login}\n{publisher_login}\n{pages}{mail}"))
