"""Forms as a person sees them: people pickers that show a name and an e-mail (so two people
with the same name can be told apart), searchable in the browser, errors written under
each field and linked to it for screen readers, and the people search behind the pickers,
which never shows anyone the caller may not see."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from cohorte.programs.models import Enrolment, Program, ProgramKind, Role

from .conftest import make_member, signed_in
from .test_browser import browser, signed_in_page  # noqa: F401 — the shared Chromium fixture

SEARCH = "/personnes/recherche/"


class Elements(HTMLParser):
    """Every element of a page as (tag, attributes, text up to the next tag)."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[list] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append([tag, dict(attrs), ""])

    def handle_data(self, data):
        if self.found:
            self.found[-1][2] += data

    def find(self, tag, **attrs):
        return [
            (a, text.strip())
            for t, a, text in self.found
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def options_of(self, name):
        """The options inside the select called `name`."""
        inside, options = False, []
        for tag, attrs, text in self.found:
            if tag == "select":
                inside = attrs.get("name") == name
            elif tag == "option" and inside:
                options.append((attrs, text.strip()))
        return options


def page(response) -> Elements:
    assert response.status_code == 200
    return Elements(response.content.decode())


@pytest.fixture
def namesakes(organisation):
    """Two managers called « Arthur Bertrand », as in the demo, told apart by e-mail."""
    return [
        make_member(
            organisation, "arthur.bertrand@lycee-a.example", first="Arthur", last="Bertrand"
        ),
        make_member(organisation, "a.bertrand@lycee-b.example", first="Arthur", last="Bertrand"),
    ]


def programme_data(**extra):
    return {
        "name": "Printemps",
        "kind": ProgramKind.TRAINING,
        "start_date": "2026-03-01",
        "end_date": "2026-06-30",
        "objective": "3",
        "unanswered_after_days": "7",
        **extra,
    }


# --- The managers picker ----------------------------------------------------------------


def test_managers_picker_is_one_searchable_select_showing_name_and_email(admin, namesakes):
    html = page(signed_in(admin).get("/programmes/nouveau/"))

    assert not html.find("input", type="checkbox", name="managers")  # no wall of boxes
    (select, _), *more = html.find("select", name="managers")
    assert not more
    assert "multiple" in select and "data-searchable" in select
    options = {a["value"]: text for a, text in html.options_of("managers")}
    first, second = namesakes
    assert options[str(first.pk)] == "Bertrand Arthur — arthur.bertrand@lycee-a.example"
    assert options[str(second.pk)] == "Bertrand Arthur — a.bertrand@lycee-b.example"
    assert options[str(admin.pk)] == "Admin Anne — admin@poitiers.example"


def test_managers_picker_shows_another_organisations_people_never(admin, outsider):
    html = page(signed_in(admin).get("/programmes/nouveau/"))
    texts = " ".join(text for _, text in html.options_of("managers"))
    assert "admin@poitiers.example" in texts
    assert "olga" not in texts.lower()
    response = signed_in(admin).post(
        "/programmes/nouveau/", programme_data(managers=[str(outsider.pk)])
    )
    assert "managers" in response.context["form"].errors
    assert not Program.objects.exists()


def test_managers_chosen_in_the_select_are_saved_without_javascript(admin, namesakes):
    first, second = namesakes
    response = signed_in(admin).post(
        "/programmes/nouveau/", programme_data(managers=[str(first.pk), str(second.pk)])
    )
    assert response.status_code == 302
    program = Program.objects.get(name="Printemps")
    assert set(program.managers.all()) == {first, second}

    # Shown again, the two are the selected options.
    html = page(signed_in(admin).get(f"/programmes/{program.pk}/modifier/"))
    chosen = {a["value"] for a, _ in html.options_of("managers") if "selected" in a}
    assert chosen == {str(first.pk), str(second.pk)}


# --- Inline errors ------------------------------------------------------------------------


def test_errors_are_under_their_field_linked_for_screen_readers(admin):
    response = signed_in(admin).post(
        "/programmes/nouveau/", programme_data(name="", end_date="2026-01-01")
    )
    html = page(response)
    text = response.content.decode()

    ((name_input, _),) = html.find("input", name="name")
    assert name_input["aria-invalid"] == "true"
    assert "id_name_error" in name_input["aria-describedby"].split()
    ((name_error, message),) = html.find("ul", id="id_name_error")
    assert "errorlist" in name_error["class"]
    assert "Ce champ est obligatoire." in text

    ((end_input, _),) = html.find("input", name="end_date")
    assert end_input["aria-invalid"] == "true"
    assert end_input["aria-describedby"] == "id_end_date_error"
    end_error = re.search(r'<ul class="errorlist" id="id_end_date_error">(.*?)</ul>', text, re.S)
    assert "La date de fin doit suivre la date de début." in end_error.group(1)
    # The error comes right after its own field, before the next field's label.
    assert text.index('name="end_date"') < end_error.start() < text.index('for="id_objective"')

    # A valid field is not marked.
    ((kind_select, _),) = html.find("select", name="kind")
    assert "aria-invalid" not in kind_select

    # The long form starts with a summary whose links lead to each field in error.
    ((summary, _),) = html.find("div", class_="error-summary")
    assert summary["role"] == "alert"
    assert "Le formulaire contient 2 erreurs" in text
    links = [a["href"] for a, _ in html.find("a") if a.get("href", "").startswith("#id_")]
    assert links == ["#id_name", "#id_end_date"]


def test_help_text_is_linked_to_its_field(admin):
    html = page(signed_in(admin).get("/programmes/nouveau/"))
    ((select, _),) = html.find("select", name="managers")
    assert select["aria-describedby"] == "id_managers_helptext"
    ((_, help_text),) = html.find("small", id="id_managers_helptext")
    assert "courriel" in help_text
    assert not html.find("div", class_="error-summary")  # no errors, no summary


def test_errors_are_in_english_for_an_english_reader(admin):
    admin.language = "en"
    admin.save()
    client = signed_in(admin)
    client.cookies["django_language"] = "en"
    response = client.post(
        "/programmes/nouveau/", programme_data(name=""), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.content.decode()


def test_participant_add_shows_its_error_under_the_e_mail(manager_a, program_a):
    response = signed_in(manager_a).post(
        f"/programmes/{program_a.pk}/participants/ajouter/",
        {"email": "pas-un-courriel", "role": Role.PARTICIPANT, "language": "fr"},
    )
    html = page(response)
    ((email, _),) = html.find("input", name="email")
    assert email["aria-invalid"] == "true" and email["aria-describedby"] == "id_email_error"
    assert html.find("ul", id="id_email_error")
    assert "Saisissez une adresse de courriel valide." in response.content.decode()
    assert html.find("div", class_="error-summary")  # five fields: the summary leads there
    assert not Enrolment.objects.filter(program=program_a, member__email="pas-un-courriel")


# --- The other people pickers --------------------------------------------------------------


def test_pairing_pickers_show_name_and_email_of_namesakes(manager_b, program_b, organisation):
    twins = [
        make_member(organisation, f"{who}@lycee.example", first="Jules", last="Martin")
        for who in ("jules.martin", "j.martin")
    ]
    for twin in twins:
        Enrolment.objects.create(program=program_b, member=twin, role=Role.MENTEE)
    coach = make_member(organisation, "coach@lycee.example", first="Chloé", last="Coach")
    Enrolment.objects.create(program=program_b, member=coach, role=Role.MENTOR)

    html = page(signed_in(manager_b).get(f"/programmes/{program_b.pk}/relations/nouvelle/"))
    for name in ("mentor", "mentee"):
        selects = html.find("select", name=name)
        assert selects and all("data-searchable" in attrs for attrs, _ in selects)
    mentees = [text for _, text in html.options_of("mentee")]
    assert "Martin Jules — jules.martin@lycee.example (0/1)" in mentees
    assert "Martin Jules — j.martin@lycee.example (0/1)" in mentees
    assert [text for _, text in html.options_of("mentor")] == [
        "Coach Chloé — coach@lycee.example (0/3)"
    ]


def test_group_session_invitees_are_one_searchable_multiple_select(
    manager_a, program_a, mentee, mentor
):
    html = page(signed_in(manager_a).get(f"/programmes/{program_a.pk}/seances/nouvelle/"))
    assert not html.find("input", type="checkbox", name="member")
    ((select, _),) = html.find("select", name="member")
    assert "multiple" in select and "data-searchable" in select
    invitees = {attrs["value"]: text for attrs, text in html.options_of("member")}
    assert invitees[str(mentee.pk)] == "Mentee Léa — lea.mentee@poitiers.example"
    assert invitees[str(mentor.pk)] == "Mentor Marc — marc.mentor@poitiers.example"
    leaders = [text for _, text in html.options_of("led_by")]
    assert "Mentor Marc — marc.mentor@poitiers.example (Professionnel)" in leaders


def test_compose_people_picker_keeps_the_chosen_people_selected_with_their_email(
    admin, program_b, mentee, mentor
):
    client = signed_in(admin)
    html = page(client.get("/messages/", {"member": [mentee.pk, mentor.pk]}))
    ((select, _),) = html.find("select", name="people")
    assert "multiple" in select and select["data-search-url"] == SEARCH
    chosen = {a["value"]: text for a, text in html.options_of("people") if "selected" in a}
    assert chosen == {
        str(mentee.pk): "Mentee Léa — lea.mentee@poitiers.example",
        str(mentor.pk): "Mentor Marc — marc.mentor@poitiers.example",
    }

    # Posted without JavaScript (one value per person) with a mistake elsewhere: the form
    # comes back with the error and both people still chosen.
    response = client.post(
        "/messages/",
        {
            "program": program_b.pk,
            "audience": "people",
            "people": [str(mentee.pk), str(mentor.pk)],
            "subject_fr": "",
            "body_fr": "",
        },
    )
    html = page(response)
    chosen = {a["value"] for a, _ in html.options_of("people") if "selected" in a}
    assert chosen == {str(mentee.pk), str(mentor.pk)}


# --- The people search behind the pickers ---------------------------------------------------


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_search_finds_people_by_name_or_email_with_both_shown(admin, namesakes):
    found = results(signed_in(admin).get(SEARCH, {"q": "bertrand"}))
    assert [person["text"] for person in found] == [
        "Bertrand Arthur — a.bertrand@lycee-b.example",
        "Bertrand Arthur — arthur.bertrand@lycee-a.example",
    ]
    assert {person["value"] for person in found} == {str(m.pk) for m in namesakes}
    by_email = results(signed_in(admin).get(SEARCH, {"q": "lycee-b"}))
    assert [person["email"] for person in by_email] == ["a.bertrand@lycee-b.example"]


def test_search_never_shows_another_organisations_people(admin, outsider, mentee):
    assert results(signed_in(admin).get(SEARCH, {"q": "olga"})) == []
    assert results(signed_in(admin).get(SEARCH, {"q": "ailleurs.example"})) == []
    # …and the outsider, searching for us, finds nobody.
    assert results(signed_in(outsider).get(SEARCH, {"q": "poitiers"})) == []
    assert results(signed_in(outsider).get(SEARCH, {"q": "lea"})) == []


def test_manager_finds_only_the_people_of_their_programmes(
    manager_a, manager_b, program_a, program_b, mentee, organisation
):
    only_b = make_member(organisation, "bea.only@poitiers.example", first="Béa", last="Seulb")
    Enrolment.objects.create(program=program_b, member=only_b, role=Role.MENTEE)

    found = results(signed_in(manager_a).get(SEARCH, {"q": "poitiers"}))
    emails = {person["email"] for person in found}
    assert "lea.mentee@poitiers.example" in emails
    assert "bea.only@poitiers.example" not in emails
    # Another manager's programme is not found at all.
    response = signed_in(manager_a).get(SEARCH, {"q": "bea", "program": program_b.pk})
    assert response.status_code == 404
    # Their own programme, narrowed by role.
    found = results(
        signed_in(manager_a).get(
            SEARCH, {"q": "poitiers", "program": program_a.pk, "role": Role.PARTICIPANT}
        )
    )
    assert [person["email"] for person in found] == ["lea.mentee@poitiers.example"]


def test_a_member_who_manages_nothing_finds_nobody(mentee, manager_a):
    assert results(signed_in(mentee).get(SEARCH, {"q": "manon"})) == []


def test_search_needs_a_sign_in(client, admin):
    response = client.get(SEARCH, {"q": "anne"})
    assert response.status_code == 302
    assert "/connexion/" in response["Location"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "an", "limit": "abc"},
        {"q": "an", "limit": "0"},
        {"q": "an", "limit": "51"},
        {"q": "an", "limit": "²"},
        {"q": "an", "program": "²"},
        {"q": "an", "program": "99999999999999999999"},
        {"q": "an", "program": "-1"},
        {"q": "an", "role": "pirate"},
        {"q": "an", "active": "yes"},
        {"q": "a" * 101},
    ],
)
def test_bad_search_parameters_are_a_400_with_a_reason(admin, params):
    response = signed_in(admin).get(SEARCH, params)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_search_text_with_a_nul_character_is_a_space_not_an_error(admin):
    found = results(signed_in(admin).get(SEARCH, {"q": "an\x00ne"}))
    assert [person["email"] for person in found] == ["admin@poitiers.example"]


