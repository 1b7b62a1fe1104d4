"""The Dutch school year as contracts count it: 1 August to 31 July."""

from __future__ import annotations

import datetime

# The rule itself lives with the school (schools.selectors), so every app counts alike.
from klaspoort.schools.selectors import school_year_start

__all__ = ["cancellation_deadline", "school_year_end", "school_year_start"]


def school_year_end(day: datetime.date) -> datetime.date:
    """31 July of the school year `day` falls in."""
    return datetime.date(school_year_start(day).year + 1, 7, 31)


def cancellation_deadline(day: datetime.date) -> datetime.date:
    """The last day to cancel a contract for the next school year: 30 June."""
    return datetime.date(school_year_end(day).year, 6, 30)
