"""The prepared reports and their runs.

- `GET /api/reports`: the six prepared reports, each with its stable `name` and label.
- `POST /api/reports/{name}/runs` {format: csv | xlsx | pdf, program?, filters?, columns?}:
  202 with the run. A programme the caller does not manage: 404; without a programme (the
  whole organisation): administrators only, 403 for others. Unknown report: 404; a bad
  format, filter or column: 400. The same run asked again while it runs: the running one.
- `GET /api/report-runs/{id}`: `status` (queued, running, done, failed), `progress` 0–100,
  `download_url` once done (a link that checks permission again at each download).
"""

from typing import Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from cohorte.core.api import BatchError, ErrorOut
from cohorte.core.models import Job, JobStatus
from cohorte.messaging.services import absolute_url
from cohorte.programs.selectors import program_for

from . import exporters, runs
from .prepared import PREPARED, Scope, filters_problems

reports_router = Router(tags=["rapports"])
runs_router = Router(tags=["rapports"])


class ColumnOut(Schema):
    key: str
    label: str


class ReportOut(Schema):
    name: str
    label: str
    filters: list[str]


class RunIn(Schema):
    format: Literal["csv", "xlsx", "pdf"]
    program: int | None = Field(None, ge=1, le=2**31 - 1)
    filters: dict[str, str] | None = None
    columns: list[str] | None = Field(None, max_length=200)


class RunOut(Schema):
    id: int
    name: str
    format: str
    program: int | None
    status: str
    progress: int
    download_url: str | None
    error: str | None


def run_out(job: Job) -> dict:
    done = job.status == JobStatus.DONE and bool(job.file)
    return {
        "id": job.pk,
        "name": job.payload.get("name", ""),
        "format": job.payload.get("format", ""),
        "program": job.payload.get("program_id"),
        "status": job.status,
        "progress": job.percent,
        "download_url": absolute_url(runs.download_url(job)) if done else None,
        "error": job.result.get("error") if job.status == JobStatus.FAILED else None,
    }


@reports_router.get("", response=list[ReportOut])
def reports_list(request):
    return [
        {"name": p.name, "label": str(p.label), "filters": sorted(p.filters)}
        for p in PREPARED.values()
    ]


@reports_router.post(
    "/{name}/runs", response={202: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def report_run_create(request, name: str, body: RunIn):
    prepared = PREPARED.get(name)
    if prepared is None:
        raise Http404
    by = request.auth
    program = program_for(by, body.program) if body.program is not None else None
    if program is None and not runs.may_run(by=by, program=None):
        return Status(
            403,
            {
                "message": _("Seuls les administrateurs produisent un rapport de l'organisation."),
                "errors": [],
            },
        )
    errors = [
        {"index": 0, "field": "filters", "reason": problem}
        for problem in filters_problems(prepared, body.filters or {})
    ]
    if body.columns:
        organisation = program.organisation if program is not None else by.organisation
        scope = Scope(organisation=organisation, program=program, by=by)
        unknown = exporters.unknown_columns(prepared.columns(scope), body.columns)
        errors += [
            {
                "index": 0,
                "field": "columns",
                "reason": _("Colonne inconnue : %(key)s.") % {"key": key},
            }
            for key in unknown
        ]
    if errors:
        raise BatchError(_("Requête invalide."), errors)
    job = runs.report_run_request(
        name=name,
        format=body.format,
        by=by,
        program=program,
        filters=body.filters,
        columns=body.columns,
    )
    return Status(202, run_out(job))


@runs_router.get("/{int:run_id}", response={200: RunOut, 404: ErrorOut})
def report_run_get(request, run_id: int):
    job = runs.run_for(by=request.auth, run_id=run_id)
    if job is None:
        raise Http404
    return run_out(job)
