"""iCalendar (RFC 5545) invitations, so mail clients show their own Accept / Decline."""

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from cohorte.accounts.models import Member
from cohorte.core.moments import localtime_or_utc

from .models import Frequency, Meeting

RRULE_FREQ = {
    Frequency.DAILY: "DAILY",
    Frequency.WEEKLY: "WEEKLY",
    Frequency.MONTHLY: "MONTHLY",
    Frequency.YEARLY: "YEARLY",
}


def _organizer() -> vCalAddress:
    address = settings.DEFAULT_FROM_EMAIL.rsplit("<", 1)[-1].rstrip(">").strip()
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText("Cohorte")
    return organizer


def _attendee(member: Member, partstat: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{member.email}")
    address.params["cn"] = vText(member.full_name)
    address.params["role"] = vText("REQ-PARTICIPANT")
    address.params["partstat"] = vText(partstat)
    address.params["rsvp"] = vText("TRUE")
    return address


def _event(meeting: Meeting, attendees: Sequence[Member], tz: dt.tzinfo, *, partstat: str) -> Event:
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", dt.datetime.now(tz=dt.UTC))
    event.add("dtstart", localtime_or_utc(meeting.starts_at, tz))
    event.add("dtend", localtime_or_utc(meeting.ends_at, tz))
    event.add("sequence", meeting.sequence)
    event.add("summary", meeting.title or f"{meeting.program.name}")
    if meeting.place:
        event.add("location", meeting.place)
    event["organizer"] = _organizer()
    for member in attendees:
        event.add("attendee", _attendee(member, partstat))
    return event


def invitation(
    meetings: Sequence[Meeting],
    attendees: Sequence[Member],
    tz: dt.tzinfo,
    *,
    method: str = "REQUEST",
) -> str:
    """A series as one event with its RRULE (or a single meeting), or — for changes to some
    occurrences — one event per occurrence with its RECURRENCE-ID."""
    calendar = Calendar()
    calendar.add("prodid", "-//Cohorte//Rencontres//FR")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    first = meetings[0]
    partstat = "NEEDS-ACTION" if method == "REQUEST" else "DECLINED"
    if (
        method == "REQUEST"
        and first.frequency != Frequency.NONE
        and len(meetings) > 1
        and first.occurrence == 1
    ):
        event = _event(first, attendees, tz, partstat=partstat)
        event.add("rrule", vRecur(freq=RRULE_FREQ[Frequency(first.frequency)], count=len(meetings)))
        calendar.add_component(event)
    else:
        for meeting in meetings:
            event = _event(meeting, attendees, tz, partstat=partstat)
            if meeting.frequency != Frequency.NONE and meeting.original_start:
                event.add("recurrence-id", localtime_or_utc(meeting.original_start, tz))
            if method == "CANCEL":
                event.add("status", "CANCELLED")
            calendar.add_component(event)
    calendar.add_missing_timezones()  # VTIMEZONE for the zone the times are written in
    return calendar.to_ical().decode()
