"""The screen that matters, in a real Chromium: sign in, open a programme from the sidebar,
sort by progress, remove a participant."""

import os
import shutil
from pathlib import Path

import pytest

from cohorte.programs.models import Enrolment, Role

from .conftest import PASSWORD, hold_meetings, make_member

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        reason = f"Chromium introuvable ({CHROMIUM}) : apt-get install chromium"
        if os.environ.get("COHORTE_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop runs in this thread
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def signed_in_page(browser, live_server, member):
    """A new tab, signed in through the real form."""
    page = browser.new_page()
    page.goto(f"{live_server.url}/compte/connexion/")
    page.fill("input[name=username]", member.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(lambda url: "/connexion/" not in url)
    return page


def test_manager_sorts_by_progress_and_removes_a_participant(
    browser, live_server, manager_a, program_a, mentor
):
    people = {}
    for last, confirmed in (("Aubert", 0), ("Blanc", 3), ("Carpentier", 1)):
        member = make_member(
            program_a.organisation, f"{last.lower()}@x.example", first="Test", last=last
        )
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
        hold_meetings(program_a, member, mentor, confirmed)
        people[last] = member

    page = signed_in_page(browser, live_server, manager_a)

    # The programme is inside a group: unfold it in the sidebar, then open it.
    page.click(f"summary:has-text('{program_a.group.name}')")
    page.click(f".sidebar a:has-text('{program_a.name}')")
    page.wait_for_selector("table.activity")
    assert page.locator(".sidebar a.current").inner_text() == program_a.name

    def names():
        return page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")

    assert names() == ["Test Aubert", "Test Blanc", "Test Carpentier"]
    page.click("th a[data-sort=progress]")
    page.wait_for_function("() => location.search.includes('sort=progress')")
    page.wait_for_selector("th[aria-sort=ascending] a[data-sort=progress]")
    assert names() == ["Test Aubert", "Test Carpentier", "Test Blanc"]
    page.click("th a[data-sort=progress]")
    page.wait_for_selector("th[aria-sort=descending] a[data-sort=progress]")
    assert names() == ["Test Blanc", "Test Carpentier", "Test Aubert"]
    assert "order=desc" in page.url

    # Select Carpentier by clicking the photo, then remove after confirmation: the page
    # lists who will be removed, and the table comes back as it was sorted
    page.click("tr[data-name='Test Carpentier'] [data-toggle]")
    remove = page.locator("button[data-needs]:has-text('Retirer du programme')")
    assert remove.is_enabled()
    remove.click()
    page.wait_for_selector("text=historique")
    assert page.locator("ul.recipients li").all_inner_texts() == [
        "Test Carpentier <carpentier@x.example>"
    ]
    page.click("button.danger")
    page.wait_for_selector("table.activity")
    assert "order=desc" in page.url
    assert "Test Carpentier" not in names()
    enrolment = Enrolment.objects.get(member=people["Carpentier"], program=program_a)
    assert enrolment.ended_at is not None
    page.close()


def test_selection_survives_leaving_the_search_box(browser, live_server, manager_a, program_a):
    for last in ("Dumas", "Durand", "Martin"):
        member = make_member(
            program_a.organisation, f"{last.lower()}@x.example", first="Test", last=last
        )
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    page = signed_in_page(browser, live_server, manager_a)
    page.goto(f"{live_server.url}/programmes/{program_a.pk}/")
    page.fill("input[type=search]", "du")
    page.wait_for_function("() => location.search.includes('q=du')")
    assert page.locator("tbody tr").count() == 2
    # Clicking a photo blurs the search box: that must not reload the table and lose the choice.
    page.click("tr[data-name='Test Durand'] [data-toggle]")
    page.wait_for_timeout(700)
    assert page.locator("tr.selected").count() == 1
    assert page.locator("button[data-needs]:has-text('Retirer du programme')").is_enabled()
    assert page.locator("button[data-needs]:has-text('Relancer')").is_enabled()
    # « Écrire » sends the selection by GET, without the CSRF token in the address
    page.click("button[data-needs]:has-text('Écrire')")
    page.wait_for_url("**/messages/**")
    assert "member=" in page.url and "csrfmiddlewaretoken" not in page.url, page.url
    assert "next=" not in page.url, page.url
    page.close()


def test_interface_in_english(browser, live_server, manager_b, program_b):
    page = signed_in_page(browser, live_server, manager_b)
    page.goto(f"{live_server.url}/programmes/{program_b.pk}/")
    assert page.locator("h2").first.inner_text() == "Participants' activity"
    assert "has no participant yet" in page.content()
    page.close()


def test_admin_filters_members_saves_the_filter_reapplies_it_and_switches_one_off(
    browser, live_server, admin, organisation
):
    """Issue 3's walk: role + completion below 80 %, save the filter, reapply it from
    « Recherches récentes », untick « Actif », and that member can no longer sign in."""
    from cohorte.accounts.models import Member

    make_member(
        organisation,
        "incomplet@x.example",
        first="Inès",
        last="Incomplète",
        role="mentor",
        profile_completion=42,
    )
    make_member(
        organisation,
        "charles@x.example",
        first="Charles",
        last="Complet",
        role="mentor",
        profile_completion=95,
    )
    make_member(
        organisation,
        "mentee@x.example",
        first="Maé",
        last="Mentorée",
        role="mentee",
        profile_completion=10,
    )
    page = signed_in_page(browser, live_server, admin)
    page.click(".sidebar-links a")
    page.wait_for_url(f"{live_server.url}/membres/")
    page.select_option("select[name=role]", "mentor")
    page.click("text=Filtre avancé")
    page.fill("input[name=completion_below]", "80")
    page.click("button:has-text('Rechercher')")
    page.wait_for_function(
        "() => !document.querySelector('#members').textContent.includes('charles@x.example')"
    )
    rows = page.locator("#members tbody tr")
    assert rows.count() == 1 and "incomplet@x.example" in rows.first.inner_text()

    page.click("button:has-text('Sauvegarder le filtre de recherche')")
    page.fill("#filter-name", "Mentors à compléter")
    page.click("#save-filter button.primary")
    page.wait_for_selector(".saved-filters a:has-text('Mentors à compléter')")

    page.goto(f"{live_server.url}/membres/")
    assert page.locator("#members tbody tr").count() >= 4
    page.click(".saved-filters a:has-text('Mentors à compléter')")
    page.wait_for_url("**completion_below=80**")
    rows = page.locator("#members tbody tr")
    assert rows.count() == 1 and "incomplet@x.example" in rows.first.inner_text()

    box = rows.first.locator(".active-cell input[type=checkbox]")
    assert box.is_checked()
    with page.expect_response("**/actif/"):  # the box changes at once; wait for the server
        box.click()
    assert not rows.first.locator(".active-cell input[type=checkbox]").is_checked()
    assert not Member.objects.get(email="incomplet@x.example").is_active

    other = browser.new_page(locale="fr-FR")  # a French page: the refusal is in French
    other.goto(f"{live_server.url}/compte/connexion/")
    other.fill("input[name=username]", "incomplet@x.example")
    other.fill("input[name=password]", PASSWORD)
    other.click("button.primary")
    other.wait_for_selector("text=Votre compte a été désactivé")
    assert "/connexion/" in other.url
    other.close()
    page.close()


def test_admin_composes_a_bilingual_message_schedules_it_and_follows_it_in_the_log(
    browser, live_server, admin, organisation, program_b, smtp, settings, tmp_path
):
    """Issue 4's walk: compose to mentees with {prénom}, preview, schedule, « En file
    d'attente », the worker sends it, « Envoyé », one French and one English e-mail in the
    sink, the log filtered by one member, downloaded."""
    import datetime as dt

    from django.utils import timezone

    from cohorte.activity.tasks import scheduler_tick
    from cohorte.messaging.models import Message

    from .conftest import body_of, run_tasks

    settings.MEDIA_ROOT = tmp_path
    fanny = make_member(organisation, "fanny@x.example", first="Fanny", last="Fr", role="mentee")
    emma = make_member(
        organisation, "emma@x.example", first="Emma", last="En", role="mentee", language="en"
    )
    for person in (fanny, emma):
        Enrolment.objects.create(program=program_b, member=person, role=Role.MENTEE)

    page = signed_in_page(browser, live_server, admin)
    page.click(".sidebar-links a:has-text('Messages')")
    page.select_option("select[name=program]", str(program_b.pk))
    page.select_option("select[name=audience]", "mentees")
    page.fill("input[name=subject_fr]", "Bienvenue {prénom}")
    page.locator(".editor .surface").nth(0).fill("Bonjour {prénom}, bienvenue !")
    page.fill("input[name=subject_en]", "Welcome {first_name}")
    page.locator(".editor .surface").nth(1).fill("Hello {first_name}, welcome!")
    page.click("button:has-text('Créer message')")
    page.wait_for_selector("text=2 destinataires")
    assert "Bonjour" in page.locator(".email-preview").inner_text()

    later = timezone.localtime(timezone.now() + dt.timedelta(days=1), program_b.organisation.tzinfo)
    page.fill("input[name=send_at]", later.strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('Programmer l')")
    row = page.locator("table.messages tbody tr").first
    assert "En file d'attente" in row.inner_text()

    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(
        send_at=timezone.now() - dt.timedelta(seconds=1)
    )  # time passes
    scheduler_tick.enqueue()
    run_tasks()
    page.reload()
    assert "Envoyé" in page.locator("table.messages tbody tr").first.inner_text()
    by_address = {m["X-Envelope-To"]: m for m in smtp}
    assert "Bonjour Fanny, bienvenue !" in body_of(by_address["fanny@x.example"])
    assert "Hello Emma, welcome!" in body_of(by_address["emma@x.example"])

    page.click("a:has-text('Registre des courriels')")
    page.fill("#people-search", "Emma")
    page.click(".suggestion[data-pick]")
    page.click("button:has-text('Rechercher')")
    page.wait_for_url("**member=**")
    rows = page.locator("table.email-log tbody tr")
    assert rows.count() == 1 and "emma@x.example" in rows.first.inner_text()
    with page.expect_download() as download:
        page.click("a:has-text('Télécharger')")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "emma@x.example" in text and "fanny@x.example" not in text
    page.close()


def test_admin_books_for_a_pair_the_mentee_accepts_from_the_email_then_it_is_postponed(
    browser, live_server, admin, organisation, program_b, smtp, settings
):
    """Issue 5's walk: book, accept through the e-mail's link (from the real SMTP sink), ✓ in
    the Rencontres tab, postpone, see it move on the calendar."""
    import datetime as dt
    import re

    from django.utils import timezone

    from cohorte.meetings.models import Availability, Meeting
    from cohorte.meetings.services import relationship_create

    from .conftest import body_of, run_tasks

    settings.COHORTE_BASE_URL = live_server.url
    mentor = make_member(organisation, "marc@x.example", first="Marc", last="Mentor", role="mentor")
    mentee = make_member(organisation, "emma@x.example", first="Emma", last="Mentee", role="mentee")
    for person in (mentor, mentee):
        Enrolment.objects.create(program=program_b, member=person, role=Role.MENTEE)
        for day in range(7):
            Availability.objects.create(
                member=person, weekday=day, start=dt.time(9), end=dt.time(18)
            )
    relationship = relationship_create(program=program_b, mentor=mentor, mentee=mentee, by=admin)
    day = timezone.localdate() + dt.timedelta(days=3)
    later = day + dt.timedelta(days=2)

    page = signed_in_page(browser, live_server, admin)
    page.goto(f"{live_server.url}/relations/{relationship.pk}/planifier/?day={day.isoformat()}")
    page.check("label.slot:has-text('15h00') input")
    page.click("button:has-text('Envoyer la demande')")
    page.wait_for_selector("text=Demande envoyée")
    run_tasks()
    invitation = next(m for m in smtp if m["X-Envelope-To"] == "emma@x.example")
    link = re.search(r"Accepter : (\S+)", body_of(invitation)).group(1)

    anonymous = browser.new_page()
    anonymous.goto(link)  # opening the link only asks; the click answers
    anonymous.click("button:has-text('Accepter')")
    anonymous.wait_for_selector("text=Invitation acceptée")
    anonymous.close()

    page.goto(f"{live_server.url}/programmes/{program_b.pk}/relations/?tab=meetings")
    row = page.locator("table.meetings tbody tr").first
    assert "✓ Emma Mentee" in row.inner_text()

    row.locator("a:has-text('Reporter')").click()
    page.goto(page.url.split("?")[0] + f"?day={later.isoformat()}")
    page.check("label.slot:has-text('11h00') input")
    page.click("button:has-text('Appliquer')")
    page.wait_for_selector("text=Rencontre reportée")
    meeting = Meeting.objects.get()
    assert timezone.localtime(meeting.starts_at).date() == later

    page.goto(
        f"{live_server.url}/programmes/{program_b.pk}/seances/?view=day&date={later.isoformat()}"
    )
    page.wait_for_selector("#calendar[data-loading='false']")  # the calendar read its feed
    assert page.locator(f".fc [data-meeting='{meeting.pk}']").count() == 1
    page.goto(
        f"{live_server.url}/programmes/{program_b.pk}/seances/?view=day&date={day.isoformat()}"
    )
    page.wait_for_selector("#calendar[data-loading='false']")
    assert page.locator(f".fc [data-meeting='{meeting.pk}']").count() == 0
    page.close()
