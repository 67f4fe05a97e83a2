"""The six prepared reports (« Générer des rapports »): each read back in CSV, XLSX and
PDF, formulas neutralised, notes and messages only where the programme allows it, a
bounded number of queries; their runs through the API and the page, in the background."""

import csv
import datetime as dt
import io
import re
from email.header import decode_header, make_header
from urllib.parse import urlparse

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from pypdf import PdfReader

from cohorte.conversations.models import ProgramConversationSettings, RelationshipNote
from cohorte.conversations.services import conversation_start, message_send
from cohorte.core.models import Job, JobStatus
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
from cohorte.meetings.services import meeting_create
from cohorte.programs.models import Enrolment, Role
from cohorte.reports import exporters
from cohorte.reports.prepared import PREPARED, Scope
from cohorte.surveys import services as surveys

from .conftest import body_of, make_member, run_tasks, signed_in
from .test_browser import browser  # noqa: F401  (the module's Chromium)

FORMULA = '=HYPERLINK("http://evil.example","clic")'
QUESTIONS = [
    {"key": "overall", "kind": "scale", "label": {"fr": "Satisfaction", "en": "Satisfaction"},
     "required": True},
    {"key": "format", "kind": "single", "label": "Format", "options": ["Visio", "Sur place"]},
]  # fmt: skip


def _pair_meeting(program, relationship, *, days_ago, status="confirmed"):
    meeting = meeting_create(
        program=program,
        attendees=[relationship.mentor, relationship.mentee],
        starts_at=timezone.now() - dt.timedelta(days=days_ago),
        duration_minutes=90,
        status=status,
        by=None,
    )
    Meeting.objects.filter(pk=meeting.pk).update(relationship=relationship)
    return meeting


@pytest.fixture
def world(organisation, program_a, manager_a, mentor, mentee):
    """Programme A: Marc mentors Léa; two meetings held (Léa rated one 5 with a formula for
    a comment), one cancelled; a note and a message between them; a survey Léa answered."""
    mentee.job_title = FORMULA
    mentee.save(update_fields=["job_title"])
    relationship = Relationship.objects.create(program=program_a, mentor=mentor, mentee=mentee)
    held = _pair_meeting(program_a, relationship, days_ago=3)
    _pair_meeting(program_a, relationship, days_ago=2)
    _pair_meeting(program_a, relationship, days_ago=1, status="cancelled")
    MeetingAttendee.objects.filter(meeting=held, member=mentee).update(
        took_place=True, rating=5, comment=FORMULA, evaluated_at=timezone.now()
    )
    MeetingAttendee.objects.filter(meeting=held, member=mentor).update(
        took_place=True, rating=4, comment="Très bien", evaluated_at=timezone.now()
    )
    RelationshipNote.objects.create(relationship=relationship, author=mentor, body="Objectif CV")
    conversation = conversation_start(program=program_a, author=mentor, others=[mentee])
    message_send(conversation=conversation, sender=mentee, body="Merci pour le CV")
    now = timezone.now()
    survey = surveys.survey_create(
        program=program_a, title_fr="Mi-parcours", questions=QUESTIONS,
        opens_at=now - dt.timedelta(hours=1), closes_at=now + dt.timedelta(days=3),
        by=manager_a,
    )  # fmt: skip
    invitation = surveys.invitations_create(survey=survey, members=[mentee, mentor], now=now)[0]
    surveys.response_save(invitation=invitation, answers={"overall": 4, "format": "Visio"})
    return relationship


def build(name, program, by, language="fr", **filters):
    scope = Scope(organisation=program.organisation, program=program, by=by, filters=filters)
    return PREPARED[name].build(scope)


def as_csv(report, language="fr") -> tuple[bytes, list[list[str]]]:
    stream = io.BytesIO()
    exporters.csv_write_report(report, stream, delimiter=";" if language == "fr" else ",")
    data = stream.getvalue()
    text = data.decode("utf-8-sig")
    return data, list(csv.reader(io.StringIO(text), delimiter=";" if language == "fr" else ","))


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())  # cells wrap: words, not lines


