"""Reads of relationships and meetings: the Relations page's tabs and the calendar."""

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cohorte.core.parse import search_words, zone_or_default
from cohorte.programs.models import Program
from cohorte.programs.selectors import search_members

from .models import (
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Relationship,
    RelationshipStatus,
    shown_status_of,
    status_label,
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
    # correlated subqueries rather than a join and GROUP BY: the database works them out for
    # the rows of the page only, and counting the rows does not aggregate every meeting
    held = Meeting.objects.filter(relationship=OuterRef("pk"), status=MeetingStatus.CONFIRMED)
    return rows.annotate(
        held_count=_scalar(held.annotate(n=Func(F("pk"), function="COUNT"))),
        held_minutes=_scalar(held.annotate(n=Func(F("duration_minutes"), function="SUM"))),
    ).order_by(order, "-pk")


def attendance_count() -> Coalesce:
    """A meeting's attendees, counted for the rows of a page only."""
    attendees = MeetingAttendee.objects.filter(meeting=OuterRef("pk"))
    return _scalar(attendees.annotate(n=Func(F("pk"), function="COUNT")))


def _scalar(queryset: QuerySet) -> Coalesce:
    """One aggregate of a correlated queryset as a column (0 when there is nothing)."""
    return Coalesce(Subquery(queryset.order_by().values("n"), output_field=IntegerField()), 0)


def meeting_rows(*, program: Program, q: str = "", order: str = "desc") -> QuerySet[Meeting]:
    """« Rencontres »: every meeting of the pairs, in date order. Only the meetings: a page
    of them is read whole by meetings_shown, so that a far page (OFFSET 98,000) walks an
    index rather than joining every meeting before it to its people."""
    rows = Meeting.objects.filter(program=program, kind=MeetingKind.ONE_TO_ONE)
    for word in search_words(q):  # each word someone's name, not necessarily the same one's
        attendees = search_members(MeetingAttendee.objects.all(), word, prefix="member__")
        rows = rows.filter(pk__in=attendees.values("meeting_id"))
    return rows.order_by("starts_at" if order == "asc" else "-starts_at", "pk")


def meetings_shown(ids: Sequence[int]) -> list[Meeting]:
    """The meetings of a page of meeting_rows, in its order, with each attendee's answer."""
    answers = MeetingAttendee.objects.select_related("member").only(*ANSWER_COLUMNS).order_by("pk")
    found = (
        Meeting.objects.filter(pk__in=list(ids))
        .select_related("relationship__mentor", "relationship__mentee", "created_by")
        .only(
            *CALENDAR_COLUMNS,
            *("relationship__mentor_id", "relationship__mentee_id", "created_by__email"),
            *("created_by__first_name", "created_by__last_name"),
            *("relationship__mentor__email", "relationship__mentee__email"),
        )
        .prefetch_related(Prefetch("attendances", queryset=answers))
        .in_bulk()
    )
    return [found[pk] for pk in ids if pk in found]


#: the roles on the mentor's side of a 1:1 (its « Commentaires du mentor » column)
MENTOR_SIDE_ROLES = ("mentor", "professional", "manager")
#: the roles on the mentee's side (« Commentaires du mentoré »)
MENTEE_SIDE_ROLES = ("mentee", "participant", "collaborator")


def meeting_sides(
    *, program: Program, meetings: Sequence[Meeting]
) -> dict[int, tuple[MeetingAttendee | None, MeetingAttendee | None]]:
    """Each 1:1's (mentor side, mentee side) attendance, for the tab's two comment columns:
    a relationship's mentor and mentee; without one (a meeting recorded through the API),
    the attendees by their role in the programme — the professional or mentor, the
    participant or mentee. One query for the page, none for a relationship's meetings."""
    from cohorte.programs.models import Enrolment

    loose = [m for m in meetings if m.relationship_id is None]
    roles: dict[int, str] = {}
    if loose:
        ids = {a.member_id for m in loose for a in m.attendances.all()}
        for member_id, role, ended_at in (
            Enrolment.objects.filter(program=program, member_id__in=ids)
            .order_by("pk")
            .values_list("member_id", "role", "ended_at")
        ):
            if member_id not in roles or ended_at is None:  # the current enrolment wins
                roles[member_id] = role
    sides: dict[int, tuple[MeetingAttendee | None, MeetingAttendee | None]] = {}
    for meeting in meetings:
        people = list(meeting.attendances.all())
        relationship = meeting.relationship
        if relationship is not None:
            mentor = next((a for a in people if a.member_id == relationship.mentor_id), None)
            mentee = next((a for a in people if a.member_id == relationship.mentee_id), None)
        else:
            mentor = next((a for a in people if roles.get(a.member_id) in MENTOR_SIDE_ROLES), None)
            mentee = next((a for a in people if roles.get(a.member_id) in MENTEE_SIDE_ROLES), None)
            rest = [a for a in people if a is not mentor and a is not mentee]
            mentor = mentor or (rest.pop() if rest else None)
            mentee = mentee or (rest.pop(0) if rest else None)
        sides[meeting.pk] = (mentor, mentee)
    return sides


def tab_counts(program: Program) -> dict[str, int]:
    """The live counts of the tabs, in three queries. Meetings are counted by kind with
    COUNT(*): the database then reads 100,000 of them on the (program, kind, starts_at)
    index alone, not the table."""
    relationships = Relationship.objects.filter(program=program).aggregate(
        all=Count("pk"),
        matched=Count("pk", filter=Q(status=RelationshipStatus.MATCHED)),
        completed=Count("pk", filter=Q(status=RelationshipStatus.COMPLETED)),
    )
    by_kind = dict(
        Meeting.objects.filter(program=program)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("*"))
        .values_list("kind", "n")
    )
    one_to_one = by_kind.pop(MeetingKind.ONE_TO_ONE, 0)
    conversations = program.conversations.count()  # activity's model, by its reverse name
    return {
        **relationships,
        "meetings": one_to_one,
        "groups": sum(by_kind.values()),
        "conversations": conversations,
    }


