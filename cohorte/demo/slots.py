"""Where a demo meeting may fall: pure functions on times and time zones, no database.

A meeting of the demo starts and ends within working hours (09:00–18:00 by default) on a
weekday for every attendee, each in their own time zone: a mentor in Toronto meets a mentee
in Paris between 15:00 and 18:00 Paris time, never at 03:00 for one of them."""

import datetime as dt
import random
from collections.abc import Sequence

DAY_START = dt.time(9)
DAY_END = dt.time(18)
STEP = dt.timedelta(minutes=15)

Busy = Sequence[tuple[dt.datetime, dt.datetime]]


def working_window(
    day: dt.date, zones: Sequence[dt.tzinfo], *, start: dt.time = DAY_START, end: dt.time = DAY_END
) -> tuple[dt.datetime, dt.datetime] | None:
    """[from, to) in UTC of the hours of `day` that are working hours in every zone (the
    same calendar day for each), or None on a weekend or when they do not overlap."""
    if day.weekday() >= 5:
        return None
    first = max(dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC) for zone in zones)
    last = min(dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC) for zone in zones)
    return (first, last) if first < last else None


def _ceil(moment: dt.datetime) -> dt.datetime:
    """Up to the next quarter of an hour (UTC quarters are local quarters in our zones)."""
    base = moment.replace(minute=0, second=0, microsecond=0)
    quarters = -(-(moment - base) // STEP)
    return base + quarters * STEP


def working_slot(
    rng: random.Random,
    *,
    zones: Sequence[dt.tzinfo],
    after: dt.datetime,
    before: dt.datetime,
    minutes: int,
    busy: Busy = (),
    day: dt.date | None = None,
    tries: int = 40,
) -> dt.datetime | None:
    """A start (UTC, on a quarter hour) in [after, before − minutes] whose whole meeting is
    in working hours for every zone and overlaps nothing in `busy`; on `day` when given
    (a calendar day of the first zone), else on a day drawn at random. None when none
    was found."""
    length = dt.timedelta(minutes=minutes)
    after, before = after.astimezone(dt.UTC), before.astimezone(dt.UTC)
    first_day, last_day = after.astimezone(zones[0]).date(), before.astimezone(zones[0]).date()
    if day is not None:
        first_day = last_day = day
    for _ in range(tries):
        candidate = first_day + dt.timedelta(days=rng.randint(0, (last_day - first_day).days))
        window = working_window(candidate, zones)
        if window is None:
            continue
        lo, hi = _ceil(max(window[0], after)), min(window[1], before) - length
        if hi < lo:
            continue
        start = lo + STEP * rng.randint(0, (hi - lo) // STEP)
        if all(start >= end or start + length <= begin for begin, end in busy):
            return start
    return None
