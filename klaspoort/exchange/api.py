"""The publisher API (R5.1, R6.2): a publisher's systems keep its products and contracts in
Klaspoort up to date with a token made in the publisher portal.

The OpenAPI document is exactly what the server accepts (issue 10, finding 8): request bodies
are validated by the strict pydantic schemas below (no coercion: "5" is not 5, "CHILD" is not
"child"; no unknown fields; dates are real dates), then contracts go through the same rules and
service as the CSV upload (klaspoort.licences.contract_import), so a row is judged the same way
wherever it comes from. Every answer is JSON; every error has the one shape ErrorOut and its
status code is documented on every operation. Each token is rate-limited.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import re
import time
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from pydantic import (
    AfterValidator,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticValidationError

from klaspoort.audit.services import SystemActor
from klaspoort.exchange import feed
from klaspoort.exchange import selectors as feed_selectors
from klaspoort.exchange.services import token_for
from klaspoort.i18n import bilingual as _
from klaspoort.i18n import english_of
from klaspoort.licences import contract_import, icons, publisher_services
from klaspoort.licences.models import Contract, Product
from klaspoort.licences.publisher_services import save_product
from klaspoort.results import grade_services
from klaspoort.results import services as results_services
from klaspoort.schools.models import Publisher

logger = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_LIMIT = 500
MAX_OFFSET = 10**9
DESCRIPTION = f"""
Publishers keep their **products** and **contracts** in Klaspoort up to date, and read the
**rosters** of the schools that consent to them: a snapshot per school, then the change feed.
The guide with a worked example is docs/publishers.md.

Authenticate with a token made by your publisher admin in the publisher portal (*API-sleutels*):
`Authorization: Bearer kp_…`. Everything you send and read is your own publisher's: contract
numbers and product codes are yours alone (another publisher may use the same number).

