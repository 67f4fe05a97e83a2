import datetime as dt
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel

from .scheduling import plus


class MeetingStatus(models.TextChoices):
    """A meeting's stored status, in the words of the « Rencontres » tab (une rencontre)."""

    SCHEDULED = "scheduled", _("Programmée")
    CONFIRMED = "confirmed", _("Tenue")  # held and confirmed by both sides (or a manager)
    NOT_HELD = "not_held", _("Non tenue")  # one side said it did not take place
    CANCELLED = "cancelled", _("Annulée")


#: days after a 1:1 meeting's start during which its attendees may still evaluate it before
#: the manager sees a ❗ « évaluation en attente » on the activity table (and the
#: « Rencontres » tab says so); also how long the « À faire » item stays dated
EVALUATION_WAIT_DAYS = 7
#: the longest evaluation comment (the API's 400 beyond it, the form's message)
EVALUATION_COMMENT_MAX = 2000


class MeetingKind(models.TextChoices):
    ONE_TO_ONE = "one_to_one", _("Séance 1:1")
    MASTERCLASS = "masterclass", _("Cours de maître")
    GROUP = "group", _("Séance privée en groupe")


class MeetingType(models.TextChoices):
    VIDEO = "video", _("Visioconférence")
    IN_PERSON = "in_person", _("En personne")
    PHONE = "phone", _("Téléphone")


class Frequency(models.TextChoices):
    NONE = "none", _("Aucune")
    DAILY = "daily", _("Tous les jours")
    WEEKLY = "weekly", _("Toutes les semaines")
    MONTHLY = "monthly", _("Tous les mois")
    YEARLY = "yearly", _("Tous les ans")


def new_uid() -> str:
    return f"{uuid.uuid4().hex}@cohorte"


class Meeting(TimeStampedModel):
    """A rendez-vous, session or masterclass between attendees, with each attendee's answer.
    A recurring booking is a series: one row per occurrence sharing `series`."""

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
    relationship = models.ForeignKey(
        "Relationship", null=True, blank=True, on_delete=models.CASCADE, related_name="meetings"
    )
    kind = models.CharField(
        _("type de séance"),
        max_length=12,
        choices=MeetingKind.choices,
        default=MeetingKind.ONE_TO_ONE,
    )
    meeting_type = models.CharField(
        _("type de réunion"), max_length=10, choices=MeetingType.choices, default=MeetingType.VIDEO
    )
    title = models.CharField(_("titre"), max_length=200, blank=True)
    place = models.CharField(_("endroit"), max_length=500, blank=True)
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    led_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the iCalendar UID: one per series (a single meeting is a series of one)
    uid = models.CharField(max_length=100, default=new_uid, db_index=True)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.NONE)
    occurrence = models.PositiveSmallIntegerField(default=1)
    #: the start this occurrence had in the series (its RECURRENCE-ID), even after a move
    original_start = models.DateTimeField(null=True, blank=True)
    #: iCalendar SEQUENCE: raised by every change the attendees are told about
    sequence = models.PositiveIntegerField(default=0)
    #: a manager decided held / not held (« Marquer comme tenue », audited): the attendees'
    #: evaluations no longer move the status
    status_overridden = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("rencontre")
        indexes = [
            models.Index(fields=["program", "status", "starts_at"]),
            models.Index(fields=["relationship", "starts_at"]),
            # the calendar (a window of every kind) and the « Rencontres » tab (1:1, by date)
            models.Index(fields=["program", "starts_at"], name="meeting_program_start"),
            models.Index(
                fields=["program", "kind", "starts_at"], name="meeting_program_kind_start"
            ),
        ]
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
        return end_of(self.starts_at, self.duration_minutes)

    def shown_status(self, now: dt.datetime) -> str:
        """The API's `status` and the « Rencontres » tab's: a scheduled meeting whose end
        has passed (compared in UTC, to the second) waits for its evaluations."""
        return shown_status_of(self.status, self.starts_at, self.duration_minutes, now)

    def get_status_display(self) -> str:  # type: ignore[no-redef]
        """The status as every page says it now: « En attente d'évaluation » once a
        scheduled meeting is over, never « Programmée » (Django's own method replaced, so
        that the pages of other apps that print it say the same)."""
        return status_label(self.shown_status(timezone.now()))

    def has_ended(self, now: dt.datetime) -> bool:
        return ended(self.starts_at, self.duration_minutes, now)


