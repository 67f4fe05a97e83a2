"""Cohorte settings: one file, everything that differs between machines comes from the environment.

Embedded default: SQLite file under var/, local-memory cache, console e-mail.
At scale: DATABASE_URL=postgres://…, REDIS_URL=redis://…, EMAIL_URL=smtp://…
"""

import math
import os
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("COHORTE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-change-me-" + "x" * 30  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "cohorte.core",
    "cohorte.accounts",
    "cohorte.programs",
    "cohorte.meetings",
    "cohorte.activity",
    "cohorte.messaging",
    "cohorte.conversations",
    "cohorte.reports",
    "cohorte.help",
    "cohorte.signup",
    "cohorte.space",
    "cohorte.surveys",
    "cohorte.campaigns",
]

MIDDLEWARE = [
    "cohorte.core.logs.RequestLogMiddleware",  # first: times everything, gives the request id
    "cohorte.core.health.HealthMiddleware",  # /healthz, /readyz: before sessions and redirects
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cohorte.accounts.middleware.MemberLanguageMiddleware",
    "cohorte.core.middleware.RequestLimitsMiddleware",
    "cohorte.programs.middleware.OrganisationTimezoneMiddleware",
    "cohorte.activity.presence.PresenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if not DEBUG:  # runserver serves static files in development; WhiteNoise in production
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "cohorte.urls"
WSGI_APPLICATION = "cohorte.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cohorte.programs.context_processors.sidebar",
                "cohorte.programs.context_processors.brand",
                "cohorte.messaging.context_processors.notifications",
                "cohorte.space.context_processors.todo",
            ],
        },
    },
]

# --- Database: SQLite by default, anything dj-database-url understands otherwise.
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'cohorte.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # The web server and the worker write to the same file: WAL and immediate
        # transactions avoid "database is locked" under light concurrency.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA analysis_limit=1000;"
        ),
    }
    MIDDLEWARE.append("cohorte.core.db.SQLiteOptimizeMiddleware")
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # JIT compiling costs ~0.6 s on the sorted participants table and saves nothing on
        # queries this short (measured by bench/participants_table.py): keep it off.
        # random_page_cost 1.1 (PostgreSQL's 4 is a spinning disk's): at 4 the planner read
        # all 100,000 members for a search rather than their trigram indexes, 183 ms against
        # 84 ms for « mar » in bench/participants_table.py, and no page measured there was
        # slower at 1.1. COHORTE_PG_RANDOM_PAGE_COST= (empty) leaves the server's own.
        pg_options = ["-c jit=off"]
        if page_cost := os.environ.get("COHORTE_PG_RANDOM_PAGE_COST", "1.1").strip():
            try:
                cost = float(page_cost)
            except ValueError:
                cost = math.nan
            if not 0.1 <= cost <= 100:  # also false for nan: every connection would fail
                raise ImproperlyConfigured(
                    "COHORTE_PG_RANDOM_PAGE_COST must be a number from 0.1 to 100, or empty "
                    f"for the server's own, not {page_cost!r}."
                )
            pg_options.append(f"-c random_page_cost={cost}")
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = " ".join(pg_options)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.Member"
AUTHENTICATION_BACKENDS = ["cohorte.accounts.backends.MemberBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "programs:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache: Redis when REDIS_URL is set (shared by every app server), local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # The suite run by several pytest-xdist workers: each clears the cache between its tests,
    # so each gets its own Redis database, as it gets its own test database. The processes
    # a test starts inherit the URL (and the mark that it is already this worker's).
    if not os.environ.get("COHORTE_REDIS_OF_WORKER"):
        _redis = urlsplit(REDIS_URL)
        _worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw") or 0)
        _number = (int(_redis.path.strip("/") or 0) + 1 + _worker) % 16
        REDIS_URL = os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_number}"))
        os.environ["COHORTE_REDIS_OF_WORKER"] = "1"
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cohorte"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

#: where « who is online » lives, shared by every app server: Redis when there is one,
#: else the database (a column written at most every 30 seconds per member)
COHORTE_PRESENCE_STORE = os.environ.get(
    "COHORTE_PRESENCE_STORE", "redis" if REDIS_URL else "database"
)
COHORTE_PRESENCE_SECONDS = 120

