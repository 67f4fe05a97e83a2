"""Every address is built by the standard library: names with a period, a comma, quotes or
accents, and people without a name at all, all receive their e-mail through the real
outbox and a real SMTP server, with the To header they should have."""

from email.header import decode_header, make_header
from email.utils import getaddresses

import pytest
from django.core.management import call_command

from cohorte.accounts.models import Member
from cohorte.messaging import addresses, services
from cohorte.messaging.models import Email, EmailStatus, Message
from cohorte.programs.models import Enrolment, Organisation, Role

from .conftest import make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = [
    ("Marc", "St. Martin"),
    ("J.", "Smith"),
    ("John", "Smith, Jr"),
    ('Jo "le grand"', "Dupont"),
    ("Élodie", "Ñúñez"),
    ("", ""),
]


def to_header(message) -> list[tuple[str, str]]:
    """The To header as a reader's mail program shows it: (name, address) pairs."""
    raw = str(make_header(decode_header(message["To"])))
    return getaddresses([raw])


@pytest.fixture
def people(organisation, program_b):
    members = []
    for n, (first, last) in enumerate(NAMES):
        member = make_member(organisation, f"person{n}@x.example", first=first, last=last)
        Enrolment.objects.create(program=program_b, member=member, role=Role.MENTEE)
        members.append(member)
    return members


def test_every_name_reaches_its_person_with_the_right_to_header(admin, program_b, people, smtp):
    client = signed_in(admin)
    response = client.post(
        "/messages/",
        {
            "program": program_b.pk,
            "audience": "mentees",
            "subject_fr": "Bonjour {prénom}",
            "body_fr": "<p>Bonjour {nom complet}</p>",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    client.post(f"/messages/{Message.objects.get().pk}/envoyer/", {"when": "now"})
    run_tasks()
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}, list(
        Email.objects.values_list("to_email", "last_error")
    )
    received = {m["X-Envelope-To"]: m for m in smtp}
    assert len(received) == len(NAMES)
    for member, (first, last) in zip(people, NAMES, strict=True):
        expected_name = f"{first} {last}".strip()
        assert to_header(received[member.email]) == [(expected_name, member.email)]
    # no name at all: the bare address, not « a@b <a@b> »
    assert received["person5@x.example"]["To"] == "person5@x.example"


def test_a_row_whose_name_is_its_address_still_leaves(organisation, smtp):
    """Rows written before the fix kept the e-mail as the name: they are sent bare."""
    Email.objects.create(
        organisation_id=organisation.pk,
        to_email="old@x.example",
        to_name="old@x.example",
        subject="Ancien",
        body_text="…",
    )
    services.outbox_kick()
    run_tasks()
    assert Email.objects.get().status == EmailStatus.SENT
    assert smtp[0]["To"] == "old@x.example"


def test_the_sender_name_may_hold_a_period(organisation, smtp, settings):
    settings.DEFAULT_FROM_EMAIL = "Lycées St. Martin <noreply@x.example>"
    services.email_enqueue(
        organisation_id=organisation.pk, member=None, to_email="a@x.example", subject="s", text="t"
    )
    run_tasks()
    assert Email.objects.get().status == EmailStatus.SENT
    sender = getaddresses([str(make_header(decode_header(smtp[0]["From"])))])
    assert sender == [("Lycées St. Martin", "noreply@x.example")]


def test_the_first_administrator_from_create_org_receives_messages(smtp):
    call_command(
        "create_org",
        "Collège St. Exupéry",
        admin_email="premier.admin@x.example",
        admin_password="a long enough password",
    )
    organisation = Organisation.objects.get(name="Collège St. Exupéry")
    admin = Member.objects.get(email="premier.admin@x.example")
    assert admin.first_name == "" and admin.full_name == admin.email  # no name yet
    message = services.message_save(
        organisation_id=organisation.pk,
        program=None,
        draft=services.Draft(
            audience="all", subject_fr="Bienvenue", subject_en="", body_fr="<p>Hi</p>", body_en=""
        ),
        by=admin,
    )
    assert services.message_send(message=message, by=admin) == 1
    run_tasks()
    assert Email.objects.get().status == EmailStatus.SENT
    assert smtp[0]["To"] == "premier.admin@x.example"


def test_members_imported_with_only_an_email_receive_their_invitation(admin, smtp):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cohorte.core.models import Job

    client = signed_in(admin)
    csv = b"Email\nseule.adresse@x.example\nautre.adresse@x.example\n"
    response = client.post("/membres/importer/", {"file": SimpleUploadedFile("m.csv", csv)})
    assert response.status_code == 302, response.content.decode()[-2000:]
    mapping_url = response["Location"]
    columns = client.get(mapping_url).context["columns"]
    data = {f"col_{index}": target for index, _name, target, _samples in columns}
    assert client.post(mapping_url, {**data, "go": "1", "invite": "1"}).status_code == 302
    run_tasks()  # the import, then the outbox it filled
    assert Job.objects.get(kind="members_import").status == "done"
    assert Member.objects.get(email="seule.adresse@x.example").full_name == (
        "seule.adresse@x.example"
    )
    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    assert sorted(m["To"] for m in smtp) == ["autre.adresse@x.example", "seule.adresse@x.example"]


@pytest.mark.parametrize(
    "name, email, expected",
    [
        ("", "a@x.example", "a@x.example"),
        ("a@x.example", "a@x.example", "a@x.example"),
        ("Marc St. Martin", "m@x.example", '"Marc St. Martin" <m@x.example>'),
        ("Smith, John", "s@x.example", '"Smith, John" <s@x.example>'),
        ("Line\r\nBcc: evil@x.example", "l@x.example", '"Line Bcc: evil@x.example" <l@x.example>'),
    ],
)
def test_mail_address(name, email, expected):
    assert addresses.mail_address(email, name) == expected
