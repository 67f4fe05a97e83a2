"""The simulated people of the load test; bench/load/run.py starts locust on this file with
LOAD_CONFIG naming a JSON file it wrote (servers, accounts, the API token, where to write
the results). Read run.py first.

- `Manager`: one per manager account of the data set. Signs in through the real form (CSRF
  token from the page, session cookie), then browses the activity table (sorts, search,
  pages), the members list, the e-mail log (following its cursor), the calendar (the
  month's page and its data endpoint), switches language with a CSRF-protected POST, and
  checks that another manager's programme answers 404.
- `ApiClient`: one, with a bearer token. Posts event batches with client_ids; every few
  batches posts the same batch again on purpose (it must count nothing twice); a batch that
  got no answer (its server died under it) is posted again until acknowledged, as a real
  client would.

Each user's requests go to the app servers in turn (`Balancer`: a round-robin with the rule
of a real load balancer that matters here — a connection *refused* sent nothing, so it is
tried on the next server, and that server is left alone for a few seconds). A request cut
off in flight is not retried: it is recorded as failed, with its server and start time, and
run.py counts those apart from the rest.
"""

import datetime as dt
import itertools
import json
import os
import random
import re
import time
from pathlib import Path

import requests
from locust import User, between, constant, events, task

CONFIG = json.loads(Path(os.environ["LOAD_CONFIG"]).read_text())
SERVERS: list[str] = CONFIG["servers"]
TIMEOUT = CONFIG.get("timeout", 60)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NEXT_CURSOR = re.compile(r'[?&;]after=([^"&]+)')
SEARCHES = ["Martin", "Bernard", "dubois", "Marie", "lo", "Smith", "Tho"]
ACTIVITY_SORTS = [
    "name",
    "email",
    "profiles_visited",
    "professionals_contacted",
    "upcoming_meetings",
    "confirmed_meetings",
    "progress",
    "last_access",
    "flags",
]
MEMBER_SORTS = ["name", "email", "completion", "last_session", "relationships", "since"]


class StatusError(Exception):
    """The server answered, but not what a person would expect to see."""


def loopback_cookies(jar) -> None:
    """With DEBUG off the session and CSRF cookies are Secure (settings.py), and a client
    sends a Secure cookie over https only. The app servers listen on plain http on loopback
    (TLS ends at the reverse proxy in production), so this client keeps them as plain
    cookies. (A cookie policy would not do: requests copies the jar into a default one.)"""
    for cookie in jar:
        cookie.secure = False


def _refused(error: BaseException) -> bool:
    """Connection refused: nothing was sent, so trying another server is safe."""
    seen: set[int] = set()
    stack: list[object] = [error]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, ConnectionRefusedError):
            return True
        stack.extend([item.__cause__, item.__context__, *item.args])
        stack.append(getattr(item, "reason", None))
    return "Connection refused" in str(error) or "Errno 111" in str(error)


class Balancer:
    def __init__(self, servers: list[str]) -> None:
        self.servers = servers
        self.down_until: dict[str, float] = {}
        self.rerouted = 0

    def order(self, turn: int) -> list[str]:
        """The live servers, starting with this turn's: a user's successive requests go to
        one server, then the other."""
        now = time.monotonic()
        live = [s for s in self.servers if self.down_until.get(s, 0) <= now] or self.servers
        first = turn % len(live)
        return live[first:] + live[:first]

    def refused(self, server: str) -> None:
        self.down_until[server] = time.monotonic() + 5
        self.rerouted += 1


BALANCER = Balancer(SERVERS)
LOG: list[tuple] = []  # (start, name, ms, ok, server, error, status, user_kind)
API_RESULTS = {
    "acknowledged": [],
    "unacknowledged": [],
    "pending": None,  # the batch being posted: when the run ends under it, its answer is lost
    "retried_on_purpose": 0,
    "doubled": 0,
}
ENVIRONMENT = {}


@events.init.add_listener
def _init(environment, **_kwargs):
    ENVIRONMENT["env"] = environment


@events.request.add_listener
def _count(**_kwargs):
    if len(LOG) >= CONFIG["max_requests"]:
        env = ENVIRONMENT.get("env")
        if env is not None and env.runner is not None and not ENVIRONMENT.get("capped"):
            ENVIRONMENT["capped"] = time.time()
            env.runner.quit()


