"""The « Rapports » tab: the monthly rollup against a direct count, its refresh from the
worker's clock, adoption and repeat rates at their edges, the two CSVs read back, the
filters (and bad input), access, and a bounded number of queries."""

import csv
import datetime as dt
import io
import re
import zoneinfo

import pytest
from django.core.cache import cache
from django.utils import timezone

from cohorte.accounts.models import Language
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.core.models import AuditEntry
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.meetings.services import meeting_create, relationship_create
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Program, ProgramKind, Role
from cohorte.reports.models import MonthlyActivity
from cohorte.reports.rollups import monthly_rebuild, monthly_refresh_recent, monthly_rows

from .conftest import make_member, run_tasks, signed_in
from .test_browser import browser, signed_in_page  # noqa: F401  (the module's Chromium)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def paris(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@pytest.fixture
def winter(organisation, manager_a) -> Program:
    """A programme from 10 January to 20 March 2026, in Paris."""
    program = Program.objects.create(
        organisation=organisation,
        name="Hiver",
        kind=ProgramKind.MENTORING,
        start_date=dt.date(2026, 1, 10),
        end_date=dt.date(2026, 3, 20),
        objective=3,
    )
    program.managers.add(manager_a)
    return program


def enrol(program, email, role=Role.MENTEE, **extra):
    member = make_member(program.organisation, email, first=email.split("@")[0], last="X", **extra)
    Enrolment.objects.create(program=program, member=member, role=role)
    return member


def event(actor, kind, at, program=None):
    return ActivityEvent.objects.create(actor=actor, kind=kind, occurred_at=at, program=program)


def meeting(program, people, at, status, by=None, **fields):
    m = meeting_create(
        program=program,
        attendees=people,
        starts_at=at,
        duration_minutes=45,
        status=status,
        by=by,
    )
    if fields:
        Meeting.objects.filter(pk=m.pk).update(**fields)
    return m


@pytest.fixture
def story(winter, manager_a):
    """Hand-built events and meetings around the edges of months and of the dates."""
    lea = enrol(winter, "lea@poitiers.example")
    marc = enrol(winter, "marc@poitiers.example", role=Role.MENTOR)
    stranger = make_member(winter.organisation, "nobody@poitiers.example")
    event(lea, EventKind.SIGN_IN, paris(2026, 1, 15, 9), winter)
    # 00:30 on 1 February in Paris is still January in UTC: February's
    event(lea, EventKind.SIGN_IN, paris(2026, 2, 1, 0, 30))  # a platform sign-in
    event(stranger, EventKind.SIGN_IN, paris(2026, 2, 2, 9))  # not a member: not counted
    event(lea, EventKind.SIGN_IN, paris(2026, 1, 5, 9), winter)  # before the dates
    event(lea, EventKind.COURSE_ACCESS, paris(2026, 1, 16, 9), winter)  # not a sign-in
    event(lea, EventKind.MESSAGE, paris(2026, 2, 3, 9), winter)
    event(marc, EventKind.MESSAGE, paris(2026, 2, 28, 23, 59), winter)
    event(marc, EventKind.MESSAGE, paris(2026, 3, 20, 23, 0), winter)  # the last evening
    event(marc, EventKind.MESSAGE, paris(2026, 3, 21, 0, 30), winter)  # after the end
    meeting(winter, [lea, marc], paris(2026, 1, 20, 10), "confirmed", by=manager_a)
    half = meeting(winter, [lea, marc], paris(2026, 2, 10, 10), "scheduled", by=lea)
    MeetingAttendee.objects.filter(meeting=half, member=lea).update(took_place=True)
    meeting(winter, [lea, marc], paris(2026, 2, 11, 10), "cancelled")
    meeting(winter, [lea, marc], paris(2026, 3, 1, 10), "not_held")
    meeting(winter, [lea, marc], paris(2026, 3, 25, 10), "confirmed")  # after the end
    return {"lea": lea, "marc": marc}


EXPECTED = {
    dt.date(2026, 1, 1): (1, 0, 1, 1),
    dt.date(2026, 2, 1): (1, 2, 0, 1),
    dt.date(2026, 3, 1): (0, 1, 0, 0),
}


def figures(rows):
    return {r.month: (r.sign_ins, r.messages, r.meetings_confirmed, r.meetings_held) for r in rows}


