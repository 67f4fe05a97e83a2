"""The campaigns API (issue 13 §6), as another tool drives it: one interview walked from
the campaign's creation to « Clos » and back through a reopening, the wrong actor refused at
each step, other organisations answered 404, a bad batch refused as a whole by index."""

import datetime as dt
import zoneinfo
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from cohorte.campaigns.models import Campaign, CampaignType, Interview
from cohorte.programs.models import Organisation

from .conftest import Api, make_member

CIRCUIT = [
    {"role": "collaborator", "deadline_days": 7},
    {"role": "manager", "deadline_days": 3},
    {"role": "second_approver", "deadline_days": 5},
    {"role": "hr", "deadline_days": 10},
]
FORM = [
    {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": [
            {"key": "bilan", "kind": "text", "label": {"fr": "Bilan de l'année"}, "required": True},
            {"key": "note", "kind": "scale", "label": "Satisfaction"},
            {"key": "objectifs", "kind": "objectives", "label": {"fr": "Objectifs"}},
        ],
    }
]
ANSWERS = {"bilan": "Une belle année", "note": 4, "objectifs": [{"title": "Anglais", "rating": 3}]}
STATUSES = ["not_planned", "planned", "held", "closing", "closed", "deleted"]


def org_today(organisation) -> dt.date:
    return timezone.now().astimezone(organisation.tzinfo).date()


@pytest.fixture
def people(organisation):
    return {
        "collab": make_member(organisation, "claire.collab@poitiers.example", first="Claire"),
        "manager": make_member(organisation, "marc.manager@poitiers.example", first="Marc"),
        "n2": make_member(organisation, "nina.n2@poitiers.example", first="Nina"),
        "other": make_member(organisation, "oscar.autre@poitiers.example", first="Oscar"),
    }


def campaign_body(organisation, **changes):
    today = org_today(organisation)
    body = {
        "name": "Entretiens annuels 2026",
        "kind": "annual",
        "start_date": str(today - dt.timedelta(days=1)),
        "end_date": str(today + dt.timedelta(days=60)),
        "circuit": CIRCUIT,
        "form": FORM,
    }
    return body | changes


@pytest.fixture
def campaign(organisation, admin):
    response = Api(admin).post("/api/campaigns", campaign_body(organisation))
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def interview(campaign, admin, people):
    response = Api(admin).post(
        f"/api/campaigns/{campaign['id']}/interviews",
        [
            {
                "collaborator_email": people["collab"].email,
                "manager_email": people["manager"].email,
            },
            {"collaborator_email": people["manager"].email, "manager_email": people["n2"].email},
        ],
    )
    assert response.status_code == 201, response.json()
    return response.json()[0]


def later(days=3) -> str:
    return (timezone.now() + dt.timedelta(days=days)).replace(microsecond=0).isoformat()


# --- The walk ---------------------------------------------------------------------------------


