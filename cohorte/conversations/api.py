"""/api/programs/{id}/conversations and /api/conversations/{id}/messages: the same rules as
the pages (`rules`, `selectors.conversation_access`)."""

import datetime as dt
from typing import Annotated

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import StringConstraints

from cohorte.accounts.models import Member
from cohorte.core.api import ErrorOut
from cohorte.core.parse import ApiId

from . import rules, selectors, services
from .models import BODY_MAX, PARTICIPANTS_MAX, SUBJECT_MAX

programs_router = Router(tags=["conversations"])
conversations_router = Router(tags=["conversations"])


Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class ConversationStartIn(Schema):
    participants: list[Email] = Field(
        ...,
        min_length=1,
        max_length=PARTICIPANTS_MAX - 1,
        description="e-mails of the others (any case; duplicates and the caller's own are dropped)",
    )
    subject: str = Field("", max_length=SUBJECT_MAX)


class ConversationCreatedOut(Schema):
    id: int


class ConversationOut(Schema):
    id: int
    subject: str
    participants: list[str]
    created_at: dt.datetime
    last_message_at: dt.datetime | None
    unread: int | None = Field(None, description="the caller's unread messages, if they take part")


class ConversationMessageIn(Schema):
    body: str = Field(..., min_length=1, max_length=BODY_MAX)


class ConversationMessageOut(Schema):
    id: int
    sender: str
    body: str
    created_at: dt.datetime
    files: list[str]


class ConversationPage(Schema):
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=100)


def _refused(error: ValidationError | PermissionDenied, status: int) -> HttpError:
    text = error.messages[0] if isinstance(error, ValidationError) else str(error)
    return HttpError(status, text)


@programs_router.post(
    "/{program_id}/conversations",
    response={201: ConversationCreatedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def conversation_create(request, program_id: ApiId, payload: ConversationStartIn):
    """Start a conversation; the caller takes part. E-mails outside the programme: 400
    naming them; people the programme does not let the caller reach: 403."""
    author: Member = request.auth
    program = selectors.program_of_member(author, program_id)
    emails = list(dict.fromkeys(e.lower() for e in payload.participants))
    emails = [e for e in emails if e != author.email.lower()]
    if not emails:
        raise HttpError(400, _("Choisissez au moins une personne autre que vous."))
    found = {
        m.email: m
        for m in Member.objects.filter(
            rules.program_people(program),
            organisation_id=program.organisation_id,
            email__in=emails,
            is_active=True,
        ).distinct()
    }
    missing = [e for e in emails if e not in found]
    if missing:
        raise HttpError(
            400,
            _("Pas dans ce programme : %(emails)s") % {"emails": ", ".join(missing)},
        )
    try:
        conversation = services.conversation_start(
            program=program, author=author, others=list(found.values()), subject=payload.subject
        )
    except ValidationError as error:
        raise _refused(error, 400) from error
    except PermissionDenied as error:
        raise _refused(error, 403) from error
    return Status(201, {"id": conversation.pk})


def _out(conversation, unread=None) -> dict:
    return {
        "id": conversation.pk,
        "subject": conversation.subject,
        "participants": [p.member.email for p in conversation.participants.all()],
        "created_at": conversation.created_at,
        "last_message_at": conversation.last_message_at,
        "unread": unread,
    }


@programs_router.get(
    "/{program_id}/conversations", response={200: list[ConversationOut], 404: ErrorOut}
)
def conversation_list(request, program_id: ApiId, paging: Query[ConversationPage]):
    """The caller's conversations in the programme, newest first; for its managers, every
    conversation (who and when, never the words)."""
    member: Member = request.auth
    program = selectors.program_of_member(member, program_id)
    offset = (paging.page - 1) * paging.page_size
    if rules.manages(member, program):
        # who and when; the subject too (it is words) only where the programme allows it
        words = selectors.managers_read(program)
        rows = selectors.program_conversations(
            program=program, limit=paging.page_size, offset=offset
        )
        listed = []
        for conversation in rows:
            out = _out(conversation)
            mine = any(p.member_id == member.pk for p in conversation.participants.all())
            if not (words or mine):
                out["subject"] = ""
            listed.append(out)
        return listed
    places = selectors.inbox(member=member, program=program, limit=paging.page_size, offset=offset)
    return [_out(p.conversation, p.unread) for p in places]


def _message_out(message) -> dict:
    return {
        "id": message.pk,
        "sender": message.sender.email,
        "body": message.body,
        "created_at": message.created_at,
        "files": [f.name for f in message.files.all()],
    }


@conversations_router.get(
    "/{conversation_id}/messages",
    response={200: list[ConversationMessageOut], 403: ErrorOut, 404: ErrorOut},
)
def message_list(request, conversation_id: ApiId, paging: Query[ConversationPage]):
    """Newest first. A manager who does not take part reads them only where the programme
    allows it (audited)."""
    member: Member = request.auth
    if not _same_org(conversation_id, member):
        raise HttpError(404, _("Introuvable."))
    try:
        access = selectors.conversation_access(member, conversation_id)
    except Http404 as error:
        raise HttpError(403, _("Seuls les participants lisent cette conversation.")) from error
    if not access.contents:
        raise HttpError(
            403, _("Ce programme ne permet pas aux responsables de lire les conversations.")
        )
    if access.participant is None:
        services.contents_read_by_manager(conversation=access.conversation, manager=member)
    else:
        services.conversation_read(conversation=access.conversation, member=member)
    messages = selectors.conversation_messages(
        access.conversation,
        limit=paging.page_size,
        offset=(paging.page - 1) * paging.page_size,
    )
    return [_message_out(m) for m in messages]


def _same_org(conversation_id: int, member: Member) -> bool:
    from .models import Conversation

    return Conversation.objects.filter(
        pk=conversation_id, program__organisation_id=member.organisation_id or 0
    ).exists()


@conversations_router.post(
    "/{conversation_id}/messages",
    response={201: ConversationMessageOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def message_create(request, conversation_id: ApiId, payload: ConversationMessageIn):
    """By a participant of the conversation only (403 for anyone else)."""
    member: Member = request.auth
    if not _same_org(conversation_id, member):
        raise HttpError(404, _("Introuvable."))
    from .models import Conversation

    conversation = Conversation.objects.select_related("program__organisation").get(
        pk=conversation_id
    )
    try:
        message = services.message_send(conversation=conversation, sender=member, body=payload.body)
    except PermissionDenied as error:
        raise _refused(error, 403) from error
    except ValidationError as error:
        raise _refused(error, 400) from error
    return Status(201, _message_out(message))
