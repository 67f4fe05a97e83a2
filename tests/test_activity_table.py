"""The participants' activity table: figures, boundaries, sort, search, filters, CSV, actions."""

import csv
import datetime as dt
import io
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.activity.selectors import (
    SORTS,
    participant_activity_page,
    participant_activity_rows,
)
from cohorte.activity.services import EventItem, events_ingest, report_create
from cohorte.meetings.services import meeting_create
from cohorte.programs.models import Enrolment, Program, ProgramKind, Role
from cohorte.programs.selectors import search_members

from .conftest import body_of, hold_meetings, make_member, run_tasks, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def enrol(program, email, first, last, role=Role.PARTICIPANT):
    member = make_member(program.organisation, email, first=first, last=last)
    Enrolment.objects.create(program=program, member=member, role=role)
    return member


def ingest(program, *events):
    items = [EventItem(actor=a, kind=k, occurred_at=t, target=tg) for a, k, t, tg in events]
    return events_ingest(program=program, items=items)


@pytest.fixture
def fixed_program(organisation, manager_a):
    """1–31 March 2026 in Paris: the boundary tests' programme."""
    program = Program.objects.create(
        organisation=organisation,
        name="Mars",
        kind=ProgramKind.TRAINING,
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 3, 31),
        objective=2,
    )
    program.managers.add(manager_a)
    return program


def row_for(program, member):
    return participant_activity_rows(program=program).get(member=member)


def test_event_one_second_before_start_is_not_counted(fixed_program, mentor):
    lea = enrol(fixed_program, "lea@x.example", "Léa", "L")
    Enrolment.objects.create(program=fixed_program, member=mentor, role=Role.PROFESSIONAL)
    before = dt.datetime(2026, 2, 28, 23, 59, 59, tzinfo=PARIS)
    ingest(fixed_program, (lea, EventKind.PROFILE_VIEW, before, mentor))
    assert row_for(fixed_program, lea).profiles_visited == 0
    ingest(fixed_program, (lea, EventKind.PROFILE_VIEW, before + dt.timedelta(seconds=1), mentor))
    assert row_for(fixed_program, lea).profiles_visited == 1


def test_end_day_counts_until_midnight_in_the_organisation_time_zone(fixed_program, mentor):
    lea = enrol(fixed_program, "lea@x.example", "Léa", "L")
    last_minute = dt.datetime(2026, 3, 31, 23, 59, tzinfo=PARIS)
    after_end = dt.datetime(2026, 4, 1, 0, 0, 0, tzinfo=PARIS)
    ingest(
        fixed_program,
        (lea, EventKind.CONTACT, last_minute, mentor),
        (lea, EventKind.SIGN_IN, after_end, None),
        (lea, EventKind.PROFILE_VIEW, after_end + dt.timedelta(seconds=1), mentor),
    )
    row = row_for(fixed_program, lea)
    assert row.professionals_contacted == 1
    assert row.profiles_visited == 0
    assert row.last_access is None  # the sign-in came after the end day
    # 23:59 on the end day in Paris is 21:59 UTC: a UTC-only window would get this wrong.
    assert last_minute.astimezone(dt.UTC).hour == 21


def test_meetings_outside_the_dates_do_not_count(fixed_program, mentor):
    lea = enrol(fixed_program, "lea@x.example", "Léa", "L")
    inside = dt.datetime(2026, 3, 31, 23, 0, tzinfo=PARIS)
    outside = dt.datetime(2026, 4, 1, 0, 0, 1, tzinfo=PARIS)
    for when in (inside, outside):
        meeting_create(
            program=fixed_program,
            attendees=[lea, mentor],
            starts_at=when,
            duration_minutes=30,
            status="confirmed",
            by=None,
        )
    row = row_for(fixed_program, lea)
    assert row.confirmed_meetings == 1
    assert row.progress == 50


