"""The demo tells one story: what a screen shows, every other screen agrees with, and
nothing in it could not have happened. Built once for the module, read by every test;
each failure names the row that broke the rule."""

import datetime as dt
import re
import zoneinfo
from collections import Counter, defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, ParticipantStats, Report
from cohorte.activity.services import STATS_FIELDS, stats_refresh
from cohorte.demo import demo_build
from cohorte.demo.slots import working_slot, working_window
from cohorte.meetings.models import (
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingStatus,
    Relationship,
    RelationshipStatus,
)
from cohorte.meetings.selectors import relationship_rows
from cohorte.messaging.models import Email, EmailStatus, Message
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, ProgramKind, ProgramStatus


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo in the test database once for the module, rolled back after it."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        organisation = demo_build()
        yield organisation
        transaction.set_rollback(True)


@pytest.fixture
def programmes(demo, db):
    return {p.pk: p for p in demo.programs.select_related("organisation")}


def _zone(member: Member, default: dt.tzinfo) -> dt.tzinfo:
    return zoneinfo.ZoneInfo(member.timezone) if member.timezone else default


def _inside(moment, start, end) -> bool:
    return moment is not None and start <= moment < end


def test_every_programme_status_is_there(programmes):
    statuses = Counter(p.status for p in programmes.values())
    assert set(statuses) == {
        ProgramStatus.PREPARING,
        ProgramStatus.RUNNING,
        ProgramStatus.FINISHED,
    }, statuses


def test_a_finished_programme_happened_inside_its_dates(programmes):
    finished = [p for p in programmes.values() if p.status == ProgramStatus.FINISHED]
    assert finished
    for program in finished:
        start, end = program.window()
        relationships = Relationship.objects.filter(program=program)
        assert relationships.exists(), f"{program}: no relationship"
        for r in relationships:
            assert _inside(r.created_at, start, end), f"{r} (#{r.pk}) created {r.created_at}"
            assert r.started_on is None or start.date() <= r.started_on < end.date(), r.pk
            if r.ended_at is not None:
                assert _inside(r.ended_at, r.created_at, end), f"{r} (#{r.pk}) ended {r.ended_at}"
        for m in Meeting.objects.filter(program=program):
            assert _inside(m.starts_at, start, end), f"meeting #{m.pk} at {m.starts_at}"
            assert m.ends_at <= end, f"meeting #{m.pk} ends {m.ends_at}, after {end}"
            assert _inside(m.created_at, start, end), f"meeting #{m.pk} created {m.created_at}"
            assert m.created_at <= m.starts_at, f"meeting #{m.pk} booked after it began"
            assert m.status != MeetingStatus.SCHEDULED, f"meeting #{m.pk} still to come"
        messages = Message.objects.filter(program=program)
        assert messages.exists(), f"{program}: no message"
        for message in messages:
            for moment in (message.created_at, message.sent_at):
                assert _inside(moment, start, end), f"message #{message.pk} at {moment}"
        for email in Email.objects.filter(message__program=program):
            for name in ("created_at", "sent_at", "delivered_at", "opened_at", "status_at"):
                moment = getattr(email, name)
                assert moment is None or _inside(moment, start, end), (
                    f"e-mail #{email.pk} {name} {moment}"
                )
        for event in ActivityEvent.objects.filter(program=program):
            assert _inside(event.occurred_at, start, end), f"event #{event.pk}"


def test_nothing_happens_outside_a_programme_or_before_it_was_created(programmes):
    now = timezone.now()
    for program in programmes.values():
        start, end = program.window()
        assert program.created_at <= start, f"{program} created after it began"
        if program.status == ProgramStatus.PREPARING:
            assert not Meeting.objects.filter(program=program).exists(), program
            assert not Relationship.objects.filter(program=program).exists(), program
            assert not ActivityEvent.objects.filter(program=program).exists(), program
        for m in Meeting.objects.filter(program=program):
            assert _inside(m.starts_at, start, end), f"meeting #{m.pk} outside {program}"
            assert m.created_at <= now, f"meeting #{m.pk} created in the future"
            if m.starts_at > now:
                assert m.status != MeetingStatus.CONFIRMED, f"meeting #{m.pk} held ahead"
        for r in Relationship.objects.filter(program=program):
            assert _inside(r.created_at, start, min(end, now)), f"relationship #{r.pk}"
        for enrolment in Enrolment.objects.filter(program=program).select_related("member"):
            assert enrolment.member.date_joined <= enrolment.created_at, (
                f"{enrolment.member} enrolled in {program} before joining"
            )


