"""Ending a programme cycle on the demo data: each of the seed's three methods, through
the wizard and the worker, with the archive of every report."""

import io
import zipfile

import pytest

from cohorte.accounts.models import Member
from cohorte.activity.demo import demo_build
from cohorte.core.models import Job
from cohorte.meetings.models import Relationship, RelationshipStatus
from cohorte.programs.models import Enrolment, Program
from cohorte.reports.services import cycle_members, kept_elsewhere

from .conftest import run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    organisation = demo_build()
    admin = Member.objects.get(email="admin@cohorte.example")
    mentoring = Program.objects.get(organisation=organisation, kind="mentoring")
    return organisation, admin, mentoring


def finish(client, program, method, **extra):
    response = client.post(
        f"/programmes/{program.pk}/terminer-le-cycle/", {"method": method, "confirm": "1", **extra}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    run_tasks()
    job = Job.objects.get(kind="cycle_end")
    assert job.status == "done", job.result
    return job


def archive_of(job):
    with job.file.open("rb") as handle:
        return zipfile.ZipFile(io.BytesIO(handle.read()))


def test_the_plan_says_what_will_happen_before_anything_does(demo):
    organisation, admin, mentoring = demo
    members = cycle_members(mentoring)
    elsewhere = kept_elsewhere(mentoring, members).count()
    client = signed_in(admin)
    html = client.get(
        f"/programmes/{mentoring.pk}/terminer-le-cycle/", {"method": "full"}
    ).content.decode()
    doomed = members.count() - elsewhere
    assert f"{doomed} membres seront supprimés définitivement" in html
    assert f"{elsewhere} membres inscrits à un autre programme gardent leur compte" in html
    year = mentoring.start_date.year
    assert f"« {mentoring.name} {year}-{year + 1}.zip »" in html
    refused = client.post(f"/programmes/{mentoring.pk}/terminer-le-cycle/", {"method": "full"})
    assert "Cochez la case de confirmation" in refused.content.decode()
    assert not Job.objects.exists()
    assert Member.objects.filter(pk__in=members.values("pk")).count() == members.count()


def test_method_1_full_refresh(demo):
    organisation, admin, mentoring = demo
    members = list(cycle_members(mentoring))
    elsewhere = set(
        kept_elsewhere(mentoring, cycle_members(mentoring)).values_list("pk", flat=True)
    )
    managers = set(mentoring.managers.values_list("pk", flat=True))
    job = finish(signed_in(admin), mentoring, "full")
    remaining = set(
        Member.objects.filter(pk__in=[m.pk for m in members]).values_list("pk", flat=True)
    )
    assert remaining == elsewhere
    assert Member.objects.filter(pk__in=elsewhere, is_active=True).count() == len(elsewhere)
    assert not Enrolment.objects.filter(
        program=mentoring, member_id__in=elsewhere, ended_at__isnull=True
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
    assert job.result["deleted"] == len(members) - len(elsewhere)


def test_method_2_keeps_the_returning_members_with_their_data(demo):
    organisation, admin, mentoring = demo
    members = list(cycle_members(mentoring).order_by("pk"))
    elsewhere = set(
        kept_elsewhere(mentoring, cycle_members(mentoring)).values_list("pk", flat=True)
    )
    pair = next(
        r
        for r in Relationship.objects.filter(program=mentoring)
        if {r.mentor_id, r.mentee_id} <= {m.pk for m in members} - elsewhere
    )
    others = [m for m in members if m.pk not in elsewhere | {pair.mentor_id, pair.mentee_id}]
    returning = [pair.mentor, pair.mentee, others[0]]
    survivors = (
        elsewhere
        | {m.pk for m in returning}
        | set(Member.objects.exclude(pk__in=[m.pk for m in members]).values_list("pk", flat=True))
    )

    def kept_relationships(member):
        """Those whose other side survives the cycle: a relationship goes with a deleted partner."""
        as_mentee = Relationship.objects.filter(mentee=member, mentor_id__in=survivors).count()
        return (
            as_mentee + Relationship.objects.filter(mentor=member, mentee_id__in=survivors).count()
        )

    history = {m.pk: kept_relationships(m) for m in returning}
    assert history[pair.mentee_id] >= 1
    client = signed_in(admin)
    page = client.get(
        f"/programmes/{mentoring.pk}/terminer-le-cycle/",
        {"method": "keep", "returning": [m.pk for m in returning]},
    )
    assert "3 membres qui reviennent seront réactivés" in page.content.decode()
    job = finish(client, mentoring, "keep", returning=[m.pk for m in returning])
    assert not Relationship.objects.filter(
        program=mentoring, status=RelationshipStatus.MATCHED
    ).exists()
    for member in returning:
        member.refresh_from_db()
        assert member.is_active
        assert kept_relationships(member) == history[member.pk]  # completed, not deleted
    gone = [m.pk for m in members if m.pk not in elsewhere and m not in returning]
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
