"""« Générer des rapports » for a programme: the six prepared reports with a button per
format, the runs under way with their progress (the partial polls itself), and the ones
done with their download link. The link checks again, at each download, that the
requester may still see the programme (404 otherwise) and that the file has not expired."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.files import job_file_expired, private_file_response
from cohorte.core.parse import ParseError, parse_int
from cohorte.programs.selectors import program_for

from . import custom, exporters, runs
from .prepared import PREPARED, Scope

#: the runs the page lists
RUNS_SHOWN = 10


def _context(request: MemberRequest, program) -> dict:
    listed = list(runs.runs_of(by=request.user).filter(payload__program_id=program.pk)[:RUNS_SHOWN])
    now = timezone.now()
    for job in listed:
        job.expired = job_file_expired(job, now=now)  # type: ignore[attr-defined]
        job.report_label = (  # type: ignore[attr-defined]
            job.result.get("title", "")
            if job.payload.get("saved_id")
            else PREPARED[job.payload["name"]].label
            if job.payload.get("name") in PREPARED
            else ""
        )
    return {
        "program": program,
        "reports": list(PREPARED.values()),
        "saved_reports": list(custom.saved_reports_visible_to(request.user, program=program)),
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
    saved = None
    if name.startswith(custom.PREFIX):
        saved = custom.saved_report_of(request.user, name)
        if saved is None or saved.program_id != program.pk:
            raise Http404("No such report.")
        name = saved.report
    if name not in PREPARED:
        raise Http404("No such report.")
    if format not in exporters.FORMATS:
        return HttpResponseBadRequest("Unknown format.")
    runs.report_run_request(
        name=name,
        format=format,
        by=request.user,
        program=program,
        filters=saved.filters if saved is not None else None,
        columns=saved.columns if saved is not None else None,
        saved=saved,
    )
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


@login_required
@require_http_methods(["GET", "POST"])
def generate_custom(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Rapport personnalisé »: a prepared report's columns ticked and numbered in the
    order wanted, saved under a name, private or shared with the organisation's managers."""
    program = program_for(request.user, program_id)
    data = request.POST if request.method == "POST" else request.GET
    name = data.get("report", "members")
    prepared = PREPARED.get(name)
    if prepared is None:
        raise Http404("No such report.")
    scope = Scope(organisation=program.organisation, program=program, by=request.user)
    columns = prepared.columns(scope)
    errors: dict[str, list[str]] = {}
    status = 200
    chosen = [column.key for column in columns]
    order = {column.key: index + 1 for index, column in enumerate(columns)}
    if request.method == "POST":
        chosen = [key for key in request.POST.getlist("columns") if key in order]
        for key in chosen:
            try:
                order[key] = parse_int(request.POST.get(f"order-{key}"), minimum=1, maximum=999)
            except ParseError:
                pass  # no number: keep the report's own place
        chosen.sort(key=lambda key: order[key])
        try:
            custom.saved_report_save(
                by=request.user,
                name=request.POST.get("name", ""),
                report=name,
                program=program,
                columns=chosen,
                shared=request.POST.get("shared") == "1",
            )
        except ValidationError as error:
            errors, status = error.message_dict, 400
        else:
            return redirect("reports:generate", program_id=program.pk)
    context = {
        "program": program,
        "reports": list(PREPARED.values()),
        "report": prepared,
        "columns": [(column, column.key in chosen, order[column.key]) for column in columns],
        "errors": errors,
        "name": request.POST.get("name", "") if request.method == "POST" else "",
        "shared": request.POST.get("shared") == "1",
    }
    return render(request, "reports/generate_custom.html", context, status=status)
