"""A worker killed (SIGKILL) in the middle of a cycle end, then a new worker started the way
`make worker` starts one: nothing was half done, nothing is done twice, the job finishes
with exactly the plan the administrator confirmed.

The kill lands inside the cycle end's transaction, at a point the test knows for real:
- PostgreSQL: the test holds a row lock on the enrolment of a member about to be deleted;
  the worker has deactivated, archived and begun deleting when it waits for that row;
- SQLite (one writer, no row locks): the test watches the database's write lock; once the
  job is claimed and the worker holds the lock, the worker is frozen (SIGSTOP), the state
  checked, and the worker killed.
"""

import datetime as dt
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.core.models import AuditEntry, Job
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
from cohorte.programs.models import Enrolment, Role
from cohorte.reports.services import cycle_plan

from .conftest import database_url, signed_in

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

DOOMED, SHARED, PAST = 120, 10, 10


def build(organisation, program_a, program_b) -> list[Member]:
    """Programme A: 120 members with only A (deleted), 10 enrolled in B too (kept, active),
    10 who left B earlier with meetings there (kept, switched off). Each has events, a
    relationship and meetings in A: a cycle end that takes a moment."""
    now = timezone.now()
    members = Member.objects.bulk_create(
        [
            Member(
                organisation=organisation,
                email=f"m{n}@poitiers.example",
                first_name=f"M{n}",
                last_name="Cycle",
                password="!",
            )
            for n in range(DOOMED + SHARED + PAST)
        ]
    )
    shared, past = members[DOOMED : DOOMED + SHARED], members[DOOMED + SHARED :]
    Enrolment.objects.bulk_create(
        [Enrolment(program=program_a, member=m, role=Role.PARTICIPANT) for m in members]
        + [Enrolment(program=program_b, member=m, role=Role.MENTEE) for m in shared]
        + [Enrolment(program=program_b, member=m, role=Role.MENTEE, ended_at=now) for m in past]
    )
    Relationship.objects.bulk_create(
        [
            Relationship(program=program_a, mentor=members[n], mentee=members[n + 1])
            for n in range(0, len(members) - 1, 2)
        ]
    )
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(
                program=program_a if n < len(members) else program_b,
                starts_at=now - dt.timedelta(days=2, minutes=n),
                duration_minutes=30,
                status="confirmed",
            )
            for n in range(len(members) + len(past))
        ]
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meetings[n], member=m) for n, m in enumerate(members)]
        + [
            MeetingAttendee(meeting=meetings[len(members) + n], member=m)
            for n, m in enumerate(past)
        ]
    )
    ActivityEvent.objects.bulk_create(
        [
            ActivityEvent(
                program=program_a,
                actor=m,
                target=members[(n + 1) % len(members)],
                kind=EventKind.PROFILE_VIEW,
                occurred_at=now - dt.timedelta(hours=k),
            )
            for n, m in enumerate(members)
            for k in range(5)
        ],
        batch_size=2000,
    )
    return members


def snapshot():
    return (
        Member.objects.count(),
        sorted(Member.objects.filter(is_active=False).values_list("pk", flat=True)),
        Enrolment.objects.filter(ended_at__isnull=False).count(),
        Relationship.objects.count(),
        MeetingAttendee.objects.count(),
        ActivityEvent.objects.count(),
        AuditEntry.objects.count(),
    )


def worker_env(media):
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
        # the worker's clock takes a job whose heartbeat stopped a second ago for dead
        "COHORTE_JOB_STALE_SECONDS": "1",
    }


WORKER = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"]


