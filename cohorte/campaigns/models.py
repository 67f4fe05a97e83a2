"""Interview campaigns (seed 003): an administrator launches interviews between managers
and their collaborators; each interview goes not planned → planned → held → closing
(its write-up follows the sign-off circuit, one step after another) → closed, or deleted.

The circuit is copied onto each interview when it is created, so that it can be changed
for one interview (or all) during the campaign; `step` is the index of the step waiting.
"""

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel


class CampaignKind(models.TextChoices):
    """The built-in types; an organisation adds its own (CampaignType, by slug)."""

    ANNUAL = "annual", _("Entretien annuel")
    PROFESSIONAL = "professional", _("Entretien professionnel")
    PROBATION = "probation", _("Fin de période d'essai")


class CampaignStatus(models.TextChoices):
    PREPARATION = "preparation", _("En préparation")
    RUNNING = "running", _("En cours")
    ENDED = "ended", _("Terminée")


class CircuitRole(models.TextChoices):
    COLLABORATOR = "collaborator", _("Collaborateur")
    MANAGER = "manager", _("Manager")
    SECOND_APPROVER = "second_approver", _("N+2")
    HR = "hr", _("RH")


class InterviewStatus(models.TextChoices):
    NOT_PLANNED = "not_planned", _("Non planifié")
    PLANNED = "planned", _("Planifié")
    HELD = "held", _("Effectué")
    CLOSING = "closing", _("En cours de clôture")
    CLOSED = "closed", _("Clos")
    DELETED = "deleted", _("Supprimé")


#: the seed's colours, by status (« Non planifiés (jaune) », « Clos (vert) »…)
STATUS_COLOURS = {
    InterviewStatus.NOT_PLANNED: "yellow",
    InterviewStatus.PLANNED: "blue",
    InterviewStatus.HELD: "blue",
    InterviewStatus.CLOSING: "blue",
    InterviewStatus.CLOSED: "green",
    InterviewStatus.DELETED: "red",
}

#: the statistics' plural labels, in the seed's words
STATUS_PLURALS = {
    InterviewStatus.NOT_PLANNED: _("Non planifiés"),
    InterviewStatus.PLANNED: _("Planifiés"),
    InterviewStatus.HELD: _("Effectués"),
    InterviewStatus.CLOSING: _("En cours de clôture"),
    InterviewStatus.CLOSED: _("Clos"),
    InterviewStatus.DELETED: _("Supprimés"),
}

#: the statuses where the write-up can no longer change
LOCKED = (InterviewStatus.CLOSED, InterviewStatus.DELETED)


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Texte")
    SCALE = "scale", _("Échelle de 1 à 5")
    CHOICE = "choice", _("Choix")
    OBJECTIVES = "objectives", _("Objectifs avec une note")


#: a staged reminder plan: days before a step's deadline, then every N days after it;
#: after `escalate_after` days late the N+2 is written to, after `hr_after` days HR in copy
DEFAULT_REMINDER_RULES = {
    "enabled": True,
    "before": [7, 2],
    "every_after": 7,
    "escalate_after": 7,
    "hr_after": 14,
}


def default_reminder_rules() -> dict:
    return dict(DEFAULT_REMINDER_RULES)


def default_circuit() -> list:
    return [
        {"role": CircuitRole.COLLABORATOR.value, "deadline_days": 7},
        {"role": CircuitRole.MANAGER.value, "deadline_days": 7},
        {"role": CircuitRole.HR.value, "deadline_days": 14},
    ]


