"""Meetings under retries and hostile input: the API's retries change nothing twice, times
and numbers are bounded at the boundary, a bad stored time zone or a meeting stored in year
9999 (before the bounds existed) breaks no page, and the templates have no inline handlers."""

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.meetings import services
from cohorte.meetings.models import (
    Availability,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    Relationship,
    Response,
)
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Organisation, Role

from .conftest import make_member, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def pair(organisation, program_b):
    mentor = make_member(organisation, "m@x.example", first="Marc", last="Mentor", role="mentor")
    mentee = make_member(organisation, "e@x.example", first="Emma", last="Mentee", role="mentee")
    Enrolment.objects.create(program=program_b, member=mentor, role=Role.MENTOR)
    Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
    for person in (mentor, mentee):
        for day in range(7):
            Availability.objects.create(
                member=person, weekday=day, start=dt.time(8), end=dt.time(20)
            )
    return mentor, mentee


@pytest.fixture
def relationship(pair, program_b, admin):
    mentor, mentee = pair
    return services.relationship_create(program=program_b, mentor=mentor, mentee=mentee, by=admin)


def slot(days=3, hour=10):
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS)


def mails(word: str) -> int:
    """The outbox rows whose subject says `word` (« reportée », « annulée »)."""
    return Email.objects.filter(subject__contains=word).count()


def book_series(api, relationship, count=3):
    booked = api.post(
        f"/api/relationships/{relationship.pk}/meetings",
        {"starts_at": slot().isoformat(), "frequency": "weekly", "count": count},
    )
    assert booked.status_code == 201, booked.json()
    return [m["id"] for m in booked.json()]


# --- The API's retries --------------------------------------------------------------------


def test_retrying_a_reschedule_of_the_following_changes_nothing_the_second_time(
    api_as, admin, relationship, pair
):
    api = api_as(admin)
    first, second, third = book_series(api, relationship)
    body = {"starts_at": slot(days=11, hour=15).isoformat(), "scope": "following"}
    moved = api.post(f"/api/meetings/{second}/reschedule", body)
    assert moved.status_code == 200, moved.json()
    assert [m["sequence"] for m in moved.json()] == [1, 1]
    assert mails("reportée") == 2  # one to each of the pair
    mentor, mentee = pair
    MeetingAttendee.objects.filter(member=mentee, meeting_id__in=[second, third]).update(
        response=Response.ACCEPTED
    )
    before = {m.pk: (m.starts_at, m.sequence) for m in Meeting.objects.all()}
    again = api.post(f"/api/meetings/{second}/reschedule", body)
    assert again.status_code == 200, again.json()
    assert [m["id"] for m in again.json()] == [second, third]
    assert {m.pk: (m.starts_at, m.sequence) for m in Meeting.objects.all()} == before
    assert set(
        MeetingAttendee.objects.filter(member=mentee, meeting_id__in=[second, third]).values_list(
            "response", flat=True
        )
    ) == {"accepted"}  # the answers given since are kept
    assert mails("reportée") == 2  # no second « Rencontre reportée »
    # the same call on « this one only » is a retry too
    one = {"starts_at": again.json()[1]["starts_at"], "scope": "one"}
    assert api.post(f"/api/meetings/{third}/reschedule", one).status_code == 200
    assert Meeting.objects.get(pk=third).sequence == 1 and mails("reportée") == 2


def test_posting_the_same_pair_twice_returns_the_existing_relationship(
    api_as, admin, program_b, pair
):
    api = api_as(admin)
    mentor, mentee = pair
    Member.objects.filter(pk=mentor.pk).update(max_mentees=1)  # the first one fills the mentor
    body = {"mentor": mentor.pk, "mentee": mentee.pk}
    created = api.post(f"/api/programs/{program_b.pk}/relationships", body)
    assert created.status_code == 201
    again = api.post(f"/api/programs/{program_b.pk}/relationships", body)
    assert again.status_code == 200 and again.json() == created.json()
    assert Relationship.objects.filter(program=program_b).count() == 1
    described = api.get("/api/openapi.json").json()
    operation = described["paths"]["/api/programs/{program_id}/relationships"]["post"]
    assert "200" in operation["responses"] and "already matched" in operation["description"]


