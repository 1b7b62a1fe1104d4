"""The publisher API (R5.1, R6.2): a publisher's systems keep its products and contracts in
Klaspoort up to date with a token made in the publisher portal.

Contracts go through the same validation and service as the CSV upload
(klaspoort.licences.contract_import), so a row is judged the same way wherever it comes from.
Their bodies are read by that validator, not by pydantic, so every error is a per-row Dutch
message with a field name; the schemas below still document them in the OpenAPI.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import HttpBearer

from klaspoort.exchange.services import token_for
from klaspoort.licences import contract_import, services
from klaspoort.licences.models import Contract, Product
from klaspoort.licences.services import save_product
from klaspoort.schools.models import Publisher

MAX_BATCH = 1000
DESCRIPTION = """
Publishers keep their **products** and **contracts** in Klaspoort up to date.

Authenticate with a token made by your publisher admin in the publisher portal (*API-sleutels*):
`Authorization: Bearer kp_…`. Everything you send and read is your own publisher's: contract
numbers and product codes are yours alone (another publisher may use the same number).

Contracts are keyed by their number: sending a contract again updates it. Errors are answered as
JSON with status 422 and per-row errors: `{"detail": "…", "errors": [{"line", "field",
"message"}]}` (`line` is the position in the list, from 1; 0 for the request as a whole).
Messages are in Dutch, the language of the schools.
"""


class PublisherToken(HttpBearer):
    """A publisher's API token (exchange.PublisherApiToken); revoked tokens are refused."""

    def authenticate(self, request: HttpRequest, token: str) -> Publisher | None:
        row = token_for(token.strip())
        if row is None:
            return None
        request.publisher = row.publisher  # type: ignore[attr-defined]
        request.api_token = row  # type: ignore[attr-defined]
        return row.publisher


api = NinjaAPI(title="Klaspoort publisher API", version="1", description=DESCRIPTION,
               urls_namespace="api", docs_url="/docs", openapi_url="/openapi.json",
               auth=PublisherToken())
router = Router(tags=["publisher v1"])


# ---------------------------------------------------------------------------------------------
# Errors: always JSON, never a 500 for what a client sent.
# ---------------------------------------------------------------------------------------------
class RowErrorOut(Schema):
    line: int = Field(description="Position of the contract in the list, from 1; 0 for the "
                                  "request as a whole.")
    field: str = Field(description="Field name as in the contract format, or empty.")
    message: str = Field(description="What is wrong, in Dutch.")


class ErrorOut(Schema):
    detail: str = Field(description="What went wrong, in Dutch.")
    errors: list[RowErrorOut] = Field(default_factory=list, description="Per-field errors.")


def _error(request: HttpRequest, status: int, detail: str,
           errors: list[dict[str, Any]] | None = None) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or []},
                               status=status)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query",
                                                                                "path")]
        errors.append({"line": 0, "field": ".".join(location),
                       "message": _("Invalid value: %(reason)s") % {"reason": error.get("msg")}})
    return _error(request, 422, _("The request is not valid."), errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(request, 401, _("A valid API token is required "
                                      "(Authorization: Bearer <token>)."))
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return _error(request, 400, _("The request body is not valid JSON."))
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, _("Not found."))


def _json_body(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError):
        raise HttpError(400, "invalid json") from None


def _source(request: HttpRequest) -> str:
    """Recorded in the audit trail: which token made the change (the API has no user)."""
    return f"api:{request.api_token.prefix}"  # type: ignore[attr-defined]


def _publisher(request: HttpRequest) -> Publisher:
    return request.auth  # type: ignore[attr-defined, no-any-return]


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------
ProductType = Literal["oefensoftware", "digibordsoftware", "toetsen", "leerkrachtomgeving",
                      "naslag", "overig"]


class ProductIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="Name of the method, e.g. "
                                                                "“Pluspunt 4”.")
    product_type: ProductType = Field("oefensoftware", description="Kind of product; portal "
                                                                   "tiles are sorted by it.")
    icon_url: str = Field("", max_length=200, description="Address of a square icon (https).")
    year_groups: list[int] = Field(default_factory=list, max_length=8, description=(
        "Jaargroepen 1-8 the method is for; groups of these year groups are linked "
        "automatically. Empty: the school chooses."))
    launch_url: str = Field("", max_length=200, description="Where a signed-in user starts.")
    allows_group_licences: bool = Field(True, description="Contracts per group are possible.")
    allows_child_licences: bool = Field(True, description="Contracts per child are possible.")
    replaces: str | None = Field(None, max_length=64, description=(
        "Code of your older product this one replaces (a newer version of the method)."))


class ProductOut(Schema):
    code: str = Field(description="Your product code, unique within your products.")
    name: str
    product_type: str
    icon_url: str
    year_groups: list[int]
    launch_url: str
    allows_group_licences: bool
    allows_child_licences: bool
    replaces: str | None = Field(None, description="Code of the product this one replaces.")

    @staticmethod
    def resolve_replaces(obj: Product) -> str | None:
        return obj.replaces.code if obj.replaces else None


@router.get("/products", response=list[ProductOut], summary="Your products")
def list_products(request: HttpRequest) -> Any:
    return Product.objects.filter(publisher=_publisher(request)).select_related("replaces")


@router.put("/products/{code}", response={200: ProductOut, 201: ProductOut, 422: ErrorOut},
            summary="Create or update one product")
def put_product(request: HttpRequest, code: str, payload: ProductIn) -> Any:
    publisher = _publisher(request)
    if not code.strip() or len(code) > 64:
        return Status(422, {"detail": _("A product code has 1 to 64 characters."), "errors": []})
    data = payload.dict()
    replaces_code = data.pop("replaces")
    data["replaces"] = None
    if replaces_code:
        data["replaces"] = Product.objects.filter(publisher=publisher, code=replaces_code).first()
        if data["replaces"] is None:
            return Status(422, {"detail": _("Unknown product code %(code)s in replaces.")
                         % {"code": replaces_code[:40]},
                         "errors": [{"line": 0, "field": "replaces",
                                     "message": _("Unknown product code.")}]})
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
class ContractIn(Schema):
    """One contract, with the field names of the CSV format."""

    brin6: str = Field(description="School location: BRIN (4) + location code (2), e.g. "
                                   "99ZZ00. The school must be known in Klaspoort.")
    product_code: str = Field(max_length=64, description="Your product code.")
    product_name: str | None = Field(None, max_length=200, description=(
        "Only needed when the product code is new: the product is then added."))
    product_type: ProductType | None = Field(None, description="Only for a new product.")
    year_groups: list[int] | str | None = Field(None, description=(
        "Only for a new product: year groups 1-8, as a list or like \"4;5\"."))
    title: str = Field(max_length=200, description="Title as the school sees it.")
    start: str = Field(description="First day, YYYY-MM-DD.", examples=["2026-08-01"])
    end: str = Field(description="Last day (inclusive), YYYY-MM-DD, not before start.",
                     examples=["2027-07-31"])
    type: Literal["group", "child"] = Field(description="group: Normaal, per group; child: per "
                                                        "kind, with seats.")
    seats: int | None = Field(None, description="Number of children; only (and required) for "
                                                "type child.")
    publisher: str | None = Field(None, description="Optional; if given, must be your own "
                                                    "publisher's name.")
    contract_number: str | None = Field(None, max_length=64, description=(
        "In a batch: the contract number (required). In PUT: optional, must equal the URL."))


class ContractBatchIn(Schema):
    contracts: list[ContractIn] = Field(description=f"At most {MAX_BATCH} contracts.")
    confirm_partial: bool = Field(False, description=(
        "false: when any contract is bad, nothing is applied (422). true: the good contracts "
        "are applied and the bad ones reported (200)."))


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
    def resolve_brin6(obj: Contract) -> str:
        return obj.school.brin6

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


