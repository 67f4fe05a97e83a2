"""/api/…/relationships and the meetings: booking, cancelling, moving, the calendar's data."""

import datetime as dt
import zoneinfo
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from cohorte.core.api import ApiText, BatchError, ErrorOut
from cohorte.core.parse import (
    ApiDate,
    ApiId,
    ParseError,
    ScheduleTime,
    TimeZoneName,
    check_schedule_time,
    parse_datetime,
    parse_timezone,
)
from cohorte.programs.selectors import program_for

from . import selectors, services
from .forms import RelationshipForm
from .models import EVALUATION_COMMENT_MAX, Meeting, Relationship

programs_router = Router(tags=["relations et rencontres"])
relationships_router = Router(tags=["relations et rencontres"])
meetings_router = Router(tags=["relations et rencontres"])


def _refused(error: ValidationError) -> BatchError:
    details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    return BatchError(
        _("Requête invalide."),
        [
            {"index": None, "field": field or None, "reason": " ".join(problems)}
            for field, problems in details.items()
        ],
    )


class RelationshipOut(Schema):
    id: int
    mentor: int = Field(alias="mentor_id")
    mentee: int = Field(alias="mentee_id")
    status: str
    created_at: dt.datetime
    ended_at: dt.datetime | None


class RelationshipIn(Schema):
    mentor: ApiId
    mentee: ApiId


@programs_router.get(
    "/{int:program_id}/relationships",
    response={200: list[RelationshipOut], 400: ErrorOut, 404: ErrorOut},
)
def relationship_list(request, program_id: ApiId, status: Literal["", "matched", "completed"] = ""):
    program = program_for(request.auth, program_id)
    return list(selectors.relationship_rows(program=program, status=status))


@programs_router.post(
    "/{int:program_id}/relationships",
    response={201: RelationshipOut, 200: RelationshipOut, 400: ErrorOut, 404: ErrorOut},
)
def relationship_create(request, program_id: ApiId, payload: RelationshipIn):
    """A match; both must take part in the programme, the mentor must have room.

    Safe to retry: when this mentor and this mentee are already matched (a current
    relationship in this programme), the answer is that relationship with 200, and no
    second one is made; 201 means it has just been created."""
    from . import matching

    program = program_for(request.auth, program_id)
    mentor = matching.mentors_of(program).filter(pk=payload.mentor).first()
    mentee = matching.mentees_of(program).filter(pk=payload.mentee).first()
    if mentor is not None and mentee is not None:
        existing = selectors.current_relationship(program=program, mentor=mentor, mentee=mentee)
        if existing is not None:
            return Status(200, existing)
    errors = []
    if mentor is None:
        errors.append(
            {"index": None, "field": "mentor", "reason": _("mentor inconnu dans ce programme")}
        )
    if mentee is None:
        errors.append(
            {"index": None, "field": "mentee", "reason": _("mentoré inconnu dans ce programme")}
        )
    if (
        mentor is not None
        and matching.current_load(program).get(mentor.pk, 0) >= mentor.max_mentees
    ):
        errors.append(
            {"index": None, "field": "mentor", "reason": _("nombre maximal de mentorés atteint")}
        )
    if errors or mentor is None or mentee is None:
        raise BatchError(_("Requête invalide."), errors)
    relationship, created = services.relationship_match(
        program=program, mentor=mentor, mentee=mentee, by=request.auth
    )
    return Status(201 if created else 200, relationship)


class RelationshipPatch(Schema):
    """Only the fields sent change; the pair itself does not (end it and match again)."""

    status: Literal["matched", "completed"] | None = None
    started_on: ApiDate | None = None
    agreement_url: str | None = Field(None, max_length=200)
    evaluation_url: str | None = Field(None, max_length=200)


@relationships_router.get("/{int:relationship_id}", response={200: RelationshipOut, 404: ErrorOut})
def relationship_get(request, relationship_id: ApiId):
    return _relationship(request, relationship_id)


