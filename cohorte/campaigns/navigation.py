"""Whether the sidebar shows « Entretiens » to a member who is not an administrator: they
manage interviews. Worked out once when they sign in and kept in their session (read with
the session the request loads anyway: no query on any page), and again whenever they open
the campaigns' list."""

from __future__ import annotations

from typing import Any

from .models import Interview

SESSION_KEY = "campaigns.manages"


def manages_interviews_remember(request: Any, member: Any) -> bool:
    found = bool(
        getattr(member, "pk", None) and Interview.objects.filter(manager_id=member.pk).exists()
    )
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = found
    return found


def shows_interviews(request: Any) -> bool:
    member = getattr(request, "user", None)
    if member is None or not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    if member.is_org_admin:
        return True
    session = getattr(request, "session", None)
    return bool(session.get(SESSION_KEY)) if session is not None else False


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and not getattr(user, "is_org_admin", False):
        manages_interviews_remember(request, user)