def test_rescheduling_a_cancelled_meeting_does_not_bring_it_back(api_as, admin, relationship):
    api = api_as(admin)
    first, *_ = book_series(api, relationship, count=1)
    assert api.post(f"/api/meetings/{first}/cancel", {"scope": "one"}).json() == {"cancelled": 1}
    sent = Email.objects.count()
    refused = api.post(
        f"/api/meetings/{first}/reschedule", {"starts_at": slot(days=5, hour=11).isoformat()}
    )
    assert refused.status_code == 400 and "annulée" in refused.json()["errors"][0]["reason"]
    meeting = Meeting.objects.get(pk=first)
    assert meeting.status == MeetingStatus.CANCELLED and meeting.sequence == 1
    assert Email.objects.count() == sent


def test_cancelling_the_following_from_a_cancelled_occurrence_cancels_the_later_ones(
    api_as, admin, relationship
):
    api = api_as(admin)
    first, second, third = book_series(api, relationship)
    assert api.post(f"/api/meetings/{first}/cancel", {"scope": "one"}).json() == {"cancelled": 1}
    assert mails("annulée") == 2
    rest = api.post(f"/api/meetings/{first}/cancel", {"scope": "following"})
    assert rest.status_code == 200 and rest.json() == {"cancelled": 2}
    assert set(Meeting.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Meeting.objects.get(pk=first).sequence == 1  # the first was not cancelled twice
    assert mails("annulée") == 4
    again = api.post(f"/api/meetings/{first}/cancel", {"scope": "following"})
    assert again.json() == {"cancelled": 0} and mails("annulée") == 4  # nobody told twice


# --- Bounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "starts_at", ["9999-12-31T10:00:00+01:00", "1900-01-01T10:00:00+00:00", "0001-01-01T00:00Z"]
)
def test_the_api_refuses_a_start_out_of_bounds(api_as, admin, relationship, starts_at):
    api = api_as(admin)
    booked = api.post(f"/api/relationships/{relationship.pk}/meetings", {"starts_at": starts_at})
    assert booked.status_code == 400 and booked.json()["errors"][0]["field"] == "starts_at"
    first, *_ = book_series(api, relationship, count=1)
    moved = api.post(f"/api/meetings/{first}/reschedule", {"starts_at": starts_at})
    assert moved.status_code == 400
    assert Meeting.objects.get().starts_at == slot()


def test_a_series_that_would_end_decades_ahead_is_refused(api_as, admin, relationship):
    api = api_as(admin)
    booked = api.post(
        f"/api/relationships/{relationship.pk}/meetings",
        {"starts_at": slot().isoformat(), "frequency": "yearly", "count": 52},
    )
    assert booked.status_code == 400 and booked.json()["errors"][0]["field"] == "starts_at"
    for duration in (99999999999, 0, -5):
        refused = api.post(
            f"/api/relationships/{relationship.pk}/meetings",
            {"starts_at": slot().isoformat(), "duration_minutes": duration},
        )
        assert refused.status_code == 400
    assert not Meeting.objects.exists()


def test_the_booking_form_refuses_bad_starts_durations_and_counts(admin, relationship):
    client = signed_in(admin)
    url = f"/relations/{relationship.pk}/planifier/"
    good = {"start": slot().isoformat(), "meeting_type": "video", "duration": "30"}
    for bad, reason in (
        ({"start": "9999-12-31T10:00:00+01:00"}, "hors limites"),
        ({"start": "1900-01-01T10:00"}, "hors limites"),
        ({"start": "²"}, "ISO 8601"),
        ({"duration": "99999999999"}, "Durée"),
        ({"duration": "²"}, "Durée"),
        ({"count": "99999999999"}, "au plus 52"),
        ({"count": "²"}, "nombre entier"),
    ):
        response = client.post(url, {**good, **bad}, follow=True)
        assert response.status_code == 200
        assert reason in response.content.decode(), bad
    assert not Meeting.objects.exists()
    assert client.get(url, {"duration": "99999999999"}).status_code == 200
    assert client.post(url, good).status_code == 302 and Meeting.objects.count() == 1


