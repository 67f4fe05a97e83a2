"""The audit page and /api/audit: an administrator sees their organisation's sensitive
actions (who, when, what), filters them, pages through them and exports them; everyone
else is refused, and no other organisation's entry ever shows."""

import datetime as dt
import importlib
import re
import zoneinfo
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorte.accounts import services as member_services
from cohorte.core.audit import log_action, organisation_of
from cohorte.core.models import AuditEntry, Job
from cohorte.core.selectors import ACTION_GROUPS, ACTION_LABELS, data_summary
from cohorte.programs.models import Enrolment, Organisation

from .conftest import make_member, signed_in

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
AUDIT = "/journal/"
AUDIT_CSV = "/journal.csv"
API = "/api/audit"


@pytest.fixture
def other_org(db) -> Organisation:
    return Organisation.objects.create(name="Ailleurs SA", timezone="America/Montreal")


@pytest.fixture
def other_admin(other_org):
    return make_member(
        other_org, "oscar@ailleurs.example", first="Oscar", last="Autre", is_org_admin=True
    )


def at(entry: AuditEntry, moment: dt.datetime) -> AuditEntry:
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=moment)
    entry.refresh_from_db()
    return entry


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode()


# --- Which organisation an entry belongs to ---------------------------------------------


def test_log_action_records_the_actor_organisation(admin, mentee, outsider):
    entry = log_action("member.deactivated", actor=admin, target=mentee)
    assert entry.organisation_id == admin.organisation_id
    # a task acting for no one: the target's organisation, through what it belongs to
    assert log_action("member.archived", target=outsider).organisation_id == (
        outsider.organisation_id
    )
    enrolment = Enrolment.objects.get(member=mentee)
    assert organisation_of(enrolment) == mentee.organisation_id
    assert log_action("enrolment.ended", target=enrolment).organisation_id == (
        mentee.organisation_id
    )
    job = Job.objects.create(kind="import", organisation_id=outsider.organisation_id)
    assert organisation_of(job) == outsider.organisation_id
    # the caller may say it outright
    assert log_action("cycle.ended", organisation_id=outsider.organisation_id).organisation_id == (
        outsider.organisation_id
    )
    assert log_action("members.imported").organisation_id is None


def test_entries_written_in_bulk_get_their_organisation(admin, mentee, mentor, outsider):
    member_services.members_deactivate(
        organisation_id=admin.organisation_id, emails=[(1, mentee.email)], by=admin
    )
    member_services.members_delete(members=[mentor], by=None)
    member_services.members_delete(members=[outsider], by=None)
    deactivated = AuditEntry.objects.get(action="member.deactivated")
    assert deactivated.organisation_id == admin.organisation_id
    deleted = dict(
        AuditEntry.objects.filter(action="member.deleted").values_list(
            "target_id", "organisation_id"
        )
    )
    assert deleted == {
        str(mentor.pk): admin.organisation_id,
        str(outsider.pk): outsider.organisation_id,
    }


def test_the_data_migration_fills_existing_entries(admin, mentee, program_a, outsider):
    by_actor = log_action("member.archived", actor=admin, target=outsider)
    of_program = log_action("cycle.ended", target=program_a)
    of_enrolment = log_action("enrolment.ended", target=Enrolment.objects.get(member=mentee))
    of_outsider = log_action("member.deleted", target=outsider)
    gone = AuditEntry.objects.create(
        action="member.deleted", target_type="accounts.member", target_id="999999"
    )
    odd = AuditEntry.objects.create(
        action="member.deleted", target_type="accounts.member", target_id="²"
    )
    unknown = AuditEntry.objects.create(action="x.y", target_type="nowhere.thing", target_id="1")
    AuditEntry.objects.update(organisation_id=None)

    migration = importlib.import_module(
        "cohorte.core.migrations.0005_audit_entry_organisation_fill"
    )
    migration.fill(apps, None)

    found = dict(AuditEntry.objects.values_list("pk", "organisation_id"))
    ours, theirs = admin.organisation_id, outsider.organisation_id
    assert found[by_actor.pk] == ours  # the actor's organisation comes first
    assert found[of_program.pk] == ours
    assert found[of_enrolment.pk] == ours
    assert found[of_outsider.pk] == theirs
    assert found[gone.pk] is None and found[odd.pk] is None and found[unknown.pk] is None


