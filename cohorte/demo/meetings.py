"""The demo's meetings and pairs, planned in memory then written in a few statements.

Every meeting is placed by `slots.working_slot`: on a weekday, in working hours for each
attendee in their own time zone, never overlapping another of theirs. Its status follows
its time (held and confirmed in the past, or cancelled; scheduled in the future), its
answers follow its status, and its `created_at` is a few days before it, inside its
programme's dates — written after the insert, since auto_now_add sets it to now."""

import datetime as dt
import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from cohorte.accounts.models import Member
from cohorte.meetings.models import (
    Availability,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    MeetingType,
    Relationship,
    RelationshipStatus,
    Response,
    new_uid,
)
from cohorte.programs.models import Program

from .slots import DAY_END, DAY_START, working_slot

DAY = dt.timedelta(days=1)
PLACES = ["Lycée Voltaire, salle 12", "Banque du Marais, 3e étage", "Atelier Lumière"]


@dataclass
class Planned:
    """One meeting to write, with each attendee's answer (member, response, responded_at)."""

    program: Program
    starts_at: dt.datetime
    minutes: int
    status: str
    created_at: dt.datetime
    attendees: list[tuple[Member, str, dt.datetime | None]]
    relationship: Relationship | None = None
    kind: str = MeetingKind.ONE_TO_ONE
    title: str = ""
    meeting_type: str = MeetingType.VIDEO
    led_by: Member | None = None
    capacity: int | None = None
    created_by: Member | None = None
    #: each attendee's evaluation, by index in `attendees`: (took_place, rating, comment, at)
    evaluations: dict[int, tuple[bool, int, str, dt.datetime]] = field(default_factory=dict)


#: what attendees write after a meeting (the « Rencontres » tab's comment columns)
COMMENTS = [
    "Très bon échange, plein de pistes concrètes.",
    "Nous avons revu le CV ensemble : à refaire pour la semaine prochaine.",
    "Un peu court, mais utile.",
    "Rencontre riche, merci pour les contacts.",
    "",
    "",
    "Préparation sérieuse, bonnes questions.",
    "Nous avons fixé les objectifs du mois.",
]
#: a meeting that ended this recently may still wait for its second evaluation
AWAITING_FOR = dt.timedelta(days=3)


