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