def test_held_meetings_of_a_mentoring_programme_belong_to_their_pair(programmes):
    mentoring = [p for p in programmes.values() if p.kind == ProgramKind.MENTORING]
    assert mentoring
    held = Meeting.objects.filter(
        program__in=mentoring, kind=MeetingKind.ONE_TO_ONE, status=MeetingStatus.CONFIRMED
    ).select_related("relationship")
    assert held.exists()
    for m in held:
        assert m.relationship is not None, f"held meeting #{m.pk} belongs to no relationship"
        people = set(m.attendances.values_list("member_id", flat=True))
        pair = {m.relationship.mentor_id, m.relationship.mentee_id}
        assert people == pair, f"meeting #{m.pk}: attendees {people}, pair {pair}"


def test_meetings_are_in_working_hours_for_every_attendee(demo, db):
    default = demo.tzinfo
    attendances = MeetingAttendee.objects.filter(meeting__program__organisation=demo)
    assert attendances.exists()
    zones = set()
    for a in attendances.select_related("meeting", "member"):
        zone = _zone(a.member, default)
        zones.add(str(zone))
        begins = a.meeting.starts_at.astimezone(zone)
        ends = a.meeting.ends_at.astimezone(zone)
        where = f"meeting #{a.meeting_id} for {a.member} ({zone}): {begins:%a %H:%M}–{ends:%H:%M}"
        assert begins.weekday() < 5, where
        assert dt.time(8) <= begins.time() and ends.time() <= dt.time(19), where
        assert begins.date() == ends.date(), where
    assert len(zones) > 1  # someone abroad: the rule is checked across time zones


def test_nobody_is_in_two_meetings_at_once(demo, db):
    times = defaultdict(list)
    for a in MeetingAttendee.objects.filter(meeting__program__organisation=demo).exclude(
        meeting__status=MeetingStatus.CANCELLED
    ).select_related("meeting"):  # fmt: skip
        times[a.member_id].append((a.meeting.starts_at, a.meeting.ends_at, a.meeting_id))
    for member_id, spans in times.items():
        spans.sort()
        for (_s, end, first), (start, _e, second) in zip(spans, spans[1:], strict=False):
            assert end <= start, f"member #{member_id} in meetings #{first} and #{second}"


def test_addresses_are_ascii_valid_and_unique(demo, db):
    validate = EmailValidator()
    emails = list(Member.objects.filter(organisation=demo).values_list("pk", "email"))
    assert len(emails) > 50
    for pk, email in emails:
        assert email.isascii(), f"member #{pk}: {email}"
        try:
            validate(email)
        except ValidationError:
            pytest.fail(f"member #{pk}: {email} is not a valid address")
    twice = [e for e, n in Counter(e.lower() for _pk, e in emails).items() if n > 1]
    assert not twice, twice


def test_no_two_people_share_a_full_name(demo, db):
    names = Counter(
        f"{first} {last}".casefold()
        for first, last in Member.objects.filter(organisation=demo).values_list(
            "first_name", "last_name"
        )
    )
    assert not [n for n, count in names.items() if count > 1], names.most_common(3)


def test_the_activity_counters_are_a_rebuild_of_the_events_and_meetings(programmes):
    stored = {
        row["enrolment_id"]: row
        for row in ParticipantStats.objects.filter(enrolment__program__in=programmes).values(
            "enrolment_id", *STATS_FIELDS
        )
    }
    for program in programmes.values():
        stats_refresh(program=program)
    rebuilt = {
        row["enrolment_id"]: row
        for row in ParticipantStats.objects.filter(enrolment__program__in=programmes).values(
            "enrolment_id", *STATS_FIELDS
        )
    }
    for pk, row in rebuilt.items():
        assert stored.get(pk) == row, f"enrolment #{pk}: stored {stored.get(pk)}, rebuilt {row}"
    # and the confirmed meetings column, counted here straight from the meetings
    for program in programmes.values():
        start, end = program.window()
        for enrolment in Enrolment.objects.filter(program=program, role__in=PARTICIPANT_ROLES):
            held = MeetingAttendee.objects.filter(
                member_id=enrolment.member_id,
                meeting__program=program,
                meeting__status=MeetingStatus.CONFIRMED,
                meeting__starts_at__gte=start,
                meeting__starts_at__lt=end,
            ).count()
            shown = rebuilt.get(enrolment.pk, {}).get("confirmed_meetings", 0)
            assert shown == held, f"enrolment #{enrolment.pk}: table {shown}, meetings {held}"
    assert any(row["confirmed_meetings"] for row in rebuilt.values())


