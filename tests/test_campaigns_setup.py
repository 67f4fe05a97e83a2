"""« Campagnes d'entretiens »: the list (sorts, status, visibility), creating a campaign with
its population (CSV/XLSX all-or-nothing, the pre-flight fixed on the spot, groups and tags,
the legal population), the organisation's types (issue 13 §1)."""

import datetime as dt
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cohorte.campaigns import legal, services
from cohorte.campaigns.models import Campaign, CampaignType, FormTemplate, Interview
from cohorte.programs.models import Cohort, CohortKind, Organisation

from .conftest import make_member, signed_in

TODAY = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=1))).date()
DAY = dt.timedelta(days=1)


def campaign_of(organisation, admin, name, *, start, end, kind="annual"):
    return services.campaign_create(
        organisation=organisation,
        by=admin,
        name=name,
        kind=kind,
        start_date=start,
        end_date=end,
        circuit=[{"role": "collaborator", "deadline_days": 7}],
    )


def names_in(html: str) -> list[str]:
    return re.findall(r'<a href="/entretiens/campagnes/\d+/">([^<]+)</a>', html)


@pytest.fixture
def people(organisation):
    return {
        "alice": make_member(organisation, "alice@poitiers.example", first="Alice", last="Zola"),
        "bruno": make_member(organisation, "bruno@poitiers.example", first="Bruno", last="Morel"),
        "carla": make_member(organisation, "carla@poitiers.example", first="Carla", last="Petit"),
        "marc": make_member(organisation, "marc@poitiers.example", first="Marc", last="Manager"),
        "nina": make_member(organisation, "nina@poitiers.example", first="Nina", last="Chef"),
    }


@pytest.fixture
def three(organisation, admin, people):
    ended = campaign_of(
        organisation, admin, "Bilan 2024", start=TODAY - 400 * DAY, end=TODAY - 30 * DAY
    )
    running = campaign_of(
        organisation, admin, "Annuels 2026", start=TODAY - 10 * DAY, end=TODAY + 60 * DAY,
        kind="professional",
    )  # fmt: skip
    coming = campaign_of(
        organisation, admin, "Essai", start=TODAY + 30 * DAY, end=TODAY + 90 * DAY, kind="probation"
    )
    services.interviews_add(
        campaign=running,
        by=admin,
        lines=[
            {
                "collaborator_email": "alice@poitiers.example",
                "manager_email": "marc@poitiers.example",
            },
            {
                "collaborator_email": "bruno@poitiers.example",
                "manager_email": "nina@poitiers.example",
            },
        ],
    )
    return ended, running, coming


# --- The list ----------------------------------------------------------------------------------


def test_list_sorts_by_status_in_the_organisation_time_zone(admin, three):
    page = signed_in(admin).get(reverse("campaigns:list"), {"sort": "status"})
    assert names_in(page.content.decode()) == ["Essai", "Annuels 2026", "Bilan 2024"]
    html = page.content.decode()
    assert "En préparation" in html and "En cours" in html and "Terminée" in html
    page = signed_in(admin).get(reverse("campaigns:list"), {"sort": "status", "order": "desc"})
    assert names_in(page.content.decode()) == ["Bilan 2024", "Annuels 2026", "Essai"]


def test_list_sorts_by_name_type_and_creator(organisation, admin, three, people):
    client = signed_in(admin)
    assert names_in(client.get(reverse("campaigns:list"), {"sort": "name"}).content.decode()) == [
        "Annuels 2026", "Bilan 2024", "Essai",
    ]  # fmt: skip
    # types by their names: « Entretien annuel » < « Entretien professionnel » < « Fin de… »
    by_kind = names_in(client.get(reverse("campaigns:list"), {"sort": "kind"}).content.decode())
    assert by_kind == ["Bilan 2024", "Annuels 2026", "Essai"]
    other = make_member(
        organisation, "zed@poitiers.example", first="Aaron", last="Aaa", is_org_admin=True
    )
    campaign_of(organisation, other, "Par Aaron", start=TODAY, end=TODAY + DAY)
    by_creator = names_in(
        client.get(reverse("campaigns:list"), {"sort": "creator"}).content.decode()
    )
    assert by_creator[0] == "Par Aaron"


