"""Keep the query planner informed. PostgreSQL's autovacuum gathers statistics by itself;
SQLite only has them when asked, and without them it picks index plans that are 100 times
slower on big tables (measured: sorting 10,000 participants by upcoming meetings, 1 s → 15 ms)."""

import sqlite3

from django.db import connection


def analyze(*tables: str) -> None:
    """Refresh planner statistics after a bulk load."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


class SQLiteOptimizeMiddleware:
    """After each request, let SQLite refresh the statistics its planner missed on this
    connection (``PRAGMA optimize``: usually a no-op, bounded by analysis_limit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        raw = connection.connection
        if connection.vendor == "sqlite" and raw is not None:
            try:  # on the open connection only; never opens one
                raw.execute("PRAGMA optimize")
            except sqlite3.OperationalError:
                pass  # another writer holds the file: statistics can wait for the next request

        return response
