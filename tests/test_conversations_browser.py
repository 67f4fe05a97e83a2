"""Two members converse through the pages, each in a browser context of their own (a
participant and a professional); the manager's activity table, reloaded at each step,
follows: the professional contacted, the ❗ of the conversation waiting for an answer (gone
once answered), the ❗ « Signalé » with the reason the professional gave; then the manager
writes from the table's selection (« Conversation »)."""

import pytest

from cohorte.conversations.models import Participant

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
    # a programme that wants an answer the same day: a message not answered yet is late
    program_a.unanswered_after_days = 0
    program_a.save(update_fields=["unanswered_after_days"])
    manager = signed_in_page(browser, live_server, manager_a)
    table_url = f"{live_server.url}/programmes/{program_a.pk}/"

    def lea_row():
        manager.goto(table_url)
        return manager.locator(f"tr[data-member='{mentee.pk}']")

    row = lea_row()
    assert row.locator("td.counter").nth(1).inner_text() == "0"  # professionnels contactés
    assert row.locator("td.flag").inner_text().strip() == ""

    lea = signed_in_page(browser, live_server, mentee)
    marc = signed_in_page(browser, live_server, mentor)
    assert lea.context != marc.context
    lea.set_viewport_size({"width": 390, "height": 800})  # on a phone

    # Léa starts from her inbox (one programme: straight to its new conversation)
    lea.goto(f"{live_server.url}/conversations/")
    lea.get_by_role("link", name="Nouvelle conversation").click()
    lea.wait_for_url(f"**/programmes/{program_a.pk}/conversations/nouvelle/**")
    lea.get_by_label("Marc Mentor").check()
    lea.fill("#conv-subject", "Stage en juin")
    lea.fill("#conv-body", "Bonjour, avez-vous une place de stage ?")
    lea.get_by_role("button", name="Envoyer").click()
    lea.wait_for_url("**/conversations/*/")
    assert lea.locator(".conv-message").first.inner_text().count("place de stage") == 1
    assert "Non lu" in lea.locator(".conv-message .read-mark").first.inner_text()

    row = lea_row()
    assert row.locator("td.counter").nth(1).inner_text() == "1"
    assert "Conversation sans réponse de Marc Mentor" in row.locator("td.flag").inner_text()

    # Marc sees the badge, opens the conversation from his inbox and answers
    marc.goto(f"{live_server.url}/conversations/")
    assert marc.locator(".nav-messages .unread-badge").inner_text() == "1"
    item = marc.locator(".conv-item.unread")
    assert "Stage en juin" in item.inner_text() and "1 non lu" in item.inner_text()
    item.locator("a").click()
    marc.fill("#conv-body", "Oui, venez mardi.")
    marc.get_by_role("button", name="Envoyer").click()
    marc.wait_for_load_state()
    assert marc.locator(".nav-messages .unread-badge").count() == 0

    lea.reload()
    assert "Oui, venez mardi." in lea.locator(".conv-message").first.inner_text()
    assert "✓ Lu" in lea.locator(".conv-message.mine .read-mark").first.inner_text()

    row = lea_row()
    assert row.locator("td.counter").nth(1).inner_text() == "1"  # the same professional
    assert row.locator("td.flag").inner_text().strip() == ""  # answered: no ❗

    # Marc reports Léa's message: the ❗ « Signalé » with his reason
    marc.locator(".conv-message:not(.mine) details summary", has_text="Signaler").click()
    marc.fill("input[name=reason]", "Insiste beaucoup")
    marc.get_by_role("button", name="Signaler ce message").click()
    assert "Message signalé" in marc.content()
    row = lea_row()
    assert "Signalé par Marc Mentor : Insiste beaucoup" in row.locator("td.flag").inner_text()

    # the manager writes to Léa from the table's selection
    row.locator("[data-toggle]").click()
    manager.get_by_role("button", name="Conversation", exact=True).click()
    manager.wait_for_url("**/conversations/nouvelle/?**")
    assert manager.get_by_label("Léa Mentee").is_checked()
    manager.fill("#conv-body", "Léa, passez me voir.")
    manager.get_by_role("button", name="Envoyer").click()
    manager.wait_for_url("**/conversations/*/")
    newest = Participant.objects.filter(member=mentee).order_by("-last_message_at").first()
    assert newest is not None and newest.conversation.created_by == manager_a

    lea.goto(f"{live_server.url}/conversations/")
    first = lea.locator(".conv-item").first  # newest first
    assert "Manon Alpha" in first.inner_text() and "1 non lu" in first.inner_text()
    for page in (lea, marc, manager):
        page.close()
