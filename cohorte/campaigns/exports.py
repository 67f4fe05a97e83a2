"""« Autres actions »: the interviews of a campaign as Excel (one row per interview) or as
PDFs (one per interview, zipped), and the bulk print of what a filter selects — built in
the background (core.jobs), then a link sent by e-mail to the person who asked.

The Excel is written by XlsxWriter in constant-memory mode, row after row, the interviews
read 2,000 at a time with their signatures: 20,000 rows in a few seconds, a few queries
per 2,000 rows. Every text cell is neutralised (core.exports.neutralise): an answer
typed as « =HYPERLINK(…) » stays text.

A request while the same export runs returns the running job: nothing is built twice.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from cohorte.core.exports import neutralise
from cohorte.core.jobs import job_create, job_enqueue, job_file_deliver
from cohorte.core.models import Job, JobStatus

from . import documents
from .models import Campaign, EventAction, Interview, InterviewEvent, InterviewStatus, SignedVersion

if TYPE_CHECKING:
    from cohorte.accounts.models import Member

XLSX = "xlsx"
PDF = "pdf"
FORMATS = (XLSX, PDF)
#: the job kinds: an administrator's export of the whole campaign, anyone's bulk print
EXPORT_KIND = "campaign_export"
PRINT_KIND = "campaign_print"
CHUNK = 2000

Progress = Callable[[int, int], None]


def _local(value: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    """An Excel date: the organisation's wall time, without its zone (Excel has none)."""
    if value is None:
        return None
    return value.astimezone(tz).replace(tzinfo=None)


# --- Requests: one job per export, the running one returned ----------------------------------


def _running(kind: str, campaign: Campaign, by: Member, key: dict[str, Any]) -> Job | None:
    rows = Job.objects.filter(
        kind=kind,
        created_by=by,
        organisation_id=campaign.organisation_id,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        payload__campaign_id=campaign.pk,
    )
    for job in rows.order_by("-pk")[:20]:
        if all(job.payload.get(name) == value for name, value in key.items()):
            return job
    return None


def _job_for(
    *, kind: str, campaign: Campaign, by: Member, title: str, payload: dict[str, Any]
) -> Job:
    from . import tasks_exports

    with transaction.atomic():
        # the campaign's row is the lock: two clicks at once make one job
        Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        key = {name: value for name, value in payload.items() if name != "campaign_id"}
        running = _running(kind, campaign, by, key)
        if running is not None:
            return running
        job = job_create(
            kind=kind,
            by=by,
            organisation_id=campaign.organisation_id,
            title=title,
            payload={"campaign_id": campaign.pk, **payload},
        )
        job.result = {
            **job.result,
            "next_url": reverse("campaigns:detail", args=[campaign.pk]),
            "next_label": _("Retour à la campagne"),
        }
        job.save(update_fields=["result"])
        job_enqueue(job, tasks_exports.campaign_export)
    return job


def export_request(*, campaign: Campaign, by: Member, format: str) -> Job:
    """An administrator's export of every interview of the campaign (the caller checked
    that they are one)."""
    if format not in FORMATS:
        raise ValueError(format)
    title = _("Export des entretiens (%(format)s) : %(name)s") % {
        "format": "Excel" if format == XLSX else "PDF",
        "name": campaign.name,
    }
    return _job_for(
        kind=EXPORT_KIND, campaign=campaign, by=by, title=title, payload={"format": format}
    )


def print_request(
    *,
    campaign: Campaign,
    by: Member,
    status: str | None = None,
    manager_email: str | None = None,
    q: str = "",
    ids: list[int] | None = None,
    only_manager: bool = False,
) -> Job:
    """The PDFs of what the filter selects (every page of it, not only the one shown), or
    of the ticked ids; a manager's selection is bounded to their own interviews."""
    payload = {
        "format": PDF,
        "status": status or "",
        "manager_email": manager_email or "",
        "q": q,
        "ids": sorted(ids) if ids else [],
        "only_manager": only_manager,
    }
    title = _("Impression des entretiens : %(name)s") % {"name": campaign.name}
    return _job_for(kind=PRINT_KIND, campaign=campaign, by=by, title=title, payload=payload)


