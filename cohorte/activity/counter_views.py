"""The programme page's rebuild notice, polled by htmx while the counters are rebuilt."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from cohorte.accounts.http import MemberRequest
from cohorte.programs.selectors import program_for

from .counters import counters_rebuild_pending


@login_required
def counters_banner(request: MemberRequest, program_id: int) -> HttpResponse:
    """The notice with its progress; once the rebuild is done, an element that reloads the
    table (with the page's own sort and filters) so the fresh figures replace the old."""
    program = program_for(request.user, program_id)
    context = {
        "program": program,
        "job": counters_rebuild_pending(program),
        "query": request.GET.urlencode(),
        "reload": True,
    }
    return render(request, "activity/_recompute_banner.html", context)