# --- Who may see the page --------------------------------------------------------------------


def test_admin_sees_their_organisation_entries_in_plain_words(admin, mentee, outsider):
    log_action("member.deactivated", actor=admin, target=mentee, data={"old": True, "new": False})
    log_action("member.deleted", target=outsider, data={"reason": "secret d'ailleurs"})
    response = signed_in(admin).get(AUDIT)
    assert response.status_code == 200
    page = body(response)
    assert "Membre désactivé" in page
    assert "Léa Mentee" in page and "Anne Admin" in page and "admin@poitiers.example" in page
    assert "oui → non" in page
    assert "Olga" not in page and "secret d&#x27;ailleurs" not in page
    assert "Journal d&#x27;audit" in page or "Journal d'audit" in page


@pytest.mark.parametrize("who", ["manager_a", "mentee", "outsider"])
def test_everyone_but_administrators_is_refused(request, who, admin):
    log_action("member.deleted", actor=admin, data={"name": "x"})
    person = request.getfixturevalue(who)
    client = signed_in(person)
    assert client.get(AUDIT).status_code == 404
    assert client.get(AUDIT_CSV).status_code == 404
    assert client.get(AUDIT, {"start": "9999-01-01"}).status_code == 404
    assert not AuditEntry.objects.filter(action="export.audit_csv").exists()


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().get(AUDIT)
    assert response.status_code == 302 and "connexion" in response["Location"]


def test_sidebar_link_only_for_administrators(admin, manager_a, program_a):
    assert reverse("core:audit") in body(signed_in(admin).get("/membres/"))
    assert reverse("core:audit") not in body(signed_in(manager_a).get("/membres/"))


def test_another_organisation_admin_never_sees_our_entries(admin, mentee, other_admin):
    log_action("member.deleted", actor=admin, target=mentee)
    log_action("member.archived", actor=other_admin, target=other_admin)
    client = signed_in(other_admin)
    page = body(client.get(AUDIT))
    assert "Léa Mentee" not in page and "Oscar Autre" in page
    csv = body(client.get(AUDIT_CSV))
    assert "Léa Mentee" not in csv and "Membre archivé" in csv
    rows = client.get(API).json()["results"]
    assert {row["action"] for row in rows} <= {"member.archived", "export.audit_csv"}


# --- Filters ----------------------------------------------------------------------------


@pytest.fixture
def story(admin, manager_a, mentee, mentor, program_a):
    """A few days of an organisation's life, at known times (Paris)."""
    entries = {
        "deleted": log_action("member.deleted", actor=admin, target=mentor),
        "deactivated": log_action("member.deactivated", actor=manager_a, target=mentee),
        "archived": log_action("member.archived", actor=admin, target=mentee),
        "cycle": log_action("cycle.ended", target=program_a, data={"deleted": 3}),
        "token": log_action("token.revoked", actor=admin, target=mentee),
        "role": log_action("member.role_changed", actor=admin, target=mentee),
        "export": log_action("export.members_csv", actor=manager_a, data={"filters": "q=a"}),
        "profile": log_action("member.profile_updated", actor=mentee, target=mentee),
    }
    day = dt.datetime(2026, 3, 10, 12, 0, tzinfo=PARIS)
    for offset, entry in enumerate(entries.values()):
        at(entry, day + dt.timedelta(days=offset))
    # the last minutes of 10 March in Paris are already 11 March in UTC… and the reverse
    entries["late"] = at(
        log_action("cohort.deleted", actor=admin, data={"name": "Tard le soir"}),
        dt.datetime(2026, 3, 10, 23, 50, tzinfo=PARIS),
    )
    entries["early"] = at(
        log_action("message.deleted", actor=admin, data={"subject": "Tôt le matin"}),
        dt.datetime(2026, 3, 9, 0, 10, tzinfo=PARIS),
    )
    return entries