def test_one_interview_walks_from_creation_to_closed_and_reopened(
    organisation, admin, people, campaign
):
    collab, manager, n2, other = people["collab"], people["manager"], people["n2"], people["other"]
    assert (campaign["name"], campaign["kind"], campaign["status"]) == (
        "Entretiens annuels 2026",
        "annual",
        "running",
    )
    assert campaign["circuit"] == CIRCUIT and campaign["creator"]["email"] == admin.email
    created = Api(admin).post(
        f"/api/campaigns/{campaign['id']}/interviews",
        [
            {"collaborator_email": collab.email, "manager_email": manager.email},
            {"collaborator_email": manager.email.upper(), "manager_email": f" {n2.email} "},
        ],
    )
    assert created.status_code == 201
    rows = created.json()
    assert [(r["collaborator_email"], r["manager_email"], r["status"]) for r in rows] == [
        (collab.email, manager.email, "not_planned"),
        (manager.email, n2.email, "not_planned"),
    ]
    assert rows[0]["step"] is None and rows[0]["scheduled_at"] is None
    url = f"/api/interviews/{rows[0]['id']}"
    as_collab, as_manager, as_n2, as_admin, as_other = (
        Api(collab),
        Api(manager),
        Api(n2),
        Api(admin),
        Api(other),
    )

    # the manager plans it (a time without its offset is refused), then says it was held
    naive = as_manager.post(f"{url}/plan", {"scheduled_at": "2026-12-20T10:00:00"})
    assert naive.status_code == 400
    assert naive.json()["errors"][0]["field"] == "scheduled_at"
    assert as_collab.post(f"{url}/plan", {"scheduled_at": later()}).status_code == 403
    assert as_manager.post(f"{url}/held", {}).status_code == 403  # out of order: no date yet
    planned = as_manager.post(f"{url}/plan", {"scheduled_at": later()})
    assert planned.status_code == 200
    assert planned.json()["status"] == "planned" and planned.json()["scheduled_at"]
    assert as_manager.post(f"{url}/submit", {"answers": ANSWERS}).status_code == 403
    assert as_other.post(f"{url}/held", {}).status_code == 404  # not one of its people
    assert as_collab.post(f"{url}/held", {}).status_code == 403
    assert as_manager.post(f"{url}/held", {}).json()["status"] == "held"

    # the collaborator's preparation; the write-up, its required answer checked
    prepared = as_collab.post(f"{url}/preparation", {"answers": {"bilan": "Mon année"}})
    assert prepared.status_code == 200 and prepared.json()["preparation"] == {"bilan": "Mon année"}
    assert as_manager.post(f"{url}/preparation", {"answers": {}}).status_code == 403
    missing = as_manager.post(f"{url}/submit", {"answers": {"note": 4}})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "answers.bilan"
    assert as_collab.post(f"{url}/submit", {"answers": ANSWERS}).status_code == 403
    assert as_collab.post(f"{url}/sign", {}).status_code == 403  # nothing to sign yet
    submitted = as_manager.post(f"{url}/submit", {"answers": ANSWERS}).json()
    assert submitted["status"] == "closing"
    assert submitted["step"]["position"] == 0 and submitted["step"]["role"] == "collaborator"
    assert submitted["step"]["due_at"]

    # each step: everyone else refused, then its actor signs
    for wrong in (as_manager, as_admin):
        assert wrong.post(f"{url}/sign", {}).status_code == 403
        assert wrong.post(f"{url}/send-back", {"comment": "non"}).status_code == 403
    # the N+2 is one of its people once their step starts: until then, nothing to see
    assert as_n2.post(f"{url}/sign", {}).status_code == 404
    signed = as_collab.post(f"{url}/sign", {"comment": "D'accord", "reserve": "Objectif 2"})
    assert signed.json()["step"]["role"] == "manager"
    assert as_collab.post(f"{url}/sign", {}).status_code == 403
    reserve = as_manager.post(f"{url}/sign", {"reserve": "non"})
    assert reserve.status_code == 400 and reserve.json()["errors"][0]["field"] == "reserve"
    assert as_manager.post(f"{url}/send-back", {"comment": ""}).status_code == 400
    back = as_manager.post(f"{url}/send-back", {"comment": "Relis"}).json()
    assert back["step"]["role"] == "collaborator"
    assert as_collab.post(f"{url}/sign", {}).json()["step"]["role"] == "manager"
    assert as_manager.post(f"{url}/sign", {}).json()["step"]["role"] == "second_approver"
    for wrong in (as_collab, as_manager, as_admin):
        assert wrong.post(f"{url}/sign", {}).status_code == 403
    assert as_n2.post(f"{url}/sign", {}).json()["step"]["role"] == "hr"
    for wrong in (as_collab, as_manager, as_n2):
        assert wrong.post(f"{url}/sign", {}).status_code == 403
    closed = as_admin.post(f"{url}/sign", {"comment": "Validé"})
    assert closed.status_code == 200
    detail = closed.json()
    assert detail["status"] == "closed" and detail["step"] is None and detail["closed_at"]
    assert [s["state"] for s in detail["circuit"]] == ["done"] * 4
    assert [s["signed_by"]["email"] for s in detail["circuit"]] == [
        collab.email,
        manager.email,
        n2.email,
        admin.email,
    ]
    assert [s["deadline_days"] for s in detail["circuit"]] == [7, 3, 5, 10]
    # the collaborator's step shows its latest signature (after the send-back: no reserve)
    assert detail["circuit"][3]["comment"] == "Validé"
    assert "sent_back" in [e["action"] for e in detail["events"]]
    reserved = [e for e in detail["events"] if e["reserve"]]
    assert reserved[0]["reserve"] == "Objectif 2" and reserved[0]["by"]["email"] == collab.email

    # closed: every change refused with 409, but a reopening by an administrator
    for who, action, body in (
        (as_manager, "plan", {"scheduled_at": later()}),
        (as_manager, "held", {}),
        (as_manager, "submit", {"answers": ANSWERS}),
        (as_manager, "draft", {"answers": ANSWERS}),
        (as_collab, "preparation", {"answers": {}}),
        (as_admin, "sign", {}),
        (as_admin, "send-back", {"comment": "x"}),
    ):
        refused = who.post(f"{url}/{action}", body)
        assert refused.status_code == 409, action
        assert refused.json()["message"] and refused.json()["errors"] == []
    assert as_admin.delete(url).status_code == 409
    assert as_manager.post(f"{url}/reopen", {"reason": "x"}).status_code == 403
    assert as_admin.post(f"{url}/reopen", {"reason": ""}).status_code == 400
    reopened = as_admin.post(f"{url}/reopen", {"reason": "Erreur de note"})
    assert reopened.status_code == 200
    again = reopened.json()
    assert again["status"] == "held" and [s["state"] for s in again["circuit"]] == ["to_come"] * 4
    (version,) = again["versions"]
    assert version["answers"] == ANSWERS and version["reason"] == "Erreur de note"
    assert version["closed_at"] and version["reopened_at"]
    assert version["reopened_by"]["email"] == admin.email
    assert [s["role"] for s in version["signatures"]] == [
        "collaborator",
        "collaborator",
        "manager",
        "second_approver",
        "hr",
    ]
    assert version["signatures"][0]["reserve"] == "Objectif 2"
    assert as_admin.post(f"{url}/reopen", {"reason": "encore"}).status_code == 409  # not closed
    # everybody in the circuit reads it, the collaborator too
    assert as_collab.get(url).json()["versions"][0]["reason"] == "Erreur de note"
    stats = as_admin.get(f"/api/campaigns/{campaign['id']}/stats").json()
    assert stats == {"not_planned": 1, "planned": 0, "held": 1, "closing": 0, "closed": 0,
                     "deleted": 0}  # fmt: skip