#: what the calendar shows of a meeting and of its people: a member row has some forty
#: columns, and a calendar page builds hundreds of them
CALENDAR_COLUMNS = (
    *("uid", "program_id", "kind", "meeting_type", "title", "starts_at", "duration_minutes"),
    *("status", "place", "sequence", "relationship__id", "status_overridden"),
    *("relationship__mentor__first_name", "relationship__mentor__last_name"),
    *("relationship__mentee__first_name", "relationship__mentee__last_name"),
    *("relationship__mentor__email", "relationship__mentee__email"),  # a nameless one's name
)
ANSWER_COLUMNS = (
    *("meeting_id", "member_id", "response", "comment", "took_place", "rating"),
    *("member__first_name", "member__last_name", "member__email"),
)


def calendar_meetings(
    *, program: Program, start: dt.datetime, end: dt.datetime
) -> QuerySet[Meeting]:
    answers = MeetingAttendee.objects.select_related("member").only(*ANSWER_COLUMNS).order_by("pk")
    return (
        Meeting.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .select_related("relationship__mentor", "relationship__mentee")
        .only(*CALENDAR_COLUMNS)
        .prefetch_related(Prefetch("attendances", queryset=answers))
        .order_by("starts_at", "pk")
    )


def calendar_days(
    *,
    program: Program,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    per_day: int | None = None,
) -> tuple[dict[dt.date, list[Meeting]], dict[dt.date, int]]:
    """The calendar's meetings by day of `tz` (start and end are midnights of `tz`), and how
    many each day has in all. With per_day, only the first ones of each day are read: a
    month of a programme of 5,000 pairs holds 8,000 meetings, more than a page can show.
    The database ranks and counts them by day (on the meetings alone, one narrow pass),
    then the chosen ones are read whole."""
    if per_day is None:
        by_day: dict[dt.date, list[Meeting]] = {}
        for meeting in calendar_meetings(program=program, start=start, end=end):
            by_day.setdefault(meeting.starts_at.astimezone(tz).date(), []).append(meeting)
        return by_day, {day: len(meetings) for day, meetings in by_day.items()}
    # the day of each meeting in `tz`, as the number of midnights of `tz` before it: plain
    # comparisons the database does itself (SQLite would call Python for each time zone
    # conversion), exact across daylight-saving changes
    first = start.astimezone(tz).date()
    midnights = []
    for n in range(1, (end - start).days + 2):
        midnight = dt.datetime.combine(first + dt.timedelta(days=n), dt.time.min, tzinfo=tz)
        if midnight >= end:
            break
        midnights.append(midnight)
    day = Case(
        *(When(starts_at__lt=m, then=Value(n)) for n, m in enumerate(midnights)),
        default=Value(len(midnights)),
        output_field=IntegerField(),
    )
    ranked = (
        Meeting.objects.filter(program=program, starts_at__gte=start, starts_at__lt=end)
        .annotate(
            day=day,
            day_rank=Window(
                RowNumber(), partition_by=[day], order_by=[F("starts_at").asc(), F("pk").asc()]
            ),
            day_total=Window(Count("pk"), partition_by=[day]),
        )
        .filter(day_rank__lte=per_day)
        .values_list("pk", "day", "day_total")
    )
    day_of, totals = {}, {}
    for pk, index, total in ranked:
        day_of[pk] = first + dt.timedelta(days=index)
        totals[day_of[pk]] = total
    by_day = {}
    for meeting in calendar_meetings(program=program, start=start, end=end).filter(
        pk__in=list(day_of)
    ):
        by_day.setdefault(day_of[meeting.pk], []).append(meeting)
    return by_day, totals


