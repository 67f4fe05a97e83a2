"""What « Mon espace » reads: each section is one or two queries, bounded, whatever the
member's history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from cohorte.core.parse import zone_or_default
from cohorte.core.todo import TodoItem, items_for

from .kinds import TODO_KINDS
from .windows import ShownWindow, windows_in_zone

if TYPE_CHECKING:
    from cohorte.accounts.models import Member
    from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
    from cohorte.messaging.models import Notification

#: how long the header's « À faire » count is kept per member (the space page refreshes it,
#: and what the space changes clears it)
TODO_COUNT_SECONDS = 60
UPCOMING_MAX = 20
PAST_MAX = 10
NOTIFICATIONS_MAX = 5
RELATIONSHIPS_MAX = 20


def member_zone(member: Member) -> dt.tzinfo:
    """The member's own time zone; none or a bad stored name: their organisation's."""
    fallback: dt.tzinfo = dt.UTC
    if member.organisation_id is not None and member.organisation is not None:
        fallback = member.organisation.tzinfo
    return zone_or_default(member.timezone, fallback)


def active_program_ids(member: Member) -> list[int]:
    return list(
        member.enrolments.filter(ended_at__isnull=True).values_list("program_id", flat=True)
    )


def is_bookable(member: Member) -> bool:
    """Others can book a meeting with them: in a current relationship, or a mentor or a
    professional of a programme they are still in."""
    from cohorte.meetings.models import Relationship, RelationshipStatus
    from cohorte.programs.models import Role

    if Relationship.objects.filter(
        Q(mentor=member) | Q(mentee=member), status=RelationshipStatus.MATCHED
    ).exists():
        return True
    return member.enrolments.filter(
        ended_at__isnull=True, role__in=(Role.MENTOR, Role.PROFESSIONAL)
    ).exists()


def _label(member: Member, name: str) -> str:
    return str(getattr(member._meta.get_field(name), "verbose_name", name))


@dataclass(frozen=True)
class MissingField:
    label: str
    #: the form field's id on the profile page, to land on it
    anchor: str


def missing_profile_fields(member: Member) -> list[MissingField]:
    """The fields completion counts that are still empty and that the member may fill
    themselves (an « administrateur seulement » field is left to the administrator), in
    the profile form's order. Two queries."""
    from cohorte.accounts.models import CustomField
    from cohorte.accounts.services import (
        CORE_COMPLETION_FIELDS,
        NULLABLE_FIELDS,
        ROLE_COMPLETION_FIELDS,
    )

    missing = []
    for name in CORE_COMPLETION_FIELDS + ROLE_COMPLETION_FIELDS.get(member.role, ()):
        value = getattr(member, name)
        if (value is None) if name in NULLABLE_FIELDS else not value:
            label = _label(member, name)
            missing.append(MissingField(label, f"id_{name}"))
    required = [
        field
        for field in CustomField.objects.filter(
            organisation_id=member.organisation_id or 0,
            required=True,
            admin_only=False,
            in_profile=True,
        )
        if field.applies_to(member.role)
    ]
    if required:
        answered = set(
            member.field_values.filter(field__in=required)
            .exclude(value="")
            .values_list("field_id", flat=True)
        )
        missing += [
            MissingField(field.name, f"id_custom_{field.pk}")
            for field in required
            if field.pk not in answered
        ]
    return missing


def _count_key(member_id: int) -> str:
    return f"space:todo-count:{member_id}"


def _urgency(item: TodoItem) -> tuple:
    """Dated items first, by due date; then the others by how much their kind waits
    (kinds.TODO_KINDS: someone waiting for an answer before their own profile)."""
    rank = TODO_KINDS.index(item.kind) if item.kind in TODO_KINDS else len(TODO_KINDS)
    if item.due_at is None:
        return (1, 0.0, rank)
    return (0, item.due_at.timestamp(), rank)


def todo_items(member: Member) -> list[TodoItem]:
    """The items, fresh, most urgent first; the header's count is set from them at the
    same time."""
    items = sorted(items_for(member), key=_urgency)
    cache.set(_count_key(member.pk), len(items), TODO_COUNT_SECONDS)
    return items


