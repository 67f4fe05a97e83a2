import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import formats, timezone, translation

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.meetings.models import MeetingAttendee, MeetingStatus
from cohorte.messaging import services as messaging
from cohorte.messaging.models import ReminderRule, ReminderRuleKind, ReminderSent
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

from .models import ACCESS_KINDS, ActivityEvent, Conversation, EventKind, ParticipantStats, Report

STATS_FIELDS = ["profiles_visited", "professionals_contacted", "confirmed_meetings", "last_access"]


def stats_refresh(*, program: Program, member_ids: Iterable[int] | None = None) -> int:
    """Recompute the counters of some (or all) enrolments of a programme from the events and
    meetings inside its dates: a few GROUP BY queries over the programme (each one index
    range scan, whatever the number of participants), then one upsert."""
    start, end = program.window()
    enrolments = Enrolment.objects.filter(program=program)
    events = ActivityEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end).order_by()
    attendances = MeetingAttendee.objects.filter(
        meeting__program=program,
        meeting__status=MeetingStatus.CONFIRMED,
        meeting__starts_at__gte=start,
        meeting__starts_at__lt=end,
    ).order_by()
    if member_ids is not None:
        member_ids = list(member_ids)
        enrolments = enrolments.filter(member_id__in=member_ids)
        events = events.filter(actor_id__in=member_ids)
        attendances = attendances.filter(member_id__in=member_ids)
        members_in_program: Iterable[int] | QuerySet = member_ids
    else:
        members_in_program = enrolments.values("member_id")
    enrolment_of = dict(enrolments.values_list("member_id", "pk"))

    distinct: dict[tuple[int, str], int] = {
        (actor, kind): n
        for actor, kind, n in events.filter(
            program=program, kind__in=[EventKind.PROFILE_VIEW, EventKind.CONTACT]
        )
        .values("actor", "kind")
        .annotate(n=Count("target", distinct=True) + Count("pk", filter=Q(target__isnull=True)))
        .values_list("actor", "kind", "n")
    }
    last_access: dict[int, dt.datetime] = {}
    for scoped in (
        # platform sign-ins (no programme) of this programme's members…
        events.filter(
            kind=EventKind.SIGN_IN, program__isnull=True, actor_id__in=members_in_program
        ),
        # …and sign-ins or course access inside the programme
        events.filter(kind__in=ACCESS_KINDS, program=program),
    ):
        for actor, latest in (
            scoped.values("actor").annotate(m=Max("occurred_at")).values_list("actor", "m")
        ):
            if actor not in last_access or last_access[actor] < latest:
                last_access[actor] = latest
    confirmed = dict(
        attendances.values("member").annotate(n=Count("pk")).values_list("member", "n")
    )
    stats = [
        ParticipantStats(
            enrolment_id=enrolment_id,
            profiles_visited=distinct.get((member_id, EventKind.PROFILE_VIEW), 0),
            professionals_contacted=distinct.get((member_id, EventKind.CONTACT), 0),
            confirmed_meetings=confirmed.get(member_id, 0),
            last_access=last_access.get(member_id),
        )
        for member_id, enrolment_id in enrolment_of.items()
    ]
    ParticipantStats.objects.bulk_create(
        stats,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["enrolment"],
        update_fields=[*STATS_FIELDS, "updated_at"],
    )
    return len(stats)


def stats_refresh_member(member: Member) -> None:
    """A platform-wide event (a sign-in) touches every programme the member is in."""
    for program in Program.objects.filter(enrolments__member=member).select_related("organisation"):
        stats_refresh(program=program, member_ids=[member.pk])


@transaction.atomic
def sign_in_record(*, member: Member, at: dt.datetime | None = None) -> ActivityEvent:
    at = at or timezone.now()
    event = ActivityEvent.objects.create(actor=member, kind=EventKind.SIGN_IN, occurred_at=at)
    Member.objects.filter(pk=member.pk).update(last_access=at)
    stats_refresh_member(member)
    return event


@dataclass
class EventItem:
    """One validated event of a batch, with its members resolved."""

    actor: Member
    kind: str
    occurred_at: dt.datetime
    target: Member | None = None
    client_id: str | None = None


@dataclass
class IngestResult:
    created: int
    ignored: int


@transaction.atomic
def events_ingest(*, program: Program, items: Sequence[EventItem]) -> IngestResult:
    """Store a validated batch all at once. A client_id seen before (in this batch or an
    earlier one) is skipped, so a retried batch never counts twice."""
    client_ids = {item.client_id for item in items if item.client_id}
    seen = (
        set(
            ActivityEvent.objects.filter(program=program, client_id__in=client_ids).values_list(
                "client_id", flat=True
            )
        )
        if client_ids
        else set()
    )
    fresh: list[ActivityEvent] = []
    for item in items:
        if item.client_id:
            if item.client_id in seen:
                continue
            seen.add(item.client_id)
        fresh.append(
            ActivityEvent(
                program=program,
                actor=item.actor,
                kind=item.kind,
                target=item.target,
                occurred_at=item.occurred_at,
                client_id=item.client_id,
            )
        )
    # A concurrent retry of the same batch may commit between our check and this insert:
    # the unique (program, client_id) index then skips its rows instead of failing. The
    # counters below are recomputed from what is stored, so they stay right either way.
    ActivityEvent.objects.bulk_create(fresh, batch_size=2000, ignore_conflicts=True)
    _conversations_update(program=program, events=fresh)
    actor_ids = {event.actor_id for event in fresh}
    access_ids = {event.actor_id for event in fresh if event.kind in ACCESS_KINDS}
    if access_ids:
        _last_access_update(access_ids)
    if actor_ids:
        stats_refresh(program=program, member_ids=actor_ids)
    return IngestResult(created=len(fresh), ignored=len(items) - len(fresh))


