"""Reads of messages and of the e-mail log, bounded whatever the volume."""

import datetime as dt
from collections.abc import Sequence
from itertools import chain

from django.db.models import Count, Q, QuerySet

from cohorte.accounts.models import Member
from cohorte.accounts.selectors import members_visible_to
from cohorte.core import parse
from cohorte.programs.models import Program
from cohorte.programs.selectors import programs_visible_to

from .models import OUTBOX_STATUSES, Email, EmailStatus, Message


def messages_visible_to(user: Member) -> QuerySet[Message]:
    """An administrator sees the organisation's messages; a manager those of their programmes."""
    if not user.is_authenticated or user.organisation_id is None:
        return Message.objects.none()
    messages = Message.objects.filter(organisation_id=user.organisation_id)
    if not user.is_org_admin:
        messages = messages.filter(program__in=programs_visible_to(user))
    return messages.select_related("program", "created_by", "cohort")


def message_delivery(message: Message) -> dict[str, int]:
    """How far a sent message's e-mails have gone: one GROUP BY over its rows, so the
    message page can show a send to 20,000 people as it happens."""
    counts = dict(
        Email.objects.filter(message=message)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("status", "n")
    )
    total = sum(counts.values())
    waiting = sum(counts.get(status, 0) for status in OUTBOX_STATUSES)
    failed = counts.get(EmailStatus.FAILED, 0)
    left = total - waiting - failed
    return {
        "total": total,
        "left": left,
        "waiting": waiting,
        "failed": failed,
        "percent": round(100 * (left + failed) / total) if total else 100,
    }


def message_programs(user: Member) -> QuerySet[Program]:
    return programs_visible_to(user).order_by("name")


def email_log(
    *,
    user: Member,
    member_ids: Sequence[int] = (),
    statuses: Sequence[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    message_id: int | None = None,
) -> QuerySet[Email]:
    """Every e-mail the platform sent that this person may see, newest first. The filters
    match the log's indexes (organisation + member/status + time)."""
    if not user.is_authenticated or user.organisation_id is None:
        return Email.objects.none()
    rows = Email.objects.filter(organisation_id=user.organisation_id)
    if not user.is_org_admin:
        rows = rows.filter(member__in=members_visible_to(user))
    if member_ids:
        rows = rows.filter(member_id__in=list(member_ids))
    if statuses:
        rows = rows.filter(status__in=list(statuses))
    if start:
        rows = rows.filter(created_at__gte=start)
    if end:
        rows = rows.filter(created_at__lt=end)
    if message_id:
        rows = rows.filter(message_id=message_id)
    return rows.order_by("-created_at", "-id")


#: the columns the log's page and API show
LOG_COLUMNS = (
    "id",
    "member_id",
    "subject",
    "to_name",
    "to_email",
    "created_at",
    "sent_at",
    "status",
    "delivered_at",
    "opened_at",
    "last_error",
)

#: the log counts what matches up to this many rows: beyond, « plus de 10 000 » is what a
#: manager needs, and counting millions of rows would cost more than the page itself
LOG_COUNT_CAP = 10_000


def email_log_count(
    rows: QuerySet[Email], *, statuses: Sequence[str] = (), cap: int = LOG_COUNT_CAP
) -> tuple[int, bool]:
    """How many rows match, exact up to `cap`; (cap, True) when there are more. One index
    range read no further than cap + 1 entries, whatever the size of the log."""
    if statuses:
        rows = rows.filter(status__in=list(statuses))
    found = rows.order_by().values("pk")[: cap + 1].count()
    return (cap, True) if found > cap else (found, False)


def cursor_of(email: Email) -> str:
    return f"{email.created_at.isoformat()}_{email.pk}"


def parse_cursor(value: str) -> tuple[dt.datetime, int] | None:
    """The `after` of a page link: an aware time and an id, both within bounds, or None."""
    if not value or len(value) > 100 or "_" not in value:
        return None
    stamp, pk = value.rsplit("_", 1)
    try:
        return parse.parse_datetime(stamp), parse.parse_id(pk)
    except parse.ParseError:
        return None


def email_log_page(
    rows: QuerySet[Email], *, after: str = "", size: int = 50, statuses: Sequence[str] = ()
) -> tuple[list[Email], str]:
    """Keyset pagination: the next page starts after the last row seen, so page 1,000 costs
    what page 1 costs, and nothing counts the whole log. Several statuses are read one index
    range each and merged, rather than sorting every row of all of them."""
    cursor = parse_cursor(after) if after else None
    if cursor is not None:
        stamp, pk = cursor
        rows = rows.filter(Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=pk))
    # what the page and the API show: not the bodies (tens of kilobytes each, in TOAST)
    rows = rows.only(*LOG_COLUMNS)
    if len(statuses) > 1:
        parts = [list(rows.filter(status=status)[: size + 1]) for status in dict.fromkeys(statuses)]
        merged = sorted(
            chain.from_iterable(parts), key=lambda e: (e.created_at, e.pk), reverse=True
        )
        page = merged[: size + 1]
    else:
        page = list((rows.filter(status=statuses[0]) if statuses else rows)[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (cursor_of(page[-1]) if more and page else "")
