"""Figures side by side: the organisation's Home (« Tableau de bord ») and GET /api/dashboard
— each programme's row equal to its own Home, the sum, the organisation's average, the
sort, who sees which programmes, bounded queries — and a programme's cohorts compared."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from cohorte.programs.models import Cohort, CohortKind, Enrolment, Program, ProgramKind, Role
from cohorte.reports import compare, home
from cohorte.reports.home_snapshot import home_snapshot_compute

from .conftest import TODAY, make_member, running_program, signed_in
from .test_home import enrol, meeting, world  # noqa: F401 (the fixture)

DASHBOARD = "/api/dashboard"


@pytest.fixture
def both(world, program_a, program_b, mentor):  # noqa: F811
    """program_a: the test_home world (5 followed, 3 adopted, 2 repeat…); program_b: two
    mentees, one with a held meeting (adoption 50 %); a finished programme, left out."""
    one = enrol(program_b, "b1@poitiers.example", Role.MENTEE, first="Bea", last="Un")
    enrol(program_b, "b2@poitiers.example", Role.MENTEE, first="Ben", last="Deux")
    meeting(program_b, [one, mentor])
    ended = Program.objects.create(
        organisation=program_a.organisation,
        name="Fini en juin",
        kind=ProgramKind.MENTORING,
        start_date=TODAY - dt.timedelta(days=100),
        end_date=TODAY - dt.timedelta(days=50),
    )
    enrol(ended, "old@poitiers.example", Role.MENTEE)
    return {"ended": ended, **world}


def rows_of(page) -> list[str]:
    """The programme ids of the compare table, in their order."""
    return re.findall(r'<tr data-program="(\d+)"', page.content.decode())


# --- The figures -----------------------------------------------------------------------------


def test_each_programme_row_is_its_own_home(both, program_a, program_b, admin):
    figures = compare.organisation_figures(member=admin, fresh=True)
    assert [p.pk for p in figures["programs"]] == [program_b.pk, program_a.pk]  # by name
    for program in (program_a, program_b):
        own = home.home_figures(program=program, fresh=True)["values"]
        row = figures["rows"][program.pk]
        for key in (*compare.COUNTS, *compare.RATES):
            assert row[key] == own[key], (program.name, key)
    assert figures["rows"][program_a.pk]["adoption_rate"] == 0.6
    assert figures["rows"][program_b.pk]["adoption_rate"] == 0.5


def test_the_sum_and_its_rates(both, admin):
    total = compare.organisation_figures(member=admin, fresh=True)["total"]
    assert total["enrolled"] == 5 + 2
    assert total["adopted"] == 3 + 1
    assert total["adoption_rate"] == round(4 / 7, 4)  # from the sums, not a mean of rates
    assert total["repeat_rate"] == round(2 / 4, 4)
    assert total["confirmed_meetings"] == 6 + 1
    assert total["open_reports"] == 1 and total["unanswered_conversations"] == 1
    assert total["survey_response_rate"] == 0.75


def test_unanswered_conversations_follow_each_programmes_days(both, program_a, program_b, admin):
    """The world's conversation waited 10 days: unanswered after 7 days, not after 30."""
    assert compare.organisation_figures(member=admin, fresh=True)["total"][
        "unanswered_conversations"
    ] == (1)
    Program.objects.filter(pk=program_a.pk).update(unanswered_after_days=30)
    assert (
        compare.organisation_figures(member=admin, fresh=True)["rows"][program_a.pk][
            "unanswered_conversations"
        ]
        == 0
    )


def test_counted_in_a_fixed_number_of_queries(
    organisation, manager_a, mentor, admin, django_assert_max_num_queries
):
    for n in range(6):
        program = running_program(organisation, f"P{n}", ProgramKind.MENTORING, 2, manager_a)
        for i in range(3):
            enrol(program, f"p{n}-{i}@poitiers.example", Role.MENTEE)
    # programmes (1), people (1), reports, conversations, surveys (1 each)
    with django_assert_max_num_queries(5):
        figures = compare.organisation_figures(member=admin, fresh=True)
    assert len(figures["rows"]) == 6 + 2 and figures["total"]["enrolled"] == 18  # + A and B
    for program in figures["programs"]:
        home_snapshot_compute(program=program)
    with django_assert_max_num_queries(2):  # from the snapshots: programmes, snapshots
        read = compare.organisation_figures(member=admin)
    assert read["rows"] == figures["rows"] and read["total"] == figures["total"]


def test_organisation_home_page_in_a_fixed_number_of_queries(
    both, admin, django_assert_max_num_queries
):
    client = signed_in(admin)
    url = reverse("reports:organisation-home")
    client.get(url)
    with django_assert_max_num_queries(20):
        assert client.get(url, {"sort": "adoption_rate"}).status_code == 200


