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
from .prepared import PREPARED, Scope, filters_clean

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


def may_change(member: Member, saved: SavedReport) -> bool:
    """Its owner changes or deletes a saved report; so may an administrator of its
    organisation (a shared one left behind by someone who has gone)."""
    if not member.is_authenticated or not member.is_active:
        return False
    if saved.owner_id == member.pk:
        return True
    return bool(member.is_org_admin and member.organisation_id == saved.organisation_id)


def _definition_errors(
    *,
    by: Member,
    name: str,
    report: str,
    program: Program | None,
    columns: list[str],
    filters: Any,
) -> tuple[str, dict[str, str], dict[str, list[str]]]:
    """The name as stored, the filters as stored, and what is wrong, by field."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    organisation = program.organisation if program is not None else by.organisation
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Donnez un nom au rapport.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("%(n)d caractères au plus.") % {"n": NAME_MAX}]
    elif not name.isprintable():
        errors["name"] = [_("Le nom ne peut contenir que des caractères imprimables.")]
    prepared = PREPARED.get(report)
    if prepared is None or organisation is None:
        errors["report"] = [_("Rapport inconnu.")]
    else:
        scope = Scope(organisation=organisation, program=program, by=by)
        known = prepared.columns(scope)
        if not columns:
            errors["columns"] = [_("Choisissez au moins une colonne.")]
        unknown = exporters.unknown_columns(known, columns)
        if unknown:
            errors["columns"] = [
                _("Colonne inconnue : %(key)s.") % {"key": _printable(key)} for key in unknown
            ]
        clean, problems = filters_clean(prepared, filters or {}, organisation=organisation, by=by)
        if problems:
            errors["filters"] = problems
    return name, clean, errors


def _printable(text: object) -> str:
    return "".join(ch for ch in str(text) if ch.isprintable())[:60]


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
    name, clean, errors = _definition_errors(
        by=by, name=name, report=report, program=program, columns=columns, filters=filters
    )
    organisation = program.organisation if program is not None else by.organisation
    if errors or organisation is None:
        raise ValidationError(errors or {"report": [_("Rapport inconnu.")]})
    saved = SavedReport.objects.create(
        organisation=organisation,
        owner=by,
        name=name,
        report=report,
        program=program,
        columns=list(dict.fromkeys(columns)),
        filters=clean,
        shared=shared,
    )
    log_action(
        "report.saved",
        actor=by,
        target=saved,
        data={"report": report, "columns": saved.columns, "filters": clean, "shared": shared},
    )
    return saved


def saved_report_update(
    *,
    saved: SavedReport,
    by: Member,
    name: str,
    columns: list[str],
    filters: dict[str, Any] | None,
    shared: bool,
) -> SavedReport:
    """Rename it, or change its columns, filters and sharing: its owner (or an
    administrator). A schedule keeps running with the new definition."""
    if not may_change(by, saved):
        raise ValidationError(
            {"report": [_("Seul l'auteur du rapport, ou un administrateur, le modifie.")]}
        )
    # checked as its owner sees the report: the definition runs as theirs (an
    # administrator's edit may not give it a column or a filter its owner cannot have)
    name, clean, errors = _definition_errors(
        by=saved.owner,
        name=name,
        report=saved.report,
        program=saved.program,
        columns=columns,
        filters=filters,
    )
    if errors:
        raise ValidationError(errors)
    old = {
        "name": saved.name,
        "columns": saved.columns,
        "filters": saved.filters,
        "shared": saved.shared,
    }
    saved.name = name
    saved.columns = list(dict.fromkeys(columns))
    saved.filters = clean
    saved.shared = shared
    saved.save(update_fields=["name", "columns", "filters", "shared", "updated_at"])
    new = {"name": name, "columns": saved.columns, "filters": clean, "shared": shared}
    log_action("report.updated", actor=by, target=saved, data={"old": old, "new": new})
    return saved


def saved_report_delete(*, saved: SavedReport, by: Member) -> None:
    """Delete it, its schedule with it: its owner (or an administrator). The files of
    runs already made stay until they expire."""
    if not may_change(by, saved):
        raise ValidationError(
            {"report": [_("Seul l'auteur du rapport, ou un administrateur, le supprime.")]}
        )
    with transaction.atomic():
        log_action(
            "report.deleted",
            actor=by,
            target=saved,
            data={"name": saved.name, "report": saved.report, "owner": saved.owner_id},
        )
        saved.delete()


# --- Scheduled reports -------------------------------------------------------------------

#: runs failed in a row after which a schedule stops (its owner sets it again)
FAILURES_MAX = 5
#: schedules taken at one tick
DUE_BATCH = 100


#: the hour a scheduled report leaves, in the organisation's time zone
SEND_AT = dt.time(7, 0)
#: a monthly report's day: 1 to 28, so that every month has it
MONTH_DAY_MAX = 28


def _next_run(
    schedule: str, after: dt.datetime, *, day: int | None = None, tz: dt.tzinfo = dt.UTC
) -> dt.datetime:
    """The next sending after `after`: on a weekday (0 Monday … 6 Sunday) or a day of the
    month at SEND_AT in the organisation's zone; without a day, a week or a month later."""
    if day is None:
        if schedule == Schedule.WEEKLY:
            return after + dt.timedelta(days=7)
        month = after.month % 12 + 1
        year = after.year + (after.month == 12)
        last = calendar.monthrange(year, month)[1]
        return after.replace(year=year, month=month, day=min(after.day, last))
    local = after.astimezone(tz).date()
    if schedule == Schedule.WEEKLY:
        for offset in range(8):
            date = local + dt.timedelta(days=offset)
            moment = dt.datetime.combine(date, SEND_AT, tzinfo=tz)
            if date.weekday() == day and moment > after:
                return moment
    year, month = local.year, local.month
    for _step in range(3):
        moment = dt.datetime.combine(dt.date(year, month, day), SEND_AT, tzinfo=tz)
        if moment > after:
            return moment
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError(day)  # cannot happen: a day ≤ 28 comes within two months


