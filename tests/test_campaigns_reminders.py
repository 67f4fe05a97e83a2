"""« Relancer les managers » (issue 13 §4): by status from the statistics, one manager from
« Détail entretiens », the API, and the staged reminders of the circuit's steps on a fake
clock — the e-mails read back from a real SMTP sink."""

import datetime as dt
from email.header import decode_header, make_header

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cohorte.accounts.models import Language
from cohorte.campaigns import reminders, services, step_reminders
from cohorte.campaigns.models import (
    Interview,
    InterviewStatus,
    ManagerReminder,
    ReminderSending,
    StepReminder,
)
from cohorte.campaigns.selectors import reminder_recipients
from cohorte.core.models import AuditEntry

from .conftest import body_of, make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def to(message) -> str:
    return message["X-Envelope-To"]


def new_campaign(organisation, admin, name="Entretiens annuels 2026", circuit=None):
    today = timezone.localdate()
    return services.campaign_create(
        organisation=organisation,
        by=admin,
        name=name,
        kind="annual",
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
        circuit=circuit or [{"role": "manager", "deadline_days": 14}],
    )


@pytest.fixture
def people(organisation):
    m = make_member
    return {
        "alice": m(organisation, "alice.mgr@poitiers.example", first="Alice", last="Arnaud"),
        "bruno": m(
            organisation,
            "bruno.mgr@poitiers.example",
            first="Bruno",
            last="Bernard",
            language=Language.EN,
        ),
        "chloe": m(organisation, "chloe.mgr@poitiers.example", first="Chloé", last="Colin"),
        "c1": m(organisation, "camille@poitiers.example", first="Camille", last="Un"),
        "c2": m(organisation, "denis@poitiers.example", first="Denis", last="Deux"),
        "c3": m(organisation, "emma@poitiers.example", first="Emma", last="Trois"),
        "c4": m(organisation, "fanny@poitiers.example", first="Fanny", last="Quatre"),
        "c5": m(organisation, "gaston@poitiers.example", first="Gaston", last="Cinq"),
        "c6": m(organisation, "hugo@poitiers.example", first="Hugo", last="Six"),
    }


@pytest.fixture
def campaign(organisation, admin, people):
    """Alice: Camille and Denis not planned, Emma planned; Bruno: Fanny not planned, Hugo
    closed; Chloé: Gaston not planned."""
    campaign = new_campaign(organisation, admin)
    p = people
    lines = [
        (p["c1"], p["alice"]),
        (p["c2"], p["alice"]),
        (p["c3"], p["alice"]),
        (p["c4"], p["bruno"]),
        (p["c5"], p["chloe"]),
        (p["c6"], p["bruno"]),
    ]
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": c.email, "manager_email": m.email} for c, m in lines],
    )
    Interview.objects.filter(collaborator=p["c3"]).update(
        status=InterviewStatus.PLANNED, scheduled_at=timezone.now() + dt.timedelta(days=3)
    )
    Interview.objects.filter(collaborator=p["c6"]).update(status=InterviewStatus.CLOSED)
    return campaign


def remind_url(campaign, status="not_planned"):
    return f"{reverse('campaigns:remind', args=[campaign.pk])}?status={status}"


# --- The window and « Relancer » ------------------------------------------------------------


