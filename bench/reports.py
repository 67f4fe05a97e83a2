"""Benchmark of the programme's Home, its API and the members report at scale (issue 14 §5).

Builds (once, then reused by name) the activity table's data set — a programme of N
participants and M activity events (participants_table.build, set-based SQL) — and a ten
times smaller programme beside it, gives the organisation three custom fields in the
reports (an answer per member) and three cohorts; then prints, each beside its SQL floor
(the same queries replayed alone on the cursor):

- the monthly rollup (reports.rollups, MonthlyActivity) the Home charts: a programme's
  full rebuild and the worker's tick (monthly_refresh_recent), refreshed before any page;
- the Home (« Accueil », reports:home) through the test client signed in as the
  organisation's administrator: its first view ever (no snapshot: it counts one), a view
  that reads its snapshot (reports.home_snapshot, the target), a view of a stale one (served,
  one refresh queued) and the worker's refresh, with where a fresh count's time goes (each
  part alone) and what a view reads;
- GET /api/programs/{id}/dashboard (fresh) and /api/programs/{id}/at-risk (first page);
- the members report (prepared « members ») run as the worker runs it (a report job, its
  task called in this process, the file stored on the job): CSV and XLSX of every member,
  each with its peak memory (tracemalloc, ru_maxrss) at a tenth of the rows and at all of
  them — a streamed export's peak does not grow with its rows.

Targets: Home < 200 ms; CSV of 100,000 rows < 5 s; XLSX < 30 s, in constant memory.

    .venv/bin/python bench/reports.py                  # SQLite (var/bench.sqlite3), small
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reports_bench \\
        nice -n 10 .venv/bin/python bench/reports.py --members 100000 --events 10000000
Options: --members N --events M --repeat R --profile (cProfile of the slowest parts)
         --no-export (the Home and the API only)
"""

import argparse
import cProfile
import datetime as dt
import io
import logging
import pstats
import re
import resource
import time
import tracemalloc
from collections.abc import Callable

# isort: split
from common import floor_ms, median_ms, report, report_header  # first: it sets Django up

# isort: split
import participants_table

# isort: split
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.db import analyze
from cohorte.core.jobs import job_create
from cohorte.core.models import Job, JobStatus
from cohorte.messaging.models import Email
from cohorte.programs.models import Cohort, Enrolment, Program
from cohorte.reports import at_risk as risk
from cohorte.reports import compare, exporters, home, home_snapshot, rollups, runs
from cohorte.reports.charts import monthly_chart, ratings_chart
from cohorte.reports.models import HomeSnapshot
from cohorte.reports.prepared import PREPARED, Scope
from cohorte.reports.tab_selectors import rating_counts
from cohorte.reports.tasks import home_snapshot_refresh

FIELDS = 3
COHORTS = 3
FIELD_NAME = "Rapports : champ {n}"
COHORT_NAME = "Rapports : cohorte {n}"
TARGETS_MS = {"home": 200, "organisation home": 200, "csv": 5_000, "xlsx": 30_000}


# --- The data set ------------------------------------------------------------------------


