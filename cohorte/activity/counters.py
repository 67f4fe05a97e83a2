"""The maintained counters (one ParticipantStats row per enrolment) and the events that
feed them, written set-based: a batch of 10,000 events is a handful of statements, and the
rebuild of a programme of 100,000 participants is one statement per chunk of enrolments.

One rule, written once (`_recompute_sql`): an enrolment's counters are what its member did
inside the programme's window [start, end) in the organisation's time zone — distinct
profiles visited and distinct professionals contacted (an event without a target counts on
its own), confirmed meetings, and the latest access (a platform sign-in, or a sign-in or
course access in the programme). Each figure is read through an index for one member at a
time (the events' index leads with actor, programme, kind and time), so recomputing the
2,000 members a batch touches is a few index probes each, whatever the programme's size.
Recomputing from the stored events, instead of adding to the counters, is what keeps a
distinct count distinct across batches and a retried batch counted once.

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

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.jobs import job_create, job_enqueue
from cohorte.core.models import Job, JobStatus
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

from .models import ACCESS_KINDS, ActivityEvent, Conversation, EventKind, ParticipantStats

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


def _greatest(*expressions: str) -> str:
    """The latest of some moments, NULLs ignored (SQLite's max() of several gives NULL)."""
    if _postgres():
        return f"GREATEST({', '.join(expressions)})"
    union = " UNION ALL ".join(f"SELECT {e} AS v" for e in expressions)
    return f"(SELECT MAX(v) FROM ({union}))"


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


def _recompute_sql(where: str) -> str:
    """Upsert the counters of the programme's enrolments that match `where` (over `e`)."""

    def in_window(column: str) -> str:
        return f"{column} >= %(start)s AND {column} < %(end)s"

    def latest(program: str, kind: str) -> str:
        return (
            f"(SELECT MAX(ev.occurred_at) FROM {EVENTS} ev WHERE ev.actor_id = e.member_id "
            f"AND ev.program_id {program} AND ev.kind = %({kind})s "
            f"AND {in_window('ev.occurred_at')})"
        )

    def distinct(kind: str) -> str:
        # every distinct target once, and every event without a target on its own
        return (
            "(SELECT COUNT(DISTINCT ev.target_id) + COUNT(*) - COUNT(ev.target_id) "
            f"FROM {EVENTS} ev WHERE ev.actor_id = e.member_id "
            f"AND ev.program_id = %(program)s AND ev.kind = %({kind})s "
            f"AND {in_window('ev.occurred_at')})"
        )

    confirmed = (
        f"(SELECT COUNT(*) FROM {ATTENDEES} a JOIN {MEETINGS} m ON m.id = a.meeting_id "
        "WHERE a.member_id = e.member_id AND m.program_id = %(program)s "
        f"AND m.status = %(confirmed)s AND {in_window('m.starts_at')})"
    )
    last_access = _greatest(
        latest("IS NULL", "sign_in"),  # a platform sign-in of the programme's member
        latest("= %(program)s", "sign_in"),
        latest("= %(program)s", "course_access"),
    )
    fields = "profiles_visited, professionals_contacted, confirmed_meetings, last_access"
    updates = ", ".join(f"{f} = excluded.{f}" for f in [*fields.split(", "), "updated_at"])
    return (
        f"INSERT INTO {STATS} (enrolment_id, {fields}, updated_at) "
        f"SELECT e.id, {distinct('profile_view')}, {distinct('contact')}, {confirmed}, "
        f"{last_access}, %(now)s FROM {ENROLMENTS} e "
        f"WHERE e.program_id = %(program)s AND {where} "
        f"ON CONFLICT (enrolment_id) DO UPDATE SET {updates}"
    )


def _recompute(cursor: Any, program: Program, where: str, params: dict[str, Any]) -> int:
    start, end = _window(program)
    cursor.execute(
        _recompute_sql(where),
        {
            **params,
            "program": program.pk,
            "start": _moment(start),
            "end": _moment(end),
            "now": _moment(timezone.now()),
            "sign_in": EventKind.SIGN_IN.value,
            "course_access": EventKind.COURSE_ACCESS.value,
            "profile_view": EventKind.PROFILE_VIEW.value,
            "contact": EventKind.CONTACT.value,
            "confirmed": MeetingStatus.CONFIRMED.value,
        },
    )
    return cursor.rowcount


def counters_recompute(*, program: Program, member_ids: Iterable[int]) -> int:
    """Recompute the counters of these members' enrolments in the programme."""
    ids = sorted(set(member_ids))
    if not ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_members(cursor, ids)
        return _recompute(
            cursor, program, f"e.member_id {_ids('members')}", {"members": _ids_param(ids)}
        )


def _chunks(program: Program) -> list[tuple[int, int, int]]:
    """The programme's enrolments as ranges of ids (first, last, how many)."""
    ids = list(
        Enrolment.objects.filter(program=program).order_by("pk").values_list("pk", flat=True)
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
    """Recompute every counter of the programme, one chunk of enrolments per transaction;
    `progress(done, total)` after each, and a stop when `go_on()` says so (a newer rebuild
    took over). Returns how many enrolments were recomputed."""
    chunks = _chunks(program)
    total = sum(n for _, _, n in chunks)
    done = 0
    if progress:
        progress(0, total)
    for first, last, count in chunks:
        if go_on is not None and not go_on():
            break
        with transaction.atomic(), connection.cursor() as cursor:
            if _postgres():
                cursor.execute(
                    f"SELECT m.id FROM {MEMBERS} m JOIN {ENROLMENTS} e ON e.member_id = m.id "
                    "WHERE e.program_id = %(program)s AND e.id >= %(first)s AND e.id <= %(last)s "
                    "ORDER BY m.id FOR NO KEY UPDATE OF m",
                    {"program": program.pk, "first": first, "last": last},
                )
            _recompute(
                cursor,
                program,
                "e.id >= %(first)s AND e.id <= %(last)s",
                {"first": first, "last": last},
            )
        done += count
        if progress:
            progress(done, total)
    return done


# --- A batch of events ----------------------------------------------------------------


def _insert_sql(*, returning: bool) -> str:
    columns = "program_id, actor_id, kind, target_id, occurred_at, client_id, created_at"
    if _postgres():
        source = (
            "SELECT %(program)s, u.a, u.k, u.t, u.o, u.c, %(now)s FROM unnest("
            "%(actors)s::bigint[], %(kinds)s::varchar[], %(targets)s::bigint[], "
            "%(moments)s::timestamptz[], %(client_ids)s::varchar[]) AS u(a, k, t, o, c)"
        )
    else:
        parts = ", ".join(f"json_extract(j.value, '$[{i}]')" for i in range(5))
        source = f"SELECT %(program)s, {parts}, %(now)s FROM json_each(%(rows)s) AS j WHERE true"
    # a client_id stored before (or earlier in the batch) is skipped: the unique index on
    # (program, client_id) decides, also against a concurrent retry of the same batch
    sql = f"INSERT INTO {EVENTS} ({columns}) {source} ON CONFLICT DO NOTHING"
    return sql + (" RETURNING actor_id, target_id, occurred_at" if returning else "")


def _insert(cursor: Any, program: Program, rows: Sequence[EventRow], *, returning: bool) -> Any:
    params: dict[str, Any] = {"program": program.pk, "now": _moment(timezone.now())}
    if _postgres():
        params.update(
            actors=[r[0] for r in rows],
            kinds=[r[1] for r in rows],
            targets=[r[2] for r in rows],
            moments=[r[3] for r in rows],
            client_ids=[r[4] for r in rows],
        )
    else:
        params["rows"] = json.dumps([(r[0], r[1], r[2], _stored(r[3]), r[4]) for r in rows])
    cursor.execute(_insert_sql(returning=returning), params)
    return cursor.fetchall() if returning else cursor.rowcount


def _conversations_upsert(cursor: Any, program: Program, messages: Sequence[tuple]) -> None:
    """A participant's message opens (or re-opens) a conversation with the other person;
    that person's message back answers it. One upsert for the whole batch."""
    if _postgres():
        source = (
            "unnest(%(actors)s::bigint[], %(targets)s::bigint[], %(moments)s::timestamptz[]) "
            "AS m(a, t, o)"
        )
        params: dict[str, Any] = {
            "actors": [m[0] for m in messages],
            "targets": [m[1] for m in messages],
            "moments": [m[2] for m in messages],
        }
    else:
        source = (
            "(SELECT json_extract(value, '$[0]') AS a, json_extract(value, '$[1]') AS t, "
            "json_extract(value, '$[2]') AS o FROM json_each(%(messages)s)) AS m"
        )
        params = {"messages": json.dumps([(a, t, _stored(o)) for a, t, o in messages])}
    roles = ", ".join(f"%(role{i})s" for i in range(len(PARTICIPANT_ROLES)))
    params.update({f"role{i}": role.value for i, role in enumerate(PARTICIPANT_ROLES)})

    def participant(side: str) -> str:
        return (
            f"LEFT JOIN {ENROLMENTS} {side} ON {side}.program_id = %(program)s "
            f"AND {side}.member_id = m.{side[1]} AND {side}.role IN ({roles})"
        )

    sent = "pa.id IS NOT NULL"  # the participant wrote; otherwise the other person answered
    table = CONVERSATIONS
    cursor.execute(
        f"INSERT INTO {table} (program_id, participant_id, professional_id, "
        "last_message_at, last_reply_at) "
        "SELECT %(program)s, x.participant, x.professional, MAX(x.sent), MAX(x.answered) FROM ("
        f"SELECT CASE WHEN {sent} THEN m.a ELSE m.t END AS participant, "
        f"CASE WHEN {sent} THEN m.t ELSE m.a END AS professional, "
        f"CASE WHEN {sent} THEN m.o END AS sent, CASE WHEN {sent} THEN NULL ELSE m.o END "
        f"AS answered FROM {source} {participant('pa')} {participant('pt')} "
        "WHERE m.t IS NOT NULL AND (pa.id IS NULL) <> (pt.id IS NULL)) AS x WHERE true "
        "GROUP BY x.participant, x.professional ORDER BY x.participant, x.professional "
        "ON CONFLICT (program_id, participant_id, professional_id) DO UPDATE SET "
        f"last_message_at = {_later(f'{table}.last_message_at', 'excluded.last_message_at')}, "
        f"last_reply_at = {_later(f'{table}.last_reply_at', 'excluded.last_reply_at')}",
        {**params, "program": program.pk},
    )


def _members_last_access(cursor: Any, program: Program, member_ids: Sequence[int]) -> None:
    """A member's « dernier accès », whatever the programme: the later of the stored one and
    their latest access in this programme (where the batch's events went)."""

    def latest(kind: str) -> str:
        return (
            f"(SELECT MAX(ev.occurred_at) FROM {EVENTS} ev WHERE ev.actor_id = a.id "
            f"AND ev.program_id = %(program)s AND ev.kind = %({kind})s)"
        )

    source = (
        "unnest(%(members)s::bigint[]) AS a(id)"
        if _postgres()
        else "(SELECT value AS id FROM json_each(%(members)s)) AS a"
    )
    cursor.execute(
        f"UPDATE {MEMBERS} SET last_access = x.at FROM ("
        f"SELECT a.id, {_greatest(latest('sign_in'), latest('course_access'))} AS at "
        f"FROM {source}) AS x WHERE {MEMBERS}.id = x.id AND x.at IS NOT NULL "
        f"AND ({MEMBERS}.last_access IS NULL OR {MEMBERS}.last_access < x.at)",
        {
            "program": program.pk,
            "members": _ids_param(member_ids),
            "sign_in": EventKind.SIGN_IN.value,
            "course_access": EventKind.COURSE_ACCESS.value,
        },
    )


def events_store(*, program: Program, rows: Sequence[EventRow]) -> IngestResult:
    """Store a validated batch all at once, then bring everything that derives from it up
    to date. A client_id seen before (in this batch or an earlier one) is skipped, so a
    retried batch never counts twice."""
    actors = sorted({row[0] for row in rows})
    messages = [row for row in rows if row[1] == EventKind.MESSAGE]
    others = [row for row in rows if row[1] != EventKind.MESSAGE] if messages else rows
    access = sorted({row[0] for row in rows if row[1] in ACCESS_KINDS})
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_members(cursor, actors)
        created = _insert(cursor, program, others, returning=False) if others else 0
        if messages:
            stored = _insert(cursor, program, messages, returning=True)
            created += len(stored)
            if stored:
                _conversations_upsert(cursor, program, stored)
        if created:
            if access:
                _members_last_access(cursor, program, access)
            _recompute(
                cursor,
                program,
                f"e.member_id {_ids('members')}",
                {"members": _ids_param(actors)},
            )
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
