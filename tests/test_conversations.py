"""Conversations: who may write to whom, the API's contract, the activity events a message
becomes (the same rule as the API's events), the managers' view and its audit, the filter,
reports, notes, « À faire » and the e-mail notice of a quiet period."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cohorte.activity.models import ActivityEvent, Report
from cohorte.activity.selectors import participant_activity_rows
from cohorte.conversations import services
from cohorte.conversations.models import (
    ConversationMessage,
    NoticeMode,
    NoticePreference,
    Participant,
    ProgramConversationSettings,
)
from cohorte.conversations.selectors import conversation_todo_items, unread_count
from cohorte.core.models import AuditEntry
from cohorte.core.todo import items_for
from cohorte.meetings.services import relationship_create
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role

from .conftest import body_of, make_member, run_tasks, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_participant(organisation, program_a):
    member = make_member(organisation, "paul.p@poitiers.example", first="Paul", last="Pair")
    Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
    return member


def _start(api, program, emails, subject=""):
    return api.post(
        f"/api/programs/{program.pk}/conversations", {"participants": emails, "subject": subject}
    )


def test_participant_writes_to_professional_and_the_table_counts_it(
    api_as, program_a, mentee, mentor, manager_a
):
    api = api_as(mentee)
    response = _start(api, program_a, [mentor.email], "Stage")
    assert response.status_code == 201, response.content
    conversation_id = response.json()["id"]
    sent = api.post(f"/api/conversations/{conversation_id}/messages", {"body": "Bonjour Marc"})
    assert sent.status_code == 201
    assert sent.json()["sender"] == mentee.email
    kinds = set(ActivityEvent.objects.filter(actor=mentee).values_list("kind", flat=True))
    assert kinds == {"message", "contact"}
    row = next(r for r in participant_activity_rows(program=program_a) if r.member_id == mentee.pk)
    assert row.professionals_contacted == 1
    # unanswered past the programme's delay: the ❗ flag, from the activity rule
    later = timezone.now() + dt.timedelta(days=program_a.unanswered_after_days + 1)
    row = next(
        r
        for r in participant_activity_rows(program=program_a, now=later)
        if r.member_id == mentee.pk
    )
    assert row.has_unanswered
    # the professional answers: the flag goes
    api_as(mentor).post(f"/api/conversations/{conversation_id}/messages", {"body": "Bonjour Léa"})
    row = next(
        r
        for r in participant_activity_rows(program=program_a, now=later)
        if r.member_id == mentee.pk
    )
    assert not row.has_unanswered
    listed = api.get(f"/api/programs/{program_a.pk}/conversations").json()
    assert listed[0]["participants"] == [mentee.email, mentor.email]
    assert listed[0]["unread"] == 1
    messages = api.get(f"/api/conversations/{conversation_id}/messages").json()
    assert [m["body"] for m in messages] == ["Bonjour Léa", "Bonjour Marc"]  # newest first
    assert unread_count(mentee) == 0  # read by listing them


def test_who_may_reach_whom(
    api_as, program_a, program_b, mentee, mentor, other_participant, outsider
):
    # two participants: 403
    assert _start(api_as(mentee), program_a, [other_participant.email]).status_code == 403
    # not in the programme: 400 naming the e-mail
    response = _start(api_as(mentee), program_a, ["nobody@poitiers.example", mentor.email])
    assert response.status_code == 400
    assert "nobody@poitiers.example" in response.json()["message"]
    # a mentee writes to their own mentor only
    emma = make_member(program_b.organisation, "emma@poitiers.example", first="Emma", last="M")
    Enrolment.objects.create(program=program_b, member=emma, role=Role.MENTEE)
    assert _start(api_as(emma), program_b, [mentor.email]).status_code == 403
    relationship_create(program=program_b, mentor=mentor, mentee=emma, by=None)
    assert _start(api_as(emma), program_b, [mentor.email]).status_code == 201
    # another organisation's programme: 404
    assert _start(api_as(outsider), program_a, [mentor.email]).status_code == 404
    # bounds
    many = [f"x{i}@poitiers.example" for i in range(60)]
    assert _start(api_as(mentee), program_a, many).status_code == 400


def test_manager_sees_who_and_when_not_the_words_unless_allowed(
    api_as, program_a, mentee, mentor, manager_a, admin, outsider
):
    conversation_id = _start(api_as(mentee), program_a, [mentor.email]).json()["id"]
    api_as(mentee).post(f"/api/conversations/{conversation_id}/messages", {"body": "secret"})
    manager = api_as(manager_a)
    listed = manager.get(f"/api/programs/{program_a.pk}/conversations").json()
    assert listed[0]["id"] == conversation_id and listed[0]["unread"] is None
    assert manager.get(f"/api/conversations/{conversation_id}/messages").status_code == 403
    assert (
        manager.post(f"/api/conversations/{conversation_id}/messages", {"body": "x"}).status_code
        == 403
    )
    page = signed_in(manager_a).get(f"/conversations/{conversation_id}/")
    assert page.status_code == 200 and "secret" not in page.content.decode()
    ProgramConversationSettings.objects.create(program=program_a, managers_read=True)
    assert (
        manager.get(f"/api/conversations/{conversation_id}/messages").json()[0]["body"] == "secret"
    )
    assert (
        AuditEntry.objects.filter(action="conversation.contents_read", actor=manager_a).count() == 1
    )
    assert api_as(outsider).get(f"/api/conversations/{conversation_id}/messages").status_code == 404
    third = make_member(program_a.organisation, "t@poitiers.example")
    assert api_as(third).get(f"/api/conversations/{conversation_id}/messages").status_code == 403


def test_filter_refuses_a_message_and_stores_nothing(api_as, program_a, mentee, mentor):
    ProgramConversationSettings.objects.create(
        program=program_a, filter_on=True, filter_words="argent"
    )
    conversation_id = _start(api_as(mentee), program_a, [mentor.email]).json()["id"]
    api = api_as(mentee)
    for body, word in (
        ("écris-moi à lea@gmail.com", "adresses"),
        ("voir https://example.com", "liens"),
        ("appelle le 06 12 34 56 78", "téléphone"),
        ("parlons Argent", "interdit"),
    ):
        response = api.post(f"/api/conversations/{conversation_id}/messages", {"body": body})
        assert response.status_code == 400 and word in response.json()["message"]
    assert not ConversationMessage.objects.exists()
    assert not ActivityEvent.objects.exists()


def test_report_raises_the_flag_with_its_reason(program_a, mentee, mentor):
    conversation = services.conversation_start(program=program_a, author=mentor, others=[mentee])
    message = services.message_send(conversation=conversation, sender=mentor, body="hello")
    response = signed_in(mentee).post(
        f"/conversations/messages/{message.pk}/signaler/", {"reason": "Propos déplacés"}
    )
    assert response.status_code == 302
    assert Report.objects.get().reason == "Propos déplacés"
    assert Report.objects.get().member == mentor


def test_pages_send_a_file_and_serve_it_to_participants_only(program_a, mentee, mentor, manager_a):
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    client = signed_in(mentee)
    pdf = SimpleUploadedFile("cv.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(f"/conversations/{conversation.pk}/", {"body": "Mon CV", "files": [pdf]})
    assert response.status_code == 302
    file_id = ConversationMessage.objects.get().files.get().pk
    assert signed_in(mentor).get(f"/conversations/fichiers/{file_id}/").status_code == 200
    assert signed_in(manager_a).get(f"/conversations/fichiers/{file_id}/").status_code == 404
    inbox = signed_in(mentor).get("/conversations/?q=CV").content.decode()
    assert "Léa Mentee" in inbox and "1 non lu" in inbox
    assert (
        "Aucune conversation ne correspond"
        in signed_in(mentor).get("/conversations/?q=zzz").content.decode()
    )
    empty = client.post(f"/conversations/{conversation.pk}/", {"body": "  "})
    assert empty.status_code == 400 and "Le message est vide" in empty.content.decode()


def test_todo_item_for_a_conversation_waiting_for_the_reply(program_a, mentee, mentor):
    conversation = services.conversation_start(program=program_a, author=mentor, others=[mentee])
    services.message_send(conversation=conversation, sender=mentor, body="Question ?")
    items = conversation_todo_items(mentee)
    assert [i.kind for i in items] == ["conversation"]
    assert items[0].url == f"/conversations/{conversation.pk}/"
    assert any(i.kind == "conversation" for i in items_for(mentee))
    assert conversation_todo_items(mentor) == []
    services.message_send(conversation=conversation, sender=mentee, body="Réponse")
    assert conversation_todo_items(mentee) == []


def test_notes_are_the_pairs_only(program_b, mentor, organisation, manager_b):
    emma = make_member(organisation, "emma@poitiers.example", first="Emma", last="M")
    Enrolment.objects.create(program=program_b, member=emma, role=Role.MENTEE)
    relationship = relationship_create(program=program_b, mentor=mentor, mentee=emma, by=None)
    url = f"/relations/{relationship.pk}/notes/"
    assert signed_in(emma).post(url, {"body": "Objectifs : CV"}).status_code == 302
    assert "Objectifs : CV" in signed_in(mentor).get(url).content.decode()
    assert signed_in(manager_b).get(url).status_code == 404
    ProgramConversationSettings.objects.create(program=program_b, managers_read=True)
    assert "Objectifs : CV" in signed_in(manager_b).get(url).content.decode()
    assert AuditEntry.objects.filter(action="conversation.contents_read").count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_email_per_quiet_period_and_none_on_a_retry(smtp, settings, program_a, mentee, mentor):
    settings.COHORTE_CONVERSATION_QUIET_SECONDS = 0
    settings.COHORTE_BASE_URL = "https://cohorte.example"
    NoticePreference.objects.create(member=mentee, mode=NoticeMode.NONE)
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    for text in ("Un", "Deux", "Trois"):
        services.message_send(conversation=conversation, sender=mentee, body=text)
    run_tasks()
    assert len(smtp) == 1
    assert smtp[0]["X-Envelope-To"] == mentor.email
    assert f"https://cohorte.example/conversations/{conversation.pk}/" in body_of(smtp[0])
    # a retried task finds nothing left to announce
    place = Participant.objects.get(conversation=conversation, member=mentor)
    assert services.conversation_notice_send(participant_id=place.pk) is False
    # the next message opens the next quiet period; the mentee chose none: never written to
    services.message_send(conversation=conversation, sender=mentee, body="Quatre")
    run_tasks()
    assert len(smtp) == 2
    services.message_send(conversation=conversation, sender=mentor, body="Réponse")
    run_tasks()
    assert len(smtp) == 2
    assert Email.objects.filter(to_email=mentee.email).count() == 0


def test_daily_digest_is_one_email_for_every_conversation(program_a, mentee, mentor, manager_a):
    NoticePreference.objects.create(member=mentee, mode=NoticeMode.DAILY)
    first = services.conversation_start(program=program_a, author=mentor, others=[mentee])
    second = services.conversation_start(
        program=program_a, author=manager_a, others=[mentee], subject="Bilan"
    )
    for conversation, sender in ((first, mentor), (second, manager_a), (first, mentor)):
        services.message_send(conversation=conversation, sender=sender, body="Bonjour")
    assert services.conversation_digest_send(member_id=mentee.pk) is True
    email = Email.objects.get(to_email=mentee.email)
    assert "2 conversation(s)" in email.subject
    assert f"/conversations/{first.pk}/" in email.body_text and "Bilan" in email.body_text
    assert services.conversation_digest_send(member_id=mentee.pk) is False  # a retry: nothing
    assert Email.objects.filter(to_email=mentee.email).count() == 1


# --- The API's contract at its edges ------------------------------------------------------


def test_api_start_edge_cases(api_as, program_a, mentee, mentor, manager_a, outsider):
    api = api_as(mentee)
    # e-mails in any case, twice, with the caller's own: one conversation of two people
    response = _start(
        api, program_a, ["  MARC.Mentor@Poitiers.example ", mentor.email, mentee.email.upper()]
    )
    assert response.status_code == 201, response.content
    places = Participant.objects.filter(conversation_id=response.json()["id"])
    assert sorted(places.values_list("member__email", flat=True)) == sorted(
        [mentee.email, mentor.email]
    )
    # only the caller, nobody, an empty string, an unknown address: 400 with the reason
    only_me = _start(api, program_a, [mentee.email])
    assert only_me.status_code == 400 and "autre que vous" in only_me.json()["message"]
    assert _start(api, program_a, []).status_code == 400
    assert _start(api, program_a, [""]).status_code == 400
    assert _start(api, program_a, ["x" * 300 + "@p.example"]).status_code == 400
    unknown = _start(api, program_a, ["Nobody@Poitiers.example"])
    assert unknown.status_code == 400 and "nobody@poitiers.example" in unknown.json()["message"]
    # someone of another organisation is unknown here; another organisation's programme: 404
    assert _start(api, program_a, [outsider.email]).status_code == 400
    assert _start(api_as(outsider), program_a, [mentee.email]).status_code == 404
    # a manager reaches anyone of the programme, as a group
    group = _start(api_as(manager_a), program_a, [mentee.email, mentor.email], "Point")
    assert group.status_code == 201
    assert Participant.objects.filter(conversation_id=group.json()["id"]).count() == 3


def test_api_messages_edge_cases(api_as, program_a, mentee, mentor, manager_a, outsider):
    conversation_id = _start(api_as(mentee), program_a, [mentor.email]).json()["id"]
    url = f"/api/conversations/{conversation_id}/messages"
    api = api_as(mentee)
    assert api.post(url, {"body": ""}).status_code == 400
    blank = api.post(url, {"body": "   \n "})
    assert blank.status_code == 400 and "vide" in blank.json()["message"]
    assert api.post(url, {"body": "x" * 5001}).status_code == 400
    assert api.post(url, {"body": "x" * 5000}).status_code == 201
    assert api.post(url, {}).status_code == 400
    # anyone but a participant: 403 (the manager too), another organisation: 404
    refused = api_as(manager_a).post(url, {"body": "Je m'invite"})
    assert refused.status_code == 403
    assert api_as(outsider).post(url, {"body": "?"}).status_code == 404
    assert api_as(outsider).get(url).status_code == 404
    assert api.get("/api/conversations/999999/messages").status_code == 404
    assert ConversationMessage.objects.count() == 1


def test_a_group_message_reaches_each_one_and_is_an_event_for_each(
    api_as, program_a, mentee, other_participant, manager_a
):
    conversation_id = _start(
        api_as(manager_a), program_a, [mentee.email, other_participant.email]
    ).json()["id"]
    api_as(manager_a).post(f"/api/conversations/{conversation_id}/messages", {"body": "Réunion"})
    assert unread_count(mentee) == 1 and unread_count(other_participant) == 1
    targets = ActivityEvent.objects.filter(actor=manager_a, kind="message")
    assert set(targets.values_list("target_id", flat=True)) == {mentee.pk, other_participant.pk}
    # in the group, a participant cannot write to another one alone
    assert _start(api_as(mentee), program_a, [other_participant.email]).status_code == 403


# --- « Écrire » from the two tables --------------------------------------------------------


def test_activity_table_selection_starts_a_group_conversation(
    program_a, manager_a, mentee, other_participant
):
    client = signed_in(manager_a)
    table = client.get(f"/programmes/{program_a.pk}/").content.decode()
    assert f'formaction="/programmes/{program_a.pk}/conversations/nouvelle/"' in table
    url = f"/programmes/{program_a.pk}/conversations/nouvelle/"
    page = client.get(url, {"member": [mentee.pk, other_participant.pk]}).content.decode()
    assert page.count("checked") == 2
    response = client.post(
        url,
        {"member": [mentee.pk, other_participant.pk], "subject": "Atelier", "body": "Rendez-vous"},
    )
    assert response.status_code == 302
    conversation = Participant.objects.get(member=mentee).conversation
    assert conversation.subject == "Atelier"
    assert set(conversation.participants.values_list("member_id", flat=True)) == {
        manager_a.pk,
        mentee.pk,
        other_participant.pk,
    }
    assert unread_count(other_participant) == 1


def test_a_refused_first_message_leaves_no_conversation_and_keeps_the_draft(
    program_a, manager_a, mentee
):
    ProgramConversationSettings.objects.create(program=program_a, filter_on=True)
    response = signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/conversations/nouvelle/",
        {"member": [mentee.pk], "subject": "Lien", "body": "voir https://example.com"},
    )
    html = response.content.decode()
    assert "liens n&#x27;y sont pas permis" in html and "voir https://example.com" in html
    assert not Participant.objects.exists()


def test_members_list_selection_offers_a_conversation(
    program_a, program_b, manager_a, admin, mentee, mentor
):
    # a manager (not an administrator) selects in the members list too
    page = signed_in(manager_a).get("/membres/").content.decode()
    assert 'name="member"' in page and 'formaction="/conversations/nouvelle/"' in page
    filtered = signed_in(manager_a).get("/membres/", {"program": program_a.pk}).content.decode()
    assert f'name="program" value="{program_a.pk}"' in filtered
    # not filtered on a programme: the only programme the selected person is in, straight
    response = signed_in(manager_a).get("/conversations/nouvelle/", {"member": [mentee.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith(f"/programmes/{program_a.pk}/conversations/nouvelle/")
    # in two programmes (the administrator sees both): choose one
    choice = signed_in(admin).get("/conversations/nouvelle/", {"member": [mentor.pk]})
    html = choice.content.decode()
    assert choice.status_code == 200 and "Orientation A" in html and "Mentorat B" in html
    # someone chosen outside the programme is said, not silently dropped
    start = signed_in(manager_a).get(
        f"/programmes/{program_a.pk}/conversations/nouvelle/",
        {"member": [mentee.pk, admin.pk]},
    )
    assert "1 personne choisie n'est pas dans ce programme" in start.content.decode()
    too_many = signed_in(manager_a).get(
        f"/programmes/{program_a.pk}/conversations/nouvelle/",
        {"people": ",".join(str(n) for n in range(1, 80))},
    )
    assert too_many.status_code == 200 and "au plus" in too_many.content.decode()


def test_read_status_shows_on_the_senders_messages(program_a, mentee, mentor):
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    services.message_send(conversation=conversation, sender=mentee, body="Bonjour")
    url = f"/conversations/{conversation.pk}/"
    assert "Non lu" in signed_in(mentee).get(url).content.decode()
    signed_in(mentor).get(url)
    html = signed_in(mentee).get(url).content.decode()
    assert "✓ Lu" in html and "Non lu" not in html


# --- Notices: the daily digest and a changed mind ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_daily_digest_is_one_email_each_morning_through_smtp(
    smtp, settings, program_a, mentee, mentor, manager_a
):
    from django_tasks_db.models import DBTaskResult

    from cohorte.conversations.tasks import conversation_digest

    settings.COHORTE_BASE_URL = "https://cohorte.example"
    services.notice_mode_set(member=mentee, mode=NoticeMode.DAILY)
    first = services.conversation_start(program=program_a, author=mentor, others=[mentee])
    second = services.conversation_start(
        program=program_a, author=manager_a, others=[mentee], subject="Bilan"
    )
    for conversation, sender in ((first, mentor), (second, manager_a), (first, mentor)):
        services.message_send(conversation=conversation, sender=sender, body="Bonjour")
    digests = DBTaskResult.objects.filter(task_path=conversation_digest.module_path)
    assert digests.count() == 1  # one booking for three messages in two conversations
    morning = digests.get().run_after
    assert morning > timezone.now()
    assert morning.astimezone(program_a.organisation.tzinfo).hour == 8
    run_tasks()
    assert all(m["X-Envelope-To"] != mentee.email for m in smtp)  # not before the morning
    before = len(smtp)
    digests.update(run_after=timezone.now())  # the morning comes
    run_tasks()
    to_mentee = [m for m in smtp[before:] if m["X-Envelope-To"] == mentee.email]
    assert len(to_mentee) == 1
    text = body_of(to_mentee[0])
    assert f"https://cohorte.example/conversations/{first.pk}/" in text and "Bilan" in text
    # a retry of the same digest sends nothing
    assert services.conversation_digest_send(member_id=mentee.pk) is False
    # the next day's messages: the next digest, one e-mail again
    services.message_send(conversation=second, sender=manager_a, body="Encore")
    waiting = digests.filter(status="READY")
    assert waiting.count() == 1
    waiting.update(run_after=timezone.now())
    run_tasks()
    assert len([m for m in smtp if m["X-Envelope-To"] == mentee.email]) == 2


@pytest.mark.django_db(transaction=True)
def test_choosing_none_while_a_notice_waits_sends_nothing(
    smtp, settings, program_a, mentee, mentor
):
    settings.COHORTE_CONVERSATION_QUIET_SECONDS = 0
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    services.message_send(conversation=conversation, sender=mentee, body="Un")
    services.notice_mode_set(member=mentor, mode=NoticeMode.NONE)
    run_tasks()
    assert Email.objects.filter(to_email=mentor.email).count() == 0
    # switching to a digest with a notice waiting: the digest tells it, not the notice
    services.notice_mode_set(member=mentor, mode=NoticeMode.DAILY)
    services.message_send(conversation=conversation, sender=mentee, body="Deux")
    run_tasks()
    assert Email.objects.filter(to_email=mentor.email).count() == 0
    assert NoticePreference.objects.get(member=mentor).digest_due_at is not None


# --- The programme's settings, its reports, the notes' way in ------------------------------


def test_a_programme_can_keep_members_from_writing_to_one_another(
    api_as, program_a, mentee, mentor, manager_a, admin
):
    response = signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/conversations/",
        {"filter_words": "", "managers_read": "on"},  # members_write unticked
    )
    assert response.status_code == 302
    row = ProgramConversationSettings.objects.get(program=program_a)
    assert row.members_write is False
    assert row.managers_read is False  # a manager cannot let managers read: an administrator
    refused = _start(api_as(mentee), program_a, [mentor.email])
    assert refused.status_code == 403 and mentor.email in refused.json()["message"]
    assert _start(api_as(mentee), program_a, [manager_a.email]).status_code == 201
    # the administrator lets managers read; a manager's later save keeps it
    signed_in(admin).post(
        f"/programmes/{program_a.pk}/conversations/",
        {"managers_read": "on", "members_write": "on", "filter_words": ""},
    )
    signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/conversations/",
        {"members_write": "on", "filter_on": "on", "filter_words": "argent"},
    )
    row.refresh_from_db()
    assert row.managers_read and row.filter_on and row.members_write
    assert AuditEntry.objects.filter(action="program.conversation_settings").count() == 3


def test_managers_do_not_read_the_subject_either_unless_allowed(
    api_as, program_a, mentee, mentor, manager_a
):
    conversation = services.conversation_start(
        program=program_a, author=mentee, others=[mentor], subject="Mon souci privé"
    )
    services.message_send(conversation=conversation, sender=mentee, body="Bonjour")
    listed = api_as(manager_a).get(f"/api/programs/{program_a.pk}/conversations").json()
    assert listed[0]["subject"] == "" and listed[0]["participants"] == [mentee.email, mentor.email]
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/conversations/")
    assert "Mon souci privé" not in page.content.decode() and "Léa Mentee" in page.content.decode()
    detail = signed_in(manager_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Mon souci privé" not in detail and "Bonjour" not in detail
    assert not AuditEntry.objects.filter(action="conversation.contents_read").exists()
    ProgramConversationSettings.objects.create(program=program_a, managers_read=True)
    listed = api_as(manager_a).get(f"/api/programs/{program_a.pk}/conversations").json()
    assert listed[0]["subject"] == "Mon souci privé"
    detail = signed_in(manager_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Bonjour" in detail
    assert AuditEntry.objects.filter(action="conversation.contents_read").count() == 1


def test_a_report_on_a_professional_reaches_the_managers(program_a, mentee, mentor, manager_a):
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    message = services.message_send(conversation=conversation, sender=mentor, body="…")
    signed_in(mentee).post(
        f"/conversations/messages/{message.pk}/signaler/", {"reason": "Ton agressif"}
    )
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/conversations/").content.decode()
    assert "Marc Mentor, signalé par Léa Mentee" in page and "Ton agressif" in page
    # nobody reports their own message, nor one of a conversation they are not in
    own = signed_in(mentor).post(
        f"/conversations/messages/{message.pk}/signaler/", {"reason": "x"}, follow=True
    )
    assert "propre message" in own.content.decode()
    assert (
        signed_in(manager_a)
        .post(f"/conversations/messages/{message.pk}/signaler/", {"reason": "x"})
        .status_code
        == 403
    )
    assert Report.objects.count() == 1


def test_the_inbox_leads_to_each_relationships_notes(program_b, mentor, organisation):
    emma = make_member(organisation, "emma@poitiers.example", first="Emma", last="M")
    Enrolment.objects.create(program=program_b, member=emma, role=Role.MENTEE)
    relationship = relationship_create(program=program_b, mentor=mentor, mentee=emma, by=None)
    html = signed_in(emma).get("/conversations/").content.decode()
    assert f'href="/relations/{relationship.pk}/notes/"' in html and "Marc Mentor" in html


def test_a_conversation_counts_as_the_same_events_sent_through_the_api(
    api_as, program_a, mentee, mentor, manager_a, other_participant
):
    """Léa writes to Marc in a conversation; Paul's same exchange comes as API events: the
    table's figures and ❗ are the same for both, before and after Marc's answer."""
    sent = timezone.now() - dt.timedelta(hours=2)
    conversation = services.conversation_start(program=program_a, author=mentee, others=[mentor])
    services.message_send(conversation=conversation, sender=mentee, body="Bonjour", now=sent)
    events = api_as(manager_a)
    stamp = sent.isoformat()
    for kind in ("message", "contact"):
        item = {"email": other_participant.email, "kind": kind, "occurred_at": stamp}
        response = events.post(
            f"/api/programs/{program_a.pk}/events", [{**item, "target_email": mentor.email}]
        )
        assert response.status_code == 200, response.content
    later = timezone.now() + dt.timedelta(days=program_a.unanswered_after_days + 1)

    def figures():
        rows = {r.member_id: r for r in participant_activity_rows(program=program_a, now=later)}
        return [
            (rows[m.pk].professionals_contacted, rows[m.pk].has_unanswered)
            for m in (mentee, other_participant)
        ]

    assert figures() == [(1, True), (1, True)]
    answered = sent + dt.timedelta(hours=1)
    services.message_send(conversation=conversation, sender=mentor, body="Oui", now=answered)
    reply = {
        "email": mentor.email,
        "kind": "message",
        "target_email": other_participant.email,
        "occurred_at": answered.isoformat(),
    }
    assert events.post(f"/api/programs/{program_a.pk}/events", [reply]).status_code == 200
    assert figures() == [(1, False), (1, False)]


def test_inbox_and_conversation_queries_do_not_grow(program_a, mentee, mentor, manager_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(mentee)

    def queries(url):
        client.get(url)  # warm (the session, the read marks)
        with CaptureQueriesContext(connection) as context:
            assert client.get(url).status_code == 200
        return len(context.captured_queries)

    def grow(conversations, messages):
        for n in range(conversations):
            people = [mentor] if n % 2 else [mentor, manager_a]
            c = services.conversation_start(program=program_a, author=mentee, others=people)
            for i in range(messages):
                services.message_send(conversation=c, sender=people[i % len(people)], body="m")
        return c

    small = grow(1, 2)
    inbox_small, detail_small = queries("/conversations/"), queries(f"/conversations/{small.pk}/")
    large = grow(6, 12)
    assert queries("/conversations/") == inbox_small
    assert queries("/conversations/?q=m") <= inbox_small + 1
    assert queries(f"/conversations/{large.pk}/") == detail_small


def test_the_digest_comes_at_eight_in_the_members_own_zone(program_a, mentee, mentor):
    from zoneinfo import ZoneInfo

    mentee.timezone = "America/Montreal"  # the organisation is in Europe/Paris
    mentee.save(update_fields=["timezone"])
    services.notice_mode_set(member=mentee, mode=NoticeMode.DAILY)
    conversation = services.conversation_start(program=program_a, author=mentor, others=[mentee])
    services.message_send(conversation=conversation, sender=mentor, body="Bonjour")
    due = NoticePreference.objects.get(member=mentee).digest_due_at
    local = due.astimezone(ZoneInfo("America/Montreal"))
    assert (local.hour, local.minute) == (8, 0) and due > timezone.now()
    assert due - timezone.now() <= dt.timedelta(days=1)
