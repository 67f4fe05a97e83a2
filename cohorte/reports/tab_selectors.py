"""The reads of the « Rapports » tab: adoption and repeat rates, mentors' load, ratings,
and the rows of its two CSVs (bookings, members). Each is one query (a CSV: one a few
thousand rows), counted in the database.

The people a filter keeps (a cohort, a tag: both means their intersection) are a
subquery of member ids; the dates keep the meetings that start between them, read in
the organisation's time zone, always inside the programme's dates."""

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.meetings.models import (
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Relationship,
    RelationshipStatus,
)
from cohorte.programs.models import PARTICIPANT_ROLES, Cohort, Enrolment, Program, Role

#: the roles that mentor (matching.mentors_of's)
MENTOR_ROLES = (Role.MENTOR, Role.PROFESSIONAL)
#: the most mentors the load table lists (the busiest first)
MENTORS_SHOWN = 100


@dataclasses.dataclass(frozen=True)
class ReportFilters:
    cohort: Cohort | None = None
    tag: Cohort | None = None
    first: dt.date | None = None
    last: dt.date | None = None

    @property
    def by_people(self) -> bool:
        return self.cohort is not None or self.tag is not None

    def members(self) -> QuerySet | None:
        """The ids of the members the cohort and tag keep, None when neither is set."""
        if not self.by_people:
            return None
        members = Member.objects.all()
        for group in (self.cohort, self.tag):
            if group is not None:
                members = members.filter(cohorts=group)
        return members.values("pk")

    def bounds(self, program: Program) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the dates, inside the programme's window."""
        start, end = program.window()
        tz = program.organisation.tzinfo
        if self.first is not None:
            start = max(start, dt.datetime.combine(self.first, dt.time.min, tzinfo=tz))
        if self.last is not None:
            day_after = self.last + dt.timedelta(days=1)
            end = min(end, dt.datetime.combine(day_after, dt.time.min, tzinfo=tz))
        return start, end


@dataclasses.dataclass(frozen=True)
class Adoption:
    enrolled: int
    adopted: int
    repeat: int

    @property
    def adoption_rate(self) -> float:
        return self.adopted / self.enrolled if self.enrolled else 0.0

    @property
    def repeat_rate(self) -> float:
        return self.repeat / self.adopted if self.adopted else 0.0