def test_the_collaborator_reads_the_write_up_only_once_submitted(interview, people):
    url = f"/api/interviews/{interview['id']}"
    Api(people["manager"]).post(f"{url}/plan", {"scheduled_at": later()})
    Api(people["manager"]).post(f"{url}/held", {})
    draft = Api(people["manager"]).post(f"{url}/draft", {"answers": {"bilan": "brouillon"}})
    assert draft.json()["answers"] == {"bilan": "brouillon"}
    assert Api(people["collab"]).get(url).json()["answers"] is None
    Api(people["manager"]).post(f"{url}/submit", {"answers": ANSWERS})
    assert Api(people["collab"]).get(url).json()["answers"] == ANSWERS


def test_a_retried_plan_changes_nothing_and_a_moved_one_is_a_new_date(interview, people):
    url = f"/api/interviews/{interview['id']}"
    when = later()
    first = Api(people["manager"]).post(f"{url}/plan", {"scheduled_at": when}).json()
    again = Api(people["manager"]).post(f"{url}/plan", {"scheduled_at": when}).json()
    assert again["events"] == first["events"]
    moved = Api(people["manager"]).post(f"{url}/plan", {"scheduled_at": later(5)}).json()
    assert [e["action"] for e in moved["events"]] == ["planned", "moved"]


