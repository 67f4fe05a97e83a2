"""Reads of surveys: what a member still has to answer, response rates, results per
question, the export's rows — anonymity kept in every one of them."""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import Avg, Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.todo import TodoItem
from cohorte.programs.models import Role

from .models import CHOICE_KINDS, Answer, Invitation, QuestionKind, Response, Survey
from .services import ANONYMITY_THRESHOLD


def surveys_to_answer(member: Member, now: dt.datetime | None = None) -> QuerySet[Invitation]:
    """The surveys this member must fill: invited, open now, not answered yet; the one
    closing first comes first (« À faire », « Mes sondages »)."""
    now = now or timezone.now()
    return (
        Invitation.objects.filter(
            member=member,
            response__isnull=True,
            survey__opens_at__lte=now,
            survey__closes_at__gt=now,
        )
        .select_related("survey__program")
        .order_by("survey__closes_at", "pk")
    )


def surveys_answered(member: Member) -> QuerySet[Invitation]:
    """The surveys this member has answered, newest first (editable while open)."""
    return (
        Invitation.objects.filter(member=member, response__isnull=False)
        .select_related("survey__program", "response")
        .order_by("-response__updated_at", "-pk")
    )


def survey_todo_items(member: Member) -> list[TodoItem]:
    """« À faire »: each open survey this member was asked and has not answered (one query)."""
    if not getattr(member, "pk", None):
        return []
    items = []
    for invitation in surveys_to_answer(member)[:20]:
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
    """The programme's surveys, each with how many were invited and answered (counted by
    the database, one query for the list)."""
    invited = (
        Invitation.objects.filter(survey=OuterRef("pk"))
        .order_by()
        .values("survey")
        .annotate(n=Count("pk"))
        .values("n")
    )
    responded = (
        Response.objects.filter(survey=OuterRef("pk"))
        .order_by()
        .values("survey")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Survey.objects.filter(program_id=program_id).annotate(
        invited_count=Coalesce(Subquery(invited), 0),
        responded_count=Coalesce(Subquery(responded), 0),
    )


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


def _too_few(total: int, kept: int) -> bool:
    """Whether an anonymous survey's results would tell who answered what: fewer than the
    threshold in the group shown, or fewer than it left out of the group (the difference
    between the whole and the group would be those few people's answers)."""
    return kept < ANONYMITY_THRESHOLD or 0 < total - kept < ANONYMITY_THRESHOLD


def survey_results(*, survey: Survey, role: str = "", cohort: int | None = None) -> dict[str, Any]:
    """`invited`, `responded`, `rate` and per question its count, distribution, mean (scales)
    and NPS (promoters 9–10 minus detractors 0–6, in % of answers). Filtering by role or
    cohort narrows the responses; the rate stays the survey's. Counted by the database in
    a fixed number of queries, whatever the number of answers."""
    invited = Invitation.objects.filter(survey=survey).count()
    responses = Response.objects.filter(survey=survey)
    responded_all = responses.count()
    if role:
        responses = responses.filter(role=role)
    if cohort is not None:
        responses = responses.filter(cohorts=cohort)
    kept = responses.count() if (role or cohort is not None) else responded_all
    hidden = survey.anonymous and _too_few(responded_all, kept)
    answers = Answer.objects.filter(survey=survey, response__in=responses.values("pk"))
    counts: dict[str, int] = {}
    means: dict[str, float | None] = {}
    buckets: dict[tuple[str, str], int] = {}
    texts: dict[str, list[str]] = {}
    if not hidden:
        for total in answers.values("key").annotate(
            n=Count("response", distinct=True), mean=Avg("number")
        ):
            counts[total["key"]] = total["n"]
            means[total["key"]] = total["mean"]
        for bucket in (
            answers.filter(text="").values("key", "number", "choice").annotate(n=Count("pk"))
        ):
            value = str(bucket["number"]) if bucket["number"] is not None else bucket["choice"]
            buckets[(bucket["key"], value)] = bucket["n"]
        order = ("text", "pk") if survey.anonymous else ("-response__updated_at", "pk")
        text_keys = [
            q["key"]
            for q in survey.questions
            if q["kind"] in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)
        ]
        for key in text_keys:  # one query per text question (a survey has 50 at most)
            texts[key] = list(
                answers.filter(key=key).order_by(*order).values_list("text", flat=True)[:200]
            )
    questions = []
    for question in survey.questions:
        key, kind = question["key"], question["kind"]
        row: dict[str, Any] = {"key": key, "kind": kind, "count": counts.get(key, 0)}
        if hidden:
            row["distribution"] = {}
        elif kind in (QuestionKind.SCALE, QuestionKind.NPS):
            low, high = (1, 5) if kind == QuestionKind.SCALE else (0, 10)
            row["distribution"] = {
                str(v): buckets.get((key, str(v)), 0) for v in range(low, high + 1)
            }
        elif kind in CHOICE_KINDS:
            row["distribution"] = {
                o["fr"]: buckets.get((key, o["fr"]), 0) for o in question["options"]
            }
        else:
            row["distribution"] = {}
        if kind == QuestionKind.SCALE:
            mean = means.get(key)
            row["mean"] = round(mean, 2) if mean is not None and not hidden else None
        if kind == QuestionKind.NPS:
            answered = row["count"]
            if answered and not hidden:
                promoters = sum(row["distribution"][str(v)] for v in (9, 10))
                detractors = sum(row["distribution"][str(v)] for v in range(0, 7))
                row["nps"] = round(100 * (promoters - detractors) / answered)
            else:
                row["nps"] = None
        if key in texts:
            row["texts"] = texts[key]
        questions.append(row)
    return {
        "invited": invited,
        "responded": responded_all,
        "rate": round(responded_all / invited, 4) if invited else 0.0,
        "filtered_responses": kept,
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
    few_roles: set[str] = set()
    if survey.anonymous:
        if responses.count() < ANONYMITY_THRESHOLD:
            return header, iter([])
        # a role that fewer than the threshold have would name them: it is left blank
        few_roles = {
            row["role"]
            for row in responses.values("role").annotate(n=Count("pk"))
            if row["n"] < ANONYMITY_THRESHOLD
        }
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

    zone = survey.program.organisation.tzinfo

    def rows() -> Iterator[list[Any]]:
        for response in responses.iterator(chunk_size=500):
            answers = [cell(q, response.answers.get(q["key"])) for q in questions]
            role = "" if response.role in few_roles else role_label(response.role)
            if survey.anonymous:
                yield [role, *answers]
            else:
                member = response.invitation.member
                when = timezone.localtime(response.updated_at, zone).strftime("%Y-%m-%d %H:%M")
                yield [member.full_name, member.email, role, when, *answers]

    return header, rows()


def role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def closes_text(survey: Survey) -> str:
    local = survey.closes_at.astimezone(survey.program.organisation.tzinfo)
    return formats.date_format(local, "DATETIME_FORMAT")


def is_open(survey: Survey, now: dt.datetime | None = None) -> bool:
    return survey.is_open(now or timezone.now())
