"""A partner's weekly windows as the member reads them: pure functions on times and time
zones, no database (the pattern of meetings/scheduling.py).

A window is kept in its owner's wall time (« lundi 9h–12h » in Montréal). Read from Paris
it is another hour, sometimes another day, and the gap between two zones changes on the
days either of them moves its clocks: so a window is converted for a named week, the one
that starts today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from django.utils.dates import WEEKDAYS_ABBR


class WeeklyWindow(Protocol):
    weekday: int  # 0 = Monday … 6 = Sunday
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class ShownWindow:
    weekday: int
    start: dt.time
    end: dt.time
    #: the day it ends, when that is the next one (23h–2h)
    end_weekday: int

    @property
    def day_name(self) -> str:
        return str(WEEKDAYS_ABBR[self.weekday])

    @property
    def end_day_name(self) -> str:
        return str(WEEKDAYS_ABBR[self.end_weekday]) if self.end_weekday != self.weekday else ""


def same_zone(one: dt.tzinfo, other: dt.tzinfo, *, on: dt.date) -> bool:
    """Two zones that read every hour of the coming week alike (Paris and Brussels too)."""
    if str(one) == str(other):
        return True
    moments = [dt.datetime.combine(on + dt.timedelta(days=d), dt.time(12), dt.UTC) for d in (0, 7)]
    return all(m.astimezone(one).utcoffset() == m.astimezone(other).utcoffset() for m in moments)


def windows_in_zone(
    windows: Iterable[WeeklyWindow], *, source: dt.tzinfo, target: dt.tzinfo, week_of: dt.date
) -> list[ShownWindow]:
    """Each window held in `source`'s wall time, in `target`'s, for its day in the week
    that starts on `week_of`; sorted as a week reads (Monday first)."""
    shown = []
    for window in windows:
        day = week_of + dt.timedelta(days=(window.weekday - week_of.weekday()) % 7)
        start = dt.datetime.combine(day, window.start, tzinfo=source).astimezone(target)
        end = dt.datetime.combine(day, window.end, tzinfo=source).astimezone(target)
        shown.append(ShownWindow(start.weekday(), start.time(), end.time(), end.weekday()))
    return sorted(shown, key=lambda w: (w.weekday, w.start))
