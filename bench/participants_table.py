"""Benchmark of the participants' activity table at scale.

Builds (once) a programme with 10,000 participants and 2,000,000 activity events, then
times the page (first page, sorted by each column, both ways), the API and the CSV export,
and prints medians and SQL queries per page.

    .venv/bin/python bench/participants_table.py          # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/participants_table.py
Options: --participants N --events M --repeat R
"""

import argparse
import time

# isort: split
from common import median_ms  # first: it sets Django up

# isort: split
import ingestion

# isort: split
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cohorte.accounts.api_auth import token_issue
from cohorte.activity.demo import big_program
from cohorte.activity.selectors import SORTS
from cohorte.programs.models import Organisation, Program
from cohorte.programs.services import organisation_create


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
    return program


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    program = build(args.participants, args.events)
    admin = program.organisation.members.filter(is_org_admin=True).first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    api_headers = {"Authorization": f"Bearer {token_issue(member=admin)}"}
    url = f"/programmes/{program.pk}/"
    print(
        f"database: {connection.vendor}; participants: {args.participants}; events: {args.events}"
    )

    def page(params):
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code

    with CaptureQueriesContext(connection) as ctx:
        page({})
    print(f"SQL queries for one page: {len(ctx.captured_queries)}")
    print(f"{'page':<40} {'median ms':>10}")
    print(f"{'first page (default: name)':<40} {median_ms(lambda: page({}), args.repeat):>10.1f}")
    for sort in SORTS:
        for order in ("asc", "desc"):
            ms = median_ms(lambda s=sort, o=order: page({"sort": s, "order": o}), args.repeat)
            print(f"{'sorted by ' + sort + ' ' + order:<40} {ms:>10.1f}")
    ms = median_ms(lambda: page({"q": "mar"}), args.repeat)
    print(f"{'search « mar »':<40} {ms:>10.1f}")
    ms = median_ms(lambda: page({"never": "1"}), args.repeat)
    print(f"{'filter: never signed in':<40} {ms:>10.1f}")

    def api():
        response = client.get(
            f"/api/programs/{program.pk}/participants",
            {"sort": "progress", "order": "desc", "page_size": 100},
            headers=api_headers,
        )
        assert response.status_code == 200

    print(f"{'API, 100 rows by progress':<40} {median_ms(api, args.repeat):>10.1f}")

    def csv_export():
        response = client.get(f"/programmes/{program.pk}/participants.csv", {"sort": "last_access"})
        size = sum(len(chunk) for chunk in response.streaming_content)
        assert size > args.participants * 20

    print(f"{'CSV export, all rows':<40} {median_ms(csv_export, 3):>10.1f}")
    # ingestion, then the rebuild of every counter: each beside its SQL floor
    ingestion.report(program, client, api_headers)


if __name__ == "__main__":
    main()
