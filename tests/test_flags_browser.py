"""Issue 15's proof in Chromium: filter « Signalé », open a flag's reasons, resolve it with a
comment, see the row lose its ❗ and the profile keep the history; sort by first name and
see « Élodie » in place in French."""

import pytest

from cohorte.activity.services import report_create
from cohorte.programs.models import Enrolment, Role

from .conftest import make_member
from .test_browser import browser, signed_in_page  # noqa: F401 — the shared Chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_deals_with_a_flag_and_sorts_by_first_name(
    browser,  # noqa: F811
    live_server,
    manager_a,
    admin,
    program_a,
    mentor,
):
    people = {}
    for first, last in (
        ("Emma", "Zeller"),
        ("Élodie", "Martin"),
        ("Eden", "Abel"),
        ("Zoé", "Roux"),
    ):
        member = make_member(
            program_a.organisation, f"{first.lower()}@x.example", first=first, last=last
        )
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
        people[first] = member
    report_create(
        program=program_a,
        member=people["Élodie"],
        reported_by=mentor,
        reason="Ne vient plus aux ateliers",
    )
    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    page.select_option("select[name=flagged]", "open")
    page.wait_for_function("() => location.search.includes('flagged=open')")
    page.wait_for_selector("tbody tr[data-name='Élodie Martin']")
    assert page.locator("tbody tr[data-member]").count() == 1
    row = page.locator("tr[data-name='Élodie Martin']")
    row.locator("button.flag-button").click()
    popover = page.locator(f"#flag-{people['Élodie'].pk}")
    assert "Ne vient plus aux ateliers" in popover.inner_text()
    popover.locator("a:has-text('Traiter')").click()
    page.wait_for_selector("text=Signalements à traiter")
    page.fill("textarea[name=comment]", "Appelée : elle reprend lundi")
    page.click("button:has-text('Traité')")
    page.wait_for_selector("text=Signalement marqué comme traité.")
    assert "Appelée : elle reprend lundi" in page.locator("[data-resolved-report]").inner_text()
    page.click("a:has-text('Retour aux participants signalés')")
    page.wait_for_selector("table.activity")
    assert page.locator("tbody tr[data-member]").count() == 0
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    assert page.locator("tr[data-name='Élodie Martin'] button.flag-button").count() == 0

    # the profile keeps the history
    admin_page = signed_in_page(browser, live_server, admin)
    admin_page.goto(f"{live_server.url}/membres/{people['Élodie'].pk}/")
    assert "Signalement traité" in admin_page.content()
    admin_page.close()

    # « Prénom »: Élodie between Eden and Emma, as French orders them
    page.click("th a[data-sort=first_name]")
    page.wait_for_function("() => location.search.includes('sort=first_name')")
    page.wait_for_selector("th[aria-sort=ascending] a[data-sort=first_name]")
    names = page.locator("tbody tr[data-member]").evaluate_all(
        "rows => rows.map(r => r.dataset.name.split(' ')[0])"
    )
    assert names == ["Eden", "Élodie", "Emma", "Zoé"]
    page.close()