def saved_report_schedule(
    *,
    saved: SavedReport,
    by: Member,
    schedule: str,
    format: str,
    recipients: list[Member],
    day: int | None = None,
    now: dt.datetime | None = None,
) -> SavedReport:
    """Its owner e-mails it weekly or monthly to chosen people, each of whom must be able
    to run it (a manager of its programme, or an administrator); « » stops it. `day`: the
    weekday (0 Monday … 6 Sunday) or the day of the month (1 … 28) it leaves."""
    errors: dict[str, list[str]] = {}
    if day is not None and schedule == Schedule.WEEKLY and not 0 <= day <= 6:
        errors["day"] = [_("Jour de la semaine inconnu.")]
    if day is not None and schedule == Schedule.MONTHLY and not 1 <= day <= MONTH_DAY_MAX:
        errors["day"] = [
            _("Jour du mois entre 1 et %(n)d (chaque mois l'a).") % {"n": MONTH_DAY_MAX}
        ]
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
    tz = saved.organisation.tzinfo
    saved.schedule = schedule
    saved.schedule_format = format
    saved.schedule_day = day if schedule else None
    saved.next_run_at = _next_run(schedule, now, day=day, tz=tz) if schedule else None
    saved.failures = 0
    saved.stopped_at = None
    saved.save(
        update_fields=[
            "schedule",
            "schedule_format",
            "schedule_day",
            "next_run_at",
            "failures",
            "stopped_at",
            "updated_at",
        ]
    )
    saved.recipients.set(recipients if schedule else [])
    log_action(
        "report.scheduled" if schedule else "report.schedule_stopped",
        actor=by,
        target=saved,
        data={
            "schedule": schedule,
            "format": format,
            "day": day,
            "recipients": [m.pk for m in recipients] if schedule else [],
        },
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
                .select_related("owner", "program", "organisation")
                .filter(pk=saved_id, next_run_at__lte=now, stopped_at__isnull=True)
                .first()
            )
            if saved is None or not saved.schedule:
                continue
            tz = saved.organisation.tzinfo
            saved.next_run_at = _next_run(saved.schedule, now, day=saved.schedule_day, tz=tz)
            saved.last_run_at = now
            saved.save(update_fields=["next_run_at", "last_run_at"])
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
