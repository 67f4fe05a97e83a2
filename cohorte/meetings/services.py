import datetime as dt
import zoneinfo
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import ParseError, check_schedule_time, zone_or_default
from cohorte.programs.models import Program

from . import ics, scheduling, selectors
from .models import (
    Availability,
    Frequency,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    MeetingType,
    Relationship,
    RelationshipStatus,
    Response,
    new_uid,
)
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
    # recorded as already held (or cancelled): the recorder's decision, as a manager's
    # « Marquer comme tenue » — audited here, and the attendees' evaluations do not move it
    decided = status != MeetingStatus.SCHEDULED
    meeting = Meeting.objects.create(
        program=program,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        status=status,
        created_by=by,
        client_id=client_id,
        status_overridden=decided,
    )
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meeting, member=member) for member in attendees]
    )
    log_action(
        "meeting.created",
        actor=by,
        target=meeting,
        data={"status": status, **({"override": True} if decided else {})},
    )
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


def _already_matched(mentor: Member, mentee: Member) -> ValidationError:
    return ValidationError(
        _("%(mentor)s et %(mentee)s sont déjà jumelés dans ce programme.")
        % {"mentor": mentor.full_name or mentor.email, "mentee": mentee.full_name or mentee.email}
    )


@transaction.atomic
def relationship_create(
    *, program: Program, mentor: Member, mentee: Member, by: Member | None
) -> Relationship:
    """A new pairing; ValidationError naming the pair when it is already current (the
    database refuses a twin too, whatever path or race wrote it)."""
    if Relationship.objects.filter(
        program=program, mentor=mentor, mentee=mentee, status=RelationshipStatus.MATCHED
    ).exists():
        raise _already_matched(mentor, mentee)
    try:
        with transaction.atomic():
            relationship = Relationship.objects.create(
                program=program, mentor=mentor, mentee=mentee, created_by=by
            )
    except IntegrityError as error:
        raise _already_matched(mentor, mentee) from error
    log_action("relationship.created", actor=by, target=relationship)
    member_counters_refresh(member_ids=[mentor.pk, mentee.pk])
    return relationship


@transaction.atomic
def relationship_match(
    *, program: Program, mentor: Member, mentee: Member, by: Member | None
) -> tuple[Relationship, bool]:
    """A pairing, once: when the two are already matched in this programme, that
    relationship is the answer (False: not created), so a retried request makes no twin."""
    # lock both people so two requests for the same pair cannot both create it
    list(Member.objects.select_for_update().filter(pk__in=[mentor.pk, mentee.pk]).order_by("pk"))
    existing = selectors.current_relationship(program=program, mentor=mentor, mentee=mentee)
    if existing is not None:
        return existing, False
    return relationship_create(program=program, mentor=mentor, mentee=mentee, by=by), True


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


# --- Availability, slots and booking on a pair's behalf -----------------------------------


def people_of(
    members: Sequence[Member],
    *,
    fallback_tz: str,
    between: tuple[dt.datetime, dt.datetime],
    exclude: Sequence[int] = (),
) -> list[scheduling.Person]:
    """The members as the slot computation sees them: their weekly windows in their own time
    zone, and as busy time their meetings (not cancelled) that can overlap `between` — the
    days looked at, not their whole calendar. Two queries for any number of members."""
    default = zone_or_default(fallback_tz, zoneinfo.ZoneInfo("UTC"))
    windows: dict[int, list[scheduling.Window]] = {m.pk: [] for m in members}
    for member_id, weekday, start, end in (
        Availability.objects.filter(member__in=[m.pk for m in members])
        .order_by("member_id", "weekday", "start")
        .values_list("member_id", "weekday", "start", "end")
    ):
        windows[member_id].append(scheduling.Window(weekday, start, end))
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {m.pk: [] for m in members}
    # a meeting lasts a day at most: one that starts the day before can still overlap
    since = max(between[0], timezone.now()) - dt.timedelta(days=1)
    for member_id, starts_at, minutes in (
        MeetingAttendee.objects.filter(
            member__in=[m.pk for m in members],
            meeting__starts_at__gte=since,
            meeting__starts_at__lt=between[1],
        )
        .exclude(meeting__status=MeetingStatus.CANCELLED)
        .exclude(meeting__in=list(exclude))
        .values_list("member_id", "meeting__starts_at", "meeting__duration_minutes")
    ):
        busy[member_id].append(
            (starts_at, scheduling.plus(starts_at, dt.timedelta(minutes=minutes)))
        )
    return [
        # a bad stored name (« Not/AZone ») falls back to the organisation's zone, never breaks
        scheduling.Person(
            zone_or_default(m.timezone, default), tuple(windows[m.pk]), tuple(busy[m.pk])
        )
        for m in members
    ]


