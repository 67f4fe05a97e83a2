"""The sessions calendar in a real Chromium (FullCalendar on our feed): a manager switches
month, week and day, reads a 1:1 with both names at its hour in the time zone the page
states, opens its details, drags it to another time; refused, it goes back with the
reason; cancelled, nothing changes; confirmed, it is moved by « Reporter »'s service, with
its e-mails in the outbox."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.meetings.models import Availability, Meeting, MeetingAttendee
from cohorte.meetings.services import relationship_create
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member
from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture
from .test_csp import _watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTREAL = zoneinfo.ZoneInfo("America/Montreal")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def _person(organisation, program, email, first, last, role):
    member = make_member(organisation, email, first=first, last=last)
    Enrolment.objects.create(program=program, member=member, role=role)
    Availability.objects.bulk_create(
        [
            Availability(member=member, weekday=d, start=dt.time(0), end=dt.time(23, 59))
            for d in range(7)
        ]
    )
    return member


def _drag(page, source, target_lane, day_x):
    """Grab the session near its top and drop it on the top of another hour's lane."""
    box = source.bounding_box()
    lane = target_lane.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 30, steps=5)
    page.mouse.move(day_x, lane["y"] + 4, steps=15)
    page.mouse.up()


def _wait_at(page, pk, hour):
    """Until the session (whichever element the calendar draws it with) stands at the top
    of that hour's lane of the grid."""
    page.wait_for_function(
        """([pk, time]) => {
           const el = document.querySelector(`.fc-timegrid-event-harness [data-meeting='${pk}']`);
           const lane = document.querySelector(`.fc-timegrid-slot-lane[data-time='${time}']`);
           return el && lane && Math.abs(
             el.getBoundingClientRect().y - lane.getBoundingClientRect().y) < 4; }""",
        arg=[pk, hour],
    )


