"""Meetings evaluated by both sides (issue 12, §3).

The promise: a 1:1 meeting counts as « confirmé » (in the activity table's counters, the
progress and the mentoring hours) only when both sides — the mentor and the mentee of its
relationship, or else every attendee — said it took place; one « non » makes it « non
tenu ». Each attendee is asked once, after the end, by the « Comment s'est passée votre
rencontre ? » system message (queued through the outbox, at most once per attendee however
often the scheduler runs) and in « À faire ». A manager's « Marquer comme tenue » is an
audited override that evaluations no longer move; so is a meeting recorded as already held.

A group session (masterclass, private group) takes each attendee's evaluation the same way —
their rating and comment are theirs to give — but nobody is asked for it and their answers
do not decide its status: a manager marks it held or not held.
"""

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import zone_or_default
from cohorte.core.todo import TodoItem

from .models import (
    EVALUATION_COMMENT_MAX,
    EVALUATION_WAIT_DAYS,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
)
from .signals import meetings_changed

#: how far back the scheduler looks for meetings that ended without their message: a meeting
#: older than this when the feature ships (or the worker was down longer) is not asked about
FEEDBACK_LOOKBACK = dt.timedelta(days=EVALUATION_WAIT_DAYS)
#: the « À faire » items of one member, at most (the header counts them on every page)
TODO_LIMIT = 20