def _span(starts: Sequence[dt.datetime], minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """The time a list of starts covers, for people_of."""
    return min(starts), scheduling.plus(max(starts), dt.timedelta(minutes=minutes))


def free_slots(
    *,
    members: Sequence[Member],
    day: dt.date,
    duration: int,
    viewer_tz: zoneinfo.ZoneInfo,
    fallback_tz: str,
    exclude: Sequence[int] = (),
    look_ahead: int = 0,
) -> tuple[dt.date, list[scheduling.Slot]]:
    """The free slots of everyone on `day`, or — with look_ahead — on the first of the next
    days that has any. Availability and meetings are read once, for those days only."""
    first = dt.datetime.combine(day, dt.time.min, tzinfo=viewer_tz)
    last = dt.datetime.combine(
        day + dt.timedelta(days=look_ahead + 1), dt.time.min, tzinfo=viewer_tz
    )
    people = people_of(
        members,
        fallback_tz=fallback_tz,
        between=(first, last + dt.timedelta(minutes=duration)),
        exclude=exclude,
    )
    now = timezone.now()
    for offset in range(look_ahead + 1):
        slots = scheduling.day_slots(
            day=day + dt.timedelta(days=offset),
            viewer_tz=viewer_tz,
            people=people,
            duration=dt.timedelta(minutes=duration),
            not_before=now,
        )
        if slots:
            return day + dt.timedelta(days=offset), slots
    return day, []


def answer_token(attendance: MeetingAttendee, answer: str) -> str:
    """The signed « Accepter » / « Refuser » link's key. It carries the meeting's SEQUENCE,
    so a link sent before a change (a new time) no longer answers for the new one."""
    return signing.dumps(
        {"a": attendance.pk, "r": answer, "s": attendance.meeting.sequence}, salt="meeting-answer"
    )


def _answer_url(attendance: MeetingAttendee, answer: str) -> str:
    from cohorte.messaging.services import absolute_url

    return absolute_url(reverse("meetings:answer", args=[answer_token(attendance, answer)]))


def _invite(
    *, meetings: Sequence[Meeting], attendees: Sequence[Member], key: str, method: str = "REQUEST"
) -> None:
    """E-mail (with the .ics) and bell for each attendee, in their language."""
    from cohorte.messaging import services as messaging

    first = meetings[0]
    program = first.program
    tz = program.organisation.tzinfo
    calendar = ics.invitation(meetings, attendees, tz, method=method)
    for member in attendees:
        attendance = (
            MeetingAttendee.objects.filter(meeting=first, member=member)
            .select_related("meeting")
            .first()
        )
        partner = next((m for m in attendees if m.pk != member.pk), None)
        local = localtime_or_utc(first.starts_at, zone_or_default(member.timezone, tz))
        titles = {}
        for language in ("fr", "en"):  # the bell keeps both (Notification.shown_title)
            with translation.override(language):
                titles[language] = _("Rencontre : %(program)s, %(when)s") % {
                    "program": program.name,
                    "when": formats.date_format(local, "DATETIME_FORMAT"),
                }
        with translation.override(member.language):
            values: dict[str, object] = {
                "partner": partner.full_name if partner else "",
                "date": formats.date_format(local.date(), "DATE_FORMAT"),
                "time": formats.time_format(local, "TIME_FORMAT"),
                "program": program.name,
            }
            footer = ""
            if attendance is not None and method == "REQUEST":
                footer = _("Accepter : %(accept)s\nRefuser : %(decline)s") % {
                    "accept": _answer_url(attendance, Response.ACCEPTED),
                    "decline": _answer_url(attendance, Response.DECLINED),
                }
        messaging.system_email(
            organisation_id=program.organisation_id,
            key=key,
            member=member,
            values=values,
            footer=footer,
            program=program,
            attachments=[
                {
                    "name": "invitation.ics",
                    "content": calendar,
                    "content_type": f"text/calendar; method={method}",
                }
            ],
        )
        messaging.notify(
            members=[member],
            title_fr=titles["fr"],
            title_en=titles["en"],
            url=reverse("meetings:relationships", args=[program.pk]) + "?tab=meetings",
        )


@transaction.atomic
def meetings_book(
    *,
    relationship: Relationship,
    by: Member,
    starts_at: dt.datetime,
    duration_minutes: int,
    meeting_type: str,
    place: str = "",
    frequency: str = "none",
    count: int = 1,
    with_administrator: bool = False,
    client_id: str | None = None,
) -> list[Meeting]:
    """« Planifier une réunion » for a matched pair: every occurrence must be free for both
    (and for the administrator when they attend); invitations leave with the booking."""
    program = relationship.program
    errors: dict[str, list[str]] = {}
    if relationship.status != RelationshipStatus.MATCHED:
        errors.setdefault("relationship", []).append(_("Cette relation est terminée."))
    if not 15 <= duration_minutes <= 120:
        errors.setdefault("duration", []).append(_("La durée doit être de 15 à 120 minutes."))
    if meeting_type not in (program.meeting_types or []):
        errors.setdefault("meeting_type", []).append(
            _("Ce type de réunion n'est pas permis dans ce programme.")
        )
    if frequency not in Frequency.values or not 1 <= count <= 52:
        errors.setdefault("frequency", []).append(
            _("Fréquence ou nombre d'occurrences invalide (1 à 52).")
        )
    if timezone.is_naive(starts_at):
        errors.setdefault("starts_at", []).append(_("L'heure doit indiquer son fuseau horaire."))
    else:
        _check_start(starts_at, errors)
    if errors:
        raise ValidationError(errors)
    if client_id:
        existing = list(Meeting.objects.filter(program=program, client_id=client_id))
        if existing:
            return list(Meeting.objects.filter(uid=existing[0].uid).order_by("starts_at"))
    tz = program.organisation.tzinfo
    starts = scheduling.occurrences(
        first=starts_at, frequency=frequency, count=count if frequency != "none" else 1, tz=tz
    )
    _check_start(starts[-1], errors)  # 52 years ahead is not a series we keep
    if errors:
        raise ValidationError(errors)
    attendees = [relationship.mentor, relationship.mentee] + (
        [by]
        if with_administrator and by.pk not in (relationship.mentor_id, relationship.mentee_id)
        else []
    )
    # lock the attendees' rows so two bookings for the same people cannot both pass the check
    list(Member.objects.select_for_update().filter(pk__in=[m.pk for m in attendees]).order_by("pk"))
    if starts[0] < timezone.now():
        raise ValidationError({"starts_at": [_("Ce créneau est déjà passé.")]})
    people = people_of(
        attendees,
        fallback_tz=program.organisation.timezone,
        between=_span(starts, duration_minutes),
    )
    taken = scheduling.conflicts(starts, dt.timedelta(minutes=duration_minutes), people)
    if taken:
        raise _unavailable(taken, tz)
    uid = new_uid()
    if meeting_type == MeetingType.VIDEO and not place:
        place = settings.COHORTE_VIDEO_URL.format(room=f"cohorte-{uid.split('@')[0][:20]}")
    meetings = []
    for index, start in enumerate(starts, start=1):
        meeting = Meeting.objects.create(
            program=program,
            relationship=relationship,
            starts_at=start,
            original_start=start,
            duration_minutes=duration_minutes,
            status=MeetingStatus.SCHEDULED,
            meeting_type=meeting_type,
            place=place,
            frequency=frequency if len(starts) > 1 else Frequency.NONE,
            occurrence=index,
            uid=uid,
            created_by=by,
            client_id=client_id if index == 1 else None,
            title=_("Rencontre de mentorat"),
        )
        MeetingAttendee.objects.bulk_create(
            [
                MeetingAttendee(
                    meeting=meeting,
                    member=m,
                    response=Response.ACCEPTED if m.pk == by.pk else Response.PENDING,
                    responded_at=timezone.now() if m.pk == by.pk else None,
                )
                for m in attendees
            ]
        )
        meetings.append(meeting)
    log_action(
        "meetings.booked", actor=by, target=relationship, data={"uid": uid, "count": len(meetings)}
    )
    meetings_changed.send(Meeting, program=program, member_ids=[m.pk for m in attendees])
    _invite(
        meetings=meetings,
        attendees=[m for m in attendees if m.pk != by.pk],
        key="meeting_invitation",
    )
    return meetings


def _check_start(starts_at: dt.datetime, errors: dict[str, list[str]]) -> None:
    """Meetings start within a few years: a start in 9999 or 1900 is refused, never stored."""
    try:
        check_schedule_time(starts_at)
    except ParseError as error:
        errors.setdefault("starts_at", []).append(error.message)


def _unavailable(taken: Sequence[dt.datetime], tz: dt.tzinfo) -> ValidationError:
    dates = ", ".join(
        formats.date_format(localtime_or_utc(s, tz), "SHORT_DATETIME_FORMAT") for s in taken
    )
    return ValidationError(
        {
            "starts_at": [
                _("Créneau indisponible pour l'un des participants : %(dates)s.") % {"dates": dates}
            ]
        }
    )


class AnswerRefused(Exception):
    def __init__(self, reason: str, attendance: MeetingAttendee | None = None):
        super().__init__(reason)
        self.reason = reason
        #: whose link it was, when the signature is good (to answer in their language)
        self.attendance = attendance


def answer_check(*, token: str, lock: bool = False) -> tuple[MeetingAttendee, str]:
    """What a signed answer link says, if it may still answer: the signature is good, the
    meeting is not cancelled, it is still at the time the link was sent for (the same
    SEQUENCE), it has not started and this person has not answered yet."""
    try:
        data = signing.loads(token, salt="meeting-answer")
        attendance_id, answer = int(data["a"]), str(data["r"])
        # links sent before the sequence was signed are for the first time (sequence 0)
        sequence = int(data.get("s", 0))
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError) as error:
        raise AnswerRefused(_("Ce lien n'est pas valide.")) from error
    rows = MeetingAttendee.objects.select_related("meeting__program__organisation", "member")
    if lock:
        rows = rows.select_for_update(of=("self",))
    attendance = rows.filter(pk=attendance_id).first() if 1 <= attendance_id < 2**63 else None
    if attendance is None or answer not in (Response.ACCEPTED, Response.DECLINED):
        raise AnswerRefused(_("Ce lien n'est pas valide."))
    meeting = attendance.meeting
    if meeting.status == MeetingStatus.CANCELLED:
        raise AnswerRefused(_("Cette rencontre a été annulée."), attendance)
    if meeting.sequence != sequence:
        raise AnswerRefused(
            _(
                "Ce lien concerne un ancien horaire : la rencontre a changé depuis. "
                "Utilisez le lien du dernier courriel reçu."
            ),
            attendance,
        )
    if meeting.starts_at <= timezone.now():
        raise AnswerRefused(_("Cette rencontre est passée : le lien a expiré."), attendance)
    if attendance.response != Response.PENDING:
        raise AnswerRefused(_("Vous avez déjà répondu à cette invitation."), attendance)
    return attendance, answer