@pytest.mark.parametrize(
    "scheduled_at",
    ["2026-12-20T10:00:00", "2026-12-20", "9999-12-31T23:59:59Z", "1999-12-31T23:00:00Z", "", 5],
)
def test_a_plan_needs_an_aware_time_within_bounds(interview, people, scheduled_at):
    response = Api(people["manager"]).post(
        f"/api/interviews/{interview['id']}/plan", {"scheduled_at": scheduled_at}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "scheduled_at"
    assert Interview.objects.get(pk=interview["id"]).status == "not_planned"


# --- Who sees what ------------------------------------------------------------------------


def test_another_organisation_is_answered_404_never_403(campaign, interview, outsider, people):
    outside = Api(outsider)
    base = f"/api/campaigns/{campaign['id']}"
    for path in (base, f"{base}/stats", f"{base}/interviews", f"/api/interviews/{interview['id']}"):
        assert outside.get(path).status_code == 404, path
    assert outside.delete(f"{base}?confirm=Entretiens annuels 2026").status_code == 404
    line = [{"collaborator_email": outsider.email, "manager_email": outsider.email}]
    assert outside.post(f"{base}/interviews", line).status_code == 404
    url = f"/api/interviews/{interview['id']}"
    for action, body in (
        ("plan", {"scheduled_at": later()}),
        ("held", {}),
        ("sign", {}),
        ("reopen", {"reason": "x"}),
    ):
        assert outside.post(f"{url}/{action}", body).status_code == 404
    assert outside.delete(url).status_code == 404
    assert outside.get("/api/campaigns").json()["count"] == 0
    # even its administrator
    boss = make_member(outsider.organisation, "boss@ailleurs.example", is_org_admin=True)
    assert Api(boss).get(base).status_code == 404
    assert Api(boss).post(f"{url}/reopen", {"reason": "x"}).status_code == 404
    # and a member of the organisation who is not in this interview
    assert Api(people["other"]).get(url).status_code == 404
    assert Api(people["other"]).get(base).status_code == 404
    assert Api(people["other"]).get("/api/campaigns/99999999").status_code == 404


def test_a_manager_sees_their_campaign_and_interviews_only(organisation, admin, campaign, people):
    collab, manager, n2 = people["collab"], people["manager"], people["n2"]
    Api(admin).post(
        f"/api/campaigns/{campaign['id']}/interviews",
        [
            {"collaborator_email": collab.email, "manager_email": manager.email},
            {"collaborator_email": people["other"].email, "manager_email": n2.email},
        ],
    )
    as_manager = Api(manager)
    assert [c["id"] for c in as_manager.get("/api/campaigns").json()["results"]] == [campaign["id"]]
    mine = as_manager.get(f"/api/campaigns/{campaign['id']}/interviews").json()
    assert mine["count"] == 1 and mine["results"][0]["collaborator_email"] == collab.email
    assert as_manager.get(f"/api/campaigns/{campaign['id']}/stats").json()["not_planned"] == 1
    everything = Api(admin).get(f"/api/campaigns/{campaign['id']}/interviews").json()
    assert everything["count"] == 2
    # a manager writes nothing to the campaign itself
    assert (
        as_manager.post(
            f"/api/campaigns/{campaign['id']}/interviews",
            [{"collaborator_email": n2.email, "manager_email": manager.email}],
        ).status_code
        == 403
    )
    name = urlencode({"confirm": campaign["name"]})
    assert as_manager.delete(f"/api/campaigns/{campaign['id']}?{name}").status_code == 403
    assert as_manager.post("/api/campaigns", campaign_body(organisation)).status_code == 403
    interview = mine["results"][0]["id"]
    assert as_manager.delete(f"/api/interviews/{interview}").status_code == 403
    assert Campaign.objects.count() == 1


def test_the_interviews_filter_by_status_manager_and_search(admin, campaign, people):
    collab, manager, n2 = people["collab"], people["manager"], people["n2"]
    created = (
        Api(admin)
        .post(
            f"/api/campaigns/{campaign['id']}/interviews",
            [
                {"collaborator_email": collab.email, "manager_email": manager.email},
                {"collaborator_email": people["other"].email, "manager_email": n2.email},
                {"collaborator_email": manager.email, "manager_email": n2.email},
            ],
        )
        .json()
    )
    Api(manager).post(f"/api/interviews/{created[0]['id']}/plan", {"scheduled_at": later()})
    base = f"/api/campaigns/{campaign['id']}/interviews"
    api = Api(admin)
    # « classés par responsable »: Marc's before Nina's
    assert [r["manager_email"] for r in api.get(base).json()["results"]] == [
        manager.email,
        n2.email,
        n2.email,
    ]
    planned = api.get(base, status="planned").json()
    assert [r["id"] for r in planned["results"]] == [created[0]["id"]]
    by_nina = api.get(base, manager=n2.email.upper()).json()
    assert by_nina["count"] == 2
    assert [r["collaborator_email"] for r in api.get(base, q="oscar").json()["results"]] == [
        people["other"].email
    ]
    page = api.get(base, page=2, page_size=2).json()
    assert (page["count"], page["page"], len(page["results"])) == (3, 2, 1)
    assert api.get(base, page=99).json()["results"] == []
    assert api.get(base, status="nope").status_code == 400
    assert api.get(base, page=0).status_code == 400


def test_the_list_of_interviews_costs_the_same_queries_whatever_its_size(
    admin, campaign, organisation, django_assert_max_num_queries
):
    managers = [make_member(organisation, f"m{i}@poitiers.example") for i in range(3)]
    lines = [
        {
            "collaborator_email": make_member(organisation, f"c{i}@poitiers.example").email,
            "manager_email": managers[i % 3].email,
        }
        for i in range(30)
    ]
    assert Api(admin).post(f"/api/campaigns/{campaign['id']}/interviews", lines).status_code == 201
    api = Api(admin)
    with django_assert_max_num_queries(8):
        response = api.get(f"/api/campaigns/{campaign['id']}/interviews", page_size=100)
    assert response.json()["count"] == 30


# --- Batches --------------------------------------------------------------------------------


def test_a_batch_with_bad_lines_creates_nothing_and_lists_each_by_index(
    admin, campaign, people, outsider
):
    collab, manager = people["collab"], people["manager"]
    people["other"].is_active = False
    people["other"].save()
    lines = [
        {"collaborator_email": collab.email, "manager_email": manager.email},  # good
        {"collaborator_email": collab.email.upper(), "manager_email": manager.email},  # twice
        {"collaborator_email": manager.email, "manager_email": manager.email},  # same person
        {"collaborator_email": "nobody@x.example", "manager_email": manager.email},
        {"collaborator_email": people["other"].email, "manager_email": manager.email},  # inactive
        {"collaborator_email": outsider.email, "manager_email": manager.email},  # elsewhere
        {"collaborator_email": 12, "manager_email": manager.email},  # a wrong type
        "claire@poitiers.example",  # not an object
        {"collaborator_email": people["n2"].email},  # no manager
        {"collaborator_email": "x\x00@y.example", "manager_email": ["a"]},
    ]
    response = Api(admin).post(f"/api/campaigns/{campaign['id']}/interviews", lines)
    assert response.status_code == 400
    body = response.json()
    assert "Aucun entretien" in body["message"]
    assert sorted({e["index"] for e in body["errors"]}) == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    fields = {(e["index"], e["field"]) for e in body["errors"]}
    assert {(6, "collaborator_email"), (7, None), (8, "manager_email")} <= fields
    assert {(9, "collaborator_email"), (9, "manager_email")} <= fields
    assert all(e["reason"] for e in body["errors"])
    assert len([e for e in body["errors"] if e["index"] == 6]) == 1  # said once, not twice
    assert not Interview.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, [], "lines", None, 5, {"interviews": []}],
)
def test_a_batch_that_is_not_a_list_of_lines_is_refused(admin, campaign, body):
    response = Api(admin).post(f"/api/campaigns/{campaign['id']}/interviews", body)
    assert response.status_code == 400 and response.json()["message"]