# --- The page -------------------------------------------------------------------------------


def test_administrator_sees_every_running_programme_summed_and_side_by_side(
    both, program_a, program_b, admin
):
    page = signed_in(admin).get(reverse("reports:organisation-home"))
    assert page.status_code == 200
    html = page.content.decode()
    assert rows_of(page) == [str(program_b.pk), str(program_a.pk)]
    assert f"/programmes/{both['ended'].pk}/accueil/" not in html  # finished: not running
    for program in (program_a, program_b):
        assert f'href="{reverse("reports:home", args=[program.pk])}"' in html
    assert "À jour le" in html
    assert "recalculé en arrière-plan dès qu'il date de plus de 60 secondes" in html
    # the sum with its definition
    assert re.search(r'data-figure="adoption_rate".*?57 %', html, re.S)
    assert "une personne inscrite à deux programmes" in html
    # the organisation's average row: (60 % + 50 %) / 2
    average = re.search(r'<tr data-row="average">(.*?)</tr>', html, re.S).group(1)
    assert '<td class="num" data-key="adoption_rate">55 %</td>' in average


def test_manager_sees_only_their_programmes(both, program_a, program_b, manager_a, manager_b):
    page = signed_in(manager_a).get(reverse("reports:organisation-home"))
    assert rows_of(page) == [str(program_a.pk)]
    html = page.content.decode()
    assert program_b.name not in html
    assert "Les programmes en cours que vous gérez" not in html  # one: the singular
    assert "Le programme en cours que vous gérez." in html
    # the sum is program_a's alone
    assert re.search(r'data-figure="enrolled".*?data-value="5"', html, re.S)
    page_b = signed_in(manager_b).get(reverse("reports:organisation-home"))
    assert rows_of(page_b) == [str(program_b.pk)]
    assert program_a.name not in page_b.content.decode()


def test_people_without_programmes_get_404(both, mentor, mentee, outsider):
    for who in (mentor, mentee, outsider):
        assert signed_in(who).get(reverse("reports:organisation-home")).status_code == 404


def test_sorted_by_any_column_both_ways(both, program_a, program_b, admin):
    client = signed_in(admin)
    url = reverse("reports:organisation-home")
    # adoption: program_a 60 %, program_b 50 %
    assert rows_of(client.get(url, {"sort": "adoption_rate", "dir": "desc"})) == [
        str(program_a.pk),
        str(program_b.pk),
    ]
    assert rows_of(client.get(url, {"sort": "adoption_rate", "dir": "asc"})) == [
        str(program_b.pk),
        str(program_a.pk),
    ]
    assert rows_of(client.get(url, {"sort": "name", "dir": "desc"})) == [
        str(program_a.pk),
        str(program_b.pk),
    ]
    page = client.get(url, {"sort": "enrolled", "dir": "desc"}).content.decode()
    # the sorted column says so, and its link turns the order round
    assert re.search(r'aria-sort="descending"><a href="\?sort=enrolled&amp;dir=asc"', page)


@pytest.mark.parametrize(
    "query",
    [
        {"sort": ""},
        {"sort": "x" * 5000},
        {"sort": "adoption_rate\x00", "dir": "\x00"},
        {"sort": "-1", "dir": "sideways"},
        {"sort": "__class__"},
        {"page": "-1"},
    ],
)
def test_bad_query_strings_never_fail(both, admin, query):
    page = signed_in(admin).get(reverse("reports:organisation-home"), query)
    assert page.status_code == 200
    assert len(rows_of(page)) == 2


def test_sidebar_and_programmes_list_link_to_it(both, program_a, admin, manager_a, mentee):
    link = f'href="{reverse("reports:organisation-home")}"'
    for who in (admin, manager_a):
        client = signed_in(who)
        programmes = client.get(reverse("programs:home")).content.decode()
        assert programmes.count(link) == 2  # the sidebar's and the programmes list's
        home_page = client.get(reverse("reports:home", args=[program_a.pk])).content.decode()
        assert link in home_page
    assert link not in signed_in(mentee).get(reverse("space:home")).content.decode()


def test_in_english_for_an_english_manager(both, manager_b):
    page = signed_in(manager_b).get(reverse("reports:organisation-home"))
    html = page.content.decode()
    with translation.override("en"):
        assert str(compare.ORGANISATION_DEFINITIONS["adoption_rate"]) in html


# --- The API --------------------------------------------------------------------------------


