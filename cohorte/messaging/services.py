"""Sending that never loses or doubles a message: messages become outbox rows in the
transaction that decides them; the worker sends each row, retries it with back-off, and
the row's status is the e-mail log."""

import dataclasses
import datetime as dt
import email.utils
import functools
import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member, MemberRole
from cohorte.core import parse
from cohorte.core.audit import log_action
from cohorte.programs.models import PARTICIPANT_ROLES, Program, Role

from . import addresses, branding, rendering, system_messages
from .models import (
    OUTBOX_STATUSES,
    STATUS_RANK,
    Audience,
    DeliveryEvent,
    Email,
    EmailStatus,
    Message,
    MessageStatus,
    Notification,
    ReleaseNote,
    SystemTemplate,
)

logger = logging.getLogger(__name__)

MENTOR_ENROLMENT_ROLES = (Role.MENTOR, Role.PROFESSIONAL)


# --- Who receives a message -------------------------------------------------------------


def audience_scope(*, organisation_id: int, program: Program | None) -> QuerySet[Member]:
    """Everyone a message may reach: the programme's current members, or the organisation's;
    never a deactivated or archived account."""
    members = Member.objects.filter(
        organisation_id=organisation_id, is_active=True, archived_at__isnull=True
    )
    if program is not None:
        members = members.filter(
            pk__in=program.enrolments.filter(ended_at__isnull=True).values("member_id")
        )
    return members


def audience_members(message: Message) -> QuerySet[Member]:
    members = audience_scope(organisation_id=message.organisation_id, program=message.program)
    mentor = Q(role__in=[MemberRole.MENTOR, MemberRole.BOTH])
    mentee = Q(role__in=[MemberRole.MENTEE, MemberRole.BOTH])
    if message.program is not None:
        enrolled = message.program.enrolments.filter(ended_at__isnull=True)
        mentor |= Q(pk__in=enrolled.filter(role__in=MENTOR_ENROLMENT_ROLES).values("member_id"))
        mentee |= Q(pk__in=enrolled.filter(role__in=PARTICIPANT_ROLES).values("member_id"))
    match message.audience:
        case Audience.MENTORS:
            members = members.filter(mentor)
        case Audience.MENTEES:
            members = members.filter(mentee)
        case Audience.MENTORS_AND_MENTEES:
            members = members.filter(mentor | mentee)
        case Audience.UNMATCHED:
            members = members.filter(mentor | mentee).filter(relationships_count=0)
        case Audience.COHORT:
            members = (
                members.filter(cohorts=message.cohort_id) if message.cohort_id else members.none()
            )
        case Audience.PEOPLE:
            members = members.filter(pk__in=[int(pk) for pk in message.people])
    # each member once (a cohort's join may repeat one) by their id, not by a DISTINCT over
    # every column of 20,000 rows
    return Member.objects.filter(pk__in=members.values("pk")).order_by("pk")


# --- Composing ---------------------------------------------------------------------------


@dataclasses.dataclass
class Draft:
    audience: str
    subject_fr: str
    subject_en: str
    body_fr: str
    body_en: str
    cohort_id: int | None = None
    people: list[int] = dataclasses.field(default_factory=list)
    send_at: dt.datetime | None = None


