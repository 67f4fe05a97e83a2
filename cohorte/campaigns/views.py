"""Pages of the interview campaigns (« Entretiens › Campagnes d'entretiens »)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from cohorte.accounts.http import MemberRequest

from . import rules, selectors
from .models import Campaign, Interview


def campaign_for(member, campaign_id: int) -> Campaign:
    campaign = (
        rules.campaigns_visible_to(member)
        .select_related("organisation", "created_by")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def interview_for(member, interview_id: int) -> Interview:
    interview = (
        Interview.objects.select_related(
            "campaign", "campaign__organisation", "collaborator", "manager", "second_approver"
        )
        .filter(pk=interview_id)
        .first()
    )
    if interview is None or not rules.may_see_interview(member, interview):
        raise Http404
    return interview


@login_required
def campaign_detail(request: MemberRequest, campaign_id: int) -> HttpResponse:
    campaign = campaign_for(request.user, campaign_id)
    stats = selectors.campaign_stats(campaign)
    return render(request, "campaigns/detail.html", {"campaign": campaign, "stats": stats})


@login_required
def campaign_interviews(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError  # the pages' helper builds it


@login_required
def interview_detail(request: MemberRequest, interview_id: int) -> HttpResponse:
    interview = interview_for(request.user, interview_id)
    return render(request, "campaigns/interview.html", {"interview": interview})
