"""Booking for a matched pair: free time for both, every occurrence, invitations with an
.ics mail clients understand and answer links that work once; cancel and postpone."""

import datetime as dt
import zoneinfo

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from cohorte.meetings import services
from cohorte.meetings.models import Availability, Meeting, MeetingAttendee, MeetingStatus, Response
from cohorte.messaging.models import Email

from .conftest import make_member, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def next_weekday(weekday: int, weeks: int = 1) -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


@pytest.fixture
def pair(organisation, program_b, admin):
    mentor = make_member(
        organisation,
        "mentor.pair@x.example",
        first="Marc",
        last="Mentor",
        timezone="America/Toronto",
    )
    mentee = make_member(
        organisation,
        "mentee.pair@x.example",
        first="Emma",
        last="En",
        language="en",
        timezone="Europe/Paris",
    )
    for day in range(7):
        Availability.objects.create(member=mentor, weekday=day, start=dt.time(8), end=dt.time(18))
        Availability.objects.create(member=mentee, weekday=day, start=dt.time(9), end=dt.time(21))
    relationship = services.relationship_create(
        program=program_b, mentor=mentor, mentee=mentee, by=admin
    )
    return relationship


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def ics_of(email: Email) -> icalendar.Calendar:
    attachment = email.attachments[0]
    assert attachment["name"] == "invitation.ics"
    return icalendar.Calendar.from_ical(attachment["content"])


def test_booking_a_series_invites_both_with_an_rrule_and_answer_links(pair, admin):
    day = next_weekday(2)
    meetings = services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 16),
        duration_minutes=30,
        meeting_type="video",
        frequency="weekly",
        count=3,
    )
    assert len(meetings) == 3 and len({m.uid for m in meetings}) == 1
    assert [m.starts_at.astimezone(PARIS).hour for m in meetings] == [16, 16, 16]
    assert meetings[0].place.startswith("http")
    emails = Email.objects.order_by("to_email")
    assert [e.to_email for e in emails] == ["mentee.pair@x.example", "mentor.pair@x.example"]
    calendar = ics_of(emails[0])
    assert calendar["method"] == "REQUEST"
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == meetings[0].uid
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["COUNT"] == [3]
    assert event.decoded("dtstart") == meetings[0].starts_at
    attendees = event.get("attendee")
    assert {str(a.params["PARTSTAT"]) for a in attendees} == {"NEEDS-ACTION"}
    assert {str(a.params["RSVP"]) for a in attendees} == {"TRUE"}
    assert "/rencontres/reponse/" in emails[0].body_text
    assert emails[0].subject.startswith("Meeting invitation")  # Emma reads English


def test_double_booking_is_refused(pair, admin, organisation, program_b):
    day = next_weekday(3)
    services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 15),
        duration_minutes=60,
        meeting_type="video",
    )
    with pytest.raises(ValidationError) as refused:
        services.meetings_book(
            relationship=pair,
            by=admin,
            starts_at=at(day, 15, 30),
            duration_minutes=30,
            meeting_type="video",
        )
    assert "Créneau indisponible" in str(refused.value)
    assert Meeting.objects.count() == 1


def test_outside_availability_duration_and_type_are_refused(pair, admin, program_b):
    day = next_weekday(4)
    with pytest.raises(ValidationError):  # 23:00 Paris: nobody is available
        services.meetings_book(
            relationship=pair,
            by=admin,
            starts_at=at(day, 23),
            duration_minutes=30,
            meeting_type="video",
        )
    with pytest.raises(ValidationError) as refused:
        services.meetings_book(
            relationship=pair,
            by=admin,
            starts_at=at(day, 16),
            duration_minutes=10,
            meeting_type="video",
        )
    assert "15 à 120" in str(refused.value)
    program_b.meeting_types = ["video"]
    program_b.save()
    with pytest.raises(ValidationError):
        services.meetings_book(
            relationship=pair,
            by=admin,
            starts_at=at(day, 16),
            duration_minutes=30,
            meeting_type="phone",
        )
    assert not Meeting.objects.exists()


def test_answer_links_work_once_and_not_after_the_meeting_or_tampered(pair, admin):
    day = next_weekday(1)
    meetings = services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 15),
        duration_minutes=30,
        meeting_type="video",
        frequency="daily",
        count=2,
    )
    attendance = MeetingAttendee.objects.get(meeting=meetings[0], member=pair.mentee)
    token = services.answer_token(attendance, Response.ACCEPTED)
    client = Client()
    # opening the link only asks (a mail scanner fetching it answers nothing); the click does
    assert client.get(f"/rencontres/reponse/{token}/").status_code == 200
    assert MeetingAttendee.objects.get(pk=attendance.pk).response == Response.PENDING
    response = client.post(f"/rencontres/reponse/{token}/")
    assert (
        response.status_code == 200 and "Invitation accepted" in response.content.decode()
    )  # her language
    assert set(
        MeetingAttendee.objects.filter(member=pair.mentee).values_list("response", flat=True)
    ) == {"accepted"}
    again = client.post(f"/rencontres/reponse/{token}/")
    assert "déjà répondu" in again.content.decode()
    tampered = client.post(f"/rencontres/reponse/{token[:-3]}abc/")
    assert "pas valide" in tampered.content.decode()
    other = MeetingAttendee.objects.get(meeting=meetings[0], member=pair.mentor)
    Meeting.objects.filter(pk=meetings[0].pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=1)
    )
    late = client.post(f"/rencontres/reponse/{services.answer_token(other, Response.DECLINED)}/")
    assert "expiré" in late.content.decode()
    assert MeetingAttendee.objects.get(pk=other.pk).response == Response.PENDING