#: the fields of the API's MeetingOut, in its order (attendees are added after)
CALENDAR_FIELDS = (
    ("id", "id"),
    ("uid", "uid"),
    ("program", "program_id"),
    ("relationship", "relationship_id"),
    ("kind", "kind"),
    ("meeting_type", "meeting_type"),
    ("title", "title"),
    ("starts_at", "starts_at"),
    ("duration_minutes", "duration_minutes"),
    ("status", "status"),
    ("place", "place"),
    ("sequence", "sequence"),
)


def calendar_data(*, program: Program, start: dt.datetime, end: dt.datetime) -> list[dict]:
    """The calendar's JSON data, exactly as MeetingOut writes it, in two queries of plain
    values: a month of a large programme is 8,000 meetings and 16,000 answers, too many to
    build a model object (and a schema object) for each."""
    columns = [column for _key, column in CALENDAR_FIELDS]
    rows = [
        dict(zip([key for key, _column in CALENDAR_FIELDS], values, strict=True))
        for values in Meeting.objects.filter(
            program=program, starts_at__gte=start, starts_at__lt=end
        )
        .order_by("starts_at", "pk")
        .values_list(*columns)
    ]
    attendees: dict[int, list[dict]] = {row["id"]: [] for row in rows}
    answers = (
        MeetingAttendee.objects.filter(
            meeting__program=program, meeting__starts_at__gte=start, meeting__starts_at__lt=end
        )
        .order_by("pk")
        .values_list(
            "meeting_id", "member_id", "member__first_name", "member__last_name", "member__email",
            "response",
        )
    )  # fmt: skip
    for meeting_id, member_id, first, last, email, response in answers:
        name = f"{first} {last}".strip() or email  # Member.full_name
        attendees[meeting_id].append({"member": member_id, "name": name, "response": response})
    now = timezone.now()
    for row in rows:
        row["attendees"] = attendees[row["id"]]
        # as MeetingOut says it: a scheduled meeting that is over awaits its evaluations
        row["status"] = shown_status_of(
            row["status"], row["starts_at"], row["duration_minutes"], now
        )
    return rows


# --- The calendar (FullCalendar's feed) ---------------------------------------------------

#: sessions read for a day of each view, the others behind « + N autres » (the day view
#: reads all): a month of a programme of 5,000 pairs holds 8,000 meetings
CALENDAR_PER_DAY = {"month": 6, "week": 24, "day": None}


def viewer_timezone(*, member: Any, program: Program) -> zoneinfo.ZoneInfo:
    """The time zone the calendar and the slot pages are read in: the viewer's own, else
    (none, or a bad stored name) the organisation's. The one rule for pages and feed."""
    tz = zone_or_default(member.timezone, program.organisation.tzinfo)
    return tz if isinstance(tz, zoneinfo.ZoneInfo) else program.organisation.tzinfo


def calendar_view_of(start: dt.datetime, end: dt.datetime) -> str:
    """Which view asks for a window: a day, a week, else a month (up to six weeks)."""
    days = (end - start).total_seconds() / 86400
    return "day" if days <= 1.05 else "week" if days <= 7.05 else "month"


def _wall(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A time as FullCalendar reads it in its named zone: the wall clock, no offset."""
    return moment.astimezone(tz).replace(tzinfo=None).isoformat(timespec="seconds")


def calendar_event_title(meeting: Meeting, attendances: Sequence[MeetingAttendee]) -> str:
    """A 1:1 is its two people (« Mentor ↔ Mentoré »), a group session its title."""
    relationship = meeting.relationship
    if meeting.kind == MeetingKind.ONE_TO_ONE:
        if relationship is not None:
            return f"{relationship.mentor.full_name} ↔ {relationship.mentee.full_name}"
        names = [a.member.full_name for a in attendances]
        if names:
            return _(" et ").join(names)
    return meeting.title or meeting.get_kind_display()


def calendar_events(
    *,
    program: Program,
    start: dt.datetime,
    end: dt.datetime,
    tz: zoneinfo.ZoneInfo,
    may_move: bool,
    now: dt.datetime | None = None,
) -> list[dict]:
    """FullCalendar's events for a window of `tz` (midnight to midnight): each day's first
    sessions (CALENDAR_PER_DAY of the view), then one « + N autres » per fuller day. Read in
    the same three queries whatever the number of meetings; times are wall-clock times of
    `tz`, the zone the page states. A session can be dragged where « Reporter » would take
    it: a scheduled one still to come, for someone who may reschedule it."""
    from django.urls import reverse

    now = now or timezone.now()
    view = calendar_view_of(start, end)
    by_day, totals = calendar_days(
        program=program, start=start, end=end, tz=tz, per_day=CALENDAR_PER_DAY[view]
    )
    events: list[dict] = []
    kinds = dict(MeetingKind.choices)
    types = dict(MeetingType.choices)
    for day in sorted(by_day):
        for meeting in by_day[day]:
            attendances = list(meeting.attendances.all())
            movable = (
                may_move and meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at > now
            )
            # a scheduled meeting that is over waits for its evaluations: no « Reporter »
            shown = meeting.shown_status(now)
            open_ = shown == MeetingStatus.SCHEDULED
            events.append(
                {
                    "id": str(meeting.pk),
                    "title": calendar_event_title(meeting, attendances),
                    "start": _wall(meeting.starts_at, tz),
                    "end": _wall(meeting.ends_at, tz),
                    "classNames": [f"kind-{meeting.kind}", f"status-{shown}"],
                    "startEditable": movable,
                    "durationEditable": False,
                    "extendedProps": {
                        "kind": meeting.kind,
                        "kindLabel": str(kinds.get(meeting.kind, meeting.kind)),
                        "status": shown,
                        "statusLabel": status_label(shown),
                        "typeLabel": str(types.get(meeting.meeting_type, meeting.meeting_type)),
                        "place": meeting.place,
                        "attendees": [
                            {"name": a.member.full_name, "response": a.response}
                            for a in attendances
                        ],
                        "moveUrl": reverse("api:meeting_calendar_move", args=[meeting.pk]),
                        "rescheduleUrl": reverse("meetings:reschedule", args=[meeting.pk])
                        if open_
                        else "",
                        "cancelUrl": reverse("meetings:cancel", args=[meeting.pk]) if open_ else "",
                        "relationshipUrl": reverse(
                            "meetings:relationship", args=[meeting.relationship_id]
                        )
                        if meeting.relationship_id
                        else "",
                    },
                }
            )
        more = totals.get(day, 0) - len(by_day[day])
        if more > 0:
            events.append(
                {
                    "id": f"more-{day.isoformat()}",
                    "title": ngettext("+ %(n)d autre", "+ %(n)d autres", more) % {"n": more},
                    "start": day.isoformat(),
                    "allDay": True,
                    "classNames": ["more"],
                    "startEditable": False,
                    "durationEditable": False,
                    "extendedProps": {"more": more, "day": day.isoformat()},
                }
            )
    return events


# --- Evaluations: what the manager is told about -----------------------------------------


def evaluations_unsettled(*, program: Program, now: dt.datetime) -> QuerySet[MeetingAttendee]:
    """The attendances of the programme's 1:1 meetings whose evaluations need the manager
    (❗ on the activity table, a note in « Rencontres »): the two sides disagree (one « oui »,
    one « non »), or EVALUATION_WAIT_DAYS after its start it still waits for an answer. A
    manager's « Marquer comme tenue » settles it. One join on the meetings' (programme,
    status, start) index, and for disagreements the few « non tenues » with a « oui »."""
    from .models import EVALUATION_WAIT_DAYS

    said_yes = MeetingAttendee.objects.filter(
        meeting__program=program,
        meeting__status=MeetingStatus.NOT_HELD,
        meeting__status_overridden=False,
        took_place=True,
    ).values("meeting_id")
    return MeetingAttendee.objects.filter(
        Q(
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__lt=now - dt.timedelta(days=EVALUATION_WAIT_DAYS),
        )
        | Q(meeting__status=MeetingStatus.NOT_HELD, meeting_id__in=said_yes),
        meeting__program=program,
        meeting__kind=MeetingKind.ONE_TO_ONE,
    ).order_by()


def evaluation_attention(meeting: Meeting, now: dt.datetime) -> str:
    """Why a meeting of the « Rencontres » tab needs the manager, in words, or ""."""
    from .models import EVALUATION_WAIT_DAYS

    if meeting.kind != MeetingKind.ONE_TO_ONE or meeting.status_overridden:
        return ""
    answers = [a.took_place for a in meeting.attendances.all()]
    if meeting.status == MeetingStatus.NOT_HELD and True in answers and False in answers:
        return _("Désaccord : l'un dit qu'elle a eu lieu, l'autre non.")
    if meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at < now - dt.timedelta(
        days=EVALUATION_WAIT_DAYS
    ):
        from .evaluations import sides_of

        silent = [a for a in sides_of(meeting, meeting.attendances.all()) if a.took_place is None]
        if len(silent) == 1:
            return _("Sans évaluation de %(name)s après %(days)d jours.") % {
                "name": silent[0].member.full_name,
                "days": EVALUATION_WAIT_DAYS,
            }
        return _("Sans évaluation des deux côtés après %(days)d jours.") % {
            "days": EVALUATION_WAIT_DAYS
        }
    return ""
