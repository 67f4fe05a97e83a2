"""Background jobs a person waits for: the row's progress is what the page polls."""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

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


def job_run_atomic(job_id: int, work: Callable[[Job], dict]) -> Job | None:
    """Run work(job) and the job's completion in one transaction: all or nothing.

    Safe to call again for the same job at any time — a task delivered twice, a worker
    started after another was killed (SIGKILL) mid-job: the runner first locks the job's
    row (PostgreSQL row lock; SQLite's single writer) and leaves a finished job alone, so
    the work is done exactly once. A live runner holds that lock until it commits, which
    is how `jobs_resume` tells a running job from one whose worker died. A failure rolls
    everything back, removes a file the attempt wrote, and marks the job failed; it can be
    queued again with `job_requeue`."""
    Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(status=JobStatus.RUNNING)
    job: Job | None = None
    started = False
    try:
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status != JobStatus.RUNNING:
                return job  # finished by an earlier run, or queued again meanwhile
            started = True
            before = job.file.name
            try:
                result = work(job) or {}
                job.status = JobStatus.FAILED if result.get("failed") else JobStatus.DONE
                job.result = {**job.result, **result}
                job.finished_at = timezone.now()
                job.done = job.total = max(job.total, 1)
                job.save(update_fields=["status", "result", "finished_at", "file", "done", "total"])
            except BaseException:
                if job.file.name and job.file.name != before:
                    job.file.storage.delete(job.file.name)  # the rolled-back attempt's file
                raise
    except Exception as error:
        if not started:
            raise  # the lock was not had (another runner): the job is not ours to fail
        logger.exception("job %s failed", job_id)
        message = getattr(error, "message", None) or str(error) or type(error).__name__
        with transaction.atomic():
            failed = Job.objects.select_for_update().filter(pk=job_id).first()
            if failed is not None and failed.status == JobStatus.RUNNING:
                failed.status = JobStatus.FAILED
                failed.result = {**failed.result, "error": message}
                failed.finished_at = timezone.now()
                failed.save(update_fields=["status", "result", "finished_at"])
        raise
    return job


def job_enqueue(job: Job, task: Any) -> None:
    """Queue the task that runs this job, after commit; the job remembers the task so
    that `jobs_resume` can queue it again if its worker dies."""
    Job.objects.filter(pk=job.pk).update(payload={**job.payload, "task": task.module_path})
    job.payload = {**job.payload, "task": task.module_path}
    transaction.on_commit(lambda: task.enqueue(job.pk))


def job_requeue(*, job: Job) -> bool:
    """A failed job is queued again with the same payload (the fault was mended)."""
    with transaction.atomic():
        queued = Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, finished_at=None
        )
        if queued:
            job.refresh_from_db()
            job.result = {k: v for k, v in job.result.items() if k != "error"}
            job.save(update_fields=["result"])
            task = import_string(job.payload["task"])
            transaction.on_commit(lambda: task.enqueue(job.pk))
    return bool(queued)


#: a job whose worker died this many times is given up (each attempt was rolled back)
RESUME_LIMIT = 3


def _waiting(task_path: str, job_id: int) -> bool:
    """A task for this job is queued and not yet picked up (django-tasks-db's table)."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=task_path, status="READY")
    return any(
        args_kwargs.get("args") == [job_id]
        for args_kwargs in waiting.values_list("args_kwargs", flat=True)
    )


def jobs_resume() -> list[int]:
    """Queue again the jobs run by `job_run_atomic` whose worker died: django-tasks-db
    leaves a killed worker's task « RUNNING » for ever and never retries it. Such a job is
    RUNNING but nobody holds its row lock (a live runner holds it until it commits); the
    re-run is harmless even when the guess is wrong, as `job_run_atomic` does the work once.
    Called when a worker starts (scheduler_start) and by the scheduler's tick."""
    resumed: list[int] = []
    candidates = Job.objects.filter(status=JobStatus.RUNNING, payload__has_key="task")
    for pk in list(candidates.values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                job = (
                    Job.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, status=JobStatus.RUNNING)
                    .first()
                )
                if job is None:
                    continue  # a live worker holds it, or it has just finished
                attempts = int(job.payload.get("resumed", 0)) + 1
                if attempts > RESUME_LIMIT:
                    job.status, job.finished_at = JobStatus.FAILED, timezone.now()
                    job.result = {
                        **job.result,
                        "error": _(
                            "Le travail a été interrompu %(count)d fois ; rien n'a été modifié."
                        )
                        % {"count": RESUME_LIMIT},
                    }
                    job.save(update_fields=["status", "finished_at", "result"])
                    continue
                task = import_string(job.payload["task"])
                if _waiting(task.module_path, pk):
                    continue  # already queued again (by another tick or a worker start)
                job.payload = {**job.payload, "resumed": attempts}
                job.save(update_fields=["payload"])
                transaction.on_commit(functools.partial(task.enqueue, pk))
                resumed.append(pk)
        except OperationalError:  # SQLite: a long transaction holds the file; next tick
            logger.warning("job %s not resumed: database busy", pk)
    return resumed


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    """One's own jobs; an administrator also sees the organisation's."""
    if not user.is_authenticated or not user.is_active:
        return Job.objects.none()
    if user.is_org_admin and user.organisation_id:
        return Job.objects.filter(organisation_id=user.organisation_id)
    return Job.objects.filter(created_by=user)
