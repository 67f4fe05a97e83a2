"""/api/messages and /api/email-log."""

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from cohorte.accounts.selectors import members_visible_to
from cohorte.core.api import BatchError, ErrorOut
from cohorte.core.parse import ApiDate, ApiId, ScheduleTime
from cohorte.programs.models import Cohort

from . import services
from .models import Audience, EmailStatus
from .selectors import (
    email_log,
    email_log_page,
    message_programs,
    messages_visible_to,
    parse_cursor,
)

messages_router = Router(tags=["messages"])
email_log_router = Router(tags=["registre des courriels"])

AudienceName = Literal[
    "all", "mentors", "mentees", "mentors_mentees", "unmatched", "cohort", "people"
]
assert set(AudienceName.__args__) == set(Audience.values)  # type: ignore[attr-defined]  # noqa: S101


class MessageIn(Schema):
    program: ApiId | None = None
    audience: AudienceName
    cohort: ApiId | None = None
    people: list[ApiId] = Field(default_factory=list, max_length=10_000)
    subject_fr: str = Field("", max_length=200)
    subject_en: str = Field("", max_length=200)
    body_fr: str = Field("", max_length=100_000)
    body_en: str = Field("", max_length=100_000)
    send_at: ScheduleTime | None = Field(
        None,
        description="omitted: sent now; aware ISO 8601 time, at most a few years ahead: scheduled",
    )
    client_id: str | None = Field(None, max_length=100)


class MessageOut(Schema):
    id: int
    program: int | None = Field(None, alias="program_id")
    audience: str
    subject_fr: str
    subject_en: str
    status: str
    send_at: dt.datetime | None
    sent_at: dt.datetime | None
    recipients_count: int
    client_id: str | None


def _caller(request):
    user = request.auth
    if not (user.is_org_admin or user.managed_programs.exists()) or user.organisation_id is None:
        raise HttpError(
            403,
            _("Seuls les administrateurs et les responsables de programme envoient des messages."),
        )
    return user


@messages_router.post("", response={201: MessageOut, 200: MessageOut, 400: ErrorOut, 403: ErrorOut})
def message_create(request, payload: MessageIn):
    """Compose and send now, or schedule with send_at. A repeated client_id returns the
    first message (200) and sends nothing again. Sent now to more than
    COHORTE_SEND_INLINE_MAX (1,000) people, the message comes back « queued » with send_at
    now: a worker writes its e-mails within seconds, then it is « sent »."""
    user = _caller(request)
    if payload.client_id:
        existing = messages_visible_to(user).filter(client_id=payload.client_id).first()
        if existing is not None:
            return Status(200, existing)
    program = None
    if payload.program is not None:
        program = message_programs(user).filter(pk=payload.program).first()
        if program is None:
            raise BatchError(
                _("Requête invalide."),
                [{"index": None, "field": "program", "reason": _("Programme inconnu.")}],
            )
    elif not user.is_org_admin:
        raise BatchError(
            _("Requête invalide."),
            [{"index": None, "field": "program", "reason": _("champ obligatoire")}],
        )
    if (
        payload.cohort is not None
        and not Cohort.objects.filter(
            pk=payload.cohort, organisation_id=user.organisation_id
        ).exists()
    ):
        raise BatchError(
            _("Requête invalide."),
            [{"index": None, "field": "cohort", "reason": _("Cohorte inconnue.")}],
        )
    people = list(
        members_visible_to(user).filter(pk__in=payload.people).values_list("pk", flat=True)
    )
    unknown = sorted(set(payload.people) - set(people))
    if unknown:
        raise BatchError(
            _("Requête invalide."),
            [
                {
                    "index": payload.people.index(pk),
                    "field": "people",
                    "reason": _("membre inconnu"),
                }
                for pk in unknown
            ],
        )
    draft = services.Draft(
        audience=payload.audience,
        subject_fr=payload.subject_fr,
        subject_en=payload.subject_en,
        body_fr=payload.body_fr,
        body_en=payload.body_en,
        cohort_id=payload.cohort,
        people=people,
        send_at=payload.send_at,
    )
    try:
        with transaction.atomic():
            message = services.message_save(
                organisation_id=user.organisation_id, program=program, draft=draft, by=user
            )
            message.client_id = payload.client_id
            message.save(update_fields=["client_id"])
            if payload.send_at is not None:
                services.message_schedule(message=message, send_at=payload.send_at, by=user)
            else:
                services.message_send_now(message=message, by=user)
    except ValidationError as error:
        details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        raise BatchError(
            _("Requête invalide."),
            [
                {"index": None, "field": field or None, "reason": " ".join(problems)}
                for field, problems in details.items()
            ],
        ) from error
    except IntegrityError:  # the same client_id raced in: the first one wins
        existing = messages_visible_to(user).filter(client_id=payload.client_id).first()
        if existing is None:
            raise
        return Status(200, existing)
    message.refresh_from_db()
    return Status(201, message)


@messages_router.get("", response={200: list[MessageOut], 400: ErrorOut})
def message_list(request, limit: int = Query(50, ge=1, le=500)):
    return list(messages_visible_to(request.auth)[:limit])


def _cursor(value: str) -> str:
    if value and parse_cursor(value) is None:
        raise PydanticCustomError(
            "cohorte_cursor", _("curseur invalide : reprenez le `next` de la page précédente")
        )
    return value


class LogQuery(Schema):
    member: list[ApiId] = Field(default_factory=list, max_length=200)
    status: list[Literal[tuple(EmailStatus.values)]] = []  # type: ignore[valid-type]
    start: ApiDate | None = Field(None, alias="from")
    end: ApiDate | None = Field(None, alias="to")
    after: Annotated[str, AfterValidator(_cursor)] = Field(
        "", max_length=100, description="the `next` cursor of the previous page"
    )
    page_size: int = Field(50, ge=1, le=1000)


class LogRow(Schema):
    id: int
    subject: str
    member: int | None
    to_name: str
    to_email: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    delivered_at: dt.datetime | None
    opened_at: dt.datetime | None
    detail: str


class LogPage(Schema):
    results: list[LogRow]
    next: str


@email_log_router.get("", response={200: LogPage, 400: ErrorOut})
def email_log_list(request, filters: Query[LogQuery]):
    """The e-mail log, newest first, a page at a time (keyset: `after` = previous `next`).
    Dates are whole days in the organisation's time zone, `to` included."""
    user = request.auth
    tz = user.organisation.tzinfo if user.organisation else timezone.get_current_timezone()
    rows = email_log(
        user=user,
        member_ids=filters.member,
        start=dt.datetime.combine(filters.start, dt.time.min, tzinfo=tz) if filters.start else None,
        end=dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if filters.end
        else None,
    )
    page, cursor = email_log_page(
        rows, after=filters.after, size=filters.page_size, statuses=filters.status
    )
    return {
        "results": [
            {
                "id": row.pk,
                "subject": row.subject,
                "member": row.member_id,
                "to_name": row.to_name,
                "to_email": row.to_email,
                "created_at": row.created_at,
                "sent_at": row.sent_at,
                "status": row.status,
                "delivered_at": row.delivered_at,
                "opened_at": row.opened_at,
                "detail": row.last_error,
            }
            for row in page
        ],
        "next": cursor,
    }
