"""« Étiqueter » on the people behind a Home figure: the selected people get the chosen tag
through the tagging service (programs' cohort_assign → cohort_members_set) and its audit;
tagging stays the administrators', as on the members list."""

import re

import pytest
from django.urls import reverse

from cohorte.core.models import AuditEntry
from cohorte.programs.models import Cohort, CohortKind

from .conftest import signed_in
from .test_home import world  # noqa: F401 (the fixture)


@pytest.fixture
def tags(organisation, outsider):
    return {
        "follow": Cohort.objects.create(
            organisation=organisation, name="À relancer en mai", kind=CohortKind.TAG
        ),
        "cohort": Cohort.objects.create(organisation=organisation, name="Promotion 2026"),
        "theirs": Cohort.objects.create(
            organisation=outsider.organisation, name="Ailleurs", kind=CohortKind.TAG
        ),
    }


def people_url(program, figure="not_adopted"):
    return reverse("reports:home-people", args=[program.pk, figure])


def test_administrator_tags_the_people_behind_a_figure(world, tags, program_a, admin):  # noqa: F811
    client = signed_in(admin)
    url = people_url(program_a)
    html = client.get(url).content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)" class="selection">(.*?)</form>', html, re.S
    )
    body = form.group(2)
    # the tag list offers the organisation's tags only (not its cohorts, not another's tags)
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', body)
    assert options == [(str(tags["follow"].pk), "À relancer en mai")]
    button = re.search(r"<button[^>]*>Étiqueter</button>", body).group(0)
    assert f'formaction="{reverse("programs:cohort-assign")}"' in button
    assert 'name="action" value="add"' in button and "data-needs" in button

    # « Hugo » and « Zoé » are the two without a meeting: tag them, as the browser would post
    hugo, zoe = world["hugo"], world["zoe"]
    response = client.post(
        reverse("programs:cohort-assign"),
        {"next": url, "cohort": tags["follow"].pk, "action": "add", "member": [hugo.pk, zoe.pk]},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    assert "2 membres ajoutés à « À relancer en mai »." in response.content.decode()
    assert set(tags["follow"].members.all()) == {hugo, zoe}
    entry = AuditEntry.objects.get(action="cohort.members_added")
    assert entry.actor == admin and sorted(entry.data["members"]) == sorted([hugo.pk, zoe.pk])


def test_managers_see_no_tag_action_and_cannot_tag(world, tags, program_a, manager_a):  # noqa: F811
    client = signed_in(manager_a)
    html = client.get(people_url(program_a)).content.decode()
    assert "Étiqueter" not in html and "À relancer en mai" not in html
    # remind, write and export stay
    assert "Relancer" in html and "Écrire" in html and "format=csv" in html
    response = client.post(
        reverse("programs:cohort-assign"),
        {"cohort": tags["follow"].pk, "action": "add", "member": [world["zoe"].pk]},
    )
    assert response.status_code == 404
    assert not tags["follow"].members.exists()


def test_no_tag_yet_links_to_cohorts_and_tags(world, program_a, admin):  # noqa: F811
    html = signed_in(admin).get(people_url(program_a)).content.decode()
    assert "Étiqueter</button>" not in html
    assert f'href="{reverse("programs:cohorts")}"' in html


def test_another_organisations_tag_is_refused(world, tags, program_a, admin):  # noqa: F811
    response = signed_in(admin).post(
        reverse("programs:cohort-assign"),
        {"cohort": tags["theirs"].pk, "action": "add", "member": [world["zoe"].pk]},
    )
    assert response.status_code == 404
    assert not tags["theirs"].members.exists()


@pytest.mark.parametrize(
    ("member", "status"),
    [("", 302), ("x", 302), ("-1", 302), ("9" * 40, 302), ("1\x00", 400)],  # NUL: refused
)
def test_bad_selections_never_fail(world, tags, program_a, admin, member, status):  # noqa: F811
    url = people_url(program_a)
    response = signed_in(admin).post(
        reverse("programs:cohort-assign"),
        {"next": url, "cohort": tags["follow"].pk, "action": "add", "member": [member]},
    )
    assert response.status_code == status
    assert not tags["follow"].members.exists()


def test_at_risk_list_can_be_tagged_too(world, tags, program_a, admin):  # noqa: F811
    html = signed_in(admin).get(people_url(program_a, "at_risk")).content.decode()
    assert "Étiqueter</button>" in html