def test_relationship_hours_are_their_meetings(demo, programmes):
    rows = [r for p in programmes.values() for r in relationship_rows(program=p)]
    assert rows
    for r in rows:
        between = Meeting.objects.filter(
            program_id=r.program_id, status=MeetingStatus.CONFIRMED, attendances__member=r.mentor_id
        ).filter(attendances__member=r.mentee_id)  # fmt: skip
        minutes = between.aggregate(n=Sum("duration_minutes"))["n"] or 0
        assert (r.held_count, r.held_minutes) == (between.count(), minutes), (
            f"relationship #{r.pk} {r}: shows {r.held_count} meetings, {r.held_minutes} min; "
            f"the pair held {between.count()}, {minutes} min"
        )
        if r.status == RelationshipStatus.COMPLETED:
            assert r.held_count > 0, f"relationship #{r.pk} completed without a meeting"
    members = Member.objects.filter(organisation=demo)
    for member in members:
        minutes = (
            MeetingAttendee.objects.filter(
                member=member, meeting__status=MeetingStatus.CONFIRMED
            ).aggregate(n=Sum("meeting__duration_minutes"))["n"]
            or 0
        )
        assert member.mentoring_minutes == minutes, f"{member} (#{member.pk})"
        current = Relationship.objects.filter(status=RelationshipStatus.MATCHED)
        count = (current.filter(mentor=member) | current.filter(mentee=member)).count()
        assert member.relationships_count == count, f"{member} (#{member.pk})"


def test_every_screen_has_something_to_show(demo, programmes):
    now = timezone.now()
    tz = demo.tzinfo
    running = [p for p in programmes.values() if p.status == ProgramStatus.RUNNING]
    # the ❗ flags
    assert Report.objects.filter(program__in=running, resolved_at__isnull=True).exists()
    # the e-mail log's delivery statuses
    statuses = set(Email.objects.filter(organisation_id=demo.pk).values_list("status", flat=True))
    assert {EmailStatus.BOUNCED, EmailStatus.OPENED, EmailStatus.DELIVERED} <= statuses
    # the calendar opens on this week: meetings on its weekdays, some still to come
    today = now.astimezone(tz).date()
    monday = dt.datetime.combine(today - dt.timedelta(days=today.weekday()), dt.time.min, tzinfo=tz)
    week = Meeting.objects.filter(
        program__in=running, starts_at__gte=monday, starts_at__lt=monday + dt.timedelta(days=7)
    )
    assert week.count() >= 5
    assert {MeetingKind.ONE_TO_ONE, MeetingKind.MASTERCLASS, MeetingKind.GROUP} <= set(
        Meeting.objects.filter(program__in=running).values_list("kind", flat=True)
    )
    assert Meeting.objects.filter(
        program__in=running,
        status=MeetingStatus.SCHEDULED,
        starts_at__gt=now,
        starts_at__lt=now + dt.timedelta(days=7),
    ).exists()
    # a finished programme's pairs, some still waiting for the end of the cycle
    statuses = set(Relationship.objects.values_list("status", flat=True))
    assert statuses == {RelationshipStatus.MATCHED, RelationshipStatus.COMPLETED}


def test_conversations_are_real_and_inside_their_programme(demo, programmes):
    """The inboxes and the ❗ of an unanswered conversation come from the same messages."""
    from cohorte.activity.models import Conversation as Exchange
    from cohorte.conversations.models import Conversation, ConversationMessage, Participant

    now = timezone.now()
    conversations = Conversation.objects.filter(program__in=list(programmes))
    assert conversations.count() >= 5
    for message in ConversationMessage.objects.filter(
        conversation__in=conversations
    ).select_related("conversation__program"):
        start, end = message.conversation.program.window()
        assert _inside(message.created_at, start, min(end, now)), f"message #{message.pk}"
        assert message.conversation.created_at <= message.created_at, f"message #{message.pk}"
    # at least one waits for its professional: the table's ❗, from that very message
    waiting = [
        e
        for e in Exchange.objects.filter(
            program__in=list(programmes), last_message_at__isnull=False
        )
        if e.last_reply_at is None or e.last_reply_at < e.last_message_at
    ]
    assert waiting
    for exchange in waiting:
        assert ConversationMessage.objects.filter(
            conversation__program=exchange.program,
            sender=exchange.participant,
            conversation__participants__member=exchange.professional,
            created_at=exchange.last_message_at,
        ).exists(), f"{exchange.participant} → {exchange.professional}: no such message"
    # and the demo e-mailed nobody about them
    assert not Participant.objects.filter(notice_due_since__isnull=False).exists()