def test_a_body_that_is_not_json_is_refused(admin, campaign):
    api = Api(admin)
    for raw in (b"", b"[{", b"\xff\xfe"):
        response = api.client.post(
            f"/api/campaigns/{campaign['id']}/interviews",
            raw,
            content_type="application/json",
            headers=api.headers,
        )
        assert response.status_code == 400 and response.json()["message"]


def test_a_retried_batch_answers_the_same_interviews(admin, campaign, people):
    lines = [
        {"collaborator_email": people["collab"].email, "manager_email": people["manager"].email},
        {
            "collaborator_email": people["other"].email,
            "manager_email": people["manager"].email,
            "second_approver_email": people["n2"].email,
        },
    ]
    url = f"/api/campaigns/{campaign['id']}/interviews"
    first = Api(admin).post(url, lines)
    again = Api(admin).post(url, lines)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()[1]["second_approver_email"] == people["n2"].email
    # another manager for the same collaborator is not a retry: refused by index
    changed = [{**lines[0], "manager_email": people["n2"].email}]
    refused = Api(admin).post(url, changed)
    assert refused.status_code == 400 and refused.json()["errors"][0]["index"] == 0
    assert Interview.objects.count() == 2


# --- Campaigns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "unknown"}, "kind"),
        ({"circuit": []}, "circuit"),
        ({"circuit": [{"role": "boss", "deadline_days": 1}]}, "circuit.0.role"),
        ({"circuit": [{"role": "hr", "deadline_days": 366}]}, "circuit.0.deadline_days"),
        ({"circuit": [{"role": "hr", "deadline_days": 2**63}]}, "circuit.0.deadline_days"),
        ({"circuit": [{"role": "hr", "deadline_days": -1}]}, "circuit.0.deadline_days"),
        ({"circuit": [{"role": "hr", "deadline_days": 1}] * 11}, "circuit"),
        ({"start_date": "2026-12-31", "end_date": "2026-01-01"}, "end_date"),
        ({"start_date": "1999-12-31"}, "start_date"),
        ({"end_date": "9999-12-31"}, "end_date"),
        ({"start_date": "2026-02-30"}, "start_date"),
        ({"hr_email": "nobody@x.example"}, "hr_email"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        (
            {"form": [{"questions": [{"kind": "choice", "label": "Un seul", "options": ["a"]}]}]},
            "form.0.questions.0.options",
        ),  # fmt: skip
        ({"form": [{"questions": [{"kind": "text", "label": ""}]}]}, "form.0.questions.0.label"),
        ({"form": [{"questions": 5}]}, "form.0.questions"),
        (
            {"form": [{"questions": [{"key": "A B", "kind": "text", "label": "x"}]}]},
            "form.0.questions.0.key",
        ),  # fmt: skip
        ({"reminder_rules": {"before": [0]}}, "reminder_rules.before"),
        ({"reminder_rules": {"every_after": 400}}, "reminder_rules.every_after"),
    ],
)
def test_a_bad_campaign_is_refused_with_its_field(organisation, admin, changes, field):
    response = Api(admin).post("/api/campaigns", campaign_body(organisation, **changes))
    assert response.status_code == 400, response.json()
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert not Campaign.objects.exists()