def _last_access_update(member_ids: set[int]) -> None:
    latest = (
        ActivityEvent.objects.filter(actor=OuterRef("pk"), kind__in=ACCESS_KINDS)
        .order_by()
        .values("actor")
        .annotate(m=Max("occurred_at"))
        .values("m")[:1]
    )
    Member.objects.filter(pk__in=member_ids).update(last_access=Subquery(latest))


def _conversations_update(*, program: Program, events: Sequence[ActivityEvent]) -> None:
    """A participant's message opens (or re-opens) a conversation with the other person;
    that person's message back answers it."""
    messages = [
        (e.actor_id, e.target_id, e.occurred_at)
        for e in events
        if e.kind == EventKind.MESSAGE and e.target_id is not None
    ]
    if not messages:
        return
    member_ids = {actor for actor, _, _ in messages} | {target for _, target, _ in messages}
    participants = set(
        Enrolment.objects.filter(
            program=program, member_id__in=member_ids, role__in=PARTICIPANT_ROLES
        ).values_list("member_id", flat=True)
    )
    latest: dict[tuple[int, int], dict[str, dt.datetime]] = {}
    for actor, target, occurred_at in messages:
        if actor in participants and target not in participants:
            pair, field = (actor, target), "last_message_at"
        elif target in participants and actor not in participants:
            pair, field = (target, actor), "last_reply_at"
        else:
            continue
        times = latest.setdefault(pair, {})
        if field not in times or times[field] < occurred_at:
            times[field] = occurred_at
    if not latest:
        return
    existing = {
        (c.participant_id, c.professional_id): c
        for c in Conversation.objects.filter(
            program=program, participant_id__in={p for p, _ in latest}
        )
    }
    to_create, to_update = [], []
    for (participant_id, professional_id), times in latest.items():
        conversation = existing.get((participant_id, professional_id))
        if conversation is None:
            to_create.append(
                Conversation(
                    program=program,
                    participant_id=participant_id,
                    professional_id=professional_id,
                    **times,
                )
            )
            continue
        for field, value in times.items():
            current = getattr(conversation, field)
            if current is None or current < value:
                setattr(conversation, field, value)
        to_update.append(conversation)
    Conversation.objects.bulk_create(to_create, batch_size=1000)
    Conversation.objects.bulk_update(
        to_update, ["last_message_at", "last_reply_at"], batch_size=1000
    )


@transaction.atomic
def report_create(*, program: Program, member: Member, reported_by: Member, reason: str) -> Report:
    report = Report.objects.create(
        program=program, member=member, reported_by=reported_by, reason=reason
    )
    log_action("participant.reported", actor=reported_by, target=member, data={"reason": reason})
    return report


def _reminder_values(program: Program, member: Member, confirmed: int) -> dict[str, object]:
    with translation.override(member.language):
        end = formats.date_format(program.end_date, "DATE_FORMAT")
    return {
        "program": program.name,
        "end_date": end,
        "confirmed": confirmed,
        "objective": program.objective,
        "organisation": program.organisation.name,
    }


def default_reminder(*, program: Program, member: Member) -> tuple[str, str]:
    """Subject and body of a reminder as this member will read it (the organisation's
    « Relance d'un participant » template, in their language)."""
    stats = ParticipantStats.objects.filter(
        enrolment__program=program, enrolment__member=member
    ).first()
    text = messaging.system_text(
        organisation_id=program.organisation_id, key="reminder_participant"
    )
    values = {
        **messaging.member_values(member),
        **_reminder_values(program, member, stats.confirmed_meetings if stats else 0),
    }
    return messaging.system_render(text, language=member.language, values=values)


@transaction.atomic
def participants_remind(
    *, program: Program, members: Sequence[Member], by: Member | None, note: str = ""
) -> int:
    """Each selected participant gets one e-mail about their own progress: outbox rows
    written with the activity events, in one transaction, sent by the worker."""
    text = messaging.system_text(
        organisation_id=program.organisation_id, key="reminder_participant"
    )
    if not text.active:
        return 0
    confirmed = dict(
        ParticipantStats.objects.filter(
            enrolment__program=program, enrolment__member__in=members
        ).values_list("enrolment__member_id", "confirmed_meetings")
    )
    for member in members:
        messaging.system_email(
            organisation_id=program.organisation_id,
            key="reminder_participant",
            member=member,
            values=_reminder_values(program, member, confirmed.get(member.pk, 0)),
            note=note,
            text=text,
        )
    messaging.notify(
        members=members,
        title_fr=f"Relance : {program.name}",
        title_en=f"Reminder: {program.name}",
    )
    if by is not None:  # a person's reminder is also their activity; a rule's is not
        now = timezone.now()
        ActivityEvent.objects.bulk_create(
            [
                ActivityEvent(
                    program=program, actor=by, kind=EventKind.REMINDER, target=m, occurred_at=now
                )
                for m in members
            ]
        )
    log_action(
        "participants.reminded",
        actor=by,
        target=program,
        data={"members": [m.pk for m in members]},
    )
    return len(members)