def test_cancel_one_occurrence_then_the_rest(pair, admin):
    day = next_weekday(2)
    meetings = services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 15),
        duration_minutes=30,
        meeting_type="video",
        frequency="weekly",
        count=4,
    )
    Email.objects.all().delete()
    services.meeting_cancel(meeting=meetings[1], by=admin, scope="one")
    assert list(Meeting.objects.order_by("starts_at").values_list("status", flat=True)) == [
        "scheduled",
        "cancelled",
        "scheduled",
        "scheduled",
    ]
    calendar = ics_of(Email.objects.first())
    assert calendar["method"] == "CANCEL"
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("recurrence-id") == meetings[1].starts_at and event["sequence"] == 1
    Email.objects.all().delete()
    assert services.meeting_cancel(meeting=meetings[2], by=admin, scope="following") == 2
    assert list(Meeting.objects.order_by("starts_at").values_list("status", flat=True)) == [
        "scheduled",
        "cancelled",
        "cancelled",
        "cancelled",
    ]
    assert len(ics_of(Email.objects.first()).walk("VEVENT")) == 2


def test_postpone_one_and_the_following_keeps_wall_clock_time(pair, admin):
    day = next_weekday(2)
    meetings = services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 15),
        duration_minutes=30,
        meeting_type="video",
        frequency="weekly",
        count=3,
    )
    MeetingAttendee.objects.update(response=Response.ACCEPTED)
    Email.objects.all().delete()
    moved = services.meeting_reschedule(
        meeting=meetings[0], by=admin, starts_at=at(day, 16), scope="one"
    )
    assert moved[0].starts_at == at(day, 16) and moved[0].sequence == 1
    assert (
        MeetingAttendee.objects.get(meeting=moved[0], member=pair.mentee).response
        == Response.PENDING
    )
    event = ics_of(Email.objects.first()).walk("VEVENT")[0]
    assert event["sequence"] == 1 and event.decoded("dtstart") == at(day, 16)
    assert event.decoded("recurrence-id") == at(day, 15)
    services.meeting_reschedule(
        meeting=meetings[1],
        by=admin,
        starts_at=at(day + dt.timedelta(days=8), 17),
        scope="following",
    )
    later = Meeting.objects.filter(pk__in=[meetings[1].pk, meetings[2].pk]).order_by("starts_at")
    assert [m.starts_at.astimezone(PARIS).strftime("%H:%M") for m in later] == ["17:00", "17:00"]


def test_counts_follow_the_answers(pair, admin, program_b):
    from cohorte.activity.selectors import participant_activity_rows
    from cohorte.programs.models import Enrolment, Role

    Enrolment.objects.create(program=program_b, member=pair.mentee, role=Role.MENTEE)
    day = next_weekday(2)
    services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 16),
        duration_minutes=30,
        meeting_type="video",
    )
    row = participant_activity_rows(program=program_b).get(member=pair.mentee)
    assert row.upcoming_meetings == 1


def test_the_invitation_carries_its_time_zone(pair, admin):
    day = next_weekday(2)
    services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=at(day, 16),
        duration_minutes=30,
        meeting_type="video",
    )
    calendar = ics_of(Email.objects.first())
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    event = calendar.walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(event["organizer"]).startswith("mailto:")


def test_a_past_meeting_marked_held_counts_for_both(pair, admin, program_b):
    from cohorte.activity.selectors import participant_activity_rows
    from cohorte.programs.models import Enrolment, Role

    Enrolment.objects.create(program=program_b, member=pair.mentee, role=Role.MENTEE)
    meeting = Meeting.objects.create(
        program=program_b,
        relationship=pair,
        duration_minutes=90,
        starts_at=timezone.now() - dt.timedelta(days=2),
    )
    MeetingAttendee.objects.create(meeting=meeting, member=pair.mentor)
    MeetingAttendee.objects.create(meeting=meeting, member=pair.mentee)
    response = signed_in(admin).post(f"/rencontres/{meeting.pk}/tenue/")
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CONFIRMED
    assert (
        participant_activity_rows(program=program_b).get(member=pair.mentee).confirmed_meetings == 1
    )
    pair.mentor.refresh_from_db()
    assert pair.mentor.mentoring_minutes == 90
    upcoming = Meeting.objects.create(
        program=program_b,
        relationship=pair,
        duration_minutes=30,
        starts_at=timezone.now() + dt.timedelta(days=2),
    )
    with pytest.raises(ValidationError):
        services.meeting_mark_held(meeting=upcoming, by=admin)