def direct_count(program: Program, month: dt.date) -> tuple[int, int, int, int]:
    """Each figure counted the plain way, month by month, for comparison."""
    start, end = program.window()
    low = max(start, paris(month.year, month.month, 1))
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    high = min(end, paris(following.year, following.month, 1))
    members = Enrolment.objects.filter(program=program).values("member_id")
    events = ActivityEvent.objects.filter(occurred_at__gte=low, occurred_at__lt=high)
    sign_ins = (
        events.filter(kind=EventKind.SIGN_IN, program=program).count()
        + events.filter(kind=EventKind.SIGN_IN, program__isnull=True, actor_id__in=members).count()
    )
    messages = events.filter(kind=EventKind.MESSAGE, program=program).count()
    meetings = Meeting.objects.filter(program=program, starts_at__gte=low, starts_at__lt=high)
    confirmed = meetings.filter(status=MeetingStatus.CONFIRMED).count()
    half_held = (
        meetings.filter(status=MeetingStatus.SCHEDULED, attendances__took_place=True)
        .distinct()
        .count()
    )
    return sign_ins, messages, confirmed, confirmed + half_held


def test_the_rebuild_equals_a_direct_count(winter, story, django_assert_num_queries):
    assert monthly_rebuild(program=winter) == 3
    with django_assert_num_queries(1):
        rows = monthly_rows(winter)
    assert figures(rows) == EXPECTED
    assert figures(rows) == {month: direct_count(winter, month) for month in EXPECTED}
    assert all(r.updated_at is not None for r in rows)


def test_a_rebuild_of_some_months_and_after_the_dates_moved(winter, story):
    monthly_rebuild(program=winter, months=[dt.date(2026, 2, 14)])
    assert figures(monthly_rows(winter)) == {
        dt.date(2026, 1, 1): (0, 0, 0, 0),  # not written yet: zeros
        dt.date(2026, 2, 1): EXPECTED[dt.date(2026, 2, 1)],
        dt.date(2026, 3, 1): (0, 0, 0, 0),
    }
    monthly_rebuild(program=winter)
    Program.objects.filter(pk=winter.pk).update(end_date=dt.date(2026, 2, 15))
    winter.refresh_from_db()
    monthly_rebuild(program=winter)
    assert figures(monthly_rows(winter)) == {
        dt.date(2026, 1, 1): EXPECTED[dt.date(2026, 1, 1)],
        dt.date(2026, 2, 1): (1, 1, 0, 1),  # up to 15 February
    }
    assert not MonthlyActivity.objects.filter(program=winter, month=dt.date(2026, 3, 1)).exists()


def test_the_recent_refresh_recomputes_this_month_and_the_changed_programmes(
    program_a, mentee, winter, story
):
    now = timezone.now()
    event(mentee, EventKind.SIGN_IN, now - dt.timedelta(minutes=5), program_a)
    monthly_refresh_recent(now=now)  # both never summed: rebuilt in full
    this_month = now.astimezone(PARIS).date().replace(day=1)
    rows = {r.month: r for r in monthly_rows(program_a)}
    assert rows[this_month].sign_ins == 1
    assert figures(monthly_rows(winter)) == EXPECTED
    event(mentee, EventKind.MESSAGE, now - dt.timedelta(minutes=1), program_a)
    monthly_refresh_recent(now=now)
    assert {r.month: r for r in monthly_rows(program_a)}[this_month].messages == 1
    # the dates move (a form saves the programme): rebuilt in full at the next tick, even
    # though this month's row was refreshed since
    program_a.start_date -= dt.timedelta(days=400)
    program_a.save()
    event(mentee, EventKind.SIGN_IN, now - dt.timedelta(days=380), program_a)
    monthly_refresh_recent(now=now)
    assert sum(r.sign_ins for r in monthly_rows(program_a)) == 2
    assert len(monthly_rows(program_a)) >= 15


@pytest.mark.django_db(transaction=True)
def test_the_workers_clock_keeps_the_rollup(program_a, mentee):
    from cohorte.activity.tasks import scheduler_tick

    event(mentee, EventKind.SIGN_IN, timezone.now() - dt.timedelta(minutes=3), program_a)
    scheduler_tick.enqueue()
    run_tasks()
    this_month = timezone.now().astimezone(PARIS).date().replace(day=1)
    row = MonthlyActivity.objects.get(program=program_a, month=this_month)
    assert row.sign_ins == 1
    event(mentee, EventKind.SIGN_IN, timezone.now() - dt.timedelta(minutes=2), program_a)
    scheduler_tick.enqueue()
    run_tasks()  # within ten minutes: not again
    row.refresh_from_db()
    assert row.sign_ins == 1
    cache.delete("tick:monthly-activity")  # ten minutes later
    scheduler_tick.enqueue()
    run_tasks()
    row.refresh_from_db()
    assert row.sign_ins == 2


