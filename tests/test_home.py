"""The programme's Home (« Accueil »): each headline figure computed on a hand-built
programme and compared, the at-risk reasons of hand-built people, the people behind each
figure with their actions, bounded queries, permissions, and the two API endpoints."""

import datetime as dt
import zoneinfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from cohorte.activity.models import ActivityEvent, Conversation, EventKind
from cohorte.activity.services import report_create, sign_in_record
from cohorte.meetings.services import meeting_create
from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import Enrolment, Program, ProgramKind, Role
from cohorte.reports import home
from cohorte.reports.at_risk import at_risk_reasons, at_risk_rows
from cohorte.reports.models import MonthlyActivity
from cohorte.reports.rollups import monthly_rebuild
from cohorte.surveys.models import Invitation, Response, Survey

from .conftest import TODAY, make_member, running_program, signed_in

NOW = timezone.now


def meeting(program, people, *, days_ago=1, status="confirmed"):
    return meeting_create(
        program=program,
        attendees=people,
        starts_at=timezone.now() - dt.timedelta(days=days_ago),
        duration_minutes=30,
        status=status,
        by=None,
    )


def enrol(program, email, role=Role.PARTICIPANT, *, first="", last=""):
    member = make_member(program.organisation, email, first=first, last=last)
    Enrolment.objects.create(program=program, member=member, role=role)
    return member


@pytest.fixture
def world(program_a, mentor, mentee):
    """program_a (objective 3, started 30 days ago): five participants and a professional.

    - Léa (mentee fixture): one held meeting and one cancelled → adopted, not repeat;
    - Paul: two held → repeat;
    - Hugo: one held before the programme's start (outside its dates), one « non tenue »
      → not adopted;
    - Inès: three held → objective met; signed in;
    - Zoé: nothing, never signed in; reported, an unanswered conversation, a bounced e-mail.
    """
    paul = enrol(program_a, "paul@poitiers.example", first="Paul", last="Pair")
    hugo = enrol(program_a, "hugo@poitiers.example", first="Hugo", last="Hors")
    ines = enrol(program_a, "ines@poitiers.example", Role.MENTEE, first="Inès", last="Objectif")
    zoe = enrol(program_a, "zoe@poitiers.example", first="Zoé", last="Zéro")
    meeting(program_a, [mentee, mentor])
    meeting(program_a, [mentee, mentor], status="cancelled")
    meeting(program_a, [paul, mentor], days_ago=2)
    meeting(program_a, [paul, mentor], days_ago=3)
    meeting(program_a, [hugo, mentor], days_ago=40)  # before the start: 30 days ago
    meeting(program_a, [hugo, mentor], days_ago=4, status="not_held")
    for days in (5, 6, 7):
        meeting(program_a, [ines, mentor], days_ago=days)
    sign_in_record(member=ines)
    report_create(program=program_a, member=zoe, reported_by=mentor, reason="Absent")
    Conversation.objects.create(
        program=program_a,
        participant=zoe,
        professional=mentor,
        last_message_at=timezone.now() - dt.timedelta(days=10),
    )
    Email.objects.create(
        organisation_id=program_a.organisation_id,
        member=zoe,
        to_email=zoe.email,
        subject="Relance",
        body_text="…",
        status=EmailStatus.BOUNCED,
    )
    survey = Survey.objects.create(
        program=program_a,
        title_fr="Satisfaction",
        opens_at=timezone.now() - dt.timedelta(days=1),
        closes_at=timezone.now() + dt.timedelta(days=10),
    )
    for who in (mentee, paul, hugo, ines):
        invitation = Invitation.objects.create(survey=survey, member=who, invited_at=timezone.now())
        if who in (mentee, paul, hugo):
            Response.objects.create(
                survey=survey,
                invitation=invitation,
                submitted_at=timezone.now(),
                updated_at=timezone.now(),
            )
    return {"lea": mentee, "paul": paul, "hugo": hugo, "ines": ines, "zoe": zoe}


