"""Writing in conversations. A message is stored whole or not at all (its files with it);
it is an activity event through the same rule as the API's events (`events_store`), so the
« professionnels contactés » count and the unanswered-conversation flag come from it; and
its e-mail notice is one outbox row per conversation per quiet period, decided in a
transaction that also clears what it announces, so a retried task never sends twice."""

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.activity.counters import events_store
from cohorte.activity.models import EventKind, Report
from cohorte.core.audit import log_action
from cohorte.core.parse import zone_or_default
from cohorte.meetings.models import Relationship
from cohorte.messaging.attachments import attachment_check, content_type_of
from cohorte.messaging.services import absolute_url, email_enqueue
from cohorte.programs.models import PARTICIPANT_ROLES, Program, Role

from . import rules
from .models import (
    BODY_MAX,
    PARTICIPANTS_MAX,
    SUBJECT_MAX,
    Conversation,
    ConversationMessage,
    MessageFile,
    NoticeMode,
    NoticePreference,
    Participant,
    ProgramConversationSettings,
    RelationshipNote,
)

#: files a message may carry
FILES_MAX = 5


def quiet_period() -> dt.timedelta:
    return dt.timedelta(seconds=settings.COHORTE_CONVERSATION_QUIET_SECONDS)


def program_settings(program: Program) -> ProgramConversationSettings:
    found = ProgramConversationSettings.objects.filter(program=program).first()
    return found or ProgramConversationSettings(program=program)


def body_check(body: str, program: Program) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("Le message est vide."))
    if len(body) > BODY_MAX:
        raise ValidationError(_("Le message dépasse %(n)d caractères.") % {"n": BODY_MAX})
    if "\x00" in body:
        raise ValidationError(_("Le message contient un caractère interdit."))
    rules_of = program_settings(program)
    if rules_of.filter_on:
        refusal = rules.filter_refusal(body, words=rules_of.filter_words)
        if refusal:
            raise ValidationError(refusal)
    return body


def _files_check(files: Sequence[Any]) -> None:
    if len(files) > FILES_MAX:
        raise ValidationError(_("%(n)d fichiers au plus par message.") % {"n": FILES_MAX})
    for upload in files:
        refusal = attachment_check(upload)
        if refusal:
            raise ValidationError(refusal)


def conversation_start(
    *, program: Program, author: Member, others: Sequence[Member], subject: str = ""
) -> Conversation:
    """A new conversation of the author with these members. Raises ValidationError for
    nobody to write to or too many, PermissionDenied for a person the author may not reach."""
    others = [m for m in dict.fromkeys(others) if m.pk != author.pk]
    if not others:
        raise ValidationError(_("Choisissez au moins une personne."))
    if len(others) + 1 > PARTICIPANTS_MAX:
        raise ValidationError(
            _("Une conversation réunit %(n)d personnes au plus.") % {"n": PARTICIPANTS_MAX}
        )
    ids = [m.pk for m in others]
    present = set(
        Member.objects.filter(rules.program_people(program), pk__in=ids, is_active=True)
        .values_list("pk", flat=True)
        .distinct()
    )
    absent = [m for m in others if m.pk not in present]
    if absent:
        raise ValidationError(
            _("Pas dans ce programme : %(emails)s") % {"emails": ", ".join(m.email for m in absent)}
        )
    refused = rules.unreachable(program, author, others)
    if refused:
        raise PermissionDenied(
            _("Ce programme ne vous permet pas d'écrire à : %(names)s.")
            % {"names": ", ".join(m.email for m in refused)}
        )
    with transaction.atomic():
        conversation = Conversation.objects.create(
            program=program, subject=(subject or "").strip()[:SUBJECT_MAX], created_by=author
        )
        Participant.objects.bulk_create(
            Participant(conversation=conversation, member=m) for m in [author, *others]
        )
    return conversation


