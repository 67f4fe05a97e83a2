"""« Mon espace » on a phone (390 px wide) in a real Chromium: the page never scrolls
sideways and the « À faire » items, with their buttons, are on screen."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.meetings.services import meeting_create, relationship_create

from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    # answering from the phone: the item goes, the count follows
    accept.click()
    page.wait_for_selector(".toast")
    assert page.locator(".todo-item").count() == 2
    assert page.locator(".space-link .badge").inner_text().startswith("2")
    page.close()
