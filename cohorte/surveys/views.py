"""Pages: the programme's surveys and the builder, a survey's results and its CSV, the
answer page in « Mon espace » and the one a signed e-mail link opens without signing in."""

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.accounts.selectors import saved_filters_of
from cohorte.core.exports import csv_response
from cohorte.core.parse import ParseError, parse_int
from cohorte.programs.models import Program, Role
from cohorte.programs.selectors import program_for, programs_visible_to

from . import forms, selectors, services
from .models import CHOICE_KINDS, Invitation, QuestionKind, Survey


@login_required
def survey_list(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Sondages »: the programme's surveys with their live response rate."""
    program = program_for(request.user, program_id)
    request.current_program = program  # type: ignore[attr-defined]
    now = timezone.now()
    rows = []
    for survey in selectors.surveys_of(program.pk)[:200]:
        invited = survey.invited_count  # type: ignore[attr-defined]
        responded = survey.responded_count  # type: ignore[attr-defined]
        rows.append(
            {
                "survey": survey,
                "invited": invited,
                "responded": responded,
                "rate": round(100 * responded / invited) if invited else 0,
                "status": "upcoming"
                if now < survey.opens_at
                else ("open" if survey.is_open(now) else "closed"),
            }
        )
    return render(request, "surveys/list.html", {"program": program, "rows": rows})


LOCKED = gettext_lazy("Ce sondage est ouvert : il ne peut plus être modifié.")

#: where the service's reasons go on the settings form
SETTINGS_FIELDS = {
    "title": "title_fr",
    "opens_at": "opens_at",
    "closes_at": "closes_at",
    "trigger": "trigger",
    "trigger.n": "trigger_n",
    "reminder_days": "reminder_days",
    "audience.roles": "roles",
    "audience.emails": "emails",
    "audience.people": "emails",
    "audience.cohorts": "cohorts",
    "audience.saved_filter": "saved_filter",
}
#: and on a question's row
ROW_FIELDS = {
    "key": "key",
    "kind": "kind",
    "label": "label_fr",
    "options": "options_fr",
    "required": "required",
    "show_if": "show_if_values",
}


def _place_errors(
    errors: list[dict[str, Any]], form: forms.SurveyForm, rows: forms.BaseQuestionFormSet
) -> list[str]:
    """Each of the service's reasons on the field it concerns; what fits nowhere is returned."""
    loose = []
    for error in errors:
        field, reason = error["field"], error["reason"]
        parts = field.split(".")
        if field in SETTINGS_FIELDS:
            form.add_error(SETTINGS_FIELDS[field], reason)
        elif parts[0] == "questions" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            name = ROW_FIELDS.get(parts[2] if len(parts) > 2 else "", None)
            if index < len(rows.kept):
                rows.kept[index].add_error(name, reason)
            else:
                loose.append(reason)
        else:
            loose.append(reason)
    return loose


def _builder(
    request: MemberRequest, program: Program, survey: Survey | None = None
) -> HttpResponse:
    """The builder, to make a survey or to change one that has not opened yet."""
    zone = program.organisation.tzinfo
    form_kwargs = {
        "cohorts": program.organisation.cohorts.all(),
        "saved_filters": saved_filters_of(program.organisation_id)[:50],
    }
    loose: list[str] = []
    with timezone.override(zone):
        if request.method == "POST":
            form = forms.SurveyForm(request.POST, **form_kwargs)
            rows = forms.QuestionFormSet(request.POST, prefix=forms.PREFIX)
            if form.is_valid() & rows.is_valid():
                questions = rows.questions()
                data = form.cleaned_data
                fields = {
                    "title_fr": data["title_fr"],
                    "title_en": data["title_en"],
                    "questions": questions,
                    "audience": {
                        "roles": data["roles"],
                        "cohorts": data["cohorts"],
                        "emails": [e for e in data["emails"].split() if e][:5000],
                        "saved_filter": data["saved_filter"] or None,
                    },
                    "opens_at": forms.aware(data["opens_at"], zone),
                    "closes_at": forms.aware(data["closes_at"], zone),
                    "anonymous": data["anonymous"],
                    "trigger": data["trigger"],
                    "trigger_n": data["trigger_n"],
                    "reminder_days": data["reminder_days"],
                    "by": request.user,
                }
                try:
                    if survey is None:
                        saved = services.survey_create(program=program, **fields)
                        done = _("Sondage « %(title)s » créé.")
                    else:
                        saved = services.survey_update(survey=survey, **fields)
                        done = _("Sondage « %(title)s » modifié.")
                except services.SurveyError as error:
                    loose = _place_errors(error.errors, form, rows)
                except services.SurveyLocked:
                    messages.error(
                        request, _("Ce sondage est ouvert : il ne peut plus être modifié.")
                    )
                    return redirect("surveys:detail", survey_id=survey.pk)  # type: ignore[union-attr]
                else:
                    messages.success(request, done % {"title": saved})
                    return redirect("surveys:detail", survey_id=saved.pk)
            elif not rows.is_valid():
                loose = [str(e) for e in rows.non_form_errors()]
        elif survey is not None:
            audience = survey.audience or {}
            emails = Member.objects.filter(pk__in=audience.get("people") or []).values_list(
                "email", flat=True
            )
            form = forms.SurveyForm(
                initial={
                    "title_fr": survey.title_fr,
                    "title_en": survey.title_en,
                    "opens_at": timezone.localtime(survey.opens_at, zone).replace(tzinfo=None),
                    "closes_at": timezone.localtime(survey.closes_at, zone).replace(tzinfo=None),
                    "anonymous": survey.anonymous,
                    "trigger": survey.trigger,
                    "trigger_n": survey.trigger_n,
                    "reminder_days": ", ".join(str(d) for d in survey.reminder_days or []),
                    "roles": audience.get("roles") or [],
                    "cohorts": [str(c) for c in audience.get("cohorts") or []],
                    "emails": "\n".join(emails),
                    "saved_filter": str(audience.get("saved_filter") or ""),
                },
                **form_kwargs,
            )
            rows = forms.QuestionFormSet(
                initial=forms.initial_rows(survey.questions), prefix=forms.PREFIX
            )
        else:
            start = timezone.localtime(timezone.now(), zone).replace(
                minute=0, second=0, microsecond=0, tzinfo=None
            ) + dt.timedelta(hours=1)
            form = forms.SurveyForm(
                initial={"opens_at": start, "closes_at": start + dt.timedelta(days=30)},
                **form_kwargs,
            )
            rows = forms.QuestionFormSet(
                initial=[{"kind": "scale", "required": True}], prefix=forms.PREFIX
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "surveys/builder.html",
        {
            "program": program,
            "survey": survey,
            "form": form,
            "rows": rows,
            "loose": loose,
            "max_rows": forms.MAX_ROWS,
        },
        status=status,
    )


@login_required
def survey_create(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    request.current_program = program  # type: ignore[attr-defined]
    return _builder(request, program)


@login_required
def survey_edit(request: MemberRequest, survey_id: int) -> HttpResponse:
    """The builder again, until the survey opens."""
    survey = _managed_survey(request, survey_id)
    request.current_program = survey.program  # type: ignore[attr-defined]
    if not services.survey_editable(survey, timezone.now()):
        messages.error(request, LOCKED)
        return redirect("surveys:detail", survey_id=survey.pk)
    return _builder(request, survey.program, survey)


@login_required
@require_POST
def question_row(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Ajouter une question » (htmx): one more row, its condition offering the questions
    above as they are typed; the formset's count follows out of band."""
    program = program_for(request.user, program_id)
    total_raw = request.POST.get(f"{forms.PREFIX}-TOTAL_FORMS", "0")
    try:
        index = parse_int(total_raw, minimum=0, maximum=forms.MAX_ROWS)
    except ParseError as error:
        return HttpResponse(error.message, status=400)
    if index >= forms.MAX_ROWS:
        return HttpResponse(_("%(n)s questions au plus.") % {"n": forms.MAX_ROWS}, status=400)
    row = forms.QuestionForm(
        prefix=f"{forms.PREFIX}-{index}",
        initial={"kind": "scale"},
        earlier=forms.earlier_choices(request.POST, None, index),
        use_required_attribute=False,
    )
    forms.QuestionFormSet(prefix=forms.PREFIX).add_fields(row, index)  # « Ordre », « Supprimer »
    row.fields["ORDER"].initial = index + 1
    return render(
        request,
        "surveys/_question_row.html",
        {
            "program": program,
            "qform": row,
            "number": index + 1,
            "total": index + 1,
            "oob": True,
        },
    )


@login_required
def survey_delete(request: MemberRequest, survey_id: int) -> HttpResponse:
    """Delete, after a confirmation page that says how many answers go with it."""
    survey = _managed_survey(request, survey_id)
    request.current_program = survey.program  # type: ignore[attr-defined]
    if request.method == "POST":
        program_id = survey.program_id
        title = str(survey)
        services.survey_delete(survey=survey, by=request.user)
        messages.success(request, _("Sondage « %(title)s » supprimé.") % {"title": title})
        return redirect("surveys:list", program_id=program_id)
    return render(
        request,
        "surveys/delete.html",
        {
            "survey": survey,
            "program": survey.program,
            "responses": survey.responses.count(),
            "invited": survey.invitations.count(),
        },
    )


@login_required
@require_POST
def survey_remind(request: MemberRequest, survey_id: int) -> HttpResponse:
    """« Relancer maintenant » the people who have not answered."""
    survey = _managed_survey(request, survey_id)
    if not survey.is_open(timezone.now()):
        messages.error(request, _("Le sondage n'est pas ouvert : rien n'a été envoyé."))
    else:
        sent = services.survey_remind(survey=survey, by=request.user)
        if not sent:
            messages.info(
                request,
                _(
                    "Aucune relance envoyée : chacun a répondu ou a été relancé "
                    "il y a moins d'un jour."
                ),
            )
            return redirect("surveys:detail", survey_id=survey.pk)
        messages.success(
            request,
            ngettext("%(n)s relance envoyée.", "%(n)s relances envoyées.", sent) % {"n": sent},
        )
    return redirect("surveys:detail", survey_id=survey.pk)


@login_required
def my_surveys(request: MemberRequest) -> HttpResponse:
    """« Mon espace » › « Mes sondages »: the ones to fill, then the ones answered (which
    can still be changed while open)."""
    now = timezone.now()
    answered = list(selectors.surveys_answered(request.user)[:100])
    return render(
        request,
        "surveys/mine.html",
        {
            "waiting": list(selectors.surveys_to_answer(request.user, now)[:100]),
            "answered": [(i, i.survey.is_open(now)) for i in answered],
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
            "questions": [
                {
                    "key": q["key"],
                    "label": selectors.question_label(q, language),
                    "kind": QuestionKind(q["kind"]).label,
                    "required": q["required"],
                    "options": [selectors.option_label(q, o["fr"], language) for o in q["options"]],
                    "condition": _condition_text(survey, q["show_if"], language)
                    if q.get("show_if")
                    else None,
                }
                for q in survey.questions
            ],
            "editable": services.survey_editable(survey, timezone.now()),
            "sendable": services.sendable_by_hand(survey),
        },
    )


@login_required
@require_POST
def survey_send(request: MemberRequest, survey_id: int) -> HttpResponse:
    survey = _managed_survey(request, survey_id)
    sent = services.survey_send(survey=survey, by=request.user)
    if not services.sendable_by_hand(survey):
        messages.error(
            request,
            _("Ce sondage part de lui-même pour chaque personne, selon son déclencheur."),
        )
    elif survey.is_open(timezone.now()):
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


def _condition_text(survey: Survey, condition: dict[str, Any], language: str) -> tuple[str, str]:
    """« Seulement si « Format » : Visio » in the reader's language."""
    target = next(q for q in survey.questions if q["key"] == condition["question"])
    values = [selectors.option_label(target, value, language) for value in condition["in"]]
    return selectors.question_label(target, language), ", ".join(values)


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
                "condition": _condition_text(survey, condition, language) if condition else None,
                "show_if": {
                    "question": condition["question"],
                    "in_json": json.dumps(condition["in"]),
                }
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
