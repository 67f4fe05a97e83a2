"""Reads of relationships and meetings: the Relations page's tabs and the calendar."""

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from cohorte.core.parse import search_words
from cohorte.programs.models import Program
from cohorte.programs.selectors import search_members

from .models import (
    Meeting,
    MeetingKind,
    MeetingStatus,
    Relationship,
    RelationshipStatus,
)


def current_relationship(*, program: Program, mentor: Any, mentee: Any) -> Relationship | None:
    """The pair's relationship in progress in this programme, if they are matched."""
    return (
        Relationship.objects.filter(
            program=program, mentor=mentor, mentee=mentee, status=RelationshipStatus.MATCHED
        )
        .order_by("pk")
        .first()
    )


def relationship_rows(
    *, program: Program, status: str = "", q: str = "", order: str = "-created_at"
) -> QuerySet[Relationship]:
    """« Les relations »: held meetings and hours counted in the database."""
    rows = Relationship.objects.filter(program=program).select_related(
        "mentor", "mentee", "administrator"
    )
    if status:
        rows = rows.filter(status=status)
    if q.strip():
        for word in search_words(q):
            rows = rows.filter(
                Q(mentor__first_name__icontains=word) | Q(mentor__last_name__icontains=word)
                | Q(mentee__first_name__icontains=word) | Q(mentee__last_name__icontains=word)
            )  # fmt: skip
    held = Q(meetings__status=MeetingStatus.CONFIRMED)
    return rows.annotate(
        held_count=Count("meetings", filter=held),
        held_minutes=Sum("meetings__duration_minutes", filter=held, default=0),
    ).order_by(order, "-pk")


def meeting_rows(*, program: Program, q: str = "", order: str = "desc") -> QuerySet[Meeting]:
    """« Rencontres »: every meeting of the pairs, with each attendee's answer."""
    rows = Meeting.objects.filter(program=program, kind=MeetingKind.ONE_TO_ONE).select_related(
        "relationship__mentor", "relationship__mentee", "created_by"
    )
    if q.strip():
        rows = search_members(rows, q, prefix="attendances__member__").distinct()
    rows = rows.prefetch_related("attendances__member")
    return rows.order_by("starts_at" if order == "asc" else "-starts_at", "pk")


def tab_counts(program: Program) -> dict[str, int]:
    """The live counts of the tabs, in two queries."""
    relationships = Relationship.objects.filter(program=program).aggregate(
        all=Count("pk"),
        matched=Count("pk", filter=Q(status=RelationshipStatus.MATCHED)),
        completed=Count("pk", filter=Q(status=RelationshipStatus.COMPLETED)),
    )
    meetings = Meeting.objects.filter(program=program).aggregate(
        meetings=Count("pk", filter=Q(kind=MeetingKind.ONE_TO_ONE)),
        groups=Count("pk", filter=~Q(kind=MeetingKind.ONE_TO_ONE)),
    )
    conversations = program.conversations.count()  # activity's model, by its reverse name
    return {**relationships, **meetings, "conversations": conversations}


def calendar_meetings(
    *, program: Program, start: dt.datetime, end: dt.datetime
) -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .select_related("relationship__mentor", "relationship__mentee", "led_by")
        .prefetch_related("attendances__member")
        .order_by("starts_at", "pk")
    )
