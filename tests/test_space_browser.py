"""« Mon espace » in a real Chromium, on a phone (390 px wide) and a laptop (1280 px): the
page never scrolls sideways, the « À faire » items and their buttons are on screen, and
each is done in one click (an invitation answered, a past meeting evaluated)."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.meetings.models import MeetingAttendee, Relationship
from cohorte.meetings.services import meeting_create, relationship_create

from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def test_space_on_a_phone_has_no_sideways_scroll(browser, live_server, program_a, mentor, mentee):  # noqa: F811
    relationship_create(program=program_a, mentor=mentor, mentee=mentee, by=None)
    meeting_create(
        program=program_a,
        attendees=[mentor, mentee],
        starts_at=timezone.now() + dt.timedelta(days=2),
        duration_minutes=30,
        status="scheduled",
        by=None,
    )
    page = signed_in_page(browser, live_server, mentee)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/mon-espace/")
    items = page.locator(".todo-item")
    assert items.count() == 3
    for index in range(3):
        assert items.nth(index).is_visible()
    accept = page.locator(".todo-invitation button[value=accepted]")
    accept.scroll_into_view_if_needed()
    assert accept.is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    # answering from the phone: the item goes, the count follows
    accept.click()
    page.wait_for_selector(".toast")
    assert page.locator(".todo-item").count() == 2
    assert page.locator(".space-link .badge").inner_text().startswith("2")

    # her mentor's page: his picture stays round, nothing runs off the screen
    pair = Relationship.objects.get(mentor=mentor, mentee=mentee)
    page.goto(f"{live_server.url}/mon-espace/relations/{pair.pk}/")
    box = page.locator(".page-head .avatar").bounding_box()
    assert box and abs(box["width"] - box["height"]) < 1
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_past_meeting_is_evaluated_from_todo_in_one_click(
    browser,  # noqa: F811
    live_server,
    program_a,
    mentor,
    mentee,
    width,
):
    meeting = meeting_create(
        program=program_a,
        attendees=[mentor, mentee],
        starts_at=timezone.now() - dt.timedelta(hours=3),
        duration_minutes=45,
        status="scheduled",
        by=None,
    )
    page = signed_in_page(browser, live_server, mentee)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/mon-espace/")
    item = page.locator(".todo-evaluation")
    assert "Évaluez votre rencontre avec Marc Mentor" in item.inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    before = int(page.locator(".space-link .badge [aria-hidden]").inner_text())
    item.get_by_role("button", name="Elle a eu lieu").click()
    page.wait_for_selector(".toast")
    assert "Merci : votre évaluation est enregistrée." in page.locator(".toast").inner_text()
    assert page.locator(".todo-evaluation").count() == 0
    after = page.locator(".space-link .badge [aria-hidden]")
    assert (int(after.inner_text()) if after.count() else 0) == before - 1
    assert "Vous avez dit qu'elle a eu lieu" in page.locator(f"#meeting-{meeting.pk}").inner_text()
    assert MeetingAttendee.objects.get(meeting=meeting, member=mentee).took_place is True
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.close()
