"""The demo's conversations, written through the conversations app's own services at
moments inside the programme's dates and in waking hours: the inboxes, the « professionnels
contactés » counts and the ❗ of an unanswered conversation all come from the same messages,
by the rule the application uses. Nobody is e-mailed about a demo message."""

import datetime as dt
import random
from collections.abc import Callable, Sequence

from cohorte.accounts.models import Language, Member
from cohorte.conversations.models import Conversation, Participant
from cohorte.conversations.services import conversation_start, message_send
from cohorte.programs.models import Program

Awake = Callable[[random.Random, dt.datetime, dt.datetime, dt.tzinfo], dt.datetime]
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)

#: a participant writes, the professional answers: (French, English) for each line
ANSWERED = [
    (
        (
            "Bonjour, pourriez-vous me parler de votre métier avant notre rencontre ?",
            "Hello, could you tell me about your job before we meet?",
        ),
        (
            "Avec plaisir ! Préparez vos questions, nous en parlerons jeudi.",
            "With pleasure! Get your questions ready, we will talk about it on Thursday.",
        ),
    ),
    (
        (
            "Merci pour la rencontre d'hier : j'ai trouvé une formation qui me plaît.",
            "Thank you for yesterday's meeting: I found a course I like.",
        ),
        (
            "Bravo ! Envoyez-moi son programme, je vous dirai ce que j'en pense.",
            "Well done! Send me its programme and I will tell you what I think.",
        ),
    ),
    (
        (
            "Le stage de troisième année est-il obligatoire dans votre école ?",
            "Is the third-year internship compulsory in your school?",
        ),
        (
            "Oui, six mois en entreprise. Je peux vous présenter une ancienne élève.",
            "Yes, six months in a company. I can introduce you to a former student.",
        ),
    ),
]
#: the first line of a conversation the professional has not answered yet
UNANSWERED = (
    "Bonjour, je n'ai pas pu venir mardi : pouvons-nous fixer un autre moment ?",
    "Hello, I could not come on Tuesday: can we find another time?",
)
GROUP = (
    (
        "Rappel pour tous",
        "Bonjour à tous, pensez à réserver votre prochaine rencontre avant la fin du mois.",
    ),
    (
        "A reminder for all",
        "Hello everyone, remember to book your next meeting before the end of the month.",
    ),
)


def _started(conversation: Conversation, at: dt.datetime) -> None:
    """Begun when its first message was written, not when the demo was built."""
    Conversation.objects.filter(pk=conversation.pk).update(created_at=at)


def _text(pair: tuple[str, str], *people: Member) -> str:
    """French unless one of the people reads English."""
    return pair[1] if any(p.language == Language.EN for p in people) else pair[0]


def demo_conversations(
    rng: random.Random,
    *,
    program: Program,
    manager: Member,
    participants: Sequence[Member],
    professionals: Sequence[Member],
    unanswered: Sequence[tuple[Member, Member, int]],
    zone: Callable[[Member], dt.tzinfo],
    awake: Awake,
    now: dt.datetime,
) -> None:
    """Answered exchanges between participants and professionals, the unanswered ones the
    table flags ((participant, professional, days ago)), a manager's message to a group."""
    start, end = program.window()
    last = min(end, now - DAY)
    for index, (participant, pro) in enumerate(zip(participants, professionals, strict=False)):
        question, answer = ANSWERED[index % len(ANSWERED)]
        conversation = conversation_start(program=program, author=participant, others=[pro])
        asked = awake(rng, start, last - 3 * DAY, zone(participant))
        message_send(
            conversation=conversation,
            sender=participant,
            body=_text(question, participant, pro),
            now=asked,
        )
        _started(conversation, asked)
        message_send(
            conversation=conversation,
            sender=pro,
            body=_text(answer, participant, pro),
            now=awake(rng, asked + HOUR, asked + 2 * DAY, zone(pro)),
        )
    for participant, pro, ago in unanswered:
        conversation = conversation_start(program=program, author=participant, others=[pro])
        message_send(
            conversation=conversation,
            sender=participant,
            body=_text(UNANSWERED, participant, pro),
            now=now - ago * DAY,
        )
        _started(conversation, now - ago * DAY)
    group = list(participants[:4])
    french, english = GROUP
    subject, body = english if manager.language == Language.EN else french
    conversation = conversation_start(
        program=program, author=manager, others=group, subject=subject
    )
    sent = awake(rng, last - 2 * DAY, last, zone(manager))
    message_send(conversation=conversation, sender=manager, body=body, now=sent)
    _started(conversation, sent)


def demo_quiet() -> None:
    """No notice e-mail for what the demo wrote: the tasks queued find nothing due."""
    Participant.objects.filter(notice_due_since__isnull=False).update(notice_due_since=None)
