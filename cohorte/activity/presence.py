"""Who is online: signed in and active in the last two minutes, in a store every app
server shares — Redis when configured, else the database."""

import datetime as dt
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from cohorte.accounts.models import Member

WRITE_EVERY = dt.timedelta(seconds=30)
#: the page's own polling must not keep an idle person « online »
POLL_HEADER = "X-Presence-Poll"


def _key(member_id: int) -> str:
    return f"presence:{member_id}"


def touch(member: Member, *, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if settings.COHORTE_PRESENCE_STORE == "redis":
        cache.set(_key(member.pk), now.timestamp(), timeout=settings.COHORTE_PRESENCE_SECONDS)
        return
    if member.last_seen_at is None or now - member.last_seen_at >= WRITE_EVERY:
        Member.objects.filter(pk=member.pk).update(last_seen_at=now)
        member.last_seen_at = now


def online(member_ids: Iterable[int], *, now: dt.datetime | None = None) -> set[int]:
    """Those of these members seen in the last two minutes: one round trip either way."""
    ids = [int(pk) for pk in member_ids]
    if not ids:
        return set()
    now = now or timezone.now()
    window = settings.COHORTE_PRESENCE_SECONDS
    if settings.COHORTE_PRESENCE_STORE == "redis":
        found = cache.get_many([_key(pk) for pk in ids])
        return {
            int(key.split(":", 1)[1])
            for key, seen in found.items()
            if now.timestamp() - float(seen) <= window
        }
    since = now - dt.timedelta(seconds=window)
    return set(
        Member.objects.filter(pk__in=ids, last_seen_at__gte=since).values_list("pk", flat=True)
    )


def clear(member_ids: Iterable[int]) -> None:
    """Offline now (signed out, switched off), not two minutes from now."""
    ids = [int(pk) for pk in member_ids]
    if not ids:
        return
    if settings.COHORTE_PRESENCE_STORE == "redis":
        cache.delete_many([_key(pk) for pk in ids])
    else:
        Member.objects.filter(pk__in=ids, last_seen_at__isnull=False).update(last_seen_at=None)


class PresenceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and POLL_HEADER not in request.headers:
            touch(user)
        return self.get_response(request)