def test_manager_reads_and_moves_a_session_in_the_calendar(
    browser,  # noqa: F811
    live_server,
    organisation,
    program_a,
    manager_a,
    settings,
):
    settings.COHORTE_BASE_URL = live_server.url
    manager_a.timezone = "America/Montreal"  # the viewer's zone, not the organisation's
    manager_a.save(update_fields=["timezone"])
    marc = _person(organisation, program_a, "marc@x.example", "Marc", "Mentor", Role.MENTOR)
    emma = _person(organisation, program_a, "emma@x.example", "Emma", "Mentee", Role.MENTEE)
    relationship = relationship_create(program=program_a, mentor=marc, mentee=emma, by=manager_a)
    today = timezone.now().astimezone(MONTREAL).date()
    day = today + dt.timedelta(days=7 - today.weekday() + 2)  # next week's Wednesday
    start = dt.datetime.combine(day, dt.time(10), tzinfo=MONTREAL)
    meeting = Meeting.objects.create(
        program=program_a,
        relationship=relationship,
        starts_at=start,
        duration_minutes=60,
        created_by=manager_a,
    )
    MeetingAttendee.objects.bulk_create(
        [
            MeetingAttendee(meeting=meeting, member=marc, response="accepted"),
            MeetingAttendee(meeting=meeting, member=emma),
        ]
    )
    # the mentor is busy at 16:00 that day: a drop there is refused
    other = make_member(organisation, "olga@x.example", first="Olga", last="Autre")
    busy = Meeting.objects.create(
        program=program_a,
        kind="group",
        title="Atelier CV",
        starts_at=dt.datetime.combine(day, dt.time(16), tzinfo=MONTREAL),
        duration_minutes=60,
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=busy, member=marc), MeetingAttendee(meeting=busy, member=other)]
    )

    page = signed_in_page(browser, live_server, manager_a)
    seen = _watch_csp(page)
    page.set_viewport_size({"width": 1280, "height": 1700})
    url = f"{live_server.url}/programmes/{program_a.pk}/seances/?view=month&date={day}"
    page.goto(url)
    assert page.locator(".calendar-tz").inner_text().endswith("America/Montreal")
    session = page.locator(f".fc [data-meeting='{meeting.pk}']")
    session.wait_for()
    assert "Marc Mentor ↔ Emma Mentee" in session.inner_text()
    assert page.locator(".fc-daygrid-day.fc-day-today").count() == 1

    # week: the hour grid, the session in its day's column at 10:00 Montréal
    page.click(".fc-timeGridWeek-button")
    session = page.locator(f".fc-timegrid-event-harness [data-meeting='{meeting.pk}']")
    session.wait_for()
    text = session.inner_text()
    assert "Marc Mentor ↔ Emma Mentee" in text and "10:00 - 11:00" in text.replace("–", "-")
    ten = page.locator(".fc-timegrid-slot-lane[data-time='10:00:00']").bounding_box()
    top = session.bounding_box()["y"]
    assert abs(top - ten["y"]) < 4, (top, ten)
    column = page.locator(f".fc-timegrid-col[data-date='{day}']").bounding_box()
    middle = session.bounding_box()["x"] + session.bounding_box()["width"] / 2
    assert column["x"] <= middle <= column["x"] + column["width"]
    assert page.locator(".fc-timegrid-slot-label[data-time='10:00:00']").count() == 1

    # day, then back to the week
    page.click(".fc-timeGridDay-button")
    page.locator(f".fc-timeGridDay-view [data-meeting='{meeting.pk}']").wait_for()
    assert page.locator(".fc-col-header-cell").count() == 1
    page.click(".fc-timeGridWeek-button")
    session.wait_for()

    # its details
    session.click()
    details = page.locator("#event-dialog")
    details.wait_for(state="visible")
    assert details.locator("#event-title").inner_text() == "Marc Mentor ↔ Emma Mentee"
    assert "10:00" in details.locator(".event-when").inner_text()
    answers = details.locator(".answers").inner_text()
    assert "✓ Marc Mentor" in answers and "? Emma Mentee" in answers
    assert details.locator(".event-reschedule").get_attribute("href") == (
        f"/rencontres/{meeting.pk}/reporter/"
    )
    details.locator("button:has-text('Fermer')").click()
    details.wait_for(state="hidden")
    # by keyboard too: the session takes the focus, Enter opens it, Escape closes it
    session.focus()
    page.keyboard.press("Enter")
    details.wait_for(state="visible")
    page.keyboard.press("Escape")
    details.wait_for(state="hidden")

    lane = page.locator(".fc-timegrid-slot-lane[data-time='14:00:00']")
    dialog = page.locator("#move-dialog")

    # dragged to 14:00, then « Ne pas déplacer »: nothing changes
    _drag(page, session, lane, middle)
    dialog.wait_for(state="visible")
    assert "10:00" in dialog.locator(".move-old").inner_text()
    assert "14:00" in dialog.locator(".move-new").inner_text()
    assert "Marc Mentor ↔ Emma Mentee" in dialog.locator(".move-what").inner_text()
    dialog.locator("button:has-text('Ne pas déplacer')").click()
    dialog.wait_for(state="hidden")
    meeting.refresh_from_db()
    assert meeting.starts_at == start and meeting.sequence == 0
    _wait_at(page, meeting.pk, "10:00:00")  # back at 10:00
    assert not Email.objects.filter(subject__startswith="Rencontre reportée").exists()

    # dragged to 16:00, when the mentor is busy: refused, back at 10:00, the reason shown
    _drag(page, session, page.locator(".fc-timegrid-slot-lane[data-time='16:00:00']"), middle)
    dialog.wait_for(state="visible")
    dialog.locator("button:has-text('Déplacer')").first.click()
    message = page.locator("#calendar-message.error")
    message.wait_for(state="visible")
    assert "Déplacement refusé : Créneau indisponible" in message.inner_text()
    _wait_at(page, meeting.pk, "10:00:00")
    meeting.refresh_from_db()
    assert meeting.starts_at == start

    # dragged to 14:00 and confirmed: « Reporter »'s service moved it and told both
    _drag(page, session, lane, middle)
    dialog.wait_for(state="visible")
    dialog.locator("button[value=confirm]").click()
    page.locator("#calendar-message:not(.error):has-text('Séance déplacée')").wait_for()
    moved = dt.datetime.combine(day, dt.time(14), tzinfo=MONTREAL)
    meeting.refresh_from_db()
    assert meeting.starts_at == moved and meeting.sequence == 1
    assert meeting.attendances.get(member=marc).response == "pending"  # asked again
    mails = Email.objects.filter(subject__startswith="Rencontre reportée")
    assert sorted(mails.values_list("to_email", flat=True)) == ["emma@x.example", "marc@x.example"]
    paris_time = moved.astimezone(PARIS).strftime("%H:%M")  # their own zone: the organisation's
    assert all(f"à {paris_time}" in mail.body_text for mail in mails)
    assert AuditEntry.objects.filter(action="meetings.rescheduled", actor=manager_a).count() == 1
    # the calendar read it again from the feed: now at 14:00
    _wait_at(page, meeting.pk, "14:00:00")

    # a full day of the month: its first six sessions, then « + 2 autres », which opens it
    full = day + dt.timedelta(days=1)
    Meeting.objects.bulk_create(
        [
            Meeting(
                program=program_a,
                kind="masterclass",
                title=f"Cours {n}",
                starts_at=dt.datetime.combine(full, dt.time(8 + n), tzinfo=MONTREAL),
                duration_minutes=30,
            )
            for n in range(8)
        ]
    )
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/seances/?view=month&date={full}")
    cell = page.locator(f".fc-daygrid-day[data-date='{full}']")
    cell.locator(".fc-event.more").wait_for()
    assert cell.locator(".fc-event.kind-masterclass").count() == 6
    assert cell.locator(".fc-event").last.inner_text().strip() == "+ 2 autres"
    cell.locator(".fc-event.more").click()
    page.locator(".fc-timeGridDay-view").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('.fc-timegrid-event.kind-masterclass').length === 8"
    )
    assert f"date={full}" in page.url and "view=day" in page.url
    assert seen == [] and page.evaluate("window.__csp || []") == []
    page.close()
