"""POST /api/campaigns/{id}/reminders: « Relancer » for a status, as the statistics' window
does it — one e-mail per manager listing only their interviews in that status, none to
those excluded or with none. Administrators of the campaign's organisation only (403 for a
manager of the campaign, 404 for anyone who cannot see it). A retry within a minute sends
nothing twice and answers with what was sent."""

from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import StringConstraints

from cohorte.core.api import ErrorOut
from cohorte.core.parse import ApiId

from . import reminders, rules

router = Router(tags=["campagnes"])

Email = Annotated[str, StringConstraints(max_length=reminders.MAX_EMAIL)]


class RemindersIn(Schema):
    status: Literal["not_planned", "planned", "held", "closing", "closed", "deleted"]
    #: managers' e-mails not to remind
    exclude: list[Email] = Field([], max_length=reminders.MAX_EXCLUDED)


class RemindedOut(Schema):
    manager_email: str
    #: the ids of the interviews their e-mail listed
    interviews: list[int]


class RemindersOut(Schema):
    reminded: list[RemindedOut]


@router.post(
    "/{int:campaign_id}/reminders",
    response={200: RemindersOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def campaign_reminders(request, campaign_id: ApiId, payload: RemindersIn):
    campaign = (
        rules.campaigns_visible_to(request.auth)
        .select_related("organisation")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise Http404("No such campaign.")
    denied = Status(
        403, {"message": _("Seul un administrateur relance les managers."), "errors": []}
    )
    if not rules.is_admin_of(request.auth, campaign):
        return denied
    try:
        result = reminders.managers_remind(
            campaign=campaign, status=payload.status, by=request.auth, exclude=payload.exclude
        )
    except PermissionDenied:
        return denied
    return {
        "reminded": [
            {"manager_email": r.manager.email, "interviews": r.interview_ids}
            for r in result.reminded
        ]
    }
