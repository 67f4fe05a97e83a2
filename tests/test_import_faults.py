"""The worker killed (SIGKILL) in the middle of an import, then the worker's clock and a new
worker: nothing lost, nothing done twice, the job finishes. The import is one transaction,
so the kill rolls it back; the uploaded rows stay in the job until that transaction commits;
the clock starts the job again once its heartbeat is older than COHORTE_JOB_STALE_SECONDS."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from cohorte.accounts.models import Member
from cohorte.core.models import AuditEntry, Job, JobStatus
from cohorte.messaging.models import Email

from .conftest import database_url, signed_in

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1_500
NEW = 20  # the others are already members: updated, not invited


def worker(tmp_path, name: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": "locmem://",
        "COHORTE_JOB_STALE_SECONDS": "1",
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
    }
    log = tmp_path / f"{name}.log"
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload"]
    command.append("--no-startup-delay")
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return process, log


def writing_members() -> bool:
    """Whether another connection is inside a transaction that writes members: the
    import's, between its first INSERT and its COMMIT."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'accounts_member' AND l.mode = 'RowExclusiveLock' "
                "AND l.pid <> pg_backend_pid()"
            )
            return cursor.fetchone() is not None
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True  # someone holds the write lock
    else:
        probe.rollback()
        return False
    finally:
        probe.close()


def start_import(admin) -> Job:
    Member.objects.bulk_create(
        Member(email=f"membre{n}@import.example", organisation_id=admin.organisation_id)
        for n in range(NEW, ROWS)
    )
    csv = "courriel;prénom;nom\n" + "".join(
        f"membre{n}@import.example;Prénom{n};Nom{n}\n" for n in range(ROWS)
    )
    client = signed_in(admin)
    response = client.post(
        "/membres/importer/", {"file": SimpleUploadedFile("m.csv", csv.encode())}
    )
    assert response.status_code == 302
    mapping_url = response["Location"]
    columns = client.get(mapping_url).context["columns"]
    data = {f"col_{index}": target for index, _name, target, _samples in columns}
    response = client.post(mapping_url, {**data, "go": "1", "invite": "1"})
    assert response.status_code == 302
    return Job.objects.get(kind="members_import")


def test_a_worker_killed_during_an_import_loses_nothing_and_does_nothing_twice(
    admin, settings, tmp_path
):
    settings.COHORTE_JOB_STALE_SECONDS = 1
    job = start_import(admin)
    first, log = worker(tmp_path, "first")
    started = time.monotonic()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and first.poll() is None:
            job.refresh_from_db()
            if job.done >= ROWS and writing_members():  # checked, now writing
                break
            time.sleep(0.01)
        assert first.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the import never began to write"
        first.send_signal(signal.SIGKILL)
        print(f"killed while writing, {time.monotonic() - started:.1f} s after the start")
        first.wait(timeout=30)
    finally:
        first.kill()

    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.attempts == 1
    assert sum(len(chunk.rows) for chunk in job.chunks.all()) == ROWS  # the upload survives
    imported = Member.objects.filter(email__endswith="@import.example")
    assert imported.count() == ROWS - NEW and not imported.exclude(first_name="").exists()
    assert not Email.objects.exists()
    assert not Job.objects.filter(kind="members_invite").exists()
    assert not AuditEntry.objects.filter(
        action__in=["members.imported", "member.imported"]
    ).exists()

    time.sleep(1.2)  # the heartbeat is now older than COHORTE_JOB_STALE_SECONDS
    from cohorte.activity.tasks import scheduler_tick

    scheduler_tick.enqueue()  # the worker's clock, which finds the job without a worker
    second, log = worker(tmp_path, "second")
    started = time.monotonic()
    try:
        while time.monotonic() - started < 90 and second.poll() is None:
            finished = Job.objects.filter(status__in=["done", "failed"])
            if finished.filter(pk=job.pk).exists() and (
                finished.filter(kind="members_invite").exists()
                or Job.objects.filter(pk=job.pk, status="failed").exists()
            ):
                break  # the import, then the one job that writes its invitations
            time.sleep(0.05)
    finally:
        second.terminate()  # it goes on sending the invitations: not this test's business
        second.wait(timeout=30)
    print(f"first run killed, second run finished in {time.monotonic() - started:.1f} s")

    job.refresh_from_db()
    assert job.is_finished, log.read_text()[-3000:]
    assert job.status == JobStatus.DONE, job.result
    assert job.attempts == 2
    assert job.result["created"] == NEW and job.result["updated"] == ROWS - NEW
    assert not job.chunks.exists() and "sample" not in job.payload  # gone with the commit
    emails = list(imported.values_list("email", flat=True))
    assert len(emails) == len(set(emails)) == ROWS
    assert not imported.filter(first_name="").exists()
    assert AuditEntry.objects.filter(action="members.imported").count() == 1
    assert AuditEntry.objects.filter(action="member.imported").count() == ROWS  # each history
    invite = Job.objects.get(kind="members_invite")  # one job for every invitation
    assert invite.status == JobStatus.DONE and invite.result["invited"] == NEW
    invitations = Email.objects.filter(to_email__endswith="@import.example")
    assert sorted(invitations.values_list("to_email", flat=True)) == sorted(
        f"membre{n}@import.example" for n in range(NEW)
    )  # one invitation for each new member, none twice
