"""Benchmark of the outbox with real `manage.py db_worker` processes and a real SMTP server
(aiosmtpd) on loopback in its own process: one worker, then two, send N e-mails; then one
of two workers is killed (SIGKILL) mid-batch and the server's Message-IDs are counted
against the outbox rows (lost, sent twice). Beside each figure, its floor: a bare smtplib
loop sending the same pre-built messages over one connection per worker, plus the bare
claim and mark statements for the same rows; and their ratio.

    .venv/bin/python bench/sending.py                 # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sending_bench .venv/bin/python bench/sending.py
    .venv/bin/python bench/sending.py --enqueue 20000 # « Envoyer » to 20,000 members
Options: --messages N (20,000), --workers 1,2 (configurations), --mark-every K
(COHORTE_EMAIL_MARK_EVERY for the workers), --no-kill, --profile (the sending of the first
configuration in this process under cProfile instead of a worker), --port (8170).
"""

import argparse
import cProfile
import datetime as dt
import os
import pstats
import re
import signal
import smtplib
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

# isort: split
from common import ROOT  # first: it sets Django up

# isort: split
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from cohorte.messaging import rendering, services
from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import Organisation
from cohorte.programs.services import organisation_create

VAR = ROOT / "var"
BODY_HTML = (
    "<p>Bonjour Élodie,</p><p>Le programme <strong>Lycées de Poitiers</strong> vous "
    "invite à la rencontre de rentrée, jeudi à 18 h, salle des Actes.</p>"
    '<ul><li>Accueil à 17 h 45</li><li>Présentation des binômes</li></ul><p><a href="'
    'https://cohorte.example/connexion/" rel="noopener noreferrer">Se connecter</a></p>'
) * 3
BODY_TEXT = rendering.text_of(BODY_HTML)
#: what the worker adds to each HTML body (the open pixel), as long
PIXEL = (
    '<img src="https://cohorte.example/m/o/MTIzNDU2:1vQxYz:abcdefghijklmnopqrstuvwxyz0123456789'
    'ABCDEFG.gif" width="1" height="1" alt="" style="display:block;border:0">'
)
#: the dead worker's rows are taken over after this (--claim-seconds)
CLAIM_SECONDS = 5


# --- The SMTP server, in its own process -----------------------------------------------------


def sink_main(port: int, path: str) -> None:
    """An aiosmtpd server that appends each accepted e-mail's Message-ID to `path`."""
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    message_id = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.MULTILINE | re.IGNORECASE)
    out = open(path, "ab", buffering=0)  # noqa: SIM115 — the process's life

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
            found = message_id.search(envelope.original_content or envelope.content)
            out.write((found.group(1) if found else b"-") + b"\n")
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


class SinkProcess:
    def __init__(self, port: int):
        self.port = port
        self.path = VAR / f"bench-sending-sink-{port}.txt"
        self.path.unlink(missing_ok=True)
        self.path.touch()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, __file__, "--sink", str(port), str(self.path)], cwd=ROOT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the SMTP server did not start") from None
                time.sleep(0.2)

    def ids(self) -> Counter[str]:
        return Counter(self.path.read_text().split())

    def count(self) -> int:
        return self.path.read_bytes().count(b"\n")

    def reset(self) -> None:
        self.path.write_bytes(b"")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


# --- The rows ---------------------------------------------------------------------------------


def organisation_id() -> int:
    organisation = Organisation.objects.filter(name="Bench envoi").first()
    if organisation is None:
        organisation, _ = organisation_create(
            name="Bench envoi",
            admin_email="bench.sending@cohorte.example",
            admin_password="bench-password-1",
        )
    return organisation.pk


def fill(org_id: int, count: int, tag: str) -> None:
    """`count` rows as a message to `count` people writes them (no attachment)."""
    Email.objects.filter(organisation_id=org_id).delete()
    if connection.vendor == "postgresql":
        # what autovacuum does between two sendings in production; the servers of our
        # machines and CI run with autovacuum off, where the log's dead rows would pile up
        # from one configuration to the next and slow every later one
        with connection.cursor() as cursor:
            cursor.execute("VACUUM messaging_email")
    rows = (
        Email(
            organisation_id=org_id,
            to_email=f"bench.{tag}.{n}@cohorte.example",
            to_name=f"Élodie Destinataire {n}",
            subject=f"Rencontre de rentrée : vous êtes attendu·e ({n})",
            body_text=BODY_TEXT,
            body_html=BODY_HTML,
        )
        for n in range(count)
    )
    with transaction.atomic():
        batch: list[Email] = []
        for row in rows:
            batch.append(row)
            if len(batch) == 2000:
                Email.objects.bulk_create(batch)
                batch = []
        Email.objects.bulk_create(batch)


