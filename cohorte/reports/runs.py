"""Prepared reports run in the background (core.jobs.Job, kind « report »): the page and
the API poll the job's progress; the file is kept for the job files' retention behind a
link that checks again, at each download, that the requester may still see what the
report covers; an e-mail (system message « report_ready ») says it is ready.

The same run (report, format, programme, filters, columns) asked again by the same person
while it is queued or running answers the running job.
"""

import tempfile
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.jobs import job_create, job_enqueue, job_file_deliver, job_run
from cohorte.core.models import Job, JobStatus
from cohorte.programs.models import Organisation, Program
from cohorte.programs.selectors import programs_visible_to

from . import exporters
from .prepared import PREPARED, Scope

KIND = "report"
SUFFIXES = {exporters.CSV: ".csv", exporters.XLSX: ".xlsx", exporters.PDF: ".pdf"}


def may_run(*, by: Member, program: Program | None) -> bool:
    """A programme's reports: whoever manages it (or an administrator of its organisation);
    the organisation's: its administrators only."""
    if not by.is_authenticated or not by.is_active or by.organisation_id is None:
        return False
    if program is None:
        return bool(by.is_org_admin)
    return programs_visible_to(by).filter(pk=program.pk).exists()


def report_run_request(
    *,
    name: str,
    format: str,
    by: Member,
    program: Program | None,
    filters: dict[str, str] | None = None,
    columns: list[str] | None = None,
    saved: Any = None,
    scheduled: bool = False,
) -> Job:
    """A run of a prepared report, or of a saved one's definition (the caller checked
    may_run and the inputs)."""
    if name not in PREPARED or format not in exporters.FORMATS:
        raise ValueError(name)
    payload: dict[str, Any] = {
        "name": name,
        "format": format,
        "program_id": program.pk if program is not None else None,
        "filters": dict(sorted((filters or {}).items())),
        "columns": list(columns or []),
    }
    if saved is not None:
        payload["saved_id"] = saved.pk
    if scheduled:
        payload["scheduled"] = True
    where = program.name if program is not None else getattr(by.organisation, "name", "")
    title = _("%(report)s (%(format)s) : %(where)s") % {
        "report": saved.name if saved is not None else PREPARED[name].label,
        "format": format.upper(),
        "where": where,
    }
    with transaction.atomic():
        # the requester's row is the lock: two clicks at once make one job
        Member.objects.select_for_update().filter(pk=by.pk).first()
        running = _running(by=by, payload=payload)
        if running is not None:
            return running
        job = job_create(
            kind=KIND, by=by, organisation_id=by.organisation_id, title=title, payload=payload
        )
        job_enqueue(job, report_run)
    return job


def _running(*, by: Member, payload: dict[str, Any]) -> Job | None:
    rows = Job.objects.filter(
        kind=KIND,
        created_by=by,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        payload__name=payload["name"],
        payload__format=payload["format"],
    )
    for job in rows.order_by("-pk")[:20]:
        if job.payload == payload:
            return job
    return None


def runs_of(*, by: Member) -> QuerySet[Job]:
    """One's own report runs, newest first."""
    return Job.objects.filter(kind=KIND, created_by=by).order_by("-created_at", "-pk")


def run_for(*, by: Member, run_id: int) -> Job | None:
    """The run if it is this person's and they may still see what it covers."""
    job = runs_of(by=by).filter(pk=run_id).first()
    if job is None:
        return None
    program = None
    program_id = job.payload.get("program_id")
    if program_id is not None:
        program = Program.objects.filter(pk=program_id).first()
        if program is None:
            return None
    if not may_run(by=by, program=program):
        return None
    return job


def download_url(job: Job) -> str:
    return reverse("reports:run-file", args=[job.pk])


def report_run_build(job: Job, progress: exporters.Progress) -> dict[str, Any]:
    """Build the file, store it on the job, and e-mail its link once. Permission is
    checked again here: a manager removed from the programme meanwhile gets nothing.
    Safe to run again after a killed worker: it starts over, writes a new file, and the
    e-mail leaves once."""
    from cohorte.messaging import services as messaging

    by = job.created_by
    language = by.language if by is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        program = None
        program_id = job.payload.get("program_id")
        if program_id is not None:
            program = Program.objects.select_related("organisation").filter(pk=program_id).first()
        if by is None or (program_id is not None and program is None):
            return {"failed": True, "error": _("Ce que couvre ce rapport n'existe plus.")}
        if not may_run(by=by, program=program):
            return {"failed": True, "error": _("Vous n'avez plus accès à ce rapport.")}
        organisation = (
            program.organisation
            if program is not None
            else Organisation.objects.get(pk=by.organisation_id or 0)
        )
        prepared = PREPARED[job.payload["name"]]
        format = job.payload["format"]
        scope = Scope(
            organisation=organisation,
            program=program,
            by=by,
            filters=job.payload.get("filters") or {},
        )
        with timezone.override(organisation.tzinfo):
            report = prepared.build(scope).only(job.payload.get("columns") or None)
            stamp = timezone.localtime()
            base = f"{slugify(str(prepared.label)) or prepared.name}-"
            base += f"{slugify(program.name) + '-' if program is not None else ''}"
            base += f"{stamp:%Y%m%d-%H%M}"
            suffix = SUFFIXES[format]
            with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
                if format == exporters.CSV:
                    delimiter = ";" if language == "fr" else ","
                    count = exporters.csv_write_report(
                        report, handle, delimiter=delimiter, progress=progress
                    )
                elif format == exporters.XLSX:
                    count = exporters.xlsx_write_report(report, handle.name, progress=progress)
                else:
                    count = exporters.pdf_write_report(report, handle, progress=progress)
                handle.flush()
                hours = settings.COHORTE_EXPORT_RETENTION_HOURS
                link = messaging.absolute_url(download_url(job))
                empty = count == 0 and job.payload.get("scheduled")
                job_file_deliver(
                    job,
                    handle,
                    f"{base}{suffix}",
                    count,
                    None  # a scheduled report that came out empty: never mailed
                    if empty
                    else lambda: messaging.system_email(
                        organisation_id=organisation.pk,
                        key="report_ready",
                        member=by,
                        values={"link": link, "days": max(1, hours // 24)},
                    ),
                )
        summary = _(
            "%(n)s ligne(s). Le lien de téléchargement vous a aussi été envoyé par e-mail."
        ) % {"n": count}
        return {"filename": f"{base}{suffix}", "count": count, "summary": summary}


def _report_run_work(job: Job, progress: exporters.Progress) -> dict[str, Any]:
    """The build, and what it means for a scheduled report: a failure in a row more, or
    none."""
    from .custom import saved_report_failed, saved_report_succeeded

    saved_id = job.payload.get("saved_id") if job.payload.get("scheduled") else None
    try:
        result = report_run_build(job, progress)
    except Exception:
        if saved_id is not None:
            saved_report_failed(saved_id, now=timezone.now())
        raise
    if saved_id is not None:
        if result.get("failed"):
            saved_report_failed(saved_id, now=timezone.now())
        else:
            saved_report_succeeded(saved_id)
    return result


@task()
def report_run(job_id: int) -> None:
    """A prepared report's file, in the background (see report_run_build)."""
    job_run(job_id, _report_run_work)
