"""« Relancer les managers »: by status from the statistics, or one manager."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from cohorte.accounts.http import MemberRequest


@login_required
def remind(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError  # the reminders' helper builds it


@login_required
def remind_manager(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError
