"""Benchmark of the e-mail log at volume.

Builds (once) an organisation with 5,000 members and 2,000,000 e-mail log rows over two
years (statuses mixed), then times the « Registre des courriels » page with each filter
(median of R) and the CSV of about 100,000 rows, streamed to the end.

    .venv/bin/python bench/email_log.py                 # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/email_log.py
Options: --rows N --repeat R
"""

import argparse
import datetime as dt
import time

# isort: split
from common import median_ms  # first: it sets Django up

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.core.db import analyze
from cohorte.messaging.models import Email
from cohorte.messaging.selectors import email_log, email_log_page
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create

NAME = "Bench registre"
MEMBERS = 5_000
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


def build(rows: int) -> Organisation:
    organisation = Organisation.objects.filter(name=NAME).first()
    existing = Email.objects.filter(organisation_id=organisation.pk).count() if organisation else 0
    if organisation is not None and existing >= rows:
        print(f"reusing « {NAME} »")
        analyze()
        return organisation
    started = time.perf_counter()
    with transaction.atomic():
        if organisation is None:
            organisation, _ = organisation_create(
                name=NAME,
                admin_email="bench.log@cohorte.example",
                admin_password="bench-password-1",
            )
        if organisation.members.count() < MEMBERS:
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
                    for n in range(MEMBERS)
                ],
                batch_size=2000,
            )
        Email.objects.filter(organisation_id=organisation.pk).delete()
        ids = list(organisation.members.order_by("pk").values_list("pk", flat=True))
        first, span = ids[0], ids[-1] - ids[0] + 1
        statuses = "CASE (g %% 10) "
        statuses += " ".join(f"WHEN {i} THEN '{s}'" for i, s in enumerate(STATUSES)) + " END"
        columns = (
            "organisation_id, member_id, to_email, to_name, subject, body_text, body_html, "
            "language, attachments, status, message_id_header, provider_message_id, attempts, "
            "last_error, "
            "created_at, sent_at, opened_at"
        )
        if connection.vendor == "postgresql":
            source = "generate_series(1, %s) AS g"
            ago = "now() - ({n}) * interval '1 second'"
        else:
            source = "seq"
            ago = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ({n}) || ' seconds')"
        seconds = "(g * 31) %% 63072000"  # spread over two years
        select = (
            f"SELECT %s, {first} + (g %% {span}), 'r' || g || '@x.example', 'Destinataire ' || g, "
            f"'Message ' || (g %% 50), 'Bonjour', '', 'fr', '[]', {statuses}, "
            f"'<bench-' || g || '@x>', '', 1, '', "
            f"{ago.format(n=seconds)}, {ago.format(n=seconds)}, "
            f"CASE WHEN g %% 10 IN (3, 4, 5) THEN {ago.format(n=seconds + ' - 3600')} END "
            f"FROM {source}"
        )
        insert = f"INSERT INTO messaging_email ({columns}) {select}"
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(insert, [organisation.pk, rows])
            else:
                recursive = (
                    "WITH RECURSIVE seq(g) AS "
                    "(SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < %s) "
                )
                cursor.execute(recursive + insert, [rows, organisation.pk])
    analyze()
    print(f"built {rows} log rows for {MEMBERS} members in {time.perf_counter() - started:.1f} s")
    return organisation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    organisation = build(args.rows)
    admin = organisation.members.filter(is_org_admin=True).first()
    member = organisation.members.filter(is_org_admin=False).order_by("pk")[123]
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    today = timezone.localdate()
    year_ago = (today - dt.timedelta(days=365)).isoformat()
    total = Email.objects.filter(organisation_id=organisation.pk).count()
    print(f"\n{connection.vendor}, {total} rows — medians of {args.repeat}")
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
        assert response.status_code == 200
        shown = response.content.count(b"<tr><td>")
        print(f"  page, {label:<44} {ms:7.1f} ms  ({len(queries)} queries, {shown} rows)")
    start = (today - dt.timedelta(days=37)).isoformat()
    started = time.perf_counter()
    response = client.get("/messages/registre.csv", {"start": start, "end": today.isoformat()})
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    elapsed = time.perf_counter() - started
    print(f"  CSV, last 37 days: {lines - 1} rows, {size / 1e6:.1f} MB streamed in {elapsed:.2f} s")


if __name__ == "__main__":
    main()
