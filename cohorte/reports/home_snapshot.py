"""What a programme's Home costs to count, kept ready (HomeSnapshot): its headline figures,
the organisation's rates beside them, the cohorts side by side, the ratings, and the *ids*
of the people its lists show (the lowest in progress of each side, the first at risk with
their reasons' codes). Counting them takes most of a second for 100,000 members; reading
the snapshot is one query, and the people are then read afresh by id (one query, plus the
words of their reasons), so the page costs the same whatever the programme's size.

Stale-while-revalidate: the first view ever counts it there and then; a view that finds it
older than REFRESH_SECONDS serves it as it is (the page says when it was counted: « à jour
le … ») and queues one refresh for the worker (tasks.home_snapshot_refresh), never two at
once. Ending a cycle drops it and queues its refresh: no view shows the ended cycle's.

Every number is the one the Home counted before the snapshot existed: the same functions
(home._count_figures, home.organisation_rates, compare.cohort_rows, rating_counts,
home.progress_table, at_risk.at_risk_rows), only called by the worker instead of the page.
"""

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cohorte.programs.models import Cohort, Enrolment, Program

from . import at_risk, compare, home
from .home_rules import current_enrolments
from .models import HomeSnapshot
from .tab_selectors import rating_counts

#: what a snapshot holds, and how: raised when that changes (a figure added, a list's
#: rule), so a snapshot counted before is counted again instead of read
VERSION = 1
#: a snapshot older than this is served once more and refreshed behind it
REFRESH_SECONDS = home.CACHE_SECONDS
#: a refresh queued this long ago and not done (its worker died) may be queued again
QUEUED_GIVE_UP = dt.timedelta(minutes=10)


def home_snapshot_compute(*, program: Program) -> HomeSnapshot:
    """Count what the Home shows, now, and keep it (one upsert): the worker's refresh, and
    the page's first view."""
    now = timezone.now()
    figures = home._count_figures(program, now)
    organisation = home.organisation_rates(organisation=program.organisation, fresh=True)
    risky = list(at_risk.at_risk_rows(program=program, now=now)[: home.AT_RISK_ON_HOME])
    snapshot = HomeSnapshot(
        program=program,
        computed_at=now,
        version=VERSION,
        figures=figures,
        organisation={"programs": organisation["programs"], "values": organisation["values"]},
        cohorts=[[cohort.pk, values] for cohort, values in compare.cohort_rows(program=program)],
        ratings={str(rating): n for rating, n in rating_counts(program=program).items()},
        mentees=[row.pk for row in home.progress_table(program=program, side="mentees")],
        mentors=[row.pk for row in home.progress_table(program=program, side="mentors")],
        at_risk=[
            [row.pk, [code for code in at_risk.REASON_CODES if getattr(row, f"why_{code}")]]
            for row in risky
        ],
        refresh_queued_at=None,
    )
    HomeSnapshot.objects.bulk_create(
        [snapshot],
        update_conflicts=True,
        unique_fields=["program"],
        update_fields=[
            "computed_at",
            "version",
            "figures",
            "organisation",
            "cohorts",
            "ratings",
            "mentees",
            "mentors",
            "at_risk",
            "refresh_queued_at",
        ],
    )
    return snapshot


def is_stale(snapshot: HomeSnapshot, now: dt.datetime) -> bool:
    return snapshot.computed_at <= now - dt.timedelta(seconds=REFRESH_SECONDS)


def home_snapshot(
    *, program: Program, fresh: bool = False, now: dt.datetime | None = None
) -> HomeSnapshot:
    """The programme's snapshot: one query when it is young enough; counted here when there
    is none yet (or `fresh`); served as it is when it is stale, with one refresh queued
    (one more query, none while a refresh is already waiting)."""
    now = now or timezone.now()
    snapshot = None if fresh else HomeSnapshot.objects.filter(program=program).first()
    if snapshot is None or snapshot.version != VERSION:
        return home_snapshot_compute(program=program)
    if is_stale(snapshot, now):
        home_snapshot_refresh_queue(program=program, snapshot=snapshot, now=now)
    return snapshot


