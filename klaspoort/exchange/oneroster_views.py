"""OneRoster 1.2 over HTTP (issue 13, decision 0033): the token endpoint, every path of the
official Rostering REST binding (under /ims/oneroster/rostering/v1p2), and the CSV bulk zip.

Thin: the views check the bearer token, its rate and scopes, parse the query parameters, and
answer what klaspoort.exchange.oneroster makes of the publisher's view. Every answer is JSON in
the document's shapes; every refusal an imsx_StatusInfoDType (OAuth errors at the token
endpoint: RFC 6749 §5.2), with the message in English and Dutch.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import logging
import zipfile
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.csrf import csrf_exempt

from klaspoort.addresses import public_url
from klaspoort.exchange import feed
from klaspoort.exchange import oneroster as ors
from klaspoort.exchange.api import TooManyRequests, _count_request
from klaspoort.exchange.models import FeedEvent, hash_token
from klaspoort.exchange.oneroster import Obj, OneRosterError, Roster, not_found
from klaspoort.exchange.oneroster_auth import (
    DEMOGRAPHICS,
    ROSTER,
    ROSTER_CORE,
    Bearer,
    OAuthError,
    bearer_for,
    grant,
)

logger = logging.getLogger(__name__)
Entity = FeedEvent.Entity
CORE = frozenset({ROSTER, ROSTER_CORE})
RELATION = frozenset({ROSTER})
DEMO = frozenset({DEMOGRAPHICS})


def _both(message: str, params: dict[str, Any] | None = None) -> str:
    """A message in English and Dutch: OneRoster's clients are international, the schools'
    helpdesks Dutch."""
    with translation.override("en"):
        english = gettext(message) % (params or {}) if params else gettext(message)
    with translation.override("nl"):
        dutch = gettext(message) % (params or {}) if params else gettext(message)
    return english if english == dutch else f"{english} / {dutch}"


def status_info(code_minor: str, message: str, params: dict[str, Any] | None = None) -> Obj:
    return {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": _both(message, params),
            "imsx_CodeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": code_minor}]}}


def _refusal(exc: OneRosterError) -> JsonResponse:
    return JsonResponse(status_info(exc.code_minor, exc.message, exc.params), status=exc.status)


# ---------------------------------------------------------------------------------------------
# Token endpoint (RFC 6749 §4.4, §5)
# ---------------------------------------------------------------------------------------------
def _token_answer(body: Obj, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def _basic(request: HttpRequest) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, ValueError):
        raise OAuthError("invalid_client", "Unreadable Basic credentials.", 401) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Unreadable Basic credentials.", 401)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """POST grant_type=client_credentials[&scope=…], with HTTP Basic or client_id and
    client_secret in the body."""
    if request.method != "POST":
        response = _token_answer({"error": "invalid_request",
                                  "error_description": "Use POST."}, 405)
        response["Allow"] = "POST"
        return response
    basic_used = False
    try:
        if (request.content_type or "") != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request",
                             "Send the form as application/x-www-form-urlencoded.")
        form = request.POST
        for name in form:
            if len(form.getlist(name)) > 1:
                raise OAuthError("invalid_request", f"{name[:40]} may be given once.")
        credentials = _basic(request)
        basic_used = credentials is not None
        if credentials is None:
            credentials = (form.get("client_id", ""), form.get("client_secret", ""))
        elif "client_secret" in form:
            raise OAuthError("invalid_request", "Use one way to authenticate the client.")
        client_id, secret = credentials
        try:
            _count_request(hash_token("oneroster-token:" + client_id[:64]))
        except TooManyRequests as exc:
            response = _token_answer({"error": "slow_down", "error_description":
                                      "Too many requests for this client."}, 429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        granted = grant(grant_type=form.get("grant_type"), client_id=client_id,
                        secret=secret, scope=form.get("scope"))
    except OAuthError as exc:
        response = _token_answer({"error": exc.error, "error_description": exc.description},
                                 exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = ('Basic realm="OneRoster"' if basic_used
                                            else 'Bearer realm="OneRoster"')
        return response
    return _token_answer({"access_token": granted.access_token, "token_type": "bearer",
                          "expires_in": granted.expires_in, "scope": granted.scope})


# ---------------------------------------------------------------------------------------------
# Rostering: who asks, and what each path answers
# ---------------------------------------------------------------------------------------------
@dataclass
class Ask:
    """One request's publisher, and the parts of its view a path needs."""

    publisher_id: int

    def everything(self) -> Roster:
        return ors.build(self.publisher_id, base_url=settings.SITE_URL)

    def calendar(self) -> Roster:
        return ors.build(self.publisher_id, base_url=settings.SITE_URL, school_ids=[])

    def around(self, sourced_id: str, entity: str) -> Roster:
        """The roster of the school of the object with this id (404 if not seen)."""
        school_pk = ors.school_of(self.publisher_id, sourced_id, entity)
        if school_pk is None:
            raise not_found()
        return ors.build(self.publisher_id, base_url=settings.SITE_URL, school_ids=[school_pk])

    def school(self, sourced_id: str) -> Roster:
        return self.around(sourced_id, Entity.SCHOOL)


