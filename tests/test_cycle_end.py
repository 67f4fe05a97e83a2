"""Ending a programme cycle: each of the seed's three methods, through the wizard and the
worker, with the archive of every report; a cycle end never touches another programme's
data, does exactly the plan it showed, and is all or nothing."""

import datetime as dt
import io
import re
import zipfile

import pytest
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.core.jobs import jobs_resume_stale
from cohorte.core.models import AuditEntry, Job
from cohorte.demo import demo_build
from cohorte.meetings.models import MeetingAttendee, Relationship, RelationshipStatus
from cohorte.meetings.services import relationship_create
from cohorte.programs.models import Enrolment, Program, Role
from cohorte.reports import services
from cohorte.reports.services import cycle_members, cycle_plan

from .conftest import hold_meetings, make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, program, method, **extra):
    response = client.get(
        f"/programmes/{program.pk}/terminer-le-cycle/", {"method": method, **extra}
    )
    assert response.status_code == 200
    return response.content.decode()


def fingerprint(html):
    return re.search(r'name="plan" value="([0-9a-f]+)"', html).group(1)


def confirm(client, program, method, **extra):
    """What the administrator does: open the plan, tick the box, confirm that plan."""
    shown = fingerprint(page(client, program, method, **extra))
    return client.post(
        f"/programmes/{program.pk}/terminer-le-cycle/",
        {"method": method, "confirm": "1", "plan": shown, **extra},
    )


def finish(client, program, method, **extra):
    response = confirm(client, program, method, **extra)
    assert response.status_code == 302, response.content.decode()[-2000:]
    run_tasks()
    job = Job.objects.filter(kind="cycle_end").first()
    assert job.status == "done", job.result
    return job


def archive_of(job):
    with job.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


# --- On the demo organisation ---------------------------------------------------------------


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation = demo_build()
    admin = Member.objects.get(email="admin@cohorte.example")
    mentoring = Program.objects.get(organisation=organisation, kind="mentoring")
    return organisation, admin, mentoring


def test_the_plan_says_what_will_happen_before_anything_does(demo):
    organisation, admin, mentoring = demo
    plan = cycle_plan(program=mentoring, method="full")
    client = signed_in(admin)
    html = page(client, mentoring, "full")
    assert f"{plan.deleted} membres seront supprimés définitivement" in html
    if plan.kept_in_other_programmes:
        assert (
            f"{plan.kept_in_other_programmes} membres liés à un autre programme gardent leur "
            "compte et leur historique" in html
        )
    for person in plan.to_delete:  # every one of them, by name
        assert f'data-member="{person.pk}">{person.full_name}' in html
    year = mentoring.start_date.year
    assert f"« {mentoring.name} {year}-{year + 1}.zip »" in html
    refused = client.post(
        f"/programmes/{mentoring.pk}/terminer-le-cycle/",
        {"method": "full", "plan": fingerprint(html)},
    )
    assert "Cochez la case de confirmation" in refused.content.decode()
    assert not Job.objects.exists()
    assert Member.objects.filter(pk__in=[p.pk for p in plan.people]).count() == plan.members


def test_method_1_full_refresh(demo):
    organisation, admin, mentoring = demo
    plan = cycle_plan(program=mentoring, method="full")
    members = {p.pk for p in plan.people}
    kept = {p.pk for p in plan.to_leave}
    managers = set(mentoring.managers.values_list("pk", flat=True))
    job = finish(signed_in(admin), mentoring, "full")
    remaining = set(Member.objects.filter(pk__in=members).values_list("pk", flat=True))
    assert remaining == kept
    assert not Enrolment.objects.filter(
        program=mentoring, member_id__in=kept, ended_at__isnull=True
    ).exists()
    assert Member.objects.filter(pk__in=managers).count() == len(managers)
    assert Member.objects.filter(email="admin@cohorte.example", is_active=True).exists()
    names = archive_of(job).namelist()
    folder = f"{mentoring.name} {mentoring.start_date.year}-{mentoring.start_date.year + 1}"
    assert sorted(names) == sorted(
        f"{folder}/{n}.csv"
        for n in ("membres", "activite-des-participants", "relations", "rencontres")
    )
    members_csv = archive_of(job).read(f"{folder}/membres.csv").decode("utf-8-sig")
    assert len(members_csv.strip().splitlines()) == len(members) + 1  # kept before deletion
    assert job.result["deleted"] == plan.deleted == len(members) - len(kept)


