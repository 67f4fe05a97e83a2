"""/api/members and /api/custom-fields, called as another tool would: filters, bad batches,
retries, other organisations."""

import pytest

from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.models import AuditEntry
from cohorte.programs.models import Cohort

from .conftest import make_member


@pytest.fixture
def crew(organisation):
    return [
        make_member(
            organisation, "ann@x.example", first="Ann", role="mentor", profile_completion=50
        ),
        make_member(
            organisation, "ben@x.example", first="Ben", role="mentee", profile_completion=90
        ),
        make_member(
            organisation,
            "cid@x.example",
            first="Cid",
            role="mentor",
            profile_completion=90,
            is_active=False,
        ),
    ]


def emails(response):
    return [row["email"] for row in response.json()["results"]]


def test_list_with_filters_sort_and_pages(api_as, admin, crew):
    api = api_as(admin)
    response = api.get("/api/members", role="mentor", sort="completion", order="desc")
    assert response.status_code == 200
    assert emails(response) == ["cid@x.example", "ann@x.example"]
    assert emails(api.get("/api/members", completion_below=60, q="@x.example")) == ["ann@x.example"]
    assert emails(api.get("/api/members", active="false")) == ["cid@x.example"]
    page = api.get("/api/members", q="@x.example", page_size=2, page=2).json()
    assert page["count"] == 3 and len(page["results"]) == 1


def test_bad_filters_are_explained(api_as, admin):
    response = api_as(admin).get("/api/members", completion_below="beaucoup", sort="nope")
    assert response.status_code == 400
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"completion_below", "sort"} <= fields


def test_a_manager_lists_only_their_programmes_members(api_as, manager_a, mentee, crew):
    assert emails(api_as(manager_a).get("/api/members")) == ["lea.mentee@poitiers.example"]


def test_other_organisations_are_invisible(api_as, outsider, crew):
    assert emails(api_as(outsider).get("/api/members")) == []
    response = api_as(outsider).client.patch(
        f"/api/members/{crew[0].pk}",
        {"active": False},
        content_type="application/json",
        headers=api_as(outsider).headers,
    )
    assert response.status_code == 403


def patch(api, member, data):
    return api.client.patch(
        f"/api/members/{member.pk}", data, content_type="application/json", headers=api.headers
    )


def test_patch_switches_off_archives_and_edits_the_profile(api_as, admin, organisation, crew):
    field = CustomField.objects.create(
        organisation=organisation,
        name_fr="Sport",
        options="Tennis, Ski",
        multiple=True,
        required=True,
    )
    api = api_as(admin)
    response = patch(
        api,
        crew[0],
        {
            "active": False,
            "archived": True,
            "city": "Lyon",
            "custom_fields": {"Sport": ["tennis", "Ski"]},
        },
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["active"], body["archived"]) == (False, True)
    assert body["custom_fields"] == {str(field.pk): ["Tennis", "Ski"]}
    member = Member.objects.get(pk=crew[0].pk)
    assert member.city == "Lyon" and member.deactivated_at is not None
    assert AuditEntry.objects.filter(action="member.deactivated", actor=admin).exists()


def test_patch_refuses_unknown_options_and_changes_nothing(api_as, admin, organisation, crew):
    CustomField.objects.create(organisation=organisation, name_fr="Sport", options="Tennis")
    response = patch(
        api_as(admin),
        crew[0],
        {"city": "Lyon", "custom_fields": {"Sport": "Curling", "Inconnu": "x"}},
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"custom_fields.Inconnu"} <= fields and len(fields) == 2
    assert Member.objects.get(pk=crew[0].pk).city == ""


def test_patch_of_another_organisations_member_is_404(api_as, admin, outsider):
    assert patch(api_as(admin), outsider, {"active": False}).status_code == 404


