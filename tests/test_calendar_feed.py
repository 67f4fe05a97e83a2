"""The sessions calendar's feed (/api/programs/<id>/calendar), as FullCalendar reads it: the
shape of its events, both names of a 1:1, wall-clock times of the zone asked for (days cut at
that zone's midnights), a strict parse of its query (400 with a reason, never 500), each
manager their own programmes only; and a dragged session moved by « Reporter »'s service."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.meetings.models import Availability, Meeting, MeetingAttendee, Relationship
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def feed(client, program, start, end, tz="Europe/Paris"):
    params = {"start": start, "end": end}
    if tz is not None:
        params["tz"] = tz
    return client.get(f"/api/programs/{program.pk}/calendar", params)


def week_of(day: dt.date) -> tuple[str, str]:
    monday = day - dt.timedelta(days=day.weekday())
    return f"{monday}T00:00:00", f"{monday + dt.timedelta(days=7)}T00:00:00"


@pytest.fixture
def manager_b(manager_b):
    """Programme B's manager, reading French (the labels and reasons below are French)."""
    manager_b.language = "fr"
    manager_b.save(update_fields=["language"])
    return manager_b


@pytest.fixture
def pair(organisation, program_b):
    mentor = make_member(organisation, "lea@x.example", first="Léa", last="Mentor")
    mentee = make_member(organisation, "noe@x.example", first="Noé", last="Mentee")
    for member, role in ((mentor, Role.MENTOR), (mentee, Role.MENTEE)):
        Enrolment.objects.create(program=program_b, member=member, role=role)
        Availability.objects.bulk_create(
            [
                Availability(member=member, weekday=d, start=dt.time(0), end=dt.time(23, 59))
                for d in range(7)
            ]
        )
    relationship = Relationship.objects.create(program=program_b, mentor=mentor, mentee=mentee)
    return relationship


def meeting_of(relationship, starts_at, **extra):
    meeting = Meeting.objects.create(
        program=relationship.program,
        relationship=relationship,
        starts_at=starts_at,
        duration_minutes=45,
        **extra,
    )
    MeetingAttendee.objects.bulk_create(
        [
            MeetingAttendee(meeting=meeting, member=relationship.mentor, response="accepted"),
            MeetingAttendee(meeting=meeting, member=relationship.mentee),
        ]
    )
    return meeting


def next_week_day(weekday: int = 2) -> dt.date:
    today = timezone.now().astimezone(PARIS).date()
    return today + dt.timedelta(days=7 - today.weekday() + weekday)


def test_a_one_to_one_shows_both_names_its_wall_clock_times_and_can_be_moved(
    manager_b, program_b, pair
):
    day = next_week_day()
    meeting = meeting_of(pair, dt.datetime.combine(day, dt.time(9, 30), tzinfo=PARIS))
    response = feed(signed_in(manager_b), program_b, *week_of(day))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    [event] = response.json()
    assert event["id"] == str(meeting.pk)
    assert event["title"] == "Léa Mentor ↔ Noé Mentee"
    assert event["start"] == f"{day}T09:30:00" and event["end"] == f"{day}T10:15:00"
    assert event["classNames"] == ["kind-one_to_one", "status-scheduled"]
    assert event["startEditable"] is True and event["durationEditable"] is False
    props = event["extendedProps"]
    assert props["kindLabel"] == "Séance 1:1" and props["statusLabel"] == "Programmée"
    assert props["attendees"] == [
        {"name": "Léa Mentor", "response": "accepted"},
        {"name": "Noé Mentee", "response": "pending"},
    ]
    assert props["rescheduleUrl"] == f"/rencontres/{meeting.pk}/reporter/"
    assert props["relationshipUrl"] == f"/relations/{pair.pk}/"
    assert props["moveUrl"] == f"/api/meetings/{meeting.pk}/calendar-move"


