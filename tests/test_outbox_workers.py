"""Two worker processes send the same outbox at once (PostgreSQL with SKIP LOCKED in CI,
SQLite's single writer locally): every message leaves exactly once, none is left behind."""

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from cohorte.messaging import services
from cohorte.messaging.models import Email, EmailStatus

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_send_each_message_once(organisation, smtp, tmp_path):
    port = settings.MAILERS["default"]["OPTIONS"]["port"]
    for n in range(300):
        services.email_enqueue(
            organisation_id=organisation.pk,
            member=None,
            to_email=f"r{n}@x.example",
            subject=f"n°{n}",
            text="…",
        )
    for _ in range(6):  # several wake-ups: both workers get some
        services.outbox_kick()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
    }
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--batch",
        "--no-reload",
        "--no-startup-delay",
    ]
    logs = [(tmp_path / f"worker{n}.log").open("w+b") for n in range(2)]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        for log in logs
    ]
    deadline = time.monotonic() + 120
    try:
        for worker in workers:
            worker.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        for worker in workers:
            worker.kill()
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read().decode(errors="replace"))
        log.close()
    assert [w.returncode for w in workers] == [0, 0], [output[-2000:] for output in outputs]
    assert all("outbox_send state=SUCCESSFUL" in output for output in outputs)  # both worked
    ids = Counter(m["Message-ID"] for m in smtp)
    assert len(ids) == 300 and max(ids.values()) == 1  # none twice
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}  # none left
    assert set(ids) == set(Email.objects.values_list("message_id_header", flat=True))
