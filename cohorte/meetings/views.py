import datetime as dt
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.dates import WEEKDAYS
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import (
    MAX_ID,
    ParseError,
    check_schedule_time,
    parse_date,
    parse_datetime,
    parse_id,
    parse_ids,
    parse_int,
    parse_time,
    zone_or_default,
)
from cohorte.programs.models import Program
from cohorte.programs.selectors import program_for

from . import matching, selectors, services
from .forms import RelationshipForm
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
    status_label,
)

TABS = ("all", "matched", "completed", "meetings", "groups")


def _viewer_tz(request: MemberRequest, program: Program) -> zoneinfo.ZoneInfo:
    """The viewer's own zone; a bad stored name falls back to the organisation's."""
    return selectors.viewer_timezone(member=request.user, program=program)


def _int_or(value: object, default: int, *, minimum: int, maximum: int) -> int:
    """A page parameter: a bad or missing one is the default, never an error page."""
    try:
        return parse_int(value, minimum=minimum, maximum=maximum)
    except ParseError:
        return default


def _id_or_none(value: object) -> int | None:
    try:
        return parse_id(value)
    except ParseError:
        return None


@login_required
def relationships(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Les relations » with its tabs and live counts."""
    program = program_for(request.user, program_id)
    request.current_program = program
    tab: str = request.GET.get("tab") or "all"
    tab = tab if tab in TABS else "all"
    q = request.GET.get("q", "")[:100]
    size = _int_or(request.GET.get("size"), 10, minimum=1, maximum=100)
    size = size if size in (10, 25, 50, 100) else 10
    order = "asc" if request.GET.get("order") == "asc" else "desc"
    counts = selectors.tab_counts(program)
    rows: QuerySet
    if tab in ("meetings", "groups"):
        rows = selectors.meeting_rows(program=program, q=q, order=order).values_list(
            "pk", flat=True
        )
        if tab == "groups":
            rows = (
                Meeting.objects.filter(program=program)
                .exclude(kind="one_to_one")
                .annotate(taken=selectors.attendance_count())
                .order_by("-starts_at", "pk")
            )
        total = counts["meetings"] if tab == "meetings" else counts["groups"]
    else:
        status = {
            "matched": RelationshipStatus.MATCHED,
            "completed": RelationshipStatus.COMPLETED,
        }.get(tab, "")
        rows = selectors.relationship_rows(program=program, status=status, q=q)
        total = counts[tab]
    paginator = Paginator(rows, size)
    if not q.strip():
        paginator.count = total  # the tab's live count: no second COUNT of the same rows
    page = paginator.get_page(_int_or(request.GET.get("page"), 1, minimum=1, maximum=MAX_ID))
    if tab == "meetings":  # a page of ids, then those meetings whole
        page.object_list = selectors.meetings_shown(cast("list[int]", list(page.object_list)))
        _clock(cast("list[Meeting]", page.object_list))
        now = timezone.now()
        shown_meetings = cast("list[Meeting]", page.object_list)
        sides = selectors.meeting_sides(program=program, meetings=shown_meetings)
        for meeting in shown_meetings:
            meeting.shown = meeting.shown_status(now)  # type: ignore[attr-defined]
            meeting.shown_label = status_label(meeting.shown)  # type: ignore[attr-defined]
            meeting.attention = selectors.evaluation_attention(meeting, now)  # type: ignore[attr-defined]
            meeting.mentor_side, meeting.mentee_side = sides[meeting.pk]  # type: ignore[attr-defined]
    context = {
        "program": program,
        "tab": tab,
        "q": q,
        "size": size,
        "order": order,
        "next_order": "asc" if order == "desc" else "desc",
        "counts": counts,
        "page": page,
        "total": total,
        "filtered": bool(q.strip()),
        "tz": _viewer_tz(request, program),
    }
    template = "meetings/relationships.html"
    if request.headers.get("HX-Target") == "relations":
        template += "#relations"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _relationship_for(request: MemberRequest, relationship_id: int) -> Relationship:
    relationship = get_object_or_404(
        Relationship.objects.select_related("program__organisation", "mentor", "mentee"),
        pk=relationship_id,
    )
    program_for(request.user, relationship.program_id)  # 404 unless they manage it
    request.current_program = relationship.program
    return relationship


@login_required
def relationship_detail(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """The relationship's dashboard: next meeting, upcoming and past ones, availability."""
    relationship = _relationship_for(request, relationship_id)
    now = timezone.now()
    meetings = relationship.meetings.prefetch_related("attendances__member").order_by("starts_at")
    # past: over (start + duration), or cancelled; a meeting under way is still to come
    upcoming = [m for m in meetings if not m.has_ended(now) and m.status != MeetingStatus.CANCELLED]
    past = [m for m in meetings if m.has_ended(now) or m.status == MeetingStatus.CANCELLED]
    for meeting in past:
        meeting.shown = meeting.shown_status(now)  # type: ignore[attr-defined]
    return render(
        request,
        "meetings/relationship.html",
        {
            "relationship": relationship,
            "program": relationship.program,
            "upcoming": upcoming,
            "past": list(reversed(past)),
            "held": sum(1 for m in meetings if m.status == MeetingStatus.CONFIRMED),
            "availability": {
                person: list(Availability.objects.filter(member=person))
                for person in (relationship.mentor, relationship.mentee)
            },
            "tz": _viewer_tz(request, relationship.program),
        },
    )


def _asked_date(request: HttpRequest, field: str, default: dt.date) -> tuple[dt.date, bool]:
    """A date from the query string (`?day=`, `?date=`): a bad one (not a date, year 9999)
    shows the default day with a message, never an error page. Also says if one was given."""
    text = request.GET.get(field, "")
    if not text:
        return default, False
    try:
        return parse_date(text), True
    except ParseError as error:
        messages.error(request, error.message)
        return default, False


def _day(request: HttpRequest, tz: zoneinfo.ZoneInfo) -> tuple[dt.date, bool]:
    return _asked_date(request, "day", timezone.now().astimezone(tz).date() + dt.timedelta(days=1))


def _posted_start(request: HttpRequest, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The chosen slot (an ISO time; without an offset, the viewer's zone), within the
    bounds of a meeting; ValueError (ParseError with its reason) if none or out of range."""
    if not request.POST.get("start"):
        raise ValueError("no slot")
    return check_schedule_time(parse_datetime(request.POST.get("start"), tz=tz))


def _keep(**params: str | int) -> dict:
    """The parameters the slot picker's day navigation keeps (its hidden inputs, its links)."""
    return {"keep": params, "keep_query": urlencode(params)}


def _slot_picker(day: dt.date, slots, tz: zoneinfo.ZoneInfo) -> dict:
    """What the slot picker (_slots.html) shows: the day, its neighbours, and the free
    slots grouped into morning, afternoon and evening."""
    groups: dict[str, list] = {"morning": [], "afternoon": [], "evening": []}
    for slot in slots:
        groups[slot.part_of_day(tz)].append(slot)
    return {
        "day": day,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "groups": groups,
        "tz": tz,
    }


@login_required
def book(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """« Planifier une réunion »: duration, attendees, type, place, frequency, then a free
    slot of both (in the administrator's time zone); « Envoyer la demande »."""
    relationship = _relationship_for(request, relationship_id)
    program = relationship.program
    tz = _viewer_tz(request, program)
    source = request.POST if request.method == "POST" else request.GET
    duration = 30
    if source.get("duration"):
        try:
            duration = parse_int(source.get("duration"), minimum=15, maximum=120)
        except ParseError as error:
            messages.error(request, _("Durée : %(reason)s.") % {"reason": error.message})
            if request.method == "POST":
                return redirect("meetings:book", relationship_id=relationship.pk)
    with_admin = source.get("with_admin") == "1"
    if request.method == "POST":
        try:
            starts_at = _posted_start(request, tz)
            count = parse_int(request.POST.get("count") or 1, minimum=1, maximum=52)
            services.meetings_book(
                relationship=relationship,
                by=request.user,
                starts_at=starts_at,
                duration_minutes=duration,
                meeting_type=request.POST.get("meeting_type", ""),
                place=request.POST.get("place", "").strip()[:500],
                frequency=request.POST.get("frequency", "none"),
                count=count,
                with_administrator=with_admin,
            )
        except ParseError as error:
            messages.error(request, error.message)
        except ValueError:
            messages.error(request, _("Choisissez un créneau."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Demande envoyée : chaque participant reçoit une invitation.")
            )
            return redirect("meetings:relationship", relationship_id=relationship.pk)
    day, chosen_day = _day(request, tz)
    members = [relationship.mentor, relationship.mentee] + ([request.user] if with_admin else [])
    day, slots = services.free_slots(
        members=members,
        day=day,
        duration=duration,
        viewer_tz=tz,
        fallback_tz=program.organisation.timezone,
        look_ahead=0 if chosen_day else 21,  # open on a day with room for all
    )
    return render(
        request,
        "meetings/book.html",
        {
            "relationship": relationship,
            "program": program,
            **_slot_picker(day, slots, tz),
            **_keep(duration=duration, **({"with_admin": "1"} if with_admin else {})),
            "duration": duration,
            "durations": [15, 30, 45, 60, 90, 120],
            "types": [
                (v, label) for v, label in MeetingType.choices if v in (program.meeting_types or [])
            ],
            "frequencies": Frequency.choices,
            "with_admin": with_admin,
            "values": source,
        },
    )


def _meeting_for(request: MemberRequest, meeting_id: int) -> Meeting:
    meeting = get_object_or_404(
        Meeting.objects.select_related("program__organisation"), pk=meeting_id
    )
    program_for(request.user, meeting.program_id)
    request.current_program = meeting.program
    return meeting


@login_required
def meeting_cancel(request: MemberRequest, meeting_id: int) -> HttpResponse:
    """« Annuler » asks first; a recurring meeting: this one, or it and all that follow."""
    meeting = _meeting_for(request, meeting_id)
    if meeting.status != MeetingStatus.CANCELLED and meeting.has_ended(timezone.now()):
        messages.error(
            request,
            _("Cette rencontre est terminée : elle ne s'annule plus, marquez-la comme non tenue."),
        )
        return redirect(_back(meeting))
    if request.method == "POST":
        scope = "following" if request.POST.get("scope") == "following" else "one"
        try:
            count = services.meeting_cancel(meeting=meeting, by=request.user, scope=scope)
        except services.MeetingOver as refusal:
            messages.error(request, " ".join(refusal.messages))
            return redirect(_back(meeting))
        messages.success(
            request,
            _("%(count)d rencontre(s) annulée(s) ; les participants sont prévenus.")
            % {"count": count},
        )
        return redirect(_back(meeting))
    return render(
        request,
        "meetings/cancel.html",
        {"meeting": meeting, "program": meeting.program, "back": _back(meeting)},
    )


def _back(meeting: Meeting) -> str:
    from django.urls import reverse

    if meeting.relationship_id:
        return reverse("meetings:relationship", args=[meeting.relationship_id])
    return reverse("meetings:calendar", args=[meeting.program_id])


@login_required
def meeting_reschedule(request: MemberRequest, meeting_id: int) -> HttpResponse:
    """« Reporter »: the slot calendar, then « Appliquer »."""
    meeting = _meeting_for(request, meeting_id)
    program = meeting.program
    tz = _viewer_tz(request, program)
    if request.method == "POST":
        try:
            starts_at = _posted_start(request, tz)
            services.meeting_reschedule(
                meeting=meeting,
                by=request.user,
                starts_at=starts_at,
                scope="following" if request.POST.get("scope") == "following" else "one",
            )
        except ParseError as error:
            messages.error(request, error.message)
        except ValueError:
            messages.error(request, _("Choisissez un créneau."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Rencontre reportée ; les participants sont prévenus."))
            return redirect(_back(meeting))
    day, _chosen = _day(request, tz)
    members = [a.member for a in meeting.attendances.select_related("member")]
    day, slots = services.free_slots(
        members=members,
        day=day,
        duration=meeting.duration_minutes,
        viewer_tz=tz,
        fallback_tz=program.organisation.timezone,
        exclude=[meeting.pk],
    )
    return render(
        request,
        "meetings/reschedule.html",
        {
            "meeting": meeting,
            "program": program,
            **_slot_picker(day, slots, tz),
            **_keep(),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """« Accepter » / « Refuser » from the e-mail. Opening the link (GET, HEAD: what a mail
    scanner does) only shows the meeting and asks for one click; the click (a POST with
    its CSRF token) answers. No sign-in needed: the signature is the credential."""
    try:
        if request.method == "POST":
            attendance, response = services.meeting_answer(token=token)
        else:
            attendance, response = services.answer_check(token=token)
    except services.AnswerRefused as refused:
        status = 400 if request.method == "POST" else 200
        if refused.attendance is None:
            return render(
                request, "meetings/answer.html", {"problem": refused.reason}, status=status
            )
        with _as_recipient(refused.attendance):
            return render(
                request,
                "meetings/answer.html",
                {"problem": refused.reason, **_answer_context(refused.attendance)},
                status=status,
            )
    with _as_recipient(attendance):
        context = {"response": response, **_answer_context(attendance)}
        if request.method == "POST":
            context["done"] = True
        else:
            other = Response.DECLINED if response == Response.ACCEPTED else Response.ACCEPTED
            context["other_token"] = services.answer_token(attendance, other)
        return render(request, "meetings/answer.html", context)


@contextmanager
def _as_recipient(attendance: MeetingAttendee) -> Iterator[None]:
    """The page in the language and time zone of the person the link was sent to."""
    member = attendance.member
    tz = zone_or_default(member.timezone, attendance.meeting.program.organisation.tzinfo)
    with translation.override(member.language), timezone.override(tz):
        yield


def _answer_context(attendance: MeetingAttendee) -> dict:
    meeting = attendance.meeting
    others = [
        a.member
        for a in meeting.attendances.select_related("member").order_by("pk")
        if a.member_id != attendance.member_id
    ]
    return {
        "attendance": attendance,
        "meeting": meeting,
        "others": others,
        "tz": timezone.get_current_timezone(),
    }


def _clock(meetings: Sequence[Meeting]) -> None:
    """Each meeting's times as the pages write them, in the active time zone like the
    `moment` filter and in the active language's named formats (cohorte/formats): « 14h30 »
    or « 14:30 », « mardi 3 mars 14h30 », « 3 mars 2026 ». A day's name and a time of day
    are formatted once each, not per meeting: date formatting was most of the rendering of
    a calendar month or of a hundred rows."""
    names: dict[dt.date, tuple[str, str]] = {}
    clock: dict[tuple[int, int], str] = {}

    def hm(moment: dt.datetime) -> str:
        key = (moment.hour, moment.minute)
        if key not in clock:
            clock[key] = formats.time_format(moment, "TIME_FORMAT")
        return clock[key]

    for meeting in meetings:
        start, end = localtime_or_utc(meeting.starts_at), localtime_or_utc(meeting.ends_at)
        day = start.date()
        if day not in names:
            names[day] = (
                formats.date_format(start, "WEEKDAY_MONTH_DAY_FORMAT"),
                formats.date_format(start, "DATE_FORMAT"),
            )
        meeting.start_hm, meeting.end_hm = hm(start), hm(end)  # type: ignore[attr-defined]
        meeting.start_long = f"{names[day][0]} {meeting.start_hm}"  # type: ignore[attr-defined]
        meeting.date_long = names[day][1]  # type: ignore[attr-defined]


#: sessions read for a day of each view, the others behind « + N autres » (the selector's)
CALENDAR_PER_DAY = selectors.CALENDAR_PER_DAY
#: the page's ?view= and FullCalendar's name for it
CALENDAR_VIEWS = {"month": "dayGridMonth", "week": "timeGridWeek", "day": "timeGridDay"}


@login_required
def calendar(request: MemberRequest, program_id: int) -> HttpResponse:
    """The sessions calendar (FullCalendar): month, week or day with an hour grid, in the
    viewer's time zone, stated on the page; 1:1 yellow, masterclass green, private group
    blue, cancelled struck through. The sessions come from the feed (api.calendar_feed);
    a session dragged to another time is confirmed, then goes through « Reporter »."""
    from django.urls import reverse

    program = program_for(request.user, program_id)
    request.current_program = program
    tz = _viewer_tz(request, program)
    view = request.GET.get("view", "")
    view = view if view in CALENDAR_VIEWS else "month"
    anchor, _chosen = _asked_date(request, "date", timezone.now().astimezone(tz).date())
    return render(
        request,
        "meetings/calendar.html",
        {
            "program": program,
            "view": view,
            "fc_view": CALENDAR_VIEWS[view],
            "anchor": anchor,
            "tz": tz,
            "feed_url": reverse("api:program_calendar", args=[program.pk]),
        },
    )


@login_required
def availability(request: MemberRequest) -> HttpResponse:
    """A member's weekly availability, in their own time zone."""
    member = request.user
    if request.method == "POST":
        rows = []
        for weekday in range(7):
            start, end = (
                request.POST.get(f"start_{weekday}", ""),
                request.POST.get(f"end_{weekday}", ""),
            )
            if not start and not end:
                continue
            try:
                rows.append(
                    Availability(
                        member=member,
                        weekday=weekday,
                        start=parse_time(start),
                        end=parse_time(end),
                    )
                )
            except ValueError:
                messages.error(request, _("Heure invalide."))
                return redirect("meetings:availability")
            if rows[-1].end <= rows[-1].start:
                messages.error(request, _("La fin doit suivre le début."))
                return redirect("meetings:availability")
        Availability.objects.filter(member=member).delete()
        Availability.objects.bulk_create(rows)
        log_action(
            "member.availability_saved", actor=member, target=member, data={"windows": len(rows)}
        )
        messages.success(request, _("Disponibilités enregistrées."))
        return redirect("space:home")
    current = {a.weekday: a for a in Availability.objects.filter(member=member)}
    days = [(n, WEEKDAYS[n], current.get(n)) for n in range(7)]
    return render(
        request,
        "meetings/availability.html",
        {
            "days": days,
            "tz": zone_or_default(
                member.timezone,
                member.organisation.tzinfo
                if member.organisation
                else zoneinfo.ZoneInfo(settings.TIME_ZONE),
            ),
        },
    )


@login_required
@require_POST
def relationship_end(request: MemberRequest, relationship_id: int) -> HttpResponse:
    relationship = _relationship_for(request, relationship_id)
    services.relationship_end(relationship=relationship, by=request.user)
    messages.success(request, _("Relation terminée."))
    return redirect("meetings:relationships", program_id=relationship.program_id)


@login_required
def relationship_edit(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """« Modifier la correspondance »: status, start date and links; the pair stays."""
    relationship = _relationship_for(request, relationship_id)
    form = RelationshipForm(request.POST or None, instance=relationship)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_update(
                relationship=Relationship.objects.get(pk=relationship.pk),
                changes={name: form.cleaned_data[name] for name in form.fields},
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Relation modifiée."))
            return redirect("meetings:relationship", relationship_id=relationship.pk)
    return render(
        request,
        "meetings/relationship_edit.html",
        {"relationship": relationship, "program": relationship.program, "form": form},
    )


@login_required
def relationship_delete(request: MemberRequest, relationship_id: int) -> HttpResponse:
    """Delete a match made by mistake, after a page that says what goes with it."""
    relationship = _relationship_for(request, relationship_id)
    counts = services.relationship_deletion_blockers(relationship)
    if request.method == "POST" and not counts["held"]:
        program_id = relationship.program_id
        try:
            services.relationship_delete(relationship=relationship, by=request.user)
        except ValidationError as error:  # a meeting was marked held meanwhile
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Relation supprimée."))
            return redirect("meetings:relationships", program_id=program_id)
        counts = services.relationship_deletion_blockers(relationship)
    return render(
        request,
        "meetings/relationship_delete.html",
        {"relationship": relationship, "program": relationship.program, "counts": counts},
    )


@login_required
def relationship_new(request: MemberRequest, program_id: int) -> HttpResponse:
    """Create a match by hand, with each one's load against their maximum, and suggestions
    of mentors for the chosen mentee."""
    program = program_for(request.user, program_id)
    request.current_program = program
    mentors = list(matching.mentors_of(program).order_by("last_name", "first_name"))
    mentees = list(matching.mentees_of(program).order_by("last_name", "first_name"))
    load = matching.current_load(program)
    mentee_load = dict(
        Relationship.objects.filter(program=program, status=RelationshipStatus.MATCHED)
        .values("mentee_id")
        .annotate(n=Count("pk"))
        .values_list("mentee_id", "n")
    )
    if request.method == "POST":
        mentor_id, mentee_id = (
            _id_or_none(request.POST.get("mentor")),
            _id_or_none(request.POST.get("mentee")),
        )
        mentor = next((m for m in mentors if m.pk == mentor_id), None)
        mentee = next((m for m in mentees if m.pk == mentee_id), None)
        if mentor is None or mentee is None or mentor.pk == mentee.pk:
            messages.error(request, _("Choisissez un mentor et un mentoré de ce programme."))
        elif load.get(mentor.pk, 0) >= mentor.max_mentees:
            messages.error(
                request,
                _("%(name)s a déjà son nombre maximal de mentorés.") % {"name": mentor.full_name},
            )
        elif mentee_load.get(mentee.pk, 0) >= mentee.max_mentors:
            messages.error(
                request,
                _("%(name)s a déjà son nombre maximal de mentors.") % {"name": mentee.full_name},
            )
        else:
            try:
                relationship = services.relationship_create(
                    program=program, mentor=mentor, mentee=mentee, by=request.user
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                services.match_confirmed_notify(relationship=relationship)
                messages.success(request, _("Jumelage créé."))
                return redirect("meetings:relationship", relationship_id=relationship.pk)
    chosen_id = _id_or_none(request.GET.get("mentee"))
    chosen = next((m for m in mentees if m.pk == chosen_id), None)
    return render(
        request,
        "meetings/relationship_new.html",
        {
            "program": program,
            "mentors": [(m, load.get(m.pk, 0)) for m in mentors],
            "mentees": [(m, mentee_load.get(m.pk, 0)) for m in mentees],
            "chosen": chosen,
            "suggestions": matching.suggestions(program=program, mentee=chosen) if chosen else [],
        },
    )


@login_required
def group_session_new(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Créer une session de groupe »: a private group (chosen members) or a public
    masterclass led by a mentor, with a capacity."""
    program = program_for(request.user, program_id)
    request.current_program = program
    members = list(
        program.enrolments.filter(ended_at__isnull=True)
        .select_related("member")
        .order_by("member__last_name")
    )
    tz = _viewer_tz(request, program)
    if request.method == "POST":
        try:
            starts_at = check_schedule_time(parse_datetime(request.POST.get("starts_at"), tz=tz))
            duration = parse_int(request.POST.get("duration") or 60, minimum=15, maximum=480)
            capacity = (
                parse_int(request.POST["capacity"], minimum=1, maximum=1000)
                if request.POST.get("capacity")
                else None
            )
            invited = set(parse_ids(request.POST.getlist("member"), limit=1000))
            leader_id = parse_id(request.POST["led_by"]) if request.POST.get("led_by") else None
        except ParseError as error:
            messages.error(
                request, _("Date, durée ou places invalides : %(reason)s") % {"reason": error}
            )
        else:
            chosen = [e.member for e in members if e.member_id in invited]
            leader = next((e.member for e in members if e.member_id == leader_id), None)
            try:
                services.group_session_create(
                    program=program,
                    by=request.user,
                    kind=request.POST.get("kind", "group"),
                    title=request.POST.get("title", ""),
                    starts_at=starts_at,
                    duration_minutes=duration,
                    members=chosen,
                    led_by=leader,
                    capacity=capacity,
                    place=request.POST.get("place", ""),
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Séance créée."))
                return redirect("meetings:calendar", program_id=program.pk)
    return render(
        request,
        "meetings/group_session_new.html",
        {"program": program, "members": members, "tz": tz},
    )


@login_required
def masterclasses(request: MemberRequest) -> HttpResponse:
    """A member's own space: the masterclasses open to them, to sign up or leave."""
    member = request.user
    programs = member.enrolments.filter(ended_at__isnull=True).values("program_id")
    sessions = (
        Meeting.objects.filter(
            kind="masterclass", program_id__in=programs, starts_at__gte=timezone.now()
        )
        .exclude(status=MeetingStatus.CANCELLED)
        .annotate(taken=Count("attendances"))
        .select_related("led_by", "program")
        .order_by("starts_at")
    )
    if request.method == "POST":
        session = get_object_or_404(sessions, pk=_id_or_none(request.POST.get("meeting")) or 0)
        try:
            joined = services.masterclass_toggle(meeting=session, member=member)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Inscription enregistrée.") if joined else _("Désinscription enregistrée."),
            )
        return redirect("meetings:masterclasses")
    mine = set(member.attendances.filter(meeting__in=sessions).values_list("meeting_id", flat=True))
    return render(request, "meetings/masterclasses.html", {"sessions": sessions, "mine": mine})


@login_required
@require_POST
def meeting_held(request: MemberRequest, meeting_id: int) -> HttpResponse:
    meeting = _meeting_for(request, meeting_id)
    try:
        services.meeting_mark_held(meeting=meeting, by=request.user)
        messages.success(request, _("Rencontre marquée comme tenue."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_back(meeting))


@login_required
@require_POST
def meeting_not_held(request: MemberRequest, meeting_id: int) -> HttpResponse:
    """« Marquer comme non tenue »: the other half of the manager's audited override."""
    from .evaluations import meeting_override

    meeting = _meeting_for(request, meeting_id)
    try:
        meeting_override(meeting=meeting, by=request.user, held=False)
        messages.success(request, _("Rencontre marquée comme non tenue."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_back(meeting))


def _attended(request: MemberRequest, meeting_id: int) -> tuple[Meeting, MeetingAttendee]:
    """A meeting the signed-in member attended; a manager who sees it is refused (403),
    anyone else finds nothing (404)."""
    from django.core.exceptions import PermissionDenied

    from cohorte.programs.selectors import programs_visible_to

    meeting = get_object_or_404(
        Meeting.objects.select_related("program__organisation", "relationship"), pk=meeting_id
    )
    attendance = (
        MeetingAttendee.objects.filter(meeting=meeting, member=request.user)
        .select_related("member")
        .first()
    )
    if attendance is None:
        if programs_visible_to(request.user).filter(pk=meeting.program_id).exists():
            raise PermissionDenied
        raise Http404("No such meeting.")
    return meeting, attendance


@login_required
def meeting_evaluate(request: MemberRequest, meeting_id: int) -> HttpResponse:
    """« Comment s'est passée votre rencontre ? »: did it take place, a rating, a comment,
    in one form (a phone's width is enough). A second visit shows and changes the answer."""
    from . import evaluations

    meeting, attendance = _attended(request, meeting_id)
    errors: dict[str, list[str]] = {}
    refused = ""
    try:
        evaluations.evaluation_check(meeting=meeting, member=request.user, now=timezone.now())
    except evaluations.EvaluationRefused as refusal:
        refused = refusal.message
    values = {
        "took_place": ""
        if attendance.took_place is None
        else ("yes" if attendance.took_place else "no"),
        "rating": str(attendance.rating or ""),
        "comment": attendance.comment,
    }
    if request.method == "POST" and not refused:
        values = {
            "took_place": request.POST.get("took_place", "")[:3],
            "rating": request.POST.get("rating", "")[:2],
            "comment": request.POST.get("comment", "")[: evaluations.EVALUATION_COMMENT_MAX + 1],
        }
        rating: int | None = None
        if values["took_place"] not in ("yes", "no"):
            errors["took_place"] = [_("Dites si la rencontre a eu lieu.")]
        if values["rating"]:
            try:
                rating = parse_int(values["rating"], minimum=1, maximum=5)
            except ParseError:
                errors["rating"] = [_("La note va de 1 à 5.")]
        if not errors:
            try:
                evaluations.meeting_evaluate(
                    meeting=meeting,
                    member=request.user,
                    took_place=values["took_place"] == "yes",
                    rating=rating,
                    comment=values["comment"],
                )
            except ValidationError as error:
                errors = error.message_dict
            except evaluations.EvaluationRefused as refusal:
                refused = refusal.message
            else:
                messages.success(request, _("Merci : votre évaluation est enregistrée."))
                return redirect("meetings:evaluate", meeting_id=meeting.pk)
    others = [
        a.member
        for a in meeting.attendances.select_related("member").order_by("pk")
        if a.member_id != request.user.pk
    ]
    _clock([meeting])
    return render(
        request,
        "meetings/evaluate.html",
        {
            "meeting": meeting,
            "attendance": attendance,
            "others": others,
            "values": values,
            "errors": errors,
            "refused": refused,
            "ratings": range(1, 6),
            "comment_max": evaluations.EVALUATION_COMMENT_MAX,
        },
        status=400 if errors else 200,
    )
