"""Dealing with a ❗ (issue 15 §1): a flagged row opens its reasons; the manager resolves a
report with a comment (« Traité »), marks a conversation as followed up, or writes; the
flag goes, the history stays; a new report raises it again."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from cohorte.activity.models import Conversation, Report
from cohorte.activity.selectors import FLAG_UNANSWERED
from cohorte.activity.services import report_create
from cohorte.core.models import AuditEntry
from cohorte.programs.models import Enrolment, Role

from .conftest import Api, make_member, signed_in


@pytest.fixture
def flagged(organisation, program_a, mentor):
    member = make_member(organisation, "elodie.flag@x.example", first="Élodie", last="Flag")
    Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    report = report_create(
        program=program_a, member=member, reported_by=mentor, reason="Absente depuis un mois"
    )
    return member, report


def _flags(api, program, email):
    rows = api.get(f"/api/programs/{program.pk}/participants", q=email).json()["results"]
    return next(row["flags"] for row in rows if row["email"] == email)


def test_resolving_a_report_through_the_api_drops_the_flag_and_a_new_one_raises_it(
    program_a, manager_a, mentor, flagged
):
    member, report = flagged
    api = Api(manager_a)
    assert "reported" in _flags(api, program_a, member.email)
    url = f"/api/programs/{program_a.pk}/reports/{report.pk}/resolve"
    answer = api.post(url, {"comment": "Appelée, elle revient lundi"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["resolved_by_email"] == manager_a.email
    assert body["comment"] == "Appelée, elle revient lundi" and body["resolved_at"]
    assert "reported" not in _flags(api, program_a, member.email)
    # a repeat changes nothing: the first resolution stands
    again = api.post(url, {"comment": "autre chose"}).json()
    assert again["comment"] == "Appelée, elle revient lundi"
    assert again["resolved_at"] == body["resolved_at"]
    listed = api.get(f"/api/programs/{program_a.pk}/reports", status="resolved").json()
    assert [r["id"] for r in listed["results"]] == [report.pk]
    assert api.get(f"/api/programs/{program_a.pk}/reports", status="open").json()["count"] == 0
    report_create(program=program_a, member=member, reported_by=mentor, reason="Encore absente")
    assert "reported" in _flags(api, program_a, member.email)
    assert api.get(f"/api/programs/{program_a.pk}/reports", status="open").json()["count"] == 1
    assert api.get(f"/api/programs/{program_a.pk}/reports", status="bogus").status_code == 400


def test_another_programmes_report_or_one_out_of_reach_is_404(
    program_a, program_b, manager_a, manager_b, flagged
):
    _member, report = flagged
    # manager B cannot see programme A; and A's report is not B's programme's
    assert (
        Api(manager_b)
        .post(f"/api/programs/{program_a.pk}/reports/{report.pk}/resolve", {})
        .status_code
        == 404
    )
    assert (
        Api(manager_b)
        .post(f"/api/programs/{program_b.pk}/reports/{report.pk}/resolve", {})
        .status_code
        == 404
    )
    assert Report.objects.get(pk=report.pk).resolved_at is None


def test_the_page_resolves_with_a_comment_and_the_profile_keeps_the_history(
    program_a, manager_a, admin, flagged
):
    member, report = flagged
    client = signed_in(manager_a)
    table = f"/programmes/{program_a.pk}/"
    assert "Flag" in client.get(table, {"flagged": "open"}).content.decode()
    page_url = f"/programmes/{program_a.pk}/participants/{member.pk}/signalements/"
    page = client.get(page_url).content.decode()
    assert "Absente depuis un mois" in page and "Signalements à traiter" in page
    answer = client.post(
        page_url, {"action": "resolve", "id": report.pk, "comment": "Vu avec elle"}, follow=True
    )
    text = answer.content.decode()
    assert "Signalement marqué comme traité." in text
    assert "Aucun signalement à traiter." in text and "Vu avec elle" in text
    assert "Flag" not in client.get(table, {"flagged": "open"}).content.decode()
    assert "Flag" in client.get(table, {"flagged": "resolved"}).content.decode()
    # bad input: a message, never a 500
    assert client.post(page_url, {"action": "resolve", "id": "x"}).status_code == 302
    assert client.post(page_url, {"action": "resolve", "id": 10**30}).status_code == 302
    profile = signed_in(admin).get(f"/membres/{member.pk}/").content.decode()
    assert "Signalement traité" in profile
    assert AuditEntry.objects.filter(action="participant.report_resolved").count() == 1


def test_a_conversation_marked_followed_up_leaves_the_flag_until_the_next_message(
    program_a, manager_a, mentor, organisation
):
    member = make_member(organisation, "sans.reponse@x.example", first="Sam", last="Attente")
    Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    long_ago = timezone.now() - dt.timedelta(days=30)
    conversation = Conversation.objects.create(
        program=program_a, participant=member, professional=mentor, last_message_at=long_ago
    )
    api = Api(manager_a)
    before = _flags(api, program_a, member.email)
    assert FLAG_UNANSWERED in before
    client = signed_in(manager_a)
    page_url = f"/programmes/{program_a.pk}/participants/{member.pk}/signalements/"
    assert "Marquer comme suivie" in client.get(page_url).content.decode()
    client.post(page_url, {"action": "follow_up", "id": conversation.pk})
    assert _flags(api, program_a, member.email) == [f for f in before if f != FLAG_UNANSWERED]
    conversation.last_message_at = timezone.now() - dt.timedelta(days=20)
    conversation.followed_up_at = timezone.now() - dt.timedelta(days=25)
    conversation.save()
    assert _flags(api, program_a, member.email) == before


def test_the_csv_carries_the_reasons(program_a, manager_a, flagged):
    member, _report = flagged
    response = signed_in(manager_a).get(f"/programmes/{program_a.pk}/participants.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    row = next(r for r in rows if member.email in r)
    assert any("Absente depuis un mois" in cell for cell in row)
