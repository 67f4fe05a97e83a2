"""The custom report's column chooser in a real browser: search a column, select all,
move one up, save, then run the saved report and read its CSV back."""

import pytest
from django.urls import reverse

from cohorte.core.models import Job
from cohorte.programs.models import Cohort

from .conftest import run_tasks, signed_in
from .test_browser import browser, signed_in_page  # noqa: F401  (the module's Chromium)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_searches_selects_all_moves_a_column_up_saves_and_runs_it(
    browser,  # noqa: F811
    live_server,
    organisation,
    program_a,
    manager_a,
    mentor,
    mentee,
):
    promo = Cohort.objects.create(organisation=organisation, name="Promo 2026")
    promo.members.add(mentee)
    page = signed_in_page(browser, live_server, manager_a)
    page.goto(live_server.url + reverse("reports:generate-custom", args=[program_a.pk]))
    rows = page.locator("tr[data-column]")
    total = rows.count()
    assert total > 20

    # start from nothing, then search « nom »: only the matching columns stay in view
    page.get_by_role("button", name="Tout désélectionner").click()
    assert page.locator("input[name=columns]:checked").count() == 0
    page.get_by_label("Chercher une colonne").fill("nom")
    page.wait_for_function("document.querySelectorAll('tr[data-column]:not([hidden])').length < 5")
    visible = page.locator("tr[data-column]:not([hidden])")
    labels = [visible.nth(i).get_attribute("data-label") for i in range(visible.count())]
    assert "Prénom" in labels and "Nom" in labels and "Courriel" not in labels
    # « Tout sélectionner » ticks the columns shown, not the hidden ones
    page.get_by_role("button", name="Tout sélectionner").click()
    assert page.locator("input[name=columns]:checked").count() == len(labels)
    assert page.locator("[data-column-count]").inner_text().endswith(str(len(labels)))

    # « Courriel » too, then moved up above « Prénom »
    page.get_by_label("Chercher une colonne").fill("courr")
    page.get_by_role("checkbox", name="Courriel", exact=True).check()
    page.get_by_label("Chercher une colonne").fill("")
    assert page.locator("tr[data-column]:not([hidden])").count() == total
    keys = page.locator("tr[data-column]").evaluate_all("rows => rows.map(r => r.dataset.column)")
    steps = keys.index("email") - keys.index("first_name")
    for _ in range(steps):
        page.get_by_role("button", name="Monter « Courriel »").click()
    keys = page.locator("tr[data-column]").evaluate_all("rows => rows.map(r => r.dataset.column)")
    assert keys.index("email") == keys.index("first_name") - 1
    # and the numbers follow the rows, for the server
    assert page.locator("input[name=order-email]").input_value() == str(keys.index("email") + 1)
    page.get_by_role("button", name="Descendre « Nom »").click()  # a move down, for the record

    page.get_by_label("Nom du rapport").fill("Noms et courriels")
    page.get_by_label("Cohorte", exact=True).select_option(label="Promo 2026")
    page.get_by_role("button", name="Enregistrer le rapport").click()
    page.wait_for_url(f"**{reverse('reports:generate', args=[program_a.pk])}")
    assert page.get_by_text("Rapport « Noms et courriels » enregistré.").is_visible()

    page.get_by_role("button", name="Noms et courriels — CSV").click()
    page.locator("#runs [role=progressbar]").wait_for()
    run_tasks()
    page.locator("#runs a.button.primary").wait_for(timeout=15_000)
    job = Job.objects.get(kind="report")
    data = b"".join(
        signed_in(manager_a).get(reverse("reports:run-file", args=[job.pk])).streaming_content
    )
    lines = data.decode("utf-8-sig").splitlines()
    header = lines[0].split(";")
    assert header.index("Courriel") == header.index("Prénom") - 1
    assert header[:2] == ["Courriel", "Prénom"] and set(header) == {"Courriel", *labels}
    assert len(lines) == 2 and "lea.mentee@poitiers.example" in lines[1]  # the cohort filter


def test_the_new_pages_have_no_serious_axe_violation(
    browser,  # noqa: F811
    live_server,
    program_a,
    manager_a,
):
    from cohorte.reports import custom

    from .test_accessibility import blocking_violations

    saved = custom.saved_report_save(
        by=manager_a, name="Suivi", report="members", program=program_a, columns=["email"],
        filters={"status": "active"}, shared=True,
    )  # fmt: skip
    page = signed_in_page(browser, live_server, manager_a)
    for url in (
        reverse("reports:generate", args=[program_a.pk]),
        reverse("reports:generate-custom", args=[program_a.pk]) + f"?saved={saved.pk}",
        reverse("reports:saved-schedule", args=[program_a.pk, saved.pk]),
        reverse("reports:saved-delete", args=[program_a.pk, saved.pk]),
    ):
        page.goto(live_server.url + url)
        assert blocking_violations(page) == [], url