def decorate(program: Program) -> None:
    """The organisation's custom fields in the reports (FIELDS, options or free text) and
    cohorts (COHORTS), and, for the programme's members, an answer to each field and about
    one cohort in five each: set-based, once per programme."""
    organisation = program.organisation
    fields = []
    for n in range(FIELDS):
        field, _ = CustomField.objects.get_or_create(
            organisation=organisation,
            name_fr=FIELD_NAME.format(n=n),
            defaults={"options": "A, B, C, D" if n % 2 == 0 else "", "in_reports": True},
        )
        fields.append(field)
    cohorts = [
        Cohort.objects.get_or_create(organisation=organisation, name=COHORT_NAME.format(n=n))[0]
        for n in range(COHORTS)
    ]
    first = Enrolment.objects.filter(program=program).order_by("pk").values("member_id")[:1]
    if CustomFieldValue.objects.filter(field=fields[0], member_id__in=first).exists():
        return
    started = time.perf_counter()
    through = Cohort.members.through._meta.db_table
    value = (
        "CASE WHEN f.options <> '' THEN CASE ((e.member_id + f.id) %% 4) WHEN 0 THEN 'A' "
        "WHEN 1 THEN 'B' WHEN 2 THEN 'C' ELSE 'D' END ELSE 'texte libre ' || e.member_id END"
    )
    field_ids = ", ".join(str(field.pk) for field in fields)  # ours: integers
    cohort_ids = ", ".join(str(cohort.pk) for cohort in cohorts)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_customfieldvalue (member_id, field_id, value) "  # noqa: S608
            f"SELECT e.member_id, f.id, {value} FROM programs_enrolment e "
            f"CROSS JOIN accounts_customfield f WHERE e.program_id = %s AND f.id IN ({field_ids})",
            [program.pk],
        )
        cursor.execute(
            f"INSERT INTO {through} (cohort_id, member_id) "  # noqa: S608 — our table name
            "SELECT c.id, e.member_id FROM programs_enrolment e CROSS JOIN programs_cohort c "
            f"WHERE e.program_id = %s AND c.id IN ({cohort_ids}) "
            "AND ((e.member_id * 7 + c.id) %% 15) < 1",
            [program.pk],
        )
    analyze(CustomFieldValue._meta.db_table, through)
    print(f"answers and cohorts of « {program} » written in {time.perf_counter() - started:.1f} s")


# --- Helpers -----------------------------------------------------------------------------


#: a server-side cursor's query (an .iterator() on PostgreSQL), as captured
DECLARE = re.compile(r"^DECLARE \S+ (?:NO )?(?:SCROLL )?CURSOR (?:WITH(?:OUT)? HOLD )?FOR ", re.I)


#: a figure whose first run takes longer than this is timed once more, not R times
SLOW_MS = 2000


def _replayable(sql: str) -> str:
    return DECLARE.sub("", sql)


def captured(fn: Callable[[], object]) -> list[tuple[str, None]]:
    """The SQL a figure sends, captured once as sent, to replay alone as its floor (a
    server-side cursor's query as the plain query it reads)."""
    connection.queries_log.clear()  # a bounded deque: once full, its indices shift
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [(_replayable(query["sql"]), None) for query in ctx.captured_queries]


def _replay(queries: list[tuple[str, None]]) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()

    return run


def sql_floor(queries: list[tuple[str, None]], repeat: int) -> float:
    return floor_ms(_replay(queries), repeat)


def once_ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def figure(
    label: str,
    fn: Callable[[], object],
    repeat: int,
    note: str = "",
    slowest: int = 0,
    not_replayed: str = "",
) -> float:
    """Median of `repeat` beside the floor (its SQL replayed alone); a figure slower than
    SLOW_MS is timed once more (after the capturing run) and so is its floor. `slowest`:
    print that many of its queries, the slowest first, with their time in the run.
    `not_replayed`: the floor leaves out the queries that start so (an INSERT of a new
    key cannot run twice)."""
    connection.queries_log.clear()  # a bounded deque: once full, its indices shift
    with CaptureQueriesContext(connection) as ctx:
        first = once_ms(fn)
    run = list(ctx.captured_queries)
    queries = [
        (_replayable(query["sql"]), None)
        for query in run
        if not (not_replayed and query["sql"].startswith(not_replayed))
    ]
    if first > SLOW_MS:
        ms, floor = once_ms(fn), once_ms(_replay(queries))
        note = f"{note} · slow: timed once".strip()
    else:
        ms, floor = median_ms(fn, repeat), sql_floor(queries, repeat)
    report(label, ms, floor, f"{len(queries)} queries {note}".strip())
    by_time = sorted(run, key=lambda query: -float(query["time"]))
    for query in by_time[:slowest]:
        sql = query["sql"]
        more = "…" if len(sql) > 200 else ""
        print(f"    {float(query['time']) * 1000:>9.1f} ms  {sql[:200]}{more}")
    return ms