def shown(client, **params) -> set[int]:
    response = client.get(API, params)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("deletions", {"deleted", "late", "early"}),
        ("deactivations", {"deactivated"}),
        ("archive", {"archived"}),
        ("cycle", {"cycle"}),
        ("tokens", {"token"}),
        ("roles", {"role"}),
        ("exports", {"export"}),
    ],
)
def test_filter_by_kind_of_action(admin, story, kind, expected):
    client = signed_in(admin)
    assert shown(client, action=kind) == {story[name].pk for name in expected}
    page = body(client.get(AUDIT, {"action": kind}))
    for name, entry in story.items():
        marker = f'datetime="{entry.created_at.astimezone(PARIS).isoformat()}"'
        assert (marker in page) == (name in expected), name


def test_filter_by_actor_target_and_days(admin, story):
    client = signed_in(admin)
    by_manager = {story["deactivated"].pk, story["export"].pk}
    assert shown(client, actor="manon") == by_manager
    assert shown(client, actor="MANON ALPHA") == by_manager
    assert shown(client, actor="manon.a@poitiers") == by_manager
    assert shown(client, actor="système") == {story["cycle"].pk}
    assert shown(client, target="Orientation") == {story["cycle"].pk}
    # days are the organisation's, the last one included
    assert shown(client, **{"from": "2026-03-10", "to": "2026-03-10"}) == {
        story["deleted"].pk,
        story["late"].pk,
    }
    assert shown(client, **{"from": "2026-03-09", "to": "2026-03-09"}) == {story["early"].pk}
    page = body(client.get(AUDIT, {"start": "2026-03-10", "end": "2026-03-10"}))
    assert "Tard le soir" in page and "Tôt le matin" not in page


