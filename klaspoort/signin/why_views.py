"""*Waarom kan … niet openen?* (issue 16, item 2): the coordinator's page in *Beheer* (reached
from *Licentiebeheer*) and the publisher helpdesk's page in the portal. Both only parse the
choice and show signin.why's chain; unknown or foreign values are a message, never a 500."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from klaspoort.admin_area import render_admin_page
from klaspoort.converters import parse_id
from klaspoort.licences.guards import publisher_view
from klaspoort.licences.models import Product
from klaspoort.licences.publisher_views import HELPDESK, PublisherRequest, publisher_render
from klaspoort.schools.guards import SchoolRequest, school_admin_view
from klaspoort.signin import why


def _product(products: list[Product], raw: str) -> Product | None:
    pk = parse_id(raw)
    return next((p for p in products if p.pk == pk), None)


@school_admin_view
@require_GET
def coordinator_why(request: SchoolRequest) -> HttpResponse:
    """Pick a pupil or teacher (search by name) and a method; see the chain."""
    school = request.school
    search = request.GET.get("zoek", "")[:100].strip()
    products = why.products_of_school(school)
    product = _product(products, request.GET.get("product", ""))
    chosen = request.GET.get("persoon", "")
    # A name picked from the list wins; the form then carries the person's key as its search,
    # so checking another method (or typing another name) needs no hidden state.
    person = why.person_by_ref(school, chosen) if chosen else None
    people = why.search_people(school, search) if search and person is None else []
    if person is None and len(people) == 1:
        person = why.person_by_ref(school, people[0][0])
        people = []  # the only match is chosen: no list to choose from
    errors = []
    if chosen and person is None:
        errors.append(_("This pupil or teacher does not exist at this school. Search again."))
    if request.GET.get("product") and product is None:
        errors.append(_("Choose one of the school's methods."))
    chain = why.explain(school, person, product) if person and product else None
    return render_admin_page(request, "signin/why.html", {
        "search": person.key if person else search, "people": people, "person": person,
        "products": products, "product": product, "chain": chain, "errors": errors,
        "not_found": bool(search) and person is None and not people, "show_fixes": True,
    }, status=404 if errors else 200)


@publisher_view(roles=HELPDESK)
@require_GET
def publisher_why(request: PublisherRequest) -> HttpResponse:
    """The helpdesk's page: a school that consents to this publisher (BRIN6), a user by roster
    key and one of the publisher's own products; the same chain, without links into the
    school's *Beheer* and without the pupil's address."""
    products = list(Product.objects.filter(publisher=request.publisher).select_related(
        "publisher").order_by("name", "code"))
    brin6 = request.GET.get("brin6", "")[:6].strip().upper()
    key = request.GET.get("sleutel", "")[:why.MAX_KEY].strip()
    product = _product(products, request.GET.get("product", ""))
    errors: list[str] = []
    chain = None
    school = None
    asked = any(request.GET.get(name) for name in ("brin6", "sleutel", "product"))
    if asked:
        school = why.consenting_school(request.publisher.pk, brin6)
        person = why.find_person(school, key) if school else None
        if school is None:
            # The same answer whether the BRIN6 is unknown or the school did not consent.
            errors.append(_("No school with BRIN6 %(brin6)s has given you permission.") % {
                "brin6": brin6})
        elif person is None:
            errors.append(_("No pupil or teacher with key %(key)s at %(brin6)s.") % {
                "key": key, "brin6": brin6})
        if product is None:
            errors.append(_("Choose one of your products."))
        if school and person and product:
            chain = why.explain(school, person, product, for_publisher=True)
    context: dict[str, Any] = {
        "brin6": brin6, "key": key, "products": products, "product": product,
        "chain": chain, "errors": errors, "show_fixes": False, "school_of_chain": school,
    }
    return publisher_render(request, "signin/publisher_why.html", context,
                            status=404 if errors else 200)