def profile(label: str, fn: Callable[[], object], calls: int = 3) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"cohorte|template|xlsxwriter|csv|db/models|psycopg|sqlite3", 30
    )
    print(f"\ncProfile of {calls} × {label} (cumulative):\n{out.getvalue()}")


def forget_figures(program: Program) -> None:
    """Drop the Home's snapshot and empty its cached figure sets: the next view counts them
    afresh (as the first view ever does)."""
    cache.delete_many(
        [f"reports:home:{program.pk}", f"reports:home:organisation:{program.organisation_id}"]
    )
    HomeSnapshot.objects.filter(program=program).delete()


def age_snapshot(program: Program) -> None:
    """Make the Home's snapshot stale, no refresh queued: the next view queues one."""
    HomeSnapshot.objects.filter(program=program).update(
        computed_at=timezone.now() - dt.timedelta(seconds=home_snapshot.REFRESH_SECONDS + 1),
        refresh_queued_at=None,
    )


# --- The rollup, the Home, the API --------------------------------------------------------


def rollup_figures(program: Program, repeat: int) -> None:
    report_header(f"\nmonthly rollup (worker) — medians of {repeat}; floor: the same SQL alone")
    months = len(rollups.window_months(program))
    figure(
        "rollup: the programme's full rebuild",
        lambda: rollups.monthly_rebuild(program=program),
        repeat,
        f"· {months} months",
    )
    figure(
        "rollup: the tick (monthly_refresh_recent)",
        lambda: rollups.monthly_refresh_recent(now=timezone.now()),
        repeat,
        f"· {Program.objects.count()} programmes in the database",
    )


