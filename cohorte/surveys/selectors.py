"""Reads of surveys: what a member still has to answer, response rates, results per
question, the export's rows — anonymity kept in every one of them."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.todo import TodoItem

from .models import CHOICE_KINDS, Invitation, QuestionKind, Response, Survey
from .services import ANONYMITY_THRESHOLD


def survey_todo_items(member: Member) -> list[TodoItem]:
    """« À faire »: each open survey this member was asked and has not answered (one query)."""
    if not getattr(member, "pk", None):
        return []
    now = timezone.now()
    waiting = (
        Invitation.objects.filter(
            member=member,
            response__isnull=True,
            survey__opens_at__lte=now,
            survey__closes_at__gt=now,
        )
        .select_related("survey__program")
        .order_by("survey__closes_at")[:20]
    )
    items = []
    for invitation in waiting:
        survey = invitation.survey
        items.append(
            TodoItem(
                kind="survey",
                title=_("Répondez au sondage « %(title)s »") % {"title": survey.title},
                url=reverse("surveys:answer", args=[survey.pk]),
                due_at=survey.closes_at,
                detail=survey.program.name,
            )
        )
    return items


def surveys_of(program_id: int) -> QuerySet[Survey]:
    return Survey.objects.filter(program_id=program_id)


def survey_for_member(member: Member, survey_id: int) -> Invitation | None:
    return (
        Invitation.objects.filter(member=member, survey_id=survey_id)
        .select_related("survey__program__organisation")
        .first()
    )


def question_label(question: dict[str, Any], language: str) -> str:
    label = question.get("label") or {}
    return label.get("en" if (language or "").startswith("en") else "fr") or label.get("fr", "")


def option_label(question: dict[str, Any], value: str, language: str) -> str:
    for option in question.get("options") or []:
        if option["fr"] == value:
            return option["en"] if (language or "").startswith("en") else option["fr"]
    return value


def survey_results(*, survey: Survey, role: str = "", cohort: int | None = None) -> dict[str, Any]:
    """`invited`, `responded`, `rate` and per question its count, distribution, mean (scales)
    and NPS (promoters 9–10 minus detractors 0–6, in % of answers). Filtering by role or
    cohort narrows the responses; the rate stays the survey's."""
    invited = Invitation.objects.filter(survey=survey).count()
    responded_all = Response.objects.filter(survey=survey).count()
    responses = Response.objects.filter(survey=survey)
    if role:
        responses = responses.filter(role=role)
    answer_sets = [r.answers for r in responses.only("answers")]
    if cohort is not None:
        answer_sets = [
            r.answers for r in responses.only("answers", "cohorts") if cohort in (r.cohorts or [])
        ]
    hidden = survey.anonymous and len(answer_sets) < ANONYMITY_THRESHOLD
    questions = []
    for question in survey.questions:
        key, kind = question["key"], question["kind"]
        values = [a[key] for a in answer_sets if key in a]
        row: dict[str, Any] = {"key": key, "kind": kind, "count": len(values)}
        if hidden:
            row["distribution"] = {}
        elif kind in (QuestionKind.SCALE, QuestionKind.NPS):
            low, high = (1, 5) if kind == QuestionKind.SCALE else (0, 10)
            row["distribution"] = {str(v): values.count(v) for v in range(low, high + 1)}
        elif kind in CHOICE_KINDS:
            flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
            row["distribution"] = {o["fr"]: flat.count(o["fr"]) for o in question["options"]}
        else:
            row["distribution"] = {}
        if kind == QuestionKind.SCALE:
            row["mean"] = round(sum(values) / len(values), 2) if values and not hidden else None
        if kind == QuestionKind.NPS:
            if values and not hidden:
                promoters = sum(1 for v in values if v >= 9)
                detractors = sum(1 for v in values if v <= 6)
                row["nps"] = round(100 * (promoters - detractors) / len(values))
            else:
                row["nps"] = None
        if kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT) and not hidden:
            # what the page lists (the CSV has them all); anonymous: in no telling order
            row["texts"] = (sorted(values) if survey.anonymous else values)[:200]
        questions.append(row)
    return {
        "invited": invited,
        "responded": responded_all,
        "rate": round(responded_all / invited, 4) if invited else 0.0,
        "filtered_responses": len(answer_sets),
        "too_few": hidden,
        "threshold": ANONYMITY_THRESHOLD,
        "questions": questions,
    }


def export_rows(survey: Survey, language: str) -> tuple[list[str], Iterator[list[Any]]]:
    """Every response, one row each: who and when unless the survey is anonymous (then
    neither, and in an order that says nothing of who answered first)."""
    questions = survey.questions
    header = [question_label(q, language) or q["key"] for q in questions]
    if not survey.anonymous:
        header = [_("Nom"), _("Courriel"), _("Rôle"), _("Répondu le"), *header]
    else:
        header = [_("Rôle"), *header]
    responses = Response.objects.filter(survey=survey)
    if survey.anonymous:
        if responses.count() < ANONYMITY_THRESHOLD:
            return header, iter([])
        responses = responses.order_by("answers", "pk")  # not the order they came in
    else:
        responses = responses.select_related("invitation__member").order_by(
            "invitation__member__last_name", "pk"
        )

    def cell(question: dict[str, Any], value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, list):
            return ", ".join(option_label(question, v, language) for v in value)
        if question["kind"] in CHOICE_KINDS:
            return option_label(question, value, language)
        return str(value)

    def rows() -> Iterator[list[Any]]:
        for response in responses.iterator(chunk_size=500):
            answers = [cell(q, response.answers.get(q["key"])) for q in questions]
            if survey.anonymous:
                yield [response.role, *answers]
            else:
                member = response.invitation.member
                yield [member.full_name, member.email, response.role, response.updated_at, *answers]

    return header, rows()


def closes_text(survey: Survey) -> str:
    local = survey.closes_at.astimezone(survey.program.organisation.tzinfo)
    return formats.date_format(local, "DATETIME_FORMAT")


def is_open(survey: Survey, now: dt.datetime | None = None) -> bool:
    return survey.is_open(now or timezone.now())
