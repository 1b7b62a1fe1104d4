"""The LAS push API (issue 14, item 3): a pupil administration (LAS) that pushes sends the
roster of a school that switched it on, as the EDEXML file or UWLR *leerlinggegevens* answer it
would otherwise have served; Klaspoort takes it through the same path as an upload in
*Beheer*. The guide is docs/las.md.

Mounted on the publisher API's NinjaAPI (`klaspoort.exchange.api`, at /api/las/v1/), so it
shares its error shape, error handlers, rate limit and OpenAPI document; it has its own tokens
(`LasApiToken`, made by an operator with `klaspoort las-token`). api.py imports `las_router` at
its end, and this module imports api.py's pieces: so the router is made before that import.
"""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_noop
from ninja import Field, Router, Schema, Status
from ninja.security import HttpBearer

from klaspoort.exchange import las_selectors, las_services
from klaspoort.exchange.services import las_token_for
from klaspoort.i18n import bilingual as _
from klaspoort.roster.edexml import max_bytes
from klaspoort.roster.models import LasSystem, RosterImport


class LasToken(HttpBearer):
    """A LAS's API token (exchange.LasApiToken); revoked tokens, and tokens of a LAS taken out
    of the catalogue, are refused. A known token is then held to the same rate as a
    publisher's."""

    def __call__(self, request: HttpRequest) -> Any:
        las = super().__call__(request)
        if las is None:
            return None
        _count_request(request.las_token.digest)  # type: ignore[attr-defined]
        return las

    def authenticate(self, request: HttpRequest, token: str) -> LasSystem | None:
        row = las_token_for(token.strip())
        if row is None:
            return None
        request.las_token = row  # type: ignore[attr-defined]
        return row.las


las_router = Router(tags=["LAS v1"], auth=LasToken())

# After the router: importing api.py first thing would have it mount a router not yet made.
from klaspoort.exchange.api import (  # noqa: E402
    ERRORS,
    ErrorOut,
    RowErrorOut,
    _count_request,
    _only_query,
)

XML_TYPES = ("application/xml", "text/xml", "application/soap+xml")
AUTH = ("For pupil administrations (LAS) that push. Authenticate with the token Klaspoort's "
        "operator made for you: `Authorization: Bearer kpl_…`. Same rate limit and error "
        "shape as the publisher API. ")
ImportStatus = Literal["received", "waiting", "held", "processed", "failed", "cancelled"]


class FileMessageOut(RowErrorOut):
    """An error row of the publisher API's shape, with the English alongside."""

    line: int = Field(description="Line in the file, from 1; 0 for the file as a whole.")
    field: str = Field("", description="Always empty: a roster file's messages name the "
                                       "element in their text.")
    message: str = Field(description="What is wrong or was dropped, in Dutch.")
    message_en: str = Field("", description="The same in English (the Dutch when Klaspoort "
                                            "has no English for it).")


class FileErrorOut(ErrorOut):
    """ErrorOut, with every error of the file in Dutch and English."""

    # A narrower row than ErrorOut's: pydantic takes it, mypy's invariant list does not.
    errors: list[FileMessageOut] = Field(  # type: ignore[assignment]
        default_factory=list,
        description="Every error found in the file, in Dutch and English.")


class PushAcceptedOut(Schema):
    import_id: int = Field(description="The import's number: ask its status with it.")
    status: ImportStatus = Field(description=(
        "waiting: applied in the coming nightly run; held: it would deactivate a large part "
        "of the school, so it waits until one of the school's coordinators confirms it."))
    status_url: str = Field(description="GET this address for the import's status.")


class ImportStatusOut(Schema):
    import_id: int
    brin6: str = Field(description="The school location the file was for.")
    status: ImportStatus = Field(description=(
        "waiting: applied in the coming nightly run; held: it would deactivate a large part "
        "of the school and waits for a coordinator's confirmation; processed: applied; "
        "failed: not applied (see errors); cancelled: not applied, a newer file of the school "
        "replaced it or a coordinator cancelled it."))
    status_text: str = Field(description="The status explained, in Dutch.")
    status_text_en: str = Field(description="The same in English.")
    received_at: str
    processed_at: str | None = Field(description="When it was applied or failed; null while "
                                                 "it waits.")
    counts: dict[str, dict[str, int]] = Field(description=(
        "Once processed: per kind (groups, pupils, teachers) how many were added, changed and "
        "deactivated. Empty until then."))
    errors: list[FileMessageOut]
    warnings: list[FileMessageOut] = Field(description=(
        "What was accepted but dropped or corrected; never stops the import."))


STATUS_TEXTS = {
    RosterImport.Status.RECEIVED: gettext_noop("Received; it is being checked."),
    RosterImport.Status.WAITING: gettext_noop(
        "Accepted; it is applied in the coming nightly run."),
    RosterImport.Status.HELD: gettext_noop(
        "Accepted, but it would deactivate a large part of the school: it waits until one of "
        "the school's coordinators confirms it."),
    RosterImport.Status.PROCESSED: gettext_noop("Applied to the school's roster."),
    RosterImport.Status.FAILED: gettext_noop("Not applied: see the errors."),
    RosterImport.Status.CANCELLED: gettext_noop(
        "Not applied: a newer file of the school replaced it, or a coordinator cancelled it."),
}