# --- Adoption and repeat ---------------------------------------------------------------


@pytest.fixture
def adoption_story(winter, manager_a):
    """Five mentees: held once (and once before the dates), held once (and once cancelled),
    held twice, awaiting evaluation, nothing; one who left; one mentor."""
    marc = enrol(winter, "marc@poitiers.example", role=Role.MENTOR, max_mentees=2)
    people = {name: enrol(winter, f"{name}@poitiers.example") for name in "abcde"}
    gone = enrol(winter, "gone@poitiers.example")
    Enrolment.objects.filter(member=gone).update(ended_at=timezone.now())
    meeting(winter, [people["a"], marc], paris(2026, 1, 12, 10), "confirmed", by=manager_a)
    meeting(winter, [people["a"], marc], paris(2026, 1, 9, 10), "confirmed")  # before the dates
    meeting(winter, [people["b"], marc], paris(2026, 2, 2, 10), "confirmed")
    meeting(winter, [people["b"], marc], paris(2026, 2, 3, 10), "cancelled")
    meeting(winter, [people["c"], marc], paris(2026, 1, 20, 10), "confirmed")
    meeting(winter, [people["c"], marc], paris(2026, 3, 2, 10), "confirmed")
    meeting(winter, [people["d"], marc], paris(2026, 3, 3, 10), "scheduled")  # not evaluated
    meeting(winter, [gone, marc], paris(2026, 2, 5, 10), "confirmed")
    relationship_create(program=winter, mentor=marc, mentee=people["a"], by=None)
    relationship_create(program=winter, mentor=marc, mentee=people["b"], by=None)
    monthly_rebuild(program=winter)
    return {"marc": marc, **people}


def tab(client, program, **params):
    return client.get(f"/programmes/{program.pk}/rapports/", params)


def text_of(response) -> str:
    """The page's text as read: tags out, spaces as one."""
    html = response.content.decode().replace("\u202f", " ").replace("\xa0", " ")
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_adoption_and_repeat_at_their_edges(winter, manager_a, adoption_story):
    response = tab(signed_in(manager_a), winter)
    assert response.status_code == 200
    page = text_of(response)
    assert "Taux d'adoption des inscrits suivis" in page
    assert "60 % — 3 sur 5 ont au moins une rencontre tenue" in page
    assert "33 % — 1 sur 3 en ont eu deux ou plus" in page
    # only February: b's held meeting; c's two are in January and March
    page = text_of(tab(signed_in(manager_a), winter, **{"from": "2026-02-01", "to": "2026-02-28"}))
    assert "20 % — 1 sur 5" in page and "0 % — 0 sur 1" in page


def test_the_mentors_load_and_the_sessions_per_month(winter, manager_a, adoption_story):
    page = tab(signed_in(manager_a), winter).content.decode()
    row = page.split(f'data-member="{adoption_story["marc"].pk}"')[1].split("</tr>")[0]
    assert '<td class="num">2</td><td class="num">2</td>' in row and "complet" in row
    sessions = page.split('class="table sessions-per-month"')[1].split("</table>")[0]
    # January: a's and c's; February: b's (and the one who left); March: c's
    assert [cells.count('class="num"') for cells in sessions.split("<tr>")[2:]] == [2, 2, 2]
    assert 'janvier 2026</th><td class="num">2</td>' in sessions
    assert 'février 2026</th><td class="num">2</td>' in sessions
    assert 'mars 2026</th><td class="num">1</td>' in sessions
    assert 'role="img"' in page and "<desc" in page  # the charts are there