@events.quitting.add_listener
def _write_results(**_kwargs):
    Path(CONFIG["results"]).write_text(
        json.dumps(
            {
                "requests": LOG,
                "rerouted": BALANCER.rerouted,
                "capped_at": ENVIRONMENT.get("capped"),
                "api": API_RESULTS,
            }
        )
    )


class Browser(User):
    abstract = True
    kind = "browser"

    def on_start(self) -> None:
        self.http = requests.Session()
        self.turn = itertools.count(random.randrange(len(SERVERS)))

    def send(self, method: str, path: str, *, name: str, expect=(200,), **kwargs):
        """One request through the balancer, recorded under `name`; returns the response or
        None when it failed."""
        response, error, server = None, None, ""
        start, started = time.time(), time.perf_counter()
        for server in BALANCER.order(next(self.turn)):
            start, started = time.time(), time.perf_counter()
            try:
                response = self.http.request(
                    method, server + path, timeout=TIMEOUT, allow_redirects=False, **kwargs
                )
            except requests.RequestException as failure:
                if _refused(failure):
                    BALANCER.refused(server)
                    continue
                error = failure
            else:
                loopback_cookies(self.http.cookies)
            break
        else:
            error = ConnectionRefusedError("every app server refused the connection")
        elapsed = (time.perf_counter() - started) * 1000
        if response is not None and response.status_code not in expect:
            error = StatusError(f"{response.status_code} (expected {expect}) for {path}")
        LOG.append(
            (
                start,
                name,
                round(elapsed, 2),
                error is None,
                server,
                type(error).__name__ if error else "",
                response.status_code if response is not None else 0,
                self.kind,
            )
        )
        self.environment.events.request.fire(
            request_type=method,
            name=name,
            response_time=elapsed,
            response_length=len(response.content) if response is not None else 0,
            response=response,
            context={"server": server},
            exception=error,
            url=server + path,
        )
        return response if error is None else None


