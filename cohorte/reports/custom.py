"""Custom reports: a prepared report's columns chosen and ordered, with its filters, saved
under a name — private, or shared with the organisation's managers — and run again later
with the same definition. Whoever runs one must still see its programme (or be an
administrator, for an organisation-wide one). Its owner may have it e-mailed every week or
month to chosen managers: skipped when empty, stopped after FAILURES_MAX failures in a
row, the owner's permission checked again at every run."""

import calendar
import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.programs.models import Program
from cohorte.programs.selectors import programs_visible_to

from . import exporters, runs
from .models import SavedReport, Schedule
from .prepared import PREPARED, Scope, filters_problems

NAME_MAX = 120
PREFIX = "saved-"


def saved_reports_visible_to(member: Member, *, program: Program | None = None) -> QuerySet:
    """One's own and the shared ones of one's organisation, on programmes one still sees
    (organisation-wide ones: administrators only)."""
    if not member.is_authenticated or not member.is_active or member.organisation_id is None:
        return SavedReport.objects.none()
    rows = SavedReport.objects.filter(organisation_id=member.organisation_id).filter(
        Q(owner=member) | Q(shared=True)
    )
    scope = Q(program__in=programs_visible_to(member))
    if member.is_org_admin:
        scope |= Q(program__isnull=True)
    rows = rows.filter(scope)
    if program is not None:
        rows = rows.filter(program=program)
    return rows.select_related("program", "owner")


def saved_report_of(member: Member, key: str) -> SavedReport | None:
    """« saved-<id> » if this member may run it."""
    if not key.startswith(PREFIX) or not key[len(PREFIX) :].isascii():
        return None
    digits = key[len(PREFIX) :]
    if not digits.isdigit() or len(digits) > 10:
        return None
    return saved_reports_visible_to(member).filter(pk=int(digits)).first()


def saved_report_save(
    *,
    by: Member,
    name: str,
    report: str,
    program: Program | None,
    columns: list[str],
    filters: dict[str, Any] | None = None,
    shared: bool = False,
) -> SavedReport:
    """Check and save a definition (the caller checked that `by` sees the programme, or is
    an administrator for an organisation-wide one)."""
    errors: dict[str, list[str]] = {}
    organisation = program.organisation if program is not None else by.organisation
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Donnez un nom au rapport.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("%(n)d caractères au plus.") % {"n": NAME_MAX}]
    prepared = PREPARED.get(report)
    if prepared is None:
        errors["report"] = [_("Rapport inconnu.")]
    else:
        if organisation is None:
            errors["report"] = [_("Rapport inconnu.")]
        else:
            scope = Scope(organisation=organisation, program=program, by=by)
            known = prepared.columns(scope)
            if not columns:
                errors["columns"] = [_("Choisissez au moins une colonne.")]
            unknown = exporters.unknown_columns(known, columns)
            if unknown:
                errors["columns"] = [
                    _("Colonne inconnue : %(key)s.") % {"key": key} for key in unknown
                ]
            problems = filters_problems(prepared, filters or {})
            if problems:
                errors["filters"] = problems
    if errors or organisation is None:
        raise ValidationError(errors or {"report": [_("Rapport inconnu.")]})
    saved = SavedReport.objects.create(
        organisation=organisation,
        owner=by,
        name=name,
        report=report,
        program=program,
        columns=list(dict.fromkeys(columns)),
        filters=dict(filters or {}),
        shared=shared,
    )
    log_action(
        "report.saved",
        actor=by,
        target=saved,
        data={"report": report, "columns": saved.columns, "shared": shared},
    )
    return saved


# --- Scheduled reports -------------------------------------------------------------------

#: runs failed in a row after which a schedule stops (its owner sets it again)
FAILURES_MAX = 5
#: schedules taken at one tick
DUE_BATCH = 100


def _next_run(schedule: str, after: dt.datetime) -> dt.datetime:
    if schedule == Schedule.WEEKLY:
        return after + dt.timedelta(days=7)
    month = after.month % 12 + 1
    year = after.year + (after.month == 12)
    day = min(after.day, calendar.monthrange(year, month)[1])
    return after.replace(year=year, month=month, day=day)


