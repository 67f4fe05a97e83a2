import hashlib
import secrets

from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, Member


def token_issue(*, member: Member) -> str:
    """A new API token for this member; only its hash is stored, so show it once."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(member=member, key_hash=hashlib.sha256(key.encode()).hexdigest())
    return key


def _enter(request: HttpRequest, member: Member) -> Member:
    request.user = member
    translation.activate(member.language)
    if member.organisation is not None:
        timezone.activate(member.organisation.tzinfo)
    return member


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Member | None:
        digest = hashlib.sha256(token.encode()).hexdigest()
        api_token = (
            ApiToken.objects.select_related("member__organisation")
            .filter(key_hash=digest, member__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        now = timezone.now()
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        return _enter(request, api_token.member)


class MemberSession(SessionAuth):
    """The signed-in browser may read the API too (CSRF applies to writes)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Member | None:
        member = super().authenticate(request, key)
        return _enter(request, member) if member else None