def test_figures_are_the_seed_s(program_a, mentor, mentee):
    now = timezone.now()
    pro2 = enrol(program_a, "pro2@x.example", "Paul", "Pro", Role.PROFESSIONAL)
    ingest(
        program_a,
        (mentee, EventKind.PROFILE_VIEW, now - dt.timedelta(days=3), mentor),
        (mentee, EventKind.PROFILE_VIEW, now - dt.timedelta(days=2), mentor),  # same profile
        (mentee, EventKind.PROFILE_VIEW, now - dt.timedelta(days=2), pro2),
        (mentee, EventKind.CONTACT, now - dt.timedelta(days=1), pro2),
        (mentee, EventKind.COURSE_ACCESS, now - dt.timedelta(hours=5), None),
    )
    for status, delta in [
        ("scheduled", dt.timedelta(days=2)),
        ("scheduled", dt.timedelta(days=3)),
        ("scheduled", -dt.timedelta(days=1)),  # passed, never held: not upcoming
        ("confirmed", -dt.timedelta(days=4)),
        ("cancelled", dt.timedelta(days=5)),
    ]:
        meeting_create(
            program=program_a,
            attendees=[mentee, mentor],
            starts_at=now + delta,
            duration_minutes=45,
            status=status,
            by=None,
        )
    row = row_for(program_a, mentee)
    assert row.profiles_visited == 2  # two distinct professionals' profiles
    assert row.professionals_contacted == 1
    assert row.upcoming_meetings == 2
    assert row.confirmed_meetings == 1
    assert row.progress == 33  # 1 of 3
    assert abs((row.last_access - (now - dt.timedelta(hours=5))).total_seconds()) < 1


def test_progress_is_capped_at_100(program_a, mentor, mentee):
    for days in range(1, 6):
        meeting_create(
            program=program_a,
            attendees=[mentee, mentor],
            starts_at=timezone.now() - dt.timedelta(days=days),
            duration_minutes=30,
            status="confirmed",
            by=None,
        )
    assert row_for(program_a, mentee).progress == 100


@pytest.mark.django_db(transaction=True)
def test_changing_dates_rebuilds_counters_through_the_worker(admin, fixed_program, mentor):
    from django.core.management import call_command

    lea = enrol(fixed_program, "lea@x.example", "Léa", "L")
    ingest(fixed_program, (lea, EventKind.CONTACT, dt.datetime(2026, 4, 2, tzinfo=PARIS), mentor))
    assert row_for(fixed_program, lea).professionals_contacted == 0
    client = signed_in(admin)
    response = client.post(
        f"/programmes/{fixed_program.pk}/modifier/",
        {
            "name": "Mars",
            "kind": "training",
            "start_date": "2026-03-01",
            "end_date": "2026-04-30",
            "objective": 2,
            "unanswered_after_days": 7,
        },
    )
    assert response.status_code == 302
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert row_for(fixed_program, lea).professionals_contacted == 1


# --- the page ---------------------------------------------------------------------------


@pytest.fixture
def crowd(program_a, mentor):
    """Three participants with different activity."""
    now = timezone.now()
    zoe = enrol(program_a, "zoe@x.example", "Zoé", "Zola")
    bob = enrol(program_a, "bob@x.example", "Bob", "Brun")
    ana = enrol(program_a, "ana@x.example", "Ana", "Abadie")
    pro = enrol(program_a, "pro@x.example", "Paula", "Pro", Role.PROFESSIONAL)
    ingest(
        program_a,
        (zoe, EventKind.SIGN_IN, now - dt.timedelta(days=1), None),
        (bob, EventKind.SIGN_IN, now - dt.timedelta(days=9), None),
        (zoe, EventKind.PROFILE_VIEW, now - dt.timedelta(days=1), mentor),
        (zoe, EventKind.PROFILE_VIEW, now - dt.timedelta(days=1), pro),
        (bob, EventKind.PROFILE_VIEW, now - dt.timedelta(days=1), pro),
    )
    hold_meetings(program_a, bob, mentor, 3)
    hold_meetings(program_a, zoe, mentor, 1)
    report_create(
        program=program_a, member=ana, reported_by=mentor, reason="Absente au rendez-vous"
    )
    return zoe, bob, ana