def todo_count(member: Member) -> int:
    """The header's count: every provider's items, at most once a minute per member."""
    count = cache.get(_count_key(member.pk))
    if count is None:
        count = len(todo_items(member))
    return count


def todo_count_forget(member_id: int) -> None:
    """After the member did something on the list: the next page counts again."""
    cache.delete(_count_key(member_id))


def _meeting_rows(member: Member) -> QuerySet[MeetingAttendee]:
    from cohorte.meetings.models import MeetingAttendee

    return MeetingAttendee.objects.filter(member=member).select_related(
        "meeting__program", "meeting__led_by"
    )


def _with_others(rows: list[MeetingAttendee]) -> list[MeetingAttendee]:
    """Each row's meeting with the other attendees (one query for all of them)."""
    from cohorte.meetings.models import MeetingAttendee

    ids = [row.meeting_id for row in rows]
    others: dict[int, list[MeetingAttendee]] = {}
    for attendance in (
        MeetingAttendee.objects.filter(meeting_id__in=ids)
        .select_related("member")
        .order_by("meeting_id", "pk")
    ):
        others.setdefault(attendance.meeting_id, []).append(attendance)
    for row in rows:
        row.others = [  # type: ignore[attr-defined]
            a for a in others.get(row.meeting_id, []) if a.member_id != row.member_id
        ]
    return rows


def upcoming_meetings(member: Member) -> list[MeetingAttendee]:
    """Their meetings still to come (not cancelled), soonest first."""
    from cohorte.meetings.models import MeetingStatus

    rows = list(
        _meeting_rows(member)
        .filter(meeting__starts_at__gte=timezone.now())
        .exclude(meeting__status=MeetingStatus.CANCELLED)
        .order_by("meeting__starts_at", "meeting_id")[:UPCOMING_MAX]
    )
    return _with_requests(_with_others(rows), member)


def _with_requests(rows: list[MeetingAttendee], member: Member) -> list[MeetingAttendee]:
    """When they asked to move each meeting, for its current time (the request is kept in
    the audit log, by meeting sequence): one query for all of them."""
    from cohorte.core.models import AuditEntry
    from cohorte.meetings.models import Meeting

    asked: dict[tuple[str, object], dt.datetime] = {}
    for target_id, data, at in AuditEntry.objects.filter(
        action="meeting.reschedule_requested",
        actor=member,
        target_type=Meeting._meta.label_lower,
        target_id__in=[str(row.meeting_id) for row in rows],
    ).values_list("target_id", "data", "created_at"):
        asked[(target_id, (data or {}).get("sequence"))] = at
    for row in rows:
        row.reschedule_asked_at = asked.get(  # type: ignore[attr-defined]
            (str(row.meeting_id), row.meeting.sequence)
        )
    return rows


def past_meetings(member: Member) -> list[MeetingAttendee]:
    """Their last meetings, the newest first, each with the status the « Rencontres » tab
    shows (a scheduled one that is over waits for its evaluations) and whether they can
    still say if it took place."""
    now = timezone.now()
    rows = list(
        _meeting_rows(member)
        .filter(meeting__starts_at__lt=now)
        .order_by("-meeting__starts_at", "-meeting_id")[:PAST_MAX]
    )
    for row in rows:
        row.shown, row.shown_label = shown_status(row.meeting, now)  # type: ignore[attr-defined]
        row.evaluable = evaluable(row, now)  # type: ignore[attr-defined]
    return _with_others(rows)


def shown_status(meeting: Meeting, now: dt.datetime) -> tuple[str, str]:
    """The status a member reads, in the « Rencontres » tab's words (a scheduled meeting
    that is over waits for its evaluations), and « En ce moment » while it runs."""
    from django.utils.translation import gettext as _

    shown = meeting.shown_status(now)
    if shown == "scheduled" and meeting.starts_at <= now:
        return "running", _("En ce moment")
    words = {
        "scheduled": _("Programmée"),
        "awaiting_evaluation": _("En attente d'évaluation"),
        "confirmed": _("Tenue"),
        "not_held": _("Non tenue"),
        "cancelled": _("Annulée"),
    }
    return shown, words.get(shown, shown)


