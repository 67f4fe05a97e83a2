import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Programmé")
    CONFIRMED = "confirmed", _("Confirmé")  # held and confirmed by both sides
    CANCELLED = "cancelled", _("Annulé")


class Meeting(TimeStampedModel):
    """A rendez-vous between attendees; the relationships issue extends it."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="meetings"
    )
    starts_at = models.DateTimeField(_("début"))
    duration_minutes = models.PositiveIntegerField(
        _("durée (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    status = models.CharField(
        _("statut"), max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="MeetingAttendee", related_name="meetings"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the caller's own id for this meeting: a retried creation finds it instead of doubling it
    client_id = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        verbose_name = _("rencontre")
        indexes = [models.Index(fields=["program", "status", "starts_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="meeting_client_id_once_per_program",
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendances"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member")
        ]
        indexes = [models.Index(fields=["member", "meeting"])]

    def __str__(self) -> str:
        return f"{self.member_id} @ {self.meeting_id}"


class RelationshipStatus(models.TextChoices):
    MATCHED = "matched", _("Jumelé")
    COMPLETED = "completed", _("Complété")


class Relationship(TimeStampedModel):
    """A pairing in a programme: mentor ↔ mentee (or manager ↔ collaborator).

    The relationships issue builds its pages on this; here it is what the members list
    counts and what ending a cycle closes.
    """

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="relationships"
    )
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="as_mentor"
    )
    mentee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="as_mentee"
    )
    status = models.CharField(
        _("statut"),
        max_length=12,
        choices=RelationshipStatus.choices,
        default=RelationshipStatus.MATCHED,
    )
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("relation")
        indexes = [
            models.Index(fields=["program", "status"]),
            models.Index(fields=["mentor", "status"]),
            models.Index(fields=["mentee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.mentor} ↔ {self.mentee}"
