"""Cohorte under load, the way it runs in production: PostgreSQL and Redis, two app servers
(gunicorn, DEBUG off) and two background workers on loopback, a real SMTP server, 50
managers in browsers and an API client at once — and half-way through, one app server and
one worker killed (SIGKILL). It stops by itself (time and request caps), then counts from
the database what was lost or doubled.

    make load                                  # 50 managers, 3 minutes, kill at half time
    .venv/bin/python bench/load/run.py --users 5 --run-time 10 --no-kill   # a smoke run
Options: --users N --run-time S --max-requests N --participants N --events N --no-kill
         --drain-timeout S --rebuild. DATABASE_URL (postgres://…/load_bench by default) names
         the run's database; REDIS_URL (redis://127.0.0.1:6379/0) the cache.

What it does, in order:
1. checks PostgreSQL and Redis answer, and says which is missing if not;
2. builds the data set once (bench/load/dataset.py) into `<db>_seed_<sizes>`, then copies
   it to `<db>` (createdb -T is a file copy: every run starts from the same state);
3. starts the SMTP sink (its own process), two gunicorn servers (2 processes each), two
   `db_worker`s, books the scheduler's tick, and schedules one message to every participant
   of the big programme (20,000): a worker renders it into the outbox, both send it;
4. runs locust headless (bench/load/locustfile.py) and, at half time, SIGKILLs the second
   app server's and the second worker's whole process groups;
5. waits (bounded) for the outbox to drain, stops everything, counts and prints the report.

The scheduler's tick books itself every 5 minutes in production; here this script enqueues
it every 10 seconds so that what the killed worker left (its claimed rows, once the claim
runs out — 60 s here, COHORTE_EMAIL_CLAIM_SECONDS) is picked up within the run.
"""

import argparse
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

PORT_BASE = 8190  # two app servers, then the SMTP sink: 8190, 8191, 8192
CLOCK_SECONDS = 10
CLAIM_SECONDS = 60


def say(text: str = "") -> None:
    print(text, flush=True)


class Missing(Exception):
    """Something the load test needs is not there: the message says what and how to fix."""


# --- 1. PostgreSQL and Redis ----------------------------------------------------------------


