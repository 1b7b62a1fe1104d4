"""The summer erasure of results (seed 001; issue 15 item 6).

"In de zomervakantie worden de resultaten, de eigen aantekeningen en de zelf samengestelde lessen
gewist. Uitzondering: in het archief worden de eindscores van de aangeboden leerdoelen wél
bewaard" and "observaties in de Resultatenmonitor van Kleuterplein blijven de hele kleuterperiode
bewaard". On RESULTS_ERASURE_DAY (21 July by default) each school's results of the school year
that ends that summer are erased, after the final score per learning goal went into the archive
(`LearningGoalScore`); observations of pupils still in the kindergarten groups stay.
RESULTS_ERASURE_REMINDER_DAYS (28) before, coordinators and teachers are reminded by e-mail to
download what they want to keep. `SummerErasure` records both per school and school year, so each
happens once however often the daily task or an operator runs it.

Results still on their way to the school's LAS are held back: the seed promises that results in a
coupled LAS are kept there ("Is je leerlingadministratiesysteem gekoppeld ... dan worden de
toetsresultaten daarin wél bewaard"), so a result whose delivery is still being tried (a waiting
delivery younger than RESULTS_GIVE_UP_HOURS) is erased by a later run, once it was delivered or
given up, instead of being lost to the LAS by the erasure.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_noop

from klaspoort.audit.models import AuditAction
from klaspoort.audit.services import Actor, record
from klaspoort.checks import MAX_ERASURE_REMINDER_DAYS, month_day
from klaspoort.mail import queue_mail
from klaspoort.results.models import (
    Delivery,
    LearningGoalScore,
    Result,
    ResultCoupling,
    SummerErasure,
)
from klaspoort.roster.models import Group, Pupil, PupilCluster, Teacher
from klaspoort.roster.selectors import coordinators_of
from klaspoort.schools.models import School
from klaspoort.schools.selectors import current_school_year
from klaspoort.tenancy import for_school

log = logging.getLogger(__name__)

# The kindergarten groups (*kleutergroepen*): EDEXML year groups 1 and 2, and 0, the group some
# schools place children in before they turn four: their kindergarten period has begun.
KINDERGARTEN_YEAR_GROUPS = ("0", "1", "2")
# A pupil's own year group that says nothing of the year (none, or C for a combination group):
# then the pupil's group decides.
UNKNOWN_YEAR_GROUPS = ("", "C")
# The school year ends on 31 July (schools.selectors.current_school_year).
LAST_MONTH, LAST_DAY = 7, 31
REMINDER_SUBJECT = gettext_noop("Results in Klaspoort are erased on %(date)s")


class ErasureNotDue(Exception):
    """The erasure was asked for before this year's erasure day."""

    def __init__(self, day: datetime.date, due: datetime.date) -> None:
        super().__init__(f"{day} is before the erasure day {due}")
        self.day = day
        self.due = due


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------
def erasure_date(year: int) -> datetime.date:
    """RULE: the erasure runs on RESULTS_ERASURE_DAY ("MM-DD", default 21 July, seed 001) of
    `year`; a setting that is no day of every year is refused (production does not start with
    it: klaspoort.E006)."""
    parsed = month_day(getattr(settings, "RESULTS_ERASURE_DAY", "07-21"))
    if parsed is None:
        raise ImproperlyConfigured("KLASPOORT_RESULTS_ERASURE_DAY is not a day as MM-DD.")
    return datetime.date(year, *parsed)


def reminder_date(year: int) -> datetime.date:
    """RULE: coordinators and teachers are reminded RESULTS_ERASURE_REMINDER_DAYS (28, four
    weeks) before the erasure date."""
    days = getattr(settings, "RESULTS_ERASURE_REMINDER_DAYS", 28)
    if not isinstance(days, int) or not 1 <= days <= MAX_ERASURE_REMINDER_DAYS:
        raise ImproperlyConfigured("KLASPOORT_RESULTS_ERASURE_REMINDER_DAYS is out of range.")
    return erasure_date(year) - datetime.timedelta(days=days)


