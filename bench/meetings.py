"""Benchmark of relationships and meetings at scale.

Builds (once, reused by name) a programme with 5,000 relationships and 100,000 meetings:
mentors and mentees in several time zones (Paris, Montréal, Tokyo, Dakar) with their weekly
availability, 1:1 meetings over a year (half past, half to come; held, cancelled, not yet
answered), masterclasses and private group sessions. Then times, on the manager's side:
the Relations page, the « Rencontres » tab (first page, its sort, a search, 100 rows), the
calendar's feed (month, week, day) and its JSON data for a month, and a pair's free-slot search
across time zones (the booking page: the first day with room in the next three weeks).

Each figure is printed with its SQL floor (the same data read by hand-written SQL, timed
alone through a cursor), their ratio and the number of SQL queries of the page.

    .venv/bin/python bench/meetings.py                     # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/meetings_bench \\
        .venv/bin/python bench/meetings.py
Options: --relationships N --meetings M --repeat R --profile (cProfile of each page)
         --only TEXT (the pages whose label holds TEXT)
"""

import argparse
import cProfile
import datetime as dt
import io
import pstats
import random
import time
from collections.abc import Callable

# isort: split
import common  # first: it sets Django up
from common import median_ms

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import Member
from cohorte.core.db import analyze
from cohorte.meetings.models import Availability, Meeting, MeetingAttendee, Relationship
from cohorte.meetings.services import member_counters_refresh
from cohorte.meetings.views import CALENDAR_PER_DAY
from cohorte.programs.models import Enrolment, Organisation, Program, ProgramKind, Role
from cohorte.programs.services import organisation_create

floor_ms, report = common.floor_ms, common.report


ORGANISATION = "Bench rencontres"
MENTOR_ZONES = ["Europe/Paris"] * 6 + ["America/Montreal"] * 2 + ["Africa/Dakar", "Asia/Tokyo"]
MENTEE_ZONES = ["Europe/Paris"] * 3 + ["America/Montreal"] * 2 + ["Asia/Tokyo", "Africa/Dakar"]
WINDOWS = [(dt.time(9), dt.time(17)), (dt.time(8), dt.time(12)), (dt.time(13), dt.time(19))]
FIRST = ["Camille", "Léa", "Hugo", "Chloé", "Lucas", "Inès", "Noah", "Yuki", "Awa", "Émile"]
LAST = ["Martin", "Bernard", "Tremblay", "Gagnon", "Sato", "Diop", "Roy", "Petit", "Moreau"]


# --- Building the programme, once ---------------------------------------------------------


def _sql_dialect() -> tuple[str, Callable[[int], str], Callable[[str], str], Callable]:
    """WITH keyword, a series CTE of n rows, « base + minutes » and the base's parameter, in
    the vendor's SQL: set-based inserts on both databases."""
    if connection.vendor == "postgresql":
        return (
            "WITH",
            lambda n: f"s(n) AS (SELECT generate_series(0, {n - 1}))",
            lambda minutes: f"(%s::timestamptz + ({minutes}) * interval '1 minute')",
            lambda moment: moment.isoformat(),
        )
    return (
        "WITH RECURSIVE",
        lambda n: f"s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {n - 1})",
        lambda minutes: f"strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, ({minutes}) || ' minutes')",
        lambda moment: moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
    )