def database_urls(url: str, sizes: str) -> tuple[str, str, str]:
    """(run database, its seed, the server's maintenance database) from DATABASE_URL."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        raise Missing(
            f"DATABASE_URL={shown(url)}: the load test runs on PostgreSQL only "
            "(postgres://user@host:port/name)."
        )
    name = parsed.path.lstrip("/") or "load_bench"

    def named(db: str) -> str:
        return urlunparse(parsed._replace(path=f"/{db}"))

    return named(name), named(f"{name}_seed_{sizes}"), named("postgres")


def shown(url: str) -> str:
    """An address as it may be printed: without its password."""
    parsed = urlparse(url)
    if parsed.password:
        parsed = parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@"))
    return urlunparse(parsed)


def check_services(admin_url: str, redis_url: str) -> None:
    import psycopg
    import redis

    problems = []
    try:
        psycopg.connect(admin_url, connect_timeout=5, autocommit=True).close()
    except psycopg.Error as error:
        problems.append(
            f"PostgreSQL does not answer at {shown(admin_url)} ({str(error).strip()}). Start it "
            "(e.g. `sudo service postgresql start`) or set DATABASE_URL=postgres://user@host:"
            "port/load_bench."
        )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        problems.append(
            f"Redis does not answer at {shown(redis_url)} ({error}). Start it (e.g. `sudo service "
            "redis-server start`) or set REDIS_URL=redis://host:port/0."
        )
    if problems:
        raise Missing("\n".join(problems))


def admin_sql(admin_url: str, *statements: str) -> list:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        rows: list = []
        for statement in statements:
            cursor = connection.execute(statement)
            if cursor.description:
                rows = cursor.fetchall()
        return rows


def db_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


# --- 2. The data set --------------------------------------------------------------------


def prepare_database(args, run_url: str, seed_url: str, admin_url: str) -> None:
    seed, run = db_name(seed_url), db_name(run_url)
    exists = admin_sql(admin_url, f"SELECT 1 FROM pg_database WHERE datname = '{seed}'")
    if exists and args.rebuild:
        admin_sql(admin_url, f'DROP DATABASE "{seed}" WITH (FORCE)')
        exists = []
    if not exists:
        building = f"{seed}_building"
        say(f"building the data set into {seed} (once; later runs copy it)…")
        admin_sql(
            admin_url,
            f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)',
            f'CREATE DATABASE "{building}"',
        )
        env = {**os.environ, "DATABASE_URL": seed_url.replace(f"/{seed}", f"/{building}")}
        command = [
            sys.executable,
            str(HERE / "dataset.py"),
            f"--participants={args.participants}",
            f"--events={args.events}",
            f"--managers={args.users}",
        ]
        if subprocess.run(["nice", "-n", "10", *command], env=env, cwd=ROOT).returncode:  # noqa: S603, S607
            admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            raise Missing("the data set could not be built (see above); nothing was kept.")
        admin_sql(admin_url, f'ALTER DATABASE "{building}" RENAME TO "{seed}"')
    started = time.perf_counter()
    admin_sql(
        admin_url,
        f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)',
        f'CREATE DATABASE "{run}" TEMPLATE "{seed}"',
    )
    say(f"database {run}: a copy of {seed} ({time.perf_counter() - started:.1f} s)")


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # the seed may predate the newest migrations


def prepare_run(args, run_id: str) -> dict:
    """Accounts, the API token and the message, straight from the database."""
    from dataset import BIG, MANAGER_EMAIL, MANAGER_PASSWORD, ORGANISATION
    from django.db import transaction
    from django.utils import timezone

    from cohorte.accounts.api_auth import token_issue
    from cohorte.accounts.selectors import members_visible_to
    from cohorte.messaging import services as messaging
    from cohorte.messaging.models import Audience
    from cohorte.programs.models import PARTICIPANT_ROLES, Organisation, Program

    organisation = Organisation.objects.get(name=ORGANISATION)
    big = Program.objects.get(organisation=organisation, name=BIG)
    admin = organisation.members.get(is_org_admin=True)
    programs = {p.pk: p for p in Program.objects.filter(organisation=organisation).order_by("pk")}
    small = [pk for pk in programs if pk != big.pk]
    managers = []
    for k in range(args.users):
        member = organisation.members.get(email=MANAGER_EMAIL.format(k=k))
        program = member.managed_programs.get()
        participants = program.enrolments.filter(role__in=PARTICIPANT_ROLES).count()
        managers.append(
            {
                "email": member.email,
                "password": MANAGER_PASSWORD.format(k=k),
                "program": program.pk,
                "participants": participants,
                "members": members_visible_to(member).count(),
                "foreign_program": big.pk if program.pk != big.pk else small[k % len(small)],
            }
        )
    with transaction.atomic():
        message = messaging.message_save(
            organisation_id=organisation.pk,
            program=big,
            by=admin,
            draft=messaging.Draft(
                audience=Audience.MENTEES,
                subject_fr=f"Point d'étape, {{prénom}} ({run_id})",
                subject_en=f"Progress check, {{first_name}} ({run_id})",
                body_fr="<p>Bonjour {prénom},</p><p>Le programme <strong>{programme}</strong> "
                "fait le point : complétez votre profil et planifiez votre prochaine rencontre."
                "</p>",
                body_en="<p>Hello {first_name},</p><p><strong>{program}</strong> is taking "
                "stock: complete your profile and plan your next meeting.</p>",
            ),
        )
        recipients = messaging.audience_members(message).count()
        messaging.message_schedule(
            message=message, send_at=timezone.now() + dt.timedelta(seconds=5), by=admin
        )
    pros = max(5, args.participants // 100)
    return {
        "run": run_id,
        "message": message.pk,
        "recipients": recipients,
        "big_program": big.pk,
        "managers": managers,
        "managers_count": len(managers),
        "api": {
            "token": token_issue(member=admin),
            "program": big.pk,
            "member_email": f"charge-{big.pk}-{{n}}@cohorte.example",
            "members": args.participants,
            "pro_email": f"charge-pro-{big.pk}-{{n}}@cohorte.example",
            "pros": pros,
            "batch": args.api_batch,
            "pause": args.api_pause,
            "repeat_every": 4,
            "run": run_id,
            "seed": 11,
        },
    }


# --- 3. The processes -------------------------------------------------------------------


class Processes:
    """Every child in its own process group, so that a kill takes a server with its
    workers, and stopping leaves nothing behind — even on Ctrl-C or an error."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.children: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 — closed with the child
        child = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children[name] = child
        return child

    def kill(self, name: str) -> None:
        os.killpg(self.children[name].pid, signal.SIGKILL)
        self.children[name].wait()

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                try:
                    os.killpg(child.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def ports(base: int) -> tuple[tuple[int, int], int]:
    """Two app servers' ports and the SMTP sink's: base, base + 1, base + 2, or three free
    ports when base is 0."""
    if base:
        return (base, base + 1), base + 2
    probes = [socket.socket() for _ in range(3)]
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    found = [probe.getsockname()[1] for probe in probes]
    for probe in probes:
        probe.close()
    return (found[0], found[1]), found[2]


def wait_for_port(port: int, child: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise Missing(f"{what} stopped at start (exit {child.returncode}).")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise Missing(f"{what} did not listen on 127.0.0.1:{port} within {seconds:.0f} s.")


def wait_for_page(url: str, child: subprocess.Popen, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise Missing(f"{what} stopped at start (exit {child.returncode}).")
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 — loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise Missing(f"{what} did not serve {url} within {seconds:.0f} s.")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


# --- 5. Counting ------------------------------------------------------------------------


def count_mail(config: dict, sink_file: Path) -> dict:
    from django.db.models import Count, Max, Min

    from cohorte.messaging.models import Email, EmailStatus, Message

    received = Counter(line.strip() for line in sink_file.read_text().splitlines() if line.strip())
    rows = Email.objects.filter(message_id=config["message"])
    statuses = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    ids = set(rows.values_list("message_id_header", flat=True))
    sent_ids = set(rows.filter(status=EmailStatus.SENT).values_list("message_id_header", flat=True))
    ours = {mid: n for mid, n in received.items() if mid in ids}
    message = Message.objects.get(pk=config["message"])
    span = rows.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    seconds = (
        (span["last"] - span["first"]).total_seconds() if span["first"] and span["last"] else 0
    )
    return {
        "sending_seconds": seconds,
        "per_second": statuses.get(EmailStatus.SENT, 0) / seconds if seconds else 0,
        "message_status": message.status,
        "recipients": config["recipients"],
        "rows": sum(statuses.values()),
        "statuses": statuses,
        "received_distinct": len(ours),
        "received_total": sum(ours.values()),
        "sent_twice": sum(n - 1 for n in ours.values() if n > 1),
        "sent_not_received": len(sent_ids - set(ours)),
        "received_not_marked_sent": len(set(ours) - sent_ids),
        "unsent": sum(n for s, n in statuses.items() if s != EmailStatus.SENT),
        "strangers": sum(n for mid, n in received.items() if mid not in ids),
    }


def count_events(config: dict, api: dict) -> dict:
    from django.db import connection

    from cohorte.activity.models import ActivityEvent

    acked = [f"{config['run']}-{n}-{i}" for n, size in api["acknowledged"] for i in range(size)]
    cut = [api["pending"]] if api.get("pending") else []
    unacked = [
        f"{config['run']}-{n}-{i}" for n, size in api["unacknowledged"] + cut for i in range(size)
    ]
    table = ActivityEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT client_id) FROM {table} "
            "WHERE program_id = %s AND client_id LIKE %s",
            [config["big_program"], f"{config['run']}-%"],
        )
        stored, distinct = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM unnest(%s::text[]) AS posted(id) WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} e WHERE e.program_id = %s AND e.client_id = posted.id)",
            [acked, config["big_program"]],
        )
        (lost,) = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM unnest(%s::text[]) AS posted(id) WHERE EXISTS "
            f"(SELECT 1 FROM {table} e WHERE e.program_id = %s AND e.client_id = posted.id)",
            [unacked, config["big_program"]],
        )
        (unacked_stored,) = cursor.fetchone()
    return {
        "acknowledged": len(acked),
        "unacknowledged": len(unacked) - sum(size for _n, size in cut),
        "cut_at_end": sum(size for _n, size in cut),
        "unacknowledged_stored": unacked_stored,
        "stored": stored,
        "distinct": distinct,
        "lost": lost,
        "duplicated": stored - distinct,
        "retried_on_purpose": api["retried_on_purpose"],
        "counted_again_on_retry": api["doubled"],
        "strangers": distinct - len(acked) - unacked_stored,
    }


