"""The « À faire » items this app asks of a member: answer an invitation, complete the
profile, set an availability, sign up for a masterclass.

Each provider is a bounded number of queries whatever the member's history (the header's
count calls them on every page): an invitation is one row per series, read at most
INVITATIONS_MAX; masterclasses at most MASTERCLASSES_MAX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Case, Count, Exists, F, OuterRef, Q, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.core.moments import format_moment
from cohorte.core.todo import TodoItem

from .selectors import (
    active_program_ids,
    is_bookable,
    member_zone,
    missing_profile_fields,
)

if TYPE_CHECKING:
    from cohorte.accounts.models import Member

#: the pending invitations listed (one per series); more wait behind the first ones
INVITATIONS_MAX = 20
#: the open masterclasses suggested, soonest first
MASTERCLASSES_MAX = 3


def invitation_items(member: Member) -> list[TodoItem]:
    """A meeting they have not answered, still to come and not cancelled: one item per
    series (answering the first occurrence answers the ones after it), with whom. Two
    queries."""
    from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus, Response

    rows = (
        MeetingAttendee.objects.filter(
            member=member,
            response=Response.PENDING,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__gt=timezone.now(),
        )
        .select_related("meeting__program")
        .order_by("meeting__starts_at", "meeting_id")[: INVITATIONS_MAX * 4]
    )
    tz = member_zone(member)
    firsts: list[Meeting] = []
    seen: set[str] = set()
    for attendance in rows:
        if attendance.meeting.uid not in seen and len(firsts) < INVITATIONS_MAX:
            seen.add(attendance.meeting.uid)
            firsts.append(attendance.meeting)
    others: dict[int, list[str]] = {}
    for meeting_id, first, last in (
        MeetingAttendee.objects.filter(meeting__in=firsts)
        .exclude(member=member)
        .order_by("meeting_id", "pk")
        .values_list("meeting_id", "member__first_name", "member__last_name")
    ):
        others.setdefault(meeting_id, []).append(f"{first} {last}".strip())
    items = []
    for meeting in firsts:
        names = others.get(meeting.pk, [])
        with_whom = (
            _("avec %(names)s") % {"names": ", ".join(names[:3]) + (" …" if len(names) > 3 else "")}
            if names
            else ""
        )
        items.append(
            TodoItem(
                kind="invitation",
                title=_("Répondez à l'invitation : %(program)s, %(when)s")
                % {
                    "program": meeting.title or meeting.program.name,
                    "when": format_moment(meeting.starts_at, "WEEKDAY_DATETIME_FORMAT", tz),
                },
                url=reverse("space:home") + f"#meeting-{meeting.pk}",
                due_at=meeting.starts_at,
                detail=" · ".join(filter(None, [meeting.program.name, with_whom])),
            )
        )
    return items


def profile_items(member: Member) -> list[TodoItem]:
    """A profile under 100 %: the fields still empty, by name."""
    if member.profile_completion >= 100 or member.organisation_id is None:
        return []
    missing = missing_profile_fields(member)
    if not missing:
        return []
    return [
        TodoItem(
            kind="profile",
            title=_("Complétez votre profil (complété à %(pct)d %%)")
            % {"pct": member.profile_completion},
            url=reverse("accounts:profile") + f"#{missing[0].anchor}",
            detail=_("Manque : %(fields)s") % {"fields": ", ".join(f.label for f in missing)},
        )
    ]


def availability_items(member: Member) -> list[TodoItem]:
    """Someone others can book (in a relationship, or a mentor or professional of a current
    programme) with no weekly window: nobody can find a slot with them."""
    from cohorte.meetings.models import Availability

    if Availability.objects.filter(member=member).exists() or not is_bookable(member):
        return []
    return [
        TodoItem(
            kind="availability",
            title=_("Indiquez vos disponibilités de la semaine"),
            url=reverse("meetings:availability"),
            detail=_("Sans elles, personne ne peut vous proposer de créneau."),
        )
    ]


def masterclass_items(member: Member) -> list[TodoItem]:
    """Masterclasses of their current programmes, still to come, with room, that they have
    not joined: sign-up closes when it starts."""
    from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingKind, MeetingStatus

    programs = active_program_ids(member)
    if not programs:
        return []
    sessions = (
        Meeting.objects.filter(
            kind=MeetingKind.MASTERCLASS,
            program_id__in=programs,
            status=MeetingStatus.SCHEDULED,
            starts_at__gt=timezone.now(),
        )
        .exclude(Exists(MeetingAttendee.objects.filter(meeting=OuterRef("pk"), member=member)))
        .annotate(
            taken=Count("attendances"),
            # the leader is an attendee too: the capacity counts the others
            seats=F("capacity") + Case(When(led_by__isnull=False, then=1), default=0),
        )
        .filter(Q(capacity__isnull=True) | Q(capacity=0) | Q(taken__lt=F("seats")))
        .select_related("program")
        .order_by("starts_at", "pk")
    )
    tz = member_zone(member)
    items = []
    for session in sessions[:MASTERCLASSES_MAX]:
        items.append(
            TodoItem(
                kind="masterclass",
                title=_("Inscrivez-vous au cours de maître « %(title)s », %(when)s")
                % {
                    "title": session.title,
                    "when": format_moment(session.starts_at, "WEEKDAY_DATETIME_FORMAT", tz),
                },
                url=reverse("meetings:masterclasses") + f"#session-{session.pk}",
                due_at=session.starts_at,
                detail=session.program.name,
            )
        )
    return items


PROVIDERS = (invitation_items, profile_items, availability_items, masterclass_items)
