"""« Autres actions » of a campaign (issue 13 §3, §5, §6): the Excel and zipped-PDF exports
read back, their e-mail from a real SMTP sink and its link, the signed PDF on « Clos »,
the bulk print, the deletion by typing the name, and the API."""

import datetime as dt
import html
import io
import re
import zipfile
from email.header import decode_header, make_header
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from cohorte.campaigns import exports, services
from cohorte.campaigns.models import Campaign, Interview, InterviewStatus
from cohorte.core.models import AuditEntry, Job, JobStatus

from .conftest import body_of, make_member, run_tasks, signed_in

CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 3},
    {"role": "hr", "deadline_days": 10},
]
FORM = [
    {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}, "required": True},
            {"key": "note", "kind": "scale", "label": {"fr": "Satisfaction"}},
            {"key": "objectifs", "kind": "objectives", "label": {"fr": "Objectifs"}},
        ],
    }
]


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def people(organisation):
    return {
        "claire": make_member(organisation, "claire@poitiers.example", first="Claire", last="C"),
        "david": make_member(organisation, "david@poitiers.example", first="David", last="D"),
        "marc": make_member(organisation, "marc@poitiers.example", first="Marc", last="Manager"),
        "paul": make_member(organisation, "paul@poitiers.example", first="Paul", last="Autre"),
        "nina": make_member(organisation, "nina@poitiers.example", first="Nina", last="N2"),
    }


@pytest.fixture
def campaign(organisation, admin, people):
    today = timezone.localdate()
    campaign = services.campaign_create(
        organisation=organisation,
        by=admin,
        name="Entretiens annuels 2026",
        kind="annual",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=60),
        circuit=CIRCUIT,
        form=FORM,
    )
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[
            {"collaborator_email": people["claire"].email, "manager_email": people["marc"].email},
            {"collaborator_email": people["david"].email, "manager_email": people["paul"].email},
            {"collaborator_email": people["marc"].email, "manager_email": people["nina"].email},
        ],
    )
    return campaign


def close(interview, people, admin, *, answers):
    """Plan, hold, submit and sign the three steps."""
    manager = interview.manager
    when = timezone.now() - dt.timedelta(days=1)
    interview = services.interview_plan(interview=interview, by=manager, scheduled_at=when)
    interview = services.interview_held(interview=interview, by=manager)
    interview = services.interview_submit(interview=interview, by=manager, answers=answers)
    interview = services.interview_sign(
        interview=interview, by=interview.collaborator, comment="D'accord", reserve="Sur la note"
    )
    interview = services.interview_sign(interview=interview, by=manager)
    return services.interview_sign(interview=interview, by=admin, comment="Validé")


def link_in(message) -> str:
    url = re.search(r"https?://\S+", body_of(message)).group(0)
    return urlparse(url).path


@pytest.mark.django_db(transaction=True)
def test_excel_export_one_row_per_interview_with_answers_signers_and_neutralised_formula(
    campaign, people, admin, smtp
):
    claire = campaign.interviews.get(collaborator=people["claire"])
    close(
        claire,
        people,
        admin,
        answers={
            "bilan": '=HYPERLINK("http://evil.example","clic")',
            "note": 4,
            "objectifs": [{"title": "Anglais", "rating": 3}],
        },
    )
    client = signed_in(admin)
    response = client.post(reverse("campaigns:export", args=[campaign.pk]), {"format": "xlsx"})
    job = Job.objects.get(kind=exports.EXPORT_KIND)
    assert response.status_code == 302 and response["Location"] == reverse(
        "core:job", args=[job.pk]
    )
    # asked again while it waits: the same job
    client.post(reverse("campaigns:export", args=[campaign.pk]), {"format": "xlsx"})
    assert Job.objects.filter(kind=exports.EXPORT_KIND).count() == 1

    run_tasks()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and (job.done, job.total) == (3, 3)
    ready = [m for m in smtp if subject(m) == "Export prêt : Entretiens annuels 2026"]
    assert len(ready) == 1 and ready[0]["X-Envelope-To"] == admin.email
    path = link_in(ready[0])
    assert path == reverse("campaigns:export-file", args=[campaign.pk, job.pk])
    download = client.get(path)
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, lines = rows[0], rows[1:]
    assert len(lines) == 3
    assert "Bilan de l'année" in header and "Réserves" in header
    by_collab = {line[header.index("E-mail du collaborateur")]: line for line in lines}
    row = by_collab[people["claire"].email]
    assert row[header.index("Bilan de l'année")] == '\'=HYPERLINK("http://evil.example","clic")'
    assert row[header.index("Satisfaction")] == 4
    assert row[header.index("Objectifs")] == "Anglais (3 / 5)"
    assert row[header.index("Statut")] == "Clos"
    assert row[header.index("Étape 1 (Collaborateur) : signataire")] == "Claire C"
    assert row[header.index("Étape 2 (Manager) : signataire")] == "Marc Manager"
    assert row[header.index("Étape 3 (RH) : signataire")] == "Anne Admin"
    assert isinstance(row[header.index("Étape 3 (RH) : signé le")], dt.datetime)
    assert "Sur la note" in row[header.index("Réserves")]
    # Marc's manager in this campaign is Nina: Claire's N+2
    assert row[header.index("N+2")] == "Nina N2"
    assert by_collab[people["david"].email][header.index("Statut")] == "Non planifié"

    # the link is the requester's only, and only while they are an administrator
    other_admin = make_member(campaign.organisation, "autre.admin@poitiers.example")
    other_admin.is_org_admin = True
    other_admin.save()
    assert signed_in(other_admin).get(path).status_code == 404
    assert signed_in(people["marc"]).get(path).status_code == 404
    admin.is_org_admin = False
    admin.save()
    assert signed_in(admin).get(path).status_code == 404
    admin.is_org_admin = True
    admin.save()
    # and until it expires
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - dt.timedelta(days=30))
    expired = signed_in(admin).get(path)
    assert expired.status_code == 410 and "Fichier expiré" in expired.content.decode()


