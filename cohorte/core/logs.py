"""Logs an operator can follow: one line per request, and the same request id on every line
that request caused — its own, and those of the background tasks it enqueued, even when
another machine's worker runs them.

The id comes from the reverse proxy's ``X-Request-ID`` when it is a short, safe string (the
proxy is trusted to set it; anything else is replaced), or is made here; it is sent back
in the response's ``X-Request-ID``. It lives in a context variable that a logging filter
copies onto every record. A task enqueued meanwhile carries it in its row (django-tasks-db's
``args_kwargs``, beside the task's own arguments, which stay untouched) and the worker puts
it back in the context variable while the task runs.

``LOG_FORMAT=json`` (the default when DEBUG is off) writes one JSON object per line;
``text`` (the default in development) writes readable lines."""

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

#: the request being served, or the request that enqueued the running task
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

REQUEST_ID_HEADER = "X-Request-ID"
#: what a trusted proxy may send: nginx's $request_id (32 hex), a UUID, a short token
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
#: key in a task row's args_kwargs (django-tasks-db reads only "args" and "kwargs")
TASK_ROW_KEY = "request_id"
#: paths whose successful answers are not logged: a load balancer asks every few seconds
QUIET_PATHS = frozenset({"/healthz", "/readyz"})

request_logger = logging.getLogger("cohorte.request")

# Attributes every LogRecord has: the rest came through `extra=` and go into the JSON line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}
#: extras that must never be written: Django's request object prints the query string
_NEVER_LOGGED = frozenset({"request"})


def request_id_from(header: str | None) -> str:
    """The proxy's id when it is safe to copy into logs and headers, else a new one."""
    if header and SAFE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` attribute (None outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in _NEVER_LOGGED:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable lines for development, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in member's id, if the request already looked them up (no query here)."""
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestLogMiddleware:
    """First in the stack: gives the request its id and writes its one log line (for a
    streamed response, a large CSV, duration_ms is the time to its first byte)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            if settings.SENTRY_DSN:
                import sentry_sdk

                sentry_sdk.set_tag("request_id", request_id)
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if response.status_code != 200 or request.path not in QUIET_PATHS:
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                request_logger.info(
                    "%s %s %s %sms",
                    request.method,
                    request.path,
                    response.status_code,
                    duration_ms,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                        "user_id": _user_id(request),
                    },
                )
            return response
        finally:
            request_id_var.reset(token)


# --- Carrying the id into background tasks (connected in CoreConfig.ready).


def task_row_remember_request(sender: Any, instance: Any, **kwargs: Any) -> None:
    """pre_save of a django-tasks-db row: a task enqueued while serving a request keeps
    that request's id in its row, for whichever worker runs it."""
    request_id = request_id_var.get()
    if request_id and instance._state.adding and isinstance(instance.args_kwargs, dict):
        instance.args_kwargs.setdefault(TASK_ROW_KEY, request_id)


_task_tokens: dict[str, contextvars.Token] = {}


def task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """In the worker: the task's log lines carry the id of the request that enqueued it."""
    row = getattr(task_result, "db_result", None)
    request_id = (getattr(row, "args_kwargs", None) or {}).get(TASK_ROW_KEY)
    if request_id and SAFE_REQUEST_ID.fullmatch(str(request_id)):
        _task_tokens[str(task_result.id)] = request_id_var.set(str(request_id))


def task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token = _task_tokens.pop(str(task_result.id), None)
    if token is not None:
        request_id_var.reset(token)
