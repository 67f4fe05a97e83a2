"""Request-level refusals: a body too big, JSON too deep, not JSON at all. Each is a clear
400 in the API's one error shape under /api/, a readable page elsewhere — never a 500."""

import json

import pytest
from django.test import Client

from .conftest import signed_in

MB = 1024 * 1024


@pytest.fixture
def client_api(api_as, admin):
    api = api_as(admin)
    api.client.raise_request_exception = False
    return api


def assert_api_error(response, status=400):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    return body


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def test_events_body_over_its_limit_is_a_json_413_that_says_the_limits(client_api, program_a):
    body = b'[{"email": "' + b"x" * (33 * MB) + b'"}]'
    response = client_api.client.post(
        f"/api/programs/{program_a.pk}/events",
        body,
        content_type="application/json",
        headers=client_api.headers,
    )
    body = assert_api_error(response, 413)
    assert "32 Mo" in body["message"] and "50000 événements" in body["message"]


def test_events_body_over_the_forms_limit_is_still_read(client_api, program_a):
    """A full batch is bigger than the 16 MB every other request may send: the events
    endpoint reads up to its own limit, and lists what is wrong in the batch."""
    body = b'[{"email": "' + b"x" * (20 * MB) + b'", "kind": "sign_in"}]'
    response = client_api.client.post(
        f"/api/programs/{program_a.pk}/events",
        body,
        content_type="application/json",
        headers=client_api.headers,
    )
    errors = assert_api_error(response, 400)["errors"]
    assert {(e["index"], e["field"]) for e in errors} >= {(0, "email"), (0, "occurred_at")}
    assert "trop long" in next(e["reason"] for e in errors if e["field"] == "email")


def test_json_body_over_the_limit_on_a_schema_endpoint(client_api):
    body = b'{"name": "' + b"x" * (20 * MB) + b'"}'
    response = client_api.client.post(
        "/api/programs", body, content_type="application/json", headers=client_api.headers
    )
    assert_api_error(response, 400)


@pytest.mark.parametrize("encoding", ["multipart", "urlencoded"])
def test_form_body_over_the_size_limit_is_a_readable_400_page(admin, encoding):
    client = signed_in(admin)
    client.raise_request_exception = False
    if encoding == "multipart":
        response = client.post("/programmes/nouveau/", {"name": "x" * (20 * MB)})
    else:
        response = client.post(
            "/programmes/nouveau/",
            "name=" + "x" * (20 * MB),
            content_type="application/x-www-form-urlencoded",
        )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Requête trop volumineuse : 16 Mo au plus" in page


def test_anonymous_big_form_post_is_refused_before_anything_reads_it(db):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post(
        "/compte/connexion/",
        "email=" + "x" * (20 * MB),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


def test_big_body_read_by_an_endpoint_with_debug_on(client_api, program_a, settings):
    """ninja answers an unexpected exception with a 500 traceback when DEBUG is on: the
    limit errors have their own handler, so the answer is the same 400 in every mode."""
    settings.DEBUG = True
    response = client_api.client.post(  # multipart: the endpoint is the first to read it
        f"/api/programs/{program_a.pk}/events",
        {"a": "x" * (20 * MB)},
        headers=client_api.headers,
    )
    body = assert_api_error(response)
    assert "trop volumineuse" in body["message"]


@pytest.mark.parametrize("path", ["events", "members-import"])
def test_json_nested_100000_deep_is_json_invalide(client_api, program_a, path):
    url = f"/api/programs/{program_a.pk}/events" if path == "events" else "/api/members/import"
    body = deep(100_000) if path == "events" else b'{"rows": ' + deep(100_000) + b"}"
    response = client_api.client.post(
        url, body, content_type="application/json", headers=client_api.headers
    )
    body = assert_api_error(response)
    assert "JSON invalide" in body["message"]


def test_json_nested_deep_on_a_schema_endpoint(client_api):
    response = client_api.client.post(
        "/api/programs",
        b'{"name": ' + deep(100_000) + b"}",
        content_type="application/json",
        headers=client_api.headers,
    )
    assert_api_error(response)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"   ", "application/json"),
        (b"null", "application/json"),
        (b'"a string"', "application/json"),
        (b"42", "application/json"),
        (b"{}", "application/json"),
        (b"not json", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[1, 2", "application/json"),
        (b"NaN", "application/json"),
        (b"[" + b"1" * 5000 + b"]", "application/json"),  # past Python's int digits limit
        (b'{"rows": [' + b"1" * 5000 + b"]}", "application/json"),
        (b"a=b&c=d", "application/x-www-form-urlencoded"),
        (b"plain words", "text/plain"),
        (b"<xml/>", "application/xml"),
    ],
)
@pytest.mark.parametrize("path", ["events", "members-import", "programs"])
def test_bodies_that_are_not_what_is_expected(client_api, program_a, body, content_type, path):
    url = {
        "events": f"/api/programs/{program_a.pk}/events",
        "members-import": "/api/members/import",
        "programs": "/api/programs",
    }[path]
    response = client_api.client.post(
        url, body, content_type=content_type, headers=client_api.headers
    )
    assert_api_error(response)


