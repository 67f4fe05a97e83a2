"""A background job whose worker died is started again by the worker's clock, once."""

import datetime as dt

import pytest
from django.tasks import task
from django.utils import timezone

from cohorte.core.jobs import job_create, job_enqueue, job_run, jobs_resume_stale
from cohorte.core.models import Job, JobStatus

from .conftest import run_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@task()
def count_rows(job_id: int) -> None:
    job_run(job_id, lambda job, progress: {"rows": job.attempts})


def test_a_job_whose_worker_died_is_resumed_by_the_clock(admin, settings):
    settings.COHORTE_JOB_STALE_SECONDS = 60
    job = job_create(kind="test", by=admin, organisation_id=admin.organisation_id)
    job_enqueue(job, count_rows)
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()  # the task was taken by a worker that died
    # the worker claimed it and was killed: running, heartbeat two minutes old
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=1,
        heartbeat_at=timezone.now() - dt.timedelta(minutes=2),
    )
    assert jobs_resume_stale() == 1
    run_tasks()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert job.result["rows"] == 2  # started twice in all, finished once
    assert jobs_resume_stale() == 0


def test_a_running_job_with_a_live_worker_is_not_taken_twice(admin, settings):
    settings.COHORTE_JOB_STALE_SECONDS = 60
    job = job_create(kind="test", by=admin, organisation_id=admin.organisation_id)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )
    assert jobs_resume_stale() == 0
    ran = []
    job_run(job.pk, lambda job, progress: ran.append(1) or {})
    assert ran == []
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_a_job_interrupted_too_often_is_given_up(admin, settings):
    settings.COHORTE_JOB_STALE_SECONDS = 60
    job = job_create(kind="test", by=admin, organisation_id=admin.organisation_id)
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=3, heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    job_run(job.pk, lambda job, progress: {})
    assert Job.objects.get(pk=job.pk).status == JobStatus.FAILED
