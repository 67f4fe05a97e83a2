"""Two members converse through the pages in two browser contexts (a participant and a
professional); the manager's activity table then shows the professional contacted and the
❗ flag with the reason the professional gave when reporting a message."""

import pytest

from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_members_converse_and_the_manager_table_follows(
    browser,  # noqa: F811
    live_server,
    program_a,
    manager_a,
    mentee,
    mentor,
):
    lea = signed_in_page(browser, live_server, mentee)
    marc = signed_in_page(browser, live_server, mentor)
    lea.set_viewport_size({"width": 390, "height": 800})  # on a phone

    lea.goto(f"{live_server.url}/programmes/{program_a.pk}/conversations/nouvelle/")
    lea.get_by_label("Marc Mentor").check()
    lea.fill("#conv-subject", "Stage en juin")
    lea.fill("#conv-body", "Bonjour, avez-vous une place de stage ?")
    lea.get_by_role("button", name="Envoyer").click()
    lea.wait_for_url("**/conversations/*/")
    assert lea.locator(".conv-message").first.inner_text().count("place de stage") == 1

    marc.goto(f"{live_server.url}/conversations/")
    item = marc.locator(".conv-item.unread")
    assert "Stage en juin" in item.inner_text() and "1 non lu" in item.inner_text()
    item.locator("a").click()
    marc.fill("#conv-body", "Oui, venez mardi.")
    marc.get_by_role("button", name="Envoyer").click()
    marc.wait_for_load_state()
    marc.locator("details summary", has_text="Signaler").click()
    marc.fill("input[name=reason]", "Insiste beaucoup")
    marc.get_by_role("button", name="Signaler ce message").click()
    assert "Message signalé" in marc.content()

    lea.reload()
    assert "Oui, venez mardi." in lea.locator(".conv-message").first.inner_text()

    manager = signed_in_page(browser, live_server, manager_a)
    manager.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    row = manager.locator(f"tr[data-member='{mentee.pk}']")
    assert row.locator("td.counter").nth(1).inner_text() == "1"  # professionnels contactés
    assert "Insiste beaucoup" in row.locator("td.flag").inner_text()
    for page in (lea, marc, manager):
        page.close()
