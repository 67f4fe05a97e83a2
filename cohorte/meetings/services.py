import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.programs.models import Program

from .models import Meeting, MeetingAttendee, MeetingStatus, Relationship, RelationshipStatus
from .signals import meetings_changed


@transaction.atomic
def meeting_create(
    *,
    program: Program,
    attendees: Sequence[Member],
    starts_at: dt.datetime,
    duration_minutes: int,
    status: str,
    by: Member | None,
    client_id: str | None = None,
) -> Meeting:
    meeting = Meeting.objects.create(
        program=program,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        status=status,
        created_by=by,
        client_id=client_id,
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meeting, member=member) for member in attendees]
    )
    log_action("meeting.created", actor=by, target=meeting, data={"status": status})
    meetings_changed.send(Meeting, program=program, member_ids=[m.pk for m in attendees])
    if status == MeetingStatus.CONFIRMED:
        member_counters_refresh(member_ids=[m.pk for m in attendees])
    return meeting


def _subquery_count(queryset: QuerySet) -> Coalesce:
    """SELECT COUNT(*) of a correlated queryset, as one column."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def member_counters_refresh(*, member_ids: Sequence[int]) -> None:
    """The members list's counters: current relationships, matches ever, mentoring time
    (held and confirmed meetings). Grouped aggregates, a few statements for any number."""
    ids = list(member_ids)
    if not ids:
        return
    mine = Q(mentor=OuterRef("pk")) | Q(mentee=OuterRef("pk"))
    current = Relationship.objects.filter(mine, status=RelationshipStatus.MATCHED)
    every = Relationship.objects.filter(mine)
    minutes = (
        MeetingAttendee.objects.filter(
            member=OuterRef("pk"), meeting__status=MeetingStatus.CONFIRMED
        )
        .order_by()
        .values("member")
        .annotate(n=Sum("meeting__duration_minutes"))
        .values("n")
    )
    for start in range(0, len(ids), 2000):
        Member.objects.filter(pk__in=ids[start : start + 2000]).update(
            relationships_count=_subquery_count(current),
            matches_count=_subquery_count(every),
            mentoring_minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), 0),
        )


@transaction.atomic
def relationship_create(
    *, program: Program, mentor: Member, mentee: Member, by: Member | None
) -> Relationship:
    relationship = Relationship.objects.create(
        program=program, mentor=mentor, mentee=mentee, created_by=by
    )
    log_action("relationship.created", actor=by, target=relationship)
    member_counters_refresh(member_ids=[mentor.pk, mentee.pk])
    return relationship


@transaction.atomic
def relationships_end(*, program: Program, by: Member | None) -> int:
    """« Terminer toutes les relations »: every current pairing of the programme becomes
    « Complété »; the history and the hours stay."""
    current = Relationship.objects.filter(program=program, status=RelationshipStatus.MATCHED)
    pairs = list(current.values_list("mentor_id", "mentee_id"))
    ended = current.update(status=RelationshipStatus.COMPLETED, ended_at=timezone.now())
    if ended:
        log_action("relationships.ended", actor=by, target=program, data={"count": ended})
        member_counters_refresh(member_ids=sorted({pk for pair in pairs for pk in pair}))
    return ended