class EvaluationRefused(Exception):
    """An evaluation that cannot be taken: `status` is the API's answer (403, 409)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def sides_of(meeting: Meeting, attendances: Iterable[MeetingAttendee]) -> list[MeetingAttendee]:
    """The attendances whose answers decide: the pair of a relationship's meeting (an
    administrator who sat in does not decide), else every attendee."""
    rows = list(attendances)
    relationship = meeting.relationship
    if relationship is not None:
        pair = {relationship.mentor_id, relationship.mentee_id}
        decided = [a for a in rows if a.member_id in pair]
        if decided:
            return decided
    return rows


def status_from(meeting: Meeting, attendances: Iterable[MeetingAttendee]) -> str:
    """The stored status the evaluations give a 1:1 meeting: one « non » → not held, every
    side « oui » → confirmed, else it stays scheduled (shown « En attente d'évaluation »)."""
    sides = sides_of(meeting, attendances)
    if any(a.took_place is False for a in sides):
        return MeetingStatus.NOT_HELD
    if sides and all(a.took_place is True for a in sides):
        return MeetingStatus.CONFIRMED
    return MeetingStatus.SCHEDULED


def evaluation_check(*, meeting: Meeting, member: Member, now: dt.datetime) -> MeetingAttendee:
    """The attendance this member evaluates, or why not: not an attendee (403: the caller can
    see the meeting, as a manager), cancelled or not over yet (409)."""
    attendance = MeetingAttendee.objects.filter(meeting=meeting, member=member).first()
    if attendance is None:
        raise EvaluationRefused(403, _("Seuls les participants de la rencontre l'évaluent."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise EvaluationRefused(409, _("Cette rencontre a été annulée."))
    if not meeting.has_ended(now):
        raise EvaluationRefused(
            409, _("Cette rencontre n'est pas terminée : évaluez-la après sa fin.")
        )
    return attendance


@transaction.atomic
def meeting_evaluate(
    *,
    meeting: Meeting,
    member: Member,
    took_place: bool,
    rating: int | None = None,
    comment: str = "",
    now: dt.datetime | None = None,
) -> MeetingAttendee:
    """An attendee's evaluation, once per attendee (a repeat replaces it). A 1:1 meeting's
    status follows both sides' answers, unless a manager overrode it; the counters of both
    follow in the same transaction."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if rating is not None and not 1 <= rating <= 5:
        errors["rating"] = [_("La note va de 1 à 5.")]
    comment = comment.strip()
    if len(comment) > EVALUATION_COMMENT_MAX:
        errors["comment"] = [
            _("Le commentaire fait %(n)d caractères au plus.") % {"n": EVALUATION_COMMENT_MAX}
        ]
    if "\x00" in comment:
        errors["comment"] = [_("Caractère nul (\\0) interdit.")]
    if errors:
        raise ValidationError(errors)
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("program__organisation", "relationship")
        .get(pk=meeting.pk)
    )
    attendance = evaluation_check(meeting=meeting, member=member, now=now)
    old = {"took_place": attendance.took_place, "rating": attendance.rating}
    attendance.took_place, attendance.rating = took_place, rating
    attendance.comment, attendance.evaluated_at = comment, now
    attendance.save(update_fields=["took_place", "rating", "comment", "evaluated_at"])
    log_action(
        "meeting.evaluated",
        actor=member,
        target=meeting,
        data={"old": old, "new": {"took_place": took_place, "rating": rating}},
    )
    if meeting.kind == MeetingKind.ONE_TO_ONE and not meeting.status_overridden:
        attendances = list(meeting.attendances.all())
        status = status_from(meeting, attendances)
        if status != meeting.status:
            _status_set(meeting, status, member_ids=[a.member_id for a in attendances])
    return attendance


def _status_set(meeting: Meeting, status: str, *, member_ids: list[int]) -> None:
    """Store the status, then every count that reads it: the activity table's counters
    (through meetings_changed) and the members' mentoring hours."""
    from .services import member_counters_refresh

    meeting.status = status
    meeting.save(update_fields=["status", "updated_at"])
    meetings_changed.send(Meeting, program=meeting.program, member_ids=member_ids)
    member_counters_refresh(member_ids=member_ids)


@transaction.atomic
def meeting_override(*, meeting: Meeting, by: Member, held: bool) -> Meeting:
    """« Marquer comme tenue » (or « non tenue »): the manager decides for a past meeting,
    whatever its evaluations say; audited with the status before and after."""
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("program__organisation")
        .get(pk=meeting.pk)
    )
    if meeting.status == MeetingStatus.CANCELLED or meeting.starts_at > timezone.now():
        raise ValidationError(
            _("Seule une rencontre passée et non annulée peut être marquée comme tenue.")
        )
    status = MeetingStatus.CONFIRMED if held else MeetingStatus.NOT_HELD
    if meeting.status != status or not meeting.status_overridden:
        old = meeting.status
        meeting.status_overridden = True
        meeting.save(update_fields=["status_overridden", "updated_at"])
        log_action(
            "meeting.held" if held else "meeting.not_held",
            actor=by,
            target=meeting,
            data={"old": old, "new": status, "override": True},
        )
        if old != status:
            member_ids = list(meeting.attendances.values_list("member_id", flat=True))
            _status_set(meeting, status, member_ids=member_ids)
    return meeting


# --- Asking: the system message after the end, and « À faire » ------------------------------


def _partner_names(attendances: Iterable[MeetingAttendee], member_id: int) -> str:
    return _(" et ").join(a.member.full_name for a in attendances if a.member_id != member_id)


def evaluation_url(meeting: Meeting) -> str:
    return reverse("meetings:evaluate", args=[meeting.pk])


def feedback_send_due(*, now: dt.datetime | None = None) -> int:
    """« Comment s'est passée votre rencontre ? » to each attendee of every 1:1 meeting that
    ended (in the last FEEDBACK_LOOKBACK) and that they have not evaluated. Each attendance
    is claimed by a conditional UPDATE in the transaction that queues its e-mail, so two
    runs at once, or a retry, never send it twice."""
    from cohorte.messaging import services as messaging

    now = now or timezone.now()
    due = list(
        MeetingAttendee.objects.filter(
            feedback_sent_at__isnull=True,
            evaluated_at__isnull=True,
            meeting__kind=MeetingKind.ONE_TO_ONE,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__gte=now - FEEDBACK_LOOKBACK,
            meeting__starts_at__lte=now,
            member__is_active=True,
            member__archived_at__isnull=True,
        )
        .select_related("meeting__program__organisation", "member")
        .order_by("meeting__starts_at", "pk")[:2000]
    )
    sent = 0
    for attendance in due:
        meeting = attendance.meeting
        if not meeting.has_ended(now):
            continue
        with transaction.atomic():
            claimed = MeetingAttendee.objects.filter(
                pk=attendance.pk, feedback_sent_at__isnull=True
            ).update(feedback_sent_at=now)
            if not claimed:
                continue  # another run took it
            program = meeting.program
            member = attendance.member
            others = meeting.attendances.select_related("member").order_by("pk")
            local = localtime_or_utc(
                meeting.starts_at, zone_or_default(member.timezone, program.organisation.tzinfo)
            )
            with translation.override(member.language):
                values: dict[str, object] = {
                    "partner": _partner_names(others, member.pk),
                    "date": formats.date_format(local.date(), "DATE_FORMAT"),
                    "program": program.name,
                    "sign_in_link": messaging.absolute_url(evaluation_url(meeting)),
                }
                footer = _("Évaluer la rencontre : %(url)s") % {
                    "url": messaging.absolute_url(evaluation_url(meeting))
                }
            messaging.system_email(
                organisation_id=program.organisation_id,
                key="meeting_feedback",
                member=member,
                values=values,
                footer=footer,
                program=program,
            )
            sent += 1
    return sent


def evaluation_items(member: Member) -> list[TodoItem]:
    """« À faire »: the member's 1:1 meetings that are over and that they have not evaluated,
    dated by the end of the wait (two queries)."""
    if not member.is_authenticated:
        return []
    now = timezone.now()
    waiting = list(
        MeetingAttendee.objects.filter(
            member=member,
            evaluated_at__isnull=True,
            meeting__kind=MeetingKind.ONE_TO_ONE,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__lte=now,
            meeting__starts_at__gte=now - dt.timedelta(days=EVALUATION_WAIT_DAYS * 4),
        )
        .select_related("meeting__program__organisation")
        .order_by("meeting__starts_at", "pk")[:TODO_LIMIT]
    )
    meetings = [a.meeting for a in waiting if a.meeting.has_ended(now)]
    people: dict[int, list[MeetingAttendee]] = {}
    for other in (
        MeetingAttendee.objects.filter(meeting__in=[m.pk for m in meetings])
        .exclude(member=member)
        .select_related("member")
        .order_by("pk")
    ):
        people.setdefault(other.meeting_id, []).append(other)
    items = []
    for meeting in meetings:
        local = localtime_or_utc(
            meeting.starts_at,
            zone_or_default(member.timezone, meeting.program.organisation.tzinfo),
        )
        partner = _partner_names(people.get(meeting.pk, []), member.pk)
        items.append(
            TodoItem(
                kind="evaluation",
                title=_("Évaluez votre rencontre avec %(partner)s") % {"partner": partner}
                if partner
                else _("Évaluez votre rencontre"),
                url=evaluation_url(meeting),
                due_at=meeting.ends_at + dt.timedelta(days=EVALUATION_WAIT_DAYS),
                detail=f"{meeting.program.name} · " + formats.date_format(local, "DATETIME_FORMAT"),
            )
        )
    return items
