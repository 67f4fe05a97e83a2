"""Community messages and the outbox: composed, previewed, sent or scheduled; one row per
recipient; sent by the real worker to a real SMTP server; never twice."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.core.models import AuditEntry
from cohorte.messaging import services
from cohorte.messaging.models import Email, EmailStatus, Message, MessageStatus
from cohorte.programs.models import Enrolment, Role

from .conftest import body_of, make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mentees(organisation, program_b):
    people = [
        make_member(organisation, "fr.mentee@x.example", first="Fanny", last="Fr", role="mentee"),
        make_member(
            organisation,
            "en.mentee@x.example",
            first="Emma",
            last="En",
            role="mentee",
            language="en",
        ),
    ]
    for person in people:
        Enrolment.objects.create(program=program_b, member=person, role=Role.MENTEE)
    return people


def subject_of(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


def compose(client, **fields):
    data = {
        "audience": "mentees",
        "subject_fr": "Bienvenue {prénom}",
        "subject_en": "Welcome {first_name}",
        "body_fr": "<p>Bonjour <strong>{prénom}</strong> de {programme}</p>",
        "body_en": "<p>Hello <strong>{first_name}</strong> from {program}</p>",
        **fields,
    }
    return client.post("/messages/", data)


def test_compose_preview_send_and_each_recipient_reads_their_language(
    admin, program_b, mentees, mentor, smtp
):
    client = signed_in(admin)
    response = compose(client, program=program_b.pk)
    assert response.status_code == 302, response.content.decode()[-3000:]
    message = Message.objects.get()
    preview = client.get(response["Location"]).content.decode()
    assert "2 destinataires" in preview
    assert "Bonjour <strong>Fanny</strong> de Mentorat B" in preview
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.recipients_count == 2
    assert Email.objects.filter(status=EmailStatus.QUEUED).count() == 2
    run_tasks()
    by_address = {m["X-Envelope-To"]: m for m in smtp}
    assert set(by_address) == {"fr.mentee@x.example", "en.mentee@x.example"}
    assert subject_of(by_address["en.mentee@x.example"]) == "Welcome Emma"
    assert "Hello Emma from Mentorat B" in body_of(by_address["en.mentee@x.example"])
    assert "Bonjour Fanny de Mentorat B" in body_of(by_address["fr.mentee@x.example"])
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert {m["Message-ID"] for m in smtp} == set(
        Email.objects.values_list("message_id_header", flat=True)
    )


def test_the_other_language_is_used_when_ones_own_is_empty(admin, program_b, mentees, smtp):
    client = signed_in(admin)
    compose(client, program=program_b.pk, subject_en="", body_en="")
    message = Message.objects.get()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    run_tasks()
    english = next(m for m in smtp if m["X-Envelope-To"] == "en.mentee@x.example")
    assert subject_of(english) == "Bienvenue Emma"


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"subject_fr": "", "subject_en": ""}, "Le sujet est obligatoire."),
        ({"body_fr": "<p> </p>", "body_en": ""}, "Le message est vide dans les deux langues."),
        ({"body_fr": "Bonjour {prenom}"}, "Balise inconnue : {prenom}"),
        ({"audience": "cohort"}, "Choisissez une cohorte ou une étiquette."),
        ({"audience": "people"}, "Choisissez au moins une personne."),
    ],
)
def test_a_bad_message_is_explained_and_nothing_is_saved(
    admin, program_b, mentees, fields, message
):
    response = compose(signed_in(admin), program=program_b.pk, **fields)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Message.objects.exists()


def test_rich_text_is_sanitised(admin, program_b, mentees):
    compose(
        signed_in(admin),
        program=program_b.pk,
        body_fr='<p onclick="x()">Salut</p><script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a>'
        '<img src="https://img.example/a.png" onerror="x()"><ul><li>un</li></ul>',
    )
    body = Message.objects.get().body_fr
    assert "script" not in body and "onclick" not in body and "javascript" not in body
    assert "onerror" not in body and '<img src="https://img.example/a.png">' in body
    assert "<ul><li>un</li></ul>" in body


def test_scheduled_message_leaves_at_its_time_and_not_before(
    admin, program_b, mentees, smtp, settings
):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    at = timezone.now() + dt.timedelta(hours=2)
    local = timezone.localtime(at, program_b.organisation.tzinfo)
    client.post(
        f"/messages/{message.pk}/envoyer/",
        {"when": "later", "send_at": local.strftime("%Y-%m-%dT%H:%M")},
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED
    assert abs((message.send_at - at).total_seconds()) < 60
    run_tasks()  # the task waits for its time
    assert not Email.objects.exists() and not smtp
    assert services.messages_send_due(now=at - dt.timedelta(minutes=5)) == 0
    assert services.messages_send_due(now=at + dt.timedelta(seconds=60)) == 2
    run_tasks()
    assert len(smtp) == 2
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT


def test_a_revised_queued_message_sends_the_revision(admin, program_b, mentees, smtp):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    at = timezone.now() + dt.timedelta(hours=1)
    services.message_schedule(message=message, send_at=at, by=admin)
    response = compose(client, program=program_b.pk, subject_fr="Nouveau sujet")  # a new one
    assert response.status_code == 302
    client.post(
        f"/messages/{message.pk}/modifier/",
        {
            "program": program_b.pk,
            "audience": "mentees",
            "subject_fr": "Révisé {prénom}",
            "body_fr": "<p>Version 2</p>",
        },
    )
    message.refresh_from_db()
    assert message.subject_fr == "Révisé {prénom}" and message.status == MessageStatus.DRAFT
    services.message_schedule(message=message, send_at=at, by=admin)
    services.messages_send_due(now=at + dt.timedelta(minutes=1))
    run_tasks()
    subjects = sorted(subject_of(m) for m in smtp)
    assert subjects == ["Révisé Emma", "Révisé Fanny"]


def test_a_schedule_in_the_past_is_refused(admin, program_b, mentees):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    past = timezone.localtime(timezone.now() - dt.timedelta(hours=1), program_b.organisation.tzinfo)
    client.post(
        f"/messages/{message.pk}/envoyer/",
        {"when": "later", "send_at": past.strftime("%Y-%m-%dT%H:%M")},
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.DRAFT


def test_sending_twice_never_duplicates(admin, program_b, mentees, smtp):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    run_tasks()
    run_tasks()
    assert Email.objects.count() == 2 and len(smtp) == 2


def test_smtp_down_is_retried_then_sent_once(admin, program_b, mentees, smtp, settings):
    working = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    services.outbox_send()
    rows = list(Email.objects.all())
    assert {r.status for r in rows} == {EmailStatus.QUEUED} and {r.attempts for r in rows} == {1}
    assert all(r.next_attempt_at > timezone.now() for r in rows) and all(r.last_error for r in rows)
    settings.MAILERS = working
    Email.objects.update(next_attempt_at=timezone.now())  # the back-off has passed
    assert services.outbox_send() == 2
    assert len(smtp) == 2 and len({m["Message-ID"] for m in smtp}) == 2
    assert set(Email.objects.values_list("attempts", flat=True)) == {2}
    assert services.outbox_send() == 0


def test_after_the_last_try_it_is_a_failure_with_the_reason(admin, organisation, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2},
        }
    }
    email = services.email_enqueue(
        organisation_id=organisation.pk, member=None, to_email="x@x.example", subject="s", text="t"
    )
    for _ in range(settings.COHORTE_EMAIL_MAX_ATTEMPTS):
        Email.objects.filter(pk=email.pk).update(next_attempt_at=None)
        services.outbox_send()
    email.refresh_from_db()
    assert (
        email.status == EmailStatus.FAILED and email.attempts == settings.COHORTE_EMAIL_MAX_ATTEMPTS
    )
    assert "refused" in email.last_error.lower() or "errno" in email.last_error.lower()


def test_a_worker_that_died_mid_batch_leaves_its_rows_to_another(organisation, smtp):
    email = services.email_enqueue(
        organisation_id=organisation.pk, member=None, to_email="x@x.example", subject="s", text="t"
    )
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.SENDING, claimed_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert services.outbox_send() == 0  # still claimed by the other worker
    Email.objects.filter(pk=email.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.outbox_send() == 1 and len(smtp) == 1


def test_a_manager_reaches_only_their_programmes_members(
    manager_a, program_a, program_b, mentees, mentee
):
    client = signed_in(manager_a)
    response = compose(client, program=program_b.pk, audience="all")
    assert response.status_code == 200 and not Message.objects.exists()  # not their programme
    compose(
        client,
        program=program_a.pk,
        audience="people",
        people=",".join(str(m.pk) for m in mentees + [mentee]),
    )
    message = Message.objects.get()
    assert list(services.audience_members(message)) == [mentee]


def test_queued_message_can_be_deleted_a_sent_one_cannot(admin, program_b, mentees):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    compose(client, program=program_b.pk)
    first, second = Message.objects.order_by("pk")
    services.message_schedule(
        message=first, send_at=timezone.now() + dt.timedelta(hours=1), by=admin
    )
    client.post(f"/messages/{first.pk}/supprimer/")
    assert not Message.objects.filter(pk=first.pk).exists()
    client.post(f"/messages/{second.pk}/envoyer/", {"when": "now"})
    client.post(f"/messages/{second.pk}/supprimer/")
    assert Message.objects.filter(pk=second.pk).exists()
    client.post(f"/messages/{second.pk}/dupliquer/")
    assert Message.objects.filter(status=MessageStatus.DRAFT, subject_fr=second.subject_fr).exists()


def test_the_list_shows_status_audience_and_author(admin, program_b, mentees):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    html = client.get("/messages/").content.decode()
    assert "Messages à votre communauté mentorat" in html
    assert "Envoyé" in html and "Mentorés" in html and "(2)" in html and "Anne Admin" in html


def test_attachments_are_checked_and_sent(admin, program_b, mentees, smtp, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    client = signed_in(admin)
    bad = SimpleUploadedFile("virus.exe", b"MZ\x90\x00", "application/octet-stream")
    response = compose(client, program=program_b.pk, attachments=bad)
    assert (
        "ce type de fichier n&#x27;est pas accepté" in response.content.decode()
        and not Message.objects.exists()
    )
    big = SimpleUploadedFile("gros.pdf", b"%PDF" + b"0" * (5 * 1024 * 1024), "application/pdf")
    assert "dépasse 5 Mo" in compose(client, program=program_b.pk, attachments=big).content.decode()
    good = SimpleUploadedFile("programme.pdf", b"%PDF-1.4 hello", "application/pdf")
    compose(client, program=program_b.pk, attachments=good)
    message = Message.objects.get()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    run_tasks()
    parts = [part.get_filename() for part in smtp[0].walk() if part.get_filename()]
    assert parts == ["programme.pdf"]


def test_people_selected_in_a_table_arrive_as_recipients(admin, program_b, mentees, outsider):
    ids = [m.pk for m in mentees] + [outsider.pk]
    html = (
        signed_in(admin)
        .get("/messages/", {"member": ids, "program": program_b.pk})
        .content.decode()
    )
    # chosen in the people picker, each with name and e-mail (« Nom Prénom — courriel »)
    assert "Fr Fanny — fr.mentee@x.example" in html and "En Emma — en.mentee@x.example" in html
    assert "Olga" not in html
    assert 'value="people" selected' in html


# --- Bounds on send_at and hostile query strings (issue 9) ---------------------------------


@pytest.mark.parametrize("when", ["9999-12-31T10:00", "2999-01-01T10:00", "1900-01-01T10:00"])
def test_a_schedule_out_of_range_is_a_form_error_and_never_stored(admin, program_b, mentees, when):
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    response = client.post(
        f"/messages/{message.pk}/envoyer/", {"when": "later", "send_at": when}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "date hors limites" in html or "déjà passée" in html
    message.refresh_from_db()
    assert message.status == MessageStatus.DRAFT and message.send_at is None


def test_the_service_refuses_a_schedule_years_ahead(admin, program_b, mentees):
    from django.core.exceptions import ValidationError

    compose(signed_in(admin), program=program_b.pk)
    message = Message.objects.get()
    with pytest.raises(ValidationError) as refused:
        services.message_schedule(
            message=message, send_at=timezone.now() + dt.timedelta(days=365 * 20), by=admin
        )
    assert "send_at" in refused.value.message_dict
    message.refresh_from_db()
    assert message.send_at is None and message.status == MessageStatus.DRAFT


def test_pages_survive_a_send_at_in_9999_already_stored(admin, program_b, mentees):
    """Stored before the bounds existed (inserted directly): the pages still open."""
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.QUEUED, send_at=dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)
    )
    listing = client.get("/messages/")
    assert listing.status_code == 200 and "Bienvenue {prénom}" in listing.content.decode()
    assert client.get(f"/messages/{message.pk}/").status_code == 200
    assert client.get(f"/messages/{message.pk}/modifier/").status_code == 200
    Email.objects.create(
        organisation_id=admin.organisation_id,
        to_email="x@x.example",
        subject="Lointain",
        body_text="…",
        status=EmailStatus.OPENED,
        sent_at=dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC),
        opened_at=dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
    )
    log = client.get("/messages/registre/")
    assert log.status_code == 200 and "Lointain" in log.content.decode()
    csv = client.get("/messages/registre.csv")
    assert csv.status_code == 200 and "Lointain" in b"".join(csv.streaming_content).decode()


@pytest.mark.parametrize(
    "query",
    [
        {"people": "²"},
        {"people": "1,²,3"},
        {"member": "99999999999999999999"},
        {"member": "<script>alert(1)</script>"},
        {"people": "9223372036854775808"},
        {"member": "1", "program": "²"},
        {"member": "1", "program": "99999999999999999999"},
    ],
)
def test_hostile_query_strings_on_compose_are_no_server_error(admin, program_b, query):
    response = signed_in(admin).get("/messages/", query)
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.content.decode()


@pytest.mark.parametrize("people", ["²", "99999999999999999999", "1,<b>", "-1"])
def test_hostile_people_posted_are_a_form_error(admin, program_b, mentees, people):
    response = compose(signed_in(admin), program=program_b.pk, audience="people", people=people)
    assert response.status_code == 200
    assert "identifiant invalide" in response.content.decode()
    assert not Message.objects.exists()


def test_a_send_above_the_inline_limit_is_written_by_the_worker_and_shown_meanwhile(
    admin, program_b, mentees, smtp, settings
):
    """« Envoyer » to more people than COHORTE_SEND_INLINE_MAX: the request only queues it,
    the page says it is being prepared (and offers no second « Envoyer »), then the worker
    writes and sends every e-mail once; the polling page is told to reload when it is sent."""
    settings.COHORTE_SEND_INLINE_MAX = 1
    client = signed_in(admin)
    compose(client, program=program_b.pk)
    message = Message.objects.get()
    response = client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})
    assert response["Location"] == f"/messages/{message.pk}/"
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and not Email.objects.exists()
    page = client.get(response["Location"], follow=True).content.decode()
    assert "Envoi à 2 personnes en préparation" in page
    assert "en cours de préparation" in page and 'value="now"' not in page
    poll = client.get(f"/messages/{message.pk}/?preparing=1", headers={"HX-Request": "true"})
    assert "en cours de préparation" in poll.content.decode()
    client.post(f"/messages/{message.pk}/envoyer/", {"when": "now"})  # a second click
    run_tasks()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.recipients_count == 2
    assert len(smtp) == 2 and Email.objects.count() == 2
    poll = client.get(f"/messages/{message.pk}/?preparing=1", headers={"HX-Request": "true"})
    assert poll["HX-Refresh"] == "true"
    assert AuditEntry.objects.filter(action="message.send_started", actor=admin).exists()
