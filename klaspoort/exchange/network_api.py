"""The network provider API (issue 13, item 6; decision 0032): a *netwerkbeheerder* reads, for
the schools that chose it, which methods each pupil and teacher may open and the addresses its
own sign-in portal links to.

Mounted on the publisher API's NinjaAPI (`klaspoort.exchange.api`, at /api/network/v1/), so it
shares its error shape, error handlers, rate limit and OpenAPI document; it has its own tokens
(`NetworkProviderApiToken`, made by an operator with `klaspoort network-token`). Read only.
api.py imports `network_router` at its end, and this module imports api.py's pieces: so the
router is made before that import, and either module may be imported first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.security import HttpBearer
from pydantic import StringConstraints

from klaspoort.exchange import network_selectors
from klaspoort.exchange.services import network_token_for
from klaspoort.schools.models import NetworkProvider, School


class NetworkProviderToken(HttpBearer):
    """A network provider's API token (exchange.NetworkProviderApiToken); revoked tokens, and
    tokens of a provider taken out of the catalogue, are refused. A known token is then held
    to the same rate as a publisher's."""

    def __call__(self, request: HttpRequest) -> Any:
        provider = super().__call__(request)
        if provider is None:
            return None
        _count_request(request.network_token.digest)  # type: ignore[attr-defined]
        return provider

    def authenticate(self, request: HttpRequest, token: str) -> NetworkProvider | None:
        row = network_token_for(token.strip())
        if row is None:
            return None
        request.network_token = row  # type: ignore[attr-defined]
        return row.provider


network_router = Router(tags=["network provider v1"], auth=NetworkProviderToken())

# After the router: importing api.py first thing would have it mount a router not yet made.
from klaspoort.exchange.api import (  # noqa: E402
    ERRORS,
    MAX_LIMIT,
    MAX_OFFSET,
    _count_request,
    _only_query,
)

AUTH = ("For network providers (netwerkbeheerders). Authenticate with the token Klaspoort's "
        "operator made for you: `Authorization: Bearer kpn_…`; a publisher's token is refused. "
        "Same rate limit and error shape as the publisher API. ")

SchoolId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class NetworkSchoolOut(Schema):
    id: str = Field(description="The school's id for you: stable, and yours alone.")
    brin6: str = Field(description="BRIN (4) + location code (2), e.g. 99ZZ00.")
    name: str


class NetworkSchoolPageOut(Schema):
    items: list[NetworkSchoolOut]
    count: int = Field(description="Number of schools that chose you, over all pages.")


class NetworkProductOut(Schema):
    code: str = Field(description="The publisher's product code (unique per publisher).")
    name: str
    publisher: str = Field(description="The publisher's name.")
    product_type: str = Field(description="oefensoftware, digibordsoftware, toetsen, "
                                          "leerkrachtomgeving, naslag or overig.")
    icon_url: str = Field(description="Klaspoort's address of the product's icon, or empty.")
    launch_url: str = Field(description=(
        "Link your portal's tile here: Klaspoort's own tile address. The user signs in at "
        "Klaspoort (if not yet signed in) and Klaspoort starts single sign-on to the method, "
        "checking access again at that moment. Never link the publisher's site directly."))
    shortcut_url: str | None = Field(description=(
        "Pupils only (null for teachers): the school's pupil page, which opens this product "
        "once the pupil has signed in: the address of a desktop shortcut (works from the "
        "school's networks)."))
    on_portal: bool = Field(description=(
        "Whether Klaspoort's own portal shows this product as a tile to this user: pupils see "
        "only products meant for pupils, teachers every product they may open."))


class NetworkUserOut(Schema):
    id: str = Field(description="The user's id for you: stable, and yours alone (not the "
                                "`sub` a publisher receives).")
    role: Literal["pupil", "teacher"]
    given_name: str
    family_name_initial: str = Field(description="First letter of the family name, or empty.")
    groups: list[str] = Field(description="Names of the user's active groups and clusters.")
    products: list[NetworkProductOut] = Field(description="The products the user may open "
                                                          "today.")


class NetworkAccessPageOut(Schema):
    school: NetworkSchoolOut
    items: list[NetworkUserOut]
    count: int = Field(description="Number of active pupils and teachers, over all pages.")


class Page(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _provider(request: HttpRequest) -> NetworkProvider:
    return request.auth  # type: ignore[attr-defined, no-any-return]


def _school_out(provider: NetworkProvider, school: School) -> dict[str, Any]:
    return {"id": network_selectors.school_id_for(provider, school), "brin6": school.brin6,
            "name": school.display_name}


@network_router.get("/schools", response={200: NetworkSchoolPageOut, **ERRORS},
                    summary="The schools that chose you",
                    description=AUTH + (
                        "The school locations whose ICT coordinator ticked you under "
                        "*Netwerkbeheerder instellen*, now; a school that unticks you "
                        "disappears at once. Ordered by BRIN6."))
def list_schools(request: HttpRequest, page: Query[Page]) -> Any:
    _only_query(request, "limit", "offset")
    provider = _provider(request)
    schools = network_selectors.consenting_schools(provider)
    return {"items": [_school_out(provider, school)
                      for school in schools[page.offset:page.offset + page.limit]],
            "count": schools.count()}


@network_router.get("/schools/{school_id}/access",
                    response={200: NetworkAccessPageOut, **ERRORS},
                    summary="Who may open which methods at one school",
                    description=AUTH + (
                        "Every active pupil and teacher of a school that chose you, with the "
                        "methods each may open today (licence, contract dates and the "
                        "school's consent to the publisher, as Klaspoort's own portal). 404 "
                        "for a school that did not choose you or withdrew, the same as for an "
                        "unknown id. Ordered by your user id, stable between pages."))
def school_access(request: HttpRequest, school_id: SchoolId, page: Query[Page]) -> Any:
    _only_query(request, "limit", "offset")
    provider = _provider(request)
    school = network_selectors.consenting_school(provider, school_id)
    if school is None:
        raise Http404
    items, count = network_selectors.school_access(provider, school, offset=page.offset,
                                                   limit=page.limit)
    return {"school": _school_out(provider, school), "items": items, "count": count}