def test_list_sort_is_an_htmx_partial_with_counts(admin, three, django_assert_max_num_queries):
    client = signed_in(admin)
    with django_assert_max_num_queries(12):
        page = client.get(
            reverse("campaigns:list"), {"sort": "name"}, headers={"HX-Target": "campaigns"}
        )
    html = page.content.decode()
    assert html.lstrip().startswith('<div id="campaigns">')
    assert "<h1>" not in html
    row = html[html.index("Annuels 2026") :]
    assert re.search(r'<td class="num">2</td>', row[:800])


def test_manager_sees_only_the_campaigns_with_their_interviews(people, three, organisation, admin):
    ended, running, coming = three
    page = signed_in(people["marc"]).get(reverse("campaigns:list"))
    assert names_in(page.content.decode()) == ["Annuels 2026"]
    assert "Nouvelle campagne" not in page.content.decode()
    # their count: their own interviews
    assert re.search(r'<td class="num">1</td>', page.content.decode())
    nobody = signed_in(people["carla"]).get(reverse("campaigns:list"))
    assert names_in(nobody.content.decode()) == []
    assert signed_in(people["carla"]).get(reverse("campaigns:create")).status_code == 404
    assert signed_in(people["marc"]).get(reverse("campaigns:types")).status_code == 404


def test_other_organisation_sees_nothing(three, outsider):
    page = signed_in(outsider).get(reverse("campaigns:list"))
    assert names_in(page.content.decode()) == []
    boss = make_member(
        Organisation.objects.create(name="Ailleurs"), "boss@ailleurs.example", is_org_admin=True
    )
    page = signed_in(boss).get(reverse("campaigns:list"))
    assert names_in(page.content.decode()) == []
    assert "Nouvelle campagne" in page.content.decode()  # the empty state's button


def test_sidebar_shows_entretiens_to_admins_and_managers_only(admin, people, three):
    home = reverse("space:home")
    assert "Entretiens</a>" in signed_in(admin).get(home).content.decode()
    assert "Entretiens</a>" in signed_in(people["marc"]).get(home).content.decode()
    assert "Entretiens</a>" not in signed_in(people["carla"]).get(home).content.decode()


def test_a_manager_given_interviews_after_signing_in_finds_the_link_within_minutes(
    admin, people, three
):
    from cohorte.campaigns import navigation

    home = reverse("space:home")
    client = signed_in(people["carla"])
    assert "Entretiens</a>" not in client.get(home).content.decode()
    running = Campaign.objects.get(name="Annuels 2026")
    make_member(running.organisation, "new.hire@poitiers.example")
    services.interviews_add(
        campaign=running,
        by=admin,
        lines=[
            {
                "collaborator_email": "new.hire@poitiers.example",
                "manager_email": people["carla"].email,
            }
        ],
    )
    assert "Entretiens</a>" not in client.get(home).content.decode()  # the session's answer
    session = client.session
    kept = session[navigation.SESSION_KEY]
    session[navigation.SESSION_KEY] = {**kept, "at": kept["at"] - navigation.RECHECK_SECONDS}
    session.save()
    assert "Entretiens</a>" in client.get(home).content.decode()  # worked out again


# --- Creating a campaign -----------------------------------------------------------------------


def setup_post(**extra):
    data = {
        "name": "Entretiens annuels 2027",
        "kind": "annual",
        "start_date": str(TODAY),
        "end_date": str(TODAY + 60 * DAY),
        "hr_email": "",
        "template": "",
        "save_as": "",
        "r-enabled": "on",
        "r-before": "7, 2",
        "r-every_after": "7",
        "r-escalate_after": "7",
        "r-hr_after": "14",
        "step-TOTAL_FORMS": "3",
        "step-INITIAL_FORMS": "0",
        "step-0-role": "collaborator",
        "step-0-deadline_days": "7",
        "step-0-ORDER": "2",
        "step-1-role": "manager",
        "step-1-deadline_days": "3",
        "step-1-ORDER": "1",
        "step-2-role": "",
        "step-2-deadline_days": "",
        "step-2-ORDER": "3",
        "q-TOTAL_FORMS": "3",
        "q-INITIAL_FORMS": "0",
        "q-0-section": "Bilan",
        "q-0-label": "Réussites",
        "q-0-kind": "text",
        "q-1-section": "",
        "q-1-label": "Ambiance",
        "q-1-kind": "choice",
        "q-1-options": "Bonne; Moyenne; Mauvaise",
        "q-2-section": "Perspectives",
        "q-2-label": "Objectifs",
        "q-2-kind": "objectives",
        "p-source": "file",
        "action": "create",
    }
    data.update(extra)
    return data


