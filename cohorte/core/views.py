from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from .audit import log_action
from .files import job_file_expired, private_file_response
from .jobs import jobs_visible_to


@login_required
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job's progress: the page polls this partial until the job is finished."""
    job = get_object_or_404(jobs_visible_to(request.user), pk=job_id)
    template = "core/job.html"
    if request.headers.get("HX-Request"):
        template += "#progress"
    return render(
        request,
        template,
        {"job": job, "file_expired": job_file_expired(job, now=timezone.now())},
    )


@login_required
def job_file(request: HttpRequest, job_id: int) -> HttpResponse | FileResponse:
    """A job's file, for whoever may see the job (its author, the organisation's
    administrators), until it expires."""
    job = get_object_or_404(jobs_visible_to(request.user), pk=job_id)
    if not job.file and not job.result.get("file_expired"):
        raise Http404("No file.")
    if job_file_expired(job, now=timezone.now()):
        return render(request, "core/job_file_expired.html", {"job": job}, status=410)
    extension = (job.file.name or "").rpartition(".")[2]
    name = job.result.get("filename") or f"{job.kind}.{extension}"
    log_action("export.job_file", actor=request.user, target=job, data={"file": name})
    return private_file_response(job.file, filename=name)
