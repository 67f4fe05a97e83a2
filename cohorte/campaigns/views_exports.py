"""« Autres actions »: export the interviews (Excel, PDF), print, delete the campaign."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse

from cohorte.accounts.http import MemberRequest


@login_required
def export(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError  # the exports' helper builds it


@login_required
def print_pdfs(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError


@login_required
def campaign_delete(request: MemberRequest, campaign_id: int) -> HttpResponse:
    raise NotImplementedError


@login_required
def interview_pdf(request: MemberRequest, interview_id: int) -> HttpResponse:
    raise NotImplementedError