CSV_ONE_BAD = (
    "Courriel collaborateur;Courriel manager\n"
    "alice@poitiers.example;marc@poitiers.example\n"
    "bruno@poitiers.example;inconnu@poitiers.example\n"
    "carla@poitiers.example;nina@poitiers.example\n"
)


def test_create_with_a_csv_with_one_bad_line_creates_nothing(admin, people):
    upload = SimpleUploadedFile("equipe.csv", CSV_ONE_BAD.encode(), content_type="text/csv")
    page = signed_in(admin).post(reverse("campaigns:create"), setup_post(**{"p-file": upload}))
    assert page.status_code == 400
    html = page.content.decode()
    assert not Campaign.objects.exists() and not Interview.objects.exists()
    assert "aucun membre de l&#x27;organisation n&#x27;a ce courriel" in html
    bad = html[html.index('data-line="1"') :]
    assert bad.index("inconnu@poitiers.example") < bad.index("</tr>")
    assert "1 ligne à corriger" in html


def test_preflight_fixed_on_the_spot_then_created(admin, people):
    client = signed_in(admin)
    upload = SimpleUploadedFile("equipe.csv", CSV_ONE_BAD.encode(), content_type="text/csv")
    page = client.post(
        reverse("campaigns:create"), setup_post(action="check", **{"p-file": upload})
    )
    assert page.status_code == 200
    assert not Campaign.objects.exists()
    lines = re.search(r'name="lines" value="([^"]*)"', page.content.decode()).group(1)
    import html as html_lib

    lines = html_lib.unescape(lines)
    # fix the manager of line 1, drop line 2, create
    page = client.post(
        reverse("campaigns:create"),
        setup_post(lines=lines, **{"manager-1": "nina@poitiers.example", "drop": ["2"]}),
    )
    assert page.status_code == 302, page.content.decode()[:3000]
    campaign = Campaign.objects.get()
    pairs = set(campaign.interviews.values_list("collaborator__email", "manager__email"))
    assert pairs == {
        ("alice@poitiers.example", "marc@poitiers.example"),
        ("bruno@poitiers.example", "nina@poitiers.example"),
    }
    # the circuit in the order asked, the form's sections as the rows said
    assert campaign.circuit == [
        {"role": "manager", "deadline_days": 3},
        {"role": "collaborator", "deadline_days": 7},
    ]
    assert [s["title"]["fr"] for s in campaign.form] == ["Bilan", "Perspectives"]
    assert campaign.form[0]["questions"][1]["options"][2]["fr"] == "Mauvaise"
    assert campaign.reminder_rules["before"] == [7, 2]


def test_preflight_of_a_group_without_managers_shows_everyone(admin, people, organisation):
    tag = Cohort.objects.create(organisation=organisation, name="Siège", kind=CohortKind.TAG)
    tag.members.add(people["alice"], people["carla"])
    people["carla"].is_active = False
    people["carla"].save()
    page = signed_in(admin).post(
        reverse("campaigns:create"),
        setup_post(action="check", **{"p-source": "tag", "p-tag": str(tag.pk)}),
    )
    html = page.content.decode()
    assert "Alice Zola" in html and "Carla Petit" in html
    assert "courriel obligatoire" in html  # no manager yet
    assert "ce membre est inactif" in html
    assert not Campaign.objects.exists()


def test_xlsx_import(admin, people):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Collaborateur", "Manager", "N+2"])
    sheet.append(["alice@poitiers.example", "marc@poitiers.example", "nina@poitiers.example"])
    sheet.append(["bruno@poitiers.example", "marc@poitiers.example", None])
    buffer = io.BytesIO()
    book.save(buffer)
    upload = SimpleUploadedFile("equipe.xlsx", buffer.getvalue())
    page = signed_in(admin).post(
        reverse("campaigns:create"),
        setup_post(save_as="Annuel standard", **{"p-file": upload}),
    )
    assert page.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.interviews.count() == 2
    alice = campaign.interviews.get(collaborator=people["alice"])
    assert alice.second_approver == people["nina"]
    assert FormTemplate.objects.get().name == "Annuel standard"