def outbox_left(org_id: int) -> int:
    return Email.objects.filter(
        organisation_id=org_id, status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]
    ).count()


# --- Floors -----------------------------------------------------------------------------------


def floor_ms(fn, repeat: int = 1) -> float:
    """The floor's wall time in ms (bench/common.py gets one too; kept local here)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def report(label: str, ms: float, floor: float) -> None:
    print(f"  {label}: {ms:,.0f} ms, floor {floor:,.0f} ms, ratio {ms / floor:.2f}")


def prebuilt(org_id: int) -> list[tuple[str, bytes]]:
    """The rows' e-mails as the worker writes them, built beforehand."""
    sender = "noreply@cohorte.example"
    return [
        (
            row.to_email,
            rendering.wire_bytes(
                from_header=rendering.header_address(sender, "Cohorte"),
                to_header=rendering.header_address(row.to_email, row.to_name),
                subject=row.subject,
                message_id=row.message_id_header,
                text=row.body_text,
                html=f"<!doctype html><html><body>{row.body_html}{PIXEL}</body></html>",
            ),
        )
        for row in Email.objects.filter(organisation_id=org_id).order_by("pk").iterator()
    ]


def smtp_loop(port: int, messages: list[tuple[str, bytes]]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for to, data in messages:
            smtp.sendmail("noreply@cohorte.example", [to], data)


def smtp_floor_ms(port: int, messages: list[tuple[str, bytes]], workers: int) -> float:
    """A bare smtplib loop per worker (in its own process), the messages shared out."""
    if workers == 1:
        return floor_ms(lambda: smtp_loop(port, messages))
    import multiprocessing

    context = multiprocessing.get_context("fork")
    shares = [messages[n::workers] for n in range(workers)]

    def run() -> None:
        processes = [context.Process(target=smtp_loop, args=(port, share)) for share in shares]
        for process in processes:
            process.start()
        for process in processes:
            process.join()

    connection.close()  # no database connection shared with the children
    return floor_ms(run)


def async_commit(cursor) -> None:
    """As the worker's transactions do (COHORTE_EMAIL_ASYNC_COMMIT)."""
    from django.conf import settings

    if connection.vendor == "postgresql" and settings.COHORTE_EMAIL_ASYNC_COMMIT:
        cursor.execute("SET LOCAL synchronous_commit TO off")


def db_floor_ms(org_id: int, mark_every: int, batch: int) -> float:
    """The worker's statements alone for the same rows: claim `batch` (SELECT … FOR UPDATE
    SKIP LOCKED on PostgreSQL, then UPDATE to sending), mark them sent `mark_every` at a
    time (one UPDATE and commit each)."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    claim_until = timezone.now() + dt.timedelta(seconds=600)

    def run() -> None:
        with connection.cursor() as cursor:
            while True:
                now = timezone.now()
                with transaction.atomic():
                    async_commit(cursor)
                    cursor.execute(
                        "SELECT id FROM messaging_email WHERE status IN ('queued', 'sending') "
                        "AND ((status = 'queued' AND (next_attempt_at IS NULL OR "
                        "next_attempt_at <= %s)) OR (status = 'sending' AND claimed_until < %s))"
                        f" ORDER BY id LIMIT %s{skip_locked}",
                        [now, now, batch],
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                    if not ids:
                        return
                    marks = ",".join(["%s"] * len(ids))
                    cursor.execute(
                        "UPDATE messaging_email SET status = 'sending', claimed_until = %s, "
                        f"attempts = attempts + 1 WHERE id IN ({marks})",
                        [claim_until, *ids],
                    )
                for start in range(0, len(ids), mark_every):
                    chunk = ids[start : start + mark_every]
                    marks = ",".join(["%s"] * len(chunk))
                    with transaction.atomic():
                        async_commit(cursor)
                        cursor.execute(
                            "UPDATE messaging_email SET status = 'sent', sent_at = %s, "
                            "status_at = %s, claimed_until = NULL, last_error = '' "
                            f"WHERE id IN ({marks}) AND status = 'sending'",
                            [now, now, *chunk],
                        )

    return floor_ms(run)


# --- Workers ----------------------------------------------------------------------------------


def worker_env(port: int, args) -> dict[str, str]:
    return {
        **os.environ,
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "COHORTE_EMAIL_CLAIM_SECONDS": str(args.claim_seconds),
        "COHORTE_EMAIL_MARK_EVERY": str(args.mark_every),
        "COHORTE_EMAIL_CLAIM_BATCH": str(args.claim_batch),
    }


def start_workers(count: int, env: dict[str, str], tag: str) -> list[subprocess.Popen]:
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
    workers, logs = [], []
    for n in range(count):
        logs.append(VAR / f"bench-sending-worker-{tag}-{n}.log")
        with logs[-1].open("wb") as log:
            workers.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
            )
    deadline = time.monotonic() + 120
    while not all(b"Starting worker" in log.read_bytes() for log in logs):  # idle, polling
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise RuntimeError("a worker did not start: " + logs[0].read_text()[-2000:])
        time.sleep(0.1)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def wait_sent(org_id: int, deadline_s: float) -> float:
    """Seconds from now until no row of the bench is left to send."""
    started = time.perf_counter()
    while outbox_left(org_id):
        if time.perf_counter() - started > deadline_s:
            raise RuntimeError(f"still {outbox_left(org_id)} rows to send after {deadline_s} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def kick() -> None:
    """What a message's sending does after commit: one wake-up of the workers."""
    services.outbox_kick()


def run_configuration(args, org_id: int, sink: SinkProcess, workers: int) -> None:
    fill(org_id, args.messages, f"w{workers}")
    sink.reset()
    messages = prebuilt(org_id)
    smtp_ms = smtp_floor_ms(sink.port, messages, workers)
    db_ms = db_floor_ms(org_id, args.mark_every, args.claim_batch)
    fill(org_id, args.messages, f"w{workers}")
    sink.reset()
    env = worker_env(sink.port, args)
    processes = start_workers(workers, env, f"w{workers}")
    try:
        kick()
        seconds = wait_sent(org_id, 3600)
    finally:
        stop_workers(processes)
    ids = sink.ids()
    sent = Email.objects.filter(organisation_id=org_id, status=EmailStatus.SENT).count()
    floor = smtp_ms + db_ms / workers  # the database statements shared out among workers
    label = f"{workers} worker{'s' if workers > 1 else ''}"
    print(
        f"  {label}: {sent} sent in {seconds:.1f} s = {sent / seconds:,.0f} e-mails/s "
        f"({len(ids)} distinct Message-IDs received, {sum(ids.values()) - len(ids)} twice)"
    )
    print(
        f"    floor: smtplib loop {args.messages / smtp_ms * 1000:,.0f} e-mails/s "
        f"({smtp_ms:,.0f} ms), claim+mark statements {args.messages / db_ms * 1000:,.0f} "
        f"rows/s ({db_ms:,.0f} ms)"
    )
    report(f"{label} sending {args.messages}", seconds * 1000, floor)


def run_profile(args, org_id: int, sink: SinkProcess) -> None:
    from django.conf import settings

    from cohorte.settings import mailer_from_url

    fill(org_id, args.messages, "profile")
    sink.reset()
    settings.MAILERS = {"default": mailer_from_url(f"smtp://127.0.0.1:{sink.port}")}
    settings.COHORTE_EMAIL_MARK_EVERY = args.mark_every
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    sent = services.outbox_send(batch=args.claim_batch)
    profile.disable()
    seconds = time.perf_counter() - started
    print(f"  in this process under cProfile: {sent} in {seconds:.1f} s = {sent / seconds:,.0f}/s")
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(30)


def run_kill(args, org_id: int, sink: SinkProcess) -> None:
    """Two workers (one on SQLite is enough to show it; two is what production runs) send;
    one is killed when a third has left; the other goes on, and takes the dead one's rows
    over once their claim (--claim-seconds) has run out."""
    total = args.messages
    fill(org_id, total, "kill")
    sink.reset()
    env = worker_env(sink.port, args)
    processes = start_workers(2, env, "kill")
    woken = False
    try:
        kick()
        while sink.count() < total // 3:
            time.sleep(0.05)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        killed_at = time.perf_counter()
        received_at_kill = sink.count()
        # once the claim has run out, the survivor takes the rows over if it is still at
        # work; if it had finished, the scheduler's tick (outbox_wake, every 5 min) wakes it:
        # the bench does what the tick would do, without the wait
        while outbox_left(org_id):
            if time.perf_counter() - killed_at > args.claim_seconds + 2 and not woken:
                woken = services.outbox_wake()
            if time.perf_counter() - killed_at > 600:
                raise RuntimeError("rows left behind")
            time.sleep(0.1)
    finally:
        stop_workers(processes)
    ids = sink.ids()
    rows = Email.objects.filter(organisation_id=org_id)
    expected = set(rows.values_list("message_id_header", flat=True))
    sent = rows.filter(status=EmailStatus.SENT).count()
    twice = sum(n - 1 for n in ids.values() if n > 1)
    from django.conf import settings

    alongside = connection.vendor == "postgresql" and settings.COHORTE_EMAIL_MARK_ALONGSIDE
    window = (
        "at most 1 (marks written alongside the sending)"
        if alongside
        else f"at most {args.mark_every}"
    )
    lost = len(expected - set(ids)) + rows.exclude(status=EmailStatus.SENT).count()
    print(
        f"  kill: one of two workers killed (SIGKILL) after {received_at_kill} of {total} "
        f"e-mails; {'the tick woke the survivor; ' if woken else ''}{sent} rows sent, "
        f"{len(ids)} distinct Message-IDs received: lost {lost}, sent twice {twice} "
        f"(the window: rows accepted but not yet marked, {window} per killed worker)"
    )


def run_enqueue(args, org_id: int) -> None:
    """« Envoyer » on a message to `--enqueue` members: the step that writes one outbox
    row per recipient (in the request up to COHORTE_SEND_INLINE_MAX, in a worker beyond),
    timed with its query count; its floor is the bare insert of the same rows."""
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from cohorte.accounts.models import Member
    from cohorte.programs.models import Enrolment, Program, ProgramKind, Role

    count = args.enqueue
    today = timezone.localdate()
    program, _ = Program.objects.get_or_create(
        organisation_id=org_id,
        name=f"Bench envoi {count}",
        defaults={
            "kind": ProgramKind.choices[0][0],
            "start_date": today - dt.timedelta(days=30),
            "end_date": today + dt.timedelta(days=60),
            "objective": 4,
        },
    )
    have = Enrolment.objects.filter(program=program).count()
    if have < count:
        members = Member.objects.bulk_create(
            (
                Member(
                    email=f"bench.enqueue.{count}.{n}@cohorte.example",
                    password="!",
                    organisation_id=org_id,
                    first_name=f"Prénom{n}",
                    last_name=f"Nom{n}",
                    language="en" if n % 4 == 0 else "fr",
                )
                for n in range(have, count)
            ),
            batch_size=2000,
        )
        Enrolment.objects.bulk_create(
            (Enrolment(program=program, member=m, role=Role.MENTEE) for m in members),
            batch_size=2000,
        )
        with connection.cursor() as cursor:  # as autovacuum would after such an import
            cursor.execute("ANALYZE")
    admin = Member.objects.get(email="bench.sending@cohorte.example")
    message = services.message_save(
        organisation_id=org_id,
        program=program,
        draft=services.Draft(
            audience="all",
            subject_fr="Rencontre de rentrée, {prénom}",
            subject_en="Back-to-school meeting, {first_name}",
            body_fr=BODY_HTML.replace("Élodie", "{prénom}"),
            body_en="<p>Hello {first_name},</p>" + BODY_HTML,
        ),
        by=admin,
    )
    with CaptureQueriesContext(db) as queries:
        started = time.perf_counter()
        sent = services.message_send(message=message, by=admin)
        ms = (time.perf_counter() - started) * 1000
    rows = list(Email.objects.filter(message=message).order_by("pk"))
    Email.objects.filter(message=message).delete()
    for row in rows:
        row.pk = None
        row.message_id_header = row.message_id_header.replace("<", "<floor.")

    def insert() -> None:
        with transaction.atomic():
            Email.objects.bulk_create(rows, batch_size=2000)
            transaction.set_rollback(True)

    floor = floor_ms(insert)
    print(
        f"  enqueue: a message to {sent} members written to the outbox in {ms:,.0f} ms "
        f"with {len(queries)} queries (not one per recipient)"
    )
    report(f"enqueue {sent}", ms, floor)
    Email.objects.filter(message=message).delete()
    message.delete()


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--sink":
        sink_main(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--mark-every", type=int, default=20)
    parser.add_argument("--claim-batch", type=int, default=200)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--port", type=int, default=8170)
    parser.add_argument("--claim-seconds", type=int, default=CLAIM_SECONDS)
    parser.add_argument("--enqueue", type=int, default=0, help="only the enqueue step, N members")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    VAR.mkdir(exist_ok=True)
    org_id = organisation_id()
    print(
        f"{connection.vendor}: {args.messages} e-mails, mark every {args.mark_every}, "
        f"claims of {args.claim_batch}; SMTP server (aiosmtpd) on 127.0.0.1:{args.port} "
        "in its own process"
    )
    if args.enqueue:
        run_enqueue(args, org_id)
        return
    sink = SinkProcess(args.port)
    try:
        if args.profile:
            run_profile(args, org_id, sink)
            return
        for workers in [int(n) for n in args.workers.split(",") if n]:
            run_configuration(args, org_id, sink, workers)
        if not args.no_kill:
            run_kill(args, org_id, sink)
    finally:
        sink.stop()
        Email.objects.filter(organisation_id=org_id).delete()
        Path(sink.path).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