def home_figures(program: Program, client: Client, api_headers: dict, args) -> dict[str, float]:
    results: dict[str, float] = {}
    url = reverse("reports:home", args=[program.pk])

    def page(fresh: bool) -> None:
        if fresh:
            forget_figures(program)
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    page(True)
    report_header(f"\nthe Home — medians of {args.repeat}; floor: the page's SQL alone")
    results["home first view"] = figure(
        "Home, figures counted afresh",
        lambda: page(True),
        args.repeat,
        "(no snapshot: the first view ever counts it)",
        slowest=3,
    )
    page(False)
    results["home"] = figure(
        "Home, snapshot read (< 60 s)", lambda: page(False), args.repeat, slowest=3
    )

    queued = DBTaskResult.objects.filter(task_path=home_snapshot_refresh.module_path)

    def stale_page() -> None:
        age_snapshot(program)
        page(False)
        queued.delete()

    results["home stale"] = figure(
        "Home, stale snapshot served + 1 refresh queued",
        stale_page,
        args.repeat,
        "(2 of them: making it stale, then removing the task; floor without its INSERT)",
        not_replayed=f'INSERT INTO "{DBTaskResult._meta.db_table}"',
    )
    figure(
        "worker: the snapshot's refresh",
        lambda: home_snapshot.home_snapshot_compute(program=program),
        min(args.repeat, 3),
    )

    def dashboard() -> None:
        forget_figures(program)
        response = client.get(f"/api/programs/{program.pk}/dashboard", headers=api_headers)
        assert response.status_code == 200, response.status_code

    def at_risk() -> None:
        response = client.get(f"/api/programs/{program.pk}/at-risk", headers=api_headers)
        assert response.status_code == 200, response.status_code
        results["at-risk count"] = response.json()["count"]

    results["dashboard"] = figure(
        "API dashboard, figures counted afresh",
        dashboard,
        args.repeat,
        "(cache emptied)",
        slowest=1,
    )
    results["dashboard snapshot"] = figure(
        "API dashboard, snapshot read (< 60 s)",
        lambda: client.get(f"/api/programs/{program.pk}/dashboard", headers=api_headers),
        args.repeat,
    )
    results["at-risk"] = figure("API at-risk, first 100", at_risk, args.repeat)

    # the organisation's Home (every running programme side by side): from the snapshots
    organisation_url = reverse("reports:organisation-home")
    for each in Program.objects.select_related("organisation"):  # young: nothing queued
        home_snapshot.home_snapshot_compute(program=each)

    def organisation_page() -> None:
        response = client.get(organisation_url)
        assert response.status_code == 200, response.status_code

    results["organisation home"] = figure(
        "organisation's Home, from the snapshots",
        organisation_page,
        args.repeat,
        f"({Program.objects.count()} programmes in the database)",
    )
    results["organisation dashboard"] = figure(
        "API organisation dashboard, from the snapshots",
        lambda: client.get("/api/dashboard", headers=api_headers),
        args.repeat,
    )
    figure(
        "  beside it: every row counted afresh",
        lambda: compare.organisation_figures(
            member=program.organisation.members.filter(is_org_admin=True).first(), fresh=True
        ),
        args.repeat,
        "(what each view counted before the snapshots)",
    )
    print(f"(at risk: {results.pop('at-risk count'):.0f} people)")

    # where a fresh Home's time goes: each part it calls, alone
    now = timezone.now()
    parts: list[tuple[str, Callable[[], object]]] = [
        ("  of it: home._count_figures", lambda: home._count_figures(program, now)),
        ("  of it: home.per_month (the rollup)", lambda: home.per_month(program)),
        (
            "  of it: home.organisation_rates",
            lambda: home.organisation_rates(organisation=program.organisation, fresh=True),
        ),
        (
            "  of it: at_risk_rows[:20] + reasons",
            lambda: risk.at_risk_reasons(
                program=program, rows=list(risk.at_risk_rows(program=program, now=now)[:20])
            ),
        ),
        (
            "  of it: progress_table × 2",
            lambda: [home.progress_table(program=program, side=s) for s in ("mentees", "mentors")],
        ),
        (
            "  of it: rollup chart (monthly_rows)",
            lambda: monthly_chart(rollups.monthly_rows(program), chart_id="c"),
        ),
        ("  of it: compare.cohort_rows", lambda: compare.cohort_rows(program=program)),
        (
            "  of it: ratings chart",
            lambda: ratings_chart(rating_counts(program=program), chart_id="r"),
        ),
    ]
    report_header("\nwhere a fresh Home's time goes (the worker's refresh) — each part alone")
    for label, fn in parts:
        figure(label, fn, args.repeat)
    report_header("\nwhat a view reads instead — each part alone")
    snapshot = home_snapshot.home_snapshot_compute(program=program)  # young: nothing queued
    for label, fn in (
        ("  read: home_snapshot (one row)", lambda: home_snapshot.home_snapshot(program=program)),
        (
            "  read: home_people (its people by id)",
            lambda: home_snapshot.home_people(program=program, snapshot=snapshot),
        ),
    ):
        figure(label, fn, args.repeat)
    queued.delete()
    if args.profile:
        profile("a fresh Home", lambda: page(True))
    return results


# --- The members report, as the worker runs it ------------------------------------------


