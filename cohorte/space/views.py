"""« Mon espace »: what waits for the member, their meetings, relationships, programmes and
notices, in their language and their own time zone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.parse import ParseError, parse_id, safe_next
from cohorte.core.todo import TodoItem
from cohorte.meetings.models import Response

from . import selectors, services


def in_member_zone(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The page's times in the member's own time zone (the rest of the site shows the
    organisation's)."""

    @wraps(view)
    def wrapper(request: MemberRequest, *args, **kwargs) -> HttpResponse:
        with timezone.override(selectors.member_zone(request.user)):
            return view(request, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class TodoRow:
    """An item with what does it in place, so it is one click from done: the invitation's
    meeting (« Accepter », « Refuser »), the past meeting to evaluate (« Elle a eu lieu »,
    « Elle n'a pas eu lieu »), the masterclass to sign up for. Others are their link."""

    item: TodoItem
    answer_meeting: int = 0
    evaluate_meeting: int = 0
    session: int = 0


def _todo_rows(items: list[TodoItem], upcoming: list) -> list[TodoRow]:
    pending = {
        reverse("space:home") + f"#meeting-{a.meeting_id}": a.meeting_id
        for a in upcoming
        if a.response == Response.PENDING
    }
    rows = []
    for item in items:
        if item.kind == "invitation" and item.url in pending:
            rows.append(TodoRow(item, answer_meeting=pending[item.url]))
        elif item.kind == "evaluation":
            rows.append(TodoRow(item, evaluate_meeting=_url_id(item.url, "meeting_id")))
        elif item.kind == "masterclass" and "#session-" in item.url:
            rows.append(TodoRow(item, session=_id_or_zero(item.url.rpartition("#session-")[2])))
        else:
            rows.append(TodoRow(item))
    return rows


def _url_id(url: str, name: str) -> int:
    """The id a page's address carries (meetings:evaluate's meeting_id), or 0."""
    try:
        return _id_or_zero(str(resolve(url.partition("#")[0]).kwargs.get(name, "")))
    except Resolver404:
        return 0


def _id_or_zero(text: str) -> int:
    try:
        return parse_id(text)
    except ParseError:
        return 0


def _with_partners(member, rows) -> list:
    """Each relationship with the partner, and the partner's weekly windows read in the
    member's own time zone (their hours, their day)."""
    relationships = list(rows[: selectors.RELATIONSHIPS_MAX])
    for row in relationships:
        row.partner = selectors.partner_in(row, member)
        row.partner_windows = selectors.windows_of(row.partner, seen_by=member)
    return relationships


@login_required
@in_member_zone
def home(request: MemberRequest) -> HttpResponse:
    member = request.user
    relationships = _with_partners(member, selectors.relationships_of(member))
    enrolments = list(
        member.enrolments.filter(ended_at__isnull=True)
        .select_related("program__organisation")
        .order_by("program__name")
    )
    items = selectors.todo_items(member)
    upcoming = selectors.upcoming_meetings(member)
    return render(
        request,
        "space/home.html",
        {
            "rows": _todo_rows(items, upcoming),
            "todo_count": len(items),
            "upcoming": upcoming,
            "past": selectors.past_meetings(member),
            "relationships": relationships,
            "enrolments": enrolments,
            "notifications": selectors.recent_notifications(member),
            "availability": list(member.availabilities.order_by("weekday", "start")),
            "tz": timezone.get_current_timezone(),
            "manages": member.is_org_admin or member.managed_programs.exists(),
            "RESCHEDULE_MESSAGE_MAX": services.RESCHEDULE_MESSAGE_MAX,
        },
    )


def _posted_meeting(request: MemberRequest) -> int:
    try:
        return parse_id(request.POST.get("meeting"))
    except ParseError as error:
        raise Http404("No such meeting.") from error


def _back(request: MemberRequest, meeting_id: int) -> str:
    return safe_next(request, reverse("space:home") + f"#meeting-{meeting_id}")


@login_required
@require_POST
def meeting_answer(request: MemberRequest) -> HttpResponse:
    """« Accepter » / « Refuser » from the space (or its « À faire »)."""
    meeting_id = _posted_meeting(request)
    answer = request.POST.get("answer", "")
    try:
        services.invitation_answer(member=request.user, meeting_id=meeting_id, answer=answer)
    except PermissionDenied as error:
        raise Http404("No such meeting.") from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Invitation acceptée.") if answer == Response.ACCEPTED else _("Invitation refusée."),
        )
    return redirect(_back(request, meeting_id))


@login_required
@require_POST
def meeting_evaluation(request: MemberRequest) -> HttpResponse:
    """« Elle a eu lieu » / « Elle n'a pas eu lieu » from « À faire » or a past meeting."""
    meeting_id = _posted_meeting(request)
    try:
        services.evaluation_answer(
            member=request.user,
            meeting_id=meeting_id,
            took_place=request.POST.get("took_place", ""),
        )
    except PermissionDenied as error:
        raise Http404("No such meeting.") from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Merci : votre évaluation est enregistrée."))
    return redirect(_back(request, meeting_id))


@login_required
@require_POST
def meeting_reschedule_request(request: MemberRequest) -> HttpResponse:
    """« Demander un report », with a message to the others and the managers."""
    meeting_id = _posted_meeting(request)
    try:
        services.reschedule_request(
            member=request.user, meeting_id=meeting_id, message=request.POST.get("message", "")
        )
    except PermissionDenied as error:
        raise Http404("No such meeting.") from error
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Demande de report envoyée : vous serez prévenu de la nouvelle date.")
        )
    return redirect(_back(request, meeting_id))


@login_required
@in_member_zone
def relationship(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """Their partner's profile and weekly availability, and their meetings together."""
    found = selectors.relationship_of(request.user, relationship_id)
    if found is None:
        raise Http404("No such relationship.")
    partner = selectors.partner_in(found, request.user)
    return render(
        request,
        "space/relationship.html",
        {
            "relationship": found,
            "partner": partner,
            "partner_fields": selectors.shared_fields_of(partner),
            "partner_tz": selectors.member_zone(partner),
            "partner_windows": selectors.windows_of(partner, seen_by=request.user),
            "meetings": selectors.meetings_together(request.user, found),
            "tz": timezone.get_current_timezone(),
        },
    )


@login_required
@in_member_zone
def program(request: MemberRequest, program_id: int) -> HttpResponse:
    """A programme they take part in, seen from their side."""
    enrolment = (
        request.user.enrolments.filter(program_id=program_id)
        .select_related("program__organisation")
        .first()
    )
    if enrolment is None:
        raise Http404("No such programme.")
    found = enrolment.program
    return render(
        request,
        "space/program.html",
        {
            "enrolment": enrolment,
            "program": found,
            "relationships": _with_partners(
                request.user, selectors.relationships_of(request.user).filter(program=found)
            ),
            "upcoming": [
                a
                for a in selectors.upcoming_meetings(request.user)
                if a.meeting.program_id == found.pk
            ],
            "RESCHEDULE_MESSAGE_MAX": services.RESCHEDULE_MESSAGE_MAX,
        },
    )
