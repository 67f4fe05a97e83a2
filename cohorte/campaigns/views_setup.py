"""« Campagnes d'entretiens »: the list, creating a campaign (population, form, circuit,
reminder rules), the organisation's interview types."""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, NullIf
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.parse import ParseError, parse_id, parse_int
from cohorte.core.tabular import TableError
from cohorte.programs.models import CohortKind, Organisation

from . import forms, population, rules, services
from .models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignType,
    FormTemplate,
    InterviewStatus,
    default_reminder_rules,
)
from .navigation import manages_interviews_remember

SORTS = {
    "name": (Lower("name"),),
    "kind": (Lower("kind_name"),),
    "creator": ("created_by__last_name", "created_by__first_name"),
    "status": ("status_rank",),
    "interviews": ("interview_count",),
    "start": ("start_date",),
}
PAGE_SIZE = 50
#: a pre-flight table this long or shorter has every manager editable; longer, only the
#: lines in error (each editable line is two fields of the POST)
EDITABLE_LINES = 300


def _organisation(request: MemberRequest) -> Organisation:
    """The administrator's organisation; anyone else gets 404."""
    member = request.user
    if not member.is_active or not member.is_org_admin or member.organisation_id is None:
        raise Http404
    return cast(Organisation, member.organisation)


# --- The list ----------------------------------------------------------------------------------


def _kind_name() -> Any:
    """The type's name in the database (built-in ones translated, the organisation's own
    by their name): the list sorts on it and shows it without a query per row."""
    english = (get_language() or "fr").startswith("en")
    own = CampaignType.objects.filter(
        organisation_id=OuterRef("organisation_id"), slug=OuterRef("kind")
    )
    name = Coalesce(NullIf("name_en", Value("")), "name_fr") if english else F("name_fr")
    return Coalesce(
        Subquery(own.annotate(shown=name).values("shown")[:1], output_field=CharField()),
        Case(
            *[When(kind=kind.value, then=Value(str(kind.label))) for kind in CampaignKind],
            default="kind",
            output_field=CharField(),
        ),
    )


