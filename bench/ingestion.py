"""Benchmark of event ingestion and of the counters' rebuild, each beside its SQL floor.

The end of bench/participants_table.py calls `report()`; run alone it builds (or reuses)
the same programme and prints only these figures:

    .venv/bin/python bench/ingestion.py                       # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ingest_bench \\
        .venv/bin/python bench/ingestion.py --participants 100000 --events 10000000
Options: --participants N --events M --batch B (events per batch) --actors A (participants
in the batch) --profile (a cProfile summary of one ingestion) --no-rebuild

Floors: the ingestion's is the bare write of the same rows (their JSON parsed, then COPY on
PostgreSQL or executemany in one transaction on SQLite into a scratch table); the rebuild's
is the GROUP BY over the programme's events inside its window alone. A slowdown shows as a
ratio that grows. On PostgreSQL a programme that is not there yet is built by set-based SQL
(`build_sql`), minutes for 100,000 participants and 10,000,000 events.
"""

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import random
import statistics
import time
from typing import Any

# isort: split
import common  # noqa: F401  (first: it sets Django up)

# isort: split
from django.db import connection, transaction
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.activity.services import stats_refresh
from cohorte.programs.models import Program, Role

KINDS = [
    # (kind, share of the batch, has a target)
    (EventKind.COURSE_ACCESS, 40, False),
    (EventKind.SIGN_IN, 15, False),
    (EventKind.PROFILE_VIEW, 25, True),
    (EventKind.CONTACT, 15, True),
    (EventKind.MESSAGE, 5, True),
]


def event_batch(program: Program, *, size: int, actors: int, tag: str) -> list[dict[str, Any]]:
    """`size` events of every kind for `actors` participants, from the last seven days (as
    the first version of this bench sent), each with its client_id: what a platform's
    nightly export sends."""
    rng = random.Random(size)  # noqa: S311
    emails = list(
        program.enrolments.filter(role=Role.PARTICIPANT)
        .order_by("pk")
        .values_list("member__email", flat=True)[:actors]
    )
    pros = list(
        program.enrolments.filter(role=Role.PROFESSIONAL).values_list("member__email", flat=True)
    )
    now = timezone.now()
    start = max(program.window()[0], now - dt.timedelta(days=7))
    span = int((now - start).total_seconds()) - 60
    weighted = [(kind, target) for kind, share, target in KINDS for _ in range(share)]
    batch = []
    for i in range(size):
        kind, has_target = weighted[i % len(weighted)]
        event: dict[str, Any] = {
            "email": emails[i % len(emails)],
            "kind": kind.value,
            "occurred_at": (start + dt.timedelta(seconds=rng.randrange(span))).isoformat(),
            "client_id": f"{tag}-{i}",
        }
        if has_target:
            event["target_email"] = rng.choice(pros)
        batch.append(event)
    return batch


def floor_write_ms(program: Program, body: bytes) -> float:
    """The bare write of the batch: parse its JSON, resolve nothing, write the rows into a
    scratch table shaped like the events' (COPY on PostgreSQL, executemany on SQLite)."""
    table = ActivityEvent._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_scratch_events")
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"CREATE TEMP TABLE bench_scratch_events (LIKE {table} INCLUDING DEFAULTS)"
                )
            else:
                cursor.execute(
                    f"CREATE TEMP TABLE bench_scratch_events AS SELECT * FROM {table} WHERE 0"
                )
            started = time.perf_counter()
            items = json.loads(body)
            now = timezone.now()
            rows = [
                (
                    i,
                    program.pk,
                    i,
                    item["kind"],
                    None,
                    item["occurred_at"],
                    item.get("client_id"),
                    now,
                )
                for i, item in enumerate(items)
            ]
            columns = (
                "id, program_id, actor_id, kind, target_id, occurred_at, client_id, created_at"
            )
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(
                    f"COPY bench_scratch_events ({columns}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT INTO bench_scratch_events ({columns}) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
            elapsed = (time.perf_counter() - started) * 1000
            cursor.execute("DROP TABLE bench_scratch_events")
    return elapsed


def rebuild_floor_ms(program: Program) -> float:
    """The GROUP BY behind the counters, alone: the programme's members' events inside its
    window, grouped by member (distinct targets per kind, latest access), in one statement
    over all of them — no chunks, no locks, nothing written."""
    from cohorte.activity import counters

    members = program.enrolments.order_by("member_id").values_list("member_id", flat=True)
    params = {
        **counters._params(program, program.window()),
        "first": members.first(),
        "last": members.last(),
    }
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM ({counters._events_grouped_sql('range')}) AS x", params
        )
        cursor.fetchall()
    return (time.perf_counter() - started) * 1000


