import datetime as dt
from typing import Annotated, Any, Literal, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from cohorte.accounts.models import Member
from cohorte.core.api import ApiPage, ApiText, BatchError, ErrorOut
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import ApiDate, ApiId, EventTime, ScheduleTime
from cohorte.meetings.api import MeetingOut as CalendarMeetingOut
from cohorte.meetings.models import Meeting
from cohorte.meetings.services import meeting_create
from cohorte.programs import services as program_services
from cohorte.programs.api import validation_to_http
from cohorte.programs.models import Program, Role
from cohorte.programs.selectors import member_in_program, program_for

from . import counters, ingest, services
from .models import Report
from .selectors import (
    SORTS,
    ActivityRow,
    participant_activity_page,
    row_flags,
)

router = Router(tags=["participants et activité"])


# --- Participants -----------------------------------------------------------------------

RoleName = Literal["participant", "mentee", "collaborator", "mentor", "professional", "manager"]


class ParticipantIn(Schema):
    email: ApiText = Field(min_length=3, max_length=254)
    first_name: ApiText = Field("", max_length=150)
    last_name: ApiText = Field("", max_length=150)
    role: RoleName = "participant"
    language: Literal["fr", "en"] | None = None


class EnrolmentOut(Schema):
    member_id: int
    email: str
    first_name: str
    last_name: str
    role: str
    language: str


class ParticipantRow(Schema):
    member_id: int
    email: str
    name: str
    first_name: str
    last_name: str
    #: from the profile (Moodle's « Ville », « Pays »)
    city: str
    country: str
    role: str
    profiles_visited: int
    professionals_contacted: int
    upcoming_meetings: int
    confirmed_meetings: int
    progress: int
    #: the last access to this programme (null: never opened it)
    last_access: dt.datetime | None
    #: the last sign-in to Cohorte itself (null: never signed in), seed 002's distinction
    platform_last_access: dt.datetime | None
    flags: list[str]


class ParticipantPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ParticipantRow]


SortName = Literal[tuple(SORTS)]  # type: ignore[valid-type]


class ParticipantQuery(Schema):
    sort: SortName = "name"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "asc"
    q: ApiText = Field("", max_length=200)
    #: never opened this programme
    never_signed_in: bool = False
    #: never signed in to Cohorte at all
    never_on_platform: bool = False
    flagged: bool = False
    page: ApiPage = 1
    page_size: int = Field(25, ge=1, le=1000)


def _program(request: Any, program_id: int) -> Program:
    """The programme if the caller (request.auth, set by the API's auth) may manage it."""
    return program_for(request.auth, program_id)


@router.get(
    "/{int:program_id}/participants", response={200: ParticipantPage, 400: ErrorOut, 404: ErrorOut}
)
def participants_list(request, program_id: ApiId, filters: Query[ParticipantQuery]):
    """The participants' activity table, the same figures as the programme's page."""
    program = _program(request, program_id)
    rows = participant_activity_page(
        program=program,
        sort=filters.sort,
        order=filters.order,
        q=filters.q,
        never_signed_in=filters.never_signed_in,
        never_on_platform=filters.never_on_platform,
        flagged=filters.flagged,
    )
    count = rows.count()  # from the enrolments alone, not from the sorted rows
    start = (filters.page - 1) * filters.page_size
    page_rows = cast(
        list[ActivityRow], rows[start : start + filters.page_size] if start < count else []
    )
    tz = program.organisation.tzinfo
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [
            {
                "member_id": row.member_id,
                "email": row.member.email,
                "name": row.member.full_name,
                "first_name": row.member.first_name,
                "last_name": row.member.last_name,
                "city": row.member.city,
                "country": row.member.country,
                "role": row.role,
                "profiles_visited": row.profiles_visited,
                "professionals_contacted": row.professionals_contacted,
                "upcoming_meetings": row.upcoming_meetings,
                "confirmed_meetings": row.confirmed_meetings,
                "progress": row.progress,
                "last_access": localtime_or_utc(row.last_access, tz) if row.last_access else None,
                "platform_last_access": (
                    localtime_or_utc(row.platform_last_access, tz)
                    if row.platform_last_access
                    else None
                ),
                "flags": row_flags(row),
            }
            for row in page_rows
        ],
    }


