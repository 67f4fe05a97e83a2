"""Who a new campaign interviews: lines {collaborator_email, manager_email,
second_approver_email, name, why, line} from a CSV/XLSX, a group, a cohort, a tag, or the
law's calendar (legal.py), checked as a whole before anything is created (the pre-flight),
then created with the campaign in one transaction.

Where the manager comes from: the file says it; for a group, cohort or tag it is proposed
from the collaborator's last interview in the organisation (the manager then, and the N+2
named then), else from a running manager ↔ collaborator relationship of an interview
programme; whoever has none is shown without one, to be filled in on the spot.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.tabular import TableError, iter_table
from cohorte.programs.models import (
    PARTICIPANT_ROLES,
    Cohort,
    Enrolment,
    Group,
    Organisation,
    ProgramKind,
)

from . import legal, services
from .models import Campaign, CampaignKind, FormTemplate, Interview, InterviewStatus

#: the largest upload read (a CSV of 10,000 lines is well under a megabyte)
MAX_FILE_BYTES = 5 * 1024 * 1024

Line = dict[str, Any]


def _limit() -> int:
    return int(settings.COHORTE_IMPORT_MAX_ROWS)


# --- From a file ------------------------------------------------------------------------------


def _column_name(cell: str) -> str:
    text = unicodedata.normalize("NFKD", cell).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9+]", "", text)


def _columns(header: list[str]) -> dict[str, int]:
    """Which column holds what: « Courriel collaborateur », « collaborator_email »,
    « Manager », « Responsable », « N+2 »…"""
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _column_name(cell)
        if not name:
            continue
        if "n+2" in name or name.startswith("n2") or "second" in name:
            found.setdefault("second_approver_email", index)
        elif "collab" in name:
            found.setdefault("collaborator_email", index)
        elif "manager" in name or "responsable" in name:
            found.setdefault("manager_email", index)
    return found


def lines_from_file(data: bytes, filename: str) -> list[Line]:
    """The lines of an uploaded CSV or .xlsx (a header row, then one collaborator a row),
    read row by row within the house's bounds; TableError says what is wrong with it."""
    if len(data) > MAX_FILE_BYTES:
        raise TableError(
            _("Le fichier dépasse %(n)s Mo : découpez-le en plusieurs fichiers.")
            % {"n": MAX_FILE_BYTES // (1024 * 1024)}
        )
    header, rows = iter_table(data, filename)
    columns = _columns(header)
    if "collaborator_email" not in columns or "manager_email" not in columns:
        raise TableError(
            _(
                "La première ligne doit nommer les colonnes « collaborateur » et « manager » "
                "(et, si besoin, « N+2 ») ; trouvé : %(found)s."
            )
            % {"found": ", ".join(cell for cell in header if cell) or "—"}
        )
    lines: list[Line] = []
    for number, cells in rows:

        def cell(field: str, cells: list[str] = cells) -> str:
            index = columns.get(field)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        lines.append(
            {
                "collaborator_email": cell("collaborator_email"),
                "manager_email": cell("manager_email"),
                "second_approver_email": cell("second_approver_email"),
                "line": number,
            }
        )
    if not lines:
        raise TableError(_("Le fichier ne contient aucune ligne après celle des colonnes."))
    return lines


# --- From the organisation's people ------------------------------------------------------------


def _group_ids(organisation: Organisation, group_id: int) -> list[int]:
    """The group and every group under it (one query for the tree)."""
    parents = dict(Group.objects.filter(organisation=organisation).values_list("pk", "parent_id"))
    if group_id not in parents:
        return []
    ids, frontier = [group_id], [group_id]
    while frontier:
        frontier = [pk for pk, parent in parents.items() if parent in frontier]
        ids += frontier
    return ids


def _with_suggestions(organisation: Organisation, members: QuerySet[Member]) -> list[Line]:
    """Each member with the manager (and N+2) proposed for them, in one query."""
    last = (
        Interview.objects.filter(collaborator=OuterRef("pk"), campaign__organisation=organisation)
        .exclude(status=InterviewStatus.DELETED)
        .order_by("-created_at", "-pk")
    )
    from cohorte.meetings.models import Relationship

    related = Relationship.objects.filter(
        mentee=OuterRef("pk"),
        program__organisation=organisation,
        program__kind=ProgramKind.INTERVIEW_CAMPAIGN,
        ended_at__isnull=True,
    ).order_by("-created_at", "-pk")
    rows = (
        members.annotate(
            last_manager=Subquery(last.values("manager__email")[:1]),
            last_second=Subquery(last.values("second_approver__email")[:1]),
            related_manager=Subquery(related.values("mentor__email")[:1]),
        )
        .order_by("last_name", "first_name", "pk")
        .values(
            "email", "first_name", "last_name", "last_manager", "last_second", "related_manager"
        )
    )
    lines = []
    for row in rows[: _limit() + 1]:
        lines.append(
            {
                "collaborator_email": row["email"],
                "manager_email": row["last_manager"] or row["related_manager"] or "",
                "second_approver_email": row["last_second"] or "",
                "name": f"{row['first_name']} {row['last_name']}".strip(),
            }
        )
    return lines


def _bounded(lines: list[Line]) -> list[Line]:
    if len(lines) > _limit():
        raise TableError(
            _("Plus de %(n)s collaborateurs : choisissez une population plus petite.")
            % {"n": _limit()}
        )
    return lines


def lines_from_group(organisation: Organisation, group_id: int) -> list[Line]:
    """The participants (collaborators, participants, mentees) of every programme of the
    group and of the groups under it."""
    ids = _group_ids(organisation, group_id)
    enrolled = Enrolment.objects.filter(
        member=OuterRef("pk"),
        program__group_id__in=ids,
        ended_at__isnull=True,
        role__in=PARTICIPANT_ROLES,
    )
    members = Member.objects.filter(organisation=organisation).filter(Exists(enrolled))
    return _bounded(_with_suggestions(organisation, members))


def lines_from_cohort(organisation: Organisation, cohort_id: int, kind: str) -> list[Line]:
    cohort = Cohort.objects.filter(organisation=organisation, pk=cohort_id, kind=kind).first()
    if cohort is None:
        return []
    members = Member.objects.filter(organisation=organisation, cohorts=cohort)
    return _bounded(_with_suggestions(organisation, members))


def cohort_choices(organisation: Organisation, kind: str) -> list[tuple[int, str]]:
    return list(
        Cohort.objects.filter(organisation=organisation, kind=kind)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def group_choices(organisation: Organisation) -> list[tuple[int, str]]:
    return list(
        Group.objects.filter(organisation=organisation)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def lines_legal(organisation: Organisation, *, start: dt.date, end: dt.date) -> list[Line]:
    """« Proposer la population légale »: the active members with a hire date whose
    professional interview is due by the campaign's last day (overdue ones too), each
    with why; the last one is their last closed interview of a « professionnel » campaign."""
    tz = organisation.tzinfo
    last = (
        Interview.objects.filter(
            collaborator=OuterRef("pk"),
            status=InterviewStatus.CLOSED,
            campaign__organisation=organisation,
            campaign__kind=CampaignKind.PROFESSIONAL,
        )
        .order_by()
        .values("collaborator")
        .annotate(at=Max(Coalesce("held_at", "closed_at")))
        .values("at")
    )
    members = Member.objects.filter(
        organisation=organisation,
        is_active=True,
        archived_at__isnull=True,
        hired_on__isnull=False,
        hired_on__lte=end,
    ).annotate(last_at=Subquery(last[:1]))
    due_of: dict[str, legal.Due] = {}
    for email, hired_on, last_at in members.values_list("email", "hired_on", "last_at"):
        last_on = last_at.astimezone(tz).date() if last_at else None
        due = legal.due_by(hired_on=hired_on, last_interview_on=last_on, end=end)
        if due is not None:
            due_of[email] = due
    lines = _with_suggestions(organisation, Member.objects.filter(email__in=list(due_of)))
    for line in lines:
        due = due_of[line["collaborator_email"]]
        line["why"] = due.label
        line["due_on"] = due.on.isoformat()
        line["overdue"] = due.on < start
    return _bounded(lines)


# --- The pre-flight and the creation ----------------------------------------------------------


def line_errors(lines: Sequence[Line], errors: Sequence[dict[str, Any]]) -> dict[int, list[dict]]:
    by_index: dict[int, list[dict]] = {}
    for error in errors:
        by_index.setdefault(error["index"], []).append(error)
    return by_index


def _interview_lines(lines: Sequence[Line]) -> list[dict[str, str]]:
    return [
        {
            "collaborator_email": line.get("collaborator_email") or "",
            "manager_email": line.get("manager_email") or "",
            "second_approver_email": line.get("second_approver_email") or "",
        }
        for line in lines
    ]


def _create(
    *, organisation: Organisation, by: Member, campaign: dict[str, Any], template_name: str
) -> Campaign:
    made = services.campaign_create(organisation=organisation, by=by, **campaign)
    if template_name:
        template_save(organisation=organisation, by=by, name=template_name, sections=made.form)
    return made


def population_check(
    *,
    organisation: Organisation,
    by: Member,
    campaign: dict[str, Any],
    lines: Sequence[Line],
) -> list[dict[str, Any]]:
    """The pre-flight: the campaign made and its lines checked in a transaction rolled back
    at the end, so that nothing exists afterwards. Errors of the campaign's own fields
    raise ValidationError; the lines' errors are returned, by index."""
    with transaction.atomic():
        made = services.campaign_create(organisation=organisation, by=by, **campaign)
        errors, _found = services.interviews_check(campaign=made, lines=_interview_lines(lines))
        transaction.set_rollback(True)
    return errors


@transaction.atomic
def campaign_with_population(
    *,
    organisation: Organisation,
    by: Member,
    campaign: dict[str, Any],
    lines: Sequence[Line],
    template_name: str = "",
) -> Campaign:
    """« Créer la campagne »: the campaign and its interviews, or nothing (BadLines)."""
    made = _create(organisation=organisation, by=by, campaign=campaign, template_name=template_name)
    if lines:
        services.interviews_add(campaign=made, by=by, lines=_interview_lines(lines))
    return made


def template_save(
    *, organisation: Organisation, by: Member, name: str, sections: Any
) -> FormTemplate:
    """« Enregistrer comme modèle »: the form kept to start other campaigns from."""
    template = FormTemplate.objects.create(
        organisation=organisation,
        name=name.strip()[:200],
        sections=services.form_clean(sections),
        created_by=by,
    )
    log_action("campaign.template_saved", actor=by, target=template, data={"name": template.name})
    return template


def templates_of(organisation: Organisation) -> QuerySet[FormTemplate]:
    return FormTemplate.objects.filter(organisation=organisation).order_by("name", "pk")
