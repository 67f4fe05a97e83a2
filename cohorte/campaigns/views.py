"""Pages of the interview campaigns (« Entretiens › Campagnes d'entretiens »): « Détail
campagne » (the statistics), « Détail entretiens » (grouped by manager, filtered, bulk
actions) and one interview's page, where each person finds the action that is theirs.

Views parse, call a service, render: a refusal of the service is shown as a message on the
page (403 out of turn, 409 once closed, 400 for a bad value), never as a server error."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.parse import ParseError, parse_datetime, parse_ids, parse_int, zone_or_default

from . import rules, selectors, services
from .models import (
    LOCKED,
    STATUS_COLOURS,
    STATUS_PLURALS,
    Campaign,
    CampaignStatus,
    CircuitRole,
    EventAction,
    Interview,
    InterviewStatus,
    QuestionKind,
)
from .services import InterviewLocked

#: interviews on one page of « Détail entretiens »
PAGE_SIZE = 50
#: managers offered in the filter's list (beyond, the e-mail is typed)
MANAGER_CHOICES = 300
#: names listed on the bulk deletion's confirmation
CONFIRM_NAMES = 50
#: the statuses where « Relancer » makes sense (someone still has something to do)
REMINDABLE = (
    InterviewStatus.NOT_PLANNED,
    InterviewStatus.PLANNED,
    InterviewStatus.HELD,
    InterviewStatus.CLOSING,
)
#: blank rows offered under the objectives and the circuit's steps
BLANK_OBJECTIVES = 2


def campaign_for(member, campaign_id: int) -> Campaign:
    campaign = (
        rules.campaigns_visible_to(member)
        .select_related("organisation", "created_by", "hr")
        .filter(pk=campaign_id)
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def interview_for(member, interview_id: int) -> Interview:
    interview = rules.interview_of(member, interview_id)
    if interview is None:
        raise Http404
    return interview


def _viewer_tz(member: Member, campaign: Campaign) -> dt.tzinfo:
    return zone_or_default(member.timezone, campaign.organisation.tzinfo)


def _label(value: Any) -> str:
    """A bilingual label {fr, en} in the active language."""
    if isinstance(value, dict):
        if (get_language() or "fr").startswith("en") and value.get("en"):
            return str(value["en"])
        return str(value.get("fr", ""))
    return str(value or "")


def _role_label(role: str) -> str:
    return str(CircuitRole(role).label) if role in CircuitRole.values else role


def _errors_of(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [str(m) for problems in error.message_dict.values() for m in problems]
    return [str(m) for m in error.messages]


# --- « Détail campagne » --------------------------------------------------------------------


def _facts(campaign: Campaign) -> dict[str, Any]:
    status = rules.campaign_status(campaign)
    rules_ = campaign.reminder_rules or {}
    return {
        "kind": services.kind_label(campaign),
        "status": CampaignStatus(status).label,
        "status_value": status,
        "steps": [
            {"role": _role_label(step.get("role", "")), "days": step.get("deadline_days")}
            for step in campaign.circuit
        ],
        "reminders": rules_,
        "before": ", ".join(str(d) for d in rules_.get("before", [])),
    }


@login_required
def campaign_detail(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """« Détail campagne »: a count and a bar per status, each opening the filtered list;
    a manager sees the same figures for their own interviews."""
    campaign = campaign_for(request.user, campaign_id)
    is_admin = rules.is_admin_of(request.user, campaign)
    stats = selectors.campaign_stats(campaign, manager=None if is_admin else request.user)
    total = sum(stats.values())
    base = reverse("campaigns:interviews", args=[campaign.pk])
    remind = reverse("campaigns:remind", args=[campaign.pk])
    rows = []
    for status in InterviewStatus:
        count = stats[status.value]
        rows.append(
            {
                "status": status.value,
                "label": STATUS_PLURALS[status],
                "colour": STATUS_COLOURS[status],
                "count": count,
                "percent": round(100 * count / total) if total else 0,
                "url": f"{base}?{urlencode({'status': status.value})}",
                "remind": f"{remind}?{urlencode({'status': status.value})}"
                if is_admin and status in REMINDABLE
                else "",
            }
        )
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "stats": stats,
            "rows": rows,
            "total": total,
            "facts": _facts(campaign),
            "is_admin": is_admin,
            "tab": "detail",
        },
    )


# --- « Détail entretiens » ------------------------------------------------------------------


def _filters(request: MemberRequest, data) -> tuple[dict[str, str], list[str]]:
    """status, manager (e-mail), q: checked, each refusal a message."""
    errors: list[str] = []
    status = (data.get("status") or "").strip()
    if status and status not in InterviewStatus.values:
        errors.append(_("Statut inconnu : choisissez dans la liste."))
        status = ""
    # a NUL character is no text PostgreSQL can compare: dropped here, at the boundary
    manager = (data.get("manager") or "").replace("\x00", "").strip()
    if len(manager) > 254:
        errors.append(_("Courriel du responsable trop long."))
        manager = ""
    q = (data.get("q") or "").replace("\x00", "").strip()[:200]
    return {"status": status, "manager": manager, "q": q}, errors


def _filtered(campaign: Campaign, member: Member, filters: dict[str, str]) -> QuerySet[Interview]:
    return selectors.interviews_of(
        campaign,
        status=filters["status"] or None,
        manager_email=filters["manager"] or None,
        q=filters["q"],
        manager=None if rules.is_admin_of(member, campaign) else member,
    )


def _groups(page_rows: list[Interview], filtered: QuerySet[Interview], tz) -> list[dict]:
    """The page's interviews under their manager, each manager with their count in the
    whole filter (one query for the page's managers)."""
    manager_ids = list(dict.fromkeys(row.manager_id for row in page_rows))
    counts = dict(
        filtered.filter(manager_id__in=manager_ids)
        .order_by()
        .values_list("manager_id")
        .annotate(n=Count("pk"))
    )
    groups: list[dict] = []
    for row in page_rows:
        if not groups or groups[-1]["manager"].pk != row.manager_id:
            groups.append(
                {"manager": row.manager, "count": counts.get(row.manager_id, 0), "rows": []}
            )
        step = row.waiting_step
        groups[-1]["rows"].append(
            {
                "interview": row,
                "status_label": InterviewStatus(row.status).label,
                "colour": STATUS_COLOURS[InterviewStatus(row.status)],
                "step": _role_label(step["role"]) if step else "",
                "date": row.scheduled_at,
                "past": row.scheduled_at is not None and row.scheduled_at < timezone.now(),
            }
        )
    return groups


@login_required
def campaign_interviews(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """« Détail entretiens »: every interview « classé par responsable », filtered by
    status, manager and collaborator; paginated by rows, counted in the database."""
    campaign = campaign_for(request.user, campaign_id)
    is_admin = rules.is_admin_of(request.user, campaign)
    filters, errors = _filters(request, request.GET)
    filtered = _filtered(campaign, request.user, filters)
    try:
        number = parse_int(request.GET.get("page") or 1, minimum=1, maximum=1_000_000)
    except ParseError:
        number = 1
    paginator = Paginator(
        filtered.defer("answers", "preparation", "circuit", "collaborator__password",
                       "manager__password"),
        PAGE_SIZE,
    )  # fmt: skip
    page = paginator.get_page(number)
    tz = _viewer_tz(request.user, campaign)
    managers = []
    if is_admin:
        managers = list(
            Member.objects.filter(
                pk__in=Interview.objects.filter(campaign=campaign).values("manager_id")
            )
            .order_by("last_name", "first_name", "pk")
            .values_list("email", "first_name", "last_name")[: MANAGER_CHOICES + 1]
        )
    context = {
        "campaign": campaign,
        "is_admin": is_admin,
        "filters": filters,
        "errors": errors,
        "page": page,
        "groups": _groups(list(page.object_list), filtered, tz),
        "statuses": [(s.value, STATUS_PLURALS[s]) for s in InterviewStatus],
        # beyond MANAGER_CHOICES managers, their e-mail is typed instead of chosen
        "managers": managers if len(managers) <= MANAGER_CHOICES else None,
        "viewer_tz": tz,
        "tab": "interviews",
    }
    template = "campaigns/interviews.html"
    if request.headers.get("HX-Target") == "interviews" and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        template = "campaigns/_interview_table.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _bulk_selection(request: MemberRequest, campaign: Campaign) -> tuple[QuerySet, dict, list]:
    """What a bulk action applies to: the ticked interviews, else everything the filter
    selects (not only the page shown)."""
    filters, errors = _filters(request, request.POST)
    try:
        ids = parse_ids(request.POST.getlist("ids"), limit=50_000)
    except ParseError as error:
        ids, errors = [], [*errors, error.message]
    rows = _filtered(campaign, request.user, filters)
    if ids:
        rows = rows.filter(pk__in=ids)
    return rows, {**filters, "ids": ids}, errors


@login_required
@require_POST
def interviews_delete(request: MemberRequest, campaign_id: int) -> HttpResponse:
    """Bulk « Supprimer »: a confirmation that says how many and which, then the deletion
    of everything selected (closed interviews are kept)."""
    campaign = campaign_for(request.user, campaign_id)
    if not rules.is_admin_of(request.user, campaign):
        raise PermissionDenied(_("Seul un administrateur peut supprimer des entretiens."))
    rows, selection, errors = _bulk_selection(request, campaign)
    back = reverse("campaigns:interviews", args=[campaign.pk])
    query = urlencode({k: v for k, v in selection.items() if k != "ids" and v})
    if errors:
        for problem in errors:
            messages.error(request, problem)
        return HttpResponseRedirect(f"{back}?{query}" if query else back)
    deletable = rows.exclude(status__in=LOCKED)
    if request.POST.get("confirm") == "1":
        count = services.interviews_delete(interviews=deletable, by=request.user, campaign=campaign)
        messages.success(
            request,
            ngettext("%(n)s entretien supprimé.", "%(n)s entretiens supprimés.", count)
            % {"n": count},
        )
        return HttpResponseRedirect(f"{back}?{query}" if query else back)
    counts = dict(rows.order_by().values_list("status").annotate(n=Count("pk")))
    count = sum(n for status, n in counts.items() if status not in LOCKED)
    names = list(
        deletable.values_list("collaborator__first_name", "collaborator__last_name")[:CONFIRM_NAMES]
    )
    return render(
        request,
        "campaigns/interviews_delete.html",
        {
            "campaign": campaign,
            "count": count,
            "kept": counts.get(InterviewStatus.CLOSED, 0),
            "names": [f"{first} {last}".strip() for first, last in names],
            "others": max(count - CONFIRM_NAMES, 0),
            "selection": selection,
            "back": f"{back}?{query}" if query else back,
        },
    )


@login_required
def interview_delete(request: MemberRequest, interview_id: int) -> HttpResponse:
    """One interview deleted, after a confirmation."""
    interview = interview_for(request.user, interview_id)
    campaign = interview.campaign
    if not rules.is_admin_of(request.user, campaign):
        raise PermissionDenied(_("Seul un administrateur peut supprimer un entretien."))
    context = {"interview": interview, "campaign": campaign, "error": ""}
    if request.method == "POST":
        try:
            services.interview_delete(interview=interview, by=request.user)
        except InterviewLocked as error:
            context["error"] = error.message
            return render(request, "campaigns/interview_delete.html", context, status=409)
        messages.success(
            request,
            _("L'entretien de %(name)s est supprimé.") % {"name": interview.collaborator.full_name},
        )
        return HttpResponseRedirect(reverse("campaigns:interviews", args=[campaign.pk]))
    if interview.status in LOCKED:
        context["error"] = _("Un entretien clos ou déjà supprimé ne se supprime pas.")
    return render(request, "campaigns/interview_delete.html", context)


# --- One interview --------------------------------------------------------------------------


def _questions(interview: Interview, draft: dict | None = None) -> list[dict]:
    """The form's sections with, per question, its answer and the collaborator's
    preparation, ready for the template."""
    answers = draft if draft is not None else interview.answers
    sections = []
    for section in interview.campaign.form:
        questions = []
        for question in section.get("questions", []):
            key = question["key"]
            answer = answers.get(key)
            item = {
                "key": key,
                "kind": question["kind"],
                "label": _label(question.get("label")),
                "required": question.get("required", False),
                "options": [(o.get("fr", ""), _label(o)) for o in question.get("options", [])],
                "answer": answer,
                "prepared": interview.preparation.get(key),
            }
            if question["kind"] == QuestionKind.OBJECTIVES:
                rows = list(answer or []) if isinstance(answer, list) else []
                item["rows"] = rows + [{"title": "", "rating": None}] * BLANK_OBJECTIVES
                prepared = interview.preparation.get(key)
                item["prep_rows"] = (list(prepared) if isinstance(prepared, list) else []) + [
                    {"title": "", "rating": None}
                ] * BLANK_OBJECTIVES
            questions.append(item)
        sections.append({"title": _label(section.get("title")), "questions": questions})
    return sections


def _answers_from(post, form: list, prefix: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's answers from the page's fields (`<prefix>_<key>`): notes as integers,
    objectives as repeated title + rating rows. Errors by question key."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question in services.form_questions(form):
        key, kind, name = question["key"], question["kind"], f"{prefix}_{question['key']}"
        if kind == QuestionKind.OBJECTIVES:
            titles = post.getlist(f"{name}_title")[: services.MAX_OBJECTIVES + 10]
            ratings = post.getlist(f"{name}_rating")
            rows = []
            for index, title in enumerate(titles):
                title = title.strip()
                rating_text = ratings[index].strip() if index < len(ratings) else ""
                if not title:
                    continue
                rating = None
                if rating_text:
                    try:
                        rating = parse_int(rating_text, minimum=1, maximum=5)
                    except ParseError:
                        errors[key] = _("Une note de 1 à 5.")
                rows.append({"title": title, "rating": rating})
            if rows:
                values[key] = rows
        elif kind == QuestionKind.SCALE:
            text = (post.get(name) or "").strip()
            if text:
                try:
                    values[key] = parse_int(text, minimum=1, maximum=5)
                except ParseError:
                    errors[key] = _("Une note de 1 à 5.")
        else:
            text = post.get(name) or ""
            if text.strip():
                values[key] = text if kind == QuestionKind.TEXT else text.strip()
    return values, errors


def _circuit_from(post) -> tuple[list[dict[str, Any]], list[str]]:
    roles = post.getlist("step_role")[: services.MAX_STEPS + 5]
    days = post.getlist("step_days")
    steps, errors = [], []
    for index, role in enumerate(roles):
        if not role:
            continue
        text = days[index] if index < len(days) else ""
        try:
            number = parse_int(text, minimum=0, maximum=services.MAX_DEADLINE_DAYS)
        except ParseError as error:
            errors.append(f"{_('Étape')} {index + 1} : {error.message}")
            continue
        steps.append({"role": role, "deadline_days": number})
    return steps, errors


def _progress(interview: Interview, events: list, n2: Member | None) -> list[dict]:
    """« Avancement »: each step of the circuit, who acts, its deadline, who signed it
    and when in the current round, its comments and réserves; the one waiting marked."""
    round_ = max((event.round for event in events), default=1)
    current = [e for e in events if e.round == round_ and e.position is not None]
    campaign = interview.campaign
    steps = []
    waiting = interview.step if interview.status == InterviewStatus.CLOSING else None
    for position, step in enumerate(interview.circuit):
        role = step.get("role", "")
        if role == CircuitRole.COLLABORATOR:
            who = interview.collaborator.full_name
        elif role == CircuitRole.MANAGER:
            who = interview.manager.full_name
        elif role == CircuitRole.SECOND_APPROVER and n2 is not None:
            who = n2.full_name
        elif campaign.hr is not None:
            who = campaign.hr.full_name
        else:
            who = _("les administrateurs")
        here = [e for e in current if e.position == position]
        signed = next((e for e in reversed(here) if e.action == EventAction.SIGNED), None)
        if interview.status == InterviewStatus.CLOSING and waiting is not None:
            if position < waiting:
                state = "done"
            elif position == waiting:
                state = "waiting"
            else:
                state = "todo"
        elif interview.status == InterviewStatus.CLOSED:
            state = "done"
        else:
            state = "todo"
        steps.append(
            {
                "position": position + 1,
                "role": _role_label(role),
                "who": who,
                "days": step.get("deadline_days"),
                "due": interview.step_due_at() if state == "waiting" else None,
                "signed": signed if state == "done" else None,
                "notes": [e for e in here if e.comment or e.reserve],
                "state": state,
            }
        )
    return steps


def _versions(interview: Interview) -> list[dict]:
    versions = []
    for version in interview.versions.select_related("reopened_by"):
        signatures = []
        for signature in version.signatures:
            try:
                at: dt.datetime | None = dt.datetime.fromisoformat(signature.get("at", ""))
            except (TypeError, ValueError):
                at = None
            signatures.append(
                {**signature, "at": at, "role": _role_label(signature.get("role", ""))}
            )
        draft = _questions(interview, version.answers)
        versions.append({"version": version, "sections": draft, "signatures": signatures})
    return versions


def _context(request: MemberRequest, interview: Interview, **extra) -> dict[str, Any]:
    member = request.user
    campaign = interview.campaign
    status = interview.status
    is_admin = rules.is_admin_of(member, campaign)
    is_manager = member.pk == interview.manager_id
    is_collaborator = member.pk == interview.collaborator_id
    actor = rules.is_step_actor(member, interview)
    tz = _viewer_tz(member, campaign)
    events = list(interview.events.select_related("by").order_by("at", "pk"))
    n2 = interview.second_approver or services.second_approver_of(interview)
    open_ = status in (InterviewStatus.NOT_PLANNED, InterviewStatus.PLANNED)
    scheduled_local = ""
    if interview.scheduled_at is not None:
        scheduled_local = timezone.localtime(interview.scheduled_at, tz).strftime("%Y-%m-%dT%H:%M")
    draft = extra.pop("draft", None)
    preparation = extra.pop("preparation", None)
    context = {
        "interview": interview,
        "campaign": campaign,
        "status_label": InterviewStatus(status).label,
        "colour": STATUS_COLOURS[InterviewStatus(status)],
        "is_admin": is_admin,
        "is_manager": is_manager,
        "is_collaborator": is_collaborator,
        "n2": n2,
        "may_plan": is_manager and open_,
        "may_hold": is_manager and status == InterviewStatus.PLANNED,
        "may_write": is_manager and status == InterviewStatus.HELD,
        "may_prepare": is_collaborator
        and status in (InterviewStatus.NOT_PLANNED, InterviewStatus.PLANNED, InterviewStatus.HELD),
        "may_sign": actor,
        "may_reserve": actor and rules.step_role(interview) == CircuitRole.COLLABORATOR,
        "may_reopen": is_admin and status == InterviewStatus.CLOSED,
        "may_change_circuit": is_admin and status not in LOCKED,
        "may_delete": is_admin and status not in LOCKED,
        # the write-up is read by all once submitted; before, by its author and the admins
        "show_answers": status in (InterviewStatus.CLOSING, InterviewStatus.CLOSED)
        or (status == InterviewStatus.HELD and is_admin and not is_manager),
        "sections": _questions(interview, draft),
        "prep_sections": _questions(
            interview, interview.preparation if preparation is None else preparation
        ),
        "scale": range(1, 6),
        "progress": _progress(interview, events, n2),
        "events": events,
        "versions": _versions(interview),
        "viewer_tz": tz,
        "tz_name": str(tz),
        "scheduled_local": scheduled_local,
        "roles": CircuitRole.choices,
        "circuit_rows": list(interview.circuit) + [{"role": "", "deadline_days": 7}],
        "errors": [],
        "field_errors": {},
    }
    context.update(extra)
    return context


def _act(request: MemberRequest, interview: Interview, action: str) -> tuple[str, dict]:
    """Run one of the page's actions; returns the success message, or raises."""
    member, post = request.user, request.POST
    form = interview.campaign.form
    if action == "plan":
        tz = _viewer_tz(member, interview.campaign)
        errors: dict[str, list[str]] = {}
        try:
            when = parse_datetime(post.get("scheduled_at"), tz=tz)
        except ParseError as error:
            errors["scheduled_at"] = [error.message]
        try:
            duration = parse_int(post.get("duration_minutes") or 60, minimum=5, maximum=480)
        except ParseError as error:
            errors["duration_minutes"] = [error.message]
        if errors:
            raise ValidationError(errors)
        moved = interview.status == InterviewStatus.PLANNED
        services.interview_plan(
            interview=interview,
            by=member,
            scheduled_at=when,
            duration_minutes=duration,
            place=(post.get("place") or "")[:300],
        )
        if moved:
            return _("Date déplacée : le collaborateur est prévenu."), {}
        return _("Entretien planifié : le collaborateur a reçu l'invitation."), {}
    if action == "held":
        services.interview_held(interview=interview, by=member)
        return _("Entretien marqué comme effectué : rédigez le compte-rendu."), {}
    if action in ("draft", "submit"):
        answers, problems = _answers_from(post, form, "a")
        if problems:
            raise _Refused(ValidationError(problems), {"draft": answers})
        try:
            if action == "draft":
                services.interview_save_draft(interview=interview, by=member, answers=answers)
                return _("Brouillon enregistré."), {}
            services.interview_submit(interview=interview, by=member, answers=answers)
        except ValidationError as error:
            raise _Refused(error, {"draft": answers}) from error
        return _("Compte-rendu soumis : il suit le circuit de validation."), {}
    if action == "prepare":
        preparation, problems = _answers_from(post, form, "p")
        if problems:
            raise _Refused(ValidationError(problems), {"preparation": preparation})
        try:
            services.interview_prepare(interview=interview, by=member, preparation=preparation)
        except ValidationError as error:
            raise _Refused(error, {"preparation": preparation}) from error
        return _("Préparation enregistrée : votre manager la lira."), {}
    if action == "sign":
        services.interview_sign(
            interview=interview,
            by=member,
            comment=post.get("comment", ""),
            reserve=post.get("reserve", ""),
        )
        return _("Signé."), {}
    if action == "send_back":
        services.interview_send_back(
            interview=interview, by=member, comment=post.get("comment", "")
        )
        return _("Renvoyé, avec votre commentaire."), {}
    if action == "reopen":
        services.interview_reopen(interview=interview, by=member, reason=post.get("reason", ""))
        return _("Entretien rouvert : la version signée reste lisible."), {}
    if action == "circuit":
        steps, refusals = _circuit_from(post)
        if refusals:
            raise ValidationError({"circuit": refusals})
        if post.get("scope") == "all":  # every interview not yet closed, and those to come
            changed = services.circuit_change(campaign=interview.campaign, by=member, circuit=steps)
            return (
                ngettext(
                    "Circuit de validation modifié pour %(n)d entretien de la campagne.",
                    "Circuit de validation modifié pour %(n)d entretiens de la campagne.",
                    changed,
                )
                % {"n": changed},
                {},
            )
        services.circuit_change(
            campaign=interview.campaign, by=member, circuit=steps, interview=interview
        )
        return _("Circuit de validation modifié pour cet entretien."), {}
    raise ValidationError({"action": [_("Action inconnue.")]})


class _Refused(Exception):
    """A ValidationError with what was typed, to show it again."""

    def __init__(self, error: ValidationError, kept: dict):
        super().__init__(str(error))
        self.error = error
        self.kept = kept


@login_required
def interview_detail(request: MemberRequest, interview_id: int) -> HttpResponse:
    """One interview: who, when, the form, the « Avancement »; each person sees the action
    that is theirs now."""
    interview = interview_for(request.user, interview_id)
    if request.method != "POST":
        return render(request, "campaigns/interview.html", _context(request, interview))
    action = (request.POST.get("action") or "")[:20]
    kept: dict = {}
    try:
        message, _extra = _act(request, interview, action)
    except PermissionDenied as error:
        text = str(error) or _("Cette action ne vous revient pas.")
        status, problems = 403, [text]
    except InterviewLocked as error:
        status, problems = 409, [error.message]
    except _Refused as refused:
        status, problems = 400, _errors_of(refused.error)
        kept = refused.kept
    except ValidationError as error:
        status, problems = 400, _errors_of(error)
    except ParseError as error:
        status, problems = 400, [error.message]
    else:
        messages.success(request, message)
        return HttpResponseRedirect(reverse("campaigns:interview", args=[interview.pk]))
    interview = interview_for(request.user, interview_id)
    context = _context(request, interview, **kept, errors=problems, action=action)
    return render(request, "campaigns/interview.html", context, status=status)