def test_the_group_session_form_refuses_out_of_range_numbers_and_dates(admin, program_b, pair):
    client = signed_in(admin)
    url = f"/programmes/{program_b.pk}/seances/nouvelle/"
    good = {
        "kind": "masterclass",
        "title": "Parler en public",
        "starts_at": f"{slot():%Y-%m-%dT%H:%M}",
        "duration": "60",
        "capacity": "10",
        "led_by": str(pair[0].pk),
    }
    for bad in (
        {"duration": "99999999999"},
        {"capacity": "99999999999"},
        {"capacity": "²"},
        {"starts_at": "9999-12-31T10:00"},
        {"starts_at": "1900-01-01T10:00"},
        {"led_by": "99999999999999999999999"},
        {"member": ["²"]},
    ):
        response = client.post(url, {**good, **bad})
        assert response.status_code == 200, bad
        assert "invalides" in response.content.decode(), bad
    assert not Meeting.objects.exists()
    assert client.post(url, good).status_code == 302 and Meeting.objects.count() == 1


def test_bad_dates_in_the_calendar_and_slot_pages_show_today_with_a_message(
    admin, program_b, relationship
):
    client = signed_in(admin)
    meeting = services.meetings_book(
        relationship=relationship,
        by=admin,
        starts_at=slot(),
        duration_minutes=30,
        meeting_type="video",
    )[0]
    for value in ("9999-12-31", "99999-01-01", "1900-01-01", "²", "2026-02-30", "x" * 300):
        calendar = client.get(f"/programmes/{program_b.pk}/seances/", {"date": value})
        assert calendar.status_code == 200, value
        assert "date" in calendar.content.decode().lower()
        for url in (
            f"/relations/{relationship.pk}/planifier/",
            f"/rencontres/{meeting.pk}/reporter/",
        ):
            page = client.get(url, {"day": value})
            assert page.status_code == 200, (url, value)
            assert "hors limites" in page.content.decode() or "AAAA-MM-JJ" in page.content.decode()
    for view in ("month", "week", "day"):
        for edge in ("2000-01-01", "2100-12-31"):
            assert (
                client.get(
                    f"/programmes/{program_b.pk}/seances/", {"view": view, "date": edge}
                ).status_code
                == 200
            )


def test_availability_times_go_through_the_time_parser(admin):
    client = signed_in(admin)
    for bad in ("25:99", "²", "9:00", "10:00:00:00", "x" * 200):
        response = client.post("/compte/disponibilites/", {"start_0": bad, "end_0": "18:00"})
        assert response.status_code == 302, bad
    assert not Availability.objects.filter(member=admin).exists()
    client.post("/compte/disponibilites/", {"start_0": "09:00", "end_0": "18:00"})
    assert Availability.objects.filter(member=admin).count() == 1


def test_page_parameters_and_posted_ids_go_through_the_parser(admin, program_b, relationship):
    client = signed_in(admin)
    base = f"/programmes/{program_b.pk}/relations/"
    for params in (
        {"size": "²"},
        {"size": "99999999999999999999999"},
        {"page": "²"},
        {"page": "99999999999999999999999"},
        {"tab": "meetings", "page": "-1"},
    ):
        assert client.get(base, params).status_code == 200, params
    new = f"/programmes/{program_b.pk}/relations/nouvelle/"
    assert client.get(new, {"mentee": "99999999999999999999999"}).status_code == 200
    assert client.get(new, {"mentee": "²"}).status_code == 200
    for bad in ("²", "99999999999999999999999", "-1", ""):
        response = client.post(new, {"mentor": bad, "mentee": bad}, follow=True)
        assert response.status_code == 200 and "Choisissez un mentor" in response.content.decode()
    for bad in ("²", "99999999999999999999999", "abc"):
        assert client.post("/compte/cours-de-maitre/", {"meeting": bad}).status_code == 404


