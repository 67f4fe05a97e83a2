"""The relationships and meetings API, as another tool would call it."""

import datetime as dt
import zoneinfo

import icalendar  # noqa: F401 — the invitations are checked in test_booking
import pytest
from django.utils import timezone

from cohorte.meetings.models import Availability, Meeting
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def pair(organisation, program_b):
    mentor = make_member(organisation, "m@x.example", first="Marc", role="mentor")
    mentee = make_member(organisation, "e@x.example", first="Emma", role="mentee")
    Enrolment.objects.create(program=program_b, member=mentor, role=Role.MENTOR)
    Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
    for person in (mentor, mentee):
        for day in range(7):
            Availability.objects.create(
                member=person, weekday=day, start=dt.time(9), end=dt.time(18)
            )
    return mentor, mentee


def slot(days=3, hour=10):
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS).isoformat()


def test_create_a_match_book_retry_cancel_move_and_read_the_calendar(
    api_as, admin, program_b, pair
):
    api = api_as(admin)
    mentor, mentee = pair
    created = api.post(
        f"/api/programs/{program_b.pk}/relationships", {"mentor": mentor.pk, "mentee": mentee.pk}
    )
    assert created.status_code == 201
    relationship = created.json()["id"]
    assert [r["id"] for r in api.get(f"/api/programs/{program_b.pk}/relationships").json()] == [
        relationship
    ]
    body = {
        "starts_at": slot(),
        "duration_minutes": 60,
        "frequency": "weekly",
        "count": 2,
        "client_id": "abc",
    }
    booked = api.post(f"/api/relationships/{relationship}/meetings", body)
    assert booked.status_code == 201, booked.json()
    assert len(booked.json()) == 2 and {a["response"] for a in booked.json()[0]["attendees"]} == {
        "pending"
    }
    again = api.post(f"/api/relationships/{relationship}/meetings", body)
    assert again.status_code == 200 and Meeting.objects.count() == 2
    clash = api.post(
        f"/api/relationships/{relationship}/meetings",
        {"starts_at": slot(hour=10), "duration_minutes": 30},
    )
    assert clash.status_code == 400 and clash.json()["errors"][0]["field"] == "starts_at"
    first = booked.json()[0]["id"]
    assert api.post(f"/api/meetings/{first}/cancel", {"scope": "one"}).json() == {"cancelled": 1}
    assert api.post(f"/api/meetings/{first}/cancel", {"scope": "one"}).json() == {"cancelled": 0}
    second = booked.json()[1]["id"]
    moved = api.post(f"/api/meetings/{second}/reschedule", {"starts_at": slot(days=11, hour=14)})
    assert moved.status_code == 200 and moved.json()[0]["sequence"] == 1
    start = timezone.localdate().isoformat()
    end = (timezone.localdate() + dt.timedelta(days=20)).isoformat()
    calendar = api.get(
        f"/api/programs/{program_b.pk}/meetings", **{"from": start, "to": end}
    ).json()
    assert {m["status"] for m in calendar} == {"cancelled", "scheduled"}


def test_naive_times_unknown_people_and_other_programmes_are_refused(
    api_as, admin, manager_a, program_a, program_b, pair, outsider
):
    api = api_as(admin)
    mentor, mentee = pair
    bad = api.post(
        f"/api/programs/{program_b.pk}/relationships", {"mentor": outsider.pk, "mentee": mentee.pk}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "mentor"
    relationship = api.post(
        f"/api/programs/{program_b.pk}/relationships", {"mentor": mentor.pk, "mentee": mentee.pk}
    ).json()["id"]
    naive = api.post(
        f"/api/relationships/{relationship}/meetings", {"starts_at": "2030-01-01T10:00:00"}
    )
    assert naive.status_code == 400
    other = api_as(manager_a)
    assert (
        other.post(f"/api/relationships/{relationship}/meetings", {"starts_at": slot()}).status_code
        == 404
    )
    assert (
        other.get(
            f"/api/programs/{program_b.pk}/meetings", **{"from": "2026-01-01", "to": "2026-01-31"}
        ).status_code
        == 404
    )
    too_long = api.get(
        f"/api/programs/{program_b.pk}/meetings", **{"from": "2026-01-01", "to": "2028-01-31"}
    )
    assert too_long.status_code == 400