def test_filters_by_cohort_and_tag(winter, manager_a, adoption_story, organisation):
    cohort = Cohort.objects.create(organisation=organisation, name="Printemps")
    cohort.members.add(adoption_story["a"], adoption_story["c"], adoption_story["marc"])
    tag = Cohort.objects.create(organisation=organisation, name="Lycée", kind=CohortKind.TAG)
    tag.members.add(adoption_story["c"])
    client = signed_in(manager_a)
    page = text_of(tab(client, winter, cohort=cohort.pk))
    assert "100 % — 2 sur 2" in page and "50 % — 1 sur 2" in page
    assert "Comptée à l'instant" in page
    page = text_of(tab(client, winter, cohort=cohort.pk, tag=tag.pk))
    assert "100 % — 1 sur 1" in page and "Aucun mentor inscrit" in page


def test_bad_filters_say_so_and_never_break(winter, manager_a, adoption_story, outsider):
    foreign = Cohort.objects.create(organisation=outsider.organisation, name="Ailleurs")
    client = signed_in(manager_a)
    for params in (
        {"cohort": "abc", "from": "2026-13-45", "to": "x"},
        {"cohort": foreign.pk, "tag": "99999999999999999999999"},
        {"from": "2026-03-01", "to": "2026-02-01"},
        {"from": "1899-01-01", "cohort": "-1", "tag": "١"},
    ):
        response = tab(client, winter, **params)
        assert response.status_code == 200, params
        assert "valeur ignorée" in response.content.decode()
        for url in ("reservations.csv", "membres.csv"):
            got = client.get(f"/programmes/{winter.pk}/rapports/{url}", params)
            assert got.status_code == 200
            b"".join(got.streaming_content)
    page = text_of(tab(client, winter, cohort=foreign.pk))
    assert "Cohorte : introuvable dans votre organisation (valeur ignorée)." in page
    assert "60 % — 3 sur 5" in page  # the figures of everyone


def test_outsiders_get_404(winter, adoption_story, outsider, manager_b, mentee):
    for person in (outsider, manager_b, adoption_story["a"], adoption_story["marc"]):
        client = signed_in(person)
        for url in ("", "reservations.csv", "membres.csv"):
            assert client.get(f"/programmes/{winter.pk}/rapports/{url}").status_code == 404
    assert signed_in(outsider).get("/programmes/999999/rapports/").status_code == 404


def test_the_tab_reads_a_bounded_number_of_queries(
    winter, manager_a, adoption_story, django_assert_max_num_queries
):
    client = signed_in(manager_a)
    tab(client, winter)  # the session and the sidebar warm up
    # 8 for the session, the sidebar and the top bar; 5 for the tab: cohorts, the months,
    # adoption, the mentors' load, the ratings (a cohort: its two counts for the months)
    with django_assert_max_num_queries(13):
        assert tab(client, winter).status_code == 200
    for i in range(15):
        mentor = enrol(winter, f"m{i}@poitiers.example", role=Role.MENTOR)
        mentee = enrol(winter, f"e{i}@poitiers.example")
        relationship_create(program=winter, mentor=mentor, mentee=mentee, by=None)
        meeting(winter, [mentor, mentee], paris(2026, 2, 10 + i % 5, 10), "confirmed")
    with django_assert_max_num_queries(13):
        assert tab(client, winter, **{"from": "2026-01-15"}).status_code == 200
    # 23 meetings, 37 members: no query a row (the session, the member, the programme,
    # the audit entry; the meetings, their attendees and those people / the enrolments)
    for url, most in (("reservations.csv", 7), ("membres.csv", 5)):
        with django_assert_max_num_queries(most):
            response = client.get(f"/programmes/{winter.pk}/rapports/{url}")
            assert len(read_csv(response)) > 20
    cohort = Cohort.objects.create(organisation=winter.organisation, name="Tous")
    cohort.members.add(*Enrolment.objects.filter(program=winter).values_list("member", flat=True))
    with django_assert_max_num_queries(14):
        assert tab(client, winter, cohort=cohort.pk).status_code == 200


# --- The CSVs ---------------------------------------------------------------------------


def read_csv(response, delimiter=";") -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    return list(csv.reader(io.StringIO(raw[1:]), delimiter=delimiter))