def counters_check(config: dict) -> tuple[int, int]:
    """The maintained counters against a rebuild from the raw events: a retried batch
    counted twice (or an event lost on the way) shows as a row that differs."""
    from cohorte.activity.models import ParticipantStats
    from cohorte.activity.services import stats_refresh
    from cohorte.programs.models import Program

    program = Program.objects.select_related("organisation").get(pk=config["big_program"])
    fields = ("enrolment_id", "profiles_visited", "professionals_contacted", "confirmed_meetings")
    rows = ParticipantStats.objects.filter(enrolment__program=program)
    before = set(rows.values_list(*fields))
    stats_refresh(program=program)
    after = set(rows.values_list(*fields))
    return len(before - after), len(after)


def sql_floors(config: dict) -> dict[str, float]:
    """The main query of each page timed alone (median of 5), once the load is over."""
    import statistics

    from django.utils import timezone

    from cohorte.accounts.models import Member
    from cohorte.accounts.selectors import MemberFilters, member_rows, members_visible_to
    from cohorte.activity.selectors import participant_activity_rows
    from cohorte.meetings.selectors import calendar_meetings
    from cohorte.messaging.selectors import email_log, email_log_page
    from cohorte.programs.models import Program

    program = Program.objects.select_related("organisation").get(pk=config["big_program"])
    manager = Member.objects.get(email=config["managers"][0]["email"])
    tz = program.organisation.tzinfo
    first = timezone.now().astimezone(tz).date().replace(day=1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(
        (first + dt.timedelta(days=32)).replace(day=1), dt.time.min, tzinfo=tz
    )

    def page(rows) -> None:
        rows.count()
        list(rows[:25])

    cases = {
        "activity table": lambda: page(participant_activity_rows(program=program)),
        "activity sorted": lambda: page(
            participant_activity_rows(program=program, sort="last_access", order="desc")
        ),
        "activity search": lambda: page(participant_activity_rows(program=program, q="Martin")),
        "members list": lambda: page(
            member_rows(members=members_visible_to(manager), filters=MemberFilters())
        ),
        "members search": lambda: page(
            member_rows(members=members_visible_to(manager), filters=MemberFilters(q="Martin"))
        ),
        "e-mail log": lambda: email_log_page(email_log(user=manager)),
        "calendar month": lambda: list(calendar_meetings(program=program, start=start, end=end)),
    }
    floors = {}
    for name, case in cases.items():
        case()
        samples = []
        for _ in range(5):
            started = time.perf_counter()
            case()
            samples.append((time.perf_counter() - started) * 1000)
        floors[name] = statistics.median(samples)
    return floors


def pages_alone(server: str, config: dict) -> dict[str, float]:
    """Each page asked by one manager alone (median of 3 after a warm-up), once the load is
    over, on the surviving server: what the same server answers when nobody queues."""
    import re
    import statistics

    import requests

    manager, program = config["managers"][0], config["big_program"]
    http = requests.Session()
    form = http.get(f"{server}/compte/connexion/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    for cookie in http.cookies:
        cookie.secure = False  # plain http on loopback, as in locustfile.py
    signed = http.post(
        f"{server}/compte/connexion/",
        data={
            "username": manager["email"],
            "password": manager["password"],
            "csrfmiddlewaretoken": token.group(1) if token else "",
        },
        allow_redirects=False,
        timeout=60,
    )
    for cookie in http.cookies:
        cookie.secure = False
    if signed.status_code != 302:
        return {}
    today = dt.date.today()  # noqa: DTZ011 — a month around now
    first = today.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    table = f"/programmes/{program}/"
    pages = {
        "activity table: first page": (table, {}),
        "activity table: sorted": (table, {"sort": "last_access", "order": "desc"}),
        "activity table: search": (table, {"q": "Martin"}),
        "activity table: page n": (table, {"page": 200, "sort": "progress"}),
        "members list: first page": ("/membres/", {}),
        "members list: sorted, page n": ("/membres/", {"sort": "since", "page": 200}),
        "members list: search": ("/membres/", {"q": "Martin"}),
        "e-mail log: first page": ("/messages/registre/", {}),
        "e-mail log: status filter": ("/messages/registre/", {"status": "sent"}),
        "calendar: month data (API)": (
            f"/api/programs/{program}/meetings",
            {"from": first.isoformat(), "to": last.isoformat()},
        ),
        "calendar: month page": (f"/programmes/{program}/seances/", {}),
    }
    alone = {}
    for name, (path, params) in pages.items():
        samples = []
        for attempt in range(4):
            started = time.perf_counter()
            answer = http.get(f"{server}{path}", params=params, timeout=60)
            if attempt:
                samples.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 200:
                break
        else:
            alone[name] = statistics.median(samples)
    return alone


FLOOR_OF = {
    "activity table: first page": "activity table",
    "activity table: sorted": "activity sorted",
    "activity table: page n": "activity sorted",
    "activity table: search": "activity search",
    "members list: first page": "members list",
    "members list: sorted, page n": "members list",
    "members list: search": "members search",
    "e-mail log: first page": "e-mail log",
    "e-mail log: next page": "e-mail log",
    "e-mail log: status filter": "e-mail log",
    "calendar: month data (API)": "calendar month",
    "calendar: month page": "calendar month",
}


def requests_report(
    results: dict, kill: dict | None, floors: dict[str, float], alone: dict[str, float]
) -> dict:
    by_name: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list] = {"before": [], "in_flight": [], "after": []}
    per_server: Counter[str] = Counter()
    for start, name, ms, ok, server, error, status, _kind in results["requests"]:
        by_name[name].append(ms)
        per_server[server] += 1
        if ok:
            continue
        entry = (name, server, error, status)
        if kill is None or start + ms / 1000 < kill["at"]:
            errors["before"].append(entry)
        elif server == kill["server"] and start <= kill["at"]:
            errors["in_flight"].append(entry)
        else:
            errors["after"].append(entry)
    say("")
    say(
        "under load: p50/p95/p99 over the run; alone: one manager after the load (median of 3);"
        " SQL: the page's main query alone"
    )
    say(f"{'page':<43} {'requests':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'alone':>6} {'SQL ms':>6} {'p50/alone':>9} {'alone/SQL':>9}")  # fmt: skip
    for name in sorted(by_name):
        values = sorted(by_name[name])
        p50 = percentile(values, 50)
        floor = floors.get(FLOOR_OF.get(name, ""), 0.0)
        solo = alone.get(name, 0.0)
        say(
            f"{name:<43} {len(values):>8} {p50:>7.0f} {percentile(values, 95):>7.0f} "
            f"{percentile(values, 99):>7.0f} "
            + (f"{solo:>6.0f} " if solo else f"{'':>6} ")
            + (f"{floor:>6.1f} " if floor else f"{'':>6} ")
            + (f"{p50 / solo:>9.1f} " if solo else f"{'':>9} ")
            + (f"{solo / floor:>9.1f}" if solo and floor else "")
        )
    say("")
    say(
        "requests per app server: "
        + ", ".join(f"{server or '(none)'}: {n}" for server, n in sorted(per_server.items()))
    )
    say(f"connections refused and sent to the other server: {results['rerouted']}")
    return {name: len(v) for name, v in errors.items()} | {"detail": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated managers")
    parser.add_argument("--run-time", type=int, default=180, help="seconds of load")
    parser.add_argument("--max-requests", type=int, default=30_000)
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--api-batch", type=int, default=1000, help="events per API batch")
    parser.add_argument("--api-pause", type=float, default=5.0, help="seconds between batches")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(10.0, 20.0),
        metavar=("MIN", "MAX"),
        help="seconds a manager reads a page before the next click",
    )
    parser.add_argument("--spawn-rate", type=float, default=1.0, help="users started a second")
    parser.add_argument("--no-kill", action="store_true", help="kill nothing at half time")
    parser.add_argument("--drain-timeout", type=int, default=900)
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument(
        "--port-base",
        type=int,
        default=PORT_BASE,
        help="app servers, then SMTP (0: any free ports)",
    )
    args = parser.parse_args()

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    logs = ROOT / "var" / "load"
    logs.mkdir(parents=True, exist_ok=True)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    sizes = f"{args.participants}_{args.events}_{args.users}"
    run_url, seed_url, admin_url = database_urls(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/load_bench"), sizes
    )
    check_services(admin_url, redis_url)
    prepare_database(args, run_url, seed_url, admin_url)
    app_ports, smtp_port = ports(args.port_base)
    servers = [f"http://127.0.0.1:{port}" for port in app_ports]
    env = {
        "DATABASE_URL": run_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "load",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ANYMAIL_WEBHOOK_SECRET": f"load:{secrets.token_urlsafe(24)}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "COHORTE_BASE_URL": servers[0],
        "COHORTE_EMAIL_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    setup_django(env)
    from django.core.management import call_command
    from django.db import close_old_connections

    from cohorte.activity.tasks import scheduler_tick, tick_schedule
    from cohorte.messaging.models import Email, EmailStatus, Message, MessageStatus

    run_id = f"load-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"
    config = prepare_run(args, run_id)
    sink_file, results_file = logs / "smtp-message-ids.txt", logs / "locust-results.json"
    sink_file.write_text("")
    results_file.unlink(missing_ok=True)
    config |= {
        "servers": servers,
        "max_requests": args.max_requests,
        "results": str(results_file),
        "think_min": args.think[0],
        "think_max": args.think[1],
        "timeout": 60,
    }
    config_file = logs / "config.json"
    config_file.write_text(json.dumps(config))
    child_env = {**os.environ, **env}
    python = sys.executable
    manage = str(ROOT / "manage.py")
    call_command("collectstatic", interactive=False, verbosity=0)  # WhiteNoise's manifest
    processes = Processes(logs)
    kill: dict | None = None
    alone: dict[str, float] = {}
    try:
        sink = processes.start(
            "smtp-sink",
            [python, str(HERE / "smtp_sink.py"), str(smtp_port), str(sink_file)],
            child_env,
        )
        wait_for_port(smtp_port, sink, "the SMTP sink")
        for n, port in enumerate(app_ports, start=1):
            processes.start(
                f"app-{n}",
                [
                    # the production server's own configuration (make serve-web)
                    python, "-m", "gunicorn", "-c", "python:cohorte.gunicorn_conf",
                    "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "60",
                ],
                child_env,
            )  # fmt: skip
        for n in (1, 2):
            processes.start(
                f"worker-{n}",
                [python, manage, "db_worker", "--no-reload", "--no-startup-delay",
                 "--interval", "0.5", "--worker-id", f"load-worker-{n}"],
                child_env,
            )  # fmt: skip
        tick_schedule()  # what `manage.py scheduler_start` does: the worker's clock
        for n, server in enumerate(servers, start=1):
            wait_for_page(f"{server}/compte/connexion/", processes.children[f"app-{n}"], f"app {n}")
        say(
            f"{run_id}: {args.users} managers + 1 API client for {args.run_time} s (at most "
            f"{args.max_requests} requests) on {', '.join(servers)}; 2 workers; "
            f"message {config['message']} to {config['recipients']} members"
        )
        say("  (figures on a 2-core machine shared with other jobs: pessimistic)")
        locust = processes.start(
            "locust",
            [
                python, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
                "-u", str(args.users + 1), "-r", str(args.spawn_rate),
                "--run-time", f"{args.run_time}s",
                "--host", servers[0], "--only-summary", "--stop-timeout", "10",
                "--loglevel", "WARNING",
            ],
            child_env | {"LOAD_CONFIG": str(config_file)},
        )  # fmt: skip
        started = time.monotonic()
        next_tick = started + CLOCK_SECONDS
        while locust.poll() is None:
            time.sleep(0.5)
            now = time.monotonic()
            if not args.no_kill and kill is None and now - started >= args.run_time / 2:
                close_old_connections()
                kill = {"at": time.time(), "server": servers[1]}
                processes.kill("app-2")
                processes.kill("worker-2")
                time.sleep(1)
                outbox = Email.objects.filter(message_id=config["message"])
                kill["stranded"] = outbox.filter(status=EmailStatus.SENDING).count()
                kill["sent"] = outbox.filter(status=EmailStatus.SENT).count()
                kill["message_status"] = Message.objects.get(pk=config["message"]).status
                say(
                    f"  t={now - started:.0f} s: SIGKILL app server 2 ({servers[1]}) and worker 2"
                    f" — message {kill['message_status']}, {kill['sent']} e-mails sent so far, "
                    f"{kill['stranded']} rows in 'sending' just after"
                )
            if now >= next_tick:
                next_tick = now + CLOCK_SECONDS
                close_old_connections()
                scheduler_tick.enqueue()
            if now - started > args.run_time + 120:
                say("  locust did not stop in time: stopping it")
                os.killpg(locust.pid, signal.SIGTERM)
                locust.wait(timeout=30)
        say(f"  locust stopped after {time.monotonic() - started:.0f} s (exit {locust.returncode})")
        drain_started = time.monotonic()
        last_print = 0.0
        while True:
            close_old_connections()
            message = Message.objects.get(pk=config["message"])
            left = Email.objects.filter(
                message_id=config["message"], status__in=[EmailStatus.QUEUED, EmailStatus.SENDING]
            ).count()
            if message.status == MessageStatus.SENT and left == 0:
                break
            waited = time.monotonic() - drain_started
            if waited > args.drain_timeout:
                say(f"  the outbox did not drain in {args.drain_timeout} s: counting as it is")
                break
            if waited - last_print >= 30:
                last_print = waited
                say(f"  draining the outbox: message {message.status}, {left} rows to send")
            scheduler_tick.enqueue()
            time.sleep(CLOCK_SECONDS if waited > 5 else 2)
        say(f"  outbox drained in {time.monotonic() - drain_started:.0f} s after the load")
        survivor = servers[0] if kill else servers[1]
        alone = pages_alone(survivor, config)
    finally:
        processes.stop_all()
    if not results_file.exists():
        raise Missing(f"locust wrote no results; its log:\n{processes.tail('locust', 30)}")
    results = json.loads(results_file.read_text())
    close_old_connections()
    floors = sql_floors(config)
    errors = requests_report(results, kill, floors, alone)
    mail_counts = count_mail(config, sink_file)
    event_counts = count_events(config, results["api"])
    counters_off, counters_rows = counters_check(config)
    total = len(results["requests"])
    say(f"requests: {total}" + (" (request cap reached)" if results["capped_at"] else ""))
    say(
        f"errors: {errors['before'] + errors['after']} "
        + (
            f"({errors['before']} before the kill, {errors['after']} after it); "
            f"cut off in flight on the killed server: {errors['in_flight']}"
            if kill
            else "(nothing killed)"
        )
    )
    for when in ("before", "in_flight", "after"):
        for name, server, error, status in errors["detail"][when][:10]:
            say(f"    {when}: {name} on {server}: {error} (HTTP {status})")
    say(
        f"events: {event_counts['acknowledged']} acknowledged by the API, "
        f"{event_counts['stored']} stored ({event_counts['distinct']} distinct client_ids): "
        f"lost {event_counts['lost']}, duplicated {event_counts['duplicated']}; "
        f"{event_counts['retried_on_purpose']} batches posted twice on purpose, counted again "
        f"{event_counts['counted_again_on_retry']}; never acknowledged "
        f"{event_counts['unacknowledged']}, in the batch the end of the run cut off "
        f"{event_counts['cut_at_end']} ({event_counts['unacknowledged_stored']} of these stored)"
    )
    say(
        f"counters: {counters_off} of {counters_rows} participants' counters differ from a "
        "rebuild from the raw events"
    )
    say(
        f"e-mails: message {mail_counts['message_status']}, {mail_counts['rows']} outbox rows "
        f"for {mail_counts['recipients']} recipients ({mail_counts['statuses']}); the SMTP "
        f"server got {mail_counts['received_distinct']} distinct Message-IDs "
        f"({mail_counts['received_total']} messages): sent twice {mail_counts['sent_twice']}, "
        f"marked sent but never received {mail_counts['sent_not_received']}, received but "
        f"not marked sent {mail_counts['received_not_marked_sent']}, left unsent "
        f"{mail_counts['unsent']}"
    )
    say(
        f"sending: first to last e-mail in {mail_counts['sending_seconds']:.0f} s, "
        f"{mail_counts['per_second']:.0f} e-mails/s (two workers, then one after the kill)"
    )
    if kill and kill["stranded"]:
        say(
            f"kill: {kill['stranded']} outbox rows were claimed (by the killed worker, or being "
            f"sent by the other) at the kill; the killed worker's went out once its claim ran "
            f"out ({CLAIM_SECONDS} s)"
        )
    lost_or_doubled = (
        event_counts["lost"]
        + event_counts["duplicated"]
        + event_counts["counted_again_on_retry"]
        + counters_off
        + mail_counts["sent_twice"]
        + mail_counts["sent_not_received"]
        + mail_counts["unsent"]
        + max(0, mail_counts["recipients"] - mail_counts["rows"])
    )
    failed = errors["before"] + errors["after"] + event_counts["unacknowledged"]
    verdict = "PASS" if failed == 0 and lost_or_doubled == 0 else "FAIL"
    say(f"{verdict}: {failed} error(s), {lost_or_doubled} lost or doubled")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Missing as missing:
        print(f"load test: {missing}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("load test interrupted: every process it started was stopped", file=sys.stderr)
        sys.exit(130)