@transaction.atomic
def meeting_answer(*, token: str) -> tuple[MeetingAttendee, str]:
    """The « Accepter » / « Refuser » links, once the person has clicked the button of the
    page the link opens (a POST: a mail scanner fetching the link answers nothing). Signed,
    once, only before the meeting and only for its current time. The answer applies to this
    occurrence and the ones after it in the series."""
    attendance, answer = answer_check(token=token, lock=True)
    meeting = attendance.meeting
    # the ones after it that have not changed on their own since (a moved occurrence has a
    # higher SEQUENCE and its own new invitation): a link answers only for what it showed
    series = MeetingAttendee.objects.filter(
        member=attendance.member,
        meeting__uid=meeting.uid,
        meeting__starts_at__gte=meeting.starts_at,
        meeting__sequence=meeting.sequence,
        response=Response.PENDING,
    ).exclude(meeting__status=MeetingStatus.CANCELLED)
    series.update(response=answer, responded_at=timezone.now())
    log_action("meeting.answered", actor=attendance.member, target=meeting, data={"answer": answer})
    meetings_changed.send(Meeting, program=meeting.program, member_ids=[attendance.member_id])
    return attendance, answer


def _scope(meeting: Meeting, scope: str) -> list[Meeting]:
    """The occurrences a change applies to, locked, cancelled ones left out: this one, or
    it and the ones after it (even when this one is already cancelled)."""
    rows = Meeting.objects.select_for_update(of=("self",)).select_related("program__organisation")
    if scope == "following" and meeting.frequency != Frequency.NONE:
        rows = rows.filter(uid=meeting.uid, starts_at__gte=meeting.starts_at)
    else:
        rows = rows.filter(pk=meeting.pk)
    return list(rows.exclude(status=MeetingStatus.CANCELLED).order_by("starts_at", "pk"))