class StatementTimes:
    """connection.execute_wrapper that times each SQL statement (its first words)."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = " ".join(sql.split()[:6])
            self.times.append((words[:70], (time.perf_counter() - started) * 1000))

    def print(self) -> None:
        print(f"  SQL statements: {len(self.times)}, {sum(ms for _, ms in self.times):.1f} ms")
        for words, ms in sorted(self.times, key=lambda t: -t[1])[:6]:
            print(f"  {ms:8.1f} ms  {words}")


def line(label: str, ms: float, floor: float | None = None, extra: str = "") -> None:
    if floor is None:
        print(f"{label:<40} {ms:>10.1f}  {extra}")
        return
    print(f"{label:<40} {ms:>10.1f}  SQL floor {floor:8.1f} ms  ratio {ms / floor:5.1f}  {extra}")


def store_floor_ms(program: Program, body: bytes) -> float:
    """The same rows, parsed and resolved beforehand, written into the events table itself
    by the ingestion's own INSERT alone (its indexes; on PostgreSQL its foreign keys checked
    too), then rolled back: what storing the batch costs this database, derived work aside."""
    from cohorte.activity import counters, ingest

    parsed, errors, _ = ingest.events_parse(body, limit=len(body))
    rows = ingest.events_resolve(program=program, parsed=parsed, errors=errors, body=body)
    assert not errors, errors[:3]
    with transaction.atomic(), connection.cursor() as cursor:
        now = timezone.now()
        params: dict[str, Any] = {
            "program": program.pk,
            "now": now if connection.vendor == "postgresql" else counters._stored(now),
            "rows": counters._rows_json(rows),
        }
        started = time.perf_counter()
        cursor.execute(counters._insert_sql(), params)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return elapsed


def report(
    program: Program,
    client: Client,
    headers: dict[str, str],
    *,
    size: int = 10_000,
    actors: int = 2_000,
    profile: bool = False,
    rebuild: bool = True,
    repeat: int = 3,
) -> None:
    """The ingestion figures (the median of `repeat` fresh batches, each run beside its two
    floors under the same load; then the last batch again), then the rebuild."""
    resolve("/")  # the first request of a process imports every URL: not the ingestion's cost
    url = f"/api/programs/{program.pk}/events"
    runs: list[tuple[float, float, float]] = []
    for attempt in range(repeat):
        tag = f"bench-{timezone.now().timestamp():.6f}"
        batch = event_batch(program, size=size, actors=actors, tag=tag)
        body = json.dumps(batch).encode()
        if not attempt:
            print(f"batch: {size} events for {actors} participants, {len(body) / 1e6:.1f} MB")
        floor = floor_write_ms(program, body)
        store = store_floor_ms(program, body)
        profiler = cProfile.Profile() if profile and attempt == repeat - 1 else None
        statements = StatementTimes()
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        with connection.execute_wrapper(statements):
            response = client.post(url, body, content_type="application/json", headers=headers)
        if profiler:
            profiler.disable()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:300]
        assert response.json() == {"created": size, "ignored": 0}, response.json()
        runs.append((elapsed, floor, store))
        if attempt == repeat - 1:
            print(f"  last run, {len(statements.times)} SQL statements, the slowest:")
            statements.print()
        if profiler:
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats("cohorte|pydantic|execute", 20)
            stats.sort_stats("tottime").print_stats(12)
            print(out.getvalue())
    elapsed, floor, store = (statistics.median(values) for values in zip(*runs, strict=True))
    line(f"API: ingest {size:,} events (median of {repeat})", elapsed, floor, "bare write")
    line("  the same, beside the INSERT alone", elapsed, store, "events table, indexes, FKs")
    started = time.perf_counter()
    response = client.post(url, body, content_type="application/json", headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.json() == {"created": 0, "ignored": size}, response.json()
    line("API: same batch again (all ignored)", elapsed, floor, str(response.json()))
    if rebuild:
        floor = rebuild_floor_ms(program)
        started = time.perf_counter()
        rows = stats_refresh(program=program)
        elapsed = (time.perf_counter() - started) * 1000
        line("rebuild all counters (dates changed)", elapsed, floor, f"{rows} enrolments")


def _clone(cursor, table: str, template: int, count: int, overrides: dict[str, str]) -> None:
    """INSERT `count` copies of row `template` of `table` (every column but id), with the
    columns in `overrides` given as SQL over g = 0 … count - 1."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position",
        [table],
    )
    columns = [row[0] for row in cursor.fetchall()]
    values = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "
        f"FROM generate_series(0, {count - 1}) AS g, {table} AS t WHERE t.id = {template}"
    )


