"""A bulk filler for big programmes (the benchmarks and `demo --participants N --events M`):
many participants and events, written set-based. Random is seeded so every run builds the
same world."""

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind, ParticipantStats, Report
from cohorte.activity.services import stats_refresh
from cohorte.core.db import analyze
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.programs.models import Enrolment, Organisation, Program, ProgramKind, Role

from .names import ENGLISH_FIRST, ENGLISH_LAST, FRENCH_FIRST, FRENCH_LAST

#: the kinds bulk_fill draws from, equally often
BULK_KINDS = (EventKind.SIGN_IN, EventKind.COURSE_ACCESS, EventKind.PROFILE_VIEW, EventKind.CONTACT)
#: events written by one statement on SQLite (PostgreSQL writes them all in one)
BULK_CHUNK = 50_000
#: from this many events, PostgreSQL's indexes on events are built again after the insert
REBUILD_INDEXES_FROM = 200_000


@transaction.atomic
def bulk_fill(
    *, program: Program, participants: int, events: int, seed: int = 7, prefix: str = "bulk"
) -> None:
    """Fill a programme with many participants and events, fast, for the benchmark and
    `demo --participants N --events M`. Counters are rebuilt at the end.

    The events are drawn as before (each kind equally often, a silent tenth of participants
    who do nothing, targets among the professionals, times anywhere between the start and
    now) but written set-based: one INSERT … SELECT over generate_series on PostgreSQL
    (10,000,000 rows without one Python object each), executemany in large chunks on
    SQLite. Both are seeded, so a rebuild gives the same world."""
    rng = random.Random(seed)  # noqa: S311
    organisation = program.organisation
    password = make_password(None)
    start, end = (moment.astimezone(dt.UTC) for moment in program.window())
    now = timezone.now()
    active_end = min(end, now) if now > start else end
    pros = [
        Member(
            email=f"{prefix}-pro-{program.pk}-{i}@cohorte.example",
            first_name=rng.choice(FRENCH_FIRST),
            last_name=rng.choice(FRENCH_LAST),
            organisation=organisation,
            password=password,
        )
        for i in range(max(5, participants // 100))
    ]
    members = [
        Member(
            email=f"{prefix}-{program.pk}-{i}@cohorte.example",
            first_name=rng.choice(FRENCH_FIRST + ENGLISH_FIRST),
            last_name=rng.choice(FRENCH_LAST + ENGLISH_LAST),
            organisation=organisation,
            password=password,
        )
        for i in range(participants)
    ]
    Member.objects.bulk_create(pros + members, batch_size=2000)
    if any(member.pk is None for member in pros + members):  # no RETURNING on this database
        emails = [m.email for m in pros + members]
        by_email: dict[str, int] = {}
        for i in range(0, len(emails), 900):
            by_email.update(
                Member.objects.filter(email__in=emails[i : i + 900]).values_list("email", "pk")
            )
        for member in pros + members:
            member.pk = by_email[member.email]
    pro_ids = [p.pk for p in pros]
    member_ids = [m.pk for m in members]
    Enrolment.objects.bulk_create(
        [Enrolment(program=program, member_id=pk, role=Role.PROFESSIONAL) for pk in pro_ids]
        + [Enrolment(program=program, member_id=pk, role=Role.PARTICIPANT) for pk in member_ids],
        batch_size=2000,
    )
    silent = set(rng.sample(member_ids, k=len(member_ids) // 10))
    active_ids = [pk for pk in member_ids if pk not in silent] or member_ids
    span = max(1, int((active_end - start).total_seconds()))
    if events:
        write = _events_insert_sql if connection.vendor == "postgresql" else _events_executemany
        write(
            program=program,
            actor_ids=active_ids,
            target_ids=pro_ids,
            start=start,
            span=span,
            events=events,
            rng=rng,
        )
    meeting_rows = []
    for pk in rng.sample(member_ids, k=len(member_ids) // 2):
        meeting_rows.append(
            (
                Meeting(
                    program=program,
                    starts_at=start
                    + dt.timedelta(
                        seconds=rng.randrange(max(1, int((end - start).total_seconds())))
                    ),
                    duration_minutes=45,
                    status=rng.choice(list(MeetingStatus.values)),
                ),
                pk,
            )
        )
    Meeting.objects.bulk_create([m for m, _ in meeting_rows], batch_size=2000)
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=m, member_id=pk) for m, pk in meeting_rows]
        + [MeetingAttendee(meeting=m, member_id=rng.choice(pro_ids)) for m, _ in meeting_rows],
        batch_size=2000,
    )
    for pk in rng.sample(member_ids, k=min(20, len(member_ids))):
        Report.objects.create(
            program=program, member_id=pk, reported_by_id=pro_ids[0], reason="Absent"
        )
    analyze(ActivityEvent._meta.db_table, Enrolment._meta.db_table, Member._meta.db_table)
    stats_refresh(program=program)
    analyze(
        ActivityEvent._meta.db_table,
        Meeting._meta.db_table,
        MeetingAttendee._meta.db_table,
        Enrolment._meta.db_table,
        ParticipantStats._meta.db_table,
        Member._meta.db_table,
    )


@contextmanager
def _indexes_built_after(table: str, *, rows: int) -> Iterator[None]:
    """Drop the table's indexes (not its primary key) for a bulk insert, build them again
    after. Millions of rows at random places of six B-trees far larger than the cache cost
    random writes by the million (measured on SQLite: 120 µs a row, against 22 without
    indexes); building them again after, by sorting, costs a few seconds a million. Same
    definitions, read back from the catalogue; same transaction: nobody sees the table
    without them."""
    if rows < REBUILD_INDEXES_FROM or connection.vendor not in ("postgresql", "sqlite"):
        yield
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = %s"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


def _events_insert_sql(
    *,
    program: Program,
    actor_ids: list[int],
    target_ids: list[int],
    start: dt.datetime,
    span: int,
    events: int,
    rng: random.Random,
) -> None:
    """PostgreSQL: every event in one INSERT … SELECT. The draws are made once per row in a
    subquery (OFFSET 0 keeps the planner from inlining them: kind, programme and target
    must agree), random() seeded from rng so a rebuild is the same."""
    table = ActivityEvent._meta.db_table  # d.k = 1 is BULK_KINDS[0], the platform sign-in
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")  # a builder: nothing to lose
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        (superuser,) = cursor.fetchone()
    with _indexes_built_after(table, rows=events), connection.cursor() as cursor:
        if superuser:
            # every id below was just read from its table: skip the three foreign-key checks
            # a row (each one locks a member row), as pg_restore does
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked now, before CREATE INDEX
        cursor.execute("SELECT setseed(%s)", [rng.random() * 2 - 1])
        cursor.execute(
            f"""
            INSERT INTO {table} (program_id, actor_id, kind, target_id, occurred_at, created_at)
            SELECT CASE WHEN d.k = 1 THEN NULL ELSE %(program)s END,
                   (%(actors)s::bigint[])[d.a],
                   (%(kinds)s::varchar[])[d.k],
                   CASE WHEN d.k >= 3 THEN (%(targets)s::bigint[])[d.t] END,
                   %(start)s::timestamptz + d.s * interval '1 second',
                   now()
            FROM (
                SELECT 1 + floor(random() * 4)::int AS k,
                       1 + floor(random() * %(n_actors)s)::int AS a,
                       1 + floor(random() * %(n_targets)s)::int AS t,
                       floor(random() * %(span)s) AS s
                FROM generate_series(1, %(events)s)
                OFFSET 0
            ) AS d
            """,  # noqa: S608 — the table name is ours, every value a parameter
            {
                "program": program.pk,
                "actors": actor_ids,
                "kinds": [str(kind) for kind in BULK_KINDS],
                "targets": target_ids,
                "start": start,
                "n_actors": len(actor_ids),
                "n_targets": len(target_ids),
                "span": span,
                "events": events,
            },
        )
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _events_executemany(
    *,
    program: Program,
    actor_ids: list[int],
    target_ids: list[int],
    start: dt.datetime,
    span: int,
    events: int,
    rng: random.Random,
) -> None:
    """SQLite (or any other database): plain tuples, written BULK_CHUNK at a time."""
    table = ActivityEvent._meta.db_table
    sign_in, _access, *with_target = BULK_KINDS
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (program_id, actor_id, kind, target_id, occurred_at, created_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    choice, randrange = rng.choice, rng.randrange
    with _indexes_built_after(table, rows=events), connection.cursor() as cursor:
        for first in range(0, events, BULK_CHUNK):
            rows = []
            for _ in range(min(BULK_CHUNK, events - first)):
                kind = choice(BULK_KINDS)
                rows.append(
                    (
                        None if kind == sign_in else program.pk,
                        choice(actor_ids),
                        str(kind),
                        choice(target_ids) if kind in with_target else None,
                        adapt(start + dt.timedelta(seconds=randrange(span))),
                        created,
                    )
                )
            cursor.executemany(sql, rows)


@transaction.atomic  # a fill that fails leaves no empty programme to be « reused »
def big_program(
    *, organisation: Organisation, name: str, participants: int, events: int, prefix: str = "bulk"
) -> tuple[Program, bool]:
    """A running programme (90 days in, 90 to go) filled by bulk_fill; the one already there
    under that name is reused. Returns (programme, built)."""
    program = (
        Program.objects.filter(organisation=organisation, name=name)
        .select_related("organisation")
        .first()
    )
    if program is not None:
        return program, False
    today = timezone.localdate()
    program = Program.objects.create(
        organisation=organisation,
        name=name,
        kind=ProgramKind.ACCOMPANIMENT,
        start_date=today - dt.timedelta(days=90),
        end_date=today + dt.timedelta(days=90),
        objective=3,
    )
    bulk_fill(program=program, participants=participants, events=events, prefix=prefix)
    return program, True
