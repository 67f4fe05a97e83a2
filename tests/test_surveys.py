"""Surveys and programme evaluations: the API's checks, answering, results, anonymity, the
pages, and the proof that an evaluation sent after a relationship ends reaches the pair and
reminds them at 7, 14 and 21 days."""

import datetime as dt
import re
from email.header import decode_header, make_header

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.core import todo
from cohorte.meetings.models import Relationship
from cohorte.meetings.services import relationship_end
from cohorte.messaging import services as messaging
from cohorte.messaging.models import Email
from cohorte.programs.models import Enrolment, Role
from cohorte.surveys import selectors, services
from cohorte.surveys.models import Invitation, Survey

from .conftest import body_of, make_member, signed_in

NOW = timezone.now()
QUESTIONS = [
    {"key": "overall", "kind": "scale", "label": {"fr": "Satisfaction", "en": "Satisfaction"},
     "required": True},
    {"key": "nps", "kind": "nps", "label": "Recommanderiez-vous ?", "required": True},
    {"key": "format", "kind": "single", "label": "Format", "options": ["Visio", "Sur place"]},
    {"key": "topics", "kind": "multiple", "label": {"fr": "Sujets", "en": "Topics"},
     "options": [{"fr": "CV", "en": "Resume"}, {"fr": "Réseau", "en": "Network"}]},
    {"key": "why", "kind": "long_text", "label": "Pourquoi ?",
     "show_if": {"question": "format", "in": ["Visio"]}, "required": True},
]  # fmt: skip


def payload(**changes):
    data = {
        "title": {"fr": "Bilan", "en": "Review"},
        "questions": QUESTIONS,
        "audience": {"roles": ["participant"]},
        "opens_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (NOW + dt.timedelta(days=30)).isoformat(),
    }
    return {**data, **changes}


def reasons(response) -> dict:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


