"""What every benchmark shares. Importing it sets Django up (the project on the path, its
settings, the bench database unless DATABASE_URL says otherwise): import it first.

Every figure is printed beside its SQL floor: the equivalent query (or queries) timed alone,
through the same connection, so that what the page adds (rendering, middleware, Python) shows
as a ratio, and a slowdown shows as a ratio that grows — stable even on a loaded machine,
where both numbers grow together.

    ms = median_ms(lambda: client.get(url), repeat)
    report("first page", ms, floor_ms(lambda: list(rows_queryset[:25]), repeat))
"""

import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")
django.setup()

#: width of the label column in report(): long enough for « sorted by … desc » labels
LABEL_WIDTH = 44


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of fn in milliseconds, after one warm-up call."""
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _run_sql(sql: str, params: Sequence[Any] | None) -> Callable[[], object]:
    from django.db import connection

    def run() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else None

    return run


def floor_ms(
    sql_or_callable: Any,
    repeat: int = 7,
    params: Sequence[Any] | None = None,
) -> float:
    """The SQL floor: median milliseconds of the equivalent query alone, no view, no template.

    Takes raw SQL (a string, with `params`), a QuerySet (evaluated to the end, fresh each
    time), a list of any of those (run one after the other: e.g. a page's rows query and its
    count query), or a callable that runs the queries itself and reads every row."""
    from django.db.models import QuerySet

    def one(item: Any) -> Callable[[], object]:
        if isinstance(item, str):
            return _run_sql(item, params)
        if isinstance(item, QuerySet):
            return lambda: list(item.all())  # .all(): a fresh clone, no result cache
        if callable(item):
            return item
        raise TypeError(f"floor_ms takes SQL, a QuerySet or a callable, not {type(item)}")

    if isinstance(sql_or_callable, list | tuple):
        parts = [one(item) for item in sql_or_callable]

        def run_all() -> None:
            for part in parts:
                part()

        return median_ms(run_all, repeat)
    return median_ms(one(sql_or_callable), repeat)


def ratio(ms: float, floor: float) -> float:
    return ms / floor if floor > 0 else float("inf")


def report_header(title: str = "") -> None:
    """The column heads report() lines up under."""
    if title:
        print(title)
    print(f"{'':<{LABEL_WIDTH}} {'figure ms':>10} | {'floor ms':>9} | {'ratio':>7}")


def report(label: str, ms: float, floor_ms: float | None, note: str = "") -> None:
    """One line: `label   figure ms | floor ms | ratio` (and a note: queries, rows, memory).
    A figure with no SQL equivalent (floor None) prints « — » in both columns."""
    if floor_ms is None:
        floor_text, ratio_text = f"{'—':>9}", f"{'—':>7}"
    else:
        floor_text, ratio_text = f"{floor_ms:>9.2f}", f"×{ratio(ms, floor_ms):>6.1f}"
    line = f"{label:<{LABEL_WIDTH}} {ms:>10.1f} | {floor_text} | {ratio_text}"
    print(f"{line}  {note}" if note else line)