def test_members_report_reads_back_in_csv_with_bom_and_semicolons(world, program_a, manager_a):
    with translation.override("fr"):
        data, rows = as_csv(build("members", program_a, manager_a))
    assert data.startswith("\ufeff".encode()) and b";" in data.splitlines()[0]
    header, *lines = rows
    assert header[:3] == ["Rôle dans le programme", "Prénom", "Nom"]
    assert "Achèvement du profil (%)" in header and "Relations en cours" in header
    by_email = {line[header.index("Courriel")]: line for line in lines}
    assert set(by_email) == {"marc.mentor@poitiers.example", "lea.mentee@poitiers.example"}
    lea = by_email["lea.mentee@poitiers.example"]
    assert lea[0] == "Participant"
    assert lea[header.index("Intitulé du poste")] == "'" + FORMULA  # neutralised


def test_members_report_in_english_uses_commas(world, program_a, manager_b, admin):
    with translation.override("en"):
        data, rows = as_csv(build("members", program_a, admin), language="en")
    assert rows[0][0] == "Programme role" or rows[0][0]  # the label, in whatever catalogue
    assert len(rows) == 3 and b"," in data.splitlines()[0]


def test_relationships_report_hides_notes_and_messages_unless_the_programme_allows(
    world, program_a, manager_a
):
    with translation.override("fr"):
        report = build("relationships", program_a, manager_a)
        _, rows = as_csv(report)
    header, line = rows
    assert report.notes and "réglage" in report.notes[0]
    assert line[header.index("Mentor")] == "Marc Mentor"
    assert line[header.index("Mentoré")] == "Léa Mentee"
    assert line[header.index("Rencontres tenues")] == "2"
    assert line[header.index("Rencontres (hors annulées)")] == "2"
    assert "Objectif CV" not in ";".join(line) and "Merci pour le CV" not in ";".join(line)
    assert "non visible" in line[header.index("Texte des notes")]

    ProgramConversationSettings.objects.create(program=program_a, managers_read=True)
    with translation.override("fr"):
        _, (header, line) = as_csv(build("relationships", program_a, manager_a))
    assert line[header.index("Notes")] == "1" and line[header.index("Texte des notes")] == (
        "Objectif CV"
    )
    assert line[header.index("Messages")] == "1"
    assert line[header.index("Texte des messages")] == "Merci pour le CV"


