"""The programme's public site end to end in a real Chromium: the manager publishes it, a
visitor applies, confirms the address from the e-mail, the manager accepts, and the new
participant appears in the activity table."""

import re
from urllib.parse import urlparse

import pytest

from cohorte.messaging.models import Email

from .test_browser import browser, signed_in_page  # noqa: F401 — the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_publish_apply_confirm_accept_and_appear_in_the_table(
    browser,  # noqa: F811
    live_server,
    manager_a,
    program_a,
    settings,
):
    settings.COHORTE_SIGNUP_MIN_SECONDS = 1
    manager = signed_in_page(browser, live_server, manager_a)
    manager.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    manager.click("summary:has-text('Autres actions')")  # the header's menu
    manager.click("button:has-text('Publier le site')")
    manager.wait_for_selector("text=Le site du programme est publié.")
    site_path = manager.get_attribute("a:has-text('Afficher le site Web')", "href")

    visitor_context = browser.new_context()
    visitor = visitor_context.new_page()
    visitor.goto(f"{live_server.url}{site_path}")
    assert visitor.locator("h1").inner_text() == "Orientation A"
    assert "--brand-primary" in visitor.get_attribute("body", "style")
    assert visitor.locator(".preview-banner").count() == 0
    visitor.click("text=Rejoindre le programme")
    visitor.fill("input[name=first_name]", "Chloé")
    visitor.fill("input[name=last_name]", "Candidate")
    visitor.fill("input[name=email]", "chloe@example.org")
    trap = visitor.locator("input[name=website]").bounding_box()  # the honeypot: off-screen
    assert trap is None or trap["x"] + trap["width"] <= 0
    visitor.wait_for_timeout(1200)  # a person takes longer than the minimum fill time
    visitor.click("button:has-text('Envoyer ma candidature')")
    visitor.wait_for_selector("text=Vérifiez votre boîte de réception")

    email = Email.objects.get(to_email="chloe@example.org")
    link = re.search(r"https?://\S+/confirmer/\S+/", email.body_text).group(0)
    visitor.goto(f"{live_server.url}{urlparse(link).path}")
    visitor.click("button:has-text('Confirmer mon adresse')")
    visitor.wait_for_selector("text=transmise aux responsables")
    visitor_context.close()

    manager.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    manager.click("summary:has-text('Autres actions')")
    manager.click("a:has-text('Candidatures')")
    manager.wait_for_selector("tr[data-email='chloe@example.org']")
    manager.check("tr[data-email='chloe@example.org'] input[type=checkbox]")
    manager.click("button:has-text('Accepter la sélection')")
    manager.wait_for_selector("text=Accepter 1 candidature ?")
    manager.click("button:has-text('Oui, accepter')")
    manager.wait_for_selector("text=1 candidature acceptée")
    manager.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    manager.wait_for_selector("table.activity")
    assert manager.locator("tr[data-name='Chloé Candidate']").count() == 1
    manager.close()