def _event_rows(
    program: Program, message: ConversationMessage, recipient_ids: list[int]
) -> list[tuple[int, str, int | None, dt.datetime, str | None]]:
    """The activity events of a message, for `events_store`: a message to each recipient
    (the conversations' rule reads these) and, from a participant to a professional, a
    contact (the « professionnels contactés » count reads these)."""
    roles = rules.roles_in(program, [message.sender_id, *recipient_ids])
    sender_is_participant = roles.get(message.sender_id) in PARTICIPANT_ROLES
    rows: list[tuple[int, str, int | None, dt.datetime, str | None]] = []
    for recipient in recipient_ids:
        rows.append(
            (
                message.sender_id,
                EventKind.MESSAGE,
                recipient,
                message.created_at,
                f"conversation-message:{message.pk}:{recipient}",
            )
        )
        if sender_is_participant and roles.get(recipient) in (Role.PROFESSIONAL, Role.MENTOR):
            rows.append(
                (
                    message.sender_id,
                    EventKind.CONTACT,
                    recipient,
                    message.created_at,
                    f"conversation-contact:{message.pk}:{recipient}",
                )
            )
    return rows


def message_send(
    *,
    conversation: Conversation,
    sender: Member,
    body: str,
    files: Sequence[Any] = (),
    now: dt.datetime | None = None,
) -> ConversationMessage:
    """Post a message by one of the conversation's participants."""
    if not Participant.objects.filter(conversation=conversation, member=sender).exists():
        raise PermissionDenied(_("Seuls les participants de la conversation y écrivent."))
    program = conversation.program
    body = body_check(body, program)
    _files_check(files)
    now = now or timezone.now()
    with transaction.atomic():
        message = ConversationMessage.objects.create(
            conversation=conversation, sender=sender, body=body, created_at=now
        )
        for upload in files:
            MessageFile.objects.create(
                message=message,
                file=upload,
                name=upload.name[:255],
                content_type=content_type_of(upload) or "application/octet-stream",
                size=upload.size,
            )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=now, last_sender=sender
        )
        places = Participant.objects.filter(conversation=conversation)
        places.filter(member=sender).update(last_message_at=now, last_read_at=now, unread=0)
        others = places.exclude(member=sender)
        others.update(last_message_at=now, unread=F("unread") + 1)
        recipient_ids = list(others.values_list("member_id", flat=True))
        events_store(program=program, rows=_event_rows(program, message, recipient_ids))
        _notices_plan(conversation, recipient_ids, now)
    return message


# --- E-mail notices ------------------------------------------------------------------


def _modes(member_ids: list[int]) -> dict[int, str]:
    return dict(
        NoticePreference.objects.filter(member_id__in=member_ids).values_list("member_id", "mode")
    )


def _mode_of(member_id: int) -> str:
    return _modes([member_id]).get(member_id, NoticeMode.IMMEDIATE)


def _next_digest(now: dt.datetime, tz: Any) -> dt.datetime:
    """The next morning's digest time (08:00) in the member's zone."""
    local = now.astimezone(tz)
    at = local.replace(hour=8, minute=0, second=0, microsecond=0)
    if at <= local:
        at += dt.timedelta(days=1)
    return at


def _digests_book(member_ids: Sequence[int], now: dt.datetime) -> None:
    """Book each member's next morning digest unless one is booked already. A booking past
    its time (its task late, or lost) is booked again: the digest that runs first sends,
    the other finds nothing left to announce."""
    members = Member.objects.filter(pk__in=member_ids).select_related("organisation")
    for member in members.only("pk", "timezone", "organisation__timezone"):
        fallback = member.organisation.tzinfo if member.organisation else dt.UTC
        at = _next_digest(now, zone_or_default(member.timezone, fallback))
        booked = (
            NoticePreference.objects.filter(member_id=member.pk)
            .filter(Q(digest_due_at__isnull=True) | Q(digest_due_at__lt=now))
            .update(digest_due_at=at)
        )
        if booked:
            transaction.on_commit(functools.partial(_digest_enqueue, member.pk, at))


def _notices_plan(conversation: Conversation, recipient_ids: list[int], now: dt.datetime) -> None:
    """Open a period for each recipient who has none in this conversation: after a quiet
    period (immediate) or the next morning (daily digest), one e-mail announces everything
    that arrived meanwhile. « None »: no period, no e-mail."""
    modes = _modes(recipient_ids)
    waiting = Participant.objects.filter(
        conversation=conversation, member_id__in=recipient_ids, notice_due_since__isnull=True
    ).values_list("pk", "member_id")
    opened = [
        (pk, member)
        for pk, member in waiting
        if modes.get(member, NoticeMode.IMMEDIATE) != NoticeMode.NONE
    ]
    if not opened:
        return
    Participant.objects.filter(pk__in=[pk for pk, _member in opened]).update(notice_due_since=now)
    _digests_book([m for _pk, m in opened if modes.get(m) == NoticeMode.DAILY], now)
    run_after = now + quiet_period()
    for pk, member in opened:
        if modes.get(member) != NoticeMode.DAILY:
            transaction.on_commit(functools.partial(_notice_enqueue, pk, run_after))


