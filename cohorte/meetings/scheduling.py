"""Free slots and recurrences: pure computation on aware datetimes.

Every person's availability is weekly wall-clock time in their own time zone; a slot is
free when it lies inside a window of each attendee (on their own calendar day) and
overlaps none of their meetings. All arithmetic on instants is done in UTC, all
arithmetic on wall-clock times in the zone concerned, so daylight-saving changes move
nothing they should not.
"""

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence

from dateutil.relativedelta import relativedelta

SLOT_STEP = dt.timedelta(minutes=30)
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)
FAR_PAST = dt.datetime.min.replace(tzinfo=dt.UTC)


def plus(moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """moment + delta, held at the ends of the calendar instead of overflowing: a meeting
    stored in year 9999 (before the bounds existed) must not break a page."""
    try:
        return moment + delta
    except OverflowError:
        return FAR_FUTURE if delta > dt.timedelta(0) else FAR_PAST


@dataclasses.dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: dt.time
    end: dt.time


@dataclasses.dataclass(frozen=True)
class Person:
    tz: dt.tzinfo
    windows: tuple[Window, ...]
    busy: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

    def available(self, start: dt.datetime, end: dt.datetime) -> bool:
        """[start, end) inside one window of this person's own day, and not busy."""
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        if local_end.date() == local_start.date():
            until = local_end.time()
        elif (
            local_end.date() == local_start.date() + dt.timedelta(days=1)
            and local_end.time() == dt.time.min
        ):
            until = dt.time.max  # ends at midnight
        else:
            return False
        inside = any(
            window.weekday == local_start.weekday()
            and window.start <= local_start.time()
            and until <= (dt.time.max if window.end >= dt.time(23, 59) else window.end)
            for window in self.windows
        )
        if not inside:
            return False
        return not any(start < busy_end and busy_start < end for busy_start, busy_end in self.busy)


@dataclasses.dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime

    def part_of_day(self, tz: zoneinfo.ZoneInfo) -> str:
        hour = self.start.astimezone(tz).hour
        return "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"


def day_slots(
    *,
    day: dt.date,
    viewer_tz: zoneinfo.ZoneInfo,
    people: Sequence[Person],
    duration: dt.timedelta,
    not_before: dt.datetime,
) -> list[Slot]:
    """Every 30 minutes of the viewer's calendar day when all the people are free."""
    slots = []
    local = dt.datetime.combine(day, dt.time.min)
    while local.date() == day:
        # a wall-clock time that does not exist (spring forward) is skipped
        start = local.replace(tzinfo=viewer_tz)
        if start.astimezone(dt.UTC).astimezone(viewer_tz).replace(tzinfo=None) == local:
            start_utc = start.astimezone(dt.UTC)
            end_utc = start_utc + duration
            if start_utc >= not_before and all(p.available(start_utc, end_utc) for p in people):
                slots.append(Slot(start_utc, end_utc))
        local += SLOT_STEP
    return slots


STEPS = {
    "daily": relativedelta(days=1),
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
    "yearly": relativedelta(years=1),
}


def occurrences(
    *, first: dt.datetime, frequency: str, count: int, tz: zoneinfo.ZoneInfo
) -> list[dt.datetime]:
    """The starts of a series: the same wall-clock time in `tz` (10:00 stays 10:00 across a
    daylight-saving change), returned in UTC."""
    if frequency == "none" or count <= 1:
        return [first.astimezone(dt.UTC)]
    step = STEPS[frequency]
    local = first.astimezone(tz).replace(tzinfo=None)
    starts = []
    for index in range(count):
        wall = local + step * index
        starts.append(wall.replace(tzinfo=tz).astimezone(dt.UTC))
    return starts


def conflicts(
    starts: Iterable[dt.datetime], duration: dt.timedelta, people: Sequence[Person]
) -> list[dt.datetime]:
    """The starts at which someone is not free."""
    return [
        start for start in starts if not all(p.available(start, start + duration) for p in people)
    ]
