"""The staged reminders of an interview campaign (issue 13 §4), run by the worker's clock.

Per the campaign's rules (Campaign.reminder_rules): the person whose circuit step waits is
reminded before its deadline (7 and 2 days) and every N days after it; so many days late,
the N+2 is told, then HR in copy; the manager is reminded the same way of the interviews
still to plan or to write up, before the campaign's end date. Never more than one reminder
per person per day across all campaigns: the StepReminder row (unique member + day, the day
in the recipient's time zone) is inserted in the transaction that enqueues the e-mail, so
two workers ticking at once cannot both send. A reminder that could not go on its day (the
person already had one, the clock did not run) goes on the next day: each person and
interview is compared with its latest milestone, not with today only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import formats, timezone, translation

from cohorte.accounts.models import Member
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import zone_or_default

from . import rules
from .models import Campaign, CircuitRole, Interview, InterviewStatus, StepReminder
from .reminders import ALL_PENDING, interview_lines, interviews_link, outbox_row, outbox_write

#: staged reminders written (and their e-mails enqueued) this many to a transaction
STEP_CHUNK = 500


def latest_milestone(
    *, late: int, start: int, offsets: Iterable[int], every: int | None, first: int | None = None
) -> int | None:
    """The latest milestone (in days after the deadline; negative before it) that has come
    by `late`, strictly after the step's first day `start`; None when none has.

    `offsets` are one-off milestones (-7, -2: days before); from `first` on, one every
    `every` days (first=None: every·1, every·2…; every None: `first` alone)."""
    found: int | None = None
    for offset in offsets:
        if start < offset <= late and (found is None or offset > found):
            found = offset
    base = first if first is not None else every
    if base is not None and late >= base:
        repeat = base
        if every:
            repeat = base + ((late - base) // every) * every
        if repeat > start and (found is None or repeat > found):
            found = repeat
    return found


@dataclass
class _Due:
    member: Member
    interview: Interview
    stage: str
    key: str  # the system message
    day: dt.date  # today, in the member's time zone
    milestone: dt.date
    late: int
    due_at: dt.datetime | None
    #: the manager's planning or write-up: their interviews not planned or not written up
    pending: list[Interview] = field(default_factory=list)


def _rules_of(campaign: Campaign) -> dict[str, Any] | None:
    from .services import reminder_rules_clean

    try:
        cleaned = reminder_rules_clean(campaign.reminder_rules or {})
    except ValidationError:
        return None
    return cleaned if cleaned.get("enabled") else None


def _hr_people(campaigns: Sequence[Campaign]) -> dict[int, list[Member]]:
    """The HR of each campaign: its named person, else the organisation's administrators
    (as services.step_actors: the first five), in one query."""
    orgs = {c.organisation_id for c in campaigns}  # a named HR who left: the admins
    admins: dict[int | None, list[Member]] = defaultdict(list)
    for admin in Member.objects.filter(
        organisation_id__in=orgs, is_org_admin=True, is_active=True
    ).order_by("pk"):
        if len(admins[admin.organisation_id]) < 5:
            admins[admin.organisation_id].append(admin)
    return {
        c.pk: [c.hr] if c.hr is not None and c.hr.is_active else admins[c.organisation_id]
        for c in campaigns
    }


def _second_approvers(interviews: Sequence[Interview]) -> dict[int, Member]:
    """The N+2 of each interview (named, else the manager's manager in the campaign) in
    two queries, as services.second_approver_of does one by one."""
    found: dict[int, Member] = {}
    wanted: dict[tuple[int, int], list[Interview]] = defaultdict(list)
    for interview in interviews:
        if interview.second_approver is not None:
            found[interview.pk] = interview.second_approver
        else:
            wanted[(interview.campaign_id, interview.manager_id)].append(interview)
    if not wanted:
        return found
    above: dict[tuple[int, int], int] = {}
    rows = (
        Interview.objects.filter(
            campaign_id__in={c for c, _m in wanted},
            collaborator_id__in={m for _c, m in wanted},
        )
        .exclude(status=InterviewStatus.DELETED)
        .values_list("campaign_id", "collaborator_id", "manager_id")
    )
    for campaign_id, collaborator_id, manager_id in rows:
        if (campaign_id, collaborator_id) in wanted:
            above[(campaign_id, collaborator_id)] = manager_id
    people = Member.objects.only(*MEMBER_FIELDS).in_bulk(set(above.values()))
    for key, interviews_ in wanted.items():
        above_id = above.get(key)
        for interview in interviews_:
            if above_id is not None and above_id != interview.collaborator_id:
                if above_id in people:
                    found[interview.pk] = people[above_id]
    return found


def _actors(interview: Interview, hr: list[Member], second: dict[int, Member]) -> list[Member]:
    """Who signs the step that waits (services.step_actors without a query)."""
    role = rules.step_role(interview)
    if role == CircuitRole.COLLABORATOR:
        return [interview.collaborator]
    if role == CircuitRole.MANAGER:
        return [interview.manager]
    if role == CircuitRole.SECOND_APPROVER and interview.second_approver is not None:
        return [interview.second_approver]
    if role in (CircuitRole.HR, CircuitRole.SECOND_APPROVER):
        return hr
    return []


def _local_day(moment: dt.datetime, member: Member, default: dt.tzinfo) -> dt.date:
    return localtime_or_utc(moment, zone_or_default(member.timezone, default)).date()


#: what the staged reminders read of an interview and of a person
INTERVIEW_FIELDS = (
    "pk", "campaign_id", "collaborator_id", "manager_id", "second_approver_id",
    "status", "circuit", "step", "step_started_at",
)  # fmt: skip
MEMBER_FIELDS = (
    "email", "first_name", "last_name", "language", "timezone", "is_active",
    "organisation_id",
)  # fmt: skip
#: the manager's part before the circuit: to plan, to write up (by the campaign's end date)
MANAGER_PENDING = (InterviewStatus.NOT_PLANNED, InterviewStatus.HELD)


def step_reminders_due(*, now: dt.datetime) -> list[_Due]:
    """Every reminder due now, most urgent first, in a bounded number of queries whatever
    the number of interviews: the campaigns, their closing interviews, the HR, the N+2,
    the reminders already sent for these interviews; the managers' planning and write-up
    counted by manager in the database."""
    campaigns = [
        c
        for c in Campaign.objects.filter(
            pk__in=Interview.objects.filter(
                status__in=[InterviewStatus.CLOSING, *MANAGER_PENDING]
            ).values("campaign_id")
        ).select_related("organisation", "hr")
        if _rules_of(c) is not None
    ]
    if not campaigns:
        return []
    due = _circuit_due(campaigns, now) + _planning_due(campaigns, now)
    # escalations and the latest first: one reminder a person a day, the most urgent one;
    # the manager's planning last (it waits for the next day if a step was recalled)
    order = {"hr": 0, "escalated": 1, "late": 2, "before": 3, "planning": 4}
    due.sort(key=lambda d: (order[d.stage], -d.late, d.interview.pk))
    return due


def _planning_due(campaigns: Sequence[Campaign], now: dt.datetime) -> list[_Due]:
    """The managers with interviews still to plan or to write up, reminded before the
    campaign's end date and every N days after it (the same rules), one e-mail listing
    them all (interview_manager_reminder)."""
    running = {
        c.pk: c for c in campaigns if c.start_date <= now.astimezone(c.organisation.tzinfo).date()
    }
    if not running:
        return []
    counted = list(
        Interview.objects.filter(campaign_id__in=list(running), status__in=MANAGER_PENDING)
        .order_by()
        .values_list("campaign_id", "manager_id")
        .annotate(first=Min("pk"))
    )
    last = {
        (campaign_id, member_id): day
        for campaign_id, member_id, day in StepReminder.objects.filter(
            stage="planning", interview__campaign_id__in=list(running)
        )
        .order_by()
        .values_list("interview__campaign_id", "member_id")
        .annotate(last=Max("day"))
    }
    managers = Member.objects.only(*MEMBER_FIELDS).in_bulk({m for _c, m, _f in counted})
    firsts = Interview.objects.only(*INTERVIEW_FIELDS).in_bulk([f for _c, _m, f in counted])
    due: list[_Due] = []
    for campaign_id, manager_id, first_id in counted:
        campaign, manager = running[campaign_id], managers.get(manager_id)
        if manager is None or not manager.is_active:
            continue
        plan = _rules_of(campaign) or {}
        today = _local_day(now, manager, campaign.organisation.tzinfo)
        late = (today - campaign.end_date).days
        milestone = latest_milestone(
            late=late,
            start=(campaign.start_date - campaign.end_date).days,
            offsets=[-d for d in plan.get("before") or []],
            every=plan.get("every_after"),
        )
        if milestone is None:
            continue
        milestone_day = campaign.end_date + dt.timedelta(days=milestone)
        sent = last.get((campaign_id, manager_id))
        if sent is not None and sent >= milestone_day:
            continue
        interview = firsts[first_id]
        interview.campaign = campaign
        due.append(
            _Due(
                manager,
                interview,
                "planning",
                "interview_manager_reminder",
                today,
                milestone_day,
                late,
                None,
            )
        )
    if due:  # their interviews, for the chosen managers only: one query
        wanted = {(d.interview.campaign_id, d.member.pk): d for d in due}
        rows = (
            Interview.objects.filter(
                campaign_id__in={c for c, _m in wanted},
                manager_id__in={m for _c, m in wanted},
                status__in=MANAGER_PENDING,
            )
            .select_related("collaborator")
            .only(*INTERVIEW_FIELDS, "scheduled_at", *(f"collaborator__{f}" for f in MEMBER_FIELDS))
            .order_by("collaborator__last_name", "collaborator__first_name", "pk")
        )
        for row in rows:
            item = wanted.get((row.campaign_id, row.manager_id))
            if item is not None:
                item.pending.append(row)
    return due


def _circuit_due(campaigns: Sequence[Campaign], now: dt.datetime) -> list[_Due]:
    """The circuit's steps: the actor before and after the deadline, then the N+2 and HR."""
    by_pk = {c.pk: c for c in campaigns}
    interviews = list(
        Interview.objects.filter(
            campaign_id__in=list(by_pk),
            status=InterviewStatus.CLOSING,
            step__isnull=False,
            step_started_at__isnull=False,
        )
        .only(*INTERVIEW_FIELDS)
        .order_by("step_started_at", "pk")
    )
    # each person once, with what a reminder needs (not every column of every member)
    people = Member.objects.only(*MEMBER_FIELDS).in_bulk(
        {i.collaborator_id for i in interviews}
        | {i.manager_id for i in interviews}
        | {i.second_approver_id for i in interviews if i.second_approver_id}
    )
    for interview in interviews:
        interview.campaign = by_pk[interview.campaign_id]
        interview.collaborator = people[interview.collaborator_id]
        interview.manager = people[interview.manager_id]
        if interview.second_approver_id:
            interview.second_approver = people[interview.second_approver_id]
    hr = _hr_people(campaigns)
    rules_of = {pk: _rules_of(c) or {} for pk, c in by_pk.items()}
    second = _second_approvers(
        [i for i in interviews if rules_of[i.campaign_id].get("escalate_after")]
    )
    last: dict[tuple[int, int], dt.date] = {
        (interview_id, member_id): day
        for interview_id, member_id, day in StepReminder.objects.filter(
            interview__campaign_id__in=list(by_pk), interview__status=InterviewStatus.CLOSING
        )
        .order_by()
        .values_list("interview_id", "member_id")
        .annotate(last=Max("day"))
    }
    due: list[_Due] = []
    for interview in interviews:
        campaign = interview.campaign
        plan = rules_of[campaign.pk]
        due_at = interview.step_due_at()
        if due_at is None or interview.step_started_at is None:
            continue
        org_tz = campaign.organisation.tzinfo
        actors = _actors(interview, hr[campaign.pk], second)
        asked: list[tuple[Member, str, str, int | None]] = [
            (member, "before_or_late", "interview_step_reminder", None) for member in actors
        ]
        n2 = second.get(interview.pk)
        if plan.get("escalate_after") and n2 is not None:
            asked.append((n2, "escalated", "interview_escalation", plan["escalate_after"]))
        if plan.get("hr_after"):
            for person in hr[campaign.pk]:
                asked.append((person, "hr", "interview_escalation", plan["hr_after"]))
        actor_ids = {m.pk for m in actors}
        seen: set[int] = set()
        for member, stage, key, first in asked:
            if member.pk in seen or not member.is_active:
                continue
            if first is not None and member.pk in actor_ids:
                continue  # the actor is reminded of their own step, not told it is late
            seen.add(member.pk)
            today = _local_day(now, member, org_tz)
            due_day = _local_day(due_at, member, org_tz)
            start = (_local_day(interview.step_started_at, member, org_tz) - due_day).days
            late = (today - due_day).days
            if first is None:
                milestone = latest_milestone(
                    late=late,
                    start=start,
                    offsets=[-d for d in plan.get("before") or []],
                    every=plan.get("every_after"),
                )
            else:
                milestone = latest_milestone(
                    late=late, start=start, offsets=(), every=plan.get("every_after"), first=first
                )
            if milestone is None:
                continue
            milestone_day = due_day + dt.timedelta(days=milestone)
            sent = last.get((interview.pk, member.pk))
            if sent is not None and sent >= milestone_day:
                continue
            if first is None:
                stage = "late" if milestone > 0 else "before"
            due.append(_Due(member, interview, stage, key, today, milestone_day, late, due_at))
    # escalations and the latest first: one reminder a person a day, the most urgent one
    order = {"hr": 0, "escalated": 1, "late": 2, "before": 3}
    due.sort(key=lambda d: (order[d.stage], -d.late, d.interview.pk))
    return due


def _step_values(item: _Due) -> dict[str, object]:
    from .services import interview_url

    interview, member = item.interview, item.member
    tz = zone_or_default(member.timezone, interview.campaign.organisation.tzinfo)
    if item.stage == "planning":
        with translation.override(member.language):
            return {
                "campaign": interview.campaign.name,
                "interviews": interview_lines(item.pending, tz),
                "link": interviews_link(interview.campaign, ALL_PENDING, member),
            }
    step = interview.waiting_step or {}
    end = localtime_or_utc(item.due_at, tz).date() if item.due_at else None
    with translation.override(member.language):
        return {
            "campaign": interview.campaign.name,
            "collaborator": interview.collaborator.full_name or interview.collaborator.email,
            "step": str(CircuitRole(step["role"]).label) if step.get("role") else "",
            "end_date": formats.date_format(end, "DATE_FORMAT") if end else "",
            "link": interview_url(interview),
        }


def step_reminders_run(*, now: dt.datetime | None = None) -> int:
    """The clock's step: every staged reminder due, at most one per person per day across
    every campaign (StepReminder, unique member + day, inserted in the transaction that
    enqueues the e-mail). Returns how many were sent."""
    from cohorte.messaging import services as messaging

    now = now or timezone.now()
    items = step_reminders_due(now=now)
    if not items:
        return 0
    taken = set(
        StepReminder.objects.filter(
            member_id__in={i.member.pk for i in items}, day__in={i.day for i in items}
        ).values_list("member_id", "day")
    )
    texts: dict[tuple[int, str], Any] = {}
    chosen = []
    for item in items:
        if (item.member.pk, item.day) in taken:
            continue
        taken.add((item.member.pk, item.day))
        chosen.append(item)
    sent = 0
    for start in range(0, len(chosen), STEP_CHUNK):
        with transaction.atomic():
            emails = []
            for item in chosen[start : start + STEP_CHUNK]:
                # the unique (member, day) decides, also against another worker: its insert
                # waits for ours to commit, then finds the row and sends nothing
                _row, created = StepReminder.objects.get_or_create(
                    member=item.member,
                    day=item.day,
                    defaults={"interview": item.interview, "stage": item.stage, "at": now},
                )
                if not created:
                    continue
                organisation_id = item.interview.campaign.organisation_id
                if (organisation_id, item.key) not in texts:
                    texts[(organisation_id, item.key)] = messaging.system_text(
                        organisation_id=organisation_id, key=item.key
                    )
                emails.append(
                    outbox_row(
                        text=texts[(organisation_id, item.key)],
                        organisation_id=organisation_id,
                        member=item.member,
                        values=_step_values(item),
                    )
                )
                sent += 1
            outbox_write(emails)
    return sent