def test_method_2_keeps_the_returning_members_with_their_data(demo):
    organisation, admin, mentoring = demo
    plan = cycle_plan(program=mentoring, method="full")
    elsewhere = {p.pk for p in plan.to_leave}
    members = [p.pk for p in plan.people]
    pair = next(
        r
        for r in Relationship.objects.filter(program=mentoring)
        if {r.mentor_id, r.mentee_id} <= set(members) - elsewhere
    )
    others = [pk for pk in members if pk not in elsewhere | {pair.mentor_id, pair.mentee_id}]
    returning = [pair.mentor_id, pair.mentee_id, others[0]]
    survivors = (
        elsewhere
        | set(returning)
        | set(Member.objects.exclude(pk__in=members).values_list("pk", flat=True))
    )

    def kept_relationships(pk):
        """Those whose other side survives the cycle: a relationship goes with a deleted partner."""
        as_mentee = Relationship.objects.filter(mentee_id=pk, mentor_id__in=survivors).count()
        return (
            as_mentee + Relationship.objects.filter(mentor_id=pk, mentee_id__in=survivors).count()
        )

    history = {pk: kept_relationships(pk) for pk in returning}
    assert history[pair.mentee_id] >= 1
    client = signed_in(admin)
    assert "3 membres qui reviennent seront réactivés" in page(
        client, mentoring, "keep", returning=returning
    )
    job = finish(client, mentoring, "keep", returning=returning)
    assert not Relationship.objects.filter(
        program=mentoring, status=RelationshipStatus.MATCHED
    ).exists()
    for member in Member.objects.filter(pk__in=returning):
        assert member.is_active
        assert kept_relationships(member.pk) == history[member.pk]  # completed, not deleted
    gone = [pk for pk in members if pk not in elsewhere and pk not in returning]
    assert not Member.objects.filter(pk__in=gone).exists()
    assert job.result["reactivated"] == 3 and job.result["relationships_ended"] > 0


def test_method_3_points_to_the_reimport(demo):
    organisation, admin, mentoring = demo
    client = signed_in(admin)
    job = finish(client, mentoring, "reimport")
    html = client.get(f"/taches/{job.pk}/").content.decode()
    assert "/membres/importer/" in html and "Télécharger" in html
    download = client.get(f"/taches/{job.pk}/fichier/")
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"


def test_end_all_relationships_alone(demo):
    organisation, admin, mentoring = demo
    current = Relationship.objects.filter(
        program=mentoring, status=RelationshipStatus.MATCHED
    ).count()
    assert current > 0
    client = signed_in(admin)
    assert (
        f"{current} relations en cours"
        in client.get(f"/programmes/{mentoring.pk}/terminer-les-relations/").content.decode()
    )
    client.post(f"/programmes/{mentoring.pk}/terminer-les-relations/")
    assert not Relationship.objects.filter(
        program=mentoring, status=RelationshipStatus.MATCHED
    ).exists()
    assert Member.objects.filter(organisation=organisation, relationships_count__gt=0).count() == 0


def test_a_manager_cannot_end_a_cycle(demo):
    organisation, admin, mentoring = demo
    manager = mentoring.managers.first()
    assert (
        signed_in(manager).get(f"/programmes/{mentoring.pk}/terminer-le-cycle/").status_code == 404
    )
    assert (
        signed_in(manager).post(f"/programmes/{mentoring.pk}/terminer-les-relations/").status_code
        == 404
    )


# --- Two programmes, people in both -----------------------------------------------------------


