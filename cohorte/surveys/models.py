"""Surveys and programme evaluations: questions kept as one JSON list on the survey (they
are written and read together), one invitation per person, one response per invitation."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel


class QuestionKind(models.TextChoices):
    SCALE = "scale", _("Échelle de 1 à 5")
    NPS = "nps", _("Recommandation (NPS, 0 à 10)")
    SINGLE = "single", _("Choix unique")
    MULTIPLE = "multiple", _("Choix multiple")
    SHORT_TEXT = "short_text", _("Texte court")
    LONG_TEXT = "long_text", _("Texte long")


#: the kinds answered by picking among the question's options
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class Trigger(models.TextChoices):
    DATE = "date", _("À la date d'ouverture")
    MEETINGS = "meetings", _("Après la N-ième rencontre tenue d'un membre")
    RELATIONSHIP_END = "relationship_end", _("N jours après la fin d'une relation")
    MANUAL = "manual", _("À la main")


#: reminders to those who have not answered, days after their invitation (as MentorCity)
DEFAULT_REMINDER_DAYS = [7, 14, 21]


class Survey(TimeStampedModel):
    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="surveys"
    )
    title_fr = models.CharField(_("titre (français)"), max_length=200)
    title_en = models.CharField(_("titre (anglais)"), max_length=200, blank=True)
    #: [{key, kind, label: {fr, en}, options: [{fr, en}], required, show_if: {question, in}}]
    questions = models.JSONField(default=list)
    #: {roles: [...], cohorts: [ids], people: [ids], saved_filter: id | None}
    audience = models.JSONField(default=dict, blank=True)
    opens_at = models.DateTimeField(_("ouverture"))
    closes_at = models.DateTimeField(_("clôture"))
    anonymous = models.BooleanField(_("anonyme"), default=False)
    trigger = models.CharField(
        _("déclencheur"), max_length=20, choices=Trigger.choices, default=Trigger.DATE
    )
    #: N of the trigger: the N-th held meeting, or N days after a relationship ended
    trigger_n = models.PositiveSmallIntegerField(_("N"), default=0)
    reminder_days = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("sondage")
        ordering = ["-opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="survey_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return self.title_fr

    @property
    def title(self) -> str:
        return self.title_in(get_language() or "fr")

    def title_in(self, language: str) -> str:
        if (language or "").startswith("en") and self.title_en:
            return self.title_en
        return self.title_fr

    def is_open(self, now) -> bool:
        return self.opens_at <= now < self.closes_at


class Invitation(models.Model):
    """One person asked to answer one survey (once, even when a trigger fires again)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    #: the relationship whose end invited them (programme evaluations)
    relationship = models.ForeignKey(
        "meetings.Relationship", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField()
    #: how many of the survey's reminder days have been reached (one e-mail at most for each)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    #: the last reminder e-mail (automatic or by hand): a manager's second click the same
    #: day sends nothing more
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "member"], name="one_invitation_per_person")
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.member_id}"


class Response(models.Model):
    """A person's answers, replaced as a whole while the survey is open. `role` and
    `cohorts` are what the results filter on, taken when they answered."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    #: {key: value} as the person gave them (the page shows them back)
    answers = models.JSONField(default=dict)
    role = models.CharField(max_length=20, blank=True)
    cohorts = models.ManyToManyField("programs.Cohort", blank=True, related_name="+")
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.survey_id} #{self.pk}"


class Answer(models.Model):
    """One value of one response, so that results are counted by the database: a number
    (scale, NPS), one option (single; one row per option picked for multiple) or a text.
    Written again with the response."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="values")
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=40)
    number = models.SmallIntegerField(null=True, blank=True)
    #: the option's French text (its stable name)
    choice = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["survey", "key"], name="survey_answer_key")]

    def __str__(self) -> str:
        return f"{self.response_id}.{self.key}"
