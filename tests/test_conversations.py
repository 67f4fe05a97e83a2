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
