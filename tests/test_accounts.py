import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.utils import timezone

from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.programs.models import Organisation

from .conftest import PASSWORD, Api, body_of, make_member, signed_in


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email, password=PASSWORD):
    return client.post("/compte/connexion/", {"username": email, "password": password})


def test_sign_in_records_event_and_last_access(client, manager_a, program_a):
    response = sign_in(client, "Manon.A@poitiers.example")
    assert response.status_code == 302
    manager_a.refresh_from_db()
    assert manager_a.last_access is not None
    event = ActivityEvent.objects.get(actor=manager_a)
    assert event.kind == EventKind.SIGN_IN and event.program is None


def test_sign_in_updates_participants_last_access_in_table(client, mentee, program_a, manager_a):
    sign_in(client, mentee.email)
    row = signed_in(manager_a).get(f"/api/programs/{program_a.pk}/participants").json()
    assert row["results"][0]["last_access"] is not None


def test_wrong_password_is_refused_without_saying_which(client, manager_a):
    response = sign_in(client, manager_a.email, "wrong")
    assert "Courriel ou mot de passe incorrect." in response.content.decode()


def test_deactivated_member_reads_whom_to_write_to(client, admin, manager_a):
    manager_a.is_active = False
    manager_a.save()
    page = sign_in(client, manager_a.email).content.decode()
    assert (
        "Votre compte a été désactivé. Veuillez envoyer un courriel à admin@poitiers.example "
        "pour réactiver votre compte." in page
    )
    assert "_auth_user_id" not in client.session


def test_deactivated_member_reads_it_in_the_language_of_the_page(client, admin, manager_b):
    manager_b.is_active = False  # Bob reads English, the sign-in page is shown in French
    manager_b.save()
    page = sign_in(client, manager_b.email).content.decode()
    assert "Votre compte a été désactivé." in page and "Your account" not in page
    english = client.post(
        "/compte/connexion/",
        {"username": manager_b.email, "password": PASSWORD},
        headers={"Accept-Language": "en"},
    ).content.decode()
    assert (
        "Your account has been deactivated. Please send an e-mail to admin@poitiers.example "
        "to reactivate your account." in english
    )


def test_an_archived_member_reads_archived_not_deactivated(client, admin, manager_a):
    manager_a.archived_at = timezone.now()
    manager_a.save()
    page = sign_in(client, manager_a.email).content.decode()
    assert "Votre compte a été archivé." in page and "désactivé" not in page
    assert "_auth_user_id" not in client.session


def test_deactivated_message_needs_the_right_password(client, admin, manager_a):
    manager_a.is_active = False
    manager_a.save()
    page = sign_in(client, manager_a.email, "guess").content.decode()
    assert "désactivé" not in page


def test_repeated_failures_are_throttled(client, manager_a, settings):
    settings.COHORTE_LOGIN_ATTEMPTS = 3
    for _ in range(3):
        sign_in(client, manager_a.email, "wrong")
    page = sign_in(client, manager_a.email).content.decode()
    assert "Trop de tentatives" in page


