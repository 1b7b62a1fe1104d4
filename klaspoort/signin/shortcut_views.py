"""*Snelkoppelingen* in Beheer (R3.6): the coordinator downloads shortcuts that open the school's
pupil page (or the teacher sign-in) and, after sign-in, one method directly."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from klaspoort.addresses import public_url, pupil_page_url
from klaspoort.admin_area import render_admin_page
from klaspoort.licences.models import Contract, Product
from klaspoort.schools import selectors as school_selectors
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.schools.models import PublisherConsent, School
from klaspoort.signin import services, shortcuts
from klaspoort.signin.shortcuts import Shortcut
from klaspoort.tenancy import for_school

PUPILS, TEACHERS = "leerlingen", "leerkrachten"
FORMATS = ("url", "webloc", "html")
# A pupil cannot open a teacher environment: it gets a teacher shortcut only.
TEACHER_ONLY_TYPES = {Product.Type.TEACHER}


@dataclass(frozen=True)
class Method:
    product: Product
    for_pupils: bool


def licensed_methods(school: School) -> list[Method]:
    """RULE: a school gets shortcuts only for the methods it may use today — a product with a
    contract of the school that runs today, of a publisher the school consents to (R3.3) —
    sorted by name; teacher environments are for teachers only."""
    today = timezone.localdate()
    running = for_school(Contract.objects.running_on(today), school)
    consent = PublisherConsent.objects.filter(
        school=school, publisher_id=OuterRef("publisher_id"), withdrawn_at__isnull=True)
    products = (Product.objects.filter(pk__in=running.values("product_id"))
                .filter(Exists(consent)).select_related("publisher").order_by("name", "pk"))
    return [Method(p, p.product_type not in TEACHER_ONLY_TYPES) for p in products]


def teacher_url(product_id: int | None = None) -> str:
    url = public_url(reverse("signin:teacher_shortcut"))
    return url + (f"?{urlencode({'next': product_id})}" if product_id else "")


def _shortcut(school: School, who: str, product: Product) -> Shortcut:
    if who == PUPILS:
        return Shortcut(product.name, pupil_page_url(school, product.pk))
    return Shortcut(_("%(method)s (teacher)") % {"method": product.name},
                    teacher_url(product.pk))


def _bookmarks(request: SchoolRequest, who: str, items: list[Shortcut]) -> str:
    return render_to_string("signin/shortcuts_bookmarks.html", {
        "school": request.school, "shortcuts": items, "for_pupils": who == PUPILS,
    }, request=request)


def _attachment(data: bytes, filename: str, kind: str) -> HttpResponse:
    response = HttpResponse(data, content_type=shortcuts.CONTENT_TYPES[kind])
    response["Content-Disposition"] = shortcuts.content_disposition(filename)
    response["Cache-Control"] = "no-store"
    return response


@school_admin_view
def index(request: SchoolRequest) -> HttpResponse:
    """The methods with their shortcuts, and the zips of all of them."""
    methods = licensed_methods(request.school)
    return render_admin_page(request, "signin/shortcuts.html", {
        "methods": methods,
        "pupil_methods": [m for m in methods if m.for_pupils],
        "pupil_page_url": pupil_page_url(request.school),
        "teacher_url": teacher_url(),
        "has_networks": school_selectors.school_networks(request.school).exists(),
    })


@school_admin_view
def download(request: SchoolRequest, who: str) -> HttpResponse:
    """A zip of every licensed method's shortcut (no `methode`), or one method's shortcut in
    one format (`methode`=product id, `formaat`=url|webloc|html). Unknown input is a 404: the
    links on the page never produce it."""
    if who not in (PUPILS, TEACHERS):
        raise Http404
    methods = [m for m in licensed_methods(request.school) if who == TEACHERS or m.for_pupils]
    wanted = request.GET.get("methode", "")
    if not wanted:
        items = [_shortcut(request.school, who, m.product) for m in methods]
        folder = (_("Pupil shortcuts %(school)s") if who == PUPILS
                  else _("Teacher shortcuts %(school)s")) % {"school": request.school.brin6}
        data = shortcuts.shortcuts_zip(folder, items, _("Chromebook and tablet"),
                                       _bookmarks(request, who, items))
        services.note_shortcuts_downloaded(request.school)
        return _attachment(data, f"{folder}.zip", "zip")
    product = next((m.product for m in methods if str(m.product.pk) == wanted), None)
    kind = request.GET.get("formaat", "url")
    if product is None or kind not in FORMATS:
        raise Http404
    item = _shortcut(request.school, who, product)
    if kind == "url":
        data = shortcuts.url_file(item)
    elif kind == "webloc":
        data = shortcuts.webloc_file(item)
    else:
        data = _bookmarks(request, who, [item]).encode("utf-8")
    services.note_shortcuts_downloaded(request.school)
    return _attachment(data, f"{item.title}.{kind}", kind)
