from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import get_language

from cohorte.accounts.http import MemberRequest
from cohorte.programs.selectors import program_for

from .summary import program_summary_pdf


@login_required
def program_pdf(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Autres actions » › « Exporter en PDF »: the programme's summary in its brand, for
    its managers and the organisation's administrators (404 for anyone else)."""
    program = program_for(request.user, program_id)
    language = "en" if get_language() == "en" else "fr"
    data = program_summary_pdf(program=program, language=language)
    day = timezone.localdate().isoformat()
    name = f"{slugify(program.name) or 'programme'}-{day}.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
