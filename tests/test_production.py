"""Cohorte runs for real: `make serve` starts gunicorn with DEBUG off, WhiteNoise's compressed
static files and the worker beside it; it refuses an unsafe configuration and says which
variable to fix; a load balancer has /healthz and /readyz; every request writes one JSON log
line whose request id follows the tasks it enqueued into the worker."""

import gzip
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.test import Client

from cohorte.accounts.models import Member
from cohorte.core.models import Job

from .conftest import database_url, signed_in

ROOT = Path(settings.BASE_DIR)
GUNICORN = [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:cohorte.gunicorn_conf"]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """What an operator sets (README « En production »), for a trial on plain HTTP."""
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ANYMAIL_WEBHOOK_SECRET": f"anymail:{secrets.token_urlsafe(32)}",
        "SECURE_SSL_REDIRECT": "0",
        "COHORTE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "HOST": "127.0.0.1",
        "PORT": "0",  # the kernel picks a free port; read back from gunicorn's log
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "json",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Server:
    """A production server in its own process group, its output in a file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.log = log
        self.out = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 — our own command
            command,
            cwd=ROOT,
            env=env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.port = 0

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_listening(self, timeout: float = 120) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.text())
            if found:
                self.port = int(found.group(1))
                return self.port
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.text()[-3000:]}")

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def descendants(self) -> list[int]:
        """Every process started under ours (the worker and gunicorn have groups of their own)."""
        children: dict[int, list[int]] = {}
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(proc.name))
        found, todo = [], [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def stop(self) -> int:
        """SIGTERM, as a process manager (or make on Ctrl-C) sends it: everything stops.
        (Not SIGINT: a suite started in the background ignores it, and so would we.)"""
        others = self.descendants()
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        # make itself exits on SIGTERM at once; its shell's trap then stops gunicorn and the
        # worker, which finish their requests and task first: give them a bounded while
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(alive(pid) for pid in others):
            time.sleep(0.1)
        self.leftover = []  # what did not stop must not outlive the test (and fails it)
        for pid in others:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue  # stopped
            if b"gunicorn" in command or b"db_worker" in command:
                self.leftover.append(pid)
                os.kill(pid, signal.SIGKILL)
        self.out.close()
        return code

    def log_lines(self) -> list[dict]:
        lines = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def alive(pid: int) -> bool:
    """Running (a zombie has stopped: only its parent's wait is missing)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def port_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.django_db(transaction=True)
def test_make_serve_serves_pages_static_files_and_probes_with_debug_off(tmp_path):
    server = Server(
        ["make", "--no-print-directory", "serve"], production_env(tmp_path), tmp_path / "serve.log"
    )
    try:
        port = server.wait_listening()
        request_id = f"test-{secrets.token_hex(8)}"

        status, headers, body = server.get("/compte/connexion/", **{"X-Request-ID": request_id})
        assert status == 200, body[:500]
        assert "Connexion" in body.decode()
        assert headers["X-Request-ID"] == request_id
        assert "nonce-" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Secure" in headers["Set-Cookie"]  # the CSRF cookie, as DEBUG off wants
        assert "Traceback" not in body.decode()
        # behind the proxy (X-Forwarded-Proto: https) the browser is told to stay on HTTPS
        _, secure_headers, _ = server.get("/compte/connexion/", **{"X-Forwarded-Proto": "https"})
        assert "max-age=31536000" in secure_headers["Strict-Transport-Security"]

        # a hashed static file from the page, compressed, cached for ever
        css = re.search(r'href="(/static/css/cohorte\.[0-9a-f]{12}\.css)"', body.decode())
        assert css, "the page links a hashed stylesheet (manifest storage)"
        status, plain_headers, plain = server.get(css.group(1))
        assert status == 200 and b"{" in plain
        cache_control = plain_headers["Cache-Control"]
        assert "immutable" in cache_control
        assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 31536000
        _, gz_headers, gz = server.get(css.group(1), **{"Accept-Encoding": "gzip"})
        assert gz_headers["Content-Encoding"] == "gzip" and gzip.decompress(gz) == plain
        _, br_headers, br = server.get(css.group(1), **{"Accept-Encoding": "br, gzip"})
        assert br_headers["Content-Encoding"] == "br" and brotli.decompress(br) == plain

        status, _, body = server.get("/healthz")
        assert status == 200 and json.loads(body) == {"status": "ok"}
        status, _, body = server.get("/readyz")
        ready = json.loads(body)
        assert status == 200, ready
        assert ready["status"] == "ok"
        assert ready["checks"] == {"database": "ok", "cache": "ok", "tasks": "ok"}
        assert isinstance(ready["oldest_pending_task_seconds"], int)
        # the worker starts beside gunicorn, not before it: on a busy machine its first line
        # may come after the pages answered; wait for it (bounded) before stopping
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Starting worker" not in server.text():
            time.sleep(0.2)
    finally:
        code = server.stop()
    assert port_closed(port) and not server.leftover, "stopping make serve stops everything"
    lines = server.log_lines()
    ours = [line for line in lines if line.get("request_id") == request_id]
    assert len(ours) == 1, ours
    assert ours[0]["logger"] == "cohorte.request"
    assert ours[0]["method"] == "GET" and ours[0]["path"] == "/compte/connexion/"
    assert ours[0]["status"] == 200 and ours[0]["user_id"] is None
    assert isinstance(ours[0]["duration_ms"], int | float)
    loggers = {line["logger"] for line in lines}
    assert "django_tasks_db" in loggers, "the worker ran beside the server"
    assert "Shutting down: Master" in server.text()  # gunicorn and the worker stopped
    assert "Received Terminated - shutting down gracefully" in server.text()  # by themselves
    assert code in {0, 143, -signal.SIGTERM}, server.text()[-2000:]


SAFE_KEY = secrets.token_urlsafe(50)


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("SECRET_KEY", {"SECRET_KEY": None}),
        ("SECRET_KEY", {"SECRET_KEY": "django-insecure-" + SAFE_KEY}),
        ("SECRET_KEY", {"SECRET_KEY": SAFE_KEY[:30]}),
        ("SECRET_KEY", {"SECRET_KEY": "abcd" * 20}),
        ("SECRET_KEY", {"SECRET_KEY": "dev-only-insecure-key-change-me-" + "x" * 30}),
        ("ALLOWED_HOSTS", {"ALLOWED_HOSTS": None}),
        ("ALLOWED_HOSTS", {"ALLOWED_HOSTS": " , "}),
        ("ANYMAIL_WEBHOOK_SECRET", {"ANYMAIL_WEBHOOK_SECRET": None}),
        ("ANYMAIL_WEBHOOK_SECRET", {"ANYMAIL_WEBHOOK_SECRET": "no-colon-here"}),
        ("DEBUG", {"DEBUG": "1"}),
    ],
    ids=[
        "no-key",
        "django-insecure",
        "short-key",
        "few-characters",
        "development-key",
        "no-hosts",
        "blank-hosts",
        "no-webhook-secret",
        "webhook-without-password",
        "debug-on",
    ],
)
def test_gunicorn_refuses_an_unsafe_configuration_before_forking(tmp_path, variable, env):
    result = subprocess.run(  # noqa: S603
        GUNICORN,
        cwd=ROOT,
        env=production_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Cohorte will not start in production" in output
    refusals = [line for line in output.splitlines() if line.startswith("- ")]
    assert len(refusals) == 1 and refusals[0].startswith(f"- {variable} "), output
    assert "Booting worker" not in output and "Listening at" not in output


def test_make_serve_refuses_before_migrating_and_names_every_missing_variable(tmp_path):
    env = production_env(tmp_path, SECRET_KEY=None, ALLOWED_HOSTS=None, ANYMAIL_WEBHOOK_SECRET=None)
    result = subprocess.run(
        ["make", "--no-print-directory", "serve"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    for variable in ("SECRET_KEY", "ALLOWED_HOSTS", "ANYMAIL_WEBHOOK_SECRET"):
        assert f"- {variable} " in result.stderr
    assert "secrets.token_urlsafe" in result.stderr  # how to make a key
    assert "migrate" not in result.stdout


def test_readyz_answers_503_when_the_database_is_unreachable(tmp_path):
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        dead_port = str(closed.getsockname()[1])
        dead = f"postgres://cohorte:secret-password@127.0.0.1:{dead_port}/cohorte"
        server = Server(GUNICORN, production_env(tmp_path, DATABASE_URL=dead), tmp_path / "web.log")
        try:
            server.wait_listening()
            status, headers, body = server.get("/readyz")
            health_status, _, _ = server.get("/healthz")
        finally:
            server.stop()
    answer = json.loads(body)
    assert status == 503, answer
    assert answer["status"] == "unavailable"
    assert answer["checks"]["database"] == "unavailable"
    assert answer["checks"]["cache"] == "ok"
    assert headers["Cache-Control"] == "no-store"
    for secret in ("127.0.0.1", dead_port, "secret-password", "cohorte"):
        assert secret not in body.decode()  # no address, password or name in the answer
    assert health_status == 200  # the process itself is alive


@pytest.mark.django_db(transaction=True)
def test_request_id_reaches_the_log_lines_of_the_task_it_enqueued(admin, tmp_path):
    request_id = f"req-{secrets.token_hex(8)}"
    response = signed_in(admin).post("/membres/champs/recalculer/", HTTP_X_REQUEST_ID=request_id)
    assert response.status_code == 302 and response["X-Request-ID"] == request_id
    job = Job.objects.get(kind="completion_recompute")

    env = production_env(tmp_path)
    worker = subprocess.run(  # noqa: S603 — the real worker, in another process
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    lines = [json.loads(line) for line in worker.stderr.splitlines() if line.startswith("{")]
    task_lines = [line for line in lines if "completion_recompute state=" in line["message"]]
    assert [line["message"].rsplit("=", 1)[1] for line in task_lines] == ["RUNNING", "SUCCESSFUL"]
    assert {line["request_id"] for line in task_lines} == {request_id}, lines
    job.refresh_from_db()
    assert job.status == "done"
    # the worker's own lines outside the task carry no request's id
    assert any(line["request_id"] is None for line in lines if "Starting worker" in line["message"])


def test_an_unsafe_request_id_is_replaced():
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="x" * 65)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="évil\r\nSet-Cookie: a=b")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    assert response["X-Request-ID"] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.mark.django_db
def test_request_log_line_names_the_member_and_leaves_the_query_string_out(admin, caplog):
    with caplog.at_level("INFO", logger="cohorte.request"):
        response = signed_in(admin).get("/membres/?q=secret-search", HTTP_X_REQUEST_ID="r-1")
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "cohorte.request"]
    assert record.path == "/membres/" and "secret-search" not in record.getMessage()
    assert record.user_id == admin.pk and record.status == 200 and record.request_id == "r-1"


@pytest.mark.django_db
def test_probes_need_no_session_no_host_no_https_and_do_not_count_as_presence(
    admin, settings, django_assert_num_queries
):
    settings.SECURE_SSL_REDIRECT = True
    settings.COHORTE_PRESENCE_STORE = "database"
    client = signed_in(admin)
    assert client.get("/compte/connexion/").status_code == 301  # everything else goes to HTTPS
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.0.0.7")  # a balancer uses the address
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    response = client.get("/readyz", HTTP_HOST="10.0.0.7")
    assert response.status_code == 200 and response.json()["checks"]["database"] == "ok"
    assert "Set-Cookie" not in response.headers
    assert Member.objects.get(pk=admin.pk).last_seen_at is None


class _Envelopes(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 — http.server's name
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_errors_go_to_sentry_only_when_sentry_dsn_is_set(tmp_path):
    receiver = HTTPServer(("127.0.0.1", 0), _Envelopes)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    script = (
        "import django; django.setup()\n"
        "import sentry_sdk\n"
        "print('active', sentry_sdk.get_client().is_active())\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    sentry_sdk.capture_exception()\n"
        "sentry_sdk.flush(5)\n"
    )
    try:
        without = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "cohorte.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        dsn = f"http://public@127.0.0.1:{receiver.server_address[1]}/1"
        env = production_env(tmp_path, SENTRY_DSN=dsn, SENTRY_RELEASE="cohorte@1.2.3")
        with_dsn = subprocess.run(  # noqa: S603
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**env, "DJANGO_SETTINGS_MODULE": "cohorte.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        receiver.shutdown()
    assert "active False" in without.stdout
    assert "active True" in with_dsn.stdout
    events = [
        json.loads(line)
        for body in _Envelopes.received
        for line in body.splitlines()
        if line.startswith(b"{") and b"exception" in line
    ]
    assert len(events) == 1
    assert events[0]["environment"] == "production" and events[0]["release"] == "cohorte@1.2.3"
    assert events[0]["exception"]["values"][0]["type"] == "ZeroDivisionError"


def test_readyz_tells_a_database_without_its_tables_from_one_that_is_down(tmp_path):
    """A new, unmigrated database answers, but the tasks table is not there: not ready."""
    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/readyz')\n"
        "print(response.status_code, json.dumps(response.json()))\n"
    )
    env = production_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "cohorte.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body)["checks"] == {"database": "ok", "cache": "ok", "tasks": "unavailable"}
    assert "no such table" in result.stderr  # the reason is in the log, not in the answer
    assert "no such table" not in body
