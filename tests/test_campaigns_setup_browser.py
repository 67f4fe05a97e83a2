"""An administrator creates a campaign in a real Chromium: a step moved up with the arrows,
a question row added, a CSV with one unknown manager checked in the pre-flight, fixed in
the table, then created; the list sorts by a click without reloading the page."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cohorte.campaigns.models import Campaign

from .conftest import make_member
from .test_browser import browser, signed_in_page  # noqa: F401 — the Chromium fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_a_campaign_fixing_the_preflight_on_the_spot(
    browser,  # noqa: F811
    live_server,
    organisation,
    admin,
    tmp_path,
):
    make_member(organisation, "alice@poitiers.example", first="Alice", last="Zola")
    make_member(organisation, "bruno@poitiers.example", first="Bruno", last="Morel")
    make_member(organisation, "marc@poitiers.example", first="Marc", last="Manager")
    csv = tmp_path / "equipe.csv"
    csv.write_text(
        "collaborateur;manager\n"
        "alice@poitiers.example;marc@poitiers.example\n"
        "bruno@poitiers.example;personne@poitiers.example\n",
        encoding="utf-8",
    )
    today = timezone.localdate()
    page = signed_in_page(browser, live_server, admin)
    page.goto(f"{live_server.url}/entretiens/campagnes/")
    page.click("text=Nouvelle campagne")
    page.fill("input[name=name]", "Annuels 2027")
    page.fill("input[name=start_date]", str(today))
    page.fill("input[name=end_date]", str(today + dt.timedelta(days=60)))
    # the default circuit: collaborator, manager, HR; move HR (third row) up once
    page.locator("table.setup-circuit tbody tr").nth(2).locator("[data-move='-1']").click()
    page.click("text=Ajouter une question")
    last = page.locator("table.setup-questions tbody tr").last
    last.locator("input[name$='-label']").fill("Mobilité souhaitée")
    page.set_input_files("input[name=p-file]", str(csv))
    page.click("button:has-text('Vérifier la population')")
    page.wait_for_selector("text=1 ligne à corriger")
    assert not Campaign.objects.exists()
    page.fill("input[name=manager-1]", "marc@poitiers.example")
    page.click("button:has-text('Créer la campagne')")
    page.wait_for_selector("text=Campagne « Annuels 2027 » créée avec 2 entretiens.")
    campaign = Campaign.objects.get()
    assert [step["role"] for step in campaign.circuit] == ["collaborator", "hr", "manager"]
    labels = [q["label"]["fr"] for s in campaign.form for q in s["questions"]]
    assert labels[-1] == "Mobilité souhaitée"
    assert campaign.interviews.filter(manager__email="marc@poitiers.example").count() == 2

    page.goto(f"{live_server.url}/entretiens/campagnes/")
    page.click("th a[data-sort=name]")
    expect(page).to_have_url(f"{live_server.url}/entretiens/campagnes/?sort=name&order=asc")
    expect(page.locator("#campaigns tbody tr")).to_have_count(1)
    page.close()
