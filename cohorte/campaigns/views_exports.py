"""« Autres actions »: export the interviews (Excel, PDF), print, delete the campaign.

Exports and deletion are the administrators' (404 for anyone else, as for a campaign one
cannot see); printing is also a manager's, bounded to their own interviews. Files are
built in the background and reach the person who asked by e-mail, through a link that
checks again, when it is followed, that they may still have it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.files import job_file_expired, private_file_response
from cohorte.core.models import Job
from cohorte.core.parse import ParseError, parse_ids

from . import documents, exports, rules, selectors, services
from .models import STATUS_PLURALS, Campaign, InterviewStatus
from .views import campaign_for, interview_for


def _admin_campaign(request: MemberRequest, campaign_id: int) -> Campaign:
    campaign = campaign_for(request.user, campaign_id)
    if not rules.is_admin_of(request.user, campaign):
        raise Http404("Administrators only.")
    return campaign


def _recent_jobs(campaign: Campaign, member) -> list[Job]:
    return list(
        Job.objects.filter(
            kind__in=[exports.EXPORT_KIND, exports.PRINT_KIND],
            created_by=member,
            organisation_id=campaign.organisation_id,
            payload__campaign_id=campaign.pk,
        ).order_by("-created_at", "-pk")[:10]
    )


@login_required
def export(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """GET: the « Autres actions » page; POST format=xlsx|pdf: the export's job (the
    running one if the same export is already being built), then its progress page."""
    campaign = _admin_campaign(request, campaign_id)
    problem = ""
    if request.method == "POST":
        format = request.POST.get("format", "")
        if format not in exports.FORMATS:
            problem = _("Choisissez un format d'export : Excel ou PDF.")
        else:
            job = exports.export_request(campaign=campaign, by=request.user, format=format)
            return redirect("core:job", job_id=job.pk)
    return render(
        request,
        "campaigns/export.html",
        {
            "campaign": campaign,
            "stats": selectors.campaign_stats(campaign),
            "jobs": _recent_jobs(campaign, request.user),
            "problem": problem,
            "now": timezone.now(),
        },
        status=400 if problem else 200,
    )


def _print_filters(request: MemberRequest) -> dict:
    data = request.POST if request.method == "POST" else request.GET
    status = data.get("status", "")
    if status and status not in InterviewStatus.values:
        raise ParseError(_("Statut inconnu."))
    # a NUL character is no text PostgreSQL can compare: dropped here, at the boundary
    q = data.get("q", "").replace("\x00", "")[:200]
    manager_email = data.get("manager", "").replace("\x00", "")[:254]
    ids = parse_ids(data.getlist("ids"), limit=20_000) if data.getlist("ids") else []
    return {"status": status, "manager_email": manager_email, "q": q, "ids": ids}


@login_required
def print_pdfs(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """Print the PDFs of everything the filter selects (status, manager, q as on « Détail
    entretiens », every page of it), or of the ticked ids: GET says how many, POST starts
    the job; the zip reaches the person who asked by e-mail."""
    campaign = campaign_for(request.user, campaign_id)
    admin = rules.is_admin_of(request.user, campaign)
    problem = ""
    try:
        filters = _print_filters(request)
    except ParseError as error:
        filters, problem = {"status": "", "manager_email": "", "q": "", "ids": []}, error.message
    selection = exports.print_selection(
        campaign, manager=None if admin else request.user, **filters
    )
    count = selection.count() if not problem else 0
    if request.method == "POST" and not problem:
        if count == 0:
            problem = _("Aucun entretien ne correspond à cette sélection : rien à imprimer.")
        else:
            job = exports.print_request(
                campaign=campaign, by=request.user, only_manager=not admin, **filters
            )
            return redirect("core:job", job_id=job.pk)
    return render(
        request,
        "campaigns/export_print.html",
        {
            "campaign": campaign,
            "filters": filters,
            "status_label": STATUS_PLURALS.get(filters["status"], "") if filters["status"] else "",
            "count": count,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


@login_required
def campaign_delete(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """« Supprimer la campagne »: irreversible; the page says what goes with it (the
    interviews, by status) and asks for the campaign's exact name."""
    campaign = _admin_campaign(request, campaign_id)
    problem = ""
    if request.method == "POST":
        name = campaign.name
        try:
            counts = services.campaign_delete(
                campaign=campaign, by=request.user, confirm=request.POST.get("confirm", "")
            )
        except ValidationError:
            problem = _(
                "Le nom tapé n'est pas celui de la campagne : rien n'a été supprimé. "
                "Tapez exactement « %(name)s »."
            ) % {"name": name}
        else:
            messages.success(
                request,
                _("Campagne « %(name)s » supprimée avec ses %(n)s entretien(s).")
                % {"name": name, "n": sum(counts.values())},
            )
            return redirect("campaigns:list")
    stats = selectors.campaign_stats(campaign)
    return render(
        request,
        "campaigns/delete.html",
        {
            "campaign": campaign,
            "rows": [(STATUS_PLURALS[status], stats[status]) for status in InterviewStatus],
            "total": sum(stats.values()),
            "problem": problem,
        },
        status=400 if problem else 200,
    )


@login_required
def interview_pdf(request: MemberRequest, interview_id: int) -> HttpResponse:
    """One interview's write-up as a PDF, for the people who may see it; built on the
    spot, never stored behind a public address."""
    interview = interview_for(request.user, interview_id)
    data = documents.interview_pdf(interview, language=request.LANGUAGE_CODE)
    response = HttpResponse(data, content_type=documents.PDF_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{documents.pdf_filename(interview)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def export_file(
    request: MemberRequest, campaign_id: int, job_id: int
) -> HttpResponse | FileResponse:
    """The link in the « export prêt » e-mail: the file, to the person who asked only, if
    they may still have it — an export while they are still an administrator of the
    campaign, a print while they still see it and its interviews — until it expires."""
    campaign = campaign_for(request.user, campaign_id)
    job = Job.objects.filter(
        pk=job_id,
        kind__in=[exports.EXPORT_KIND, exports.PRINT_KIND],
        created_by=request.user,
        payload__campaign_id=campaign.pk,
    ).first()
    if job is None:
        raise Http404
    if job.kind == exports.EXPORT_KIND and not rules.is_admin_of(request.user, campaign):
        raise Http404
    if not job.file and not job.result.get("file_expired"):
        raise Http404("No file yet.")
    if job_file_expired(job, now=timezone.now()) or not job.file:
        return render(request, "core/job_file_expired.html", {"job": job}, status=410)
    name = job.result.get("filename") or (job.file.name or "").rpartition("/")[2]
    log_action("export.job_file", actor=request.user, target=job, data={"file": name})
    return private_file_response(job.file, filename=name)
