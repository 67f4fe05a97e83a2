"""What a load balancer asks: is this process alive (`/healthz`, nothing else touched), and
can it serve (`/readyz`: the database, the cache and the tasks table answer; how long the
oldest waiting task has waited, so a stuck worker shows).

They answer before the rest of the stack: no session, no sign-in, no presence, no redirect
to HTTPS (a probe on plain HTTP behind the proxy must work) and no host check (a probe may
use the machine's address). Their answers say "ok" or "unavailable" and nothing else: no
address, no version, no error text — the reason goes to the log."""

import logging
import os
import secrets
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection
from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

logger = logging.getLogger(__name__)

OK = "ok"
DOWN = "unavailable"


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": OK})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    # one key per process, overwritten by each probe and gone 10 s after the last: no delete
    key, value = f"readyz:{os.getpid()}", secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not give back what it was given")


def _oldest_pending_seconds() -> int:
    """Seconds the oldest task ready to run has waited: since it was enqueued, or since
    the time it was booked for (a tick booked for in five minutes is not late)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = timezone.now()
    never = get_date_max()  # django-tasks-db's « no run_after »
    oldest = DBTaskResult.objects.filter(status="READY").aggregate(
        enqueued=Min("enqueued_at", filter=Q(run_after=never)),
        booked=Min("run_after", filter=Q(run_after__lte=now)),
    )
    since = [moment for moment in oldest.values() if moment is not None]
    return max(0, int((now - min(since)).total_seconds())) if since else 0


def _check(name: str, check: Callable[[], object]) -> str:
    try:
        check()
    except Exception:
        logger.warning("readyz: %s unavailable", name, exc_info=True)
        return DOWN
    return OK


def readyz(request: HttpRequest) -> JsonResponse:
    """Three round trips when all is well: the tasks query answers for the database too;
    only when it fails is the database asked alone, to tell which of the two is down."""
    oldest: list[int] = []
    tasks = _check("tasks table", lambda: oldest.append(_oldest_pending_seconds()))
    database = OK if tasks == OK else _check("database", _database)
    checks = {"database": database, "cache": _check("cache", _cache), "tasks": tasks}
    ready = all(state == OK for state in checks.values())
    body: dict[str, object] = {"status": OK if ready else DOWN, "checks": checks}
    if oldest:
        body["oldest_pending_task_seconds"] = oldest[0]
    return JsonResponse(body, status=200 if ready else 503)


PROBES: dict[str, Callable[[HttpRequest], JsonResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
}


class HealthMiddleware:
    """Answers the two probes before any other middleware (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in {"GET", "HEAD"}:
            response = probe(request)
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
