"""The e-mail log says how many e-mails match its filters — exactly up to 10,000, « plus de
10 000 » beyond, so a log of millions is never counted whole — and its CSV writes dates in
the organisation's time zone."""

import datetime as dt

from django.utils import timezone

from cohorte.messaging.models import Email, EmailStatus
from cohorte.messaging.selectors import LOG_COUNT_CAP, email_log, email_log_count

from .conftest import signed_in
from .test_email_log import log, logged  # noqa: F401 — the fixture and its helper


def test_the_page_says_how_many_emails_match(admin, log, mentee):  # noqa: F811
    client = signed_in(admin)
    assert "4 courriels correspondent à ces critères." in client.get(
        "/messages/registre/"
    ).content.decode("utf-8")
    html = client.get("/messages/registre/", {"member": mentee.pk, "status": "opened"})
    assert "1 courriel correspond à ces critères." in html.content.decode()
    html = client.get("/messages/registre/", {"status": ["bounced", "opened"]})
    assert "2 courriels correspondent" in html.content.decode()


def test_a_bad_filter_shows_no_count(admin, log):  # noqa: F811
    response = signed_in(admin).get("/messages/registre/", {"start": "pas une date"})
    assert response.status_code == 400
    assert "data-matching" not in response.content.decode()


def test_beyond_the_cap_the_count_says_more_than(admin, organisation, mentee):
    Email.objects.bulk_create(
        Email(
            organisation_id=organisation.pk,
            member=mentee,
            to_email=mentee.email,
            subject=f"Lettre {n}",
            body_text="…",
            status=EmailStatus.SENT,
            message_id_header=f"<cap-{n}@x>",
        )
        for n in range(12)
    )
    rows = email_log(user=admin)
    assert email_log_count(rows, cap=12) == (12, False)
    assert email_log_count(rows, cap=11) == (11, True)
    assert email_log_count(rows, statuses=["bounced"], cap=11) == (0, False)
    assert LOG_COUNT_CAP == 10_000


def test_more_than_ten_thousand_is_said_so(admin, organisation, mentee):
    Email.objects.bulk_create(
        (
            Email(
                organisation_id=organisation.pk,
                member=mentee,
                to_email=mentee.email,
                subject="Lettre",
                body_text="…",
                status=EmailStatus.SENT,
                message_id_header=f"<many-{n}@x>",
            )
            for n in range(LOG_COUNT_CAP + 1)
        ),
        batch_size=2000,
    )
    html = signed_in(admin).get("/messages/registre/").content.decode()
    assert "Plus de 10\xa0000 courriels correspondent à ces critères." in html


def test_csv_dates_are_in_the_organisation_time_zone(admin, organisation, mentee):
    organisation.timezone = "America/Montreal"
    organisation.save()
    sent = dt.datetime(2026, 1, 15, 3, 7, tzinfo=dt.UTC)  # 22:07 the day before in Montréal
    email = logged(organisation, mentee, "Fuseau", status=EmailStatus.OPENED, sent_at=sent)
    Email.objects.filter(pk=email.pk).update(opened_at=sent + dt.timedelta(hours=2))
    start = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    response = signed_in(admin).get("/messages/registre.csv", {"start": start})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    line = next(line for line in text.splitlines() if "Fuseau" in line)
    assert "2026-01-14 22:07" in line and "2026-01-15 00:07" in line
