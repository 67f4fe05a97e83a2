"""The monthly summary of a programme's activity (MonthlyActivity): what the Reports tab
and the Home page chart, read in one query instead of counting millions of events at
every page view.

What each month counts, between the programme's dates, months cut in the organisation's
time zone (a meeting at 23:30 on 31 January in Paris is January's):

- ``sign_ins``: sign-in events (EventKind.SIGN_IN) in the programme, and platform sign-ins
  (no programme) of the programme's members;
- ``messages``: message events (EventKind.MESSAGE) in the programme — one per recipient,
  as the conversations write them (a message to three people counts three) and as the
  activity API receives them, so every source of messages counts the same way;
- ``meetings_confirmed``: meetings starting that month whose status is « Tenue »
  (MeetingStatus.CONFIRMED: both sides, or a manager, said it took place) — the rule of
  the activity table's « rendez-vous confirmés »;
- ``meetings_held``: those, plus the scheduled meetings one attendee already said took
  place while the other has not answered yet (no one said it did not).

Kept by the worker: ``monthly_refresh_recent`` (every 10 minutes from the clock,
activity.tasks.scheduler_tick) recomputes the current and previous month of the
programmes running then, and rebuilds in full a programme changed since its rows were
written (its dates moved) or never summed yet. A change further back (a meeting of three
months ago marked as held today) shows after the next full ``monthly_rebuild``.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.programs.models import Enrolment, Program

from .models import MonthlyActivity

FIGURES = ("sign_ins", "messages", "meetings_confirmed", "meetings_held")
#: full rebuilds (changed or new programmes) at most per tick: the rest wait for the next
REBUILDS_PER_TICK = 20


@dataclasses.dataclass(frozen=True)
class MonthRow:
    month: dt.date
    sign_ins: int = 0
    messages: int = 0
    meetings_confirmed: int = 0
    meetings_held: int = 0
    #: when the row was computed (None: never yet, the figures are zeros)
    updated_at: dt.datetime | None = None


# --- Months, pure ---------------------------------------------------------------------


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first days of every month from `first`'s to `last`'s, both included."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def window_months(program: Program) -> list[dt.date]:
    start, end = program.window()
    return months_between(start.date(), (end - dt.timedelta(days=1)).date())


def month_start(month: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(month, dt.time.min, tzinfo=tz)


# --- Counting (the one definition, for the rollup and for the filtered tab) ------------


def monthly_counts(
    *,
    program: Program,
    start: dt.datetime,
    end: dt.datetime,
    members: QuerySet | None = None,
) -> dict[dt.date, dict[str, int]]:
    """Each month's figures between `start` and `end` (clipped to the programme's window),
    counted from the events and meetings in two grouped queries. `members` (a queryset of
    member ids) keeps only their events and the meetings they attend (a cohort's)."""
    window_start, window_end = program.window()
    start, end = max(start, window_start), min(end, window_end)
    if start >= end:
        return {}
    tz = program.organisation.tzinfo
    events = ActivityEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).filter(
        Q(program=program, kind__in=[EventKind.SIGN_IN, EventKind.MESSAGE])
        | Q(
            program__isnull=True,
            kind=EventKind.SIGN_IN,
            actor_id__in=Enrolment.objects.filter(program=program).values("member_id"),
        )
    )
    meetings = Meeting.objects.filter(
        program=program,
        starts_at__gte=start,
        starts_at__lt=end,
        status__in=[MeetingStatus.CONFIRMED, MeetingStatus.SCHEDULED],
    )
    if members is not None:
        events = events.filter(actor_id__in=members)
        meetings = meetings.filter(
            Exists(MeetingAttendee.objects.filter(meeting_id=OuterRef("pk"), member_id__in=members))
        )
    said_held = Exists(MeetingAttendee.objects.filter(meeting_id=OuterRef("pk"), took_place=True))
    figures: dict[dt.date, dict[str, int]] = {}

    def add(month: dt.datetime, **values: int) -> None:
        figures.setdefault(month.astimezone(tz).date(), dict.fromkeys(FIGURES, 0)).update(values)

    for event_row in (
        events.annotate(month=TruncMonth("occurred_at", tzinfo=tz))
        .values("month")
        .annotate(
            sign_ins=Count("pk", filter=Q(kind=EventKind.SIGN_IN)),
            messages=Count("pk", filter=Q(kind=EventKind.MESSAGE)),
        )
        .order_by()
    ):
        add(event_row["month"], sign_ins=event_row["sign_ins"], messages=event_row["messages"])
    for row in (
        meetings.annotate(month=TruncMonth("starts_at", tzinfo=tz), said_held=said_held)
        .values("month")
        .annotate(
            confirmed=Count("pk", filter=Q(status=MeetingStatus.CONFIRMED)),
            held=Count(
                "pk",
                filter=Q(status=MeetingStatus.CONFIRMED)
                | Q(status=MeetingStatus.SCHEDULED, said_held=True),
            ),
        )
        .order_by()
    ):
        add(row["month"], meetings_confirmed=row["confirmed"], meetings_held=row["held"])
    return figures


