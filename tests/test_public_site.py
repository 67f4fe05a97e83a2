"""The programme's public site and « Rejoindre le programme »: visible once published,
double opt-in through a real SMTP server, the manager's approval in bulk, abuse refused."""

import re
import time
from urllib.parse import urlparse

import pytest

from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.models import AuditEntry
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Program, Role
from cohorte.signup import antiabuse
from cohorte.signup.models import Application, ApplicationStatus, SignupSettings

from .conftest import body_of, run_tasks, running_program, signed_in

pytestmark = pytest.mark.django_db(transaction=True)


def publish(program: Program, **brand) -> Program:
    for key, value in brand.items():
        setattr(program, key, value)
    program.site_published = True
    program.save()
    return program


def site_url(program: Program, suffix: str = "") -> str:
    from django.utils.text import slugify

    return f"/p/{program.pk}-{slugify(program.name)}/{suffix}"


def form_data(program: Program, **fields) -> dict:
    """What a person sends after taking their time with the form."""
    return {
        "first_name": "Chloé",
        "last_name": "Candidate",
        "email": "chloe@example.org",
        "language": "fr",
        "role": "participant",
        "started": antiabuse.form_token(program.pk, issued_at=time.time() - 30),
        "website": "",
        **fields,
    }


def apply(client, program: Program, **fields):
    return client.post(site_url(program, "rejoindre/"), form_data(program, **fields))


def confirmation_path(message) -> str:
    link = re.search(r"https?://\S+/confirmer/\S+/", body_of(message)).group(0)
    return urlparse(link).path


def subject_of(message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(message["Subject"])))


# --- Visibility --------------------------------------------------------------------------


def test_unpublished_site_is_not_found_for_visitors_and_previewed_by_its_manager(
    client, program_a, manager_a, manager_b, mentee, outsider
):
    assert client.get(site_url(program_a)).status_code == 404
    assert client.get(site_url(program_a, "rejoindre/")).status_code == 404
    for someone in (mentee, manager_b, outsider):
        assert signed_in(someone).get(site_url(program_a)).status_code == 404
    assert client.get(site_url(program_a, "confirmer/pas-un-jeton/")).status_code == 404
    preview = signed_in(manager_a).get(site_url(program_a))
    assert preview.status_code == 200
    assert "Non publié" in preview.content.decode()


def test_published_site_shows_title_slogan_about_dates_and_brand(client, program_a):
    publish(
        program_a,
        slogan_fr="Trouver sa voie",
        slogan_en="Find your way",
        about_fr="<p>Un programme <strong>pour tous</strong></p><script>alert(1)</script>",
        color_primary="#8a1538",
    )
    page = client.get(site_url(program_a)).content.decode()
    assert "<h1>Orientation A</h1>" in page
    assert "Trouver sa voie" in page and "<strong>pour tous</strong>" in page
    assert "<script>alert" not in page
    assert "--brand-primary: #8a1538" in page
    assert program_a.start_date.strftime("%Y") in page
    assert "Rejoindre le programme" in page
    english = client.get(site_url(program_a) + "?lang=en").content.decode()
    assert 'lang="en"' in english and "Find your way" in english


def test_a_stale_or_missing_name_leads_to_the_current_address(client, program_a):
    publish(program_a)
    short = client.get(f"/p/{program_a.pk}/?lang=en")
    assert short.status_code == 302 and short["Location"] == site_url(program_a) + "?lang=en"
    old = site_url(program_a)
    program_a.name = "Orientation Nouvelle"
    program_a.save()
    moved = client.get(old)
    assert moved.status_code == 302
    assert moved["Location"] == f"/p/{program_a.pk}-orientation-nouvelle/"


def test_publishing_is_for_the_programmes_managers_and_audited(program_a, manager_a, mentee):
    refused = signed_in(mentee).post(
        f"/programmes/{program_a.pk}/site/publier/", {"published": "1"}
    )
    assert refused.status_code == 404
    program_a.refresh_from_db()
    assert not program_a.site_published
    manager = signed_in(manager_a)
    page = manager.get(f"/programmes/{program_a.pk}/").content.decode()
    assert "Afficher le site Web" in page and "Publier le site" in page
    response = manager.post(f"/programmes/{program_a.pk}/site/publier/", {"published": "1"})
    assert response.status_code == 302
    program_a.refresh_from_db()
    assert program_a.site_published
    entry = AuditEntry.objects.get(action="program.site_published")
    assert entry.actor_id == manager_a.pk
    assert (
        "Retirer le site du public" in manager.get(f"/programmes/{program_a.pk}/").content.decode()
    )
    manager.post(f"/programmes/{program_a.pk}/site/publier/", {"published": "0"})
    program_a.refresh_from_db()
    assert not program_a.site_published
    assert AuditEntry.objects.filter(action="program.site_unpublished").count() == 1