# --- Background work: django.tasks, run by django-tasks-db's db_worker.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# --- Languages and time: French first.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
#: dates, times and numbers by language, by name (« SHORT_DATE_FORMAT »): docs/i18n.md
FORMAT_MODULE_PATH = ["cohorte.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}


# --- E-mail (Django's MAILERS): EMAIL_URL=smtp://user:password@host:port?tls=1, console:// or locmem://.
def mailer_from_url(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "locmem":
        return {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme in {"smtp", "smtps"}:
        query = parse_qs(parsed.query)
        return {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": parsed.hostname or "localhost",
                "port": parsed.port or (465 if parsed.scheme == "smtps" else 25),
                "username": unquote(parsed.username or ""),
                "password": unquote(parsed.password or ""),
                "use_ssl": parsed.scheme == "smtps",
                "use_tls": query.get("tls", ["0"])[0] in {"1", "true"},
                "timeout": 30,
            },
        }
    if parsed.scheme.startswith("anymail+"):
        # an e-mail service provider through django-anymail: anymail+postmark://<server-token>@,
        # anymail+mailgun://<api-key>@?sender_domain=mg.example.org …
        esp = parsed.scheme.split("+", 1)[1]
        options: dict[str, object] = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        if parsed.username:
            key = {"postmark": "server_token", "mailgun": "api_key", "sendgrid": "api_key"}
            options[key.get(esp, "api_key")] = unquote(parsed.username)
        return {"BACKEND": f"anymail.backends.{esp}.EmailBackend", "OPTIONS": options}
    raise ImproperlyConfigured(f"EMAIL_URL scheme not understood: {parsed.scheme!r}")


MAILERS = {
    "default": mailer_from_url(os.environ.get("EMAIL_URL", "console://" if DEBUG else "smtp://"))
}
#: rewritten by the standard library so that « Lycées St. Martin <noreply@…> » is quoted
#: as RFC 5322 wants (Django refuses an unquoted period in a display name)
DEFAULT_FROM_EMAIL = formataddr(
    parseaddr(os.environ.get("DEFAULT_FROM_EMAIL", "Cohorte <noreply@cohorte.example>"))
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
#: a video meeting without a place gets a room of its own at this address ({room})
COHORTE_VIDEO_URL = os.environ.get("COHORTE_VIDEO_URL", "https://meet.jit.si/{room}")
#: the right-hand side of our Message-IDs
COHORTE_MESSAGE_ID_DOMAIN = os.environ.get("COHORTE_MESSAGE_ID_DOMAIN", "cohorte.example")
#: the e-mail log keeps this many months; a daily task deletes older rows in batches
COHORTE_EMAIL_RETENTION_MONTHS = int(os.environ.get("COHORTE_EMAIL_RETENTION_MONTHS", "24"))
#: a failed send is tried again this many times in all, waiting longer each time
COHORTE_EMAIL_MAX_ATTEMPTS = int(os.environ.get("COHORTE_EMAIL_MAX_ATTEMPTS", "5"))
COHORTE_EMAIL_RETRY_SECONDS = [60, 300, 1800, 7200]
#: a worker's claim on the rows it sends; a worker that died leaves them to another after it
COHORTE_EMAIL_CLAIM_SECONDS = int(os.environ.get("COHORTE_EMAIL_CLAIM_SECONDS", "600"))
#: how many rows a worker claims at once (sent over one SMTP connection)
COHORTE_EMAIL_CLAIM_BATCH = int(os.environ.get("COHORTE_EMAIL_CLAIM_BATCH", "200"))
#: the rows the SMTP server accepted are written « sent » this many at a time, or after this
#: many seconds: a worker killed in between sends those again once its claim runs out (1: only
#: the e-mail on the wire, at one database commit per e-mail)
COHORTE_EMAIL_MARK_EVERY = int(os.environ.get("COHORTE_EMAIL_MARK_EVERY", "20"))
COHORTE_EMAIL_MARK_SECONDS = float(os.environ.get("COHORTE_EMAIL_MARK_SECONDS", "0.5"))
#: PostgreSQL: a worker's marks are written by a companion thread as each e-mail is accepted,
#: and the next e-mail's content waits for the last mark: a killed worker sends at most one
#: e-mail twice, for about a third of the sending rate (0: marks a few at a time, as above)
COHORTE_EMAIL_MARK_ALONGSIDE = os.environ.get("COHORTE_EMAIL_MARK_ALONGSIDE", "1") == "1"
#: « Envoyer » writes the outbox rows in the request up to this many recipients; beyond, a
#: worker writes them (20,000 renderings take seconds) while the message page shows it
COHORTE_SEND_INLINE_MAX = int(os.environ.get("COHORTE_SEND_INLINE_MAX", "1000"))
#: PostgreSQL: the outbox's claims and marks commit without waiting for the disk; a crash of
#: the database server (not of a worker) may then send the last ~0.6 s of e-mails again
COHORTE_EMAIL_ASYNC_COMMIT = os.environ.get("COHORTE_EMAIL_ASYNC_COMMIT", "1") == "1"
#: how long the outbox waits for a database that went away before giving the batch up
COHORTE_OUTBOX_DB_RETRY_SECONDS = float(os.environ.get("COHORTE_OUTBOX_DB_RETRY_SECONDS", "30"))
COHORTE_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
#: a conversation's e-mail notice waits this long after the first unread message, and
#: announces everything that arrived meanwhile (one e-mail per quiet period)
COHORTE_CONVERSATION_QUIET_SECONDS = int(
    os.environ.get("COHORTE_CONVERSATION_QUIET_SECONDS", "600")
)
#: django-anymail's tracking webhook is protected by HTTP basic auth: "user:password"; without
#: it the webhook refuses every call (messaging/webhooks.py) and check --deploy fails
ANYMAIL = (
    {"WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "")}
    if os.environ.get("ANYMAIL_WEBHOOK_SECRET")
    else {}
)
#: the address links in e-mails point to (invitations, sign-in links)
COHORTE_BASE_URL = os.environ.get("COHORTE_BASE_URL", "http://127.0.0.1:8000")

# --- Security. Production (DEBUG off) is secure by default; each setting can be relaxed by env.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
#: Content-Security-Policy on every response (Django's middleware). Scripts: our own files
#: and those carrying the request's nonce — no inline handler, no eval (htmx is told so in
#: base.html). Styles: our stylesheet; <style> elements are refused, but style *attributes*
#: are allowed (style-src-attr 'unsafe-inline'): templates set widths of progress bars that
#: way, and an attribute cannot carry the selectors a CSS injection needs to read the page.
#: Images may come from any https address: message bodies show pictures by address.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "https:", "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    #: a load balancer probes on plain HTTP (cohorte.core.health answers before the redirect
    #: anyway; this keeps it so if the middleware order changes)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# --- Cohorte's own settings.
COHORTE_LOGIN_ATTEMPTS = int(os.environ.get("COHORTE_LOGIN_ATTEMPTS", "10"))
COHORTE_LOGIN_WINDOW_SECONDS = int(os.environ.get("COHORTE_LOGIN_WINDOW_SECONDS", "900"))
#: events one POST /api/programs/{id}/events may hold; more is a 413
COHORTE_EVENTS_BATCH_MAX = 50_000
#: bytes that endpoint reads (a full batch is ~10 MB of JSON, ~650 bytes an event allowed);
#: more is a 413 before the body is read. Every other request keeps the limit below.
COHORTE_EVENTS_BODY_MAX = 32 * 1024 * 1024
#: a running background job that has not reported progress for this long lost its worker:
#: the worker's clock starts it again
COHORTE_JOB_STALE_SECONDS = int(os.environ.get("COHORTE_JOB_STALE_SECONDS", "120"))
#: rows one import reads, from the page's file or the API's batch alike: more is refused early
COHORTE_IMPORT_MAX_ROWS = int(os.environ.get("COHORTE_IMPORT_MAX_ROWS", "10000"))
#: hours a generated export can be downloaded; then it is deleted
COHORTE_EXPORT_RETENTION_HOURS = int(os.environ.get("COHORTE_EXPORT_RETENTION_HOURS", "72"))
#: a cycle end's archive is the only copy of the members it deleted: kept 30 days
COHORTE_ARCHIVE_RETENTION_DAYS = int(os.environ.get("COHORTE_ARCHIVE_RETENTION_DAYS", "30"))
# Forms and JSON bodies (the events endpoint has its own limit above).
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

# --- Logs: to stderr, one JSON object per line in production (LOG_FORMAT=json), readable
# text in development; every line carries the request id (cohorte.core.logs).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "cohorte.core.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "cohorte.core.logs.JsonFormatter"},
        "text": {"()": "cohorte.core.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django.server": {"level": "WARNING"},  # cohorte.request writes one line per request
    },
}

# --- Error reporting: Sentry (or a compatible service) when SENTRY_DSN is set, else nothing.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        send_default_pii=False,  # no e-mail address, cookie or IP of a member leaves
        environment=os.environ.get("SENTRY_ENVIRONMENT", "development" if DEBUG else "production"),
        release=os.environ.get("SENTRY_RELEASE") or None,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
