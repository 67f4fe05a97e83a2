"""« Jetons d'API »: an administrator sees the organisation's tokens and revokes them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from .http import MemberRequest
from .selectors import may_administer_members
from .tokens import tokens_of_organisation, tokens_revoke


def _admin_organisation(request: MemberRequest) -> int:
    if not may_administer_members(request.user) or request.user.organisation_id is None:
        raise Http404("Not an administrator.")
    return request.user.organisation_id


@login_required
def token_list(request: MemberRequest) -> HttpResponse:
    organisation_id = _admin_organisation(request)
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens_of_organisation(organisation_id)[:500]},
    )


@login_required
def token_revoke(request: MemberRequest, token_id: int) -> HttpResponse:
    """GET asks (the page a link or a script without JavaScript lands on), POST revokes."""
    organisation_id = _admin_organisation(request)
    token = get_object_or_404(tokens_of_organisation(organisation_id), pk=token_id)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        if tokens_revoke(tokens=[token], by=request.user, reason="page"):
            messages.success(
                request,
                _("Le jeton %(prefix)s… de %(name)s est révoqué.")
                % {"prefix": token.key_prefix, "name": token.member.full_name},
            )
        return redirect("members:tokens")
    return render(request, "accounts/token_revoke.html", {"token": token})