def _attendees_of(meeting: Meeting) -> list[Member]:
    return [a.member for a in meeting.attendances.select_related("member").order_by("pk")]


class MeetingOver(ValidationError):
    """A change refused because the meeting has ended: its evaluations settle it now."""


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: Member, scope: str = "one") -> int:
    """« Annuler »: this occurrence, or it and all that follow; every attendee is told (an
    .ics with METHOD:CANCEL and a higher SEQUENCE). What is already cancelled is left as it
    is, so a retry tells nobody twice; « the following » from a cancelled occurrence still
    cancels the later ones. A meeting that has ended is not cancelled (MeetingOver): it
    waits for its evaluations, or a manager marks it not held."""
    now = timezone.now()
    targets = _scope(meeting, scope)
    if any(t.pk == meeting.pk and t.has_ended(now) for t in targets):
        raise MeetingOver(
            _("Cette rencontre est terminée : elle ne s'annule plus, marquez-la comme non tenue.")
        )
    targets = [t for t in targets if not t.has_ended(now)]  # « the following »: to come only
    if not targets:
        return 0
    for target in targets:
        target.status = MeetingStatus.CANCELLED
        target.sequence += 1
        target.save(update_fields=["status", "sequence", "updated_at"])
    attendees = _attendees_of(meeting)
    log_action(
        "meetings.cancelled", actor=by, target=meeting, data={"scope": scope, "count": len(targets)}
    )
    meetings_changed.send(Meeting, program=meeting.program, member_ids=[m.pk for m in attendees])
    _invite(
        meetings=targets,
        attendees=[m for m in attendees if m.pk != by.pk],
        key="meeting_cancelled",
        method="CANCEL",
    )
    return len(targets)


