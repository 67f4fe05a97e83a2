"""Benchmark of the outbox: one real worker process sends 20,000 messages to a local SMTP
sink (aiosmtpd on loopback); then a worker is killed mid-batch and another restarted, and
the sink counts duplicates and losses.

    .venv/bin/python bench/sending.py                 # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/sending.py
Options: --messages N
"""

import argparse
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes

# isort: split
from common import ROOT  # first: it sets Django up

# isort: split
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cohorte.messaging.models import Email, EmailStatus
from cohorte.messaging.tasks import outbox_send
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create


class Sink:
    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
        message = message_from_bytes(envelope.original_content or envelope.content)
        self.ids[message["Message-ID"]] += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill(organisation_id: int, count: int, tag: str) -> None:
    Email.objects.bulk_create(
        [
            Email(
                organisation_id=organisation_id,
                to_email=f"bench.{tag}.{n}@cohorte.example",
                to_name=f"Destinataire {n}",
                subject=f"Bench {tag} {n}",
                body_text="Bonjour,\n\nCeci est un message de test du banc d'essai.\n" * 5,
                body_html="<p>Bonjour,</p><p>Ceci est un message de test du banc d'essai.</p>" * 5,
            )
            for n in range(count)
        ],
        batch_size=2000,
    )


def worker(port: int) -> subprocess.Popen:
    env = {**os.environ, "EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    command = [
        sys.executable,
        "manage.py",
        "db_worker",
        "--batch",
        "--no-reload",
        "--no-startup-delay",
    ]
    return subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    organisation = Organisation.objects.filter(name="Bench envoi").first()
    if organisation is None:
        organisation, _ = organisation_create(
            name="Bench envoi",
            admin_email="bench.sending@cohorte.example",
            admin_password="bench-password-1",
        )
    Email.objects.filter(organisation_id=organisation.pk).delete()
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print(f"{connection.vendor}: {args.messages} messages, one worker, SMTP sink on loopback")
        fill(organisation.pk, args.messages, "a")
        outbox_send.enqueue()
        started = time.perf_counter()
        process = worker(port)
        process.wait()
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        sent = Email.objects.filter(
            organisation_id=organisation.pk, status=EmailStatus.SENT
        ).count()
        print(
            f"  sent {sent} in {elapsed:.1f} s: {sent / elapsed:.0f} messages/s "
            "(process start included)"
        )
        print(f"  worker peak memory (max RSS): {peak_mb:.0f} MB")

        # A worker killed mid-batch, then another started after its claim ran out.
        killed_count = args.messages // 4
        fill(organisation.pk, killed_count, "b")
        outbox_send.enqueue()
        process = worker(port)
        time.sleep(1.5)
        process.send_signal(signal.SIGKILL)
        process.wait()
        stranded = Email.objects.filter(
            organisation_id=organisation.pk, status=EmailStatus.SENDING
        ).count()
        before = sum(sink.ids.values())
        # the dead worker's claim lasts 10 minutes; let that time pass
        Email.objects.filter(status=EmailStatus.SENDING).update(claimed_until=timezone.now())
        outbox_send.enqueue()
        worker(port).wait()
        rows = Email.objects.filter(organisation_id=organisation.pk)
        duplicates = sum(count - 1 for count in sink.ids.values() if count > 1)
        lost = rows.exclude(status=EmailStatus.SENT).count()
        print(
            f"  killed a worker mid-batch ({before - args.messages} of {killed_count} sent, "
            f"{stranded} rows claimed and stranded), restarted another:"
        )
        print(
            f"  {len(sink.ids)} distinct Message-IDs received, {duplicates} duplicate(s), "
            f"{lost} left unsent"
        )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
