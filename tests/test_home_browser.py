"""From a figure of the programme's Home to the reminder sent to the people behind it, in
a real browser: « Mentorés sans rencontre » → the list → « Relancer » → « Envoyer »."""

import datetime as dt

import pytest

from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Program, ProgramKind, Role

from .conftest import TODAY, hold_meetings, make_member
from .test_accessibility import blocking_violations
from .test_browser import browser, signed_in_page  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_from_a_home_figure_to_the_reminder(browser, live_server, organisation, manager_a):  # noqa: F811
    program = Program.objects.create(
        organisation=organisation,
        name="Mentorat Vienne",
        kind=ProgramKind.MENTORING,
        start_date=TODAY - dt.timedelta(days=20),
        end_date=TODAY + dt.timedelta(days=60),
        objective=2,
    )
    program.managers.add(manager_a)
    mentor = make_member(organisation, "mentor@v.example", first="Marie", last="Mentor")
    Enrolment.objects.create(program=program, member=mentor, role=Role.MENTOR)
    people = {}
    for last in ("Aubry", "Bernard", "Colin"):
        member = make_member(organisation, f"{last.lower()}@v.example", first="Test", last=last)
        Enrolment.objects.create(program=program, member=member, role=Role.MENTEE)
        people[last] = member
    hold_meetings(program, people["Bernard"], mentor, 1)

    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/programmes/{program.pk}/")
    page.click("nav.tabs a:has-text('Accueil')")
    page.wait_for_selector("table.home-figures")
    row = page.locator("tr[data-figure=not_adopted]")
    assert row.locator("td.num").first.inner_text().strip() == "2"
    assert "À jour le" in page.locator("[data-as-of]").inner_text()
    problems = [f"home: {v}" for v in blocking_violations(page)]

    # first click: the people behind the figure
    row.locator("th a").click()
    page.wait_for_selector("h1:has-text('Mentorés sans rencontre')")
    names = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert sorted(names) == ["Test Aubry", "Test Colin"]
    problems += [f"people: {v}" for v in blocking_violations(page)]
    assert not problems, "\n".join(problems)
    remind = page.locator("button[data-needs]:has-text('Relancer')")
    assert not remind.is_enabled()
    page.check("[data-select-all]")
    assert remind.is_enabled()
    assert "2" in page.locator(".selected-count").inner_text()

    # second click: the reminder's confirmation, then « Envoyer »
    remind.click()
    page.wait_for_selector("h1:has-text('Relancer les participants')")
    assert sorted(t.strip() for t in page.locator("ul.recipients li").all_inner_texts()) == [
        "Test Aubry <aubry@v.example> (Français)",
        "Test Colin <colin@v.example> (Français)",
    ]
    page.click("button.primary:has-text('Envoyer')")
    page.wait_for_selector("text=Relance envoyée à 2 participants.")
    assert f"/programmes/{program.pk}/accueil/not_adopted/" in page.url
    assert set(
        Email.objects.filter(member__in=people.values()).values_list("to_email", flat=True)
    ) == {
        "aubry@v.example",
        "colin@v.example",
    }
    page.close()


def test_from_the_organisation_home_to_a_programme(browser, live_server, organisation, manager_a):  # noqa: F811
    """The sidebar's « Tableau de bord »: the manager's running programmes side by side (not
    another manager's), sorted by a column's heading, each opening its own Home."""
    mine = []
    for name, held in (("Mentorat Vienne", 1), ("Orientation Niort", 0)):
        program = Program.objects.create(
            organisation=organisation,
            name=name,
            kind=ProgramKind.MENTORING,
            start_date=TODAY - dt.timedelta(days=20),
            end_date=TODAY + dt.timedelta(days=60),
            objective=2,
        )
        program.managers.add(manager_a)
        mentor = make_member(organisation, f"m{len(mine)}@v.example", first="Marie", last="M")
        Enrolment.objects.create(program=program, member=mentor, role=Role.MENTOR)
        for last in ("Aubry", "Bernard"):
            member = make_member(
                organisation, f"{last.lower()}{len(mine)}@v.example", first="T", last=last
            )
            Enrolment.objects.create(program=program, member=member, role=Role.MENTEE)
            if held and last == "Bernard":
                hold_meetings(program, member, mentor, held)
        mine.append(program)
    Program.objects.create(
        organisation=organisation,
        name="Programme d'un autre",
        kind=ProgramKind.MENTORING,
        start_date=TODAY - dt.timedelta(days=20),
        end_date=TODAY + dt.timedelta(days=60),
    )

    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/")
    page.click(".sidebar-links a:has-text('Tableau de bord')")
    page.wait_for_selector("table.compare")
    assert "À jour le" in page.locator("[data-as-of]").inner_text()
    names = page.locator("table.compare tbody th a").all_inner_texts()
    assert names == ["Mentorat Vienne", "Orientation Niort"]
    assert "Programme d'un autre" not in page.content()
    total = page.locator("tr[data-figure=adoption_rate] td.num").inner_text().strip()
    assert total == "25 %"  # one of four mentees
    problems = [f"organisation home: {v}" for v in blocking_violations(page)]
    assert not problems, "\n".join(problems)

    # sorted by adoption, lowest first on a second click
    page.click('table.compare thead a:has-text("Taux d\'adoption")')
    page.wait_for_selector("th[aria-sort=descending]")
    assert page.locator("table.compare tbody th a").all_inner_texts()[0] == "Mentorat Vienne"
    page.click('table.compare thead a:has-text("Taux d\'adoption")')
    page.wait_for_selector("th[aria-sort=ascending]")
    assert page.locator("table.compare tbody th a").all_inner_texts()[0] == "Orientation Niort"

    page.click("table.compare tbody a:has-text('Mentorat Vienne')")
    page.wait_for_selector("table.home-figures")
    assert page.url.endswith(f"/programmes/{mine[0].pk}/accueil/")
    row = page.locator("tr[data-figure=adoption_rate]")
    assert row.locator("td.num").first.inner_text().strip() == "50 %"
    page.close()
