"""Every page, as everyone, with everything: each URL pattern the resolver knows (so a new
URL is walked the day it is added) as each of five roles, with real ids, another
organisation's ids, ids too large for the database, hostile query strings, and POSTs with
empty and hostile bodies. No answer may be a server error (>= 500, or an exception
escaping the view), and no page for someone of one organisation may show the other's names.

/api/ has its own fuzzer (test_api_fuzz.py); the e-mail provider's webhooks and the static
and media files are not pages.
"""

import re
import traceback
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from .fuzz_findings import record_findings
from .fuzz_world import FOREIGN_MARKERS, HOME_MARKERS, World, build_world, world_teardown

SKIPPED_PREFIXES = ("api/", "webhooks/anymail/", "media/", "static/")
ROLES = ("anonymous", "member", "other_manager", "foreign_admin", "admin")
HUGE_ID = "99999999999999999999"


def _routes(resolver=None, prefix: str = ""):
    """(route, pattern) for every URL the project serves, includes walked through."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


ROUTES = sorted(
    {
        route: pattern
        for route, pattern in _routes()
        if not route.lstrip("^").startswith(SKIPPED_PREFIXES)
    }.items()
)
_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _source_keys() -> list[str]:
    """Every query-string or form key a view reads (request.GET.get("x"), data["x"]…), so
    a key added to a view gets hostile values too."""
    keys = {"date", "day", "from", "to", "sort", "page", "size", "q", "next", "id", "program"}
    reads = re.compile(
        r"""(?:GET|POST|query|params|data)(?:\.get(?:list)?\(|\[)\s*["']([a-z_]{1,40})["']"""
    )
    for path in Path(__file__).resolve().parent.parent.joinpath("cohorte").rglob("*.py"):
        if "migrations" not in path.parts:
            keys.update(reads.findall(path.read_text()))
    return sorted(keys)


KEYS = _source_keys()
#: one hostile value per kind of mistake; every key gets each one in turn
HOSTILE_VALUES = {
    "huge": HUGE_ID,
    "superscript": "²",
    "year-9999": "9999-12-31",
    "html": "<script>alert(1)</script>",
    "nul": "a\x00b",  # PostgreSQL refuses it in text: refused before any query
    "empty": "",
}
#: and a few values aimed at one key each, as the issue lists them
AIMED = {
    "page": "-1",
    "size": "abc",
    "sort": "<b>nope</b>",
    "day": "9999-99-99",
    "from": "0001-01-01",
    "to": "9999-12-31",
    "duration": "99999999999",
    "starts_at": "9999-12-31T23:59",
    "next": "https://evil.example/",
}


def _values(world: World, side: str, role: str) -> dict[str, str]:
    """A value for each path parameter by its name: a real id of the right kind from `side`
    (home or foreign), or one too large for any database key (`side="huge"`)."""
    from cohorte.meetings.models import MeetingAttendee
    from cohorte.meetings.services import answer_token

    home = world.home if side != "foreign" else world.foreign
    ids = {name: str(value) for name, value in home.ids.items()}
    # a signed link is for whoever holds it: give each role one of its own organisation
    own = world.foreign if role == "foreign_admin" else world.home
    attendance = MeetingAttendee.objects.filter(meeting_id=own.ids["meeting_id"]).first()
    values = {
        **ids,
        "key": "welcome",
        "token": answer_token(attendance, "accept") if attendance else "x",
        "uidb64": "MQ",
    }
    if side == "huge":
        values = {name: HUGE_ID for name in ids} | {"key": "z" * 60, "token": "²" * 3}
    return values


def _path(route: str, values: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match["name"]
        if name in values:
            return values[name]
        return "1" if name.endswith("_id") else "x"

    return "/" + _PARAMETER.sub(fill, route)


def _form_fields(html: str) -> set[str]:
    return set(re.findall(r"""\bname=["']([^"'{}\s]{1,60})["']""", html)) - {"csrfmiddlewaretoken"}


class Walk:
    """The requests of one URL × role, each in a savepoint rolled back afterwards (so a
    POST that deletes does not change the next request, and an error on PostgreSQL does not
    poison the transaction), with every problem kept rather than stopping at the first."""

    def __init__(self, client: Client, role: str, forbidden: tuple[str, ...]):
        self.client = client
        self.role = role
        self.forbidden = forbidden
        self.problems: list[dict] = []

    def request(self, method: str, path: str, data: dict | None = None, kind: str = ""):
        savepoint = transaction.savepoint_create()
        if kind:
            where = "every query key" if method == "GET" else "every form field"
            aimed = "" if kind == "empty" else ", then page=-1, size=abc, day=9999-99-99…"
            label = f"{method} {path} ({where} = {HOSTILE_VALUES[kind]!r}{aimed})"
        else:
            label = f"{method} {path}" + (" (empty body)" if method == "POST" else "")
        try:
            if method == "GET":
                response = self.client.get(path, data or {})
            else:
                response = self.client.post(path, data or {})
        except Exception:
            self.problems.append(
                {"where": label, "role": self.role, "traceback": traceback.format_exc()}
            )
            return None
        finally:
            transaction.savepoint_rollback(savepoint)
        if response.status_code >= 500:
            self.problems.append(
                {"where": label, "role": self.role, "traceback": f"HTTP {response.status_code}"}
            )
        elif not getattr(response, "streaming", False):
            text = response.content.decode(errors="replace")
            leaked = [marker for marker in self.forbidden if marker in text]
            if leaked:
                self.problems.append(
                    {
                        "where": label,
                        "role": self.role,
                        "traceback": f"foreign data in the answer: {', '.join(leaked)}",
                    }
                )
            return text
        return ""


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        built = build_world()
    yield built
    record_findings("pages", FINDINGS)
    with django_db_blocker.unblock():
        world_teardown()


FINDINGS: list[dict] = []


def test_every_url_pattern_can_be_walked():
    """Regular-expression patterns cannot be filled in from parameter names: keep them to the
    skipped areas, or this walk would miss them."""
    assert ROUTES, "no URL found"
    walkable = {route for route, pattern in ROUTES if isinstance(pattern.pattern, RoutePattern)}
    assert [route for route, _ in ROUTES if route not in walkable] == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", [route for route, _ in ROUTES], ids=lambda r: "/" + r)
def test_page(route: str, role: str, world: World):
    person = world.roles()[role]
    client = Client()  # CSRF is not enforced: the bodies reach the views
    if person is not None:
        client.force_login(person)
    walk = Walk(client, role, HOME_MARKERS if role == "foreign_admin" else FOREIGN_MARKERS)
    has_parameters = bool(_PARAMETER.search(route))
    path = _path(route, _values(world, "home", role))

    page = walk.request("GET", path) or ""
    for name, value in HOSTILE_VALUES.items():
        walk.request(
            "GET", path, dict.fromkeys(KEYS, value) | ({} if name == "empty" else AIMED), name
        )
    if has_parameters:
        walk.request("GET", _path(route, _values(world, "foreign", role)))
        walk.request("GET", _path(route, _values(world, "huge", role)))

    fields = sorted(_form_fields(page) | set(KEYS))
    walk.request("POST", path)
    for name, value in HOSTILE_VALUES.items():
        if name != "empty":
            walk.request("POST", path, dict.fromkeys(fields, value) | AIMED, name)
    if has_parameters:
        walk.request("POST", _path(route, _values(world, "foreign", role)))

    FINDINGS.extend(walk.problems)
    assert not walk.problems, "\n\n".join(
        f"{problem['where']}\n{problem['traceback']}" for problem in walk.problems
    )


@pytest.mark.django_db
def test_the_markers_are_seen_where_they_belong(world: World):
    """The leak check is not empty-handed: each organisation's markers do show in its own
    administrator's members list, so their absence elsewhere means something."""
    for side, markers in ((world.home, HOME_MARKERS), (world.foreign, FOREIGN_MARKERS)):
        client = Client()
        client.force_login(side.admin)
        text = client.get("/membres/").content.decode()
        assert any(marker in text for marker in markers)
