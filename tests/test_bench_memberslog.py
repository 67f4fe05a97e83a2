"""The members-list and e-mail-log benches at a tiny size, so they cannot rot: each builds
its data with the set-based builder and prints every figure beside its SQL floor."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, script: str, *args: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(  # noqa: S603 — our own script, our own interpreter
        [sys.executable, str(ROOT / "bench" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _line(out: str, label: str) -> str:
    line = next(line for line in out.splitlines() if label in line)
    assert line.count("|") == 2 and "×" in line, line  # figure | floor | ratio
    return line


def test_members_bench_prints_each_figure_with_its_floor(tmp_path):
    out = _run(tmp_path, "members.py", "--members", "300", "--repeat", "1", "--reads-only")
    assert "built 300 members" in out
    for label in (
        "list, first page (name)",
        "list, sorted by groups desc",
        "list, sorted by last_session desc",
        "custom field B + mentor + active + 90 days, by last session",
        "slowest sort:",
        "API, 100 rows, combined filter",
    ):
        _line(out, label)
    assert "25 rows)" in _line(out, "list, first page (name)")


def test_email_log_bench_prints_each_figure_with_its_floor(tmp_path):
    out = _run(
        tmp_path,
        "email_log.py",
        *("--rows", "3000", "--members", "50", "--csv-rows", "400", "--repeat", "1"),
    )
    assert "built 3000 log rows for 50 members" in out
    for label in (
        "page, no filter, first page",
        "page, statuses bounced + spam, last 12 months",
        "API, 50 rows, no filter",
    ):
        assert "50 rows" in _line(out, label)
    csv = [line for line in out.splitlines() if "CSV, last" in line]
    assert len(csv) == 2 and all("peak Python memory" in line for line in csv)
