"""bench/sending.py at a small size, so it cannot rot: real db_worker processes, a real SMTP
server (aiosmtpd) in its own process, one worker then a killed one; it prints each figure
with its floor and ratio, and the kill loses nothing."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import database_url

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_sending_bench_runs_and_the_kill_loses_nothing():
    env = {**os.environ, "DATABASE_URL": database_url()}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [sys.executable, "bench/sending.py", "--messages", "60", "--workers", "1"]
    # claims of 10: both workers of the kill run have rows when one is killed
    command += ["--claim-seconds", "2", "--mark-every", "5", "--claim-batch", "10"]
    command += ["--port", "8175"]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-3000:]
    assert re.search(r"1 worker: 60 sent in [\d.]+ s = [\d,]+ e-mails/s .*, 0 twice\)", out), out
    assert re.search(r"1 worker sending 60: [\d,]+ ms, floor [\d,]+ ms, ratio [\d.]+", out), out
    received = r"60 rows sent, 60 distinct Message-IDs received: lost 0, sent twice (\d+)"
    kill = re.search(r"kill: .* " + received, out)
    assert kill and int(kill.group(1)) <= 5, out  # at most the killed worker's unwritten marks
