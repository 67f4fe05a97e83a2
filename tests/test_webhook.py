"""The delivery-tracking webhook: closed while no secret is set, credentials checked in
constant time, and every provider's route goes through the same guard."""

import base64
import inspect
import json
import re

import anymail.urls
import pytest
from anymail.webhooks.base import AnymailBasicAuthMixin
from django.test import Client
from django.urls import URLPattern

from cohorte.messaging.models import DeliveryEvent, Email, EmailStatus

pytestmark = pytest.mark.django_db

BOUNCE = {
    "RecordType": "Bounce",
    "Type": "HardBounce",
    "ID": 42,
    "MessageID": "pm-0001",
    "BouncedAt": "2026-11-20T10:00:00Z",
    "Details": "550 mailbox unavailable",
}


@pytest.fixture
def sent(organisation, mentee):
    return Email.objects.create(
        organisation_id=organisation.pk,
        member=mentee,
        to_email=mentee.email,
        subject="Bienvenue",
        body_text="…",
        status=EmailStatus.SENT,
        provider_message_id="pm-0001",
    )


def post(path="/webhooks/anymail/postmark/tracking/", payload=BOUNCE, credentials=None):
    headers = {}
    if credentials is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    return Client().post(
        path, json.dumps(payload), content_type="application/json", headers=headers
    )


def unchanged(email: Email) -> bool:
    email.refresh_from_db()
    return email.status == EmailStatus.SENT and not DeliveryEvent.objects.exists()


@pytest.mark.parametrize("anymail_settings", [{}, {"WEBHOOK_SECRET": ""}, {"WEBHOOK_SECRET": []}])
def test_without_a_secret_the_webhook_refuses_everyone(settings, sent, anymail_settings):
    settings.ANYMAIL = anymail_settings
    for credentials in (None, "anyone:anything", ":"):
        response = post(credentials=credentials)
        assert response.status_code == 403
    assert unchanged(sent)


def test_every_provider_route_is_guarded(settings, sent):
    settings.ANYMAIL = {}
    routes = [p for p in anymail.urls.urlpatterns if isinstance(p, URLPattern)]
    assert routes
    for route in routes:
        concrete = re.sub(r"\([^)]*\)\?", "", str(route.pattern))  # inbound(_mime)? → inbound
        path = "/webhooks/anymail/" + concrete.lstrip("^").rstrip("$")
        assert post(path).status_code == 403, path
    assert unchanged(sent)


def test_a_secret_without_a_password_part_counts_as_none(settings, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "justonepart"}
    assert post(credentials="justonepart").status_code == 403
    assert unchanged(sent)


def test_with_a_secret_only_the_right_credentials_move_the_status(settings, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "hook:s3cret-long-enough"}
    assert post().status_code == 400
    assert post(credentials="hook:s3cret-long-enougx").status_code == 400
    assert post(credentials="hook:").status_code == 400
    assert unchanged(sent)
    assert post(credentials="hook:s3cret-long-enough").status_code == 200
    sent.refresh_from_db()
    assert sent.status == EmailStatus.BOUNCED


def test_anymail_compares_the_credentials_in_constant_time():
    """We rely on anymail's check rather than our own: it uses Django's
    constant_time_compare (hmac.compare_digest). Should an upgrade change that, this fails."""
    source = inspect.getsource(AnymailBasicAuthMixin.validate_request)
    assert "constant_time_compare(" in source and "==" not in source
