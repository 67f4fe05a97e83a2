"""Organisation, groups and programmes: the sidebar, statuses, and the admin's forms."""

import datetime as dt

from cohorte.core.models import AuditEntry
from cohorte.programs.models import Group, Program, ProgramKind, ProgramStatus

from .conftest import signed_in


def test_status_follows_the_dates(program_a):
    start, end = program_a.start_date, program_a.end_date
    assert program_a.status_on(start - dt.timedelta(days=1)) == ProgramStatus.PREPARING
    assert program_a.status_on(start) == ProgramStatus.RUNNING
    assert program_a.status_on(end) == ProgramStatus.RUNNING
    assert program_a.status_on(end + dt.timedelta(days=1)) == ProgramStatus.FINISHED


def test_sidebar_nests_groups_and_unfolds_the_current_one(admin, organisation, program_a, group):
    inner = Group.objects.create(organisation=organisation, name="Poitiers", parent=group)
    deep = Group.objects.create(
        organisation=organisation, name="Lycée Camille Guérin", parent=inner
    )
    program_a.group = deep
    program_a.save()
    other = Group.objects.create(organisation=organisation, name="Charente")
    page = signed_in(admin).get(f"/programmes/{program_a.pk}/").content.decode()
    # Every ancestor of the current programme is open; the unrelated group stays folded.
    for name in ("Vienne", "Poitiers", "Lycée Camille Guérin"):
        assert f'<details class="group" open>\n  <summary>{name}</summary>' in page
    assert f'<details class="group" >\n  <summary>{other.name}</summary>' in page
    assert f'class="current" aria-current="page">{program_a.name}</a>' in page
    nesting = [
        page.index(f"<summary>{n}</summary>")
        for n in ("Vienne", "Poitiers", "Lycée Camille Guérin")
    ]
    assert nesting == sorted(nesting)


def test_admin_creates_a_group_and_a_programme_in_it(admin, organisation):
    client = signed_in(admin)
    client.post("/groupes/nouveau/", {"name": "Nouvelle-Aquitaine", "parent": ""})
    group = Group.objects.get(name="Nouvelle-Aquitaine")
    response = client.post(
        "/programmes/nouveau/",
        {
            "name": "Découverte des métiers",
            "kind": ProgramKind.ACCOMPANIMENT,
            "group": group.pk,
            "start_date": "2027-01-10",
            "end_date": "2027-03-10",
            "objective": 3,
            "unanswered_after_days": 5,
            "description": "Des élèves rencontrent des professionnels.",
        },
    )
    program = Program.objects.get(name="Découverte des métiers")
    assert response["Location"] == f"/programmes/{program.pk}/"
    assert program.group == group and program.unanswered_after_days == 5
    assert AuditEntry.objects.filter(action="program.created", actor=admin).exists()


def test_programme_form_refuses_end_before_start(admin):
    response = signed_in(admin).post(
        "/programmes/nouveau/",
        {
            "name": "X",
            "kind": "training",
            "start_date": "2027-02-01",
            "end_date": "2027-01-01",
            "objective": 1,
            "unanswered_after_days": 7,
        },
    )
    assert "La date de fin doit suivre la date de début." in response.content.decode()
    assert not Program.objects.filter(name="X").exists()


def test_group_cannot_be_moved_inside_itself(admin, organisation, group):
    child = Group.objects.create(organisation=organisation, name="Enfant", parent=group)
    response = signed_in(admin).post(
        f"/groupes/{group.pk}/modifier/", {"name": "Vienne", "parent": child.pk}
    )
    assert "ne peut pas être placé dans lui-même" in response.content.decode()
    group.refresh_from_db()
    assert group.parent is None


def test_groups_of_another_organisation_are_out_of_reach(admin, outsider):
    foreign = Group.objects.create(organisation=outsider.organisation, name="Ailleurs")
    assert signed_in(admin).get(f"/groupes/{foreign.pk}/modifier/").status_code == 404


def test_manager_adds_a_participant_from_the_page(manager_a, program_a):
    client = signed_in(manager_a)
    response = client.post(
        f"/programmes/{program_a.pk}/participants/ajouter/",
        {
            "email": "Nouveau@Exemple.org",
            "first_name": "Noé",
            "last_name": "Nouveau",
            "role": "participant",
            "language": "en",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/programmes/{program_a.pk}/").content.decode()
    assert "Noé Nouveau" in page and "nouveau@exemple.org" in page


def test_demo_is_idempotent(db):
    from io import StringIO

    from django.core.management import call_command

    from cohorte.accounts.models import Member

    call_command("demo", stdout=StringIO())
    count = Member.objects.count()
    assert count >= 55
    assert Program.objects.values_list("kind", flat=True).distinct().count() == 4
    statuses = {p.status for p in Program.objects.all()}
    assert statuses == {ProgramStatus.PREPARING, ProgramStatus.RUNNING, ProgramStatus.FINISHED}
    out = StringIO()
    call_command("demo", stdout=out)
    assert "already present" in out.getvalue()
    assert Member.objects.count() == count


# --- issue 9: enrolling another organisation's address reveals nothing


def test_another_organisations_address_gets_the_invalid_address_answer(
    manager_a, program_a, outsider, api_as
):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/participants/ajouter/"
    data = {"role": "participant", "language": "fr"}
    foreign = client.post(url, {**data, "email": outsider.email}).content.decode()
    invalid = client.post(url, {**data, "email": "pas-une-adresse"}).content.decode()
    assert "autre organisation" not in foreign
    assert 'name="email"' in foreign

    def error_of(html):
        return html.split('class="errorlist', 1)[1].split("</ul>", 1)[0]

    assert error_of(foreign) == error_of(invalid)
    api = api_as(manager_a)
    path = f"/api/programs/{program_a.pk}/participants"
    by_api = api.post(path, {"email": outsider.email, "role": "participant"})
    bad = api.post(path, {"email": "pas-une-adresse", "role": "participant"})
    assert by_api.status_code == bad.status_code == 400
    assert by_api.json() == bad.json()
    outsider.refresh_from_db()
    assert outsider.organisation_id != program_a.organisation_id
    assert not outsider.enrolments.exists()
