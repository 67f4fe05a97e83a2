"""Custom reports: a prepared report's columns chosen and ordered, with its filters, saved
under a name — private, or shared with the organisation's managers — and run again later
with the same definition. Whoever runs one must still see its programme (or be an
administrator, for an organisation-wide one)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.programs.models import Program
from cohorte.programs.selectors import programs_visible_to

from . import exporters
from .models import SavedReport
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