@pytest.fixture
def people(settings, tmp_path, organisation, admin, program_a, program_b, mentor, mentee):
    """Programme A's cycle ends. In it: Léa (mentee, only A: deleted), Marc (mentor,
    enrolled in B now), Sam (left B earlier, with a relationship and three meetings
    there), Eve (only A, but someone in B viewed her profile), Rémi (removed from A earlier
    with the promise « leur historique reste »), and Ana (only A, a partner of Léa)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    now = timezone.now()
    sam = make_member(organisation, "sam.shared@poitiers.example", first="Sam", last="Shared")
    eve = make_member(organisation, "eve.seen@poitiers.example", first="Eve", last="Seen")
    remi = make_member(organisation, "remi.removed@poitiers.example", first="Rémi", last="Removed")
    ana = make_member(organisation, "ana.alone@poitiers.example", first="Ana", last="Alone")
    buddy = make_member(organisation, "ben.b@poitiers.example", first="Ben", last="Buddy")
    for member in (sam, eve, ana):
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    Enrolment.objects.create(program=program_a, member=remi, role=Role.PARTICIPANT, ended_at=now)
    Enrolment.objects.create(program=program_b, member=buddy, role=Role.MENTOR)
    Enrolment.objects.create(program=program_b, member=sam, role=Role.MENTEE, ended_at=now)
    shared_pair = relationship_create(program=program_b, mentor=buddy, mentee=sam, by=admin)
    Relationship.objects.filter(pk=shared_pair.pk).update(
        status=RelationshipStatus.COMPLETED, ended_at=now
    )
    hold_meetings(program_b, sam, buddy, 3)
    ActivityEvent.objects.create(
        program=program_b, actor=buddy, target=eve, kind=EventKind.PROFILE_VIEW, occurred_at=now
    )
    relationship_create(program=program_a, mentor=mentor, mentee=mentee, by=admin)
    relationship_create(program=program_a, mentor=ana, mentee=remi, by=admin)
    hold_meetings(program_a, mentee, ana, 2)
    hold_meetings(program_a, remi, ana, 1)
    return {
        "admin": admin,
        "a": program_a,
        "b": program_b,
        "lea": mentee,
        "marc": mentor,
        "sam": sam,
        "eve": eve,
        "remi": remi,
        "ana": ana,
        "buddy": buddy,
        "shared_pair": shared_pair,
    }


def programme_b_state(b):
    return (
        sorted(Relationship.objects.filter(program=b).values_list("pk", "mentor_id", "mentee_id")),
        sorted(MeetingAttendee.objects.filter(meeting__program=b).values_list("pk", "member_id")),
        sorted(Enrolment.objects.filter(program=b).values_list("pk", "member_id", "ended_at")),
        sorted(ActivityEvent.objects.filter(program=b).values_list("pk", "actor_id", "target_id")),
    )


def test_a_member_with_history_in_another_programme_is_kept_with_that_history(people):
    p = people
    before = programme_b_state(p["b"])
    client = signed_in(p["admin"])
    html = page(client, p["a"], "full")
    leave = html.split('id="plan-leave"')[1].split("</ul>")[0]
    assert f'data-member="{p["sam"].pk}"' in leave
    assert "Mentorat B : inscription terminée, relation, rencontres" in leave
    assert "Mentorat B : activité" in leave  # Eve: an event about her in B
    delete = html.split('id="plan-delete"')[1].split("</ul>")[0]
    assert f'data-member="{p["lea"].pk}"' in delete and f'data-member="{p["sam"].pk}"' not in delete
    finish(client, p["a"], "full")
    assert programme_b_state(p["b"]) == before  # the relationship and three attendances of B
    assert MeetingAttendee.objects.filter(member=p["sam"], meeting__program=p["b"]).count() == 3
    assert Relationship.objects.filter(pk=p["shared_pair"].pk).exists()
    sam, marc, eve = (Member.objects.get(pk=p[k].pk) for k in ("sam", "marc", "eve"))
    assert not sam.is_active and not eve.is_active  # nothing else now: switched off
    assert marc.is_active  # still enrolled in B
    assert not Enrolment.objects.filter(
        program=p["a"], member__in=[sam, marc, eve], ended_at__isnull=True
    ).exists()
    assert not Member.objects.filter(pk__in=[p["lea"].pk, p["ana"].pk]).exists()


def test_a_member_removed_earlier_is_not_deleted(people):
    p = people
    remi = p["remi"]
    assert remi.pk not in {m.pk for m in cycle_members(p["a"])}
    history = MeetingAttendee.objects.filter(member=remi).count()
    finish(signed_in(p["admin"]), p["a"], "full")
    remi.refresh_from_db()
    assert remi.is_active
    assert Enrolment.objects.get(program=p["a"], member=remi).ended_at is not None
    assert MeetingAttendee.objects.filter(member=remi).count() == history == 1


def outcome(plan, program):
    """What the data says now, in the plan's terms."""
    ids = {p.pk for p in plan.people}
    existing = set(Member.objects.filter(pk__in=ids).values_list("pk", flat=True))
    active = set(Member.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    enrolled = set(
        Enrolment.objects.filter(
            program=program, member_id__in=ids, ended_at__isnull=True
        ).values_list("member_id", flat=True)
    )
    before_active = {p.pk for p in plan.people if p.is_active}
    return {
        "delete": sorted(ids - existing),
        "leave": sorted(existing - enrolled),
        "deactivate": sorted((before_active - active) & existing),
        "reactivate": sorted(p.pk for p in plan.people if p.pk in active and p.reactivate),
    }


@pytest.mark.parametrize("method", services.METHODS)
def test_the_result_is_the_plan_for_every_method(people, method):
    p = people
    returning = []
    if method == "keep":
        # one active, one switched off earlier, one enrolled in another programme too:
        # the plan said 3 reactivated and the result was 2
        Member.objects.filter(pk=p["eve"].pk).update(is_active=False)
        returning = [p["lea"].pk, p["eve"].pk, p["marc"].pk]
    client = signed_in(p["admin"])
    plan = cycle_plan(program=p["a"], method=method, returning_ids=returning)
    ended = set(plan.relationships)
    job = finish(client, p["a"], method, returning=returning)
    assert job.payload["plan"] == plan.actions() == job.result["done"]
    done = outcome(plan, p["a"])
    assert done["delete"] == plan.actions()["delete"]
    assert done["leave"] == plan.actions()["leave"]
    assert done["deactivate"] == plan.actions()["deactivate"]
    assert done["reactivate"] == plan.actions()["reactivate"]
    assert {
        key: job.result[key]
        for key in ("deleted", "deactivated", "reactivated", "kept_in_other_programmes")
    } == {
        "deleted": plan.deleted,
        "deactivated": plan.deactivated,
        "reactivated": plan.reactivated,
        "kept_in_other_programmes": plan.kept_in_other_programmes,
    }
    assert job.result["relationships_ended"] == len(ended)
    if method == "keep":
        assert plan.reactivated == job.result["reactivated"] == 3
        assert set(
            Member.objects.filter(pk__in=returning, is_active=True).values_list("pk", flat=True)
        ) == set(returning)
        assert (
            ended
            and not Relationship.objects.filter(
                pk__in=ended, status=RelationshipStatus.MATCHED
            ).exists()
        )  # completed (or gone with a deleted partner)
    deactivations = AuditEntry.objects.filter(action="member.deactivated")
    assert sorted(int(e.target_id) for e in deactivations) == plan.actions()["deactivate"]


def test_a_plan_that_changed_before_confirmation_is_refused(people):
    p = people
    client = signed_in(p["admin"])
    shown = fingerprint(page(client, p["a"], "full"))
    hold_meetings(p["b"], p["ana"], p["buddy"], 1)  # Ana now has history in B
    response = client.post(
        f"/programmes/{p['a'].pk}/terminer-le-cycle/",
        {"method": "full", "confirm": "1", "plan": shown},
    )
    assert "Le résumé a changé depuis son affichage" in response.content.decode()
    assert not Job.objects.exists()


def test_a_plan_that_changed_before_the_worker_ran_is_refused(people):
    p = people
    client = signed_in(p["admin"])
    assert confirm(client, p["a"], "full").status_code == 302
    hold_meetings(p["b"], p["ana"], p["buddy"], 1)  # before the worker picks the job
    run_tasks()
    job = Job.objects.get(kind="cycle_end")
    assert job.status == "failed"
    assert "ont changé depuis la confirmation" in job.result["error"]
    assert "membres à supprimer" in job.result["error"]
    assert (
        Member.objects.filter(pk=p["ana"].pk).exists()
        and Member.objects.get(pk=p["sam"].pk).is_active
    )
    assert not AuditEntry.objects.filter(action__startswith="cycle.").exists()


def snapshot(program):
    return (
        sorted(Member.objects.values_list("pk", "is_active")),
        sorted(Enrolment.objects.values_list("pk", "ended_at")),
        sorted(Relationship.objects.values_list("pk", "status")),
        MeetingAttendee.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_failing_step_changes_nothing_and_the_job_can_be_finished(people, settings, tmp_path):
    p = people
    Member.objects.filter(pk=p["eve"].pk).update(is_active=False)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocker / "media"  # a real fault: the archive cannot be written
    client = signed_in(p["admin"])
    returning = [p["lea"].pk, p["eve"].pk]
    plan = cycle_plan(program=p["a"], method="keep", returning_ids=returning)
    before = snapshot(p["a"])
    assert confirm(client, p["a"], "keep", returning=returning).status_code == 302
    run_tasks()
    job = Job.objects.get(kind="cycle_end")
    assert job.status == "failed" and job.result["error"]
    assert snapshot(p["a"]) == before  # nothing deactivated, ended, deleted, logged
    assert not job.file
    html = client.get(f"/programmes/{p['a'].pk}/terminer-le-cycle/").content.decode()
    assert "La dernière fin de cycle a échoué" in html
    settings.MEDIA_ROOT = tmp_path / "media"  # mended
    response = client.post(f"/programmes/{p['a'].pk}/terminer-le-cycle/{job.pk}/reprendre/")
    assert response.status_code == 302
    run_tasks()
    job.refresh_from_db()
    assert job.status == "done", job.result
    assert job.result["done"] == plan.actions() and job.result["reactivated"] == 2
    assert outcome(plan, p["a"])["delete"] == plan.actions()["delete"]
    assert AuditEntry.objects.filter(action="cycle.ended").count() == 1
    assert len(list((tmp_path / "media").rglob("*.zip"))) == 1
    # delivered once more (a retried task): nothing is done twice
    from cohorte.reports.tasks import cycle_end

    cycle_end.enqueue(job.pk)
    run_tasks()
    assert AuditEntry.objects.filter(action="cycle.ended").count() == 1
    assert len(list((tmp_path / "media").rglob("*.zip"))) == 1


def test_a_job_left_running_by_a_dead_worker_is_resumed_once(people, settings):
    """What a killed worker leaves (its job « running », its heartbeat stopped, its task
    never retried by django-tasks-db): the scheduler's tick starts it again, it finishes."""
    p = people
    settings.COHORTE_JOB_STALE_SECONDS = 60
    client = signed_in(p["admin"])
    plan = cycle_plan(program=p["a"], method="full")
    assert confirm(client, p["a"], "full").status_code == 302
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())  # the dead one
    Job.objects.update(
        status="running", attempts=1, heartbeat_at=timezone.now() - dt.timedelta(minutes=2)
    )
    assert jobs_resume_stale() == 1
    run_tasks()
    job = Job.objects.get()
    assert job.status == "done" and job.result["done"] == plan.actions()
    assert job.attempts == 2
    assert jobs_resume_stale() == 0
    assert AuditEntry.objects.filter(action="cycle.ended").count() == 1


def test_a_slow_run_is_not_done_twice_when_started_again(people, settings):
    """The tick cannot see a heartbeat from inside the cycle end's transaction: a second
    start of the same job finds it finished and does nothing."""
    p = people
    client = signed_in(p["admin"])
    assert confirm(client, p["a"], "full").status_code == 302
    run_tasks()
    job = Job.objects.get()
    from cohorte.reports.tasks import cycle_end

    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    cycle_end.enqueue(job.pk)
    run_tasks()
    assert Job.objects.get().status == "done"
    assert AuditEntry.objects.filter(action="cycle.ended").count() == 1
    assert AuditEntry.objects.filter(action="member.deleted").count() == job.result["deleted"]


def test_a_second_cycle_end_is_refused_while_one_is_pending(people):
    p = people
    client = signed_in(p["admin"])
    assert confirm(client, p["a"], "full").status_code == 302
    again = confirm(client, p["a"], "full")
    assert "Une fin de cycle est déjà en cours" in again.content.decode()
    assert Job.objects.count() == 1


def test_hostile_returning_ids_are_refused_clearly(people):
    client = signed_in(people["admin"])
    for value in ("²", "9" * 40, "-1", "abc"):
        html = page(client, people["a"], "keep", returning=[str(people["lea"].pk), value])
        assert "identifiant invalide" in html
        assert 'id="plan-reactivate"' not in html
        response = client.post(
            f"/programmes/{people['a'].pk}/terminer-le-cycle/",
            {"method": "keep", "confirm": "1", "plan": fingerprint(html), "returning": value},
        )
        assert response.status_code == 200 and "identifiant invalide" in response.content.decode()
    assert not Job.objects.exists()


def test_the_archive_holds_the_members_of_this_cycle(people):
    p = people
    job = finish(signed_in(p["admin"]), p["a"], "full")
    archive = archive_of(job)
    name = next(n for n in archive.namelist() if n.endswith("membres.csv"))
    text = archive.read(name).decode("utf-8-sig")
    for key in ("lea", "marc", "sam", "eve", "ana"):
        assert p[key].email in text
    assert p["remi"].email not in text and p["admin"].email not in text
    assert job.finished_at is not None and job.finished_at <= timezone.now() + dt.timedelta(1)