def _confirmed_between(program: Program, start: dt.datetime, end: dt.datetime) -> Subquery:
    """Per enrolment (OuterRef member_id): its confirmed meetings that start in [start, end)."""
    return Subquery(
        MeetingAttendee.objects.filter(
            member_id=OuterRef("member_id"),
            meeting__program=program,
            meeting__status=MeetingStatus.CONFIRMED,
            meeting__starts_at__gte=start,
            meeting__starts_at__lt=end,
        )
        .order_by()
        .values("member_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


def adoption(*, program: Program, filters: ReportFilters) -> Adoption:
    """Among the participants (mentees, collaborators) enrolled now: how many have at least
    one meeting « Tenue » between the dates (adopted), how many two or more (repeat). A
    cancelled meeting, one not held or still awaiting its evaluation, or one outside the
    dates does not count. One query."""
    start, end = filters.bounds(program)
    enrolments = Enrolment.objects.filter(
        program=program, role__in=PARTICIPANT_ROLES, ended_at__isnull=True
    )
    members = filters.members()
    if members is not None:
        enrolments = enrolments.filter(member_id__in=members)
    if start >= end:
        return Adoption(enrolled=enrolments.count(), adopted=0, repeat=0)
    figures = enrolments.annotate(
        n=Coalesce(_confirmed_between(program, start, end), Value(0))
    ).aggregate(
        enrolled=Count("pk"),
        adopted=Count("pk", filter=Q(n__gte=1)),
        repeat=Count("pk", filter=Q(n__gte=2)),
    )
    return Adoption(**figures)


@dataclasses.dataclass(frozen=True)
class MentorLoad:
    member: Member
    active: int
    capacity: int

    @property
    def percent(self) -> int:
        if self.capacity <= 0:
            return 100 if self.active else 0
        return min(100, round(100 * self.active / self.capacity))

    @property
    def full(self) -> bool:
        return self.active >= self.capacity


def mentors_load(*, program: Program, filters: ReportFilters) -> tuple[list[MentorLoad], bool]:
    """The programme's mentors with their current relationships (« Jumelé ») against the
    most mentees they accept, the busiest first; and whether more than MENTORS_SHOWN were
    left off. One query."""
    active = Subquery(
        Relationship.objects.filter(
            program=program, mentor_id=OuterRef("member_id"), status=RelationshipStatus.MATCHED
        )
        .order_by()
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )
    enrolments = Enrolment.objects.filter(
        program=program, role__in=MENTOR_ROLES, ended_at__isnull=True
    )
    members = filters.members()
    if members is not None:
        enrolments = enrolments.filter(member_id__in=members)
    rows = list(
        enrolments.select_related("member")
        .annotate(active=Coalesce(active, Value(0)))
        .order_by("-active", "member__last_name", "member__first_name", "member_id")[
            : MENTORS_SHOWN + 1
        ]
    )
    loads = [
        MentorLoad(member=e.member, active=e.active, capacity=e.member.max_mentees)  # type: ignore[attr-defined]
        for e in rows[:MENTORS_SHOWN]
    ]
    return loads, len(rows) > MENTORS_SHOWN


def rating_counts(*, program: Program, filters: ReportFilters | None = None) -> dict[int, int]:
    """How many evaluations gave each rating 1–5, for the meetings of the programme (that
    start between the dates; given by the people the filters keep). One query."""
    filters = filters or ReportFilters()
    attendances = MeetingAttendee.objects.filter(meeting__program=program, rating__isnull=False)
    if filters.first is not None or filters.last is not None:
        start, end = filters.bounds(program)
        attendances = attendances.filter(meeting__starts_at__gte=start, meeting__starts_at__lt=end)
    members = filters.members()
    if members is not None:
        attendances = attendances.filter(member_id__in=members)
    return {
        int(rating or 0): n
        for rating, n in attendances.order_by()
        .values("rating")
        .annotate(n=Count("pk"))
        .values_list("rating", "n")
    }


# --- The CSVs -------------------------------------------------------------------------


def _name(member: Member | None) -> str:
    if member is None:
        return ""
    return f"{member.full_name} <{member.email}>" if member.full_name else member.email


def bookings_rows(*, program: Program, filters: ReportFilters) -> tuple[list[str], Iterator[list]]:
    """Every meeting of the programme (between the dates, attended by the people the
    filters keep), oldest first: its start in the organisation's time zone, attendees,
    status, type and who booked it. Read 2,000 at a time, attendees with them."""
    tz = program.organisation.tzinfo
    header = [
        _("Date"),
        _("Durée (minutes)"),
        _("Titre"),
        _("Participants"),
        _("Statut"),
        _("Type de séance"),
        _("Type de réunion"),
        _("Créée par"),
        _("Créée le"),
    ]
    meetings = Meeting.objects.filter(program=program)
    if filters.first is not None or filters.last is not None:
        tzinfo = tz
        if filters.first is not None:
            start = dt.datetime.combine(filters.first, dt.time.min, tzinfo=tzinfo)
            meetings = meetings.filter(starts_at__gte=start)
        if filters.last is not None:
            day_after = filters.last + dt.timedelta(days=1)
            end = dt.datetime.combine(day_after, dt.time.min, tzinfo=tzinfo)
            meetings = meetings.filter(starts_at__lt=end)
    members = filters.members()
    if members is not None:
        meetings = meetings.filter(
            pk__in=MeetingAttendee.objects.filter(member_id__in=members).values("meeting_id")
        )
    meetings = (
        meetings.select_related("created_by")
        .prefetch_related("attendances__member")
        .order_by("starts_at", "pk")
    )
    kinds, types = dict(MeetingKind.choices), dict(MeetingType.choices)

    def rows() -> Iterator[list]:
        for m in meetings.iterator(chunk_size=2000):
            attendees = sorted(
                m.attendances.all(), key=lambda a: (a.member.last_name, a.member.first_name, a.pk)
            )
            yield [
                m.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                m.duration_minutes,
                m.title,
                ", ".join(_name(a.member) for a in attendees),
                m.get_status_display(),
                str(kinds.get(m.kind, m.kind)),
                str(types.get(m.meeting_type, m.meeting_type)),
                _name(m.created_by),
                m.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            ]

    return header, rows()


def members_rows(*, program: Program, filters: ReportFilters) -> tuple[list[str], Iterator[list]]:
    """The members enrolled now (the people the filters keep): role, progress towards the
    objective (confirmed meetings, the activity table's counters) and last access (in the
    programme, else on the platform), in the organisation's time zone."""
    tz = program.organisation.tzinfo
    objective = max(program.objective, 1)
    header = [
        _("Nom"),
        _("Prénom"),
        _("Courriel"),
        _("Rôle"),
        _("Rendez-vous confirmés"),
        _("Progression (%)"),
        _("Dernier accès"),
        _("Inscrit le"),
    ]
    enrolments = Enrolment.objects.filter(program=program, ended_at__isnull=True)
    members = filters.members()
    if members is not None:
        enrolments = enrolments.filter(member_id__in=members)
    enrolments = (
        enrolments.select_related("member")
        .annotate(
            confirmed=Coalesce(F("stats__confirmed_meetings"), Value(0)),
            seen=Coalesce(F("stats__last_access"), F("member__last_access")),
        )
        .order_by("member__last_name", "member__first_name", "member_id")
    )
    roles = dict(Role.choices)

    def stamp(moment: dt.datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def rows() -> Iterator[list]:
        for e in enrolments.iterator(chunk_size=2000):
            confirmed = e.confirmed  # type: ignore[attr-defined]
            yield [
                e.member.last_name,
                e.member.first_name,
                e.member.email,
                str(roles.get(e.role, e.role)),
                confirmed,
                min(100, 100 * confirmed // objective),  # as the activity table shows it
                stamp(e.seen),  # type: ignore[attr-defined]
                stamp(e.created_at),
            ]

    return header, rows()


# --- The « Activité » sub-tab ------------------------------------------------------------

#: how long ago a last access may be, in days, for each bucket of « Dernier accès »
RECENCY_DAYS = (7, 30, 90)
#: the most engaged participants listed
MOST_ENGAGED = 10


@dataclasses.dataclass(frozen=True)
class Step:
    key: str
    label: str
    count: int
    of: int
    #: the Home's list of the people behind it, when there is one
    figure: str | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.of) if self.of else 0


@dataclasses.dataclass(frozen=True)
class Engagement:
    participants: list[Step]
    mentors: list[Step]
    #: from the most recent access to never
    recency: list["Recency"]


@dataclasses.dataclass(frozen=True)
class Recency:
    """How many last came that long ago, participants and mentors."""

    label: str
    participants: int
    participants_percent: int
    mentors: int
    mentors_percent: int


def _current_enrolments(program: Program, filters: ReportFilters) -> QuerySet[Enrolment]:
    rows = Enrolment.objects.filter(program=program, ended_at__isnull=True)
    members = filters.members()
    if members is not None:
        rows = rows.filter(member_id__in=members)
    return rows


def engagement(*, program: Program, filters: ReportFilters, now: dt.datetime) -> Engagement:
    """How far the people enrolled now went, step by step, participants and mentors apart
    (from their counters: over the programme's dates, whatever dates are asked), and how
    long ago each last came. One query."""
    followed = Q(role__in=PARTICIPANT_ROLES)
    mentoring = Q(role__in=MENTOR_ROLES)
    objective = max(program.objective, 1)
    seen = Q(stats__last_access__isnull=False)
    steps: dict[str, Q] = {
        "enrolled": Q(),
        "signed_in": seen,
        "visited": Q(stats__profiles_visited__gte=1),
        "contacted": Q(stats__professionals_contacted__gte=1),
        "adopted": Q(stats__confirmed_meetings__gte=1),
        "repeat": Q(stats__confirmed_meetings__gte=2),
        "objective_met": Q(stats__confirmed_meetings__gte=objective),
    }
    buckets: list[tuple[str, Q]] = []
    since = None
    for days in RECENCY_DAYS:
        start = now - dt.timedelta(days=days)
        window = Q(stats__last_access__gte=start)
        if since is not None:
            window &= Q(stats__last_access__lt=since)
        buckets.append((f"within_{days}", window))
        since = start
    buckets.append(("older", Q(stats__last_access__lt=since)))
    buckets.append(("never", Q(stats__last_access__isnull=True)))
    counts: dict[str, Any] = {}
    for side, who in (("p", followed), ("m", mentoring)):
        for key, where in (*steps.items(), *buckets):
            counts[f"{side}_{key}"] = Count("pk", filter=who & where)
    found = _current_enrolments(program, filters).aggregate(**counts)
    labels = {
        "enrolled": _("Inscrits"),
        "signed_in": _("Connectés au moins une fois"),
        "visited": _("Ont consulté un profil"),
        "contacted": _("Ont contacté un professionnel"),
        "adopted": _("Au moins une rencontre tenue"),
        "repeat": _("Deux rencontres tenues ou plus"),
        "objective_met": _("Objectif atteint"),
    }
    figures = {
        "enrolled": "enrolled",
        "signed_in": "signed_in",
        "adopted": "adopted",
        "repeat": "repeat",
        "objective_met": "objective_met",
    }

    def side_steps(side: str, keys: tuple[str, ...]) -> list[Step]:
        whole = found[f"{side}_enrolled"]
        return [
            Step(
                key=key,
                label=str(labels[key]),
                count=found[f"{side}_{key}"],
                of=whole,
                # the Home's lists are of participants; mentors have theirs only enrolled
                figure=figures.get(key)
                if side == "p"
                else ("mentors" if key == "enrolled" else None),
            )
            for key in keys
        ]

    bucket_labels = {
        "within_7": _("Cette semaine (7 derniers jours)"),
        "within_30": _("Entre 8 et 30 jours"),
        "within_90": _("Entre 31 et 90 jours"),
        "older": _("Il y a plus de 90 jours"),
        "never": _("Jamais connectés"),
    }

    def share(side: str, key: str) -> tuple[int, int]:
        count, whole = found[f"{side}_{key}"], found[f"{side}_enrolled"]
        return count, round(100 * count / whole) if whole else 0

    recency = [
        Recency(str(bucket_labels[key]), *share("p", key), *share("m", key))
        for key, _where in buckets
    ]
    return Engagement(
        participants=side_steps("p", tuple(steps)),
        mentors=side_steps("m", ("enrolled", "signed_in", "adopted", "repeat")),
        recency=recency,
    )


def most_engaged(*, program: Program, filters: ReportFilters) -> list[Enrolment]:
    """The participants furthest along: most meetings held, then most professionals
    contacted, then the most recent access. One query."""
    return list(
        _current_enrolments(program, filters)
        .filter(role__in=PARTICIPANT_ROLES, stats__confirmed_meetings__gte=1)
        .select_related("member", "stats")
        .order_by(
            F("stats__confirmed_meetings").desc(),
            F("stats__professionals_contacted").desc(),
            F("stats__last_access").desc(nulls_last=True),
            "pk",
        )[:MOST_ENGAGED]
    )
