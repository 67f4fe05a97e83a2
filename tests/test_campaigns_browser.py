"""One interview walked in a real Chromium (issue 13 §7): the manager plans it, marks it
held, fills the form and submits it; the collaborator signs with a réserve, the manager
signs, HR signs → « Clos »; the administrator reopens it with a reason and the signed
version stays readable. The pages fit a phone (390 px) and a laptop (1280 px) without
sideways scroll, and axe finds no serious violation on them."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cohorte.campaigns import services
from cohorte.campaigns.models import InterviewStatus

from .conftest import make_member
from .test_accessibility import blocking_violations
from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
FORM = [
    {
        "title": {"fr": "Bilan"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}, "required": True},
            {"key": "note", "kind": "scale", "label": {"fr": "Satisfaction"}},
            {
                "key": "climat",
                "kind": "choice",
                "label": {"fr": "Climat"},
                "options": [{"fr": "Bon"}, {"fr": "Tendu"}],
            },
            {"key": "objectifs", "kind": "objectives", "label": {"fr": "Objectifs"}},
        ],
    }
]


@pytest.fixture
def walk(organisation, admin):
    today = timezone.localdate()
    campaign = services.campaign_create(
        organisation=organisation,
        by=admin,
        name="Entretiens annuels 2026",
        kind="annual",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=60),
        circuit=[
            {"role": "collaborator", "deadline_days": 7},
            {"role": "manager", "deadline_days": 3},
            {"role": "hr", "deadline_days": 10},
        ],
        form=FORM,
    )
    collab = make_member(organisation, "claire@poitiers.example", first="Claire", last="Collab")
    manager = make_member(organisation, "marc@poitiers.example", first="Marc", last="Manager")
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": collab.email, "manager_email": manager.email}],
    )
    return campaign, campaign.interviews.get(), collab, manager


def status_of(page) -> str:
    return page.locator("h1 [data-status]").inner_text()


def test_an_interview_from_planning_to_closed_then_reopened(browser, live_server, admin, walk):  # noqa: F811
    campaign, interview, collab, manager = walk
    url = f"{live_server.url}/entretiens/{interview.pk}/"

    # the manager: plan → held → the form → submit
    page = signed_in_page(browser, live_server, manager)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.fill("#scheduled_at", "2027-03-10T10:00")
    page.fill("#place", "Salle 2")
    page.get_by_role("button", name="Planifier", exact=True).click()
    expect(page.locator(".toast")).to_contain_text("Entretien planifié")
    assert status_of(page) == "Planifié"
    assert "10 mars 2027 10h00" in page.locator("[data-date]").inner_text()
    page.get_by_role("button", name="Marquer comme effectué").click()
    expect(page.locator("h1 [data-status]")).to_have_text("Effectué")
    page.fill("#a-bilan", "Une belle année")
    page.check("input[name=a_note][value='4']")
    page.select_option("#a-climat", "Bon")
    page.locator("input[name=a_objectifs_title]").first.fill("Anglais")
    page.locator("select[name=a_objectifs_rating]").first.select_option("4")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.get_by_role("button", name="Soumettre le compte-rendu").click()
    expect(page.locator("h1 [data-status]")).to_have_text("En cours de clôture")
    expect(page.locator(".progress-steps li.waiting")).to_contain_text("Collaborateur")
    page.close()

    # the collaborator signs, with a réserve
    page = signed_in_page(browser, live_server, collab)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    assert "Une belle année" in page.locator("main").inner_text()
    page.fill("#sign-comment", "D'accord dans l'ensemble")
    page.fill("#sign-reserve", "L'objectif d'anglais est trop ambitieux")
    page.locator("#sign").get_by_role("button", name="Signer").click()
    expect(page.locator(".toast")).to_contain_text("Signé")
    expect(page.locator(".progress-steps li.waiting")).to_contain_text("Manager")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.close()

    # the manager signs
    page = signed_in_page(browser, live_server, manager)
    page.goto(url)
    expect(page.locator(".progress-steps")).to_contain_text("Réserve : L'objectif d'anglais")
    page.locator("#sign").get_by_role("button", name="Signer").click()
    expect(page.locator(".progress-steps li.waiting")).to_contain_text("RH")
    page.close()

    # HR (an administrator) signs: « Clos »
    page = signed_in_page(browser, live_server, admin)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
    page.locator("#sign").get_by_role("button", name="Signer").click()
    expect(page.locator("h1 [data-status]")).to_have_text("Clos")
    expect(page.locator("main")).to_contain_text("verrouillé")
    expect(page.get_by_role("link", name="Télécharger le PDF")).to_be_visible()
    interview.refresh_from_db()
    assert interview.status == InterviewStatus.CLOSED

    # the pages fit both widths and have no serious accessibility violation
    pages = [
        url,
        f"{live_server.url}/entretiens/campagnes/{campaign.pk}/",
        f"{live_server.url}/entretiens/campagnes/{campaign.pk}/entretiens/",
    ]
    problems = []
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for address in pages:
            page.goto(address)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), (width, address)
            if width == 1280:
                problems += [f"{address}: {v}" for v in blocking_violations(page)]
    assert not problems, "\n".join(problems)

    # the figures open the filtered list
    page.goto(pages[1])
    page.get_by_role("link", name="Clos : 1 entretien").click()
    expect(page.locator("table.interviews")).to_contain_text("Claire Collab")
    assert "status=closed" in page.url
    # the search refreshes the table in place (htmx), the address follows
    page.select_option("select[name=status]", "")
    page.fill("input[name=q]", "personne")
    expect(page.locator("table.interviews")).to_contain_text("Aucun entretien ne correspond")
    expect(page).to_have_url(re.compile(r"q=personne"))
    page.fill("input[name=q]", "claire")
    expect(page.locator("table.interviews")).to_contain_text("Claire Collab")

    # the administrator reopens it with a reason; the signed version is kept
    page.goto(url)
    page.fill("#reason", "Erreur sur la note")
    page.get_by_role("button", name="Rouvrir").click()
    expect(page.locator("h1 [data-status]")).to_have_text("Effectué")
    version = page.locator("details.version").first
    version.locator("summary").click()
    expect(version).to_contain_text("Motif de la réouverture : Erreur sur la note")
    expect(version).to_contain_text("Une belle année")
    expect(version).to_contain_text("L'objectif d'anglais est trop ambitieux")
    page.close()