def names_in(page: str, *names):
    return sorted(names, key=page.index)


def test_empty_programme_says_how_participants_join(manager_a, program_a):
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert "aucun participant" in page
    assert "rejoignent le programme" in page and "Ajouter un participant" in page


def test_table_shows_figures_jamais_and_flag(manager_a, program_a, crowd):
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert "Jamais" in page  # Ana never came
    assert "il y a 1\xa0jour" in page  # timesince keeps number and unit together
    assert "Signalé par Marc Mentor : Absente au rendez-vous" in page
    # the flag is an icon with its reasons in a popover and for screen readers, not an emoji
    assert 'class="flag-button flagged" popovertarget=' in page
    assert "❗" not in page
    assert "100 %" in page
    assert "entre le" in page and "inclus" in page


@pytest.mark.parametrize(
    "sort,asc_order",
    [
        ("name", ["Abadie", "Brun", "Zola"]),
        ("progress", ["Abadie", "Zola", "Brun"]),
        ("confirmed_meetings", ["Abadie", "Zola", "Brun"]),
        ("profiles_visited", ["Abadie", "Brun", "Zola"]),
        ("last_access", ["Abadie", "Brun", "Zola"]),
    ],
)
def test_sort_by_column_both_directions(manager_a, program_a, crowd, sort, asc_order):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/"
    asc = client.get(url, {"sort": sort, "order": "asc"}).content.decode()
    assert names_in(asc, *asc_order) == asc_order
    desc = client.get(
        url,
        {"sort": sort, "order": "desc"},
        headers={"HX-Request": "true", "HX-Target": "participants"},
    )
    text = desc.content.decode()
    assert "<html" not in text  # htmx gets the partial only
    assert names_in(text, *asc_order) == list(reversed(asc_order))


def test_sort_by_flag_puts_flagged_first_or_last(manager_a, program_a, crowd):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/"
    asc = client.get(url, {"sort": "flags", "order": "asc"}).content.decode()
    desc = client.get(url, {"sort": "flags", "order": "desc"}).content.decode()
    assert names_in(asc, "Abadie", "Brun", "Zola")[-1] == "Abadie"
    assert names_in(desc, "Abadie", "Brun", "Zola")[0] == "Abadie"


def test_search_and_filters(manager_a, program_a, crowd):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/"
    page = client.get(url, {"q": "zoé zola"}).content.decode()
    assert "Zola" in page and "Brun" not in page
    page = client.get(url, {"q": "bob@x"}).content.decode()
    assert "Brun" in page and "Zola" not in page
    never = client.get(url, {"never": "1"}).content.decode()
    assert "Abadie" in never and "Brun" not in never
    flagged = client.get(url, {"flagged": "1"}).content.decode()
    assert "Abadie" in flagged and "Zola" not in flagged


def test_pagination_25_50_100(manager_a, program_a):
    for i in range(30):
        enrol(program_a, f"p{i:02d}@x.example", f"P{i:02d}", f"Nom{i:02d}")
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/"
    first = client.get(url).content.decode()
    assert "Nom24" in first and "Nom25" not in first
    assert "1–25 sur 30" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert "Nom25" in second and "Nom24" not in second
    assert "Nom29" in client.get(url, {"size": 50}).content.decode()


def test_page_queries_do_not_grow_with_participants(manager_a, program_a, mentor):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/"

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    enrol(program_a, "one@x.example", "One", "One")
    few = count()
    for i in range(40):
        member = enrol(program_a, f"m{i}@x.example", f"M{i}", f"N{i}")
        report_create(program=program_a, member=member, reported_by=mentor, reason="r")
    assert count() <= few + 2  # the flag reasons: one query each kind, whatever the rows


