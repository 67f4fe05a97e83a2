"""POST /api/programs/{id}/events at its limits: a full batch of 50,000, a batch over it, the
rules that hold across batches (distinct counts, retries), in a bounded number of queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, Conversation
from cohorte.activity.selectors import participant_activity_rows
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member


def url(program):
    return f"/api/programs/{program.pk}/events"


def at(days_ago: float) -> str:
    return (timezone.now() - dt.timedelta(days=days_ago)).isoformat()


@pytest.fixture
def crowd(program_a):
    """Fifty participants and five professionals of programme A."""
    people = []
    for i in range(55):
        role = Role.PARTICIPANT if i < 50 else Role.PROFESSIONAL
        member = make_member(program_a.organisation, f"p{i}@x.example", first=f"P{i}")
        Enrolment.objects.create(program=program_a, member=member, role=role)
        people.append(member)
    return people[:50], people[50:]


def row(program, member):
    return participant_activity_rows(program=program).get(member=member)


def test_distinct_counts_stay_distinct_across_batches(api_as, admin, program_a, crowd):
    (lea, *_), (pro1, pro2, *_) = crowd
    api = api_as(admin)

    def view(target, client_id, days_ago=1):
        return {
            "email": lea.email,
            "kind": "profile_view",
            "target_email": target.email,
            "occurred_at": at(days_ago),
            "client_id": client_id,
        }

    assert api.post(url(program_a), [view(pro1, "a")]).json() == {"created": 1, "ignored": 0}
    assert row(program_a, lea).profiles_visited == 1
    # the same professional again, another day: still one profile visited
    assert api.post(url(program_a), [view(pro1, "b", 2)]).json() == {"created": 1, "ignored": 0}
    assert row(program_a, lea).profiles_visited == 1
    # a new one, with a retry of the first batch in the same post
    response = api.post(url(program_a), [view(pro2, "c"), view(pro1, "a")])
    assert response.json() == {"created": 1, "ignored": 1}
    assert row(program_a, lea).profiles_visited == 2
    # a view without a target counts on its own, each time
    blind = {"email": lea.email, "kind": "profile_view", "occurred_at": at(1)}
    api.post(url(program_a), [blind, blind])
    assert row(program_a, lea).profiles_visited == 4


def test_last_access_moves_forward_only(api_as, admin, program_a, crowd):
    (lea, *_), _pros = crowd
    api = api_as(admin)
    api.post(url(program_a), [{"email": lea.email, "kind": "course_access", "occurred_at": at(1)}])
    first = row(program_a, lea).last_access
    api.post(url(program_a), [{"email": lea.email, "kind": "sign_in", "occurred_at": at(5)}])
    assert row(program_a, lea).last_access == first  # an older access changes nothing
    lea.refresh_from_db()
    assert lea.last_access == first
    api.post(url(program_a), [{"email": lea.email, "kind": "sign_in", "occurred_at": at(0.5)}])
    assert row(program_a, lea).last_access > first


def test_a_retry_with_another_content_changes_nothing(api_as, admin, program_a, crowd):
    """A client_id stored before is skipped whatever the item says now: nothing it says
    reaches a counter, a last access or a conversation."""
    (lea, *_), (pro, *_) = crowd
    api = api_as(admin)
    api.post(
        url(program_a),
        [{"email": lea.email, "kind": "sign_in", "occurred_at": at(3), "client_id": "x-1"}],
    )
    before = row(program_a, lea).last_access
    response = api.post(
        url(program_a),
        [
            {
                "email": lea.email,
                "kind": "message",
                "target_email": pro.email,
                "occurred_at": at(0.1),
                "client_id": "x-1",
            }
        ],
    )
    assert response.json() == {"created": 0, "ignored": 1}
    assert row(program_a, lea).last_access == before
    assert not Conversation.objects.exists()


def test_a_batch_is_a_bounded_number_of_queries(api_as, admin, program_a, crowd):
    participants, pros = crowd
    kinds = ["course_access", "sign_in", "profile_view", "contact", "message"]
    batch = [
        {
            "email": participants[i % 50].email,
            "kind": kinds[i % 5],
            "occurred_at": at(i / 1000),
            **({"target_email": pros[i // 50 % 5].email} if kinds[i % 5] in kinds[2:] else {}),
            "client_id": f"q-{i}",
        }
        for i in range(2_000)
    ]
    api = api_as(admin)
    with CaptureQueriesContext(connection) as queries:
        response = api.post(url(program_a), batch)
    assert response.json() == {"created": 2_000, "ignored": 0}
    assert len(queries) <= 20, [q["sql"][:80] for q in queries]
    # the figures are those of a recompute from scratch
    figures = {
        r.member_id: (r.profiles_visited, r.professionals_contacted, r.last_access)
        for r in participant_activity_rows(program=program_a)
    }
    from cohorte.activity.services import stats_refresh

    stats_refresh(program=program_a)
    again = {
        r.member_id: (r.profiles_visited, r.professionals_contacted, r.last_access)
        for r in participant_activity_rows(program=program_a)
    }
    assert figures == again
    assert figures[participants[0].pk][0] == 0  # p0 only had course access and sign-ins
    assert figures[participants[2].pk][0] == 5  # p2 viewed each of the five professionals
    # ten participants wrote (every fifth), each to the five professionals
    assert Conversation.objects.filter(program=program_a).count() == 50


def test_a_full_batch_of_50000_is_taken(api_as, admin, program_a, crowd):
    participants, _pros = crowd
    batch = [
        {"email": participants[i % 50].email, "kind": "course_access", "occurred_at": at(1)}
        for i in range(50_000)
    ]
    response = api_as(admin).post(url(program_a), batch)
    assert response.status_code == 200, response.content[:300]
    assert response.json() == {"created": 50_000, "ignored": 0}
    assert ActivityEvent.objects.filter(program=program_a).count() == 50_000


def test_one_item_over_the_limit_is_a_413_and_nothing_is_stored(api_as, admin, program_a, crowd):
    participants, _pros = crowd
    item = {"email": participants[0].email, "kind": "sign_in", "occurred_at": at(1)}
    response = api_as(admin).post(url(program_a), [item] * 50_001)
    assert response.status_code == 413
    assert response.json()["message"] == (
        "Lot refusé : 50000 événements au plus par lot ; envoyez-les en plusieurs lots."
    )
    assert not ActivityEvent.objects.exists()
    assert Member.objects.get(pk=participants[0].pk).last_access is None


def test_the_schema_says_the_limits(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/programs/{program_id}/events"]
    body = operation["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["maxItems"] == 50_000
    assert "413" in operation["post"]["responses"]
    assert "50000" in operation["post"]["responses"]["413"]["description"]


def test_a_moment_is_stored_to_the_microsecond_whatever_its_offset(api_as, admin, program_a, crowd):
    """Each moment is stored as the ORM writes it: read back equal, found by an exact
    lookup (SQLite compares the stored text), its offset turned into UTC."""
    (lea, *_), _ = crowd
    paris = dt.timezone(dt.timedelta(hours=2))
    now = timezone.now().astimezone(paris)
    moments = [
        now.replace(microsecond=250_000) - dt.timedelta(days=1),
        now.replace(microsecond=0) - dt.timedelta(days=2),
        now.replace(microsecond=1) - dt.timedelta(days=3),
    ]
    batch = [
        {"email": lea.email, "kind": "sign_in", "occurred_at": m.isoformat(), "client_id": str(i)}
        for i, m in enumerate(moments)
    ]
    assert api_as(admin).post(url(program_a), batch).json() == {"created": 3, "ignored": 0}
    stored = ActivityEvent.objects.filter(actor=lea).order_by("client_id")
    assert [e.occurred_at for e in stored] == [m.astimezone(dt.UTC) for m in moments]
    for moment in moments:
        assert ActivityEvent.objects.filter(actor=lea, occurred_at=moment).count() == 1
    lea.refresh_from_db()
    assert lea.last_access == moments[0]