@relationships_router.patch(
    "/{int:relationship_id}", response={200: RelationshipOut, 400: ErrorOut, 404: ErrorOut}
)
def relationship_patch(request, relationship_id: ApiId, payload: RelationshipPatch):
    """« Modifier »: back to `matched` is refused (400) when the pair is matched again
    meanwhile; URLs are checked as on the page. Repeating the call changes nothing."""
    relationship = _relationship(request, relationship_id)
    sent = payload.dict(exclude_unset=True)
    if sent.get("status", "") is None:
        del sent["status"]  # null status: not a change
    current = {name: getattr(relationship, name) for name in RelationshipForm.Meta.fields}
    data = {name: "" if value is None else value for name, value in (current | sent).items()}
    form = RelationshipForm(data, instance=Relationship.objects.get(pk=relationship.pk))
    if not form.is_valid():
        raise _refused(ValidationError({f: list(e) for f, e in form.errors.items()}))
    try:
        return services.relationship_update(
            relationship=relationship,
            changes={name: form.cleaned_data[name] for name in sent},
            by=request.auth,
        )
    except ValidationError as error:
        raise _refused(error) from error


@relationships_router.delete(
    "/{int:relationship_id}", response={204: None, 404: ErrorOut, 409: ErrorOut}
)
def relationship_remove(request, relationship_id: ApiId):
    """Delete a match made by mistake, with its meetings (those to come are cancelled and
    their attendees told). 409 once a meeting was held: end it instead (PATCH status)."""
    relationship = _relationship(request, relationship_id)
    try:
        services.relationship_delete(relationship=relationship, by=request.auth)
    except services.RelationshipHasHistory as error:
        raise HttpError(409, " ".join(error.messages)) from error
    return Status(204, None)


class BookingIn(Schema):
    #: with its offset, from now to a few years ahead
    starts_at: ScheduleTime
    duration_minutes: int = Field(30, ge=15, le=120)
    meeting_type: Literal["video", "in_person", "phone"] = "video"
    place: str = Field("", max_length=500)
    frequency: Literal["none", "daily", "weekly", "monthly", "yearly"] = "none"
    count: int = Field(1, ge=1, le=52)
    with_administrator: bool = False
    client_id: str | None = Field(None, max_length=100)


#: a meeting's `status` as every answer gives it (a scheduled one past its end awaits its
#: evaluations; `confirmed` is held by both sides' word or a manager's)
MeetingStatusOut = Literal["scheduled", "awaiting_evaluation", "confirmed", "not_held", "cancelled"]


class MeetingOut(Schema):
    id: int
    uid: str
    program: int = Field(alias="program_id")
    relationship: int | None = Field(None, alias="relationship_id")
    kind: str
    meeting_type: str
    title: str
    starts_at: dt.datetime
    duration_minutes: int
    status: MeetingStatusOut
    place: str
    sequence: int
    attendees: list[dict]

    @staticmethod
    def resolve_status(obj: Meeting) -> str:
        """As everywhere: a scheduled meeting past its end is `awaiting_evaluation`."""
        return obj.shown_status(timezone.now())

    @staticmethod
    def resolve_attendees(obj: Meeting) -> list[dict]:
        return [
            {"member": a.member_id, "name": a.member.full_name, "response": a.response}
            for a in obj.attendances.all()
        ]


def _relationship(request, relationship_id: ApiId) -> Relationship:
    relationship = get_object_or_404(
        Relationship.objects.select_related("program__organisation"), pk=relationship_id
    )
    program_for(request.auth, relationship.program_id)
    return relationship