# --- Bad stored time zones ----------------------------------------------------------------


@pytest.mark.parametrize("bad_zone", ["Not/AZone", "../../etc/passwd"])
def test_a_bad_stored_time_zone_breaks_no_meetings_page_nor_the_api(
    api_as, admin, organisation, program_b, relationship, pair, bad_zone
):
    mentor, mentee = pair
    Member.objects.filter(pk__in=[admin.pk, mentor.pk, mentee.pk]).update(timezone=bad_zone)
    api = api_as(Member.objects.get(pk=admin.pk))
    booked = api.post(
        f"/api/relationships/{relationship.pk}/meetings",
        {"starts_at": slot().isoformat(), "frequency": "weekly", "count": 2},
    )
    assert booked.status_code == 201, booked.json()
    meeting = booked.json()[0]["id"]
    client = signed_in(Member.objects.get(pk=admin.pk))
    pages = [
        f"/relations/{relationship.pk}/",
        f"/relations/{relationship.pk}/planifier/",
        f"/programmes/{program_b.pk}/seances/",
        f"/programmes/{program_b.pk}/relations/",
        f"/programmes/{program_b.pk}/relations/?tab=meetings",
        f"/programmes/{program_b.pk}/relations/nouvelle/",
        f"/rencontres/{meeting}/reporter/",
        f"/rencontres/{meeting}/annuler/",
        "/compte/disponibilites/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    # the organisation's own zone too
    Organisation.objects.filter(pk=organisation.pk).update(timezone=bad_zone)
    client = signed_in(Member.objects.get(pk=admin.pk))
    for url in pages:
        assert client.get(url).status_code == 200, url
    api = api_as(Member.objects.get(pk=admin.pk))
    moved = api.post(
        f"/api/meetings/{meeting}/reschedule", {"starts_at": slot(days=4, hour=11).isoformat()}
    )
    assert moved.status_code == 200, moved.json()
    today = timezone.localdate()
    calendar = api.get(
        f"/api/programs/{program_b.pk}/meetings",
        **{"from": today.isoformat(), "to": (today + dt.timedelta(days=30)).isoformat()},
    )
    assert calendar.status_code == 200 and len(calendar.json()) == 2
    assert api.post(f"/api/meetings/{meeting}/cancel", {"scope": "following"}).status_code == 200
    attendance = MeetingAttendee.objects.filter(member=mentee).first()
    token = services.answer_token(attendance, Response.ACCEPTED)
    assert signed_in(mentee).get(f"/rencontres/reponse/{token}/").status_code == 200
    assert Email.objects.filter(attachments__isnull=False).count() > 0  # the .ics were written


# --- A meeting stored out of range --------------------------------------------------------

FAR = dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)
EARLY = dt.datetime(1, 1, 1, 0, 10, tzinfo=dt.UTC)


def stored(program, relationship, starts_at, **extra) -> Meeting:
    """A row written directly, as the API did before the bounds existed."""
    meeting = Meeting.objects.create(
        program=program,
        relationship=relationship,
        starts_at=starts_at,
        original_start=starts_at,
        duration_minutes=90,
        **extra,
    )
    for member in (relationship.mentor, relationship.mentee):
        MeetingAttendee.objects.create(meeting=meeting, member=member)
    return meeting