def test_deactivate_is_all_or_nothing(api_as, admin, crew):
    api = api_as(admin)
    response = api.post(
        "/api/members/deactivate",
        {"emails": ["ANN@x.example", "nobody@x.example", "admin@poitiers.example", "not an email"]},
    )
    assert response.status_code == 400
    assert sorted(e["index"] for e in response.json()["errors"]) == [1, 2, 3]
    assert Member.objects.get(pk=crew[0].pk).is_active
    ok = api.post("/api/members/deactivate", {"emails": ["ann@x.example", "ben@x.example"]})
    assert ok.json() == {"deactivated": 2}
    again = api.post("/api/members/deactivate", {"emails": ["ann@x.example", "ben@x.example"]})
    assert again.json() == {"deactivated": 0}  # a retry changes nothing more


def test_deactivate_refuses_an_empty_or_oversized_list(api_as, admin):
    api = api_as(admin)
    assert api.post("/api/members/deactivate", {"emails": []}).status_code == 400
    assert (
        api.post("/api/members/deactivate", {"emails": ["a@x.example"] * 10_001}).status_code == 400
    )


def test_only_an_administrator_deactivates(api_as, manager_a, crew):
    response = api_as(manager_a).post("/api/members/deactivate", {"emails": ["ann@x.example"]})
    assert response.status_code == 403


def test_import_creates_updates_and_is_idempotent(api_as, admin, organisation, crew):
    field = CustomField.objects.create(
        organisation=organisation,
        name_fr="Sport",
        name_en="Sport",
        options="Tennis, Ski",
        multiple=True,
    )
    api = api_as(admin)
    rows = [
        {
            "email": "new@x.example",
            "first_name": "Nouveau",
            "role": "mentee",
            "custom_fields": {str(field.pk): ["Ski"]},
        },
        {"email": "Ann@X.example", "city": "Nice"},
    ]
    response = api.post("/api/members/import", {"rows": rows})
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 1, "updated": 1}
    assert api.post("/api/members/import", {"rows": rows}).json() == {"created": 0, "updated": 2}
    assert Member.objects.filter(email="new@x.example").count() == 1
    assert list(
        CustomFieldValue.objects.filter(member__email="new@x.example").values_list(
            "value", flat=True
        )
    ) == ["Ski"]
    assert Member.objects.get(email="ann@x.example").city == "Nice"


def test_import_lists_every_bad_row_and_imports_nothing(api_as, admin, outsider):
    rows = [
        {"email": "fine@x.example"},
        {"first_name": "Sans courriel"},
        {"email": "x@x.example", "role": "capitaine", "colour": "blue"},
        {"email": "olga@ailleurs.example"},
        "not an object",
        {"email": "fine@x.example"},
    ]
    response = api_as(admin).post("/api/members/import", {"rows": rows})
    assert response.status_code == 400
    errors = {(e["index"], e["field"]) for e in response.json()["errors"]}
    assert {
        (1, "email"),
        (2, "role"),
        (2, "colour"),
        (3, "email"),
        (4, None),
        (5, "email"),
    } <= errors
    assert not Member.objects.filter(email="fine@x.example").exists()


def test_import_refuses_what_is_not_a_batch(api_as, admin):
    api = api_as(admin)
    assert api.post("/api/members/import", {"rows": []}).status_code == 400
    assert (
        api.client.post(
            "/api/members/import",
            b"{not json",
            content_type="application/json",
            headers=api.headers,
        ).status_code
        == 400
    )


def test_custom_fields_list_and_create(api_as, admin, mentee, organisation):
    api = api_as(admin)
    created = api.post(
        "/api/custom-fields",
        {
            "name_fr": "Pronom",
            "name_en": "Pronouns",
            "options": " Il ,Elle,, Iel",
            "required": True,
            "admin_only": False,
        },
    )
    assert created.status_code == 201 and created.json()["options"] == "Il, Elle, Iel"
    api.post("/api/custom-fields", {"name_fr": "Note interne", "admin_only": True})
    assert [f["name_fr"] for f in api.get("/api/custom-fields").json()] == [
        "Pronom",
        "Note interne",
    ]
    assert [f["name_fr"] for f in api_as(mentee).get("/api/custom-fields").json()] == ["Pronom"]
    assert api_as(mentee).post("/api/custom-fields", {"name_fr": "X"}).status_code == 403
    assert api.post("/api/custom-fields", {"name_fr": ""}).status_code == 400


