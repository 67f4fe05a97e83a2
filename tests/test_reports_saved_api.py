"""Saved (custom) reports through the API: created, read, edited and deleted by the same
services as the pages (custom.py), with the same rules — its owner (or an administrator)
changes it, a colleague of the programme sees a shared one, another organisation's does
not exist — each bad column listed, every change audited, titles of any kind."""

import json
from urllib.parse import quote

import pytest

from cohorte.core.models import AuditEntry
from cohorte.programs.models import Organisation, ProgramKind
from cohorte.reports.models import SavedReport

from .conftest import make_member, running_program

TITLE = "Suivi T1, été. Café / 2026"


def patch(api, path, data):
    return api.client.patch(
        path, json.dumps(data), content_type="application/json", headers=api.headers
    )


def definition(program, **extra):
    return {
        "name": TITLE,
        "report": "members",
        "program": program.pk,
        "columns": ["email", "first_name"],
        "shared": False,
        **extra,
    }


@pytest.mark.django_db
def test_the_owner_creates_reads_edits_and_deletes_a_saved_report(api_as, program_a, manager_a):
    api = api_as(manager_a)
    made = api.post("/api/reports", definition(program_a))
    assert made.status_code == 201, made.content
    body = made.json()
    saved = SavedReport.objects.get()
    assert body["name"] == f"saved-{saved.pk}" and body["label"] == TITLE
    assert body["columns"] == ["email", "first_name"] and body["saved"] is True
    path = f"/api/reports/{quote(body['name'])}"

    read = api.get(path)
    assert read.status_code == 200 and read.json() == body
    listed = [row["name"] for row in api.get("/api/reports").json()]
    assert body["name"] in listed

    edited = patch(api, path, {"name": "Café, déjà. vu", "columns": ["first_name", "email"]})
    assert edited.status_code == 200, edited.content
    assert edited.json()["label"] == "Café, déjà. vu"
    assert edited.json()["columns"] == ["first_name", "email"]
    saved.refresh_from_db()
    assert saved.name == "Café, déjà. vu" and saved.shared is False  # left out: unchanged

    gone = api.delete(path)
    assert gone.status_code == 204 and gone.content == b""
    assert not SavedReport.objects.exists()
    assert api.get(path).status_code == 404
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-3:] == ["report.saved", "report.updated", "report.deleted"]


@pytest.mark.django_db
def test_a_prepared_report_reads_but_does_not_change(api_as, manager_a):
    api = api_as(manager_a)
    read = api.get("/api/reports/members")
    assert read.status_code == 200 and read.json()["saved"] is False
    assert patch(api, "/api/reports/members", {"name": "x"}).status_code == 404
    assert api.delete("/api/reports/members").status_code == 404
    # a title in the URL, or digits that are not ASCII, name nothing: 404, never a 500
    for name in (quote(TITLE, safe=""), "saved-%D9%A1", "saved-" + "9" * 30, "saved-0"):
        assert api.get(f"/api/reports/{name}").status_code == 404, name


@pytest.mark.django_db
def test_only_the_owner_or_an_administrator_changes_a_shared_report_through_the_api(
    api_as, organisation, program_a, manager_a, manager_b, admin
):
    colleague = make_member(organisation, "celia@poitiers.example", first="Célia", last="Co")
    program_a.managers.add(colleague)
    shared = api_as(manager_a).post("/api/reports", definition(program_a, shared=True)).json()
    private = api_as(manager_a).post("/api/reports", definition(program_a, name="Privé")).json()
    shared_path = f"/api/reports/{shared['name']}"

    other = api_as(colleague)
    assert other.get(shared_path).status_code == 200  # shared: seen, run
    assert other.get(f"/api/reports/{private['name']}").status_code == 404
    refused = patch(other, shared_path, {"name": "Pris"})
    assert refused.status_code == 403 and refused.json()["message"]
    assert other.delete(shared_path).status_code == 403
    # another programme's manager: it does not exist
    stranger = api_as(manager_b)
    assert stranger.get(shared_path).status_code == 404
    assert patch(stranger, shared_path, {"name": "Pris"}).status_code == 404
    assert stranger.delete(shared_path).status_code == 404
    assert SavedReport.objects.get(pk=shared["name"][6:]).name == TITLE

    # an administrator of the organisation, as on the pages
    boss = api_as(admin)
    assert patch(boss, shared_path, {"name": "Repris"}).json()["label"] == "Repris"
    assert boss.delete(shared_path).status_code == 204


@pytest.mark.django_db
def test_another_organisations_report_is_a_404(api_as, program_a, manager_a):
    elsewhere = Organisation.objects.create(name="Ailleurs", timezone="Europe/Paris")
    their_admin = make_member(elsewhere, "admin@ailleurs.example", is_org_admin=True)
    theirs = running_program(elsewhere, "Leur", ProgramKind.MENTORING, 2, their_admin)
    made = api_as(their_admin).post("/api/reports", definition(theirs, shared=True))
    assert made.status_code == 201, made.content
    path = f"/api/reports/{made.json()['name']}"
    api = api_as(manager_a)
    assert api.get(path).status_code == 404
    assert patch(api, path, {"name": "x"}).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.post(f"{path}/runs", {"format": "csv"}).status_code == 404
    # nor may one save a report on their programme
    assert api.post("/api/reports", definition(theirs)).status_code == 404
    assert SavedReport.objects.get().name == TITLE


@pytest.mark.django_db
def test_each_unknown_column_and_bad_filter_is_listed(api_as, program_a, manager_a):
    api = api_as(manager_a)
    bad = definition(program_a, columns=["email", "nope", "nada"], filters={"cohort": "abc"})
    refused = api.post("/api/reports", bad)
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    columns = [e["reason"] for e in errors if e["field"] == "columns"]
    assert columns == ["Colonne inconnue : nope.", "Colonne inconnue : nada."]
    assert [e for e in errors if e["field"] == "filters"]
    assert not SavedReport.objects.exists()

    path = f"/api/reports/{api.post('/api/reports', definition(program_a)).json()['name']}"
    refused = patch(api, path, {"columns": ["x", "email", "y"]})
    assert refused.status_code == 400
    assert [e["reason"] for e in refused.json()["errors"]] == [
        "Colonne inconnue : x.",
        "Colonne inconnue : y.",
    ]
    assert patch(api, path, {"name": "  "}).status_code == 400
    assert SavedReport.objects.get().columns == ["email", "first_name"]


@pytest.mark.django_db
def test_two_reports_may_bear_one_title_each_under_its_own_name(api_as, program_a, manager_a):
    """Neither the pages nor the model ask for unique titles: the URL names a report by its
    id, so two « Suivi » are two reports, each read and changed on its own."""
    api = api_as(manager_a)
    one = api.post("/api/reports", definition(program_a)).json()
    two = api.post("/api/reports/saved", definition(program_a)).json()  # the older address
    assert one["name"] != two["name"] and one["label"] == two["label"] == TITLE
    assert api.delete(f"/api/reports/{one['name']}").status_code == 204
    assert api.get(f"/api/reports/{two['name']}").json()["label"] == TITLE


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_saved_reports_operations(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/reports"])
    one = paths["/api/reports/{name}"]
    assert {"get", "patch", "delete"} <= set(one)
    assert "204" in one["delete"]["responses"] and "403" in one["patch"]["responses"]
    assert "201" in paths["/api/reports"]["post"]["responses"]
