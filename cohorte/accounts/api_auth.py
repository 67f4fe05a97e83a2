from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import HttpBearer, SessionAuth

from .models import ApiToken, Member
from .tokens import token_digest, token_issue, usable_tokens

__all__ = ["BearerToken", "MemberSession", "token_issue"]


def _enter(request: HttpRequest, member: Member) -> Member:
    request.user = member
    translation.activate(member.language)
    if member.organisation is not None:
        timezone.activate(member.organisation.tzinfo)
    return member


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Member | None:
        if not token or len(token) > 200:
            return None
        api_token = (
            usable_tokens()
            .select_related("member__organisation")
            .filter(key_hash=token_digest(token))
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
