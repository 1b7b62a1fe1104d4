"""Results in: what publishers' software sends (issue 15 item 1, decision 0037).

`ingest_results` judges every row on its own (shape first, then the rules that need the
database) and stores the good rows of a batch in one transaction with their outbox rows, so a
publisher's one bad row never holds back the other 999 and sending a batch again is harmless:
a row is keyed by the publisher's own result id.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, cast

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticValidationError

from klaspoort.i18n import Bilingual, english_of
from klaspoort.i18n import bilingual as _
from klaspoort.licences.access import access_for_school
from klaspoort.licences.contract_import import shown
from klaspoort.licences.models import Product
from klaspoort.licences.publisher_view import consenting_school_ids
from klaspoort.pseudonyms import PublisherIds
from klaspoort.results.models import Result
from klaspoort.results.outbox import queue_deliveries
from klaspoort.roster.models import Pupil
from klaspoort.schools.models import Publisher, School
from klaspoort.tenancy import for_school

MAX_BATCH = 1000
MAX_SCORE = 1_000_000
EARLIEST = datetime.date(2000, 1, 1)

# Printable text with at least one character that is not white space (stored stripped; an
# empty value would be a missing one). Control characters include NUL; pydantic itself refuses
# lone surrogates.
_PRINTABLE = r"[^\x00-\x1f\x7f]"
_FILLED = rf"^{_PRINTABLE}*[^\s\x00-\x1f\x7f]{_PRINTABLE}*$"
# A note may have lines.
_NOTE = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"


def _text(max_length: int) -> Any:
    return Annotated[StrictStr, StringConstraints(min_length=1, max_length=max_length,
                                                  pattern=_FILLED)]


def _iso_date(value: str) -> datetime.date:
    if len(value) != 10:
        raise ValueError("not a date in the form YYYY-MM-DD")
    return datetime.date.fromisoformat(value)  # ValueError for 2026-02-30 and other forms


Ref = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64,
                                             pattern=r"^[0-9a-f]{1,64}$")]
IsoDate = Annotated[StrictStr, AfterValidator(_iso_date),
                    WithJsonSchema({"type": "string", "format": "date"})]


class ResultRow(BaseModel):
    """One result as a publisher sends it (the documented row of POST /results)."""

    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    id: _text(128) = Field(description=(  # type: ignore[valid-type]
        "Your own id of this result. Sending the same id again updates the result (or changes "
        "nothing when it is the same)."))
    school_id: Ref = Field(description="The school's id for you, as in `GET /schools`.")
    user_id: Ref = Field(description="The pupil's id for you: the `id` of the person in the "
                                     "snapshot and feed, the `sub` of your ID tokens.")
    product: _text(64) = Field(description="Your product code.")  # type: ignore[valid-type]
    test_code: _text(128) = Field(description=(  # type: ignore[valid-type]
        "Your code of the test, the same for every pupil who takes it."))
    test_name: _text(128) = Field(description="The test as a teacher knows it.")  # type: ignore[valid-type]
    test_type: _text(64) | None = Field(None, description=(  # type: ignore[valid-type]
        "The kind of test your grade boundaries belong to, e.g. `methodetoets`. Leave out for "
        "an observation."))
    kind: Literal["toets", "observatie", "oefening"] = Field(description=(
        "toets (test), observatie (observation) or oefening (practice: only to pupil "
        "administrations that take practice results)."))
    score: Annotated[StrictInt, Field(ge=0, le=MAX_SCORE)] = Field(description=(
        "The score, a whole number of 0 or more."))
    max_score: Annotated[StrictInt, Field(ge=1, le=MAX_SCORE)] | None = Field(None, description=(
        "The highest possible score; the score may not exceed it."))
    date: IsoDate = Field(description=(
        "The day the pupil took the test (YYYY-MM-DD): not in the future, not before 2000."),
        examples=["2026-11-12"])
    learning_goal_code: _text(128) | None = Field(None, description=(  # type: ignore[valid-type]
        "Your code of the learning goal the result is about, if any."))
    learning_goal: _text(256) | None = Field(None, description=(  # type: ignore[valid-type]
        "The learning goal in words."))
    note: Annotated[StrictStr, StringConstraints(max_length=500, pattern=_NOTE)] | None = Field(
        None, description="A note with the result (at most 500 characters).")


_ROW = TypeAdapter(ResultRow)

# One message per field whatever pydantic found wrong with it: what the field must be
# (translated when used, in the language of that request).
FIELD_MESSAGES = {
    "id": gettext_noop("Your result id: text of 1 to 128 characters."),
    "school_id": gettext_noop("The school's id as in GET /schools."),
    "user_id": gettext_noop("The pupil's id as in the snapshot and feed."),
    "product": gettext_noop("Your product code: text of 1 to 64 characters."),
    "test_code": gettext_noop("The test's code: text of 1 to 128 characters."),
    "test_name": gettext_noop("The test's name: text of 1 to 128 characters."),
    "test_type": gettext_noop("The test type: text of 1 to 64 characters, or leave it out."),
    "kind": gettext_noop("One of toets, observatie, oefening."),
    "score": gettext_noop("A whole number from 0 to 1000000."),
    "max_score": gettext_noop("A whole number from 1 to 1000000, or leave it out."),
    "date": gettext_noop("A date in the form YYYY-MM-DD."),
    "learning_goal_code": gettext_noop(
        "The learning goal's code: text of 1 to 128 characters, or leave it out."),
    "learning_goal": gettext_noop(
        "The learning goal: text of 1 to 256 characters, or leave it out."),
    "note": gettext_noop(
        "A note of at most 500 characters without control characters, or leave it out."),
}


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row: its position in the list (from 1; 0 for the request as a
    whole), the field, and the message in the active language and in English."""

    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": str(self.message),
                "message_en": english_of(self.message)}


