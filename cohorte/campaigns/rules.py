"""Who may do what to a campaign and to an interview: one place for the pages and the API.

The actor of a circuit step: the collaborator, the manager, the N+2 (named on the interview,
else the manager's own manager in the same campaign — resolved when the step starts), or
HR (the campaign's named person, else any administrator of the organisation). A missing
N+2 falls back to HR, so that no interview is stuck for want of a person.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Campaign, CircuitRole, Interview

if TYPE_CHECKING:
    from cohorte.accounts.models import Member


def is_admin_of(member: Member, campaign: Campaign) -> bool:
    return bool(
        getattr(member, "is_authenticated", False)
        and member.is_active
        and member.is_org_admin
        and member.organisation_id == campaign.organisation_id
    )


def campaign_today(campaign: Campaign) -> dt.date:
    """Today in the organisation's time zone: the day that says a campaign's status."""
    return timezone.now().astimezone(campaign.organisation.tzinfo).date()


def campaign_status(campaign: Campaign) -> str:
    return campaign.status_on(campaign_today(campaign))


def campaigns_visible_to(member: Member) -> QuerySet[Campaign]:
    """Administrators see all their organisation's campaigns; a manager, those where they
    have interviews to hold."""
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        return Campaign.objects.none()
    if member.organisation_id is None:
        return Campaign.objects.none()
    mine = Campaign.objects.filter(organisation_id=member.organisation_id)
    if member.is_org_admin:
        return mine
    return mine.filter(pk__in=Interview.objects.filter(manager=member).values("campaign_id"))


def step_role(interview: Interview) -> str | None:
    step = interview.waiting_step
    return step["role"] if step else None


def hr_acts(member: Member, campaign: Campaign) -> bool:
    if campaign.hr_id is not None:
        return member.pk == campaign.hr_id and member.is_active
    return is_admin_of(member, campaign)


def is_step_actor(member: Member, interview: Interview) -> bool:
    """Whether this member signs (or sends back) the step that waits."""
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    role = step_role(interview)
    if role == CircuitRole.COLLABORATOR:
        return member.pk == interview.collaborator_id
    if role == CircuitRole.MANAGER:
        return member.pk == interview.manager_id
    if role == CircuitRole.SECOND_APPROVER and interview.second_approver_id is not None:
        return member.pk == interview.second_approver_id
    if role in (CircuitRole.HR, CircuitRole.SECOND_APPROVER):
        return hr_acts(member, interview.campaign)
    return False


def may_see_interview(member: Member, interview: Interview) -> bool:
    """The organisation's administrators and the people of its circuit."""
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    campaign = interview.campaign
    if member.organisation_id != campaign.organisation_id:
        return False
    return (
        member.is_org_admin
        or member.pk
        in (interview.collaborator_id, interview.manager_id, interview.second_approver_id)
        or member.pk == campaign.hr_id
    )


def interviews_visible_to(member: Member) -> QuerySet[Interview]:
    """Every interview the member may open (the API's GET /api/interviews/{id})."""
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        return Interview.objects.none()
    if member.organisation_id is None:
        return Interview.objects.none()
    mine = Interview.objects.filter(campaign__organisation_id=member.organisation_id)
    if member.is_org_admin:
        return mine
    return mine.filter(
        Q(collaborator=member)
        | Q(manager=member)
        | Q(second_approver=member)
        | Q(campaign__hr=member)
    )


def interview_of(member: Member, interview_id: int) -> Interview | None:
    """The interview, with what its pages and the API read of it, if this member may see
    it (may_see_interview); None otherwise."""
    interview = (
        Interview.objects.select_related(
            "campaign",
            "campaign__organisation",
            "campaign__hr",
            "collaborator",
            "manager",
            "second_approver",
        )
        .filter(pk=interview_id)
        .first()
    )
    if interview is None or not may_see_interview(member, interview):
        return None
    return interview
