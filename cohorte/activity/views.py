from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.api import MAX_PAGE
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_response
from cohorte.core.parse import ParseError, parse_id, parse_ids, parse_int, safe_next
from cohorte.messaging.models import ReminderRule, ReminderRuleKind
from cohorte.programs import services as program_services
from cohorte.programs.models import PARTICIPANT_ROLES, Program
from cohorte.programs.selectors import member_in_program, program_for

from . import services
from .reports import participants_report
from .selectors import (
    SORTS,
    ActivityRow,
    evaluation_reasons,
    flag_reasons,
    participant_activity_page,
    participant_activity_rows,
    unanswered_conversations,
)

MAX_SELECTION = 100


PAGE_SIZES = (25, 50, 100)
MAX_SEARCH = 200


def _table_state(request: MemberRequest) -> dict:
    """The table's state from the URL: sort, order, search, filters, page. Each value is read
    on its own through the shared parsers; a value that cannot be used falls back to its
    default and says so above the table, so a hand-edited or stale link never breaks it."""
    params = request.GET
    errors: list[str] = []

    def refuse(label: str, reason: str) -> None:
        errors.append(
            _("%(field)s : %(reason)s (valeur ignorée).") % {"field": label, "reason": reason}
        )

    sort = params.get("sort", "") or "name"
    if sort not in SORTS:
        refuse(_("Tri"), _("colonne inconnue"))
        sort = "name"
    order = params.get("order", "") or "asc"
    if order not in ("asc", "desc"):
        refuse(_("Ordre"), _("« asc » ou « desc » attendu"))
        order = "asc"
    q = params.get("q", "").replace("\x00", "").strip()
    if len(q) > MAX_SEARCH:
        refuse(_("Recherche"), _("trop long (%(n)s caractères au plus)") % {"n": MAX_SEARCH})
        q = ""
    cohort = None
    if params.get("cohort", "").strip():
        try:
            cohort = parse_id(params["cohort"])
        except ParseError as error:
            refuse(_("Cohorte"), error.message)
    page = 1
    if params.get("page", "").strip():
        try:
            page = parse_int(params["page"], minimum=1, maximum=MAX_PAGE)
        except ParseError as error:
            refuse(_("Page"), error.message)
    size = PAGE_SIZES[0]
    if params.get("size", "").strip():
        try:
            size = parse_int(params["size"], minimum=1, maximum=PAGE_SIZES[-1])
        except ParseError as error:
            refuse(_("Par page"), error.message)
        if size not in PAGE_SIZES:
            size = min(PAGE_SIZES, key=lambda choice: abs(choice - size))
    return {
        "sort": sort,
        "order": order,
        "q": q,
        "never": params.get("never", "") in _TRUE,
        "never_platform": params.get("never_platform", "") in _TRUE,
        # « Signalé » : « à traiter » (a ❗ now; "1" as the old checkbox said) or « traités »
        "flagged": "open"
        if params.get("flagged", "") in (*_TRUE, "open")
        else ("resolved" if params.get("flagged") == "resolved" else ""),
        "cohort": cohort,
        "page": page,
        "size": size,
        "errors": errors,
        # the hideable columns shown (Moodle's « Ville », « Pays »)
        "show": (show := [name for name in ("city", "country") if name in params.getlist("show")]),
        "colspan": 11 + len(show),
    }


_TRUE = ("1", "on", "true", "True")


def _filters(state: dict) -> dict:
    return {
        "q": state["q"],
        "never_signed_in": state["never"],
        "never_on_platform": state["never_platform"],
        "flagged": state["flagged"],
        "cohort": state["cohort"],
    }


def _rows(program: Program, state: dict):
    return participant_activity_rows(
        program=program, sort=state["sort"], order=state["order"], **_filters(state)
    )


def _page_rows(program: Program, state: dict):
    return participant_activity_page(
        program=program, sort=state["sort"], order=state["order"], **_filters(state)
    )


