"""/api/programs/{id}/surveys and /api/surveys/{id}: create a survey, read it, answer it,
read its results.

A `label` (of a question or an option) is either a string — the same text in French and
English — or an object {"fr": …, "en": …} (one of them may be missing: the other is used).
Dates are ISO 8601 with their offset. `trigger` is {"kind": "date" | "meetings" |
"relationship_end" | "manual", "n": N}: at the opening date (the default), after a member's
N-th held meeting, N days after a relationship ended (a programme evaluation sent to both
of the pair; reminders 7, 14 and 21 days after each invitation), or by hand."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from pydantic import AwareDatetime, StrictInt, StringConstraints

from cohorte.core.api import BatchError, ErrorOut
from cohorte.core.parse import ApiId
from cohorte.programs.selectors import program_for, programs_visible_to

from . import selectors, services
from .models import Invitation, Survey

programs_router = Router(tags=["sondages"])
surveys_router = Router(tags=["sondages"])

#: a label's text: the service keeps 500 characters (200 for a title or an option) and says so
Text = Annotated[str, StringConstraints(max_length=2000)]
Label = Text | dict[Literal["fr", "en"], Text]


def _refused(error: services.SurveyError) -> BatchError:
    return BatchError(
        _("Requête invalide."),
        [{"index": None, "field": e["field"], "reason": e["reason"]} for e in error.errors],
    )


class ShowIf(Schema):
    #: the key of an earlier question
    question: str = Field(max_length=40)
    #: the answers of that question that show this one
    values: list[Annotated[str, StringConstraints(max_length=200)] | StrictInt] = Field(
        alias="in", max_length=30
    )


class QuestionIn(Schema):
    key: str = Field(max_length=40)
    kind: Literal["scale", "nps", "single", "multiple", "short_text", "long_text"]
    #: a string, or {"fr", "en"}
    label: Label
    #: for single and multiple only: at least two, each a string or {"fr", "en"}
    options: list[Label] | None = Field(None, max_length=30)
    required: bool = False
    show_if: ShowIf | None = None


class AudienceIn(Schema):
    #: enrolment roles in the programme (participant, mentee, mentor…)
    roles: list[str] = Field([], max_length=10)
    #: members of the programme, by e-mail
    emails: list[str] = Field([], max_length=5000)
    #: cohort or tag ids of the organisation
    cohorts: list[ApiId] = Field([], max_length=100)
    #: a saved members filter's id
    saved_filter: ApiId | None = None


class TriggerIn(Schema):
    kind: Literal["date", "meetings", "relationship_end", "manual"] = "date"
    n: StrictInt = Field(0, ge=0, le=365)


class SurveyIn(Schema):
    #: a string, or {"fr", "en"}
    title: Label
    questions: list[QuestionIn] = Field(min_length=1, max_length=50)
    audience: AudienceIn | None = None
    opens_at: AwareDatetime
    closes_at: AwareDatetime
    anonymous: bool = False
    trigger: TriggerIn | None = None
    #: days after each invitation when those who have not answered are reminded
    reminder_days: list[StrictInt] = Field([7, 14, 21], max_length=10)


class QuestionOut(Schema):
    key: str
    kind: str
    label: dict[str, str]
    options: list[dict[str, str]]
    required: bool
    show_if: dict[str, Any] | None


class SurveyOut(Schema):
    id: int
    program: int
    title: dict[str, str]
    questions: list[QuestionOut]
    opens_at: dt.datetime
    closes_at: dt.datetime
    anonymous: bool
    trigger: dict[str, Any]
    reminder_days: list[int]
    status: Literal["upcoming", "open", "closed"]


def _out(survey: Survey) -> dict[str, Any]:
    from django.utils import timezone

    now = timezone.now()
    status = "upcoming" if now < survey.opens_at else ("open" if survey.is_open(now) else "closed")
    return {
        "id": survey.pk,
        "program": survey.program_id,
        "title": {"fr": survey.title_fr, "en": survey.title_en or survey.title_fr},
        "questions": survey.questions,
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "anonymous": survey.anonymous,
        "trigger": {"kind": survey.trigger, "n": survey.trigger_n},
        "reminder_days": survey.reminder_days or [],
        "status": status,
    }


@programs_router.post(
    "/{int:program_id}/surveys", response={201: SurveyOut, 400: ErrorOut, 404: ErrorOut}
)
def survey_create(request, program_id: ApiId, payload: SurveyIn):
    """A survey of the programme (its managers only). 400 lists every problem: duplicate
    keys, options on a kind without any, a choice without options, closes_at before
    opens_at, unknown roles, e-mails not in the programme."""
    program = program_for(request.auth, program_id)
    title = services._label(payload.title) or {"fr": "", "en": ""}
    trigger = payload.trigger or TriggerIn(kind="date", n=0)
    try:
        survey = services.survey_create(
            program=program,
            title_fr=title["fr"],
            title_en=title["en"],
            questions=[q.model_dump(by_alias=True) for q in payload.questions],
            audience=payload.audience.model_dump() if payload.audience else {},
            opens_at=payload.opens_at,
            closes_at=payload.closes_at,
            anonymous=payload.anonymous,
            trigger=trigger.kind,
            trigger_n=trigger.n,
            reminder_days=payload.reminder_days,
            by=request.auth,
        )
    except services.SurveyError as error:
        raise _refused(error) from error
    return Status(201, _out(survey))


def _survey_seen_by(member, survey_id: int) -> tuple[Survey, bool]:
    """The survey and whether this member manages it; 404 if they neither manage it nor
    were invited (another organisation's survey is never found)."""
    survey = (
        Survey.objects.filter(pk=survey_id, program__organisation_id=member.organisation_id)
        .select_related("program__organisation")
        .first()
    )
    if survey is None:
        raise Http404("No such survey.")
    manages = programs_visible_to(member).filter(pk=survey.program_id).exists()
    if not manages and not Invitation.objects.filter(survey=survey, member=member).exists():
        raise Http404("No such survey.")
    return survey, manages


@surveys_router.get("/{int:survey_id}", response={200: SurveyOut, 404: ErrorOut})
def survey_read(request, survey_id: ApiId):
    """The survey, for its managers and for the people invited to it."""
    survey, _manages = _survey_seen_by(request.auth, survey_id)
    return _out(survey)


class AnswerIn(Schema):
    question: str = Field(max_length=40)
    #: a number (scale 1–5, nps 0–10), an option (its French or English text), a list of
    #: options (multiple) or a text
    value: (
        StrictInt
        | Annotated[str, StringConstraints(max_length=20000)]
        | Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(max_length=30)]
        | None
    ) = None