def test_create_refuses_every_bad_part_with_a_clear_message(api_as, manager_a, program_a, mentee):
    api = api_as(manager_a)
    bad = [
        {"key": "a", "kind": "scale", "label": "A", "options": ["x", "y"]},
        {"key": "a", "kind": "single", "label": "B"},
    ]
    response = api.post(
        f"/api/programs/{program_a.pk}/surveys",
        payload(
            questions=bad,
            audience={"roles": ["pilot"], "emails": ["nobody@x.example", mentee.email]},
            closes_at=(NOW - dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 400
    found = reasons(response)
    assert "pas d'options" in found["questions.0.options"]
    assert "double" in found["questions.1.key"]
    assert "deux options" in found["questions.1.options"]
    assert "clôture" in found["closes_at"]
    assert "pilot" in found["audience.roles"]
    assert (
        "nobody@x.example" in found["audience.emails"]
        and mentee.email not in found["audience.emails"]
    )
    assert not Survey.objects.exists()
    naive = api.post(f"/api/programs/{program_a.pk}/surveys", payload(opens_at="2030-01-01T10:00"))
    assert naive.status_code == 400 and "décalage" in naive.json()["errors"][0]["reason"]


def test_only_the_programmes_managers_create_and_read_results(
    api_as, manager_a, manager_b, program_a, mentee, outsider
):
    created = api_as(manager_a).post(f"/api/programs/{program_a.pk}/surveys", payload())
    assert created.status_code == 201
    survey_id = created.json()["id"]
    assert created.json()["title"] == {"fr": "Bilan", "en": "Review"}
    assert created.json()["questions"][2]["label"] == {
        "fr": "Format",
        "en": "Format",
    }  # a string label is both languages
    assert (
        api_as(manager_b).post(f"/api/programs/{program_a.pk}/surveys", payload()).status_code
        == 404
    )
    assert api_as(manager_b).get(f"/api/surveys/{survey_id}/results").status_code == 404
    assert api_as(outsider).get(f"/api/surveys/{survey_id}").status_code == 404
    assert api_as(mentee).get(f"/api/surveys/{survey_id}/results").status_code == 404


def test_answering_checks_each_value_and_a_second_response_replaces_the_first(
    api_as, manager_a, program_a, mentee, mentor, organisation
):
    api = api_as(manager_a)
    survey_id = api.post(f"/api/programs/{program_a.pk}/surveys", payload()).json()["id"]
    survey = Survey.objects.get(pk=survey_id)
    assert services.survey_send(survey=survey, by=manager_a) == 1  # the participant only
    me = api_as(mentee)
    url = f"/api/surveys/{survey_id}/responses"
    assert api_as(mentee).get(f"/api/surveys/{survey_id}").status_code == 200

    missing = me.post(url, {"answers": [{"question": "overall", "value": 4}]})
    assert missing.status_code == 400 and reasons(missing)["answers.nps"] == "réponse obligatoire"
    wrong = me.post(
        url,
        {"answers": [
            {"question": "overall", "value": 6}, {"question": "nps", "value": 9},
            {"question": "format", "value": "Téléphone"}, {"question": "zzz", "value": 1},
        ]},
    )  # fmt: skip
    found = reasons(wrong)
    assert "1 à 5" in found["answers.overall"] and "Téléphone" in found["answers.format"]
    assert found["answers.zzz"] == "question inconnue"
    # « Pourquoi ? » is shown (so required) only after « Visio »
    hidden = me.post(url, {"answers": [{"question": "overall", "value": 2},
                                       {"question": "nps", "value": 3},
                                       {"question": "format", "value": "Visio"}]})  # fmt: skip
    assert reasons(hidden)["answers.why"] == "réponse obligatoire"
    first = me.post(url, {"answers": [
        {"question": "overall", "value": 2}, {"question": "nps", "value": 3},
        {"question": "format", "value": "Sur place"},
        {"question": "topics", "value": ["Network", "CV"]},
    ]})  # fmt: skip
    assert first.status_code == 201 and first.json()["answers"]["topics"] == ["CV", "Réseau"]
    again = me.post(url, {"answers": [{"question": "overall", "value": 5},
                                      {"question": "nps", "value": 10}]})  # fmt: skip
    assert again.status_code == 200 and again.json()["replaced"] is True

    assert api_as(mentor).post(url, {"answers": []}).status_code == 403  # not invited
    results = api.get(f"/api/surveys/{survey_id}/results").json()
    assert (results["invited"], results["responded"], results["rate"]) == (1, 1, 1.0)
    overall = results["questions"][0]
    assert overall["distribution"]["5"] == 1 and overall["distribution"]["2"] == 0
    assert overall["mean"] == 5.0 and results["questions"][1]["nps"] == 100

    Survey.objects.filter(pk=survey_id).update(closes_at=NOW - dt.timedelta(minutes=1),
                                               opens_at=NOW - dt.timedelta(days=1))  # fmt: skip
    closed = me.post(url, {"answers": [{"question": "overall", "value": 1}]})
    assert closed.status_code == 409


def _invite(survey, members, when=NOW):
    return services.invitations_create(survey=survey, members=members, now=when)


def _answer(invitation, overall, nps, text="ok"):
    services.response_save(
        invitation=invitation,
        answers={"overall": overall, "nps": nps, "format": "Visio", "why": text},
    )


def test_an_anonymous_survey_never_says_who_answered_what(
    organisation, program_a, manager_a, mentee
):
    people = [mentee] + [
        make_member(organisation, f"p{i}@x.example", first=f"P{i}", last="Zed") for i in range(2)
    ]
    for person in people[1:]:
        Enrolment.objects.create(program=program_a, member=person, role=Role.PARTICIPANT)
    survey = services.survey_create(
        program=program_a, title_fr="Anonyme", questions=QUESTIONS,
        opens_at=NOW - dt.timedelta(hours=1), closes_at=NOW + dt.timedelta(days=3),
        anonymous=True, by=manager_a,
    )  # fmt: skip
    invitations = _invite(survey, people)
    _answer(invitations[0], 5, 10, text="=HYPERLINK(1)")
    _answer(invitations[1], 4, 6)
    page = signed_in(manager_a).get(f"/sondages/{survey.pk}/")
    text = page.content.decode()
    assert "moins de 3 réponses" in text and "=HYPERLINK" not in text
    assert "2</strong> / 3" in text  # the rate shows
    _answer(invitations[2], 3, 8)
    page = signed_in(manager_a).get(f"/sondages/{survey.pk}/").content.decode()
    assert "moins de 3" not in page and "data-nps>0</strong>" in page  # 10, 6, 8
    assert "data-mean>4,0</strong>" in page
    csv = b"".join(signed_in(manager_a).get(f"/sondages/{survey.pk}/reponses.csv")).decode()
    assert "'=HYPERLINK(1)" in csv  # neutralised
    for person in people:
        assert person.email not in csv and (person.last_name or "Mentee") not in csv
    assert "Léa" not in page


def builder_post(rows, **settings):
    """What the builder's form posts: the settings and one row per question."""
    data = {
        "title_fr": "Mi-parcours",
        "title_en": "Midway",
        "opens_at": "2026-01-01T09:00",
        "closes_at": "2028-06-01T09:00",
        "trigger": "manual",
        "trigger_n": "0",
        "reminder_days": "7, 14, 21",
        "roles": ["participant"],
        "q-TOTAL_FORMS": str(len(rows)),
        "q-INITIAL_FORMS": "0",
        "q-MIN_NUM_FORMS": "0",
        "q-MAX_NUM_FORMS": "50",
        **settings,
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"q-{index}-{name}"] = value
    return data


def test_builder_page_creates_a_survey_and_the_member_finds_it_in_todo(
    program_a, manager_a, mentee
):
    client = signed_in(manager_a)
    assert client.get(f"/programmes/{program_a.pk}/sondages/").status_code == 200
    assert client.get(f"/programmes/{program_a.pk}/sondages/nouveau/").status_code == 200
    url = f"/programmes/{program_a.pk}/sondages/nouveau/"
    note = {"kind": "scale", "label_fr": "Note", "label_en": "Score", "required": "on"}
    response = client.post(url, builder_post([note, {"kind": "single", "label_fr": "Choix"}]))
    page = response.content.decode()
    assert response.status_code == 400 and "deux options" in page
    assert 'id="id_q-1-options_fr"' in page  # the reason sits on the row it concerns
    assert not Survey.objects.exists()
    response = client.post(url, builder_post([note]))
    survey = Survey.objects.get()
    assert response.status_code == 302 and survey.opens_at.utcoffset() is not None
    assert str(survey.opens_at.astimezone(program_a.organisation.tzinfo).time()) == "09:00:00"
    assert survey.questions[0]["label"] == {"fr": "Note", "en": "Score"}
    assert survey.questions[0]["key"] == "q1" and survey.questions[0]["required"] is True
    client.post(f"/sondages/{survey.pk}/envoyer/")
    items = [i for i in todo.items_for(mentee) if i.kind == "survey"]
    assert [i.url for i in items] == [f"/sondages/{survey.pk}/repondre/"]
    assert [i.survey for i in selectors.surveys_to_answer(mentee)] == [survey]
    me = signed_in(mentee)
    mine = me.get("/mes-sondages/").content.decode()
    assert "Mi-parcours" in mine and f"/sondages/{survey.pk}/repondre/" in mine
    assert "Mi-parcours" in me.get(items[0].url).content.decode()
    assert me.post(items[0].url, {"q_q1": "9"}).status_code == 400
    assert me.post(items[0].url, {"q_q1": "4"}).status_code == 302
    assert [i for i in todo.items_for(mentee) if i.kind == "survey"] == []
    assert "modifiable jusqu" in me.get("/mes-sondages/").content.decode()
    assert signed_in(manager_a).get(f"/sondages/{survey.pk}/repondre/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_an_evaluation_after_a_relationship_ends_reaches_the_pair_and_reminds_at_7_14_21(
    organisation, program_b, manager_b, mentor, smtp
):
    mentee = make_member(organisation, "noe@poitiers.example", first="Noé", last="Mentee")
    Enrolment.objects.create(program=program_b, member=mentee, role=Role.MENTEE)
    survey = services.survey_create(
        program=program_b, title_fr="Évaluation du programme", title_en="Programme evaluation",
        questions=QUESTIONS[:2], opens_at=NOW - dt.timedelta(days=1),
        closes_at=NOW + dt.timedelta(days=90), trigger="relationship_end", trigger_n=2,
        by=manager_b,
    )  # fmt: skip
    relationship = Relationship.objects.create(program=program_b, mentor=mentor, mentee=mentee)
    relationship_end(relationship=relationship, by=manager_b)
    ended = Relationship.objects.get(pk=relationship.pk).ended_at

    def run(days):
        return services.surveys_run(now=ended + dt.timedelta(days=days))

    assert run(1) == {"invited": 0, "reminded": 0}  # N = 2 days after the end
    assert run(2.1) == {"invited": 2, "reminded": 0}
    assert run(2.2) == {"invited": 0, "reminded": 0}  # a second tick sends nothing more
    messaging.outbox_send()
    assert sorted(m["X-Envelope-To"] for m in smtp) == [mentor.email, mentee.email]
    link = re.search(r"https?://\S+/sondages/lien/\S+/", body_of(smtp[0])).group(0)
    path = "/sondages/lien/" + link.split("/sondages/lien/")[1]

    # the link opens the form without signing in, and only for that person
    anonymous = Client()
    page = anonymous.get(path)
    assert page.status_code == 200 and "Évaluation du programme" in page.content.decode()
    assert anonymous.get(path[:-3] + "xx/").status_code == 404
    invitation = Invitation.objects.get(pk=services.invitation_from_token(path.split("/")[3]).pk)
    assert anonymous.post(path, {"q_overall": "4", "q_nps": "9"}).status_code == 302
    answered = invitation.member
    other = mentee if answered == mentor else mentor

    assert run(9.2)["reminded"] == 1  # 7 days after the invitation: only who has not answered
    assert run(9.5)["reminded"] == 0
    assert run(16.2)["reminded"] == 1
    assert run(40)["reminded"] == 1  # day 21 (reached late): one e-mail, not two
    assert run(60)["reminded"] == 0
    messaging.outbox_send()
    subjects = [(str(make_header(decode_header(m["Subject"]))), m["X-Envelope-To"]) for m in smtp]
    reminders = [to for subject, to in subjects if subject.startswith(("Rappel", "Reminder"))]
    assert len(reminders) == 3 and set(reminders) == {other.email}
    assert ("Sondage : Évaluation du programme", mentor.email) in subjects
    assert Email.objects.filter(to_email=answered.email).count() == 1

    services.response_save(
        invitation=Invitation.objects.get(survey=survey, member=other),
        answers={"overall": 2, "nps": 5},
    )
    results = selectors.survey_results(survey=survey)
    assert (results["invited"], results["responded"], results["rate"]) == (2, 2, 1.0)
    assert results["questions"][0]["distribution"]["4"] == 1
    assert results["questions"][0]["distribution"]["2"] == 1
    assert results["questions"][0]["mean"] == 3.0
    assert results["questions"][1]["nps"] == 0  # one promoter (9), one detractor (5)
    Survey.objects.filter(pk=survey.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    assert anonymous.get(path).status_code == 410  # the link expires at closing