Handler = Callable[..., Any]


def _users_with(role: str | None) -> Callable[[list[Obj]], list[Obj]]:
    def pick(users: list[Obj]) -> list[Obj]:
        if role is None:
            return users
        return [u for u in users if any(r["role"] == role for r in u["roles"])]
    return pick


def _enrolled(roster: Roster, class_id: str, role: str) -> list[Obj]:
    ids = {e["user"]["sourcedId"] for e in roster.enrollments
           if e["class"]["sourcedId"] == class_id and e["role"] == role}
    return [u for u in roster.users if u["sourcedId"] in ids]


def _course_roster(ask: Ask, course_id: str) -> Roster:
    roster = ask.school(course_id.rsplit("-", 1)[0])
    roster.one(roster.courses, course_id)
    return roster


def _one(objects: list[Obj], sourced_id: str) -> Obj:
    for obj in objects:
        if obj["sourcedId"] == sourced_id:
            return obj
    raise not_found()


def _term(ask: Ask, term_id: str, answer: list[Obj]) -> list[Obj]:
    """`answer` for a term that exists (the school year's one term), 404 otherwise."""
    _one(ask.calendar().terms(), term_id)
    return answer


def _user(ask: Ask, user_id: str, role: str | None) -> tuple[Roster, Obj]:
    roster = ask.around(user_id, Entity.PERSON)
    user = roster.one(_users_with(role)(roster.users), user_id)
    return roster, user


def _classes_of(ask: Ask, user_id: str, role: str | None) -> list[Obj]:
    roster, _user_obj = _user(ask, user_id, role)
    ids = {e["class"]["sourcedId"] for e in roster.enrollments
           if e["user"]["sourcedId"] == user_id}
    return [c for c in roster.classes if c["sourcedId"] in ids]


def _school_class(ask: Ask, school_id: str, class_id: str) -> Roster:
    roster = ask.school(school_id)
    roster.one(roster.classes, class_id)
    return roster


def _demographics(ask: Ask, **_kwargs: str) -> Any:
    raise OneRosterError(403, "forbidden", gettext_noop("Klaspoort does not give demographics."))


@dataclass(frozen=True)
class Route:
    path: str
    scopes: frozenset[str]
    kind: str
    key: str  # the response's member: "orgs", "org", "users", …
    collection: bool
    handler: Handler


