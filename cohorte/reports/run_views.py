"""« Générer des rapports » for a programme: the six prepared reports with a button per
format, the runs under way with their progress (the partial polls itself), and the ones
done with their download link. The link checks again, at each download, that the
requester may still see the programme (404 otherwise) and that the file has not expired."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.files import job_file_expired, private_file_response
from cohorte.programs.selectors import program_for

from . import exporters, runs
from .prepared import PREPARED

#: the runs the page lists
RUNS_SHOWN = 10


def _context(request: MemberRequest, program) -> dict:
    listed = list(runs.runs_of(by=request.user).filter(payload__program_id=program.pk)[:RUNS_SHOWN])
    now = timezone.now()
    for job in listed:
        job.expired = job_file_expired(job, now=now)  # type: ignore[attr-defined]
        job.report_label = (  # type: ignore[attr-defined]
            PREPARED[job.payload["name"]].label if job.payload.get("name") in PREPARED else ""
        )
    return {
        "program": program,
        "reports": list(PREPARED.values()),
        "formats": exporters.FORMATS,
        "runs": listed,
        "polling": any(not job.is_finished for job in listed),
    }


@login_required
def generate(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    template = "reports/generate.html"
    if request.headers.get("HX-Request"):
        template += "#runs"
    return render(request, template, _context(request, program))


@login_required
@require_POST
def generate_run(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    name = request.POST.get("name", "")
    format = request.POST.get("format", "")
    if name not in PREPARED:
        raise Http404("No such report.")
    if format not in exporters.FORMATS:
        return HttpResponseBadRequest("Unknown format.")
    runs.report_run_request(name=name, format=format, by=request.user, program=program)
    if request.headers.get("HX-Request"):
        return render(request, "reports/generate.html#runs", _context(request, program))
    return redirect("reports:generate", program_id=program.pk)


@login_required
def run_file(request: MemberRequest, run_id: int) -> HttpResponse | FileResponse:
    job = runs.run_for(by=request.user, run_id=run_id)
    if job is None:
        raise Http404("No such report run.")
    if not job.file and not job.result.get("file_expired"):
        raise Http404("No file yet.")
    if job_file_expired(job, now=timezone.now()) or not job.file:
        return render(request, "core/job_file_expired.html", {"job": job}, status=410)
    name = job.result.get("filename") or (job.file.name or "").rpartition("/")[2]
    log_action("export.job_file", actor=request.user, target=job, data={"file": name})
    return private_file_response(job.file, filename=name)
