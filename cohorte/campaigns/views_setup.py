"""« Campagnes d'entretiens »: the list, creating a campaign (population, form, circuit,
reminder rules), the organisation's interview types."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from cohorte.accounts.http import MemberRequest

from . import rules


@login_required
def campaign_list(request: MemberRequest) -> HttpResponse:
    campaigns = rules.campaigns_visible_to(request.user).select_related("created_by")[:500]
    return render(request, "campaigns/list.html", {"campaigns": campaigns})


@login_required
def campaign_create(request: MemberRequest) -> HttpResponse:
    raise NotImplementedError  # the setup pages' helper builds it


@login_required
def campaign_types(request: MemberRequest) -> HttpResponse:
    raise NotImplementedError
