"""Free slots across time zones and daylight-saving changes, and recurrences."""

import datetime as dt
import zoneinfo

from cohorte.meetings.scheduling import Person, Window, conflicts, day_slots, occurrences

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MONTREAL = zoneinfo.ZoneInfo("America/Toronto")  # Montréal keeps Toronto's clock
HALF_HOUR = dt.timedelta(minutes=30)
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

MENTOR = Person(MONTREAL, (Window(0, dt.time(9), dt.time(17)),))  # Monday 9–17 in Montréal
MENTEE = Person(PARIS, (Window(0, dt.time(14), dt.time(20)),))  # Monday 14–20 in Paris


def paris_times(day: dt.date) -> list[str]:
    slots = day_slots(
        day=day, viewer_tz=PARIS, people=[MENTOR, MENTEE], duration=HALF_HOUR, not_before=LONG_AGO
    )
    return [slot.start.astimezone(PARIS).strftime("%H:%M") for slot in slots]


def test_both_on_summer_time():
    # Paris UTC+2, Montréal UTC−4: the mentor starts at 15:00 Paris time
    assert paris_times(dt.date(2026, 10, 19)) == [
        f"{h}:{m}" for h in range(15, 20) for m in ("00", "30")
    ]


def test_the_week_europe_changed_and_america_did_not():
    # 26 October 2026: Paris is back to UTC+1, Montréal still UTC−4 — one more hour in common
    assert paris_times(dt.date(2026, 10, 26)) == [
        f"{h}:{m}" for h in range(14, 20) for m in ("00", "30")
    ]


def test_both_on_winter_time():
    # 2 November 2026: Montréal UTC−5 too
    assert paris_times(dt.date(2026, 11, 2)) == [
        f"{h}:{m}" for h in range(15, 20) for m in ("00", "30")
    ]


def test_a_slot_must_fit_whole_and_busy_time_is_removed():
    busy = (
        dt.datetime(2026, 11, 2, 16, 0, tzinfo=PARIS).astimezone(dt.UTC),
        dt.datetime(2026, 11, 2, 17, 0, tzinfo=PARIS).astimezone(dt.UTC),
    )
    mentee = Person(PARIS, MENTEE.windows, (busy,))
    slots = day_slots(
        day=dt.date(2026, 11, 2),
        viewer_tz=PARIS,
        people=[MENTOR, mentee],
        duration=dt.timedelta(hours=1),
        not_before=LONG_AGO,
    )
    times = [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]
    assert times == [
        "15:00",
        "17:00",
        "17:30",
        "18:00",
        "18:30",
        "19:00",
    ]  # 15:30 would overlap 16:00


def test_wall_clock_times_that_do_not_exist_are_skipped():
    night_owl = Person(PARIS, (Window(6, dt.time(0), dt.time(23, 59)),))  # Sunday all day
    slots = day_slots(
        day=dt.date(2026, 3, 29),
        viewer_tz=PARIS,
        people=[night_owl],
        duration=HALF_HOUR,
        not_before=LONG_AGO,
    )
    times = [s.start.astimezone(PARIS).strftime("%H:%M") for s in slots]
    assert "02:00" not in times and "02:30" not in times and "03:00" in times
    assert len(times) == 46  # a 23-hour day


def test_the_past_is_not_offered():
    now = dt.datetime(2026, 11, 2, 17, 10, tzinfo=PARIS)
    slots = day_slots(
        day=dt.date(2026, 11, 2),
        viewer_tz=PARIS,
        people=[MENTOR, MENTEE],
        duration=HALF_HOUR,
        not_before=now,
    )
    assert slots[0].start.astimezone(PARIS).strftime("%H:%M") == "17:30"


def test_parts_of_the_day():
    slots = day_slots(
        day=dt.date(2026, 11, 2),
        viewer_tz=PARIS,
        people=[Person(PARIS, (Window(0, dt.time(8), dt.time(22)),))],
        duration=HALF_HOUR,
        not_before=LONG_AGO,
    )
    parts = {s.part_of_day(PARIS) for s in slots}
    assert parts == {"morning", "afternoon", "evening"}


def test_weekly_series_keeps_the_wall_clock_time_across_the_change():
    first = dt.datetime(2026, 10, 19, 10, 0, tzinfo=PARIS)
    starts = occurrences(first=first, frequency="weekly", count=3, tz=PARIS)
    assert [s.astimezone(PARIS).strftime("%d %H:%M") for s in starts] == [
        "19 10:00",
        "26 10:00",
        "02 10:00",
    ]
    assert [s.hour for s in starts] == [8, 9, 9]  # in UTC


def test_every_frequency():
    first = dt.datetime(2026, 1, 31, 9, 0, tzinfo=PARIS)
    assert [
        s.astimezone(PARIS).date().isoformat()
        for s in occurrences(first=first, frequency="daily", count=3, tz=PARIS)
    ] == ["2026-01-31", "2026-02-01", "2026-02-02"]
    assert [
        s.astimezone(PARIS).date().isoformat()
        for s in occurrences(first=first, frequency="monthly", count=3, tz=PARIS)
    ] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert [
        s.astimezone(PARIS).date().isoformat()
        for s in occurrences(first=first, frequency="yearly", count=2, tz=PARIS)
    ] == ["2026-01-31", "2027-01-31"]
    assert len(occurrences(first=first, frequency="none", count=5, tz=PARIS)) == 1


def test_conflicts_name_the_occurrences_that_do_not_fit():
    first = dt.datetime(2026, 10, 19, 15, 0, tzinfo=PARIS)
    starts = occurrences(first=first, frequency="weekly", count=3, tz=PARIS)
    # 15:00 Paris is 10:00 in Montréal on 26 October, 09:00 on 19 October and 2 November
    assert conflicts(starts, HALF_HOUR, [MENTOR, MENTEE]) == []
    early = occurrences(
        first=dt.datetime(2026, 10, 19, 14, 0, tzinfo=PARIS), frequency="weekly", count=3, tz=PARIS
    )
    assert [c.astimezone(PARIS).day for c in conflicts(early, HALF_HOUR, [MENTOR, MENTEE])] == [
        19,
        2,
    ]
