"""`make screenshots`: the main pages of the demo, in French and in English, at 1280 px.

Builds the demo in a throwaway SQLite file (var/screenshots.sqlite3: migrate, then
`manage.py demo`), serves it with the development server on 127.0.0.1:8262, signs in as the
demo administrator in Debian's Chromium (headless, through Playwright) and writes
docs/screenshots/<page>-<lang>.png. The server is stopped, its whole process group, whatever
happens; nothing is left running.

    python bench/screenshots.py [--full-page] [--only activity,help] [--out DIR] [--database F]
"""

import argparse
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASE = ROOT / "var" / "screenshots.sqlite3"
OUT = ROOT / "docs" / "screenshots"
HOST, PORT = "127.0.0.1", 8262
WIDTH, HEIGHT = 1280, 860
LANGUAGES = ("fr", "en")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@dataclasses.dataclass(frozen=True)
class Shot:
    name: str  # the file's stem: docs/screenshots/<name>-<lang>.png
    url_name: str
    #: which demo programme the URL takes: a programme kind, or "" for none
    program: str = ""
    slug: str = ""
    signed_in: bool = True


#: the main pages; tests/test_help.py checks that each URL name resolves
PAGES: tuple[Shot, ...] = (
    Shot("sign-in", "accounts:login", signed_in=False),
    Shot("home", "programs:home"),
    Shot("activity", "activity:program", program="accompaniment"),
    Shot("reminder-rules", "activity:reminder-rules", program="accompaniment"),
    Shot("relationships", "meetings:relationships", program="mentoring"),
    Shot("calendar", "meetings:calendar", program="accompaniment"),
    Shot("members", "members:list"),
    Shot("messages", "messaging:compose"),
    Shot("email-log", "messaging:log"),
    Shot("cycle-end", "reports:cycle-end", program="mentoring"),
    Shot("my-space", "accounts:my-space"),
    Shot("help", "help:index"),
    Shot("help-article", "help:article", slug="suivre-l-activite"),
)


def shot_kwargs(shot: Shot, program_ids: dict[str, int]) -> dict[str, object]:
    kwargs: dict[str, object] = {}
    if shot.program:
        kwargs["program_id"] = program_ids[shot.program]
    if shot.slug:
        kwargs["slug"] = shot.slug
    return kwargs


def _configure(*, out: Path, database: Path) -> None:
    global OUT, DATABASE
    OUT, DATABASE = out.resolve(), database.resolve()


def _show(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "cohorte.settings",
        "EMAIL_URL": "locmem://",  # the demo's messages go nowhere
        "DEBUG": "1",  # the development server serves the static files
    }


def build_demo() -> None:
    DATABASE.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
    for command in (["migrate", "--noinput"], ["demo"]):
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )


def demo_programs() -> dict[str, int]:
    """The first programme of each kind in the demo, by kind."""
    os.environ.update({k: v for k, v in _env().items() if k in ("DATABASE_URL", "EMAIL_URL")})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from cohorte.activity.demo import DEMO_ORGANISATION
    from cohorte.programs.models import Program

    ids: dict[str, int] = {}
    for kind, pk in (
        Program.objects.filter(organisation__name=DEMO_ORGANISATION)
        .order_by("start_date", "pk")
        .values_list("kind", "pk")
    ):
        ids.setdefault(kind, pk)
    return ids


def _port_free() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((HOST, PORT)) != 0


def start_server() -> subprocess.Popen:
    if not _port_free():
        raise SystemExit(f"Le port {PORT} est déjà pris / port {PORT} is already in use.")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"{HOST}:{PORT}"],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped as one
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("Le serveur s'est arrêté / the server stopped.")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("Le serveur ne répond pas / the server does not answer.")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=15)
    except ProcessLookupError:
        pass


def take(shots: tuple[Shot, ...], program_ids: dict[str, int], *, full_page: bool) -> list[Path]:
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    from cohorte.activity.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD

    base = f"http://{HOST}:{PORT}"
    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            for language in LANGUAGES:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": HEIGHT},
                    locale="fr-FR" if language == "fr" else "en-GB",
                )
                context.add_cookies([{"name": "django_language", "value": language, "url": base}])
                page = context.new_page()
                signed_in = False
                for shot in shots:
                    if shot.signed_in and not signed_in:
                        page.goto(f"{base}{reverse('accounts:login')}")
                        page.fill("input[name=username]", DEMO_ADMIN_EMAIL)
                        page.fill("input[name=password]", DEMO_ADMIN_PASSWORD)
                        page.press("input[name=password]", "Enter")
                        page.wait_for_url(lambda url: "/connexion/" not in url)
                        _set_language(page, base, language)
                        signed_in = True
                    url = base + reverse(shot.url_name, kwargs=shot_kwargs(shot, program_ids))
                    page.goto(url, wait_until="load")
                    page.wait_for_timeout(250)  # htmx swaps, the presence dots
                    path = OUT / f"{shot.name}-{language}.png"
                    page.screenshot(path=str(path), full_page=full_page)
                    written.append(path)
                    print(f"  {_show(path)}")
                context.close()
        finally:
            browser.close()
    return written


def _set_language(page, base: str, language: str) -> None:
    """The signed-in member's language, as the menu's buttons set it (the account keeps it)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    from django.urls import reverse

    page.request.post(
        f"{base}{reverse('accounts:language')}",
        form={"language": language, "next": "/"},
        headers={"X-CSRFToken": token, "Referer": f"{base}/"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-page", action="store_true", help="the whole page, not 1280×860")
    parser.add_argument("--only", default="", help="comma-separated page names")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNG files go")
    parser.add_argument("--database", type=Path, default=DATABASE, help="the throwaway SQLite")
    args = parser.parse_args()
    _configure(out=args.out, database=args.database)
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        raise SystemExit(f"Chromium introuvable ({CHROMIUM}) : apt-get install chromium")
    wanted = {name for name in args.only.split(",") if name}
    shots = tuple(shot for shot in PAGES if not wanted or shot.name in wanted)
    print(f"Démo / demo: {_show(DATABASE)}")
    build_demo()
    program_ids = demo_programs()
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # reverse() beside Playwright's loop
    server = start_server()
    try:
        written = take(shots, program_ids, full_page=args.full_page)
    finally:
        stop_server(server)
    print(f"{len(written)} captures / screenshots in {_show(OUT)}/")


if __name__ == "__main__":
    main()