def export_run(program: Program, admin: Member, format: str) -> tuple[int, int]:
    """One run of the members report as the worker runs it: a report job, its task body
    (runs.report_run) called here, the file stored on the job. Returns (rows, bytes); the
    job, its file and its e-mail are removed after."""
    job = job_create(
        kind=runs.KIND,
        by=admin,
        organisation_id=admin.organisation_id,
        title="bench",
        payload={
            "name": "members",
            "format": format,
            "program_id": program.pk,
            "filters": {},
            "columns": [],
        },
    )
    last_email = Email.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    runs.report_run.call(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.result
    size = job.file.size
    count = job.result["count"]
    job.file.delete(save=False)
    Job.objects.filter(pk=job.pk).delete()
    # the run's « report ready » e-mail, queued in the outbox: no worker sends it here
    Email.objects.filter(pk__gt=last_email, member=admin).delete()
    return count, size


def traced(fn: Callable[[], tuple[int, int]]) -> tuple[int, int, float, float, float]:
    """(rows, bytes, peak MB traced, RSS MB before, RSS MB after) of one call."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        rows, size = fn()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rows, size, peak / 1e6, rss_before / 1024, rss_after / 1024


def export_figures(program: Program, small: Program, admin: Member, args) -> dict[str, float]:
    results: dict[str, float] = {}
    scope = Scope(organisation=program.organisation, program=program, by=admin)
    members = PREPARED["members"]

    def rows_only() -> int:
        built = members.build(scope)
        return sum(1 for _row in built.rows)

    report_header("\nmembers report — one run each; floor: the report's SQL alone")
    apart = "" if connection.vendor == "sqlite" else " (the database's apart)"
    queries = captured(rows_only)
    started, cpu = time.perf_counter(), time.process_time()
    count = rows_only()
    rows_ms = (time.perf_counter() - started) * 1000
    cpu_s = time.process_time() - cpu
    floor = once_ms(_replay(queries))
    report(
        f"report rows alone, {count} rows (no file)",
        rows_ms,
        floor,
        f"{len(queries)} queries · this process's CPU {cpu_s:.1f} s",
    )
    for format, key in ((exporters.CSV, "csv"), (exporters.XLSX, "xlsx")):
        started, cpu = time.perf_counter(), time.process_time()
        rows, size = export_run(program, admin, format)
        ms = (time.perf_counter() - started) * 1000
        cpu_s = time.process_time() - cpu
        results[key] = ms
        report(
            f"{format.upper()} as the worker runs it, {rows} rows",
            ms,
            floor,
            f"{size / 1e6:.1f} MB · this process's CPU {cpu_s:.1f} s{apart}",
        )
        for target in (small, program):
            rows, size, peak, rss_before, rss_after = traced(
                lambda target=target, format=format: export_run(target, admin, format)
            )
            print(
                f"  {format.upper()} memory, {rows:>7} rows: peak Python memory {peak:.1f} MB "
                f"(tracemalloc), peak RSS {rss_before:.0f} → {rss_after:.0f} MB"
            )
        if args.profile:
            profile(
                f"the members {format.upper()}", lambda f=format: export_run(program, admin, f), 1
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-export", action="store_true")
    args = parser.parse_args()

    logging.getLogger("cohorte.request").setLevel(logging.WARNING)  # a line per request
    call_command("migrate", verbosity=0)
    program = participants_table.build(args.members, args.events)
    # a tenth of the size beside it: the export's memory at 10 % of the rows
    small = participants_table.build(max(10, args.members // 10), args.events // 100)
    for each in (program, small):
        decorate(each)
    program = Program.objects.select_related("organisation").get(pk=program.pk)
    admin = program.organisation.members.filter(is_org_admin=True).first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    api_headers = {"Authorization": f"Bearer {token_issue(member=admin)}"}
    members = Enrolment.objects.filter(program=program, ended_at__isnull=True).count()
    print(
        f"database: {connection.vendor}; programme « {program} »: {members} members enrolled, "
        f"{args.events} events"
    )
    rollup_figures(program, min(args.repeat, 3))
    results = home_figures(program, client, api_headers, args)
    if not args.no_export:
        results.update(export_figures(program, small, admin, args))

    print("\ntargets:")
    for key, limit in TARGETS_MS.items():
        if key in results:
            verdict = "ok" if results[key] < limit else "OVER"
            print(f"  {key:<10} {results[key]:>10.1f} ms  (< {limit} ms)  {verdict}")


if __name__ == "__main__":
    main()