@pytest.mark.django_db(transaction=True)
def test_pdf_export_is_a_zip_of_one_pdf_per_interview(campaign, people, admin, smtp):
    close(
        campaign.interviews.get(collaborator=people["claire"]),
        people,
        admin,
        answers={"bilan": "Une très belle année", "note": 5},
    )
    response = signed_in(admin).post(
        reverse("campaigns:export", args=[campaign.pk]), {"format": "pdf"}
    )
    assert response.status_code == 302
    run_tasks()
    job = Job.objects.get(kind=exports.EXPORT_KIND)
    assert job.status == JobStatus.DONE, job.result
    ready = next(m for m in smtp if subject(m).startswith("Export prêt"))
    data = b"".join(signed_in(admin).get(link_in(ready)).streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert len(names) == 3 and all(name.endswith(".pdf") for name in names)
    claire = next(name for name in names if "claire" in name)
    text = pdf_text(archive.read(claire))
    assert "Une très belle année" in text and "Entretiens annuels 2026" in text
    assert "signé par Claire C, Marc Manager, Anne Admin" in " ".join(text.split())


@pytest.mark.django_db(transaction=True)
def test_the_collaborator_receives_the_signed_pdf_on_close(campaign, people, admin, smtp):
    close(
        campaign.interviews.get(collaborator=people["claire"]),
        people,
        admin,
        answers={"bilan": "Progrès remarquables", "objectifs": [{"title": "Python", "rating": 4}]},
    )
    run_tasks()
    closed = [
        m
        for m in smtp
        if m["X-Envelope-To"] == people["claire"].email and subject(m).endswith("est clos")
    ]
    assert len(closed) == 1
    pdfs = [p for p in closed[0].walk() if p.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename().endswith(".pdf")
    text = " ".join(pdf_text(pdfs[0].get_payload(decode=True)).split())
    assert "Progrès remarquables" in text and "Python" in text
    assert "Clos le" in text and "Sur la note" in text and "D'accord" in text


def test_one_interview_pdf_only_to_who_may_see_it(campaign, people, admin, outsider):
    interview = campaign.interviews.get(collaborator=people["claire"])
    url = reverse("campaigns:interview-pdf", args=[interview.pk])
    for member in (admin, people["claire"], people["marc"]):
        response = signed_in(member).get(url)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert "Claire C" in pdf_text(response.content)
    for member in (people["paul"], people["david"], outsider):
        assert signed_in(member).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_manager_prints_their_own_interviews_and_gets_them_by_email(
    campaign, people, admin, smtp
):
    paul = people["paul"]
    url = reverse("campaigns:print", args=[campaign.pk])
    page = signed_in(paul).get(url, {"status": "not_planned"})
    assert page.status_code == 200 and "1 entretien sélectionné" in page.content.decode()
    assert signed_in(paul).post(url, {"status": "not_planned"}).status_code == 302
    run_tasks()
    job = Job.objects.get(kind=exports.PRINT_KIND)
    assert job.status == JobStatus.DONE and job.done == 1
    ready = next(m for m in smtp if subject(m).startswith("Export prêt"))
    assert ready["X-Envelope-To"] == paul.email
    data = b"".join(signed_in(paul).get(link_in(ready)).streaming_content)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == 1 and "david" in names[0]
    assert signed_in(people["marc"]).get(link_in(ready)).status_code == 404
    # the administrator's bulk print: everything the filter selects, every page of it
    assert signed_in(admin).post(url, {"status": "not_planned"}).status_code == 302
    run_tasks()
    admin_job = Job.objects.filter(kind=exports.PRINT_KIND, created_by=admin).get()
    assert admin_job.done == 3
    # hostile filters: a clear refusal
    assert signed_in(admin).post(url, {"status": "nope"}).status_code == 400
    assert signed_in(admin).post(url, {"ids": ["x"]}).status_code == 400


def test_a_manager_cannot_export_nor_delete_and_an_outsider_sees_nothing(
    campaign, people, outsider
):
    for member, status in ((people["marc"], 404), (outsider, 404)):
        client = signed_in(member)
        assert client.get(reverse("campaigns:export", args=[campaign.pk])).status_code == status
        assert (
            client.post(reverse("campaigns:export", args=[campaign.pk]), {"format": "xlsx"})
        ).status_code == status
        assert client.get(reverse("campaigns:delete", args=[campaign.pk])).status_code == status
        assert (
            client.post(
                reverse("campaigns:delete", args=[campaign.pk]), {"confirm": campaign.name}
            ).status_code
            == status
        )
    assert (
        signed_in(outsider).get(reverse("campaigns:print", args=[campaign.pk])).status_code == 404
    )
    assert not Job.objects.exists() and Campaign.objects.filter(pk=campaign.pk).exists()


def test_export_page_refuses_an_unknown_format(campaign, admin):
    response = signed_in(admin).post(
        reverse("campaigns:export", args=[campaign.pk]), {"format": "docx"}
    )
    assert response.status_code == 400 and "Choisissez un format" in response.content.decode()
    assert not Job.objects.exists()


def test_deleting_the_campaign_needs_its_exact_name(campaign, people, admin):
    services.interview_delete(
        interview=campaign.interviews.get(collaborator=people["david"]), by=admin
    )
    client = signed_in(admin)
    url = reverse("campaigns:delete", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "irréversible" in page and "3 entretiens" in page and "Supprimés" in page
    refused = client.post(url, {"confirm": "entretiens annuels 2026"})
    assert refused.status_code == 400 and "rien n'a été supprimé" in html.unescape(
        refused.content.decode()
    )
    assert Interview.objects.filter(campaign=campaign).count() == 3
    done = client.post(url, {"confirm": "Entretiens annuels 2026"}, follow=True)
    assert done.redirect_chain[-1][0] == reverse("campaigns:list")
    assert "supprimée avec ses 3 entretien(s)" in done.content.decode()
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Interview.objects.filter(campaign_id=campaign.pk).exists()
    entry = AuditEntry.objects.get(action="campaign.deleted")
    assert entry.data["interviews"] == 3
    assert entry.data["by_status"][InterviewStatus.NOT_PLANNED] == 2
    assert entry.data["by_status"][InterviewStatus.DELETED] == 1


@pytest.mark.django_db(transaction=True)
def test_api_export_returns_a_job_whose_file_reaches_the_requester(
    campaign, people, admin, outsider, api_as, smtp
):
    path = f"/api/campaigns/{campaign.pk}/exports"
    response = api_as(admin).post(path, {"format": "xlsx"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) >= {"id", "status", "done", "total", "status_url"}
    assert body["status"] == "queued" and body["status_url"].endswith(f"/taches/{body['id']}/")
    assert api_as(admin).post(path, {"format": "xlsx"}).json()["id"] == body["id"]
    assert api_as(admin).post(path, {"format": "csv"}).status_code == 400
    assert api_as(admin).post(path, {}).status_code == 400
    assert api_as(people["marc"]).post(path, {"format": "xlsx"}).status_code == 403
    assert api_as(people["claire"]).post(path, {"format": "xlsx"}).status_code == 404
    assert api_as(outsider).post(path, {"format": "xlsx"}).status_code == 404
    assert api_as(admin).post("/api/campaigns/999999/exports", {"format": "pdf"}).status_code == 404
    run_tasks()
    assert Job.objects.get(pk=body["id"]).status == JobStatus.DONE
    ready = [m for m in smtp if subject(m).startswith("Export prêt")]
    assert [m["X-Envelope-To"] for m in ready] == [admin.email]


def test_a_reopened_interview_pdf_keeps_the_signed_version_readable(campaign, people, admin):
    interview = close(
        campaign.interviews.get(collaborator=people["claire"]),
        people,
        admin,
        answers={"bilan": "Première version signée"},
    )
    services.interview_reopen(interview=interview, by=admin, reason="Erreur de note")
    response = signed_in(people["claire"]).get(
        reverse("campaigns:interview-pdf", args=[interview.pk])
    )
    text = " ".join(pdf_text(response.content).split())
    assert "Effectué" in text and "Version signée n° 1" in text
    assert "Première version signée" in text and "Erreur de note" in text
    assert "Sur la note" in text  # the reserve, as it was signed


def test_the_excel_reads_a_few_queries_whatever_the_number_of_interviews(
    campaign, people, admin, organisation, django_assert_max_num_queries, tmp_path
):
    lines = []
    for n in range(30):
        member = make_member(organisation, f"extra{n}@poitiers.example", first=f"E{n}")
        lines.append({"collaborator_email": member.email, "manager_email": people["marc"].email})
    services.interviews_add(campaign=campaign, by=admin, lines=lines)
    campaign = Campaign.objects.select_related("organisation").get(pk=campaign.pk)
    with django_assert_max_num_queries(8):
        count = exports.xlsx_write(
            campaign=campaign,
            interviews=Interview.objects.filter(campaign=campaign),
            path=str(tmp_path / "x.xlsx"),
            language="fr",
        )
    assert count == 33
    rows = list(load_workbook(tmp_path / "x.xlsx", read_only=True).active.iter_rows())
    assert len(rows) == 34
