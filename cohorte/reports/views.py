from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.jobs import job_create, job_enqueue, job_requeue
from cohorte.core.models import Job, JobStatus
from cohorte.core.parse import ParseError, parse_ids
from cohorte.meetings.models import Relationship, RelationshipStatus
from cohorte.meetings.services import relationships_end
from cohorte.programs.models import Program
from cohorte.programs.selectors import program_for

from . import services, tasks


def _admin_program(request: MemberRequest, program_id: int) -> Program:
    program = program_for(request.user, program_id)
    if not request.user.is_org_admin:
        raise Http404("Administrators only.")
    request.current_program = program
    return program


def _cycle_jobs(program: Program):
    return Job.objects.filter(
        kind="cycle_end", organisation_id=program.organisation_id, payload__program_id=program.pk
    )


@login_required
def cycle_end(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Terminer le cycle »: choose a method, see what it will do to whom and why, then
    confirm that very plan; the job carries it out or refuses if the data changed."""
    program = _admin_program(request, program_id)
    last = _cycle_jobs(program).first()
    pending = last if last is not None and not last.is_finished else None
    failed = last if last is not None and last.status == JobStatus.FAILED else None
    method = request.POST.get("method") or request.GET.get("method") or ""
    if method not in services.METHODS:
        return render(
            request,
            "reports/cycle_methods.html",
            {"program": program, "pending": pending, "failed": failed},
        )
    source = request.POST if request.method == "POST" else request.GET
    problem = ""
    try:
        returning = sorted(parse_ids(source.getlist("returning")))
    except ParseError as error:
        returning, problem = [], error.message
    plan = services.cycle_plan(program=program, method=method, returning_ids=returning)
    if request.method == "POST" and not problem:
        if pending is not None:
            problem = _("Une fin de cycle est déjà en cours pour ce programme.")
        elif request.POST.get("plan") != plan.fingerprint:
            problem = _(
                "Le résumé a changé depuis son affichage (des données du programme ont été "
                "modifiées) : vérifiez ce nouveau résumé, puis confirmez à nouveau."
            )
        elif request.POST.get("confirm") != "1":
            problem = _("Cochez la case de confirmation : la suppression est définitive.")
        else:
            with transaction.atomic():
                job = job_create(
                    kind="cycle_end",
                    by=request.user,
                    title=_("Terminer le cycle : %(name)s") % {"name": program.name},
                    organisation_id=program.organisation_id,
                    payload={
                        "program_id": program.pk,
                        "method": method,
                        "plan": plan.actions(),
                        "fingerprint": plan.fingerprint,
                    },
                )
                # where a failed job sends the administrator: this page offers « Reprendre »
                job.result = {
                    **job.result,
                    "next_url": reverse("reports:cycle-end", args=[program.pk]),
                    "next_label": _("Retour à « Terminer le cycle »"),
                }
                job.save(update_fields=["result"])
                job_enqueue(job, tasks.cycle_end)
            return redirect("core:job", job_id=job.pk)
    members = (
        services.cycle_members(program).order_by("last_name", "first_name", "pk")
        if method == services.KEEP_SOME
        else []
    )
    return render(
        request,
        "reports/cycle_plan.html",
        {
            "program": program,
            "method": method,
            "plan": plan,
            "members": members,
            "returning": set(returning),
            "problem": problem,
            "pending": pending,
        },
    )


@login_required
@require_POST
def cycle_end_resume(request: MemberRequest, program_id: int, job_id: int) -> HttpResponse:
    """« Reprendre »: a cycle end that failed (and changed nothing) is run again with the
    plan that was confirmed; if the data changed since, it refuses again, saying so."""
    program = _admin_program(request, program_id)
    job = get_object_or_404(_cycle_jobs(program), pk=job_id)
    if not job_requeue(job=job):
        messages.error(request, _("Cette fin de cycle n'a pas échoué : rien à reprendre."))
        return redirect("reports:cycle-end", program_id=program.pk)
    return redirect("core:job", job_id=job.pk)


@login_required
def relationships_end_view(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Terminer toutes les relations », after a confirmation with the count."""
    program = _admin_program(request, program_id)
    current = Relationship.objects.filter(program=program, status=RelationshipStatus.MATCHED)
    if request.method == "POST":
        ended = relationships_end(program=program, by=request.user)
        messages.success(
            request,
            ngettext("%(count)d relation terminée.", "%(count)d relations terminées.", ended)
            % {"count": ended},
        )
        return redirect("activity:program", program_id=program.pk)
    return render(
        request, "reports/relationships_end.html", {"program": program, "count": current.count()}
    )