def evaluable(attendance: MeetingAttendee, now: dt.datetime) -> bool:
    """They may say whether it took place: a 1:1 meeting that is over and not cancelled
    (the rule of meetings.evaluations.evaluation_check, and the kind « À faire » asks)."""
    from cohorte.meetings.models import MeetingKind, MeetingStatus

    meeting = attendance.meeting
    return (
        meeting.kind == MeetingKind.ONE_TO_ONE
        and meeting.status != MeetingStatus.CANCELLED
        and meeting.has_ended(now)
    )


def relationships_of(member: Member) -> QuerySet[Relationship]:
    """Their relationships, current first, each with both people and their weekly windows."""
    from cohorte.meetings.models import Availability, Relationship

    windows = Availability.objects.order_by("weekday", "start")
    return (
        Relationship.objects.filter(Q(mentor=member) | Q(mentee=member))
        .select_related("program", "mentor__organisation", "mentee__organisation")
        .prefetch_related(
            Prefetch("mentor__availabilities", queryset=windows),
            Prefetch("mentee__availabilities", queryset=windows),
        )
        .order_by("-status", "-created_at", "-pk")  # « matched » before « completed »
    )


def relationship_of(member: Member, relationship_id: int) -> Relationship | None:
    """One of their own relationships, or None (another person's is nobody's business)."""
    return relationships_of(member).filter(pk=relationship_id).first()


def partner_in(relationship: Relationship, member: Member) -> Member:
    return relationship.mentee if relationship.mentor_id == member.pk else relationship.mentor


def windows_of(partner: Member, *, seen_by: Member) -> list[ShownWindow]:
    """The partner's weekly windows (prefetched) in `seen_by`'s time zone, this week."""
    target = member_zone(seen_by)
    return windows_in_zone(
        partner.availabilities.all(),
        source=member_zone(partner),
        target=target,
        week_of=timezone.localdate(timezone=target),
    )


def recent_notifications(member: Member) -> list[Notification]:
    from cohorte.messaging.models import Notification

    return list(Notification.objects.filter(member=member)[:NOTIFICATIONS_MAX])


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


#: what a partner reads of the other's profile (never their e-mail log, nor admin-only fields)
SHARED_FIELDS = (
    "job_title",
    "company",
    "industry",
    "years_experience",
    "city",
    "country",
    "goals",
    "skills",
    "development_areas",
    "linkedin",
)


def shared_fields_of(partner: Member) -> list[Fact]:
    """The filled fields of their profile a partner may read: the core ones and the custom
    fields shown in profiles (not the administrator-only ones). Two queries."""
    from cohorte.accounts.models import CustomField

    facts = [
        Fact(_label(partner, name), str(getattr(partner, name)))
        for name in SHARED_FIELDS
        if getattr(partner, name) not in (None, "")
    ]
    fields = {
        f.pk: f
        for f in CustomField.objects.filter(
            organisation_id=partner.organisation_id or 0, in_profile=True, admin_only=False
        )
    }
    values: dict[int, list[str]] = {}
    for field_id, value in (
        partner.field_values.filter(field_id__in=list(fields))
        .values_list("field_id", "value")
        .order_by("pk")
    ):
        if value:
            values.setdefault(field_id, []).append(value)
    facts += [Fact(fields[pk].name, ", ".join(v)) for pk, v in values.items()]
    return facts


def meetings_together(member: Member, relationship: Relationship) -> list[MeetingAttendee]:
    """Their meetings in this relationship, the newest first, with their shown status."""
    now = timezone.now()
    rows = list(
        _meeting_rows(member)
        .filter(meeting__relationship=relationship)
        .order_by("-meeting__starts_at", "-meeting_id")[: PAST_MAX * 2]
    )
    for row in rows:
        row.shown, row.shown_label = shown_status(row.meeting, now)  # type: ignore[attr-defined]
    return rows
