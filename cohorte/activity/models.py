from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Connexion")
    COURSE_ACCESS = "course_access", _("Accès au parcours")
    PROFILE_VIEW = "profile_view", _("Profil visité")
    CONTACT = "contact", _("Professionnel contacté")
    MESSAGE = "message", _("Message envoyé")
    REMINDER = "reminder", _("Relance envoyée")


#: Kinds that count as an access for « Dernier accès ».
ACCESS_KINDS = (EventKind.SIGN_IN, EventKind.COURSE_ACCESS)


class ActivityEvent(models.Model):
    """One thing a member did, when. Every figure of the activity table derives from these."""

    id = models.BigAutoField(primary_key=True)
    program = models.ForeignKey(
        "programs.Program",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        help_text="None for a platform sign-in.",
        # no index of its own: event_program_kind_time leads with it
        db_index=False,
    )
    #: no index of its own: event_actor_program_time leads with it (every event written
    #: updates each index: two fewer make a batch of events cheaper to store)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events_about",
    )
    occurred_at = models.DateTimeField()
    client_id = models.CharField(max_length=100, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # target last: the distinct-profile counts read it from the index alone
            models.Index(
                fields=["actor", "program", "kind", "occurred_at", "target"],
                name="event_actor_program_time",
            ),
            models.Index(fields=["program", "kind", "occurred_at"], name="event_program_kind_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "client_id"],
                condition=Q(client_id__isnull=False),
                name="event_client_id_once_per_program",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Report(models.Model):
    """A professional reported a participant (signalement)."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="reports"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_received"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.TextField(_("motif"))
    created_at = models.DateTimeField(auto_now_add=True)
    #: « Traité »: the manager dealt with it; the ❗ no longer counts it, the history stays
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_comment = models.TextField(_("commentaire"), blank=True)

    class Meta:
        indexes = [models.Index(fields=["program", "member", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.member_id} reported by {self.reported_by_id}"


class Conversation(models.Model):
    """A participant's exchange with one professional, kept up to date as messages arrive,
    so the unanswered-conversation flag is a lookup, not a scan of every message."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="conversations"
    )
    participant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_reply_at = models.DateTimeField(null=True, blank=True)
    #: « Marquer comme suivie »: followed up outside the platform; a new message from the
    #: participant after this raises the ❗ again
    followed_up_at = models.DateTimeField(null=True, blank=True)
    followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["program", "participant", "professional"], name="one_conversation_per_pair"
            )
        ]
        indexes = [models.Index(fields=["program", "participant", "last_message_at"])]

    def __str__(self) -> str:
        return f"{self.participant_id} ↔ {self.professional_id}"


class ParticipantStats(models.Model):
    """Maintained counters, one row per enrolment: the table sorts on these instead of
    aggregating millions of events. Updated with the events; rebuilt when dates change."""

    enrolment = models.OneToOneField(
        "programs.Enrolment", primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    profiles_visited = models.PositiveIntegerField(default=0)
    professionals_contacted = models.PositiveIntegerField(default=0)
    confirmed_meetings = models.PositiveIntegerField(default=0)
    last_access = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["profiles_visited"]),
            models.Index(fields=["professionals_contacted"]),
            models.Index(fields=["confirmed_meetings"]),
            models.Index(fields=["last_access"]),
        ]

    def __str__(self) -> str:
        return f"stats of enrolment {self.enrolment_id}"