def _wall_clock(moment: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    return localtime_or_utc(moment, tz).replace(tzinfo=None)


@transaction.atomic
def meeting_reschedule(
    *, meeting: Meeting, by: Member, starts_at: dt.datetime, scope: str = "one"
) -> list[Meeting]:
    """« Reporter »: move this occurrence (or it and all that follow, by the same wall-clock
    shift) to free time for every attendee; answers are asked again. A cancelled meeting
    stays cancelled; one that has ended is not moved (MeetingOver). A retry (every target
    already at its new time) changes nothing: no new SEQUENCE, answers kept, nobody told
    twice."""
    if timezone.is_naive(starts_at) or starts_at <= timezone.now():
        raise ValidationError({"starts_at": [_("Choisissez un créneau à venir.")]})
    errors: dict[str, list[str]] = {}
    _check_start(starts_at, errors)
    if errors:
        raise ValidationError(errors)
    current = Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)
    if current.has_ended(timezone.now()):
        # held or not, it is settled by its evaluations: moving it would erase them
        raise MeetingOver(
            _(
                "Cette rencontre est terminée : elle ne se reporte plus. Programmez-en une "
                "nouvelle, et marquez celle-ci comme non tenue si elle n'a pas eu lieu."
            )
        )
    if current.status == MeetingStatus.CANCELLED:
        raise ValidationError(
            {"status": [_("Cette rencontre est annulée : elle ne peut pas être reportée.")]}
        )
    meeting.starts_at, meeting.sequence = current.starts_at, current.sequence
    tz = meeting.program.organisation.tzinfo
    targets = _scope(meeting, scope)
    shift = _wall_clock(starts_at, tz) - _wall_clock(meeting.starts_at, tz)
    moved: list[tuple[dt.datetime, Meeting]] = []
    for target in targets:
        try:
            new_start = (
                (_wall_clock(target.starts_at, tz) + shift).replace(tzinfo=tz).astimezone(dt.UTC)
            )
        except OverflowError:
            new_start = scheduling.FAR_FUTURE
        _check_start(new_start, errors)
        moved.append((new_start, target))
    if errors:
        raise ValidationError({"starts_at": sorted(set(errors["starts_at"]))})
    if all(new_start == target.starts_at for new_start, target in moved):
        return targets  # already there: the retry of a reschedule moves nothing
    attendees = _attendees_of(meeting)
    people = people_of(
        attendees,
        fallback_tz=meeting.program.organisation.timezone,
        between=_span([s for s, _t in moved], meeting.duration_minutes),
        exclude=[t.pk for t in targets],
    )
    taken = scheduling.conflicts(
        [s for s, _t in moved], dt.timedelta(minutes=meeting.duration_minutes), people
    )
    if taken:
        raise _unavailable(taken, tz)
    for new_start, target in moved:
        target.original_start = target.original_start or target.starts_at
        target.starts_at = new_start
        target.sequence += 1
        target.status = MeetingStatus.SCHEDULED
        target.status_overridden = False
        target.save(
            update_fields=[
                *("starts_at", "original_start", "sequence", "status", "status_overridden"),
                "updated_at",
            ]
        )
        target.attendances.exclude(member=by).update(response=Response.PENDING, responded_at=None)
        # a new time is a meeting still to come: evaluated again after its new end
        target.attendances.update(
            took_place=None, rating=None, evaluated_at=None, feedback_sent_at=None
        )
    log_action(
        "meetings.rescheduled",
        actor=by,
        target=meeting,
        data={"scope": scope, "to": starts_at.isoformat()},
    )
    meetings_changed.send(Meeting, program=meeting.program, member_ids=[m.pk for m in attendees])
    _invite(
        meetings=[t for _s, t in moved],
        attendees=[m for m in attendees if m.pk != by.pk],
        key="meeting_postponed",
    )
    return [t for _s, t in moved]