class CampaignType(TimeStampedModel):
    """A type of interview an administrator added beside the built-in ones."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="campaign_types"
    )
    slug = models.SlugField(_("identifiant"), max_length=50)
    name_fr = models.CharField(_("nom (français)"), max_length=100)
    name_en = models.CharField(_("nom (anglais)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("type d'entretien")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="one_campaign_type_slug")
        ]

    def __str__(self) -> str:
        return self.name_fr

    @property
    def name(self) -> str:
        if (get_language() or "fr").startswith("en") and self.name_en:
            return self.name_en
        return self.name_fr


class FormTemplate(TimeStampedModel):
    """An interview form kept to be reused across campaigns."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="interview_forms"
    )
    name = models.CharField(_("nom"), max_length=200)
    #: [{title: {fr, en}, questions: [{key, kind, label: {fr, en}, options: [{fr, en}],
    #:   required}]}] (QuestionKind)
    sections = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("modèle de formulaire d'entretien")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class Campaign(TimeStampedModel):
    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="campaigns"
    )
    name = models.CharField(_("nom"), max_length=200)
    #: a CampaignKind value, or the slug of the organisation's CampaignType
    kind = models.CharField(_("type"), max_length=50)
    start_date = models.DateField(_("date de début"))
    end_date = models.DateField(_("date de fin"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the « RH » of the circuit; none: any administrator of the organisation
    hr = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the interview form, as FormTemplate.sections
    form = models.JSONField(default=list, blank=True)
    template = models.ForeignKey(
        FormTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    #: [{role: CircuitRole, deadline_days}]: copied onto each interview created
    circuit = models.JSONField(default=default_circuit)
    reminder_rules = models.JSONField(default=default_reminder_rules, blank=True)

    class Meta:
        verbose_name = _("campagne d'entretiens")
        ordering = ["-start_date", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="campaign_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def status_on(self, today: dt.date) -> str:
        """« En préparation » before its start date, « Terminée » after its end date."""
        if today < self.start_date:
            return CampaignStatus.PREPARATION
        if today > self.end_date:
            return CampaignStatus.ENDED
        return CampaignStatus.RUNNING


def new_uid() -> str:
    return f"{uuid.uuid4()}@cohorte"


class Interview(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="interviews")
    collaborator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interviews"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interviews_held"
    )
    #: the N+2 named for this interview; none: the manager's own manager in the campaign
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("statut"),
        max_length=16,
        choices=InterviewStatus.choices,
        default=InterviewStatus.NOT_PLANNED,
    )
    scheduled_at = models.DateTimeField(_("date de l'entretien"), null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(_("durée (minutes)"), default=60)
    place = models.CharField(_("endroit"), max_length=300, blank=True)
    #: the calendar invitation's identity: a new date is the same event, one SEQUENCE later
    uid = models.CharField(max_length=100, default=new_uid)
    sequence = models.PositiveIntegerField(default=0)
    held_at = models.DateTimeField(_("effectué le"), null=True, blank=True)
    #: the collaborator's preparation, {question key: value}
    preparation = models.JSONField(default=dict, blank=True)
    #: the write-up, {question key: value} (objectives: [{title, rating}])
    answers = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    #: the circuit for this interview (Campaign.circuit when created)
    circuit = models.JSONField(default=list)
    #: index in `circuit` of the step waiting (status closing), else None
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    #: when the waiting step started: its deadline is this + its deadline_days
    step_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("clos le"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("entretien")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "collaborator"], name="one_interview_per_collaborator"
            ),
            models.CheckConstraint(
                condition=~models.Q(collaborator=models.F("manager")),
                name="interview_manager_is_not_collaborator",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"], name="interview_campaign_status"),
            models.Index(fields=["campaign", "manager", "status"], name="interview_manager_status"),
            models.Index(fields=["manager", "status"], name="interview_manager_todo"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.collaborator_id}"

    @property
    def waiting_step(self) -> dict | None:
        if self.status != InterviewStatus.CLOSING or self.step is None:
            return None
        if self.step >= len(self.circuit):
            return None
        return self.circuit[self.step]

    def step_due_at(self) -> dt.datetime | None:
        step = self.waiting_step
        if step is None or self.step_started_at is None:
            return None
        return self.step_started_at + dt.timedelta(days=int(step.get("deadline_days", 0)))


class EventAction(models.TextChoices):
    PLANNED = "planned", _("Date fixée")
    MOVED = "moved", _("Date déplacée")
    HELD = "held", _("Marqué comme effectué")
    SUBMITTED = "submitted", _("Compte-rendu soumis")
    SIGNED = "signed", _("Signé")
    SENT_BACK = "sent_back", _("Renvoyé")
    CLOSED = "closed", _("Clos")
    REOPENED = "reopened", _("Rouvert")
    CIRCUIT_CHANGED = "circuit_changed", _("Circuit modifié")
    DELETED = "deleted", _("Supprimé")


class InterviewEvent(models.Model):
    """One line of the interview's « Avancement »: who did what, when, with what comment."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=EventAction.choices)
    #: the circuit step concerned (sign, send back), else None
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    role = models.CharField(max_length=20, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    comment = models.TextField(_("commentaire"), blank=True)
    reserve = models.TextField(pgettext_lazy("interview", "réserve"), blank=True)
    #: which round of the circuit (a reopened interview starts a new round)
    round = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.interview_id} {self.action}"


class SignedVersion(models.Model):
    """A closed write-up as it was signed, kept when an administrator reopens it."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="versions")
    round = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict)
    preparation = models.JSONField(default=dict)
    #: [{position, role, by_email, by_name, at, comment, reserve}]
    signatures = models.JSONField(default=list)
    closed_at = models.DateTimeField()
    reopened_at = models.DateTimeField()
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(_("motif"))

    class Meta:
        ordering = ["round"]

    def __str__(self) -> str:
        return f"{self.interview_id} v{self.round}"


class ReminderSending(models.Model):
    """One « Relancer » by an administrator: for a status, who was de-selected."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="reminders")
    status = models.CharField(max_length=16, choices=InterviewStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()
    #: the managers' e-mails de-selected in the window
    excluded = models.JSONField(default=list, blank=True)
    #: the API caller's Idempotency-Key: the same key again is answered with this sending
    idempotency_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="campaign_reminders_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.status} {self.at:%Y-%m-%d}"


class ManagerReminder(models.Model):
    """One manager reminded: their e-mail listed these interviews (manual, by status or for
    one manager)."""

    sending = models.ForeignKey(
        ReminderSending, on_delete=models.CASCADE, related_name="recipients"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    interview_ids = models.JSONField(default=list)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "manager", "at"], name="manager_reminder_last")]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.at:%Y-%m-%d}"


class StepReminder(models.Model):
    """An automatic reminder of a circuit step: at most one per person per day, across all
    campaigns (the unique constraint holds it under concurrent workers)."""

    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="reminders")
    #: before, late, escalated (to the N+2), hr (HR in copy)
    stage = models.CharField(max_length=12)
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="one_step_reminder_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}"
