"""The e-mail log: what reached whom, filtered, paginated by keyset, downloadable; delivery
statuses from the provider's webhook (once each, never backwards) and the open pixel."""

import base64
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.messaging import services
from cohorte.messaging.models import DeliveryEvent, Email, EmailStatus

from .conftest import make_member, signed_in


def logged(organisation, member, subject, *, days_ago=0, status=EmailStatus.SENT, **extra):
    email = Email.objects.create(
        organisation_id=organisation.pk,
        member=member,
        to_email=member.email,
        to_name=member.full_name,
        subject=subject,
        body_text="…",
        status=status,
        **extra,
    )
    Email.objects.filter(pk=email.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    email.refresh_from_db()
    return email


@pytest.fixture
def log(organisation, mentee, mentor):
    return [
        logged(
            organisation,
            mentee,
            "Invitation à une réunion",
            days_ago=1,
            status=EmailStatus.DELIVERED,
        ),
        logged(
            organisation,
            mentee,
            "How was your meeting?",
            days_ago=2,
            status=EmailStatus.OPENED,
            opened_at=timezone.now() - dt.timedelta(days=1),
        ),
        logged(
            organisation,
            mentor,
            "Relance",
            days_ago=3,
            status=EmailStatus.BOUNCED,
            last_error="550 no such user",
        ),
        logged(organisation, mentor, "Ancien", days_ago=40),
    ]


def subjects(response):
    html = response.content.decode()
    return [
        s
        for s in ("Invitation à une réunion", "How was your meeting?", "Relance", "Ancien")
        if s in html
    ]


def test_filters_by_member_status_and_dates(admin, log, mentee, mentor):
    client = signed_in(admin)
    assert subjects(client.get("/messages/registre/")) == [
        "Invitation à une réunion",
        "How was your meeting?",
        "Relance",
        "Ancien",
    ]
    assert subjects(client.get("/messages/registre/", {"member": mentee.pk})) == [
        "Invitation à une réunion",
        "How was your meeting?",
    ]
    assert subjects(client.get("/messages/registre/", {"status": ["bounced", "opened"]})) == [
        "How was your meeting?",
        "Relance",
    ]
    start = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    assert "Ancien" not in subjects(client.get("/messages/registre/", {"start": start}))
    html = client.get("/messages/registre/", {"member": mentee.pk}).content.decode()
    assert "Ouvert" in html and "Léa Mentee" in html


def test_keyset_pages_do_not_skip_or_repeat(admin, organisation, mentee):
    for n in range(120):
        logged(organisation, mentee, f"Message {n:03d}")
    Email.objects.update(created_at=timezone.now())  # many share the same instant
    client = signed_in(admin)
    seen, after = [], ""
    while True:
        response = client.get("/messages/registre/", {"after": after} if after else {})
        rows = response.context["rows"]
        seen += [row.pk for row in rows]
        after = response.context["next_cursor"]
        if not after:
            break
    assert len(seen) == 120 and len(set(seen)) == 120


def test_csv_download_follows_the_filters(admin, log, mentor):
    response = signed_in(admin).get(
        "/messages/registre.csv", {"member": mentor.pk, "status": "bounced"}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Relance" in text and "550 no such user" in text and "Invitation" not in text


def test_a_manager_sees_only_their_programmes_members(manager_b, log, mentor, mentee):
    html = signed_in(manager_b).get("/messages/registre/").content.decode()
    assert "Relance" in html and "How was your meeting?" not in html


def test_other_organisations_logs_are_invisible(outsider, log):
    other_admin = make_member(outsider.organisation, "boss@ailleurs.example", is_org_admin=True)
    assert subjects(signed_in(other_admin).get("/messages/registre/")) == []


# --- delivery statuses -----------------------------------------------------------------------


@pytest.fixture
def webhook(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret"}
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()

    def post(payload, authorization=auth):
        return Client().post(
            "/webhooks/anymail/postmark/tracking/",
            json.dumps(payload),
            content_type="application/json",
            headers={"Authorization": authorization} if authorization else {},
        )

    return post


@pytest.fixture
def sent(organisation, mentee):
    return logged(organisation, mentee, "Bienvenue", provider_message_id="pm-0001")


@pytest.mark.parametrize(
    "payload, status",
    [
        ({"RecordType": "Delivery", "DeliveredAt": "2026-11-20T10:00:00Z"}, EmailStatus.DELIVERED),
        (
            {"RecordType": "Open", "ReceivedAt": "2026-11-20T11:00:00Z", "FirstOpen": True},
            EmailStatus.OPENED,
        ),
        (
            {
                "RecordType": "Bounce",
                "Type": "HardBounce",
                "ID": 42,
                "BouncedAt": "2026-11-20T10:00:00Z",
                "Details": "550 mailbox unavailable",
            },
            EmailStatus.BOUNCED,
        ),
        (
            {
                "RecordType": "Bounce",
                "Type": "Transient",
                "ID": 43,
                "BouncedAt": "2026-11-20T10:00:00Z",
            },
            EmailStatus.DEFERRED,
        ),
        (
            {
                "RecordType": "SpamComplaint",
                "Type": "SpamComplaint",
                "ID": 44,
                "BouncedAt": "2026-11-20T10:00:00Z",
            },
            EmailStatus.COMPLAINED,
        ),
    ],
)
def test_each_provider_event_moves_the_status(webhook, sent, payload, status):
    response = webhook(
        {"MessageID": "pm-0001", "Recipient": sent.to_email, "Email": sent.to_email, **payload}
    )
    assert response.status_code == 200
    sent.refresh_from_db()
    assert sent.status == status
    if status == EmailStatus.OPENED:
        assert sent.opened_at == dt.datetime(2026, 11, 20, 11, 0, tzinfo=dt.UTC)
    if status == EmailStatus.BOUNCED:
        assert sent.last_error == "550 mailbox unavailable"


def test_a_status_never_moves_backwards_and_an_event_counts_once(webhook, sent):
    webhook({"RecordType": "Open", "MessageID": "pm-0001", "ReceivedAt": "2026-11-20T11:00:00Z"})
    webhook(
        {"RecordType": "Delivery", "MessageID": "pm-0001", "DeliveredAt": "2026-11-20T10:00:00Z"}
    )
    sent.refresh_from_db()
    assert sent.status == EmailStatus.OPENED and sent.delivered_at is not None
    for _ in range(3):
        webhook(
            {
                "RecordType": "Delivery",
                "MessageID": "pm-0001",
                "DeliveredAt": "2026-11-20T10:00:00Z",
            }
        )
    assert DeliveryEvent.objects.count() == 2


def test_a_forged_webhook_is_refused(webhook, sent):
    forged = "Basic " + base64.b64encode(b"hook:guess").decode()
    assert (
        webhook(
            {"RecordType": "Delivery", "MessageID": "pm-0001"}, authorization=forged
        ).status_code
        == 400
    )
    assert (
        webhook({"RecordType": "Delivery", "MessageID": "pm-0001"}, authorization=None).status_code
        == 400
    )
    sent.refresh_from_db()
    assert sent.status == EmailStatus.SENT


def test_a_bounced_address_shows_in_the_log(admin, webhook, sent):
    webhook(
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "ID": 7,
            "MessageID": "pm-0001",
            "BouncedAt": "2026-11-20T10:00:00Z",
            "Details": "550 unknown user",
        }
    )
    html = signed_in(admin).get("/messages/registre/", {"status": "bounced"}).content.decode()
    assert "Retourné" in html and "550 unknown user" in html and sent.to_email in html


def test_the_open_pixel_marks_opened_once_and_a_tampered_one_does_nothing(sent):
    from django.core import signing

    token = signing.dumps(sent.pk, salt="email-open")
    assert Client().get(f"/m/o/{token}.gif")["Content-Type"] == "image/gif"
    sent.refresh_from_db()
    first = sent.opened_at
    assert sent.status == EmailStatus.OPENED and first is not None
    Client().get(f"/m/o/{token}.gif")
    sent.refresh_from_db()
    assert sent.opened_at == first
    other = Email.objects.create(
        organisation_id=sent.organisation_id,
        to_email="x@x.example",
        subject="s",
        body_text="t",
        status=EmailStatus.SENT,
    )
    assert Client().get(f"/m/o/{token[:-2]}xx.gif").status_code == 200
    other.refresh_from_db()
    assert other.status == EmailStatus.SENT


def test_retention_deletes_old_rows_in_batches(organisation, mentee, settings):
    settings.COHORTE_EMAIL_RETENTION_MONTHS = 1
    old = [logged(organisation, mentee, f"vieux {n}", days_ago=45) for n in range(7)]
    recent = logged(organisation, mentee, "récent", days_ago=3)
    assert services.emails_purge(batch=3) == 7
    assert list(Email.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Email.objects.filter(pk__in=[e.pk for e in old]).exists()


def test_several_statuses_page_without_skipping_or_repeating(admin, organisation, mentee):
    statuses = [EmailStatus.OPENED, EmailStatus.BOUNCED, EmailStatus.DELIVERED]
    for n in range(150):
        logged(organisation, mentee, f"M{n}", days_ago=n % 7, status=statuses[n % 3])
    client = signed_in(admin)
    seen, after = [], ""
    while True:
        params = {"status": ["opened", "bounced"], **({"after": after} if after else {})}
        response = client.get("/messages/registre/", params)
        seen += [(row.created_at, row.pk, row.status) for row in response.context["rows"]]
        after = response.context["next_cursor"]
        if not after:
            break
    assert len(seen) == 100 and len({pk for _, pk, _ in seen}) == 100
    assert {status for *_, status in seen} == {"opened", "bounced"}
    assert seen == sorted(seen, key=lambda row: (row[0], row[1]), reverse=True)


# --- hostile filters (issue 9): a message on the page, never a server error ---------------------


@pytest.mark.parametrize(
    "query, reason",
    [
        ({"member": "²"}, "identifiant invalide"),
        ({"member": "99999999999999999999"}, "identifiant invalide"),
        ({"member": "<b>x</b>"}, "identifiant invalide"),
        ({"start": "9999-12-31"}, "date hors limites"),
        ({"end": "9999-12-31"}, "date hors limites"),
        ({"start": "0001-01-01"}, "date hors limites"),
        ({"start": "²⁰²⁶-01-01"}, "date attendue"),
        ({"end": "<script>alert(1)</script>"}, "date attendue"),
        ({"status": "nope"}, "Sélectionnez un choix valide"),
        ({"message": "²"}, "identifiant invalide"),
        ({"message": "99999999999999999999"}, "identifiant invalide"),
        ({"after": "x"}, "Lien de page invalide"),
        ({"after": "9999-12-31T00:00:00+00:00_1"}, "Lien de page invalide"),
        ({"after": "2026-01-01T00:00:00+00:00_99999999999999999999"}, "Lien de page invalide"),
        ({"after": "2026-01-01T00:00:00+00:00_²"}, "Lien de page invalide"),
        ({"after": "2026-01-01T00:00:00_5"}, "Lien de page invalide"),  # no offset
    ],
)
def test_hostile_filters_are_explained_not_a_server_error(admin, log, query, reason):
    client = signed_in(admin)
    response = client.get("/messages/registre/", query)
    assert response.status_code == 400
    html = response.content.decode()
    assert reason in html and "<script>alert(1)" not in html and "<b>x</b>" not in html
    assert response.context["rows"] == []
    csv = client.get("/messages/registre.csv", query)
    assert csv.status_code == 400 and reason in csv.content.decode()