def build_sql(organisation, *, name: str, participants: int, events: int) -> Program:
    """The same programme as cohorte.demo.bulk_fill makes (90 days in, 90 to go, a professional per
    100 participants, a tenth of them silent, half with a meeting), by set-based SQL on
    PostgreSQL: 100,000 participants and 10,000,000 events in minutes, not hours. The
    events' indexes are built after the rows are in, as a bulk load does; foreign keys are
    not checked row by row (session_replication_role), the data being made consistent."""
    from django.contrib.auth.hashers import make_password

    from cohorte.accounts.models import Member
    from cohorte.activity.models import Report
    from cohorte.demo import ENGLISH_FIRST, ENGLISH_LAST, FRENCH_FIRST, FRENCH_LAST
    from cohorte.meetings.models import Meeting, MeetingAttendee
    from cohorte.programs.models import Enrolment, ProgramKind

    started = time.perf_counter()
    today = timezone.localdate()
    program = Program.objects.create(
        organisation=organisation,
        name=name,
        kind=ProgramKind.ACCOMPANIMENT,
        start_date=today - dt.timedelta(days=90),
        end_date=today + dt.timedelta(days=90),
        objective=3,
    )
    program = Program.objects.select_related("organisation").get(pk=program.pk)
    start, end = (moment.astimezone(dt.UTC) for moment in program.window())
    active_end = min(end, timezone.now())
    pros = max(5, participants // 100)
    template = Member.objects.create(
        email=f"bench-pro-{program.pk}-0@cohorte.example",
        first_name="Paula",
        last_name="Pro",
        organisation=organisation,
        password=make_password(None),
    )
    Enrolment.objects.create(program=program, member=template, role=Role.PROFESSIONAL)

    def names(values: list[str]) -> str:
        return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"

    first, firsts = names(FRENCH_FIRST + ENGLISH_FIRST), len(FRENCH_FIRST + ENGLISH_FIRST)
    last, lasts = names(FRENCH_LAST + ENGLISH_LAST), len(FRENCH_LAST + ENGLISH_LAST)
    with transaction.atomic(), connection.cursor() as cursor:
        _clone(
            cursor,
            "accounts_member",
            template.pk,
            pros - 1,
            {"email": f"'bench-pro-{program.pk}-' || (g + 1) || '@cohorte.example'"},
        )
        cursor.execute("SELECT MAX(id) FROM accounts_member")
        base = cursor.fetchone()[0] + 1  # the participants' ids follow: one statement
        _clone(
            cursor,
            "accounts_member",
            template.pk,
            participants,
            {
                "email": f"'bench-{program.pk}-' || g || '@cohorte.example'",
                "first_name": f"({first})[1 + (g::bigint * 7919) % {firsts}]",
                "last_name": f"({last})[1 + (g::bigint * 104729) % {lasts}]",
            },
        )
        cursor.execute(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM accounts_member WHERE id >= %s", [base]
        )
        low, high, count = cursor.fetchone()
        assert (high - low + 1, count) == (participants, participants), (low, high, count)
        cursor.execute(
            "SELECT id FROM accounts_member WHERE email LIKE %s ORDER BY id",
            [f"bench-pro-{program.pk}-%"],
        )
        pro_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO programs_enrolment (created_at, updated_at, role, member_id, program_id)"
            " SELECT now(), now(), CASE WHEN m.id >= %s THEN 'participant' ELSE 'professional' "
            "END, m.id, %s FROM accounts_member m WHERE m.id = ANY(%s) OR m.id >= %s "
            "ORDER BY m.id",
            [base, program.pk, pro_ids[1:], base],
        )
    print(f"  members and enrolments: {time.perf_counter() - started:.0f} s")
    table = ActivityEvent._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE '%%pkey'",
            [table],
        )
        indexes = cursor.fetchall()
        for index, _definition in indexes:
            cursor.execute(f'DROP INDEX "{index}"')
        cursor.execute("SET LOCAL session_replication_role = replica")
        span = int((active_end - start).total_seconds())
        active = participants - participants // 10  # every tenth participant is silent
        pro_low = pro_ids[0]
        cursor.execute(
            f"INSERT INTO {table} (program_id, actor_id, kind, target_id, occurred_at, "
            "client_id, created_at) SELECT CASE WHEN x.kind = 'sign_in' THEN NULL ELSE %s END, "
            "x.actor, x.kind, CASE WHEN x.kind IN ('profile_view', 'contact') THEN "
            f"{pro_low} + floor(x.r * {pros})::int END, "
            "%s::timestamptz + (x.r2 * %s) * interval '1 second', NULL, now() FROM ("
            f"SELECT {low} + (k / 9) * 10 + 1 + k %% 9 AS actor, "
            "(ARRAY['sign_in', 'course_access', 'profile_view', 'contact'])"
            "[1 + floor(random() * 4)::int] AS kind, random() AS r, random() AS r2 "
            f"FROM (SELECT floor(random() * {active})::int AS k "
            f"FROM generate_series(1, {events})) AS ks) AS x",
            [program.pk, start, span],
        )
        print(f"  {events} events: {time.perf_counter() - started:.0f} s")
        for _index, definition in indexes:
            cursor.execute(definition)
        print(f"  their indexes: {time.perf_counter() - started:.0f} s")
    meetings = participants // 2
    with transaction.atomic(), connection.cursor() as cursor:
        meeting = Meeting.objects.create(
            program=program, starts_at=start, duration_minutes=45, status="confirmed"
        )
        whole = int((end - start).total_seconds())
        _clone(
            cursor,
            Meeting._meta.db_table,
            meeting.pk,
            meetings - 1,
            {
                "starts_at": f"'{start.isoformat()}'::timestamptz + "
                f"((g::bigint * 7919) % {whole}) * interval '1 second'",
                "status": "(ARRAY['scheduled', 'confirmed', 'cancelled'])[1 + g % 3]",
                "uid": f"'bench-{program.pk}-' || g || '@cohorte'",
            },
        )
        attendee = MeetingAttendee.objects.create(meeting=meeting, member_id=low)
        cursor.execute(
            "SELECT id FROM meetings_meeting WHERE program_id = %s ORDER BY id", [program.pk]
        )
        meeting_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO meetings_meetingattendee (meeting_id, member_id, comment, "
            "responded_at, response) SELECT m.id, p.member, t.comment, NULL, t.response "
            "FROM unnest(%s::bigint[]) WITH ORDINALITY AS m(id, n), "
            "LATERAL (SELECT %s + (m.n * 2 - 1) %% %s AS member UNION ALL "
            "SELECT %s + m.n %% %s) AS p, meetings_meetingattendee t "
            "WHERE t.id = %s AND NOT (m.id = %s AND p.member = %s)",
            [meeting_ids, low, participants, pro_low, pros, attendee.pk, meeting.pk, low],
        )
    for pk in range(low, low + min(20, participants)):
        Report.objects.create(
            program=program, member_id=pk, reported_by_id=pro_low, reason="Absent"
        )
    print(f"  meetings: {time.perf_counter() - started:.0f} s")
    tables = [table, "accounts_member", "programs_enrolment", "meetings_meeting"]
    tables += ["meetings_meetingattendee", "activity_participantstats"]
    with connection.cursor() as cursor:  # autocommit: VACUUM runs outside a transaction
        for name in tables:  # the planner's statistics, and the visibility map of a bulk load
            cursor.execute(f"VACUUM (ANALYZE) {name}")
    stats_refresh(program=program)
    print(f"  counters: {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) activity_participantstats")
    print(f"built by SQL in {time.perf_counter() - started:.0f} s")
    return program