def test_a_bad_file_gets_a_clear_message(admin, people):
    upload = SimpleUploadedFile("equipe.csv", b"nom;prenom\nx;y\n")
    page = signed_in(admin).post(reverse("campaigns:create"), setup_post(**{"p-file": upload}))
    assert page.status_code == 400
    assert "« collaborateur » et « manager »" in page.content.decode()
    assert not Campaign.objects.exists()


def test_bad_settings_are_said_beside_their_field(admin, people):
    page = signed_in(admin).post(
        reverse("campaigns:create"),
        setup_post(end_date=str(TODAY - DAY), **{"step-0-role": "", "step-1-role": ""}),
    )
    assert page.status_code == 400
    assert "La date de fin suit la date de début." in page.content.decode()
    assert not Campaign.objects.exists()


def test_a_template_fills_the_questions(admin, organisation):
    template = FormTemplate.objects.create(
        organisation=organisation,
        name="Essai",
        sections=[
            {
                "title": {"fr": "Fin d'essai"},
                "questions": [{"key": "a", "kind": "scale", "label": {"fr": "Intégration"}}],
            }
        ],
    )
    page = signed_in(admin).get(reverse("campaigns:create"), {"template": template.pk})
    assert 'value="Intégration"' in page.content.decode()
    page = signed_in(admin).post(
        reverse("campaigns:create"), setup_post(action="template", template=str(template.pk))
    )
    assert 'value="Intégration"' in page.content.decode()


# --- Types -------------------------------------------------------------------------------------


def test_types_page_adds_renames_and_removes(admin, organisation):
    client = signed_in(admin)
    response = client.post(
        reverse("campaigns:types"), {"action": "add", "name_fr": "Entretien de mi-année"}
    )
    assert response.status_code == 302
    made = CampaignType.objects.get()
    assert made.slug == "entretien-de-mi-annee"
    assert ("entretien-de-mi-annee", "Entretien de mi-année") in services.kind_choices(organisation)
    client.post(
        reverse("campaigns:types"),
        {"action": "rename", "type": made.pk, "name_fr": "Mi-année", "name_en": "Mid-year"},
    )
    made.refresh_from_db()
    assert (made.name_fr, made.name_en, made.slug) == (
        "Mi-année",
        "Mid-year",
        "entretien-de-mi-annee",
    )
    campaign_of(organisation, admin, "Mi 2026", start=TODAY, end=TODAY + DAY, kind=made.slug)
    page = client.post(reverse("campaigns:types"), {"action": "remove", "type": made.pk})
    assert page.status_code == 400 and CampaignType.objects.exists()
    assert "Mi-année" in signed_in(admin).get(reverse("campaigns:list")).content.decode()
    Campaign.objects.all().delete()
    client.post(reverse("campaigns:types"), {"action": "remove", "type": made.pk})
    assert not CampaignType.objects.exists()


def test_types_of_another_organisation_are_out_of_reach(admin, outsider):
    other = CampaignType.objects.create(organisation=outsider.organisation, slug="x", name_fr="X")
    response = signed_in(admin).post(
        reverse("campaigns:types"), {"action": "remove", "type": other.pk}
    )
    assert response.status_code == 404
    assert (
        signed_in(admin)
        .post(reverse("campaigns:types"), {"action": "remove", "type": "x1"})
        .status_code
        == 404
    )


# --- The legal calendar ------------------------------------------------------------------------


def test_first_year_is_due_on_the_first_anniversary():
    hired = dt.date(2025, 3, 10)
    assert legal.due_by(
        hired_on=hired, last_interview_on=None, end=dt.date(2026, 3, 10)
    ) == legal.Due(dt.date(2026, 3, 10), legal.FIRST_YEAR)
    assert legal.due_by(hired_on=hired, last_interview_on=None, end=dt.date(2026, 3, 9)) is None


