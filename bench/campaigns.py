"""Benchmark of an interview campaign at scale (issue 13 §7).

Builds (once) a campaign of N interviews between 2,000 managers and their collaborators,
statuses spread as in a campaign half-way (not planned, planned, held, in the circuit,
closed, a few deleted; the closing and closed ones with their signatures, some managers
already reminded), with bulk inserts; then times, each the median of R runs beside its
SQL floor (the same queries replayed alone on the cursor):

- the statistics (selectors.campaign_stats, « Détail campagne »),
- the interviews grouped by manager, filtered by status: the first page of the
  campaigns:interviews page through the test client (if the page exists yet; else the
  selector's first page and its count),
- « Relancer » for a status: the managers concerned (selectors.reminder_recipients),
- the Excel export of every interview (exports.xlsx_write, XlsxWriter constant memory).

Targets: < 200 ms each on PostgreSQL; the Excel of 20,000 rows < 30 s.

    .venv/bin/python bench/campaigns.py                      # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/campaigns_bench \\
        .venv/bin/python bench/campaigns.py --interviews 20000 --managers 2000
Options: --interviews N --managers M --repeat R
"""

import argparse
import datetime as dt
import logging
import os
import random
import resource
import tempfile
import time

# isort: split
from common import floor_ms, median_ms, report, report_header  # first: it sets Django up

# isort: split
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.campaigns import documents, exports, selectors, services
from cohorte.campaigns.models import (
    Campaign,
    EventAction,
    Interview,
    InterviewEvent,
    InterviewStatus,
    ManagerReminder,
    ReminderSending,
)
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create

BATCH = 2000
CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 7},
    {"role": "hr", "deadline_days": 14},
]
FORM = [
    {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}},
            {"key": "note", "kind": "scale", "label": {"fr": "Satisfaction"}},
            {"key": "objectifs", "kind": "objectives", "label": {"fr": "Objectifs"}},
        ],
    }
]
#: a campaign half-way: the share of each status
SPREAD = [
    (InterviewStatus.NOT_PLANNED, 0.25),
    (InterviewStatus.PLANNED, 0.20),
    (InterviewStatus.HELD, 0.15),
    (InterviewStatus.CLOSING, 0.20),
    (InterviewStatus.CLOSED, 0.15),
    (InterviewStatus.DELETED, 0.05),
]
FIRST = ["Claire", "Marc", "Nina", "Paul", "Léa", "Hugo", "Inès", "Jules", "Zoé", "Yanis"]
LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"]


def _members(organisation: Organisation, prefix: str, count: int) -> list[int]:
    rows = [
        Member(
            email=f"{prefix}{n}@bench.example",
            first_name=FIRST[n % len(FIRST)],
            last_name=f"{LAST[n % len(LAST)]}-{n}",
            organisation=organisation,
            password="!",  # unusable: nobody signs in as them
        )
        for n in range(count)
    ]
    for start in range(0, count, BATCH):
        Member.objects.bulk_create(rows[start : start + BATCH], batch_size=BATCH)
    emails = [row.email for row in rows]
    ids = dict(Member.objects.filter(email__in=emails).values_list("email", "pk"))
    return [ids[email] for email in emails]


