"""The reports bench at a tiny size, so it cannot rot: it builds its programmes, refreshes
the rollup, times the Home and its API beside their SQL floors and runs the members report
in CSV and XLSX as the worker does, with its peak memory."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_reports_bench_prints_each_figure_with_its_floor_and_the_exports_memory(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 — our own script, our own interpreter
        [sys.executable, str(ROOT / "bench" / "reports.py")]
        + ["--members", "60", "--events", "3000", "--repeat", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    for label in (
        "rollup: the programme's full rebuild",
        "Home, figures counted afresh",
        "API dashboard, figures counted afresh",
        "API at-risk, first 100",
        "organisation's Home, from the snapshots",
        "API organisation dashboard, from the snapshots",
        "CSV as the worker runs it, 65 rows",
        "XLSX as the worker runs it, 65 rows",
    ):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert line.count("|") == 2 and "×" in line, line
    assert "XLSX memory,      65 rows: peak Python memory" in out  # 60 + 5 professionals
