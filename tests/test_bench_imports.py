"""A small run of bench/member_import.py, so that the bench cannot rot: the whole import
through the pages and the worker, CSV and Excel, with its figures printed."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_member_import_bench_runs_at_a_small_size():
    env = {**os.environ, "DATABASE_URL": database_url(), "EMAIL_URL": "locmem://"}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "bench/member_import.py", "--rows", "300", "--repeat", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "SQL floor" in out
    for kind in ("csv", "xlsx"):
        line = next(line for line in out.splitlines() if line.strip().startswith(kind))
        assert "created 240, updated 60" in line, out  # a fifth of the rows were members
        assert re.search(r"ratio to floor +\d", line), out
        queries = int(re.search(r"task queries (\d+)", line).group(1))
        assert queries < 60, out  # set-based: a few per chunk of 500 rows, none per row