def test_the_survey_has_answers_inside_its_dates_and_a_member_still_to_answer(demo, programmes):
    from cohorte.surveys.models import Invitation, Response, Survey
    from cohorte.surveys.services import surveys_run

    now = timezone.now()
    survey = Survey.objects.get(program__in=list(programmes))
    responses = Response.objects.filter(survey=survey)
    assert responses.count() >= 5
    for response in responses.select_related("invitation"):
        assert survey.opens_at <= response.submitted_at <= now, f"response #{response.pk}"
        assert response.invitation.invited_at <= response.submitted_at
    assert Invitation.objects.filter(survey=survey, response__isnull=True).exists()
    # the scheduler's next tick finds nobody to invite or remind: nobody is e-mailed
    emails = Email.objects.count()
    surveys_run(now=now)
    assert Email.objects.count() == emails


# --- The slot rule on its own --------------------------------------------------------------


def test_a_slot_suits_every_time_zone_even_across_a_daylight_saving_change():
    import random

    paris, toronto = zoneinfo.ZoneInfo("Europe/Paris"), zoneinfo.ZoneInfo("America/Toronto")
    rng = random.Random(1)  # noqa: S311
    # Europe changes on 29 March 2026, North America on 8 March: the gap is 5 hours between
    after = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    for _ in range(200):
        before = after + dt.timedelta(days=40)
        start = working_slot(rng, zones=[paris, toronto], after=after, before=before, minutes=60)
        assert start is not None
        for zone in (paris, toronto):
            local, end = start.astimezone(zone), (start + dt.timedelta(hours=1)).astimezone(zone)
            assert local.weekday() < 5 and dt.time(9) <= local.time() and end.time() <= dt.time(18)
    assert working_window(dt.date(2026, 3, 7), [paris]) is None  # a Saturday
    assert (
        working_window(dt.date(2026, 3, 9), [paris, zoneinfo.ZoneInfo("Pacific/Auckland")]) is None
    )


def test_the_relations_page_of_the_finished_programme_shows_the_pairs_hours(demo, programmes):
    from .conftest import signed_in

    mentoring = next(p for p in programmes.values() if p.status == ProgramStatus.FINISHED)
    admin = Member.objects.get(organisation=demo, is_org_admin=True)
    client, rows, page = signed_in(admin), [], 1
    total = Relationship.objects.filter(program=mentoring).count()
    while len(rows) < total and page <= 5:  # every page of the table
        url = f"/programmes/{mentoring.pk}/relations/?page={page}"
        html = client.get(url).content.decode()
        rows += re.findall(r'<tr data-relationship="(\d+)">(.*?)</tr>', html, re.S)
        page += 1
    assert len(rows) == total
    for pk, row in rows:
        held = Meeting.objects.filter(relationship_id=pk, status=MeetingStatus.CONFIRMED)
        minutes = held.aggregate(n=Sum("duration_minutes"))["n"] or 0
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        shown = f"{minutes // 60:02d}:{minutes % 60:02d}", str(held.count())
        assert tuple(cells) == shown, f"relationship #{pk}: page shows {cells}, meetings {shown}"
        assert cells[1] != "0", f"relationship #{pk}: no meeting in a whole programme"


def test_nobody_acts_after_leaving(demo, db):
    gone = Member.objects.filter(organisation=demo).exclude(
        deactivated_at__isnull=True, archived_at__isnull=True
    )
    assert gone.exists()
    for member in gone:
        left = min(m for m in (member.deactivated_at, member.archived_at) if m)
        later = MeetingAttendee.objects.filter(member=member, meeting__starts_at__gte=left)
        assert not later.exists(), f"{member} (#{member.pk}) meets after leaving on {left}"
        events = ActivityEvent.objects.filter(actor=member, occurred_at__gte=left)
        assert not events.exists(), f"{member} (#{member.pk}) active after leaving on {left}"