class ResponseIn(Schema):
    answers: list[AnswerIn] = Field(max_length=50)


class ResponseOut(Schema):
    survey: int
    answers: dict[str, Any]
    submitted_at: dt.datetime
    updated_at: dt.datetime
    replaced: bool


@surveys_router.post(
    "/{int:survey_id}/responses",
    response={
        200: ResponseOut,
        201: ResponseOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
    },
)
def response_submit(request, survey_id: ApiId, payload: ResponseIn):
    """The caller's answers (201; 200 when they replace an earlier response). 403 for a
    person not invited, 409 before the opening or after the closing."""
    survey = Survey.objects.filter(
        pk=survey_id, program__organisation_id=request.auth.organisation_id
    ).first()
    if survey is None:
        raise Http404("No such survey.")
    invitation = Invitation.objects.filter(survey=survey, member=request.auth).first()
    if invitation is None:
        return Status(403, {"message": _("Vous n'êtes pas invité à ce sondage."), "errors": []})
    try:
        response, created = services.response_save(
            invitation=invitation, answers=[a.model_dump() for a in payload.answers]
        )
    except services.SurveyClosed:
        return Status(409, {"message": _("Ce sondage n'est pas ouvert."), "errors": []})
    except services.SurveyError as error:
        raise _refused(error) from error
    return Status(
        201 if created else 200,
        {
            "survey": survey.pk,
            "answers": response.answers,
            "submitted_at": response.submitted_at,
            "updated_at": response.updated_at,
            "replaced": not created,
        },
    )


class QuestionResult(Schema):
    key: str
    kind: str
    count: int
    #: value (or option's French text) → number of answers
    distribution: dict[str, int]
    #: scales only
    mean: float | None = None
    #: NPS only: % promoters (9–10) minus % detractors (0–6), −100..100
    nps: int | None = None


class ResultsOut(Schema):
    invited: int
    responded: int
    #: responded / invited, 0..1
    rate: float
    #: an anonymous survey with fewer answers than `threshold` shows no distribution
    too_few: bool
    threshold: int
    questions: list[QuestionResult]


@surveys_router.get("/{int:survey_id}/results", response={200: ResultsOut, 404: ErrorOut})
def survey_results(request, survey_id: ApiId, role: str = "", cohort: ApiId | None = None):
    """The results, for the programme's managers only; filtered by role or cohort."""
    survey = get_object_or_404(
        Survey.objects.filter(program__in=programs_visible_to(request.auth)), pk=survey_id
    )
    return selectors.survey_results(survey=survey, role=role[:20], cohort=cohort)