def test_four_years_after_the_last_one_and_the_review_at_eight():
    hired = dt.date(2016, 6, 1)
    # interviewed in 2017: due in 2021 (4 years), before the 8-year review of 2024
    assert legal.next_due(hired_on=hired, last_interview_on=dt.date(2017, 5, 1)) == legal.Due(
        dt.date(2021, 5, 1), legal.FOUR_YEARS
    )
    # interviewed in 2021: the 8-year review (2024-06-01) comes before 2025
    assert legal.next_due(hired_on=hired, last_interview_on=dt.date(2021, 5, 1)) == legal.Due(
        dt.date(2024, 6, 1), legal.REVIEW
    )
    # the same day: the review
    assert (
        legal.next_due(hired_on=hired, last_interview_on=dt.date(2020, 6, 1)).reason == legal.REVIEW
    )
    # a 29 February hire: the 28th in a common year
    assert legal.add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert (
        legal.due_by(
            hired_on=dt.date(2027, 1, 1), last_interview_on=None, end=dt.date(2026, 12, 31)
        )
        is None
    )


def test_legal_population_in_the_create_page(admin, organisation, people):
    start, end = TODAY, TODAY + 60 * DAY
    people["alice"].hired_on = legal.add_years(end, -1)  # due on the campaign's last day
    people["alice"].save()
    people["bruno"].hired_on = legal.add_years(end + DAY, -1)  # the day after: not yet
    people["bruno"].save()
    people["carla"].hired_on = dt.date(2010, 1, 1)
    people["carla"].save()
    done = campaign_of(
        organisation,
        admin,
        "Pro 2023",
        start=TODAY - 900 * DAY,
        end=TODAY - 800 * DAY,
        kind="professional",
    )
    line = {
        "collaborator_email": "carla@poitiers.example",
        "manager_email": "marc@poitiers.example",
    }
    interview = services.interviews_add(campaign=done, by=admin, lines=[line])[0]
    Interview.objects.filter(pk=interview.pk).update(
        status="closed", held_at=timezone.now() - 850 * DAY, closed_at=timezone.now() - 840 * DAY
    )
    page = signed_in(admin).post(
        reverse("campaigns:create"),
        setup_post(action="legal", start_date=str(start), end_date=str(end)),
    )
    html = page.content.decode()
    assert "Alice Zola" in html and "1re année" in html
    assert "Bruno Morel" not in html
    # Carla: hired 2010, last interview about 2.3 years ago: the 16-year review (2026-01-01)
    # is due before her 4 years
    assert ("Carla Petit" in html) == (dt.date(2026, 1, 1) <= end)
    assert "marc@poitiers.example" in html  # her manager last time, proposed
    assert Campaign.objects.count() == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"p-source": "group", "p-group": "abc"},
        {"p-source": "cohort", "p-cohort": "99999999999999999999999"},
        {"step-TOTAL_FORMS": "x"},
        {"q-TOTAL_FORMS": "100000"},
        {"start_date": "2026-02-30"},
        {"kind": "nope"},
        {"lines": "{not json", "action": "recheck"},
        {"lines": '[1, "a", {"collaborator_email": 5}]', "drop": ["x"], "manager-0": "a"},
        {"r-before": "1, 2, x"},
        {"template": "0", "action": "template"},
        {"hr_email": "nobody@poitiers.example"},
        {"step-0-deadline_days": "-3"},
    ],
)
def test_hostile_input_gets_a_page_not_a_server_error(admin, people, extra):
    response = signed_in(admin).post(reverse("campaigns:create"), setup_post(**extra))
    assert response.status_code in (200, 400)
    assert not Campaign.objects.exists()


def test_hostile_list_parameters(admin, three):
    for params in ({"sort": "drop table"}, {"order": "sideways"}, {"page": "-1"}, {"page": "x"}):
        assert signed_in(admin).get(reverse("campaigns:list"), params).status_code == 200
    assert signed_in(admin).get(reverse("campaigns:create"), {"template": "abc"}).status_code == 200


