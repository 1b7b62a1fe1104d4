"""The teacher's *Resultaten* (R7, issue 15 item 5): the results of a group's pupils per pupil
and test, as a table, a CSV file for Dutch spreadsheet programs and a page to print for the
hand-over before the summer erasure."""

from __future__ import annotations

import csv
import io

from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from klaspoort.results.models import Result
from klaspoort.roster import selectors as roster_selectors
from klaspoort.roster.models import Group, Pupil
from klaspoort.tenancy import for_school

# What a spreadsheet program reads as the start of a formula (and the tab and carriage return
# that some of them skip before looking): such a cell is written with a ' in front, so a
# test name like "=HYPERLINK(...)" from a publisher stays text (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# UTF-8 with a byte order mark and ";": how Excel in Dutch opens a CSV file with é and ë whole.
CSV_BOM = "\ufeff"
CSV_DELIMITER = ";"


def group_results(group: Group) -> tuple[list[Pupil], list[Result]]:
    """The group's active pupils (a cluster's through its members) and their results, by
    pupil (last name, first name) and then by date and test."""
    _group, _teachers, pupils = roster_selectors.group_members(group.school, group.pk)
    order = {pupil.pk: index for index, pupil in enumerate(pupils)}
    by_pk = {pupil.pk: pupil for pupil in pupils}
    results = list(for_school(Result, group.school).filter(pupil_id__in=list(order))
                   .select_related("product").order_by("taken_on", "test_name", "pk"))
    for result in results:
        result.pupil = by_pk[result.pupil_id]  # one query for the pupils, not one per row
    results.sort(key=lambda result: order[result.pupil_id])
    return pupils, results


def score_text(result: Result) -> str:
    """"7/10", or "7" when the scale has no top."""
    if result.max_score is None:
        return str(result.score)
    return f"{result.score}/{result.max_score}"


def safe_cell(value: object) -> str:
    """RULE: a CSV cell never starts a formula in a spreadsheet: text starting with = + - @
    (or a tab or carriage return) gets a ' in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def results_csv(group: Group, results: list[Result]) -> str:
    """The results as a CSV text for Dutch Excel: a byte order mark, ";" between cells, a
    header row, dates as day-month-year, every cell guarded against formulas."""
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow([_("Pupil"), _("Group"), _("Date"), _("Test"), _("Kind"), _("Score"),
                     _("Maximum score"), _("Learning goal code"), _("Learning goal"),
                     _("Learning material")])
    for result in results:
        writer.writerow([safe_cell(cell) for cell in (
            result.pupil.full_name, group.name,
            formats.date_format(result.taken_on, "d-m-Y"), result.test_name,
            capfirst(result.get_kind_display()), result.score,
            "" if result.max_score is None else result.max_score,
            result.learning_goal_code, result.learning_goal, result.product.name)])
    return out.getvalue()
