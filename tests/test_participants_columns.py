"""Moodle's columns and sorts on the participants' table (issue 15 §2): « Ville » and
« Pays » from the profile, hideable; sorted by first name or by last name, in the
language's alphabetical order, by the database (SQLite and PostgreSQL alike)."""

import pytest
from django.urls import reverse

from cohorte.programs.models import Enrolment, Role

from .conftest import Api, make_member, signed_in

FIRST_NAMES = ["Emma", "Zoé", "Élodie", "eden", "Adam", "Éric"]


@pytest.fixture
def crowd(organisation, program_a):
    people = {}
    for index, first in enumerate(FIRST_NAMES):
        last = ["Martin", "Écuyer", "Zola", "Dupont", "Émery", "Bernard"][index]
        member = make_member(
            organisation,
            f"p{index}@x.example",
            first=first,
            last=last,
            city=["Poitiers", "Lyon", "Niort", "", "Paris", "Nantes"][index],
            country="France",
        )
        Enrolment.objects.create(program=program_a, member=member, role=Role.PARTICIPANT)
        people[first] = member
    return people


def test_the_api_sorts_by_first_and_last_name_in_alphabetical_order(program_a, manager_a, crowd):
    api = Api(manager_a)
    url = f"/api/programs/{program_a.pk}/participants"
    firsts = [r["first_name"] for r in api.get(url, sort="first_name").json()["results"]]
    assert firsts == ["Adam", "eden", "Élodie", "Emma", "Éric", "Zoé"]
    lasts = [r["last_name"] for r in api.get(url, sort="last_name").json()["results"]]
    assert lasts == ["Bernard", "Dupont", "Écuyer", "Émery", "Martin", "Zola"]
    down = [r["last_name"] for r in api.get(url, sort="last_name", order="desc").json()["results"]]
    assert down == list(reversed(lasts))
    rows = api.get(url, sort="first_name").json()["results"]
    assert rows[0]["city"] == "Nantes" or rows[0]["city"] == "Paris"
    assert {r["country"] for r in rows} == {"France"}


def test_patching_the_city_shows_in_the_row(program_a, manager_a, admin, crowd):
    member = crowd["Emma"]
    answer = Api(admin).client.patch(
        f"/api/members/{member.pk}",
        {"city": "La Rochelle", "country": "France"},
        content_type="application/json",
        headers=Api(admin).headers,
    )
    assert answer.status_code == 200, answer.content
    rows = Api(manager_a).get(f"/api/programs/{program_a.pk}/participants", q="Emma").json()
    assert rows["results"][0]["city"] == "La Rochelle"


def test_the_table_sorts_by_first_name_in_french_and_shows_city_and_country_when_asked(
    program_a, manager_a, crowd
):
    client = signed_in(manager_a)
    url = reverse("activity:program", args=[program_a.pk])
    page = client.get(url, {"sort": "first_name"}).content.decode()
    order = sorted(FIRST_NAMES, key=lambda first: page.index(f'data-name="{first} '))
    assert order == ["Adam", "eden", "Élodie", "Emma", "Éric", "Zoé"]
    assert "Prénom" in page and ">Ville<" not in page
    shown = client.get(url, {"show": ["city", "country"]}).content.decode()
    assert ">Ville</th>" in shown and ">Pays</th>" in shown and "Poitiers" in shown
    english = client.get(url, {"sort": "first_name"}, headers={"Accept-Language": "en"})
    assert english.status_code == 200