def test_csv_is_the_table_as_shown_and_safe(manager_a, program_a, crowd):
    evil = enrol(program_a, "evil@x.example", '=HYPERLINK("http://x")', "@Evil")
    client = signed_in(manager_a)
    response = client.get(
        f"/programmes/{program_a.pk}/participants.csv", {"sort": "name", "order": "desc"}
    )
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Nom", "Courriel", "Profils visités"]
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x") @Evil' in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert names.index("Zoé Zola") < names.index("Bob Brun")
    filtered = client.get(f"/programmes/{program_a.pk}/participants.csv", {"never": "1"})
    text = b"".join(filtered.streaming_content).decode("utf-8-sig")
    assert "Abadie" in text and "Zola" not in text
    assert evil.email in text


def test_csv_gives_the_reasons_behind_each_flag(manager_a, program_a, crowd, mentor):
    zoe, bob, ana = crowd
    report_create(program=program_a, member=bob, reported_by=mentor, reason="=1+1 absent")
    response = signed_in(manager_a).get(
        f"/programmes/{program_a.pk}/participants.csv", {"sort": "name"}
    )
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert rows[0][-2:] == ["Signalé", "Signalement"]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Ana Abadie"][-2:] == ["oui", "Signalé par Marc Mentor : Absente au rendez-vous"]
    assert by_name["Zoé Zola"][-2:] == ["non", ""]
    assert "=1+1 absent" in by_name["Bob Brun"][-1]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_remove_participant_asks_then_ends_enrolment_keeping_history(manager_a, program_a, crowd):
    zoe = crowd[0]
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/participants/{zoe.pk}/retirer/"
    confirm = client.get(url).content.decode()
    assert "Zoé Zola" in confirm and "historique" in confirm
    assert Enrolment.objects.get(program=program_a, member=zoe).ended_at is None
    client.post(url)
    enrolment = Enrolment.objects.get(program=program_a, member=zoe)
    assert enrolment.ended_at is not None and enrolment.ended_by == manager_a
    assert ActivityEvent.objects.filter(actor=zoe).exists()
    assert 'data-name="Zoé Zola"' not in client.get(f"/programmes/{program_a.pk}/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_remind_shows_recipients_then_sends_real_mail(manager_a, program_a, crowd, smtp):
    zoe, bob, ana = crowd
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/relancer/"
    preview = client.post(url, {"member": [zoe.pk, ana.pk]}).content.decode()
    assert "Zoé Zola" in preview and "Ana Abadie" in preview and "Bob Brun" not in preview
    assert smtp == []
    response = client.post(url, {"member": [zoe.pk, ana.pk], "confirm": "1", "note": "Courage !"})
    assert response.status_code == 302
    assert smtp == []  # in the outbox: the worker sends it
    run_tasks()
    assert sorted(m["X-Envelope-To"] for m in smtp) == ["ana@x.example", "zoe@x.example"]
    body = body_of(smtp[0])
    assert "Courage !" in body and program_a.name in body
    reminded = ActivityEvent.objects.filter(kind=EventKind.REMINDER, actor=manager_a)
    assert set(reminded.values_list("target_id", flat=True)) == {zoe.pk, ana.pk}


@pytest.mark.django_db(transaction=True)
def test_remind_ignores_people_outside_the_programme(manager_a, program_a, crowd, outsider, smtp):
    client = signed_in(manager_a)
    client.post(f"/programmes/{program_a.pk}/relancer/", {"member": [outsider.pk], "confirm": "1"})
    run_tasks()
    assert smtp == []


@pytest.mark.django_db(transaction=True)
def test_remind_skips_deactivated_members(manager_a, program_a, crowd, smtp):
    zoe, bob, _ = crowd
    bob.is_active = False
    bob.save()
    client = signed_in(manager_a)
    client.post(
        f"/programmes/{program_a.pk}/relancer/", {"member": [zoe.pk, bob.pk], "confirm": "1"}
    )
    run_tasks()
    assert [m["X-Envelope-To"] for m in smtp] == ["zoe@x.example"]


# --- pages of a big table: keys first, and the rows each order puts first -------------


@pytest.fixture
def ties(program_a, mentor):
    """Twelve participants: zeros, ties above zero, some never signed in, one reported,
    some without any counter row yet (enrolled directly): every shortcut's edge."""
    now = timezone.now()
    people = [
        enrol(program_a, f"t{i:02d}@x.example", f"T{i:02d}", f"Tie{i % 3}") for i in range(12)
    ]
    events = []
    for i, person in enumerate(people[:8]):  # the last four: no event, some no counter row
        for _ in range(i % 3):
            events.append((person, EventKind.PROFILE_VIEW, now - dt.timedelta(days=1), mentor))
        if i % 2:
            events.append((person, EventKind.SIGN_IN, now - dt.timedelta(hours=i), None))
    ingest(program_a, *events)
    hold_meetings(program_a, people[1], mentor, 2)
    hold_meetings(program_a, people[3], mentor, 1)
    hold_meetings(program_a, people[6], mentor, 1)
    for person, count in ((people[2], 2), (people[7], 1), (people[9], 2), (people[4], 1)):
        for n in range(count):  # meetings to come: the upcoming sort's counts and ties
            meeting_create(
                program=program_a,
                attendees=[person, mentor],
                starts_at=now + dt.timedelta(days=1 + n),
                duration_minutes=30,
                status="scheduled",
                by=None,
            )
    report_create(program=program_a, member=people[5], reported_by=mentor, reason="r")
    return people


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_every_page_is_the_slice_of_the_whole_order(program_a, ties, sort, order):
    whole = [
        row.member_id
        for row in participant_activity_rows(program=program_a, sort=sort, order=order)
    ]
    assert len(whole) == 12
    paged = participant_activity_page(program=program_a, sort=sort, order=order)
    for size in (1, 2, 3, 5, 12):  # pages inside and across each shortcut
        for start in range(0, 12, size):
            page = [row.member_id for row in paged[start : start + size]]
            assert page == whole[start : start + size], (sort, order, start, size)
    # past the middle a page is read from the other end (the order reversed): still the
    # same rows, and none past the last
    assert paged.count() == 12 and paged[12:24] == [] and paged[11:100][0].member_id == whole[11]


@pytest.mark.parametrize("sort", ["upcoming_meetings", "progress", "profiles_visited", "flags"])
def test_a_searched_page_is_the_slice_of_the_searched_order(program_a, ties, sort):
    for order in ("asc", "desc"):
        whole = [
            row.member_id
            for row in participant_activity_rows(
                program=program_a, sort=sort, order=order, q="tie1"
            )
        ]
        assert len(whole) == 4  # T01, T04, T07, T10
        paged = participant_activity_page(program=program_a, sort=sort, order=order, q="tie1")
        for size in (1, 2, 4):
            for start in range(0, 4, size):
                page = [row.member_id for row in paged[start : start + size]]
                assert page == whole[start : start + size], (sort, order, start, size)


def test_a_search_is_served_by_the_members_trigram_indexes_on_postgresql(program_a, ties):
    """accounts/0014: on PostgreSQL each word's `UPPER(column) LIKE` of the first name,
    last name and e-mail is what a trigram index serves (the planner matches the expression
    Django writes: told to avoid a scan, it reads all three); the page is the same. SQLite
    has no such index: there the search is a scan, and this only checks the rows."""
    searched = participant_activity_page(program=program_a, q="tie1")
    assert [row.member.last_name for row in searched[0:25]] == ["Tie1"] * 4
    if connection.vendor != "postgresql":
        return
    found = search_members(Member.objects.all(), "tie1").values("pk")
    sql, params = found.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    for column in ("first_name", "last_name", "email"):
        assert f"member_{column}_search_idx" in plan, plan
