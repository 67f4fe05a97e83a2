import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel

from .attachments import attachment_path


class MessageKind(models.TextChoices):
    COMMUNITY = "community", _("Message de la communauté")
    REMINDER = "reminder", _("Relance")
    SYSTEM = "system", _("Message généré par le système")


class MessageStatus(models.TextChoices):
    DRAFT = "draft", _("Non envoyé")
    QUEUED = "queued", _("En file d'attente")
    SENT = "sent", _("Envoyé")


class Audience(models.TextChoices):
    ALL = "all", _("Tous")
    MENTORS = "mentors", _("Mentors")
    MENTEES = "mentees", _("Mentorés")
    MENTORS_AND_MENTEES = "mentors_mentees", _("Mentors et mentorés")
    UNMATCHED = "unmatched", _("Non jumelés")
    COHORT = "cohort", _("Cohorte ou étiquette")
    PEOPLE = "people", _("Personnes")


class Message(TimeStampedModel):
    """What an administrator writes (or the system generates) for a set of recipients.
    Each delivery to one person is an `Email` row: the outbox and the e-mail log."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="messages"
    )
    program = models.ForeignKey(
        "programs.Program",
        verbose_name=_("programme"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    kind = models.CharField(
        max_length=12, choices=MessageKind.choices, default=MessageKind.COMMUNITY
    )
    audience = models.CharField(_("destinataires"), max_length=16, choices=Audience.choices)
    cohort = models.ForeignKey(
        "programs.Cohort", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the chosen people (« Personnes », or a selection in a table)
    people = models.JSONField(default=list, blank=True)
    subject_fr = models.CharField(_("sujet (français)"), max_length=200, blank=True)
    subject_en = models.CharField(_("sujet (anglais)"), max_length=200, blank=True)
    body_fr = models.TextField(_("message (français)"), blank=True)
    body_en = models.TextField(_("message (anglais)"), blank=True)
    status = models.CharField(
        _("état"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.DRAFT
    )
    send_at = models.DateTimeField(_("envoi prévu le"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the API caller's own id: a retried POST finds the first message instead of a twin
    client_id = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="message_client_id_once",
            )
        ]
        indexes = [
            models.Index(fields=["organisation", "kind", "-created_at"]),
            models.Index(fields=["status", "send_at"]),
        ]

    def __str__(self) -> str:
        return self.subject_fr or self.subject_en or f"#{self.pk}"

    @property
    def subject(self) -> str:
        return self.subject_fr or self.subject_en


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    content_type = models.CharField(max_length=100)

    def __str__(self) -> str:
        return self.name


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("En file d'attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", pgettext_lazy("e-mail", "Envoyé")
    DEFERRED = "deferred", _("Différé")
    DELIVERED = "delivered", _("Délivré")
    OPENED = "opened", _("Ouvert")
    BOUNCED = "bounced", _("Retourné")
    COMPLAINED = "complained", _("Rapport de spam")
    FAILED = "failed", _("Échec")


#: a status only moves up this ladder (a late « delivered » after « opened » keeps « opened »)
STATUS_RANK = {
    EmailStatus.QUEUED: 0,
    EmailStatus.SENDING: 1,
    EmailStatus.FAILED: 2,
    EmailStatus.SENT: 2,
    EmailStatus.DEFERRED: 3,
    EmailStatus.DELIVERED: 4,
    EmailStatus.BOUNCED: 5,
    EmailStatus.OPENED: 6,
    EmailStatus.COMPLAINED: 7,
}


#: the outbox: rows still to send (the others are the log)
OUTBOX_STATUSES = [EmailStatus.QUEUED, EmailStatus.SENDING]


def new_message_id() -> str:
    domain = settings.COHORTE_MESSAGE_ID_DOMAIN
    return f"<{uuid.uuid4().hex}@{domain}>"


class Email(models.Model):
    """One e-mail to one person: written in the transaction that decided it (the outbox),
    sent after commit by the worker, its status is the e-mail log. A retry sends this same
    row again (same Message-ID); it is never copied."""

    organisation_id = models.IntegerField()
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_email = models.EmailField()
    to_name = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    language = models.CharField(max_length=2, default="fr")
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    message_id_header = models.CharField(max_length=200, unique=True, default=new_message_id)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("courriel")
        indexes = [
            # the log, newest first, for an organisation; by member; by status
            models.Index(fields=["organisation_id", "-created_at", "-id"], name="email_log_idx"),
            models.Index(
                fields=["organisation_id", "member", "-created_at", "-id"],
                name="email_log_member_idx",
            ),
            models.Index(
                fields=["organisation_id", "status", "-created_at", "-id"],
                name="email_log_status_idx",
            ),
            # what the worker picks up
            models.Index(
                fields=["next_attempt_at"],
                name="email_outbox_due_idx",
                condition=models.Q(status__in=OUTBOX_STATUSES),
            ),
            # the worker's claim: the rows still to send in order, without reading the log
            models.Index(
                fields=["id"],
                name="email_outbox_claim_idx",
                condition=models.Q(status__in=OUTBOX_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_email} ({self.status})"


class DeliveryEvent(models.Model):
    """A provider's tracking event, kept once by its id: providers send them again."""

    event_key = models.CharField(max_length=200, unique=True)
    email = models.ForeignKey(Email, null=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20)
    occurred_at = models.DateTimeField()
    detail = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.event_key}"


