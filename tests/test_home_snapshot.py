"""The Home's snapshot (reports.home_snapshot): its figures, rates, cohorts, ratings and
lists are those the Home counts afresh; the page reads it in the same few queries whatever
the programme's size, never the events; a stale one is served with its time and refreshed
once by the worker; a cycle end drops it."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone
from django_tasks_db.models import DBTaskResult

from cohorte.accounts.models import Member
from cohorte.activity.services import report_create
from cohorte.core.moments import format_moment
from cohorte.demo import demo_build
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Program
from cohorte.reports import compare, home
from cohorte.reports.at_risk import REASON_CODES, at_risk_rows
from cohorte.reports.home_snapshot import (
    REFRESH_SECONDS,
    VERSION,
    home_snapshot,
    home_snapshot_compute,
    home_snapshot_drop,
)
from cohorte.reports.models import HomeSnapshot
from cohorte.reports.tab_selectors import rating_counts
from cohorte.reports.tasks import home_snapshot_refresh

from .conftest import run_tasks, signed_in
from .test_cycle_end import finish
from .test_home import enrol, meeting, world  # noqa: F401 — the hand-built programme

REFRESH_TASK = home_snapshot_refresh.module_path


def _grow(program, mentor, n):
    cohort = Cohort.objects.create(
        organisation=program.organisation, name=f"Cohorte {n}", kind=CohortKind.COHORT
    )
    for i in range(n):
        member = enrol(program, f"snap{n}-{i}@poitiers.example", first=f"S{i}", last="Snap")
        member.cohorts.add(cohort)
        if i % 2:
            meeting(program, [member, mentor])
        if i % 3 == 0:
            report_create(program=program, member=member, reported_by=mentor, reason="x")


def _age(program, seconds):
    HomeSnapshot.objects.filter(program=program).update(
        computed_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


def test_snapshot_holds_what_the_home_counts_afresh(world, program_a):  # noqa: F811
    cohort = Cohort.objects.create(
        organisation=program_a.organisation, name="Printemps", kind=CohortKind.COHORT
    )
    world["paul"].cohorts.add(cohort)
    snapshot = home_snapshot_compute(program=program_a)
    stored = HomeSnapshot.objects.get(program=program_a)
    now = timezone.now()
    assert stored.figures == home._count_figures(program_a, now)
    assert stored.figures == home.home_figures(program=program_a, fresh=True)["values"]
    assert stored.figures["at_risk"] >= 1 and stored.figures["enrolled"] == 5
    rates = home.organisation_rates(organisation=program_a.organisation, fresh=True)
    assert stored.organisation == {"programs": rates["programs"], "values": rates["values"]}
    assert stored.cohorts == [
        [cohort.pk, values] for cohort, values in compare.cohort_rows(program=program_a)
    ]
    assert stored.cohorts and stored.cohorts[0][0] == cohort.pk
    assert {int(k): v for k, v in stored.ratings.items()} == rating_counts(program=program_a)
    for side in ("mentees", "mentors"):
        assert getattr(stored, side) == [
            row.pk for row in home.progress_table(program=program_a, side=side)
        ]
    assert stored.at_risk == [
        [row.pk, [code for code in REASON_CODES if getattr(row, f"why_{code}")]]
        for row in at_risk_rows(program=program_a, now=now)[: home.AT_RISK_ON_HOME]
    ]
    assert stored.computed_at == snapshot.computed_at and stored.refresh_queued_at is None


def test_first_view_counts_the_snapshot_and_the_next_ones_read_it(
    world,  # noqa: F811
    program_a,
    manager_a,
):
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    assert not HomeSnapshot.objects.filter(program=program_a).exists()
    first = client.get(url).content.decode()
    snapshot = HomeSnapshot.objects.get(program=program_a)
    assert snapshot.figures == home.home_figures(program=program_a, fresh=True)["values"]
    assert "Signalé par Marc Mentor : Absent" in first  # the at-risk list, with its words
    assert "Zoé" in first  # and its people, read by id
    assert client.get(url).content.decode().count("Zoé") == first.count("Zoé")
    assert not DBTaskResult.objects.filter(task_path=REFRESH_TASK).exists()  # young: none


def test_a_snapshot_counted_by_an_older_version_is_counted_again_not_read(
    world,  # noqa: F811
    program_a,
    manager_a,
):
    """A snapshot kept from before an upgrade may lack what the page now reads: it would
    break the Home for everyone until its refresh. It is counted again instead."""
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    client.get(url)
    HomeSnapshot.objects.filter(program=program_a).update(version=0, figures={}, mentees=[])
    page = client.get(url)
    assert page.status_code == 200
    assert "Zoé" in page.content.decode()
    snapshot = HomeSnapshot.objects.get(program=program_a)
    assert snapshot.version == VERSION
    assert snapshot.figures == home.home_figures(program=program_a, fresh=True)["values"]


def test_home_reads_its_snapshot_in_the_same_queries_whatever_the_size(
    program_a, mentor, manager_a, django_assert_max_num_queries
):
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    counts = []
    for size in (3, 40):
        _grow(program_a, mentor, size)
        home_snapshot_compute(program=program_a)
        client.get(url)  # the session, the sidebar's caches
        with django_assert_max_num_queries(20):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
        sql = [query["sql"] for query in ctx.captured_queries]
        # nothing counted per view: no event, no grouped count over the programme
        assert not any("activity_activityevent" in query for query in sql), sql
        assert not any("GROUP BY" in query.upper() for query in sql), sql
        counts.append(len(sql))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db(transaction=True)
def test_stale_snapshot_is_served_with_its_time_and_refreshed_once(
    world,  # noqa: F811
    program_a,
    manager_a,
    django_capture_on_commit_callbacks,
):
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    home_snapshot_compute(program=program_a)
    enrol(program_a, "late@poitiers.example", first="Tardif", last="Arrivé")
    _age(program_a, 3 * 3600)
    counted = HomeSnapshot.objects.get(program=program_a).computed_at
    for _view in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            html = client.get(url).content.decode()
        row = html.split('data-figure="enrolled"', 1)[1].split("</tr>", 1)[0]
        assert 'data-value="5"' in row  # the stale figures, served as they were counted
        as_of = html.split("data-as-of>", 1)[1].split("</p>", 1)[0]
        assert format_moment(counted) in as_of  # « à jour le » says when
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 1  # one refresh
    assert HomeSnapshot.objects.get(program=program_a).refresh_queued_at is not None

    run_tasks()  # the worker, for real

    refreshed = HomeSnapshot.objects.get(program=program_a)
    assert refreshed.computed_at > counted and refreshed.refresh_queued_at is None
    assert refreshed.figures == home.home_figures(program=program_a, fresh=True)["values"]
    html = client.get(url).content.decode()
    row = html.split('data-figure="enrolled"', 1)[1].split("</tr>", 1)[0]
    assert 'data-value="6"' in row
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 1  # young again


def test_a_refresh_whose_worker_died_is_queued_again(
    world,  # noqa: F811
    program_a,
    django_capture_on_commit_callbacks,
):
    home_snapshot_compute(program=program_a)
    _age(program_a, REFRESH_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        home_snapshot(program=program_a)
        home_snapshot(program=program_a)
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 1
    HomeSnapshot.objects.filter(program=program_a).update(
        refresh_queued_at=timezone.now() - dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        home_snapshot(program=program_a)
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 2


def test_people_of_the_lists_are_read_afresh(world, program_a, manager_a, mentor):  # noqa: F811
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    home_snapshot_compute(program=program_a)
    zoe = world["zoe"]
    Enrolment.objects.filter(program=program_a, member=zoe).update(ended_at=timezone.now())
    html = client.get(url).content.decode()
    assert f'data-member="{zoe.pk}"' not in html  # ended since the snapshot: left out
    assert "Zoé" not in html


def test_dashboard_api_reads_the_snapshot(world, program_a, manager_a, api_as):  # noqa: F811
    home_snapshot_compute(program=program_a)
    _age(program_a, 30)
    enrol(program_a, "late@poitiers.example")
    body = api_as(manager_a).get(f"/api/programs/{program_a.pk}/dashboard").json()
    values = {figure["key"]: figure["value"] for figure in body["figures"]}
    assert values["enrolled"] == 5  # counted 30 s ago: still served
    counted = HomeSnapshot.objects.get(program=program_a).computed_at
    assert abs(dt.datetime.fromisoformat(body["as_of"]) - counted) < dt.timedelta(milliseconds=1)


def test_reasons_dates_follow_the_readers_format(world, program_a, manager_a):  # noqa: F811
    """The reasons' words are written at each view (in the reader's language), not kept."""
    home_snapshot_compute(program=program_a)
    html = signed_in(manager_a).get(reverse("reports:home", args=[program_a.pk])).content
    today = formats.date_format(timezone.localdate(), "SHORT_DATE_FORMAT")
    assert f"Courriel retourné le {today}" in html.decode()


@pytest.mark.django_db(transaction=True)
def test_a_cycle_end_drops_the_snapshot_and_the_next_view_counts_the_new_cycle(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation = demo_build()
    admin = Member.objects.get(email="admin@cohorte.example")
    mentoring = Program.objects.get(organisation=organisation, kind="mentoring")
    client = signed_in(admin)
    url = reverse("reports:home", args=[mentoring.pk])
    client.get(url)
    before = HomeSnapshot.objects.get(program=mentoring).figures

    counted = HomeSnapshot.objects.get(program=mentoring).computed_at

    job = finish(client, mentoring, "full")  # the worker runs the queued refresh after it

    after = HomeSnapshot.objects.get(program=mentoring)
    assert after.computed_at > job.finished_at > counted
    assert after.figures == home.home_figures(program=mentoring, fresh=True)["values"]
    assert after.figures["enrolled"] < before["enrolled"]
    client.get(url)
    assert HomeSnapshot.objects.get(program=mentoring).computed_at == after.computed_at


@pytest.mark.django_db(transaction=True)
def test_a_view_before_the_refresh_of_a_dropped_snapshot_counts_it(
    world,  # noqa: F811
    program_a,
    manager_a,
):
    home_snapshot_compute(program=program_a)
    home_snapshot_drop(program=program_a)  # as a cycle end does
    enrol(program_a, "late@poitiers.example")
    html = signed_in(manager_a).get(reverse("reports:home", args=[program_a.pk])).content
    row = html.decode().split('data-figure="enrolled"', 1)[1].split("</tr>", 1)[0]
    assert 'data-value="6"' in row
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_organisations_home_reads_the_snapshots_and_counts_only_the_others(
    world,  # noqa: F811
    program_a,
    program_b,
    admin,
    django_capture_on_commit_callbacks,
):
    """Programme A has a stale snapshot: its row is what the snapshot counted, served with
    its time, and one refresh is queued. Programme B has none: it is counted there and then
    (equal to its Home counted afresh), and its snapshot is queued once, not per view."""
    enrol(program_b, "b1@poitiers.example", first="Bea", last="Un")
    home_snapshot_compute(program=program_a)
    enrol(program_a, "late@poitiers.example", first="Tardif", last="Arrivé")
    _age(program_a, 3 * 3600)
    counted = HomeSnapshot.objects.get(program=program_a).computed_at
    for _view in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            figures = compare.organisation_figures(member=admin)
        assert figures["rows"][program_a.pk]["enrolled"] == 5  # as the snapshot counted it
        assert figures["as_of"] == counted  # the oldest row's time
        own_b = home.home_figures(program=program_b, fresh=True)["values"]
        assert figures["rows"][program_b.pk]["enrolled"] == own_b["enrolled"] == 1
        assert figures["total"]["enrolled"] == 6
    assert DBTaskResult.objects.filter(task_path=REFRESH_TASK).count() == 2  # one each

    run_tasks()  # the worker, for real

    assert set(HomeSnapshot.objects.values_list("program_id", flat=True)) >= {
        program_a.pk,
        program_b.pk,
    }
    figures = compare.organisation_figures(member=admin)
    fresh = compare.organisation_figures(member=admin, fresh=True)
    assert figures["rows"] == fresh["rows"] and figures["total"]["enrolled"] == 7
