"""Benchmark of conversations at scale: a member's inbox, a conversation's page and the
manager's activity table after a burst of messages, each beside its SQL floor.

Builds (once) a programme of N participants (and N/100 professionals) through the
activity bench's builder, then C = N × 5 conversations (each participant with five
professionals) and M messages spread over them, set-based: one INSERT … SELECT for the
messages, on PostgreSQL and SQLite alike. The burst goes through the real service
(`message_send`: the message, its activity events through `events_store`, the notices).

    .venv/bin/python bench/conversations.py          # SQLite (var/bench.sqlite3), small
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_conversations_bench \\
        nice -n 10 .venv/bin/python bench/conversations.py --members 10000 --messages 1000000
Options: --members N --messages M --burst B --repeat R
"""

import argparse
import datetime as dt
import time

# isort: split
from common import floor_ms, median_ms, report, report_header  # first: it sets Django up

# isort: split
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.activity.selectors import participant_activity_page
from cohorte.conversations import services
from cohorte.conversations.models import Conversation, ConversationMessage, Participant
from cohorte.conversations.selectors import conversation_messages, inbox
from cohorte.demo import big_program
from cohorte.programs.models import Enrolment, Organisation, Program, Role
from cohorte.programs.services import organisation_create

PER_MEMBER = 5