def test_window_lists_the_managers_concerned_checked_by_default(campaign, admin, people):
    response = signed_in(admin).get(remind_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Alice Arnaud", "Bruno Bernard", "Chloé Colin"):
        assert name in html
    rows = {r["manager"].email: r["count"] for r in reminder_recipients(campaign, "not_planned")}
    assert rows == {people["alice"].email: 2, people["bruno"].email: 1, people["chloe"].email: 1}
    assert html.count('type="checkbox" name="manager"') == 3
    assert html.count(" checked>") == 3
    assert "jamais" in html
    # the htmx dialog gets the partial alone
    partial = signed_in(admin).get(remind_url(campaign), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert b"<html" not in partial.content and b"Alice Arnaud" in partial.content


def test_window_is_for_the_organisations_admins_only(campaign, people, outsider, organisation):
    for member in (people["alice"], people["c1"], outsider):
        assert signed_in(member).get(remind_url(campaign)).status_code == 404
        response = signed_in(member).post(
            reverse("campaigns:remind", args=[campaign.pk]), {"status": "not_planned"}
        )
        assert response.status_code == 404
    assert not ReminderSending.objects.exists()


def test_window_refuses_an_unknown_status_with_a_message(campaign, admin):
    response = signed_in(admin).get(remind_url(campaign, "lost"))
    assert response.status_code == 400
    assert "Choisissez un statut connu" in response.content.decode()
    response = signed_in(admin).get(reverse("campaigns:remind", args=[campaign.pk]))
    assert response.status_code == 400


def test_recipients_are_built_in_two_queries(campaign):
    with CaptureQueriesContext(connection) as queries:
        reminder_recipients(campaign, "not_planned")
    assert len(queries) == 2  # the managers with their counts, their last reminders


@pytest.mark.django_db(transaction=True)
def test_each_selected_manager_gets_only_their_interviews_in_that_status(
    campaign, admin, people, smtp
):
    client = signed_in(admin)
    alice, bruno, chloe = people["alice"], people["bruno"], people["chloe"]
    url = reverse("campaigns:remind", args=[campaign.pk])
    post = {"status": "not_planned", "manager": [alice.pk, bruno.pk]}  # Chloé unticked
    response = client.post(url, post)
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["2 managers relancés."]
    run_tasks()
    by_to = {to(m): m for m in smtp}
    assert set(by_to) == {alice.email, bruno.email}  # Chloé was de-selected: nothing
    alice_body = body_of(by_to[alice.email])
    assert "Camille Un" in alice_body and "Denis Deux" in alice_body
    assert "Emma Trois" not in alice_body  # planned, not in that status
    assert "Fanny" not in alice_body and "Gaston" not in alice_body  # another manager's
    assert "Non planifié" in alice_body
    assert "/entretiens/" in alice_body
    assert "Entretiens annuels 2026" in subject(by_to[alice.email])
    bruno_body = body_of(by_to[bruno.email])  # in his language, only his not-planned one
    assert bruno_body.startswith("Hello Bruno")
    assert "Fanny Quatre" in bruno_body and "interviews are waiting for you" in bruno_body
    assert "Hugo" not in bruno_body and "Camille" not in bruno_body

    sending = ReminderSending.objects.get()
    assert sending.excluded == [chloe.email]
    assert (sending.status, sending.by) == ("not_planned", admin)
    assert {r.manager_id: sorted(r.interview_ids) for r in sending.recipients.all()} == {
        alice.pk: sorted(
            campaign.interviews.filter(manager=alice, status="not_planned").values_list(
                "pk", flat=True
            )
        ),
        bruno.pk: list(
            campaign.interviews.filter(collaborator=people["c4"]).values_list("pk", flat=True)
        ),
    }
    entry = AuditEntry.objects.get(action="campaign.reminders_sent")
    assert entry.data["managers"] == 2 and entry.data["excluded"] == [chloe.email]

    # a double click, a retry: nothing is sent twice
    again = client.post(url, post)
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == (
        "Ces managers viennent d'être relancés : aucun e-mail n'est renvoyé."
    )
    run_tasks()
    assert len(smtp) == 2
    assert ReminderSending.objects.count() == 1
    # the window now says when each was last reminded
    html = client.get(remind_url(campaign)).content.decode()
    assert html.count("jamais") == 1  # Chloé only


@pytest.mark.django_db(transaction=True)
def test_after_the_retry_window_a_new_reminder_goes(campaign, admin, people, smtp):
    reminders.managers_remind(campaign=campaign, status="not_planned", by=admin)
    ManagerReminder.objects.update(at=timezone.now() - dt.timedelta(minutes=5))
    result = reminders.managers_remind(campaign=campaign, status="not_planned", by=admin)
    assert result.sent == 3
    run_tasks()
    assert len(smtp) == 6


def test_a_bad_manager_id_is_a_message_not_an_error(campaign, admin):
    response = signed_in(admin).post(
        reverse("campaigns:remind", args=[campaign.pk]),
        {"status": "not_planned", "manager": ["12abc"]},
    )
    assert response.status_code == 302
    assert "identifiant invalide" in str(list(get_messages(response.wsgi_request))[0])
    assert not ReminderSending.objects.exists()


# --- « Relancer le responsable » ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_remind_one_manager_lists_their_pending_interviews(campaign, admin, people, smtp):
    client = signed_in(admin)
    url = reverse("campaigns:remind-manager", args=[campaign.pk])
    response = client.post(url, {"manager": people["bruno"].pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:interviews", args=[campaign.pk])
    run_tasks()
    (message,) = smtp
    assert to(message) == people["bruno"].email
    body = body_of(message)
    assert "Fanny Quatre" in body and "Hugo" not in body  # Hugo's is closed
    client.post(url, {"manager": people["bruno"].pk})  # a double click
    client.post(url, {"manager": people["alice"].pk, "status": "planned"})
    run_tasks()
    assert len(smtp) == 2
    body = body_of(smtp[1])
    assert "Emma Trois" in body and "Camille" not in body
    assert ManagerReminder.objects.filter(manager=people["alice"]).count() == 1


def test_remind_one_manager_refusals(campaign, admin, people, outsider):
    client = signed_in(admin)
    url = reverse("campaigns:remind-manager", args=[campaign.pk])
    for bad in ("", "x", "-3", "99999999999999999999"):
        response = client.post(url, {"manager": bad})
        assert response.status_code == 302
    assert client.post(url, {"manager": people["c1"].pk}).status_code == 404  # no interviews
    assert client.post(url, {"manager": outsider.pk}).status_code == 404
    response = client.post(url, {"manager": people["alice"].pk, "status": "lost"})
    assert "Choisissez un statut connu" in str(list(get_messages(response.wsgi_request))[-1])
    assert client.get(url).status_code == 405
    assert signed_in(people["alice"]).post(url, {"manager": people["alice"].pk}).status_code == 404
    assert not ReminderSending.objects.exists()


# --- The API ---------------------------------------------------------------------------------


def api_url(campaign):
    return f"/api/campaigns/{campaign.pk}/reminders"


@pytest.mark.django_db(transaction=True)
def test_api_reminds_each_manager_of_only_their_interviews(campaign, admin, people, api_as, smtp):
    api = api_as(admin)
    response = api.post(
        api_url(campaign), {"status": "not_planned", "exclude": ["CHLOE.mgr@poitiers.example"]}
    )
    assert response.status_code == 200, response.content
    ids = {
        m: sorted(
            campaign.interviews.filter(manager=people[m], status="not_planned").values_list(
                "pk", flat=True
            )
        )
        for m in ("alice", "bruno")
    }
    assert response.json() == {
        "reminded": [
            {"manager_email": people["alice"].email, "interviews": ids["alice"]},
            {"manager_email": people["bruno"].email, "interviews": ids["bruno"]},
        ],
        "skipped": [],
    }
    assert ReminderSending.objects.get().excluded == [people["chloe"].email]
    again = api.post(
        api_url(campaign), {"status": "not_planned", "exclude": ["chloe.mgr@poitiers.example"]}
    )
    assert again.json() == response.json()  # the retry answers the same, sends nothing
    run_tasks()
    assert sorted(to(m) for m in smtp) == [people["alice"].email, people["bruno"].email]
    # a status nobody has: nobody reminded
    assert api.post(api_url(campaign), {"status": "held"}).json() == {
        "reminded": [],
        "skipped": [],
    }


def keyed(api, campaign, key, status="not_planned"):
    return api.client.post(
        api_url(campaign),
        {"status": status},
        content_type="application/json",
        headers={**api.headers, "Idempotency-Key": key},
    )


@pytest.mark.django_db(transaction=True)
def test_api_idempotency_key_answers_a_late_retry_with_what_it_sent(
    campaign, admin, people, api_as, smtp
):
    api = api_as(admin)
    first = keyed(api, campaign, "relance-2026-03-02, lot 1.a")
    assert first.status_code == 200, first.content
    assert [r["manager_email"] for r in first.json()["reminded"]] == [
        people["alice"].email,
        people["bruno"].email,
        people["chloe"].email,
    ]
    # an hour later, past the 60-second window, the same key: nothing sent again
    ManagerReminder.objects.update(at=timezone.now() - dt.timedelta(hours=1))
    ReminderSending.objects.update(at=timezone.now() - dt.timedelta(hours=1))
    late = keyed(api, campaign, "relance-2026-03-02, lot 1.a")
    assert late.status_code == 200 and late.json() == first.json()
    # the same key for another status: refused, nothing sent
    other = keyed(api, campaign, "relance-2026-03-02, lot 1.a", status="planned")
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
    # another key is another request: past the window, it reminds again
    assert len(keyed(api, campaign, "relance-2").json()["reminded"]) == 3
    run_tasks()
    assert len(smtp) == 6
    # another administrator's same key is theirs, not ours
    second = make_member(campaign.organisation, "rh2@poitiers.example", is_org_admin=True)
    ManagerReminder.objects.update(at=timezone.now() - dt.timedelta(hours=1))
    assert len(keyed(api_as(second), campaign, "relance-2").json()["reminded"]) == 3
    for bad in ("x" * 256, "clé\x00", "ünïcode"):
        response = keyed(api, campaign, bad)
        assert response.status_code == 400 and "Idempotency-Key" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_archived_or_deactivated_managers_are_skipped_and_said(
    campaign, admin, people, api_as, smtp
):
    from cohorte.accounts.models import Member

    Member.objects.filter(pk=people["bruno"].pk).update(archived_at=timezone.now())
    Member.objects.filter(pk=people["chloe"].pk).update(is_active=False)
    client = signed_in(admin)
    html = client.get(remind_url(campaign)).content.decode()
    assert "archivé : ne recevra pas la relance" in html
    assert "désactivé : ne recevra pas la relance" in html
    assert f'name="manager" value="{people["alice"].pk}"' in html
    assert f'name="manager" value="{people["bruno"].pk}"' not in html
    response = api_as(admin).post(api_url(campaign), {"status": "not_planned"})
    assert response.json()["skipped"] == [
        {"manager_email": people["bruno"].email, "reason": "archived"},
        {"manager_email": people["chloe"].email, "reason": "inactive"},
    ]
    assert [r["manager_email"] for r in response.json()["reminded"]] == [people["alice"].email]
    # « Relancer le responsable » on an archived one says why nothing goes
    response = client.post(
        reverse("campaigns:remind-manager", args=[campaign.pk]),
        {"manager": people["bruno"].pk},
        follow=True,
    )
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("est archivé(e) : aucune relance" in m for m in said), said
    run_tasks()
    assert [to(m) for m in smtp] == [people["alice"].email]


def test_api_permissions_and_bad_input(campaign, admin, people, api_as, outsider, organisation):
    assert api_as(people["alice"]).post(api_url(campaign), {"status": "planned"}).status_code == 403
    assert api_as(people["c1"]).post(api_url(campaign), {"status": "planned"}).status_code == 404
    other_admin = make_member(outsider.organisation, "boss@ailleurs.example", is_org_admin=True)
    assert api_as(other_admin).post(api_url(campaign), {"status": "planned"}).status_code == 404
    api = api_as(admin)
    assert api.post("/api/campaigns/999999/reminders", {"status": "planned"}).status_code == 404
    for body in (
        {"status": "lost"},
        {},
        {"status": "planned", "exclude": "x@y.z"},
        {"status": "planned", "exclude": ["a" * 255]},
        {"status": "planned", "exclude": ["a@b.c"] * 10_001},
        {"status": "planned", "exclude": [3]},
    ):
        response = api.post(api_url(campaign), body)
        assert response.status_code == 400, body
        assert response.json()["message"]
    assert not ReminderSending.objects.exists()


# --- The staged reminders of the circuit ----------------------------------------------------


T0 = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)  # the step starts; due 14 days later


def closing(campaign, collaborator, started=T0):
    interview = campaign.interviews.get(collaborator=collaborator)
    Interview.objects.filter(pk=interview.pk).update(
        status=InterviewStatus.CLOSING, step=0, step_started_at=started
    )
    return interview


def day(n, hour=11):
    return T0 + dt.timedelta(days=n, hours=hour - 11)


def sent_on(n, smtp):
    """Runs the clock on day n of the step, sends, and says who got what."""
    before = len(smtp)
    step_reminders.step_reminders_run(now=day(n))
    run_tasks()
    return sorted((to(m), subject(m).split(" ")[0]) for m in smtp[before:])


@pytest.mark.django_db(transaction=True)
def test_staged_reminders_escalate_on_a_fake_clock(organisation, admin, people, smtp):
    alice, bruno = people["alice"], people["bruno"]
    campaign = new_campaign(organisation, admin)
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[
            {"collaborator_email": people["c1"].email, "manager_email": alice.email},
            # Alice's own interview names her manager: Bruno is her N+2
            {"collaborator_email": alice.email, "manager_email": bruno.email},
        ],
    )
    closing(campaign, people["c1"])  # Alice's step, due on day 14
    assert sent_on(1, smtp) == []
    assert sent_on(7, smtp) == [(alice.email, "Rappel")]  # 7 days before
    assert sent_on(7, smtp) == []  # the clock ticks again the same day
    assert sent_on(8, smtp) == []
    assert sent_on(12, smtp) == [(alice.email, "Rappel")]  # 2 days before
    assert sent_on(14, smtp) == []
    assert sent_on(20, smtp) == []
    # 7 days late: Alice again, and her N+2 is told (escalate_after = 7)
    assert sent_on(21, smtp) == [(alice.email, "Rappel"), (bruno.email, "Late:")]
    assert sent_on(22, smtp) == []
    # 14 days late: every 7 days after, the N+2 again, and HR in copy (hr_after = 14)
    assert sent_on(28, smtp) == [
        (admin.email, "En"),
        (alice.email, "Rappel"),
        (bruno.email, "Late:"),
    ]
    escalation = next(m for m in smtp if to(m) == bruno.email)
    body = body_of(escalation)
    assert "Camille Un" in body and "/entretiens/" in body
    stages = set(StepReminder.objects.values_list("member__email", "stage"))
    assert stages == {
        (alice.email, "before"),
        (alice.email, "late"),
        (bruno.email, "escalated"),
        (admin.email, "hr"),
    }


@pytest.mark.django_db(transaction=True)
def test_one_reminder_a_person_a_day_across_campaigns(organisation, admin, people, smtp):
    alice = people["alice"]
    first = new_campaign(organisation, admin, name="Annuels")
    second = new_campaign(organisation, admin, name="Professionnels")
    for campaign, collaborator in ((first, people["c1"]), (second, people["c2"])):
        services.interviews_add(
            campaign=campaign,
            by=admin,
            lines=[{"collaborator_email": collaborator.email, "manager_email": alice.email}],
        )
        closing(campaign, collaborator)
    assert sent_on(7, smtp) == [(alice.email, "Rappel")]
    assert StepReminder.objects.count() == 1
    # the other one was not lost: it goes the next day
    assert sent_on(8, smtp) == [(alice.email, "Rappel")]
    assert {body_of(m).split("(")[0].split("de ")[-1].strip() for m in smtp} == {
        "Camille Un",
        "Denis Deux",
    }
    assert sent_on(9, smtp) == []


@pytest.mark.django_db(transaction=True)
def test_rules_switched_off_send_nothing(organisation, admin, people, smtp):
    campaign = new_campaign(organisation, admin)
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": people["c1"].email, "manager_email": people["alice"].email}],
    )
    closing(campaign, people["c1"])
    client = signed_in(admin)
    url = reverse("campaigns:remind-rules", args=[campaign.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"before": "7, 2", "every_after": "7"})  # « activées » unticked
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.reminder_rules["enabled"] is False
    assert AuditEntry.objects.filter(action="campaign.reminder_rules_changed").exists()
    for n in (7, 12, 21, 28):
        assert sent_on(n, smtp) == []


def test_rules_form_checks_its_input_and_is_for_admins(campaign, admin, people):
    client = signed_in(admin)
    url = reverse("campaigns:remind-rules", args=[campaign.pk])
    for bad in ({"before": "sept"}, {"before": "90"}, {"every_after": "0"}, {"hr_after": "x"}):
        response = client.post(url, {"enabled": "on", **bad})
        assert response.status_code == 400, bad
        assert 'role="alert"' in response.content.decode()
    response = client.post(
        url, {"enabled": "on", "before": "10; 3", "every_after": "", "escalate_after": "5"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.reminder_rules == {
        "enabled": True,
        "before": [10, 3],
        "every_after": None,
        "escalate_after": 5,
        "hr_after": None,
    }
    assert signed_in(people["alice"]).get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_day_is_the_recipients(organisation, admin, people, smtp):
    """Montréal's evening is already Paris's next day: the milestone waits for her day."""
    alice = people["alice"]
    alice.timezone = "America/Montreal"
    alice.save(update_fields=["timezone"])
    campaign = new_campaign(organisation, admin)
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": people["c1"].email, "manager_email": alice.email}],
    )
    # started at 20:00 in Montréal (01:00 UTC the next day): due on 16 March in Montréal,
    # 17 March in Paris and in UTC; 7 days before is the 9th for her
    closing(campaign, people["c1"], started=dt.datetime(2026, 3, 3, 1, 0, tzinfo=dt.UTC))
    step_reminders.step_reminders_run(now=dt.datetime(2026, 3, 9, 3, 0, tzinfo=dt.UTC))  # her 8th
    assert not StepReminder.objects.exists()
    step_reminders.step_reminders_run(now=dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC))
    assert StepReminder.objects.get().day == dt.date(2026, 3, 9)
    run_tasks()
    assert [to(m) for m in smtp] == [alice.email]


def test_step_reminders_stay_bounded_in_queries(organisation, admin, people):
    campaign = new_campaign(
        organisation, admin, circuit=[{"role": "collaborator", "deadline_days": 14}]
    )
    lines = []
    for i in range(30):
        member = make_member(organisation, f"collab{i}@poitiers.example", first=f"C{i}")
        lines.append({"collaborator_email": member.email, "manager_email": people["alice"].email})
    services.interviews_add(campaign=campaign, by=admin, lines=lines)
    Interview.objects.filter(campaign=campaign).update(
        status=InterviewStatus.CLOSING, step=0, step_started_at=T0
    )
    with CaptureQueriesContext(connection) as queries:
        due = step_reminders.step_reminders_due(now=day(7))
    assert len(due) == 30
    assert len(queries) <= 8


@pytest.mark.django_db(transaction=True)
def test_the_workers_clock_sends_the_staged_reminders(organisation, admin, people, smtp):
    from cohorte.activity.tasks import scheduler_tick

    campaign = new_campaign(organisation, admin)
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": people["c1"].email, "manager_email": people["alice"].email}],
    )
    closing(campaign, people["c1"], started=timezone.now() - dt.timedelta(days=7))
    scheduler_tick.enqueue()
    run_tasks()
    assert [(to(m), subject(m).split(" ")[0]) for m in smtp] == [(people["alice"].email, "Rappel")]
    scheduler_tick.enqueue()  # another tick the same day
    run_tasks()
    assert len(smtp) == 1