# --- Automatic reminders ------------------------------------------------------------------


def reminder_candidates(*, rule: ReminderRule, now: dt.datetime) -> QuerySet[Member]:
    """Who a rule reaches today: exactly those in its situation, and nobody it already
    reminded in the last N days."""
    program = rule.program
    window = dt.timedelta(days=rule.days)
    situation: QuerySet[Any, Any]
    if rule.kind == ReminderRuleKind.INVITATION_UNANSWERED:
        # an invitation to an upcoming meeting, sent N days ago or more, still unanswered
        situation = MeetingAttendee.objects.filter(
            meeting__program=program,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__gt=now,
            meeting__created_at__lte=now - window,
            response="pending",
        )
    else:
        enrolments = Enrolment.objects.filter(
            program=program, ended_at__isnull=True, role__in=PARTICIPANT_ROLES
        )
        if rule.kind == ReminderRuleKind.NEVER_SIGNED_IN:
            situation = enrolments.filter(created_at__lte=now - window).filter(
                Q(stats__isnull=True) | Q(stats__last_access__isnull=True)
            )
        else:  # behind the objective, in the last N days of the programme
            today = now.astimezone(program.organisation.tzinfo).date()
            last_day = program.window()[1].date()  # within bounds, even if stored out of them
            if today < last_day - dt.timedelta(days=1) - window:
                return Member.objects.none()
            situation = enrolments.filter(
                Q(stats__isnull=True) | Q(stats__confirmed_meetings__lt=program.objective)
            )
    recently = ReminderSent.objects.filter(rule=rule, sent_at__gte=now - window).values("member_id")
    return (
        Member.objects.filter(
            pk__in=situation.values_list("member_id", flat=True),
            is_active=True,
            archived_at__isnull=True,
        )
        .exclude(pk__in=recently)
        .order_by("last_name", "first_name", "pk")
    )


def reminder_rule_run(*, rule: ReminderRule, now: dt.datetime | None = None) -> list[Member]:
    """One rule, in one transaction: the reminders go to the outbox with their trace."""
    now = now or timezone.now()
    with transaction.atomic():
        rule = (
            ReminderRule.objects.select_for_update()
            .select_related("program__organisation")
            .get(pk=rule.pk)
        )
        members: list[Member] = []
        if (
            rule.active
            and rule.program.status_on(now.astimezone(rule.program.organisation.tzinfo).date())
            == "running"
        ):
            members = list(reminder_candidates(rule=rule, now=now))
        if members:
            if rule.kind == ReminderRuleKind.INVITATION_UNANSWERED:
                _invitations_remind(rule=rule, members=members, now=now)
            else:
                participants_remind(program=rule.program, members=members, by=None)
            ReminderSent.objects.bulk_create(
                [ReminderSent(rule=rule, member=member, sent_at=now) for member in members]
            )
        rule.last_run_at = now
        rule.last_reached = [{"id": m.pk, "name": m.full_name} for m in members[:100]]
        rule.save(update_fields=["last_run_at", "last_reached"])
    return members


def _invitations_remind(*, rule: ReminderRule, members: Sequence[Member], now: dt.datetime) -> None:
    """« Relance : invitation sans réponse », one e-mail per person about their first waiting
    invitation."""
    program = rule.program
    for member in members:
        attendance = (
            MeetingAttendee.objects.filter(
                member=member,
                meeting__program=program,
                meeting__status=MeetingStatus.SCHEDULED,
                meeting__starts_at__gt=now,
                response="pending",
            )
            .select_related("meeting")
            .order_by("meeting__starts_at")
            .first()
        )
        if attendance is None:
            continue
        partner = (
            MeetingAttendee.objects.filter(meeting=attendance.meeting)
            .exclude(member=member)
            .select_related("member")
            .first()
        )
        local = attendance.meeting.starts_at.astimezone(program.organisation.tzinfo)
        with translation.override(member.language):
            date = formats.date_format(local, "DATETIME_FORMAT")
        messaging.system_email(
            organisation_id=program.organisation_id,
            key="reminder_invitation",
            member=member,
            values={
                "partner": partner.member.full_name if partner else "",
                "date": date,
                "days": (now - attendance.meeting.created_at).days,
            },
        )


def reminder_rules_run(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        len(reminder_rule_run(rule=rule, now=now))
        for rule in ReminderRule.objects.filter(active=True).order_by("pk")
    )
