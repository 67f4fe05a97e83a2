from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cohorte.accounts.http import MemberRequest
from cohorte.core.jobs import job_create, job_enqueue
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


@login_required
def cycle_end(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Terminer le cycle »: choose a method, see what it will do, then confirm."""
    program = _admin_program(request, program_id)
    method = request.POST.get("method") or request.GET.get("method") or ""
    if method not in services.METHODS:
        return render(request, "reports/cycle_methods.html", {"program": program})
    source = request.POST if request.method == "POST" else request.GET
    returning = [int(v) for v in source.getlist("returning") if v.isdigit()]
    plan = services.cycle_plan(program=program, method=method, returning_ids=returning)
    problem = ""
    if request.method == "POST":
        if request.POST.get("confirm") != "1":
            problem = _("Cochez la case de confirmation : la suppression est définitive.")
        else:
            with transaction.atomic():
                job = job_create(
                    kind="cycle_end",
                    by=request.user,
                    title=_("Terminer le cycle : %(name)s") % {"name": program.name},
                    organisation_id=program.organisation_id,
                    payload={"program_id": program.pk, "method": method, "returning": returning},
                )
                job_enqueue(job, tasks.cycle_end)
            return redirect("core:job", job_id=job.pk)
    members = (
        services.cycle_members(program).order_by("last_name", "first_name")
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
        },
    )


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
