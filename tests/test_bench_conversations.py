"""The conversations bench at a tiny size, so it cannot rot: it builds its conversations
set-based, sends a burst through the service and times each page beside its SQL floor."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_conversations_bench_prints_each_figure_with_its_floor(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 — our own script, our own interpreter
        [sys.executable, str(ROOT / "bench" / "conversations.py")]
        + ["--members", "40", "--messages", "1000", "--burst", "4", "--repeat", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "200 conversations, 1000 messages built" in out
    for label in ("member's inbox", "conversation page (50 newest)", "manager's activity table"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert line.count("|") == 2 and "×" in line, line
