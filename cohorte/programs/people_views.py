"""People as one types, for the searchable pickers (static/js/selects.js).

Only the people the caller may already see: an administrator's organisation, a manager's
programmes (``members_visible_to``), narrowed to one programme's enrolments when asked,
and only if the caller may see that programme. Every parameter is parsed with bounds; a bad
one is a 400 with its reason, never a 500.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.selectors import members_visible_to
from cohorte.core.parse import ParseError, parse_id, parse_int, search_words
from cohorte.core.widgets import person_label

from .models import Enrolment, Role
from .selectors import programs_visible_to

#: longest search text accepted (a name and an e-mail address fit easily)
MAX_QUERY = 100
DEFAULT_LIMIT = 20
MAX_LIMIT = 50


def _bad(reason: str) -> JsonResponse:
    return JsonResponse({"detail": reason}, status=400)


@login_required
@require_GET
def people_search(request: MemberRequest) -> JsonResponse:
    """``?q=`` (two letters or more), optional ``program=<id>``, ``role=<role>``,
    ``active=1`` and ``limit=`` (1–50): ``{"results": [{"value", "text", "name", "email"}]}``
    with « Nom Prénom — courriel » as the text."""
    params = request.GET
    q = params.get("q", "")
    if len(q) > MAX_QUERY:
        return _bad(_("Recherche trop longue (%(n)s caractères au plus).") % {"n": MAX_QUERY})
    try:
        limit = (
            parse_int(params["limit"], minimum=1, maximum=MAX_LIMIT)
            if params.get("limit")
            else DEFAULT_LIMIT
        )
        program_id = parse_id(params["program"]) if params.get("program") else None
    except ParseError as error:
        return _bad(error.message)
    role = params.get("role", "")
    if role and role not in Role.values:
        return _bad(_("Rôle inconnu."))
    active = params.get("active", "")
    if active not in ("", "0", "1"):
        return _bad(_("« active » vaut 0 ou 1."))

    people = members_visible_to(request.user).filter(archived_at__isnull=True)
    if program_id is not None:
        if not programs_visible_to(request.user).filter(pk=program_id).exists():
            return JsonResponse({"detail": _("Programme introuvable.")}, status=404)
        enrolments = Enrolment.objects.filter(program_id=program_id)
        if role:
            enrolments = enrolments.filter(role=role)
        people = people.filter(pk__in=enrolments.values("member_id"))
    elif role:
        people = people.filter(
            pk__in=Enrolment.objects.filter(
                program__in=programs_visible_to(request.user), role=role
            ).values("member_id")
        )
    if active == "1":
        people = people.filter(is_active=True)
    words = search_words(q)
    if sum(len(word) for word in words) < 2:
        return JsonResponse({"results": []})
    for word in words:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    found = people.only("pk", "first_name", "last_name", "email").order_by(
        "last_name", "first_name", "email"
    )[:limit]
    return JsonResponse(
        {
            "results": [
                {
                    "value": str(person.pk),
                    "text": person_label(person),
                    "name": person.full_name,
                    "email": person.email,
                }
                for person in found
            ]
        }
    )
