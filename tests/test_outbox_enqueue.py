"""A message to thousands of members: written to the outbox in a few queries (never one per
recipient), each body filled for its recipient; the message page then shows the send as it
goes, by polling, until every e-mail has left."""

import pytest

from cohorte.accounts.models import Member
from cohorte.messaging import services
from cohorte.messaging.models import Audience, Email, EmailStatus, Message
from cohorte.programs.models import Enrolment, Role

from .conftest import run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

BODY_FR = '<p>Bonjour {prénom} ({courriel}), <a href="{lien de connexion}">{programme}</a></p>'


def enrol_many(organisation, program, count: int) -> None:
    members = Member.objects.bulk_create(
        Member(
            email=f"m{n}@many.example",
            password="!",
            organisation=organisation,
            first_name="Zoé <b>" if n == 7 else f"Prénom{n}",
            last_name=f"Nom{n}",
            language="en" if n % 3 == 0 else "fr",
        )
        for n in range(count)
    )
    Enrolment.objects.bulk_create(
        Enrolment(program=program, member=member, role=Role.MENTEE) for member in members
    )


def draft_to_all(organisation, program, admin) -> Message:
    return services.message_save(
        organisation_id=organisation.pk,
        program=program,
        draft=services.Draft(
            audience=Audience.ALL,
            subject_fr="Bonjour {prénom}",
            subject_en="Hello {first_name}",
            body_fr=BODY_FR,
            body_en="<p>Hello {first_name}</p>",
        ),
        by=admin,
    )


def test_a_message_to_thousands_is_written_in_a_few_queries(
    organisation, program_b, admin, django_assert_max_num_queries
):
    enrol_many(organisation, program_b, 4500)
    message = draft_to_all(organisation, program_b, admin)
    with django_assert_max_num_queries(30):  # 3 reads and 3 writes of 2,000, and a few more
        assert services.message_send(message=message, by=admin) == 4500
    assert Email.objects.filter(message=message, status=EmailStatus.QUEUED).count() == 4500
    zoe = Email.objects.get(to_email="m7@many.example")
    assert zoe.subject == "Bonjour Zoé <b>" and "Bonjour Zoé &lt;b&gt; (m7@many.example)" in (
        zoe.body_html
    )
    assert "<b>" not in zoe.body_html and "Bonjour Zoé <b> (m7@many.example)" in zoe.body_text
    english = Email.objects.get(to_email="m9@many.example")
    assert english.language == "en" and english.body_html == "<p>Hello Prénom9</p>"
    assert "/connexion/" in Email.objects.get(to_email="m1@many.example").body_html


def test_the_message_page_shows_the_send_until_every_e_mail_has_left(
    organisation, program_b, admin, smtp
):
    enrol_many(organisation, program_b, 30)
    message = draft_to_all(organisation, program_b, admin)
    services.message_send(message=message, by=admin)
    Email.objects.filter(message=message, to_email="m3@many.example").update(
        status=EmailStatus.FAILED
    )
    client = signed_in(admin)
    page = client.get(f"/messages/{message.pk}/").content.decode()
    assert "Envoi : 0 sur 30 partis, 29 en attente, 1 en échec" in page
    assert 'hx-trigger="every 2s"' in page  # it polls while e-mails wait

    run_tasks()
    assert len(smtp) == 29
    partial = client.get(f"/messages/{message.pk}/", headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert "Envoi : 29 sur 30 partis, 0 en attente, 1 en échec" in html and "Terminé" in html
    assert "every 2s" not in html and "<html" not in html  # the section alone, no more polling