def program_for_bench(participants: int, events: int) -> Program:
    """The bench's programme: reused by name; on PostgreSQL, built by SQL when absent."""
    from participants_table import build

    from cohorte.programs.models import Organisation
    from cohorte.programs.services import organisation_create

    name = f"Bench {participants} participants / {events} events"
    found = Program.objects.filter(name=name).select_related("organisation").first()
    if found is not None or connection.vendor != "postgresql":
        return found or build(participants, events)
    organisation = Organisation.objects.filter(name="Bench").first()
    if organisation is None:
        organisation, _ = organisation_create(
            name="Bench", admin_email="bench@cohorte.example", admin_password="bench-password-1"
        )
    return build_sql(organisation, name=name, participants=participants, events=events)


def main() -> None:
    from django.core.management import call_command

    from cohorte.accounts.api_auth import token_issue

    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--actors", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    program = program_for_bench(args.participants, args.events)
    admin = program.organisation.members.filter(is_org_admin=True).first()
    client = Client(HTTP_HOST="localhost")
    headers = {"Authorization": f"Bearer {token_issue(member=admin)}"}
    print(
        f"database: {connection.vendor}; participants: {args.participants}; events: {args.events}"
    )
    report(
        program,
        client,
        headers,
        size=args.batch,
        actors=args.actors,
        profile=args.profile,
        rebuild=not args.no_rebuild,
        repeat=args.repeat,
    )


if __name__ == "__main__":
    main()