class SystemTemplate(models.Model):
    """An organisation's version of one of the platform's automatic messages; the defaults
    live in code (templates.py) until someone edits them."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="system_templates"
    )
    key = models.CharField(max_length=50)
    subject_fr = models.CharField(_("sujet (français)"), max_length=200)
    subject_en = models.CharField(_("sujet (anglais)"), max_length=200)
    body_fr = models.TextField(_("texte français"))
    body_en = models.TextField(_("texte anglais"))
    active = models.BooleanField(_("actif"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="one_template_per_key")
        ]

    def __str__(self) -> str:
        return self.key


class ReminderRuleKind(models.TextChoices):
    NEVER_SIGNED_IN = "never_signed_in", _("N jours après l'inscription sans connexion")
    BEHIND_OBJECTIVE = "behind_objective", _("N jours avant la fin si l'objectif n'est pas atteint")
    INVITATION_UNANSWERED = "invitation_unanswered", _("Invitation sans réponse depuis N jours")


class ReminderRule(models.Model):
    """An automatic reminder of a programme, run by the worker; one reminder per person per
    rule per N days."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="reminder_rules"
    )
    kind = models.CharField(_("règle"), max_length=24, choices=ReminderRuleKind.choices)
    days = models.PositiveSmallIntegerField(_("N (jours)"), default=7)
    active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(_("dernière exécution"), null=True, blank=True)
    last_reached = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "kind"], name="one_rule_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.days})"


class ReminderSent(models.Model):
    rule = models.ForeignKey(ReminderRule, on_delete=models.CASCADE, related_name="sent")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["rule", "member", "-sent_at"])]

    def __str__(self) -> str:
        return f"{self.rule_id} → {self.member_id}"


class Notification(models.Model):
    """The bell: in-app notices (invitations, reminders, release notes)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    #: the French title; `title_en` the English one. Both are kept so that the bell reads in
    #: the language the member uses today, not the one they had when it rang.
    title = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300, blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    release_note = models.ForeignKey(
        "ReleaseNote", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "read_at", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def title_in(self, language: str | None) -> str:
        """The title in `language` (French when there is no English one)."""
        if (language or "").startswith("en") and self.title_en:
            return self.title_en
        return self.title

    @property
    def shown_title(self) -> str:
        """The title in the active language: the viewer's."""
        return self.title_in(get_language())


class ReleaseNote(models.Model):
    """« Notes de mise à jour », published by the platform's operators to administrators."""

    title_fr = models.CharField(_("titre (français)"), max_length=200)
    title_en = models.CharField(_("titre (anglais)"), max_length=200)
    body_fr = models.TextField(_("texte français"))
    body_en = models.TextField(_("texte anglais"))
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]

    def __str__(self) -> str:
        return self.title_fr