@relationships_router.post(
    "/{int:relationship_id}/meetings",
    response={201: list[MeetingOut], 200: list[MeetingOut], 400: ErrorOut, 404: ErrorOut},
)
def meetings_book(request, relationship_id: ApiId, payload: BookingIn):
    """Same rules as the form: every occurrence free for both. A repeated client_id returns
    the first booking (200)."""
    relationship = _relationship(request, relationship_id)
    if (
        payload.client_id
        and Meeting.objects.filter(
            program=relationship.program, client_id=payload.client_id
        ).exists()
    ):
        first = Meeting.objects.get(program=relationship.program, client_id=payload.client_id)
        return Status(
            200,
            list(
                Meeting.objects.filter(uid=first.uid)
                .prefetch_related("attendances__member")
                .order_by("starts_at")
            ),
        )
    try:
        meetings = services.meetings_book(
            relationship=relationship,
            by=request.auth,
            starts_at=payload.starts_at,
            duration_minutes=payload.duration_minutes,
            meeting_type=payload.meeting_type,
            place=payload.place,
            frequency=payload.frequency,
            count=payload.count,
            with_administrator=payload.with_administrator,
            client_id=payload.client_id,
        )
    except ValidationError as error:
        raise _refused(error) from error
    return Status(
        201,
        list(
            Meeting.objects.filter(pk__in=[m.pk for m in meetings])
            .prefetch_related("attendances__member")
            .order_by("starts_at")
        ),
    )


def _meeting(request, meeting_id: ApiId) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("program__organisation"), pk=meeting_id
    )
    program_for(request.auth, meeting.program_id)
    return meeting


class CancelIn(Schema):
    scope: Literal["one", "following"] = "one"


class RescheduleIn(Schema):
    starts_at: ScheduleTime
    scope: Literal["one", "following"] = "one"


class CancelOut(Schema):
    cancelled: int


