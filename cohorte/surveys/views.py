"""Pages: the programme's surveys and the builder, a survey's results and its CSV, the
answer page in « Mon espace » and the one a signed e-mail link opens without signing in."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.selectors import saved_filters_of
from cohorte.core.exports import csv_response
from cohorte.programs.models import Role
from cohorte.programs.selectors import program_for, programs_visible_to

from . import forms, selectors, services
from .models import CHOICE_KINDS, Invitation, Survey


@login_required
def survey_list(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Sondages »: the programme's surveys with their response rate, and the builder."""
    program = program_for(request.user, program_id)
    request.current_program = program  # type: ignore[attr-defined]
    zone = program.organisation.tzinfo
    form_kwargs = {
        "cohorts": program.organisation.cohorts.all(),
        "saved_filters": saved_filters_of(program.organisation_id)[:50],
    }
    errors: list[dict[str, Any]] = []
    if request.method == "POST":
        form = forms.SurveyForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                with timezone.override(zone):
                    survey = services.survey_create(
                        program=program,
                        title_fr=data["title_fr"],
                        title_en=data["title_en"],
                        questions=forms.questions_from_lines(data["questions"]),
                        audience={
                            "roles": data["roles"],
                            "cohorts": data["cohorts"],
                            "emails": [e for e in data["emails"].split() if e],
                            "saved_filter": data["saved_filter"] or None,
                        },
                        opens_at=forms.aware(data["opens_at"], zone),
                        closes_at=forms.aware(data["closes_at"], zone),
                        anonymous=data["anonymous"],
                        trigger=data["trigger"],
                        trigger_n=data["trigger_n"],
                        by=request.user,
                    )
            except services.SurveyError as error:
                errors = error.errors
            else:
                messages.success(request, _("Sondage « %(title)s » créé.") % {"title": survey})
                return redirect("surveys:detail", survey_id=survey.pk)
    else:
        form = forms.SurveyForm(**form_kwargs)
    surveys = list(selectors.surveys_of(program.pk))
    rates = {s.pk: selectors.survey_results(survey=s) for s in surveys[:50]}
    return render(
        request,
        "surveys/list.html",
        {
            "program": program,
            "form": form,
            "errors": errors,
            "rows": [(s, rates.get(s.pk)) for s in surveys[:50]],
        },
    )


def _managed_survey(request: MemberRequest, survey_id: int) -> Survey:
    return get_object_or_404(
        Survey.objects.filter(program__in=programs_visible_to(request.user)).select_related(
            "program__organisation"
        ),
        pk=survey_id,
    )


@login_required
def survey_detail(request: MemberRequest, survey_id: int) -> HttpResponse:
    """Results per question, live rate, filters by role and cohort."""
    survey = _managed_survey(request, survey_id)
    request.current_program = survey.program  # type: ignore[attr-defined]
    role = request.GET.get("role", "")
    role = role if role in Role.values else ""
    cohorts = list(survey.program.organisation.cohorts.all())
    cohort_raw = request.GET.get("cohort", "")
    cohort = next((c.pk for c in cohorts if str(c.pk) == cohort_raw), None)
    results = selectors.survey_results(survey=survey, role=role, cohort=cohort)
    language = translation.get_language() or "fr"
    by_key = {q["key"]: q for q in survey.questions}
    rows = []
    for row in results["questions"]:
        question = by_key[row["key"]]
        top = max(row["distribution"].values(), default=0) or 1
        bars = [
            (selectors.option_label(question, value, language), count, round(100 * count / top))
            for value, count in row["distribution"].items()
        ]
        rows.append(
            {"label": selectors.question_label(question, language), "row": row, "bars": bars}
        )
    template = (
        "surveys/_results.html" if request.headers.get("HX-Request") else "surveys/detail.html"
    )
    return render(
        request,
        template,
        {
            "survey": survey,
            "program": survey.program,
            "results": results,
            "rows": rows,
            "roles": Role.choices,
            "role": role,
            "cohorts": cohorts,
            "cohort": cohort,
            "is_open": survey.is_open(timezone.now()),
        },
    )


