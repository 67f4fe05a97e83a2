"""Both sides evaluate a meeting on a phone, in a real Chromium: the form fits the screen,
the first answer leaves the meeting awaiting the other side, the second confirms it, and
the manager's « Rencontres » tab and activity table show it held and counted."""

import pytest

from cohorte.meetings.models import Meeting, MeetingStatus

from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture
from .test_meeting_evaluations import past_meeting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _evaluate_on_a_phone(browser, live_server, member, meeting, rating, comment):  # noqa: F811
    page = signed_in_page(browser, live_server, member)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/rencontres/{meeting.pk}/evaluation/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("Oui, elle a eu lieu").check()
    page.get_by_label(str(rating), exact=True).check()
    page.fill("textarea[name=comment]", comment)
    page.click("button.primary")
    page.wait_for_selector("text=Merci : votre évaluation est enregistrée.")
    page.close()


def _manager_sees(page, live_server, program, meeting, mentee):
    """What the manager reads: the meeting's status in « Rencontres », then the
    participant's confirmed meetings and progress on the activity table."""
    page.goto(f"{live_server.url}/programmes/{program.pk}/relations/?tab=meetings")
    row = page.locator(f"tr[data-meeting='{meeting.pk}']").inner_text()
    page.goto(f"{live_server.url}/programmes/{program.pk}/")
    line = page.locator(f"tbody tr[data-name='{mentee.full_name}']")
    confirmed = line.locator("td.num").nth(3).inner_text().strip()
    return row, confirmed, line.locator(".pct").inner_text().strip()


def test_both_sides_evaluate_on_a_phone_and_the_manager_sees_it_held(
    browser,  # noqa: F811
    live_server,
    program_a,
    manager_a,
    mentor,
    mentee,
):
    meeting = past_meeting(program_a, mentee, mentor)
    manager = signed_in_page(browser, live_server, manager_a)
    row, confirmed, progress = _manager_sees(manager, live_server, program_a, meeting, mentee)
    assert "En attente d'évaluation" in row and "Reporter" not in row
    assert (confirmed, progress) == ("0", "0 %")

    _evaluate_on_a_phone(browser, live_server, mentee, meeting, 5, "Très utile")
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.SCHEDULED
    # one side only: still awaiting the other, nothing counted yet
    row, confirmed, progress = _manager_sees(manager, live_server, program_a, meeting, mentee)
    assert "En attente d'évaluation" in row and "Très utile" in row and "Tenue" not in row
    assert (confirmed, progress) == ("0", "0 %")

    _evaluate_on_a_phone(browser, live_server, mentor, meeting, 4, "Bien préparé")
    assert Meeting.objects.get(pk=meeting.pk).status == MeetingStatus.CONFIRMED
    row, confirmed, progress = _manager_sees(manager, live_server, program_a, meeting, mentee)
    assert "Tenue" in row and "Très utile" in row and "Bien préparé" in row
    assert "Reporter" not in row and "En attente" not in row
    assert (confirmed, progress) == ("1", "33 %")  # 1 confirmed of an objective of 3
