from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cohorte.core.models import TimeStampedModel


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

    class Meta:
        verbose_name = _("rapport personnalisé")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["organisation", "program"], name="saved_report_scope")]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        return f"saved-{self.pk}"
