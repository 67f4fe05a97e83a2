from django.db import models
from django.utils.translation import gettext_lazy as _


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