class ImportResultOut(Schema):
    created: int
    updated: int
    unchanged: int
    applied: bool = Field(description="false: nothing was applied (see errors).")
    errors: list[RowErrorOut]


def _schema_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


def _contract_schema() -> dict[str, Any]:
    return ContractIn.model_json_schema(ref_template="#/components/schemas/{model}")


def _batch_schema() -> dict[str, Any]:
    schema = ContractBatchIn.model_json_schema(ref_template="#/components/schemas/{model}")
    # The contract schema itself is inlined: this body is read by the shared validator.
    schema.pop("$defs", None)
    schema["properties"]["contracts"]["items"] = _contract_schema()
    return schema


@router.get("/contracts", response=list[ContractOut], summary="Your contracts")
@paginate(LimitOffsetPagination)
def list_contracts(request: HttpRequest, brin6: str | None = None) -> Any:
    rows = (Contract.objects.filter(publisher=_publisher(request))
            .select_related("school", "product").order_by("number"))
    if brin6:
        brin6 = brin6.strip().upper()
        rows = rows.filter(school__brin=brin6[:4], school__dependancecode=brin6[4:6])
    return rows


@router.post("/contracts/batch", response={200: ImportResultOut, 422: ImportResultOut},
             summary="Create or update many contracts at once",
             openapi_extra=_schema_body(_batch_schema()))
def batch_contracts(request: HttpRequest) -> Any:
    body = _json_body(request)
    empty = {"created": 0, "updated": 0, "unchanged": 0, "applied": False}
    if not isinstance(body, dict) or not isinstance(body.get("contracts"), list):
        return Status(422, {**empty, "errors": [{"line": 0, "field": "contracts", "message": _(
            "The body must be a JSON object with a list “contracts”.")}]})
    items = body["contracts"]
    confirm = body.get("confirm_partial", False)
    if not isinstance(confirm, bool):
        return Status(422, {**empty, "errors": [{"line": 0, "field": "confirm_partial",
                                          "message": _("Must be true or false.")}]})
    if not items or len(items) > MAX_BATCH:
        return Status(422, {**empty, "errors": [{"line": 0, "field": "contracts", "message": _(
            "Send 1 to %(max)d contracts at a time.") % {"max": MAX_BATCH}}]})
    parsed = contract_import.parse_dicts(items)
    result = services.apply_contract_rows(
        parsed, publisher=_publisher(request), actor=None,
        source=_source(request), confirm_partial=confirm, request=request)
    return Status((200 if result.applied else 422), result.as_dict())


# Declared after the batch route: "/contracts/batch" must not be taken for a contract number.
@router.put("/contracts/{number}", response={200: ContractOut, 201: ContractOut, 422: ErrorOut},
            summary="Create or update one contract", openapi_extra=_schema_body(
                _contract_schema()))
def put_contract(request: HttpRequest, number: str) -> Any:
    body = _json_body(request)
    if not isinstance(body, dict):
        return Status(422, {"detail": _("The body must be a JSON object."), "errors": []})
    given = body.get("contract_number")
    if given not in (None, "", number):
        return Status(422, {"detail": _("The contract number in the body differs from the URL."),
                     "errors": [{"line": 1, "field": "contract_number",
                                 "message": _("Must equal the URL.")}]})
    parsed = contract_import.parse_dicts([{**body, "contract_number": number}])
    publisher = _publisher(request)
    result = services.apply_contract_rows(
        parsed, publisher=publisher, actor=None, source=_source(request), request=request)
    if not result.applied:
        return Status(422, {"detail": _("The contract is not valid; nothing has been changed."),
                     "errors": [error.as_dict() for error in result.errors]})
    contract = result.contracts[0]
    return Status((201 if result.created else 200), contract)


api.add_router("/publisher/v1", router)