def test_dashboard_api_for_the_administrator(both, program_a, program_b, admin, api_as):
    response = api_as(admin).get(DASHBOARD)
    assert response.status_code == 200
    body = response.json()
    assert dt.datetime.fromisoformat(body["as_of"]).tzinfo is not None
    totals = {f["key"]: f for f in body["figures"]}
    for key in compare.API_FIGURES:
        assert set(totals[key]) >= {"key", "value", "definition"} and totals[key]["definition"]
    assert totals["enrolled"]["value"] == 7 and totals["adoption_rate"]["value"] == round(4 / 7, 4)
    rows = {row["program_id"]: row for row in body["programs"]}
    assert set(rows) == {program_a.pk, program_b.pk}
    a = {f["key"]: f["value"] for f in rows[program_a.pk]["figures"]}
    assert (a["adopted"], a["adoption_rate"], a["repeat_rate"]) == (3, 0.6, round(2 / 3, 4))
    average = {f["key"]: f["value"] for f in body["organisation_average"]}
    assert average["adoption_rate"] == 0.55


def test_dashboard_api_shows_a_manager_only_their_programmes(
    both, program_a, program_b, manager_a, manager_b, outsider, api_as
):
    body = api_as(manager_a).get(DASHBOARD).json()
    assert [row["program_id"] for row in body["programs"]] == [program_a.pk]
    assert {f["key"]: f["value"] for f in body["figures"]}["enrolled"] == 5
    assert program_b.name not in str(body)
    body_b = api_as(manager_b).get(DASHBOARD).json()
    assert [row["program_id"] for row in body_b["programs"]] == [program_b.pk]
    # another organisation's member: nothing of ours, not even the average
    other = api_as(outsider).get(DASHBOARD)
    assert other.status_code == 200
    assert other.json()["programs"] == [] and other.json()["organisation_average"] == []
    assert {f["key"]: f["value"] for f in other.json()["figures"]}["enrolled"] == 0


def test_dashboard_api_speaks_the_callers_language(both, manager_b, api_as):
    body = api_as(manager_b).get(DASHBOARD).json()
    with translation.override("en"):
        expected = str(compare.ORGANISATION_DEFINITIONS["adoption_rate"])
    assert {f["key"]: f["definition"] for f in body["figures"]}["adoption_rate"] == expected


def test_dashboard_api_needs_a_caller(client):
    assert client.get(DASHBOARD).status_code == 401


# --- A programme's cohorts side by side ----------------------------------------------------------


@pytest.fixture
def cohorts(both, program_a, organisation, outsider):
    """Printemps: Paul (repeat) and Hugo (not adopted); Automne: Léa (adopted) and Paul
    again; a tag (not compared) and a cohort without anyone in program_a (not shown)."""
    spring = Cohort.objects.create(organisation=organisation, name="Printemps")
    autumn = Cohort.objects.create(organisation=organisation, name="Automne")
    tag = Cohort.objects.create(organisation=organisation, name="Boursiers", kind=CohortKind.TAG)
    empty = Cohort.objects.create(organisation=organisation, name="Vide")
    spring.members.add(both["paul"], both["hugo"])
    autumn.members.add(both["lea"], both["paul"])
    tag.members.add(both["lea"], both["zoe"])
    empty.members.add(make_member(organisation, "vide@poitiers.example"))
    return {"spring": spring, "autumn": autumn, "tag": tag, "empty": empty}


