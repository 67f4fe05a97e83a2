"""API tokens: issued for a person, and ending with that person's right to use them.

A token works only while it is neither revoked nor expired and its member is active and
not archived — checked on every request (`usable_tokens`), so a member switched off by any
path (a file, a cycle end, a bulk update) is locked out at once. On top of that, tokens are
revoked — for good, with an audit entry — when the member is deactivated, archived or
deleted, and when they lose the role that gave them the API: an administrator who stops
being one, or a manager who no longer manages any programme (unless they are an
administrator); see receivers.py. A reactivated member asks for a new token: a revoked
one never comes back.
"""

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cohorte.core.audit import log_action

from .models import ApiToken, Member

#: how many characters of a key stay readable (tokens page, revoke_token --token-prefix)
PREFIX_LENGTH = 8
#: the longest life a token may be given, in days
MAX_DAYS = 3650


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def usable_tokens(now: dt.datetime | None = None) -> QuerySet[ApiToken]:
    """Tokens that open the API right now."""
    now = now or timezone.now()
    return ApiToken.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        revoked_at__isnull=True,
        member__is_active=True,
        member__archived_at__isnull=True,
    )


@transaction.atomic
def token_issue(*, member: Member, days: int | None = None, by: Member | None = None) -> str:
    """A new API token for this member; only its hash is stored, so show the key once."""
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    key = secrets.token_urlsafe(32)
    while key.startswith("-"):  # its prefix is typed after --token-prefix: never an option
        key = secrets.token_urlsafe(32)
    expires_at = timezone.now() + dt.timedelta(days=days) if days else None
    token = ApiToken.objects.create(
        member=member,
        key_hash=token_digest(key),
        key_prefix=key[:PREFIX_LENGTH],
        expires_at=expires_at,
    )
    log_action(
        "token.issued",
        actor=by,
        target=member,
        data={
            "token": token.pk,
            "prefix": token.key_prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return key


@transaction.atomic
def tokens_revoke(
    *, tokens: Iterable[ApiToken] | QuerySet[ApiToken], by: Member | None, reason: str
) -> int:
    """Revoke these tokens for good, one audit entry each (« token.revoked »)."""
    now = timezone.now()
    revoked = [token for token in tokens if token.revoked_at is None]
    if not revoked:
        return 0
    ApiToken.objects.filter(pk__in=[token.pk for token in revoked]).update(revoked_at=now)
    for token in revoked:
        log_action(
            "token.revoked",
            actor=by,
            target=token.member,
            data={"token": token.pk, "prefix": token.key_prefix, "reason": reason},
        )
    return len(revoked)


def member_tokens_revoke(*, member_ids: Iterable[int], by: Member | None, reason: str) -> int:
    """Revoke every live token of these members (deactivated, archived, role lost)."""
    ids = list(member_ids)
    if not ids:
        return 0
    tokens = ApiToken.objects.filter(member_id__in=ids, revoked_at__isnull=True).select_related(
        "member"
    )
    return tokens_revoke(tokens=list(tokens), by=by, reason=reason)


def revoke_if_role_lost(member_ids: Iterable[int]) -> int:
    """Members who are neither administrators nor managers of any programme any more lose
    their tokens (the API was theirs through that role)."""
    roleless = (
        Member.objects.filter(pk__in=list(member_ids), is_org_admin=False)
        .exclude(managed_programs__isnull=False)
        .filter(api_tokens__revoked_at__isnull=True)
        .values_list("pk", flat=True)
        .distinct()
    )
    return member_tokens_revoke(member_ids=list(roleless), by=None, reason="role_lost")


def tokens_of_organisation(organisation_id: int) -> QuerySet[ApiToken]:
    """The tokens page: every token of the organisation's members, live ones first."""
    return (
        ApiToken.objects.filter(member__organisation_id=organisation_id)
        .select_related("member")
        .order_by("revoked_at", "-created_at", "-pk")
    )
