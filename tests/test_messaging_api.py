"""/api/messages and /api/email-log, called as another tool would."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.messaging.models import Email, EmailStatus, Message, MessageStatus
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member


@pytest.fixture
def team(organisation, program_b):
    people = [
        make_member(organisation, f"p{n}@x.example", first=f"P{n}", role="mentee") for n in range(3)
    ]
    for person in people:
        Enrolment.objects.create(program=program_b, member=person, role=Role.MENTEE)
    return people


BODY = {"audience": "mentees", "subject_fr": "Bonjour {prénom}", "body_fr": "<p>Salut {prénom}</p>"}


def test_send_now_and_a_retry_with_the_same_client_id_sends_nothing_again(
    api_as, admin, program_b, team
):
    api = api_as(admin)
    first = api.post(
        "/api/messages", {**BODY, "program": program_b.pk, "client_id": "newsletter-42"}
    )
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "sent" and first.json()["recipients_count"] == 3
    again = api.post(
        "/api/messages", {**BODY, "program": program_b.pk, "client_id": "newsletter-42"}
    )
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Message.objects.count() == 1 and Email.objects.count() == 3


def test_schedule_needs_an_aware_future_time(api_as, admin, program_b, team):
    api = api_as(admin)
    naive = api.post(
        "/api/messages", {**BODY, "program": program_b.pk, "send_at": "2030-01-01T10:00:00"}
    )
    assert naive.status_code == 400 and naive.json()["errors"][0]["field"] == "send_at"
    past = api.post(
        "/api/messages", {**BODY, "program": program_b.pk, "send_at": "2020-01-01T10:00:00+01:00"}
    )
    assert past.status_code == 400
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    ok = api.post("/api/messages", {**BODY, "program": program_b.pk, "send_at": later})
    assert ok.status_code == 201 and ok.json()["status"] == MessageStatus.QUEUED
    assert not Email.objects.exists()


def test_bad_messages_are_explained(api_as, admin, program_b, outsider):
    api = api_as(admin)
    response = api.post(
        "/api/messages", {"audience": "mentees", "program": program_b.pk, "body_fr": "{inconnu}"}
    )
    fields = {e["field"] for e in response.json()["errors"]}
    assert response.status_code == 400 and {"subject_fr", "body_fr"} <= fields
    other = api.post(
        "/api/messages",
        {**BODY, "audience": "people", "program": program_b.pk, "people": [outsider.pk]},
    )
    assert other.status_code == 400 and other.json()["errors"][0]["index"] == 0
    assert not Message.objects.exists()


def test_a_manager_cannot_write_to_another_programme_or_the_whole_organisation(
    api_as, manager_a, program_a, program_b, team
):
    api = api_as(manager_a)
    assert api.post("/api/messages", {**BODY, "program": program_b.pk}).status_code == 400
    assert api.post("/api/messages", BODY).status_code == 400
    assert not Message.objects.exists()


def test_a_participant_cannot_send(api_as, mentee):
    assert api_as(mentee).post("/api/messages", BODY).status_code == 403


def test_email_log_filters_and_keyset_pages(api_as, admin, organisation, team):
    for n in range(5):
        for person in team:
            Email.objects.create(
                organisation_id=organisation.pk,
                member=person,
                to_email=person.email,
                subject=f"S{n}",
                body_text="t",
                status=EmailStatus.DELIVERED if n % 2 else EmailStatus.SENT,
            )
    api = api_as(admin)
    page = api.get("/api/email-log", member=team[0].pk, page_size=2).json()
    assert len(page["results"]) == 2 and page["next"]
    seen = [r["id"] for r in page["results"]]
    while page["next"]:
        page = api.get("/api/email-log", member=team[0].pk, page_size=2, after=page["next"]).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 5
    delivered = api.get("/api/email-log", status="delivered").json()["results"]
    assert {r["status"] for r in delivered} == {"delivered"} and len(delivered) == 6
    today = timezone.localdate().isoformat()
    assert len(api.get("/api/email-log", **{"from": today, "to": today}).json()["results"]) == 15
    assert api.get("/api/email-log", status="nope").status_code == 400


def test_another_organisations_log_is_invisible(api_as, outsider, organisation, team):
    Email.objects.create(
        organisation_id=organisation.pk,
        member=team[0],
        to_email=team[0].email,
        subject="S",
        body_text="t",
    )
    assert api_as(outsider).get("/api/email-log").json()["results"] == []


# --- bounds and hostile values (issue 9): a 400 that says why, nothing stored -----------------


@pytest.mark.parametrize(
    "send_at",
    ["9999-12-31T10:00:00+00:00", "2999-01-01T10:00:00Z", "1900-01-01T10:00:00+01:00"],
)
def test_a_send_at_out_of_range_is_a_400_and_never_stored(api_as, admin, program_b, team, send_at):
    response = api_as(admin).post(
        "/api/messages", {**BODY, "program": program_b.pk, "send_at": send_at}
    )
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == "send_at"
    assert "date hors limites" in response.json()["errors"][0]["reason"]
    assert not Message.objects.exists() and not Email.objects.exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"program": 99999999999999999999},
        {"program": 2**63},
        {"program": 0},
        {"audience": "cohort", "cohort": 2**63},
        {"audience": "people", "people": [2**63]},
        {"audience": "people", "people": [-1]},
    ],
)
def test_ids_out_of_range_are_a_400(api_as, admin, program_b, team, extra):
    response = api_as(admin).post("/api/messages", {**BODY, "program": program_b.pk, **extra})
    assert response.status_code == 400, response.content
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        {"member": "²"},
        {"member": "99999999999999999999"},
        {"member": "<b>1</b>"},
        {"from": "9999-12-31"},
        {"to": "9999-12-31"},
        {"from": "0001-01-01"},
        {"status": "unknown"},
        {"after": "garbage"},
        {"after": "9999-12-31T00:00:00+00:00_1"},
        {"after": "2026-01-01T00:00:00+00:00_99999999999999999999"},
        {"page_size": "99999999999999999999"},
    ],
)
def test_hostile_email_log_queries_are_a_400_in_french(api_as, admin, team, query):
    response = api_as(admin).get("/api/email-log", **query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Requête invalide." and body["errors"]


def test_the_message_list_limit_is_bounded(api_as, admin):
    api = api_as(admin)
    assert api.get("/api/messages", limit=0).status_code == 400
    assert api.get("/api/messages", limit="99999999999999999999").status_code == 400
    assert api.get("/api/messages", limit=500).status_code == 200
