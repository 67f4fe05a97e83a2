"""The « Accepter » / « Refuser » links of an invitation: opening one (what a mail scanner
does) only shows the meeting and asks for one click; the click, a POST with its CSRF token,
answers. A link sent before a reschedule no longer answers for the new time."""

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.meetings import services
from cohorte.meetings.models import Availability, Meeting, MeetingAttendee, Response
from cohorte.messaging.models import Email

from .conftest import make_member

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


@pytest.fixture
def pair(organisation, program_b, admin):
    mentor = make_member(organisation, "marc@x.example", first="Marc", last="Mentor")
    mentee = make_member(
        organisation, "emma@x.example", first="Emma", last="Mentee", timezone="America/Toronto"
    )
    for person in (mentor, mentee):
        for day in range(7):
            Availability.objects.create(
                member=person, weekday=day, start=dt.time(6), end=dt.time(22)
            )
    return services.relationship_create(program=program_b, mentor=mentor, mentee=mentee, by=admin)


def book(pair, admin, *, days=3, hour=16, count=1):
    day = timezone.localdate() + dt.timedelta(days=days)
    return services.meetings_book(
        relationship=pair,
        by=admin,
        starts_at=dt.datetime.combine(day, dt.time(hour), tzinfo=PARIS),
        duration_minutes=30,
        meeting_type="in_person",
        place="Salle 12, lycée Camille Guérin",
        frequency="weekly" if count > 1 else "none",
        count=count,
    )


def link(pair, meeting, answer=Response.ACCEPTED):
    attendance = MeetingAttendee.objects.get(meeting=meeting, member=pair.mentee)
    return f"/rencontres/reponse/{services.answer_token(attendance, answer)}/"


def responses(pair):
    return list(
        MeetingAttendee.objects.filter(member=pair.mentee)
        .order_by("meeting__starts_at")
        .values_list("response", flat=True)
    )


def csrf_of(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def test_opening_a_link_with_get_or_head_changes_nothing(pair, admin):
    meeting = book(pair, admin)[0]
    url = link(pair, meeting, Response.DECLINED)
    answered, emails = AuditEntry.objects.filter(action="meeting.answered"), Email.objects.count()
    client = Client()
    assert client.head(url).status_code == 200
    page = client.get(url)
    assert page.status_code == 200
    assert client.get(url).status_code == 200  # a second scanner, still nothing
    assert responses(pair) == ["pending"]
    assert not answered.exists() and Email.objects.count() == emails
    assert Meeting.objects.get(pk=meeting.pk).sequence == 0
    html = page.content.decode()
    assert 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert "Refuser" in html


def test_the_page_shows_who_when_in_the_recipients_zone_and_where(pair, admin):
    meeting = book(pair, admin, hour=16)[0]
    html = Client().get(link(pair, meeting)).content.decode()
    local = meeting.starts_at.astimezone(zoneinfo.ZoneInfo("America/Toronto"))
    # 16h00 in Paris is 10h00 there (the page is French: « 10h00 », cohorte/formats/fr)
    assert f"{local:%H}h{local:%M}" in html and "America/Toronto" in html
    assert "Marc Mentor" in html and "Anne Admin" not in html  # who (the other attendees)
    assert "Salle 12, lycée Camille Guérin" in html  # where


def test_one_click_accepts_for_someone_not_signed_in_with_csrf(pair, admin):
    meetings = book(pair, admin, count=2)
    url = link(pair, meetings[0])
    client = Client(enforce_csrf_checks=True)  # the real CSRF check, as a browser meets it
    page = client.get(url)
    assert client.post(url).status_code == 403  # no CSRF token: refused, nothing answered
    assert responses(pair) == ["pending", "pending"]
    done = client.post(url, {"csrfmiddlewaretoken": csrf_of(page)})
    assert done.status_code == 200 and "Invitation acceptée" in done.content.decode()
    assert responses(pair) == ["accepted", "accepted"]  # this one and the following
    assert AuditEntry.objects.filter(action="meeting.answered").count() == 1


def test_one_click_declines(pair, admin):
    meeting = book(pair, admin)[0]
    done = Client().post(link(pair, meeting, Response.DECLINED))
    assert done.status_code == 200 and "Invitation refusée" in done.content.decode()
    assert responses(pair) == ["declined"]


def test_a_link_sent_before_a_reschedule_no_longer_answers(pair, admin):
    meeting = book(pair, admin)[0]
    old = link(pair, meeting)
    services.meeting_reschedule(
        meeting=meeting, by=admin, starts_at=meeting.starts_at + dt.timedelta(days=1)
    )
    client = Client()
    page = client.get(old)
    assert "ancien horaire" in page.content.decode()
    refused = client.post(old)
    assert refused.status_code == 400 and "ancien horaire" in refused.content.decode()
    assert responses(pair) == ["pending"]
    # the link of the new invitation answers
    assert client.post(link(pair, meeting)).status_code == 200
    assert responses(pair) == ["accepted"]


def test_the_new_invitation_carries_links_for_the_new_time(pair, admin):
    meeting = book(pair, admin)[0]
    services.meeting_reschedule(
        meeting=meeting, by=admin, starts_at=meeting.starts_at + dt.timedelta(days=1)
    )
    moved = Email.objects.filter(to_email="emma@x.example").order_by("pk").last()
    url = re.search(r"Accepter : \S*(/rencontres/reponse/\S+/)", moved.body_text).group(1)
    assert Client().post(url).status_code == 200 and responses(pair) == ["accepted"]


def test_a_tampered_signature_is_refused(pair, admin):
    meeting = book(pair, admin)[0]
    url = link(pair, meeting)
    tampered = url[:-4] + ("A" if url[-4] != "A" else "B") + url[-3:]
    client = Client()
    assert "pas valide" in client.get(tampered).content.decode()
    refused = client.post(tampered)
    assert refused.status_code == 400 and "pas valide" in refused.content.decode()
    for junk in ("x", "%C2%B2", "a" * 500):
        assert client.get(f"/rencontres/reponse/{junk}/").status_code == 200
        assert client.post(f"/rencontres/reponse/{junk}/").status_code == 400
    assert responses(pair) == ["pending"]


def test_a_cancelled_meeting_cannot_be_accepted(pair, admin):
    meeting = book(pair, admin)[0]
    url = link(pair, meeting)  # sent before the cancellation
    services.meeting_cancel(meeting=meeting, by=admin)
    refused = Client().post(url)
    assert refused.status_code == 400 and "annulée" in refused.content.decode()
    fresh = link(pair, meeting)  # even with the current sequence
    assert "annulée" in Client().post(fresh).content.decode()
    assert responses(pair) == ["pending"]


def test_other_methods_are_refused(pair, admin):
    meeting = book(pair, admin)[0]
    assert Client().put(link(pair, meeting)).status_code == 405
    assert responses(pair) == ["pending"]


def test_a_link_does_not_answer_for_a_later_occurrence_moved_since(pair, admin):
    first, second, third = book(pair, admin, count=3)
    old = link(pair, first)
    services.meeting_reschedule(
        meeting=second, by=admin, starts_at=second.starts_at + dt.timedelta(days=1)
    )
    services.meeting_cancel(meeting=third, by=admin)
    assert Client().post(old).status_code == 200
    # the first is answered; the moved one waits for its own new link; the cancelled one stays
    assert responses(pair) == ["accepted", "pending", "pending"]