def print_selection(
    campaign: Campaign,
    *,
    status: str | None,
    manager_email: str | None,
    q: str,
    ids: list[int] | None,
    manager: Member | None,
) -> QuerySet[Interview]:
    from .selectors import interviews_of

    rows = interviews_of(
        campaign, status=status or None, manager_email=manager_email or None, q=q, manager=manager
    )
    if ids:
        rows = rows.filter(pk__in=ids)
    return rows


def _selection(job: Job, campaign: Campaign) -> QuerySet[Interview]:
    payload = job.payload
    if job.kind == EXPORT_KIND:
        return Interview.objects.filter(campaign=campaign).order_by(
            "manager__last_name", "manager__first_name", "manager_id",
            "collaborator__last_name", "collaborator__first_name", "pk",
        )  # fmt: skip
    return print_selection(
        campaign,
        status=payload.get("status"),
        manager_email=payload.get("manager_email"),
        q=payload.get("q", ""),
        ids=payload.get("ids") or None,
        manager=job.created_by if payload.get("only_manager") else None,
    )


# --- Reading 2,000 interviews at a time, with their current round's signatures -------------


def _chunks(interviews: QuerySet[Interview]) -> Iterator[tuple[list[Interview], dict]]:
    """The interviews in order, CHUNK at a time, each chunk with {interview id: its
    current round's SIGNED events}: three queries per chunk, whatever its size."""
    rows = interviews.select_related("collaborator", "manager", "second_approver")
    chunk: list[Interview] = []
    for interview in rows.iterator(chunk_size=CHUNK):
        chunk.append(interview)
        if len(chunk) >= CHUNK:
            yield chunk, _signed_events(chunk)
            chunk = []
    if chunk:
        yield chunk, _signed_events(chunk)


def _signed_events(chunk: list[Interview]) -> dict[int, list[InterviewEvent]]:
    ids = [interview.pk for interview in chunk]
    rounds = {
        pk: n + 1
        for pk, n in SignedVersion.objects.filter(interview_id__in=ids)
        .order_by()
        .values_list("interview_id")
        .annotate(n=Count("pk"))
    }
    events: dict[int, list[InterviewEvent]] = defaultdict(list)
    for event in (
        InterviewEvent.objects.filter(interview_id__in=ids, action=EventAction.SIGNED)
        .select_related("by")
        .order_by("interview_id", "at", "pk")
    ):
        if event.round == rounds.get(event.interview_id, 1):
            events[event.interview_id].append(event)
    return events


# --- Excel ---------------------------------------------------------------------------------

#: what a row of the Excel reads: plain values, no model instances (20,000 interviews and
#: their 60,000 people built as objects cost more than writing the file)
ROW_FIELDS = (
    "pk", "status", "manager_id", "scheduled_at", "held_at", "submitted_at", "closed_at",
    "answers", "collaborator__first_name", "collaborator__last_name", "collaborator__email",
    "manager__first_name", "manager__last_name", "manager__email",
    "second_approver__first_name", "second_approver__last_name", "second_approver__email",
)  # fmt: skip
EVENT_FIELDS = (
    "interview_id", "round", "position", "role", "at", "reserve",
    "by__first_name", "by__last_name", "by__email",
)  # fmt: skip


def _full_name(values: dict[str, Any], prefix: str) -> str:
    """Member.full_name, from values read with that prefix."""
    first, last = values.get(f"{prefix}first_name") or "", values.get(f"{prefix}last_name") or ""
    return f"{first} {last}".strip() or values.get(f"{prefix}email") or ""


def _names_read(names: dict[int, str], ids: set[int]) -> None:
    from cohorte.accounts.models import Member

    if ids:
        for pk, first, last, email in Member.objects.filter(pk__in=ids).values_list(
            "pk", "first_name", "last_name", "email"
        ):
            names[pk] = f"{first} {last}".strip() or email


def _value_chunks(
    interviews: QuerySet[Interview],
) -> Iterator[tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]]:
    """As _chunks, in plain values."""
    chunk: list[dict[str, Any]] = []
    for values in interviews.values(*ROW_FIELDS).iterator(chunk_size=CHUNK):
        chunk.append(values)
        if len(chunk) >= CHUNK:
            yield chunk, _signed_values(chunk)
            chunk = []
    if chunk:
        yield chunk, _signed_values(chunk)