def test_headline_figures_on_hand_built_programme(world, program_a):
    values = home.home_figures(program=program_a, fresh=True)["values"]
    assert values["enrolled"] == 5
    assert values["participants"] == 4 and values["mentees"] == 1
    assert values["mentors"] == 1  # the professional
    assert values["signed_in"] == 1 and values["never_signed_in"] == 4
    assert values["signed_in_rate"] == 0.2
    # Léa (one held + one cancelled), Paul, Inès; not Hugo (outside the dates + not held)
    assert values["adopted"] == 3 and values["not_adopted"] == 2
    assert values["adoption_rate"] == 0.6
    assert values["repeat"] == 2  # Paul (2), Inès (3); Léa's cancelled one does not count
    assert values["repeat_rate"] == round(2 / 3, 4)
    assert values["confirmed_meetings"] == 1 + 2 + 3
    assert values["meetings_objective"] == 3 * 5
    assert values["objective_met"] == 1 and values["objective_rate"] == 0.2
    assert values["unanswered_conversations"] == 1
    assert values["open_reports"] == 1
    assert values["bounced_emails"] == 1
    assert values["survey_invitations"] == 4 and values["survey_responses"] == 3
    assert values["survey_response_rate"] == 0.75


def test_rates_at_their_edges(program_a, mentor):
    """No one enrolled: every rate 0, not a division by zero; one mentee with one held
    meeting and one not held: adopted, no repeat."""
    values = home.home_figures(program=program_a, fresh=True)["values"]
    assert values["enrolled"] == 0
    assert values["adoption_rate"] == values["repeat_rate"] == values["signed_in_rate"] == 0
    one = enrol(program_a, "one@poitiers.example", Role.MENTEE)
    meeting(program_a, [one, mentor])
    meeting(program_a, [one, mentor], days_ago=2, status="not_held")
    values = home.home_figures(program=program_a, fresh=True)["values"]
    assert (values["adopted"], values["adoption_rate"]) == (1, 1.0)
    assert (values["repeat"], values["repeat_rate"]) == (0, 0.0)


def test_figures_are_cached_with_their_time(world, program_a):
    first = home.home_figures(program=program_a)
    enrol(program_a, "late@poitiers.example")
    again = home.home_figures(program=program_a)
    assert again["as_of"] == first["as_of"] and again["values"]["enrolled"] == 5
    assert home.home_figures(program=program_a, fresh=True)["values"]["enrolled"] == 6


def _grow(program, mentor, n):
    for i in range(n):
        member = enrol(program, f"grow{n}-{i}@poitiers.example", first=f"G{i}", last="Grow")
        if i % 2:
            meeting(program, [member, mentor])
        if i % 3 == 0:
            report_create(program=program, member=member, reported_by=mentor, reason="x")


def test_figures_count_in_a_bounded_number_of_queries(
    program_a, mentor, django_assert_max_num_queries
):
    for size in (3, 30):
        _grow(program_a, mentor, size)
        with django_assert_max_num_queries(10):
            home.home_figures(program=program_a, fresh=True)
        with django_assert_max_num_queries(3):
            home.organisation_rates(organisation=program_a.organisation, fresh=True)


def test_home_page_in_a_bounded_number_of_queries(
    program_a, mentor, manager_a, django_assert_max_num_queries
):
    client = signed_in(manager_a)
    url = reverse("reports:home", args=[program_a.pk])
    for size in (3, 30):
        _grow(program_a, mentor, size)
        client.get(url)  # the session, the sidebar's caches
        from django.core.cache import cache

        cache.clear()
        with django_assert_max_num_queries(40):
            assert client.get(url).status_code == 200
        people = reverse("reports:home-people", args=[program_a.pk, "at_risk"])
        with django_assert_max_num_queries(30):
            assert client.get(people).status_code == 200