def _notice_enqueue(participant_id: int, run_after: dt.datetime) -> None:
    from . import tasks

    tasks.conversation_notice.using(run_after=run_after).enqueue(participant_id)


def _digest_enqueue(member_id: int, run_after: dt.datetime) -> None:
    from . import tasks

    tasks.conversation_digest.using(run_after=run_after).enqueue(member_id)


def conversation_digest_send(*, member_id: int) -> bool:
    """The day's digest for one member: one e-mail for every conversation with something
    unread since the last one; the conversations are cleared in the same transaction as the
    outbox row, so a second run sends nothing."""
    with transaction.atomic():
        places = list(
            Participant.objects.select_for_update(of=("self",))
            .filter(member_id=member_id, notice_due_since__isnull=False)
            .select_related("member", "conversation__program")
            .order_by("-last_message_at")
        )
        now = timezone.now()
        # the booking is spent (a second booking, made while this one was late, finds
        # nothing left to announce)
        NoticePreference.objects.filter(member_id=member_id).update(digest_due_at=None)
        if not places:
            return False
        wanted = _mode_of(member_id) != NoticeMode.NONE
        fresh = [p for p in places if p.unread > 0 and p.member.is_active and wanted]
        Participant.objects.filter(pk__in=[p.pk for p in places]).update(notice_due_since=None)
        Participant.objects.filter(pk__in=[p.pk for p in fresh]).update(last_notice_at=now)
        if not fresh:
            return False
        member = fresh[0].member
        with translation.override(member.language):
            subject = _("Vos messages du jour : %(n)d conversation(s)") % {"n": len(fresh)}
            lines = [
                _("%(subject)s (%(program)s) : %(n)d non lu(s) — %(link)s")
                % {
                    "subject": p.conversation.subject or _("Conversation"),
                    "program": p.conversation.program.name,
                    "n": p.unread,
                    "link": absolute_url(reverse("conversations:detail", args=[p.conversation_id])),
                }
                for p in fresh[:50]
            ]
            text = _(
                "Bonjour,\n\nDe nouveaux messages vous attendent :\n\n%(lines)s\n\n"
                "Modifiez vos préférences : %(prefs)s"
            ) % {
                "lines": "\n".join(lines),
                "prefs": absolute_url(reverse("conversations:preferences")),
            }
        email_enqueue(
            organisation_id=fresh[0].conversation.program.organisation_id,
            member=member,
            to_email=member.email,
            subject=subject,
            text=text,
            language=member.language,
        )
    return True


def conversation_notice_send(*, participant_id: int) -> bool:
    """The e-mail of one quiet period (or the day's digest) for one person in one
    conversation: sent if something is still unread; the period is closed in the same
    transaction as the outbox row, so a second run finds nothing to announce."""
    with transaction.atomic():
        place = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("member", "conversation__program__organisation")
            .filter(pk=participant_id)
            .first()
        )
        if place is None or place.notice_due_since is None:
            return False
        mode = _mode_of(place.member_id)
        if mode == NoticeMode.DAILY:  # chosen since the period opened: the digest tells it
            _digests_book([place.member_id], timezone.now())
            return False
        since = place.notice_due_since
        place.notice_due_since = None
        fresh = place.unread > 0 and place.member.is_active and mode != NoticeMode.NONE
        if fresh:
            place.last_notice_at = timezone.now()
        place.save(update_fields=["notice_due_since", "last_notice_at"])
        if not fresh:
            return False
        conversation, member = place.conversation, place.member
        senders = (
            ConversationMessage.objects.filter(conversation=conversation, created_at__gte=since)
            .exclude(sender=member)
            .select_related("sender")
            .order_by("created_at")
        )
        names = list(dict.fromkeys(m.sender.full_name or m.sender.email for m in senders[:20]))
        link = absolute_url(reverse("conversations:detail", args=[conversation.pk]))
        with translation.override(member.language):
            subject = _("%(n)d nouveau(x) message(s) dans « %(subject)s »") % {
                "n": place.unread,
                "subject": conversation.subject or conversation.program.name,
            }
            text = _(
                "Bonjour,\n\n%(names)s vous a écrit dans le programme « %(program)s ».\n\n"
                "Lire et répondre : %(link)s\n\nVous recevez ce courriel parce que vos "
                "préférences de notification le demandent ; modifiez-les : %(prefs)s"
            ) % {
                "names": ", ".join(names) or "—",
                "program": conversation.program.name,
                "link": link,
                "prefs": absolute_url(reverse("conversations:preferences")),
            }
        email_enqueue(
            organisation_id=conversation.program.organisation_id,
            member=member,
            to_email=member.email,
            subject=subject,
            text=text,
            language=member.language,
        )
    return True