def test_a_group_brings_its_subgroups_participants_with_their_last_manager(
    admin, organisation, people, group, manager_a
):
    from cohorte.programs.models import Enrolment, Group, Program, Role

    below = Group.objects.create(organisation=organisation, name="Poitiers", parent=group)
    program = Program.objects.create(
        organisation=organisation, group=below, name="Accueil", kind="interview_campaign",
        start_date=TODAY - 10 * DAY, end_date=TODAY + 10 * DAY,
    )  # fmt: skip
    Enrolment.objects.create(program=program, member=people["alice"], role=Role.COLLABORATOR)
    Enrolment.objects.create(program=program, member=people["bruno"], role=Role.COLLABORATOR)
    Enrolment.objects.create(program=program, member=people["marc"], role=Role.MANAGER)
    earlier = campaign_of(
        organisation, admin, "2025", start=TODAY - 400 * DAY, end=TODAY - 300 * DAY
    )
    line = {
        "collaborator_email": "alice@poitiers.example",
        "manager_email": "nina@poitiers.example",
    }
    services.interviews_add(campaign=earlier, by=admin, lines=[line])
    page = signed_in(admin).post(
        reverse("campaigns:create"),
        setup_post(action="check", **{"p-source": "group", "p-group": str(group.pk)}),
    )
    html = page.content.decode()
    assert "Alice Zola" in html and "Bruno Morel" in html
    assert "Marc Manager" not in html  # a manager of the programme is not interviewed
    assert 'name="manager-1" type="email" value="nina@poitiers.example"' in html  # Zola, 2nd
    assert "1 ligne à corriger" in html  # Bruno: no manager known
    assert Campaign.objects.count() == 1


def test_an_administrator_sets_the_hire_date_that_the_legal_proposal_reads(admin, organisation):
    """The legal population needs hire dates: an administrator enters one on the profile;
    a date out of range is refused with a message; a member cannot set their own."""
    member = make_member(organisation, "embauche@x.example", first="Hélène", last="Embauche")
    client = signed_in(admin)
    url = f"/membres/{member.pk}/"
    page = client.get(url).content.decode()
    assert "Date d&#x27;embauche" in page
    base = {"first_name": "Hélène", "last_name": "Embauche", "language": "fr", "timezone": ""}
    refused = client.post(url, {**base, "hired_on": "1900-01-01"})
    assert refused.status_code == 200 and "date hors limites" in refused.content.decode()
    member.refresh_from_db()
    assert member.hired_on is None
    done = client.post(url, {**base, "hired_on": "2025-02-03"})
    assert done.status_code == 302, done.content.decode()[:2000]
    member.refresh_from_db()
    assert str(member.hired_on) == "2025-02-03"
    own = signed_in(member).get(reverse("accounts:profile"), follow=True)
    assert own.status_code == 200 and "embauche" not in own.content.decode()


def test_the_form_is_written_in_english_too_and_its_choices_must_match(admin, people):
    upload = SimpleUploadedFile(
        "equipe.csv",
        b"Courriel collaborateur;Courriel manager\nalice@poitiers.example;marc@poitiers.example\n",
        content_type="text/csv",
    )
    english = {
        "q-0-section_en": "Review",
        "q-0-label_en": "Achievements",
        "q-1-label_en": "Atmosphere",
        "q-1-options_en": "Good; Average",
    }
    client = signed_in(admin)
    page = client.post(reverse("campaigns:create"), setup_post(**{"p-file": upload}, **english))
    assert page.status_code == 400
    assert "Autant de choix en anglais qu&#x27;en français (3)" in page.content.decode()
    assert not Campaign.objects.exists()
    upload.seek(0)
    english["q-1-options_en"] = "Good; Average; Poor"
    page = client.post(reverse("campaigns:create"), setup_post(**{"p-file": upload}, **english))
    assert page.status_code == 302, page.content.decode()[:2000]
    form = Campaign.objects.get().form
    assert form[0]["title"] == {"fr": "Bilan", "en": "Review"}
    assert form[0]["questions"][0]["label"] == {"fr": "Réussites", "en": "Achievements"}
    assert [o["en"] for o in form[0]["questions"][1]["options"]] == ["Good", "Average", "Poor"]
    # left blank, the English stays empty (the French stands in)
    assert form[1]["questions"][0]["label"] == {"fr": "Objectifs", "en": ""}
    # the form kept as rows again (a template, an edit) keeps both languages
    from cohorte.campaigns.forms import question_initial

    rows = question_initial(form)
    assert rows[1]["label_en"] == "Atmosphere" and rows[1]["options_en"] == "Good; Average; Poor"
    assert rows[2]["options_en"] == ""
