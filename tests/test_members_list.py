"""The Members tab: every filter, the sorts, saved filters, and who may see whom."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.accounts.models import CustomField, CustomFieldValue, MemberRole, SavedMemberFilter
from cohorte.accounts.selectors import MemberFilters, member_rows, members_visible_to
from cohorte.meetings.services import relationship_create
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Role

from .conftest import make_member, signed_in


@pytest.fixture
def people(organisation, admin, program_a, program_b):
    """Five members with different profiles, activity and relationships."""
    now = timezone.now()
    sport = CustomField.objects.create(
        organisation=organisation,
        name_fr="Sport préféré",
        options="Baseball, Hockey",
        multiple=True,
    )
    ada = make_member(
        organisation,
        "ada@x.example",
        first="Ada",
        last="Lovelace",
        role=MemberRole.MENTOR,
        industry="Numérique",
        job_title="Ingénieure",
        profile_completion=95,
        last_access=now - dt.timedelta(days=2),
    )
    bob = make_member(
        organisation,
        "bob@x.example",
        first="Bob",
        last="Martin",
        role=MemberRole.MENTOR,
        industry="Santé",
        job_title="",
        profile_completion=40,
        last_access=now - dt.timedelta(days=20),
    )
    cam = make_member(
        organisation,
        "cam@x.example",
        first="Camille",
        last="Durand",
        role=MemberRole.MENTEE,
        industry="Numérique",
        job_title="Étudiante",
        profile_completion=70,
        last_access=now - dt.timedelta(days=60),
    )
    dan = make_member(
        organisation,
        "dan@x.example",
        first="Dan",
        last="Zed",
        role=MemberRole.MENTEE,
        profile_completion=10,
        is_active=False,
    )
    eve = make_member(
        organisation,
        "eve@x.example",
        first="Ève",
        last="Both",
        role=MemberRole.BOTH,
        profile_completion=79,
    )
    ada.date_joined = now - dt.timedelta(days=400)
    ada.save(update_fields=["date_joined"])
    CustomFieldValue.objects.create(member=ada, field=sport, value="Baseball")
    CustomFieldValue.objects.create(member=bob, field=sport, value="Hockey")
    CustomFieldValue.objects.create(member=eve, field=sport, value="Baseball")
    for member in (ada, bob, cam):
        Enrolment.objects.create(program=program_b, member=member, role=Role.MENTEE)
    relationship_create(program=program_b, mentor=ada, mentee=cam, by=admin)
    autumn = Cohort.objects.create(
        organisation=organisation, name="Automne", kind=CohortKind.COHORT
    )
    autumn.members.add(bob, dan)
    return {
        "ada": ada,
        "bob": bob,
        "cam": cam,
        "dan": dan,
        "eve": eve,
        "sport": sport,
        "autumn": autumn,
    }


def names(admin, **filters):
    rows = member_rows(members=members_visible_to(admin), filters=MemberFilters(**filters))
    return sorted(member.first_name for member in rows if member.email.endswith("@x.example"))


def test_role_filter_counts_mentor_and_mentee_members_as_both(admin, people):
    assert names(admin, role="mentor") == ["Ada", "Bob", "Ève"]
    assert names(admin, role="mentee") == ["Camille", "Dan", "Ève"]
    assert names(admin, role="both") == ["Ève"]


def test_custom_field_and_option(admin, people):
    field = people["sport"].pk
    assert names(admin, custom_field=field) == ["Ada", "Bob", "Ève"]
    assert names(admin, custom_field=field, option="baseball") == ["Ada", "Ève"]
    assert names(
        admin, role="mentor", custom_field=field, option="Baseball", completion_below=80
    ) == ["Ève"]


def test_sectors_functions_and_current_positions(admin, people):
    assert names(admin, industries=["Numérique"]) == ["Ada", "Camille"]
    assert names(admin, industries=["Numérique", "Santé"]) == ["Ada", "Bob", "Camille"]
    assert names(admin, job_titles=["Ingénieure"]) == ["Ada"]
    assert names(admin, current_positions=True) == ["Ada", "Camille"]


def test_completion_below_is_strict(admin, people):
    assert names(admin, completion_below=70) == ["Bob", "Dan"]
    assert names(admin, completion_below=71) == ["Bob", "Camille", "Dan"]


def test_created_after(admin, people):
    since = (timezone.now() - dt.timedelta(days=30)).date()
    assert "Ada" not in names(admin, created_after=since)
    assert "Bob" in names(admin, created_after=since)


def test_account_active(admin, people):
    assert names(admin, active="no") == ["Dan"]
    assert "Dan" not in names(admin, active="yes")


def test_recent_activity(admin, people):
    assert names(admin, recent="7") == ["Ada"]
    assert names(admin, recent="30") == ["Ada", "Bob"]
    assert names(admin, recent="90") == ["Ada", "Bob", "Camille"]
    assert names(admin, recent="never") == ["Dan", "Ève"]


def test_relationship_matched_or_not(admin, people):
    assert names(admin, relationship="matched") == ["Ada", "Camille"]
    assert names(admin, relationship="unmatched") == ["Bob", "Dan", "Ève"]


def test_cohort_and_programme(admin, people, program_b):
    assert names(admin, cohort=people["autumn"].pk) == ["Bob", "Dan"]
    assert names(admin, program=program_b.pk) == ["Ada", "Bob", "Camille"]


def test_search_by_first_name_last_name_or_email(admin, people):
    assert names(admin, q="love") == ["Ada"]
    assert names(admin, q="camille") == ["Camille"]
    assert names(admin, q="dan@x") == ["Dan"]


def test_archived_members_are_hidden_unless_asked(admin, people):
    people["bob"].archived_at = timezone.now()
    people["bob"].save()
    assert "Bob" not in names(admin)
    assert "Bob" in names(admin, archived=True)


@pytest.mark.parametrize(
    "sort, first",
    [
        ("completion", "Dan"),
        ("relationships", "Bob"),
        ("last_session", "Camille"),
        ("since", "Ada"),
        ("email", "Ada"),
        ("name", "Ève"),
        ("role", "Ève"),
    ],
)
def test_sorting_happens_in_the_database(admin, people, sort, first):
    rows = member_rows(
        members=members_visible_to(admin).filter(email__endswith="@x.example"),
        filters=MemberFilters(),
        sort=sort,
    )
    assert rows.first().first_name == first


def test_page_shows_the_seed_columns_and_sorts_by_header(
    admin, people, django_assert_max_num_queries
):
    client = signed_in(admin)
    client.get("/membres/")  # the header's « À faire » count, kept a minute (space.selectors)
    with django_assert_max_num_queries(20):
        response = client.get("/membres/", {"sort": "completion", "order": "desc"})
    html = response.content.decode()
    for column in (
        "Nom et prénom",
        "Courriel",
        "Achèvement des profils",
        "Dernière session",
        "Vos relations",
        "Nom de groupes",
        "Jumelages",
        "Rôle",
        "Heures de mentorat",
        "Membre depuis",
        "Date de fin",
        "Actif",
        "Administrateur des membres",
    ):
        assert column in html
    assert html.index("ada@x.example") < html.index("eve@x.example") < html.index("bob@x.example")


def test_queries_do_not_grow_with_the_page(
    admin, people, organisation, django_assert_max_num_queries
):
    for n in range(60):
        make_member(organisation, f"extra{n}@x.example", first=f"Extra{n}")
    client = signed_in(admin)
    client.get("/membres/")  # the header's « À faire » count, kept a minute (space.selectors)
    with django_assert_max_num_queries(20):
        response = client.get("/membres/", {"size": 100})
    assert response.content.decode().count('data-member="') >= 60


def test_htmx_request_returns_the_table_only(admin, people):
    response = signed_in(admin).get(
        "/membres/", {"q": "Ada"}, headers={"HX-Request": "true", "HX-Target": "members"}
    )
    html = response.content.decode()
    assert 'id="members"' in html and "<aside" not in html
    assert "ada@x.example" in html and "bob@x.example" not in html


def test_a_manager_sees_only_the_members_of_their_programmes(manager_b, people, mentee):
    client = signed_in(manager_b)
    html = client.get("/membres/").content.decode()
    assert "ada@x.example" in html
    assert "eve@x.example" not in html  # in no programme of Bob's
    assert "lea.mentee@poitiers.example" not in html
    assert client.get(f"/membres/{people['eve'].pk}/").status_code == 404


def test_a_manager_cannot_switch_anyone_off(manager_b, people):
    response = signed_in(manager_b).post(f"/membres/{people['ada'].pk}/actif/", {"active": "0"})
    assert response.status_code == 404
    people["ada"].refresh_from_db()
    assert people["ada"].is_active


def test_members_of_another_organisation_are_out_of_reach(admin, outsider):
    client = signed_in(admin)
    assert "olga@ailleurs.example" not in client.get("/membres/").content.decode()
    assert client.get(f"/membres/{outsider.pk}/").status_code == 404
    assert client.post(f"/membres/{outsider.pk}/actif/", {"active": "0"}).status_code == 404
    assert client.post(f"/membres/{outsider.pk}/supprimer/").status_code == 404


def test_a_participant_has_no_members_tab(mentee):
    assert signed_in(mentee).get("/membres/").status_code == 404


# --- saved filters -------------------------------------------------------------------


def test_saved_filter_is_shared_by_the_organisations_administrators(admin, organisation, people):
    client = signed_in(admin)
    query = "role=mentor&completion_below=80"
    response = client.post(
        "/membres/filtres/nouveau/", {"name": "Mentors qui aiment le baseball", "query": query}
    )
    assert response.status_code == 302
    saved = SavedMemberFilter.objects.get()
    other_admin = make_member(organisation, "admin2@x.example", is_org_admin=True)
    html = signed_in(other_admin).get("/membres/").content.decode()
    assert "Mentors qui aiment le baseball" in html
    applied = signed_in(other_admin).get(f"/membres/filtres/{saved.pk}/")
    assert applied.status_code == 302 and applied["Location"].endswith("?" + query)
    listing = signed_in(other_admin).get(applied["Location"]).content.decode()
    assert "bob@x.example" in listing and "ada@x.example" not in listing


def test_saved_filter_can_be_renamed_and_deleted(admin, organisation):
    saved = SavedMemberFilter.objects.create(
        organisation=organisation, name="Ancien", query="role=mentor"
    )
    client = signed_in(admin)
    client.post(f"/membres/filtres/{saved.pk}/modifier/", {"name": "Nouveau nom"})
    saved.refresh_from_db()
    assert saved.name == "Nouveau nom"
    client.post(f"/membres/filtres/{saved.pk}/modifier/", {"delete": "1", "name": "x"})
    assert not SavedMemberFilter.objects.exists()


def test_saved_filters_of_another_organisation_are_invisible(admin, outsider):
    from cohorte.accounts.models import SavedMemberFilter as Saved

    theirs = Saved.objects.create(organisation=outsider.organisation, name="Secret", query="q=olga")
    client = signed_in(admin)
    assert "Secret" not in client.get("/membres/").content.decode()
    assert client.get(f"/membres/filtres/{theirs.pk}/").status_code == 404
    assert (
        client.post(f"/membres/filtres/{theirs.pk}/modifier/", {"delete": "1"}).status_code == 404
    )


def test_report_csv_follows_the_filters_and_neutralises_formulas(admin, people):
    people["ada"].company = '=HYPERLINK("http://evil")'
    people["ada"].save()
    response = signed_in(admin).get("/membres/rapport.csv", {"role": "mentor"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "ada@x.example" in text and "cam@x.example" not in text
    assert "'=HYPERLINK" in text


def test_one_bad_filter_does_not_drop_the_others(admin, people):
    html = (
        signed_in(admin)
        .get("/membres/", {"role": "mentee", "completion_below": "abc"})
        .content.decode()
    )
    assert "cam@x.example" in html and "ada@x.example" not in html
    assert 'class="errors"' in html


def test_only_searchable_fields_are_offered_as_filters(admin, people, organisation):
    CustomField.objects.create(organisation=organisation, name_fr="Caché", searchable=False)
    people["sport"].searchable = True
    people["sport"].save()
    html = signed_in(admin).get("/membres/").content.decode()
    assert "Sport préféré</option>" in html and "Caché</option>" not in html


def test_a_saved_filter_keeps_only_the_lists_filters(admin):
    signed_in(admin).post(
        "/membres/filtres/nouveau/",
        {"name": "Bizarre", "query": "role=mentor&next=https://evil.example&q=a%0D%0AX"},
    )
    saved = SavedMemberFilter.objects.get()
    assert saved.query == "q=a%0D%0AX&role=mentor"


# --- issue 9: saved filters are the administrators'; bad query values are form errors


def test_only_an_administrator_applies_a_saved_filter(organisation, admin, manager_a, mentee):
    saved = SavedMemberFilter.objects.create(
        organisation=organisation, name="Secret", query="q=secret"
    )
    for person in (manager_a, mentee):
        assert signed_in(person).get(f"/membres/filtres/{saved.pk}/").status_code == 404
    assert signed_in(admin).get(f"/membres/filtres/{saved.pk}/").status_code == 302


def test_a_manager_is_not_offered_saved_filters(organisation, manager_a, mentee):
    SavedMemberFilter.objects.create(organisation=organisation, name="Secret", query="q=x")
    assert "Secret" not in signed_in(manager_a).get("/membres/").content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"page": "²"},
        {"page": "99999999999999999999999999"},
        {"page": "-3"},
        {"completion_below": "²"},
        {"created_after": "9999-01-01"},
        {"created_after": "0001-01-01"},
        {"custom_field": "²"},
        {"custom_field": "99999999999999999999999"},
        {"cohort": "9223372036854775808"},
        {"program": "abc"},
        {"size": "²"},
        {"sort": "<script>", "order": "sideways"},
    ],
)
def test_bad_query_values_are_form_errors_never_500(admin, people, query):
    response = signed_in(admin).get("/membres/", query)
    assert response.status_code == 200
    assert "ada@x.example" in response.content.decode()


def test_a_far_future_date_is_refused_with_a_reason(admin, people):
    html = signed_in(admin).get("/membres/", {"created_after": "9999-01-01"}).content.decode()
    assert 'class="errors"' in html


def test_an_event_in_year_9999_does_not_break_the_list(admin, people, api_as):
    import datetime as dt

    far = dt.datetime(9999, 12, 31, 23, 30, tzinfo=dt.UTC)
    people["ada"].last_access = far
    people["ada"].save(update_fields=["last_access"])
    for sort in ("name", "last_session"):
        response = signed_in(admin).get("/membres/", {"sort": sort, "recent": "7"})
        assert response.status_code == 200, sort
        assert "ada@x.example" in response.content.decode()
    api = api_as(admin).get("/api/members", sort="last_session", order="desc")
    assert api.status_code == 200
    assert api.json()["results"][0]["email"] == "ada@x.example"
    report = signed_in(admin).get("/membres/rapport.csv")
    assert "ada@x.example" in b"".join(report.streaming_content).decode("utf-8-sig")
