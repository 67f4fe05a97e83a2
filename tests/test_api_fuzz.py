"""Schemathesis against /api/openapi.json: every operation, with data that fits the schema
(positive) and data that breaks it (negative), as the home administrator with a valid token.

Checks, and why these four:
- ``not_a_server_error``: no 5xx, ever — the point of issue 9;
- ``status_code_conformance``: every status the API answers is declared, so a client (and
  this test) knows the 400/401/403/404 it may get;
- ``content_type_conformance``: every answer is the declared JSON, never an HTML error page;
- ``response_schema_conformance``: every body has the declared shape (ErrorOut for errors).
Left out: ``negative_data_rejection`` and ``positive_data_acceptance`` judge business rules
the schema cannot express (a real programme refusing a duplicate is a correct 400; pydantic
reads the text "1" as the integer 1 on purpose); ``ignored_auth`` is the 401 test at the
bottom, and the access rules have their own tests (test_api.py, test_permissions.py).

The application is Django's own WSGI handler, called in-process by schemathesis, inside
pytest-django's test transaction (Django's request signals would close that connection
between requests: they are disconnected while the module runs). Path ids, e-mails and ids
in bodies are half the time real ones of the home or the foreign organisation (the hooks
below), and integers are sometimes too large for the database. Each example runs in a
savepoint rolled back afterwards, so a DELETE does not take the real ids away from the next
example, and generation is derandomised: the same examples on every run, on SQLite and
PostgreSQL alike. The server errors met are written to the file FUZZ_FINDINGS names.
"""

import re
import traceback

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core import NotSet

from .fuzz_findings import record_findings
from .fuzz_world import World, build_world, world_teardown

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: examples per operation and generation phase: enough to reach every branch of a
#: validator, few enough that the whole API takes well under two minutes
MAX_EXAMPLES = 30


app = WSGIHandler()

# The schema is read from the running application, as a client would read it.
request_started.disconnect(close_old_connections)
try:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
finally:
    request_started.connect(close_old_connections)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)

