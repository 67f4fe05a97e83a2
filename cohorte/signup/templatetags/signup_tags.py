from django import template

from cohorte.programs.models import Program

from ..models import ApplicationStatus
from ..selectors import program_slug

register = template.Library()


@register.inclusion_tag("signup/_program_actions.html", takes_context=True)
def signup_actions(context, program: Program) -> dict:
    """The programme page's « Afficher le site Web », publish switch and « Candidatures »."""
    pending = program.applications.filter(status=ApplicationStatus.PENDING).count()
    return {
        "program": program,
        "slug": program_slug(program),
        "pending": pending,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