class Manager(Browser):
    """A programme manager in a browser; the accounts are taken in turn, one per user."""

    fixed_count = CONFIG["managers_count"]
    wait_time = between(CONFIG["think_min"], CONFIG["think_max"])
    kind = "manager"
    _accounts = itertools.count()

    def on_start(self) -> None:
        super().on_start()
        self.account = CONFIG["managers"][next(Manager._accounts) % len(CONFIG["managers"])]
        self.program = self.account["program"]
        self.pages = max(1, self.account["participants"] // 25)
        self.member_pages = max(1, self.account["members"] // 25)
        self.signed_in = False
        self.sign_in()
        # what a manager opens first: their programme, the members, the log, the calendar
        self.activity_first_page()
        self.members()
        self.email_log()
        self.calendar_data()

    def sign_in(self) -> None:
        page = self.send("GET", "/compte/connexion/", name="sign-in form")
        token = CSRF_FIELD.search(page.text) if page is not None else None
        if token is None:
            return
        answer = self.send(
            "POST",
            "/compte/connexion/",
            name="sign in (POST, CSRF)",
            expect=(302,),
            data={
                "username": self.account["email"],
                "password": self.account["password"],
                "csrfmiddlewaretoken": token.group(1),
            },
        )
        self.signed_in = answer is not None

    def get(self, path: str, name: str, expect=(200,), **params):
        if not self.signed_in:
            self.sign_in()
            if not self.signed_in:
                return None
        return self.send("GET", path, name=name, expect=expect, params=params or None)

    @task(3)
    def activity_first_page(self) -> None:
        self.get(f"/programmes/{self.program}/", "activity table: first page")

    @task(3)
    def activity_sorted(self) -> None:
        self.get(
            f"/programmes/{self.program}/",
            "activity table: sorted",
            sort=random.choice(ACTIVITY_SORTS),
            order=random.choice(["asc", "desc"]),
        )

    @task(2)
    def activity_search(self) -> None:
        self.get(
            f"/programmes/{self.program}/", "activity table: search", q=random.choice(SEARCHES)
        )

    @task(2)
    def activity_page(self) -> None:
        self.get(
            f"/programmes/{self.program}/",
            "activity table: page n",
            page=random.randint(1, self.pages),
            sort=random.choice(ACTIVITY_SORTS),
        )

    @task(2)
    def members(self) -> None:
        self.get("/membres/", "members list: first page")

    @task(2)
    def members_sorted_page(self) -> None:
        self.get(
            "/membres/",
            "members list: sorted, page n",
            sort=random.choice(MEMBER_SORTS),
            order=random.choice(["asc", "desc"]),
            page=random.randint(1, self.member_pages),
        )

    @task(1)
    def members_search(self) -> None:
        self.get("/membres/", "members list: search", q=random.choice(SEARCHES))

    @task(2)
    def email_log(self) -> None:
        page = self.get("/messages/registre/", "e-mail log: first page")
        cursor = NEXT_CURSOR.search(page.text) if page is not None else None
        if cursor is not None:
            self.send(
                "GET",
                f"/messages/registre/?after={cursor.group(1)}",
                name="e-mail log: next page",
            )

    @task(1)
    def email_log_sent(self) -> None:
        self.get("/messages/registre/", "e-mail log: status filter", status="sent")

    @task(2)
    def calendar_data(self) -> None:
        today = dt.date.today()  # noqa: DTZ011 — a month around now, in any zone
        first = today.replace(day=1) + dt.timedelta(days=32 * random.randint(-2, 2))
        first = first.replace(day=1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        self.get(
            f"/api/programs/{self.program}/meetings",
            "calendar: month data (API)",
            **{"from": first.isoformat(), "to": last.isoformat()},
        )

    @task(1)
    def calendar_page(self) -> None:
        self.get(f"/programmes/{self.program}/seances/", "calendar: month page")

    @task(1)
    def someone_elses_programme(self) -> None:
        self.get(
            f"/programmes/{self.account['foreign_program']}/",
            "another manager's programme (404 expected)",
            expect=(404,),
        )

    @task(1)
    def language_switch(self) -> None:
        if not self.signed_in:
            return
        token = self.http.cookies.get("csrftoken", "")
        self.send(
            "POST",
            "/compte/langue/",
            name="language switch (POST, CSRF)",
            expect=(302,),
            data={"language": "fr", "next": f"/programmes/{self.program}/"},
            headers={"X-CSRFToken": token},
        )


class ApiClient(Browser):
    """An integration posting activity with a token; it retries until acknowledged."""

    fixed_count = 1
    wait_time = constant(CONFIG["api"]["pause"])
    kind = "api"
    _batches = itertools.count(1)

    def on_start(self) -> None:
        super().on_start()
        api = CONFIG["api"]
        self.http.headers["Authorization"] = f"Bearer {api['token']}"
        self.path = f"/api/programs/{api['program']}/events"
        self.rng = random.Random(api["seed"])

    def batch(self, number: int) -> list[dict]:
        api = CONFIG["api"]
        now = dt.datetime.now(dt.UTC)
        items = []
        for i in range(api["batch"]):
            kind = self.rng.choice(["course_access", "profile_view", "contact"])
            item = {
                "email": api["member_email"].format(n=self.rng.randrange(api["members"])),
                "kind": kind,
                "occurred_at": (now - dt.timedelta(seconds=self.rng.randrange(3600))).isoformat(),
                "client_id": f"{api['run']}-{number}-{i}",
            }
            if kind != "course_access":
                item["target_email"] = api["pro_email"].format(n=self.rng.randrange(api["pros"]))
            items.append(item)
        return items

    def post(self, items: list[dict], name: str) -> dict | None:
        """Post until the server acknowledges (a batch is all or nothing, and a retry counts
        nothing twice); give up after a few tries."""
        for _attempt in range(6):
            response = self.send("POST", self.path, name=name, json=items)
            if response is not None:
                return response.json()
            time.sleep(1)
        return None

    @task
    def post_batch(self) -> None:
        number = next(ApiClient._batches)
        items = self.batch(number)
        API_RESULTS["pending"] = [number, len(items)]
        answer = self.post(items, "API: events batch")
        API_RESULTS["pending"] = None
        if answer is None:
            API_RESULTS["unacknowledged"].append([number, len(items)])
            return
        API_RESULTS["acknowledged"].append([number, len(items)])
        if number % CONFIG["api"]["repeat_every"] == 0:
            again = self.post(items, "API: same batch again (on purpose)")
            API_RESULTS["retried_on_purpose"] += 1
            if again is not None and again["created"] != 0:
                API_RESULTS["doubled"] += again["created"]