def _routes() -> list[Route]:
    a: list[Route] = []

    def add(path: str, scopes: frozenset[str], kind: str, key: str, handler: Handler,
            collection: bool = True) -> None:
        a.append(Route(path, scopes, kind, key, collection, handler))

    add("academicSessions", CORE, "academicSession", "academicSessions",
        lambda ask: ask.calendar().sessions())
    add("academicSessions/<str:sourcedId>", CORE, "academicSession", "academicSession",
        lambda ask, sourcedId: _one(ask.calendar().sessions(), sourcedId), False)
    add("classes", CORE, "class", "classes", lambda ask: ask.everything().classes)
    add("classes/<str:classSourcedId>/students", RELATION, "user", "users",
        lambda ask, classSourcedId: _enrolled(
            _class_roster(ask, classSourcedId), classSourcedId, "student"))
    add("classes/<str:classSourcedId>/teachers", RELATION, "user", "users",
        lambda ask, classSourcedId: _enrolled(
            _class_roster(ask, classSourcedId), classSourcedId, "teacher"))
    add("classes/<str:sourcedId>", CORE, "class", "class",
        lambda ask, sourcedId: _one(_class_roster(ask, sourcedId).classes, sourcedId), False)
    add("courses", CORE, "course", "courses", lambda ask: ask.everything().courses)
    add("courses/<str:courseSourcedId>/classes", RELATION, "class", "classes",
        lambda ask, courseSourcedId: [
            c for c in _course_roster(ask, courseSourcedId).classes
            if c["course"]["sourcedId"] == courseSourcedId])
    add("courses/<str:sourcedId>", CORE, "course", "course",
        lambda ask, sourcedId: _one(_course_roster(ask, sourcedId).courses, sourcedId), False)
    add("demographics", DEMO, "demographics", "demographics", _demographics)
    add("demographics/<str:sourcedId>", DEMO, "demographics", "demographics", _demographics,
        False)
    add("enrollments", CORE, "enrollment", "enrollments",
        lambda ask: ask.everything().enrollments)
    add("enrollments/<str:sourcedId>", CORE, "enrollment", "enrollment", _enrollment, False)
    add("gradingPeriods", CORE, "academicSession", "academicSessions", lambda ask: [])
    add("gradingPeriods/<str:sourcedId>", CORE, "academicSession", "academicSession",
        _no_grading_period, False)
    for path in ("orgs", "schools"):
        add(path, CORE, "org", "orgs", lambda ask: ask.everything().orgs)
    add("schools/<str:schoolSourcedId>/classes", RELATION, "class", "classes",
        lambda ask, schoolSourcedId: ask.school(schoolSourcedId).classes)
    add("schools/<str:schoolSourcedId>/classes/<str:classSourcedId>/enrollments", RELATION,
        "enrollment", "enrollments", lambda ask, schoolSourcedId, classSourcedId: [
            e for e in _school_class(ask, schoolSourcedId, classSourcedId).enrollments
            if e["class"]["sourcedId"] == classSourcedId])
    for role, plural in (("student", "students"), ("teacher", "teachers")):
        add(f"schools/<str:schoolSourcedId>/classes/<str:classSourcedId>/{plural}", RELATION,
            "user", "users",
            lambda ask, schoolSourcedId, classSourcedId, role=role: _enrolled(
                _school_class(ask, schoolSourcedId, classSourcedId), classSourcedId, role))
    add("schools/<str:schoolSourcedId>/courses", RELATION, "course", "courses",
        lambda ask, schoolSourcedId: ask.school(schoolSourcedId).courses)
    add("schools/<str:schoolSourcedId>/enrollments", RELATION, "enrollment", "enrollments",
        lambda ask, schoolSourcedId: ask.school(schoolSourcedId).enrollments)
    for role, plural in (("student", "students"), ("teacher", "teachers")):
        add(f"schools/<str:schoolSourcedId>/{plural}", RELATION, "user", "users",
            lambda ask, schoolSourcedId, role=role: _users_with(role)(
                ask.school(schoolSourcedId).users))
    add("schools/<str:schoolSourcedId>/terms", RELATION, "academicSession", "academicSessions",
        lambda ask, schoolSourcedId: ask.school(schoolSourcedId).terms())
    for path in ("orgs", "schools"):
        add(f"{path}/<str:sourcedId>", CORE, "org", "org",
            lambda ask, sourcedId: ask.school(sourcedId).org(sourcedId), False)
    people: tuple[tuple[str | None, str, str], ...] = (
        ("student", "students", "studentSourcedId"), ("teacher", "teachers", "teacherSourcedId"),
        (None, "users", "userSourcedId"))
    for only, plural, param in people:
        add(plural, CORE, "user", "users",
            lambda ask, only=only: _users_with(only)(ask.everything().users))
        add(f"{plural}/<str:{param}>/classes", RELATION, "class", "classes",
            lambda ask, only=only, **kw: _classes_of(ask, next(iter(kw.values())), only))
        add(f"{plural}/<str:sourcedId>", CORE, "user", "user",
            lambda ask, sourcedId, only=only: _user(ask, sourcedId, only)[1], False)
    add("terms", CORE, "academicSession", "academicSessions", lambda ask: ask.calendar().terms())
    add("terms/<str:termSourcedId>/classes", RELATION, "class", "classes",
        lambda ask, termSourcedId: _term(ask, termSourcedId, ask.everything().classes))
    add("terms/<str:termSourcedId>/gradingPeriods", RELATION, "academicSession",
        "academicSessions", lambda ask, termSourcedId: _term(ask, termSourcedId, []))
    add("terms/<str:sourcedId>", CORE, "academicSession", "academicSession",
        lambda ask, sourcedId: _one(ask.calendar().terms(), sourcedId), False)
    return a


