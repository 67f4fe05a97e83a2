"""Reads of conversations: the inbox, the unread count, a conversation's messages and who
may see what. Each reads the maintained columns of Participant, never counts messages."""

from dataclasses import dataclass

from django.db.models import Count, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.activity.models import Report
from cohorte.activity.selectors import open_reports
from cohorte.core.parse import search_words
from cohorte.core.todo import TodoItem
from cohorte.meetings.models import Relationship
from cohorte.programs.models import Enrolment, Program

from . import rules
from .models import Conversation, ConversationMessage, Participant, ProgramConversationSettings

INBOX_PAGE = 25
MESSAGES_PAGE = 50


def unread_count(member: Member) -> int:
    """Messages this member has not read, in every conversation (the header's badge)."""
    if not getattr(member, "pk", None):
        return 0
    total = Participant.objects.filter(member=member, unread__gt=0).aggregate(n=Sum("unread"))
    return int(total["n"] or 0)


def _with_people(places: QuerySet[Participant]) -> QuerySet[Participant]:
    return places.select_related(
        "conversation__program", "conversation__last_sender"
    ).prefetch_related(
        Prefetch(
            "conversation__participants",
            queryset=Participant.objects.select_related("member").order_by("pk"),
        )
    )


def inbox(
    *,
    member: Member,
    q: str = "",
    program: Program | None = None,
    limit: int = INBOX_PAGE,
    offset: int = 0,
) -> list[Participant]:
    """The member's conversations, newest first; `q` searches the subject, the people's
    names and the words of the messages."""
    places = Participant.objects.filter(member=member)
    if program is not None:
        places = places.filter(conversation__program=program)
    mine = Participant.objects.filter(member=member).values("conversation_id")
    for word in search_words(q)[:5]:
        # only the member's conversations and their messages are searched (through the
        # messages' index by conversation), never the whole table
        words = ConversationMessage.objects.filter(conversation_id__in=mine, body__icontains=word)
        matching = Conversation.objects.filter(pk__in=mine).filter(
            Q(subject__icontains=word)
            | Q(participants__member__last_name__icontains=word)
            | Q(participants__member__first_name__icontains=word)
            | Q(pk__in=words.values("conversation_id"))
        )
        places = places.filter(conversation_id__in=matching.values("pk"))
    places = places.order_by("-last_message_at", "-pk")[offset : offset + limit]
    return list(_with_people(places))


def program_conversations(
    *, program: Program, limit: int = 100, offset: int = 0
) -> list[Conversation]:
    """Every conversation of a programme, newest first, for its managers: who and when."""
    return list(
        Conversation.objects.filter(program=program)
        .order_by("-last_message_at", "-pk")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("member").order_by("pk"),
            )
        )[offset : offset + limit]
    )


def managers_read(program: Program) -> bool:
    return ProgramConversationSettings.objects.filter(program=program, managers_read=True).exists()


@dataclass
class Access:
    conversation: Conversation
    participant: Participant | None
    manager: bool
    #: the words may be shown (a participant, or a manager where the programme allows it)
    contents: bool


def conversation_access(member: Member, conversation_id: int) -> Access:
    """Who asks and what they may see; 404 for another organisation's conversation or one
    the member neither takes part in nor manages."""
    conversation = (
        Conversation.objects.select_related("program__organisation")
        .filter(pk=conversation_id, program__organisation_id=member.organisation_id or 0)
        .first()
    )
    if conversation is None or not member.is_active:
        raise Http404("No such conversation.")
    place = Participant.objects.filter(conversation=conversation, member=member).first()
    manager = rules.manages(member, conversation.program)
    if place is None and not manager:
        raise Http404("No such conversation.")
    contents = place is not None or managers_read(conversation.program)
    return Access(conversation, place, manager, contents)


def conversation_messages(
    conversation: Conversation,
    *,
    limit: int = MESSAGES_PAGE,
    offset: int = 0,
    before: int | None = None,
) -> list[ConversationMessage]:
    """The newest messages first (a page of them, older ones through `before`)."""
    messages = ConversationMessage.objects.filter(conversation=conversation)
    if before is not None:
        messages = messages.filter(pk__lt=before)
    return list(
        messages.select_related("sender")
        .prefetch_related("files")
        .order_by("-created_at", "-pk")[offset : offset + limit]
    )