def test_a_meeting_stored_in_year_9999_breaks_no_meetings_page(
    api_as, admin, program_b, relationship, pair
):
    far = stored(program_b, relationship, FAR)
    early = stored(program_b, relationship, EARLY)
    series = stored(program_b, relationship, FAR - dt.timedelta(days=1), frequency="weekly")
    group = Meeting.objects.create(
        program=program_b, kind="masterclass", title="Loin", starts_at=FAR, duration_minutes=60
    )
    client = signed_in(admin)
    for url in (
        f"/programmes/{program_b.pk}/relations/",
        f"/programmes/{program_b.pk}/relations/?tab=meetings",
        f"/programmes/{program_b.pk}/relations/?tab=meetings&order=asc",
        f"/programmes/{program_b.pk}/relations/?tab=groups",
        f"/programmes/{program_b.pk}/seances/",
        f"/programmes/{program_b.pk}/seances/?view=week&date=2100-12-31",
        f"/programmes/{program_b.pk}/seances/?view=day&date=2000-01-01",
        f"/programmes/{program_b.pk}/",
        f"/relations/{relationship.pk}/",
        f"/relations/{relationship.pk}/planifier/",
        f"/rencontres/{far.pk}/annuler/",
        f"/rencontres/{far.pk}/reporter/",
        f"/rencontres/{early.pk}/reporter/",
        f"/rencontres/{series.pk}/annuler/",
        f"/programmes/{program_b.pk}/terminer-le-cycle/?method=full",
        "/compte/cours-de-maitre/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    html = client.get(f"/programmes/{program_b.pk}/relations/?tab=meetings").content.decode()
    assert "9999" in html  # shown (in UTC), not hidden
    # postpone the far one to a real time, then cancel the other ones
    moved = client.post(f"/rencontres/{far.pk}/reporter/", {"start": slot().isoformat()})
    assert moved.status_code == 302
    assert Meeting.objects.get(pk=far.pk).starts_at == slot()
    assert (
        client.post(f"/rencontres/{series.pk}/annuler/", {"scope": "following"}).status_code == 302
    )
    assert client.post(f"/rencontres/{early.pk}/annuler/").status_code == 302
    assert client.post(f"/rencontres/{early.pk}/tenue/").status_code == 302
    assert Meeting.objects.get(pk=series.pk).status == MeetingStatus.CANCELLED
    api = api_as(admin)
    assert api.post(f"/api/meetings/{group.pk}/cancel", {"scope": "one"}).status_code == 200
    refused = api.post(f"/api/meetings/{series.pk}/reschedule", {"starts_at": slot().isoformat()})
    assert refused.status_code == 400  # cancelled
    assert api.get(f"/api/programs/{program_b.pk}/relationships").status_code == 200
    # booking next to the far meetings reads them as busy time without overflowing
    stored(program_b, relationship, FAR)
    assert client.get(f"/relations/{relationship.pk}/planifier/").status_code == 200
    assert services.meetings_book(
        relationship=relationship,
        by=admin,
        starts_at=slot(days=6),
        duration_minutes=30,
        meeting_type="video",
    )


def test_the_cycle_archive_holds_a_meeting_stored_in_year_9999(program_b, relationship):
    from cohorte.reports.services import cycle_archive

    stored(program_b, relationship, FAR)
    stored(program_b, relationship, EARLY)
    name, content = cycle_archive(program=program_b)
    assert name.endswith(".zip") and content


def test_an_invitation_for_a_meeting_stored_in_year_9999_is_written(program_b, relationship):
    from cohorte.meetings import ics

    far = stored(program_b, relationship, FAR)
    text = ics.invitation([far], [relationship.mentor], PARIS, method="CANCEL")
    assert "9999" in text


# --- Content-Security-Policy: no inline handlers ------------------------------------------


def test_the_meetings_templates_have_no_inline_event_handlers():
    folder = Path(__file__).parent.parent / "cohorte" / "meetings" / "templates"
    for template in folder.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text, template.name


def test_the_slot_picker_date_is_a_get_form_with_a_visible_button(admin, relationship):
    html = signed_in(admin).get(f"/relations/{relationship.pk}/planifier/?duration=45").content
    html = html.decode()
    picker = re.search(r'<form method="get" class="day-nav[^"]*">(.*?)</form>', html, re.S)
    assert picker is not None
    assert 'name="day"' in picker.group(1) and "data-autosubmit" in picker.group(1)
    assert 'name="duration" value="45"' in picker.group(1) and "Afficher" in picker.group(1)
    assert 'form="booking"' in html  # the slots belong to the booking form
    assert "data-confirm" in signed_in(admin).get(f"/relations/{relationship.pk}/").content.decode()