@login_required
def program_page(request: MemberRequest, program_id: int) -> HttpResponse:
    """The programme's page: who is active, who is behind, who never came."""
    program = program_for(request.user, program_id)
    request.current_program = program
    state = _table_state(request)
    # its total from the enrolments alone (ActivityPage.count), not the sorted rows
    page = Paginator(_page_rows(program, state), state["size"]).get_page(state["page"])
    rows = cast(list[ActivityRow], list(page.object_list))
    reasons = flag_reasons(program=program, rows=rows)
    for row in rows:
        row.flag_reasons = reasons.get(row.member_id, [])
    start, end = program.window()
    context = {
        "program": program,
        "page": page,
        "rows": rows,
        "state": state,
        "cohorts": program.organisation.cohorts.all(),
        # rows on the page answer it: the query only when a search or filter found none
        "has_participants": bool(rows)
        or program.enrolments.filter(ended_at__isnull=True, role__in=PARTICIPANT_ROLES).exists(),
        "name_sorts": {"first_name": _("Prénom"), "last_name": _("Nom")},
        "columns": [
            ("profiles_visited", _("Profils visités")),
            ("professionals_contacted", _("Professionnels contactés")),
            ("upcoming_meetings", _("Rendez-vous à venir")),
            ("confirmed_meetings", _("Rendez-vous confirmés")),
        ],
    }
    template = "activity/program.html"
    if request.headers.get("HX-Target") == "participants" and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        template += "#participants"  # htmx asked for the table only
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
def participants_csv(request: MemberRequest, program_id: int) -> StreamingHttpResponse:
    """The table as shown (filters and sort applied), every page of it."""
    program = program_for(request.user, program_id)
    state = _table_state(request)
    rows = _rows(program, state)
    french = translation.get_language() == "fr"
    header, lines = participants_report(rows)
    log_action(
        "export.participants_csv",
        actor=request.user,
        target=program,
        data={"filters": request.GET.urlencode()},
    )
    stamp = timezone.localdate().isoformat()
    return csv_response(
        f"participants-{program.pk}-{stamp}.csv", header, lines, delimiter=";" if french else ","
    )


@login_required
def participant_remove(request: MemberRequest, program_id: int, member_id: int) -> HttpResponse:
    """Ask, then end the enrolment. Nothing is deleted: their history stays."""
    program = program_for(request.user, program_id)
    request.current_program = program
    enrolment = member_in_program(program, member_id)
    if request.method == "POST":
        program_services.enrolment_end(enrolment=enrolment, by=request.user)
        messages.success(
            request,
            _("%(name)s a été retiré·e du programme.") % {"name": enrolment.member.full_name},
        )
        return redirect("activity:program", program_id=program.pk)
    return render(
        request, "activity/participant_remove.html", {"program": program, "enrolment": enrolment}
    )