def program_of_member(member: Member, program_id: int) -> Program:
    """A programme the member belongs to now (enrolled or managing it), else 404."""
    program = (
        Program.objects.filter(pk=program_id, organisation_id=member.organisation_id or 0)
        .filter(rules.program_people_of(member))
        .select_related("organisation")
        .first()
    )
    if program is None and member.is_org_admin:
        program = (
            Program.objects.filter(pk=program_id, organisation_id=member.organisation_id or 0)
            .select_related("organisation")
            .first()
        )
    if program is None or not member.is_active:
        raise Http404("No such programme.")
    return program


def conversation_todo_items(member: Member) -> list[TodoItem]:
    """« À faire »: conversations whose last message is someone else's and that the member
    has not answered (kind `conversation`)."""
    places = (
        Participant.objects.filter(member=member, unread__gt=0)
        .exclude(conversation__last_sender=member)
        .select_related("conversation__last_sender", "conversation__program")
        .order_by("-last_message_at")[:20]
    )
    items = []
    for place in places:
        conversation = place.conversation
        sender = conversation.last_sender
        items.append(
            TodoItem(
                kind="conversation",
                title=_("Répondez à %(name)s") % {"name": sender.full_name if sender else "—"},
                url=reverse("conversations:detail", args=[conversation.pk]),
                detail=conversation.subject or conversation.program.name,
            )
        )
    return items


def programs_of_people(*, member: Member, people_ids: list[int]) -> list[Program]:
    """The programmes a conversation with these people can be started in by the member
    (those they belong to or manage; every one for an administrator), each with `chosen_in`:
    how many of the people are in it, most first. Without people: all of them."""
    programs = Program.objects.filter(organisation_id=member.organisation_id or 0)
    if not member.is_org_admin:
        mine = Program.objects.filter(rules.program_people_of(member)).values("pk")
        programs = programs.filter(pk__in=mine)
    chosen_in = (
        Enrolment.objects.filter(
            program=OuterRef("pk"), member_id__in=people_ids, ended_at__isnull=True
        )
        .values("program")
        .annotate(n=Count("member_id", distinct=True))
        .values("n")[:1]
    )
    programs = programs.annotate(chosen_in=Coalesce(Subquery(chosen_in), 0))
    if people_ids:
        programs = programs.filter(chosen_in__gt=0)
    return list(programs.order_by("-chosen_in", "name")[:100])


def read_marks(messages: list[ConversationMessage], places: list[Participant]) -> None:
    """Set `read_by` on each message: how many of the other participants have read it
    (their last reading is at or after it). No query: the places are loaded already."""
    for message in messages:
        message.read_by = sum(  # type: ignore[attr-defined]
            1
            for place in places
            if place.member_id != message.sender_id
            and place.last_read_at is not None
            and place.last_read_at >= message.created_at
        )


def program_reports(*, program: Program, limit: int = 50) -> list[Report]:
    """The programme's open reports, newest first: a reported professional or manager has
    no row in the activity table, so the managers read every report here too."""
    return list(
        open_reports(program=program)
        .select_related("member", "reported_by")
        .order_by("-created_at")[:limit]
    )


def relationships_with_notes(*, program: Program, limit: int = 100) -> list[Relationship]:
    """The programme's relationships that have notes, with `notes_count`, latest first."""
    return list(
        Relationship.objects.filter(program=program)
        .annotate(notes_count=Count("notes"), last_note=Max("notes__created_at"))
        .filter(notes_count__gt=0)
        .select_related("mentor", "mentee")
        .order_by("-last_note")[:limit]
    )


def member_relationships(member: Member) -> list[Relationship]:
    """The member's current relationships (either side), for their notes."""
    return list(
        Relationship.objects.filter(Q(mentor=member) | Q(mentee=member), ended_at__isnull=True)
        .select_related("program", "mentor", "mentee")
        .order_by("program__name", "pk")[:50]
    )
