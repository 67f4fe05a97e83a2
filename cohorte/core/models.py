from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        abstract = True


class AuditEntryManager(models.Manager["AuditEntry"]):
    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[override]
        """Rows written in bulk (a cycle end, a file of deactivations) get their organisation
        too, so the audit page never misses them."""
        from .audit import organisations_fill

        objs = list(objs)
        organisations_fill(objs)
        return super().bulk_create(objs, *args, **kwargs)


class AuditEntry(models.Model):
    """One state change: who did what to what. Also each member's history.

    `organisation_id` scopes the entry for the audit page: the actor's organisation, or the
    target's when no one acted (a task). No foreign key: core depends on nothing."""

    action = models.CharField(max_length=100, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    organisation_id = models.BigIntegerField(null=True, blank=True)

    objects = AuditEntryManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-created_at"]),
            models.Index(fields=["organisation_id", "-created_at", "-id"], name="audit_org_time"),
            models.Index(
                fields=["organisation_id", "action", "-created_at", "-id"],
                name="audit_org_action_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.target_repr}"


def job_file_path(instance: "Job", filename: str) -> str:
    """A random name: a job's file is found through its job, never by its name."""
    from .files import random_name

    return random_name("jobs", filename)


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class Job(models.Model):
    """A long piece of background work a person waits for: its progress and its outcome.

    The task itself runs through django.tasks; this row is what the page polls.
    """

    kind = models.CharField(max_length=50)
    organisation_id = models.IntegerField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    #: what the job works on (an uploaded file's rows, the options chosen)
    payload = models.JSONField(default=dict, blank=True)
    #: what it produced (counts, per-line errors)
    result = models.JSONField(default=dict, blank=True)
    #: what it generated, under a random name (the download name is result["filename"]);
    #: deleted COHORTE_EXPORT_RETENTION_HOURS after the job (a cycle end's archive, the only
    #: copy of what it deleted, COHORTE_ARCHIVE_RETENTION_DAYS)
    file = models.FileField(upload_to=job_file_path, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: the django.tasks task that runs it (its dotted path), to start it again after a crash
    task_path = models.CharField(max_length=200, blank=True)
    #: written as the job progresses: a running job whose heartbeat stops has lost its worker
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    #: how many times a worker has started it (a killed worker's run counts)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        return min(100, self.done * 100 // self.total) if self.total else 0

    @property
    def file_expires_at(self):
        from .files import export_retention

        return (self.finished_at or self.created_at) + export_retention(self.kind)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)


class JobChunk(models.Model):
    """A slice of what a job reads (the rows of an uploaded file), kept apart from the
    job's row: the page that polls the job never loads them, and the worker reads them a
    slice at a time. They go with their job, or in the transaction that uses them up."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    rows = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="job_chunk_number"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.number}"