@transaction.atomic
def relationship_end(*, relationship: Relationship, by: Member | None) -> Relationship:
    """One pairing becomes « Complété »; its history and hours stay."""
    if relationship.status == RelationshipStatus.MATCHED:
        relationship.status = RelationshipStatus.COMPLETED
        relationship.ended_at = timezone.now()
        relationship.save(update_fields=["status", "ended_at", "updated_at"])
        log_action("relationship.ended", actor=by, target=relationship)
        member_counters_refresh(member_ids=[relationship.mentor_id, relationship.mentee_id])
    return relationship


#: what a manager may change on a relationship (the pair itself is not: that is a new match)
RELATIONSHIP_FIELDS = ("status", "started_on", "agreement_url", "evaluation_url")


@transaction.atomic
def relationship_update(
    *, relationship: Relationship, changes: dict[str, object], by: Member | None
) -> Relationship:
    """« Modifier la correspondance »: its status (ended, or back in progress), start date
    and links. Back in progress is refused when the pair is matched again meanwhile."""
    old = {name: getattr(relationship, name) for name in RELATIONSHIP_FIELDS}
    for name, value in changes.items():
        if name not in RELATIONSHIP_FIELDS:
            raise ValueError(name)
        setattr(relationship, name, value)
    if relationship.status == old["status"]:
        pass
    elif relationship.status == RelationshipStatus.COMPLETED:
        relationship.ended_at = timezone.now()
    else:
        relationship.ended_at = None
        twin = Relationship.objects.filter(
            program_id=relationship.program_id,
            mentor_id=relationship.mentor_id,
            mentee_id=relationship.mentee_id,
            status=RelationshipStatus.MATCHED,
        ).exclude(pk=relationship.pk)
        if twin.exists():
            raise _already_matched(relationship.mentor, relationship.mentee)
    changed = {
        name: {"old": str(old[name] or ""), "new": str(getattr(relationship, name) or "")}
        for name in RELATIONSHIP_FIELDS
        if getattr(relationship, name) != old[name]
    }
    if not changed:
        return relationship
    try:
        with transaction.atomic():
            relationship.save()
    except IntegrityError as error:
        raise _already_matched(relationship.mentor, relationship.mentee) from error
    log_action("relationship.updated", actor=by, target=relationship, data=changed)
    member_counters_refresh(member_ids=[relationship.mentor_id, relationship.mentee_id])
    return relationship


