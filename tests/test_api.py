"""The JSON API is a contract: other tools call it with cases we have not seen."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.activity.models import ActivityEvent
from cohorte.programs.models import Enrolment


@pytest.fixture
def api(api_as, admin):
    return api_as(admin)


@pytest.fixture
def program(api):
    response = api.post(
        "/api/programs",
        {
            "name": "Orientation API",
            "kind": "accompaniment",
            "start_date": "2026-03-01",
            "end_date": "2026-03-31",
            "objective": 2,
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def running_program(api, now):
    """A programme that runs from 60 days ago to 60 days ahead."""
    response = api.post(
        "/api/programs",
        {
            "name": "Now",
            "kind": "accompaniment",
            "start_date": str((now - dt.timedelta(days=60)).date()),
            "end_date": str((now + dt.timedelta(days=60)).date()),
            "objective": 3,
        },
    )
    assert response.status_code == 201
    return response.json()


def add(api, program, email, role="participant", **extra):
    response = api.post(
        f"/api/programs/{program['id']}/participants",
        {
            "email": email,
            "first_name": email.split("@")[0].title(),
            "last_name": "X",
            "role": role,
            **extra,
        },
    )
    assert response.status_code in (200, 201), response.content
    return response.json()


def rows(api, program, **params):
    response = api.get(f"/api/programs/{program['id']}/participants", **params)
    assert response.status_code == 200, response.content
    return response.json()


def test_program_create_returns_it_with_status(program):
    assert program["id"] and program["status"] == "finished"
    assert program["kind"] == "accompaniment"


def test_program_validation(api, group, outsider):
    bad = api.post(
        "/api/programs",
        {
            "name": "",
            "kind": "cooking",
            "start_date": "2026-03-01",
            "end_date": "nope",
            "objective": 0,
        },
    )
    assert bad.status_code == 400
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"name", "kind", "end_date", "objective"} <= fields
    backwards = api.post(
        "/api/programs",
        {
            "name": "X",
            "kind": "training",
            "start_date": "2026-03-02",
            "end_date": "2026-03-01",
            "objective": 1,
        },
    )
    assert backwards.status_code == 400 and "date de fin" in backwards.json()["message"]
    grouped = api.post(
        "/api/programs",
        {
            "name": "X",
            "kind": "training",
            "start_date": "2026-03-01",
            "end_date": "2026-03-01",
            "objective": 1,
            "group": group.pk,
        },
    )
    assert grouped.status_code == 201 and grouped.json()["group"] == group.pk


def test_participant_created_enrolled_then_found_again(api, program):
    first = api.post(
        f"/api/programs/{program['id']}/participants",
        {
            "email": "Nina@Example.org",
            "first_name": "Nina",
            "last_name": "Simone",
            "role": "participant",
            "language": "en",
        },
    )
    assert first.status_code == 201
    assert first.json()["email"] == "nina@example.org" and first.json()["language"] == "en"
    again = api.post(
        f"/api/programs/{program['id']}/participants",
        {
            "email": "nina@example.org",
            "first_name": "Nina",
            "last_name": "Simone",
            "role": "participant",
        },
    )
    assert again.status_code == 200 and again.json()["member_id"] == first.json()["member_id"]


def test_participant_of_another_organisation_is_refused(api, program, outsider):
    response = api.post(
        f"/api/programs/{program['id']}/participants",
        {"email": outsider.email, "role": "participant"},
    )
    assert response.status_code == 400
    assert not Enrolment.objects.filter(member=outsider).exists()


def test_participant_bad_input(api, program):
    response = api.post(
        f"/api/programs/{program['id']}/participants", {"email": "not-an-email", "role": "chef"}
    )
    assert response.status_code == 400
    assert response.json()["errors"]


def test_delete_ends_enrolment_and_is_repeatable(api, program):
    member = add(api, program, "ana@example.org")
    path = f"/api/programs/{program['id']}/participants/{member['member_id']}"
    assert api.delete(path).status_code == 204
    assert api.delete(path).status_code == 204
    assert rows(api, program)["count"] == 0
    enrolment = Enrolment.objects.get(member_id=member["member_id"])
    assert enrolment.ended_at is not None
    assert api.delete(f"/api/programs/{program['id']}/participants/999999").status_code == 404
    # joining again re-opens the same enrolment
    add(api, program, "ana@example.org")
    assert rows(api, program)["count"] == 1


def test_events_count_between_dates_with_offsets(api, program):
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    events = [
        {
            "email": "lea@example.org",
            "kind": "profile_view",
            "target_email": "pro@example.org",
            "occurred_at": "2026-02-28T23:59:59+01:00",
        },
        {
            "email": "lea@example.org",
            "kind": "profile_view",
            "target_email": "pro@example.org",
            "occurred_at": "2026-03-31T23:59:00+02:00",
        },
        {
            "email": "lea@example.org",
            "kind": "contact",
            "target_email": "pro@example.org",
            "occurred_at": "2026-03-31T21:59:59Z",
        },
        {
            "email": "lea@example.org",
            "kind": "contact",
            "target_email": "pro@example.org",
            "occurred_at": "2026-03-31T22:00:00Z",
        },
        {"email": "lea@example.org", "kind": "sign_in", "occurred_at": "2026-03-15T08:00:00-04:00"},
    ]
    response = api.post(f"/api/programs/{program['id']}/events", events)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 5, "ignored": 0}
    row = next(r for r in rows(api, program)["results"] if r["email"] == "lea@example.org")
    assert row["profiles_visited"] == 1
    assert row["professionals_contacted"] == 1
    assert row["last_access"] == "2026-03-15T13:00:00+01:00"


def test_events_are_all_or_nothing_with_every_bad_index(api, program, outsider):
    add(api, program, "lea@example.org")
    events = [
        {"email": "lea@example.org", "kind": "sign_in", "occurred_at": "2026-03-02T10:00:00+01:00"},
        {"email": "lea@example.org", "kind": "dance", "occurred_at": "2026-03-02T10:00:00+01:00"},
        {"email": "lea@example.org", "kind": "sign_in", "occurred_at": "2026-03-02T10:00:00"},
        {
            "email": "ghost@example.org",
            "kind": "sign_in",
            "occurred_at": "2026-03-02T10:00:00+01:00",
        },
        {"email": outsider.email, "kind": "sign_in", "occurred_at": "2026-03-02T10:00:00+01:00"},
        "not an object",
        {
            "email": "lea@example.org",
            "kind": "contact",
            "target_email": "nobody@example.org",
            "occurred_at": "2026-03-02T10:00:00+01:00",
        },
    ]
    response = api.post(f"/api/programs/{program['id']}/events", events)
    assert response.status_code == 400
    body = response.json()
    assert "rien n'a été enregistré" in body["message"]
    assert sorted({e["index"] for e in body["errors"]}) == [1, 2, 3, 4, 5, 6]
    reasons = {e["index"]: e["reason"] for e in body["errors"]}
    assert "décalage horaire" in reasons[2]
    assert "ghost@example.org" in reasons[3]
    assert ActivityEvent.objects.count() == 0


def test_event_batch_limits(api, program):
    add(api, program, "lea@example.org")
    item = {
        "email": "lea@example.org",
        "kind": "sign_in",
        "occurred_at": "2026-03-02T10:00:00+01:00",
    }
    too_many = api.post(f"/api/programs/{program['id']}/events", [item] * 50_001)
    assert too_many.status_code == 413 and "50000" in too_many.json()["message"]
    assert not ActivityEvent.objects.exists()
    # a batch of bad items over the limit is refused for its size too, without listing them
    junk = api.post(f"/api/programs/{program['id']}/events", [0] * 50_001)
    assert junk.status_code == 413 and junk.json()["errors"] == []
    assert api.post(f"/api/programs/{program['id']}/events", {"not": "a list"}).status_code == 400
    response = api.client.post(
        f"/api/programs/{program['id']}/events",
        "{oops",
        content_type="application/json",
        headers=api.headers,
    )
    assert response.status_code == 400 and response.json()["message"]


def test_repeated_client_id_never_counts_twice(api, program):
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    batch = [
        {
            "email": "lea@example.org",
            "kind": "contact",
            "target_email": "pro@example.org",
            "occurred_at": "2026-03-02T10:00:00+01:00",
            "client_id": "c-1",
        },
        {
            "email": "lea@example.org",
            "kind": "contact",
            "target_email": "pro@example.org",
            "occurred_at": "2026-03-02T10:00:00+01:00",
            "client_id": "c-1",
        },
    ]
    first = api.post(f"/api/programs/{program['id']}/events", batch)
    assert first.json() == {"created": 1, "ignored": 1}
    retry = api.post(f"/api/programs/{program['id']}/events", batch)
    assert retry.json() == {"created": 0, "ignored": 2}
    assert ActivityEvent.objects.filter(client_id="c-1").count() == 1


def test_unanswered_conversation_flag(api, admin, api_as):
    now = timezone.now()
    program = running_program(api, now)
    add(api, program, "lea@example.org")
    add(api, program, "tom@example.org")
    add(api, program, "pro@example.org", role="professional")

    def message(frm, to, days_ago):
        return {
            "email": frm,
            "kind": "message",
            "target_email": to,
            "occurred_at": (now - dt.timedelta(days=days_ago)).isoformat(),
        }

    api.post(
        f"/api/programs/{program['id']}/events",
        [
            message("lea@example.org", "pro@example.org", 8),  # 8 days, no reply: flagged
            message("tom@example.org", "pro@example.org", 10),
            message("pro@example.org", "tom@example.org", 9),  # answered
        ],
    )
    flags = {r["email"]: r["flags"] for r in rows(api, program)["results"]}
    assert flags["lea@example.org"] == ["unanswered_conversation"]
    assert flags["tom@example.org"] == []
    api.post(
        f"/api/programs/{program['id']}/events", [message("pro@example.org", "lea@example.org", 0)]
    )
    flags = {r["email"]: r["flags"] for r in rows(api, program)["results"]}
    assert flags["lea@example.org"] == []


def test_recent_message_is_not_yet_unanswered(api, admin):
    now = timezone.now()
    program = running_program(api, now)
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    api.post(
        f"/api/programs/{program['id']}/events",
        [
            {
                "email": "lea@example.org",
                "kind": "message",
                "target_email": "pro@example.org",
                "occurred_at": (now - dt.timedelta(days=6)).isoformat(),
            }
        ],
    )
    assert rows(api, program)["results"][0]["flags"] == []


def test_reports_flag_the_participant(api, program):
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    response = api.post(
        f"/api/programs/{program['id']}/reports",
        {"email": "lea@example.org", "reported_by_email": "pro@example.org", "reason": "Absente"},
    )
    assert response.status_code == 201
    lea = next(r for r in rows(api, program)["results"] if r["email"] == "lea@example.org")
    assert lea["flags"] == ["reported"]
    assert rows(api, program, flagged="true")["count"] == 1
    unknown = api.post(
        f"/api/programs/{program['id']}/reports",
        {"email": "nobody@example.org", "reported_by_email": "pro@example.org", "reason": "x"},
    )
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["index"] == 0


def test_meetings_and_progress(api, program):
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    for status in ["confirmed", "confirmed", "confirmed", "cancelled"]:
        response = api.post(
            f"/api/programs/{program['id']}/meetings",
            {
                "attendees": ["lea@example.org", "pro@example.org"],
                "starts_at": "2026-03-10T10:00:00+01:00",
                "duration_minutes": 30,
                "status": status,
            },
        )
        assert response.status_code == 201, response.content
    assert response.json()["starts_at"] == "2026-03-10T10:00:00+01:00"
    lea = rows(api, program)["results"][0]
    assert lea["confirmed_meetings"] == 3 and lea["progress"] == 100
    bad = api.post(
        f"/api/programs/{program['id']}/meetings",
        {
            "attendees": ["lea@example.org", "ghost@example.org"],
            "starts_at": "2026-03-10T10:00:00",
            "duration_minutes": 0,
            "status": "held",
        },
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} >= {"starts_at", "duration_minutes", "status"}


def test_participants_sort_search_page(api, program):
    for name in ["carla", "alice", "bruno"]:
        add(api, program, f"{name}@example.org")
    add(api, program, "pro@example.org", role="professional")
    api.post(
        f"/api/programs/{program['id']}/meetings",
        {
            "attendees": ["bruno@example.org"],
            "starts_at": "2026-03-10T10:00:00+01:00",
            "duration_minutes": 30,
            "status": "confirmed",
        },
    )
    by_name = [r["email"] for r in rows(api, program, sort="name")["results"]]
    assert by_name == ["alice@example.org", "bruno@example.org", "carla@example.org"]
    desc = rows(api, program, sort="progress", order="desc")["results"]
    assert desc[0]["email"] == "bruno@example.org" and desc[0]["progress"] == 50
    page = rows(api, program, sort="name", page=2, page_size=2)
    assert page["count"] == 3 and [r["email"] for r in page["results"]] == ["carla@example.org"]
    assert rows(api, program, q="BRU")["count"] == 1
    assert rows(api, program, page=9)["results"] == []
    for bad in ({"sort": "salary"}, {"order": "up"}, {"page_size": 0}, {"page": 0}):
        response = api.get(f"/api/programs/{program['id']}/participants", **bad)
        assert response.status_code == 400, bad
        assert response.json()["errors"]
    keys = set(rows(api, program)["results"][0])
    assert {
        "member_id",
        "email",
        "name",
        "profiles_visited",
        "professionals_contacted",
        "upcoming_meetings",
        "confirmed_meetings",
        "progress",
        "last_access",
        "flags",
    } <= keys


def test_api_messages_follow_the_caller_language(api_as, manager_b, program_b):
    response = api_as(manager_b).post(
        f"/api/programs/{program_b.pk}/events",
        [{"email": "x", "kind": "sign_in", "occurred_at": "2026-01-01T00:00:00"}],
    )
    assert response.status_code == 400
    assert "nothing was saved" in response.json()["message"]


def test_openapi_schema_is_published(client):
    schema = client.get("/api/openapi.json").json()
    assert "/api/programs/{program_id}/events" in schema["paths"]
    assert "/api/programs/{program_id}/participants" in schema["paths"]


def test_same_figures_as_the_page(api, program, admin):
    from .conftest import signed_in

    add(api, program, "lea@example.org")
    page = signed_in(admin).get(f"/programmes/{program['id']}/").content.decode()
    assert "Lea X" in page
    assert rows(api, program)["results"][0]["name"] == "Lea X"


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_a_batch_store_it_once(api_as, admin):
    """Two copies of one batch arriving at once (a client's retry racing the original)."""
    import threading

    from django.db import connection

    api = api_as(admin)
    program = running_program(api, timezone.now())
    add(api, program, "lea@example.org")
    batch = [
        {
            "email": "lea@example.org",
            "kind": "course_access",
            "occurred_at": (timezone.now() - dt.timedelta(minutes=i)).isoformat(),
            "client_id": f"race-{i}",
        }
        for i in range(500)
    ]
    start = threading.Barrier(2)
    statuses = []

    def post():
        try:
            start.wait()
            statuses.append(api.post(f"/api/programs/{program['id']}/events", batch).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert ActivityEvent.objects.filter(client_id__startswith="race-").count() == 500
    assert rows(api, program)["results"][0]["last_access"] is not None


def test_meeting_retry_with_client_id_returns_the_first(api, program):
    add(api, program, "lea@example.org")
    add(api, program, "pro@example.org", role="professional")
    body = {
        "attendees": ["lea@example.org", "pro@example.org"],
        "starts_at": "2026-03-10T10:00:00+01:00",
        "duration_minutes": 30,
        "status": "confirmed",
        "client_id": "rdv-42",
    }
    first = api.post(f"/api/programs/{program['id']}/meetings", body)
    again = api.post(f"/api/programs/{program['id']}/meetings", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert rows(api, program, q="lea")["results"][0]["confirmed_meetings"] == 1