def erased_school_year(year: int) -> str:
    """The school year whose results the erasure of `year`'s summer erases ("2026-2027" in
    July 2027)."""
    return current_school_year(datetime.date(year, LAST_MONTH, LAST_DAY))


def _last_day(year: int) -> datetime.date:
    # Results taken after it belong to the next school year (an erasure day in August, or an
    # erasure run late), and are not erased.
    return datetime.date(year, LAST_MONTH, LAST_DAY)


# ---------------------------------------------------------------------------------------------
# What is erased, archived and kept
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SchoolErasure:
    """One school's share of the erasure: planned (preview) or done."""

    school_id: int
    brin6: str
    name: str
    school_year: str
    erased: int  # results erased (their notes and deliveries with them)
    archived: int  # final scores per learning goal in the archive
    kept: int  # observations of pupils in the kindergarten groups, kept
    held_back: int  # results still on their way to the LAS, erased by a later run
    already_erased: bool  # this school year's erasure had run before (only held back left)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ErasurePlan:
    """What the summer erasure of `day`'s year erases, archives and keeps, per school."""

    day: datetime.date
    erasure_date: datetime.date
    reminder_date: datetime.date
    school_year: str
    schools: list[SchoolErasure] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # BRIN6 of schools whose erasure failed

    @property
    def due(self) -> bool:
        return self.day >= self.erasure_date

    def total(self, name: str) -> int:
        return sum(int(getattr(school, name)) for school in self.schools)

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "erasure_date": self.erasure_date.isoformat(),
            "reminder_date": self.reminder_date.isoformat(),
            "school_year": self.school_year,
            "due": self.due,
            "totals": {name: self.total(name)
                       for name in ("erased", "archived", "kept", "held_back")},
            "schools": [school.as_dict() for school in self.schools],
            "failed": self.failed,
        }


def kindergarten_pupils(school: School) -> QuerySet[Pupil]:
    """RULE: a pupil is in the kindergarten groups while active at the school with year group
    0, 1 or 2. A pupil without a year group of its own (none, or C) takes its group's: a group
    of year 0 to 2, or a combination group with a kindergartner in it (a 1/2 or 2/3 group): when
    in doubt an observation is kept one more year rather than lost."""
    pupils = for_school(Pupil, school).filter(active=True)
    mixed = for_school(Group, school).filter(
        jaargroep__in=UNKNOWN_YEAR_GROUPS,
        pupils__active=True, pupils__jaargroep__in=KINDERGARTEN_YEAR_GROUPS).values("pk")
    return pupils.filter(
        Q(jaargroep__in=KINDERGARTEN_YEAR_GROUPS)
        | (Q(jaargroep__in=UNKNOWN_YEAR_GROUPS)
           & (Q(group__jaargroep__in=KINDERGARTEN_YEAR_GROUPS) | Q(group__in=mixed))))


@dataclass
class _Scope:
    """The school's results of the erased school year, divided by the rule."""

    of_year: QuerySet[Result]  # everything taken up to 31 July
    kept: QuerySet[Result]
    held_back: QuerySet[Result]
    erase: QuerySet[Result]


def _scope(school: School, year: int) -> _Scope:
    of_year = for_school(Result, school).filter(taken_on__lte=_last_day(year))
    kept_filter = Q(kind=Result.Kind.OBSERVATION,
                    pupil__in=kindergarten_pupils(school).values("pk"))
    erasable = of_year.exclude(kept_filter)
    still_trying = Delivery.objects.filter(
        coupling__school=school, state=Delivery.State.WAITING,
        created_at__gt=timezone.now() - datetime.timedelta(hours=settings.RESULTS_GIVE_UP_HOURS))
    waiting = Q(pk__in=still_trying.values("result_id"))
    return _Scope(of_year=of_year, kept=of_year.filter(kept_filter),
                  held_back=erasable.filter(waiting), erase=erasable.exclude(waiting))


_Key = tuple[int, int, str, str]  # pupil, product, learning goal code, school year