def test_home_page_shows_figures_definitions_and_time(world, program_a, manager_a):
    page = signed_in(manager_a).get(reverse("reports:home", args=[program_a.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "À jour le" in html
    assert "Taux d&#x27;adoption" in html or "Taux d'adoption" in html
    assert "<dfn>" in html and "une rencontre annulée, non tenue" in html
    assert "60 %" in html  # adoption
    assert "Participants sans rencontre" in html
    people = reverse("reports:home-people", args=[program_a.pk, "not_adopted"])
    assert f'href="{people}"' in html
    # the organisation's average beside it (program_a is its only running programme here
    # with followed people): the same 60 %
    row = html.split('data-figure="adoption_rate"')[1].split("</tr>")[0]
    assert row.count("60 %") == 2
    # the at-risk list, with the reasons' words
    assert "Signalé par Marc Mentor : Absent" in html


def test_programme_page_links_to_its_home(program_a, manager_a):
    page = signed_in(manager_a).get(reverse("activity:program", args=[program_a.pk]))
    assert f'href="{reverse("reports:home", args=[program_a.pk])}"' in page.content.decode()


def test_organisation_average_over_running_programmes(world, program_a, program_b, mentor):
    # program_b (running): two mentees, one with a held meeting → adoption 50 %
    one = enrol(program_b, "b1@poitiers.example", Role.MENTEE)
    enrol(program_b, "b2@poitiers.example", Role.MENTEE)
    meeting(program_b, [one, mentor])
    # a finished programme is left out, whatever its figures
    ended = Program.objects.create(
        organisation=program_a.organisation,
        name="Fini",
        kind=ProgramKind.MENTORING,
        start_date=TODAY - dt.timedelta(days=100),
        end_date=TODAY - dt.timedelta(days=50),
    )
    enrol(ended, "old@poitiers.example", Role.MENTEE)
    rates = home.organisation_rates(organisation=program_a.organisation, fresh=True)
    assert rates["programs"] == 2
    assert rates["values"]["adoption_rate"] == round((0.6 + 0.5) / 2, 4)
    assert rates["values"]["repeat_rate"] == round((2 / 3 + 0) / 2, 4)


# --- The people behind a figure ------------------------------------------------------------


def test_people_behind_each_figure(world, program_a):
    def names(figure):
        return sorted(
            row.member.first_name for row in home.people_behind(program=program_a, figure=figure)
        )

    assert names("enrolled") == ["Hugo", "Inès", "Léa", "Paul", "Zoé"]
    assert names("adopted") == ["Inès", "Léa", "Paul"]
    assert names("not_adopted") == ["Hugo", "Zoé"]
    assert names("repeat") == ["Inès", "Paul"]
    assert names("objective_met") == ["Inès"]
    assert names("signed_in") == ["Inès"]
    assert names("mentors") == ["Marc"]
    assert names("mentees") == ["Inès"]
    assert names("open_reports") == names("unanswered_conversations") == ["Zoé"]
    assert names("bounced_emails") == ["Zoé"]
    assert names("survey_pending") == ["Inès"]
    assert home.people_behind(program=program_a, figure="nope") is None


def test_people_list_offers_remind_write_and_csv(world, program_a, manager_a):
    client = signed_in(manager_a)
    url = reverse("reports:home-people", args=[program_a.pk, "not_adopted"])
    page = client.get(url)
    html = page.content.decode()
    assert "Hugo Hors" in html and "Zoé Zéro" in html and "Paul Pair" not in html
    assert 'class="selection"' in html
    assert f'action="{reverse("activity:remind", args=[program_a.pk])}"' in html
    assert f'name="next" value="{url}"' in html
    assert f'formaction="{reverse("messaging:compose")}" formmethod="get"' in html
    assert f'name="program" value="{program_a.pk}"' in html
    # the reminder's confirmation, then « Envoyer »: back to this list with the message
    hugo = world["hugo"]
    confirm = client.post(
        reverse("activity:remind", args=[program_a.pk]), {"member": [hugo.pk], "next": url}
    )
    assert "Hugo Hors" in confirm.content.decode()
    sent = client.post(
        reverse("activity:remind", args=[program_a.pk]),
        {"member": [hugo.pk], "next": url, "confirm": "1"},
        follow=True,
    )
    assert sent.redirect_chain[-1][0] == url
    assert "Relance envoyée à 1 participant." in sent.content.decode()
    assert Email.objects.filter(member=hugo).exists()


def test_people_csv_is_neutralised(world, program_a, manager_a):
    world["hugo"].last_name = "=HYPERLINK(1)"
    world["hugo"].save()
    response = signed_in(manager_a).get(
        reverse("reports:home-people", args=[program_a.pk, "at_risk"]), {"format": "csv"}
    )
    text = b"".join(response.streaming_content).decode()
    assert text.startswith("\ufeffNom;Prénom;Courriel")
    assert "'=HYPERLINK(1)" in text
    zoe = next(line for line in text.splitlines() if "zoe@" in line)
    assert "Signalé par Marc Mentor : Absent" in zoe


# --- Who needs attention now ----------------------------------------------------------------


def _codes(program, now=None):
    rows = list(at_risk_rows(program=program, now=now))
    reasons = at_risk_reasons(program=program, rows=rows, now=now)
    return {row.member.first_name: [r.code for r in reasons[row.member_id]] for row in rows}


def test_at_risk_reasons_of_hand_built_people(world, program_a):
    codes = _codes(program_a)
    assert codes["Zoé"] == [
        "never_signed_in",
        "unanswered_conversation",
        "reported",
        "bounced_email",
    ]
    assert codes["Hugo"] == codes["Léa"] == codes["Paul"] == ["never_signed_in"]
    assert "Inès" not in codes  # signed in, objective met
    # the professional has stats with no access: never signed in too
    assert codes["Marc"] == ["never_signed_in"]
    reasons = at_risk_reasons(program=program_a, rows=list(at_risk_rows(program=program_a)))
    zoe = {r.code: r.detail for r in reasons[world["zoe"].pk]}
    assert zoe["reported"] == "Signalé par Marc Mentor : Absent"
    assert zoe["unanswered_conversation"].startswith("Conversation sans réponse de Marc Mentor")
    assert zoe["bounced_email"].startswith("Courriel retourné le")
    assert zoe["never_signed_in"] == "Ne s'est jamais connecté à la plateforme"


def test_a_bounce_followed_by_a_delivery_is_no_longer_a_reason(world, program_a):
    Email.objects.create(
        organisation_id=program_a.organisation_id,
        member=world["zoe"],
        to_email="zoe@poitiers.example",
        subject="Encore",
        body_text="…",
        status=EmailStatus.DELIVERED,
    )
    assert "bounced_email" not in _codes(program_a)["Zoé"]
    # the figure still counts the bounced e-mail
    assert home.home_figures(program=program_a, fresh=True)["values"]["bounced_emails"] == 1


def test_behind_objective_and_no_meeting_recently(organisation, manager_a, mentor):
    """A programme of 100 days with 10 left (under 25 %): under half the objective is
    behind; a participant enrolled for 6 weeks whose last meeting is 5 weeks old has had no
    meeting recently; one enrolled last week is not counted for it yet."""
    program = Program.objects.create(
        organisation=organisation,
        name="Presque fini",
        kind=ProgramKind.MENTORING,
        start_date=TODAY - dt.timedelta(days=90),
        end_date=TODAY + dt.timedelta(days=9),
        objective=4,
    )
    program.managers.add(manager_a)
    Enrolment.objects.create(program=program, member=mentor, role=Role.MENTOR)
    slow = enrol(program, "slow@poitiers.example", Role.MENTEE, first="Slow")
    half = enrol(program, "half@poitiers.example", Role.MENTEE, first="Half")
    new = enrol(program, "new@poitiers.example", Role.MENTEE, first="New")
    meeting(program, [slow, mentor], days_ago=35)
    meeting(program, [half, mentor], days_ago=3)
    meeting(program, [half, mentor], days_ago=4)
    Enrolment.objects.filter(program=program, member__in=[slow, half]).update(
        created_at=timezone.now() - dt.timedelta(weeks=6)
    )
    for who in (slow, half, new, mentor):
        sign_in_record(member=who)
    codes = _codes(program)
    assert codes["Slow"] == ["behind_objective", "no_meeting_recently"]
    assert "Half" not in codes  # 2 of 4: not under half, and a meeting 3 days ago
    assert codes["New"] == ["behind_objective"]
    assert "Marc" not in codes
    rows = list(at_risk_rows(program=program))
    details = {r.code: r.detail for r in at_risk_reasons(program=program, rows=rows)[slow.pk]}
    assert details["behind_objective"].startswith(
        "Objectif : 1 sur 4 rencontres confirmées, 9 jours"
    )
    assert details["no_meeting_recently"].startswith("Aucune rencontre confirmée depuis 4 semaines")
    # earlier in the programme (more than 25 % of its days left), nobody is behind
    earlier = timezone.now() - dt.timedelta(days=30)
    assert "behind_objective" not in _codes(program, now=earlier).get("Slow", [])


def test_at_risk_in_a_bounded_number_of_queries(program_a, mentor, django_assert_max_num_queries):
    for size in (3, 30):
        _grow(program_a, mentor, size)
        with django_assert_max_num_queries(6):
            rows = list(at_risk_rows(program=program_a))
            at_risk_reasons(program=program_a, rows=rows)


# --- Activity per month ----------------------------------------------------------------------


def test_per_month_counts_each_month_of_the_programme(organisation, manager_a, mentor):
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    program = Program.objects.create(
        organisation=organisation,
        name="Trois mois",
        kind=ProgramKind.MENTORING,
        start_date=dt.date(2026, 1, 15),
        end_date=dt.date(2026, 3, 10),
    )
    one = enrol(program, "pm@poitiers.example", Role.MENTEE)
    Enrolment.objects.create(program=program, member=mentor, role=Role.MENTOR)

    def event(kind, when, program_=program, actor=one):
        ActivityEvent.objects.create(program=program_, actor=actor, kind=kind, occurred_at=when)

    # 31 January 23:30 UTC is 1 February in Paris
    event(EventKind.SIGN_IN, dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC))
    event(EventKind.SIGN_IN, dt.datetime(2026, 1, 20, 10, tzinfo=paris), program_=None)
    event(EventKind.MESSAGE, dt.datetime(2026, 3, 1, 10, tzinfo=paris))
    event(EventKind.MESSAGE, dt.datetime(2026, 3, 11, 10, tzinfo=paris))  # after the end
    event(EventKind.MESSAGE, dt.datetime(2026, 1, 10, 10, tzinfo=paris))  # before the start
    meeting_create(
        program=program,
        attendees=[one, mentor],
        starts_at=dt.datetime(2026, 2, 3, 10, tzinfo=paris),
        duration_minutes=30,
        status="confirmed",
        by=None,
    )
    meeting_create(
        program=program,
        attendees=[one, mentor],
        starts_at=dt.datetime(2026, 2, 4, 10, tzinfo=paris),
        duration_minutes=30,
        status="cancelled",
        by=None,
    )
    monthly_rebuild(program=program)  # the worker's pass
    assert home.per_month(program) == [
        {"month": "2026-01", "sign_ins": 1, "messages": 0, "meetings_confirmed": 0},
        {"month": "2026-02", "sign_ins": 1, "messages": 0, "meetings_confirmed": 1},
        {"month": "2026-03", "sign_ins": 0, "messages": 1, "meetings_confirmed": 0},
    ]


def test_per_month_reads_the_rollup_not_the_events(
    organisation, manager_a, mentor, api_as, django_assert_num_queries
):
    """per_month shows what the worker last summed, and says when: an event added since
    shows only after the next refresh, and reading it is one query however many events."""
    program = running_program(organisation, "Cumul", ProgramKind.MENTORING, 2, manager_a)
    one = enrol(program, "cumul@poitiers.example", Role.MENTEE)
    yesterday = timezone.now() - dt.timedelta(days=1)
    ActivityEvent.objects.create(
        program=program, actor=one, kind=EventKind.MESSAGE, occurred_at=yesterday
    )
    month = timezone.localtime(yesterday, program.organisation.tzinfo).strftime("%Y-%m")

    def messages(months):
        return {m["month"]: m["messages"] for m in months}[month]

    months, as_of = home.per_month_rows(program)
    assert messages(months) == 0 and as_of is None  # never summed yet: zeros, no time

    monthly_rebuild(program=program)
    summed = MonthlyActivity.objects.filter(program=program).latest("updated_at").updated_at
    ActivityEvent.objects.create(
        program=program, actor=one, kind=EventKind.MESSAGE, occurred_at=yesterday
    )
    with django_assert_num_queries(1):
        months, as_of = home.per_month_rows(program)
    assert messages(months) == 1 and as_of == summed  # the second event waits for the worker

    body = api_as(manager_a).get(f"/api/programs/{program.pk}/dashboard").json()
    assert messages(body["per_month"]) == 1
    assert dt.datetime.fromisoformat(body["per_month_as_of"]) == to_milliseconds(summed)

    monthly_rebuild(program=program)
    again = MonthlyActivity.objects.filter(program=program).latest("updated_at").updated_at
    cache.clear()  # the figure set is kept a minute
    body = api_as(manager_a).get(f"/api/programs/{program.pk}/dashboard").json()
    assert messages(body["per_month"]) == 2
    assert dt.datetime.fromisoformat(body["per_month_as_of"]) == to_milliseconds(again)


def to_milliseconds(when):
    """As the API writes a time."""
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


# --- Permissions -----------------------------------------------------------------------------


def test_other_managers_and_outsiders_get_404(world, program_a, manager_b, outsider, api_as):
    for who in (manager_b, outsider):
        client = signed_in(who)
        assert client.get(reverse("reports:home", args=[program_a.pk])).status_code == 404
        people = reverse("reports:home-people", args=[program_a.pk, "adopted"])
        assert client.get(people).status_code == 404
        assert client.get(people, {"format": "csv"}).status_code == 404
        api = api_as(who)
        assert api.get(f"/api/programs/{program_a.pk}/dashboard").status_code == 404
        assert api.get(f"/api/programs/{program_a.pk}/at-risk").status_code == 404


def test_unknown_figure_and_bad_page_are_handled(world, program_a, manager_a):
    client = signed_in(manager_a)
    assert client.get(f"/programmes/{program_a.pk}/accueil/nope/").status_code == 404
    people = reverse("reports:home-people", args=[program_a.pk, "enrolled"])
    assert client.get(people, {"page": "x\x00"}).status_code == 200
    assert client.get(people, {"page": "99999"}).status_code == 200


def test_the_administrator_sees_every_programme_home(world, program_a, admin):
    assert signed_in(admin).get(reverse("reports:home", args=[program_a.pk])).status_code == 200


# --- API -------------------------------------------------------------------------------------


def test_dashboard_api_shape_and_values(world, program_a, manager_a, api_as):
    monthly_rebuild(program=program_a)  # per_month reads the rollup the worker keeps
    response = api_as(manager_a).get(f"/api/programs/{program_a.pk}/dashboard")
    assert response.status_code == 200
    body = response.json()
    assert dt.datetime.fromisoformat(body["as_of"]).tzinfo is not None
    figures = {f["key"]: f for f in body["figures"]}
    for key in (
        "enrolled",
        "signed_in",
        "adopted",
        "adoption_rate",
        "repeat",
        "repeat_rate",
        "confirmed_meetings",
        "objective_met",
        "unanswered_conversations",
        "open_reports",
        "bounced_emails",
    ):
        assert set(figures[key]) >= {"key", "value", "definition"}
        assert figures[key]["definition"]
    assert figures["adopted"]["value"] == 3 and figures["adoption_rate"]["value"] == 0.6
    assert figures["repeat_rate"]["value"] == round(2 / 3, 4)
    assert "annulée" in figures["adopted"]["definition"]  # the manager reads French
    months = body["per_month"]
    assert set(months[0]) == {"month", "sign_ins", "messages", "meetings_confirmed"}
    assert sum(m["meetings_confirmed"] for m in months) == 6  # meetings, not attendances


def test_dashboard_api_speaks_the_callers_language(world, program_b, manager_b, api_as):
    response = api_as(manager_b).get(f"/api/programs/{program_b.pk}/dashboard")
    figures = {f["key"]: f for f in response.json()["figures"]}
    with translation.override("en"):
        expected = home.figure_texts(program_b)
    assert figures["adoption_rate"]["definition"] == str(expected["adoption_rate"].definition)
    assert figures["enrolled"]["label"] == str(expected["enrolled"].label)


def test_at_risk_api(world, program_a, manager_a, api_as):
    response = api_as(manager_a).get(f"/api/programs/{program_a.pk}/at-risk")
    assert response.status_code == 200
    body = response.json()
    people = {p["email"]: p for p in body["results"]}
    assert body["count"] == len(people) == 5  # Zoé, Hugo, Léa, Paul, Marc
    zoe = people["zoe@poitiers.example"]
    assert zoe["name"] == "Zoé Zéro" and zoe["role"] == "participant"
    assert [r["code"] for r in zoe["reasons"]] == [
        "never_signed_in",
        "unanswered_conversation",
        "reported",
        "bounced_email",
    ]
    assert {r["code"]: r["detail"] for r in zoe["reasons"]}["reported"] == (
        "Signalé par Marc Mentor : Absent"
    )
    assert (
        api_as(manager_a).get(f"/api/programs/{program_a.pk}/at-risk", page_size=0).status_code
        == 400
    )


def test_at_risk_api_in_english(program_b, manager_b, mentor, api_as):
    one = enrol(program_b, "en@poitiers.example", Role.MENTEE, first="Eve", last="English")
    report_create(program=program_b, member=one, reported_by=mentor, reason="Late")
    body = api_as(manager_b).get(f"/api/programs/{program_b.pk}/at-risk").json()
    eve = next(p for p in body["results"] if p["email"] == "en@poitiers.example")
    assert {r["code"]: r["detail"] for r in eve["reasons"]}["reported"] == (
        "Reported by Marc Mentor: Late"
    )


def test_people_list_pages_through_htmx(world, program_a, manager_a):
    url = reverse("reports:home-people", args=[program_a.pk, "enrolled"])
    partial = signed_in(manager_a).get(url, {"page": "1"}, headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="people">') and "<html" not in html
    assert "Zoé Zéro" in html


def test_home_in_english_for_an_english_manager(program_b, manager_b, mentor):
    enrol(program_b, "b@poitiers.example", Role.MENTEE, first="Bea", last="B")
    page = signed_in(manager_b).get(reverse("reports:home", args=[program_b.pk]))
    assert page.status_code == 200
    assert '<html lang="en"' in page.content.decode()
    with translation.override("en"):
        label = str(home.figure_texts(program_b)["not_adopted"].label)
    assert label in page.content.decode()
    # a definition follows its name after an English colon, not a French one
    assert f"<dfn>{label}</dfn>: " in page.content.decode()
