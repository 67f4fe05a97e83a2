"""« Relancer les managers » (issue 13 §4): by status from the statistics, or one manager.

A manager reminded by an administrator receives ONE e-mail listing only their interviews in
the status chosen — and a double click, a browser's retry or an API client's retry sends
nothing twice: the campaign's row is locked for the sending, and a manager already reminded
for that status (or for all their pending interviews) in the last RETRY_WINDOW is not
reminded again; the retry answers with what was sent. The staged, automatic reminders are
in step_reminders.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import zone_or_default

from . import rules
from .models import (
    LOCKED,
    Campaign,
    Interview,
    InterviewStatus,
    ManagerReminder,
    ReminderSending,
)

#: a second identical « Relancer » within this time sends nothing again
RETRY_WINDOW = dt.timedelta(seconds=60)
#: the API's bounds on the managers excluded
MAX_EXCLUDED = 10_000
MAX_EMAIL = 254
#: the status recorded on a sending « Relancer le responsable » made for every pending one
ALL_PENDING = ""


@dataclass
class Reminded:
    manager: Member
    interview_ids: list[int]
    #: sent by an earlier identical request within RETRY_WINDOW, not by this one
    earlier: bool = False


@dataclass
class Skipped:
    """A manager with interviews in the status who cannot be reminded, and why."""

    manager: Member
    #: "inactive" (deactivated) or "archived"
    reason: str


class KeyReused(Exception):
    """An Idempotency-Key already used by this caller for another status of the campaign."""


#: the longest Idempotency-Key kept (printable ASCII)
KEY_MAX = 255


def unreachable_reason(member: Member) -> str | None:
    """Why a manager will not receive a reminder: archived, deactivated, or None."""
    if member.archived_at is not None:
        return "archived"
    if not member.is_active:
        return "inactive"
    return None


@dataclass
class Sending:
    reminded: list[Reminded] = field(default_factory=list)
    sending: ReminderSending | None = None
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for r in self.reminded if not r.earlier)


def status_clean(status: Any, *, optional: bool = False) -> str:
    """One of the six statuses (or, when optional, nothing: every pending interview)."""
    if optional and status in (None, ""):
        return ALL_PENDING
    if not isinstance(status, str) or status not in InterviewStatus.values:
        raise ValidationError(
            {
                "status": [
                    _("Statut inconnu : attendu %(values)s.")
                    % {"values": ", ".join(InterviewStatus.values)}
                ]
            }
        )
    return status


def _status_filter(status: str) -> Q:
    if status == ALL_PENDING:
        return ~Q(status__in=LOCKED)
    return Q(status=status)


def interview_lines(interviews: Sequence[Interview], tz: dt.tzinfo) -> str:
    """{entretiens}: one line per interview — collaborator, date or status, its link."""
    from cohorte.messaging.services import absolute_url

    lines = []
    for interview in interviews:
        status = str(InterviewStatus(interview.status).label)
        if interview.scheduled_at is not None and interview.status != InterviewStatus.NOT_PLANNED:
            local = localtime_or_utc(interview.scheduled_at, tz)
            when = formats.date_format(local.date(), "DATE_FORMAT")
            state = _("%(status)s, entretien du %(date)s") % {"status": status, "date": when}
        else:
            state = status
        link = absolute_url(reverse("campaigns:interview", args=[interview.pk]))
        name = interview.collaborator.full_name or interview.collaborator.email
        lines.append(f"- {name} — {state} : {link}")
    return "\n".join(lines)


def interviews_link(campaign: Campaign, status: str, manager: Member) -> str:
    from cohorte.messaging.services import absolute_url

    query = {"manager": manager.email}
    if status:
        query["status"] = status
    path = reverse("campaigns:interviews", args=[campaign.pk])
    return absolute_url(f"{path}?{urlencode(query)}")


def outbox_row(*, text: Any, organisation_id: int, member: Member, values: dict[str, object]):
    """messaging.system_email's row, built to be written with many others in one statement
    (and one wake-up of the outbox for them all): 2,000 managers are 2,000 rows, not 2,000
    inserts and 2,000 tasks. None when the organisation switched the message off."""
    from cohorte.messaging import addresses
    from cohorte.messaging import services as messaging
    from cohorte.messaging.models import Email

    if not text.active:
        return None
    subject, body = messaging.system_render(
        text, language=member.language, values={**messaging.member_values(member), **values}
    )
    return Email(
        organisation_id=organisation_id,
        member=member,
        to_email=member.email,
        to_name=addresses.member_name(member),
        subject=subject,
        body_text=body,
        body_html="",
        language=member.language,
        attachments=[],
    )


def outbox_write(rows: list[Any]) -> None:
    from cohorte.messaging import services as messaging
    from cohorte.messaging.models import Email

    rows = [row for row in rows if row is not None]
    if rows:
        Email.objects.bulk_create(rows, batch_size=1_000)
        messaging.outbox_kick()


@transaction.atomic
def _remind(
    *,
    campaign: Campaign,
    status: str,
    by: Member,
    exclude: Iterable[str] = (),
    only: Collection[int] | None = None,
    audit: str,
    key: str = "",
) -> Sending:
    from cohorte.messaging import services as messaging

    if not rules.is_admin_of(by, campaign):
        raise PermissionDenied(_("Seul un administrateur de l'organisation relance les managers."))
    # two clicks, two workers, two API retries: one at a time for this campaign
    Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
    if key:
        earlier = (
            ReminderSending.objects.filter(campaign=campaign, by=by, idempotency_key=key)
            .prefetch_related("recipients__manager")
            .first()
        )
        if earlier is not None:  # the same request again, however late: what it sent
            if earlier.status != status:
                raise KeyReused
            return Sending(
                reminded=[
                    Reminded(r.manager, r.interview_ids, True)
                    for r in earlier.recipients.all()
                    if r.manager is not None
                ],
                sending=earlier,
            )
    now = timezone.now()
    rows = (
        Interview.objects.filter(_status_filter(status), campaign=campaign)
        .select_related("collaborator", "manager")
        .only(
            "pk", "status", "scheduled_at", "manager_id", "collaborator_id",
            "collaborator__first_name", "collaborator__last_name", "collaborator__email",
            "manager__email", "manager__first_name", "manager__last_name",
            "manager__language", "manager__timezone", "manager__is_active",
            "manager__archived_at",
        )
        .order_by(
            "manager__last_name", "manager__first_name", "manager_id",
            "collaborator__last_name", "collaborator__first_name", "pk",
        )
    )  # fmt: skip
    if only is not None:
        rows = rows.filter(manager_id__in=list(only))
    by_manager: dict[int, list[Interview]] = defaultdict(list)
    managers: dict[int, Member] = {}
    for interview in rows:
        by_manager[interview.manager_id].append(interview)
        managers[interview.manager_id] = interview.manager
    excluded_emails = {e.strip().lower() for e in exclude if isinstance(e, str)}
    excluded = [m for m in managers.values() if m.email.lower() in excluded_emails]
    excluded_ids = {m.pk for m in excluded}
    kept = [m for m in managers.values() if m.pk not in excluded_ids]
    targets = [m for m in kept if unreachable_reason(m) is None]
    skipped = [Skipped(m, reason) for m in kept if (reason := unreachable_reason(m))]
    recent = {
        r.manager_id: r
        for r in ManagerReminder.objects.filter(
            campaign=campaign,
            sending__status=status,
            at__gte=now - RETRY_WINDOW,
            manager_id__in=[m.pk for m in targets],
        ).order_by("at", "pk")
    }
    result = Sending(skipped=skipped)
    new = [m for m in targets if m.pk not in recent]
    for manager in targets:
        if manager.pk in recent:
            result.reminded.append(Reminded(manager, recent[manager.pk].interview_ids, True))
    if not new and not key:
        return result  # a retry: everyone was just reminded, nobody twice
    sending = ReminderSending.objects.create(
        campaign=campaign,
        status=status,
        by=by,
        at=now,
        excluded=sorted(m.email for m in excluded),
        idempotency_key=key,
    )
    result.sending = sending
    if not new:
        return result  # the key is kept: asked again, it sends nothing either
    text = messaging.system_text(
        organisation_id=campaign.organisation_id, key="interview_manager_reminder"
    )
    tz_default = campaign.organisation.tzinfo
    reminders = []
    emails = []
    for manager in new:
        interviews = by_manager[manager.pk]
        with translation.override(manager.language):
            values: dict[str, object] = {
                "campaign": campaign.name,
                "interviews": interview_lines(
                    interviews, zone_or_default(manager.timezone, tz_default)
                ),
                "link": interviews_link(campaign, status, manager),
            }
        emails.append(
            outbox_row(
                text=text, organisation_id=campaign.organisation_id, member=manager, values=values
            )
        )
        ids = sorted(i.pk for i in interviews)
        reminders.append(
            ManagerReminder(
                sending=sending, campaign=campaign, manager=manager, interview_ids=ids, at=now
            )
        )
        result.reminded.append(Reminded(manager, ids))
    ManagerReminder.objects.bulk_create(reminders, batch_size=1_000)
    outbox_write(emails)
    log_action(
        audit,
        actor=by,
        target=campaign,
        data={
            "status": status or "pending",
            "managers": len(new),
            "interviews": sum(len(r.interview_ids) for r in reminders),
            "excluded": sending.excluded[:100],
        },
    )
    result.sending = sending
    result.reminded.sort(key=lambda r: (r.manager.last_name, r.manager.first_name, r.manager.pk))
    return result


def managers_remind(
    *,
    campaign: Campaign,
    status: str,
    by: Member,
    exclude: Iterable[str] = (),
    only: Collection[int] | None = None,
    key: str = "",
) -> Sending:
    """« Relancer » on a status: each manager concerned (but those excluded, or, with
    `only`, those not selected) receives one e-mail listing only their interviews in it.
    Archived or deactivated managers receive nothing and are listed as skipped. With `key`
    (the API's Idempotency-Key), the same key again answers with what it sent, at any
    time; used for another status, KeyReused."""
    status = status_clean(status)
    exclude = list(exclude)
    if len(exclude) > MAX_EXCLUDED:
        raise ValidationError(
            {"exclude": [_("%(n)s managers exclus au plus.") % {"n": MAX_EXCLUDED}]}
        )
    if only is not None:
        # who was listed and left unticked is recorded as de-selected
        listed = Interview.objects.filter(campaign=campaign, status=status).exclude(
            manager_id__in=list(only)
        )
        exclude += list(listed.order_by().values_list("manager__email", flat=True).distinct())
    return _remind(
        campaign=campaign,
        status=status,
        by=by,
        exclude=exclude,
        audit="campaign.reminders_sent",
        key=key,
    )


def manager_remind(
    *, campaign: Campaign, manager: Member, by: Member, status: str | None = None
) -> Sending:
    """« Relancer le responsable »: one e-mail listing their interviews in `status`, or
    every one not yet closed nor deleted."""
    status = status_clean(status, optional=True)
    return _remind(
        campaign=campaign,
        status=status,
        by=by,
        only=[manager.pk],
        audit="campaign.reminder_sent",
    )


def reminder_rules_save(*, campaign: Campaign, by: Member, rules_in: dict[str, Any]) -> Campaign:
    """The administrator sets (or switches off) the campaign's staged reminders; audited
    with the old and new rules."""
    from .services import reminder_rules_clean

    if not rules.is_admin_of(by, campaign):
        raise PermissionDenied(_("Seul un administrateur règle les relances."))
    new = reminder_rules_clean(rules_in)
    with transaction.atomic():
        current = Campaign.objects.select_for_update().get(pk=campaign.pk)
        old = current.reminder_rules
        if old != new:
            current.reminder_rules = new
            current.save(update_fields=["reminder_rules", "updated_at"])
            log_action(
                "campaign.reminder_rules_changed",
                actor=by,
                target=current,
                data={"old": old, "new": new},
            )
    campaign.reminder_rules = new
    return campaign
