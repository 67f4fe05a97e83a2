"""Conversations between members of a programme, their messages and files, the notes of a
relationship, each person's choice of e-mail notice and each programme's rules."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohorte.messaging.attachments import attachment_path

#: a message's longest body, in characters (the API and the form say so)
BODY_MAX = 5_000
#: the most people a conversation holds, its author included
PARTICIPANTS_MAX = 50
SUBJECT_MAX = 200


class Conversation(models.Model):
    """A one-to-one or group exchange inside a programme."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="member_conversations"
    )
    subject = models.CharField(_("objet"), max_length=SUBJECT_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("conversation")
        indexes = [models.Index(fields=["program", "-last_message_at"], name="conv_program_last")]

    def __str__(self) -> str:
        return self.subject or f"conversation {self.pk}"


class Participant(models.Model):
    """A person's place in a conversation, with what the inbox reads without scanning the
    messages: the last message's time and how many they have not read."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_places"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)
    unread = models.PositiveIntegerField(default=0)
    #: the first message not yet announced by e-mail (None: nothing to announce)
    notice_due_since = models.DateTimeField(null=True, blank=True)
    last_notice_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "member"], name="one_place_per_conversation"
            )
        ]
        indexes = [
            models.Index(fields=["member", "-last_message_at"], name="conv_inbox"),
            models.Index(fields=["member"], name="conv_unread", condition=models.Q(unread__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in {self.conversation_id}"


class ConversationMessage(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_messages"
    )
    body = models.TextField(_("message"), max_length=BODY_MAX)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "-created_at", "-id"], name="conv_messages")
        ]

    def __str__(self) -> str:
        return f"message {self.pk} by {self.sender_id}"


class MessageFile(models.Model):
    """A file sent in a conversation: same limits as a message's attachments, served
    through a view that checks the reader takes part."""

    message = models.ForeignKey(ConversationMessage, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.name


class NoticeMode(models.TextChoices):
    IMMEDIATE = (
        "immediate",
        _("Tout de suite (un courriel par conversation après un moment de calme)"),
    )
    DAILY = "daily", _("Un résumé par jour")
    NONE = "none", _("Jamais")


class NoticePreference(models.Model):
    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(max_length=10, choices=NoticeMode.choices, default=NoticeMode.IMMEDIATE)
    #: the morning the next daily digest is booked for (None: none booked); a digest is
    #: booked once, whatever the number of conversations it will gather
    digest_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.member_id}: {self.mode}"


class ProgramConversationSettings(models.Model):
    """One row per programme: what its managers may read, and the message filter."""

    program = models.OneToOneField(
        "programs.Program", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    managers_read = models.BooleanField(
        _("les responsables lisent les conversations et les notes"), default=False
    )
    #: off: members write to the programme's managers only, never to one another
    members_write = models.BooleanField(_("les membres s'écrivent entre eux"), default=True)
    filter_on = models.BooleanField(_("filtrer les messages"), default=False)
    filter_words = models.TextField(
        _("mots interdits"), blank=True, help_text=_("Un mot ou une expression par ligne.")
    )

    def __str__(self) -> str:
        return f"settings of {self.program_id}"


class RelationshipNote(models.Model):
    """A note shared by the two people of a relationship, and no one else (unless the
    programme lets its managers read them)."""

    relationship = models.ForeignKey(
        "meetings.Relationship", on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(max_length=BODY_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["relationship", "-created_at"], name="conv_notes")]

    def __str__(self) -> str:
        return f"note {self.pk}"
