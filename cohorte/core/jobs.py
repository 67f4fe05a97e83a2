"""Background jobs a person waits for: the row's progress is what the page polls."""

import logging
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from .models import Job, JobStatus

logger = logging.getLogger(__name__)


def job_create(
    *, kind: str, by: Any, organisation_id: int | None, title: str = "", payload: dict | None = None
) -> Job:
    return Job.objects.create(
        kind=kind,
        created_by=by,
        organisation_id=organisation_id,
        payload=payload or {},
        result={"title": title} if title else {},
    )


def job_progress(job: Job) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(done=done, total=total)

    return report


def job_run(job_id: int, work: Callable[[Job, Callable[[int, int], None]], dict]) -> Job | None:
    """Run work(job, progress) once: a job already finished is not run again (a retried
    task does nothing twice); an error marks it failed with the reason, and so does a
    result that says {"failed": True} (a batch refused as a whole)."""
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING
    )
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        return job
    try:
        result = work(job, job_progress(job))
    except Exception as error:  # the person waiting must learn that it failed
        logger.exception("job %s failed", job_id)
        job.refresh_from_db()
        job.status = JobStatus.FAILED
        job.result = {**job.result, "error": getattr(error, "message", None) or str(error)}
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "result", "finished_at"])
        raise
    job.refresh_from_db()
    result = result or {}
    job.status = JobStatus.FAILED if result.get("failed") else JobStatus.DONE
    job.result = {**job.result, **result}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "finished_at"])
    return job


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    """One's own jobs; an administrator also sees the organisation's."""
    if not user.is_authenticated or not user.is_active:
        return Job.objects.none()
    if user.is_org_admin and user.organisation_id:
        return Job.objects.filter(organisation_id=user.organisation_id)
    return Job.objects.filter(created_by=user)
