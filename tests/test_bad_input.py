"""Bad input, at every boundary of the activity and programme pages and their API: dates out
of any sensible range, ids that are not ids, hostile query strings. Refused with a reason in
the user's language (400 or a message on the page), never stored, never a 500 — and a value
stored before these checks (written straight into the database) breaks no page either."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from cohorte.accounts.models import Member
from cohorte.activity.models import ActivityEvent, EventKind, ParticipantStats
from cohorte.activity.selectors import SORTS
from cohorte.meetings.models import Meeting, MeetingAttendee
from cohorte.messaging.models import ReminderRule
from cohorte.programs.models import Cohort, Enrolment, Organisation, Program, ProgramKind, Role

from .conftest import make_member, signed_in

FAR = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
EARLY = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC)
HUGE = "99999999999999999999"  # above 2⁶³
HOSTILE_IDS = ["²", HUGE, "-1", "0", "abc", "1e3", " ", "١٢", "1,2", "9" * 400]


@pytest.fixture
def api(api_as, admin):
    client = api_as(admin)
    client.client.raise_request_exception = False
    return client


def error_fields(response):
    return [(e["index"], e["field"]) for e in response.json()["errors"]]


# --- 1. Dates bounded where they come in ----------------------------------------------------


def event(member, occurred_at, **extra):
    return {"email": member.email, "kind": "sign_in", "occurred_at": occurred_at, **extra}


@pytest.mark.parametrize(
    "occurred_at",
    [
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+00:00",
        "1999-12-31T23:00:00+00:00",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
    ],
)
def test_event_out_of_range_is_refused_and_nothing_stored(api, program_a, mentee, occurred_at):
    good = event(mentee, "2026-01-02T10:00:00+01:00")
    response = api.post(
        f"/api/programs/{program_a.pk}/events", [good, event(mentee, occurred_at), good]
    )
    assert response.status_code == 400, response.content
    assert error_fields(response) == [(1, "occurred_at")]
    assert "date hors limites" in response.json()["errors"][0]["reason"]
    assert not ActivityEvent.objects.exists()
    mentee.refresh_from_db()
    assert mentee.last_access is None


def test_event_in_the_future_beyond_clock_skew_is_refused(api, program_a, mentee):
    soon = (timezone.now() + dt.timedelta(minutes=2)).isoformat()
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api.post(
        f"/api/programs/{program_a.pk}/events",
        [event(mentee, soon), event(mentee, later), event(mentee, "2000-01-01T00:00:00Z")],
    )
    assert response.status_code == 400
    assert error_fields(response) == [(1, "occurred_at")]
    accepted = api.post(
        f"/api/programs/{program_a.pk}/events",
        [event(mentee, soon), event(mentee, "2000-01-01T00:00:00Z")],
    )
    assert accepted.status_code == 200, accepted.content


def test_every_bad_event_is_listed_by_index(api, program_a, mentee):
    batch = [
        event(mentee, "9999-01-01T00:00:00Z"),
        event(mentee, "2026-01-01T00:00:00Z"),
        event(mentee, "0001-01-01T00:00:00Z"),
        {"email": "x\x00y@example.org", "kind": "sign_in", "occurred_at": "2026-01-01T00:00Z"},
        event(mentee, "2026-01-01T00:00:00"),  # no offset
        42,
        {"email": "a" * 300, "kind": "sign_in", "occurred_at": "2026-01-01T00:00:00Z"},
    ]
    response = api.post(f"/api/programs/{program_a.pk}/events", batch)
    assert response.status_code == 400, response.content
    indexes = sorted({index for index, _ in error_fields(response)})
    assert indexes == [0, 2, 3, 4, 5, 6]
    assert "6 événement(s) invalide(s) sur 7" in response.json()["message"]
    assert not ActivityEvent.objects.exists()


@pytest.mark.parametrize(
    ("starts_at", "duration", "field"),
    [
        ("9999-12-31T10:00:00+00:00", 30, "starts_at"),
        ("0001-01-01T10:00:00+00:00", 30, "starts_at"),
        ("2026-01-10T10:00:00+01:00", 99999999999, "duration_minutes"),
        ("2026-01-10T10:00:00+01:00", 0, "duration_minutes"),
        ("2026-01-10T10:00:00+01:00", -5, "duration_minutes"),
    ],
)
def test_meeting_out_of_range_is_refused(
    api, program_a, mentee, mentor, starts_at, duration, field
):
    response = api.post(
        f"/api/programs/{program_a.pk}/meetings",
        {
            "attendees": [mentee.email, mentor.email],
            "starts_at": starts_at,
            "duration_minutes": duration,
        },
    )
    assert response.status_code == 400, response.content
    assert (None, field) in error_fields(response)
    assert not Meeting.objects.exists()


def test_meeting_a_few_years_ahead_is_the_limit(api, program_a, mentee, mentor):
    def post(years):
        return api.post(
            f"/api/programs/{program_a.pk}/meetings",
            {
                "attendees": [mentee.email, mentor.email],
                "starts_at": (timezone.now() + dt.timedelta(days=365 * years)).isoformat(),
                "duration_minutes": 30,
            },
        )

    assert post(4).status_code == 201
    assert post(6).status_code == 400


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-31", "9999-12-31"),
        ("0001-01-01", "0001-01-02"),
        ("2026-01-01", "99999-01-01"),
        ("2026-13-01", "2026-12-31"),
        ("²", "2026-01-01"),
    ],
)
def test_calendar_dates_out_of_range_are_a_400(api, program_a, start, end):
    response = api.get(f"/api/programs/{program_a.pk}/meetings", **{"from": start, "to": end})
    assert response.status_code == 400, response.content
    assert response.json()["errors"]


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31"), ("1999-12-31", "2026-01-01")],
)
def test_programme_dates_are_bounded_in_the_api(api, start, end):
    response = api.post(
        "/api/programs",
        {"name": "X", "kind": "training", "start_date": start, "end_date": end, "objective": 1},
    )
    assert response.status_code == 400, response.content
    assert "date hors limites" in response.json()["errors"][0]["reason"]
    assert not Program.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", "0001-01-01"),
        ("end_date", "9999-12-31"),
        ("end_date", "99999-12-31"),
        ("objective", "1001"),
        ("objective", HUGE),
        ("objective", "²"),
        ("unanswered_after_days", "100000"),
        ("group", "²"),
        ("group", HUGE),
        ("managers", HUGE),
        ("managers", "²"),
        ("managers", "-3"),
    ],
)
def test_programme_form_refuses_out_of_range_values(admin, field, value):
    data = {
        "name": "Printemps",
        "kind": ProgramKind.TRAINING,
        "start_date": "2026-03-01",
        "end_date": "2026-06-30",
        "objective": "3",
        "unanswered_after_days": "7",
        field: value,
    }
    response = signed_in(admin).post("/programmes/nouveau/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Program.objects.exists()


@pytest.mark.parametrize("value", ["²", HUGE, "abc", "-1"])
def test_programme_form_link_with_a_bad_group_opens(admin, value):
    assert signed_in(admin).get("/programmes/nouveau/", {"group": value}).status_code == 200
    assert signed_in(admin).get("/groupes/nouveau/", {"parent": value}).status_code == 200


# --- 2. Values stored before the checks break no page ---------------------------------------


@pytest.fixture
def stored_extremes(program_a, mentee, mentor):
    """An event, a meeting and a counter in year 9999 and year 1, written straight into the
    database as an old version of the API let them in."""
    other = make_member(program_a.organisation, "zoe@poitiers.example", first="Zoé", last="Z")
    Enrolment.objects.create(program=program_a, member=other, role=Role.PARTICIPANT)
    for member, when in ((mentee, FAR), (other, EARLY)):
        ActivityEvent.objects.create(
            program=program_a, actor=member, kind=EventKind.SIGN_IN, occurred_at=when
        )
        ActivityEvent.objects.create(actor=member, kind=EventKind.SIGN_IN, occurred_at=when)
        meeting = Meeting.objects.create(
            program=program_a, starts_at=when, duration_minutes=30, status="scheduled"
        )
        MeetingAttendee.objects.create(meeting=meeting, member=member)
        MeetingAttendee.objects.create(meeting=meeting, member=mentor)
        enrolment = Enrolment.objects.get(program=program_a, member=member)
        ParticipantStats.objects.update_or_create(
            enrolment=enrolment,
            defaults={"last_access": when, "confirmed_meetings": 2_000_000_000},
        )
        Member.objects.filter(pk=member.pk).update(last_access=when)
    return program_a


def test_programme_page_sorts_and_csv_survive_stored_extremes(admin, manager_a, stored_extremes):
    program = stored_extremes
    for person in (admin, manager_a):
        client = signed_in(person)
        for sort in SORTS:
            for order in ("asc", "desc"):
                response = client.get(f"/programmes/{program.pk}/", {"sort": sort, "order": order})
                assert response.status_code == 200, (sort, order)
        page = client.get(f"/programmes/{program.pk}/").content.decode()
        assert "Zoé" in page and "100 %" in page
        csv = client.get(f"/programmes/{program.pk}/participants.csv")
        text = b"".join(csv.streaming_content).decode("utf-8-sig")
        # CSV moments are ISO 8601 in the organisation's zone (docs/i18n.md)
        assert "9999-12-31 23:59:59" in text and "Zoé" in text
        assert client.get("/").status_code == 200


def test_participants_api_survives_stored_extremes(api, stored_extremes):
    for sort in SORTS:
        for order in ("asc", "desc"):
            response = api.get(
                f"/api/programs/{stored_extremes.pk}/participants", sort=sort, order=order
            )
            assert response.status_code == 200, (sort, response.content)
    results = api.get(f"/api/programs/{stored_extremes.pk}/participants").json()["results"]
    assert {row["progress"] for row in results} == {100}
    assert any(row["last_access"] and row["last_access"].startswith("9999") for row in results)


def test_members_pages_survive_a_sign_in_stored_in_9999(api, admin, stored_extremes):
    """The report of issue 9: one event in 9999 made these fail for every administrator."""
    assert signed_in(admin).get("/membres/").status_code == 200
    assert api.get("/api/members").status_code == 200


def test_programme_with_dates_stored_out_of_bounds_opens(admin, organisation, mentee):
    program = Program.objects.create(
        organisation=organisation,
        name="Hors bornes",
        kind=ProgramKind.TRAINING,
        start_date=dt.date(1, 1, 1),
        end_date=dt.date(9999, 12, 31),
        unanswered_after_days=10**9,
        objective=10**9,
    )
    program.managers.add(admin)
    Enrolment.objects.create(program=program, member=mentee, role=Role.PARTICIPANT)
    ActivityEvent.objects.create(
        program=program, actor=mentee, kind=EventKind.SIGN_IN, occurred_at=timezone.now()
    )
    client = signed_in(admin)
    assert client.get(f"/programmes/{program.pk}/").status_code == 200
    assert client.get(f"/programmes/{program.pk}/", {"sort": "progress"}).status_code == 200
    assert client.get(f"/programmes/{program.pk}/", {"sort": "flags"}).status_code == 200
    assert client.get("/").status_code == 200
    for kind in ("never_signed_in", "behind_objective"):
        response = client.post(
            f"/programmes/{program.pk}/relances-automatiques/",
            {"kind": kind, "days": "30", "active": "1", "run": "1"},
            follow=True,
        )
        assert response.status_code == 200


def test_a_time_zone_stored_before_it_was_checked_reads_as_utc(organisation):
    Organisation.objects.filter(pk=organisation.pk).update(timezone="../../etc/passwd")
    organisation.refresh_from_db()
    assert str(organisation.tzinfo) == "UTC"


def test_ago_says_a_date_for_a_time_far_ahead():
    from cohorte.core.templatetags.cohorte import ago, moment

    assert ago(FAR).startswith("31")
    assert "9999" in ago(FAR)
    assert ago(timezone.now() + dt.timedelta(seconds=30)) == "à l'instant"
    assert "9999" in moment(FAR)
    assert moment(EARLY)


# --- 3. Views that parsed by hand -----------------------------------------------------------


@pytest.mark.parametrize("value", [v for v in HOSTILE_IDS if v not in (" ", "1,2")])
def test_remind_with_bad_member_ids_says_so(manager_a, program_a, mentee, value):
    client = signed_in(manager_a)
    response = client.post(
        f"/programmes/{program_a.pk}/relancer/", {"member": [str(mentee.pk), value]}, follow=True
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Sélection invalide" in text or "Sélectionnez au moins" in text


@pytest.mark.parametrize("value", ["²", HUGE, "0", "366", "-1", "abc", "", "7.5"])
def test_reminder_rule_days_out_of_range_is_a_message(manager_a, program_a, value):
    response = signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/relances-automatiques/",
        {"kind": "never_signed_in", "days": value, "active": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert "N doit être un nombre de jours entre 1 et 365" in response.content.decode()
    assert not ReminderRule.objects.exists()


@pytest.mark.parametrize("value", ["²", HUGE, "1,²", "abc", ",".join(["1"] * 600)])
def test_presence_with_bad_ids_is_a_400(manager_a, value):
    response = signed_in(manager_a).get("/presence/", {"ids": value})
    if value.startswith("1,1"):  # duplicates of one id: one id
        assert response.status_code == 200
    else:
        assert response.status_code == 400
        assert response.json()["message"]


@pytest.mark.parametrize("cohort", HOSTILE_IDS + [""])
@pytest.mark.parametrize("member", ["²", HUGE, "abc"])
def test_cohort_assign_with_bad_ids_says_so(admin, organisation, mentee, cohort, member):
    Cohort.objects.create(organisation=organisation, name="Promo 2026")
    response = signed_in(admin).post(
        "/cohortes/affecter/", {"cohort": cohort, "member": [member]}, follow=True
    )
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert "Sélection invalide" in response.content.decode()


def test_cohort_assign_never_redirects_away(admin, organisation, mentee):
    cohort = Cohort.objects.create(organisation=organisation, name="Promo 2026")
    response = signed_in(admin).post(
        "/cohortes/affecter/",
        {"cohort": cohort.pk, "member": [mentee.pk], "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == "/membres/"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page": HUGE}, "Page"),
        ({"page": "99999999999999999999999999999"}, "Page"),
        ({"page": "²"}, "Page"),
        ({"page": "0"}, "Page"),
        ({"size": "abc"}, "Par page"),
        ({"size": HUGE}, "Par page"),
        ({"sort": "password"}, "Tri"),
        ({"sort": "member__password"}, "Tri"),
        ({"order": "sideways"}, "Ordre"),
        ({"cohort": "²"}, "Cohorte"),
        ({"cohort": HUGE}, "Cohorte"),
        ({"q": "x" * 500}, "Recherche"),
    ],
)
def test_table_query_string_bad_values_are_ignored_with_a_message(
    manager_a, program_a, mentee, params, message
):
    response = signed_in(manager_a).get(f"/programmes/{program_a.pk}/", params)
    assert response.status_code == 200
    text = response.content.decode()
    assert f"{message} :" in text and "valeur ignorée" in text
    assert "Léa" in text  # the table still shows, with the defaults


def test_table_page_beyond_the_end_shows_the_last_page(manager_a, program_a, mentee):
    response = signed_in(manager_a).get(f"/programmes/{program_a.pk}/", {"page": "999999"})
    assert response.status_code == 200 and "Léa" in response.content.decode()


def test_table_search_with_html_and_nul_is_inert(manager_a, program_a, mentee):
    client = signed_in(manager_a)
    for q in ["<script>alert(1)</script>", "Léa\x00", "%", "_", "' OR 1=1 --"]:
        response = client.get(f"/programmes/{program_a.pk}/", {"q": q})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()


def test_table_size_is_one_of_the_choices(manager_a, program_a, mentee):
    response = signed_in(manager_a).get(f"/programmes/{program_a.pk}/", {"size": "60"})
    assert response.status_code == 200 and response.context["state"]["size"] == 50


@pytest.mark.parametrize(
    "params",
    [
        {"page": HUGE},
        {"page": "0"},
        {"page": "1000001"},
        {"page_size": "abc"},
        {"page_size": "1001"},
        {"sort": "password"},
        {"order": "x"},
        {"q": "x" * 201},
        {"q": "a\x00b"},
        {"never_signed_in": "maybe"},
    ],
)
def test_participants_api_bad_query_is_a_400(api, program_a, params):
    response = api.get(f"/api/programs/{program_a.pk}/participants", **params)
    assert response.status_code == 400, response.content
    assert response.json()["errors"]


def test_participants_api_page_limit_is_a_million(api, program_a, mentee):
    response = api.get(f"/api/programs/{program_a.pk}/participants", page="1000000")
    assert response.status_code == 200 and response.json()["results"] == []


# --- 4. Generated query strings never give a 5xx -------------------------------------------

_hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["²", HUGE, "-1", "0", "1e9", "<b>x</b>", "%00", "\x00", "9" * 50]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
_table_params = st.fixed_dictionaries(
    {},
    optional={
        "sort": st.one_of(st.sampled_from(list(SORTS)), _hostile_text),
        "order": st.one_of(st.sampled_from(["asc", "desc"]), _hostile_text),
        "q": _hostile_text,
        "page": _hostile_text,
        "size": st.one_of(st.sampled_from(["25", "50", "100"]), _hostile_text),
        "never": _hostile_text,
        "flagged": _hostile_text,
        "cohort": _hostile_text,
    },
)
_api_params = st.fixed_dictionaries(
    {},
    optional={
        "sort": st.one_of(st.sampled_from(list(SORTS)), _hostile_text),
        "order": st.one_of(st.sampled_from(["asc", "desc"]), _hostile_text),
        "q": _hostile_text,
        "page": _hostile_text,
        "page_size": _hostile_text,
        "never_signed_in": st.one_of(st.sampled_from(["true", "false"]), _hostile_text),
        "flagged": st.one_of(st.sampled_from(["true", "false"]), _hostile_text),
    },
)


class TestGeneratedQueryStrings(HypothesisTestCase):
    """Random values for every parameter of the table's URL, on the page, the CSV and the
    API: the answer is a page or a 400, never a server error."""

    @classmethod
    def setUpTestData(cls):
        from cohorte.accounts.api_auth import token_issue

        organisation = Organisation.objects.create(name="Gen", timezone="Europe/Paris")
        cls.admin = make_member(organisation, "gen.admin@x.example", is_org_admin=True)
        today = timezone.localdate()
        cls.program = Program.objects.create(
            organisation=organisation,
            name="Gen",
            kind=ProgramKind.TRAINING,
            start_date=today - dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=30),
        )
        for i, last_access in enumerate([None, FAR, EARLY]):  # and values stored long ago
            member = make_member(organisation, f"p{i}@x.example", first=f"P{i}", last="Gen")
            enrolment = Enrolment.objects.create(
                program=cls.program, member=member, role=Role.PARTICIPANT
            )
            ParticipantStats.objects.create(
                enrolment=enrolment, last_access=last_access, confirmed_meetings=2_000_000_000
            )
        Cohort.objects.create(organisation=organisation, name="C")
        cls.token = token_issue(member=cls.admin)

    def web(self) -> Client:
        client = Client(raise_request_exception=False)
        client.force_login(self.admin)
        return client

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=_table_params, partial=st.booleans())
    def test_programme_page(self, params, partial):
        headers = {"HX-Request": "true", "HX-Target": "participants"} if partial else {}
        response = self.web().get(f"/programmes/{self.program.pk}/", params, headers=headers)
        assert response.status_code == 200, (params, response.status_code)

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=_table_params)
    def test_csv(self, params):
        response = self.web().get(f"/programmes/{self.program.pk}/participants.csv", params)
        assert response.status_code == 200, params
        b"".join(response.streaming_content)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(params=_api_params)
    def test_participants_api(self, params):
        response = Client(raise_request_exception=False).get(
            f"/api/programs/{self.program.pk}/participants",
            params,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code in (200, 400), (params, response.status_code)
        body = response.json()
        if response.status_code == 400:
            assert body["message"] and isinstance(body["errors"], list)
        else:
            assert body["page"] <= 1_000_000


def test_csv_with_a_nul_in_the_query_string(manager_a, program_a, mentee):
    """The export is logged with its filters: a NUL there must not fail the log (PostgreSQL
    refuses it in JSON) nor the export."""
    response = signed_in(manager_a).get(
        f"/programmes/{program_a.pk}/participants.csv", {"q": "Léa\x00", "sort": "\x00"}
    )
    assert response.status_code == 200
    assert "Léa" in b"".join(response.streaming_content).decode("utf-8-sig")


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00Z", "²", "\x00"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_event_item = st.fixed_dictionaries(
    {},
    optional={
        "email": st.one_of(st.just("p1@x.example"), _json),
        "kind": st.one_of(
            st.sampled_from(["sign_in", "profile_view", "contact", "message"]), _json
        ),
        "occurred_at": st.one_of(
            st.datetimes(
                min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001 — hypothesis wants naive bounds
                max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
                timezones=st.timezones(),
            ).map(lambda moment: moment.isoformat()),
            _json,
        ),
        "target_email": st.one_of(st.just("p2@x.example"), _json),
        "client_id": _json,
    },
)


class TestGeneratedBodies(HypothesisTestCase):
    """Random JSON for the endpoints that read their body themselves: 200 or 400 with the
    error shape, never a server error; a refused batch stores nothing."""

    @classmethod
    def setUpTestData(cls):
        from cohorte.accounts.api_auth import token_issue

        organisation = Organisation.objects.create(name="Gen", timezone="Europe/Paris")
        cls.admin = make_member(organisation, "gen.admin@x.example", is_org_admin=True)
        today = timezone.localdate()
        cls.program = Program.objects.create(
            organisation=organisation,
            name="Gen",
            kind=ProgramKind.TRAINING,
            start_date=today - dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=30),
        )
        for i in range(3):
            member = make_member(organisation, f"p{i}@x.example", first=f"P{i}", last="Gen")
            Enrolment.objects.create(program=cls.program, member=member, role=Role.PARTICIPANT)
        cls.headers = {"Authorization": f"Bearer {token_issue(member=cls.admin)}"}

    def post(self, url, body):
        import json

        return Client(raise_request_exception=False).post(
            url, json.dumps(body), content_type="application/json", headers=self.headers
        )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=st.one_of(st.lists(_event_item, max_size=5), _json))
    def test_events(self, body):
        before = ActivityEvent.objects.count()
        response = self.post(f"/api/programs/{self.program.pk}/events", body)
        assert response.status_code in (200, 400), (body, response.content)
        if response.status_code == 400:
            assert response.json()["message"]
            assert ActivityEvent.objects.count() == before

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=st.one_of(st.fixed_dictionaries({"rows": st.lists(_json, max_size=3)}), _json))
    def test_members_import(self, body):
        response = self.post("/api/members/import", body)
        assert response.status_code in (200, 400), (body, response.content)