@login_required
@require_POST
def survey_send(request: MemberRequest, survey_id: int) -> HttpResponse:
    survey = _managed_survey(request, survey_id)
    sent = services.survey_send(survey=survey, by=request.user)
    if survey.is_open(timezone.now()):
        messages.success(request, _("%(n)s invitation(s) envoyée(s).") % {"n": sent})
    else:
        messages.error(request, _("Le sondage n'est pas ouvert : rien n'a été envoyé."))
    return redirect("surveys:detail", survey_id=survey.pk)


@login_required
def survey_csv(request: MemberRequest, survey_id: int) -> StreamingHttpResponse:
    survey = _managed_survey(request, survey_id)
    header, rows = selectors.export_rows(survey, translation.get_language() or "fr")
    return csv_response(f"sondage-{survey.pk}.csv", header, rows)


def _answers_from_post(survey: Survey, post) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for question in survey.questions:
        name = f"q_{question['key']}"
        if question["kind"] == "multiple":
            answers[question["key"]] = post.getlist(name)[:30]
        else:
            answers[question["key"]] = post.get(name, "")[:6000]
    return answers


def _answer_page(
    request: HttpRequest, invitation: Invitation, *, action: str, signed: bool
) -> HttpResponse:
    survey = invitation.survey
    now = timezone.now()
    errors: dict[str, str] = {}
    response = getattr(invitation, "response", None) if hasattr(invitation, "response") else None
    current = dict(response.answers) if response else {}
    status = 200
    if not survey.is_open(now):
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        posted = _answers_from_post(survey, request.POST)
        try:
            services.response_save(invitation=invitation, answers=posted, now=now)
        except services.SurveyClosed:
            status = 409
        except services.SurveyError as error:
            errors = {e["field"].removeprefix("answers."): e["reason"] for e in error.errors}
            current = posted
            status = 400
        else:
            messages.success(request, _("Merci : vos réponses sont enregistrées."))
            return redirect(action)
    language = translation.get_language() or "fr"
    questions = []
    for question in survey.questions:
        value = current.get(question["key"])
        condition = question.get("show_if")
        questions.append(
            {
                "key": question["key"],
                "kind": question["kind"],
                "label": selectors.question_label(question, language),
                "required": question["required"],
                "options": [
                    (
                        o["fr"],
                        o["en"] if language.startswith("en") else o["fr"],
                        o["fr"] in (value if isinstance(value, list) else [value]),
                    )
                    for o in question["options"]
                ]
                if question["kind"] in CHOICE_KINDS
                else [],
                "value": "" if value is None or isinstance(value, list) else str(value),
                "error": errors.get(question["key"], ""),
                "condition": (
                    selectors.question_label(
                        next(q for q in survey.questions if q["key"] == condition["question"]),
                        language,
                    ),
                    ", ".join(condition["in"]),
                )
                if condition
                else None,
                "scale": list(range(1, 6))
                if question["kind"] == "scale"
                else (list(range(0, 11)) if question["kind"] == "nps" else []),
            }
        )
    return render(
        request,
        "surveys/answer.html",
        {
            "survey": survey,
            "invitation": invitation,
            "questions": questions,
            "answered": response is not None,
            "is_open": survey.is_open(now),
            "upcoming": now < survey.opens_at,
            "closes": selectors.closes_text(survey),
            "action": action,
            "signed": signed,
        },
        status=status,
    )


@login_required
def answer(request: MemberRequest, survey_id: int) -> HttpResponse:
    """The signed-in member's answer page (« Mon espace » › « À faire »)."""
    invitation = selectors.survey_for_member(request.user, survey_id)
    if invitation is None:
        raise Http404("Not invited.")
    return _answer_page(request, invitation, action=request.path, signed=False)


def answer_link(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's link: only this person's answers to this survey, no sign-in, until
    the survey closes."""
    invitation = services.invitation_from_token(token[:500])
    if invitation is None:
        raise Http404("Bad link.")
    if timezone.now() >= invitation.survey.closes_at and request.method == "GET":
        return render(
            request,
            "surveys/answer.html",
            {"survey": invitation.survey, "expired": True, "signed": True},
            status=410,
        )
    with translation.override(invitation.member.language):
        return _answer_page(request, invitation, action=request.path, signed=True)