def test_search_is_bounded_and_costs_the_same_for_many_people(
    admin, organisation, django_assert_max_num_queries
):
    for n in range(30):
        make_member(organisation, f"p{n:02}@poitiers.example", first="Pierre", last=f"P{n:02}")
    client = signed_in(admin)
    client.get(SEARCH, {"q": "pierre"})  # session and user loaded once
    with django_assert_max_num_queries(4):
        found = results(client.get(SEARCH, {"q": "pierre", "limit": "25"}))
    assert len(found) == 25
    assert len(results(client.get(SEARCH, {"q": "pierre"}))) == 20


def test_short_search_returns_nothing(admin):
    assert results(signed_in(admin).get(SEARCH, {"q": "a"})) == []


# --- In Chromium ----------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_types_into_the_managers_picker_and_saves_two_managers(
    browser,  # noqa: F811
    live_server,
    admin,
    program_a,
    manager_a,
):
    organisation = program_a.organisation
    first = make_member(
        organisation, "arthur.bertrand@lycee-a.example", first="Arthur", last="Bertrand"
    )
    second = make_member(
        organisation, "a.bertrand@lycee-b.example", first="Arthur", last="Bertrand"
    )
    for n in range(40):
        make_member(organisation, f"p{n:02}@poitiers.example", first="Pierre", last=f"P{n:02}")

    tab = signed_in_page(browser, live_server, admin)
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.goto(f"{live_server.url}/programmes/{program_a.pk}/modifier/")
    # The native select is replaced by a box one types in, reached from its label.
    tab.wait_for_selector(".ts-wrapper.multi")
    native = tab.locator("select[name=managers]")
    assert "ts-hidden-accessible" in native.get_attribute("class")  # still in the form, hidden
    tab.click("label[for=id_managers-ts-control]")
    box = tab.locator("#id_managers-ts-control")
    assert box.evaluate("el => el === document.activeElement")

    from playwright.sync_api import expect

    for person in (first, second):
        box.press_sequentially(person.email, delay=10)
        # Typing the e-mail leaves one choice: the namesake is told apart.
        options = tab.locator("#id_managers-ts-dropdown .option")
        expect(options).to_have_count(1)
        assert options.inner_text() == f"Bertrand Arthur — {person.email}"
        assert options.get_attribute("data-value") == str(person.pk)
        options.click()

    chips = tab.locator(".ts-wrapper.multi .item").evaluate_all(
        "items => items.map(item => item.firstChild.textContent.trim())"
    )
    assert sorted(chips) == [
        f"Alpha Manon — {manager_a.email}",
        f"Bertrand Arthur — {second.email}",
        f"Bertrand Arthur — {first.email}",
    ]
    # Each chip has its « Retirer » button, in French.
    assert tab.locator(".ts-wrapper.multi .item .remove").first.get_attribute("title") == "Retirer"
    box.press("Escape")  # the list closes, as for anyone done choosing
    expect(tab.locator("#id_managers-ts-dropdown")).to_be_hidden()
    tab.click("button.primary:has-text('Enregistrer')")
    tab.wait_for_url(lambda url: "/modifier/" not in url)
    assert set(program_a.managers.all()) == {manager_a, first, second}
    # Opened again, the form shows the three managers as chosen.
    tab.goto(f"{live_server.url}/programmes/{program_a.pk}/modifier/")
    tab.wait_for_selector(".ts-wrapper.multi .item")
    shown = tab.locator(".ts-wrapper.multi .item").evaluate_all(
        "items => items.map(item => item.firstChild.textContent.trim())"
    )
    assert sorted(shown) == sorted(chips)
    assert not [e for e in errors if "Content Security Policy" in e]
    tab.close()