def test_the_bookings_csv(winter, manager_a, adoption_story):
    first = Meeting.objects.filter(program=winter).order_by("starts_at").first()
    Meeting.objects.filter(pk=first.pk).update(title='=HYPERLINK("http://evil")')
    response = signed_in(manager_a).get(f"/programmes/{winter.pk}/rapports/reservations.csv")
    assert response.status_code == 200
    assert "reservations-" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Date",
        "Durée (minutes)",
        "Titre",
        "Participants",
        "Statut",
        "Type de séance",
        "Type de réunion",
        "Créée par",
        "Créée le",
    ]
    assert len(rows) == 1 + 8
    assert rows[1][0] == "2026-01-09 10:00"  # in Paris, as the organisation reads it
    assert rows[1][2] == '\'=HYPERLINK("http://evil")'  # neutralised
    assert rows[1][3] == "a X <a@poitiers.example>, marc X <marc@poitiers.example>"
    assert rows[1][4] == "Tenue"
    assert rows[1][5] == "Séance 1:1"
    assert rows[2][7] == "Manon Alpha <manon.a@poitiers.example>"
    statuses = [row[4] for row in rows[1:]]
    assert statuses.count("Annulée") == 1
    assert AuditEntry.objects.filter(action="export.bookings_csv").count() == 1
    # the tab's dates: February only
    response = signed_in(manager_a).get(
        f"/programmes/{winter.pk}/rapports/reservations.csv",
        {"from": "2026-02-01", "to": "2026-02-28"},
    )
    assert [row[0][:7] for row in read_csv(response)[1:]] == ["2026-02"] * 3


def test_the_members_csv_in_english(winter, adoption_story, organisation):
    english = make_member(organisation, "eve@poitiers.example", first="Eve", language=Language.EN)
    winter.managers.add(english)
    when = dt.datetime(2026, 2, 1, 8, 15, tzinfo=dt.UTC)
    type(adoption_story["c"]).objects.filter(pk=adoption_story["c"].pk).update(last_access=when)
    response = signed_in(english).get(f"/programmes/{winter.pk}/rapports/membres.csv")
    rows = read_csv(response, delimiter=",")
    assert len(rows) == 1 + 6  # the mentor and five mentees enrolled now; not the one who left
    by_email = {row[2]: row for row in rows[1:]}
    assert "gone@poitiers.example" not in by_email
    assert by_email["c@poitiers.example"][4:7] == ["2", "66", "2026-02-01 09:15"]
    assert by_email["a@poitiers.example"][4:6] == ["1", "33"]
    assert by_email["e@poitiers.example"][4:7] == ["0", "0", ""]
    assert AuditEntry.objects.filter(action="export.program_members_csv").count() == 1


def test_the_members_csv_follows_the_cohort(winter, manager_a, adoption_story, organisation):
    cohort = Cohort.objects.create(organisation=organisation, name="Printemps")
    cohort.members.add(adoption_story["a"], adoption_story["b"])
    response = signed_in(manager_a).get(
        f"/programmes/{winter.pk}/rapports/membres.csv", {"cohort": cohort.pk}
    )
    assert sorted(row[2] for row in read_csv(response)[1:]) == [
        "a@poitiers.example",
        "b@poitiers.example",
    ]


def test_the_programme_page_links_to_the_reports(program_a, manager_a):
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert f'href="/programmes/{program_a.pk}/rapports/">Rapports</a>' in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_tab_has_no_serious_accessibility_violation(
    browser,  # noqa: F811
    live_server,
    winter,
    manager_a,
    adoption_story,
):
    from .test_accessibility import blocking_violations

    MeetingAttendee.objects.filter(member=adoption_story["a"]).update(rating=4)
    page = signed_in_page(browser, live_server, manager_a)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/programmes/{winter.pk}/rapports/")
    for summary in page.locator("details.chart-data > summary").all():
        summary.click()
    assert page.locator("svg[role=img]").count() == 2
    assert page.locator("details.chart-data table").first.is_visible()
    problems = blocking_violations(page)
    page.set_viewport_size({"width": 390, "height": 800})
    problems += [f"at 390px: {v}" for v in blocking_violations(page)]
    page.close()
    assert not problems, "\n".join(problems)


def test_an_empty_programme_in_english(program_b, manager_b):
    """Nothing summed yet, nobody enrolled: the tab says so, in the manager's language."""
    response = tab(signed_in(manager_b), program_b)
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    page = text_of(response)
    assert "0 % — 0 sur 0" in page or "0% — 0 of 0" in page
    assert 'role="img"' in response.content.decode()  # zero bars, still a chart with its axes
    rows = read_csv(
        signed_in(manager_b).get(f"/programmes/{program_b.pk}/rapports/membres.csv"),
        delimiter=",",
    )
    assert len(rows) == 1
