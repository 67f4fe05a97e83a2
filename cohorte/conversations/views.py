"""Pages: the inbox, a conversation, starting one (from a selection), the notice
preference, a programme's conversations for its managers, a relationship's notes."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.files import private_file_response
from cohorte.core.parse import ParseError, parse_id, parse_ids
from cohorte.meetings.models import Relationship
from cohorte.messaging.attachments import ALLOWED
from cohorte.programs.models import Program

from . import rules, selectors, services
from .models import (
    BODY_MAX,
    PARTICIPANTS_MAX,
    ConversationMessage,
    MessageFile,
    NoticeMode,
    NoticePreference,
    RelationshipNote,
)


def _error_text(error: ValidationError | PermissionDenied) -> str:
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


@login_required
def inbox(request: MemberRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:200]
    places = selectors.inbox(member=request.user, q=q, limit=50)
    return render(
        request,
        "conversations/inbox.html",
        {"places": places, "q": q, "relationships": selectors.member_relationships(request.user)},
    )


@login_required
def detail(request: MemberRequest, conversation_id: int) -> HttpResponse:
    access = selectors.conversation_access(request.user, conversation_id)
    conversation = access.conversation
    if request.method == "POST":
        if access.participant is None:
            raise PermissionDenied
        try:
            services.message_send(
                conversation=conversation,
                sender=request.user,
                body=request.POST.get("body", ""),
                files=request.FILES.getlist("files"),
            )
        except (ValidationError, PermissionDenied) as error:
            flash.error(request, _error_text(error))
            return render(
                request,
                "conversations/detail.html",
                _detail_context(
                    access, request.user, draft=request.POST.get("body", "")[:BODY_MAX]
                ),
                status=400,
            )
        return redirect("conversations:detail", conversation_id=conversation.pk)
    if access.participant is not None:
        services.conversation_read(conversation=conversation, member=request.user)
    elif access.contents:
        services.contents_read_by_manager(conversation=conversation, manager=request.user)
    return render(request, "conversations/detail.html", _detail_context(access, request.user))


def _detail_context(access: selectors.Access, member: Member, draft: str = "") -> dict:
    conversation = access.conversation
    places = list(conversation.participants.select_related("member").order_by("pk"))
    shown = selectors.conversation_messages(conversation) if access.contents else []
    selectors.read_marks(shown, places)
    return {
        "conversation": conversation,
        "access": access,
        "people": [p.member for p in places],
        "others_count": len(places) - 1,
        "messages_shown": shown,
        "draft": draft,
        "body_max": BODY_MAX,
        "accept": ",".join(f".{extension}" for extension in ALLOWED),
    }


def _chosen_ids(request: MemberRequest) -> list[int]:
    """The people ticked in a table (`member`, repeated) or listed (`people`: « 1,2,3 »);
    too many or a bad id says so and chooses nobody."""
    values = [request.GET.get("people", ""), *request.GET.getlist("member")]
    values += request.POST.getlist("member")
    try:
        return parse_ids(values, limit=PARTICIPANTS_MAX - 1)
    except ParseError as error:
        flash.error(request, _("Personnes : %(reason)s.") % {"reason": error.message})
        return []


def _chosen(request: MemberRequest, program: Program) -> tuple[list[Member], int]:
    """The chosen people who belong to the programme, and how many chosen do not."""
    ids = [pk for pk in _chosen_ids(request) if pk != request.user.pk]
    inside = list(
        Member.objects.filter(
            rules.program_people(program),
            pk__in=ids,
            organisation_id=program.organisation_id,
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name")
    )
    return inside, len(ids) - len(inside)


@login_required
def start(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Écrire »: a new conversation with the people selected in a table (or one)."""
    program = selectors.program_of_member(request.user, program_id)
    chosen, outside = _chosen(request, program)
    if request.method == "POST":
        try:
            with transaction.atomic():
                conversation = services.conversation_start(
                    program=program,
                    author=request.user,
                    others=chosen,
                    subject=request.POST.get("subject", ""),
                )
                if request.POST.get("body", "").strip():
                    services.message_send(
                        conversation=conversation, sender=request.user, body=request.POST["body"]
                    )
        except (ValidationError, PermissionDenied) as error:
            flash.error(request, _error_text(error))
        else:
            return redirect("conversations:detail", conversation_id=conversation.pk)
    refused = rules.unreachable(program, request.user, chosen)
    reachable = [m for m in chosen if m not in refused]
    candidates = _candidates(program, request.user)
    return render(
        request,
        "conversations/start.html",
        {
            "program": program,
            "chosen": reachable,
            # the chosen first, ticked, then everyone else the member may write to
            "candidates": reachable + [m for m in candidates if m not in reachable],
            "refused": refused,
            "outside": outside,
            "subject": request.POST.get("subject", "")[:200],
            "draft": request.POST.get("body", "")[:BODY_MAX],
            "body_max": BODY_MAX,
        },
    )