def saved_report_schedule(
    *,
    saved: SavedReport,
    by: Member,
    schedule: str,
    format: str,
    recipients: list[Member],
    now: dt.datetime | None = None,
) -> SavedReport:
    """Its owner e-mails it weekly or monthly to chosen people, each of whom must be able
    to run it (a manager of its programme, or an administrator); « » stops it."""
    errors: dict[str, list[str]] = {}
    if saved.owner_id != by.pk:
        errors["schedule"] = [_("Seul l'auteur du rapport en programme l'envoi.")]
    if schedule not in Schedule.values:
        errors["schedule"] = [_("Fréquence inconnue.")]
    if format not in exporters.FORMATS:
        errors["format"] = [_("Format inconnu.")]
    refused = [m.email for m in recipients if not runs.may_run(by=m, program=saved.program)]
    if refused:
        errors["recipients"] = [
            _("Ne peuvent pas voir ce rapport : %(emails)s.") % {"emails": ", ".join(refused)}
        ]
    if schedule and not recipients:
        errors.setdefault("recipients", []).append(_("Choisissez au moins un destinataire."))
    if errors:
        raise ValidationError(errors)
    now = now or timezone.now()
    saved.schedule = schedule
    saved.schedule_format = format
    saved.next_run_at = _next_run(schedule, now) if schedule else None
    saved.failures = 0
    saved.stopped_at = None
    saved.save(
        update_fields=[
            "schedule",
            "schedule_format",
            "next_run_at",
            "failures",
            "stopped_at",
            "updated_at",
        ]
    )
    saved.recipients.set(recipients)
    log_action(
        "report.scheduled",
        actor=by,
        target=saved,
        data={"schedule": schedule, "format": format, "recipients": [m.pk for m in recipients]},
    )
    return saved


def saved_report_failed(saved_id: int, *, now: dt.datetime) -> None:
    """One more failure in a row; the schedule stops at FAILURES_MAX."""
    SavedReport.objects.filter(pk=saved_id).update(failures=F("failures") + 1)
    SavedReport.objects.filter(
        pk=saved_id, failures__gte=FAILURES_MAX, stopped_at__isnull=True
    ).update(stopped_at=now)


def saved_report_succeeded(saved_id: int) -> None:
    SavedReport.objects.filter(pk=saved_id).exclude(failures=0).update(failures=0)


def scheduled_reports_run(*, now: dt.datetime | None = None) -> int:
    """Every schedule that is due starts one run per recipient who may still see it (the
    worker's clock calls this). Its next date moves first, in the same transaction, so a
    second tick does not send it twice; the owner's permission is checked again: without
    it, the run counts as failed. An empty report is not e-mailed (runs.report_run_build)."""
    now = now or timezone.now()
    started = 0
    due = SavedReport.objects.filter(
        ~Q(schedule=""), next_run_at__lte=now, stopped_at__isnull=True
    ).values_list("pk", flat=True)
    for saved_id in list(due[:DUE_BATCH]):
        with transaction.atomic():
            saved = (
                SavedReport.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("owner", "program")
                .filter(pk=saved_id, next_run_at__lte=now, stopped_at__isnull=True)
                .first()
            )
            if saved is None or not saved.schedule:
                continue
            saved.next_run_at = _next_run(saved.schedule, now)
            saved.save(update_fields=["next_run_at"])
            if not runs.may_run(by=saved.owner, program=saved.program):
                saved_report_failed(saved.pk, now=now)
                continue
            for recipient in saved.recipients.filter(is_active=True):
                if not runs.may_run(by=recipient, program=saved.program):
                    continue
                runs.report_run_request(
                    name=saved.report,
                    format=saved.schedule_format or exporters.XLSX,
                    by=recipient,
                    program=saved.program,
                    filters=saved.filters,
                    columns=saved.columns,
                    saved=saved,
                    scheduled=True,
                )
                started += 1
    return started