@dataclass
class Diary:
    """Everyone's busy times, so that no one is in two meetings at once, and the plans."""

    rng: random.Random
    now: dt.datetime
    default_tz: dt.tzinfo
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)
    planned: list[Planned] = field(default_factory=list)

    def zone(self, member: Member) -> dt.tzinfo:
        return zoneinfo.ZoneInfo(member.timezone) if member.timezone else self.default_tz

    def slot(
        self,
        people: Sequence[Member],
        *,
        after: dt.datetime,
        before: dt.datetime,
        minutes: int,
        day: dt.date | None = None,
    ) -> dt.datetime | None:
        busy = [span for person in people for span in self.busy.get(person.pk, [])]
        start = working_slot(
            self.rng,
            zones=[self.zone(p) for p in people],
            after=after,
            before=before,
            minutes=minutes,
            busy=busy,
            day=day,
        )
        if start is not None:
            for person in people:
                self.busy.setdefault(person.pk, []).append(
                    (start, start + dt.timedelta(minutes=minutes))
                )
        return start

    def created_before(self, starts_at: dt.datetime, program: Program) -> dt.datetime:
        """When it was booked: 2 to 14 days before, not before the programme, not later
        than now."""
        opened = program.window()[0]
        booked = starts_at - dt.timedelta(
            days=self.rng.randint(2, 14), hours=self.rng.randint(0, 6)
        )
        return min(max(booked, opened), self.now, starts_at)

    def one_to_one(
        self,
        program: Program,
        people: Sequence[Member],
        *,
        after: dt.datetime,
        before: dt.datetime,
        relationship: Relationship | None = None,
        day: dt.date | None = None,
        by: Member | None = None,
        held: bool = False,
    ) -> Planned | None:
        """A 1:1 meeting between `people` (the host first) somewhere in [after, before);
        `held`: past and held for sure (else it may have been cancelled)."""
        rng = self.rng
        minutes = rng.choice([30, 45, 60])
        start = self.slot(people, after=after, before=before, minutes=minutes, day=day)
        if start is None:
            return None
        created = self.created_before(start, program)
        if start + dt.timedelta(minutes=minutes) <= self.now:
            kept = held or rng.random() < 0.85
            status = MeetingStatus.CONFIRMED if kept else MeetingStatus.CANCELLED
        else:
            status = MeetingStatus.SCHEDULED if rng.random() < 0.9 else MeetingStatus.CANCELLED
        answered = min(created + dt.timedelta(hours=rng.randint(2, 30)), self.now, start)
        answers: list[tuple[Member, str, dt.datetime | None]] = []
        for index, person in enumerate(people):
            if status == MeetingStatus.CONFIRMED or (index == 0 and rng.random() < 0.8):
                answers.append((person, Response.ACCEPTED, answered))
            elif status == MeetingStatus.CANCELLED:
                answers.append((person, Response.DECLINED, answered))
            else:
                response = rng.choice(
                    [Response.ACCEPTED] * 3 + [Response.PENDING] * 2 + [Response.DECLINED]
                )
                answers.append(
                    (person, response, None if response == Response.PENDING else answered)
                )
        evaluations: dict[int, tuple[bool, int, str, dt.datetime]] = {}
        end = start + dt.timedelta(minutes=minutes)
        if status == MeetingStatus.CONFIRMED:
            # both said it took place; a recent one in a running programme may still wait
            # for its second side (« En attente d'évaluation »)
            waiting = (
                self.now - end < AWAITING_FOR
                and program.window()[1] > self.now
                and rng.random() < 0.5
            )
            for index in range(len(people)):
                if waiting and index > 0:
                    continue
                at = min(end + dt.timedelta(hours=rng.randint(1, 30)), self.now)
                evaluations[index] = (True, rng.choice([3, 4, 4, 5, 5]), rng.choice(COMMENTS), at)
            if waiting:
                status = MeetingStatus.SCHEDULED
            elif not held and len(people) > 1 and program.window()[1] > self.now:
                # once per running programme, the two sides disagree: « non tenue », a ❗
                if not any(
                    p.status == MeetingStatus.NOT_HELD and p.program is program
                    for p in self.planned
                ):
                    rating, comment, at = evaluations[1][1:]
                    evaluations[1] = (False, rating, "Je n'ai vu personne au rendez-vous.", at)
                    status = MeetingStatus.NOT_HELD
        plan = Planned(
            program=program,
            starts_at=start,
            minutes=minutes,
            status=status,
            created_at=created,
            attendees=answers,
            evaluations=evaluations,
            relationship=relationship,
            meeting_type=rng.choice(
                [MeetingType.VIDEO] * 3 + [MeetingType.IN_PERSON, MeetingType.PHONE]
            ),
            title="Rencontre de mentorat" if relationship is not None else "",
            created_by=by,
        )
        self.planned.append(plan)
        return plan

    def session(
        self,
        program: Program,
        *,
        kind: str,
        title: str,
        day: dt.date,
        after: dt.datetime,
        before: dt.datetime,
        minutes: int,
        led_by: Member | None,
        members: Sequence[Member],
        capacity: int | None = None,
        by: Member | None = None,
    ) -> Planned | None:
        """A masterclass or a private group session on a set day, at an hour free for
        everyone in it (None when there is none)."""
        people = ([led_by] if led_by else []) + list(members)
        start = self.slot(people, after=after, before=before, minutes=minutes, day=day)
        if start is None:
            return None
        created = self.created_before(start, program)
        held = start + dt.timedelta(minutes=minutes) <= self.now
        plan = Planned(
            program=program,
            starts_at=start,
            minutes=minutes,
            status=MeetingStatus.CONFIRMED if held else MeetingStatus.SCHEDULED,
            created_at=created,
            attendees=[(p, Response.ACCEPTED, min(created + DAY, self.now)) for p in people],
            kind=kind,
            title=title,
            meeting_type=MeetingType.IN_PERSON,
            led_by=led_by,
            capacity=capacity,
            created_by=by,
        )
        self.planned.append(plan)
        return plan

    def write(self) -> list[Meeting]:
        """Every planned meeting in a few statements: the rows, their real creation times
        (a bulk update: auto_now_add wrote now), their attendees."""
        meetings: list[Meeting] = []
        for plan in self.planned:
            uid = new_uid()
            place = ""
            if plan.meeting_type == MeetingType.VIDEO:
                place = settings.COHORTE_VIDEO_URL.format(room=f"cohorte-{uid.split('@')[0][:20]}")
            elif plan.meeting_type == MeetingType.IN_PERSON:
                place = PLACES[len(meetings) % len(PLACES)]
            meetings.append(
                Meeting(
                    program=plan.program,
                    relationship=plan.relationship,
                    starts_at=plan.starts_at,
                    original_start=plan.starts_at,
                    duration_minutes=plan.minutes,
                    status=plan.status,
                    kind=plan.kind,
                    meeting_type=plan.meeting_type,
                    title=plan.title,
                    place=place,
                    uid=uid,
                    led_by=plan.led_by,
                    capacity=plan.capacity,
                    created_by=plan.created_by,
                )
            )
        Meeting.objects.bulk_create(meetings, batch_size=500)
        for meeting, plan in zip(meetings, self.planned, strict=True):
            meeting.created_at = plan.created_at
            meeting.updated_at = max(plan.created_at, min(plan.starts_at, self.now))
        Meeting.objects.bulk_update(meetings, ["created_at", "updated_at"], batch_size=500)
        MeetingAttendee.objects.bulk_create(
            [
                MeetingAttendee(
                    meeting=meeting,
                    member=member,
                    response=response,
                    responded_at=at,
                    **_evaluation(plan, index),
                )
                for meeting, plan in zip(meetings, self.planned, strict=True)
                for index, (member, response, at) in enumerate(plan.attendees)
            ],
            batch_size=1000,
        )
        return meetings