def build(interviews: int, managers: int) -> tuple[Campaign, Member]:
    name = f"Bench {interviews} entretiens / {managers} managers"
    campaign = Campaign.objects.filter(name=name).select_related("organisation").first()
    if campaign is not None:
        print(f"reusing « {campaign} »")
        return campaign, campaign.organisation.members.filter(is_org_admin=True).first()
    started = time.perf_counter()
    organisation, admin = organisation_create(
        name=f"Bench campagnes {interviews}",
        admin_email=f"bench-campaigns-{interviews}-{managers}@cohorte.example",
        admin_password="bench-password-1",
    )
    today = timezone.localdate()
    campaign = services.campaign_create(
        organisation=organisation,
        by=admin,
        name=name,
        kind="annual",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
        circuit=CIRCUIT,
        form=FORM,
    )
    tag = f"c{interviews}m{managers}-"
    manager_ids = _members(organisation, f"{tag}manager", managers)
    collaborator_ids = _members(organisation, f"{tag}collab", interviews)
    rng = random.Random(13)  # noqa: S311 — figures, not secrets
    statuses = []
    for status, share in SPREAD:
        statuses += [status] * round(share * interviews)
    statuses = (statuses + [InterviewStatus.NOT_PLANNED] * interviews)[:interviews]
    rng.shuffle(statuses)
    now = timezone.now()
    rows = []
    for n, (collaborator_id, status) in enumerate(zip(collaborator_ids, statuses, strict=True)):
        planned = status != InterviewStatus.NOT_PLANNED
        held = status in (InterviewStatus.HELD, InterviewStatus.CLOSING, InterviewStatus.CLOSED)
        written = status in (InterviewStatus.CLOSING, InterviewStatus.CLOSED)
        rows.append(
            Interview(
                campaign=campaign,
                collaborator_id=collaborator_id,
                manager_id=manager_ids[n % managers],
                status=status,
                scheduled_at=now - dt.timedelta(days=rng.randint(-20, 20)) if planned else None,
                held_at=now - dt.timedelta(days=rng.randint(5, 20)) if held else None,
                answers={
                    "bilan": f"Une année riche, projet {n}",
                    "note": rng.randint(1, 5),
                    "objectifs": [{"title": "Anglais", "rating": rng.randint(1, 5)}],
                }
                if written
                else {},
                submitted_at=now - dt.timedelta(days=4) if written else None,
                circuit=CIRCUIT,
                step=1 if status == InterviewStatus.CLOSING else None,
                step_started_at=now - dt.timedelta(days=2)
                if status == InterviewStatus.CLOSING
                else None,
                closed_at=now - dt.timedelta(days=1) if status == InterviewStatus.CLOSED else None,
                deleted_at=now if status == InterviewStatus.DELETED else None,
            )
        )
    for start in range(0, interviews, BATCH):
        Interview.objects.bulk_create(rows[start : start + BATCH], batch_size=BATCH)
    # the signatures of the write-ups in the circuit (one) and closed (three)
    events = []
    signed = Interview.objects.filter(
        campaign=campaign, status__in=[InterviewStatus.CLOSING, InterviewStatus.CLOSED]
    ).values_list("pk", "status", "collaborator_id", "manager_id")
    for pk, status, collaborator_id, manager_id in signed.iterator(BATCH):
        signers = [(0, "collaborator", collaborator_id)]
        if status == InterviewStatus.CLOSED:
            signers += [(1, "manager", manager_id), (2, "hr", admin.pk)]
        for position, role, by_id in signers:
            events.append(
                InterviewEvent(
                    interview_id=pk,
                    action=EventAction.SIGNED,
                    position=position,
                    role=role,
                    by_id=by_id,
                    at=now - dt.timedelta(days=3 - position),
                    reserve="Sur l'objectif 2" if position == 0 and pk % 7 == 0 else "",
                )
            )
    InterviewEvent.objects.bulk_create(events, batch_size=BATCH)
    # half the managers already reminded once about their interviews not planned
    sending = ReminderSending.objects.create(
        campaign=campaign, status=InterviewStatus.NOT_PLANNED, by=admin, at=now
    )
    ManagerReminder.objects.bulk_create(
        [
            ManagerReminder(
                sending=sending, campaign=campaign, manager_id=m, interview_ids=[], at=now
            )
            for m in manager_ids[::2]
        ],
        batch_size=BATCH,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Member, Interview, InterviewEvent, ManagerReminder):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    print(f"built in {time.perf_counter() - started:.1f} s")
    return campaign, admin