def test_a_campaign_of_an_added_type_with_its_hr_person_and_rules(organisation, admin, people):
    CampaignType.objects.create(
        organisation=organisation, slug="mi-parcours", name_fr="Mi-parcours"
    )
    response = Api(admin).post(
        "/api/campaigns",
        campaign_body(
            organisation,
            kind="mi-parcours",
            hr_email=people["n2"].email.upper(),
            reminder_rules={"before": [3], "every_after": None},
            form=None,
        ),
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["kind_label"]) == ("mi-parcours", "Mi-parcours")
    assert body["hr"]["email"] == people["n2"].email and body["form"] == []
    assert body["reminder_rules"]["before"] == [3]
    assert body["reminder_rules"]["every_after"] is None
    assert body["reminder_rules"]["escalate_after"] == 7  # left out: the default
    assert Api(admin).get(f"/api/campaigns/{body['id']}").json() == body


def test_the_status_is_the_organisations_day(db):
    """A campaign starting today in Kiritimati (UTC+14) runs there even while it is still
    yesterday in UTC; one that ended yesterday there has ended."""
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        organisation = Organisation.objects.create(name=zone, timezone=zone)
        boss = make_member(organisation, f"boss@{zone.lower().replace('/', '-')}.example",
                           is_org_admin=True)  # fmt: skip
        today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
        api = Api(boss)
        for start, end, status in (
            (today, today, "running"),
            (today + dt.timedelta(days=1), today + dt.timedelta(days=2), "preparation"),
            (today - dt.timedelta(days=2), today - dt.timedelta(days=1), "ended"),
        ):
            body = {"name": status, "kind": "annual", "start_date": str(start),
                    "end_date": str(end), "circuit": CIRCUIT}  # fmt: skip
            assert api.post("/api/campaigns", body).json()["status"] == status, zone


