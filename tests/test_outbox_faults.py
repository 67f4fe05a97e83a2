"""Faults during sending, with real processes: a `manage.py db_worker` subprocess, a real
SMTP server on loopback (aiosmtpd, a little slow so the fault lands mid-batch), the real
database (SQLite or PostgreSQL, whichever the run uses).

(a) The worker is killed (SIGKILL) while it sends, then the worker is started again as
    `make worker` does (scheduler_start, db_worker): nothing is lost, and nothing leaves
    twice but the rows the server had accepted and the worker had not yet written « sent »
    (the outbox's documented limit): with COHORTE_EMAIL_MARK_EVERY=1, or on PostgreSQL where
    a companion thread writes each mark as the server accepts the e-mail, at most the one on
    the wire; with marks written a few at a time exactly those of the unwritten marks.
(b) The database goes away briefly while the worker sends (PostgreSQL: its connections
    terminated with pg_terminate_backend; SQLite: another connection holds an exclusive
    lock): the worker tries again, every row is sent, none twice."""

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from cohorte.activity.tasks import tick_schedule
from cohorte.messaging import services
from cohorte.messaging.models import Email, EmailStatus

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)

CLAIM_SECONDS = 2


class SlowSink:
    """Keeps the Message-ID of every e-mail it accepted; each takes `delay` seconds."""

    def __init__(self, delay: float):
        self.delay = delay
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        from email import message_from_bytes

        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.ids[message["Message-ID"]] += 1
        await asyncio.sleep(self.delay)
        return "250 OK"

    def count(self) -> int:
        with self.lock:
            return sum(self.ids.values())


@pytest.fixture
def sink():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = SlowSink(delay=0.05)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    try:
        yield handler
    finally:
        controller.stop()


def fill(organisation, count: int) -> None:
    Email.objects.bulk_create(
        Email(
            organisation_id=organisation.pk,
            to_email=f"r{n}@x.example",
            subject=f"n°{n}",
            body_text="…",
            message_id_header=f"<fault-{n}@cohorte.example>",
        )
        for n in range(count)
    )
    services.outbox_kick()  # one wake-up, as a message's sending does


def worker_env(sink, mark_every: int, alongside: bool = True) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
        "COHORTE_EMAIL_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "COHORTE_EMAIL_MARK_EVERY": str(mark_every),
        "COHORTE_EMAIL_MARK_SECONDS": "5",
        "COHORTE_EMAIL_MARK_ALONGSIDE": "1" if alongside else "0",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def start_worker(
    sink, log: Path, *, batch: bool, mark_every: int = 1, alongside: bool = True
) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    if batch:
        command.append("--batch")
    env = worker_env(sink, mark_every, alongside)
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def statuses() -> Counter[str]:
    return Counter(Email.objects.values_list("status", flat=True))


def test_a_worker_killed_while_sending_loses_nothing_and_doubles_at_most_one(
    organisation, sink, tmp_path
):
    total = 50
    fill(organisation, total)
    # PostgreSQL: marks of 20 at a time, but written alongside the sending as each e-mail is
    # accepted (the default there); SQLite: one commit per e-mail
    mark_every = 20 if connection.vendor == "postgresql" else 1
    first = start_worker(sink, tmp_path / "killed.log", batch=False, mark_every=mark_every)
    try:
        wait_for(lambda: sink.count() >= 10, 30, "the first e-mails")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    at_kill = statuses()
    sent_before = sink.count()
    assert 10 <= sent_before < total, sent_before
    assert at_kill[EmailStatus.SENDING] > 0 and not at_kill[EmailStatus.FAILED], at_kill
    in_flight = sent_before - at_kill[EmailStatus.SENT]
    assert in_flight in (0, 1), (sent_before, at_kill)

    time.sleep(CLAIM_SECONDS + 0.5)  # the dead worker's claim runs out
    tick_schedule()  # `make worker` books the clock (scheduler_start), then works
    second = start_worker(sink, tmp_path / "restarted.log", batch=True, mark_every=mark_every)
    try:
        second.wait(timeout=60)
    finally:
        second.kill()
    assert second.returncode == 0, (tmp_path / "restarted.log").read_text()[-3000:]

    assert statuses() == {EmailStatus.SENT: total}  # nothing lost
    expected = set(Email.objects.values_list("message_id_header", flat=True))
    assert set(sink.ids) == expected  # every one arrived
    doubled = [mid for mid, n in sink.ids.items() if n > 1]
    assert len(doubled) <= in_flight and max(sink.ids.values()) <= 2  # the in-flight one only


