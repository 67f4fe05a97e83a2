"""The members list read a page at a time: every sort, both ways, on every page, gives the
rows member_rows() orders (the page reads a sort on an empty-able column or another table in
parts that follow an index), with a bounded number of queries."""

import datetime as dt

import pytest
from django.utils import timezone

from cohorte.accounts.models import MemberRole
from cohorte.accounts.selectors import (
    MEMBER_SORTS,
    MemberFilters,
    member_page,
    member_rows,
    member_slice,
    members_visible_to,
)
from cohorte.programs.models import Cohort, CohortKind

from .conftest import make_member, signed_in


@pytest.fixture
def crowd(organisation, admin):
    """23 members: some never came, some ended, some in one or two cohorts (two of them
    with the same name, a cohort and a tag), some with an administrator."""
    now = timezone.now()
    alpha = Cohort.objects.create(organisation=organisation, name="Alpha")
    beta = Cohort.objects.create(organisation=organisation, name="Beta")
    beta_tag = Cohort.objects.create(organisation=organisation, name="Beta", kind=CohortKind.TAG)
    zulu = Cohort.objects.create(organisation=organisation, name="Zulu")
    carla = make_member(organisation, "carla@x.example", first="Carla", last="Admin")
    aaron = make_member(organisation, "aaron@x.example", first="Aaron", last="Admin")
    members = []
    for n in range(21):
        member = make_member(
            organisation,
            f"m{n}@x.example",
            first=f"P{n % 4}",
            last=f"N{n % 5}",
            role=[MemberRole.MENTOR, MemberRole.MENTEE, ""][n % 3],
            last_access=None if n % 4 == 0 else now - dt.timedelta(days=n % 6),
            deactivated_at=now - dt.timedelta(days=n % 3) if n % 5 == 0 else None,
            administrator=[None, carla, aaron][n % 3],
        )
        groups = [[], [alpha], [beta], [beta_tag], [zulu, beta], [alpha, zulu]][n % 6]
        member.cohorts.add(*groups)
        members.append(member)
    return members


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("sort", list(MEMBER_SORTS))
def test_every_page_of_every_sort_is_the_order_of_member_rows(admin, crowd, sort, order):
    rows = member_rows(
        members=members_visible_to(admin), filters=MemberFilters(), sort=sort, order=order
    )
    expected = list(rows.values_list("pk", flat=True))
    assert len(expected) == 24
    read = []
    for number in range(1, 6):
        page = member_page(
            rows, page=number, size=5, sort=sort, order=order, organisation_id=admin.organisation_id
        )
        read += [member.pk for member in page.object_list]
    assert read == expected
    # a window that starts inside a part and ends in the next one
    window = member_slice(
        rows, offset=3, size=11, sort=sort, order=order, organisation_id=admin.organisation_id
    )
    assert [member.pk for member in window] == expected[3:14]


def test_sort_by_first_group_puts_members_without_a_group_last(admin, crowd):
    rows = member_rows(
        members=members_visible_to(admin), filters=MemberFilters(), sort="groups", order="desc"
    )
    page = member_page(
        rows, page=5, size=5, sort="groups", order="desc", organisation_id=admin.organisation_id
    )
    assert all(not member.cohorts.all() for member in page.object_list)


@pytest.mark.parametrize("sort", ["groups", "administrator", "last_session", "end", "name"])
def test_a_deep_page_costs_a_few_queries_whatever_the_sort(
    admin, crowd, sort, django_assert_max_num_queries
):
    client = signed_in(admin)
    client.get("/membres/", {"sort": sort})  # warm the caches (filter choices)
    with django_assert_max_num_queries(25):
        response = client.get("/membres/", {"sort": sort, "order": "desc", "page": 3, "size": 25})
    assert response.status_code == 200
    assert "1–24 sur 24" in response.content.decode()


def test_the_row_menu_links_name_each_row(admin, crowd, program_a):
    member = crowd[1]
    page = signed_in(admin).get("/membres/", {"q": "m1@x.example"}).content.decode()
    for link in (
        f"/membres/{member.pk}/",
        f"/membres/{member.pk}/message/",
        f"/membres/{member.pk}/archiver/",
        f"/membres/{member.pk}/supprimer/",
        f"/membres/{member.pk}/actif/",
        f"/membres/{member.pk}/#programmes",
    ):
        assert f'"{link}"' in page
