from django.conf import settings
from django.tasks import task
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from cohorte.core.jobs import job_run_atomic
from cohorte.core.models import Job
from cohorte.programs.models import Program

from . import services


@task()
def cycle_end(job_id: int) -> None:
    """« Terminer le cycle », in the background: the confirmed plan, all or nothing, with
    the job's completion and its archive (see services.cycle_end). Run again after a
    killed worker (core.jobs.jobs_resume) or a mended fault (job_requeue), it finishes the
    job once."""

    def work(job: Job) -> dict:
        program = (
            Program.objects.select_related("organisation")
            .filter(pk=job.payload["program_id"])
            .first()
        )
        language = job.created_by.language if job.created_by else settings.LANGUAGE_CODE
        with translation.override(language):
            if program is None:
                return {
                    "failed": True,
                    "error": _("Ce programme n'existe plus : rien n'a été fait."),
                }
            result = services.cycle_end(
                program=program,
                method=job.payload["method"],
                confirmed=job.payload["plan"],
                by=job.created_by,
                job=job,
            )
            summary = _(
                "%(deactivated)d membre(s) désactivé(s), %(ended)d relation(s) terminée(s), "
                "%(deleted)d membre(s) supprimé(s), %(reactivated)d réactivé(s), "
                "%(kept)d conservé(s) car lié(s) à un autre programme."
            ) % {
                "deactivated": result["deactivated"],
                "ended": result["relationships_ended"],
                "deleted": result["deleted"],
                "reactivated": result["reactivated"],
                "kept": result["kept_in_other_programmes"],
            }
            next_url, next_label = (
                reverse("activity:program", args=[program.pk]),
                _("Retour au programme"),
            )
            if job.payload["method"] == services.REIMPORT:
                next_url, next_label = (
                    reverse("members:import"),
                    _("Réimporter les membres qui reviennent"),
                )
            return {
                **result,
                "title": _("Terminer le cycle : %(name)s") % {"name": program.name},
                "summary": summary,
                "next_url": next_url,
                "next_label": next_label,
            }

    job_run_atomic(job_id, work)


@task()
def home_snapshot_refresh(program_id: int) -> str:
    """Count a programme's Home again, behind a view that served its stale snapshot."""
    from .home_snapshot import home_snapshot_compute

    program = Program.objects.select_related("organisation").filter(pk=program_id).first()
    if program is None:
        return ""
    return home_snapshot_compute(program=program).computed_at.isoformat()