@router.post(
    "/{int:program_id}/participants",
    response={200: EnrolmentOut, 201: EnrolmentOut, 400: ErrorOut, 404: ErrorOut},
)
def participant_add(request, program_id: ApiId, payload: ParticipantIn):
    """Create the member if new and enrol them; 201 when they joined, 200 when they were in."""
    program = _program(request, program_id)
    try:
        validate_email(payload.email.strip())
    except ValidationError as error:
        raise BatchError(
            _("Courriel invalide."),
            [{"index": None, "field": "email", "reason": _("adresse invalide")}],
        ) from error
    try:
        enrolment, created = program_services.enrolment_add(
            program=program,
            by=request.auth,
            email=payload.email,
            first_name=payload.first_name.strip(),
            last_name=payload.last_name.strip(),
            role=Role(payload.role),
            language=payload.language,
        )
    except ValidationError as error:
        if "email" in getattr(error, "error_dict", {}):  # the same refusal, whatever the reason
            raise BatchError(
                _("Courriel invalide."),
                [{"index": None, "field": "email", "reason": _("adresse invalide")}],
            ) from error
        raise validation_to_http(error) from error
    member = enrolment.member
    out = {
        "member_id": member.pk,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "role": enrolment.role,
        "language": member.language,
    }
    return Status(201 if created else 200, out)


@router.delete(
    "/{int:program_id}/participants/{int:member_id}", response={204: None, 404: ErrorOut}
)
def participant_remove(request, program_id: ApiId, member_id: ApiId):
    """End the enrolment; nothing is deleted. Repeating the call is harmless."""
    program = _program(request, program_id)
    enrolment = member_in_program(program, member_id)
    program_services.enrolment_end(enrolment=enrolment, by=request.auth)
    return Status(204, None)


# --- Events ---------------------------------------------------------------------------

EventKindName = Literal["sign_in", "course_access", "profile_view", "contact", "message"]


class EventIn(Schema):
    email: ApiText = Field(max_length=254)
    kind: EventKindName
    #: something that happened: from 2000 to now (give or take a clock a few minutes ahead);
    #: a date in 9999 stored here once broke the members' pages for every administrator
    occurred_at: EventTime
    target_email: ApiText | None = Field(None, max_length=254)
    client_id: ApiText | None = Field(None, min_length=1, max_length=100)


class EventsOut(Schema):
    created: int
    ignored: int


def _members_by_email(program: Program, emails: set[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    email_list = sorted(emails)
    for start in range(0, len(email_list), 900):
        chunk = email_list[start : start + 900]
        for member in Member.objects.filter(organisation=program.organisation, email__in=chunk):
            found[member.email] = member
    return found


def _events_too_many(limit: int) -> HttpError:
    return HttpError(
        413,
        _("Lot refusé : %(limit)d événements au plus par lot ; envoyez-les en plusieurs lots.")
        % {"limit": limit},
    )


@router.post(
    "/{int:program_id}/events",
    response={200: EventsOut, 400: ErrorOut, 404: ErrorOut, 413: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "maxItems": settings.COHORTE_EVENTS_BATCH_MAX,
                        "items": EventIn.model_json_schema(),
                    }
                }
            },
        },
        "responses": {
            "413": {
                "description": (
                    f"Lot trop grand : plus de {settings.COHORTE_EVENTS_BATCH_MAX} événements, "
                    f"ou plus de {settings.COHORTE_EVENTS_BODY_MAX // (1024 * 1024)} Mo."
                ),
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                },
            }
        },
    },
)
def events_post(request, program_id: ApiId):
    """Up to 50,000 events, all or nothing. A repeated client_id is ignored, so a retried
    batch never counts twice. 400 lists every bad item with its index, field and reason;
    413 when the batch is over the limit (more items, or more bytes)."""
    program = _program(request, program_id)
    body = ingest.events_body(request)
    limit = settings.COHORTE_EVENTS_BATCH_MAX
    try:
        parsed, errors, total = ingest.events_parse(body, limit=limit)
    except ingest.TooManyEvents as error:
        raise _events_too_many(limit) from error
    rows = ingest.events_resolve(program=program, parsed=parsed, errors=errors, body=body)
    if errors:
        errors.sort(key=lambda e: e["index"])
        raise BatchError(
            _("%(bad)d événement(s) invalide(s) sur %(total)d : rien n'a été enregistré.")
            % {"bad": len({e["index"] for e in errors}), "total": total},
            errors,
        )
    result = counters.events_store(program=program, rows=rows)
    return {"created": result.created, "ignored": result.ignored}


# --- Meetings and reports -----------------------------------------------------------------