def test_group_sessions_show_their_title_and_what_cannot_move_is_not_draggable(
    organisation, manager_b, program_b, pair
):
    day = next_week_day()
    group = Meeting.objects.create(
        program=program_b,
        kind="group",
        title="Atelier CV",
        starts_at=dt.datetime.combine(day, dt.time(14), tzinfo=PARIS),
        duration_minutes=60,
    )
    cancelled = meeting_of(
        pair, dt.datetime.combine(day, dt.time(8), tzinfo=PARIS), status="cancelled"
    )
    past = meeting_of(pair, timezone.now() - dt.timedelta(hours=2))
    # a 1:1 outside a relationship: its two people
    other = make_member(organisation, "zoe@x.example", first="Zoé", last="Pro")
    loose = Meeting.objects.create(
        program=program_b,
        starts_at=dt.datetime.combine(day, dt.time(17), tzinfo=PARIS),
        duration_minutes=30,
    )
    MeetingAttendee.objects.bulk_create(
        [
            MeetingAttendee(meeting=loose, member=pair.mentee),
            MeetingAttendee(meeting=loose, member=other),
        ]
    )
    client = signed_in(manager_b)
    events = {e["id"]: e for e in feed(client, program_b, *week_of(day)).json()}
    assert events[str(group.pk)]["title"] == "Atelier CV"
    assert "kind-group" in events[str(group.pk)]["classNames"]
    assert events[str(loose.pk)]["title"] == "Noé Mentee et Zoé Pro"
    assert events[str(cancelled.pk)]["classNames"] == ["kind-one_to_one", "status-cancelled"]
    assert events[str(cancelled.pk)]["startEditable"] is False
    assert events[str(cancelled.pk)]["extendedProps"]["rescheduleUrl"] == ""
    local_past = past.starts_at.astimezone(PARIS).date()
    past_events = feed(client, program_b, *week_of(local_past)).json()
    assert [e["startEditable"] for e in past_events if e["id"] == str(past.pk)] == [False]


def test_days_are_cut_at_the_midnights_of_the_zone_asked_for(manager_b, program_b, pair):
    day = next_week_day()
    late = meeting_of(pair, dt.datetime.combine(day, dt.time(23, 30), tzinfo=dt.UTC))
    client = signed_in(manager_b)
    following = day + dt.timedelta(days=1)

    def ids(start_day, tz):
        start, end = f"{start_day}T00:00:00", f"{start_day + dt.timedelta(days=1)}T00:00:00"
        response = feed(client, program_b, start, end, tz)
        assert response.status_code == 200
        return {e["id"]: e["start"] for e in response.json()}

    # 23:30 UTC is 00:30 the next day in Paris, 18:30 the same day in Montréal
    assert ids(day, "UTC") == {str(late.pk): f"{day}T23:30:00"}
    assert ids(day, "Europe/Paris") == {}
    assert ids(following, "Europe/Paris") == {str(late.pk): f"{following}T00:30:00"}
    assert ids(day, "America/Montreal") == {str(late.pk): f"{day}T18:30:00"}


