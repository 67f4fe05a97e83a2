"""/api/campaigns and /api/interviews: interview campaigns and the life of each interview
(issue 13 §6), with the same rules as the pages (rules.py).

A campaign or an interview the caller may not see is a 404, never a 403: another
organisation's ids say nothing. Who may see it but not do this (the wrong person, or a step
out of order) gets a 403; a closed interview refuses every change but a reopening with a
409. Times are ISO 8601 with their offset; a time without one is refused (400).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Case, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StrictInt, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticError

from cohorte.accounts.models import Member
from cohorte.core.api import ApiPage, ApiText, BatchError, ErrorOut, error_item, json_body, page_of
from cohorte.core.parse import ApiDate, ApiId, ScheduleTime

from . import rules, selectors, services
from .models import (
    Campaign,
    CampaignKind,
    CampaignType,
    CircuitRole,
    EventAction,
    Interview,
    InterviewStatus,
)

campaigns_router = Router(tags=["campagnes d'entretiens"])
interviews_router = Router(tags=["campagnes d'entretiens"])

RoleName = Literal["collaborator", "manager", "second_approver", "hr"]
StatusName = Literal["not_planned", "planned", "held", "closing", "closed", "deleted"]
CampaignStatusName = Literal["preparation", "running", "ended"]
Email = Annotated[ApiText, StringConstraints(max_length=254, strip_whitespace=True)]
Comment = Annotated[ApiText, StringConstraints(max_length=services.MAX_COMMENT)]
Label = (
    Annotated[str, StringConstraints(max_length=500)]
    | dict[Literal["fr", "en"], Annotated[str, StringConstraints(max_length=500)]]
)

assert set(get_args(RoleName)) == set(CircuitRole.values)  # noqa: S101 — keep the two in step
assert set(get_args(StatusName)) == set(InterviewStatus.values)  # noqa: S101


# --- Refusals -----------------------------------------------------------------------------


def _validation_refused(error: ValidationError) -> BatchError:
    details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    return BatchError(
        _("Requête invalide."),
        [
            {"index": None, "field": field or None, "reason": " ".join(str(p) for p in problems)}
            for field, problems in details.items()
        ],
    )


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """The services' refusals in the API's shape: the wrong person or a step out of order
    403, a closed (or deleted) interview 409, a bad value 400 with its field."""
    try:
        yield
    except services.BadLines:
        raise
    except services.InterviewLocked as error:
        raise HttpError(409, error.message) from error
    except PermissionDenied as error:
        raise HttpError(403, str(error) or _("Accès refusé.")) from error
    except ValidationError as error:
        raise _validation_refused(error) from error


def _admin_only(member: Member, campaign: Campaign) -> None:
    if not rules.is_admin_of(member, campaign):
        raise HttpError(403, _("Seul un administrateur de l'organisation peut faire cela."))


def _campaign(request: Any, campaign_id: int) -> Campaign:
    """The campaign if the caller may see it (rules.campaigns_visible_to), else 404."""
    campaign = (
        rules.campaigns_visible_to(request.auth)
        .select_related("organisation", "created_by", "hr")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def _interview(request: Any, interview_id: int) -> Interview:
    """The interview if the caller may see it (rules.may_see_interview), else 404."""
    interview = rules.interview_of(request.auth, interview_id)
    if interview is None:
        raise Http404("No such interview.")
    return interview


# --- Campaigns ----------------------------------------------------------------------------


class CircuitStepIn(Schema):
    role: RoleName
    #: days after the previous step (the submission, for the first one)
    deadline_days: StrictInt = Field(ge=0, le=services.MAX_DEADLINE_DAYS)


class CampaignQuestionIn(Schema):
    #: lower-case letters, digits and _ (given when missing: q1, q2…)
    key: str | None = Field(None, max_length=40)
    kind: Literal["text", "scale", "choice", "objectives"]
    #: a string, or {"fr", "en"}
    label: Label
    #: for `choice` only: 2 to 30, each a string or {"fr", "en"}
    options: list[Label] = Field([], max_length=services.MAX_OPTIONS)
    required: bool = False
    #: the collaborator fills it beforehand too (« préparation »)
    prepared: bool = True


class CampaignSectionIn(Schema):
    title: Label = ""
    questions: list[CampaignQuestionIn] = Field([], max_length=services.MAX_QUESTIONS)


class CampaignReminderRulesIn(Schema):
    """The staged reminders of each circuit step; a field left out keeps its default."""

    enabled: bool = True
    #: days before a step's deadline (1 to 60, up to 5)
    before: list[StrictInt] = Field([7, 2], max_length=5)
    #: then every N days after it (null: never)
    every_after: StrictInt | None = 7
    #: after N days late the N+2 is written to (null: never)
    escalate_after: StrictInt | None = 7
    #: after N days late HR in copy (null: never)
    hr_after: StrictInt | None = 14


class CampaignIn(Schema):
    name: ApiText = Field(min_length=1, max_length=200)
    #: annual, professional, probation, or the slug of a type the administrator added
    kind: ApiText = Field(min_length=1, max_length=50)
    start_date: ApiDate
    end_date: ApiDate
    circuit: list[CircuitStepIn] = Field(min_length=1, max_length=services.MAX_STEPS)
    #: the « RH » of the circuit; none: any administrator of the organisation
    hr_email: Email | None = None
    #: the interview form: sections of questions
    form: list[CampaignSectionIn] | None = Field(None, max_length=services.MAX_SECTIONS)
    reminder_rules: CampaignReminderRulesIn | None = None


class CampaignPersonOut(Schema):
    email: str
    name: str


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    #: preparation before its start date, running, ended after its end date (the
    #: organisation's time zone)
    status: CampaignStatusName
    start_date: dt.date
    end_date: dt.date
    circuit: list[dict[str, Any]]
    form: list[dict[str, Any]]
    reminder_rules: dict[str, Any]
    hr: CampaignPersonOut | None
    creator: CampaignPersonOut | None
    created_at: dt.datetime


class CampaignPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[CampaignOut]


def _person(member: Member | None) -> dict[str, str] | None:
    if member is None:
        return None
    return {"email": member.email, "name": member.full_name}


def _today(member: Member) -> dt.date:
    organisation = member.organisation
    tz = organisation.tzinfo if organisation is not None else dt.UTC
    return timezone.now().astimezone(tz).date()


def _kind_labels(organisation_id: int) -> dict[str, str]:
    labels = {kind.value: str(kind.label) for kind in CampaignKind}
    for own in CampaignType.objects.filter(organisation_id=organisation_id):
        labels.setdefault(own.slug, own.name)
    return labels


def _campaign_out(campaign: Campaign, today: dt.date, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "kind": campaign.kind,
        "kind_label": labels.get(campaign.kind, campaign.kind),
        "status": campaign.status_on(today),
        "start_date": campaign.start_date,
        "end_date": campaign.end_date,
        "circuit": campaign.circuit,
        "form": campaign.form,
        "reminder_rules": campaign.reminder_rules,
        "hr": _person(campaign.hr),
        "creator": _person(campaign.created_by),
        "created_at": campaign.created_at,
    }


@campaigns_router.post("", response={201: CampaignOut, 400: ErrorOut, 403: ErrorOut})
def campaign_create(request, payload: CampaignIn):
    """A campaign of the caller's organisation (its administrators only). 400 names the
    field: an unknown kind, dates out of order, an unknown `hr_email`, a bad form."""
    member = request.auth
    if not member.is_org_admin or member.organisation is None:
        raise HttpError(403, _("Seul un administrateur de l'organisation peut faire cela."))
    organisation = member.organisation
    with _refusals():
        hr = services.hr_lookup(organisation, payload.hr_email)
        campaign = services.campaign_create(
            organisation=organisation,
            by=member,
            name=payload.name,
            kind=payload.kind,
            start_date=payload.start_date,
            end_date=payload.end_date,
            circuit=[step.model_dump() for step in payload.circuit],
            hr=hr,
            form=[section.model_dump() for section in payload.form] if payload.form else None,
            reminder_rules=payload.reminder_rules.model_dump(exclude_unset=True)
            if payload.reminder_rules
            else None,
        )
    labels = _kind_labels(organisation.pk)
    return Status(201, _campaign_out(campaign, _today(member), labels))


class CampaignQuery(Schema):
    #: name, kind (its slug), creator (their name) or status (preparation, running, ended in that
    #: order); none: the latest start date first
    sort: Literal["", "name", "kind", "creator", "status"] = ""
    order: Literal["asc", "desc"] = "asc"
    page: ApiPage = 1
    page_size: int = Field(50, ge=1, le=500)


def _campaigns_sorted(
    campaigns: QuerySet[Campaign], *, sort: str, order: str, today: dt.date
) -> QuerySet[Campaign]:
    """Sorted in the database, the status too: it is computed from the dates against the
    organisation's today, as rules.campaign_status says it."""
    if not sort:
        return campaigns.order_by("-start_date", "-pk")
    descending = order == "desc"
    if sort == "status":
        campaigns = campaigns.annotate(
            status_rank=Case(
                When(start_date__gt=today, then=Value(0)),
                When(end_date__lt=today, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        keys: list[Any] = [F("status_rank"), Lower("name")]
    elif sort == "creator":
        keys = [
            Lower("created_by__last_name"),
            Lower("created_by__first_name"),
            Lower("created_by__email"),
        ]
    elif sort == "kind":
        keys = [F("kind"), Lower("name")]
    else:
        keys = [Lower("name")]
    keys.append(F("pk"))
    return campaigns.order_by(
        *[key.desc(nulls_last=True) if descending else key.asc(nulls_last=True) for key in keys]
    )


@campaigns_router.get("", response={200: CampaignPage, 400: ErrorOut})
def campaign_list(request, filters: Query[CampaignQuery]):
    """The campaigns the caller sees: all of the organisation's for an administrator, for a
    manager those where they have interviews to hold."""
    member = request.auth
    today = _today(member)
    campaigns = _campaigns_sorted(
        rules.campaigns_visible_to(member).select_related("created_by", "hr"),
        sort=filters.sort,
        order=filters.order,
        today=today,
    )
    count, rows = page_of(campaigns, page=filters.page, page_size=filters.page_size)
    labels = _kind_labels(member.organisation_id) if rows else {}
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [_campaign_out(campaign, today, labels) for campaign in rows],
    }


@campaigns_router.get("/{int:campaign_id}", response={200: CampaignOut, 404: ErrorOut})
def campaign_read(request, campaign_id: ApiId):
    campaign = _campaign(request, campaign_id)
    return _campaign_out(
        campaign, rules.campaign_today(campaign), _kind_labels(campaign.organisation_id)
    )


class CampaignDeleteQuery(Schema):
    #: the campaign's exact name
    confirm: ApiText = Field("", max_length=300)


@campaigns_router.delete(
    "/{int:campaign_id}", response={204: None, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def campaign_delete(request, campaign_id: ApiId, filters: Query[CampaignDeleteQuery]):
    """Irreversible: the campaign and every interview attached, confirmed by its exact
    name in `confirm` (400 otherwise). Administrators only."""
    campaign = _campaign(request, campaign_id)
    _admin_only(request.auth, campaign)
    with _refusals():
        services.campaign_delete(campaign=campaign, by=request.auth, confirm=filters.confirm)
    return Status(204, None)


class CampaignStatsOut(Schema):
    not_planned: int
    planned: int
    held: int
    closing: int
    closed: int
    deleted: int


@campaigns_router.get("/{int:campaign_id}/stats", response={200: CampaignStatsOut, 404: ErrorOut})
def campaign_stats(request, campaign_id: ApiId):
    """A count for each interview status (deleted ones still counted); a manager counts
    their own interviews."""
    campaign = _campaign(request, campaign_id)
    manager = None if rules.is_admin_of(request.auth, campaign) else request.auth
    return selectors.campaign_stats(campaign, manager=manager)


# --- The interviews of a campaign --------------------------------------------------------


class InterviewStepOut(Schema):
    #: the step's place in the circuit, from 0
    position: int
    role: RoleName
    deadline_days: int
    started_at: dt.datetime | None
    due_at: dt.datetime | None


class InterviewRowOut(Schema):
    id: int
    campaign: int
    collaborator_email: str
    collaborator_name: str
    manager_email: str
    manager_name: str
    second_approver_email: str | None
    status: StatusName
    scheduled_at: dt.datetime | None
    #: the circuit step waiting (status closing), else null
    step: InterviewStepOut | None


class InterviewPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[InterviewRowOut]


def _step_out(interview: Interview) -> dict[str, Any] | None:
    step = interview.waiting_step
    if step is None:
        return None
    return {
        "position": interview.step,
        "role": step["role"],
        "deadline_days": step.get("deadline_days", 0),
        "started_at": interview.step_started_at,
        "due_at": interview.step_due_at(),
    }


def _row_out(interview: Interview) -> dict[str, Any]:
    second = interview.second_approver
    return {
        "id": interview.pk,
        "campaign": interview.campaign_id,
        "collaborator_email": interview.collaborator.email,
        "collaborator_name": interview.collaborator.full_name,
        "manager_email": interview.manager.email,
        "manager_name": interview.manager.full_name,
        "second_approver_email": second.email if second is not None else None,
        "status": interview.status,
        "scheduled_at": interview.scheduled_at,
        "step": _step_out(interview),
    }


class InterviewQuery(Schema):
    status: Literal["", "not_planned", "planned", "held", "closing", "closed", "deleted"] = ""
    #: the manager's e-mail
    manager: Email = ""
    #: words of the collaborator's name or e-mail
    q: ApiText = Field("", max_length=200)
    page: ApiPage = 1
    page_size: int = Field(50, ge=1, le=500)


@campaigns_router.get(
    "/{int:campaign_id}/interviews", response={200: InterviewPage, 400: ErrorOut, 404: ErrorOut}
)
def campaign_interviews(request, campaign_id: ApiId, filters: Query[InterviewQuery]):
    """The campaign's interviews « classés par responsable » (by manager's name, then
    collaborator's); a manager sees only theirs."""
    campaign = _campaign(request, campaign_id)
    manager = None if rules.is_admin_of(request.auth, campaign) else request.auth
    rows = selectors.interviews_of(
        campaign,
        status=filters.status or None,
        manager_email=filters.manager or None,
        q=filters.q,
        manager=manager,
    ).select_related("second_approver")
    count, page = page_of(rows, page=filters.page, page_size=filters.page_size)
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [_row_out(interview) for interview in page],
    }


class InterviewLine(TypedDict):
    """One line of the population, as the batch endpoint reads it item by item."""

    collaborator_email: Email
    manager_email: Email
    second_approver_email: NotRequired[Email | None]


_LINE = TypeAdapter(InterviewLine)
_LINE_FIELDS = ("collaborator_email", "manager_email", "second_approver_email")
_LINE_SCHEMA = {
    "type": "object",
    "required": ["collaborator_email", "manager_email"],
    "properties": {
        "collaborator_email": {"type": "string", "maxLength": 254},
        "manager_email": {"type": "string", "maxLength": 254},
        "second_approver_email": {"type": ["string", "null"], "maxLength": 254},
    },
}


def _lines_read(body: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The batch's lines for services.interviews_check (same indexes; a bad field left out)
    and the errors of their types, by index."""
    if not isinstance(body, list):
        raise BatchError(
            _("Une liste de lignes {collaborator_email, manager_email} est attendue."), []
        )
    if not body:
        raise BatchError(_("La liste des entretiens est vide."), [])
    if len(body) > services.MAX_BATCH:
        raise BatchError(
            _("%(count)d lignes envoyées : %(limit)d au plus par envoi.")
            % {"count": len(body), "limit": services.MAX_BATCH},
            [],
        )
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "reason": _("objet JSON attendu")})
            lines.append({})
            continue
        try:
            lines.append(dict(_LINE.validate_python(item)))
        except PydanticError as error:
            bad = set()
            for detail in error.errors():
                found = {**error_item(dict(detail), index_from_loc=False), "index": index}
                errors.append(found)
                bad.add(found["field"])
            lines.append({k: item[k] for k in _LINE_FIELDS if k in item and k not in bad})
    return lines, errors


def _already_there(campaign: Campaign, lines: list[dict[str, Any]]) -> list[Interview] | None:
    """A retried batch: every line is an interview of the campaign already, with the same
    manager (and N+2 when one is named) — its interviews, else None."""
    wanted = {}
    for line in lines:
        key = line["collaborator_email"].lower()
        if key in wanted:
            return None
        wanted[key] = line
    existing = list(
        campaign.interviews.filter(collaborator__email__in=list(wanted)).select_related(
            "collaborator", "manager", "second_approver"
        )
    )
    if len(existing) != len(wanted):
        return None
    for interview in existing:
        match = wanted.get(interview.collaborator.email.lower())
        if match is None or interview.manager.email.lower() != match["manager_email"].lower():
            return None
        second = match.get("second_approver_email")
        if second and (
            interview.second_approver is None
            or interview.second_approver.email.lower() != second.lower()
        ):
            return None
    order = {key: index for index, key in enumerate(wanted)}
    return sorted(existing, key=lambda i: order.get(i.collaborator.email.lower(), 0))


def _lines_refused(errors: list[dict[str, Any]]) -> BatchError:
    errors.sort(key=lambda e: (e["index"] is None, e["index"] or 0))
    return BatchError(_("Aucun entretien n'a été créé : corrigez les lignes en erreur."), errors)


@campaigns_router.post(
    "/{int:campaign_id}/interviews",
    response={
        200: list[InterviewRowOut],
        201: list[InterviewRowOut],
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": services.MAX_BATCH,
                        "items": _LINE_SCHEMA,
                    }
                }
            },
        }
    },
)
def campaign_interviews_add(request, campaign_id: ApiId):
    """The population, all or nothing: one bad line (unknown or inactive member, a
    collaborator twice or already in the campaign, a manager who is the collaborator) and
    nothing is created; 400 lists every bad line by `index`. Administrators only.

    Safe to retry: the same batch again, once created, answers its interviews with 200."""
    campaign = _campaign(request, campaign_id)
    _admin_only(request.auth, campaign)
    lines, errors = _lines_read(json_body(request, refuse_nul=False))
    if errors:
        typed = {(e["index"], e["field"]) for e in errors}
        broken = {e["index"] for e in errors if e["field"] is None}
        with _refusals():
            checked, _found = services.interviews_check(campaign=campaign, lines=lines)
        for error in checked:
            if error["index"] in broken or (error["index"], error["field"]) in typed:
                continue  # that field's type was already refused
            errors.append(error)
        raise _lines_refused(errors)
    for attempt in (1, 2):
        again = _already_there(campaign, lines)
        if again is not None:
            return Status(200, [_row_out(interview) for interview in again])
        try:
            with _refusals():
                created = services.interviews_add(campaign=campaign, by=request.auth, lines=lines)
        except services.BadLines as refusal:
            # perhaps a copy of this batch committed while this one waited for its turn
            again = _already_there(campaign, lines)
            if again is not None:
                return Status(200, [_row_out(interview) for interview in again])
            raise _lines_refused(list(refusal.lines)) from refusal
        except IntegrityError:
            # the same collaborators added at the same moment by another request: read again
            if attempt == 2:
                raise HttpError(
                    409, _("Ces entretiens viennent d'être créés par ailleurs.")
                ) from None
            continue
        ids = [interview.pk for interview in created]
        rows = {
            interview.pk: interview
            for interview in Interview.objects.filter(pk__in=ids).select_related(
                "collaborator", "manager", "second_approver"
            )
        }
        return Status(201, [_row_out(rows[pk]) for pk in ids if pk in rows])
    raise HttpError(409, _("Ces entretiens viennent d'être créés par ailleurs."))


# --- One interview ------------------------------------------------------------------------


class InterviewSignatureOut(Schema):
    position: int | None
    role: str
    by_email: str
    by_name: str
    at: dt.datetime
    comment: str
    reserve: str


class InterviewCircuitStepOut(Schema):
    position: int
    role: RoleName
    deadline_days: int
    #: done (signed), waiting (its actor's turn), to_come
    state: Literal["done", "waiting", "to_come"]
    #: the step's signature in this round of the circuit (null until it is signed)
    signed_by: CampaignPersonOut | None
    signed_at: dt.datetime | None
    comment: str
    reserve: str
    #: the waiting step's deadline
    due_at: dt.datetime | None


class InterviewEventOut(Schema):
    action: str
    action_label: str
    position: int | None
    role: str
    by: CampaignPersonOut | None
    at: dt.datetime
    comment: str
    reserve: str
    round: int


class InterviewVersionOut(Schema):
    """A closed write-up as it was signed, kept when an administrator reopened it."""

    round: int
    answers: dict[str, Any]
    preparation: dict[str, Any]
    #: each signature of that round, in order (a step sent back and signed again: twice)
    signatures: list[InterviewSignatureOut]
    closed_at: dt.datetime
    reopened_at: dt.datetime
    reopened_by: CampaignPersonOut | None
    reason: str


class InterviewDetailOut(InterviewRowOut):
    campaign_name: str
    duration_minutes: int
    place: str
    held_at: dt.datetime | None
    submitted_at: dt.datetime | None
    closed_at: dt.datetime | None
    deleted_at: dt.datetime | None
    #: the write-up {question key: value}; the collaborator reads it once submitted
    answers: dict[str, Any] | None
    #: the collaborator's preparation {question key: value}
    preparation: dict[str, Any]
    form: list[dict[str, Any]]
    #: « Avancement »: each step of the circuit, who signed it and when
    circuit: list[InterviewCircuitStepOut]
    #: every line of the history, oldest first
    events: list[InterviewEventOut]
    #: the signed versions kept by each reopening, oldest first
    versions: list[InterviewVersionOut]


def _circuit_out(interview: Interview, signatures: list[Any]) -> list[dict[str, Any]]:
    """Each step and its state; a step before the waiting one (or any, once closed) shows
    its latest signature of this round (a step sent back and signed again: the new one)."""
    latest: dict[int, Any] = {}
    for event in signatures:
        if event.position is not None:
            latest[event.position] = event
    status = interview.status
    steps = []
    for position, step in enumerate(interview.circuit):
        if status == InterviewStatus.CLOSED or (
            status == InterviewStatus.CLOSING
            and interview.step is not None
            and position < interview.step
        ):
            state = "done"
        elif status == InterviewStatus.CLOSING and position == interview.step:
            state = "waiting"
        else:
            state = "to_come"
        signed = latest.get(position) if state == "done" else None
        steps.append(
            {
                "position": position,
                "role": step.get("role"),
                "deadline_days": step.get("deadline_days", 0),
                "state": state,
                "signed_by": _person(signed.by) if signed is not None else None,
                "signed_at": signed.at if signed is not None else None,
                "comment": signed.comment if signed is not None else "",
                "reserve": signed.reserve if signed is not None else "",
                "due_at": interview.step_due_at() if state == "waiting" else None,
            }
        )
    return steps


def _detail_out(interview: Interview, member: Member) -> dict[str, Any]:
    versions = list(interview.versions.select_related("reopened_by"))
    round_ = len(versions) + 1
    events = list(interview.events.select_related("by"))
    signatures = [e for e in events if e.action == EventAction.SIGNED and e.round == round_]
    reads_answers = (
        rules.is_admin_of(member, interview.campaign)
        or member.pk == interview.manager_id
        or interview.status in (InterviewStatus.CLOSING, InterviewStatus.CLOSED)
    )
    return {
        **_row_out(interview),
        "campaign_name": interview.campaign.name,
        "duration_minutes": interview.duration_minutes,
        "place": interview.place,
        "held_at": interview.held_at,
        "submitted_at": interview.submitted_at,
        "closed_at": interview.closed_at,
        "deleted_at": interview.deleted_at,
        "answers": interview.answers if reads_answers else None,
        "preparation": interview.preparation,
        "form": interview.campaign.form,
        "circuit": _circuit_out(interview, signatures),
        "events": [
            {
                "action": event.action,
                "action_label": event.get_action_display(),
                "position": event.position,
                "role": event.role,
                "by": _person(event.by),
                "at": event.at,
                "comment": event.comment,
                "reserve": event.reserve,
                "round": event.round,
            }
            for event in events
        ],
        "versions": [
            {
                "round": version.round,
                "answers": version.answers,
                "preparation": version.preparation,
                "signatures": version.signatures,
                "closed_at": version.closed_at,
                "reopened_at": version.reopened_at,
                "reopened_by": _person(version.reopened_by),
                "reason": version.reason,
            }
            for version in versions
        ],
    }


def _answer(request: Any, interview_id: int) -> dict[str, Any]:
    """The interview as it is now, for the caller."""
    return _detail_out(_interview(request, interview_id), request.auth)


_ACTION_RESPONSES = {
    200: InterviewDetailOut,
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
}


@interviews_router.get("/{int:interview_id}", response={200: InterviewDetailOut, 404: ErrorOut})
def interview_read(request, interview_id: ApiId):
    """One interview: its circuit (each step's role, who signed and when, comments and
    « réserves », which step waits), its history and, after a reopening, the signed
    versions as they were. Its organisation's administrators and its people only."""
    return _answer(request, interview_id)


class InterviewPlanIn(Schema):
    #: with its offset (a time without one is refused), from 2000 to a few years ahead
    scheduled_at: ScheduleTime
    duration_minutes: StrictInt | None = Field(None, ge=5, le=480)
    place: Annotated[ApiText, StringConstraints(max_length=300)] | None = None


@interviews_router.post("/{int:interview_id}/plan", response=_ACTION_RESPONSES)
def interview_plan(request, interview_id: ApiId, payload: InterviewPlanIn):
    """Its manager sets (or moves) the date; the collaborator receives the invitation, or
    is told it moved. The same date again changes nothing."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_plan(
            interview=interview,
            by=request.auth,
            scheduled_at=payload.scheduled_at,
            duration_minutes=payload.duration_minutes,
            place=payload.place,
        )
    return _answer(request, interview_id)


@interviews_router.post("/{int:interview_id}/held", response=_ACTION_RESPONSES)
def interview_held(request, interview_id: ApiId):
    """Its manager says it took place (once planned)."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_held(interview=interview, by=request.auth)
    return _answer(request, interview_id)


class InterviewAnswersIn(Schema):
    #: {question key: value}: a text, a note 1–5, a choice (its French text), or a list of
    #: objectives [{title, rating}]
    answers: dict[Annotated[str, StringConstraints(max_length=40)], Any] = Field(
        max_length=services.MAX_QUESTIONS
    )


@interviews_router.post("/{int:interview_id}/draft", response=_ACTION_RESPONSES)
def interview_draft(request, interview_id: ApiId, payload: InterviewAnswersIn):
    """Its manager's write-up in progress (held, not yet submitted)."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_save_draft(interview=interview, by=request.auth, answers=payload.answers)
    return _answer(request, interview_id)


@interviews_router.post("/{int:interview_id}/submit", response=_ACTION_RESPONSES)
def interview_submit(request, interview_id: ApiId, payload: InterviewAnswersIn):
    """Its manager's final write-up, once held: every required answer; it enters the
    circuit at its first step (status closing)."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_submit(interview=interview, by=request.auth, answers=payload.answers)
    return _answer(request, interview_id)


@interviews_router.post("/{int:interview_id}/preparation", response=_ACTION_RESPONSES)
def interview_preparation(request, interview_id: ApiId, payload: InterviewAnswersIn):
    """The collaborator's preparation, until the write-up is submitted."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_prepare(
            interview=interview, by=request.auth, preparation=payload.answers
        )
    return _answer(request, interview_id)


class InterviewSignIn(Schema):
    comment: Comment | None = None
    #: the collaborator's step only
    reserve: Comment | None = None


@interviews_router.post("/{int:interview_id}/sign", response=_ACTION_RESPONSES)
def interview_sign(request, interview_id: ApiId, payload: InterviewSignIn):
    """The actor of the step that waits signs it; after the last step the interview is
    closed and its write-up locked."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_sign(
            interview=interview, by=request.auth, comment=payload.comment, reserve=payload.reserve
        )
    return _answer(request, interview_id)


class InterviewSendBackIn(Schema):
    comment: Comment = Field(min_length=1)


@interviews_router.post("/{int:interview_id}/send-back", response=_ACTION_RESPONSES)
def interview_send_back(request, interview_id: ApiId, payload: InterviewSendBackIn):
    """The actor of the step that waits sends it back one step (from the first: to the
    manager's write-up), with a comment for whoever gets it."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_send_back(interview=interview, by=request.auth, comment=payload.comment)
    return _answer(request, interview_id)


class InterviewReopenIn(Schema):
    reason: Comment = Field(min_length=1)


@interviews_router.post("/{int:interview_id}/reopen", response=_ACTION_RESPONSES)
def interview_reopen(request, interview_id: ApiId, payload: InterviewReopenIn):
    """An administrator reopens a closed interview, with a reason: the signed version is
    kept (`versions`), the manager writes again. 409 for an interview that is not closed."""
    interview = _interview(request, interview_id)
    with _refusals():
        services.interview_reopen(interview=interview, by=request.auth, reason=payload.reason)
    return _answer(request, interview_id)


@interviews_router.delete("/{int:interview_id}", response=_ACTION_RESPONSES)
def interview_delete(request, interview_id: ApiId):
    """« Supprimé » (still counted in the statistics); administrators only. 409 for a closed
    one; an interview already deleted is answered as it is (a retry)."""
    interview = _interview(request, interview_id)
    _admin_only(request.auth, interview.campaign)
    if interview.status != InterviewStatus.DELETED:
        with _refusals():
            services.interview_delete(interview=interview, by=request.auth)
    return _answer(request, interview_id)
