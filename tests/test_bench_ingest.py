"""The ingestion and rebuild bench, run small (it must not rot): it builds its programme
(200 participants, 5 professionals), posts a batch and its retry, rebuilds every counter,
and prints each figure beside its SQL floor."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_ingestion_bench_runs_small():
    env = {**os.environ, "DATABASE_URL": database_url()}
    command = [sys.executable, "bench/ingestion.py", "--participants", "200"]
    command += ["--events", "5000", "--batch", "500", "--actors", "50"]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "API: ingest 500 events (median of 3)" in out
    assert "{'created': 0, 'ignored': 500}" in out
    assert "rebuild all counters (dates changed)" in out and "205 enrolments" in out
    assert out.count("SQL floor") == 4 and out.count("ratio") == 4
