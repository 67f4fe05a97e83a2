"""Automatic reminder rules and the system-generated messages."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.activity import services as activity
from cohorte.activity.models import EventKind
from cohorte.messaging import services
from cohorte.messaging.models import Email, ReminderRule, ReminderSent, SystemTemplate
from cohorte.programs.models import Enrolment, Role

from .conftest import hold_meetings, make_member, run_tasks, signed_in


@pytest.fixture
def newcomers(organisation, program_a):
    """Three participants enrolled 10 days ago: one never came, one came, one is deactivated."""
    people = {}
    for key, active in (("absent", True), ("venu", True), ("parti", False)):
        member = make_member(organisation, f"{key}@x.example", first=key.title(), is_active=active)
        enrolment = Enrolment.objects.create(
            program=program_a, member=member, role=Role.PARTICIPANT
        )
        Enrolment.objects.filter(pk=enrolment.pk).update(
            created_at=timezone.now() - dt.timedelta(days=10)
        )
        people[key] = member
    activity.events_ingest(
        program=program_a,
        items=[
            activity.EventItem(
                actor=people["venu"],
                kind=EventKind.SIGN_IN,
                occurred_at=timezone.now() - dt.timedelta(days=1),
            )
        ],
    )
    return people


def test_never_signed_in_rule_reaches_exactly_them_once_per_n_days(program_a, newcomers, mentee):
    rule = ReminderRule.objects.create(program=program_a, kind="never_signed_in", days=7)
    reached = activity.reminder_rule_run(rule=rule)
    emails = {member.email for member in reached}
    assert (
        "absent@x.example" in emails
        and "parti@x.example" not in emails
        and "venu@x.example" not in emails
    )
    assert "lea.mentee@poitiers.example" not in emails  # enrolled today: not yet 7 days
    assert Email.objects.filter(to_email="absent@x.example").count() == 1
    rule.refresh_from_db()
    assert (
        rule.last_run_at is not None
        and {"id": newcomers["absent"].pk, "name": "Absent"} in rule.last_reached
    )
    assert activity.reminder_rule_run(rule=rule) == []  # not twice within 7 days
    later = timezone.now() + dt.timedelta(days=8)
    again = [m.email for m in activity.reminder_rule_run(rule=rule, now=later)]
    assert again == ["absent@x.example", "lea.mentee@poitiers.example"]  # Léa: 8 days now
    assert ReminderSent.objects.filter(member=newcomers["absent"]).count() == 2


def test_behind_objective_rule_waits_for_the_last_n_days(program_a, mentee, mentor):
    rule = ReminderRule.objects.create(program=program_a, kind="behind_objective", days=10)
    assert activity.reminder_rule_run(rule=rule) == []  # the end is 60 days away
    near_end = timezone.now() + dt.timedelta(days=55)
    assert activity.reminder_rule_run(rule=rule, now=near_end) == [mentee]
    hold_meetings(program_a, mentee, mentor, program_a.objective)
    rule.sent.all().delete()
    assert activity.reminder_rule_run(rule=rule, now=near_end) == []


def test_an_inactive_rule_or_a_finished_programme_reaches_nobody(program_a, newcomers):
    rule = ReminderRule.objects.create(
        program=program_a, kind="never_signed_in", days=1, active=False
    )
    assert activity.reminder_rule_run(rule=rule) == []
    rule.active = True
    rule.save()
    after_end = timezone.now() + dt.timedelta(days=90)
    assert activity.reminder_rule_run(rule=rule, now=after_end) == []


def test_rules_page_saves_runs_and_shows_whom_it_reached(manager_a, program_a, newcomers):
    client = signed_in(manager_a)
    url = f"/programmes/{program_a.pk}/relances-automatiques/"
    client.post(url, {"kind": "never_signed_in", "days": "5", "active": "1", "run": "1"})
    rule = ReminderRule.objects.get()
    assert (rule.days, rule.active) == (5, True)
    html = client.get(url).content.decode()
    assert "Absent" in html
    assert client.post(url, {"kind": "never_signed_in", "days": "0"}).status_code == 302
    assert ReminderRule.objects.get().days == 5  # refused, explained by a message


def test_another_managers_programme_rules_are_out_of_reach(manager_b, program_a):
    assert (
        signed_in(manager_b).get(f"/programmes/{program_a.pk}/relances-automatiques/").status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_tick_runs_rules_and_books_the_next_one(program_a, newcomers, smtp):
    from django_tasks_db.models import DBTaskResult

    from cohorte.activity.tasks import scheduler_tick, tick_schedule

    ReminderRule.objects.create(program=program_a, kind="never_signed_in", days=7)
    assert tick_schedule() is True and tick_schedule() is False
    run_tasks()
    assert [m["X-Envelope-To"] for m in smtp] == ["absent@x.example"]
    waiting = DBTaskResult.objects.filter(task_path=scheduler_tick.module_path, status="READY")
    assert waiting.count() == 1 and waiting.get().run_after > timezone.now()


# --- system-generated messages ------------------------------------------------------------


def test_the_list_is_grouped_by_category_with_status(admin):
    html = signed_in(admin).get("/messages/systeme/").content.decode()
    for text in (
        "Débuter",
        "Relations",
        "Rencontres",
        "Relances",
        "Rappel de finalisation du profil",
        "Importation des informations de connexion des membres",
        "actif",
        "Modifier",
        "Aperçu",
    ):
        assert text in html


def test_a_template_with_an_unknown_keyword_cannot_be_saved(admin):
    client = signed_in(admin)
    response = client.post(
        "/messages/systeme/profile_reminder/",
        {
            "subject_fr": "Votre profil",
            "subject_en": "Your profile",
            "body_fr": "Bonjour {prénom}, votre mot de passe {password}",
            "body_en": "Hi {partner}",
            "active": "1",
        },
    )
    html = response.content.decode()
    assert "{password}" in html and "{partner}" in html and "Mots clés disponibles" in html
    assert not SystemTemplate.objects.exists()


def test_an_edited_template_is_used_and_an_inactive_one_never_sent(
    admin, organisation, program_a, mentee
):
    client = signed_in(admin)
    client.post(
        "/messages/systeme/reminder_participant/",
        {
            "subject_fr": "Relance {programme}",
            "subject_en": "Nudge {program}",
            "body_fr": "Coucou {prénom}, objectif {objectif}",
            "body_en": "Hi {first_name}",
            "active": "1",
        },
    )
    activity.participants_remind(program=program_a, members=[mentee], by=admin)
    email = Email.objects.get()
    assert email.subject == "Relance Orientation A" and "Coucou Léa, objectif 3" in email.body_text
    client.post(
        "/messages/systeme/reminder_participant/",
        {
            "subject_fr": "x",
            "subject_en": "x",
            "body_fr": "x",
            "body_en": "x",
            "active": "0",
        },
    )
    assert activity.participants_remind(program=program_a, members=[mentee], by=admin) == 0
    assert Email.objects.count() == 1


def test_english_members_get_the_english_text(admin, organisation, program_a):
    member = make_member(organisation, "en@x.example", first="Emma", language="en")
    services.system_email(
        organisation_id=organisation.pk,
        key="profile_reminder",
        member=member,
        values={"percent": 40, "organisation": organisation.name},
    )
    email = Email.objects.get()
    assert email.subject == "Your profile" and "40 % complete" in email.body_text


def test_only_administrators_edit_system_messages(manager_a):
    assert signed_in(manager_a).get("/messages/systeme/").status_code == 404


# --- notifications and release notes ----------------------------------------------------------


def test_a_reminder_rings_the_bell_and_the_notice_can_be_deleted(admin, program_a, mentee):
    activity.participants_remind(program=program_a, members=[mentee], by=admin)
    client = signed_in(mentee)
    html = client.get("/mon-espace/").content.decode()
    # the bell's badge (the « À faire » one beside it carries its data-todo-count)
    assert '<span class="badge"><span aria-hidden="true">1</span>' in html
    assert "1 notification non lue" in html
    assert "Relance : Orientation A" in html  # and the notice in her space's list
    page = client.get("/notifications/").content.decode()
    assert "Relance : Orientation A" in page
    from cohorte.messaging.models import Notification

    notice = Notification.objects.get(member=mentee)
    client.get(f"/notifications/{notice.pk}/")
    assert "notification non lue" not in client.get("/mon-espace/").content.decode()
    assert signed_in(admin).post(f"/notifications/{notice.pk}/supprimer/").status_code == 302
    assert Notification.objects.filter(pk=notice.pk).exists()  # not someone else's to delete
    client.post(f"/notifications/{notice.pk}/supprimer/")
    assert not Notification.objects.filter(pk=notice.pk).exists()


def test_release_notes_reach_administrators_only_without_email(
    admin, manager_a, mentee, tmp_path, organisation
):
    from django.core.management import call_command

    from cohorte.messaging.models import Notification

    english_admin = make_member(organisation, "boss@x.example", is_org_admin=True, language="en")
    (tmp_path / "fr.html").write_text(
        "<h2>Registre</h2><ul><li>Statuts de livraison</li></ul><script>x</script>"
    )
    (tmp_path / "en.html").write_text("<h2>E-mail log</h2><ul><li>Delivery statuses</li></ul>")
    call_command(
        "publish_release_note",
        "--title-fr",
        "Notes de mise à jour du 27 novembre",
        "--title-en",
        "Release notes for November 27",
        "--body-fr",
        str(tmp_path / "fr.html"),
        "--body-en",
        str(tmp_path / "en.html"),
    )
    assert set(Notification.objects.values_list("member__email", flat=True)) == {
        admin.email,
        english_admin.email,
    }
    notice = Notification.objects.get(member=english_admin)  # both titles kept, shown in English
    assert notice.title_in(english_admin.language) == "Release notes for November 27"
    assert not Email.objects.exists()
    notice = Notification.objects.get(member=admin)
    page = signed_in(admin).get(notice.url).content.decode()
    assert "Statuts de livraison" in page and "<script>" not in page
    assert signed_in(mentee).get(notice.url).status_code == 404


def test_unanswered_invitation_rule_reminds_who_has_not_answered(
    organisation, program_a, mentee, mentor
):
    from cohorte.meetings.models import Meeting, MeetingAttendee

    meeting = Meeting.objects.create(
        program=program_a, duration_minutes=30, starts_at=timezone.now() + dt.timedelta(days=5)
    )
    Meeting.objects.filter(pk=meeting.pk).update(created_at=timezone.now() - dt.timedelta(days=4))
    MeetingAttendee.objects.create(meeting=meeting, member=mentee, response="pending")
    MeetingAttendee.objects.create(meeting=meeting, member=mentor, response="accepted")
    rule = ReminderRule.objects.create(program=program_a, kind="invitation_unanswered", days=3)
    assert activity.reminder_rule_run(rule=rule) == [mentee]
    email = Email.objects.get()
    assert (
        email.to_email == mentee.email
        and "Marc Mentor" in email.body_text
        and "4 jours" in email.body_text
    )
    assert activity.reminder_rule_run(rule=rule) == []  # once per 3 days


@pytest.mark.parametrize("url", ["/\\evil.example/", "//evil.example/", "https://evil.example/"])
def test_a_notification_never_leads_off_the_site(mentee, url):
    from cohorte.messaging.models import Notification

    notice = Notification.objects.create(member=mentee, title="Piège", url=url)
    response = signed_in(mentee).get(f"/notifications/{notice.pk}/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
