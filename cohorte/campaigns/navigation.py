"""Whether the sidebar shows « Entretiens » to a member who is not an administrator: they
manage interviews. Worked out when they sign in and kept in their session (read with the
session the request loads anyway), again whenever they open the campaigns' list, and at
most every RECHECK_SECONDS otherwise — so a manager given interviews meanwhile finds the
link within minutes, at one small query per ten minutes, not per page."""

from __future__ import annotations

import time
from typing import Any

from .models import Interview

SESSION_KEY = "campaigns.manages"
#: how old the session's answer may be before it is worked out again
RECHECK_SECONDS = 600


def manages_interviews_remember(request: Any, member: Any) -> bool:
    found = bool(
        getattr(member, "pk", None) and Interview.objects.filter(manager_id=member.pk).exists()
    )
    if hasattr(request, "session"):
        request.session[SESSION_KEY] = {"manages": found, "at": int(time.time())}
    return found


def shows_interviews(request: Any) -> bool:
    member = getattr(request, "user", None)
    if member is None or not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    if member.is_org_admin:
        return True
    session = getattr(request, "session", None)
    if session is None:
        return False
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or not 0 <= time.time() - kept.get("at", 0) < RECHECK_SECONDS:
        return manages_interviews_remember(request, member)
    return bool(kept.get("manages"))


def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and not getattr(user, "is_org_admin", False):
        manages_interviews_remember(request, user)
