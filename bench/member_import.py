"""Benchmark of « Importer des membres » at its row limit.

Builds a CSV and an .xlsx of N rows (10,000: COHORTE_IMPORT_MAX_ROWS) with three custom
fields (free text, one choice, several choices), a fifth of them already members (updated,
not created), then runs the whole import as a person does it: the upload page, the mapping
page, and the background task as the worker runs it (django-tasks-db's db_worker). Prints
the time of each step, the SQL floor (a bulk insert of the same member rows alone) and the
ratio, and the queries of the task.

    .venv/bin/python bench/member_import.py                # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imports_bench \\
        .venv/bin/python bench/member_import.py
Options: --rows N --repeat R --profile (cProfile of the task, top functions)
"""

import argparse
import cProfile
import io
import pstats
import statistics
import time

# isort: split
from common import ROOT  # noqa: F401 — first: it sets Django up

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook

from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.db import rows_insert
from cohorte.core.models import AuditEntry, Job
from cohorte.messaging.models import Email
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create

NAME = "Bench import"
PREFIX = "bench.import."
HEADER = [
    "Courriel",
    "Prénom",
    "Nom",
    "Rôle",
    "Langue",
    "Ville",
    "Intitulé du poste",
    "Années d'expérience",
    "Couleur",
    "Sports",
    "Devise",
]
ROLES = ["mentor", "mentoré", "mentor et mentoré"]


def organisation_get() -> Organisation:
    organisation = Organisation.objects.filter(name=NAME).first()
    if organisation is None:
        organisation, _admin = organisation_create(
            name=NAME, admin_email="bench.import@cohorte.example", admin_password="bench-pass-1"
        )
        CustomField.objects.create(
            organisation=organisation, name_fr="Couleur", options="Rouge, Vert, Bleu", order=1
        )
        CustomField.objects.create(
            organisation=organisation,
            name_fr="Sports",
            options="Hockey, Soccer, Tennis, Voile",
            multiple=True,
            order=2,
        )
        CustomField.objects.create(organisation=organisation, name_fr="Devise", order=3)
    return organisation


def table(rows: int) -> list[list[object]]:
    return [
        [
            f"{PREFIX}{n}@cohorte.example",
            f"Prénom{n}",
            f"Nom{n % 1009}",
            ROLES[n % 3],
            "en" if n % 4 == 0 else "fr",
            "Lyon",
            "Ingénieure",
            n % 40,
            ["Rouge", "Vert", "Bleu"][n % 3],
            "Hockey, Voile" if n % 2 else "Tennis",
            f"=SOMME(A{n})" if n % 500 == 0 else f"Toujours plus loin {n}",
        ]
        for n in range(rows)
    ]


def as_csv(lines: list[list[object]]) -> bytes:
    out = [";".join(HEADER)]
    out += [
        ";".join(f'"{cell}"' if "," in str(cell) else str(cell) for cell in line) for line in lines
    ]
    return ("\n".join(out) + "\n").encode("utf-8-sig")


def as_xlsx(lines: list[list[object]]) -> bytes:
    """As Excel writes it: the texts in the shared strings table."""
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for line in lines:
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def reset(organisation: Organisation, rows: int) -> None:
    """Before each run: only the fifth of the rows that are already members exist."""
    Member.objects.filter(organisation=organisation, email__startswith=PREFIX).delete()
    Job.objects.filter(
        organisation_id=organisation.pk, kind__in=["members_import", "members_invite"]
    ).delete()
    AuditEntry.objects.filter(organisation_id=organisation.pk).delete()
    Email.objects.filter(organisation_id=organisation.pk).delete()
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).delete()  # unsent: not ours
    password = make_password(None)
    Member.objects.bulk_create(
        [
            Member(
                organisation=organisation,
                email=f"{PREFIX}{n}@cohorte.example",
                password=password,
                city="Ancienne",
            )
            for n in range(0, rows, 5)
        ],
        batch_size=2000,
    )