@login_required
def start_from(request: MemberRequest) -> HttpResponse:
    """The members list's selection: with the programme the list is filtered on, straight
    to the new conversation; otherwise the programmes the selected people are in, to choose
    one (one alone: straight to it)."""
    query = request.GET.copy()
    query.pop("program", None)
    query.pop("csrfmiddlewaretoken", None)
    query.pop("next", None)
    if request.GET.get("program"):
        try:
            program_id = parse_id(request.GET["program"])
        except ParseError as error:
            raise Http404("No such programme.") from error
        target = reverse("conversations:start", args=[program_id])
        return redirect(f"{target}?{query.urlencode()}")
    ids = _chosen_ids(request)
    programs = selectors.programs_of_people(member=request.user, people_ids=ids)
    if len(programs) == 1:
        target = reverse("conversations:start", args=[programs[0].pk])
        return redirect(f"{target}?{query.urlencode()}")
    return render(
        request,
        "conversations/start_from.html",
        {"programs": programs, "query": query.urlencode(), "chosen": len(ids)},
    )


def _candidates(program: Program, member: Member) -> list[Member]:
    """People the member may write to in the programme (for the picker), at most 200."""
    people = list(
        Member.objects.filter(rules.program_people(program), is_active=True)
        .exclude(pk=member.pk)
        .distinct()
        .order_by("last_name", "first_name")[:200]
    )
    refused = set(rules.unreachable(program, member, people))
    return [m for m in people if m not in refused]


@login_required
def file_download(request: MemberRequest, file_id: int) -> FileResponse:
    attached = get_object_or_404(MessageFile.objects.select_related("message"), pk=file_id)
    access = selectors.conversation_access(request.user, attached.message.conversation_id)
    if not access.contents:
        raise Http404("No such file.")
    if access.participant is None:
        services.contents_read_by_manager(conversation=access.conversation, manager=request.user)
    return private_file_response(attached.file, filename=attached.name)


@login_required
@require_POST
def report(request: MemberRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(ConversationMessage.objects.select_related("sender"), pk=message_id)
    access = selectors.conversation_access(request.user, message.conversation_id)
    if access.participant is None:
        raise PermissionDenied
    try:
        services.message_report(
            message=message, by=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        flash.error(request, _error_text(error))
    else:
        flash.success(request, _("Message signalé aux responsables du programme."))
    return redirect("conversations:detail", conversation_id=message.conversation_id)


@login_required
def preferences(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            services.notice_mode_set(member=request.user, mode=request.POST.get("mode", ""))
        except ValidationError as error:
            flash.error(request, _error_text(error))
        else:
            flash.success(request, _("Préférence enregistrée."))
            return redirect("conversations:preferences")
    row = NoticePreference.objects.filter(member=request.user).first()
    return render(
        request,
        "conversations/preferences.html",
        {"modes": NoticeMode.choices, "mode": row.mode if row else NoticeMode.IMMEDIATE},
    )


@login_required
def program_page(request: MemberRequest, program_id: int) -> HttpResponse:
    """A programme's conversations for its managers (who and when) and its settings."""
    program = selectors.program_of_member(request.user, program_id)
    if not rules.manages(request.user, program):
        raise Http404("No such programme.")
    if request.method == "POST":
        try:
            services.program_settings_save(
                program=program,
                by=request.user,
                managers_read=request.POST.get("managers_read") == "on",
                filter_on=request.POST.get("filter_on") == "on",
                members_write=request.POST.get("members_write") == "on",
                filter_words=request.POST.get("filter_words", ""),
            )
        except ValidationError as error:
            flash.error(request, _error_text(error))
        else:
            flash.success(request, _("Réglages enregistrés."))
            return redirect("conversations:program", program_id=program.pk)
    settings_row = services.program_settings(program)
    conversations = selectors.program_conversations(program=program)
    for conversation in conversations:  # its subject is words too: only where allowed
        conversation.subject_shown = settings_row.managers_read or any(  # type: ignore[attr-defined]
            place.member_id == request.user.pk for place in conversation.participants.all()
        )
    return render(
        request,
        "conversations/program.html",
        {
            "program": program,
            "conversations": conversations,
            "settings_row": settings_row,
            "reports": selectors.program_reports(program=program),
            "noted": selectors.relationships_with_notes(program=program)
            if settings_row.managers_read
            else [],
        },
    )


@login_required
def notes(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """A relationship's notes, shared by the pair (and the managers where allowed)."""
    relationship = get_object_or_404(
        Relationship.objects.select_related("program", "mentor", "mentee").filter(
            program__organisation_id=request.user.organisation_id or 0
        ),
        pk=relationship_id,
    )
    pair = request.user.pk in (relationship.mentor_id, relationship.mentee_id)
    if not pair:
        if not (
            rules.manages(request.user, relationship.program)
            and selectors.managers_read(relationship.program)
        ):
            raise Http404("No such relationship.")
    if request.method == "POST" and pair:
        try:
            services.note_add(
                relationship=relationship, author=request.user, body=request.POST.get("body", "")
            )
        except ValidationError as error:
            flash.error(request, _error_text(error))
        else:
            return redirect("conversations:notes", relationship_id=relationship.pk)
    if not pair:
        services.contents_read_by_manager(conversation=relationship, manager=request.user)
    rows = (
        RelationshipNote.objects.filter(relationship=relationship)
        .select_related("author")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "conversations/notes.html",
        {"relationship": relationship, "notes": rows, "pair": pair, "body_max": BODY_MAX},
    )