def test_cohort_rows_compare_the_rates(cohorts, program_a, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        rows = compare.cohort_rows(program=program_a)
    by_name = {cohort.name: values for cohort, values in rows}
    assert list(by_name) == ["Automne", "Printemps"]
    spring, autumn = by_name["Printemps"], by_name["Automne"]
    assert (spring["enrolled"], spring["adopted"], spring["adoption_rate"]) == (2, 1, 0.5)
    assert (spring["repeat"], spring["repeat_rate"]) == (1, 1.0)
    assert (autumn["enrolled"], autumn["adopted"], autumn["adoption_rate"]) == (2, 2, 1.0)
    assert autumn["repeat_rate"] == 0.5 and autumn["confirmed_meetings"] == 1 + 2


def test_an_ended_enrolment_leaves_its_cohort_row(cohorts, program_a):
    Enrolment.objects.filter(
        program=program_a, member=cohorts["spring"].members.get(email="hugo@poitiers.example")
    ).update(ended_at=dt.datetime.now(tz=dt.UTC))
    spring = {c.name: v for c, v in compare.cohort_rows(program=program_a)}["Printemps"]
    assert (spring["enrolled"], spring["adoption_rate"]) == (1, 1.0)


def test_programme_home_shows_its_cohorts_side_by_side(cohorts, program_a, manager_a):
    html = signed_in(manager_a).get(reverse("reports:home", args=[program_a.pk])).content.decode()
    table = re.search(r'<table class="table compare cohorts".*?</table>', html, re.S).group(0)
    names = re.findall(r'<tr data-cohort="\d+"><th scope="row">([^<]+)</th>', table)
    assert names == ["Automne", "Printemps"]
    spring = re.search(rf'<tr data-cohort="{cohorts["spring"].pk}">(.*?)</tr>', table, re.S).group(
        1
    )
    assert '<td class="num" data-key="adoption_rate">50 %</td>' in spring
    assert "Boursiers" not in table and "Vide" not in table
    # the programme's own row, to compare with
    assert re.search(r'<tr data-row="program">.*?data-key="adoption_rate">60 %</td>', table, re.S)


def test_programme_without_cohorts_shows_no_cohort_table(both, program_a, manager_a):
    html = signed_in(manager_a).get(reverse("reports:home", args=[program_a.pk])).content.decode()
    assert "compare cohorts" not in html


# --- E-mails bounced and people at risk, as each programme's Home counts them ----------------


@pytest.fixture
def three(both, organisation, manager_a, mentor):
    """both, and a third programme: Chloé (never signed in, an e-mail bounced today), Cyril
    (an e-mail bounced, then one delivered: counted bounced, no longer at risk for it)."""
    from cohorte.messaging.models import Email, EmailStatus

    program_c = running_program(organisation, "Cap C", ProgramKind.MENTORING, 2, manager_a)
    chloe = enrol(program_c, "chloe@poitiers.example", Role.MENTEE, first="Chloé", last="C")
    cyril = enrol(program_c, "cyril@poitiers.example", Role.MENTEE, first="Cyril", last="C")
    for member, status in ((chloe, EmailStatus.BOUNCED), (cyril, EmailStatus.BOUNCED)):
        Email.objects.create(
            organisation_id=organisation.pk, member=member, to_email=member.email,
            subject="Relance", body_text="…", status=status,
        )  # fmt: skip
    later = Email.objects.create(
        organisation_id=organisation.pk, member=cyril, to_email=cyril.email,
        subject="Relance", body_text="…", status=EmailStatus.DELIVERED,
    )  # fmt: skip
    Email.objects.filter(pk=later.pk).update(created_at=later.created_at + dt.timedelta(minutes=1))
    return {**both, "program_c": program_c}


def test_bounced_emails_and_at_risk_are_each_programmes_home(three, program_a, program_b, admin):
    programs = [program_a, program_b, three["program_c"]]
    figures = compare.organisation_figures(member=admin, fresh=True)
    own = {p.pk: home.home_figures(program=p, fresh=True)["values"] for p in programs}
    for program in programs:
        row = figures["rows"][program.pk]
        for key in ("bounced_emails", "at_risk", "open_reports"):
            assert row[key] == own[program.pk][key], (program.name, key)
    assert figures["rows"][three["program_c"].pk]["bounced_emails"] == 2
    assert figures["rows"][program_a.pk]["bounced_emails"] == 1
    for key in ("bounced_emails", "at_risk"):
        assert figures["total"][key] == sum(own[p.pk][key] for p in programs) > 0, key


def test_bounced_emails_and_at_risk_in_the_same_queries_whatever_the_programmes(
    three, organisation, manager_a, admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as three_programs:
        compare.organisation_figures(member=admin, fresh=True)
    for n in range(7):
        program = running_program(organisation, f"P{n}", ProgramKind.MENTORING, 2, manager_a)
        enrol(program, f"p{n}@poitiers.example", Role.MENTEE)
    with django_assert_max_num_queries(len(three_programs.captured_queries)):
        figures = compare.organisation_figures(member=admin, fresh=True)
    assert len(figures["rows"]) == 10 and len(three_programs.captured_queries) <= 5
    assert all(figures["rows"][p.pk]["at_risk"] == 1 for p in figures["programs"][3:])


def test_the_dashboard_shows_bounced_emails_and_at_risk_with_their_definitions(
    three, program_a, admin, api_as
):
    body = api_as(admin).get(DASHBOARD).json()
    totals = {f["key"]: f for f in body["figures"]}
    assert totals["bounced_emails"]["value"] == 3 and totals["at_risk"]["value"] > 0
    assert "Retourné" in totals["bounced_emails"]["definition"]
    assert "À suivre maintenant" in totals["at_risk"]["definition"]
    rows = {row["program_id"]: row for row in body["programs"]}
    c = {f["key"]: f for f in rows[three["program_c"].pk]["figures"]}
    assert c["bounced_emails"]["value"] == 2 and c["at_risk"]["definition"]

    page = signed_in(admin).get(reverse("reports:organisation-home")).content.decode()
    assert "Courriels retournés" in page and "À suivre maintenant" in page
    assert 'data-key="bounced_emails"' in page and 'data-key="at_risk"' in page