def test_a_worker_killed_between_marks_sends_again_exactly_the_rows_it_had_not_marked(
    organisation, sink, tmp_path
):
    total, mark_every = 50, 5
    fill(organisation, total)
    first = start_worker(
        sink, tmp_path / "killed.log", batch=False, mark_every=mark_every, alongside=False
    )
    try:
        wait_for(lambda: sink.count() >= 12, 30, "the first e-mails")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    with sink.lock:
        accepted = set(sink.ids)
    marked = set(
        Email.objects.filter(status=EmailStatus.SENT).values_list("message_id_header", flat=True)
    )
    assert marked <= accepted and 12 <= len(accepted) < total, (len(marked), len(accepted))
    unmarked = accepted - marked  # the server had them, the worker had not written « sent »
    assert len(unmarked) <= mark_every, unmarked

    time.sleep(CLAIM_SECONDS + 0.5)
    tick_schedule()
    second = start_worker(
        sink, tmp_path / "restarted.log", batch=True, mark_every=mark_every, alongside=False
    )
    try:
        second.wait(timeout=60)
    finally:
        second.kill()
    assert second.returncode == 0, (tmp_path / "restarted.log").read_text()[-3000:]
    assert statuses() == {EmailStatus.SENT: total}  # nothing lost
    assert set(sink.ids) == set(Email.objects.values_list("message_id_header", flat=True))
    assert {mid for mid, n in sink.ids.items() if n > 1} == unmarked  # those, and only those
    assert max(sink.ids.values()) <= 2


def _cut_postgres(stop: threading.Event, cuts: list[int]) -> None:
    """Terminate every other connection to the test database, three times, 0.4 s apart."""
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as admin:
        for _ in range(3):
            if stop.is_set():
                return
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            ).fetchone()
            cuts.append(killed[0] if killed else 0)
            time.sleep(0.4)


def _lock_sqlite(stop: threading.Event, cuts: list[int]) -> None:
    """Hold the database's write lock for 3 s: the worker cannot write meanwhile."""
    other = sqlite3.connect(settings.DATABASES["default"]["NAME"], timeout=10, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")
        cuts.append(1)
        stop.wait(3)
        other.execute("COMMIT")
    finally:
        other.close()


def test_the_database_briefly_away_while_sending_loses_nothing(organisation, sink, tmp_path):
    total = 80
    fill(organisation, total)
    worker = start_worker(sink, tmp_path / "worker.log", batch=True)
    stop, cuts = threading.Event(), []
    cut = _cut_postgres if connection.vendor == "postgresql" else _lock_sqlite
    try:
        wait_for(lambda: sink.count() >= 10, 30, "the first e-mails")
        outage = threading.Thread(target=cut, args=(stop, cuts))
        outage.start()
        outage.join(timeout=15)
        worker.wait(timeout=60)
    finally:
        stop.set()
        worker.kill()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert cuts and sum(cuts) >= 1, cuts  # the outage did happen
    assert worker.returncode == 0, log[-3000:]
    if connection.vendor == "postgresql":
        assert "database unavailable" in log, log[-3000:]  # the worker saw it and went on
    connection.close()  # ours may have been cut too
    assert statuses() == {EmailStatus.SENT: total}, statuses()  # none lost
    expected = set(Email.objects.values_list("message_id_header", flat=True))
    assert set(sink.ids) == expected and max(sink.ids.values()) == 1  # none twice