def notice_mode_set(*, member: Member, mode: str) -> None:
    """A new choice counts for what is already waiting too: back to « immediate », the
    conversations waiting for a digest are announced after the quiet period instead."""
    if mode not in NoticeMode.values:
        raise ValidationError(_("Choix inconnu."))
    with transaction.atomic():
        NoticePreference.objects.update_or_create(member=member, defaults={"mode": mode})
        if mode == NoticeMode.IMMEDIATE:
            run_after = timezone.now() + quiet_period()
            for pk in Participant.objects.filter(
                member=member, notice_due_since__isnull=False
            ).values_list("pk", flat=True):
                transaction.on_commit(functools.partial(_notice_enqueue, pk, run_after))


# --- Reading, reporting, settings, notes ---------------------------------------------


def conversation_read(*, conversation: Conversation, member: Member) -> None:
    Participant.objects.filter(conversation=conversation, member=member).update(
        unread=0, last_read_at=timezone.now()
    )


def contents_read_by_manager(*, conversation: Conversation | Relationship, manager: Member) -> None:
    """A manager read the words of a conversation (or a relationship's notes) they do not
    take part in: audited."""
    log_action(
        "conversation.contents_read",
        actor=manager,
        target=conversation,
        data={"program": conversation.program_id},
        organisation_id=conversation.program.organisation_id,
    )


def message_report(*, message: ConversationMessage, by: Member, reason: str) -> Report:
    """A participant reports a message: the sender gets the ❗ « Signalé » flag with the
    reason in the activity table."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Dites pourquoi vous signalez ce message."))
    if len(reason) > 1000:
        raise ValidationError(_("Le motif dépasse 1000 caractères."))
    if message.sender_id == by.pk:
        raise ValidationError(_("Vous ne pouvez pas signaler votre propre message."))
    with transaction.atomic():
        report = Report.objects.create(
            program=message.conversation.program,
            member=message.sender,
            reported_by=by,
            reason=reason,
        )
        log_action(
            "conversation.message_reported",
            actor=by,
            target=message.conversation,
            data={"message": message.pk, "reason": reason},
        )
    return report


def program_settings_save(
    *,
    program: Program,
    by: Member,
    managers_read: bool,
    filter_on: bool,
    filter_words: str,
    members_write: bool = True,
) -> ProgramConversationSettings:
    """Only an administrator decides whether managers read the words: a manager's save
    keeps that choice as it is."""
    if len(filter_words) > 5000:
        raise ValidationError(_("La liste de mots dépasse 5000 caractères."))
    with transaction.atomic():
        before = program_settings(program)
        if not by.is_org_admin:
            managers_read = before.managers_read
        fields = ("managers_read", "filter_on", "members_write")
        old = {name: getattr(before, name) for name in fields}
        new = {"managers_read": managers_read, "filter_on": filter_on}
        new["members_write"] = members_write
        row, _created = ProgramConversationSettings.objects.update_or_create(
            program=program, defaults={**new, "filter_words": filter_words.strip()}
        )
        log_action(
            "program.conversation_settings",
            actor=by,
            target=program,
            data={"old": old, "new": new},
        )
    return row


def note_add(*, relationship: Relationship, author: Member, body: str) -> RelationshipNote:
    if author.pk not in (relationship.mentor_id, relationship.mentee_id):
        raise PermissionDenied(_("Seules les deux personnes de la relation écrivent ses notes."))
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("La note est vide."))
    if len(body) > BODY_MAX:
        raise ValidationError(_("La note dépasse %(n)d caractères.") % {"n": BODY_MAX})
    return RelationshipNote.objects.create(relationship=relationship, author=author, body=body)
