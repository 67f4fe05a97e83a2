"""Background jobs a person waits for: the row's progress is what the page polls.

django.tasks runs a task once and does not retry; a worker killed in the middle leaves its
task « running » for ever. So a job keeps a heartbeat while it works: a running job whose
heartbeat has stopped for COHORTE_JOB_STALE_SECONDS has lost its worker, and the worker's
clock (the scheduler tick) starts its task again. The work function of a job must
therefore be safe to run again after a partial run: all-or-nothing in one transaction, or
resumable from the progress it stored.
"""

import datetime as dt
import logging
from collections.abc import Callable
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Job, JobStatus

logger = logging.getLogger(__name__)

#: a job started this many times without finishing is given up (its work keeps failing)
MAX_ATTEMPTS = 3


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


def job_enqueue(job: Job, task: Any) -> None:
    """Start the job's task once the current transaction commits, and remember which task
    it is so that a job whose worker died can be started again."""
    Job.objects.filter(pk=job.pk).update(task_path=task.module_path)
    job.task_path = task.module_path
    transaction.on_commit(lambda: task.enqueue(job.pk))


def job_progress(job: Job) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(done=done, total=total, heartbeat_at=timezone.now())

    return report


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.COHORTE_JOB_STALE_SECONDS)


def _claimable() -> Q:
    """Waiting, or running with a worker that stopped beating."""
    return Q(status=JobStatus.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before()),
        status=JobStatus.RUNNING,
    )


def _finish(job: Job, status: str, result: dict) -> None:
    job.refresh_from_db()
    job.status = status
    job.result = {**job.result, **result}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "finished_at"])


def job_run(job_id: int, work: Callable[[Job, Callable[[int, int], None]], dict]) -> Job | None:
    """Run work(job, progress) once at a time: a job already finished, or running under a
    live worker, is not run again (a task delivered twice does nothing twice); an error
    marks it failed with the reason, and so does a result that says {"failed": True} (a
    batch refused as a whole). A job whose worker died is taken again from its start."""
    claimed = (
        Job.objects.filter(_claimable(), pk=job_id)
        .exclude(attempts__gte=MAX_ATTEMPTS)
        .update(status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1)
    )
    job = Job.objects.filter(pk=job_id).first()
    if job is None or not claimed:
        if job is not None and job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
            _finish(job, JobStatus.FAILED, {"error": "interrupted too many times"})
        return job
    try:
        result = work(job, job_progress(job))
    except Exception as error:  # the person waiting must learn that it failed
        logger.exception("job %s failed", job_id)
        _finish(job, JobStatus.FAILED, {"error": getattr(error, "message", None) or str(error)})
        raise
    result = result or {}
    _finish(job, JobStatus.FAILED if result.get("failed") else JobStatus.DONE, result)
    return job


def job_file_deliver(
    job: Job, handle: IO[bytes], filename: str, count: int, notify: Callable[[], object] | None
) -> None:
    """Keep a job's finished file and tell the requester once: the file saved, the job's
    counts and « emailed » mark written and notify() called in one transaction, so a run
    started again after a killed worker neither mails twice nor leaves the half-written
    file of the first run behind. notify None: nothing to tell (a scheduled report that
    came out empty)."""
    handle.seek(0)
    before = job.file.name
    with transaction.atomic():
        job.file.save(filename, File(handle), save=False)
        emailed = job.result.get("emailed", False)
        Job.objects.filter(pk=job.pk).update(
            file=job.file.name, done=count, total=count, result={**job.result, "emailed": True}
        )
        if not emailed and notify is not None:
            notify()
    if before and before != job.file.name:
        job.file.storage.delete(before)


def job_run_atomic(job_id: int, work: Callable[[Job], dict]) -> Job | None:
    """Run work(job) and the job's completion in one transaction: all or nothing.

    For work that must never be half done (a cycle end). It is claimed like `job_run`
    (waiting, or running with a stale heartbeat; at most MAX_ATTEMPTS), then the job's row
    is locked for the whole transaction (PostgreSQL row lock; SQLite's single writer) and
    a job finished meanwhile is left alone: a task delivered twice, or started again by
    the tick while a slow run is still inside its transaction (no heartbeat can show from
    there), waits for that run and does nothing. A killed worker's transaction is rolled
    back by the database, so the next run starts from a clean state. A failure rolls
    everything back, removes the file the attempt wrote, and marks the job failed; once the
    fault is mended, `job_requeue` runs it again."""
    claimed = (
        Job.objects.filter(_claimable(), pk=job_id)
        .exclude(attempts__gte=MAX_ATTEMPTS)
        .update(status=JobStatus.RUNNING, heartbeat_at=timezone.now(), attempts=F("attempts") + 1)
    )
    if not claimed:
        job = Job.objects.filter(pk=job_id).first()
        if job is not None and job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
            _finish(job, JobStatus.FAILED, {"error": "interrupted too many times"})
        return job
    started = False
    try:
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=job_id).first()
            if job is None or job.status != JobStatus.RUNNING:
                return job  # finished by another run while this one waited for the lock
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
            raise  # the lock was not had: the job is another run's, not ours to fail
        logger.exception("job %s failed", job_id)
        with transaction.atomic():
            failed = Job.objects.select_for_update().filter(pk=job_id).first()
            if failed is not None and failed.status == JobStatus.RUNNING:
                message = getattr(error, "message", None) or str(error) or type(error).__name__
                _finish(failed, JobStatus.FAILED, {"error": message})
        raise
    return job


def job_requeue(*, job: Job) -> bool:
    """A failed job is queued again, with the same payload, once its fault is mended: a
    person asked for it, so it gets a fresh count of attempts."""
    with transaction.atomic():
        queued = (
            Job.objects.filter(pk=job.pk, status=JobStatus.FAILED)
            .exclude(task_path="")
            .update(status=JobStatus.QUEUED, finished_at=None, attempts=0, heartbeat_at=None)
        )
        if queued:
            job.refresh_from_db()
            job.result = {k: v for k, v in job.result.items() if k != "error"}
            job.save(update_fields=["result"])
            task = import_string(job.task_path)
            transaction.on_commit(lambda: task.enqueue(job.pk))
    return bool(queued)


def jobs_resume_stale() -> int:
    """Start again the task of every job whose worker died (the scheduler tick calls this).
    The new run claims the job only if it is still stale, so two ticks at once are harmless."""
    stale = Job.objects.filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before()),
        status=JobStatus.RUNNING,
    ).exclude(task_path="")
    resumed = 0
    for job in stale.only("pk", "task_path")[:100]:
        try:
            task = import_string(job.task_path)
        except ImportError:
            logger.warning("job %s: task %s not found", job.pk, job.task_path)
            continue
        task.enqueue(job.pk)
        resumed += 1
    return resumed


def jobs_visible_to(user: Any) -> QuerySet[Job]:
    """One's own jobs; an administrator also sees the organisation's."""
    if not user.is_authenticated or not user.is_active:
        return Job.objects.none()
    if user.is_org_admin and user.organisation_id:
        return Job.objects.filter(organisation_id=user.organisation_id)
    return Job.objects.filter(created_by=user)
