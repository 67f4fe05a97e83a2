"""The surveys' pages and rules around them: the builder's added row, editing before the
opening, deleting after a confirmation, the reminder by hand, who is in the audience, the
triggers, anonymity under filters, and the cost of the pages."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from cohorte.accounts.models import SavedMemberFilter
from cohorte.core.models import AuditEntry
from cohorte.messaging.models import Email
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Role
from cohorte.surveys import selectors, services
from cohorte.surveys.models import Invitation, Response, Survey

from .conftest import hold_meetings, make_member, signed_in
from .test_surveys import builder_post

NOW = timezone.now()
QUESTIONS = [
    {"key": "note", "kind": "scale", "label": {"fr": "Note", "en": "Score"}, "required": True},
    {"key": "nps", "kind": "nps", "label": "NPS"},
    {"key": "mot", "kind": "short_text", "label": "Un mot"},
]


def make_survey(program, by, *, opens=NOW - dt.timedelta(hours=1), **extra):
    return services.survey_create(
        program=program,
        title_fr="Bilan",
        title_en="Review",
        questions=extra.pop("questions", QUESTIONS),
        opens_at=opens,
        closes_at=opens + dt.timedelta(days=60),
        by=by,
        **extra,
    )


def people(organisation, program, n, role=Role.PARTICIPANT, prefix="p"):
    made = []
    for i in range(n):
        person = make_member(organisation, f"{prefix}{i}@x.example", first=f"{prefix.upper()}{i}")
        Enrolment.objects.create(program=program, member=person, role=role)
        made.append(person)
    return made


def test_added_row_offers_the_questions_above_and_counts_itself(program_a, manager_a, manager_b):
    url = f"/programmes/{program_a.pk}/sondages/question/"
    data = {"q-TOTAL_FORMS": "2", "q-0-key": "", "q-0-label_fr": "Format",
            "q-1-key": "avis", "q-1-label_fr": "Votre avis"}  # fmt: skip
    response = signed_in(manager_a).post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="q-2-kind"' in page and "Question 3" in page
    assert 'name="q-2-ORDER" value="3"' in page and 'name="q-2-DELETE"' in page
    assert '<option value="q1">q1 — Format</option>' in page
    assert '<option value="avis">avis — Votre avis</option>' in page
    assert 'id="id_q-TOTAL_FORMS" hx-swap-oob="true"' in page and 'value="3"' in page
    assert signed_in(manager_b).post(url, data).status_code == 404
    assert signed_in(manager_a).post(url, {"q-TOTAL_FORMS": "50"}).status_code == 400
    assert signed_in(manager_a).post(url, {"q-TOTAL_FORMS": "x²"}).status_code == 400


def test_a_survey_is_edited_until_it_opens_then_no_longer(program_a, manager_a, manager_b):
    survey = make_survey(program_a, manager_a, opens=NOW + dt.timedelta(days=2))
    client = signed_in(manager_a)
    page = client.get(f"/sondages/{survey.pk}/modifier/").content.decode()
    assert 'value="Note"' in page and 'value="Score"' in page and "Enregistrer le sondage" in page
    assert signed_in(manager_b).get(f"/sondages/{survey.pk}/modifier/").status_code == 404
    rows = [{"key": "qui", "kind": "multiple", "label_fr": "Avec qui ?", "ORDER": "3",
             "options_fr": "Mentor\nPairs", "options_en": "Mentor\nPeers",
             "show_if_question": "note", "show_if_values": "1; 2"},
            {"key": "nps", "kind": "nps", "label_fr": "NPS", "DELETE": "on", "ORDER": "2"},
            {"key": "note", "kind": "scale", "label_fr": "Note globale", "required": "on",
             "ORDER": "1"}]  # fmt: skip
    response = client.post(
        f"/sondages/{survey.pk}/modifier/",
        builder_post(rows, opens_at="2031-01-01T09:00", closes_at="2031-02-01T09:00"),
    )
    assert response.status_code == 302
    survey.refresh_from_db()
    assert [q["key"] for q in survey.questions] == ["note", "qui"]  # reordered, « nps » deleted
    assert survey.questions[0]["label"]["fr"] == "Note globale"
    assert survey.questions[1]["options"][1] == {"fr": "Pairs", "en": "Peers"}
    assert survey.questions[1]["show_if"] == {"question": "note", "in": ["1", "2"]}
    assert AuditEntry.objects.filter(action="survey.updated").exists()

    Survey.objects.filter(pk=survey.pk).update(opens_at=NOW - dt.timedelta(minutes=1))
    refused = client.get(f"/sondages/{survey.pk}/modifier/", follow=True)
    assert "ne peut plus être modifié" in refused.content.decode()
    client.post(
        f"/sondages/{survey.pk}/modifier/", builder_post([{"kind": "nps", "label_fr": "X"}])
    )
    survey.refresh_from_db()
    assert [q["key"] for q in survey.questions] == ["note", "qui"]


def test_delete_asks_first_and_says_what_goes(program_a, manager_a, manager_b, mentee):
    survey = make_survey(program_a, manager_a)
    services.survey_send(survey=survey, by=manager_a)
    services.response_save(invitation=Invitation.objects.get(member=mentee), answers={"note": 3})
    client = signed_in(manager_a)
    page = client.get(f"/sondages/{survey.pk}/supprimer/").content.decode()
    assert "Supprimer définitivement" in page and "sa réponse" in page
    assert Survey.objects.filter(pk=survey.pk).exists()  # asking deletes nothing
    assert signed_in(manager_b).post(f"/sondages/{survey.pk}/supprimer/").status_code == 404
    response = client.post(f"/sondages/{survey.pk}/supprimer/")
    assert response.status_code == 302 and not Survey.objects.filter(pk=survey.pk).exists()
    assert not Response.objects.exists()
    entry = AuditEntry.objects.get(action="survey.deleted")
    assert entry.data == {"title": "Bilan", "responses": 1}


def test_a_reminder_by_hand_reaches_who_has_not_answered_once(
    organisation, program_a, manager_a, mentee
):
    others = people(organisation, program_a, 2)
    survey = make_survey(program_a, manager_a)
    services.invitations_create(
        survey=survey, members=[mentee, *others], now=NOW - dt.timedelta(days=7, hours=1)
    )
    services.response_save(invitation=Invitation.objects.get(member=mentee), answers={"note": 4})
    client = signed_in(manager_a)
    before = Email.objects.count()
    page = client.post(f"/sondages/{survey.pk}/relancer/", follow=True).content.decode()
    assert "2 relances envoyées" in page
    assert (
        "Aucune relance envoyée"
        in client.post(f"/sondages/{survey.pk}/relancer/", follow=True).content.decode()
    )  # a second click sends nothing
    reminded = Email.objects.all()[before:]
    assert sorted(e.to_email for e in reminded) == sorted(p.email for p in others)
    assert all(e.subject.startswith("Rappel") for e in reminded)
    # the automatic day-7 reminder, an hour later, does not send a second one
    assert services.survey_run(survey=survey, now=timezone.now() + dt.timedelta(hours=1)) == {
        "invited": 0, "reminded": 0}  # fmt: skip
    assert (
        services.survey_run(survey=survey, now=timezone.now() + dt.timedelta(days=7, hours=1))[
            "reminded"
        ]
        == 2
    )  # day 14
    assert AuditEntry.objects.filter(action="survey.reminded").count() == 1


def test_the_audience_adds_roles_cohorts_tags_people_and_a_saved_filter(
    organisation, program_a, manager_a, mentee, mentor
):
    a, b, c, d = people(organisation, program_a, 4, role=Role.MENTEE, prefix="m")
    cohort = Cohort.objects.create(organisation=organisation, name="Promo 2026")
    tag = Cohort.objects.create(organisation=organisation, name="Boursiers", kind=CohortKind.TAG)
    cohort.members.add(a)
    tag.members.add(b)
    saved = SavedMemberFilter.objects.create(organisation=organisation, name="D", query="q=M3")
    survey = make_survey(
        program_a,
        manager_a,
        audience={"roles": ["professional"], "cohorts": [cohort.pk, tag.pk],
                  "emails": [c.email], "saved_filter": saved.pk},
    )  # fmt: skip
    assert set(services.audience_members(survey)) == {mentor, a, b, c, d}
    everyone = make_survey(program_a, manager_a)
    assert set(services.audience_members(everyone)) == {mentee, mentor, a, b, c, d}
    # the builder offers cohorts and tags apart
    page = signed_in(manager_a).get(f"/programmes/{program_a.pk}/sondages/nouveau/").content
    assert '<optgroup label="Cohorte">' in page.decode() and "Boursiers" in page.decode()


def test_after_the_nth_held_meeting_and_at_the_opening_date(
    organisation, program_a, manager_a, mentee, mentor
):
    after_two = make_survey(program_a, manager_a, trigger="meetings", trigger_n=2)
    hold_meetings(program_a, mentee, mentor, 1)
    assert services.survey_run(survey=after_two)["invited"] == 0
    hold_meetings(program_a, mentee, mentor, 1)
    assert services.survey_run(survey=after_two)["invited"] == 2  # both have held two
    assert services.survey_run(survey=after_two)["invited"] == 0

    later = make_survey(program_a, manager_a, opens=NOW + dt.timedelta(days=3))
    assert services.survey_run(survey=later)["invited"] == 0  # not open yet
    assert services.survey_run(survey=later, now=NOW + dt.timedelta(days=3, minutes=1)) == {
        "invited": 2, "reminded": 0}  # fmt: skip

    by_hand = make_survey(program_a, manager_a, trigger="manual")
    services.surveys_run()
    assert not Invitation.objects.filter(survey=by_hand).exists()  # only the button sends it


def test_anonymous_results_never_narrow_to_a_few_people(organisation, program_a, manager_a):
    participants = people(organisation, program_a, 4)
    (lone_mentor,) = people(organisation, program_a, 1, role=Role.MENTOR, prefix="t")
    survey = make_survey(program_a, manager_a, anonymous=True)
    invitations = services.invitations_create(
        survey=survey, members=[*participants, lone_mentor], now=NOW
    )
    for invitation, note in zip(invitations, (5, 4, 4, 3, 1), strict=True):
        services.response_save(
            invitation=invitation, answers={"note": note, "mot": f"texte-libre-{note}"}
        )
    whole = selectors.survey_results(survey=survey)
    assert not whole["too_few"] and whole["questions"][0]["distribution"]["1"] == 1
    # the mentor alone, or everyone but the mentor (the difference would be the mentor)
    assert selectors.survey_results(survey=survey, role="mentor")["too_few"]
    assert selectors.survey_results(survey=survey, role="participant")["too_few"]
    client = signed_in(manager_a)
    page = client.get(f"/sondages/{survey.pk}/", {"role": "participant"}).content.decode()
    assert "les résultats ne sont pas affichés" in page and "texte-libre-5" not in page
    csv = b"".join(client.get(f"/sondages/{survey.pk}/reponses.csv")).decode()
    lines = csv.strip().splitlines()
    assert len(lines) == 6 and all(p.email not in csv for p in [*participants, lone_mentor])
    assert not any("mentor" in line.lower() for line in lines[1:])  # a role of one is blank
    # a named survey filters freely
    named = make_survey(program_a, manager_a)
    invitation = services.invitations_create(survey=named, members=[lone_mentor], now=NOW)[0]
    services.response_save(invitation=invitation, answers={"note": 2})
    alone = selectors.survey_results(survey=named, role="mentor")
    assert not alone["too_few"] and alone["questions"][0]["mean"] == 2.0


def test_results_filter_by_cohort_as_answered(organisation, program_a, manager_a):
    a, b, c = people(organisation, program_a, 3)
    cohort = Cohort.objects.create(organisation=organisation, name="Promo")
    cohort.members.add(a, b)
    survey = make_survey(program_a, manager_a)
    for invitation, note in zip(
        services.invitations_create(survey=survey, members=[a, b, c], now=NOW),
        (5, 3, 1),
        strict=True,
    ):
        services.response_save(invitation=invitation, answers={"note": note})
    page = signed_in(manager_a).get(f"/sondages/{survey.pk}/", {"cohort": cohort.pk})
    assert "data-mean>4,0</strong>" in page.content.decode()
    assert "3</strong> / 3" in page.content.decode()  # the rate stays the survey's
    assert signed_in(manager_a).get(f"/sondages/{survey.pk}/", {"cohort": "x"}).status_code == 200


@pytest.mark.parametrize("count", [3, 12])
def test_pages_cost_the_same_whatever_the_number_of_answers(
    organisation, program_a, manager_a, django_assert_max_num_queries, count
):
    crowd = people(organisation, program_a, count)
    surveys = [make_survey(program_a, manager_a) for _ in range(3)]
    for survey in surveys:
        for invitation in services.invitations_create(survey=survey, members=crowd, now=NOW):
            services.response_save(invitation=invitation, answers={"note": 3, "mot": "ok"})
    client = signed_in(manager_a)
    client.get(f"/programmes/{program_a.pk}/sondages/")  # warm the session
    with django_assert_max_num_queries(20):
        assert client.get(f"/programmes/{program_a.pk}/sondages/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(f"/sondages/{surveys[0].pk}/").status_code == 200
    with django_assert_max_num_queries(12):
        selectors.survey_results(survey=surveys[0], role="participant")


def test_a_member_reads_and_answers_in_their_language(organisation, program_a, manager_a):
    (emma,) = people(organisation, program_a, 1, prefix="e")
    emma.language = "en"
    emma.save(update_fields=["language"])
    questions = [
        {"key": "format", "kind": "single", "label": {"fr": "Format", "en": "Format"},
         "options": [{"fr": "Sur place", "en": "In person"}, {"fr": "Visio", "en": "Video"}]},
        {"key": "why", "kind": "short_text", "label": {"fr": "Pourquoi ?", "en": "Why?"},
         "required": True, "show_if": {"question": "format", "in": ["Video"]}},
    ]  # fmt: skip
    survey = make_survey(program_a, manager_a, questions=questions)
    (invitation,) = services.invitations_create(survey=survey, members=[emma], now=NOW)
    link = f"/sondages/lien/{services.answer_token(invitation)}/"
    page = Client().get(link).content.decode()
    assert "Review" in page and "In person" in page and "Why?" in page
    assert 'data-show-if="format"' in page and "&quot;Visio&quot;" in page  # the live rule
    assert "Only if “Format”: Video" in page  # without JavaScript, the rule is written
    refused = Client().post(link, {"q_format": "Visio"})
    assert refused.status_code == 400 and "Why?" in refused.content.decode()
    assert Client().post(link, {"q_format": "Sur place"}).status_code == 302  # hidden: optional
    Survey.objects.filter(pk=survey.pk).update(
        opens_at=NOW - dt.timedelta(days=2), closes_at=NOW - dt.timedelta(days=1)
    )
    assert Client().post(link, {"q_format": "Visio", "q_why": "x"}).status_code == 409
    assert Response.objects.get().answers == {"format": "Sur place"}
