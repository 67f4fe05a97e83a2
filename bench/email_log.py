"""Benchmark of the e-mail log at volume.

Builds (once, set-based SQL: INSERT … SELECT over generate_series on PostgreSQL, over a
recursive CTE on SQLite; a smaller existing log is topped up, not rebuilt) an organisation
with 5,000 members and N e-mail log rows over two years (statuses mixed), then times the
« Registre des courriels » page with each filter, the API page and the CSV of about 100,000
rows streamed to the end (with its peak memory, at a tenth of the rows too: constant memory
means the same peak). Every figure is printed beside its SQL floor — the same queries run
alone through a cursor — and their ratio.

    .venv/bin/python bench/email_log.py                 # SQLite (var/bench.sqlite3), 2,000,000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memberslog_bench \\
        nice -n 10 .venv/bin/python bench/email_log.py --issue    # 5,000,000 rows (issue 10)
Options: --rows N (default 2,000,000; --issue: 5,000,000) --csv-rows N (100,000) --repeat R
"""

import argparse
import datetime as dt
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

# isort: split
import common  # first: it sets Django up
from common import median_ms

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import Member
from cohorte.core.db import analyze
from cohorte.messaging.models import Email
from cohorte.messaging.selectors import LOG_COUNT_CAP, email_log, email_log_page
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create

floor_ms, report = common.floor_ms, common.report


NAME = "Bench registre"
MEMBERS = 5_000
ISSUE_ROWS = 5_000_000
CHUNK = 1_000_000
STATUSES = [
    "sent",
    "delivered",
    "delivered",
    "opened",
    "opened",
    "opened",
    "bounced",
    "deferred",
    "complained",
    "failed",
]
TWO_YEARS = 63_072_000  # seconds: the rows are spread over two years


def sql_of(queryset: QuerySet) -> tuple[str, tuple]:
    """The SQL Django runs for a queryset, with its parameters, to time it through a cursor."""
    return queryset.query.sql_with_params()


def cursor_run(*queries: tuple[str, Sequence[Any]]):
    """A callable that runs each query through a cursor and reads every row."""

    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, params)
                while cursor.fetchmany(5000):
                    pass

    return run


def _insert_rows(organisation_id: int, first_member: int, span: int, start: int, stop: int):
    """Rows g = start..stop, every column computed from g (the same g gives the same row
    on either engine, so a log can be topped up)."""
    statuses = "CASE (g %% 10) "
    statuses += " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES)) + " END"
    columns = (
        "organisation_id, member_id, to_email, to_name, subject, body_text, body_html, "
        "language, attachments, status, message_id_header, provider_message_id, attempts, "
        "last_error, created_at, sent_at, opened_at"
    )
    if connection.vendor == "postgresql":
        prefix, source = "", "generate_series(%s, %s) AS s(g)"
        ago = "now() - ({n}) * interval '1 second'"
        params = [organisation_id, start, stop]
    else:
        prefix = (
            "WITH RECURSIVE seq(g) AS (SELECT %s UNION ALL SELECT g + 1 FROM seq WHERE g < %s) "
        )
        source = "seq"
        ago = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ({n}) || ' seconds')"
        params = [start, stop, organisation_id]
    seconds = f"((g * 31) %% {TWO_YEARS})"
    select = (
        f"SELECT %s, {first_member} + (g %% {span}), 'r' || g || '@x.example', "
        f"'Destinataire ' || g, 'Message ' || (g %% 50), 'Bonjour', '', 'fr', '[]', {statuses}, "
        f"'<bench-' || g || '@x>', '', 1, "
        f"CASE WHEN g %% 10 = 6 THEN '550 5.1.1 mailbox unavailable' ELSE '' END, "
        f"{ago.format(n=seconds)}, {ago.format(n=seconds)}, "
        f"CASE WHEN g %% 10 IN (3, 4, 5) THEN {ago.format(n=seconds + ' - 3600')} END "
        f"FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{prefix}INSERT INTO messaging_email ({columns}) {select}", params)