def test_campaigns_sort_by_name_kind_creator_and_status(organisation, admin):
    other_admin = make_member(
        organisation, "zoe@poitiers.example", first="Zoé", last="Zeta", is_org_admin=True
    )
    today = org_today(organisation)
    day = dt.timedelta(days=1)
    made = {}
    for name, kind, by, start, end in (
        ("bravo", "professional", admin, today + day, today + 9 * day),  # preparation
        ("Alpha", "probation", other_admin, today - 9 * day, today - day),  # ended
        ("charlie", "annual", other_admin, today, today),  # running
        ("Delta", "annual", admin, today + 2 * day, today + 3 * day),  # preparation
    ):
        body = {"name": name, "kind": kind, "start_date": str(start), "end_date": str(end),
                "circuit": CIRCUIT}  # fmt: skip
        made[name] = Api(by).post("/api/campaigns", body).json()
    api = Api(admin)

    def names(**params):
        response = api.get("/api/campaigns", **params)
        assert response.status_code == 200
        return [c["name"] for c in response.json()["results"]]

    assert names(sort="name") == ["Alpha", "bravo", "charlie", "Delta"]
    assert names(sort="name", order="desc") == ["Delta", "charlie", "bravo", "Alpha"]
    assert names(sort="kind") == ["charlie", "Delta", "Alpha", "bravo"]
    assert names(sort="creator") == ["bravo", "Delta", "Alpha", "charlie"]  # Admin, then Zeta
    assert names(sort="creator", order="desc") == ["charlie", "Alpha", "Delta", "bravo"]
    statuses = api.get("/api/campaigns", sort="status").json()["results"]
    assert [c["status"] for c in statuses] == ["preparation", "preparation", "running", "ended"]
    assert [c["name"] for c in statuses] == ["bravo", "Delta", "charlie", "Alpha"]
    assert names(sort="status", order="desc") == ["Alpha", "charlie", "Delta", "bravo"]
    assert names() == ["Delta", "bravo", "charlie", "Alpha"]  # the latest start date first
    assert names(sort="name", page_size=2, page=2) == ["charlie", "Delta"]
    for bad in ({"sort": "nope"}, {"order": "up"}, {"page": 0}, {"page_size": 10_000}):
        assert api.get("/api/campaigns", **bad).status_code == 400


