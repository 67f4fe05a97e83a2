"""bench/meetings.py at a small size, so that it cannot rot: it builds its programme, then
prints every page's figure beside its SQL floor, their ratio and its number of queries."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from cohorte.meetings.models import Meeting, Relationship

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.django_db(transaction=True)  # the bench vacuums on PostgreSQL: no transaction
def test_the_meetings_bench_runs_at_a_small_size(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_meetings", BENCH / "meetings.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    argv = ["meetings.py", "--relationships", "20", "--meetings", "200", "--repeat", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    bench.main()
    assert Relationship.objects.count() == 20
    assert Meeting.objects.count() == 200
    assert Meeting.objects.exclude(kind="one_to_one").count() == 4
    lines = capsys.readouterr().out.splitlines()
    figures = [line for line in lines if re.search(r"\[\d+ q\]\s+[\d.]+ \|", line)]
    labels = ("Relations", "Rencontres", "Calendar: month", "Calendar: day", "Free slots")
    for label in labels:
        assert any(line.startswith(label) for line in figures), label
    assert len(figures) == 17
    # every figure with its SQL floor and the ratio of the two
    for line in figures:
        assert re.search(r"\|\s+[\d.]+ \|\s+×\s*[\d.]+", line), line