@pytest.mark.django_db(transaction=True)
def test_managers_are_reminded_to_plan_and_write_up_before_the_end(
    organisation, admin, people, smtp
):
    alice, bruno = people["alice"], people["bruno"]
    end = timezone.localdate() + dt.timedelta(days=20)
    campaign = services.campaign_create(
        organisation=organisation,
        by=admin,
        name="Fin de période d'essai",
        kind="probation",
        start_date=timezone.localdate() - dt.timedelta(days=10),
        end_date=end,
        circuit=[{"role": "manager", "deadline_days": 14}],
    )
    lines = [("c1", alice), ("c2", alice), ("c3", alice), ("c4", bruno)]
    services.interviews_add(
        campaign=campaign,
        by=admin,
        lines=[{"collaborator_email": people[c].email, "manager_email": m.email} for c, m in lines],
    )
    Interview.objects.filter(collaborator=people["c2"]).update(status=InterviewStatus.HELD)
    Interview.objects.filter(collaborator=people["c3"]).update(
        status=InterviewStatus.PLANNED, scheduled_at=timezone.now() + dt.timedelta(days=3)
    )
    Interview.objects.filter(collaborator=people["c4"]).update(status=InterviewStatus.CLOSED)

    def on(days_from_end):
        before = len(smtp)
        moment = dt.datetime.combine(end, dt.time(11), tzinfo=dt.UTC)
        step_reminders.step_reminders_run(now=moment + dt.timedelta(days=days_from_end))
        run_tasks()
        return smtp[before:]

    assert on(-8) == []
    (message,) = on(-7)
    assert to(message) == alice.email  # Bruno has nothing left to plan or write up
    body = body_of(message)
    assert "Camille Un" in body and "Denis Deux" in body  # to plan, to write up
    assert "Emma" not in body  # planned: nothing to do yet
    assert on(-7) == [] and on(-5) == []
    assert [to(m) for m in on(-2)] == [alice.email]
    assert on(0) == []
    assert [to(m) for m in on(7)] == [alice.email]  # every 7 days after the end
    assert set(StepReminder.objects.values_list("stage", flat=True)) == {"planning"}