def relationship_deletion_blockers(relationship: Relationship) -> dict[str, int]:
    """What deleting would take with it: its meetings, held and to come. A relationship
    with a held meeting is not deleted (its hours count in the reports): end it instead."""
    meetings = relationship.meetings.all()
    return {
        "held": meetings.filter(status=MeetingStatus.CONFIRMED).count(),
        "upcoming": meetings.filter(
            status=MeetingStatus.SCHEDULED, starts_at__gte=timezone.now()
        ).count(),
        "all": meetings.count(),
    }


class RelationshipHasHistory(ValidationError):
    pass


@transaction.atomic
def relationship_delete(*, relationship: Relationship, by: Member) -> None:
    """Delete a pairing made by mistake, with its meetings (those to come are cancelled
    first, so every attendee is told); refused (RelationshipHasHistory) once a meeting was
    held. Audited with what went with it."""
    locked = Relationship.objects.select_for_update().get(pk=relationship.pk)
    counts = relationship_deletion_blockers(locked)
    if counts["held"]:
        raise RelationshipHasHistory(
            _(
                "Cette relation a déjà des réunions tenues : terminez-la plutôt, "
                "son historique et ses heures restent dans les rapports."
            )
        )
    pair = [locked.mentor_id, locked.mentee_id]
    for meeting in locked.meetings.filter(
        status=MeetingStatus.SCHEDULED, starts_at__gte=timezone.now()
    ).select_related("program__organisation"):
        meeting_cancel(meeting=meeting, by=by)
    log_action(
        "relationship.deleted",
        actor=by,
        target=locked,
        data={"meetings": counts["all"], "program": locked.program_id},
    )
    locked.delete()
    member_counters_refresh(member_ids=pair)


