"""The exports' background work: thin, it takes the job's id and calls exports."""

from django.tasks import task

from cohorte.core.jobs import job_run

from . import exports


@task()
def campaign_export(job_id: int) -> None:
    """An Excel or zipped-PDF export, or a bulk print (exports.export_build)."""
    job_run(job_id, exports.export_build)