def test_without_tz_the_feed_reads_the_viewers_zone_as_the_page_states_it(
    manager_b, program_b, pair
):
    manager_b.timezone = "Asia/Tokyo"
    manager_b.save(update_fields=["timezone"])
    day = next_week_day()
    meeting_of(pair, dt.datetime.combine(day, dt.time(1), tzinfo=dt.UTC))
    client = signed_in(manager_b)
    page = client.get(f"/programmes/{program_b.pk}/seances/").content.decode()
    assert 'data-tz="Asia/Tokyo"' in page and "Asia/Tokyo</strong>" in page
    [event] = feed(client, program_b, *week_of(day), tz=None).json()
    assert event["start"] == f"{day}T10:00:00"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "x", "end": "2026-01-02T00:00:00"}, "start"),
        ({"start": "", "end": "2026-01-02T00:00:00"}, "start"),
        ({"start": "2026-01-01T00:00:00", "end": "²"}, "end"),
        ({"start": "9999-01-01T00:00:00", "end": "9999-01-02T00:00:00"}, "start"),
        ({"start": "1900-01-01T00:00:00", "end": "1900-01-02T00:00:00"}, "start"),
        ({"start": "2026-01-02T00:00:00", "end": "2026-01-01T00:00:00"}, "end"),
        ({"start": "2026-01-01T00:00:00", "end": "2026-06-01T00:00:00"}, "end"),
        (
            {
                "start": "2026-01-01T00:00:00",
                "end": "2026-01-02T00:00:00",
                "tz": "../../etc/passwd",
            },
            "tz",
        ),
        (
            {"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00", "tz": "Mars/Olympus"},
            "tz",
        ),
        ({"start": "2026-01-01T00:00:00\x00", "end": "2026-01-02T00:00:00"}, "start"),
        ({"start": "2026-01-01T00:00:00" + "9" * 500, "end": "2026-01-02T00:00:00"}, "start"),
    ],
)
def test_a_bad_query_is_a_400_with_its_reason(manager_b, program_b, params, field):
    response = signed_in(manager_b).get(f"/api/programs/{program_b.pk}/calendar", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Requête invalide."
    assert [e["field"] for e in body["errors"]] == [field] and body["errors"][0]["reason"]


def test_a_manager_reads_only_their_programmes(
    manager_a, manager_b, outsider, program_a, program_b, pair
):
    day = next_week_day()
    meeting_of(pair, dt.datetime.combine(day, dt.time(9), tzinfo=PARIS))
    window = week_of(day)
    assert feed(signed_in(manager_a), program_b, *window).status_code == 404
    assert feed(signed_in(outsider), program_b, *window).status_code == 404
    assert len(feed(signed_in(manager_b), program_b, *window).json()) == 1
    assert feed(signed_in(manager_a), program_a, *window).json() == []
    assert signed_in(manager_a).get(f"/programmes/{program_b.pk}/seances/").status_code == 404


def move(client, meeting, starts_at, tz="Europe/Paris"):
    return client.post(
        f"/api/meetings/{meeting.pk}/calendar-move",
        {"starts_at": starts_at, "tz": tz},
        content_type="application/json",
    )


def test_a_dragged_session_is_moved_by_the_reschedule_service(
    manager_a, manager_b, program_b, pair
):
    day = next_week_day()
    meeting = meeting_of(pair, dt.datetime.combine(day, dt.time(9), tzinfo=PARIS))
    # another programme's manager: as if it did not exist
    assert move(signed_in(manager_a), meeting, f"{day}T11:00:00").status_code == 404
    client = signed_in(manager_b)
    refused = {
        "yesterday": (f"{day - dt.timedelta(days=30)}T11:00:00", "Europe/Paris"),
        "nonsense": ("demain", "Europe/Paris"),
        "far": ("2099-01-01T11:00:00", "Europe/Paris"),
        "zone": (f"{day}T11:00:00", "Nowhere/Land"),
    }
    for name, (starts_at, tz) in refused.items():
        response = move(client, meeting, starts_at, tz)
        assert response.status_code == 400, (name, response.content)
        assert response.json()["errors"][0]["reason"], name
    meeting.refresh_from_db()
    assert meeting.starts_at == dt.datetime.combine(day, dt.time(9), tzinfo=PARIS)
    assert not Email.objects.exists()

    # a wall-clock time of the calendar's zone, read by the server in that zone
    response = move(client, meeting, f"{day}T05:00:00", "America/Montreal")
    assert response.status_code == 200, response.content
    meeting.refresh_from_db()
    moved = dt.datetime.combine(day, dt.time(5), tzinfo=zoneinfo.ZoneInfo("America/Montreal"))
    assert meeting.starts_at == moved and meeting.sequence == 1
    assert response.json()[0]["id"] == meeting.pk
    mails = Email.objects.filter(subject__startswith="Rencontre reportée")
    assert sorted(mails.values_list("to_email", flat=True)) == ["lea@x.example", "noe@x.example"]
    entry = AuditEntry.objects.get(action="meetings.rescheduled")
    assert entry.actor == manager_b
    # the same move again: nothing changes, nobody is told twice (« Reporter »'s retry rule)
    assert move(client, meeting, f"{day}T05:00:00", "America/Montreal").status_code == 200
    assert Email.objects.count() == 2
    # a cancelled session is refused with the service's reason
    meeting.status = "cancelled"
    meeting.save(update_fields=["status"])
    response = move(client, meeting, f"{day}T15:00:00")
    assert response.status_code == 400
    assert "annulée" in response.json()["errors"][0]["reason"]
