"""The conversations bench at a tiny size, so it cannot rot: it builds its conversations
set-based, sends a burst through the service, checks the pages show it (newest first, the
professional's unread, the participant's contact in the manager's table) and times each
page beside its SQL floor. It runs in this process on the test database (migrating a new
database for it cost 15 s of its 16); the script alone migrates its own."""

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench_conversations(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the script imports its neighbour `common`
    module = importlib.import_module("conversations")
    yield module
    sys.modules.pop("conversations", None)


@pytest.mark.django_db
def test_conversations_bench_prints_each_figure_with_its_floor(bench_conversations, capsys):
    bench_conversations.main(
        ["--members", "20", "--messages", "200", "--burst", "4", "--repeat", "1"]
    )
    out = capsys.readouterr().out
    assert "100 conversations, 200 messages built" in out
    assert "after the burst: inbox newest first, professional 1 unread" in out
    assert "2 contact events" in out  # the participant's two messages of the burst
    for label in (
        "member's inbox",
        "member's inbox, search « stage »",
        "professional's inbox",
        "conversation page (50 newest)",
        "manager's activity table",
    ):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert line.count("|") == 2 and "×" in line, line
