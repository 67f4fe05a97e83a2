"""Every counter rebuilt after a programme's dates change: in the background, through the
worker, with its progress on the programme's page and the old figures marked meanwhile; a
later change wins; a rebuild never loses what a batch of events wrote at the same time."""

import datetime as dt
import threading
import time
import zoneinfo

import pytest
from django.db import connection

from cohorte.activity import counters
from cohorte.activity.models import EventKind, ParticipantStats
from cohorte.activity.selectors import participant_activity_rows
from cohorte.activity.services import EventItem, counters_rebuild_start, events_ingest
from cohorte.core.models import Job, JobStatus
from cohorte.programs.models import Enrolment, Program, ProgramKind, Role

from .conftest import make_member, run_tasks, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
APRIL = dt.datetime(2026, 4, 2, 10, tzinfo=PARIS)  # after March, inside April


@pytest.fixture
def march(organisation, manager_a):
    """1–31 March 2026 in Paris."""
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


def enrol(program, email, role=Role.PARTICIPANT):
    member = make_member(program.organisation, email, first=email[:3].title(), last="X")
    Enrolment.objects.create(program=program, member=member, role=role)
    return member


def contacted(program, member):
    return participant_activity_rows(program=program).get(member=member).professionals_contacted


def edit_dates(admin, program, end):
    response = signed_in(admin).post(
        f"/programmes/{program.pk}/modifier/",
        {
            "name": program.name,
            "kind": "training",
            "start_date": "2026-03-01",
            "end_date": end,
            "objective": 2,
            "unanswered_after_days": 7,
        },
    )
    assert response.status_code == 302, response.content[:500]


@pytest.mark.django_db(transaction=True)
def test_page_says_recomputing_until_the_worker_is_done_then_shows_fresh_figures(
    admin, march, mentor
):
    lea = enrol(march, "lea@x.example")
    events_ingest(
        program=march, items=[EventItem(actor=lea, kind=EventKind.CONTACT, occurred_at=APRIL,
                                        target=mentor)],
    )  # fmt: skip
    assert contacted(march, lea) == 0
    edit_dates(admin, march, "2026-04-30")
    client = signed_in(admin)
    page = client.get(f"/programmes/{march.pk}/", {"sort": "name"}).content.decode()
    assert "Recalcul des compteurs en cours… 0 %" in page
    assert "compteurs grisés sont ceux d'avant" in page
    assert 'class="num counter"' in page
    poll = client.get(f"/programmes/{march.pk}/compteurs/", {"sort": "name"}).content.decode()
    assert "Recalcul des compteurs en cours" in poll and "every 2s" in poll
    run_tasks()
    job = Job.objects.get(kind=counters.REBUILD_JOB)
    assert (job.status, job.done, job.total, job.percent) == (JobStatus.DONE, 1, 1, 100)
    assert contacted(march, lea) == 1
    page = client.get(f"/programmes/{march.pk}/").content.decode()
    assert "Recalcul des compteurs" not in page
    # the banner's last poll reloads the table with the page's own sort
    poll = client.get(f"/programmes/{march.pk}/compteurs/", {"sort": "name"}).content.decode()
    assert "Compteurs recalculés" in poll
    assert f'hx-get="/programmes/{march.pk}/?sort=name"' in poll
    assert 'hx-target="#participants"' in poll


def test_the_banner_is_only_for_those_who_see_the_programme(march, manager_b, manager_a):
    counters_rebuild_start(program=march)
    assert signed_in(manager_b).get(f"/programmes/{march.pk}/compteurs/").status_code == 404
    page = signed_in(manager_a).get(f"/programmes/{march.pk}/compteurs/").content.decode()
    assert "Recalcul des compteurs en cours" in page


@pytest.mark.django_db(transaction=True)
def test_progress_is_shown_chunk_by_chunk(march, mentor, monkeypatch):
    monkeypatch.setattr(counters, "REBUILD_CHUNK", 2)
    for i in range(4):
        enrol(march, f"p{i}@x.example")  # and the mentor's enrolment: 5 in all
    Enrolment.objects.create(program=march, member=mentor, role=Role.PROFESSIONAL)
    seen = []
    done = counters.counters_rebuild(program=march, progress=lambda d, t: seen.append((d, t)))
    assert done == 5
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert ParticipantStats.objects.filter(enrolment__program=march).count() == 5