def final_scores(results: QuerySet[Result]) -> dict[_Key, dict[str, Any]]:
    """RULE: the final score of a learning goal is the pupil's latest result with that goal's
    code in that product (by date taken, then by arrival), per school year of the date taken;
    every kind counts (tests, observations, practice: seed 001's "aangeboden leerdoelen")."""
    found: dict[_Key, dict[str, Any]] = {}
    rows = (results.exclude(learning_goal_code="")
            .order_by("pupil_id", "product_id", "learning_goal_code",
                      "-taken_on", "-received_at", "-pk")
            .values("pupil_id", "product_id", "learning_goal_code", "learning_goal", "score",
                    "max_score", "taken_on"))
    for row in rows.iterator(chunk_size=2000):
        key = (row["pupil_id"], row["product_id"], row["learning_goal_code"],
               current_school_year(row["taken_on"]))
        # Ordered newest first: the first row of each key is its final score.
        found.setdefault(key, dict(row))
    return found


def _archive(school: School, scores: dict[_Key, dict[str, Any]]) -> None:
    """Upsert the final scores: a score already archived is replaced only by one taken on the
    same day or later, so running again (or a follow-up run) never archives an older score."""
    if not scores:
        return
    existing = {
        (row.pupil_id, row.product_id, row.learning_goal_code, row.school_year): row
        for row in for_school(LearningGoalScore, school).filter(
            school_year__in={key[3] for key in scores},
            pupil_id__in={key[0] for key in scores})
    }
    new: list[LearningGoalScore] = []
    changed: list[LearningGoalScore] = []
    for key, row in scores.items():
        values = {"learning_goal": row["learning_goal"], "score": row["score"],
                  "max_score": row["max_score"], "taken_on": row["taken_on"]}
        old = existing.get(key)
        if old is None:
            new.append(LearningGoalScore(school=school, pupil_id=key[0], product_id=key[1],
                                         learning_goal_code=key[2], school_year=key[3],
                                         **values))
        elif row["taken_on"] >= old.taken_on and any(
                getattr(old, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(old, name, value)
            changed.append(old)
    LearningGoalScore.objects.bulk_create(new, batch_size=1000)
    LearningGoalScore.objects.bulk_update(
        changed, ["learning_goal", "score", "max_score", "taken_on"], batch_size=1000)


def _plan_school(school: School, year: int, already_erased: bool) -> SchoolErasure:
    scope = _scope(school, year)
    return SchoolErasure(
        school_id=school.pk, brin6=school.brin6, name=school.display_name,
        school_year=erased_school_year(year), erased=scope.erase.count(),
        archived=len(final_scores(scope.of_year)), kept=scope.kept.count(),
        held_back=scope.held_back.count(), already_erased=already_erased)


def _schools_to_do(year: int, school: School | None) -> list[tuple[School, bool]]:
    """Schools with results of the erased school year whose erasure has not run, or ran and
    held results back for their LAS; with whether it ran before."""
    with_results = Result.objects.filter(taken_on__lte=_last_day(year)).values("school_id")
    schools = School.objects.filter(pk__in=with_results).order_by("pk")
    if school is not None:
        schools = schools.filter(pk=school.pk)
    runs = {run.school_id: run for run in SummerErasure.objects.filter(
        school_year=erased_school_year(year), school__in=schools)}
    todo = []
    for each in schools:
        run = runs.get(each.pk)
        if run is None or run.erased_at is None:
            todo.append((each, False))
        elif run.held_back:
            todo.append((each, True))
    return todo


def plan_erasure(day: datetime.date, school: School | None = None) -> ErasurePlan:
    """The operators' preview (changes nothing): per school, how many results the summer
    erasure of `day`'s year would erase, how many final scores per learning goal it would
    archive, how many kindergarten observations it keeps and how many results it holds back
    for the LAS. The counts are computed as erase_for_summer computes them."""
    year = day.year
    plan = ErasurePlan(day=day, erasure_date=erasure_date(year),
                       reminder_date=reminder_date(year), school_year=erased_school_year(year))
    for each, before in _schools_to_do(year, school):
        plan.schools.append(_plan_school(each, year, before))
    return plan


# ---------------------------------------------------------------------------------------------
# The erasure
# ---------------------------------------------------------------------------------------------
def _erase_school(school: School, year: int, actor: Actor) -> SchoolErasure | None:
    """One school in one transaction: archive, erase, record, audit. None when another run got
    there first and nothing is left to do."""
    school_year = erased_school_year(year)
    with transaction.atomic():
        run, _ = SummerErasure.objects.get_or_create(school=school, school_year=school_year)
        # Two runs at once (the task and an operator) wait for each other here.
        run = SummerErasure.objects.select_for_update().get(pk=run.pk)
        before = run.erased_at is not None
        if before and not run.held_back:
            return None
        scope = _scope(school, year)
        scores = final_scores(scope.of_year)
        _archive(school, scores)
        kept = scope.kept.count()
        held_back = scope.held_back.count()
        erase_ids = list(scope.erase.values_list("pk", flat=True))
        erased = 0
        for start in range(0, len(erase_ids), 1000):
            chunk = erase_ids[start:start + 1000]
            # The deliveries first, in one statement, so deleting the results finds none.
            Delivery.objects.filter(result_id__in=chunk).delete()
            erased += Result.objects.filter(pk__in=chunk).delete()[1].get(
                Result._meta.label, 0)
        run.erased_at = run.erased_at or timezone.now()
        run.erased += erased
        run.archived = len(scores)
        run.kept = kept
        run.held_back = held_back
        run.save(update_fields=["erased_at", "erased", "archived", "kept", "held_back"])
        if not before or erased:
            # Counts only: no pupil, no result is named in the trail.
            record(actor=actor, school=school, action=AuditAction.RESULTS_ERASE,
                   target=school_year,
                   after={"school_year": school_year, "erased": erased,
                          "archived": len(scores), "kept": kept, "held_back": held_back})
    return SchoolErasure(school_id=school.pk, brin6=school.brin6, name=school.display_name,
                         school_year=school_year, erased=erased, archived=len(scores),
                         kept=kept, held_back=held_back, already_erased=before)


def erase_for_summer(day: datetime.date, actor: Actor,
                     school: School | None = None) -> ErasurePlan:
    """RULE (seed 001): from the erasure date of `day`'s year on, each school's results taken
    up to 31 July are erased with their notes and deliveries, once per school year: first the
    final score per learning goal goes into the archive (`final_scores`, upserted); the
    observations of pupils still in the kindergarten groups stay (`kindergarten_pupils`);
    results still on their way to the LAS are held back and erased by a later run. One
    transaction and one audit entry (counts only) per school; never another school's rows.
    Before the erasure date: ErasureNotDue, nothing changed. A school that fails is logged
    and named in `failed`; the others go on."""
    year = day.year
    plan = ErasurePlan(day=day, erasure_date=erasure_date(year),
                       reminder_date=reminder_date(year), school_year=erased_school_year(year))
    if not plan.due:
        raise ErasureNotDue(day, plan.erasure_date)
    for each, _before in _schools_to_do(year, school):
        try:
            done = _erase_school(each, year, actor)
        except Exception as exc:
            # Only the type: a database error's text can quote row values.
            log.error("summer erasure of school %s failed: %s", each.pk, type(exc).__name__)
            plan.failed.append(each.brin6)
            continue
        if done is not None:
            plan.schools.append(done)
    return plan


# ---------------------------------------------------------------------------------------------
# The reminder, four weeks before
# ---------------------------------------------------------------------------------------------
def _absolute(name: str, *args: Any) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def results_page_url(group: Group) -> str:
    """The teacher page *Resultaten* of the group (download and print); the teacher area's
    home while that page is not there."""
    try:
        return _absolute("results:teacher_results", group.pk)
    except NoReverseMatch:
        return _absolute("teacher:home")


@dataclass
class _Recipient:
    coordinator: bool = False
    groups: dict[int, Group] = field(default_factory=dict)


def _groups_with_results(results: QuerySet[Result]) -> QuerySet[Group]:
    pupils = results.values("pupil_id")
    in_cluster = PupilCluster.objects.filter(pupil__in=pupils).values("group_id")
    return Group.objects.filter(Q(pupils__in=pupils) | Q(pk__in=in_cluster),
                                active=True).distinct()


def _recipients(school: School, results: QuerySet[Result]) -> dict[str, _Recipient]:
    """One entry per address: a coordinator who also teaches a group gets one message."""
    found: dict[str, _Recipient] = {}
    for user in coordinators_of(school):
        if user.email:
            found.setdefault(user.email.lower(), _Recipient()).coordinator = True
    groups = {group.pk: group for group in for_school(_groups_with_results(results), school)}
    teachers = (for_school(Teacher, school)
                .filter(active=True, user__is_active=True, groups__in=list(groups))
                .exclude(user__email__isnull=True).exclude(user__email="")
                .select_related("user").prefetch_related("groups").distinct())
    for teacher in teachers:
        entry = found.setdefault(str(teacher.user.email).lower(), _Recipient())
        for group in teacher.groups.all():
            if group.pk in groups:
                entry.groups[group.pk] = group
    return found


def _reminder_mail(school: School, year: int, recipient: _Recipient,
                   coupled: bool) -> tuple[str, str, str]:
    groups = sorted(recipient.groups.values(), key=lambda group: (group.kind, group.name))
    when = erasure_date(year)
    context = {
        "school": school, "school_year": erased_school_year(year), "erasure_date": when,
        "coordinator": recipient.coordinator, "coupled": coupled,
        "groups": [{"name": group.name, "url": results_page_url(group)} for group in groups],
        "teacher_area_url": _absolute("teacher:home"),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = gettext(REMINDER_SUBJECT) % {"date": formats.date_format(when, "j F Y")}
        text = render_to_string("results/email/erasure_reminder.txt", context)
        html = render_to_string("results/email/erasure_reminder.html", context)
    return subject, text, html


def _remind_school(school: School, year: int) -> int:
    with transaction.atomic():
        run, _ = SummerErasure.objects.get_or_create(school=school,
                                                     school_year=erased_school_year(year))
        run = SummerErasure.objects.select_for_update().get(pk=run.pk)
        if run.reminded_at is not None or run.erased_at is not None:
            return 0
        scope = _scope(school, year)
        results = for_school(Result, school).filter(
            Q(pk__in=scope.erase.values("pk")) | Q(pk__in=scope.held_back.values("pk")))
        coupled = for_school(ResultCoupling, school).exists()
        recipients = _recipients(school, results)
        for address, recipient in sorted(recipients.items()):
            # One message per person: colleagues' addresses are not shared in a To line.
            queue_mail(*_reminder_mail(school, year, recipient, coupled), [address])
        run.reminded_at = timezone.now()
        run.reminder_mails = len(recipients)
        run.save(update_fields=["reminded_at", "reminder_mails"])
    return len(recipients)


def send_erasure_reminders(day: datetime.date) -> int:
    """RULE: from the reminder date (RESULTS_ERASURE_REMINDER_DAYS before the erasure) until
    the erasure, every school with results the erasure would erase gets its reminder once a
    year: one message to each coordinator and each teacher of a group with such results (one
    message per address), in Dutch, saying when results are erased, what is kept (final scores
    per learning goal, kindergarten observations) and where to download them (the group's
    *Resultaten* page). Not for a school whose coordinators switched it off
    (`School.remind_results_erasure`). Returns the number of messages queued (sent after
    commit)."""
    year = day.year
    if not reminder_date(year) <= day < erasure_date(year):
        return 0
    sent = 0
    for each, before in _schools_to_do(year, None):
        if before or not each.remind_results_erasure:
            continue  # switched off in *Herinneringen*: neither coordinators nor teachers
        scope = _scope(each, year)
        if not (scope.erase.exists() or scope.held_back.exists()):
            continue  # only kindergarten observations: nothing to download before it
        try:
            sent += _remind_school(each, year)
        except Exception as exc:
            log.error("erasure reminder of school %s failed: %s", each.pk, type(exc).__name__)
    return sent
