"""POST /api/campaigns/{id}/reminders: « Relancer » for a status, as the statistics' window
does it — one e-mail per manager listing only their interviews in that status, none to
those excluded or with none. Administrators of the campaign's organisation only (403 for a
manager of the campaign, 404 for anyone who cannot see it). A retry within a minute sends
nothing twice and answers with what was sent; with an `Idempotency-Key` header, the same
key answers with what its first request sent, however late (409 if it asked for another
status). Archived or deactivated managers are listed in `skipped`, never e-mailed."""

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


class SkippedOut(Schema):
    manager_email: str
    #: "inactive" (deactivated) or "archived": they receive no e-mail
    reason: str


class RemindersOut(Schema):
    reminded: list[RemindedOut]
    skipped: list[SkippedOut] = []


@router.post(
    "/{int:campaign_id}/reminders",
    response={200: RemindersOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
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
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > reminders.KEY_MAX or not all(" " <= char <= "~" for char in key):
        message = _("Idempotency-Key : %(n)s caractères ASCII imprimables au plus.") % {
            "n": reminders.KEY_MAX
        }
        return Status(400, {"message": message, "errors": []})
    try:
        result = reminders.managers_remind(
            campaign=campaign,
            status=payload.status,
            by=request.auth,
            exclude=payload.exclude,
            key=key.strip(),
        )
    except PermissionDenied:
        return denied
    except reminders.KeyReused:
        message = _("Cette clé Idempotency-Key a déjà servi à relancer un autre statut.")
        return Status(409, {"message": message, "errors": []})
    return {
        "reminded": [
            {"manager_email": r.manager.email, "interviews": r.interview_ids}
            for r in result.reminded
        ],
        "skipped": [{"manager_email": s.manager.email, "reason": s.reason} for s in result.skipped],
    }
