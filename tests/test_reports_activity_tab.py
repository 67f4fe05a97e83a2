"""« Rapports › Activité »: each step of the participants' and mentors' way through the
programme counted on a hand-built programme, the last-access buckets at their edges, the
furthest along, the cohort filter, bad input and access."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.activity.models import ParticipantStats
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Program, ProgramKind, Role

from .conftest import make_member, signed_in


@pytest.fixture
def spring(organisation, manager_a) -> Program:
    today = timezone.localdate()
    program = Program.objects.create(
        organisation=organisation,
        name="Printemps",
        kind=ProgramKind.MENTORING,
        start_date=today - dt.timedelta(days=200),
        end_date=today + dt.timedelta(days=30),
        objective=3,
    )
    program.managers.add(manager_a)
    return program


def enrol(program, email, role=Role.MENTEE, *, seen_days=None, visited=0, contacted=0, held=0):
    member = make_member(program.organisation, email, first=email.split("@")[0], last="X")
    enrolment = Enrolment.objects.create(program=program, member=member, role=role)
    last = timezone.now() - dt.timedelta(days=seen_days) if seen_days is not None else None
    ParticipantStats.objects.create(
        enrolment=enrolment,
        profiles_visited=visited,
        professionals_contacted=contacted,
        confirmed_meetings=held,
        last_access=last,
    )
    return member


def rows(html: str, table: str) -> dict[str, list[str]]:
    """A table's rows by their header cell, the cells' text without tags."""
    import re

    body = html.split(f'class="table {table}"', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        found[cells[0]] = cells[1:]
    return found


@pytest.fixture
def people(spring):
    return {
        "never": enrol(spring, "never@poitiers.example"),
        "seen": enrol(spring, "seen@poitiers.example", seen_days=3, visited=2),
        "contacted": enrol(
            spring, "contacted@poitiers.example", seen_days=20, visited=1, contacted=1
        ),
        "one": enrol(spring, "one@poitiers.example", seen_days=45, contacted=2, held=1),
        "three": enrol(spring, "three@poitiers.example", seen_days=120, held=3),
        "mentor": enrol(spring, "mentor@poitiers.example", Role.MENTOR, seen_days=1, held=2),
        "idle_mentor": enrol(spring, "idle@poitiers.example", Role.MENTOR),
    }


@pytest.mark.django_db
def test_each_step_counts_the_people_who_went_that_far(spring, people, manager_a):
    gone = enrol(spring, "gone@poitiers.example", seen_days=1, held=5)
    Enrolment.objects.filter(member=gone).update(ended_at=timezone.now())  # left: not counted
    response = signed_in(manager_a).get(f"/programmes/{spring.pk}/rapports/activite/")
    assert response.status_code == 200
    html = response.content.decode()
    steps = rows(html, "engagement-steps")  # the participants' table comes first
    assert steps["Inscrits"][:2] == ["5", "100 %"]
    assert steps["Connectés au moins une fois"][:2] == ["4", "80 %"]
    assert steps["Ont consulté un profil"][:2] == ["2", "40 %"]
    assert steps["Ont contacté un professionnel"][:2] == ["2", "40 %"]
    assert steps["Au moins une rencontre tenue"][:2] == ["2", "40 %"]
    assert steps["Deux rencontres tenues ou plus"][:2] == ["1", "20 %"]
    assert steps["Objectif atteint"][:2] == ["1", "20 %"]
    mentors = rows(html.split("Parcours des mentors", 2)[2], "engagement-steps")
    assert mentors["Inscrits"][:2] == ["2", "100 %"]
    assert mentors["Connectés au moins une fois"][:2] == ["1", "50 %"]
    assert mentors["Deux rencontres tenues ou plus"][:2] == ["1", "50 %"]
    # each participants' step opens the people behind it on the Home
    assert f'href="/programmes/{spring.pk}/accueil/adopted/"' in html
    recency = rows(html, "access-recency")
    assert recency["Cette semaine (7 derniers jours)"] == ["1 (20 %)", "1 (50 %)"]
    assert recency["Entre 8 et 30 jours"] == ["1 (20 %)", "0 (0 %)"]
    assert recency["Entre 31 et 90 jours"] == ["1 (20 %)", "0 (0 %)"]
    assert recency["Il y a plus de 90 jours"] == ["1 (20 %)", "0 (0 %)"]
    assert recency["Jamais connectés"] == ["1 (20 %)", "1 (50 %)"]
    engaged = list(rows(html, "most-engaged"))
    assert engaged == ["three X", "one X"]  # the furthest first; the one who left is not there


@pytest.mark.django_db
def test_a_cohort_keeps_its_members_and_bad_filters_are_said(spring, people, manager_a):
    cohort = Cohort.objects.create(
        organisation=spring.organisation, name="Lot 1", kind=CohortKind.COHORT
    )
    cohort.members.add(people["three"], people["never"])
    client = signed_in(manager_a)
    html = client.get(
        f"/programmes/{spring.pk}/rapports/activite/?cohort={cohort.pk}"
    ).content.decode()
    assert rows(html, "engagement-steps")["Inscrits"][:2] == ["2", "100 %"]
    assert "/accueil/adopted/" not in html  # the Home's lists do not know the cohort
    for bad in ("abc", "-1", "99999999999999999999", "1\x00", str(cohort.pk + 1000)):
        response = client.get(
            f"/programmes/{spring.pk}/rapports/activite/", {"cohort": bad, "tag": bad}
        )
        assert response.status_code == 200
        assert "valeur ignorée" in response.content.decode()


@pytest.mark.django_db
def test_only_who_sees_the_programme_sees_its_activity(spring, people, manager_b, client):
    assert (
        signed_in(manager_b).get(f"/programmes/{spring.pk}/rapports/activite/").status_code == 404
    )
    response = client.get(f"/programmes/{spring.pk}/rapports/activite/")
    assert response.status_code == 302 and "/connexion/" in response["Location"]


@pytest.mark.django_db
def test_the_page_costs_the_same_few_queries_whatever_the_size(
    spring, people, manager_a, django_assert_max_num_queries
):
    client = signed_in(manager_a)
    client.get(f"/programmes/{spring.pk}/rapports/activite/")
    for n in range(30):
        enrol(spring, f"more{n}@poitiers.example", seen_days=n, held=n % 3)
    with django_assert_max_num_queries(12):
        assert client.get(f"/programmes/{spring.pk}/rapports/activite/").status_code == 200