def test_multipart_body_to_a_json_endpoint(client_api, program_a):
    response = client_api.client.post(
        f"/api/programs/{program_a.pk}/events", {"a": "b"}, headers=client_api.headers
    )
    assert_api_error(response)


def test_too_many_form_fields_is_a_400(admin):
    client = signed_in(admin)
    client.raise_request_exception = False
    data = "&".join(f"f{i}=1" for i in range(20_000))
    response = client.post(
        "/programmes/nouveau/", data, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400


def test_valid_batch_still_accepted(client_api, program_a, mentee):
    response = client_api.post(
        f"/api/programs/{program_a.pk}/events",
        [{"email": mentee.email, "kind": "sign_in", "occurred_at": "2026-01-01T10:00:00+01:00"}],
    )
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"created": 1, "ignored": 0}


def test_json_nested_deep_on_a_schema_endpoint_says_json_invalide(client_api):
    response = client_api.client.post(
        "/api/programs", deep(100_000), content_type="application/json", headers=client_api.headers
    )
    assert "JSON invalide" in assert_api_error(response)["message"]


@pytest.mark.parametrize("path", ["events", "members-import", "programs"])
def test_nul_character_in_a_body_is_refused(client_api, program_a, mentee, path):
    url, body = {
        "events": (
            f"/api/programs/{program_a.pk}/events",
            [{"email": "a\x00b@x.example", "kind": "sign_in", "occurred_at": "2026-01-01T00:00Z"}],
        ),
        "members-import": ("/api/members/import", {"rows": [{"email": "a\x00b@x.example"}]}),
        "programs": (
            "/api/programs",
            {
                "name": "A\x00",
                "kind": "training",
                "start_date": "2026-01-01",
                "end_date": "2026-01-02",
                "objective": 1,
                "description": "\x00",
            },
        ),
    }[path]
    response = client_api.post(url, body)
    assert "caractère nul" in json.dumps(assert_api_error(response), ensure_ascii=False)


@pytest.mark.parametrize("path", ["/api/members", "/api/programs/{id}/participants"])
def test_nul_character_in_a_query_string_is_refused(client_api, program_a, path):
    response = client_api.get(path.format(id=program_a.pk), q="a\x00b")
    body = assert_api_error(response)
    assert body["errors"][0]["field"] == "q"


def test_a_nul_character_in_a_form_is_refused_and_in_a_search_is_inert(admin, mentee):
    """PostgreSQL cannot store or compare U+0000 in text: a form with one is refused before
    any view, a search box with one searches for the other words."""
    client = signed_in(admin)
    response = client.post(f"/membres/{mentee.pk}/message/", {"subject": "x\x00", "body": "y"})
    assert response.status_code == 400
    assert "caractère nul" in response.content.decode()
    response = client.get("/messages/personnes/", {"q": "Léa\x00"})
    assert response.status_code == 200
    assert "lea.mentee@poitiers.example" in response.content.decode()
