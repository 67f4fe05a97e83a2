"""The Relations page, the « Rencontres » tab, the calendar and the free-slot search read a
fixed number of queries whatever the number of rows, and the calendar stays readable when a
day holds more sessions than its cell can show."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from cohorte.meetings import services
from cohorte.meetings.api import MeetingOut
from cohorte.meetings.models import (
    Availability,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    Relationship,
)
from cohorte.meetings.selectors import calendar_meetings
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member, organisation_today, signed_in

#: noon UTC falls on the organisation's day (Paris) whatever the hour the tests run at
NOON = dt.time(12, tzinfo=dt.UTC)


@pytest.fixture
def pairs(organisation, program_b):
    """Twelve pairs of program_b, each with four 1:1 meetings (yesterday, today, in two and
    in five days, at noon UTC) and one group session of all the mentees the day after."""
    today = organisation_today()
    made = []
    for n in range(12):
        mentor = make_member(organisation, f"mentor{n}@x.example", first=f"Mentor{n}", last="M")
        mentee = make_member(organisation, f"mentee{n}@x.example", first=f"Mentee{n}", last="E")
        Enrolment.objects.create(program=program_b, member=mentor, role=Role.MENTOR)
        Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
        relationship = Relationship.objects.create(program=program_b, mentor=mentor, mentee=mentee)
        for offset in (-1, 0, 2, 5):
            meeting = Meeting.objects.create(
                program=program_b,
                relationship=relationship,
                starts_at=dt.datetime.combine(today + dt.timedelta(days=offset), NOON),
                duration_minutes=30,
                status=MeetingStatus.CONFIRMED if offset < 0 else MeetingStatus.SCHEDULED,
                created_by=mentor,
            )
            MeetingAttendee.objects.bulk_create(
                [
                    MeetingAttendee(meeting=meeting, member=mentor, response="accepted"),
                    MeetingAttendee(meeting=meeting, member=mentee, comment=f"vu {n}"),
                ]
            )
        made.append(relationship)
    group = Meeting.objects.create(
        program=program_b,
        kind=MeetingKind.GROUP,
        title="Groupe de pairs",
        starts_at=dt.datetime.combine(today + dt.timedelta(days=1), NOON),
        duration_minutes=60,
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=group, member=r.mentee) for r in made]
    )
    return made


def queries_of(client, url, params=None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries.captured_queries), response.content.decode()


def test_relations_and_meetings_tabs_read_as_many_queries_for_100_rows_as_for_10(
    admin, program_b, pairs
):
    client = signed_in(admin)
    url = f"/programmes/{program_b.pk}/relations/"
    client.get(url)  # the first request of a session also notes the member's presence
    for tab in ("all", "meetings", "groups"):
        few, _page = queries_of(client, url, {"tab": tab, "size": 10})
        many, _whole = queries_of(client, url, {"tab": tab, "size": 100})
        assert few == many, tab
        assert few <= 16, tab
    # what the rows show is still there: the names, the answers, the comments, the counts
    _count, whole = queries_of(client, url, {"tab": "meetings", "size": 100})
    assert whole.count('<tr data-meeting="') == 48
    assert "Mentor11 M" in whole and "Mentee0 E" in whole and "vu 3" in whole
    # noon UTC is 13:00 in Paris: the date and the hours of each row
    with translation.override("fr"):
        noon = dt.datetime.combine(organisation_today(), NOON)
        today = formats.date_format(noon.astimezone(program_b.organisation.tzinfo), "j F Y")
    assert f'<td class="nowrap">{today}</td><td class="nowrap">13h00 à 13h30</td>' in whole
    _count, relations = queries_of(client, url, {"tab": "all", "size": 100})
    assert relations.count('<tr data-relationship="') == 12
    # one held meeting (yesterday's, 30 minutes) counted on each row
    assert re.search(r'<td class="num">[^<]*30[^<]*</td><td class="num">1</td>', relations)
    _count, groups = queries_of(client, url, {"tab": "groups"})
    assert "Groupe de pairs" in groups and "<td>12</td>" in groups


def test_the_page_says_how_many_rows_it_shows_filtered_or_not(admin, program_b, pairs):
    client = signed_in(admin)
    url = f"/programmes/{program_b.pk}/relations/"
    _count, page = queries_of(client, url, {"tab": "meetings"})
    assert "affichées 1 à 10 sur 48 entrées" in page
    _count, page = queries_of(client, url, {"tab": "meetings", "q": "Mentee3"})
    assert "affichées 1 à 4 sur 4 entrées (filtrées de 48)" in page
    _count, page = queries_of(client, url, {"tab": "meetings", "page": 5})
    assert "affichées 41 à 48 sur 48 entrées" in page


def test_a_full_day_shows_its_first_sessions_and_how_many_more_in_the_month(
    admin, program_b, pairs
):
    """The calendar's feed (FullCalendar reads it): a month's day shows its first six
    sessions and « + N autres », which opens the day; the day shows them all."""
    client = signed_in(admin)
    today = timezone.now().astimezone(program_b.organisation.tzinfo).date()
    feed = f"/api/programs/{program_b.pk}/calendar"
    client.get(f"/programmes/{program_b.pk}/seances/")  # the session notes the presence
    first = today.replace(day=1)
    month = {
        "start": (first - dt.timedelta(days=first.weekday())).isoformat() + "T00:00:00",
        "end": (first - dt.timedelta(days=first.weekday()) + dt.timedelta(days=42)).isoformat()
        + "T00:00:00",
        "tz": "Europe/Paris",
    }
    few, body = queries_of(client, feed, month)
    events = json.loads(body)
    mine = [e for e in events if e["title"] == "Mentor0 M ↔ Mentee0 E"]
    # noon UTC is 13:00 in Paris, with its day and its end
    assert f"{today.isoformat()}T13:00:00" in [e["start"] for e in mine]
    assert any(e["end"] == f"{today.isoformat()}T13:30:00" for e in mine)
    # twelve meetings today: six shown in the cell, the others behind a link to the day
    on_today = [e for e in events if e["start"].startswith(today.isoformat())]
    assert len([e for e in on_today if "more" not in e["extendedProps"]]) == 6
    more = [e for e in on_today if "more" in e["extendedProps"]]
    assert [m["title"] for m in more] == ["+ 6 autres"]
    assert more[0]["extendedProps"]["day"] == today.isoformat() and more[0]["allDay"]
    day = {
        "start": f"{today.isoformat()}T00:00:00",
        "end": f"{(today + dt.timedelta(days=1)).isoformat()}T00:00:00",
        "tz": "Europe/Paris",
    }
    _count, body = queries_of(client, feed, day)
    events = json.loads(body)
    assert len(events) == 12 and not any("more" in e["extendedProps"] for e in events)
    # more meetings on other days: not one query more
    relationship = pairs[0]
    for offset in range(8, 20):
        Meeting.objects.create(
            program=program_b,
            relationship=relationship,
            starts_at=dt.datetime.combine(today + dt.timedelta(days=offset % 12 - 3), NOON),
            duration_minutes=30,
        )
    many, _month = queries_of(client, feed, month)
    assert many == few
    assert few <= 6  # session and member, programme, day ranks, meetings, answers


def test_the_calendar_json_is_what_the_schema_writes(api_as, admin, program_b, pairs):
    nameless = make_member(program_b.organisation, "sans.nom@x.example")
    group = Meeting.objects.get(kind=MeetingKind.GROUP)
    MeetingAttendee.objects.create(meeting=group, member=nameless, response="declined")
    today = organisation_today()
    start = dt.datetime.combine(today - dt.timedelta(days=3), dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(today + dt.timedelta(days=9), dt.time.min, tzinfo=dt.UTC)
    expected = [
        json.loads(MeetingOut.model_validate(m).model_dump_json())
        for m in calendar_meetings(program=program_b, start=start, end=end)
    ]
    window = {
        "from": (today - dt.timedelta(days=2)).isoformat(),
        "to": (today + dt.timedelta(days=7)).isoformat(),
    }
    api = api_as(admin)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/programs/{program_b.pk}/meetings", **window)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    got = response.json()
    assert len(got) == 49
    # the same meetings, fields and answers as MeetingOut (dates compared as instants)
    for row in got + expected:
        row["starts_at"] = dt.datetime.fromisoformat(row["starts_at"])
    assert got == expected
    assert any(a["name"] == "sans.nom@x.example" for row in got for a in row["attendees"])
    assert len(queries.captured_queries) <= 8


def test_free_slots_read_only_the_days_looked_at(program_b, pairs):
    relationship = pairs[0]
    mentor, mentee = relationship.mentor, relationship.mentee
    for member in (mentor, mentee):
        Availability.objects.bulk_create(
            [Availability(member=member, weekday=d, start="08:00", end="20:00") for d in range(7)]
        )
    day = organisation_today() + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    people = services.people_of(
        [mentor, mentee],
        fallback_tz="Europe/Paris",
        between=(start, start + dt.timedelta(days=1)),
    )
    noon = dt.datetime.combine(day, NOON)
    # the meeting of that day, not those of the other days (but for the day before: one
    # that starts then may run into the day, so the mentee's group session is read too)
    assert [busy for busy, _end in people[0].busy] == [noon]
    assert sorted(busy for busy, _end in people[1].busy) == [noon - dt.timedelta(days=1), noon]
    # a late meeting the day before that runs past midnight still counts
    late = Meeting.objects.create(
        program=program_b,
        relationship=relationship,
        starts_at=start - dt.timedelta(minutes=30),
        duration_minutes=90,
    )
    MeetingAttendee.objects.create(meeting=late, member=mentee)
    people = services.people_of(
        [mentor, mentee],
        fallback_tz="Europe/Paris",
        between=(start, start + dt.timedelta(days=1)),
    )
    assert late.starts_at in [busy for busy, _end in people[1].busy]
    with CaptureQueriesContext(connection) as queries:
        found, slots = services.free_slots(
            members=[mentor, mentee],
            day=day,
            duration=30,
            viewer_tz=program_b.organisation.tzinfo,
            fallback_tz="Europe/Paris",
            look_ahead=21,
        )
    assert len(queries.captured_queries) == 2
    assert found == day and slots
    # nobody is offered the half hour of their meeting
    busy_until = noon + dt.timedelta(minutes=30)
    assert noon - dt.timedelta(minutes=30) in [slot.start for slot in slots]
    assert busy_until in [slot.start for slot in slots]
    assert not [slot for slot in slots if slot.start < busy_until and noon < slot.end]
