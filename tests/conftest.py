"""The people who recur in every test, so a permission test reads like a sentence:
an organisation administrator, two managers of different programmes, a mentor (professional),
a mentee (participant), and an outsider from another organisation."""

import datetime as dt
import socket
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import Language, Member
from cohorte.programs.models import Enrolment, Group, Organisation, Program, ProgramKind, Role

PASSWORD = "correct horse battery staple"
#: the time zone of `organisation`, by whose midnights its programmes' windows are cut
ORGANISATION_TZ = ZoneInfo("Europe/Paris")


def organisation_today() -> dt.date:
    """The organisation's day: from midnight to one in Paris, UTC's date is still
    yesterday's."""
    return dt.datetime.now(tz=ORGANISATION_TZ).date()


TODAY = organisation_today()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs 0.3 s a member; the tests create hundreds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _french_by_default():
    """Each test starts in the default language, whatever the request before it activated
    (the locale middleware leaves the last page's language active in the thread)."""
    from django.conf import settings as django_settings
    from django.utils import translation

    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: throttles and cached choices do not leak."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organisation(db) -> Organisation:
    return Organisation.objects.create(name="Lycées de Poitiers", timezone=ORGANISATION_TZ.key)


@pytest.fixture
def admin(organisation) -> Member:
    return Member.objects.create_user(
        "admin@poitiers.example",
        PASSWORD,
        organisation=organisation,
        is_org_admin=True,
        first_name="Anne",
        last_name="Admin",
    )


def make_member(organisation, email, *, first="", last="", language=Language.FR, **extra):
    return Member.objects.create_user(
        email,
        PASSWORD,
        organisation=organisation,
        first_name=first,
        last_name=last,
        language=language,
        **extra,
    )


@pytest.fixture
def manager_a(organisation) -> Member:
    return make_member(organisation, "manon.a@poitiers.example", first="Manon", last="Alpha")


@pytest.fixture
def manager_b(organisation) -> Member:
    return make_member(
        organisation, "bob.b@poitiers.example", first="Bob", last="Beta", language=Language.EN
    )


@pytest.fixture
def group(organisation) -> Group:
    return Group.objects.create(organisation=organisation, name="Vienne")


def running_program(organisation, name, kind, objective, manager, group=None) -> Program:
    """A programme that started 30 days ago and ends in 60, with one manager."""
    program = Program.objects.create(
        organisation=organisation,
        group=group,
        name=name,
        kind=kind,
        start_date=TODAY - dt.timedelta(days=30),
        end_date=TODAY + dt.timedelta(days=60),
        objective=objective,
    )
    program.managers.add(manager)
    return program


@pytest.fixture
def program_a(organisation, group, manager_a) -> Program:
    return running_program(
        organisation, "Orientation A", ProgramKind.ACCOMPANIMENT, 3, manager_a, group=group
    )


@pytest.fixture
def program_b(organisation, manager_b) -> Program:
    return running_program(organisation, "Mentorat B", ProgramKind.MENTORING, 2, manager_b)


@pytest.fixture
def mentor(organisation, program_a, program_b) -> Member:
    member = make_member(organisation, "marc.mentor@poitiers.example", first="Marc", last="Mentor")
    Enrolment.objects.create(program=program_a, member=member, role=Role.PROFESSIONAL)
    Enrolment.objects.create(program=program_b, member=member, role=Role.MENTOR)
    return member


@pytest.fixture
def mentee(organisation, program_a) -> Member:
    member = make_member(organisation, "lea.mentee@poitiers.example", first="Léa", last="Mentee")
    Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    return member


@pytest.fixture
def outsider(db) -> Member:
    other = Organisation.objects.create(name="Ailleurs", timezone="America/Montreal")
    return make_member(other, "olga@ailleurs.example", first="Olga", last="Outsider")


def hold_meetings(program: Program, member: Member, other: Member, count: int) -> None:
    """`count` meetings held yesterday and confirmed by both sides."""
    from cohorte.meetings.services import meeting_create

    for _ in range(count):
        meeting_create(
            program=program,
            attendees=[member, other],
            starts_at=timezone.now() - dt.timedelta(days=1),
            duration_minutes=30,
            status="confirmed",
            by=None,
        )


def signed_in(member: Member) -> Client:
    client = Client()
    client.force_login(member)
    return client


class Api:
    """A JSON client with a bearer token, as another tool would call us."""

    def __init__(self, member: Member):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token_issue(member=member)}"}

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, data):
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def api_as():
    return Api


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; messages arrive as email.message.Message objects."""
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's name
            message = message_from_bytes(envelope.original_content or envelope.content)
            message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(message)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    try:
        yield handler.messages
    finally:
        controller.stop()


def body_of(message) -> str:
    """The text a person reads: the text/plain part, however deep (an HTML alternative and
    an .ics attachment beside it), else the first part that is not a container."""
    leaves = [part for part in message.walk() if not part.is_multipart()]
    text = [p for p in leaves if p.get_content_type() == "text/plain" and not p.get_filename()]
    part = (text or leaves)[0]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def pytest_terminal_summary(terminalreporter):
    """Say plainly when the browser tests did not run, and why."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "test_browser" in getattr(report, "nodeid", "")
    ]
    if skipped:
        reason = skipped[0].longrepr[2] if isinstance(skipped[0].longrepr, tuple) else ""
        terminalreporter.write_line(
            f"ATTENTION : {len(skipped)} test(s) navigateur ignoré(s) — {reason}. "
            "Browser tests were skipped: install Debian's chromium to run them.",
            yellow=True,
            bold=True,
        )


def database_url() -> str:
    """The test database as another process (a worker, a second app server) reaches it."""
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
        user = db.get("USER") or "postgres"
        return f"postgres://{user}@{host}:{port}/{db['NAME']}"
    return f"sqlite:///{db['NAME']}"


def run_tasks() -> None:
    """Run every queued background task through the real worker (django-tasks-db)."""
    from django.core.management import call_command

    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