@dataclass
class IngestOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    # The results stored or changed by this call (queued for the schools' couplings).
    results: list[Result] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len({error.line for error in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "refused": self.refused, "errors": [error.as_dict() for error in self.errors]}


class TooManyRows(ValueError):
    pass


class Conflict(Exception):
    """Another request stored the same result id at the same moment: send again."""


# ---------------------------------------------------------------------------------------------
# Shape (pure)
# ---------------------------------------------------------------------------------------------
def _shape_errors(exc: PydanticValidationError, line: int) -> list[RowError]:
    errors: dict[str, RowError] = {}
    for error in exc.errors():
        location = error.get("loc", ())
        name = str(location[0]) if location else ""
        if error.get("type") == "missing":
            message: Bilingual = _("Required.")
        elif error.get("type") == "extra_forbidden":
            message = _("Unknown field %(name)s.") % {"name": shown(name)}
            name = shown(name)
        elif name in FIELD_MESSAGES:
            message = _(FIELD_MESSAGES[name])
        else:
            message = _("Each result is an object with the documented fields.")
        errors.setdefault(name, RowError(line, name, message))
    return list(errors.values())


def parse_row(values: Any, line: int) -> tuple[ResultRow | None, list[RowError]]:
    """RULE: a row has exactly the documented fields, of the documented types and lengths,
    printable text, a real date. Pure: the rules that need the database come later."""
    try:
        return _ROW.validate_python(values), []
    except PydanticValidationError as exc:
        return None, _shape_errors(exc, line)


def shape_errors(rows: Sequence[Any]) -> list[RowError]:
    """Every row's shape errors (the API refuses a body that breaks its schema as a whole)."""
    errors: list[RowError] = []
    for line, values in enumerate(rows, start=1):
        errors.extend(parse_row(values, line)[1])
    return errors


def _rule_errors(row: ResultRow, line: int, today: datetime.date) -> list[RowError]:
    errors = []
    taken_on: datetime.date = row.date  # type: ignore[assignment]  # the validator's date
    if taken_on > today:
        errors.append(RowError(line, "date", _("The date lies in the future.")))
    elif taken_on < EARLIEST:
        errors.append(RowError(line, "date", _("The date lies before 2000.")))
    if row.max_score is not None and row.score > row.max_score:
        errors.append(RowError(line, "score", _("The score is higher than max_score.")))
    if row.kind == "observatie" and row.test_type:
        errors.append(RowError(line, "test_type", _("An observation has no test type.")))
    return errors


# ---------------------------------------------------------------------------------------------
# Who: the pupils a publisher may send results for
# ---------------------------------------------------------------------------------------------
def _not_yours(line: int) -> RowError:
    # One answer for an unknown school, an unknown pupil, a pupil of another school, no
    # consent and no licence: a publisher learns nothing about schools it may not see.
    return RowError(line, "user_id", _("You may not send results for this pupil for this "
                                       "product: unknown to you, or without your running "
                                       "licence and the school's consent."))


def _visible_pupils(publisher: Publisher, rows: list[tuple[int, ResultRow]],
                    products: dict[str, Product]) -> dict[int, tuple[int, int]]:
    """Per row (by line), the (school id, pupil id) it may be stored for: the school consents
    to the publisher and the pupil, active there, may open the row's product today. A fixed
    number of queries per school in the batch, never one per row."""
    ids = PublisherIds(publisher.pk)
    refs = {row.school_id for _line, row in rows}
    schools_by_ref = {ref: pk for pk in consenting_school_ids(publisher.pk)
                      if (ref := ids.school(pk)) in refs}
    by_school: dict[int, list[tuple[int, ResultRow]]] = defaultdict(list)
    for line, row in rows:
        school_id = schools_by_ref.get(row.school_id)
        if school_id is not None and row.product in products:
            by_school[school_id].append((line, row))
    found: dict[int, tuple[int, int]] = {}
    for school in School.objects.filter(pk__in=list(by_school)).order_by("pk"):
        wanted = {row.user_id for _line, row in by_school[school.pk]}
        pupils = {subject: (pk, user_id) for pk, user_id in for_school(Pupil, school).filter(
            active=True).values_list("pk", "user_id")
            if (subject := ids.subject(user_id)) in wanted}
        access = access_for_school(school, user_ids=[uid for _pk, uid in pupils.values()])
        for line, row in by_school[school.pk]:
            pupil = pupils.get(row.user_id)
            if pupil is None:
                continue
            granted = access.get(pupil[1])
            if granted is not None and granted.may_open(products[row.product].pk):
                found[line] = (school.pk, pupil[0])
    return found


# ---------------------------------------------------------------------------------------------
# Storing
# ---------------------------------------------------------------------------------------------
_UPDATED = ("school", "pupil", "product", "kind", "test_code", "test_name", "test_type",
            "score", "max_score", "taken_on", "learning_goal_code", "learning_goal", "note",
            "version", "updated_at")


def _update(changed: list[Result]) -> None:
    """Write the changed results back: one UPDATE by primary key, executed for every row.
    (QuerySet.bulk_update builds a CASE expression per field and row: 14 s for 1,000 rows.)"""
    if not changed:
        return
    fields = [cast("models.Field[Any, Any]", Result._meta.get_field(name)) for name in _UPDATED]
    quote = connection.ops.quote_name
    # Only the model's own table and column names go into the text; values are parameters.
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = (f"UPDATE {quote(Result._meta.db_table)} SET {assignments} "  # noqa: S608
           f"WHERE {quote('id')} = %s")
    rows = [[f.get_db_prep_save(getattr(result, f.attname), connection) for f in fields]
            + [result.pk] for result in changed]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _values(row: ResultRow, school_id: int, pupil_id: int, product: Product) -> dict[str, Any]:
    return {"school_id": school_id, "pupil_id": pupil_id, "product_id": product.pk,
            "kind": row.kind, "test_code": row.test_code.strip(),
            "test_name": row.test_name.strip(), "test_type": (row.test_type or "").strip(),
            "score": row.score, "max_score": row.max_score, "taken_on": row.date,
            "learning_goal_code": (row.learning_goal_code or "").strip(),
            "learning_goal": (row.learning_goal or "").strip(), "note": (row.note or "").strip()}


def ingest_results(publisher: Publisher, rows: Sequence[Any], *,
                   today: datetime.date | None = None) -> IngestOutcome:
    """RULE: each row is judged on its own; the good rows are stored, the others reported per
    row (line, field, message), nothing of them stored. A row names a pupil the publisher may
    see for the row's product (the school consents and a running licence of that product is
    linked to the pupil or the pupil's group: licences.access) — any other pupil, existing or
    not, gets the same refusal. Idempotent by the publisher's result id: the same row again
    changes nothing and queues nothing; a changed row updates the result in place, bumps its
    version and queues it again. At most MAX_BATCH rows (TooManyRows). One transaction; the
    stored and changed results are queued for their schools' couplings in it."""
    if len(rows) > MAX_BATCH:
        raise TooManyRows(len(rows))
    today = today or timezone.localdate()
    outcome = IngestOutcome()
    parsed: list[tuple[int, ResultRow]] = []
    seen: set[str] = set()
    for line, values in enumerate(rows, start=1):
        row, errors = parse_row(values, line)
        if row is not None:
            errors = _rule_errors(row, line, today)
            if row.id.strip() in seen:
                errors.append(RowError(line, "id", _("This result id is already in this "
                                                     "request.")))
            seen.add(row.id.strip())
        if errors or row is None:
            outcome.errors.extend(errors)
        else:
            parsed.append((line, row))
    products = {product.code: product for product in Product.objects.filter(
        publisher=publisher, code__in={row.product.strip() for _line, row in parsed})}
    known = []
    for line, row in parsed:
        row.product = row.product.strip()
        if row.product in products:
            known.append((line, row))
        else:
            outcome.errors.append(RowError(line, "product", _("Unknown product code %(code)s.")
                                           % {"code": shown(row.product)}))
    visible = _visible_pupils(publisher, known, products)
    good = []
    for line, row in known:
        if line in visible:
            good.append((line, row))
        else:
            outcome.errors.append(_not_yours(line))
    outcome.errors.sort(key=lambda error: error.line)
    try:
        _store(publisher, good, visible, products, outcome)
    except IntegrityError:
        raise Conflict from None
    return outcome


@transaction.atomic
def _store(publisher: Publisher, good: list[tuple[int, ResultRow]],
           visible: dict[int, tuple[int, int]], products: dict[str, Product],
           outcome: IngestOutcome) -> None:
    if connection.vendor == "postgresql":
        # Statements are prepared after five runs (settings), and PostgreSQL's generic plan for
        # "this publisher's results with one of these 1,000 ids" compares every result of the
        # publisher with the whole list: 0.9 s at 30,000 results, growing with each batch. In
        # this transaction each statement is planned for its own values (an index lookup).
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    existing = {result.external_id: result for result in Result.objects.filter(
        publisher=publisher, external_id__in=[row.id.strip() for _line, row in good])}
    now = timezone.now()
    created: list[Result] = []
    changed: list[Result] = []
    for line, row in good:
        school_id, pupil_id = visible[line]
        values = _values(row, school_id, pupil_id, products[row.product])
        result = existing.get(row.id.strip())
        if result is None:
            created.append(Result(publisher=publisher, external_id=row.id.strip(), **values))
        elif all(getattr(result, name) == value for name, value in values.items()):
            outcome.unchanged += 1
        else:
            for name, value in values.items():
                setattr(result, name, value)
            result.version += 1
            result.updated_at = now
            changed.append(result)
    Result.objects.bulk_create(created, batch_size=500)
    _update(changed)
    outcome.created, outcome.updated = len(created), len(changed)
    outcome.results = created + changed
    queue_deliveries(outcome.results)
