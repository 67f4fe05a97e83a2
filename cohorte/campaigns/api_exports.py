"""POST /api/campaigns/{id}/exports {format: "xlsx" | "pdf"}: an export of the campaign's
interviews as a background job (202); its file reaches the requester by e-mail, as from
the page. Administrators of the campaign's organisation only: a campaign of another
organisation is not found (404), a manager who sees the campaign is refused (403). The
same export asked again while it runs answers the running job."""

from typing import Literal

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from cohorte.core.api import ErrorOut
from cohorte.core.models import Job
from cohorte.messaging.services import absolute_url

from . import exports, rules
from .models import Campaign

router = Router(tags=["entretiens"])


class ExportIn(Schema):
    format: Literal["xlsx", "pdf"]


class JobOut(Schema):
    id: int
    kind: str
    status: str
    done: int
    total: int
    #: the job's progress page (polled by the pages)
    status_url: str


def job_out(job: Job) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "status_url": absolute_url(reverse("core:job", args=[job.pk])),
    }


@router.post(
    "/{int:campaign_id}/exports",
    response={202: JobOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def campaign_export(request, campaign_id: int, body: ExportIn):
    campaign = rules.campaigns_visible_to(request.auth).filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404
    campaign = Campaign.objects.select_related("organisation").get(pk=campaign.pk)
    if not rules.is_admin_of(request.auth, campaign):
        return Status(
            403, {"message": _("Seuls les administrateurs exportent une campagne."), "errors": []}
        )
    job = exports.export_request(campaign=campaign, by=request.auth, format=body.format)
    return Status(202, job_out(job))
