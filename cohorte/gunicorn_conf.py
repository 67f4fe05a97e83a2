"""Gunicorn, the production server: `gunicorn -c python:cohorte.gunicorn_conf` (what
`make serve` and `make serve-web` run). Every value comes from the environment.

- HOST, PORT: the address to listen on (127.0.0.1:8000 as `make run`); behind a reverse
  proxy on another machine, HOST=0.0.0.0.
- WEB_CONCURRENCY: worker processes (default: 2 × CPUs + 1). Each serves one request at a
  time with its own database connection: count them against PostgreSQL's max_connections.
- GUNICORN_TIMEOUT: seconds a request may take before its worker is replaced (60).
- FORWARDED_ALLOW_IPS: proxies trusted for X-Forwarded-* (gunicorn's own, 127.0.0.1).

It refuses to start, before loading Django, on an unsafe configuration
(cohorte.core.startup). An upgrade restarts it (a HUP reloads the configuration, not the
preloaded code).
"""

import gc
import multiprocessing
import os

from cohorte.core.startup import refuse_unsafe_start

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")
# Here, not in on_starting: gunicorn loads a preloaded application before that hook, and
# settings.py would stop on a missing SECRET_KEY with a bare traceback.
refuse_unsafe_start()

wsgi_app = "cohorte.wsgi:application"
bind = [f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"  # behind a buffering proxy (nginx), one request per process is enough
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Django is imported once, in the master, and the workers are forked from it: they start in
# a moment and share its memory. No connection is opened at import, so none is shared.
preload_app = True
# A worker is replaced after this many requests: memory it grew is given back.
max_requests = 2000
max_requests_jitter = 200
# No control socket: several servers may run on one machine under the same user.
control_socket_disable = True
# Each request's line is written by the application (cohorte.core.logs), with its id.
accesslog = None
errorlog = "-"

_json = os.environ.get("LOG_FORMAT", "json") == "json"
logconfig_dict = {
    "root": {"level": "WARNING", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
    "handlers": {
        "error_console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _json else "text",
            "stream": "ext://sys.stderr",
        }
    },
    "formatters": {
        "json": {"()": "cohorte.core.logs.JsonFormatter"},
        "text": {"()": "cohorte.core.logs.TextFormatter"},
    },
}


def pre_fork(server: object, worker: object) -> None:
    """Objects the master loaded are frozen out of the garbage collector's reach: a worker
    does not copy the master's memory by scanning it, and stops in a moment."""
    gc.freeze()