# --- The form ----------------------------------------------------------------------------


def test_the_form_says_what_is_wrong_and_keeps_nothing(client, program_a, organisation):
    publish(program_a)
    CustomField.objects.create(organisation=organisation, name_fr="Lycée", required=True)
    response = apply(client, program_a, first_name="", email="pas-une-adresse", role="manager")
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ce champ est obligatoire." in page  # first name and the custom field
    assert "Saisissez une adresse de courriel valide." in page
    assert "Sélectionnez un choix valide" in page  # a role the programme does not offer
    english = apply(client, program_a, first_name="", lang="en").content.decode()
    assert "This field is required." in english
    assert not Application.objects.exists() and not Email.objects.exists()


def test_only_the_roles_the_programme_accepts_are_offered(client, program_a, manager_a):
    publish(program_a)
    manager = signed_in(manager_a)
    response = manager.post(
        f"/programmes/{program_a.pk}/candidatures/reglages/",
        {"open": "1", "roles": ["mentor", "professional"], "approval_required": "1"},
    )
    assert response.status_code == 302
    page = client.get(site_url(program_a, "rejoindre/")).content.decode()
    assert 'value="mentor"' in page and 'value="professional"' in page
    assert 'value="participant"' not in page
    assert apply(client, program_a, role="participant").status_code == 400
    refused = manager.post(f"/programmes/{program_a.pk}/candidatures/reglages/", {"open": "1"})
    assert "Choisissez au moins un rôle." in refused.content.decode()
    manager.post(
        f"/programmes/{program_a.pk}/candidatures/reglages/", {"roles": ["mentor"]}
    )  # closed
    assert "sont fermées" in client.get(site_url(program_a, "rejoindre/")).content.decode()


def test_the_honeypot_and_a_form_sent_too_fast_are_refused(client, program_a):
    publish(program_a)
    trap = apply(client, program_a, website="http://spam.example")
    assert trap.status_code == 400
    assert "pas pu être envoyée" in trap.content.decode()
    fast = apply(client, program_a, started=antiabuse.form_token(program_a.pk))
    assert fast.status_code == 400 and "trop vite" in fast.content.decode()
    forged = apply(client, program_a, started="12345")
    assert forged.status_code == 400
    other = apply(client, program_a, started=antiabuse.form_token(program_a.pk + 1, issued_at=1))
    assert other.status_code == 400
    assert not Application.objects.exists() and not Email.objects.exists()


def test_rate_limits_per_address_and_per_ip(client, program_a, settings):
    publish(program_a)
    settings.COHORTE_SIGNUP_PER_ADDRESS = 2
    settings.COHORTE_SIGNUP_PER_IP = 4
    assert apply(client, program_a).status_code == 302
    assert apply(client, program_a).status_code == 302
    third = apply(client, program_a)
    assert third.status_code == 429 and "Trop de demandes" in third.content.decode()
    assert apply(client, program_a, email="deux@example.org").status_code == 302
    # the fifth request from this IP is refused whatever the address
    assert apply(client, program_a, email="trois@example.org").status_code == 429
    assert Application.objects.count() == 2
    assert Email.objects.count() == 3  # chloé twice (the link again), deux once


# --- Double opt-in and approval ---------------------------------------------------------