@pytest.mark.django_db(transaction=True)
def test_a_second_date_change_wins(admin, march, mentor):
    lea = enrol(march, "lea@x.example")
    may = dt.datetime(2026, 5, 10, 10, tzinfo=PARIS)
    events_ingest(
        program=march,
        items=[
            EventItem(actor=lea, kind=EventKind.CONTACT, occurred_at=APRIL, target=mentor),
            EventItem(actor=lea, kind=EventKind.PROFILE_VIEW, occurred_at=may, target=mentor),
        ],
    )
    edit_dates(admin, march, "2026-04-30")
    edit_dates(admin, march, "2026-05-31")
    first, second = Job.objects.filter(kind=counters.REBUILD_JOB).order_by("pk")
    assert first.status == JobStatus.DONE and first.result == {"superseded": True}
    assert second.status == JobStatus.QUEUED
    run_tasks()
    row = participant_activity_rows(program=march).get(member=lea)
    assert (row.professionals_contacted, row.profiles_visited) == (1, 1)
    second.refresh_from_db()
    assert second.status == JobStatus.DONE and second.done == second.total


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_overtaken_while_running_stops_before_its_next_chunk(march, monkeypatch):
    monkeypatch.setattr(counters, "REBUILD_CHUNK", 1)
    for i in range(3):
        enrol(march, f"p{i}@x.example")
    first = counters_rebuild_start(program=march)
    Job.objects.filter(pk=first.pk).update(status=JobStatus.RUNNING)
    later: list[Job] = []

    def progress(done, total):
        if done == 1:  # the dates change again while the first chunk is done
            later.append(counters_rebuild_start(program=march))

    result = counters.counters_rebuild_work(first, progress)
    assert result == {"superseded": True}
    assert len(later) == 1
    assert counters.counters_rebuild_pending(march) == later[0]


@pytest.mark.django_db(transaction=True)
def test_a_batch_stored_during_a_rebuild_is_not_lost(march, mentor):
    """The rebuild's chunk waits for a batch being stored for the same participant, then
    counts it: it never writes figures read before that batch was committed."""
    lea = enrol(march, "lea@x.example")
    march_day = dt.datetime(2026, 3, 10, 10, tzinfo=PARIS)
    stored = threading.Event()

    def ingest_slowly():
        from django.db import transaction

        try:
            with transaction.atomic():
                events_ingest(
                    program=march,
                    items=[EventItem(actor=lea, kind=EventKind.CONTACT, occurred_at=march_day,
                                     target=mentor)],
                )  # fmt: skip
                stored.set()
                time.sleep(1)  # the rebuild starts meanwhile
        finally:
            connection.close()

    thread = threading.Thread(target=ingest_slowly)
    thread.start()
    assert stored.wait(10)
    counters.counters_rebuild(program=march)
    thread.join()
    assert contacted(march, lea) == 1


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_for_one_participant_both_count(march, mentor, manager_a):
    """Distinct counts recomputed by two batches at once: the second waits for the first."""
    lea = enrol(march, "lea@x.example")
    other = enrol(march, "pro@x.example", role=Role.PROFESSIONAL)
    march_day = dt.datetime(2026, 3, 10, 10, tzinfo=PARIS)
    stored = threading.Event()

    def first_batch():
        from django.db import transaction

        try:
            with transaction.atomic():
                events_ingest(
                    program=march,
                    items=[EventItem(actor=lea, kind=EventKind.PROFILE_VIEW,
                                     occurred_at=march_day, target=mentor)],
                )  # fmt: skip
                stored.set()
                time.sleep(1)
        finally:
            connection.close()

    thread = threading.Thread(target=first_batch)
    thread.start()
    assert stored.wait(10)
    events_ingest(
        program=march,
        items=[EventItem(actor=lea, kind=EventKind.PROFILE_VIEW, occurred_at=march_day,
                         target=other)],
    )  # fmt: skip
    thread.join()
    assert participant_activity_rows(program=march).get(member=lea).profiles_visited == 2