def start_worker(env, log):
    return subprocess.Popen(WORKER, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def wait_for(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.002)
    raise AssertionError(f"timed out waiting for {what}")


def job_status(job_id):
    return Job.objects.filter(pk=job_id).values_list("status", flat=True).get()


class RowLock(threading.Thread):
    """PostgreSQL: a row held FOR UPDATE by another connection until released."""

    def __init__(self, model, pk):
        super().__init__(daemon=True)
        self.model, self.pk = model, pk
        self.held, self.release = threading.Event(), threading.Event()

    def run(self):
        from django.db import connection as own

        try:
            with transaction.atomic():
                self.model.objects.select_for_update().filter(pk=self.pk).exists()
                self.held.set()
                self.release.wait(120)
        finally:
            own.close()


def postgres_waiting_queries():
    """The statements of the sessions waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [row[0] for row in cursor.fetchall()]


def postgres_job_unlocked(job_id):
    """The killed worker's session has rolled back: nobody holds the job's row."""
    try:
        with transaction.atomic():
            list(Job.objects.select_for_update(nowait=True).filter(pk=job_id).values_list("pk"))
        return True
    except DatabaseError:
        return False


def sqlite_write_locked(path):
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def kill_in_the_middle(worker, job_id):
    """Returns once the worker is dead inside the cycle end's transaction."""
    if connection.vendor == "postgresql":
        return  # done by the caller around its row lock
    path = connection.settings_dict["NAME"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if job_status(job_id) == "running" and sqlite_write_locked(path):
            os.kill(worker.pid, signal.SIGSTOP)
            # frozen: the claim has committed and the writer is inside the transaction
            if job_status(job_id) == "running" and sqlite_write_locked(path):
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(10)
                return
            os.kill(worker.pid, signal.SIGCONT)
        assert worker.poll() is None, "the worker finished before it could be stopped"
        time.sleep(0.001)
    raise AssertionError("the worker never entered the cycle end")


def test_a_worker_killed_during_a_cycle_end_changes_nothing_and_a_new_one_finishes_it(
    settings, tmp_path, organisation, admin, program_a, program_b
):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    members = build(organisation, program_a, program_b)
    plan = cycle_plan(program=program_a, method="full")
    assert (plan.deleted, plan.kept_in_other_programmes, plan.deactivated) == (
        DOOMED,
        SHARED + PAST,
        PAST,
    )
    client = signed_in(admin)
    html = client.get(f"/programmes/{program_a.pk}/terminer-le-cycle/", {"method": "full"})
    assert plan.fingerprint in html.content.decode()
    before = snapshot()
    response = client.post(
        f"/programmes/{program_a.pk}/terminer-le-cycle/",
        {"method": "full", "confirm": "1", "plan": plan.fingerprint},
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="cycle_end")
    env = worker_env(media)
    logs = [(tmp_path / f"worker{n}.log").open("w+b") for n in range(2)]
    lock = None
    try:
        if connection.vendor == "postgresql":
            victim = Enrolment.objects.get(program=program_a, member=members[DOOMED - 1])
            lock = RowLock(Enrolment, victim.pk)
            lock.start()
            assert lock.held.wait(10)
        worker = start_worker(env, logs[0])
        if lock is not None:
            wait_for(postgres_waiting_queries, "the worker to reach the deletions")
            # it has deactivated, built the archive, and waits to delete the enrolments
            assert [q.split()[0] for q in postgres_waiting_queries()] == ["DELETE"]
            assert job_status(job.pk) == "running"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
            lock.release.set()
            lock.join(10)
            wait_for(lambda: postgres_job_unlocked(job.pk), "the killed session to roll back")
        else:
            kill_in_the_middle(worker, job.pk)
        assert worker.returncode == -signal.SIGKILL

        # killed: the job is left « running », and nothing of the cycle end happened
        assert job_status(job.pk) == "running"
        assert snapshot() == before
        assert not list(media.rglob("*.zip"))

        # a new worker, started as `make worker` does: `scheduler_start` (here in the test's
        # process, to spare a start-up), then `db_worker`, whose first task is the clock's
        # tick; it finds the job's heartbeat stopped and starts the job again
        wait_for(
            lambda: (
                Job.objects.get(pk=job.pk).heartbeat_at < timezone.now() - dt.timedelta(seconds=1.5)
            ),
            "the heartbeat to be stale",
        )
        call_command("scheduler_start", stdout=io.StringIO())
        second = start_worker(env, logs[1])
        second.wait(timeout=120)
        logs[1].seek(0)
        output = logs[1].read().decode(errors="replace")
        assert second.returncode == 0, output[-3000:]
    finally:
        if lock is not None:
            lock.release.set()
        for log in logs:
            log.close()
        for process in ("worker", "second"):
            running = locals().get(process)
            if running is not None and running.poll() is None:
                running.kill()

    job.refresh_from_db()
    assert job.status == "done", job.result
    assert job.result["done"] == job.payload["plan"] == plan.actions()
    assert job.attempts == 2  # the killed run, then the one that finished
    ids = [m.pk for m in members]
    remaining = set(Member.objects.filter(pk__in=ids).values_list("pk", flat=True))
    assert remaining == set(plan.actions()["leave"])
    assert set(
        Member.objects.filter(pk__in=ids, is_active=False).values_list("pk", flat=True)
    ) == set(plan.actions()["deactivate"])
    assert (
        not Enrolment.objects.filter(program=program_a, ended_at__isnull=True)
        .exclude(member=admin)
        .filter(member_id__in=ids)
        .exists()
    )
    assert MeetingAttendee.objects.filter(meeting__program=program_b).count() == PAST  # B's
    # exactly once
    assert AuditEntry.objects.filter(action="cycle.ended").count() == 1
    assert AuditEntry.objects.filter(action="member.deleted").count() == DOOMED
    assert AuditEntry.objects.filter(action="member.deactivated").count() == PAST
    assert AuditEntry.objects.filter(action="enrolment.ended").count() == SHARED + PAST
    assert len(list(media.rglob("*.zip"))) == 1
