"""The surveys API's contract at its edges (§6): what it refuses and why, values at their
bounds, time zones, other organisations, huge strings."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.programs.models import Organisation, ProgramKind
from cohorte.surveys import services
from cohorte.surveys.models import Survey

from .conftest import make_member, running_program

NOW = timezone.now()


def body(**changes):
    data = {
        "title": "Bilan",
        "questions": [
            {"key": "note", "kind": "scale", "label": "Note", "required": True},
            {"key": "nps", "kind": "nps", "label": "Recommanderiez-vous ?", "required": False},
            {"key": "format", "kind": "single", "label": "Format",
             "options": ["Visio", {"fr": "Sur place", "en": "In person"}]},
            {"key": "why", "kind": "short_text", "label": "Pourquoi ?", "required": True,
             "show_if": {"question": "format", "in": ["In person"]}},
        ],
        "audience": {"roles": ["participant"]},
        "opens_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (NOW + dt.timedelta(days=10)).isoformat(),
        "anonymous": False,
    }  # fmt: skip
    return {**data, **changes}


def reasons(response) -> dict:
    return {e["field"]: e["reason"] for e in response.json()["errors"]}


@pytest.fixture
def survey_id(api_as, manager_a, program_a, mentee):
    created = api_as(manager_a).post(f"/api/programs/{program_a.pk}/surveys", body())
    assert created.status_code == 201, created.json()
    survey = Survey.objects.get(pk=created.json()["id"])
    assert services.survey_send(survey=survey, by=manager_a) == 1
    return survey.pk


def test_duplicate_keys_and_choices_without_options_are_refused(api_as, manager_a, program_a):
    questions = [
        {"key": "a", "kind": "single", "label": "A", "options": []},
        {"key": "a", "kind": "multiple", "label": "B"},
        {"key": "c", "kind": "single", "label": "C", "options": ["Oui", "Oui"]},
        {"key": "d", "kind": "nps", "label": "D",
         "show_if": {"question": "c", "in": ["Peut-être"]}},
        {"key": "e", "kind": "scale", "label": "E", "show_if": {"question": "zz", "in": ["1"]}},
        {"key": "f", "kind": "scale", "label": "F", "show_if": {"question": "d", "in": [11]}},
    ]  # fmt: skip
    response = api_as(manager_a).post(
        f"/api/programs/{program_a.pk}/surveys", body(questions=questions)
    )
    assert response.status_code == 400
    found = reasons(response)
    assert "deux options" in found["questions.0.options"]
    assert "double : a" in found["questions.1.key"]
    assert "deux options" in found["questions.1.options"]
    assert "option en double" in found["questions.2.options"]
    assert "Peut-être" in found["questions.3.show_if"]  # a condition that could never be met
    assert "précédente" in found["questions.4.show_if"]
    assert "0 à 10" in found["questions.5.show_if"]
    assert not Survey.objects.exists()


def test_dates_must_carry_their_offset_and_closing_follows_opening(api_as, manager_a, program_a):
    api = api_as(manager_a)
    url = f"/api/programs/{program_a.pk}/surveys"
    before = api.post(url, body(closes_at=(NOW - dt.timedelta(days=2)).isoformat()))
    assert before.status_code == 400 and "suivre l'ouverture" in reasons(before)["closes_at"]
    same = api.post(url, body(closes_at=body()["opens_at"]))
    assert same.status_code == 400
    naive = api.post(url, body(opens_at="2030-01-01T10:00:00"))
    assert naive.status_code == 400 and "décalage" in naive.json()["errors"][0]["reason"]
    # an offset is kept as the instant it names
    created = api.post(
        url,
        body(opens_at="2030-01-01T10:00:00+05:30", closes_at="2030-01-02T10:00:00-04:00"),
    )
    assert created.status_code == 201
    survey = Survey.objects.get(pk=created.json()["id"])
    assert survey.opens_at == dt.datetime(2030, 1, 1, 4, 30, tzinfo=dt.UTC)
    assert survey.closes_at == dt.datetime(2030, 1, 2, 14, 0, tzinfo=dt.UTC)
    read = api.get(f"/api/surveys/{survey.pk}").json()
    assert dt.datetime.fromisoformat(read["opens_at"]) == survey.opens_at
    assert read["status"] == "upcoming"


def test_another_organisations_programme_and_survey_are_not_found(
    api_as, manager_a, program_a, outsider, survey_id
):
    other_org = Organisation.objects.create(name="Ailleurs bis", timezone="Europe/Paris")
    boss = make_member(other_org, "boss@ailleurs.example")
    elsewhere = running_program(other_org, "Ailleurs", ProgramKind.MENTORING, 2, boss)
    assert (
        api_as(manager_a).post(f"/api/programs/{elsewhere.pk}/surveys", body()).status_code == 404
    )
    assert api_as(outsider).post(f"/api/programs/{program_a.pk}/surveys", body()).status_code == 404
    assert api_as(outsider).get(f"/api/surveys/{survey_id}").status_code == 404
    assert api_as(outsider).get(f"/api/surveys/{survey_id}/results").status_code == 404
    answer = {"answers": [{"question": "note", "value": 3}]}
    assert api_as(outsider).post(f"/api/surveys/{survey_id}/responses", answer).status_code == 404
    assert api_as(manager_a).get("/api/surveys/999999999/results").status_code == 404


@pytest.mark.parametrize(
    ("question", "value", "ok"),
    [
        ("note", 1, True), ("note", 5, True), ("note", 0, False), ("note", 6, False),
        ("note", -1, False), ("note", "5", True), ("note", True, False), ("note", 2.5, False),
        ("nps", 0, True), ("nps", 10, True), ("nps", 11, False), ("nps", 6, True),
        ("format", "Visio", True), ("format", "In person", True), ("format", "Téléphone", False),
        ("format", ["Visio", "Sur place"], False),
    ],
)  # fmt: skip
def test_values_at_their_bounds(api_as, mentee, survey_id, question, value, ok):
    answers = [{"question": "note", "value": 3}] if question != "note" else []
    answers.append({"question": question, "value": value})
    if question == "format" and value == "In person":
        answers.append({"question": "why", "value": "Plus simple"})
    response = api_as(mentee).post(f"/api/surveys/{survey_id}/responses", {"answers": answers})
    assert response.status_code == (201 if ok else 400), response.json()
    if not ok:
        assert response.json()["errors"], "a 400 says what is wrong"


def test_a_hidden_question_is_not_required_and_its_answer_is_not_kept(api_as, mentee, survey_id):
    url = f"/api/surveys/{survey_id}/responses"
    me = api_as(mentee)
    shown = me.post(url, {"answers": [{"question": "note", "value": 4},
                                      {"question": "format", "value": "Sur place"}]})  # fmt: skip
    assert shown.status_code == 400 and reasons(shown)["answers.why"] == "réponse obligatoire"
    hidden = me.post(url, {"answers": [{"question": "note", "value": 4},
                                       {"question": "format", "value": "Visio"},
                                       {"question": "why", "value": "ignored"}]})  # fmt: skip
    assert hidden.status_code == 201 and hidden.json()["answers"] == {"note": 4, "format": "Visio"}


def test_huge_strings_are_refused_with_a_reason_never_a_500(
    api_as, manager_a, program_a, mentee, survey_id
):
    api = api_as(manager_a)
    url = f"/api/programs/{program_a.pk}/surveys"
    long_title = api.post(url, body(title="x" * 201))
    assert long_title.status_code == 400 and "200" in reasons(long_title)["title"]
    huge = api.post(url, body(title="x" * 100_000))
    assert huge.status_code == 400
    label = [{"key": "a", "kind": "scale", "label": "y" * 501}]
    assert api.post(url, body(questions=label)).status_code == 400
    key = [{"key": "k" * 41, "kind": "scale", "label": "A"}]
    assert api.post(url, body(questions=key)).status_code == 400
    odd_key = [{"key": "a b", "kind": "scale", "label": "A"}]
    assert "clé" in reasons(api.post(url, body(questions=odd_key)))["questions.0.key"]
    many = [{"key": f"k{i}", "kind": "scale", "label": "A"} for i in range(51)]
    assert api.post(url, body(questions=many)).status_code == 400
    assert Survey.objects.count() == 1  # the fixture's only

    answers = {"answers": [{"question": "note", "value": 3},
                           {"question": "format", "value": "Sur place"},
                           {"question": "why", "value": "z" * 301}]}  # fmt: skip
    refused = api_as(mentee).post(f"/api/surveys/{survey_id}/responses", answers)
    assert refused.status_code == 400 and "300" in reasons(refused)["answers.why"]
    answers["answers"][2]["value"] = "z" * 1_000_000
    assert api_as(mentee).post(f"/api/surveys/{survey_id}/responses", answers).status_code == 400


def test_results_follow_the_contract(api_as, manager_a, program_a, mentee, organisation, survey_id):
    from cohorte.programs.models import Enrolment, Role
    from cohorte.surveys.models import Invitation

    others = []
    for i in range(3):
        person = make_member(organisation, f"r{i}@x.example", first=f"R{i}")
        Enrolment.objects.create(program=program_a, member=person, role=Role.PARTICIPANT)
        others.append(person)
    survey = Survey.objects.get(pk=survey_id)
    services.survey_send(survey=survey, by=manager_a)
    assert Invitation.objects.filter(survey=survey).count() == 4
    url = f"/api/surveys/{survey_id}/responses"
    for person, note, nps in ((mentee, 5, 10), (others[0], 1, 0), (others[1], 4, 9)):
        answers = [{"question": "note", "value": note}, {"question": "nps", "value": nps},
                   {"question": "format", "value": "Visio"}]  # fmt: skip
        assert api_as(person).post(url, {"answers": answers}).status_code == 201
    results = api_as(manager_a).get(f"/api/surveys/{survey_id}/results").json()
    assert (results["invited"], results["responded"], results["rate"]) == (4, 3, 0.75)
    by_key = {q["key"]: q for q in results["questions"]}
    assert by_key["note"]["count"] == 3 and by_key["note"]["mean"] == round(10 / 3, 2)
    assert by_key["note"]["distribution"] == {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1}
    assert by_key["nps"]["nps"] == round(100 * (2 - 1) / 3)  # 10 and 9 promote, 0 detracts
    assert "mean" not in by_key["nps"] or by_key["nps"]["mean"] is None
    assert by_key["format"]["distribution"] == {"Visio": 3, "Sur place": 0}
    assert by_key["why"]["count"] == 0
    filtered = api_as(manager_a).get(f"/api/surveys/{survey_id}/results", role="mentor").json()
    assert filtered["questions"][0]["count"] == 0 and filtered["rate"] == 0.75
