"""The demo's survey: a mid-programme opinion poll of the running programme's participants,
made and answered through the surveys app's own checks, opened three weeks ago and closing
in ten days, so that its results, its response rate and a member's « À faire » all have
something to show. Its invitations and reminders are as if already sent: nobody is
e-mailed."""

import datetime as dt
import random
from collections.abc import Callable, Sequence

from cohorte.accounts.models import Member
from cohorte.programs.models import Program
from cohorte.surveys.models import Invitation, Trigger
from cohorte.surveys.services import response_save, survey_create

DAY = dt.timedelta(days=1)
REMINDER_DAYS = [7, 14]

QUESTIONS = [
    {
        "key": "utile",
        "kind": "scale",
        "label": {
            "fr": "Les rencontres vous aident-elles à choisir votre voie ?",
            "en": "Do the meetings help you choose your path?",
        },
        "required": True,
    },
    {
        "key": "manque",
        "kind": "long_text",
        "label": {"fr": "Qu'est-ce qui vous a manqué ?", "en": "What did you miss?"},
        "show_if": {"question": "utile", "in": ["1", "2", "3"]},
    },
    {
        "key": "format",
        "kind": "single",
        "label": {"fr": "Le format que vous préférez", "en": "The format you prefer"},
        "options": [
            {"fr": "En personne", "en": "In person"},
            {"fr": "Visioconférence", "en": "Video call"},
            {"fr": "Téléphone", "en": "Phone"},
        ],
        "required": True,
    },
    {
        "key": "recommande",
        "kind": "nps",
        "label": {
            "fr": "Recommanderiez-vous ce programme à un ami ?",
            "en": "Would you recommend this programme to a friend?",
        },
        "required": True,
    },
]
MISSED = [
    "Plus de temps avec chaque professionnel.",
    "Des métiers du soin parmi les professionnels.",
    "Une rencontre en entreprise.",
]


def demo_survey(
    rng: random.Random,
    *,
    program: Program,
    manager: Member,
    invited: Sequence[Member],
    answering: Sequence[Member],
    awake: Callable[[random.Random, dt.datetime, dt.datetime, dt.tzinfo], dt.datetime],
    zone: Callable[[Member], dt.tzinfo],
    now: dt.datetime,
) -> None:
    """The survey, the `invited` invited when it opened, those `answering` (some of them)
    having answered since."""
    opened = now - 21 * DAY
    survey = survey_create(
        program=program,
        title_fr="Votre avis à mi-parcours",
        title_en="Your opinion halfway through",
        questions=QUESTIONS,
        audience={"roles": ["participant"]},
        opens_at=opened,
        closes_at=now + 10 * DAY,
        trigger=Trigger.DATE,
        reminder_days=REMINDER_DAYS,
        by=manager,
    )
    # as if the opening tick had e-mailed them, and the reminders gone at 7 and 14 days
    invitations = Invitation.objects.bulk_create(
        Invitation(
            survey=survey,
            member=member,
            invited_at=opened,
            reminders_sent=len(REMINDER_DAYS),
            last_reminded_at=opened + REMINDER_DAYS[-1] * DAY,
        )
        for member in invited
    )
    invitation_of = {invitation.member_id: invitation for invitation in invitations}
    for member in answering:
        invitation = invitation_of[member.pk]
        useful = rng.choice([2, 3, 4, 4, 5, 5])
        answers = [
            {"question": "utile", "value": useful},
            {"question": "format", "value": rng.choice(["En personne", "Visioconférence"])},
            {"question": "recommande", "value": min(10, useful * 2 + rng.randint(-1, 1))},
        ]
        if useful <= 3:
            answers.append({"question": "manque", "value": rng.choice(MISSED)})
        response_save(
            invitation=invitation,
            answers=answers,
            now=awake(rng, opened + DAY, now - DAY, zone(member)),
        )