def test_stats_give_the_six_keys_and_count_the_deleted(admin, campaign, interview, people):
    url = f"/api/campaigns/{campaign['id']}/stats"
    assert Api(admin).get(url).json() == dict.fromkeys(STATUSES, 0) | {"not_planned": 2}
    deleted = Api(admin).delete(f"/api/interviews/{interview['id']}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    assert Api(admin).delete(f"/api/interviews/{interview['id']}").status_code == 200  # retry
    assert Api(admin).get(url).json() == dict.fromkeys(STATUSES, 0) | {
        "not_planned": 1,
        "deleted": 1,
    }
    refused = Api(people["manager"]).post(
        f"/api/interviews/{interview['id']}/plan", {"scheduled_at": later()}
    )
    assert refused.status_code == 409


def test_deleting_a_campaign_needs_its_exact_name(admin, campaign, interview):
    url = f"/api/campaigns/{campaign['id']}"
    api = Api(admin)
    for wrong in ("", "?confirm=", "?confirm=entretiens annuels 2026", "?confirm=Entretiens"):
        response = api.delete(url + wrong)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "confirm"
    assert Interview.objects.count() == 2
    response = api.delete(f"{url}?{urlencode({'confirm': 'Entretiens annuels 2026'})}")
    assert response.status_code == 204
    assert not Campaign.objects.exists() and not Interview.objects.exists()
    assert api.get(url).status_code == 404
    assert api.get(f"/api/interviews/{interview['id']}").status_code == 404
    assert api.delete(f"{url}?{urlencode({'confirm': 'Entretiens annuels 2026'})}").status_code == (
        404
    )


def test_unknown_and_impossible_ids_are_404(admin):
    api = Api(admin)
    for path in (
        "/api/campaigns/0",
        "/api/campaigns/99999999",
        f"/api/campaigns/{2**63}",
        "/api/campaigns/abc",
        "/api/interviews/99999999/plan",
        f"/api/interviews/{2**64}",
    ):
        response = (
            api.get(path) if "plan" not in path else api.post(path, {"scheduled_at": later()})
        )
        assert response.status_code in (400, 404), path
        assert response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_a_batch_at_once_create_it_once(organisation, admin, people):
    """A client's retry racing the original: one creates, the other answers the same."""
    import threading

    from django.db import connection

    campaign = Api(admin).post("/api/campaigns", campaign_body(organisation)).json()
    lines = [
        {"collaborator_email": people["collab"].email, "manager_email": people["manager"].email},
        {"collaborator_email": people["other"].email, "manager_email": people["n2"].email},
    ]
    start = threading.Barrier(2)
    answers = []

    def post():
        try:
            start.wait()
            response = Api(admin).post(f"/api/campaigns/{campaign['id']}/interviews", lines)
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _body in answers) == [200, 201]
    assert answers[0][1] == answers[1][1]
    assert Interview.objects.count() == 2


def test_the_hr_person_named_signs_the_hr_step_and_administrators_do_not(
    organisation, admin, people
):
    hr = people["n2"]
    body = campaign_body(
        organisation, circuit=[{"role": "hr", "deadline_days": 2}], hr_email=hr.email
    )
    campaign = Api(admin).post("/api/campaigns", body).json()
    line = {"collaborator_email": people["collab"].email, "manager_email": people["manager"].email}
    (row,) = Api(admin).post(f"/api/campaigns/{campaign['id']}/interviews", [line]).json()
    url = f"/api/interviews/{row['id']}"
    manager = Api(people["manager"])
    manager.post(f"{url}/plan", {"scheduled_at": later()})
    manager.post(f"{url}/held", {})
    waiting = manager.post(f"{url}/submit", {"answers": ANSWERS}).json()
    assert waiting["step"]["role"] == "hr"
    assert [s["state"] for s in waiting["circuit"]] == ["waiting"]
    assert waiting["circuit"][0]["due_at"] == waiting["step"]["due_at"]
    assert Api(admin).post(f"{url}/sign", {}).status_code == 403
    assert Api(people["collab"]).post(f"{url}/sign", {}).status_code == 403
    closed = Api(hr).post(f"{url}/sign", {"comment": "RH ok"}).json()
    assert closed["status"] == "closed"
    assert closed["circuit"][0]["signed_by"] == {"email": hr.email, "name": hr.full_name}
