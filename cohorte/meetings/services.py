import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.programs.models import Program

from .models import Meeting, MeetingAttendee
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
    return meeting
