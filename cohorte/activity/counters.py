"""The maintained counters (one ParticipantStats row per enrolment) and the events that
feed them, written set-based: a batch of 10,000 events is a handful of statements, and the
rebuild of a programme of 100,000 participants is one statement per chunk of members.

The rule: an enrolment's counters are what its member did inside the programme's window
[start, end) in the organisation's time zone — distinct profiles visited and distinct
professionals contacted (an event without a target counts on its own), confirmed meetings,
and the latest access (a platform sign-in, or a sign-in or course access in the
programme). `_events_grouped_sql` and `_recompute_sql` compute it for many members at once
(one pass over their events through the index that leads with the actor: a chunk of
members is one contiguous stretch of it); `_distinct` is the same distinct count for one
member, which a batch's UPDATE recomputes only for the members to whom it brought a profile
view or a contact. The distinct counts are recomputed from the stored events, never added
to, which keeps them distinct across batches; the last access only moves forward; and only
the rows a batch stored count (a retried batch stores nothing).

Two writers never interleave on one member: each first locks the members it recomputes
(PostgreSQL, in id order, so two writers never deadlock; SQLite has one writer at a time),
then reads the programme's dates. Its recompute therefore sees every event committed by an
earlier writer, a later writer waits for it, and a recompute with the dates of before a
change can never land after the rebuild that follows the change.

Every statement here is put together from table names and fixed fragments of this module;
every value is a parameter (hence the file-wide noqa for S608).
"""
# ruff: noqa: S608

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic_core
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.jobs import job_create, job_enqueue
from cohorte.core.models import Job, JobStatus
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

from .models import ActivityEvent, Conversation, EventKind, ParticipantStats

#: enrolments recomputed per transaction when a whole programme is rebuilt: short enough
#: that no transaction holds its locks for long, long enough that progress is not chatter
REBUILD_CHUNK = 5_000

EVENTS = ActivityEvent._meta.db_table
STATS = ParticipantStats._meta.db_table
ENROLMENTS = Enrolment._meta.db_table
MEMBERS = Member._meta.db_table
MEETINGS = Meeting._meta.db_table
ATTENDEES = MeetingAttendee._meta.db_table
CONVERSATIONS = Conversation._meta.db_table

#: one event of a batch, its members resolved: (actor_id, kind, target_id, occurred_at,
#: client_id)
EventRow = tuple[int, str, int | None, dt.datetime, str | None]


@dataclass
class IngestResult:
    created: int
    ignored: int


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _ids(name: str) -> str:
    """SQL for « is in the list of ids passed as %(name)s » (see `_ids_param`)."""
    if _postgres():
        return f"= ANY(%({name})s)"
    return f"IN (SELECT value FROM json_each(%({name})s))"


def _ids_param(ids: Iterable[int]) -> Any:
    ids = list(ids)
    return ids if _postgres() else json.dumps(ids)


