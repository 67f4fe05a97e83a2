"""A small run of the load test (bench/load/run.py: two gunicorn servers, two workers, an
SMTP server, locust), so that `make load` cannot rot: 5 managers for 10 seconds, nothing
killed. It needs PostgreSQL and Redis, as the load test does."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

pytestmark = pytest.mark.skipif(
    not DATABASE_URL.startswith(("postgres://", "postgresql://")),
    reason="the load test runs on PostgreSQL and Redis: set DATABASE_URL=postgres://…",
)


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping())
    except redis.RedisError:
        return False


def test_small_load_run_serves_every_page_and_loses_nothing():
    if not redis_answers():
        pytest.skip(f"the load test needs Redis; nothing answers at {REDIS_URL}")
    url = urlparse(DATABASE_URL)
    own = urlunparse(url._replace(path=f"/{url.path.lstrip('/')}_load"))
    run = subprocess.run(  # noqa: S603
        [
            sys.executable, "bench/load/run.py", "--users", "5", "--run-time", "10",
            "--participants", "200", "--events", "2000", "--no-kill", "--think", "0.5", "1",
            "--api-batch", "200", "--api-pause", "1", "--drain-timeout", "120",
            "--port-base", "0", "--spawn-rate", "5",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": own, "REDIS_URL": REDIS_URL},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "PASS: 0 error(s), 0 lost or doubled" in out
    for page in (
        "activity table: first page",
        "members list: first page",
        "e-mail log: first page",
    ):
        assert page in out
    assert "e-mails: message sent, 200 outbox rows for 200 recipients" in out
    assert "the SMTP server got 200 distinct Message-IDs (200 messages)" in out
    assert "lost 0, duplicated 0" in out