def _las(request: HttpRequest) -> LasSystem:
    return request.auth  # type: ignore[attr-defined, no-any-return]


def _messages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"line": row.get("line") or 0, "field": "", "message": row.get("message", ""),
             "message_en": row.get("message_en") or row.get("message", "")} for row in rows]


def _status_url(request: HttpRequest, record: RosterImport) -> str:
    return request.build_absolute_uri(reverse("api:las_import_status",
                                              kwargs={"import_id": record.pk}))


def _body(request: HttpRequest) -> bytes | Status:
    """The request body, read from the stream up to the roster size limit (Django's own
    in-memory limit for request.body is far smaller than a school's roster), or the answer
    that refuses it."""
    limit = max_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = Status(413, {"detail": _("The request body is too large (at most %(kb)d kB).")
                             % {"kb": limit // 1024}})
    if length > limit:
        return too_large
    if (request.content_type or "").lower() not in XML_TYPES:
        return Status(415, {"detail": _("Send the roster as XML (Content-Type: application/xml "
                                        "or text/xml).")})
    data = request.read(limit + 1)
    if len(data) > limit:
        return too_large
    # UTF-16 has NUL bytes between ASCII characters, and the reader takes it with its byte
    # order mark; in any other XML a NUL byte is never allowed.
    if b"\x00" in data and data[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        return Status(400, {"detail": _("The body contains NUL bytes, which XML does not allow. "
                                        "Send the roster file as it was exported.")})
    return data


ROSTER_BODY = {"requestBody": {"required": True, "content": {
    media: {"schema": {"type": "string", "format": "binary", "description": (
        "An EDEXML file (1.03, 2.0 or 2.1), or a UWLR Leerlinggegevens answer "
        "(leerlinggegevens_antwoord, bare or in a SOAP envelope).")}}
    for media in XML_TYPES}}}


@las_router.post("/roster", url_name="las_push_roster",
                 response={202: PushAcceptedOut, **ERRORS, 422: FileErrorOut},
                 summary="Send a school's roster",
                 description=AUTH + (
                     "The whole roster of one school location, as an EDEXML file or a UWLR "
                     "leerlinggegevens answer; the school is the one the file names (brincode "
                     "and dependancecode). Taken only for a school whose ICT coordinator "
                     "switched you on under *Automatische koppeling*; for any other school "
                     "(also one that does not use Klaspoort) the answer is 403 and nothing is "
                     "stored. An accepted file is checked like an upload and answers 202: it "
                     "is applied in the coming nightly run, or held when it would deactivate "
                     "a large part of the school. A file that is not a valid roster answers "
                     "422 with every error, and nothing is stored. 413 above the size limit, "
                     "415 for another content type, 400 for NUL bytes."),
                 openapi_extra=ROSTER_BODY)
def push_roster(request: HttpRequest) -> Any:
    _only_query(request)
    data = _body(request)
    if isinstance(data, Status):
        return data
    try:
        record = las_services.receive_push(_las(request), data)
    except las_services.PushRefused:
        return Status(403, {"detail": _(
            "Klaspoort accepts a roster from this LAS only for a school location whose ICT "
            "coordinator switched this LAS on under Automatische koppeling; that is not so for "
            "the school this file names. Nothing has been stored.")})
    except las_services.PushInvalid as exc:
        return Status(422, {"detail": _("The file is not a valid roster; nothing has been "
                                        "stored."), "errors": _messages(exc.errors)})
    return Status(202, {"import_id": record.pk, "status": record.status,
                        "status_url": _status_url(request, record)})


@las_router.get("/roster/{import_id}", url_name="las_import_status",
                response={200: ImportStatusOut, **ERRORS},
                summary="The status of a roster you sent",
                description=AUTH + (
                    "An import you sent, while the school's coupling with you is switched "
                    "on: its status, and once processed what it changed. 404 for any other "
                    "import, the same as for an unknown number."))
def import_status(request: HttpRequest, import_id: int) -> Any:
    _only_query(request)
    if not 1 <= import_id <= 2**63 - 1:
        raise Http404
    record = las_selectors.pushed_import(_las(request), import_id)
    if record is None:
        raise Http404
    assert record.school is not None
    text = STATUS_TEXTS[RosterImport.Status(record.status)]
    with translation.override(settings.LANGUAGE_CODE):
        dutch = translation.gettext(text)
    return {"import_id": record.pk, "brin6": record.school.brin6, "status": record.status,
            "status_text": dutch, "status_text_en": text,
            "received_at": record.received_at.isoformat(),
            "processed_at": record.processed_at.isoformat() if record.processed_at else None,
            "counts": record.counts or {}, "errors": _messages(record.errors),
            "warnings": _messages(record.warnings)}