def build(members: int, messages: int) -> Program:
    organisation = Organisation.objects.filter(name="Bench").first()
    if organisation is None:
        organisation, _ = organisation_create(
            name="Bench", admin_email="bench@cohorte.example", admin_password="bench-password-1"
        )
    started = time.perf_counter()
    program, built = big_program(
        organisation=organisation,
        name=f"Conversations {members}",
        participants=members,
        events=members * 10,
        prefix="conv",
    )
    if built:
        print(f"programme built in {time.perf_counter() - started:.1f} s")
    if Conversation.objects.filter(program=program).exists():
        return program
    started = time.perf_counter()
    ids = dict.fromkeys([Role.PARTICIPANT, Role.PROFESSIONAL])
    for role in ids:
        ids[role] = list(
            Enrolment.objects.filter(program=program, role=role)
            .order_by("member_id")
            .values_list("member_id", flat=True)
        )
    pros, people = ids[Role.PROFESSIONAL], ids[Role.PARTICIPANT]
    now = timezone.now()
    per_conversation = max(1, messages // (len(people) * PER_MEMBER))
    pairs = [
        (p, pros[(i * PER_MEMBER + k) % len(pros)])
        for i, p in enumerate(people)
        for k in range(PER_MEMBER)
    ]
    with transaction.atomic():
        rows = []
        for n, (person, pro) in enumerate(pairs):
            created = now - dt.timedelta(minutes=per_conversation + (n * 7919) % (60 * 24 * 60))
            last = created + dt.timedelta(minutes=per_conversation - 1)
            sender = person if per_conversation % 2 else pro
            rows.append(
                Conversation(
                    program=program,
                    subject=f"Fil {n}",
                    created_by_id=person,
                    created_at=created,
                    last_message_at=last,
                    last_sender_id=sender,
                )
            )
        Conversation.objects.bulk_create(rows, batch_size=5000)
        fresh = list(
            Conversation.objects.filter(program=program)
            .order_by("pk")
            .values_list("pk", "last_message_at")
        )
        places = []
        for (pk, last), (person, pro) in zip(fresh, pairs, strict=True):
            places.append(
                Participant(
                    conversation_id=pk, member_id=person, last_message_at=last, last_read_at=last
                )
            )
            places.append(
                Participant(conversation_id=pk, member_id=pro, last_message_at=last, unread=1)
            )
        Participant.objects.bulk_create(places, batch_size=5000)
        # the messages: every conversation × `per_conversation`, alternating sides, in SQL
        steps = ", ".join(f"({j})" for j in range(per_conversation))
        minute = "INTERVAL '1 minute'" if connection.vendor == "postgresql" else None
        at = (
            f"c.created_at + s.column1 * {minute}"
            if minute
            else "datetime(c.created_at, '+' || s.column1 || ' minutes')"
        )
        table = ConversationMessage._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (conversation_id, sender_id, body, created_at) "  # noqa: S608
                "SELECT c.id, CASE WHEN s.column1 %% 2 = 0 THEN c.created_by_id "
                "ELSE pp.member_id END, 'Message ' || s.column1 || ' du fil ' || c.id "
                "|| ' : bonjour, où en est le stage ?', "
                f"{at} FROM {Conversation._meta.db_table} c "
                f"JOIN {Participant._meta.db_table} pp ON pp.conversation_id = c.id "
                "AND pp.member_id <> c.created_by_id "
                f"CROSS JOIN (VALUES {steps}) AS s WHERE c.program_id = %s",
                [program.pk],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = ConversationMessage.objects.filter(conversation__program=program).count()
    took = time.perf_counter() - started
    print(f"{len(pairs)} conversations, {total} messages built in {took:.1f} s")
    return program


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--messages", type=int, default=25_000)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    call_command("migrate", verbosity=0)
    program = build(args.members, args.messages)
    manager = Member.objects.get(email="bench@cohorte.example")
    person = (
        Participant.objects.filter(conversation__program=program)
        .exclude(
            member_id__in=Enrolment.objects.filter(program=program, role=Role.PROFESSIONAL).values(
                "member_id"
            )
        )
        .select_related("member", "conversation")
        .order_by("-last_message_at")
        .first()
    )
    assert person is not None
    member, conversation = person.member, person.conversation
    pro = conversation.participants.exclude(member=member).get().member
    print(
        f"members {Member.objects.filter(organisation=program.organisation).count()}, "
        f"messages {ConversationMessage.objects.filter(conversation__program=program).count()}, "
        f"database {connection.vendor}"
    )
    contacts = ActivityEvent.objects.filter(
        program=program, actor=member, target=pro, kind=EventKind.CONTACT
    )
    contacts_before = contacts.count()
    started = time.perf_counter()
    for i in range(args.burst):  # the burst: both sides, through the service
        services.message_send(
            conversation=conversation, sender=member if i % 2 else pro, body=f"Rafale {i}"
        )
    burst_ms = (time.perf_counter() - started) * 1000
    print(f"burst of {args.burst} messages: {burst_ms / args.burst:.1f} ms per message")
    # what the pages will show must already hold: a figure of a wrong page is no figure
    newest = inbox(member=member, limit=1)
    if not newest or newest[0].conversation_id != conversation.pk:
        raise SystemExit("the inbox does not show the conversation of the burst first")
    unread = Participant.objects.get(conversation=conversation, member=pro).unread
    row = next(
        r
        for r in participant_activity_page(program=program, q=member.email)[0:25]
        if r.member_id == member.pk
    )
    burst_contacts = contacts.count() - contacts_before
    if args.burst > 1 and (row.professionals_contacted < 1 or unread < 1 or not burst_contacts):
        raise SystemExit("the burst did not reach the professional or the manager's table")
    print(
        f"after the burst: inbox newest first, professional {unread} unread, "
        f"{burst_contacts} contact events, the table's « professionnels contactés » "
        f"{row.professionals_contacted}"
    )
    as_member, as_manager = Client(HTTP_HOST="localhost"), Client(HTTP_HOST="localhost")
    as_member.force_login(member)
    as_manager.force_login(manager)
    report_header("conversations")

    def get(client: Client, url: str):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    report(
        "member's inbox",
        median_ms(get(as_member, "/conversations/"), args.repeat),
        floor_ms(lambda: inbox(member=member, limit=50), args.repeat),
    )
    report(
        "member's inbox, search « stage »",
        median_ms(get(as_member, "/conversations/?q=stage"), args.repeat),
        floor_ms(lambda: inbox(member=member, q="stage", limit=50), args.repeat),
    )
    report(
        "professional's inbox",
        median_ms(_logged(pro, "/conversations/"), args.repeat),
        floor_ms(lambda: inbox(member=pro, limit=50), args.repeat),
    )
    report(
        "conversation page (50 newest)",
        median_ms(get(as_member, f"/conversations/{conversation.pk}/"), args.repeat),
        floor_ms(lambda: conversation_messages(conversation), args.repeat),
    )
    report(
        "manager's activity table",
        median_ms(get(as_manager, f"/programmes/{program.pk}/"), args.repeat),
        floor_ms(lambda: list(participant_activity_page(program=program)[0:25]), args.repeat),
    )


def _logged(member: Member, url: str):
    client = Client(HTTP_HOST="localhost")
    client.force_login(member)

    def run():
        assert client.get(url).status_code == 200

    return run


if __name__ == "__main__":
    main()