def ended(starts_at: dt.datetime, duration_minutes: int, now: dt.datetime) -> bool:
    """Whether a meeting is over at `now`: from its very end on (start + duration), both
    read in UTC to the second, so the zone either was given in changes nothing."""
    end = end_of(starts_at, duration_minutes)
    return now.astimezone(dt.UTC).replace(microsecond=0) >= end.replace(microsecond=0)


def end_of(starts_at: dt.datetime, duration_minutes: int) -> dt.datetime:
    """The end as an instant, in UTC: added in a zone, 60 minutes from 02:30 on the night
    clocks go back would be an hour too late (Python adds to the wall clock)."""
    return plus(starts_at.astimezone(dt.UTC), dt.timedelta(minutes=duration_minutes))


def shown_status_of(
    status: str, starts_at: dt.datetime, duration_minutes: int, now: dt.datetime
) -> str:
    """Meeting.shown_status for a row read as plain values (the calendar's data)."""
    if status == MeetingStatus.SCHEDULED and ended(starts_at, duration_minutes, now):
        return AWAITING_EVALUATION
    return status


#: the shown status of a scheduled meeting that is over (never stored)
AWAITING_EVALUATION = "awaiting_evaluation"


def status_label(shown: str) -> str:
    """The words for a shown status (Meeting.shown_status): the tab's, the calendar's."""
    if shown == AWAITING_EVALUATION:
        return str(_("En attente d'évaluation"))
    return str(MeetingStatus(shown).label)


class Response(models.TextChoices):
    PENDING = "pending", _("Sans réponse")
    ACCEPTED = "accepted", _("Accepté")
    DECLINED = "declined", _("Refusé")


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendances"
    )
    response = models.CharField(max_length=8, choices=Response.choices, default=Response.PENDING)
    responded_at = models.DateTimeField(null=True, blank=True)
    #: the attendee's comment on the meeting, given with their evaluation (the « Rencontres »
    #: tab's mentor and mentee comment columns)
    comment = models.TextField(_("commentaire"), blank=True)
    #: the evaluation after the meeting: did it take place, how was it (1–5)
    took_place = models.BooleanField(_("a eu lieu"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("note"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    evaluated_at = models.DateTimeField(null=True, blank=True)
    #: when « Comment s'est passée votre rencontre ? » was queued for this attendee: once
    feedback_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="attendance_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "meeting"]),
            # the few attendances that said « oui, elle a eu lieu » (evaluations_unsettled
            # reads them for every page of the activity table): not a scan of all of them
            models.Index(
                fields=["meeting"], condition=models.Q(took_place=True), name="attendee_said_held"
            ),
        ]

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
    started_on = models.DateField(_("commencé le"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    administrator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("administrateur des relations"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    agreement_url = models.URLField(_("accord de mentorat"), blank=True)
    evaluation_url = models.URLField(_("évaluation finale"), blank=True)

    class Meta:
        verbose_name = _("relation")
        indexes = [
            models.Index(fields=["program", "status"]),
            models.Index(fields=["mentor", "status"]),
            models.Index(fields=["mentee", "status"]),
            # « Les relations », newest first
            models.Index(fields=["program", "created_at"], name="relationship_program_created"),
        ]
        constraints = [
            # a pair is matched once at a time in a programme; a completed one may be matched again
            models.UniqueConstraint(
                fields=["program", "mentor", "mentee"],
                condition=models.Q(status="matched"),
                name="one_current_relationship_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"{self.mentor} ↔ {self.mentee}"


class Availability(models.Model):
    """A weekly window when a member can meet, in their own time zone."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availabilities"
    )
    weekday = models.PositiveSmallIntegerField(
        _("jour"), validators=[MaxValueValidator(6)], help_text=_("0 = lundi … 6 = dimanche")
    )
    start = models.TimeField(_("de"))
    end = models.TimeField(_("à"))

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="availability_in_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def day_name(self) -> str:
        from django.utils.dates import WEEKDAYS_ABBR

        return str(WEEKDAYS_ABBR[self.weekday])