def test_list_shows_cohorts_of_each_member(api_as, admin, organisation, crew):
    cohort = Cohort.objects.create(organisation=organisation, name="Automne")
    cohort.members.add(crew[1])
    rows = api_as(admin).get("/api/members", cohort=cohort.pk).json()["results"]
    assert [(r["email"], r["cohorts"]) for r in rows] == [("ben@x.example", ["Automne"])]


# --- issue 9: foreign filters are 404, every profile field bounded


def test_a_programme_the_caller_cannot_see_is_404(api_as, manager_a, program_b, mentor, outsider):
    assert api_as(manager_a).get("/api/members", program=program_b.pk).status_code == 404
    assert api_as(outsider).get("/api/members", program=program_b.pk).status_code == 404


def test_a_cohort_or_field_of_another_organisation_is_404(api_as, admin, outsider, organisation):
    from cohorte.programs.models import Organisation

    other = Organisation.objects.get(pk=outsider.organisation_id)
    cohort = Cohort.objects.create(organisation=other, name="Leur cohorte")
    field = CustomField.objects.create(organisation=other, name_fr="Leur champ")
    api = api_as(admin)
    assert api.get("/api/members", cohort=cohort.pk).status_code == 404
    assert api.get("/api/members", custom_field=field.pk).status_code == 404
    mine = CustomField.objects.create(organisation=organisation, name_fr="Le nôtre")
    assert api.get("/api/members", custom_field=mine.pk).status_code == 200


def test_an_admin_only_field_is_404_to_a_manager(api_as, manager_a, organisation, mentee):
    hidden = CustomField.objects.create(organisation=organisation, name_fr="Note", admin_only=True)
    assert api_as(manager_a).get("/api/members", custom_field=hidden.pk).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"page": 2**63},
        {"page": 10**9},
        {"program": 2**63},
        {"cohort": 0},
        {"custom_field": -1},
        {"created_after": "9999-01-01"},
    ],
)
def test_list_parameters_are_bounded(api_as, admin, params):
    response = api_as(admin).get("/api/members", **params)
    assert response.status_code == 400, response.content


@pytest.mark.parametrize("zone", ["Not/AZone", "../../etc/passwd", "", "Europe/Nowhere"])
def test_patch_refuses_an_unknown_time_zone(api_as, admin, crew, zone):
    member = crew[0]
    response = _patch(api_as(admin), member, {"timezone": zone})
    if zone == "":
        assert response.status_code == 200  # clearing the zone is allowed
        return
    assert response.status_code == 400, response.content
    member.refresh_from_db()
    assert member.timezone == ""


def test_patch_accepts_a_known_time_zone(api_as, admin, crew):
    response = _patch(api_as(admin), crew[0], {"timezone": "America/Montreal"})
    assert response.status_code == 200
    crew[0].refresh_from_db()
    assert crew[0].timezone == "America/Montreal"


@pytest.mark.parametrize(
    "body",
    [
        {"linkedin": "javascript:alert(1)"},
        {"linkedin": "pas une adresse"},
        {"years_experience": 81},
        {"years_experience": -1},
        {"goals": "x" * 5001},
        {"skills": "x" * 5001},
        {"development_areas": "x" * 5001},
        {"first_name": "x" * 151},
        {"custom_fields": {"1": "x" * 501}},
    ],
)
def test_patch_bounds_every_field(api_as, admin, crew, organisation, body):
    CustomField.objects.create(pk=1, organisation=organisation, name_fr="Libre")
    response = _patch(api_as(admin), crew[0], body)
    assert response.status_code == 400, response.content


def _patch(api, member, body):
    return api.client.patch(
        f"/api/members/{member.pk}", body, content_type="application/json", headers=api.headers
    )
