"""Benchmark of the participants' activity table at scale.

Builds (once) a programme with N participants and M activity events (set-based SQL: a few
minutes for 100,000 × 10,000,000 on PostgreSQL), then times the page (first page, sorted by
each column both ways, search, filter, a deep page), the API page and the CSV export of
every row (streamed: its peak memory is printed), each beside its SQL floor — the same
queries (the selector's rows and its count) run alone on the cursor — and their ratio.

    .venv/bin/python bench/participants_table.py          # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/table_bench \\
        nice -n 10 .venv/bin/python bench/participants_table.py \\
        --participants 100000 --events 10000000
Options: --participants N --events M --repeat R --profile (cProfile of one first page)
         --table-only (skip the ingestion and rebuild sections at the end)
"""

import argparse
import cProfile
import io
import pstats
import resource
import time
import tracemalloc

# isort: split
from common import floor_ms, median_ms, report, report_header  # first: it sets Django up

# isort: split
import ingestion

# isort: split
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cohorte.accounts.api_auth import token_issue
from cohorte.activity.models import ActivityEvent, ParticipantStats
from cohorte.activity.selectors import (
    SORTS,
    participant_activity_page,
    participant_activity_rows,
    participants_filtered,
)
from cohorte.demo import big_program
from cohorte.programs.models import Enrolment, Organisation, Program
from cohorte.programs.services import organisation_create

PAGE = 25


def build(participants: int, events: int) -> Program:
    organisation = Organisation.objects.filter(name="Bench").first()
    if organisation is None:
        organisation, _ = organisation_create(
            name="Bench", admin_email="bench@cohorte.example", admin_password="bench-password-1"
        )
    started = time.perf_counter()
    program, built = big_program(
        organisation=organisation,
        name=f"Bench {participants} participants / {events} events",
        participants=participants,
        events=events,
        prefix="bench",
    )
    print(f"built in {time.perf_counter() - started:.1f} s" if built else f"reusing « {program} »")
    if built and connection.vendor == "postgresql":
        # a bulk load leaves the visibility map empty: vacuum it so counts are index-only
        with connection.cursor() as cursor:
            for model in (Enrolment, ParticipantStats, ActivityEvent):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return program


def _sql(queryset: QuerySet) -> tuple[str, tuple | None]:
    return queryset.query.sql_with_params()


def sql_floor(queries: list[QuerySet | tuple[str, tuple | None]], repeat: int) -> float:
    """The queries a figure needs, compiled once and run alone on the cursor."""
    compiled = [q if isinstance(q, tuple) else _sql(q) for q in queries]

    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in compiled:
                cursor.execute(sql, params)
                cursor.fetchall()

    return floor_ms(run, repeat)


def _count_sql(queryset: QuerySet) -> tuple[str, None]:
    """The SQL queryset.count() sends (captured once, values inlined), to replay alone."""
    with CaptureQueriesContext(connection) as ctx:
        queryset.count()
    return ctx.captured_queries[-1]["sql"], None


def table_figures(program: Program, client: Client, api_headers: dict, args) -> None:
    url = f"/programmes/{program.pk}/"
    count = participants_filtered(program=program).count()
    last_page = max(1, -(-count // PAGE))

    def page(params):
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code

    with CaptureQueriesContext(connection) as ctx:
        page({})
    print(f"SQL queries for one page: {len(ctx.captured_queries)}")
    report_header(
        f"\n{connection.vendor} — medians of {args.repeat}; floor: its keys, rows, count SQL"
    )

    def page_queries(start: int, size: int, **selector) -> list:
        """What one page asks the database for its table — its keys (from the rows its
        order puts first, or the whole order), its rows by id, its count — captured as
        sent, to replay alone."""
        filters = {k: v for k, v in selector.items() if k not in ("sort", "order")}
        with CaptureQueriesContext(connection) as ctx:
            participant_activity_page(program=program, **selector)[start : start + size]
            participants_filtered(program=program, **filters).count()
        return [(query["sql"], None) for query in ctx.captured_queries]

    def case(label: str, params: dict, **selector) -> None:
        ms = median_ms(lambda: page(params), args.repeat)
        start = (int(params.get("page", 1)) - 1) * PAGE
        report(label, ms, sql_floor(page_queries(start, PAGE, **selector), args.repeat))

    case("first page (default: name)", {})
    for sort in SORTS:
        for order in ("asc", "desc"):
            case(
                f"sorted by {sort} {order}", {"sort": sort, "order": order}, sort=sort, order=order
            )
    case("search « mar »", {"q": "mar"}, q="mar")
    case("filter: never signed in", {"never": "1"}, never_signed_in=True)
    case(f"last page ({last_page}), by name", {"page": last_page})

    def api():
        response = client.get(
            f"/api/programs/{program.pk}/participants",
            {"sort": "progress", "order": "desc", "page_size": 100},
            headers=api_headers,
        )
        assert response.status_code == 200

    report(
        "API, 100 rows by progress",
        median_ms(api, args.repeat),
        sql_floor(page_queries(0, 100, sort="progress", order="desc"), args.repeat),
    )

    csv_url = f"/programmes/{program.pk}/participants.csv"

    def csv_export() -> int:
        response = client.get(csv_url, {"sort": "last_access"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        assert size > count * 20
        return size

    ms = median_ms(csv_export, 3)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    size = csv_export()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = participant_activity_rows(program=program, sort="last_access")
    report(
        f"CSV export, all {count} rows",
        ms,
        sql_floor([rows], 3),
        f"{size / 1e6:.1f} MB streamed; peak Python memory {peak / 1e6:.1f} MB (tracemalloc), "
        f"peak RSS {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MB",
    )


def profile_page(program: Program, client: Client, requests: int = 10) -> None:
    """Where one first page's time goes: cProfile over a few requests, by cumulative time."""
    url = f"/programmes/{program.pk}/"
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"cohorte|template|db/models/sql|psycopg|sqlite3", 40
    )
    print(f"\ncProfile of {requests} first pages (cumulative):\n{out.getvalue()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    program = build(args.participants, args.events)
    admin = program.organisation.members.filter(is_org_admin=True).first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    api_headers = {"Authorization": f"Bearer {token_issue(member=admin)}"}
    print(
        f"database: {connection.vendor}; participants: {args.participants}; events: {args.events}"
    )
    table_figures(program, client, api_headers, args)
    if args.profile:
        profile_page(program, client)
    if args.table_only:
        return
    # ingestion, then the rebuild of every counter: each beside its SQL floor
    ingestion.report(program, client, api_headers)


if __name__ == "__main__":
    main()
