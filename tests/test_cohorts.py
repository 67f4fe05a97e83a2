"""Cohorts and tags: made ahead of time, filled from the members list's selection, and
filtering both the members list and the participants' table."""

from cohorte.programs.models import Cohort

from .conftest import make_member, signed_in


def test_create_then_assign_in_bulk_then_filter(admin, organisation, program_a, mentee):
    client = signed_in(admin)
    response = client.post("/cohortes/", {"name": "Automne 2026", "kind": "cohort"})
    assert response.status_code == 302
    cohort = Cohort.objects.get()
    other = make_member(organisation, "other@x.example", first="Other")
    client.post(
        "/cohortes/affecter/",
        {"cohort": cohort.pk, "member": [mentee.pk, other.pk], "action": "add"},
    )
    assert set(cohort.members.all()) == {mentee, other}
    html = client.get("/membres/", {"cohort": cohort.pk}).content.decode()
    assert mentee.email in html and admin.email not in html
    table = client.get(f"/programmes/{program_a.pk}/", {"cohort": cohort.pk}).content.decode()
    assert mentee.email in table
    client.post(
        "/cohortes/affecter/", {"cohort": cohort.pk, "member": [mentee.pk], "action": "remove"}
    )
    assert list(cohort.members.all()) == [other]
    table = client.get(f"/programmes/{program_a.pk}/", {"cohort": cohort.pk}).content.decode()
    assert mentee.email not in table


def test_a_name_is_unique_per_kind(admin, organisation):
    client = signed_in(admin)
    client.post("/cohortes/", {"name": "Boursier", "kind": "tag"})
    response = client.post("/cohortes/", {"name": "boursier", "kind": "tag"})
    assert "Ce nom existe déjà." in response.content.decode()
    client.post("/cohortes/", {"name": "Boursier", "kind": "cohort"})
    assert Cohort.objects.count() == 2


def test_members_of_another_organisation_cannot_be_put_in_a_cohort(admin, organisation, outsider):
    cohort = Cohort.objects.create(organisation=organisation, name="A")
    signed_in(admin).post("/cohortes/affecter/", {"cohort": cohort.pk, "member": [outsider.pk]})
    assert not cohort.members.exists()


def test_another_organisations_cohort_is_out_of_reach(admin, outsider, mentee):
    theirs = Cohort.objects.create(organisation=outsider.organisation, name="Secret")
    client = signed_in(admin)
    assert client.get(f"/cohortes/{theirs.pk}/").status_code == 404
    assert (
        client.post("/cohortes/affecter/", {"cohort": theirs.pk, "member": [mentee.pk]}).status_code
        == 404
    )


def test_only_administrators_manage_cohorts(manager_a):
    assert signed_in(manager_a).get("/cohortes/").status_code == 404