def test_double_opt_in_then_approval_then_the_member_is_in_the_programme(
    client, program_a, manager_a, smtp
):
    publish(program_a, color_primary="#8a1538")
    response = apply(client, program_a, first_name="Chloé", email="Chloe@Example.org")
    assert response.status_code == 302
    assert "Vérifiez votre boîte" in client.get(response["Location"]).content.decode()
    application = Application.objects.get()
    assert application.status == ApplicationStatus.UNCONFIRMED
    run_tasks()
    assert len(smtp) == 1 and smtp[0]["X-Envelope-To"] == "chloe@example.org"
    assert subject_of(smtp[0]) == "Confirmez votre inscription à Orientation A"
    path = confirmation_path(smtp[0])
    html = next(p for p in smtp[0].walk() if p.get_content_type() == "text/html")
    assert "background:#8a1538" in html.get_payload(decode=True).decode()  # the brand

    # opening the link (an e-mail scanner does too) confirms nothing; the button does
    opened = client.get(path)
    assert "Confirmer mon adresse" in opened.content.decode()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.UNCONFIRMED
    done = client.post(path).content.decode()
    assert "transmise aux responsables" in done
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING and application.confirmed_at
    assert not Member.objects.filter(email__iexact="chloe@example.org").exists()
    assert "Nouvelle candidature" in signed_in(manager_a).get("/notifications/").content.decode()

    manager = signed_in(manager_a)
    listing = manager.get(f"/programmes/{program_a.pk}/candidatures/").content.decode()
    assert "Chloé Candidate" in listing and "En attente (1)" in listing
    ask = manager.post(
        f"/programmes/{program_a.pk}/candidatures/decider/",
        {"action": "accept", "application": [application.pk]},
    )
    assert "Accepter 1 candidature ?" in ask.content.decode()
    assert Application.objects.get().status == ApplicationStatus.PENDING
    decided = manager.post(
        f"/programmes/{program_a.pk}/candidatures/decider/",
        {"action": "accept", "application": [application.pk], "confirm": "1"},
        follow=True,
    )
    assert "1 candidature acceptée" in decided.content.decode()
    member = Member.objects.get(email="chloe@example.org")
    enrolment = Enrolment.objects.get(program=program_a, member=member)
    assert enrolment.role == Role.PARTICIPANT and enrolment.ended_at is None
    table = manager.get(f"/programmes/{program_a.pk}/").content.decode()
    assert 'data-name="Chloé Candidate"' in table
    run_tasks()
    welcome = smtp[-1]
    assert subject_of(welcome) == "Bienvenue dans le programme Orientation A"
    assert "/compte/" in body_of(welcome)  # the link to choose a password
    # the confirmation link used again changes nothing
    assert "désormais partie du programme" in client.post(path).content.decode()
    assert Application.objects.get().status == ApplicationStatus.ACCEPTED


def test_without_approval_confirming_enrols_at_once(client, program_a, smtp):
    publish(program_a)
    SignupSettings.objects.create(program=program_a, roles=["mentor"], approval_required=False)
    apply(client, program_a, role="mentor", language="en", email="sam@example.org")
    run_tasks()
    assert Email.objects.get().language == "en"  # written through gettext in English
    page = client.post(confirmation_path(smtp[0])).content.decode()
    assert 'lang="en"' in page
    member = Member.objects.get(email="sam@example.org")
    assert member.language == "en"
    assert Enrolment.objects.get(program=program_a, member=member).role == Role.MENTOR
    assert Application.objects.get().status == ApplicationStatus.ACCEPTED


def test_sending_again_never_duplicates_and_an_existing_address_gets_the_same_answer(
    client, program_a, mentor, smtp
):
    publish(program_a)
    SignupSettings.objects.create(program=program_a, roles=["mentee"], approval_required=False)
    unknown = apply(client, program_a, role="mentee", email="new@example.org")
    known = apply(client, program_a, role="mentee", email=mentor.email)
    assert unknown.status_code == known.status_code == 302
    assert client.get(unknown["Location"]).content == client.get(known["Location"]).content
    apply(client, program_a, role="mentee", email=mentor.email, first_name="Marc-Antoine")
    assert Application.objects.count() == 2
    assert Application.objects.get(email=mentor.email).first_name == "Marc-Antoine"
    run_tasks()
    to_mentor = [m for m in smtp if m["X-Envelope-To"] == mentor.email]
    assert len(to_mentor) == 2
    client.post(confirmation_path(to_mentor[-1]))
    # the existing member joins, under their own name; no second account
    assert Member.objects.filter(email=mentor.email).count() == 1
    mentor.refresh_from_db()
    assert mentor.first_name == "Marc"
    assert Enrolment.objects.get(program=program_a, member=mentor).role == Role.MENTEE


def test_an_address_of_another_organisation_is_never_enrolled(client, program_a, outsider):
    publish(program_a)
    SignupSettings.objects.create(program=program_a, approval_required=False)
    apply(client, program_a, email=outsider.email)
    application = Application.objects.get()
    from cohorte.signup.services import application_confirm

    application_confirm(application=application)
    assert not Enrolment.objects.filter(member=outsider).exists()
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_custom_answers_go_to_the_new_members_profile(client, program_a, manager_a, organisation):
    publish(program_a)
    school = CustomField.objects.create(
        organisation=organisation, name_fr="Lycée", options="Camille Guérin, Victor Hugo"
    )
    hidden = CustomField.objects.create(organisation=organisation, name_fr="Note", admin_only=True)
    form = client.get(site_url(program_a, "rejoindre/")).content.decode()
    assert "Lycée" in form and "Note" not in form
    apply(client, program_a, **{f"custom_{school.pk}": "Victor Hugo", f"custom_{hidden.pk}": "x"})
    application = Application.objects.get()
    assert application.answers == {str(school.pk): ["Victor Hugo"]}
    from cohorte.signup.services import application_confirm

    application_confirm(application=application)
    signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/candidatures/decider/",
        {"action": "accept", "application": [application.pk], "confirm": "1"},
    )
    member = Member.objects.get(email="chloe@example.org")
    assert list(CustomFieldValue.objects.filter(member=member).values_list("value", flat=True)) == [
        "Victor Hugo"
    ]