def home_snapshot_refresh_queue(
    *, program: Program, snapshot: HomeSnapshot, now: dt.datetime
) -> bool:
    """Queue the worker's refresh unless one is already waiting (the conditional update
    decides between two views at once). True if this call queued it."""
    queued = snapshot.refresh_queued_at
    if queued is not None and queued > now - QUEUED_GIVE_UP:
        return False
    won = (
        HomeSnapshot.objects.filter(program=program)
        .filter(Q(refresh_queued_at__isnull=True) | Q(refresh_queued_at__lte=now - QUEUED_GIVE_UP))
        .update(refresh_queued_at=now)
    )
    if not won:
        return False
    snapshot.refresh_queued_at = now
    from .tasks import home_snapshot_refresh

    transaction.on_commit(lambda: home_snapshot_refresh.enqueue(program.pk))
    return True


def home_snapshot_ask(*, program: Program) -> bool:
    """Queue the worker's count of a programme that has no snapshot yet (a view counted it
    there and then), once per QUEUED_GIVE_UP: with no row to mark, the hint is kept in
    the cache (a second queue would only count it twice). True if this call queued it."""
    seconds = int(QUEUED_GIVE_UP.total_seconds())
    if not cache.add(f"reports:home:snapshot-asked:{program.pk}", 1, seconds):
        return False
    from .tasks import home_snapshot_refresh

    transaction.on_commit(partial(home_snapshot_refresh.enqueue, program.pk))
    return True


def home_snapshot_drop(*, program: Program) -> None:
    """After a change the Home must not hide (a cycle ended): the snapshot goes at once and
    the worker counts the next after the commit; a view before it counts it itself."""
    HomeSnapshot.objects.filter(program=program).delete()
    from .tasks import home_snapshot_refresh

    transaction.on_commit(lambda: home_snapshot_refresh.enqueue(program.pk))


# --- Reading: the people of the lists, afresh by id -----------------------------------------


@dataclass
class HomePeople:
    mentees: list[Enrolment]
    mentors: list[Enrolment]
    #: with their why_<code> flags as the snapshot found them (at_risk.at_risk_reasons)
    at_risk: list[Enrolment]


def home_people(*, program: Program, snapshot: HomeSnapshot) -> HomePeople:
    """The snapshot's people read afresh in one query, with their progress as it is now,
    lowest first; an enrolment ended since is left out."""
    codes = {enrolment_id: set(reasons) for enrolment_id, reasons in snapshot.at_risk}
    mentees, mentors = set(snapshot.mentees), set(snapshot.mentors)
    ids = mentees | mentors | set(codes)
    rows = (
        list(home._with_progress(current_enrolments(program).filter(pk__in=ids), program))
        if ids
        else []
    )
    for row in rows:
        if row.pk in codes:
            for code in at_risk.REASON_CODES:
                setattr(row, f"why_{code}", code in codes[row.pk])
    return HomePeople(
        mentees=[row for row in rows if row.pk in mentees],
        mentors=[row for row in rows if row.pk in mentors],
        at_risk=[row for row in rows if row.pk in codes],
    )


def home_cohorts(
    *, program: Program, snapshot: HomeSnapshot
) -> list[tuple[Cohort, dict[str, Any]]]:
    """compare.cohort_rows as the snapshot counted it, each cohort read by id (one query,
    none without cohorts); a cohort deleted since is left out."""
    if not snapshot.cohorts:
        return []
    found = Cohort.objects.in_bulk([cohort_id for cohort_id, _values in snapshot.cohorts])
    return [
        (found[cohort_id], values)
        for cohort_id, values in snapshot.cohorts
        if cohort_id in found and found[cohort_id].organisation_id == program.organisation_id
    ]


def home_ratings(snapshot: HomeSnapshot) -> dict[int, int]:
    return {int(rating): n for rating, n in snapshot.ratings.items()}
