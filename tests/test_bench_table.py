"""The activity-table bench at a tiny size, so it cannot rot: it builds its programme with
the set-based builder, times every figure beside its SQL floor and streams the CSV."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_participants_table_bench_prints_each_figure_with_its_floor(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 — our own script, our own interpreter
        [sys.executable, str(ROOT / "bench" / "participants_table.py")]
        + ["--participants", "60", "--events", "3000", "--repeat", "1", "--table-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "figure ms |  floor ms |   ratio" in out
    for label in (
        "first page (default: name)",
        "sorted by upcoming_meetings desc",
        "sorted by flags asc",
        "API, 100 rows by progress",
        "CSV export, all 60 rows",
    ):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert line.count("|") == 2 and "×" in line, line
    assert "peak Python memory" in out
