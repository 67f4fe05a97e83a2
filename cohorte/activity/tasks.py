from django.tasks import task

from cohorte.programs.models import Program

from . import services


@task()
def program_counters_rebuild(job_id: int) -> str:
    """Every counter of a programme, after its dates moved: its Job row shows the progress
    on the programme's page."""
    from cohorte.core.jobs import job_run

    job = job_run(job_id, services.counters_rebuild_work)
    return job.status if job else ""


@task()
def program_stats_rebuild(program_id: int) -> int:
    """What a date change queued before rebuilds were jobs: start the job instead."""
    program = Program.objects.select_related("organisation").filter(pk=program_id).first()
    if program is None:
        return 0
    return services.counters_rebuild_start(program=program).pk


@task()
def scheduler_tick() -> dict:
    """The worker's clock: scheduled messages that are due, background jobs whose worker
    died, « Comment s'est passée votre rencontre ? » after each meeting's end, the automatic
    reminder rules and the interview circuit's staged ones, the e-mail log's retention (once
    a day); then it books its next run. Every step is
    idempotent, so two workers ticking at once do no harm."""
    from django.core.cache import cache
    from django.utils import timezone

    from cohorte.core.files import job_files_purge
    from cohorte.core.jobs import jobs_resume_stale
    from cohorte.meetings import evaluations
    from cohorte.messaging import services as messaging

    now = timezone.now()
    done = {"messages": messaging.messages_send_due(now=now), "reminders": 0, "purged": 0}
    done["jobs_resumed"] = jobs_resume_stale()
    done["files_purged"] = job_files_purge(now=now)
    done["outbox_woken"] = messaging.outbox_wake(now=now)  # rows a killed worker left
    done["feedback"] = evaluations.feedback_send_due(now=now)  # meetings that just ended
    if cache.add("tick:reminder-rules", 1, timeout=3600):  # hourly is plenty
        done["reminders"] = services.reminder_rules_run(now=now)
    if cache.add("tick:step-reminders", 1, timeout=3600):  # at most one a person a day anyway
        from cohorte.campaigns.step_reminders import step_reminders_run

        done["step_reminders"] = step_reminders_run(now=now)
    from cohorte.surveys.services import surveys_run

    done["surveys"] = sum(surveys_run(now=now).values())  # triggers, reminders: idempotent
    if cache.add("tick:monthly-activity", 1, timeout=600):  # the Reports tab's rollup
        from cohorte.reports.rollups import monthly_refresh_recent

        done["monthly_activity"] = monthly_refresh_recent(now=now)
    from cohorte.reports.custom import scheduled_reports_run

    done["scheduled_reports"] = scheduled_reports_run(now=now)  # each due once: idempotent
    if cache.add("tick:email-retention", 1, timeout=24 * 3600):
        done["purged"] = messaging.emails_purge(now=now)
    tick_schedule(after_seconds=300)
    return done


def tick_schedule(*, after_seconds: int = 0) -> bool:
    """Book the next tick unless one is already waiting."""
    import datetime as dt

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    path = scheduler_tick.module_path
    if DBTaskResult.objects.filter(task_path=path, status="READY").exists():
        return False
    run_after = timezone.now() + dt.timedelta(seconds=after_seconds)
    scheduler_tick.using(run_after=run_after).enqueue()
    return True