@login_required
def participant_flags(request: MemberRequest, program_id: int, member_id: int) -> HttpResponse:
    """A ❗'s reasons, each with what can be done: resolve a report with a comment
    (« Traité »), mark a conversation as followed up, write to the participant. The reports
    already dealt with stay listed below, as on the profile."""
    from .models import Conversation, Report

    program = program_for(request.user, program_id)
    request.current_program = program
    enrolment = member_in_program(program, member_id)
    member = enrolment.member
    here = reverse("activity:participant-flags", args=[program.pk, member.pk])
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            target = parse_id(request.POST.get("id", ""))
        except ParseError as error:
            messages.error(request, error.message)
            return redirect(here)
        if action == "resolve":
            report = Report.objects.filter(program=program, member=member, pk=target).first()
            if report is None:
                raise Http404
            try:
                services.report_resolve(
                    report=report, by=request.user, comment=request.POST.get("comment", "")
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Signalement marqué comme traité."))
        elif action == "follow_up":
            conversation = Conversation.objects.filter(
                program=program, participant=member, pk=target
            ).first()
            if conversation is None:
                raise Http404
            services.conversation_follow_up(conversation=conversation, by=request.user)
            messages.success(request, _("Conversation marquée comme suivie."))
        return redirect(here)
    now = timezone.now()
    reports = (
        Report.objects.filter(program=program, member=member)
        .select_related("reported_by", "resolved_by")
        .order_by("-created_at")
    )
    waiting = (
        unanswered_conversations(program=program, now=now)
        .filter(participant=member)
        .select_related("professional")
    )
    return render(
        request,
        "activity/participant_flags.html",
        {
            "program": program,
            "member": member,
            "open_reports": [r for r in reports if r.resolved_at is None],
            "resolved_reports": [r for r in reports if r.resolved_at is not None],
            "waiting": waiting,
            "evaluation_reasons": evaluation_reasons(program=program, member_id=member.pk, now=now),
        },
    )


def _selected(request: MemberRequest, program: Program) -> list[Member]:
    """The ticked participants of this programme, active or not (at most MAX_SELECTION);
    ids that are not ids raise ParseError for the view to say so."""
    ids = parse_ids(request.POST.getlist("member"), limit=10_000)
    return list(
        Member.objects.filter(
            pk__in=ids[:MAX_SELECTION],
            enrolments__program=program,
            enrolments__ended_at__isnull=True,
        ).order_by("last_name", "first_name")
    )


def _why_not_reminded(member: Member) -> str:
    if member.archived_at is not None:
        return _("archivé·e : ne reçoit plus de courriel")
    return _("inactif·ve : ne reçoit plus de courriel")


def _back(request: MemberRequest, program: Program) -> str:
    """The table as the manager left it (its filters and page), else its first page."""
    return safe_next(request, reverse("activity:program", args=[program.pk]))


@login_required
@require_POST
def participants_remind(request: MemberRequest, program_id: int) -> HttpResponse:
    """First POST shows who will receive the reminder, and who will not and why (inactive,
    archived); « Envoyer » sends it. Back to the table with its filters."""
    program = program_for(request.user, program_id)
    request.current_program = program
    back = _back(request, program)
    try:
        chosen = _selected(request, program)
    except ParseError as error:
        messages.error(request, _("Sélection invalide : %(reason)s.") % {"reason": error.message})
        return redirect(back)
    members = [m for m in chosen if m.is_active and m.archived_at is None]
    left_out = [(m, _why_not_reminded(m)) for m in chosen if m not in members]
    if not members:
        if left_out:
            messages.error(
                request,
                _("Aucun des participants choisis ne peut recevoir de relance : %(who)s.")
                % {"who": " ; ".join(f"{m.full_name} ({why})" for m, why in left_out)},
            )
        else:
            messages.error(request, _("Sélectionnez au moins un participant à relancer."))
        return redirect(back)
    if request.POST.get("confirm") == "1":
        sent = services.participants_remind(
            program=program, members=members, by=request.user, note=request.POST.get("note", "")
        )
        messages.success(
            request,
            translation.ngettext(
                "Relance envoyée à %(count)d participant.",
                "Relance envoyée à %(count)d participants.",
                sent,
            )
            % {"count": sent},
        )
        return redirect(back)
    subject, body = services.default_reminder(program=program, member=members[0])
    return render(
        request,
        "activity/participants_remind.html",
        {
            "program": program,
            "members": members,
            "left_out": left_out,
            "subject": subject,
            "body": body,
            "next": back,
        },
    )


@login_required
@require_POST
def participants_remove(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Retirer du programme » for several: first the list to confirm, then each
    enrolment ends; nothing is deleted, their history stays."""
    program = program_for(request.user, program_id)
    request.current_program = program
    back = _back(request, program)
    try:
        chosen = _selected(request, program)
    except ParseError as error:
        messages.error(request, _("Sélection invalide : %(reason)s.") % {"reason": error.message})
        return redirect(back)
    if not chosen:
        messages.error(request, _("Sélectionnez au moins un participant à retirer."))
        return redirect(back)
    if request.POST.get("confirm") == "1":
        removed = program_services.enrolments_end(program=program, members=chosen, by=request.user)
        messages.success(
            request,
            translation.ngettext(
                "%(count)d participant retiré du programme.",
                "%(count)d participants retirés du programme.",
                removed,
            )
            % {"count": removed},
        )
        return redirect(back)
    return render(
        request,
        "activity/participants_remove.html",
        {"program": program, "members": chosen, "next": back},
    )


@login_required
def reminder_rules(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Relances automatiques »: the programme's three rules, when each last ran and whom
    it reached."""
    program = program_for(request.user, program_id)
    request.current_program = program
    rules = {rule.kind: rule for rule in program.reminder_rules.all()}
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in ReminderRuleKind.values:
            raise Http404("No such rule.")
        try:
            days = parse_int(request.POST.get("days", ""), minimum=1, maximum=365)
        except ParseError:
            messages.error(request, _("N doit être un nombre de jours entre 1 et 365."))
            return redirect("activity:reminder-rules", program_id=program.pk)
        rule, _created = ReminderRule.objects.update_or_create(
            program=program,
            kind=kind,
            defaults={
                "days": days,
                "active": request.POST.get("active") == "1",
                "created_by": request.user,
            },
        )
        log_action(
            "reminder_rule.saved",
            actor=request.user,
            target=program,
            data={"kind": kind, "days": rule.days, "active": rule.active},
        )
        if request.POST.get("run") == "1":
            reached = services.reminder_rule_run(rule=rule)
            messages.success(
                request,
                translation.ngettext(
                    "Règle exécutée : %(count)d personne relancée.",
                    "Règle exécutée : %(count)d personnes relancées.",
                    len(reached),
                )
                % {"count": len(reached)},
            )
        else:
            messages.success(request, _("Règle enregistrée."))
        return redirect("activity:reminder-rules", program_id=program.pk)
    return render(
        request,
        "activity/reminder_rules.html",
        {
            "program": program,
            "rows": [(kind, label, rules.get(kind)) for kind, label in ReminderRuleKind.choices],
        },
    )


@login_required
def presence_now(request: MemberRequest) -> JsonResponse:
    """Which of these people are online, among those this person may see (polled by pages)."""
    from cohorte.accounts.selectors import members_visible_to

    from . import presence

    try:
        ids = parse_ids([request.GET.get("ids", "")], limit=500)
    except ParseError as error:
        return JsonResponse({"message": error.message, "online": []}, status=400)
    visible = members_visible_to(request.user).filter(pk__in=ids).values_list("pk", flat=True)
    response = JsonResponse({"online": sorted(presence.online(list(visible)))})
    response["Cache-Control"] = "no-store"
    return response