def _insert_meetings(program: Program, relationships: int, one_to_one: int, groups: int) -> None:
    """100,000 meetings and their attendances in six statements."""
    with_, series, plus_minutes, moment = _sql_dialect()
    midnight = dt.datetime.combine(timezone.now().date(), dt.time.min, tzinfo=dt.UTC)
    now = moment(timezone.now())
    r = relationships
    ordered = (
        "r AS (SELECT id, mentor_id, mentee_id, status, "
        "ROW_NUMBER() OVER (ORDER BY id) - 1 AS k FROM meetings_relationship WHERE program_id = %s)"
    )
    # a pair meets every 18 days or so over the year; a completed pair only met in the past
    day = (
        f"CASE WHEN r.status = 'completed' THEN -((s.n / {r}) * 9 + r.k %% 9) - 1 "
        f"ELSE (s.n / {r}) * 18 + r.k %% 18 - 180 END"
    )
    status = (
        "CASE WHEN x.d < 0 THEN (CASE WHEN x.n * 37 %% 100 < 75 THEN 'confirmed' "
        "WHEN x.n * 37 %% 100 < 85 THEN 'cancelled' ELSE 'scheduled' END) "
        "ELSE (CASE WHEN x.n * 37 %% 100 < 12 THEN 'cancelled' ELSE 'scheduled' END) END"
    )
    starts = plus_minutes("x.d * 1440 + 13 * 60 + (x.n %% 8) * 30")
    columns = (
        "created_at, updated_at, program_id, relationship_id, starts_at, original_start, "
        "duration_minutes, status, created_by_id, client_id, kind, meeting_type, title, place, "
        "capacity, led_by_id, uid, frequency, occurrence, sequence, status_overridden"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"{with_} {series(one_to_one)}, {ordered} "
            f"INSERT INTO meetings_meeting ({columns}) "
            f"SELECT %s, %s, %s, x.id, {starts}, {starts}, "
            "CASE x.n %% 4 WHEN 0 THEN 30 WHEN 1 THEN 45 ELSE 60 END, "
            f"{status}, CASE WHEN x.n %% 3 = 0 THEN x.mentee_id ELSE x.mentor_id END, NULL, "
            "'one_to_one', CASE x.n %% 5 WHEN 0 THEN 'in_person' WHEN 1 THEN 'phone' "
            "ELSE 'video' END, 'Rencontre de mentorat', "
            "CASE WHEN x.n %% 5 = 0 THEN '12 rue des Écoles, Paris' ELSE '' END, NULL, NULL, "
            "'bench-' || x.n || '@cohorte', 'none', 1, 0, FALSE "
            f"FROM (SELECT s.n, r.*, {day} AS d FROM s JOIN r ON r.k = s.n %% {r}) x",
            [program.pk, now, now, program.pk, moment(midnight), moment(midnight)],
        )
        group_day = "(s.n * 7) %% 365 - 182"
        group_starts = plus_minutes("x.d * 1440 + 17 * 60")
        cursor.execute(
            f"{with_} {series(groups)}, {ordered} "
            f"INSERT INTO meetings_meeting ({columns}) "
            f"SELECT %s, %s, %s, NULL, {group_starts}, {group_starts}, 90, {status}, "
            "x.mentor_id, NULL, CASE WHEN x.n %% 2 = 0 THEN 'masterclass' ELSE 'group' END, "
            "'video', CASE WHEN x.n %% 2 = 0 THEN 'Cours de maître ' || x.n "
            "ELSE 'Groupe de pairs ' || x.n END, '', "
            "CASE WHEN x.n %% 2 = 0 THEN 20 ELSE NULL END, x.mentor_id, "
            "'bench-group-' || x.n || '@cohorte', 'none', 1, 0, FALSE "
            f"FROM (SELECT s.n, r.mentor_id, {group_day} AS d FROM s JOIN r ON r.k = s.n %% {r}) x",
            [program.pk, now, now, program.pk, moment(midnight), moment(midnight)],
        )
        response = (
            "CASE WHEN m.status = 'confirmed' THEN 'accepted' WHEN m.id %% 5 < 2 THEN 'pending' "
            "WHEN m.id %% 5 = 4 THEN 'declined' ELSE 'accepted' END"
        )
        answered = f"CASE WHEN {response} = 'pending' THEN NULL ELSE m.created_at END"
        for side in ("mentor_id", "mentee_id"):
            cursor.execute(
                "INSERT INTO meetings_meetingattendee "
                "(meeting_id, member_id, response, responded_at, comment) "
                f"SELECT m.id, r.{side}, {response}, {answered}, "
                "CASE WHEN m.status = 'confirmed' AND m.id %% 4 = 0 "
                "THEN 'Très bonne séance, à poursuivre.' ELSE '' END "
                "FROM meetings_meeting m JOIN meetings_relationship r ON r.id = m.relationship_id "
                "WHERE m.program_id = %s",
                [program.pk],
            )
        seats = min(7, r)
        cursor.execute(
            f"{with_} {series(seats)}, {ordered}, "
            "g AS (SELECT id, led_by_id, created_at, status, ROW_NUMBER() OVER (ORDER BY id) - 1 "
            "AS k FROM meetings_meeting WHERE program_id = %s AND kind <> 'one_to_one') "
            "INSERT INTO meetings_meetingattendee "
            "(meeting_id, member_id, response, responded_at, comment) "
            "SELECT g.id, r.mentee_id, CASE WHEN (g.k + s.n) %% 3 = 0 THEN 'pending' "
            "ELSE 'accepted' END, g.created_at, '' "
            f"FROM g CROSS JOIN s JOIN r ON r.k = (g.k * 7 + s.n) %% {r} "
            "UNION ALL SELECT g.id, g.led_by_id, 'accepted', g.created_at, '' FROM g",
            [program.pk, program.pk],
        )


