"""When a collaborator is due for an « entretien de parcours professionnel » (issue 13 §1):
within the first year after hiring, then every 4 years after the last one, and a full
review (« bilan ») every 8 years of service, which takes the place of the 4-year interview
it falls on or before.

Pure functions on dates, no database (like meetings/scheduling.py): the population
(population.py) reads the hire dates and the last professional interviews and asks here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

FIRST_YEAR = "first_year"
FOUR_YEARS = "four_years"
REVIEW = "review_8_years"

#: the years between two interviews, and between two full reviews (counted from hiring)
INTERVAL_YEARS = 4
REVIEW_YEARS = 8

REASONS = {
    FIRST_YEAR: _("1re année"),
    FOUR_YEARS: _("4 ans"),
    REVIEW: _("bilan 8 ans"),
}


@dataclass(frozen=True)
class Due:
    """The day by which the interview must have taken place, and why."""

    on: dt.date
    reason: str

    @property
    def label(self) -> str:
        return str(REASONS[self.reason])


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; a 29 February lands on the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def next_review(hired_on: dt.date, after: dt.date) -> dt.date:
    """The first 8-year anniversary of hiring strictly after `after`."""
    count = 1
    while add_years(hired_on, REVIEW_YEARS * count) <= after:
        count += 1
    return add_years(hired_on, REVIEW_YEARS * count)


def next_due(*, hired_on: dt.date, last_interview_on: dt.date | None) -> Due:
    """Never interviewed (since hiring): by the first anniversary. Else 4 years after the
    last one, or the 8-year review of service if it comes first (or the same day)."""
    if last_interview_on is None or last_interview_on < hired_on:
        return Due(add_years(hired_on, 1), FIRST_YEAR)
    four = add_years(last_interview_on, INTERVAL_YEARS)
    review = next_review(hired_on, last_interview_on)
    if review <= four:
        return Due(review, REVIEW)
    return Due(four, FOUR_YEARS)


def due_by(
    *, hired_on: dt.date | None, last_interview_on: dt.date | None, end: dt.date
) -> Due | None:
    """The interview due on or before `end` (a campaign's last day), overdue ones
    included; None when nothing is due by then (or no hire date, or hired after `end`)."""
    if hired_on is None or hired_on > end:
        return None
    due = next_due(hired_on=hired_on, last_interview_on=last_interview_on)
    return due if due.on <= end else None
