import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.models import Job
from cohorte.meetings.models import MeetingAttendee, MeetingStatus
from cohorte.messaging import services as messaging
from cohorte.messaging.models import ReminderRule, ReminderRuleKind, ReminderSent
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

from . import counters
from .counters import IngestResult
from .models import ActivityEvent, Conversation, EventKind, ParticipantStats, Report

STATS_FIELDS = ["profiles_visited", "professionals_contacted", "confirmed_meetings", "last_access"]


def stats_refresh(*, program: Program, member_ids: Iterable[int] | None = None) -> int:
    """Recompute the counters of some (or all) enrolments of a programme from the events and
    meetings inside its dates (the rule is in `counters`): set-based, a few index probes per
    member; every enrolment is done in chunks, one transaction each."""
    if member_ids is None:
        return counters.counters_rebuild(program=program)
    return counters.counters_recompute(program=program, member_ids=member_ids)


def counters_rebuild_start(*, program: Program, by: Member | None = None) -> Job:
    """Rebuild every counter of the programme in the background (its dates changed)."""
    from .tasks import program_counters_rebuild

    return counters.counters_rebuild_start(program=program, task=program_counters_rebuild, by=by)


counters_rebuild_work = counters.counters_rebuild_work


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


def events_ingest(*, program: Program, items: Sequence[EventItem]) -> IngestResult:
    """Store a validated batch all at once. A client_id seen before (in this batch or an
    earlier one) is skipped, so a retried batch never counts twice."""
    return counters.events_store(
        program=program,
        rows=[
            (item.actor.pk, str(item.kind), item.target.pk if item.target else None,
             item.occurred_at, item.client_id)
            for item in items
        ],
    )  # fmt: skip


@transaction.atomic
def report_create(*, program: Program, member: Member, reported_by: Member, reason: str) -> Report:
    report = Report.objects.create(
        program=program, member=member, reported_by=reported_by, reason=reason
    )
    log_action("participant.reported", actor=reported_by, target=member, data={"reason": reason})
    return report


#: a resolution's comment: a few paragraphs at most
MAX_RESOLUTION = 2000


@transaction.atomic
def report_resolve(*, report: Report, by: Member, comment: str) -> Report:
    """« Traité »: the manager dealt with the report. The ❗ no longer counts it; the report,
    who resolved it, when and why stay in the participant's history and the audit log. A
    repeat changes nothing (the first resolution stands)."""
    comment = (comment or "").strip()
    if len(comment) > MAX_RESOLUTION:
        raise ValidationError({"comment": [_("%(n)s caractères au plus.") % {"n": MAX_RESOLUTION}]})
    current = Report.objects.select_for_update().get(pk=report.pk)
    if current.resolved_at is not None:
        return current
    current.resolved_at = timezone.now()
    current.resolved_by = by
    current.resolution_comment = comment
    current.save(update_fields=["resolved_at", "resolved_by", "resolution_comment"])
    log_action(
        "participant.report_resolved",
        actor=by,
        target=current.member,
        data={"report": current.pk, "reason": current.reason, "comment": comment},
    )
    return current


@transaction.atomic
def conversation_follow_up(*, conversation: Conversation, by: Member) -> Conversation:
    """« Marquer comme suivie »: answered outside the platform. The participant's next
    message raises the ❗ again."""
    conversation.followed_up_at = timezone.now()
    conversation.followed_up_by = by
    conversation.save(update_fields=["followed_up_at", "followed_up_by"])
    log_action(
        "participant.conversation_followed_up",
        actor=by,
        target=conversation.participant,
        data={"professional": conversation.professional_id},
    )
    return conversation


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


def reminder_key(program: Program) -> str:
    """The reminder's text follows the programme's status: never « en cours jusqu'au » a
    date already past."""
    from cohorte.programs.models import ProgramStatus

    if program.status == ProgramStatus.FINISHED:
        return "reminder_participant_ended"
    return "reminder_participant"


def default_reminder(*, program: Program, member: Member) -> tuple[str, str]:
    """Subject and body of a reminder as this member will read it (the organisation's
    « Relance d'un participant » template, in their language)."""
    stats = ParticipantStats.objects.filter(
        enrolment__program=program, enrolment__member=member
    ).first()
    text = messaging.system_text(organisation_id=program.organisation_id, key=reminder_key(program))
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
    key = reminder_key(program)
    text = messaging.system_text(organisation_id=program.organisation_id, key=key)
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
            key=key,
            member=member,
            values=_reminder_values(program, member, confirmed.get(member.pk, 0)),
            note=note,
            text=text,
            program=program,
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
            program=program,
        )


def reminder_rules_run(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(
        len(reminder_rule_run(rule=rule, now=now))
        for rule in ReminderRule.objects.filter(active=True).order_by("pk")
    )