def floor_rows(organisation: Organisation, lines: list[list[object]]) -> list[dict]:
    password = make_password(None)
    return [
        {
            "organisation_id": organisation.pk,
            "email": f"floor.{line[0]}",
            "first_name": str(line[1]),
            "last_name": str(line[2]),
            "role": "mentor",
            "language": str(line[4]),
            "city": str(line[5]),
            "job_title": str(line[6]),
            "years_experience": int(str(line[7])),
            "password": password,
        }
        for line in lines
    ]


def sql_floor(organisation: Organisation, lines: list[list[object]]) -> tuple[float, float]:
    """The same member rows inserted alone, in one transaction rolled back: the
    way the import writes them (COPY on PostgreSQL, executemany on SQLite; the SQL floor),
    and by Django's bulk_create."""
    rows = floor_rows(organisation, lines)
    started = time.perf_counter()
    with transaction.atomic():
        rows_insert(Member, rows)
        floor = time.perf_counter() - started
        transaction.set_rollback(True)
    members = [Member(**row) for row in rows]
    started = time.perf_counter()
    with transaction.atomic():
        Member.objects.bulk_create(members, batch_size=2000)
        orm = time.perf_counter() - started
        transaction.set_rollback(True)
    return floor, orm


def run_once(client: Client, name: str, data: bytes, profile: bool) -> dict:
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    started = time.perf_counter()
    response = client.post("/membres/importer/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    uploaded = time.perf_counter()
    mapping_url = response["Location"]
    page = client.get(mapping_url)
    assert page.status_code == 200
    choices = {f"col_{i}": target for i, _name, target, _samples in page.context["columns"]}
    response = client.post(mapping_url, {**choices, "go": "1", "invite": "1"})
    assert response.status_code == 302, response.content.decode()[-2000:]
    mapped = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        call_command(  # the oldest task: the import (the outbox's come after it)
            "db_worker", "--max-tasks", "1", "--no-reload", "--no-startup-delay", verbosity=0
        )
    if profiler:
        profiler.disable()
    finished = time.perf_counter()
    job = Job.objects.filter(kind="members_import").latest("pk")
    assert job.status == "done", job.result
    if profiler:
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(r"cohorte|openpyxl|csv|execute", 30)
        stats.sort_stats("tottime").print_stats(15)
        print(text.getvalue())
    return {
        "upload": uploaded - started,
        "mapping": mapped - uploaded,
        "task": finished - mapped,
        "total": finished - started,
        "queries": len(queries),
        "created": job.result["created"],
        "updated": job.result["updated"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client then gives each page's context
    organisation = organisation_get()
    admin = organisation.members.get(is_org_admin=True)
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    lines = table(args.rows)
    files = {"csv": ("membres.csv", as_csv(lines)), "xlsx": ("membres.xlsx", as_xlsx(lines))}
    floors = [sql_floor(organisation, lines) for _ in range(args.repeat)]
    floor = statistics.median(sql for sql, _orm in floors)
    orm = statistics.median(orm for _sql, orm in floors)
    print(
        f"\n{connection.vendor}, {args.rows} rows ({args.rows // 5} already members), "
        f"3 custom fields, invitations on — medians of {args.repeat}"
    )
    print(
        f"  SQL floor: the {args.rows} member rows written alone "
        f"({'COPY' if connection.vendor == 'postgresql' else 'executemany'}) "
        f"{floor * 1000:7.0f} ms; Django's bulk_create of the same rows {orm * 1000:7.0f} ms"
    )
    for kind, (name, data) in files.items():
        runs = []
        for attempt in range(args.repeat):
            reset(organisation, args.rows)
            runs.append(run_once(client, name, data, args.profile and attempt == 0))
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"  {kind:<4} {len(data) / 1e6:4.1f} MB: total {median['total']:5.2f} s "
            f"(upload {median['upload']:4.2f} s, mapping {median['mapping']:4.2f} s, "
            f"task {median['task']:4.2f} s)  ratio to floor {median['total'] / floor:5.1f}  "
            f"task queries {median['queries']:.0f}  "
            f"created {median['created']:.0f}, updated {median['updated']:.0f}"
        )
    reset(organisation, 0)
    CustomFieldValue.objects.filter(member__organisation=organisation).delete()


if __name__ == "__main__":
    main()