class MeetingIn(Schema):
    attendees: list[Annotated[ApiText, Field(max_length=254)]] = Field(min_length=1, max_length=50)
    #: from 2000 to a few years ahead
    starts_at: ScheduleTime
    duration_minutes: int = Field(ge=1, le=24 * 60)
    status: Literal["scheduled", "confirmed", "cancelled"] = "scheduled"
    client_id: ApiText | None = Field(None, min_length=1, max_length=100)


class ProgramMeetingOut(Schema):
    id: int
    attendees: list[str]
    starts_at: dt.datetime
    duration_minutes: int
    status: str
    client_id: str | None = None


def _require_members(program: Program, emails: list[str], field: str) -> list[Member]:
    wanted = [email.strip().lower() for email in emails]
    found = _members_by_email(program, set(wanted))
    errors = [
        {
            "index": index,
            "field": field,
            "reason": _("membre inconnu dans cette organisation : %(email)s") % {"email": email},
        }
        for index, email in enumerate(wanted)
        if email not in found
    ]
    if errors:
        raise BatchError(_("Membre(s) inconnu(s) : rien n'a été enregistré."), errors)
    return [found[email] for email in dict.fromkeys(wanted)]


@router.post(
    "/{int:program_id}/meetings",
    response={200: ProgramMeetingOut, 201: ProgramMeetingOut, 400: ErrorOut, 404: ErrorOut},
)
def meeting_post(request, program_id: ApiId, payload: MeetingIn):
    """Create a meeting; with a client_id, a retry returns the first one (200), not a twin."""
    program = _program(request, program_id)
    attendees = _require_members(program, payload.attendees, "attendees")
    if payload.client_id:
        existing = program.meetings.filter(client_id=payload.client_id).first()
        if existing is not None:
            return Status(200, _meeting_out(existing, program))
    try:
        with transaction.atomic():
            meeting = meeting_create(
                program=program,
                attendees=attendees,
                starts_at=payload.starts_at,
                duration_minutes=payload.duration_minutes,
                status=payload.status,
                by=request.auth,
                client_id=payload.client_id,
            )
    except IntegrityError:  # the same client_id won a race with this request
        return Status(200, _meeting_out(program.meetings.get(client_id=payload.client_id), program))
    return Status(201, _meeting_out(meeting, program))


def _meeting_out(meeting: Meeting, program: Program) -> dict[str, Any]:
    return {
        "id": meeting.pk,
        "attendees": list(meeting.attendees.order_by("pk").values_list("email", flat=True)),
        "starts_at": localtime_or_utc(meeting.starts_at, program.organisation.tzinfo),
        "duration_minutes": meeting.duration_minutes,
        "status": meeting.shown_status(timezone.now()),  # past its end: awaiting_evaluation
        "client_id": meeting.client_id,
    }


class ReportIn(Schema):
    email: ApiText = Field(max_length=254)
    reported_by_email: ApiText = Field(max_length=254)
    reason: ApiText = Field(min_length=1, max_length=2000)


class ReportOut(Schema):
    id: int
    email: str
    reported_by_email: str
    reason: str
    created_at: dt.datetime
    #: « Traité »: when, by whom, with what comment (null while it raises the ❗)
    resolved_at: dt.datetime | None = None
    resolved_by_email: str | None = None
    comment: str | None = None


class ReportResolveIn(Schema):
    comment: ApiText = Field("", max_length=2000)


class ReportPage(Schema):
    count: int
    results: list[ReportOut]


def _report_out(report: Report, program: Program) -> dict[str, Any]:
    tz = program.organisation.tzinfo
    return {
        "id": report.pk,
        "email": report.member.email,
        "reported_by_email": report.reported_by.email,
        "reason": report.reason,
        "created_at": timezone.localtime(report.created_at, tz),
        "resolved_at": timezone.localtime(report.resolved_at, tz) if report.resolved_at else None,
        "resolved_by_email": report.resolved_by.email if report.resolved_by else None,
        "comment": report.resolution_comment if report.resolved_at else None,
    }


@router.post("/{int:program_id}/reports", response={201: ReportOut, 400: ErrorOut, 404: ErrorOut})
def report_post(request, program_id: ApiId, payload: ReportIn):
    """A professional reports a participant: the orange ❗ in the table."""
    program = _program(request, program_id)
    if not payload.reason.strip():
        raise BatchError(
            _("Le motif est obligatoire."),
            [{"field": "reason", "reason": _("ne doit pas être vide")}],
        )
    if payload.email.strip().lower() == payload.reported_by_email.strip().lower():
        raise BatchError(_("Un membre ne peut pas se signaler lui-même."), [])
    member, reporter = _require_members(
        program, [payload.email, payload.reported_by_email], "email"
    )
    if not program.enrolments.filter(member=member, ended_at__isnull=True).exists():
        raise BatchError(
            _("%(email)s ne participe pas à ce programme.") % {"email": member.email},
            [{"field": "email", "reason": _("pas inscrit à ce programme")}],
        )
    report = services.report_create(
        program=program, member=member, reported_by=reporter, reason=payload.reason.strip()
    )
    return Status(
        201,
        {
            "id": report.pk,
            "email": member.email,
            "reported_by_email": reporter.email,
            "reason": report.reason,
            "created_at": timezone.localtime(report.created_at, program.organisation.tzinfo),
        },
    )