#: real ids of each kind, filled by the `world` fixture; read when an example is drawn
REAL_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, path ids are real ones (home or foreign), not random numbers."""
    if not path_parameters:
        return st.just(path_parameters)
    real = {name: st.sampled_from(REAL_IDS[name]) for name in path_parameters if REAL_IDS.get(name)}
    if not real:
        return st.just(path_parameters)
    return st.one_of(
        st.just(path_parameters),
        st.fixed_dictionaries({**{k: st.just(v) for k, v in path_parameters.items()}, **real}),
    )


#: body fields that name people or things: sometimes a real one, so the request goes past
#: « unknown e-mail » into the code that does the work
REAL_EMAILS: list[str] = []
_EMAIL_FIELDS = {
    "email",
    "reported_by_email",
    # the campaigns' people (a batch's lines, the HR person, the interviews' filter)
    "collaborator_email",
    "manager_email",
    "second_approver_email",
    "hr_email",
    "manager",
}
_EMAIL_LIST_FIELDS = {"emails", "attendees"}
_ID_FIELDS = {
    "program": "program_id",
    "cohort": "cohort_id",
    "group": "group_id",
    "mentor": "member_id",
    "mentee": "member_id",
}
_ID_LIST_FIELDS = {"people": "member_id"}


#: integers no database key holds (2⁶³, 10²⁰) and one below any: they must be refused
#: with a 400, never reach the database
HUGE = [2**63, 10**20, -(2**63) - 1]


#: dates no programme has: they must be refused, not stored (a meeting in 9999 broke pages)
FAR_DATETIMES = ["0001-01-01T00:00:00Z", "0233-05-02T10:38:54Z", "9999-12-31T23:59:59Z"]
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _real_value(key, value):
    """A strategy for a real value of this field, or None when the field names nothing."""
    if key in _EMAIL_FIELDS and isinstance(value, str):
        return st.sampled_from(REAL_EMAILS)
    if key in _EMAIL_LIST_FIELDS and isinstance(value, list):
        return st.lists(st.sampled_from(REAL_EMAILS), min_size=1, max_size=3)
    if key in _ID_FIELDS and type(value) is int:
        return st.sampled_from(REAL_IDS[_ID_FIELDS[key]] + HUGE)
    if key in _ID_LIST_FIELDS and isinstance(value, list):
        ids = REAL_IDS[_ID_LIST_FIELDS[key]] + HUGE
        return st.lists(st.sampled_from(ids), min_size=1, max_size=3)
    return None


def _realised(value, key=None):
    """The same body or query with real e-mails and ids where fields name them, any other
    integer sometimes replaced by one too large for the database, any date by one out of
    every range, and any other text with a NUL character."""
    real = _real_value(key, value) if key is not None else None
    if real is not None:
        return real
    if isinstance(value, dict):
        return st.fixed_dictionaries({k: _realised(v, k) for k, v in value.items()})
    if isinstance(value, list):
        return st.tuples(*[_realised(item) for item in value]).map(list)
    if type(value) is int:
        return st.sampled_from([value, *HUGE])
    if isinstance(value, str) and _ISO_DATE.match(value):
        extremes = FAR_DATETIMES if "T" in value else [d[:10] for d in FAR_DATETIMES]
        return st.sampled_from([value, *extremes])
    if isinstance(value, str):
        # PostgreSQL refuses a NUL character in text: it must be refused before the query
        return st.sampled_from([value, value + "\x00"])
    return st.just(value)


@schema.hook
def flatmap_body(context, body):
    """Half the time, e-mails and ids in the body are real ones (home or foreign)."""
    if not REAL_EMAILS or not isinstance(body, dict | list):
        return st.just(body)
    return st.one_of(st.just(body), _realised(body))


@schema.hook
def flatmap_query(context, query):
    if not REAL_EMAILS or not query:
        return st.just(query)
    return st.one_of(st.just(query), _realised(query))


FAILURES: list[dict] = []


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        built = build_world()
    for name in built.home.ids:
        REAL_IDS[name] = [built.home.ids[name], built.foreign.ids[name]]
    REAL_EMAILS[:] = [
        built.home.mentee.email,
        built.home.mentor.email,
        built.home.admin.email,
        built.foreign.mentee.email,
    ]
    REAL_IDS["member_id"] = [
        built.home.mentee.pk,
        built.home.mentor.pk,
        built.home.admin.pk,
        built.foreign.mentee.pk,
    ]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield built
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    REAL_IDS.clear()
    REAL_EMAILS.clear()
    record_findings("api", FAILURES)
    with django_db_blocker.unblock():
        world_teardown()


@pytest.fixture(autouse=True)
def _localhost(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    # the data is shared on purpose (each example rolls back its savepoint), and a slow or
    # heavily filtered generation is a reason to look, never a reason for CI to fail
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@pytest.mark.django_db
def test_api_operation(case, world: World):
    errors: list[str] = []

    def keep(sender, request, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(keep)
    savepoint = transaction.savepoint_create()
    try:
        response = case.call(headers={"Authorization": f"Bearer {world.token}"})
        where = (
            f"{case.method} {case.formatted_path}"
            + (f" ?{case.query}" if case.query else "")
            + (f" body={str(case.body)[:200]}" if not isinstance(case.body, NotSet) else "")
        )
        if response.status_code >= 500:
            FAILURES.append({"where": where, "traceback": errors[-1] if errors else ""})
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:
            if response.status_code < 500:  # an answer that is not the declared one
                message = [
                    line.strip(" |") for line in str(failure).splitlines() if line.strip(" |")
                ]
                summary = ": ".join(line.lstrip("- ") for line in message[1:3])
                text = "\n".join([*message[:12], summary])
                FAILURES.append({"where": where, "traceback": text})
            raise
    finally:
        transaction.savepoint_rollback(savepoint)
        got_request_exception.disconnect(keep)


@pytest.mark.django_db
def test_every_operation_answers_401_in_the_error_shape_without_a_token(client, world: World):
    """The fuzzer runs with a token; without one, every operation says 401 in the declared
    shape, and the schema declares that 401."""
    document = client.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "401" in operation["responses"], f"{method} {path} does not declare 401"
            url = re.sub(r"\{[^}]+\}", "1", path)
            response = client.generic(method.upper(), url, "{}", content_type="application/json")
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            assert response.json()["message"], f"{method} {path}"
            assert response.json()["errors"] == []


def test_schema_names_are_unique_across_the_api():
    """Two schemas with one class name become one component in /api/openapi.json (the last
    one wins), and the other operation's answers are then checked against the wrong shape."""
    import importlib
    import pkgutil

    from ninja import Schema

    import cohorte

    owners: dict[str, set[str]] = {}
    for module_info in pkgutil.walk_packages(cohorte.__path__, "cohorte."):
        if not module_info.name.endswith(".api"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Schema) and value is not Schema:
                if value.__module__ == module.__name__:
                    owners.setdefault(value.__name__, set()).add(value.__module__)
    assert {name: where for name, where in owners.items() if len(where) > 1} == {}