**Rosters.** You see a school only while it consents to you, and in it only the groups linked
to one of your running licences, their pupils, children on your per-child licences and those
groups' teachers: given name and family-name initial, role, year group, group names, by ids
that are yours alone (a person's id is the `sub` of your ID tokens). `GET /schools` lists the
schools, `GET /schools/{{id}}` gives one with its groups and people and a `cursor`; `GET
/changes?after=<cursor>` then gives every change after it, in sequence order: `added`,
`changed` (whole records), `deactivated` (left the school), `removed` (left your view: delete
it). Sequence numbers are consecutive, the feed never expires, cursors are opaque.

Contracts are keyed by their number: sending a contract again updates it. A contract for a
well-formed BRIN6 is always accepted, also when that school location does not use Klaspoort
(yet): it is held and takes effect when the school arrives. Klaspoort never tells you which
schools use it until they consent to you.

**Results.** `POST /results` takes 1 to 1,000 results of pupils you see (`school_id` and
`user_id` are the ids of the snapshot and feed) for one of your products: each is judged on its
own, the good ones are stored and sent on to the schools' pupil administrations, the others
are reported per row (200 with counts and `errors`). A result is keyed by your own `id`:
sending it again changes nothing, sending it changed updates it. A pupil you may not send
results for (no consent, no running licence of that product, unknown) is refused with one
and the same error. A body that breaks the schema stores nothing (422). School-grade
boundaries per product and test type: `PUT /products/{{code}}/grade-boundaries/{{test_type}}`.

Bodies are JSON (`Content-Type: application/json`, at most
{settings.PUBLISHER_API_MAX_BODY_BYTES // 1024} kB) and are checked strictly against the
schemas below: no unknown fields, no numbers as strings, no null where a value is required.
Every token may make {settings.PUBLISHER_API_RATE_PER_MINUTE} requests a minute; beyond that
the answer is 429 with `Retry-After` (seconds).

Every error is JSON of one shape, `{{"detail": "…", "detail_en": "…", "errors": [{{"line",
"field", "message"}}]}}` (`detail` in Dutch, `detail_en` in English; `line` is the position in
a list of contracts, results or bands, from 1; 0 for the request as a whole; results and
grade boundaries also give each row's `message_en`): 400 unreadable request or unknown
cursor, 401 no valid token, 404 unknown address or a school you do not see, 405 method not
allowed, 409 a conflicting change at the same moment (send again), 413 body too large, 415 not
JSON, 422 a value the schema or a contract rule refuses, 429 too many requests, 500 our fault.
"""


# ---------------------------------------------------------------------------------------------
# Errors: always JSON in one shape, never a 500 for what a client sent.
# ---------------------------------------------------------------------------------------------
class RowErrorOut(Schema):
    line: int = Field(description="Position of the contract in the list, from 1; 0 for the "
                                  "request as a whole.")
    field: str = Field(description="Field name as in the contract format, or empty.")
    message: str = Field(description="What is wrong, in Dutch.")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in Dutch.")
    detail_en: str = Field("", description="The same in English.")
    errors: list[RowErrorOut] = Field(default_factory=list, description="Per-field errors.")

    @staticmethod
    def resolve_detail_en(obj: Any) -> str:
        detail = obj.get("detail", "") if isinstance(obj, dict) else getattr(obj, "detail", "")
        return english_of(detail)


ERROR_STATUSES = (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500)
ERRORS: dict[int, Any] = dict.fromkeys(ERROR_STATUSES, ErrorOut)


class TooManyRequests(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


class PublisherToken(HttpBearer):
    """A publisher's API token (exchange.PublisherApiToken); revoked tokens are refused. A
    known token is then held to its rate, and its request body to size and JSON."""

    def __call__(self, request: HttpRequest) -> Any:
        publisher = super().__call__(request)
        if publisher is None:
            return None
        _count_request(request.api_token.digest)  # type: ignore[attr-defined]
        if request.method in ("POST", "PUT", "PATCH"):
            _check_body(request)
        return publisher

    def authenticate(self, request: HttpRequest, token: str) -> Publisher | None:
        row = token_for(token.strip())
        if row is None:
            return None
        request.publisher = row.publisher  # type: ignore[attr-defined]
        request.api_token = row  # type: ignore[attr-defined]
        return row.publisher


def _count_request(digest: str) -> None:
    """RULE: at most PUBLISHER_API_RATE_PER_MINUTE requests per token per clock minute,
    counted atomically in the shared cache (add, then incr: two workers never both read the
    same count), so the limit holds whatever the number of processes."""
    now = time.time()
    window = int(now // 60)
    key = f"api-rate:{digest[:32]}:{window}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this request is the first again
        cache.add(key, 1, timeout=120)
        count = 1
    if count > settings.PUBLISHER_API_RATE_PER_MINUTE:
        raise TooManyRequests(retry_after=max(1, math.ceil((window + 1) * 60 - now)))


def _check_body(request: HttpRequest) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.PUBLISHER_API_MAX_BODY_BYTES:
        raise HttpError(413, _("The request body is too large (at most %(kb)d kB).")
                        % {"kb": settings.PUBLISHER_API_MAX_BODY_BYTES // 1024})
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpError(415, _("Send the body as JSON (Content-Type: application/json)."))


api = NinjaAPI(title="Klaspoort publisher API", version="1", description=DESCRIPTION,
               urls_namespace="api", docs_url="/docs", openapi_url="/openapi.json",
               auth=PublisherToken())
router = Router(tags=["publisher v1"])


def _error(request: HttpRequest, status: int, detail: str,
           errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "detail_en": english_of(detail),
                                         "errors": errors or []}, status=status)


def _validation_errors(errors: Any, *, lines_from: str | None = None) -> list[dict[str, Any]]:
    """Pydantic's errors in the API's shape. In a batch, `contracts.<i>.…` is line i+1."""
    result = []
    for error in errors:
        location = [part for part in error.get("loc", ()) if part not in ("body", "query",
                                                                           "path")]
        line = 0
        if lines_from and len(location) >= 2 and location[0] == lines_from and isinstance(
                location[1], int):
            line = location[1] + 1
            location = location[2:]
        # A discriminated union names the variant (group/child) in the location: not a field.
        location = [str(part) for part in location if part not in ("group", "child")]
        result.append({"line": line, "field": ".".join(location),
                       "message": _("Invalid value: %(reason)s") % {"reason": error.get("msg")}})
    return result


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, _("The request is not valid."), _validation_errors(exc.errors))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, _("A valid API token is required "
                                      "(Authorization: Bearer <token>)."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(TooManyRequests)
def _too_many(request: HttpRequest, exc: TooManyRequests) -> HttpResponse:
    response = _error(request, 429, _("Too many requests for this token; try again in "
                                      "%(seconds)d seconds.") % {"seconds": exc.retry_after})
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return _error(request, 400, _("The request body is not valid JSON."))
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Our fault, never the client's: logged with its traceback, answered in the API's shape.
    logger.exception("publisher API error", exc_info=exc)
    return _error(request, 500, _("Something went wrong on our side; please try again later."))


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        raise HttpError(400, "invalid json") from None


def _validated(adapter: TypeAdapter[Any], request: HttpRequest, *,
               lines_from: str | None = None) -> Any:
    try:
        return adapter.validate_python(_json_body(request))
    except PydanticValidationError as exc:
        raise _RequestInvalid(_validation_errors(exc.errors(), lines_from=lines_from)) from None


class _RequestInvalid(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("invalid")
        self.errors = errors


@api.exception_handler(_RequestInvalid)
def _request_invalid(request: HttpRequest, exc: _RequestInvalid) -> HttpResponse:
    return _error(request, 422, _("The request is not valid; nothing has been changed."),
                  exc.errors)


def _only_query(request: HttpRequest, *allowed: str) -> None:
    """The schema lists every query parameter; any other one is refused, not ignored (a typo
    such as `?brin=` must not silently return every contract)."""
    unknown = sorted(set(request.GET) - set(allowed))
    if unknown:
        raise _RequestInvalid([{"line": 0, "field": name[:40], "message": _(
            "Unknown parameter.")} for name in unknown[:10]])


def _source(request: HttpRequest) -> str:
    """Recorded in the audit trail: which token made the change (the API has no user)."""
    return f"api:{request.api_token.prefix}"  # type: ignore[attr-defined]


def _publisher(request: HttpRequest) -> Publisher:
    return request.auth  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------------------------------------
# Strict value types: the schema says exactly what the server accepts.
# ---------------------------------------------------------------------------------------------
# Printable text (no control characters) with at least one character that is not white space:
# the server strips spaces, and an empty value would then be missing. (Lone surrogates are
# refused by pydantic itself; control characters include NUL.)
_PRINTABLE = r"[^\x00-\x1f\x7f]"
_FILLED = rf"^{_PRINTABLE}*[^\s\x00-\x1f\x7f]{_PRINTABLE}*$"
Code = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64, pattern=_FILLED)]
Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200, pattern=_FILLED)]
# What Django's URLField accepts and more narrowly: https, a host name, a plain path.
_URL = (r"^(|https://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
        r"(/[A-Za-z0-9._~/-]*)?)$")
Url = Annotated[StrictStr, StringConstraints(max_length=200, pattern=_URL)]
Brin6 = Annotated[StrictStr, StringConstraints(pattern=contract_import.BRIN6.pattern)]
YearGroup = Annotated[StrictInt, Field(ge=1, le=8)]
Seats = Annotated[StrictInt, Field(ge=1, le=contract_import.MAX_SEATS)]


def _iso_date(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("not a date in the form YYYY-MM-DD")
    datetime.date.fromisoformat(value)  # ValueError for 2026-02-30
    return value


IsoDate = Annotated[StrictStr, AfterValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]
STRICT = ConfigDict(extra="forbid", regex_engine="python-re")


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------
ProductType = Literal["oefensoftware", "digibordsoftware", "toetsen", "leerkrachtomgeving",
                      "naslag", "overig"]


class ProductIn(Schema):
    model_config = STRICT

    name: Name = Field(description="Name of the method, e.g. “Pluspunt 4”.")
    product_type: ProductType = Field("oefensoftware", description="Kind of product; portal "
                                                                   "tiles are sorted by it.")
    icon_url: Url = Field("", description=(
        "Ignored, accepted for compatibility. Klaspoort never loads an icon from your server "
        "into a pupil's browser: upload the icon in the publisher portal (PNG or JPEG, "
        "32x32 to 1024x1024 pixels, at most 256 KB) and Klaspoort serves it itself."))
    year_groups: list[YearGroup] = Field(default_factory=list, max_length=8, description=(
        "Jaargroepen 1-8 the method is for; groups of these year groups are linked "
        "automatically. Empty: the school chooses."))
    launch_url: Url = Field("", description="Where a signed-in user starts (https), or empty.")
    allows_group_licences: StrictBool = Field(True, description="Contracts per group are "
                                                                "possible.")
    allows_child_licences: StrictBool = Field(True, description="Contracts per child are "
                                                                "possible.")
    replaces: Code = Field(None, description=(  # type: ignore[assignment]
        "Code of your older product this one replaces (a newer version of the method); leave "
        "out when none."))


class ProductOut(Schema):
    code: str = Field(description="Your product code, unique within your products.")
    name: str
    product_type: str
    icon_url: str = Field(description=(
        "Klaspoort's address (a path) of the icon you uploaded in the publisher portal, or "
        "empty when there is none."))
    year_groups: list[int]
    launch_url: str
    allows_group_licences: bool
    allows_child_licences: bool
    replaces: str | None = Field(None, description="Code of the product this one replaces.")

    @staticmethod
    def resolve_replaces(obj: Product) -> str | None:
        return obj.replaces.code if obj.replaces else None

    @staticmethod
    def resolve_icon_url(obj: Product) -> str:
        return icons.url_of(obj)


_PRODUCT_IN = TypeAdapter(ProductIn)


def _schema_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


def _inline(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """A request body's JSON Schema with its definitions inlined, for openapi_extra."""
    schema = adapter.json_schema(ref_template="#/$defs/{model}")
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            # The discriminator's mapping points into $defs, gone once inlined; the oneOf
            # variants tell themselves apart by their "type" constant all the same.
            return {key: resolve(value) for key, value in node.items()
                    if key != "discriminator"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


@router.get("/products", response={200: list[ProductOut], **ERRORS}, summary="Your products")
def list_products(request: HttpRequest) -> Any:
    _only_query(request)
    return Product.objects.filter(publisher=_publisher(request)).select_related(
        "replaces", "icon").defer("icon__data").order_by("code")


@router.put("/products/{code}", response={200: ProductOut, 201: ProductOut, **ERRORS},
            summary="Create or update one product",
            openapi_extra=_schema_body(_inline(_PRODUCT_IN)))
def put_product(request: HttpRequest, code: Code) -> Any:
    _only_query(request)
    publisher = _publisher(request)
    payload = _validated(_PRODUCT_IN, request)
    # `icon_url` is validated but not kept: save_product takes no icon address (decision 0021).
    data = payload.model_dump()
    replaces_code = data.pop("replaces")
    data["replaces"] = None
    if replaces_code:
        data["replaces"] = Product.objects.filter(publisher=publisher,
                                                  code=replaces_code.strip()).first()
        if data["replaces"] is None:
            return Status(422, {"detail": _("Unknown product code %(code)s in replaces.")
                         % {"code": contract_import.shown(replaces_code)},
                         "errors": [{"line": 0, "field": "replaces",
                                     "message": _("Unknown product code.")}]})
    data["name"] = data["name"].strip()
    try:
        product, created = save_product(publisher, code.strip(), data, actor=None,
                                        request=request)
    except DjangoValidationError as exc:
        errors = [{"line": 0, "field": name, "message": message}
                  for name, messages in getattr(exc, "message_dict", {"": exc.messages}).items()
                  for message in messages]
        return Status(422, {"detail": _("The product is not valid."), "errors": errors})
    return Status((201 if created else 200), product)


# ---------------------------------------------------------------------------------------------
# Contracts
# ---------------------------------------------------------------------------------------------
class _ContractFields(Schema):
    """One contract, with the field names of the CSV format."""

    model_config = STRICT

    brin6: Brin6 = Field(description=(
        "School location: BRIN (4) + location code (2), e.g. 99ZZ00. Accepted whether or not "
        "the school uses Klaspoort yet; the contract takes effect when it does."))
    product_code: Code = Field(description="Your product code.")
    product_name: Name = Field(None, description=(  # type: ignore[assignment]
        "Only needed when the product code is new: the product is then added."))
    product_type: ProductType = Field(None, description=(  # type: ignore[arg-type]
        "Only needed when the product code is new."))
    year_groups: list[YearGroup] = Field(default_factory=list, max_length=8, description=(
        "Only for a new product: year groups 1-8."))
    title: Name = Field(description="Title as the school sees it.")
    start: IsoDate = Field(description="First day.", examples=["2026-08-01"])
    end: IsoDate = Field(description="Last day (inclusive), not before start.",
                         examples=["2027-07-31"])
    publisher: Name = Field(None, description=(  # type: ignore[assignment]
        "Optional; if given, must be your own publisher's name."))


class _GroupContract(_ContractFields):
    type: Literal["group"] = Field(description="group: Normaal, per group (no seats).")


class _ChildContract(_ContractFields):
    type: Literal["child"] = Field(description="child: per kind, with seats.")
    seats: Seats = Field(description="Number of children.")


class GroupContractIn(_GroupContract):
    contract_number: Code = Field(None, description=(  # type: ignore[assignment]
        "Optional; must equal the number in the URL."))


class ChildContractIn(_ChildContract):
    contract_number: Code = Field(None, description=(  # type: ignore[assignment]
        "Optional; must equal the number in the URL."))


class GroupContractItem(_GroupContract):
    contract_number: Code = Field(description="The contract number.")


class ChildContractItem(_ChildContract):
    contract_number: Code = Field(description="The contract number.")


ContractIn = Annotated[GroupContractIn | ChildContractIn, Field(discriminator="type")]
ContractItem = Annotated[GroupContractItem | ChildContractItem, Field(discriminator="type")]


class ContractBatchIn(Schema):
    model_config = STRICT

    contracts: list[ContractItem] = Field(min_length=1, max_length=MAX_BATCH,
                                          description=f"1 to {MAX_BATCH} contracts.")
    confirm_partial: StrictBool = Field(False, description=(
        "false: when any contract breaks a contract rule (e.g. an end before its start, an "
        "unknown product), nothing is applied (422). true: the good contracts are applied and "
        "the others reported (200). A body the schema refuses is always 422."))


_CONTRACT_IN: TypeAdapter[Any] = TypeAdapter(ContractIn)
_BATCH_IN = TypeAdapter(ContractBatchIn)


class ContractOut(Schema):
    contract_number: str = Field(alias="number")
    brin6: str
    title: str
    product_code: str
    start: str
    end: str
    type: str = Field(alias="contract_type")
    seats: int | None
    cancelled_until: str | None = Field(None, description=(
        "Set when the school cancelled (opzeggen): the contract ends on this day."))

    @staticmethod
    def resolve_product_code(obj: Contract) -> str:
        return obj.product.code

    @staticmethod
    def resolve_start(obj: Contract) -> str:
        return obj.start.isoformat()

    @staticmethod
    def resolve_end(obj: Contract) -> str:
        return obj.end.isoformat()

    @staticmethod
    def resolve_cancelled_until(obj: Contract) -> str | None:
        return obj.cancelled_until.isoformat() if obj.cancelled_until else None


class ContractPageOut(Schema):
    items: list[ContractOut]
    count: int = Field(description="Number of contracts matching, over all pages.")


class ImportResultOut(Schema):
    created: int
    updated: int
    unchanged: int
    applied: bool = Field(description="true: the good contracts were applied.")
    errors: list[RowErrorOut] = Field(description="The contracts that were not applied.")


class ContractFilter(Schema):
    brin6: Brin6 = Field(None, description=(  # type: ignore[assignment]
        "Only contracts for this school location."))
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.get("/contracts", response={200: ContractPageOut, **ERRORS}, summary="Your contracts")
def list_contracts(request: HttpRequest, filters: Query[ContractFilter]) -> Any:
    _only_query(request, "brin6", "limit", "offset")
    rows = (Contract.objects.filter(publisher=_publisher(request))
            .select_related("product").order_by("number"))
    if filters.brin6:
        rows = rows.filter(brin6=filters.brin6)
    return {"items": list(rows[filters.offset:filters.offset + filters.limit]),
            "count": rows.count()}


def _rows(contracts: list[Any]) -> list[dict[str, Any]]:
    """Validated contracts as rows of the shared contract format."""
    rows = []
    for item in contracts:
        row = item.model_dump(exclude_none=True)
        row["seats"] = str(row["seats"]) if "seats" in row else ""
        rows.append(row)
    return rows


@router.post("/contracts/batch", response={200: ImportResultOut, **ERRORS},
             summary="Create or update many contracts at once",
             openapi_extra=_schema_body(_inline(_BATCH_IN)))
def batch_contracts(request: HttpRequest) -> Any:
    _only_query(request)
    body = _validated(_BATCH_IN, request, lines_from="contracts")
    parsed = contract_import.parse_dicts(_rows(body.contracts))
    result = publisher_services.apply_contract_rows(
        parsed, publisher=_publisher(request), actor=None, source=_source(request),
        confirm_partial=body.confirm_partial, request=request)
    if not result.applied:
        return Status(422, {"detail": _("Some contracts are not valid; nothing has been "
                                        "changed."),
                            "errors": [error.as_dict() for error in result.errors]})
    return Status(200, result.as_dict())


# Declared after the batch route: "/contracts/batch" must not be taken for a contract number.
@router.put("/contracts/{number}", response={200: ContractOut, 201: ContractOut, **ERRORS},
            summary="Create or update one contract",
            openapi_extra=_schema_body(_inline(_CONTRACT_IN)))
def put_contract(request: HttpRequest, number: Code) -> Any:
    _only_query(request)
    payload = _validated(_CONTRACT_IN, request)
    if payload.contract_number not in (None, number):
        return Status(422, {"detail": _("The contract number in the body differs from the URL."),
                     "errors": [{"line": 1, "field": "contract_number",
                                 "message": _("Must equal the URL.")}]})
    row = {**_rows([payload])[0], "contract_number": number}
    parsed = contract_import.parse_dicts([row])
    result = publisher_services.apply_contract_rows(
        parsed, publisher=_publisher(request), actor=None, source=_source(request),
        request=request)
    if not result.applied:
        return Status(422, {"detail": _("The contract is not valid; nothing has been changed."),
                     "errors": [error.as_dict() for error in result.errors]})
    contract = result.contracts[0]
    return Status((201 if result.created else 200), contract)


# ---------------------------------------------------------------------------------------------
# The roster a publisher sees: change feed and snapshots (issue 13, decision 0030)
# ---------------------------------------------------------------------------------------------
# Pages of up to 5,000 events: a publisher that sees the whole country (1.7 million records)
# reads it from 0 in a few hundred requests, well inside the rate limit.
MAX_EVENTS = 5000
SchoolRef = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64,
                                                   pattern=r"^[0-9a-f]{1,64}$")]
Cursor = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64,
                                                pattern=r"^[A-Za-z0-9_-]+$")]


class SchoolOut(Schema):
    id: str = Field(description="The school's id for you (the `school_id` claim of your ID "
                                "tokens).")
    name: str
    brin6: str = Field(description="BRIN (4) + location code (2).")


class GroupOut(Schema):
    id: str = Field(description="The group's id for you; the same in the `groups` claim.")
    school_id: str
    name: str = Field(description="As the school calls it, e.g. “Groep 5a”.")
    year_group: str = Field(description="Jaargroep 1-8, C for a combination group; empty for "
                                        "a cluster.")
    kind: Literal["group", "cluster"]
    active: bool


class PersonOut(Schema):
    id: str = Field(description="The person's id for you: the `sub` of your ID tokens.")
    school_id: str
    role: Literal["pupil", "teacher"]
    given_name: str
    family_name: str = Field(description="The initial of the family name, e.g. “J.”.")
    year_group: str = Field(description="A pupil's jaargroep; empty for a teacher.")
    group_ids: list[str] = Field(description="The groups and clusters you see this person in.")
    active: bool


class EventOut(Schema):
    sequence: int = Field(description="Consecutive per publisher, from 1: no gaps, never "
                                      "repeated. Apply events in this order.")
    type: Literal["added", "changed", "deactivated", "removed"] = Field(description=(
        "added: entered your view (the whole record); changed: the record differs (the whole "
        "record); deactivated: left the school itself (the last record, active false) — "
        "remove it from your roster; removed: left your view (licence ended, group unlinked, "
        "consent withdrawn) — delete what you hold of it."))
    entity: Literal["school", "group", "person"]
    id: str = Field(description="Your id of the school, group or person.")
    school_id: str
    record: dict[str, Any] | None = Field(description=(
        "A school, group or person as in the snapshot; null for removed, and for an earlier "
        "event of something that has since left your view (a later event removes it)."))
    occurred_at: str


class EventPageOut(Schema):
    events: list[EventOut]
    next_cursor: str = Field(description="Ask for the events after this cursor next; keep it "
                                         "when there are no events.")
    has_more: bool = Field(description="true: ask again at once; false: you are up to date.")


class SchoolsOut(Schema):
    cursor: str = Field(description="Where the feed stood when this list was read.")
    schools: list[SchoolOut]


class SnapshotOut(Schema):
    cursor: str = Field(description=(
        "Continue with GET /changes?after=<cursor>: the events after it are exactly what "
        "changed since this snapshot."))
    school: SchoolOut
    groups: list[GroupOut]
    people: list[PersonOut]


class GroupsSnapshotOut(Schema):
    cursor: str
    groups: list[GroupOut]


class PeopleSnapshotOut(Schema):
    cursor: str
    people: list[PersonOut]


class ChangesFilter(Schema):
    after: Cursor = Field(None, description=(  # type: ignore[assignment]
        "The `next_cursor` of your previous page, or the `cursor` of a snapshot; leave out "
        "(or 0) to read from the very first event. Cursors never expire."))
    limit: int = Field(100, ge=1, le=MAX_EVENTS, description=f"At most {MAX_EVENTS}.")


def _bad_cursor() -> Any:
    return Status(400, {"detail": _("This cursor is not valid. Use a next_cursor or snapshot "
                                    "cursor you were given, or 0 to start from the beginning."),
                        "errors": [{"line": 0, "field": "after",
                                    "message": _("Unknown cursor.")}]})


def _json(body: str) -> HttpResponse:
    """A feed answer written out by the feed's selectors (decision 0030: records pass through
    as the database holds them). Its shape is the documented schema; schemathesis checks it."""
    return HttpResponse(body, content_type="application/json")


@router.get("/changes", response={200: EventPageOut, **ERRORS},
            summary="What changed in the schools you see, after a cursor")
def changes(request: HttpRequest, filters: Query[ChangesFilter]) -> Any:
    _only_query(request, "after", "limit")
    publisher_id = _publisher(request).pk
    try:
        after = feed_selectors.sequence_of(publisher_id, filters.after)
    except feed_selectors.BadCursor:
        return _bad_cursor()
    page = feed_selectors.events_after(publisher_id, after, filters.limit)
    cursor = feed_selectors.cursor_for(publisher_id, page.last_sequence)
    return _json(f'{{"events":[{",".join(page.events)}],"next_cursor":"{cursor}",'
                 f'"has_more":{"true" if page.has_more else "false"}}}')


@router.get("/schools", response={200: SchoolsOut, **ERRORS},
            summary="The schools you see (they consent to you)")
def schools(request: HttpRequest) -> Any:
    _only_query(request)
    publisher_id = _publisher(request).pk
    rows, sequence = feed_selectors.visible_schools(publisher_id)
    return {"schools": rows, "cursor": feed_selectors.cursor_for(publisher_id, sequence)}


def _snapshot(request: HttpRequest, school_id: str) -> tuple[feed.Snapshot, str]:
    _only_query(request)
    publisher_id = _publisher(request).pk
    found = feed.snapshot(publisher_id, school_id)
    if found is None:
        raise Http404
    return found, feed_selectors.cursor_for(publisher_id, found.sequence)


@router.get("/schools/{school_id}", response={200: SnapshotOut, **ERRORS},
            summary="Snapshot of a school: its groups and people, and the feed's cursor")
def school_snapshot(request: HttpRequest, school_id: SchoolRef) -> Any:
    found, cursor = _snapshot(request, school_id)
    return _json(f'{{"cursor":"{cursor}","school":{found.school},'
                 f'"groups":[{",".join(found.groups)}],"people":[{",".join(found.people)}]}}')


@router.get("/schools/{school_id}/groups", response={200: GroupsSnapshotOut, **ERRORS},
            summary="Snapshot of a school's groups you see")
def school_groups(request: HttpRequest, school_id: SchoolRef) -> Any:
    found, cursor = _snapshot(request, school_id)
    return _json(f'{{"cursor":"{cursor}","groups":[{",".join(found.groups)}]}}')


@router.get("/schools/{school_id}/people", response={200: PeopleSnapshotOut, **ERRORS},
            summary="Snapshot of a school's pupils and teachers you see")
def school_people(request: HttpRequest, school_id: SchoolRef) -> Any:
    found, cursor = _snapshot(request, school_id)
    return _json(f'{{"cursor":"{cursor}","people":[{",".join(found.people)}]}}')


# ---------------------------------------------------------------------------------------------
# Results and grade boundaries (issue 15): the publisher's software sends its pupils' results;
# the rules are results.services and results.grade_services.
# ---------------------------------------------------------------------------------------------
class ResultsIn(Schema):
    model_config = STRICT

    results: list[results_services.ResultRow] = Field(
        min_length=1, max_length=results_services.MAX_BATCH,
        description=f"1 to {results_services.MAX_BATCH} results.")


_RESULTS_IN = TypeAdapter(ResultsIn)


class ResultRowErrorOut(RowErrorOut):
    message_en: str = Field("", description="The same in English.")

    line: int = Field(description="Position of the result (or band) in the list, from 1; 0 for "
                                  "the request as a whole.")


class ResultsErrorOut(ErrorOut):
    """ErrorOut, with every refused result (or band) in Dutch and English."""

    # A narrower row than ErrorOut's: pydantic takes it, mypy's invariant list does not.
    errors: list[ResultRowErrorOut] = Field(  # type: ignore[assignment]
        default_factory=list, description=(
        "Per result (line = its position in `results`, from 1) or band."))


class IngestOut(Schema):
    created: int = Field(description="Results stored for the first time.")
    updated: int = Field(description="Results you had sent before, changed now: updated and "
                                     "sent to the school's pupil administration again.")
    unchanged: int = Field(description="Results sent before exactly like this: nothing done.")
    refused: int = Field(description="Results not stored; each has its errors below.")
    errors: list[ResultRowErrorOut]


RESULT_ERRORS: dict[int, Any] = {**ERRORS, 422: ResultsErrorOut}


def _results_refused(detail: str, errors: list[Any]) -> Any:
    return Status(422, {"detail": detail, "errors": [error.as_dict() for error in errors]})


@router.post("/results", response={200: IngestOut, **RESULT_ERRORS},
             summary="Send results of your pupils (up to 1,000 at once)",
             openapi_extra=_schema_body(_inline(_RESULTS_IN)))
def post_results(request: HttpRequest) -> Any:
    _only_query(request)
    body = _json_body(request)
    rows = body.get("results") if isinstance(body, dict) else None
    if not isinstance(rows, list) or set(body) != {"results"} or not rows:
        return _results_refused(_("Send an object with one field, results: a list of 1 to "
                                  "%(max)d results.") % {"max": results_services.MAX_BATCH}, [])
    if len(rows) > results_services.MAX_BATCH:
        return _results_refused(_("At most %(max)d results per request; send the others in "
                                  "another request. Nothing has been stored.")
                                % {"max": results_services.MAX_BATCH}, [])
    errors = results_services.shape_errors(rows)
    if errors:
        return _results_refused(_("Some results do not have the documented form; nothing has "
                                  "been stored."), errors)
    try:
        outcome = results_services.ingest_results(_publisher(request), rows)
    except results_services.Conflict:
        raise HttpError(409, _("Another request stored the same result at the same moment; "
                               "send again.")) from None
    return Status(200, outcome.as_dict())


TestType = Annotated[StrictStr, StringConstraints(pattern=grade_services.TEST_TYPE.pattern)]
Grade = Annotated[StrictInt | StrictFloat, Field(ge=1, le=10)]


class BandIn(Schema):
    model_config = STRICT

    term: Annotated[StrictStr, StringConstraints(min_length=1, max_length=64,
                                                 pattern=_FILLED)] = Field(
        description="What the school calls this band, e.g. “voldoende”.")
    grade_from: Grade = Field(description="The band's lowest grade, 1 to 10, one decimal.")
    grade_to: Grade = Field(description="The band's highest grade (inclusive).")


class GradeBoundariesIn(Schema):
    model_config = STRICT

    bands: list[BandIn] = Field(min_length=1, max_length=grade_services.MAX_BANDS, description=(
        "In order from grade 1 to 10, without gaps or overlap: the next band starts one tenth "
        "above where the one before ends."))


_BOUNDARIES_IN = TypeAdapter(GradeBoundariesIn)


class BandOut(Schema):
    term: str
    grade_from: float
    grade_to: float


class GradeBoundariesOut(Schema):
    product_code: str
    test_type: str
    bands: list[BandOut]


def _own_product(request: HttpRequest, code: str) -> Product:
    product = Product.objects.filter(publisher=_publisher(request), code=code).first()
    if product is None:
        raise Http404
    return product


@router.get("/products/{code}/grade-boundaries", response={200: list[GradeBoundariesOut],
                                                           **ERRORS},
            summary="A product's school-grade boundaries, per test type")
def list_grade_boundaries(request: HttpRequest, code: Code) -> Any:
    _only_query(request)
    product = _own_product(request, code)
    boundaries = grade_services.grade_boundaries_for([product.pk])
    return [{"product_code": product.code, "test_type": test_type, "bands": bands}
            for (_pk, test_type), bands in sorted(boundaries.items())]


@router.get("/products/{code}/grade-boundaries/{test_type}",
            response={200: GradeBoundariesOut, **ERRORS},
            summary="A product's school-grade boundaries for one test type")
def get_grade_boundaries(request: HttpRequest, code: Code, test_type: TestType) -> Any:
    _only_query(request)
    product = _own_product(request, code)
    bands = grade_services.grade_boundaries_for([product.pk]).get((product.pk, test_type))
    if bands is None:
        raise Http404
    return {"product_code": product.code, "test_type": test_type, "bands": bands}


@router.put("/products/{code}/grade-boundaries/{test_type}",
            response={200: GradeBoundariesOut, **RESULT_ERRORS},
            summary="Set a product's school-grade boundaries for one test type",
            openapi_extra=_schema_body(_inline(_BOUNDARIES_IN)))
def put_grade_boundaries(request: HttpRequest, code: Code, test_type: TestType) -> Any:
    _only_query(request)
    product = _own_product(request, code)
    body = _validated(_BOUNDARIES_IN, request, lines_from="bands")
    try:
        boundary, _changed = grade_services.set_grade_boundaries(
            _publisher(request), product, test_type,
            [band.model_dump() for band in body.bands],
            actor=SystemActor(_source(request)), request=request)
    except grade_services.GradeBoundariesInvalid as exc:
        return _results_refused(_("The grade boundaries are not valid; nothing has been "
                                  "changed."), exc.errors)
    return {"product_code": product.code, "test_type": boundary.test_type,
            "bands": boundary.bands}


api.add_router("/publisher/v1", router)

from klaspoort.exchange.network_api import network_router  # noqa: E402  (it imports this module)

api.add_router("/network/v1", network_router)

from klaspoort.exchange.las_api import las_router  # noqa: E402  (it imports this module)

api.add_router("/las/v1", las_router)