# --- Deciding in bulk -------------------------------------------------------------------


def pending(program: Program, email: str, language: str = "fr", **extra) -> Application:
    return Application.objects.create(
        program=program,
        email=email,
        first_name=email.split("@")[0].capitalize(),
        last_name="Test",
        language=language,
        role=Role.PARTICIPANT,
        status=ApplicationStatus.PENDING,
        **extra,
    )


def test_bulk_refuse_and_accept_tell_each_applicant_in_their_language(program_a, manager_a, smtp):
    ana = pending(program_a, "ana@example.org")
    ben = pending(program_a, "ben@example.org", language="en")
    cleo = pending(program_a, "cleo@example.org")
    manager = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/candidatures/decider/"
    done = manager.post(
        url, {"action": "refuse", "application": [ana.pk, ben.pk], "confirm": "1"}, follow=True
    ).content.decode()
    assert "2 candidatures refusées" in done
    manager.post(url, {"action": "accept", "application": [cleo.pk, ana.pk], "confirm": "1"})
    statuses = dict(Application.objects.values_list("email", "status"))
    assert statuses == {
        "ana@example.org": "refused",  # already decided: not accepted afterwards
        "ben@example.org": "refused",
        "cleo@example.org": "accepted",
    }
    assert not Member.objects.filter(email="ana@example.org").exists()
    run_tasks()
    by_address = {m["X-Envelope-To"]: m for m in smtp}
    assert set(by_address) == {"ana@example.org", "ben@example.org", "cleo@example.org"}
    assert "n'a pas été retenue" in body_of(by_address["ana@example.org"])
    assert Email.objects.get(to_email="ben@example.org").language == "en"
    assert "Bienvenue" in subject_of(by_address["cleo@example.org"])
    refused = manager.get(f"/programmes/{program_a.pk}/candidatures/?statut=refused")
    assert "Ana Test" in refused.content.decode() and "Ben Test" in refused.content.decode()


def test_only_the_programmes_managers_and_admins_see_its_applications(
    program_a, manager_a, manager_b, admin, mentee, outsider
):
    pending(program_a, "ana@example.org")
    other_program = running_program(outsider.organisation, "Ailleurs", "mentoring", 1, outsider)
    assert other_program.pk
    url = f"/programmes/{program_a.pk}/candidatures/"
    assert "Ana Test" in signed_in(manager_a).get(url).content.decode()
    assert "Ana Test" in signed_in(admin).get(url).content.decode()
    for someone in (manager_b, mentee, outsider):
        assert signed_in(someone).get(url).status_code == 404
        decide = signed_in(someone).post(
            f"{url}decider/", {"action": "accept", "application": ["1"], "confirm": "1"}
        )
        assert decide.status_code == 404
    assert Application.objects.get().status == ApplicationStatus.PENDING


def test_bad_input_gets_a_clear_answer_never_a_server_error(client, program_a, manager_a):
    publish(program_a)
    manager = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/candidatures/"
    page = manager.get(url + "?statut=%00zz", follow=True).content.decode()
    assert "Statut inconnu" in page
    for ids in (["abc"], ["99999999999999999999"], ["1,-2"]):
        response = manager.post(f"{url}decider/", {"action": "accept", "application": ids})
        assert response.status_code == 302
        assert "Sélection invalide" in manager.get(url).content.decode()
    nothing = manager.post(f"{url}decider/", {"action": "boom", "application": ["1"]}, follow=True)
    assert "Choisissez d&#x27;accepter ou de refuser." in nothing.content.decode()
    bad_link = client.get(site_url(program_a, "confirmer/pas-un-jeton/"))
    assert bad_link.status_code == 200 and "pas valide" in bad_link.content.decode()
    assert client.get(f"/p/{program_a.pk}-x/rejoindre/?lang=../../etc").status_code == 302
    garbage = client.post(
        site_url(program_a, "rejoindre/"), {"first_name": "\x00", "email": "a\x00@b.c"}
    )
    assert garbage.status_code == 400


def test_an_expired_link_says_so(client, program_a, settings):
    publish(program_a)
    apply(client, program_a)
    body = Email.objects.get().body_text
    settings.COHORTE_SIGNUP_CONFIRM_SECONDS = -1
    path = urlparse(re.search(r"https?://\S+/confirmer/\S+/", body).group(0)).path
    assert "Ce lien a expiré" in client.get(path).content.decode()
    assert Application.objects.get().status == ApplicationStatus.UNCONFIRMED
