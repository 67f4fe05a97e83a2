"""The prepared reports and their runs.

- `GET /api/reports`: the six prepared reports, each with its stable `name` and label, then
  the saved (custom) reports the caller may run, named `saved-<id>`.
- `POST /api/reports` {name, report, program?, columns, filters?, shared}: 201, a custom
  report (columns chosen among the report's, in that order), private or shared; named
  `saved-<id>` from then on, whatever its title (dots, commas, accents, slashes): the
  title is its `label`, and two reports may bear one title. `POST /api/reports/saved`:
  the same, its older address.
- `GET /api/reports/{name}`: one prepared or saved report the caller may run.
- `PATCH /api/reports/{name}` {name?, columns?, filters?, shared?}: a saved report
  renamed or redefined; `DELETE /api/reports/{name}`: 204. Its owner, or an administrator
  of its organisation, as on the pages (403 for a colleague who sees a shared one); one
  the caller does not see, another organisation's or a prepared one: 404. A bad column or
  filter: 400, each listed.
- `POST /api/reports/saved-<id>/schedule` {schedule: weekly | monthly | "", format,
  recipients: [email]}: its owner has it e-mailed to chosen managers.
- `POST /api/reports/{name}/runs` {format: csv | xlsx | pdf, program?, filters?, columns?}:
  202 with the run. A programme the caller does not manage: 404; without a programme (the
  whole organisation): administrators only, 403 for others. Unknown report: 404; a bad
  format, filter or column: 400 with every problem (`filters`: the members list's
  advanced filters — role, status, cohort, tag, custom field and option, completion,
  relationship, signed in, last sign-in and creation dates — each as a string: a date
  AAAA-MM-JJ, an id of one's own organisation's cohort, tag or field). The
  same run asked again while it runs: the running one.
- `GET /api/report-runs/{id}`: `status` (queued, running, done, failed), `progress` 0–100,
  `download_url` once done (a link that checks permission again at each download).
"""

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from cohorte.accounts.models import Member
from cohorte.core.api import BatchError, ErrorOut
from cohorte.core.models import Job, JobStatus
from cohorte.messaging.services import absolute_url
from cohorte.programs.selectors import program_for

from . import custom, exporters, runs
from .prepared import PREPARED, Scope, filters_clean

reports_router = Router(tags=["rapports"])


def ORGANISATION_ONLY() -> str:  # noqa: N802 — a message, read in the caller's language
    return _("Seuls les administrateurs produisent un rapport de l'organisation.")


runs_router = Router(tags=["rapports"])


class ColumnOut(Schema):
    key: str
    label: str


class ReportOut(Schema):
    name: str
    label: str
    filters: list[str]
    #: a saved (custom) report: the prepared report it starts from, its columns
    saved: bool = False
    report: str
    program: int | None = None
    columns: list[str] = []
    shared: bool = False
    #: a saved report's schedule: weekly, monthly or « »; stopped after 5 failures in a row
    schedule: str = ""
    next_run_at: dt.datetime | None = None
    stopped: bool = False


class SavedIn(Schema):
    name: str = Field(..., max_length=custom.NAME_MAX)
    report: str = Field(..., max_length=40)
    program: int | None = Field(None, ge=1, le=2**31 - 1)
    columns: list[str] = Field(..., min_length=1, max_length=200)
    filters: dict[str, str] | None = None
    shared: bool = False


def saved_out(saved) -> dict:
    return {
        "name": saved.key,
        "label": saved.name,
        "filters": sorted(saved.filters),
        "saved": True,
        "report": saved.report,
        "program": saved.program_id,
        "columns": saved.columns,
        "shared": saved.shared,
        "schedule": saved.schedule,
        "next_run_at": saved.next_run_at,
        "stopped": saved.stopped_at is not None,
    }


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
    """The six prepared reports, then the saved ones the caller may run."""
    prepared = [prepared_out(p) for p in PREPARED.values()]
    saved = custom.saved_reports_visible_to(request.auth)[:500]
    return prepared + [saved_out(row) for row in saved]


def definition_refused(error: ValidationError) -> BatchError:
    """The service's refusal as the API's 400: one item per problem (each unknown column,
    each bad filter), under the field it is about."""
    items = [
        {"index": 0, "field": field, "reason": message}
        for field, messages in error.message_dict.items()
        for message in messages
    ]
    return BatchError(_("Requête invalide."), items)


