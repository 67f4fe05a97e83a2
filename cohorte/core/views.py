from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .audit import log_action
from .jobs import jobs_visible_to


@login_required
def job_status(request: HttpRequest, job_id: int) -> HttpResponse:
    """A job's progress: the page polls this partial until the job is finished."""
    job = get_object_or_404(jobs_visible_to(request.user), pk=job_id)
    template = "core/job.html"
    if request.headers.get("HX-Request"):
        template += "#progress"
    return render(request, template, {"job": job})


@login_required
def job_file(request: HttpRequest, job_id: int) -> FileResponse:
    job = get_object_or_404(jobs_visible_to(request.user), pk=job_id)
    if not job.file:
        raise Http404("No file.")
    name = job.result.get("filename") or (job.file.name or "").rsplit("/", 1)[-1]
    log_action("export.job_file", actor=request.user, target=job, data={"file": name})
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)