def build(rows: int, members: int = MEMBERS) -> Organisation:
    organisation = Organisation.objects.filter(name=NAME).first()
    existing = Email.objects.filter(organisation_id=organisation.pk).count() if organisation else 0
    if organisation is not None and existing >= rows:
        print(f"reusing « {NAME} » ({existing} rows)")
        analyze("messaging_email", "accounts_member")
        return organisation
    started = time.perf_counter()
    with transaction.atomic():
        if organisation is None:
            organisation, _ = organisation_create(
                name=NAME,
                admin_email="bench.log@cohorte.example",
                admin_password="bench-password-1",
            )
        if organisation.members.count() < members:
            password = make_password(None)
            Member.objects.bulk_create(
                [
                    Member(
                        organisation=organisation,
                        email=f"bench.log.{n}@cohorte.example",
                        first_name=f"Prénom{n}",
                        last_name=f"Nom{n}",
                        password=password,
                    )
                    for n in range(members)
                ],
                batch_size=2000,
            )
    ids = list(organisation.members.order_by("pk").values_list("pk", flat=True))
    first, span = ids[0], ids[-1] - ids[0] + 1
    # g = 1..existing are there already (a log built smaller, or a build interrupted between
    # two chunks): add the rest, a chunk per transaction
    for start in range(existing + 1, rows + 1, CHUNK):
        stop = min(start + CHUNK - 1, rows)
        with transaction.atomic():
            _insert_rows(organisation.pk, first, span, start, stop)
        print(f"  {stop} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # statistics, and the visibility map for counts
            cursor.execute("VACUUM ANALYZE messaging_email")
    else:
        analyze("messaging_email", "accounts_member")
    print(
        f"built {rows - existing} log rows for {members} members "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return organisation


def _capped_count(rows: QuerySet) -> tuple[str, tuple]:
    sql, params = sql_of(rows.order_by().values("pk")[: LOG_COUNT_CAP + 1])
    return f"SELECT COUNT(*) FROM ({sql}) AS capped", params


def _page_floor(admin: Member, params: dict, repeat: int) -> float:
    """The page's own data queries, alone: its rows (one index range per status) and the
    capped count of what matches."""
    statuses = params.get("status") or []
    statuses = [statuses] if isinstance(statuses, str) else statuses
    tz = admin.organisation.tzinfo
    day = dt.timedelta(days=1)
    rows = email_log(
        user=admin,
        member_ids=[params["member"]] if "member" in params else [],
        start=dt.datetime.combine(dt.date.fromisoformat(params["start"]), dt.time.min, tz)
        if "start" in params
        else None,
        end=dt.datetime.combine(dt.date.fromisoformat(params["end"]) + day, dt.time.min, tz)
        if "end" in params
        else None,
    )
    with CaptureQueriesContext(connection) as captured:
        email_log_page(rows, after=params.get("after", ""), statuses=statuses)
    page_sql = [(query["sql"], ()) for query in captured.captured_queries]
    counted = rows.filter(status__in=statuses) if statuses else rows
    return floor_ms(cursor_run(*page_sql, _capped_count(counted)), repeat)


def _stream(response) -> tuple[int, int]:
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    return lines - 1, size


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--issue", action="store_true", help=f"issue 10's size: {ISSUE_ROWS}")
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--members", type=int, default=MEMBERS, help="members the rows go to")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)
    if args.issue:
        args.rows = ISSUE_ROWS
    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    organisation = build(args.rows, args.members)
    admin = organisation.members.filter(is_org_admin=True).first()
    others = organisation.members.filter(is_org_admin=False).order_by("pk")
    member = others[min(123, others.count() - 1)]
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    today = timezone.localdate()
    year_ago = (today - dt.timedelta(days=365)).isoformat()
    total = Email.objects.filter(organisation_id=organisation.pk).count()
    print(f"\n{connection.vendor}, {total} rows — medians of {args.repeat}")
    print(f"  {'':<46} {'figure ms':>9} | {'floor ms':>9} | {'ratio':>7}")
    _rows, deep = email_log_page(email_log(user=admin))
    for _ in range(20):
        _rows, deep = email_log_page(email_log(user=admin), after=deep)
    cases = [
        ("no filter, first page", {}),
        ("no filter, page 21 (keyset)", {"after": deep}),
        ("one member", {"member": member.pk}),
        (
            "one member, last 12 months",
            {"member": member.pk, "start": year_ago, "end": today.isoformat()},
        ),
        ("status « Retourné »", {"status": "bounced"}),
        (
            "statuses bounced + spam, last 12 months",
            {"status": ["bounced", "complained"], "start": year_ago},
        ),
        (
            "one month",
            {
                "start": (today - dt.timedelta(days=60)).isoformat(),
                "end": (today - dt.timedelta(days=30)).isoformat(),
            },
        ),
        (
            "member + status + dates",
            {"member": member.pk, "status": "opened", "start": year_ago, "end": today.isoformat()},
        ),
    ]
    for label, params in cases:
        ms = median_ms(lambda p=params: client.get("/messages/registre/", p), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/messages/registre/", params)
        assert response.status_code == 200, response.status_code
        shown = response.content.count(b"<tr><td>")
        floor = _page_floor(admin, params, args.repeat)
        report(f"page, {label}", ms, floor, f"({len(queries)} queries, {shown} rows)")

    token = token_issue(member=admin)
    headers = {"Authorization": f"Bearer {token}"}
    for label, params in [
        ("API, 50 rows, no filter", {}),
        ("API, 50 rows, bounced + spam", {"status": ["bounced", "complained"]}),
    ]:
        ms = median_ms(lambda p=params: client.get("/api/email-log", p, headers=headers), 7)
        response = client.get("/api/email-log", params, headers=headers)
        assert response.status_code == 200, response.content
        with CaptureQueriesContext(connection) as captured:
            email_log_page(email_log(user=admin), statuses=params.get("status", []))
        floor = floor_ms(cursor_run(*[(q["sql"], ()) for q in captured.captured_queries]), 7)
        report(label, ms, floor, f"({len(response.json()['results'])} rows)")

    # the CSV: whole days back from today, as many as hold about --csv-rows rows (the day
    # of the n-th newest row onwards)
    tz = organisation.tzinfo
    for wanted in (args.csv_rows // 10, args.csv_rows):
        newest = email_log(user=admin).values_list("created_at", flat=True)
        nth = newest[min(wanted, total) - 1]
        first_day = nth.astimezone(tz).date()
        days = (today - first_day).days + 1
        params = {"start": first_day.isoformat()}
        started = time.perf_counter()
        lines, size = _stream(client.get("/messages/registre.csv", params))
        elapsed = (time.perf_counter() - started) * 1000
        tracemalloc.start()
        _stream(client.get("/messages/registre.csv", params))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        start = dt.datetime.combine(dt.date.fromisoformat(params["start"]), dt.time.min, tz)
        query = email_log(user=admin, start=start).values_list(
            "subject",
            "to_name",
            "to_email",
            "created_at",
            "sent_at",
            "status",
            "opened_at",
            "last_error",
        )
        floor = floor_ms(cursor_run(sql_of(query)), 3)
        report(
            f"CSV, last {days} days, {lines} rows",
            elapsed,
            floor,
            f"({size / 1e6:.1f} MB streamed, peak Python memory {peak / 1e6:.1f} MB)",
        )


if __name__ == "__main__":
    main()