@meetings_router.post(
    "/{int:meeting_id}/cancel",
    response={200: CancelOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def meeting_cancel(request, meeting_id: ApiId, payload: CancelIn):
    """Cancel this meeting, or it and the ones after it in its series (`following`, even
    from an occurrence already cancelled). What is already cancelled stays as it is and
    nobody is told twice, so a retry answers `cancelled: 0`. A meeting past its end is
    not cancelled (409): it awaits its evaluations; `following` from a cancelled
    occurrence cancels only those still to come."""
    meeting = _meeting(request, meeting_id)
    try:
        count = services.meeting_cancel(meeting=meeting, by=request.auth, scope=payload.scope)
    except services.MeetingOver as refusal:
        return _over(refusal)
    return {"cancelled": count}


def _over(refusal: ValidationError) -> Status:
    """A change to a meeting that has ended (services.MeetingOver): 409 with its reason."""
    return Status(409, {"message": " ".join(refusal.messages), "errors": []})


@meetings_router.post(
    "/{int:meeting_id}/reschedule",
    response={200: list[MeetingOut], 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def meeting_reschedule(request, meeting_id: ApiId, payload: RescheduleIn):
    """Move this meeting (or it and the ones after it, by the same shift) to a time free
    for every attendee. A cancelled meeting is refused (400), one that has ended too (409:
    its evaluations settle it; book a new one). Safe to retry: when every
    occurrence concerned is already at its new time, nothing changes (no new SEQUENCE,
    answers kept, no second e-mail) and they are returned as they are."""
    meeting = _meeting(request, meeting_id)
    return _rescheduled(request, meeting, payload.starts_at, payload.scope)


def _rescheduled(
    request, meeting: Meeting, starts_at: dt.datetime, scope: str
) -> list[Meeting] | Status:
    """« Reporter »'s service, its refusals as the API's 400 (409 for a meeting that has
    ended), the meetings moved."""
    try:
        moved = services.meeting_reschedule(
            meeting=meeting, by=request.auth, starts_at=starts_at, scope=scope
        )
    except services.MeetingOver as refusal:
        return _over(refusal)
    except ValidationError as error:
        raise _refused(error) from error
    return list(
        Meeting.objects.filter(pk__in=[m.pk for m in moved])
        .prefetch_related("attendances__member")
        .order_by("starts_at")
    )


# --- The calendar: FullCalendar's feed, and a session dragged to another time -------------

#: the longest window a calendar view asks for (a month shown as six weeks), with room
CALENDAR_MAX_DAYS = 62


def _calendar_refused(field: str, reason: str) -> BatchError:
    return BatchError(_("Requête invalide."), [{"index": None, "field": field, "reason": reason}])


def _calendar_window(
    request, program, start: str, end: str, tz: str
) -> tuple[dt.datetime, dt.datetime, zoneinfo.ZoneInfo]:
    """The feed's query, parsed at the boundary: `tz` an IANA name (else the viewer's zone,
    the one the page states), `start` and `end` ISO times (FullCalendar sends them without
    an offset, in `tz`), within this century and at most CALENDAR_MAX_DAYS apart."""
    if tz:
        try:
            zone = zoneinfo.ZoneInfo(parse_timezone(tz))
        except ParseError as error:
            raise _calendar_refused("tz", error.message) from error
    else:
        zone = selectors.viewer_timezone(member=request.auth, program=program)
    bounds = {}
    for field, value in (("start", start), ("end", end)):
        try:
            bounds[field] = parse_datetime(value, tz=zone)
        except ParseError as error:
            raise _calendar_refused(field, error.message) from error
    if (
        not bounds["start"]
        < bounds["end"]
        <= bounds["start"] + dt.timedelta(days=CALENDAR_MAX_DAYS)
    ):
        raise _calendar_refused(
            "end", _("de 1 à %(n)d jours après « start »") % {"n": CALENDAR_MAX_DAYS}
        )
    return bounds["start"], bounds["end"], zone


@programs_router.get(
    "/{int:program_id}/calendar",
    response={200: list[dict], 400: ErrorOut, 404: ErrorOut},
    url_name="program_calendar",
)
def calendar_feed(request, program_id: ApiId, start: str = "", end: str = "", tz: str = ""):
    """The sessions calendar's events, as FullCalendar reads them: wall-clock times of `tz`,
    1:1 sessions titled with both names, group sessions with their title, each day's first
    sessions and a « + N autres » for the rest (a month: 6 a day, a week: 24, a day: all)."""
    import json

    from django.http import HttpResponse
    from ninja.responses import NinjaJSONEncoder

    program = program_for(request.auth, program_id)
    begin, finish, zone = _calendar_window(request, program, start[:64], end[:64], tz[:64])
    events = selectors.calendar_events(
        program=program, start=begin, end=finish, tz=zone, may_move=True
    )
    return HttpResponse(
        json.dumps(events, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


class CalendarMoveIn(Schema):
    #: the new start as the calendar shows it: a wall-clock time of `tz` (or with an offset)
    starts_at: str = Field(max_length=40)
    tz: TimeZoneName


@meetings_router.post(
    "/{int:meeting_id}/calendar-move",
    response={200: list[MeetingOut], 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    url_name="meeting_calendar_move",
)
def meeting_calendar_move(request, meeting_id: ApiId, payload: CalendarMoveIn):
    """A session dragged in the calendar, once confirmed: « Reporter » for this occurrence,
    through the same service (same rules, answers asked again, e-mails, audit). The time is
    read in the calendar's zone here, so that the server alone converts it."""
    meeting = _meeting(request, meeting_id)
    try:
        starts_at = check_schedule_time(
            parse_datetime(payload.starts_at, tz=zoneinfo.ZoneInfo(payload.tz))
        )
    except ParseError as error:
        raise _calendar_refused("starts_at", error.message) from error
    return _rescheduled(request, meeting, starts_at, "one")


# --- One meeting, and its evaluation by each attendee ------------------------------------


class EvaluationOut(Schema):
    email: str
    took_place: bool | None
    rating: int | None
    comment: str


class MeetingDetailOut(MeetingOut):
    #: `scheduled`, `awaiting_evaluation` (past its end, not settled), `confirmed` (both
    #: sides said it took place, or a manager's audited override), `not_held`, `cancelled`
    status: MeetingStatusOut
    #: each attendee's evaluation so far (null answers: not evaluated yet)
    evaluations: list[EvaluationOut]

    @staticmethod
    def resolve_status(obj: Meeting) -> str:
        return obj.shown_status(timezone.now())

    @staticmethod
    def resolve_evaluations(obj: Meeting) -> list[dict]:
        return [
            {
                "email": a.member.email,
                "took_place": a.took_place,
                "rating": a.rating,
                "comment": a.comment,
            }
            for a in sorted(obj.attendances.all(), key=lambda a: a.pk)
        ]


def _json_bool(value: object) -> object:
    """`took_place` as JSON says it: true or false, not "yes", "1" or 1."""
    if not isinstance(value, bool):
        raise PydanticCustomError("cohorte_bool", _("true ou false attendu"))
    return value


def _json_rating(value: object) -> object:
    """`rating` as a JSON whole number (or null): not "3", 3.0 or true."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise PydanticCustomError("cohorte_rating", _("nombre entier de 1 à 5 attendu"))
    return value


def _no_null_comment(value: object) -> object:
    return "" if value is None else value


class EvaluationIn(Schema):
    """An attendee's evaluation. `took_place` true or false (required); `rating` a whole
    number from 1 to 5, or null / absent for none; `comment` text (null or absent: none).

    A 1:1 meeting (`kind` `one_to_one`) is decided by its two sides — the mentor and the
    mentee of its relationship, else the participant and the professional who attend it:
    both true → `confirmed`, one false → `not_held`, else `awaiting_evaluation`. A group
    session (`masterclass`, `group`) is evaluated the same way by each of its attendees,
    but their answers do not decide its status: a manager marks it held (an audited
    override), as they may for any meeting past its end."""

    took_place: Annotated[bool, BeforeValidator(_json_bool)]
    rating: Annotated[Annotated[int, Field(ge=1, le=5)] | None, BeforeValidator(_json_rating)] = (
        None
    )
    comment: Annotated[
        ApiText, BeforeValidator(_no_null_comment), Field(max_length=EVALUATION_COMMENT_MAX)
    ] = ""


def _meeting_seen(request, meeting_id: ApiId) -> Meeting:
    """A meeting the caller attends or manages; 404 for anyone else (no existence leak)."""
    from cohorte.programs.selectors import programs_visible_to

    meeting = get_object_or_404(
        Meeting.objects.select_related("program__organisation", "relationship"), pk=meeting_id
    )
    if not (
        meeting.attendances.filter(member=request.auth).exists()
        or programs_visible_to(request.auth).filter(pk=meeting.program_id).exists()
    ):
        raise Http404("No such meeting.")
    return meeting


def _detail(meeting: Meeting) -> Meeting:
    """The meeting with its attendees read once, for MeetingDetailOut."""
    return Meeting.objects.prefetch_related("attendances__member").get(pk=meeting.pk)


@meetings_router.get("/{int:meeting_id}", response={200: MeetingDetailOut, 404: ErrorOut})
def meeting_detail(request, meeting_id: ApiId):
    """One meeting, for its attendees and its programme's managers: the fields of the
    booking's answer, its `status` as the « Rencontres » tab shows it (a scheduled meeting
    past its end is `awaiting_evaluation`, compared in UTC to the second) and `evaluations`."""
    return _detail(_meeting_seen(request, meeting_id))


@meetings_router.post(
    "/{int:meeting_id}/evaluation",
    response={200: MeetingDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def meeting_evaluation(request, meeting_id: ApiId, payload: EvaluationIn):
    """An attendee says whether the meeting took place, with a rating 1–5 and a comment,
    from its end on (start + duration, compared in UTC to the second, whatever zone the
    times were given in: 409 before, or when cancelled). Anyone else who sees the meeting —
    a manager of its programme — gets 403; 404 for everyone outside it. Once per attendee:
    a repeat replaces the answer. A 1:1 meeting becomes `confirmed` when both sides said
    yes (it then counts in `confirmed_meetings`, the progress and the hours), `not_held` on
    one no. A group session (`masterclass`, `group`) takes each attendee's evaluation the
    same way, but its status is not theirs to decide: a manager marks it held or not held.
    After a manager's override the answers are still recorded but no longer move it."""
    from . import evaluations

    meeting = _meeting_seen(request, meeting_id)
    try:
        evaluations.meeting_evaluate(
            meeting=meeting,
            member=request.auth,
            took_place=payload.took_place,
            rating=payload.rating,
            comment=payload.comment,
        )
    except evaluations.EvaluationRefused as refusal:
        return Status(refusal.status, {"message": refusal.message, "errors": []})
    except ValidationError as error:
        raise _refused(error) from error
    return _detail(meeting)
