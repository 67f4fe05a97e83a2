"""Reads over campaigns: the statistics, the interviews by manager, what waits for whom.
Counted by the database: one query for the six figures, one for a page of interviews."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from cohorte.core.parse import search_words
from cohorte.core.todo import TodoItem

from .models import Campaign, CircuitRole, Interview, InterviewStatus

if TYPE_CHECKING:
    from cohorte.accounts.models import Member


def campaign_stats(campaign: Campaign, *, manager: Member | None = None) -> dict[str, int]:
    """A count for each of the six statuses (deleted ones still counted), in one query."""
    rows = Interview.objects.filter(campaign=campaign)
    if manager is not None:
        rows = rows.filter(manager=manager)
    counted = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counted.get(status, 0) for status in InterviewStatus.values}


def interviews_of(
    campaign: Campaign,
    *,
    status: str | None = None,
    manager_email: str | None = None,
    q: str = "",
    manager: Member | None = None,
) -> QuerySet[Interview]:
    """The campaign's interviews « classés par responsable »: by manager's name, then by
    collaborator; filtered by status, manager and a search on the collaborator."""
    rows = Interview.objects.filter(campaign=campaign).select_related("collaborator", "manager")
    if manager is not None:
        rows = rows.filter(manager=manager)
    if status:
        rows = rows.filter(status=status)
    if manager_email:
        rows = rows.filter(manager__email__iexact=manager_email.strip())
    for word in search_words(q):
        rows = rows.filter(
            Q(collaborator__first_name__icontains=word)
            | Q(collaborator__last_name__icontains=word)
            | Q(collaborator__email__icontains=word)
        )
    return rows.order_by(
        "manager__last_name", "manager__first_name", "manager_id",
        "collaborator__last_name", "collaborator__first_name", "pk",
    )  # fmt: skip


def reminder_recipients(campaign: Campaign, status: str) -> list[dict]:
    """« Relancer » for a status: each manager with interviews in it, how many, when they
    were last reminded in this campaign and, for an archived or deactivated one, why they
    will receive nothing — two queries, whatever the campaign's size."""
    from django.db.models import Max

    from cohorte.accounts.models import Member

    from .models import ManagerReminder

    # the filter before the count: only the interviews of this campaign in this status
    managers = list(
        Member.objects.filter(interviews_held__campaign=campaign, interviews_held__status=status)
        .annotate(n=Count("interviews_held"))
        .only("pk", "email", "first_name", "last_name", "language", "is_active", "archived_at")
        .order_by("last_name", "first_name", "pk")
    )
    # the managers as a subquery, not a list of 2,000 ids: such a list costs more to send
    # (and, for the driver, to build) than the query takes to run
    concerned = Interview.objects.filter(campaign=campaign, status=status).values("manager_id")
    last = dict(
        ManagerReminder.objects.filter(campaign=campaign, manager_id__in=concerned)
        .order_by()
        .values_list("manager_id")
        .annotate(at=Max("at"))
    )
    from .reminders import unreachable_reason

    return [
        {
            "manager": m,
            "count": m.n,  # type: ignore[attr-defined]
            "last_reminded_at": last.get(m.pk),
            "unreachable": unreachable_reason(m),
        }
        for m in managers
    ]


def _steps_people(member: Member) -> Q:
    """The interviews where the member may be the one whose step waits."""
    people = Q(collaborator=member) | Q(manager=member) | Q(second_approver=member)
    people |= Q(campaign__hr=member)
    if member.is_org_admin:
        people |= Q(campaign__hr__isnull=True, campaign__organisation_id=member.organisation_id)
    return people


def steps_waiting_for(member: Member) -> QuerySet[Interview]:
    """The closing interviews where the member is one of the people of the circuit; the
    circuit is JSON, so whose turn it is is decided per row (rules.is_step_actor) on this
    bounded set."""
    if not getattr(member, "pk", None):
        return Interview.objects.none()
    return (
        Interview.objects.filter(_steps_people(member), status=InterviewStatus.CLOSING)
        .select_related("campaign", "campaign__organisation", "collaborator", "manager")
        .order_by("step_started_at", "pk")
    )


def interview_todo_items(member: Member) -> list[TodoItem]:
    """« À faire »: interviews to plan and to write up (the manager), and circuit steps to
    sign (whoever's turn it is). One query, at most 20 items of each kind."""
    from .rules import is_step_actor

    if not getattr(member, "pk", None) or not member.is_active:
        return []
    rows = (
        Interview.objects.filter(
            Q(manager=member, status__in=[InterviewStatus.NOT_PLANNED, InterviewStatus.HELD])
            | Q(_steps_people(member), status=InterviewStatus.CLOSING)
        )
        .select_related("campaign", "campaign__organisation", "collaborator", "manager")
        .order_by("step_started_at", "campaign__end_date", "pk")[:300]
    )
    managed: list[TodoItem] = []
    signing: list[TodoItem] = []
    for interview in rows:
        name = interview.collaborator.full_name
        url = reverse("campaigns:interview", args=[interview.pk])
        if interview.status != InterviewStatus.CLOSING:
            if len(managed) >= 20:
                continue
            if interview.status == InterviewStatus.NOT_PLANNED:
                title = _("Planifiez l'entretien de %(name)s") % {"name": name}
            else:
                title = _("Rédigez le compte-rendu de l'entretien de %(name)s") % {"name": name}
            managed.append(
                TodoItem(kind="interview", title=title, url=url, detail=interview.campaign.name)
            )
        elif len(signing) < 20 and is_step_actor(member, interview):
            role = interview.waiting_step["role"] if interview.waiting_step else ""
            label = CircuitRole(role).label if role in CircuitRole.values else ""
            signing.append(
                TodoItem(
                    kind="interview",
                    title=_("Signez l'entretien de %(name)s (%(step)s)")
                    % {"name": name, "step": label},
                    url=url,
                    due_at=interview.step_due_at(),
                    detail=interview.campaign.name,
                )
            )
    return managed + signing
