"""Who may see what: every page and every API call checks the programme and the person."""

import pytest

from .conftest import signed_in


@pytest.mark.parametrize(
    "path",
    [
        "/programmes/{b}/",
        "/programmes/{b}/participants.csv",
        "/programmes/{b}/participants/{m}/retirer/",
        "/programmes/{b}/modifier/",
    ],
)
def test_manager_cannot_see_other_programme_pages(manager_a, program_a, program_b, mentor, path):
    response = signed_in(manager_a).get(path.format(b=program_b.pk, m=mentor.pk))
    assert response.status_code == 404


def test_manager_cannot_remind_or_remove_in_other_programme(manager_a, program_b, mentor):
    client = signed_in(manager_a)
    assert (
        client.post(f"/programmes/{program_b.pk}/relancer/", {"member": mentor.pk}).status_code
        == 404
    )
    assert (
        client.post(f"/programmes/{program_b.pk}/participants/{mentor.pk}/retirer/").status_code
        == 404
    )
    assert mentor.enrolments.get(program=program_b).ended_at is None


def test_manager_sees_own_programme_only_in_sidebar(manager_a, program_a, program_b):
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/").content.decode()
    assert program_a.name in page
    assert program_b.name not in page


def test_manager_cannot_see_other_programme_by_api(api_as, manager_a, program_b, mentor):
    api = api_as(manager_a)
    base = f"/api/programs/{program_b.pk}"
    assert api.get(f"{base}/participants").status_code == 404
    assert api.get(base).status_code == 404
    assert api.post(f"{base}/participants", {"email": "x@y.example"}).status_code == 404
    assert api.delete(f"{base}/participants/{mentor.pk}").status_code == 404
    assert api.post(f"{base}/events", []).status_code == 404
    assert (
        api.post(
            f"{base}/reports", {"email": "a@b.c", "reported_by_email": "d@e.f", "reason": "x"}
        ).status_code
        == 404
    )
    assert api.get(f"{base}/participants").json()["message"]


def test_participant_of_programme_a_is_not_in_b(api_as, manager_a, program_a, mentee, program_b):
    api = api_as(manager_a)
    assert api.delete(f"/api/programs/{program_a.pk}/participants/{mentee.pk}").status_code == 204
    assert api.get(f"/api/programs/{program_b.pk}/participants/{mentee.pk}").status_code in (
        404,
        405,
    )


def test_admin_sees_every_programme_of_the_organisation(admin, program_a, program_b):
    client = signed_in(admin)
    assert client.get(f"/programmes/{program_a.pk}/").status_code == 200
    assert client.get(f"/programmes/{program_b.pk}/").status_code == 200


def test_admin_of_another_organisation_sees_nothing(outsider, api_as, program_a):
    outsider.is_org_admin = True
    outsider.save()
    assert signed_in(outsider).get(f"/programmes/{program_a.pk}/").status_code == 404
    assert api_as(outsider).get(f"/api/programs/{program_a.pk}/participants").status_code == 404
    listing = api_as(outsider).get("/api/programs").json()
    assert listing == []


def test_member_lands_in_own_space_and_cannot_open_programme(mentee, program_a):
    client = signed_in(mentee)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/mon-espace/"  # « Mon espace », cohorte.space
    assert program_a.name in response.content.decode()
    assert client.get(f"/programmes/{program_a.pk}/").status_code == 404
    assert client.get(f"/programmes/{program_a.pk}/participants.csv").status_code == 404


def test_only_admins_create_programmes(manager_a, admin, api_as):
    assert signed_in(manager_a).get("/programmes/nouveau/").status_code == 403
    response = api_as(manager_a).post(
        "/api/programs",
        {
            "name": "X",
            "kind": "training",
            "start_date": "2026-01-01",
            "end_date": "2026-02-01",
            "objective": 1,
        },
    )
    assert response.status_code == 403
    assert response.json()["message"]


def test_anonymous_is_sent_to_sign_in_and_api_says_401(program_a, client):
    response = client.get(f"/programmes/{program_a.pk}/")
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    api = client.get(f"/api/programs/{program_a.pk}/participants")
    assert api.status_code == 401
    assert "Bearer" in api.json()["message"]
    bad = client.get(
        f"/api/programs/{program_a.pk}/participants", headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401


def test_deactivated_member_token_stops_working(api_as, manager_a, program_a):
    api = api_as(manager_a)
    assert api.get(f"/api/programs/{program_a.pk}/participants").status_code == 200
    manager_a.is_active = False
    manager_a.save()
    assert api.get(f"/api/programs/{program_a.pk}/participants").status_code == 401