def test_the_start_and_end_of_a_programme_are_shown_again_after_an_error(admin):
    """The form keeps what was typed (dates included) when it is shown again with errors."""
    response = signed_in(admin).post("/programmes/nouveau/", programme_data(name=""))
    html = page(response)
    ((start, _),) = html.find("input", name="start_date")
    assert start["value"] == dt.date(2026, 3, 1).isoformat()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_compose_people_picker_asks_the_server_as_one_types(
    browser,  # noqa: F811
    live_server,
    admin,
    program_b,
    outsider,
):
    from playwright.sync_api import expect

    organisation = program_b.organisation
    wanted = make_member(organisation, "zelie.zorn@lycee.example", first="Zélie", last="Zorn")
    Enrolment.objects.create(program=program_b, member=wanted, role=Role.MENTEE)

    tab = signed_in_page(browser, live_server, admin)
    tab.goto(f"{live_server.url}/messages/")
    tab.select_option("select[name=audience]", "people")
    box = tab.locator("#id_people-ts-control")
    box.press_sequentially("zorn", delay=20)
    option = tab.locator("#id_people-ts-dropdown .option")
    expect(option).to_have_count(1)
    assert option.inner_text() == "Zorn Zélie — zelie.zorn@lycee.example"
    option.click()
    assert tab.locator("select[name=people]").evaluate(
        "s => Array.from(s.selectedOptions).map(o => o.value)"
    ) == [str(wanted.pk)]
    # Someone from another organisation is never offered.
    box.press_sequentially("olga", delay=20)
    expect(tab.locator("#id_people-ts-dropdown .no-results")).to_have_text("Aucun résultat.")
    tab.close()