def campaign_rows(member: Any, *, sort: str, order: str) -> Any:
    """The campaigns the member sees, each with its type's name, its status (by the
    organisation's today) and its interviews counted (a manager: theirs), in one query."""
    organisation = member.organisation
    today = timezone.now().astimezone(organisation.tzinfo).date()
    counted = ~Q(interviews__status=InterviewStatus.DELETED)
    if not member.is_org_admin:
        counted &= Q(interviews__manager=member)
    rows = (
        rules.campaigns_visible_to(member)
        .select_related("created_by")
        .annotate(
            kind_name=_kind_name(),
            status_rank=Case(
                When(start_date__gt=today, then=Value(0)),
                When(end_date__lt=today, then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            interview_count=Count("interviews", filter=counted),
        )
    )
    keys: list[Any] = []
    for column in SORTS[sort]:
        if isinstance(column, str):
            keys.append(f"-{column}" if order == "desc" else column)
        else:
            keys.append(column.desc() if order == "desc" else column.asc())
    return rows.order_by(*keys, "-pk" if order == "desc" else "pk"), today


STATUS_BY_RANK = {0: CampaignStatus.PREPARATION, 1: CampaignStatus.RUNNING, 2: CampaignStatus.ENDED}


@login_required
def campaign_list(request: MemberRequest) -> HttpResponse:
    sort = request.GET.get("sort") or "status"
    if sort not in SORTS:
        sort = "status"
    order = "desc" if request.GET.get("order") == "desc" else "asc"
    try:
        number = parse_int(request.GET.get("page") or 1, minimum=1, maximum=100_000)
    except ParseError:
        number = 1
    if not request.user.is_org_admin:
        manages_interviews_remember(request, request.user)  # the sidebar's « Entretiens »
    rows, _today = campaign_rows(request.user, sort=sort, order=order)
    page = Paginator(rows, PAGE_SIZE).get_page(number)
    for campaign in page.object_list:
        campaign.status_value = STATUS_BY_RANK[campaign.status_rank]
        campaign.status_label = CampaignStatus(campaign.status_value).label
    context = {
        "page": page,
        "campaigns": page.object_list,
        "state": {"sort": sort, "order": order},
        "is_admin": request.user.is_org_admin,
    }
    template = "campaigns/list.html"
    if request.headers.get("HX-Target") == "campaigns" and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        template += "#campaigns"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


# --- Creating a campaign -----------------------------------------------------------------------


def _posted_lines(post: Any) -> list[dict[str, Any]]:
    """The pre-flight table sent back: its lines (a hidden JSON), each manager and N+2 as
    edited, without the lines dropped."""
    raw = post.get("lines") or ""
    if not raw:
        return []
    try:
        loaded = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(loaded, list):
        return []
    dropped = set(post.getlist("drop"))
    lines = []
    for index, line in enumerate(loaded[: services.MAX_BATCH]):
        if not isinstance(line, dict) or str(index) in dropped:
            continue
        clean = {
            key: str(line.get(key) or "")[:254]
            for key in ("collaborator_email", "manager_email", "second_approver_email", "name")
        }
        clean["why"] = str(line.get("why") or "")[:40]
        clean["due_on"] = str(line.get("due_on") or "")[:10]
        if isinstance(line.get("line"), int):
            clean["line"] = line["line"]
        for key, field in (("manager", "manager_email"), ("second", "second_approver_email")):
            edited = post.get(f"{key}-{index}")
            if edited is not None:
                clean[field] = edited.strip()[:254]
        lines.append(clean)
    return lines


def _source_lines(
    organisation: Organisation, source: forms.PopulationSource, request: MemberRequest
) -> list[dict[str, Any]] | None:
    """The lines of the population chosen, or None when none was given."""
    data = source.cleaned_data
    kind = data.get("source")
    if kind == "file":
        upload = request.FILES.get("p-file")
        if upload is None:
            return None
        if (upload.size or 0) > population.MAX_FILE_BYTES:
            raise TableError(
                _("Le fichier dépasse %(n)s Mo : découpez-le en plusieurs fichiers.")
                % {"n": population.MAX_FILE_BYTES // (1024 * 1024)}
            )
        return population.lines_from_file(upload.read(), upload.name or "")
    if kind == "group" and data.get("group"):
        return population.lines_from_group(organisation, data["group"])
    if kind in ("cohort", "tag") and data.get(kind):
        cohort_kind = CohortKind.COHORT if kind == "cohort" else CohortKind.TAG
        return population.lines_from_cohort(organisation, data[kind], cohort_kind)
    return None


def _preflight(lines: list[dict[str, Any]], errors: list[dict[str, Any]]) -> dict[str, Any]:
    by_index = population.line_errors(lines, errors)
    editable_all = len(lines) <= EDITABLE_LINES
    rows = []
    for index, line in enumerate(lines):
        reasons = {e["field"]: e["reason"] for e in by_index.get(index, [])}
        rows.append(
            {
                "index": index,
                "line": line,
                "errors": reasons,
                "editable": editable_all or bool(reasons),
            }
        )
    return {
        "rows": rows,
        "count": len(lines),
        "bad": len(by_index),
        "json": json.dumps(lines, ensure_ascii=False),
        "with_why": any(line.get("why") for line in lines),
        "with_line": any(line.get("line") for line in lines),
    }


def _problems(error: ValidationError, form: forms.CampaignForm) -> list[str]:
    """The service's reasons: on the settings' field they concern, else listed above."""
    listed = []
    details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    for key, reasons in details.items():
        field = key.split(".")[0]
        if field in form.fields and field not in ("template",):
            for reason in reasons:
                form.add_error(field, reason)
        else:
            label = {
                "circuit": _("Circuit de validation"),
                "form": _("Formulaire d'entretien"),
                "reminder_rules": _("Relances"),
                "template": _("Modèle"),
            }.get(field, "")
            listed += [f"{label} : {reason}" if label else reason for reason in reasons]
    return listed


def _setup_forms(
    request: MemberRequest, organisation: Organisation, *, bound: bool
) -> dict[str, Any]:
    kinds = services.kind_choices(organisation)
    templates = list(population.templates_of(organisation).values_list("pk", "name"))
    choices = {
        "groups": population.group_choices(organisation),
        "cohorts": population.cohort_choices(organisation, CohortKind.COHORT),
        "tags": population.cohort_choices(organisation, CohortKind.TAG),
    }
    if bound:
        post, files = request.POST, request.FILES
        return {
            "form": forms.CampaignForm(post, kinds=kinds, templates=templates),
            "reminders": forms.RemindersForm(post, prefix="r"),
            "steps": forms.StepFormSet(post, prefix="step"),
            "questions": forms.QuestionFormSet(post, prefix="q"),
            "source": forms.PopulationSource(post, files, prefix="p", **choices),
        }
    template = None
    try:
        if request.GET.get("template"):
            template = FormTemplate.objects.filter(
                organisation=organisation, pk=parse_id(request.GET["template"])
            ).first()
    except ParseError:
        template = None
    sections: list[dict[str, Any]] = template.sections if template else forms.STARTER_FORM
    return {
        "form": forms.CampaignForm(
            kinds=kinds,
            templates=templates,
            initial={"kind": CampaignKind.ANNUAL, "template": template.pk if template else None},
        ),
        "reminders": forms.RemindersForm(
            prefix="r", initial=forms.RemindersForm.initial_of(default_reminder_rules())
        ),
        "steps": forms.StepFormSet(prefix="step", initial=forms.step_initial()),
        "questions": forms.QuestionFormSet(prefix="q", initial=forms.question_initial(sections)),
        "source": forms.PopulationSource(prefix="p", **choices),
    }


@login_required
def campaign_create(request: MemberRequest) -> HttpResponse:
    """One page: the settings, the form, the circuit, the reminders and the population;
    « Vérifier » shows the pre-flight (nothing is created), « Créer la campagne » creates
    the campaign and its interviews in one transaction, or nothing."""
    organisation = _organisation(request)
    context: dict[str, Any] = {"problems": [], "preflight": None}
    if request.method != "POST":
        context.update(_setup_forms(request, organisation, bound=False))
        return render(request, "campaigns/setup_create.html", context)
    parts = _setup_forms(request, organisation, bound=True)
    context.update(parts)
    action = request.POST.get("action") or "check"
    form, reminders = parts["form"], parts["reminders"]
    steps, questions, source = parts["steps"], parts["questions"], parts["source"]
    if action == "template":  # « Partir d'un modèle »: its questions in the rows
        chosen = form.data.get("template") or ""
        try:
            template = FormTemplate.objects.filter(
                organisation=organisation, pk=parse_id(chosen)
            ).first()
        except ParseError:
            template = None
        if template is not None:
            context["questions"] = forms.QuestionFormSet(
                prefix="q", initial=forms.question_initial(template.sections)
            )
        kept = _posted_lines(request.POST)
        if kept:
            context["preflight"] = _preflight(kept, [])
        return render(request, "campaigns/setup_create.html", context)
    valid = (
        all([form.is_valid(), reminders.is_valid(), steps.is_valid(), questions.is_valid()])
        and source.is_valid()
    )
    posted = _posted_lines(request.POST)
    lines: list[dict[str, Any]] | None = None
    if not valid:
        if posted:
            context["preflight"] = _preflight(posted, [])
        return render(request, "campaigns/setup_create.html", context, status=400)
    data = form.cleaned_data
    try:
        hr = services.hr_lookup(organisation, data.get("hr_email"))
        campaign_data = {
            "name": data["name"],
            "kind": data["kind"],
            "start_date": data["start_date"],
            "end_date": data["end_date"],
            "circuit": forms.circuit_of(steps),
            "hr": hr,
            "form": forms.sections_of(questions),
            "template_id": data.get("template"),
            "reminder_rules": reminders.rules(),
        }
        if action == "legal":
            lines = population.lines_legal(
                organisation, start=data["start_date"], end=data["end_date"]
            )
            if not lines:
                context["problems"].append(
                    _(
                        "Personne n'est dû pour un entretien professionnel d'ici la fin "
                        "de la campagne."
                    )
                )
        elif action == "check":
            lines = _source_lines(organisation, source, request)
            if lines is None:
                lines = posted
        else:
            lines = (
                posted
                if request.POST.get("lines")
                else _source_lines(organisation, source, request)
            )
        lines = lines or []
        if action == "create":
            campaign = population.campaign_with_population(
                organisation=organisation,
                by=request.user,
                campaign=campaign_data,
                lines=lines,
                template_name=data.get("save_as") or "",
            )
            messages.success(
                request,
                ngettext(
                    "Campagne « %(name)s » créée avec %(n)s entretien.",
                    "Campagne « %(name)s » créée avec %(n)s entretiens.",
                    len(lines),
                )
                % {"name": campaign.name, "n": len(lines)},
            )
            return redirect("campaigns:detail", campaign.pk)
        errors = population.population_check(
            organisation=organisation, by=request.user, campaign=campaign_data, lines=lines
        )
        context["preflight"] = _preflight(lines, errors) if lines else None
    except TableError as error:
        context["problems"].append(str(error))
        if posted:
            context["preflight"] = _preflight(posted, [])
    except services.BadLines as refused:
        context["problems"].append(refused.messages[0])
        context["preflight"] = _preflight(lines or [], refused.lines)
    except ValidationError as error:
        context["problems"] += _problems(error, form)
        if posted:
            context["preflight"] = _preflight(posted, [])
    status = 400 if context["problems"] or form.errors else 200
    return render(request, "campaigns/setup_create.html", context, status=status)


# --- The organisation's types ------------------------------------------------------------------


def _unique_slug(organisation: Organisation, name: str, *, exclude: int | None = None) -> str:
    base = slugify(name)[:40] or "type"
    taken = set(
        CampaignType.objects.filter(organisation=organisation).values_list("slug", flat=True)
    )
    if exclude is not None:
        taken.discard(
            CampaignType.objects.filter(pk=exclude).values_list("slug", flat=True).first()
        )
    taken |= set(CampaignKind.values)
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@login_required
def campaign_types(request: MemberRequest) -> HttpResponse:
    """The built-in types, and the organisation's own: add, rename, remove (a type in use
    by a campaign stays)."""
    organisation = _organisation(request)
    problem = ""
    if request.method == "POST":
        action = request.POST.get("action") or ""
        name_fr = (request.POST.get("name_fr") or "").strip()
        name_en = (request.POST.get("name_en") or "").strip()
        try:
            type_id = parse_id(request.POST["type"]) if request.POST.get("type") else None
        except ParseError:
            raise Http404 from None
        found = (
            CampaignType.objects.filter(organisation=organisation, pk=type_id).first()
            if type_id
            else None
        )
        if type_id and found is None:
            raise Http404
        if action in ("add", "rename") and (not 1 <= len(name_fr) <= 100 or len(name_en) > 100):
            problem = _("Un nom de 1 à 100 caractères.")
        elif action == "add":
            try:
                with transaction.atomic():
                    made = CampaignType.objects.create(
                        organisation=organisation,
                        slug=_unique_slug(organisation, name_fr),
                        name_fr=name_fr,
                        name_en=name_en,
                    )
                    log_action("campaign_type.created", actor=request.user, target=made)
            except IntegrityError:
                problem = _("Ce type existe déjà.")
            else:
                messages.success(request, _("Type « %(name)s » ajouté.") % {"name": name_fr})
                return redirect("campaigns:types")
        elif action == "rename" and found is not None:
            old = found.name_fr
            found.name_fr, found.name_en = name_fr, name_en
            found.save(update_fields=["name_fr", "name_en", "updated_at"])
            log_action(
                "campaign_type.renamed",
                actor=request.user,
                target=found,
                data={"old": old, "new": name_fr},
            )
            messages.success(request, _("Type renommé."))
            return redirect("campaigns:types")
        elif action == "remove" and found is not None:
            used = Campaign.objects.filter(organisation=organisation, kind=found.slug).count()
            if used:
                problem = _(
                    "« %(name)s » est le type de %(n)s campagne(s) : il ne peut pas être retiré."
                ) % {"name": found.name_fr, "n": used}
            else:
                log_action(
                    "campaign_type.deleted",
                    actor=request.user,
                    target=found,
                    data={"name": found.name_fr},
                )
                found.delete()
                messages.success(request, _("Type retiré."))
                return redirect("campaigns:types")
        else:
            problem = _("Action inconnue.")
    own = (
        CampaignType.objects.filter(organisation=organisation)
        .annotate(
            used=Subquery(
                Campaign.objects.filter(organisation=organisation, kind=OuterRef("slug"))
                .order_by()
                .values("kind")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
        )
        .order_by("name_fr", "pk")
    )
    return render(
        request,
        "campaigns/setup_types.html",
        {"builtins": CampaignKind.choices, "types": own, "problem": problem},
        status=400 if problem else 200,
    )
