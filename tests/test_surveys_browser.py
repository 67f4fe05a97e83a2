"""A manager builds a survey with a conditional question in a real Chromium, and a member
answers it: the question shows and hides as the earlier answer changes, and what is sent
is what the results count."""

import pytest
from playwright.sync_api import expect

from cohorte.surveys.models import Response, Survey

from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_builds_a_conditional_question_and_a_member_sees_it_follow_the_answer(
    browser,  # noqa: F811
    live_server,
    program_a,
    manager_a,
    mentee,
):
    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/sondages/")
    page.click("text=Nouveau sondage")
    page.fill("input[name=title_fr]", "Bilan de mi-parcours")
    page.fill("input[name=title_en]", "Midway review")

    page.select_option("select[name=q-0-kind]", "single")
    expect(page.locator("textarea[name=q-0-options_fr]")).to_be_visible()  # for choices only
    page.fill("input[name=q-0-label_fr]", "Format préféré")
    page.fill("input[name=q-0-label_en]", "Preferred format")
    page.fill("textarea[name=q-0-options_fr]", "Visio\nSur place")
    page.fill("textarea[name=q-0-options_en]", "Video\nIn person")
    page.check("input[name=q-0-required]")

    page.click("text=Ajouter une question")
    page.wait_for_selector("select[name=q-1-kind]")
    page.select_option("select[name=q-1-kind]", "long_text")
    expect(page.locator("textarea[name=q-1-options_fr]")).to_be_hidden()
    page.fill("input[name=q-1-label_fr]", "Qu'est-ce qui gêne en visio ?")
    page.fill("input[name=q-1-label_en]", "What bothers you on video?")
    page.select_option("select[name=q-1-show_if_question]", "q1")
    page.fill("input[name=q-1-show_if_values]", "Visio")
    page.check("input[name=q-1-required]")

    page.check("input[name=roles][value=participant]")
    page.fill("input[name=opens_at]", "2026-01-01T09:00")
    page.fill("input[name=closes_at]", "2029-01-01T09:00")
    page.select_option("select[name=trigger]", "manual")
    page.click("button:has-text('Créer le sondage')")
    page.wait_for_selector("text=Sondage « Bilan de mi-parcours » créé.")
    survey = Survey.objects.get()
    assert [q["key"] for q in survey.questions] == ["q1", "q2"]
    assert survey.questions[1]["show_if"] == {"question": "q1", "in": ["Visio"]}
    page.click("button:has-text('Envoyer maintenant')")
    page.wait_for_selector("text=1 invitation(s) envoyée(s).")
    page.close()

    member = signed_in_page(browser, live_server, mentee)
    member.set_viewport_size({"width": 390, "height": 844})
    member.goto(f"{live_server.url}/mes-sondages/")
    member.click("text=Bilan de mi-parcours")
    member.wait_for_load_state()
    why = member.locator("fieldset[data-question=q2]")
    expect(why).to_be_hidden()  # nothing chosen yet
    member.get_by_label("Visio", exact=True).check()
    expect(why).to_be_visible()
    member.get_by_label("Sur place", exact=True).check()
    expect(why).to_be_hidden()
    member.get_by_label("Visio", exact=True).check()
    member.fill("textarea[name=q_q2]", "Le son coupe souvent.")
    assert member.evaluate("document.documentElement.scrollWidth") <= 390
    member.click("button:has-text('Envoyer mes réponses')")
    member.wait_for_selector("text=Merci : vos réponses sont enregistrées.")
    assert Response.objects.get().answers == {"q1": "Visio", "q2": "Le son coupe souvent."}

    # a change of mind before closing: « Sur place » hides the text, which is then not kept
    member.goto(f"{live_server.url}/sondages/{survey.pk}/repondre/")
    expect(why).to_be_visible()  # « Visio » was the answer: shown again, with the text
    expect(member.locator("textarea[name=q_q2]")).to_have_value("Le son coupe souvent.")
    member.get_by_label("Sur place", exact=True).check()
    expect(why).to_be_hidden()
    member.click("button:has-text('Envoyer mes réponses')")
    member.wait_for_selector("text=Merci : vos réponses sont enregistrées.")
    assert Response.objects.get().answers == {"q1": "Sur place"}
    member.close()