def test_sign_out(manager_a):
    client = signed_in(manager_a)
    assert client.post("/compte/deconnexion/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_reset_by_email(client, smtp, manager_b):
    response = client.post("/compte/mot-de-passe/", {"email": manager_b.email})
    assert response.status_code == 302
    assert len(smtp) == 1
    message = smtp[0]
    assert message["To"] == manager_b.email
    body = body_of(message)
    assert "Hello Bob" in body  # in the member's own language
    link = re.search(r"http://testserver(/compte/mot-de-passe/\S+/)", body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert done.status_code == 302
    assert sign_in(client, manager_b.email, "a new long passphrase 42").status_code == 302


def test_language_switch_is_kept_on_the_account(manager_a, program_a):
    client = signed_in(manager_a)
    assert (
        "Activité des participants" in client.get(f"/programmes/{program_a.pk}/").content.decode()
    )
    client.post("/compte/langue/", {"language": "en", "next": f"/programmes/{program_a.pk}/"})
    manager_a.refresh_from_db()
    assert manager_a.language == "en"
    page = client.get(f"/programmes/{program_a.pk}/").content.decode()
    assert "Participants' activity" in page
    assert '<html lang="en">' in page


def test_language_switch_refuses_foreign_redirects(manager_a):
    response = signed_in(manager_a).post(
        "/compte/langue/", {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_create_org_and_issue_token_commands(db):
    from io import StringIO

    from django.core.management import call_command

    call_command(
        "create_org",
        "Acme",
        "--admin-email",
        "boss@acme.example",
        "--admin-password",
        "pw-123456",
        "--timezone",
        "America/Toronto",
        stdout=StringIO(),
    )
    organisation = Organisation.objects.get(name="Acme")
    assert organisation.timezone == "America/Toronto"
    out = StringIO()
    call_command("issue_token", "boss@acme.example", stdout=out)
    token = out.getvalue().strip()
    assert re.fullmatch(r"[A-Za-z0-9_\-]{40,}", token)


def test_each_member_has_a_language(organisation):
    member = make_member(organisation, "x@poitiers.example")
    assert member.language == "fr"


# --- issue 9: password reset is throttled, never tells who exists, invites the never-set


RESET = "/compte/mot-de-passe/"


def test_reset_answers_the_same_whoever_asks(client, smtp, manager_b, admin):
    archived = make_member(admin.organisation, "gone@x.example")
    archived.archived_at = archived.date_joined
    archived.save()
    answers = [
        client.post(RESET, {"email": email})
        for email in (manager_b.email, "nobody@nowhere.example", archived.email)
    ]
    assert {(r.status_code, r["Location"]) for r in answers} == {
        (302, "/compte/mot-de-passe/envoye/")
    }
    assert [m["X-Envelope-To"] for m in smtp] == [manager_b.email]


def test_reset_is_throttled_per_address(client, smtp, manager_b, settings):
    settings.COHORTE_RESET_PER_ADDRESS = 2
    for _ in range(4):
        response = client.post(RESET, {"email": manager_b.email.upper()})
        assert response.status_code == 302
        assert response["Location"] == "/compte/mot-de-passe/envoye/"
    assert len(smtp) == 2
    cache.clear()
    client.post(RESET, {"email": manager_b.email})
    assert len(smtp) == 3


def test_reset_is_throttled_per_ip(client, smtp, organisation, settings):
    settings.COHORTE_RESET_PER_IP = 3
    people = [make_member(organisation, f"p{i}@x.example") for i in range(5)]
    for person in people:
        assert client.post(RESET, {"email": person.email}).status_code == 302
    assert len(smtp) == 3
    other_ip = client.post(RESET, {"email": people[4].email}, REMOTE_ADDR="10.0.0.9")
    assert other_ip.status_code == 302
    assert len(smtp) == 4


def test_a_member_who_never_set_a_password_gets_the_invitation(client, smtp, organisation):
    from cohorte.messaging.models import Email

    imported = make_member(organisation, "imported@x.example", first="Ines")
    imported.set_unusable_password()
    imported.save()
    response = client.post(RESET, {"email": imported.email})
    assert response.status_code == 302 and response["Location"] == "/compte/mot-de-passe/envoye/"
    assert smtp == []  # not the reset mail: the invitation, through the outbox
    invitation = Email.objects.get(member=imported)
    assert "/compte/mot-de-passe/" in invitation.body_text
    link = re.search(r"https?://[^/\s]+(/compte/mot-de-passe/\S+/)", invitation.body_text)
    form = client.get(link.group(1), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a new long passphrase 42", "new_password2": "a new long passphrase 42"},
    )
    assert done.status_code == 302
    assert sign_in(client, imported.email, "a new long passphrase 42").status_code == 302


def test_a_deactivated_member_who_never_set_a_password_gets_nothing(client, smtp, organisation):
    from cohorte.messaging.models import Email

    member = make_member(organisation, "off@x.example", is_active=False)
    member.set_unusable_password()
    member.save()
    client.post(RESET, {"email": member.email})
    assert smtp == [] and not Email.objects.exists()


def test_one_last_access_for_the_members_list_and_the_activity_table(
    admin, mentee, program_a, manager_a
):
    """« Dernière session » (members list) and « Dernier accès » (activity table) read the
    same rule: a sign-in or a course access, on the platform or reported through the API."""
    when = timezone.now() - dt.timedelta(hours=3)
    answer = Api(manager_a).post(
        f"/api/programs/{program_a.pk}/events",
        [{"email": mentee.email, "kind": "course_access", "occurred_at": when.isoformat()}],
    )
    assert answer.status_code == 200, answer.content
    row = Api(manager_a).get(f"/api/programs/{program_a.pk}/participants").json()["results"][0]
    member = next(
        m
        for m in Api(admin).get("/api/members", q=mentee.email).json()["results"]
        if m["email"] == mentee.email
    )
    assert row["last_access"] is not None
    assert dt.datetime.fromisoformat(row["last_access"]) == dt.datetime.fromisoformat(
        member["last_access"]
    )