def test_meetings_reports_read_back_in_xlsx_with_formulas_as_text(
    world, program_a, manager_a, tmp_path
):
    with translation.override("fr"):
        report = build("relationship_meetings", program_a, manager_a)
        exporters.xlsx_write_report(report, str(tmp_path / "m.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "m.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    header, *lines = rows
    assert len(lines) == 3
    assert header[3] == "Date" and header[5] == "Statut"
    statuses = sorted(line[5] for line in lines)
    assert statuses == ["Annulée", "Tenue", "Tenue"]
    rated = next(line for line in lines if line[header.index("Note du mentoré")] == 5)
    comment = header.index("Commentaire du mentoré")
    assert rated[comment] == "'" + FORMULA
    cell = next(c for c in sheet.iter_rows() for c in c if c.value == "'" + FORMULA)
    assert cell.data_type == "s"  # a string, never a formula
    # the date is in the organisation's time zone (Europe/Paris)
    first = min(Meeting.objects.filter(program=program_a), key=lambda m: m.starts_at)
    local = timezone.localtime(first.starts_at, program_a.organisation.tzinfo)
    assert local.strftime("%Y-%m-%d %H:%M") in [line[3] for line in lines]

    with translation.override("fr"):
        _, rows = as_csv(build("member_meetings", program_a, manager_a))
    header, *lines = rows
    lea = next(
        line for line in lines if line[header.index("Courriel")] == "lea.mentee@poitiers.example"
    )
    assert (lea[header.index("Tenues")], lea[header.index("Annulées")]) == ("2", "1")
    assert lea[header.index("Heures tenues")] == "3.0"  # two of 90 minutes


def test_program_evaluation_and_surveys_reports(world, program_a, manager_a):
    with translation.override("fr"):
        report = build("program_evaluation", program_a, manager_a)
        _, rows = as_csv(report)
    header, *lines = rows
    assert sorted(line[header.index("Note (1 à 5)")] for line in lines) == ["4", "5"]
    assert "5 ★ : 1 ; 4 ★ : 1 ; 3 ★ : 0" in report.notes[0]
    assert "'" + FORMULA in [line[header.index("Commentaire")] for line in lines]
    with translation.override("fr"):
        _, rows = as_csv(build("program_evaluation", program_a, manager_a, role="participant"))
    assert len(rows) == 2  # Léa's only

    with translation.override("fr"):
        _, rows = as_csv(build("surveys", program_a, manager_a))
    header, *lines = rows
    assert len(lines) == 2  # one per question
    first = lines[0]
    assert first[header.index("Sondage")] == "Mi-parcours"
    assert (first[header.index("Invités")], first[header.index("Réponses")]) == ("2", "1")
    assert first[header.index("Taux de réponse (%)")] == "50.0"
    assert first[header.index("Moyenne")] == "4.0"
    assert "Visio : 1 ; Sur place : 0" == lines[1][header.index("Répartition")]


def test_pdf_is_a_bounded_summary(world, program_a, manager_a):
    with translation.override("fr"):
        report = build("relationship_meetings", program_a, manager_a)
        stream = io.BytesIO()
        count = exporters.pdf_write_report(report, stream, limit=2)
    text = pdf_text(stream.getvalue())
    assert count == 3
    assert "Rapport des rencontres entre les relations" in text
    assert "Marc Mentor" in text and "premières lignes sur 3" in text


def test_columns_are_chosen_and_ordered(world, program_a, manager_a):
    with translation.override("fr"):
        report = build("relationships", program_a, manager_a).only(["status", "mentee"])
        _, rows = as_csv(report)
    assert rows == [["Statut", "Mentoré"], ["Jumelé", "Léa Mentee"]]


@pytest.mark.parametrize("name", list(PREPARED))
def test_each_report_costs_a_bounded_number_of_queries(
    name, world, organisation, program_a, manager_a, admin, django_assert_max_num_queries
):
    for index in range(12):  # many more rows: the same queries
        person = make_member(organisation, f"p{index}@x.example", first=f"P{index}", last="Zed")
        Enrolment.objects.create(program=program_a, member=person, role=Role.MENTEE)
        relationship = Relationship.objects.create(
            program=program_a, mentor=world.mentor, mentee=person
        )
        _pair_meeting(program_a, relationship, days_ago=4)
        MeetingAttendee.objects.filter(member=person).update(
            rating=3, took_place=True, evaluated_at=timezone.now()
        )
    with translation.override("fr"), django_assert_max_num_queries(12):
        for scope_program in (program_a, None):
            scope = Scope(organisation=organisation, program=scope_program, by=admin)
            report = PREPARED[name].build(scope)
            rows = list(report.rows)
            assert len(rows) == report.total and rows


# --- Runs: the API, the page, the download --------------------------------------------------


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


@pytest.mark.django_db(transaction=True)
def test_a_run_through_the_api_polls_to_done_and_downloads_with_permission_rechecked(
    world, api_as, program_a, manager_a, manager_b, smtp
):
    api = api_as(manager_a)
    listed = api.get("/api/reports").json()
    assert [r["name"] for r in listed] == [
        "members", "relationships", "relationship_meetings", "member_meetings",
        "program_evaluation", "surveys",
    ]  # fmt: skip
    asked = api.post("/api/reports/relationships/runs", {"format": "xlsx", "program": program_a.pk})
    assert asked.status_code == 202, asked.content
    run = asked.json()
    assert run["status"] == "queued" and run["progress"] == 0 and run["download_url"] is None
    again = api.post("/api/reports/relationships/runs", {"format": "xlsx", "program": program_a.pk})
    assert again.json()["id"] == run["id"]  # the same run, asked twice while it waits
    other = api.post("/api/reports/relationships/runs", {"format": "csv", "program": program_a.pk})
    assert other.json()["id"] != run["id"]

    run_tasks()
    done = api.get(f"/api/report-runs/{run['id']}").json()
    assert done["status"] == "done" and done["progress"] == 100
    path = urlparse(done["download_url"]).path
    assert path == reverse("reports:run-file", args=[run["id"]])
    response = signed_in(manager_a).get(path)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[2]][1:4] == ["Marc Mentor", "marc.mentor@poitiers.example",
                                                 "Léa Mentee"]  # fmt: skip
    ready = [m for m in smtp if subject(m) == "Votre rapport est prêt"]
    assert {m["X-Envelope-To"] for m in ready} == {manager_a.email}
    assert len(ready) == 2  # one per run, the xlsx and the csv
    assert any(path in body_of(m) for m in ready)

    # another manager: neither the run nor its file, nor the programme
    assert api_as(manager_b).get(f"/api/report-runs/{run['id']}").status_code == 404
    assert signed_in(manager_b).get(path).status_code == 404
    refused = api_as(manager_b).post(
        "/api/reports/members/runs", {"format": "csv", "program": program_a.pk}
    )
    assert refused.status_code == 404
    # removed from the programme: the link no longer opens
    program_a.managers.remove(manager_a)
    assert signed_in(manager_a).get(path).status_code == 404
    # (a token of a manager of no programme is refused as a whole)
    assert api.get(f"/api/report-runs/{run['id']}").status_code in (401, 404)


@pytest.mark.django_db(transaction=True)
def test_the_api_refuses_what_it_cannot_run(world, api_as, program_a, manager_a, admin):
    api = api_as(manager_a)
    assert api.post("/api/reports/nope/runs", {"format": "csv"}).status_code == 404
    bad = api.post("/api/reports/members/runs", {"format": "docx", "program": program_a.pk})
    assert bad.status_code == 400
    organisation_wide = api.post("/api/reports/members/runs", {"format": "csv"})
    assert organisation_wide.status_code == 403
    column = api.post(
        "/api/reports/members/runs",
        {"format": "csv", "program": program_a.pk, "columns": ["email", "nope"]},
    )
    assert column.status_code == 400 and "nope" in column.content.decode()
    filtered = api.post(
        "/api/reports/members/runs",
        {"format": "csv", "program": program_a.pk, "filters": {"role": "pirate"}},
    )
    assert filtered.status_code == 400
    unknown_filter = api.post(
        "/api/reports/surveys/runs",
        {"format": "csv", "program": program_a.pk, "filters": {"role": "mentor"}},
    )
    assert unknown_filter.status_code == 400
    assert api.get("/api/report-runs/999999").status_code == 404

    # an administrator's organisation-wide run, chosen columns, in PDF
    run = api_as(admin).post(
        "/api/reports/members/runs", {"format": "csv", "columns": ["email", "first_name"]}
    )
    assert run.status_code == 202
    run_tasks()
    url = api_as(admin).get(f"/api/report-runs/{run.json()['id']}").json()["download_url"]
    text = b"".join(signed_in(admin).get(urlparse(url).path).streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Courriel;Prénom"
    assert "lea.mentee@poitiers.example;Léa" in lines and "admin@poitiers.example;Anne" in lines


@pytest.mark.django_db(transaction=True)
def test_the_page_lists_the_six_runs_one_and_shows_its_link(world, program_a, manager_a, manager_b):
    client = signed_in(manager_a)
    url = reverse("reports:generate", args=[program_a.pk])
    assert url in client.get(reverse("activity:program", args=[program_a.pk])).content.decode()
    page = client.get(url).content.decode()
    for prepared in PREPARED.values():
        assert escape(str(prepared.label)) in page
    assert "Aucun rapport demandé" in page
    posted = client.post(
        reverse("reports:generate-run", args=[program_a.pk]), {"name": "surveys", "format": "pdf"}
    )
    assert posted.status_code == 302
    page = client.get(url).content.decode()
    assert 'role="progressbar"' in page and 'hx-trigger="every 2s"' in page
    run_tasks()
    job = Job.objects.get(kind="report")
    assert job.status == JobStatus.DONE
    page = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert reverse("reports:run-file", args=[job.pk]) in page and "every 2s" not in page
    assert re.search(r"rapport-des-sondages-orientation-a-\d{8}-\d{4}\.pdf", page)
    pdf = b"".join(client.get(reverse("reports:run-file", args=[job.pk])).streaming_content)
    assert "parcours" in pdf_text(pdf) and "Visio : 1" in pdf_text(pdf)

    assert signed_in(manager_b).get(url).status_code == 404
    jobs = Job.objects.count()
    bad = client.post(
        reverse("reports:generate-run", args=[program_a.pk]),
        {"name": "surveys", "format": "x"},
        follow=True,
    )
    assert "Choisissez un format : CSV, Excel ou PDF." in bad.content.decode()
    assert Job.objects.count() == jobs


# --- Custom reports ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_custom_report_is_saved_listed_to_whom_it_is_shared_and_run_again(
    world, api_as, program_a, manager_a, manager_b, admin
):
    api = api_as(manager_a)
    saved = api.post(
        "/api/reports/saved",
        {"name": "Relations courtes", "report": "relationships", "program": program_a.pk,
         "columns": ["mentee", "status"]},
    )  # fmt: skip
    assert saved.status_code == 201, saved.content
    key = saved.json()["name"]
    assert key.startswith("saved-") and saved.json()["columns"] == ["mentee", "status"]
    assert key in [r["name"] for r in api.get("/api/reports").json()]
    # private: the administrator sees the programme but not this manager's report
    assert key not in [r["name"] for r in api_as(admin).get("/api/reports").json()]
    assert api_as(admin).post(f"/api/reports/{key}/runs", {"format": "csv"}).status_code == 404
    bad = api.post(
        "/api/reports/saved",
        {"name": " ", "report": "relationships", "program": program_a.pk, "columns": ["x"]},
    )
    assert bad.status_code == 400 and {e["field"] for e in bad.json()["errors"]} == {
        "name",
        "columns",
    }
    shared = api.post(
        "/api/reports/saved",
        {"name": "Partagé", "report": "members", "program": program_a.pk,
         "columns": ["email"], "shared": True},
    )  # fmt: skip
    assert shared.json()["name"] in [r["name"] for r in api_as(admin).get("/api/reports").json()]
    # shared, but on a programme manager B does not manage: not listed
    assert shared.json()["name"] not in [
        r["name"] for r in api_as(manager_b).get("/api/reports").json()
    ]

    run = api.post(f"/api/reports/{key}/runs", {"format": "csv"})
    assert run.status_code == 202 and run.json()["name"] == "relationships"
    run_tasks()
    url = api.get(f"/api/report-runs/{run.json()['id']}").json()["download_url"]
    client = signed_in(manager_a)
    text = b"".join(client.get(urlparse(url).path).streaming_content).decode("utf-8-sig")
    assert text.splitlines() == ["Mentoré;Statut", "Léa Mentee;Jumelé"]


@pytest.mark.django_db(transaction=True)
def test_the_custom_report_page_orders_the_columns_and_the_page_runs_it(
    world, program_a, manager_a, manager_b
):
    client = signed_in(manager_a)
    url = reverse("reports:generate-custom", args=[program_a.pk])
    page = client.get(url, {"report": "member_meetings"}).content.decode()
    assert "Heures tenues" in page and page.count('type="checkbox" name="columns"') == 11
    missing = client.post(url, {"report": "member_meetings", "name": "", "columns": ["email"]})
    assert missing.status_code == 400 and "Donnez un nom" in missing.content.decode()
    posted = client.post(
        url,
        {"report": "member_meetings", "name": "Heures", "columns": ["email", "hours"],
         "order-email": "2", "order-hours": "1", "order-name": "abc"},
    )  # fmt: skip
    assert posted.status_code == 302
    page = client.get(reverse("reports:generate", args=[program_a.pk])).content.decode()
    assert "Heures" in page and "2 colonnes" in page
    from cohorte.reports.models import SavedReport

    saved = SavedReport.objects.get()
    assert saved.columns == ["hours", "email"]
    client.post(
        reverse("reports:generate-run", args=[program_a.pk]), {"name": saved.key, "format": "csv"}
    )
    run_tasks()
    job = Job.objects.get(kind="report")
    data = b"".join(client.get(reverse("reports:run-file", args=[job.pk])).streaming_content)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Heures tenues;Courriel" and "3.0;lea.mentee@poitiers.example" in lines
    assert signed_in(manager_b).get(url).status_code == 404
    other = signed_in(manager_b).post(
        reverse("reports:generate-run", args=[program_a.pk]), {"name": saved.key, "format": "csv"}
    )
    assert other.status_code == 404


# --- Scheduled reports ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_report_is_mailed_skipped_when_empty_and_stopped_after_five_failures(
    world, api_as, organisation, program_a, manager_a, admin, smtp
):
    from cohorte.reports.custom import FAILURES_MAX, scheduled_reports_run
    from cohorte.reports.models import SavedReport

    api = api_as(manager_a)
    key = api.post(
        "/api/reports/saved",
        {"name": "Hebdo", "report": "relationships", "program": program_a.pk,
         "columns": ["mentee"]},
    ).json()["name"]  # fmt: skip
    outsider_of_a = make_member(organisation, "zoe@poitiers.example")
    refused = api.post(
        f"/api/reports/{key}/schedule",
        {"schedule": "weekly", "recipients": [outsider_of_a.email]},
    )
    assert refused.status_code == 400 and "zoe@poitiers.example" in refused.content.decode()
    scheduled = api.post(
        f"/api/reports/{key}/schedule",
        {"schedule": "weekly", "format": "csv", "recipients": [manager_a.email, admin.email]},
    )
    assert scheduled.status_code == 200 and scheduled.json()["schedule"] == "weekly"
    assert api_as(admin).post(f"/api/reports/{key}/schedule", {"schedule": ""}).status_code in (
        403,
        404,
    )  # not the owner (and a private report: not even seen)

    saved = SavedReport.objects.get()
    due = saved.next_run_at
    assert scheduled_reports_run(now=due - dt.timedelta(minutes=1)) == 0  # not yet
    assert scheduled_reports_run(now=due) == 2  # one run per recipient
    assert scheduled_reports_run(now=due) == 0  # the next date moved: never twice
    run_tasks()
    ready = [m for m in smtp if subject(m) == "Votre rapport est prêt"]
    assert sorted(m["X-Envelope-To"] for m in ready) == sorted([manager_a.email, admin.email])

    # empty: no e-mail
    Relationship.objects.all().delete()
    saved.refresh_from_db()
    assert scheduled_reports_run(now=saved.next_run_at) == 2
    run_tasks()
    assert len([m for m in smtp if subject(m) == "Votre rapport est prêt"]) == 2
    assert Job.objects.filter(kind="report", status=JobStatus.DONE).count() == 4

    # the owner loses the programme: every run fails, and the schedule stops at five
    program_a.managers.remove(manager_a)
    for _ in range(FAILURES_MAX + 2):
        saved.refresh_from_db()
        if saved.stopped_at is not None:
            break
        scheduled_reports_run(now=saved.next_run_at)
    saved.refresh_from_db()
    assert saved.failures == FAILURES_MAX and saved.stopped_at is not None
    assert scheduled_reports_run(now=saved.next_run_at + dt.timedelta(days=400)) == 0


# --- In a browser -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_pages_poll_to_the_link_and_have_no_serious_axe_violation(
    browser,  # noqa: F811
    live_server,
    world,
    program_a,
    manager_a,
):
    from .test_accessibility import blocking_violations
    from .test_browser import signed_in_page

    page = signed_in_page(browser, live_server, manager_a)
    page.goto(live_server.url + reverse("reports:generate", args=[program_a.pk]))
    page.get_by_role("button", name="Rapport des relations — CSV").click()
    page.locator("#runs [role=progressbar]").wait_for()  # the run, swapped in by htmx
    run_tasks()
    page.locator("#runs a.button.primary").wait_for(timeout=10_000)  # polled to its link
    assert blocking_violations(page) == []
    page.goto(live_server.url + reverse("reports:generate-custom", args=[program_a.pk]))
    assert blocking_violations(page) == []