class ReportQuery(Schema):
    status: Literal["open", "resolved"] | None = None
    page: ApiPage = 1
    page_size: int = Field(100, ge=1, le=1000)


@router.get("/{int:program_id}/reports", response={200: ReportPage, 400: ErrorOut, 404: ErrorOut})
def reports_list(request, program_id: ApiId, filters: Query[ReportQuery]):
    """The programme's reports, newest first: `open` ones raise the ❗, `resolved` ones are
    its history."""
    program = _program(request, program_id)
    rows = Report.objects.filter(program=program).select_related(
        "member", "reported_by", "resolved_by"
    )
    if filters.status == "open":
        rows = rows.filter(resolved_at__isnull=True)
    elif filters.status == "resolved":
        rows = rows.filter(resolved_at__isnull=False)
    count = rows.count()
    start = (filters.page - 1) * filters.page_size
    window = rows.order_by("-created_at", "-pk")[start : start + filters.page_size]
    found = list(window) if start < count else []
    return {"count": count, "results": [_report_out(r, program) for r in found]}


@router.post(
    "/{int:program_id}/reports/{int:report_id}/resolve",
    response={200: ReportOut, 400: ErrorOut, 404: ErrorOut},
)
def report_resolve(request, program_id: ApiId, report_id: ApiId, payload: ReportResolveIn):
    """« Traité »: the participant loses this report's ❗ (`flags` loses `reported` once all
    are resolved); a repeat changes nothing; another programme's report: 404."""
    program = _program(request, program_id)
    report = Report.objects.filter(program=program, pk=report_id).first()
    if report is None:
        raise HttpError(404, _("Signalement introuvable."))
    try:
        report = services.report_resolve(report=report, by=request.auth, comment=payload.comment)
    except ValidationError as error:
        raise BatchError(
            _("Commentaire invalide."),
            [{"field": "comment", "reason": " ".join(error.messages)}],
        ) from error
    report = Report.objects.select_related("member", "reported_by", "resolved_by").get(pk=report.pk)
    return _report_out(report, program)


class PresenceOut(Schema):
    online: list[int]
    as_of: dt.datetime


@router.get("/{int:program_id}/presence", response={200: PresenceOut, 404: ErrorOut})
def presence_list(request, program_id: ApiId):
    """The programme's members who are online now (signed in and active in the last two
    minutes), from the store every app server shares."""
    from . import presence

    program = _program(request, program_id)
    ids = program.enrolments.filter(ended_at__isnull=True).values_list("member_id", flat=True)
    return {"online": sorted(presence.online(list(ids))), "as_of": timezone.now()}


class CalendarQuery(Schema):
    start: ApiDate = Field(alias="from")
    end: ApiDate = Field(alias="to")


@router.get(
    "/{int:program_id}/meetings",
    response={200: list[CalendarMeetingOut], 400: ErrorOut, 404: ErrorOut},
)
def calendar_data(request, program_id: ApiId, window: Query[CalendarQuery]):
    """The calendar's data: every meeting starting between `from` and `to` (whole days in
    the organisation's time zone, `to` included); at most 366 days."""
    import json

    from django.http import HttpResponse
    from ninja.responses import NinjaJSONEncoder

    from cohorte.meetings import selectors as meeting_selectors

    program = _program(request, program_id)
    if window.end < window.start or (window.end - window.start).days > 366:
        raise BatchError(
            _("Requête invalide."),
            [{"index": None, "field": "to", "reason": _("de 0 à 366 jours après « from »")}],
        )
    tz = program.organisation.tzinfo
    start = dt.datetime.combine(window.start, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    # a month of a large programme is thousands of meetings: the selector already writes
    # them in CalendarMeetingOut's shape, so they are rendered as they are, not re-validated
    rows = meeting_selectors.calendar_data(program=program, start=start, end=end)
    return HttpResponse(
        json.dumps(rows, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )
