from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel


class Schedule(models.TextChoices):
    NONE = "", _("Jamais")
    WEEKLY = "weekly", _("Chaque semaine")
    MONTHLY = "monthly", _("Chaque mois")


class SavedReport(TimeStampedModel):
    """A custom report: a prepared report's columns chosen and ordered, its filters, under
    a name; private to its owner, or shared with the organisation's managers. Run again
    later with the same definition (the owner's, or the runner's, permissions checked at
    every run)."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports"
    )
    name = models.CharField(_("nom"), max_length=120)
    #: the prepared report it starts from (prepared.PREPARED's key)
    report = models.CharField(_("rapport"), max_length=40)
    #: none: the whole organisation (administrators)
    program = models.ForeignKey(
        "programs.Program", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    columns = models.JSONField(default=list)
    filters = models.JSONField(default=dict, blank=True)
    shared = models.BooleanField(_("partagé avec les responsables"), default=False)
    #: e-mailed every week or month to chosen managers (custom.scheduled_reports_run)
    schedule = models.CharField(
        _("envoi programmé"), max_length=8, choices=Schedule.choices, default="", blank=True
    )
    schedule_format = models.CharField(max_length=4, default="xlsx", blank=True)
    #: the weekday (0 Monday … 6 Sunday) or the day of the month (1 … 28) it leaves on;
    #: none: a week or a month after it was set
    schedule_day = models.PositiveSmallIntegerField(null=True, blank=True)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    next_run_at = models.DateTimeField(null=True, blank=True)
    #: runs that failed in a row; the schedule stops at custom.FAILURES_MAX
    failures = models.PositiveSmallIntegerField(default=0)
    stopped_at = models.DateTimeField(null=True, blank=True)
    #: when the worker last started its scheduled runs
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("rapport personnalisé")
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["organisation", "program"], name="saved_report_scope"),
            models.Index(fields=["schedule", "next_run_at"], name="saved_report_due"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return f"saved-{self.pk}"


class MonthlyActivity(models.Model):
    """A programme's activity in one month of its window (reports/rollups.py): what the
    Reports tab and the Home page chart, read in one query instead of counting events.
    Kept by the worker's clock; `month` is the first day, in the organisation's zone."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="monthly_activity"
    )
    month = models.DateField(_("mois"))
    sign_ins = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    meetings_confirmed = models.PositiveIntegerField(default=0)
    meetings_held = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("activité mensuelle")
        constraints = [
            models.UniqueConstraint(fields=["program", "month"], name="monthly_activity_once")
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.month:%Y-%m}"


class CycleSnapshot(models.Model):
    """A programme's headline figures as they stood when one of its cycles ended (its Home's
    values, counted just before the cycle end touched anyone): what the Home and the
    dashboard API compare the running cycle with."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.CASCADE, related_name="cycle_snapshots"
    )
    ended_at = models.DateTimeField(_("cycle terminé le"))
    #: the programme's dates during that cycle
    start_date = models.DateField()
    end_date = models.DateField()
    #: {key: number}, the keys of reports.home's figures
    figures = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("bilan d'un cycle")
        ordering = ["-ended_at", "-pk"]
        indexes = [models.Index(fields=["program", "-ended_at"], name="cycle_snapshot_latest")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.ended_at:%Y-%m-%d}"


class HomeSnapshot(models.Model):
    """What a programme's Home costs to count, as the worker last counted it
    (reports/home_snapshot.py): the headline figures, the organisation's rates beside them,
    the cohorts' figures, the ratings, and the ids of the people each of its lists shows.
    The page reads it in one query and fetches those people afresh by id."""

    program = models.OneToOneField(
        "programs.Program", on_delete=models.CASCADE, related_name="home_snapshot"
    )
    #: when it was counted: the Home's « à jour le »
    computed_at = models.DateTimeField()
    #: home_snapshot.VERSION when it was counted: one counted by an older Cohorte (before a
    #: figure was added, say) is counted again, never read
    version = models.PositiveSmallIntegerField(default=0)
    #: {key: number}: home._count_figures
    figures = models.JSONField(default=dict)
    #: {"programs": n, "values": {rate: mean or null}}: home.organisation_rates
    organisation = models.JSONField(default=dict)
    #: [[cohort id, {key: number}], …]: compare.cohort_rows, in its order
    cohorts = models.JSONField(default=list)
    #: {"1": n, … "5": n}: tab_selectors.rating_counts
    ratings = models.JSONField(default=dict)
    #: enrolment ids, lowest progress first: home.progress_table of each side
    mentees = models.JSONField(default=list)
    mentors = models.JSONField(default=list)
    #: [[enrolment id, [reason code, …]], …]: the first at_risk.at_risk_rows
    at_risk = models.JSONField(default=list)
    #: when a stale snapshot's refresh was queued (none: not queued); one refresh at a time
    refresh_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("instantané de l'accueil")

    def __str__(self) -> str:
        return f"{self.program_id} {self.computed_at:%Y-%m-%d %H:%M}"