def captured(fn) -> list[tuple[str, None]]:
    """The SQL a figure sends, captured once as sent, to replay alone as its floor."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [(query["sql"], None) for query in ctx.captured_queries]


def sql_floor(queries: list[tuple[str, None]], repeat: int) -> float:
    def run() -> None:
        with connection.cursor() as cursor:
            for sql, params in queries:
                cursor.execute(sql, params)
                if cursor.description:
                    cursor.fetchall()

    return floor_ms(run, repeat)


def figure(label: str, fn, repeat: int, note: str = "") -> float:
    queries = captured(fn)
    ms = median_ms(fn, repeat)
    report(label, ms, sql_floor(queries, repeat), f"{len(queries)} queries {note}".strip())
    return ms


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interviews", type=int, default=20_000)
    parser.add_argument("--managers", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its steps, at INFO
    call_command("migrate", verbosity=0)
    campaign, admin = build(args.interviews, args.managers)
    campaign = Campaign.objects.select_related("organisation").get(pk=campaign.pk)
    stats = selectors.campaign_stats(campaign)
    print(f"database: {connection.vendor}; interviews: {args.interviews}; managers: "
          f"{args.managers}; statuses: {stats}")  # fmt: skip
    report_header(f"\n{connection.vendor} — medians of {args.repeat}; floor: the same SQL alone")
    results: dict[str, float] = {}

    results["stats"] = figure(
        "statistics (campaign_stats)", lambda: selectors.campaign_stats(campaign), args.repeat
    )

    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    url = reverse("campaigns:interviews", args=[campaign.pk])

    def page() -> None:
        response = client.get(url, {"status": InterviewStatus.PLANNED})
        assert response.status_code == 200, response.status_code

    quiet = logging.getLogger("django.request")
    quiet.disabled = True  # a page not built yet answers 500: say so below, not in a traceback
    try:
        page()
        label, list_fn = "« Détail entretiens » page, status planned", page
    except NotImplementedError:

        def list_fn() -> None:
            rows = selectors.interviews_of(campaign, status=InterviewStatus.PLANNED)
            list(rows[:50])
            rows.count()

        label = "grouped list, planned: first 50 + count"
        print("(campaigns:interviews is not built yet: its selector's first page instead)")
    finally:
        quiet.disabled = False
    results["list"] = figure(label, list_fn, args.repeat)
    figure(  # not a target: the search beside the filter, for comparison
        "grouped list, search « claire »: first 50 + count",
        lambda: (
            list(selectors.interviews_of(campaign, q="claire")[:50]),
            selectors.interviews_of(campaign, q="claire").count(),
        ),
        args.repeat,
    )

    for status in (InterviewStatus.NOT_PLANNED, InterviewStatus.HELD):
        recipients = selectors.reminder_recipients(campaign, status)
        results[f"remind {status}"] = figure(
            f"« Relancer » recipients, {status}",
            lambda status=status: selectors.reminder_recipients(campaign, status),
            args.repeat,
            f"· {len(recipients)} managers",
        )

    closed = Interview.objects.filter(campaign=campaign, status=InterviewStatus.CLOSED).first()
    if closed is not None:  # not a target: what one document of a PDF export costs
        report(
            "one closed interview's PDF (WeasyPrint)",
            median_ms(lambda: documents.interview_pdf(closed, language="fr"), 3),
            None,
        )

    interviews = Interview.objects.filter(campaign=campaign).order_by(
        "manager__last_name", "manager__first_name", "manager_id",
        "collaborator__last_name", "collaborator__first_name", "pk",
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "export.xlsx")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            count = exports.xlsx_write(
                campaign=campaign, interviews=interviews, path=path, language="fr"
            )
            seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        size = os.path.getsize(path)
    results["xlsx"] = seconds * 1000
    report(
        f"Excel export, {count} rows",
        seconds * 1000,
        None,
        f"{len(ctx.captured_queries)} queries · {size / 1e6:.1f} MB · "
        f"peak RSS {rss_before / 1024:.0f} → {rss_after / 1024:.0f} MB",
    )

    print("\ntargets:")
    for key, value in results.items():
        limit = 30_000 if key == "xlsx" else 200
        verdict = "ok" if value < limit else "OVER"
        print(f"  {key:<22} {value:>10.1f} ms  (< {limit} ms)  {verdict}")


if __name__ == "__main__":
    main()