def _signed_values(chunk: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    ids = [values["pk"] for values in chunk]
    rounds = dict(
        SignedVersion.objects.filter(interview_id__in=ids)
        .order_by()
        .values_list("interview_id")
        .annotate(n=Count("pk"))
    )
    events: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in (
        InterviewEvent.objects.filter(interview_id__in=ids, action=EventAction.SIGNED)
        .order_by("interview_id", "at", "pk")
        .values(*EVENT_FIELDS)
    ):
        if event["round"] == rounds.get(event["interview_id"], 0) + 1:
            events[event["interview_id"]].append(event)
    return events


def _steps(campaign: Campaign, interviews: QuerySet[Interview]) -> list[str]:
    """The circuit's columns: the campaign's steps, and more if an interview's circuit was
    made longer (circuit_change for one interview)."""
    longest = list(campaign.circuit)
    for circuit in interviews.order_by().values_list("circuit", flat=True).iterator(CHUNK):
        if isinstance(circuit, list) and len(circuit) > len(longest):
            longest = circuit
    return [step.get("role", "") for step in longest]


def xlsx_header(campaign: Campaign, roles: list[str], language: str) -> list[str]:
    header = [
        _("Collaborateur"),
        _("E-mail du collaborateur"),
        _("Manager"),
        _("E-mail du manager"),
        _("N+2"),
        _("Campagne"),
        _("Début de la campagne"),
        _("Fin de la campagne"),
        _("Statut"),
        _("Date prévue"),
        _("Effectué le"),
        _("Soumis le"),
        _("Clos le"),
    ]
    for position, role in enumerate(roles, start=1):
        label = documents.role_label(role)
        header.append(_("Étape %(n)s (%(role)s) : signataire") % {"n": position, "role": label})
        header.append(_("Étape %(n)s (%(role)s) : signé le") % {"n": position, "role": label})
    header.append(_("Réserves"))
    for question in _form_questions(campaign):
        header.append(documents._in(question.get("label"), language) or question.get("key", ""))
    return header


def _form_questions(campaign: Campaign) -> list[dict[str, Any]]:
    return [q for section in campaign.form or [] for q in section.get("questions", [])]


def xlsx_write(
    *,
    campaign: Campaign,
    interviews: QuerySet[Interview],
    path: str,
    language: str,
    progress: Progress | None = None,
) -> int:
    """Write the Excel at `path`; returns the number of rows."""
    import xlsxwriter

    tz = campaign.organisation.tzinfo
    total = interviews.count()
    roles = _steps(campaign, interviews)
    questions = _form_questions(campaign)
    # the N+2 when none is named: the manager's own manager in this campaign
    above = dict(
        Interview.objects.filter(campaign=campaign)
        .exclude(status=InterviewStatus.DELETED)
        .order_by()
        .values_list("collaborator_id", "manager_id")
    )
    names: dict[int, str] = {}
    workbook = xlsxwriter.Workbook(
        path, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = workbook.add_worksheet(_("Entretiens")[:31])
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        day = workbook.add_format({"num_format": "dd/mm/yyyy"})
        for column, title in enumerate(xlsx_header(campaign, roles, language)):
            sheet.write_string(0, column, neutralise(title), bold)
        sheet.freeze_panes(1, 1)
        statuses = {value: str(label) for value, label in InterviewStatus.choices}
        start = dt.datetime.combine(campaign.start_date, dt.time())
        end = dt.datetime.combine(campaign.end_date, dt.time())
        campaign_name = neutralise(campaign.name)
        row = 0
        for chunk, events in _value_chunks(interviews):
            missing = {above[i["manager_id"]] for i in chunk if i["manager_id"] in above}
            _names_read(names, missing - set(names))
            for interview in chunk:
                row += 1
                second = _full_name(interview, "second_approver__") or names.get(
                    above.get(interview["manager_id"], 0), ""
                )
                texts = (
                    _full_name(interview, "collaborator__"),
                    interview["collaborator__email"],
                    _full_name(interview, "manager__"),
                    interview["manager__email"],
                    second,
                )
                for column, text in enumerate(texts):
                    sheet.write_string(row, column, neutralise(text))
                sheet.write_string(row, 5, campaign_name)
                sheet.write_datetime(row, 6, start, day)
                sheet.write_datetime(row, 7, end, day)
                status = interview["status"]
                sheet.write_string(row, 8, statuses.get(status, status))
                column = 9
                for field in ("scheduled_at", "held_at", "submitted_at", "closed_at"):
                    local = _local(interview[field], tz)
                    if local is not None:
                        sheet.write_datetime(row, column, local, when)
                    column += 1
                by_position: dict[int, dict[str, Any]] = {}
                reserves = []
                for event in events.get(interview["pk"], []):
                    if event["position"] is not None:
                        by_position[event["position"]] = event  # a step signed again: the last
                    if event["reserve"]:
                        reserves.append(
                            f"{documents.role_label(event['role'])} : {event['reserve']}"
                        )
                for position in range(len(roles)):
                    signed = by_position.get(position)
                    if signed is not None:
                        sheet.write_string(row, column, neutralise(_full_name(signed, "by__")))
                        sheet.write_datetime(row, column + 1, _local(signed["at"], tz), when)
                    column += 2
                if reserves:
                    sheet.write_string(row, column, neutralise("\n".join(reserves)))
                column += 1
                answers = interview["answers"] or {}
                for question in questions:
                    value = answers.get(question.get("key"))
                    if isinstance(value, int) and not isinstance(value, bool):
                        sheet.write_number(row, column, value)
                    elif value not in (None, "", []):
                        text = documents.answer_text(question, value, language)
                        sheet.write_string(row, column, neutralise(text))
                    column += 1
            if progress is not None:
                progress(row, total)
    finally:
        workbook.close()
    return row


# --- PDFs, zipped --------------------------------------------------------------------------


def zip_write(
    *,
    interviews: QuerySet[Interview],
    path: str,
    language: str,
    progress: Progress | None = None,
) -> int:
    total = interviews.count()
    done = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for chunk, events in _chunks(interviews.select_related("campaign__organisation")):
            for interview in chunk:
                data = documents.interview_pdf(
                    interview, language=language, events=events.get(interview.pk, [])
                )
                archive.writestr(documents.pdf_filename(interview), data)
                done += 1
                if progress is not None and (done % 25 == 0 or done == total):
                    progress(done, total)
    return done


# --- The job's work ------------------------------------------------------------------------


def export_build(job: Job, progress: Progress) -> dict[str, Any]:
    """Build the file of an export or print job, store it on the job, and send its link to
    the person who asked. Safe to run again after a killed worker: it starts over and
    writes a new file; the e-mail leaves once (with the job's completion)."""
    from cohorte.messaging import services as messaging

    campaign = (
        Campaign.objects.select_related("organisation")
        .filter(pk=job.payload.get("campaign_id"))
        .first()
    )
    by = job.created_by
    language = by.language if by else settings.LANGUAGE_CODE
    with translation.override(language):
        if campaign is None or by is None:
            return {"failed": True, "error": _("Cette campagne n'existe plus.")}
        interviews = _selection(job, campaign)
        format = job.payload.get("format", XLSX)
        stamp = timezone.now().astimezone(campaign.organisation.tzinfo)
        base = f"entretiens-{slugify(campaign.name) or campaign.pk}-{stamp:%Y%m%d-%H%M}"
        suffix = ".xlsx" if format == XLSX else ".zip"
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            if format == XLSX:
                count = xlsx_write(
                    campaign=campaign,
                    interviews=interviews,
                    path=handle.name,
                    language=language,
                    progress=progress,
                )
            else:
                count = zip_write(
                    interviews=interviews, path=handle.name, language=language, progress=progress
                )
            hours = settings.COHORTE_EXPORT_RETENTION_HOURS
            link = reverse("campaigns:export-file", args=[campaign.pk, job.pk])
            job_file_deliver(
                job,
                handle,
                f"{base}{suffix}",
                count,
                lambda: messaging.system_email(
                    organisation_id=campaign.organisation_id,
                    key="campaign_export_ready",
                    member=by,
                    values={
                        "campaign": campaign.name,
                        "link": messaging.absolute_url(link),
                        "days": max(1, hours // 24),
                    },
                ),
            )
        summary = _(
            "%(n)s entretien(s) exporté(s). Le lien de téléchargement vous a été envoyé par e-mail."
        ) % {"n": count}
        return {"filename": f"{base}{suffix}", "count": count, "summary": summary}