# --- Writing (the worker) -------------------------------------------------------------


def monthly_rebuild(*, program: Program, months: Iterable[dt.date] | None = None) -> int:
    """Recompute these months of the programme (default: its whole window, and drop the
    rows of months no longer in it): two grouped counts and one upsert, however many
    events. Returns how many months were written."""
    window = window_months(program)
    if months is None:
        targets = window
        MonthlyActivity.objects.filter(program=program).filter(
            Q(month__lt=window[0]) | Q(month__gt=window[-1])
        ).delete()
    else:
        inside = set(window)
        targets = sorted({month_of(m) for m in months} & inside)
    if not targets:
        return 0
    tz = program.organisation.tzinfo
    counts = monthly_counts(
        program=program,
        start=month_start(targets[0], tz),
        end=month_start(next_month(targets[-1]), tz),
    )
    now = timezone.now()
    MonthlyActivity.objects.bulk_create(
        [
            MonthlyActivity(
                program=program,
                month=month,
                updated_at=now,
                **counts.get(month, dict.fromkeys(FIGURES, 0)),
            )
            for month in targets
        ],
        update_conflicts=True,
        unique_fields=["program", "month"],
        update_fields=[*FIGURES, "updated_at"],
    )
    return len(targets)


def monthly_refresh_recent(*, now: dt.datetime) -> int:
    """The worker's step: the current and previous month of every programme running now
    (or ended since the previous month began), and a full rebuild of the programmes
    changed since their rows were written or never summed. Returns the months written."""
    today = now.astimezone(dt.UTC).date()
    # a day's margin either side: each programme's months are then read in its own zone
    earliest = month_of(month_of(today) - dt.timedelta(days=1)) - dt.timedelta(days=1)
    written = 0
    # the oldest row, not the newest: refreshing this month must not hide a change of dates
    stale = list(
        Program.objects.annotate(oldest=Min("monthly_activity__updated_at"))
        .filter(Q(oldest__isnull=True) | Q(updated_at__gt=F("oldest")))
        .select_related("organisation")
        .order_by("pk")[:REBUILDS_PER_TICK]
    )
    for changed in stale:
        written += monthly_rebuild(program=changed)
    recent = (
        Program.objects.filter(start_date__lte=today + dt.timedelta(days=1), end_date__gte=earliest)
        .exclude(pk__in=[p.pk for p in stale])
        .select_related("organisation")
        .order_by("pk")
    )
    for program in recent.iterator(chunk_size=500):
        local = now.astimezone(program.organisation.tzinfo).date()
        current = month_of(local)
        written += monthly_rebuild(
            program=program, months=[month_of(current - dt.timedelta(days=1)), current]
        )
    return written


# --- Reading --------------------------------------------------------------------------


def monthly_rows(
    program: Program, *, first: dt.date | None = None, last: dt.date | None = None
) -> list[MonthRow]:
    """The months of the programme's window (or of its part from `first`'s month to
    `last`'s), zeros where nothing was summed yet: one query."""
    months = window_months(program)
    if first is not None:
        months = [m for m in months if m >= month_of(first)]
    if last is not None:
        months = [m for m in months if m <= month_of(last)]
    if not months:
        return []
    stored = {
        row.month: row
        for row in MonthlyActivity.objects.filter(
            program=program, month__gte=months[0], month__lte=months[-1]
        )
    }
    rows = []
    for month in months:
        row = stored.get(month)
        if row is None:
            rows.append(MonthRow(month=month))
        else:
            rows.append(
                MonthRow(
                    month=month,
                    updated_at=row.updated_at,
                    **{name: getattr(row, name) for name in FIGURES},
                )
            )
    return rows


def rows_from_counts(
    months: list[dt.date], counts: dict[dt.date, dict[str, int]]
) -> list[MonthRow]:
    """`monthly_counts`' figures as the rows `monthly_rows` returns (a filtered view)."""
    zero = dict.fromkeys(FIGURES, 0)
    return [
        MonthRow(
            month=m,
            sign_ins=counts.get(m, zero)["sign_ins"],
            messages=counts.get(m, zero)["messages"],
            meetings_confirmed=counts.get(m, zero)["meetings_confirmed"],
            meetings_held=counts.get(m, zero)["meetings_held"],
        )
        for m in months
    ]