def _class_roster(ask: Ask, class_id: str) -> Roster:
    roster = ask.around(class_id, Entity.GROUP)
    roster.one(roster.classes, class_id)
    return roster


def _enrollment(ask: Ask, sourcedId: str) -> Obj:
    roster = ask.around(sourcedId.split("-", 1)[0], Entity.GROUP)
    return roster.one(roster.enrollments, sourcedId)


def _no_grading_period(ask: Ask, sourcedId: str) -> Obj:
    raise not_found()


ROUTES = _routes()


# ---------------------------------------------------------------------------------------------
# One answer
# ---------------------------------------------------------------------------------------------
def _bearer(request: HttpRequest) -> Bearer:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    found = bearer_for(value.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise OneRosterError(401, "unauthorisedrequest", gettext_noop(
            "A valid access token is required (Authorization: Bearer <token>, from the token "
            "endpoint)."))
    return found


def _links(request: HttpRequest, offset: int, limit: int, total: int) -> str:
    """The Link header of a page (REST binding §3.4): first, prev, next, last."""
    params = {name: request.GET.getlist(name) for name in request.GET}

    def link(rel: str, at: int) -> str:
        query = {**params, "limit": [str(limit)], "offset": [str(max(at, 0))]}
        return f'<{public_url(request.path)}?{urlencode(query, doseq=True)}>; rel="{rel}"'

    last = max((total - 1) // limit * limit, 0)
    rels = [link("first", 0)]
    if offset > 0:
        rels.append(link("prev", offset - limit))
    if offset + limit < total:
        rels.append(link("next", offset + limit))
    rels.append(link("last", last))
    return ", ".join(rels)


def _admitted(request: HttpRequest, scopes: AbstractSet[str]) -> Bearer | HttpResponse:
    """RULE for every OneRoster read: GET or HEAD only (405), a live bearer token
    (OneRosterError 401), within the client's rate (429 with Retry-After), and a scope the path
    accepts (OneRosterError 403). The bearer, or the refusal to send."""
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse(status_info("invaliddata", gettext_noop("Only GET is supported.")),
                                status=405)
        response["Allow"] = "GET, HEAD"
        return response
    bearer = _bearer(request)
    try:
        _count_request(hash_token("oneroster:" + bearer.client.client_id))
    except TooManyRequests as exc:
        response = JsonResponse(status_info("server_busy", gettext_noop(
            "Too many requests for this client; try again in %(seconds)d seconds."),
            {"seconds": exc.retry_after}), status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if not scopes & bearer.scopes:
        raise OneRosterError(403, "forbidden", gettext_noop(
            "The access token does not have the scope this path needs."))
    return bearer


def _answer(request: HttpRequest, route: Route, kwargs: dict[str, str]) -> HttpResponse:
    try:
        bearer = _admitted(request, route.scopes)
        if isinstance(bearer, HttpResponse):
            return bearer
        query = ors.parse_query(route.kind, request.GET, collection=route.collection)
        found = route.handler(Ask(bearer.client.publisher_id), **kwargs)
    except OneRosterError as exc:
        response = _refusal(exc)
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="OneRoster"'
        elif exc.status == 403 and exc.code_minor == "forbidden":
            response["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
        return response
    if not route.collection:
        return JsonResponse({route.key: ors.shaped(route.kind, found, query)})
    page, total = ors.select(route.kind, found, query)
    response = JsonResponse({route.key: page})
    response["X-Total-Count"] = str(total)
    response["Link"] = _links(request, query.offset, query.limit, total)
    return response


def _guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, **kwargs)
        except Exception:
            # Our fault, never the client's: logged, answered in the document's shape.
            logger.exception("OneRoster error at %s", request.path)
            return JsonResponse(status_info("internal_server_error", gettext_noop(
                "Something went wrong on our side; please try again later.")), status=500)
    return csrf_exempt(wrapped)


def rostering_view(route: Route) -> Callable[..., HttpResponse]:
    return _guarded(lambda request, **kwargs: _answer(request, route, kwargs))


@_guarded
def unknown_path(request: HttpRequest, **_kwargs: Any) -> HttpResponse:
    return _refusal(OneRosterError(404, "unknownobject", gettext_noop(
        "There is no such OneRoster path.")))


# ---------------------------------------------------------------------------------------------
# CSV bulk: one school's OneRoster 1.2 CSV files in a zip
# ---------------------------------------------------------------------------------------------
CSV_HEADERS = {
    "orgs.csv": ("sourcedId", "status", "dateLastModified", "name", "type", "identifier",
                 "parentSourcedId"),
    "academicSessions.csv": ("sourcedId", "status", "dateLastModified", "title", "type",
                             "startDate", "endDate", "parentSourcedId", "schoolYear"),
    "courses.csv": ("sourcedId", "status", "dateLastModified", "schoolYearSourcedId", "title",
                    "courseCode", "grades", "orgSourcedId", "subjects", "subjectCodes"),
    "classes.csv": ("sourcedId", "status", "dateLastModified", "title", "grades",
                    "courseSourcedId", "classCode", "classType", "location", "schoolSourcedId",
                    "termSourcedIds", "subjects", "subjectCodes", "periods"),
    "users.csv": ("sourcedId", "status", "dateLastModified", "enabledUser", "username",
                  "userIds", "givenName", "familyName", "middleName", "identifier", "email",
                  "sms", "phone", "agentSourcedIds", "grades", "password",
                  "userMasterIdentifier", "resourceSourcedIds", "preferredGivenName",
                  "preferredMiddleName", "preferredFamilyName", "primaryOrgSourcedId",
                  "pronouns"),
    "roles.csv": ("sourcedId", "status", "dateLastModified", "userSourcedId", "roleType",
                  "role", "beginDate", "endDate", "orgSourcedId", "userProfileSourcedId"),
    "enrollments.csv": ("sourcedId", "status", "dateLastModified", "classSourcedId",
                        "schoolSourcedId", "userSourcedId", "role", "primary", "beginDate",
                        "endDate"),
}
MANIFEST_FILES = ("academicSessions", "categories", "classes", "classResources", "courses",
                  "courseResources", "demographics", "enrollments",
                  "lineItemLearningObjectiveIds", "lineItems", "lineItemScoreScales", "orgs",
                  "resources", "resultLearningObjectiveIds", "results", "resultScoreScales",
                  "roles", "scoreScales", "userProfiles", "userResources", "users")


def _ref(obj: Obj, name: str) -> str:
    value = obj.get(name)
    return value["sourcedId"] if isinstance(value, dict) else ""


def _list(values: list[str]) -> str:
    return ",".join(values)


def csv_rows(roster: Roster) -> dict[str, list[list[str]]]:
    """The rows of each CSV file (bulk mode: status and dateLastModified stay empty, as the
    CSV binding asks of a full set)."""
    rows: dict[str, list[list[str]]] = {
        "orgs.csv": [[o["sourcedId"], "", "", o["name"], o["type"], o["identifier"], ""]
                     for o in roster.orgs],
        "academicSessions.csv": [[s["sourcedId"], "", "", s["title"], s["type"],
                                  s["startDate"], s["endDate"], _ref(s, "parent"),
                                  s["schoolYear"]] for s in roster.sessions()],
        "courses.csv": [[c["sourcedId"], "", "", _ref(c, "schoolYear"), c["title"],
                         c["courseCode"], _list(c["grades"]), _ref(c, "org"), "", ""]
                        for c in roster.courses],
        "classes.csv": [[c["sourcedId"], "", "", c["title"], _list(c["grades"]),
                         _ref(c, "course"), c["classCode"], c["classType"], "",
                         _ref(c, "school"), _list([t["sourcedId"] for t in c["terms"]]), "",
                         "", ""] for c in roster.classes],
        "users.csv": [[u["sourcedId"], "", "", u["enabledUser"], "", "", u["givenName"],
                       u["familyName"], "", "", "", "", "", "", _list(u.get("grades", [])), "",
                       "", "", "", "", "", _ref(u, "primaryOrg"), ""] for u in roster.users],
        "roles.csv": [[f"{u['sourcedId']}-{r['role']}-{r['org']['sourcedId']}", "", "",
                       u["sourcedId"], r["roleType"], r["role"], "", "",
                       r["org"]["sourcedId"], ""] for u in roster.users for r in u["roles"]],
        "enrollments.csv": [[e["sourcedId"], "", "", _ref(e, "class"), _ref(e, "school"),
                             _ref(e, "user"), e["role"], "", "", ""]
                            for e in roster.enrollments],
    }
    return rows


def _csv(header: tuple[str, ...], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def bulk_zip(roster: Roster) -> bytes:
    """The OneRoster 1.2 CSV zip of a roster: manifest.csv and one file per kind. A file
    without rows is left out and marked absent in the manifest (the binding permits no file
    without data rows)."""
    rows = csv_rows(roster)
    present = {name[:-4] for name, file_rows in rows.items() if file_rows}
    manifest = [["manifest.version", "1.0"], ["oneroster.version", "1.2"]]
    manifest += [[f"file.{name}", "bulk" if name in present else "absent"]
                 for name in MANIFEST_FILES]
    manifest += [["source.systemName", "Klaspoort"], ["source.systemCode", "klaspoort"]]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.csv", _csv(("propertyName", "value"), manifest))
        for name, header in CSV_HEADERS.items():
            if name[:-4] in present:
                archive.writestr(name, _csv(header, rows[name]))
    return buffer.getvalue()


@_guarded
def bulk(request: HttpRequest, school_id: str) -> HttpResponse:
    """GET /ims/oneroster/bulk/v1p2/<school sourcedId>.zip: the school as the publisher sees
    it now (compared first, as a snapshot is), with the scopes of the REST reads."""
    try:
        bearer = _admitted(request, CORE)
        if isinstance(bearer, HttpResponse):
            return bearer
        if request.GET:
            raise OneRosterError(400, "invaliddata", gettext_noop("Unknown parameter: %(name)s."),
                                 {"name": sorted(request.GET)[0][:40]})
        ask = Ask(bearer.client.publisher_id)
        if feed.snapshot(ask.publisher_id, school_id) is None:
            raise not_found()
        roster = ask.school(school_id)
    except OneRosterError as exc:
        refusal = _refusal(exc)
        if exc.status == 401:
            refusal["WWW-Authenticate"] = 'Bearer realm="OneRoster"'
        return refusal
    archive = HttpResponse(bulk_zip(roster), content_type="application/zip")
    archive["Content-Disposition"] = f'attachment; filename="oneroster-{school_id[:16]}.zip"'
    return archive
