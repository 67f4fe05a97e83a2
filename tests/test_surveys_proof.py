"""§7's proof, through the real worker: a programme evaluation triggered N days after a
relationship ends reaches both of the pair by e-mail, reminds whoever has not answered
7, 14 and 21 days after their invitation — once each, however many times the tick runs —
and its results are the answers given."""

import datetime as dt
import re
from email.header import decode_header, make_header

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from cohorte.activity.tasks import scheduler_tick
from cohorte.meetings.models import Relationship
from cohorte.meetings.services import relationship_end
from cohorte.programs.models import Enrolment, Role
from cohorte.surveys import selectors, services
from cohorte.surveys.models import Invitation

from .conftest import body_of, make_member, run_tasks

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = [
    {"key": "overall", "kind": "scale", "label": {"fr": "Satisfaction", "en": "Satisfaction"},
     "required": True},
    {"key": "nps", "kind": "nps", "label": {"fr": "Recommanderiez-vous ?",
                                            "en": "Would you recommend it?"}, "required": True},
]  # fmt: skip


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def tick_twice() -> None:
    """Two ticks queued at once, as after a worker's restart: the second finds it done."""
    scheduler_tick.enqueue()
    scheduler_tick.enqueue()
    run_tasks()


def age_invitations(days: float) -> None:
    """Time passes: the invitations were sent `days` ago, and every reminder moves back
    with them."""
    for invitation in Invitation.objects.all():
        shift = invitation.invited_at - (timezone.now() - dt.timedelta(days=days))
        Invitation.objects.filter(pk=invitation.pk).update(
            invited_at=F("invited_at") - shift,
            last_reminded_at=F("last_reminded_at") - shift,
        )


def test_a_programme_evaluation_reaches_the_pair_and_reminds_at_7_14_and_21_days(
    organisation, program_b, manager_b, mentor, smtp
):
    mentee = make_member(
        organisation, "nina@x.example", first="Nina", last="English", language="en"
    )
    Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
    survey = services.survey_create(
        program=program_b, title_fr="Évaluation du programme", title_en="Programme evaluation",
        questions=QUESTIONS, opens_at=timezone.now() - dt.timedelta(days=5),
        closes_at=timezone.now() + dt.timedelta(days=90), trigger="relationship_end",
        trigger_n=3, by=manager_b,
    )  # fmt: skip
    relationship = Relationship.objects.create(program=program_b, mentor=mentor, mentee=mentee)
    relationship_end(relationship=relationship, by=manager_b)

    tick_twice()
    assert not Invitation.objects.exists()  # ended today: 3 days to wait
    Relationship.objects.filter(pk=relationship.pk).update(
        ended_at=timezone.now() - dt.timedelta(days=3, minutes=5)
    )
    tick_twice()
    assert sorted((m["X-Envelope-To"], subject(m)) for m in smtp) == [
        (mentor.email, "Sondage : Évaluation du programme"),
        (mentee.email, "Survey: Programme evaluation"),
    ]  # each in their language, once
    assert set(Invitation.objects.values_list("relationship", flat=True)) == {relationship.pk}

    # the mentor answers through the e-mail's link, without signing in
    mentor_mail = next(m for m in smtp if m["X-Envelope-To"] == mentor.email)
    link = re.search(r"/sondages/lien/[^/\s]+/", body_of(mentor_mail)).group(0)
    assert Client().post(link, {"q_overall": "4", "q_nps": "9"}).status_code == 302

    def reminders():
        return [m["X-Envelope-To"] for m in smtp if subject(m).startswith(("Rappel", "Reminder"))]

    age_invitations(6.9)
    tick_twice()
    assert reminders() == []
    for day, expected in ((7.01, 1), (7.2, 1), (14.01, 2), (14.5, 2), (21.01, 3), (40, 3)):
        age_invitations(day)
        tick_twice()
        assert reminders() == [mentee.email] * expected, day
    reminder = [m for m in smtp if subject(m).startswith("Reminder")][0]
    assert "/sondages/lien/" in body_of(reminder)  # in English, with her own link

    # she answers in the end; the results are the answers
    services.response_save(
        invitation=Invitation.objects.get(member=mentee), answers={"overall": 2, "nps": 5}
    )
    results = selectors.survey_results(survey=survey)
    assert (results["invited"], results["responded"], results["rate"]) == (2, 2, 1.0)
    overall, nps = results["questions"]
    assert overall["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 1, "5": 0}
    assert overall["mean"] == 3.0 and nps["nps"] == 0  # one promoter (9), one detractor (5)
    assert nps["distribution"]["9"] == 1 and nps["distribution"]["5"] == 1
    age_invitations(60)
    tick_twice()
    assert len(reminders()) == 3  # answered: no more