def _evaluation(plan: Planned, index: int) -> dict:
    """The attendee's evaluation as MeetingAttendee fields (none: not evaluated, not asked
    yet either when the meeting waits for it: the scheduler sends the e-mail)."""
    if index not in plan.evaluations:
        return {}
    took_place, rating, comment, at = plan.evaluations[index]
    return {
        "took_place": took_place,
        "rating": rating,
        "comment": comment,
        "evaluated_at": at,
        "feedback_sent_at": plan.starts_at + dt.timedelta(minutes=plan.minutes),
    }


def mentoring_pairs(
    diary: Diary,
    *,
    program: Program,
    mentors: Sequence[Member],
    mentees: Sequence[Member],
    manager: Member,
) -> list[Relationship]:
    """The finished programme's story: pairs matched in its first weeks, meeting every few
    weeks until its end (some keen, some behind), most completed before it closed, a few
    still « Jumelé » waiting for the end of the cycle. Everything inside its dates."""
    rng = diary.rng
    start, end = (moment.astimezone(dt.UTC) for moment in program.window())
    last = min(end, diary.now)
    office = [diary.default_tz]
    pairs: list[tuple[Relationship, dt.datetime, list[Planned]]] = []
    for i, mentee in enumerate(mentees):
        mentor = mentors[i % len(mentors)]
        matched_at = working_slot(
            rng, zones=office, after=start + 2 * DAY, before=start + 40 * DAY, minutes=5
        ) or (start + 2 * DAY)
        relationship = Relationship(
            program=program,
            mentor=mentor,
            mentee=mentee,
            started_on=matched_at.astimezone(diary.default_tz).date(),
            created_by=manager,
            administrator=manager,
        )
        sessions: list[Planned] = []
        cursor = matched_at + rng.randint(3, 10) * DAY
        for k in range(rng.randint(1, program.objective + 2)):
            plan = diary.one_to_one(
                program,
                [mentor, mentee],
                after=cursor,
                before=min(cursor + 30 * DAY, last - DAY),
                relationship=relationship,
                by=manager,
                held=k == 0,  # every pair met at least once
            )
            if plan is None:
                break
            sessions.append(plan)
            cursor = plan.starts_at + rng.randint(14, 35) * DAY
        pairs.append((relationship, matched_at, sessions))
    Relationship.objects.bulk_create([r for r, _at, _s in pairs])
    for index, (relationship, matched_at, sessions) in enumerate(pairs):
        latest = max(
            [p.starts_at + dt.timedelta(minutes=p.minutes) for p in sessions] or [matched_at]
        )
        relationship.created_at = matched_at
        if index % 3:  # two pairs in three closed their relationship before the end
            relationship.status = RelationshipStatus.COMPLETED
            relationship.ended_at = min(
                latest + rng.randint(1, 10) * DAY, last - dt.timedelta(hours=1)
            )
        relationship.updated_at = relationship.ended_at or latest
    Relationship.objects.bulk_update(
        [r for r, _at, _s in pairs], ["created_at", "updated_at", "status", "ended_at"]
    )  # fmt: skip
    return [r for r, _at, _s in pairs]


def availabilities(members: Sequence[Member]) -> None:
    """Working hours on weekdays, the same as the meetings: a manager who books or moves a
    meeting from the calendar finds the slots the demo's meetings use."""
    Availability.objects.bulk_create(
        [
            Availability(member=person, weekday=day, start=DAY_START, end=DAY_END)
            for person in members
            for day in range(5)
        ]
    )
