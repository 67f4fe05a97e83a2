"""Whether the sidebar shows « Entretiens » to a member who is not an administrator: they
manage interviews. Cached per member (one query every few minutes, not one per page),
forgotten when a campaign's population is created from the pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

from .models import Interview

SECONDS = 600


def _key(member_id: int) -> str:
    return f"campaigns:manages:{member_id}"


def manages_interviews(member: Any) -> bool:
    if not getattr(member, "is_authenticated", False) or not member.is_active:
        return False
    if member.is_org_admin:
        return True
    found = cache.get(_key(member.pk))
    if found is None:
        found = Interview.objects.filter(manager_id=member.pk).exists()
        cache.set(_key(member.pk), found, SECONDS)
    return bool(found)


def manages_interviews_forget(emails: Iterable[str]) -> None:
    from cohorte.accounts.models import Member

    wanted = {e.strip().lower() for e in emails if e}
    if wanted:
        ids = Member.objects.filter(email__in=wanted).values_list("pk", flat=True)
        cache.delete_many([_key(pk) for pk in ids])