def _moment(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _stored(value: Any) -> str:
    """A moment as SQLite stores it (UTC, « YYYY-MM-DD HH:MM:SS[.ffffff] »), for JSON."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    return str(value)


def _rows_json(rows: Sequence[EventRow]) -> str:
    """The rows as the INSERT reads them: JSON written by pydantic-core (twice as fast as
    the json module with isoformat per row), each moment in ISO 8601 with its offset. SQLite
    gets them in UTC (`Z`), which its INSERT turns into its stored form."""
    if _postgres():
        return pydantic_core.to_json(
            [{"a": a, "k": k, "t": t, "o": o, "c": c} for a, k, t, o, c in rows]
        ).decode()
    utc = dt.UTC
    return pydantic_core.to_json(
        [(a, k, t, o if o.tzinfo is utc else o.astimezone(utc), c) for a, k, t, o, c in rows]
    ).decode()


def _later(current: str, new: str) -> str:
    """The later of a stored moment and a new one (either may be NULL), for upserts."""
    return (
        f"CASE WHEN {new} IS NULL THEN {current} "
        f"WHEN {current} IS NULL OR {new} > {current} THEN {new} ELSE {current} END"
    )


def _window(program: Program) -> tuple[dt.datetime, dt.datetime]:
    """The programme's window with its dates as stored now (read after the locks: see the
    module's docstring), not as they were when the caller loaded the programme."""
    dates = Program.objects.filter(pk=program.pk).values_list("start_date", "end_date").first()
    if dates is None:
        return program.window()
    fresh = copy.copy(program)
    fresh.start_date, fresh.end_date = dates
    return fresh.window()


def _lock_members(cursor: Any, member_ids: Sequence[int]) -> None:
    if _postgres() and member_ids:
        cursor.execute(
            f"SELECT id FROM {MEMBERS} WHERE id = ANY(%(ids)s) ORDER BY id FOR NO KEY UPDATE",
            {"ids": list(member_ids)},
        )


def _in_window(column: str) -> str:
    return f"{column} >= %(start)s AND {column} < %(end)s"


def _distinct(kind: str) -> str:
    """Every distinct target once, and every event without a target on its own: one index
    range of the member's events of that kind in the window, read from the index alone."""
    return (
        "(SELECT COUNT(DISTINCT ev.target_id) + COUNT(*) - COUNT(ev.target_id) "
        f"FROM {EVENTS} ev WHERE ev.actor_id = e.member_id "
        f"AND ev.program_id = %(program)s AND ev.kind = %({kind})s "
        f"AND {_in_window('ev.occurred_at')})"
    )


def _figures() -> dict[str, str]:
    """The distinct counts as SQL over one enrolment `e` (for the batch's UPDATE)."""
    return {
        "profiles_visited": _distinct("profile_view"),
        "professionals_contacted": _distinct("contact"),
    }


def _members(column: str, members: str) -> str:
    """SQL for « `column` is one of the members »: a range (`members` = "range", over the
    parameters first and last) or a list (over the parameter members)."""
    if members == "range":
        return f"{column} >= %(first)s AND {column} <= %(last)s"
    return f"{column} {_ids('members')}"


def _events_grouped_sql(members: str) -> str:
    """The members' events in the window, grouped by member: their distinct counts and
    latest access, in one pass through the index that leads with the actor."""

    def distinct(kind: str) -> str:
        return (
            f"COUNT(DISTINCT CASE WHEN ev.kind = %({kind})s THEN ev.target_id END) + "
            f"SUM(CASE WHEN ev.kind = %({kind})s AND ev.target_id IS NULL THEN 1 ELSE 0 END)"
        )

    # SQLite would rather read the whole programme's events by kind (an OR of two kinds)
    by_actor = "" if _postgres() else "INDEXED BY event_actor_program_time"
    return (
        f"SELECT ev.actor_id, {distinct('profile_view')} AS pv, {distinct('contact')} AS pc, "
        "MAX(CASE WHEN ev.kind IN (%(sign_in)s, %(course_access)s) THEN ev.occurred_at END) "
        f"AS la FROM {EVENTS} ev {by_actor} WHERE {_members('ev.actor_id', members)} "
        f"AND {_in_window('ev.occurred_at')} AND ((ev.program_id = %(program)s AND ev.kind IN "
        "(%(profile_view)s, %(contact)s, %(sign_in)s, %(course_access)s)) "
        # a platform sign-in of the programme's member counts as an access
        "OR (ev.program_id IS NULL AND ev.kind = %(sign_in)s)) GROUP BY ev.actor_id"
    )


def _recompute_sql(members: str, where: str = "") -> str:
    """Upsert every counter of the enrolments of these members (see `_members`) in the
    programme: one pass over their events in the window, grouped by member, through the
    index that leads with the actor (read from the index alone), and one over their
    confirmed meetings. The distinct counts are `_distinct`'s, for many members at once."""

    events = _events_grouped_sql(members)
    meetings = (
        f"SELECT a.member_id, COUNT(*) AS n FROM {ATTENDEES} a "
        f"JOIN {MEETINGS} m ON m.id = a.meeting_id WHERE {_members('a.member_id', members)} "
        "AND m.program_id = %(program)s AND m.status = %(confirmed)s "
        f"AND {_in_window('m.starts_at')} GROUP BY a.member_id"
    )
    fields = "profiles_visited, professionals_contacted, confirmed_meetings, last_access"
    updates = ", ".join(f"{f} = excluded.{f}" for f in [*fields.split(", "), "updated_at"])
    return (
        f"INSERT INTO {STATS} (enrolment_id, {fields}, updated_at) "
        "SELECT e.id, COALESCE(d.pv, 0), COALESCE(d.pc, 0), COALESCE(c.n, 0), d.la, %(now)s "
        f"FROM {ENROLMENTS} e LEFT JOIN ({events}) AS d ON d.actor_id = e.member_id "
        f"LEFT JOIN ({meetings}) AS c ON c.member_id = e.member_id "
        f"WHERE e.program_id = %(program)s AND {_members('e.member_id', members)} {where} "
        f"ON CONFLICT (enrolment_id) DO UPDATE SET {updates}"
    )


def _params(program: Program, window: tuple[dt.datetime, dt.datetime]) -> dict[str, Any]:
    start, end = window
    return {
        "program": program.pk,
        "start": _moment(start),
        "end": _moment(end),
        "now": _moment(timezone.now()),
        "sign_in": EventKind.SIGN_IN.value,
        "course_access": EventKind.COURSE_ACCESS.value,
        "profile_view": EventKind.PROFILE_VIEW.value,
        "contact": EventKind.CONTACT.value,
        "confirmed": MeetingStatus.CONFIRMED.value,
    }


def _recompute(cursor: Any, program: Program, members: str, params: dict[str, Any]) -> int:
    cursor.execute(_recompute_sql(members), {**params, **_params(program, _window(program))})
    return cursor.rowcount


def counters_recompute(*, program: Program, member_ids: Iterable[int]) -> int:
    """Recompute the counters of these members' enrolments in the programme."""
    ids = sorted(set(member_ids))
    if not ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_members(cursor, ids)
        return _recompute(cursor, program, "list", {"members": _ids_param(ids)})


def _chunks(program: Program) -> list[tuple[int, int, int]]:
    """The programme's enrolments as ranges of member ids (first, last, how many): each
    range is a contiguous stretch of the events' index."""
    ids = list(
        Enrolment.objects.filter(program=program)
        .order_by("member_id")
        .values_list("member_id", flat=True)
    )
    return [
        (ids[i], ids[min(i + REBUILD_CHUNK, len(ids)) - 1], min(REBUILD_CHUNK, len(ids) - i))
        for i in range(0, len(ids), REBUILD_CHUNK)
    ]


def counters_rebuild(
    *,
    program: Program,
    progress: Callable[[int, int], None] | None = None,
    go_on: Callable[[], bool] | None = None,
) -> int:
    """Recompute every counter of the programme, one chunk of members per transaction (no
    transaction holds its locks for long); `progress(done, total)` after each, and a stop
    when `go_on()` says so (a newer rebuild took over). Returns how many enrolments were
    recomputed."""
    chunks = _chunks(program)
    total = sum(n for _, _, n in chunks)
    done = 0
    if progress:
        progress(0, total)
    for first, last, count in chunks:
        if go_on is not None and not go_on():
            break
        bounds = {"program": program.pk, "first": first, "last": last}
        with transaction.atomic(), connection.cursor() as cursor:
            if _postgres():
                cursor.execute(
                    f"SELECT m.id FROM {MEMBERS} m WHERE m.id IN (SELECT e.member_id FROM "
                    f"{ENROLMENTS} e WHERE e.program_id = %(program)s AND "
                    f"{_members('e.member_id', 'range')}) ORDER BY m.id FOR NO KEY UPDATE",
                    bounds,
                )
            _recompute(cursor, program, "range", bounds)
        done += count
        if progress:
            progress(done, total)
    return done


# --- A batch of events ----------------------------------------------------------------
#
# What a batch changes is derived from the rows it stored (a client_id seen before stores
# nothing): on PostgreSQL the INSERT's RETURNING feeds, in the same statement, the members'
# last access, the conversations and a summary per member; on SQLite, whose transaction
# holds the only write lock from its start (BEGIN IMMEDIATE), the rows stored are those
# with an id above the largest before the INSERT. Then one UPDATE brings the counters of
# the batch's members up to date: distinct counts recomputed through the index for those
# with a new profile view or contact in the window, last access moved forward.


def _new_rows_summary_sql(new: str) -> str:
    """Per member of the batch: their latest access and whether a profile view or a
    contact was stored, inside the window, and how many events were stored."""

    def stored(kinds: str) -> str:
        return f"n.kind IN ({kinds}) AND {_in_window('n.occurred_at')}"

    access = "%(sign_in)s, %(course_access)s"
    return (
        f"SELECT n.actor_id, MAX(CASE WHEN {stored(access)} THEN n.occurred_at END), "
        f"MAX(CASE WHEN {stored('%(profile_view)s')} THEN 1 ELSE 0 END), "
        f"MAX(CASE WHEN {stored('%(contact)s')} THEN 1 ELSE 0 END), COUNT(*) "
        f"FROM {new} GROUP BY n.actor_id"
    )


def _members_last_access_sql(new: str) -> str:
    """A member's « dernier accès », whatever the programme: moved forward to the latest
    access the batch stored."""
    return (
        f"UPDATE {MEMBERS} SET last_access = x.at FROM (SELECT n.actor_id, "
        f"MAX(n.occurred_at) AS at FROM {new} WHERE n.kind IN (%(sign_in)s, %(course_access)s) "
        f"GROUP BY n.actor_id) AS x WHERE {MEMBERS}.id = x.actor_id "
        f"AND ({MEMBERS}.last_access IS NULL OR {MEMBERS}.last_access < x.at)"
    )


def _conversations_sql(new: str) -> str:
    """A participant's message opens (or re-opens) a conversation with the other person;
    that person's message back answers it. One upsert for the whole batch, in key order
    (two batches at once never wait for each other in a circle)."""
    roles = ", ".join(f"%(role{i})s" for i in range(len(PARTICIPANT_ROLES)))

    def participant(side: str, column: str) -> str:
        return (
            f"LEFT JOIN {ENROLMENTS} {side} ON {side}.program_id = %(program)s "
            f"AND {side}.member_id = n.{column} AND {side}.role IN ({roles})"
        )

    sent = "pa.id IS NOT NULL"  # the participant wrote; otherwise the other person answered
    table = CONVERSATIONS
    return (
        f"INSERT INTO {table} (program_id, participant_id, professional_id, "
        "last_message_at, last_reply_at) "
        "SELECT %(program)s, x.participant, x.professional, MAX(x.sent), MAX(x.answered) FROM ("
        f"SELECT CASE WHEN {sent} THEN n.actor_id ELSE n.target_id END AS participant, "
        f"CASE WHEN {sent} THEN n.target_id ELSE n.actor_id END AS professional, "
        f"CASE WHEN {sent} THEN n.occurred_at END AS sent, "
        f"CASE WHEN {sent} THEN NULL ELSE n.occurred_at END AS answered "
        f"FROM {new} {participant('pa', 'actor_id')} {participant('pt', 'target_id')} "
        "WHERE n.kind = %(message)s AND n.target_id IS NOT NULL "
        "AND (pa.id IS NULL) <> (pt.id IS NULL)) AS x WHERE true "
        "GROUP BY x.participant, x.professional ORDER BY x.participant, x.professional "
        "ON CONFLICT (program_id, participant_id, professional_id) DO UPDATE SET "
        f"last_message_at = {_later(f'{table}.last_message_at', 'excluded.last_message_at')}, "
        f"last_reply_at = {_later(f'{table}.last_reply_at', 'excluded.last_reply_at')}"
    )


def _insert_sql() -> str:
    columns = "program_id, actor_id, kind, target_id, occurred_at, client_id, created_at"
    if _postgres():  # the rows as one JSON document: PostgreSQL reads it faster than arrays
        source = (  # are put together
            "SELECT %(program)s, u.a, u.k, u.t, u.o, u.c, %(now)s FROM json_to_recordset("
            "%(rows)s::json) AS u(a bigint, k varchar, t bigint, o timestamptz, c varchar)"
        )
    else:
        parts = [f"json_extract(j.value, '$[{i}]')" for i in range(5)]
        # « 2026-12-01T09:30:00.250000Z » as SQLite stores it: « 2026-12-01 09:30:00.250000 »
        parts[3] = f"replace(replace({parts[3]}, 'T', ' '), 'Z', '')"
        source = (
            f"SELECT %(program)s, {', '.join(parts)}, %(now)s FROM json_each(%(rows)s) AS j "
            "WHERE true"
        )
    # a client_id stored before (or earlier in the batch) is skipped: the unique index on
    # (program, client_id) decides, also against a concurrent retry of the same batch
    return f"INSERT INTO {EVENTS} ({columns}) {source} ON CONFLICT DO NOTHING"


def _store(cursor: Any, program: Program, rows: Sequence[EventRow], params: dict) -> list:
    """Insert the rows and update what derives from them but the counters; returns the
    summary per member of what was stored (see `_new_rows_summary_sql`)."""
    if _postgres():
        new = "ins AS n"
        cursor.execute(
            f"WITH ins AS ({_insert_sql()} RETURNING actor_id, kind, target_id, occurred_at), "
            f"members AS ({_members_last_access_sql(new)} RETURNING 1), "
            f"conversations AS ({_conversations_sql(new)} RETURNING 1) "
            f"{_new_rows_summary_sql(new)}",
            {**params, "rows": _rows_json(rows)},
        )
        return cursor.fetchall()
    # a page cache for this batch (SQLite's default is 2 MB, and each event stored updates
    # five indexes): several times faster on a table of millions of events
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {EVENTS}")
    params = {**params, "before": cursor.fetchone()[0]}
    cursor.execute(
        _insert_sql(),
        {**params, "rows": _rows_json(rows)},
    )
    if not cursor.rowcount:
        return []
    new = (
        # NOT INDEXED: the rows stored are a range of the rowid, not a scan of an index
        f"(SELECT actor_id, kind, target_id, occurred_at FROM {EVENTS} NOT INDEXED "
        "WHERE id > %(before)s) AS n"
    )
    cursor.execute(_members_last_access_sql(new), params)
    cursor.execute(_conversations_sql(new), params)
    cursor.execute(_new_rows_summary_sql(new), params)
    return cursor.fetchall()


def _counters_update(cursor: Any, summary: list, params: dict[str, Any]) -> None:
    """One UPDATE for the counters of the batch's members: a distinct count is recomputed
    (through the index, for that member) only if the batch stored an event of its kind in
    the window; the last access only moves forward."""
    figures = _figures()
    if _postgres():
        source = (
            "unnest(%(members)s::bigint[], %(at)s::timestamptz[], %(pv)s::int[], "
            "%(pc)s::int[]) AS t(m, at, pv, pc)"
        )
        columns: dict[str, Any] = {
            "members": [row[0] for row in summary],
            "at": [row[1] for row in summary],
            "pv": [row[2] for row in summary],
            "pc": [row[3] for row in summary],
        }
    else:
        names = ["m", "at", "pv", "pc"]
        parts = ", ".join(f"json_extract(value, '$[{i}]') AS {n}" for i, n in enumerate(names))
        source = f"(SELECT {parts} FROM json_each(%(summary)s)) AS t"
        columns = {
            "summary": json.dumps(
                [(m, _stored(at) if at else None, pv, pc) for m, at, pv, pc, _ in summary]
            )
        }
    cursor.execute(
        f"UPDATE {STATS} SET "
        f"profiles_visited = CASE WHEN t.pv = 1 THEN {figures['profiles_visited']} "
        f"ELSE {STATS}.profiles_visited END, "
        f"professionals_contacted = CASE WHEN t.pc = 1 THEN "
        f"{figures['professionals_contacted']} ELSE {STATS}.professionals_contacted END, "
        f"last_access = {_later(f'{STATS}.last_access', 't.at')}, updated_at = %(now)s "
        f"FROM {ENROLMENTS} e, {source} WHERE e.member_id = t.m "
        f"AND e.program_id = %(program)s AND {STATS}.enrolment_id = e.id "
        "AND (t.pv = 1 OR t.pc = 1 OR t.at IS NOT NULL)",
        {**params, **columns},
    )
    # a member without counters yet (an enrolment written without them): all of them
    members = _ids_param(sorted(row[0] for row in summary))
    cursor.execute(
        f"SELECT e.member_id FROM {ENROLMENTS} e WHERE e.program_id = %(program)s "
        f"AND e.member_id {_ids('members')} AND NOT EXISTS "
        f"(SELECT 1 FROM {STATS} s WHERE s.enrolment_id = e.id)",
        {"program": params["program"], "members": members},
    )
    missing = sorted(row[0] for row in cursor.fetchall())
    if missing:
        cursor.execute(_recompute_sql("list"), {**params, "members": _ids_param(missing)})


def events_store(*, program: Program, rows: Sequence[EventRow]) -> IngestResult:
    """Store a validated batch all at once, then bring everything that derives from it up
    to date. A client_id seen before (in this batch or an earlier one) is skipped, so a
    retried batch never counts twice."""
    if not rows:
        return IngestResult(created=0, ignored=0)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_members(cursor, sorted({row[0] for row in rows}))
        params = {
            **_params(program, _window(program)),
            "message": EventKind.MESSAGE.value,
            **{f"role{i}": role.value for i, role in enumerate(PARTICIPANT_ROLES)},
        }
        summary = _store(cursor, program, rows, params)
        created = sum(row[4] for row in summary)
        if created:
            _counters_update(cursor, summary, params)
    return IngestResult(created=created, ignored=len(rows) - created)


# --- The rebuild after a change of dates, in the background ----------------------------

#: the Job kind of a programme's rebuild (its payload: {"program_id": …})
REBUILD_JOB = "counters_rebuild"


def counters_rebuild_pending(program: Program) -> Job | None:
    """The rebuild the programme's page shows as under way, if any: until it is done, the
    counters on the page are those of before the change, and the page says so."""
    return (
        Job.objects.filter(
            kind=REBUILD_JOB,
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
            payload__program_id=program.pk,
        )
        .order_by("-pk")
        .first()
    )


def counters_rebuild_start(*, program: Program, task: Any, by: Member | None = None) -> Job:
    """Queue the rebuild of every counter of the programme (its dates changed). The later
    change wins: an earlier rebuild still waiting or running is marked superseded, and stops
    before its next chunk; this one redoes every chunk with the dates as they are now."""
    with transaction.atomic():
        Job.objects.filter(
            kind=REBUILD_JOB,
            status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
            payload__program_id=program.pk,
        ).update(status=JobStatus.DONE, finished_at=timezone.now(), result={"superseded": True})
        job = job_create(
            kind=REBUILD_JOB,
            by=by,
            organisation_id=program.organisation_id,
            title=_("Recalcul des compteurs : %(program)s") % {"program": program.name},
            payload={"program_id": program.pk},
        )
        job_enqueue(job, task)
    return job


def counters_rebuild_work(job: Job, progress: Callable[[int, int], None]) -> dict[str, Any]:
    """The job's work (run by `job_run`): safe to run again from the start after a worker
    died, since every chunk recomputes from the stored events."""
    program = (
        Program.objects.select_related("organisation")
        .filter(pk=job.payload.get("program_id"))
        .first()
    )
    if program is None:
        return {"summary": _("Programme supprimé : rien à recalculer.")}

    def current() -> bool:
        return Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists()

    done = counters_rebuild(program=program, progress=progress, go_on=current)
    if not current():
        return {"superseded": True}
    return {
        "summary": _("%(n)d participations recalculées.") % {"n": done},
        "recomputed": done,
    }