def match_confirmed_notify(*, relationship: Relationship) -> None:
    """« Jumelage confirmé » to both, in their language, through the outbox."""
    from cohorte.messaging import services as messaging

    program = relationship.program
    for member, partner in (
        (relationship.mentor, relationship.mentee),
        (relationship.mentee, relationship.mentor),
    ):
        messaging.system_email(
            organisation_id=program.organisation_id,
            key="match_confirmed",
            member=member,
            values={"partner": partner.full_name, "program": program.name},
            program=program,
        )


@transaction.atomic
def group_session_create(
    *,
    program: Program,
    by: Member,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    members: Sequence[Member] = (),
    led_by: Member | None = None,
    capacity: int | None = None,
    place: str = "",
) -> Meeting:
    """A private group session (its members invited) or a masterclass led by a mentor,
    open to the programme's members up to its capacity."""
    errors: dict[str, list[str]] = {}
    if kind not in ("group", "masterclass"):
        errors["kind"] = [_("Type de séance inconnu.")]
    if not title.strip():
        errors["title"] = [_("Donnez un titre à la séance.")]
    if not 15 <= duration_minutes <= 480:
        errors["duration"] = [_("La durée doit être de 15 minutes à 8 heures.")]
    if timezone.is_naive(starts_at) or starts_at <= timezone.now():
        errors["starts_at"] = [_("Choisissez une date à venir.")]
    else:
        _check_start(starts_at, errors)
    if kind == "group" and len(members) < 2:
        errors["members"] = [_("Une séance de groupe réunit au moins deux membres.")]
    if kind == "masterclass" and (led_by is None or not capacity):
        errors["led_by"] = [_("Un cours de maître a un mentor qui l'anime et un nombre de places.")]
    if errors:
        raise ValidationError(errors)
    meeting = Meeting.objects.create(
        program=program,
        kind=kind,
        title=title.strip()[:200],
        starts_at=starts_at,
        original_start=starts_at,
        duration_minutes=duration_minutes,
        status=MeetingStatus.SCHEDULED,
        led_by=led_by,
        capacity=capacity if kind == "masterclass" else None,
        place=place.strip()[:500],
        created_by=by,
    )
    attendees = list(members) if kind == "group" else ([led_by] if led_by else [])
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=meeting, member=m) for m in attendees]
    )
    log_action("session.created", actor=by, target=meeting, data={"kind": kind})
    if attendees:
        _invite(meetings=[meeting], attendees=attendees, key="meeting_invitation")
    return meeting


@transaction.atomic
def masterclass_toggle(*, meeting: Meeting, member: Member) -> bool:
    """Sign up (or leave) a masterclass, within its capacity."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    existing = MeetingAttendee.objects.filter(meeting=meeting, member=member).first()
    if existing is not None:
        if meeting.led_by_id == member.pk:
            raise ValidationError(_("Vous animez ce cours de maître."))
        existing.delete()
        return False
    if meeting.capacity and meeting.attendances.count() >= meeting.capacity + (
        1 if meeting.led_by_id else 0
    ):
        raise ValidationError(_("Ce cours de maître est complet."))
    MeetingAttendee.objects.create(
        meeting=meeting, member=member, response=Response.ACCEPTED, responded_at=timezone.now()
    )
    return True


def meeting_mark_held(*, meeting: Meeting, by: Member) -> Meeting:
    """« Marquer comme tenue »: the manager's audited override of the evaluations, counted
    in the confirmed meetings, the progress and the mentoring hours of both."""
    from .evaluations import meeting_override

    return meeting_override(meeting=meeting, by=by, held=True)
