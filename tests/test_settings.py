"""The same code runs embedded (SQLite, local memory) or at scale (PostgreSQL, Redis),
chosen by environment variables alone."""

import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.core.cache import cache
from django.db import connection


def test_database_follows_database_url():
    url = os.environ.get("DATABASE_URL", "")
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_cache_follows_redis_url():
    if os.environ.get("REDIS_URL"):
        assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
        import redis

        cache.set("probe", 41)
        cache.incr("probe")
        raw = redis.Redis.from_url(os.environ["REDIS_URL"])
        assert any(
            b"probe" in key for key in raw.keys(f"{settings.CACHES['default']['KEY_PREFIX']}*")
        )
        assert cache.get("probe") == 42
        cache.delete("probe")
    else:
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")


def _connection_options(url: str, **extra: str) -> subprocess.CompletedProcess:
    """What a process started with DATABASE_URL=url prints of its connection's libpq
    options (`-c …`, as settings write them), or how it refuses to start."""
    env = {**os.environ, "DATABASE_URL": url, **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")
    script = (
        "import django; django.setup(); from django.db import connections; "
        "print(connections['default'].get_connection_params().get('options', ''))"
    )
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_postgresql_connections_plan_for_ssds_unless_told_otherwise(db, tmp_path):
    """random_page_cost 1.1 on every PostgreSQL connection (at PostgreSQL's 4 a search read
    every member rather than the trigram indexes); another value if asked, empty leaves the
    server's own, a value out of its bounds stops the start with the variable's name; SQLite
    gets no such option."""

    def options(url: str, **extra: str) -> str:
        result = _connection_options(url, **extra)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    url = "postgres://postgres@127.0.0.1:5432/test"
    assert options(url) == "-c jit=off -c random_page_cost=1.1"
    assert options(url, COHORTE_PG_RANDOM_PAGE_COST=" 2 ") == "-c jit=off -c random_page_cost=2.0"
    assert options(url, COHORTE_PG_RANDOM_PAGE_COST="") == "-c jit=off"
    for bad in ("0", "-1", "nan", "inf", "1e400", "1,1", "quatre"):
        refused = _connection_options(url, COHORTE_PG_RANDOM_PAGE_COST=bad)
        assert refused.returncode != 0
        assert "COHORTE_PG_RANDOM_PAGE_COST must be a number from 0.1 to 100" in refused.stderr
    assert options(f"sqlite:///{tmp_path / 'x.sqlite3'}") == ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW random_page_cost")
            assert cursor.fetchone()[0] == "1.1"


def check_deploy(tmp_path, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "cohorte.example",
        "COHORTE_VAR_DIR": str(tmp_path),
        **extra,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if not env.get("ANYMAIL_WEBHOOK_SECRET"):
        env.pop("ANYMAIL_WEBHOOK_SECRET", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(tmp_path, ANYMAIL_WEBHOOK_SECRET=f"anymail:{secrets.token_urlsafe(32)}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_without_the_webhook_secret(tmp_path):
    """Without it the tracking webhook would be open (it is closed instead: no status arrives)."""
    result = check_deploy(tmp_path, ANYMAIL_WEBHOOK_SECRET="")
    assert result.returncode != 0
    assert "messaging.W001" in result.stdout + result.stderr
    half = check_deploy(tmp_path, ANYMAIL_WEBHOOK_SECRET="no-colon-here")
    assert half.returncode != 0 and "messaging.W001" in half.stdout + half.stderr


def test_make_check_deploy_sets_a_webhook_secret():
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    target = makefile.split("check-deploy:", 1)[1].split("\n\n", 1)[0]
    assert "ANYMAIL_WEBHOOK_SECRET=" in target


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "", "COHORTE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