@reports_router.post("", response={201: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def report_create(request, body: SavedIn):
    """Save a custom report: a prepared report's columns, in the order given."""
    return _saved_create(request.auth, body)


@reports_router.post(
    "/saved", response={201: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def report_save(request, body: SavedIn):
    """Save a custom report (the older address of `POST /api/reports`)."""
    return _saved_create(request.auth, body)


def _saved_create(by, body: SavedIn):
    if body.report not in PREPARED:
        raise Http404
    program = program_for(by, body.program) if body.program is not None else None
    if program is None and not runs.may_run(by=by, program=None):
        return Status(403, {"message": ORGANISATION_ONLY(), "errors": []})
    try:
        saved = custom.saved_report_save(
            by=by,
            name=body.name,
            report=body.report,
            program=program,
            columns=body.columns,
            filters=body.filters,
            shared=body.shared,
        )
    except ValidationError as error:
        raise definition_refused(error) from error
    return Status(201, saved_out(saved))


def prepared_out(prepared) -> dict:
    return {
        "name": prepared.name,
        "label": str(prepared.label),
        "filters": sorted(prepared.filters),
        "report": prepared.name,
    }


@reports_router.get("/{name}", response={200: ReportOut, 404: ErrorOut})
def report_get(request, name: str):
    """A prepared report, or a saved one the caller may run (`saved-<id>`)."""
    if name in PREPARED:
        return prepared_out(PREPARED[name])
    saved = custom.saved_report_of(request.auth, name)
    if saved is None:
        raise Http404
    return saved_out(saved)


class SavedPatch(Schema):
    name: str | None = Field(None, max_length=custom.NAME_MAX)
    columns: list[str] | None = Field(None, min_length=1, max_length=200)
    #: the whole set of filters, replacing the saved ones ({} clears them)
    filters: dict[str, str] | None = None
    shared: bool | None = None


def _changeable(by, name: str, refusal: str):
    """A saved report `by` sees (else 404) and may change: its owner or an administrator
    of its organisation (else 403 with `refusal`, as on the pages)."""
    saved = custom.saved_report_of(by, name)
    if saved is None:
        raise Http404
    if not custom.may_change(by, saved):
        return saved, Status(403, {"message": refusal, "errors": []})
    return saved, None


@reports_router.patch(
    "/{name}", response={200: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def report_update(request, name: str, body: SavedPatch):
    """Rename a saved report, or change its columns, filters or sharing; what is left out
    stays as it is."""
    by = request.auth
    refusal = _("Seul l'auteur du rapport, ou un administrateur, le modifie.")
    saved, refused = _changeable(by, name, refusal)
    if refused is not None:
        return refused
    try:
        custom.saved_report_update(
            saved=saved,
            by=by,
            name=body.name if body.name is not None else saved.name,
            columns=body.columns if body.columns is not None else saved.columns,
            filters=body.filters if body.filters is not None else saved.filters,
            shared=body.shared if body.shared is not None else saved.shared,
        )
    except ValidationError as error:
        raise definition_refused(error) from error
    return saved_out(saved)


@reports_router.delete("/{name}", response={204: None, 403: ErrorOut, 404: ErrorOut})
def report_delete(request, name: str):
    """Delete a saved report and its schedule; the files of runs already made stay until
    they expire."""
    by = request.auth
    refusal = _("Seul l'auteur du rapport, ou un administrateur, le supprime.")
    saved, refused = _changeable(by, name, refusal)
    if refused is not None:
        return refused
    custom.saved_report_delete(saved=saved, by=by)
    return Status(204, None)


@reports_router.post(
    "/{name}/runs", response={202: RunOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def report_run_create(request, name: str, body: RunIn):
    by = request.auth
    saved = None
    if name.startswith(custom.PREFIX):
        saved = custom.saved_report_of(by, name)
        if saved is None:
            raise Http404
        # a saved report runs its own definition, for its own programme
        body = RunIn(
            format=body.format,
            program=saved.program_id,
            filters=saved.filters or None,
            columns=saved.columns,
        )
        name = saved.report
    prepared = PREPARED.get(name)
    if prepared is None:
        raise Http404
    program = program_for(by, body.program) if body.program is not None else None
    if program is None and not runs.may_run(by=by, program=None):
        return Status(
            403,
            {"message": ORGANISATION_ONLY(), "errors": []},
        )
    organisation = program.organisation if program is not None else by.organisation
    filters, problems = filters_clean(
        prepared, body.filters or {}, organisation=organisation, by=by
    )
    errors = [{"index": 0, "field": "filters", "reason": problem} for problem in problems]
    if body.columns and organisation is not None:
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
        filters=filters,
        columns=body.columns,
        saved=saved,
    )
    return Status(202, run_out(job))


class ScheduleIn(Schema):
    schedule: Literal["weekly", "monthly", ""]
    format: Literal["csv", "xlsx", "pdf"] = "xlsx"
    recipients: list[str] = Field([], max_length=100)
    #: weekly: 0 (Monday) to 6; monthly: 1 to 28; none: a week or a month from now
    day: int | None = Field(None, ge=0, le=28)


@reports_router.post(
    "/{name}/schedule", response={200: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def report_schedule(request, name: str, body: ScheduleIn):
    """A saved report e-mailed every week or month to chosen managers (by e-mail address);
    « » stops it. Its owner only."""
    by = request.auth
    saved = custom.saved_report_of(by, name)
    if saved is None:
        raise Http404
    if saved.owner_id != by.pk:
        return Status(
            403, {"message": _("Seul l'auteur du rapport en programme l'envoi."), "errors": []}
        )
    emails = [email.strip().lower() for email in body.recipients if email.strip()]
    people = list(Member.objects.filter(organisation_id=by.organisation_id, email__in=emails)[:100])
    found = {person.email.lower() for person in people}
    errors = [
        {"index": index, "field": "recipients", "reason": _("Personne inconnue : %(email)s.")
         % {"email": email}}
        for index, email in enumerate(emails)
        if email not in found
    ]  # fmt: skip
    if errors:
        raise BatchError(_("Requête invalide."), errors)
    try:
        custom.saved_report_schedule(
            saved=saved,
            by=by,
            schedule=body.schedule,
            format=body.format,
            recipients=people,
            day=body.day,
        )
    except ValidationError as error:
        raise definition_refused(error) from error
    return saved_out(saved)


@runs_router.get("/{int:run_id}", response={200: RunOut, 404: ErrorOut})
def report_run_get(request, run_id: int):
    job = runs.run_for(by=request.auth, run_id=run_id)
    if job is None:
        raise Http404
    return run_out(job)