def draft_check(draft: Draft, *, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """Every problem at once, field by field; nothing is saved while there is one."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}

    def add(field: str, text: str) -> None:
        errors.setdefault(field, []).append(text)

    if not draft.subject_fr.strip() and not draft.subject_en.strip():
        add("subject_fr", _("Le sujet est obligatoire."))
    if not rendering.text_of(draft.body_fr) and not rendering.text_of(draft.body_en):
        add("body_fr", _("Le message est vide dans les deux langues."))
    for field in ("subject_fr", "subject_en", "body_fr", "body_en"):
        unknown = rendering.unknown_tags(getattr(draft, field))
        if unknown:
            add(
                field,
                _("Balise inconnue : %(tags)s. Balises possibles : %(known)s.")
                % {
                    "tags": ", ".join(unknown),
                    "known": ", ".join(t for t, _h in rendering.tag_help()),
                },
            )
    if draft.audience == Audience.COHORT and not draft.cohort_id:
        add("cohort", _("Choisissez une cohorte ou une étiquette."))
    if draft.audience == Audience.PEOPLE and not draft.people:
        add("people", _("Choisissez au moins une personne."))
    if draft.send_at is not None:
        if draft.send_at <= now:
            add("send_at", _("La date d'envoi prévue est déjà passée."))
        else:
            try:
                parse.check_schedule_time(draft.send_at)
            except parse.ParseError as error:
                add("send_at", error.message)
    return errors


@transaction.atomic
def message_save(
    *,
    organisation_id: int,
    program: Program | None,
    draft: Draft,
    by: Member,
    message: Message | None = None,
    kind: str = "community",
) -> Message:
    """Create or revise a message that has not left yet."""
    errors = draft_check(draft)
    if errors:
        raise ValidationError(errors)
    if message is not None:
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status == MessageStatus.SENT:
            raise ValidationError(_("Ce message est déjà parti : dupliquez-le pour le renvoyer."))
    message = message or Message(
        organisation_id=organisation_id, program=program, created_by=by, kind=kind
    )
    message.audience = draft.audience
    message.cohort_id = draft.cohort_id if draft.audience == Audience.COHORT else None
    message.people = [int(pk) for pk in draft.people] if draft.audience == Audience.PEOPLE else []
    message.subject_fr, message.subject_en = draft.subject_fr.strip(), draft.subject_en.strip()
    message.body_fr, message.body_en = (
        rendering.sanitise(draft.body_fr),
        rendering.sanitise(draft.body_en),
    )
    message.send_at = draft.send_at
    message.status = MessageStatus.DRAFT
    message.save()
    log_action("message.saved", actor=by, target=message, data={"audience": draft.audience})
    return message


def absolute_url(path: str) -> str:
    """A link for an e-mail: the site's address and the path."""
    return settings.COHORTE_BASE_URL.rstrip("/") + path


#: the tags each recipient fills with their own values; the others are the message's
RECIPIENT_TAGS = ("first_name", "last_name", "full_name", "email")


def _values_for(member: Member) -> dict[str, str]:
    return {
        "first_name": member.first_name,
        "last_name": member.last_name,
        "full_name": member.full_name,
        "email": member.email,
    }


@dataclasses.dataclass
class Rendered:
    language: str
    subject: str
    html: str
    text: str


class MessageRenderer:
    """A message for each of its recipients: each language's body is sanitised once
    (rendering.prepare), then only the recipient's tags are filled, so a message to 20,000
    people costs a few string replacements per person."""

    def __init__(self, message: Message, organisation_name: str):
        self.message = message
        self.shared = {
            "program": message.program.name if message.program else "",
            "organisation": organisation_name,
            "sign_in_link": absolute_url(reverse("accounts:login")),
        }
        self.languages: dict[str, tuple[str, str, rendering.Prepared]] = {}

    def _language(self, wanted: str) -> tuple[str, str, rendering.Prepared]:
        """Their language, or the other when theirs is empty."""
        if wanted not in self.languages:
            message = self.message
            language = "en" if wanted == "en" else "fr"
            body = message.body_en if language == "en" else message.body_fr
            if not rendering.text_of(body):
                language = "fr" if language == "en" else "en"
                body = message.body_en if language == "en" else message.body_fr
            subject = (
                message.subject_en if language == "en" else message.subject_fr
            ) or message.subject
            prepared = rendering.prepare(body, shared=self.shared, keys=RECIPIENT_TAGS)
            self.languages[wanted] = (language, subject, prepared)
        return self.languages[wanted]

    def render(self, member: Member) -> Rendered:
        language, subject, prepared = self._language(member.language)
        values = _values_for(member)
        # a tag inside an attribute (<a href="{prénom}">) takes the recipient's text, which
        # must not become a javascript: link: prepare() sanitises such a body per recipient
        html_body, text = prepared.render(values)
        return Rendered(
            language=language,
            subject=rendering.fill(subject, {**self.shared, **values}, escape=False),
            html=html_body,
            text=text,
        )


def message_render(message: Message, member: Member, organisation_name: str) -> Rendered:
    """The recipient's version: their language, or the other when theirs is empty."""
    return MessageRenderer(message, organisation_name).render(member)


@transaction.atomic
def message_send(*, message: Message, by: Member | None) -> int:
    """Now: one outbox row per recipient, in this transaction; the worker sends after commit.
    The recipients are read and written 2,000 at a time: a few queries for 20,000 people."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.status == MessageStatus.SENT:
        return 0  # already left: a second click or a late scheduled task changes nothing
    renderer = MessageRenderer(message, message.organisation.name)
    attachments = [
        {"path": a.file.name, "name": a.name, "content_type": a.content_type}
        for a in message.attachments.all()
    ]
    count = 0
    rows: list[Email] = []
    for member in audience_members(message).iterator(chunk_size=2000):
        rendered = renderer.render(member)
        rows.append(
            Email(
                organisation_id=message.organisation_id,
                message=message,
                member=member,
                to_email=member.email,
                to_name=addresses.member_name(member),
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                language=rendered.language,
                attachments=attachments,
            )
        )
        if len(rows) == 2000:
            Email.objects.bulk_create(rows)
            count, rows = count + len(rows), []
    Email.objects.bulk_create(rows)
    count += len(rows)
    message.status = MessageStatus.SENT
    message.sent_at = timezone.now()
    message.recipients_count = count
    message.save(update_fields=["status", "sent_at", "recipients_count", "updated_at"])
    log_action("message.sent", actor=by, target=message, data={"recipients": count})
    outbox_kick()
    return count


def message_send_now(*, message: Message, by: Member | None) -> tuple[int, bool]:
    """« Envoyer un message »: (recipients, written later). Up to COHORTE_SEND_INLINE_MAX
    recipients, their outbox rows are written in this request; beyond, rendering them takes
    seconds, so the message is queued for now and a worker writes them, the message page
    showing it (the scheduled-message path: the tick's safety net takes it again if that
    worker dies, and message_send's lock makes a second run a no-op)."""
    from . import tasks

    count = audience_members(message).count()
    if count <= settings.COHORTE_SEND_INLINE_MAX:
        return message_send(message=message, by=by), False
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status == MessageStatus.SENT:
            return 0, False
        message.status, message.send_at = MessageStatus.QUEUED, timezone.now()
        message.save(update_fields=["status", "send_at", "updated_at"])
        log_action("message.send_started", actor=by, target=message, data={"recipients": count})
        transaction.on_commit(lambda: tasks.message_send_due.enqueue(message.pk))
    return count, True


def message_preparing(message: Message) -> bool:
    """Sent now, its outbox rows still being written by a worker."""
    return (
        message.status == MessageStatus.QUEUED
        and message.send_at is not None
        and message.send_at <= timezone.now()
    )


@transaction.atomic
def message_schedule(*, message: Message, send_at: dt.datetime, by: Member) -> Message:
    """« Prévoir horaire »: queued until its time; the worker sends it then."""
    from . import tasks

    message = Message.objects.select_for_update().get(pk=message.pk)
    if send_at <= timezone.now():
        raise ValidationError({"send_at": [_("La date d'envoi prévue est déjà passée.")]})
    try:  # a few years ahead at most: a year 9999 is never stored
        parse.check_schedule_time(send_at)
    except parse.ParseError as error:
        raise ValidationError({"send_at": [error.message]}) from error
    if message.status == MessageStatus.SENT:
        raise ValidationError(_("Ce message est déjà parti."))
    message.status, message.send_at = MessageStatus.QUEUED, send_at
    message.save(update_fields=["status", "send_at", "updated_at"])
    log_action("message.scheduled", actor=by, target=message, data={"send_at": send_at.isoformat()})
    transaction.on_commit(
        lambda: tasks.message_send_due.using(run_after=send_at).enqueue(message.pk)
    )
    return message


def message_send_if_due(*, message_id: int, now: dt.datetime | None = None) -> int:
    """The scheduled task: sends only a message still queued whose time has come (a revised
    time has its own task; a deleted message has none left to send)."""
    now = now or timezone.now()
    message = Message.objects.filter(pk=message_id, status=MessageStatus.QUEUED).first()
    if message is None or message.send_at is None or message.send_at > now:
        return 0
    return message_send(message=message, by=None)


def messages_send_due(*, now: dt.datetime | None = None) -> int:
    """Every scheduled message whose time has passed (a safety net beside each one's task)."""
    now = now or timezone.now()
    due = Message.objects.filter(status=MessageStatus.QUEUED, send_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(message_send_if_due(message_id=pk, now=now) for pk in list(due))


@transaction.atomic
def message_delete(*, message: Message, by: Member) -> None:
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.status == MessageStatus.SENT:
        raise ValidationError(
            _("Un message envoyé reste dans le registre : il ne peut pas être supprimé.")
        )
    log_action("message.deleted", actor=by, target=message, data={"subject": message.subject})
    message.delete()


def message_duplicate(*, message: Message, by: Member) -> Message:
    copy = Message.objects.create(
        organisation_id=message.organisation_id,
        program=message.program,
        kind=message.kind,
        audience=message.audience,
        cohort_id=message.cohort_id,
        people=message.people,
        subject_fr=message.subject_fr,
        subject_en=message.subject_en,
        body_fr=message.body_fr,
        body_en=message.body_en,
        created_by=by,
    )
    log_action("message.duplicated", actor=by, target=copy, data={"from": message.pk})
    return copy


# --- The outbox ----------------------------------------------------------------------------


def email_enqueue(
    *,
    organisation_id: int,
    member: Member | None,
    to_email: str,
    subject: str,
    text: str,
    html: str = "",
    language: str = "fr",
    message: Message | None = None,
    attachments: Sequence[dict[str, str]] = (),
) -> Email:
    """One e-mail into the outbox, in the caller's transaction; sent after commit.
    An attachment is a stored file {"path", "name", "content_type"} or inline text
    {"content", "name", "content_type"} (an .ics invitation)."""
    email = Email.objects.create(
        attachments=list(attachments),
        organisation_id=organisation_id,
        message=message,
        member=member,
        to_email=to_email,
        to_name=addresses.member_name(member) if member else "",
        subject=subject,
        body_text=text,
        body_html=html,
        language=language,
    )
    outbox_kick()
    return email


def outbox_kick(run_after: dt.datetime | None = None) -> None:
    """Wake the worker once the current transaction has committed."""
    from . import tasks

    task = tasks.outbox_send.using(run_after=run_after) if run_after else tasks.outbox_send
    transaction.on_commit(lambda: task.enqueue())


def _outbox_rows() -> QuerySet[Email]:
    """The rows still to send, through the outbox's partial indexes. Their condition is
    written out: SQLite uses a partial index only for the very terms of its WHERE, not for
    bound parameters, and would otherwise read the whole log for each claim."""
    statuses = ", ".join(f"'{status}'" for status in OUTBOX_STATUSES)  # constants, not input
    return Email.objects.extra(where=[f"messaging_email.status IN ({statuses})"])  # noqa: S610


def _commit_without_waiting() -> None:
    """PostgreSQL: this transaction (a claim, a few marks) commits without waiting for the
    disk (synchronous_commit off, COHORTE_EMAIL_ASYNC_COMMIT). A worker killed after it
    loses nothing: the commit is the server's, at once visible to every worker; only a crash
    of the database server itself may forget the last ~0.6 s of marks, whose e-mails would
    then leave once more. On a busy disk each commit otherwise waits for its flush."""
    if connection.vendor == "postgresql" and settings.COHORTE_EMAIL_ASYNC_COMMIT:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO off")


def _claim_through_the_index() -> None:
    """PostgreSQL: this transaction's claim reads the outbox index in id order and stops at
    the batch, whatever the statistics say. After a message to 20,000 people the planner's
    figures (taken when the outbox was empty) expect a handful of rows and pick a bitmap
    scan and a sort instead; that visits every row sent since the last VACUUM, whose index
    entries are still there, and took 140 to 170 ms a claim. An index scan marks those
    entries dead as it passes them, so the next claims read only the rows still to send
    (2 ms)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('enable_sort', 'off', true), "
                "set_config('enable_bitmapscan', 'off', true)"
            )


def _claim(batch: int, now: dt.datetime) -> tuple[list[Email], dt.datetime]:
    """Take up to `batch` due rows for this worker. On PostgreSQL SKIP LOCKED lets several
    workers claim side by side; SQLite's IMMEDIATE transactions let one writer at a time.
    A row claimed by a worker that died is taken again when its claim runs out. The first
    condition is the outbox index's own (email_outbox_claim_idx): the rows still to send,
    in order, however long the log behind them. The claim's time is its mark: a row whose
    claimed_until has changed was taken over by another worker."""
    until = now + dt.timedelta(seconds=settings.COHORTE_EMAIL_CLAIM_SECONDS)
    due = Q(status=EmailStatus.QUEUED) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    stale = Q(status=EmailStatus.SENDING, claimed_until__lt=now)
    with transaction.atomic():
        _commit_without_waiting()
        _claim_through_the_index()
        rows = _outbox_rows().filter(due | stale).order_by("pk").defer("last_error")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        claimed = list(rows[:batch])
        if claimed:
            Email.objects.filter(pk__in=[row.pk for row in claimed]).update(
                status=EmailStatus.SENDING, claimed_until=until, attempts=F("attempts") + 1
            )
    for row in claimed:
        row.attempts += 1
    return claimed, until


def _renew(rows: list[Email], until: dt.datetime) -> tuple[list[Email], dt.datetime]:
    """The batch has taken half its claim's time (a slow server): the rows still ours are
    claimed again; one another worker took over (its claim ran out) is left to it."""
    renewed = timezone.now() + dt.timedelta(seconds=settings.COHORTE_EMAIL_CLAIM_SECONDS)
    ids = [row.pk for row in rows]
    with transaction.atomic():
        _commit_without_waiting()
        Email.objects.filter(pk__in=ids, status=EmailStatus.SENDING, claimed_until=until).update(
            claimed_until=renewed
        )
        kept = set(
            Email.objects.filter(pk__in=ids, claimed_until=renewed).values_list("pk", flat=True)
        )
    return [row for row in rows if row.pk in kept], renewed


def _as_email_message(
    row: Email, layouts: branding.Layouts | None = None
) -> mail.EmailMultiAlternatives:
    layout = (layouts or branding.Layouts()).for_row(row)
    message = mail.EmailMultiAlternatives(
        subject=row.subject,
        body=layout.text(row.body_text) if layout else row.body_text,
        from_email=addresses.sender_address(),
        # a row written before names were kept apart may hold the address as its name
        to=[addresses.mail_address(row.to_email, row.to_name)],
        headers={"Message-ID": row.message_id_header},
    )
    if row.body_html:
        message.attach_alternative(_with_open_pixel(row, layout), "text/html")
    for attachment in row.attachments:
        if "content" in attachment:
            message.attach(attachment["name"], attachment["content"], attachment["content_type"])
            continue
        with default_storage.open(attachment["path"], "rb") as handle:
            message.attach(attachment["name"], handle.read(), attachment["content_type"])
    return message


def _with_open_pixel(row: Email, layout: branding.EmailLayout | None = None) -> str:
    from django.core import signing

    token = signing.dumps(row.pk, salt="email-open")
    return _html_document(row, layout, absolute_url(reverse("messaging:open", args=[token])))


def _html_document(row: Email, layout: branding.EmailLayout | None, open_url: str) -> str:
    """The HTML part as it leaves: the row's body in its programme's layout, then the pixel
    that records the opening."""
    pixel = f'<img src="{open_url}" width="1" height="1" alt="" style="display:block;border:0">'
    body = layout.html(row.body_html) if layout else row.body_html
    return f"<!doctype html><html><body>{body}{pixel}</body></html>"


class _Sender:
    """One batch's way out. Over SMTP, an e-mail without attachments goes as bytes written
    by rendering.wire_bytes() on the backend's open connection (Django's own message
    building cost several times the rest of the send); anything else (an attachment, a
    provider's API through anymail, the console) goes through the Django backend."""

    def __init__(self, backend: Any, before_data: Callable[[], None] | None = None):
        from django.core import signing
        from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

        self.backend = backend
        self.before_data = before_data  # called just before an e-mail's content leaves
        self.layouts = branding.Layouts()  # a message's programme brand, read once a batch
        self.smtp = isinstance(backend, SMTPBackend)
        if self.smtp:
            name, sender = email.utils.parseaddr(addresses.sender_address())
            self.from_header = rendering.header_address(sender, name)
            self.from_envelope = rendering.envelope_address(sender)
            # what _with_open_pixel() writes, its parts computed once for the batch
            self.signer = signing.TimestampSigner(salt="email-open")
            self.open_url = absolute_url(reverse("messaging:open", args=["TOKEN"]))

    def _html(self, row: Email, layout: branding.EmailLayout | None) -> str:
        url = self.open_url.replace("TOKEN", self.signer.sign_object(row.pk))
        return _html_document(row, layout, url)

    def send(self, row: Email) -> str:
        """Hand one row to the server; the provider's id of it, if it gives one."""
        if not self.smtp or row.attachments:
            message = _as_email_message(row, self.layouts)
            self.backend.send_messages([message])
            return _provider_id(message)
        layout = self.layouts.for_row(row)
        data = rendering.wire_bytes(
            from_header=self.from_header,
            # a row written before names were kept apart may hold the address as its name
            to_header=rendering.header_address(row.to_email, row.to_name),
            subject=row.subject,
            message_id=row.message_id_header,
            text=layout.text(row.body_text) if layout else row.body_text,
            html=self._html(row, layout) if row.body_html else "",
        )
        recipient = rendering.envelope_address(row.to_email)
        self.backend.open()  # a no-op while the batch's connection holds
        smtp = self.backend.connection
        if self.before_data and "data" not in vars(smtp):  # once per connection
            smtp.data = _after(self.before_data, smtp.data)
        smtp.sendmail(self.from_envelope, [recipient], data)
        return ""


def _after(first: Callable[[], None], step: Callable[..., Any]) -> Callable[..., Any]:
    """`step`, once `first` has run (sendmail's DATA, after the last e-mail's mark)."""

    def run(*args: Any, **kwargs: Any) -> Any:
        first()
        return step(*args, **kwargs)

    return run


def _mark_sent(marks: list[tuple[int, str]]) -> None:
    """Rows the server accepted (with the provider's id of each, if it gave one), « sent »:
    one statement for those without an id. Outside a transaction it commits on its own."""
    now = timezone.now()
    sent = dict(
        status=EmailStatus.SENT, sent_at=now, status_at=now, claimed_until=None, last_error=""
    )
    pending = Email.objects.filter(status=EmailStatus.SENDING)
    pending.filter(pk__in=[pk for pk, provider_id in marks if not provider_id]).update(**sent)
    for pk, provider_id in marks:
        if provider_id:
            pending.filter(pk=pk).update(**sent, provider_message_id=provider_id)


class _Marks:
    """Rows the server accepted, written « sent » a few at a time: one statement (and one
    commit) for COHORTE_EMAIL_MARK_EVERY rows, or for what COHORTE_EMAIL_MARK_SECONDS
    gathered. A worker killed in between leaves those rows claimed; they leave once more
    when the claim runs out: that window is the only way an e-mail is sent twice, and
    COHORTE_EMAIL_MARK_EVERY=1 narrows it to the one e-mail on the wire."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, str]] = []
        self.since = 0.0

    def add(self, pk: int, provider_id: str) -> None:
        if not self.pending:
            self.since = time.monotonic()
        self.pending.append((pk, provider_id))

    def due(self) -> bool:
        return bool(self.pending) and (
            len(self.pending) >= settings.COHORTE_EMAIL_MARK_EVERY
            or time.monotonic() - self.since >= settings.COHORTE_EMAIL_MARK_SECONDS
        )

    def flush(self) -> None:
        if not self.pending:
            return
        with transaction.atomic():
            _commit_without_waiting()
            _mark_sent(self.pending)
        self.pending = []

    def settle(self) -> None:
        """Nothing to wait for: the marks are this thread's (see _MarksAlongside)."""

    def close(self) -> None:
        """Nothing to stop (see _MarksAlongside)."""


class _MarksAlongside:
    """PostgreSQL: the same marks, written by a companion thread (its own connection) as
    soon as the server accepts each e-mail, while this one goes on to the next. Before it
    hands the next e-mail's content over (SMTP's DATA), the sending waits until the last
    mark is committed, which it often is by then: the commit (about a millisecond)
    runs during the next e-mail's first exchanges with the server. So at any moment at most
    one e-mail the server accepted is not yet written « sent »: a worker killed sends again
    at most that one (as with COHORTE_EMAIL_MARK_EVERY=1). It is not free: on a 2-core
    machine a worker sent a third to a half fewer e-mails a second than with marks in
    batches (bench/sending.py, COHORTE_EMAIL_MARK_ALONGSIDE=0 to compare). `flush` waits
    until every mark added is committed, so a batch decides nothing before what left is
    written."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.written = threading.Condition()
        self.added = 0
        self.committed = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="outbox-marks", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            if settings.COHORTE_EMAIL_ASYNC_COMMIT:  # as _commit_without_waiting, for good
                with connection.cursor() as cursor:
                    cursor.execute("SET synchronous_commit TO off")
            while (item := self.queue.get()) is not None:
                if self.error is None:
                    try:
                        _with_database(functools.partial(_mark_sent, [item]))
                    except BaseException as error:  # noqa: BLE001 (handed to the sender)
                        self.error = error
                        logger.warning("outbox: marks not written (%s)", error)
                with self.written:
                    self.committed += 1
                    self.written.notify_all()
        finally:
            connection.close()  # this thread's own connection

    def settle(self) -> None:
        """Wait until every mark added is committed."""
        with self.written:
            while self.committed < self.added:
                self.written.wait()
        if self.error is not None:
            raise self.error

    def add(self, pk: int, provider_id: str) -> None:
        self.settle()  # at most one at a time (an e-mail sent without DATA's wait)
        with self.written:
            self.added += 1
        self.queue.put((pk, provider_id))

    def due(self) -> bool:
        return False  # written as they come

    def flush(self) -> None:
        self.settle()

    def close(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()


def _marks() -> "_Marks | _MarksAlongside":
    """A companion thread on PostgreSQL, in a worker's own transactions; otherwise (SQLite,
    one writer; or inside a caller's transaction, which another connection cannot see) the
    marks are written by this thread, a few at a time."""
    if (
        connection.vendor == "postgresql"
        and settings.COHORTE_EMAIL_MARK_ALONGSIDE
        and not connection.in_atomic_block
    ):
        return _MarksAlongside()
    return _Marks()


def _retry_or_fail(row: Email, reason: str, now: dt.datetime) -> None:
    delays = settings.COHORTE_EMAIL_RETRY_SECONDS
    if row.attempts >= settings.COHORTE_EMAIL_MAX_ATTEMPTS:
        Email.objects.filter(pk=row.pk).update(
            status=EmailStatus.FAILED, last_error=reason[:2000], status_at=now, claimed_until=None
        )
        return
    wait = delays[min(row.attempts - 1, len(delays) - 1)]
    retry_at = now + dt.timedelta(seconds=wait)
    Email.objects.filter(pk=row.pk).update(
        status=EmailStatus.QUEUED,
        next_attempt_at=retry_at,
        last_error=reason[:2000],
        claimed_until=None,
    )
    outbox_kick(run_after=retry_at)


def _with_database[T](step: Callable[[], T]) -> T:
    """One short database step of the outbox, tried again while the database is briefly
    away (a restart, a fail-over, a terminated connection, a lock held too long): an e-mail
    the SMTP server accepted must be marked sent, or it would leave again once its claim
    runs out. The broken connection is closed, so the next try opens a new one."""
    deadline = time.monotonic() + settings.COHORTE_OUTBOX_DB_RETRY_SECONDS
    pause = 0.2
    while True:
        try:
            return step()
        except (OperationalError, InterfaceError) as error:
            if connection.in_atomic_block or time.monotonic() + pause > deadline:
                raise  # inside someone's transaction, or for too long: the caller decides
            logger.warning("outbox: database unavailable (%s), trying again", error)
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _outbox_spread() -> None:
    """A claim came back full: more is due than this worker sends at once. One more
    sending waits in the task queue (unless one already does) for an idle worker to take:
    two workers send one message to 20,000 people side by side, not one after the other."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from . import tasks

    if not isinstance(tasks.outbox_send.get_backend(), DatabaseBackend):
        return
    waiting = DBTaskResult.objects.ready().filter(task_path=tasks.outbox_send.module_path)
    if not waiting.exists():
        tasks.outbox_send.enqueue()


def outbox_send(*, batch: int | None = None, limit: int | None = None, spread: bool = False) -> int:
    """Send what is due, a claimed batch at a time over one connection; the rows the server
    accepted are marked sent a few at a time (_Marks), and always before anything else is
    decided about the batch; a batch slower than half its claim claims its rows again, so
    no other worker takes one over while this one still sends it. With `spread` (the
    worker's task) a full claim calls another worker in. Returns how many left."""
    batch = batch or settings.COHORTE_EMAIL_CLAIM_BATCH
    sent = 0
    while limit is None or sent < limit:
        rows, until = _with_database(functools.partial(_claim, batch, timezone.now()))
        if not rows:
            break
        if spread and len(rows) == batch:
            _with_database(_outbox_spread)
        renew_at = time.monotonic() + settings.COHORTE_EMAIL_CLAIM_SECONDS / 2
        marks = _marks()
        todo = list(reversed(rows))  # popped from the end: the claim's order
        try:
            with mail.mailers.default as backend:
                sender = _Sender(backend, before_data=marks.settle)
                while todo:
                    if time.monotonic() >= renew_at:
                        _with_database(marks.flush)
                        kept, until = _with_database(functools.partial(_renew, todo, until))
                        todo = kept
                        renew_at = time.monotonic() + settings.COHORTE_EMAIL_CLAIM_SECONDS / 2
                        continue
                    row = todo.pop()
                    try:
                        provider_id = sender.send(row)
                    except (OSError, ValueError, smtplib.SMTPException) as error:
                        if _connection_lost(error):
                            todo.append(row)  # not sent: it waits with the rest
                            raise
                        _with_database(
                            functools.partial(_retry_or_fail, row, str(error), timezone.now())
                        )
                        continue
                    marks.add(row.pk, provider_id)
                    sent += 1
                    if marks.due():
                        _with_database(marks.flush)
            _with_database(marks.flush)
        except DatabaseError:
            raise  # gone for longer than we wait: the claims run out, the tick wakes us
        except Exception as error:  # the server went away: the rest of the batch waits
            logger.warning("outbox: %s", error)
            _with_database(marks.flush)  # what the server accepted is sent
            reason = str(error) or error.__class__.__name__
            for row in todo:
                _with_database(functools.partial(_release, row, reason, until))
            break
        finally:
            marks.close()
    return sent


def _release(row: Email, reason: str, until: dt.datetime) -> None:
    """A row this worker claimed and did not send (unless another took it over since)."""
    if Email.objects.filter(pk=row.pk, status=EmailStatus.SENDING, claimed_until=until).exists():
        _retry_or_fail(row, reason, timezone.now())


def outbox_wake(*, now: dt.datetime | None = None) -> bool:
    """The worker's clock: when rows are due (queued, or claimed by a worker that died and
    whose claim has run out) make sure a sending will run; a killed worker leaves no
    wake-up of its own. One more run than needed claims nothing and costs one query."""
    now = now or timezone.now()
    due = (
        Q(status=EmailStatus.QUEUED)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ) | Q(status=EmailStatus.SENDING, claimed_until__lt=now)
    if not _outbox_rows().filter(due).exists():
        return False
    outbox_kick()
    return True


def _connection_lost(error: BaseException) -> bool:
    if isinstance(
        error, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError | smtplib.SMTPSenderRefused
    ):
        return False
    return isinstance(error, OSError | smtplib.SMTPServerDisconnected)


def _provider_id(message: mail.EmailMessage) -> str:
    status = getattr(message, "anymail_status", None)
    if status is not None and getattr(status, "message_id", None):
        return str(status.message_id)
    return ""


# --- Tracking -------------------------------------------------------------------------------

TRACKING_STATUS = {
    "delivered": EmailStatus.DELIVERED,
    "opened": EmailStatus.OPENED,
    "clicked": EmailStatus.OPENED,
    "bounced": EmailStatus.BOUNCED,
    "rejected": EmailStatus.BOUNCED,
    "deferred": EmailStatus.DEFERRED,
    "complained": EmailStatus.COMPLAINED,
    "failed": EmailStatus.FAILED,
}


def email_status_record(
    *,
    email: Email,
    status: str,
    at: dt.datetime,
    event_key: str,
    detail: str = "",
) -> bool:
    """A provider's event, once (by its key); a status never moves back down."""
    with transaction.atomic():
        _event, created = DeliveryEvent.objects.get_or_create(
            event_key=event_key[:200],
            defaults={"email": email, "kind": status, "occurred_at": at, "detail": detail[:2000]},
        )
        if not created:
            return False
        row = Email.objects.select_for_update().get(pk=email.pk)
        changes: dict[str, Any] = {}
        if status == EmailStatus.OPENED and row.opened_at is None:
            changes["opened_at"] = at
        if status in (EmailStatus.DELIVERED, EmailStatus.OPENED) and row.delivered_at is None:
            changes["delivered_at"] = at
        if STATUS_RANK[EmailStatus(status)] > STATUS_RANK[EmailStatus(row.status)]:
            changes.update(status=status, status_at=at)
            if status in (EmailStatus.BOUNCED, EmailStatus.FAILED, EmailStatus.DEFERRED) and detail:
                changes["last_error"] = detail[:2000]
        if changes:
            Email.objects.filter(pk=row.pk).update(**changes)
    return True


def emails_purge(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Retention: the log keeps COHORTE_EMAIL_RETENTION_MONTHS months, deleted in batches so
    no transaction grows with millions of rows."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=30 * settings.COHORTE_EMAIL_RETENTION_MONTHS)
    deleted = 0
    while True:
        ids = list(
            Email.objects.filter(created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return deleted
        deleted += Email.objects.filter(pk__in=ids).delete()[0]


def recipients_preview(message: Message, limit: int = 20) -> tuple[int, list[Member]]:
    members = audience_members(message)
    return members.count(), list(members[:limit])


def render_for_preview(message: Message) -> tuple[Member | None, Rendered | None]:
    first = audience_members(message).first()
    if first is None:
        return None, None
    with translation.override(first.language):
        return first, message_render(message, first, message.organisation.name)


# --- System-generated messages ------------------------------------------------------------


@dataclasses.dataclass
class SystemText:
    key: str
    spec: "system_messages.Spec"
    subject_fr: str
    subject_en: str
    body_fr: str
    body_en: str
    active: bool
    edited: bool


def system_text(*, organisation_id: int, key: str) -> SystemText:
    spec = system_messages.SPECS[key]
    custom = SystemTemplate.objects.filter(organisation_id=organisation_id, key=key).first()
    if custom is None:
        return SystemText(
            key, spec, spec.subject_fr, spec.subject_en, spec.body_fr, spec.body_en, True, False
        )
    return SystemText(
        key,
        spec,
        custom.subject_fr,
        custom.subject_en,
        custom.body_fr,
        custom.body_en,
        custom.active,
        True,
    )


def system_texts(*, organisation_id: int) -> list[SystemText]:
    custom = {t.key: t for t in SystemTemplate.objects.filter(organisation_id=organisation_id)}
    texts = []
    for key, spec in system_messages.SPECS.items():
        t = custom.get(key)
        texts.append(
            SystemText(key, spec, t.subject_fr, t.subject_en, t.body_fr, t.body_en, t.active, True)
            if t
            else SystemText(
                key, spec, spec.subject_fr, spec.subject_en, spec.body_fr, spec.body_en, True, False
            )
        )
    return texts


@transaction.atomic
def system_template_save(
    *,
    organisation_id: int,
    key: str,
    subject_fr: str,
    subject_en: str,
    body_fr: str,
    body_en: str,
    active: bool,
    by: Member,
) -> SystemTemplate:
    """An organisation's own wording; a keyword the template cannot fill is refused."""
    spec = system_messages.SPECS[key]
    errors: dict[str, list[str]] = {}
    for field, value in (
        ("subject_fr", subject_fr),
        ("subject_en", subject_en),
        ("body_fr", body_fr),
        ("body_en", body_en),
    ):
        unknown = system_messages.unknown_keywords(spec, value)
        if unknown:
            errors[field] = [
                _("Mot clé inconnu pour ce message : %(words)s. Mots clés disponibles : %(known)s.")
                % {"words": ", ".join(unknown), "known": " ".join(spec.keyword_names())}
            ]
        if not value.strip():
            errors.setdefault(field, []).append(_("Ce champ est obligatoire."))
    if errors:
        raise ValidationError(errors)
    template, _created = SystemTemplate.objects.update_or_create(
        organisation_id=organisation_id,
        key=key,
        defaults={
            "subject_fr": subject_fr,
            "subject_en": subject_en,
            "body_fr": body_fr,
            "body_en": body_en,
            "active": active,
            "updated_by": by,
        },
    )
    log_action("system_template.saved", actor=by, target=template, data={"active": active})
    return template


def system_render(text: SystemText, *, language: str, values: dict[str, object]) -> tuple[str, str]:
    subject = text.subject_en if language == "en" else text.subject_fr
    body = text.body_en if language == "en" else text.body_fr
    return system_messages.fill(subject, values), system_messages.fill(body, values)


def member_values(member: Member) -> dict[str, object]:
    """What every system message may say of its recipient."""
    return {
        "first_name": member.first_name or member.email,
        "full_name": member.full_name,
        "email": member.email,
        "sign_in_link": absolute_url(reverse("accounts:login")),
    }


def system_email(
    *,
    organisation_id: int,
    key: str,
    member: Member,
    values: dict[str, object],
    attachments: Sequence[dict[str, str]] = (),
    note: str = "",
    footer: str = "",
    text: SystemText | None = None,
    program: Program | None = None,
) -> Email | None:
    """One automatic message to one member, in their language, through the outbox; an
    inactive template is never sent. A personal note goes before the template's text, a
    footer (answer links) after it; a caller sending many passes the template it read once."""
    text = text or system_text(organisation_id=organisation_id, key=key)
    if not text.active:
        return None
    subject, body = system_render(
        text, language=member.language, values={**member_values(member), **values}
    )
    body = "\n\n".join(part for part in (note.strip(), body, footer.strip()) if part)
    html_body = ""
    if program is not None:  # sent for a programme: in its brand (messaging.branding)
        layout = branding.EmailLayout(program, member.language)
        html_body, body = layout.html(branding.system_html(body)), layout.text(body)
    return email_enqueue(
        organisation_id=organisation_id,
        member=member,
        to_email=member.email,
        subject=subject,
        text=body,
        html=html_body,
        language=member.language,
        attachments=attachments,
    )


# --- Notifications and release notes ----------------------------------------------------------


def notify(*, members: Iterable[Member], title_fr: str, title_en: str, url: str = "") -> int:
    """The bell: one notice per member, kept in both languages so that each member reads it
    in the language they use when they open it (Notification.shown_title)."""
    rows = [
        Notification(member=m, title=title_fr[:300], title_en=title_en[:300], url=url)
        for m in members
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


@transaction.atomic
def release_note_publish(*, note: ReleaseNote) -> int:
    """To every active administrator of every organisation; no e-mail is sent for them."""
    if note.published_at is None:
        note.published_at = timezone.now()
        note.save(update_fields=["published_at"])
    admins = Member.objects.filter(is_org_admin=True, is_active=True, archived_at__isnull=True)
    already = set(
        Notification.objects.filter(release_note=note).values_list("member_id", flat=True)
    )
    url = reverse("messaging:release-note", args=[note.pk])
    rows = [
        Notification(
            member=admin,
            title=note.title_fr[:300],
            title_en=note.title_en[:300],
            url=url,
            release_note=note,
        )
        for admin in admins
        if admin.pk not in already
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)