def settle() -> None:
    """The tables as a running database has them: statistics, and on PostgreSQL vacuumed
    (what autovacuum does after a load), so index-only scans see which pages are visible."""
    if connection.vendor != "postgresql":
        analyze()
        return
    tables = (Member, Relationship, Meeting, MeetingAttendee, Availability, Enrolment)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) " + ", ".join(m._meta.db_table for m in tables))


def build(relationships: int, meetings: int) -> Program:
    name = f"Bench {relationships} relations / {meetings} rencontres"
    organisation = Organisation.objects.filter(name=ORGANISATION).first()
    program = (
        Program.objects.filter(organisation=organisation, name=name)
        .select_related("organisation")
        .first()
    )
    if program is not None:
        settle()  # migrations may have added indexes since the build
        print(f"reusing « {name} »")
        return program
    started = time.perf_counter()
    with transaction.atomic():
        if organisation is None:
            organisation, admin = organisation_create(
                name=ORGANISATION,
                admin_email="bench.meetings@cohorte.example",
                admin_password="bench-password-1",
            )
            admin.timezone = "Europe/Paris"
            admin.save(update_fields=["timezone"])
        today = timezone.localdate()
        program = Program.objects.create(
            organisation=organisation,
            name=name,
            kind=ProgramKind.MENTORING,
            start_date=today - dt.timedelta(days=182),
            end_date=today + dt.timedelta(days=183),
            objective=12,
        )
        rng = random.Random(relationships)  # noqa: S311
        password = make_password(None)
        mentor_count = max(1, relationships // 2)
        tag = f"{program.pk}"
        people = [
            Member(
                organisation=organisation,
                email=f"bench.mentor.{tag}.{i}@cohorte.example",
                first_name=rng.choice(FIRST),
                last_name=f"{rng.choice(LAST)}{i}",
                password=password,
                role="mentor",
                timezone=MENTOR_ZONES[i % len(MENTOR_ZONES)],
                language="fr" if i % 4 else "en",
            )
            for i in range(mentor_count)
        ] + [
            Member(
                organisation=organisation,
                email=f"bench.mentee.{tag}.{k}@cohorte.example",
                first_name=rng.choice(FIRST),
                last_name=f"{rng.choice(LAST)}-{k}",
                password=password,
                role="mentee",
                timezone=MENTEE_ZONES[k % len(MENTEE_ZONES)],
                language="fr" if k % 3 else "en",
            )
            for k in range(relationships)
        ]
        Member.objects.bulk_create(people, batch_size=2000)
        ids = dict(
            Member.objects.filter(
                email__startswith="bench.m", email__contains=f".{tag}."
            ).values_list("email", "pk")
        )
        mentors = [ids[f"bench.mentor.{tag}.{i}@cohorte.example"] for i in range(mentor_count)]
        mentees = [ids[f"bench.mentee.{tag}.{k}@cohorte.example"] for k in range(relationships)]
        Enrolment.objects.bulk_create(
            [Enrolment(program=program, member_id=pk, role=Role.MENTOR) for pk in mentors]
            + [Enrolment(program=program, member_id=pk, role=Role.MENTEE) for pk in mentees],
            batch_size=2000,
        )
        now = timezone.now()
        Relationship.objects.bulk_create(
            [
                Relationship(
                    program=program,
                    mentor_id=mentors[k % mentor_count],
                    mentee_id=mentees[k],
                    status="completed" if k % 5 == 0 else "matched",
                    ended_at=now - dt.timedelta(days=k % 30) if k % 5 == 0 else None,
                    started_on=today - dt.timedelta(days=180 - k % 60),
                    administrator_id=None,
                    agreement_url="https://docs.example/accord" if k % 2 else "",
                )
                for k in range(relationships)
            ],
            batch_size=2000,
        )
        Availability.objects.bulk_create(
            [
                Availability(
                    member_id=pk, weekday=weekday, start=WINDOWS[n % 3][0], end=WINDOWS[n % 3][1]
                )
                for n, pk in enumerate(mentors + mentees)
                for weekday in range(5)
                if (n + weekday) % 5
            ],
            batch_size=5000,
        )
        groups = max(1, meetings // 50)
        _insert_meetings(program, relationships, meetings - groups, groups)
        tables = (Member, Relationship, Meeting, MeetingAttendee, Availability, Enrolment)
        analyze(*(model._meta.db_table for model in tables))  # before reading what was written
        member_counters_refresh(member_ids=mentors + mentees)
    settle()
    print(
        f"built {relationships} relationships, {Meeting.objects.filter(program=program).count()}"
        f" meetings in {time.perf_counter() - started:.1f} s"
    )
    return program


# --- Timing -------------------------------------------------------------------------------


def query_count(fn: Callable[[], object]) -> int:
    """SQL statements run by fn (counted as they go: a request resets Django's own log)."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        fn()
    return count


def _profile(label: str, fn: Callable[[], object]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        fn()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(20)
    print(f"\n--- profile: {label} (3 calls) ---\n" + out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--relationships", type=int, default=5_000)
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile of each page")
    parser.add_argument("--only", default="", help="the pages whose label holds this text")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    program = build(args.relationships, args.meetings)
    admin = program.organisation.members.filter(is_org_admin=True).first()
    assert admin is not None
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    api_headers = {"Authorization": f"Bearer {token_issue(member=admin)}"}
    print(
        f"database: {connection.vendor}; relationships: {args.relationships}; "
        f"meetings: {Meeting.objects.filter(program=program).count()}; repeat: {args.repeat}"
    )
    pid = program.pk
    month_start = timezone.localdate().replace(day=1)
    month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    grid_start = month_start - dt.timedelta(days=month_start.weekday())
    tz = program.organisation.tzinfo
    window = (
        dt.datetime.combine(grid_start, dt.time.min, tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(grid_start + dt.timedelta(days=42), dt.time.min, tzinfo=tz).astimezone(
            dt.UTC
        ),
    )
    today = timezone.now().astimezone(tz).date()
    monday = today - dt.timedelta(days=today.weekday())
    week = (
        dt.datetime.combine(monday, dt.time.min, tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=tz).astimezone(
            dt.UTC
        ),
    )
    day = (
        dt.datetime.combine(today, dt.time.min, tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(
            dt.UTC
        ),
    )
    api_window = (
        dt.datetime.combine(month_start, dt.time.min, tzinfo=tz).astimezone(dt.UTC),
        dt.datetime.combine(month_end + dt.timedelta(days=1), dt.time.min, tzinfo=tz).astimezone(
            dt.UTC
        ),
    )

    def literal(moment: dt.datetime) -> str:
        if connection.vendor == "postgresql":
            return f"'{moment.isoformat()}'::timestamptz"
        return f"'{moment.strftime('%Y-%m-%d %H:%M:%S')}'"

    joins = (
        "FROM meetings_relationship r JOIN accounts_member mo ON mo.id = r.mentor_id "
        "JOIN accounts_member me ON me.id = r.mentee_id"
    )
    names = f"mo.first_name, mo.last_name, me.first_name, me.last_name {joins}"

    def relationships_floor(size: int = 10, where: str = "") -> Callable[[], None]:
        """The page's relationships with their held meetings and hours, and their count."""
        return both(
            "SELECT r.id, r.status, r.created_at, r.agreement_url, "
            "(SELECT COUNT(*) FROM meetings_meeting m WHERE m.relationship_id = r.id "
            "AND m.status = 'confirmed'), "
            "(SELECT COALESCE(SUM(duration_minutes), 0) FROM meetings_meeting m "
            "WHERE m.relationship_id = r.id AND m.status = 'confirmed'), "
            f"{names} WHERE r.program_id = {pid} {where} "
            f"ORDER BY r.created_at DESC, r.id DESC LIMIT {size}",
            f"SELECT COUNT(*) {joins} WHERE r.program_id = {pid} {where}",
        )

    def meetings_floor(order: str, size: int, offset: int = 0, where: str = "") -> str:
        """A page of 1:1 meetings (their ids on the index, then the rows) with their
        attendees' names and answers."""
        return (
            "SELECT m.id, m.starts_at, m.duration_minutes, m.status, a.member_id, a.response, "
            "a.comment, p.first_name, p.last_name FROM (SELECT id FROM meetings_meeting "
            f"WHERE program_id = {pid} AND kind = 'one_to_one' {where} "
            f"ORDER BY starts_at {order}, id LIMIT {size} OFFSET {offset}) page "
            "JOIN meetings_meeting m ON m.id = page.id "
            "JOIN meetings_meetingattendee a ON a.meeting_id = m.id "
            "JOIN accounts_member p ON p.id = a.member_id"
        )

    def calendar_floor(start: dt.datetime, end: dt.datetime) -> str:
        return (
            "SELECT m.id, m.starts_at, m.duration_minutes, m.status, m.kind, m.title, m.place, "
            "a.member_id, a.response, p.first_name, p.last_name FROM meetings_meeting m "
            "JOIN meetings_meetingattendee a ON a.meeting_id = m.id "
            f"JOIN accounts_member p ON p.id = a.member_id WHERE m.program_id = {pid} "
            f"AND m.starts_at >= {literal(start)} AND m.starts_at < {literal(end)}"
        )

    def cells_floor(start: dt.datetime, end: dt.datetime, per_day: int) -> str:
        """What a month or week page reads: each day's first sessions and its count."""
        if connection.vendor == "postgresql":
            day = f"(starts_at AT TIME ZONE '{tz}')::date"
        else:
            day = "date(starts_at)"  # the same work (SQLite has no time zones)
        return (
            "SELECT x.id, x.total, m.starts_at, m.kind, m.title, m.status, m.place, "
            "a.response, p.first_name, p.last_name FROM (SELECT id, "
            f"ROW_NUMBER() OVER (PARTITION BY {day} ORDER BY starts_at, id) AS rank, "
            f"COUNT(*) OVER (PARTITION BY {day}) AS total FROM meetings_meeting "
            f"WHERE program_id = {pid} AND starts_at >= {literal(start)} "
            f"AND starts_at < {literal(end)}) x "
            "JOIN meetings_meeting m ON m.id = x.id "
            "JOIN meetings_meetingattendee a ON a.meeting_id = x.id "
            f"JOIN accounts_member p ON p.id = a.member_id WHERE x.rank <= {per_day}"
        )

    def slots_floor(mentor_id: int, mentee_id: int) -> Callable[[], None]:
        now = timezone.now()
        return both(
            "SELECT a.member_id, a.weekday, a.start, a.end FROM meetings_availability a "
            f"WHERE a.member_id IN ({mentor_id}, {mentee_id})",
            "SELECT at.member_id, m.starts_at, m.duration_minutes "
            "FROM meetings_meeting m JOIN meetings_meetingattendee at ON at.meeting_id = m.id "
            f"WHERE at.member_id IN ({mentor_id}, {mentee_id}) "
            f"AND m.starts_at >= {literal(now - dt.timedelta(days=1))} "
            f"AND m.starts_at < {literal(now + dt.timedelta(days=23))} AND m.status <> 'cancelled'",
        )

    def both(*sqls: str) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                for sql in sqls:
                    cursor.execute(sql)
                    cursor.fetchall()

        return run

    def page(url: str, params: dict | None = None, headers: dict | None = None):
        def get() -> None:
            response = client.get(url, params or {}, headers=headers or {})
            assert response.status_code == 200, (url, params, response.status_code)

        return get

    def pair(mentor_zone: str, mentee_zone: str) -> Relationship:
        found = (
            Relationship.objects.filter(
                program=program,
                status="matched",
                mentor__timezone=mentor_zone,
                mentee__timezone=mentee_zone,
            )
            .order_by("pk")
            .first()
        )
        assert found is not None, (mentor_zone, mentee_zone)
        return found

    relations = f"/programmes/{pid}/relations/"
    calendar_feed = f"/api/programs/{pid}/calendar"

    def fc_window(span: tuple[dt.datetime, dt.datetime]) -> dict:
        """The query FullCalendar sends for a view: wall-clock bounds and its named zone."""
        start, end = (moment.astimezone(tz).replace(tzinfo=None) for moment in span)
        return {"start": start.isoformat(), "end": end.isoformat(), "tz": str(tz)}

    search = Member.objects.filter(as_mentee__program=program).order_by("pk").first()
    assert search is not None
    word = search.last_name.split("-")[0]
    one_to_one = Meeting.objects.filter(program=program, kind="one_to_one").count()

    def like(alias: str, email: bool = True) -> str:
        """A name search on a member's names (and e-mail), as the page does it."""
        match = "ILIKE" if connection.vendor == "postgresql" else "LIKE"
        return (
            "("
            + " OR ".join(
                f"{alias}.{column} {match} '%{word}%'"
                for column in ("first_name", "last_name") + (("email",) if email else ())
            )
            + ")"
        )

    named = (  # the meetings of someone whose name holds the word
        "SELECT a.meeting_id FROM meetings_meetingattendee a "
        f"JOIN accounts_member p ON p.id = a.member_id WHERE {like('p')}"
    )
    montreal, tokyo = pair("Europe/Paris", "America/Montreal"), pair("Europe/Paris", "Asia/Tokyo")
    one_day = (timezone.now().astimezone(tz) + dt.timedelta(days=2)).date()
    cases: list[tuple[str, Callable[[], None], Callable[[], None] | str | None]] = [
        ("Relations: first page (10)", page(relations), relationships_floor()),
        ("Relations: 100 rows", page(relations, {"size": 100}), relationships_floor(100)),
        (
            "Relations: tab « Jumelé »",
            page(relations, {"tab": "matched"}),
            relationships_floor(where="AND r.status = 'matched'"),
        ),
        (
            f"Relations: search « {word} »",
            page(relations, {"q": word}),
            relationships_floor(where=f"AND ({like('mo', False)} OR {like('me', False)})"),
        ),
        (
            "Rencontres: first page (10, newest first)",
            page(relations, {"tab": "meetings"}),
            meetings_floor("DESC", 10),
        ),
        (
            "Rencontres: sorted oldest first",
            page(relations, {"tab": "meetings", "order": "asc"}),
            meetings_floor("ASC", 10),
        ),
        (
            "Rencontres: 100 rows",
            page(relations, {"tab": "meetings", "size": 100}),
            meetings_floor("DESC", 100),
        ),
        (
            f"Rencontres: search « {word} »",
            page(relations, {"tab": "meetings", "q": word}),
            both(  # the page, and how many meetings the search finds
                meetings_floor("DESC", 10, where=f"AND id IN ({named})"),
                "SELECT COUNT(*) FROM meetings_meeting WHERE "
                f"program_id = {pid} AND kind = 'one_to_one' AND id IN ({named})",
            ),
        ),
        (
            "Rencontres: last page",
            page(relations, {"tab": "meetings", "page": 10**6}),
            meetings_floor("DESC", 10, offset=(one_to_one - 1) // 10 * 10),
        ),
        (
            "Réunions de groupe: first page",
            page(relations, {"tab": "groups"}),
            "SELECT m.id, m.title, m.kind, m.starts_at, m.capacity, COUNT(a.id) "
            "FROM meetings_meeting m LEFT JOIN meetings_meetingattendee a ON a.meeting_id = m.id "
            f"WHERE m.program_id = {pid} AND m.kind <> 'one_to_one' "
            "GROUP BY m.id ORDER BY m.starts_at DESC, m.id LIMIT 10",
        ),
        (
            "Calendar: month (feed, 6 a day)",
            page(calendar_feed, fc_window(window)),
            cells_floor(*window, CALENDAR_PER_DAY["month"]),
        ),
        (
            "Calendar: month (JSON, /api/…/meetings)",
            page(
                f"/api/programs/{pid}/meetings",
                {"from": month_start.isoformat(), "to": month_end.isoformat()},
                api_headers,
            ),
            calendar_floor(*api_window),
        ),
        (
            "Calendar: week (feed, 24 a day)",
            page(calendar_feed, fc_window(week)),
            cells_floor(*week, CALENDAR_PER_DAY["week"]),
        ),
        (
            "Calendar: day (feed, every session)",
            page(calendar_feed, fc_window(day)),
            calendar_floor(*day),
        ),
        (
            "Free slots: Paris ↔ Montréal, first free day",
            page(f"/relations/{montreal.pk}/planifier/"),
            slots_floor(montreal.mentor_id, montreal.mentee_id),
        ),
        (
            "Free slots: Paris ↔ Tokyo, first free day",
            page(f"/relations/{tokyo.pk}/planifier/"),
            slots_floor(tokyo.mentor_id, tokyo.mentee_id),
        ),
        (
            "Free slots: Paris ↔ Tokyo, one given day",
            page(f"/relations/{tokyo.pk}/planifier/", {"day": one_day.isoformat()}),
            slots_floor(tokyo.mentor_id, tokyo.mentee_id),
        ),
    ]
    print(f"{'page':<52} {'median':>12}   {'SQL floor':>16}   {'ratio':>7}  queries")
    for label, get, floor in cases:
        if args.only.casefold() not in label.casefold():
            continue
        queries = query_count(get)
        ms = median_ms(get, args.repeat)
        floor_value = None if floor is None else floor_ms(floor, args.repeat)
        report(f"{label} [{queries} q]", ms, floor_value)
        if args.profile:
            _profile(label, get)


if __name__ == "__main__":
    main()