def test_pages_follow_one_another_without_counting(admin, mentee):
    base = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
    made = []
    for number in range(120):
        entry = log_action("member.archived", actor=admin, target=mentee, data={"n": number})
        made.append(at(entry, base + dt.timedelta(seconds=number // 2)).pk)  # ties on time
    client = signed_in(admin)
    seen: list[int] = []
    after = ""
    with CaptureQueriesContext(connection) as queries:
        for _ in range(4):
            response = client.get(API, {"after": after, "page_size": 50})
            data = response.json()
            seen += [row["id"] for row in data["results"]]
            after = data["next"]
            if not after:
                break
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    # the page: 50 a time, a link to the older ones
    first = body(client.get(AUDIT))
    assert first.count("<time ") == 50
    cursor = re.search(r'after=([^"&]+)', first).group(1)
    second = body(client.get(AUDIT + "?after=" + cursor))
    assert second.count("<time ") == 50


def test_page_queries_do_not_grow_with_rows(admin, mentee, django_assert_max_num_queries):
    for number in range(60):
        log_action("member.archived", actor=admin, target=mentee, data={"n": number})
    client = signed_in(admin)
    client.get(AUDIT)
    with django_assert_max_num_queries(12):
        assert client.get(AUDIT).status_code == 200


# --- Export ------------------------------------------------------------------------------


def test_csv_export_keeps_the_filters_and_is_logged(admin, story, mentor):
    log_action("cohort.deleted", actor=admin, data={"name": '=HYPERLINK("http://x")'})
    response = signed_in(admin).get(AUDIT_CSV, {"action": "deletions"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = body(response)
    lines = text.strip("\ufeff").strip().splitlines()
    assert lines[0].startswith("Date;Action;")
    assert len(lines) == 1 + 4  # three deletions of the story and the one above
    assert "Membre supprimé" in text and "Membre archivé" not in text
    assert "nom : =HYPERLINK" in text  # inside the summary, not at a cell's start
    export = AuditEntry.objects.get(action="export.audit_csv")
    assert export.actor == admin and export.organisation_id == admin.organisation_id
    assert export.data == {"filters": {"action": "deletions"}}
    # and it is in the log under « exports »
    assert export.pk in shown(signed_in(admin), action="exports")


def test_csv_cells_are_neutralised(admin):
    entry = log_action("member.deleted", actor=admin, data={})
    AuditEntry.objects.filter(pk=entry.pk).update(target_repr="=1+1")
    text = body(signed_in(admin).get(AUDIT_CSV))
    assert ";'=1+1;" in text


def test_other_exports_are_logged(admin, program_a, mentee):
    client = signed_in(admin)
    body(client.get(reverse("members:report"), {"q": "léa"}))
    body(client.get(reverse("activity:csv", args=[program_a.pk])))
    body(client.get(reverse("messaging:log-csv")))
    job = Job.objects.create(kind="cycle_end", organisation_id=admin.organisation_id)
    job.file.save("archive.zip", ContentFile(b"PK"), save=True)
    try:
        response = client.get(reverse("core:job-file", args=[job.pk]))
        assert response.status_code == 200
        b"".join(response.streaming_content)
    finally:
        job.file.delete(save=False)
    actions = dict(
        AuditEntry.objects.filter(action__startswith="export.").values_list("action", "data")
    )
    assert actions["export.members_csv"] == {"filters": "q=l%C3%A9a"}
    assert set(actions) == {
        "export.members_csv",
        "export.participants_csv",
        "export.email_log_csv",
        "export.job_file",
    }
    assert AuditEntry.objects.get(action="export.participants_csv").target_id == str(program_a.pk)
    assert set(
        AuditEntry.objects.filter(action__startswith="export.").values_list(
            "organisation_id", flat=True
        )
    ) == {admin.organisation_id}


# --- Hostile query strings -------------------------------------------------------------------

HOSTILE = [
    {"start": "9999-01-01"},
    {"end": "0001-01-01"},
    {"start": "²⁰²⁶-01-01"},
    {"start": "2026-02-30"},
    {"start": "2026-03-10", "end": "2026-03-01"},
    {"action": "<script>alert(1)</script>"},
    {"action": "deletions'--"},
    {"actor": "x" * 500},
    {"actor": "a\x00b"},
    {"target": "\x00"},
    {"after": "garbage"},
    {"after": "²_²"},
    {"after": "2026-01-01T00:00:00+00:00_99999999999999999999999"},
    {"after": "9999-12-31T23:59:59+00:00_1"},
    {"after": "2026-01-01T00:00:00_1"},
    {"after": "<b>x</b>"},
]


@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_query_strings_are_form_errors(admin, params):
    log_action("member.deleted", actor=admin, data={"name": "visible"})
    client = signed_in(admin)
    for path in (AUDIT, AUDIT_CSV):
        response = client.get(path, params)
        assert response.status_code == 200
        page = body(response)
        assert 'class="errorlist' in page
        assert "<script>alert" not in page and "<b>x</b>" not in page
        assert "visible" not in page  # nothing shown under a filter that was not applied
    assert not AuditEntry.objects.filter(action="export.audit_csv").exists()


@pytest.mark.parametrize(
    "params",
    [
        {"from": "9999-01-01"},
        {"to": "1999-12-31"},
        {"from": "²⁰²⁶-01-01"},
        {"action": "<script>"},
        {"actor": "x" * 500},
        {"actor": "a\x00b"},
        {"after": "garbage"},
        {"after": "2026-01-01T00:00:00+00:00_99999999999999999999999"},
        {"page_size": "0"},
        {"page_size": "99999999999999999999999"},
        {"page_size": "²"},
    ],
)
def test_api_bad_parameters_are_400_in_the_error_shape(admin, api_as, params):
    response = api_as(admin).get(API, **params)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["message"] and isinstance(data["errors"], list) and data["errors"]
    assert all("reason" in error for error in data["errors"])


def test_api_bad_cursor_is_explained_in_french(admin, api_as):
    response = api_as(admin).get(API, after="2026-01-01T00:00:00_1")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": None, "field": "after", "reason": "curseur de page invalide"}
    ]


def test_api_odd_but_well_formed_parameters_are_answered(admin, api_as):
    """What the schema accepts is accepted: a backwards range is empty, a cursor of the right
    shape anywhere in time is a position (before the first entry or after the last)."""
    client = api_as(admin)  # issuing its token is an entry too (« token.issued »)
    log_action("member.deleted", actor=admin, data={"name": "x"})
    total = AuditEntry.objects.count()
    for params, count in [
        ({"from": "2026-03-10", "to": "2026-03-01"}, 0),
        ({"after": "0_0"}, 0),
        ({"after": "9999999999999999_999999999999999999"}, total),
        ({"from": "2000-01-01", "to": "2100-12-31"}, total),
    ]:
        response = client.get(API, **params)
        assert response.status_code == 200, (params, response.content)
        assert len(response.json()["results"]) == count, params


# --- The API ------------------------------------------------------------------------------


def test_api_lists_entries_for_administrators(admin, mentee, api_as):
    entry = log_action(
        "member.deactivated", actor=admin, target=mentee, data={"old": True, "new": False}
    )
    response = api_as(admin).get(API, action="deactivations")
    assert response.status_code == 200
    data = response.json()
    assert data["next"] == ""
    (row,) = data["results"]
    assert row == {
        "id": entry.pk,
        "created_at": row["created_at"],
        "action": "member.deactivated",
        "action_label": "Membre désactivé",
        "actor": admin.pk,
        "actor_name": "Anne Admin",
        "actor_email": "admin@poitiers.example",
        "target_type": "accounts.member",
        "target_id": str(mentee.pk),
        "target_repr": "Léa Mentee",
        "summary": "oui → non",
        "data": {"old": True, "new": False},
    }
    shown_at = dt.datetime.fromisoformat(row["created_at"])
    assert abs(shown_at - entry.created_at) < dt.timedelta(milliseconds=1)


@pytest.mark.parametrize("who", ["manager_a", "mentee", "outsider"])
def test_api_refuses_everyone_but_administrators(request, who, api_as):
    response = api_as(request.getfixturevalue(who)).get(API)
    assert response.status_code == 403
    assert response.json()["errors"] == []


def test_api_without_token_is_401(db):
    response = Client().get(API)
    assert response.status_code == 401
    assert "message" in response.json()


def test_api_schema_describes_every_answer():
    from cohorte.api import api

    schema = api.get_openapi_schema()
    operation = schema["paths"]["/api/audit"]["get"]
    assert {str(status) for status in operation["responses"]} == {"200", "400", "401", "403"}
    names = {param["name"] for param in operation["parameters"]}
    assert {"action", "actor", "target", "from", "to", "after", "page_size"} <= names


# --- Words ----------------------------------------------------------------------------------


def test_data_is_summarised_in_words():
    assert data_summary({}) == ""
    assert data_summary({"count": 14}) == "nombre : 14"
    assert data_summary({"old": True, "new": False}) == "oui → non"
    assert (
        data_summary({"old": {"name": "A"}, "new": {"name": "B"}, "role": "mentor"})
        == "nom : A → B · rôle : mentor"
    )
    assert len(data_summary({"query": "x" * 5000})) == 500


def _logged_actions() -> set[str]:
    """Every action name written in the code, as log_action's first argument or action=."""
    root = Path(__file__).resolve().parent.parent / "cohorte"
    pattern = re.compile(r'(?:log_action\(\s*|action=)"([a-z_]+\.[a-z_]+)"')
    names: set[str] = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        names.update(pattern.findall(text))
        # « "a" if created else "b" »
        for first, second in re.findall(
            r'log_action\(\s*"([a-z_]+\.[a-z_]+)" if \w+ else "([a-z_]+\.[a-z_]+)"', text
        ):
            names.update({first, second})
    return names


def test_every_logged_action_has_a_french_label():
    """A new action cannot be forgotten: it gets its words on the audit page."""
    names = _logged_actions()
    assert {"member.deleted", "member.deactivated", "cycle.ended"} <= names
    assert sorted(names - set(ACTION_LABELS)) == []


def test_every_sensitive_action_falls_in_its_group():
    names = _logged_actions() | set(ACTION_LABELS)
    expected = {
        "deletions": lambda name: name.endswith(".deleted"),
        "deactivations": lambda name: name.endswith(".deactivated"),
        "archive": lambda name: name.endswith(".archived"),
        "cycle": lambda name: name.startswith("cycle."),
        "tokens": lambda name: "token" in name,
        "exports": lambda name: name.startswith("export."),
        "roles": lambda name: "role" in name or "admin_" in name or "manager" in name,
    }
    for group, rule in expected.items():
        missing = [name for name in names if rule(name) and not ACTION_GROUPS[group].holds(name)]
        assert missing == [], group
