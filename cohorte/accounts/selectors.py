"""Reads of members: who a person may see, and the members list with its filters."""

import dataclasses
import datetime as dt
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery, prefetch_related_objects
from django.utils import timezone

from cohorte.core.parse import search_words

from .models import CustomField, CustomFieldValue, Member, MemberRole, SavedMemberFilter


def members_visible_to(user: Member) -> QuerySet[Member]:
    """Administrators see their whole organisation; a programme manager sees the people
    enrolled in the programmes they manage; everyone else nobody."""
    if not user.is_authenticated or not user.is_active or user.organisation_id is None:
        return Member.objects.none()
    members = Member.objects.filter(organisation_id=user.organisation_id)
    if user.is_org_admin:
        return members
    return members.filter(
        pk__in=Member.objects.filter(enrolments__program__managers=user).values("pk")
    )


def may_administer_members(user: Member) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_org_admin)


def enrolments_visible_to(user: Member, member: Member) -> QuerySet[Any]:
    """A member's enrolments the viewer may know of: all for an administrator, those of the
    programmes they manage for a manager (never another manager's programme names)."""
    enrolments = member.enrolments.select_related("program").order_by("-created_at")
    if user.is_org_admin and user.organisation_id == member.organisation_id:
        return enrolments
    return enrolments.filter(program__managers=user)


def foreign_filter(user: Member, filters: "MemberFilters") -> str | None:
    """The name of the first filter naming something the user cannot see (a programme they
    do not manage, another organisation's cohort or field), or None."""
    organisation = user.organisation
    if organisation is None:
        return "organisation"
    if filters.program:
        programs = organisation.programs.all() if user.is_org_admin else user.managed_programs.all()
        if not programs.filter(pk=filters.program, organisation=organisation).exists():
            return "program"
    if filters.cohort and not organisation.cohorts.filter(pk=filters.cohort).exists():
        return "cohort"
    if filters.custom_field:
        fields = custom_fields_of(organisation.pk)
        if not user.is_org_admin:
            fields = fields.filter(admin_only=False)
        if not fields.filter(pk=filters.custom_field).exists():
            return "custom_field"
    return None


@dataclasses.dataclass
class MemberFilters:
    q: str = ""
    role: str = ""
    custom_field: int | None = None
    option: str = ""
    industries: list[str] = dataclasses.field(default_factory=list)
    job_titles: list[str] = dataclasses.field(default_factory=list)
    completion_below: int | None = None
    created_after: dt.date | None = None
    current_positions: bool = False
    active: str = ""  # "yes" / "no" / ""
    recent: str = ""  # "7" / "30" / "90" / "never" / ""
    relationship: str = ""  # "matched" / "unmatched" / ""
    cohort: int | None = None
    program: int | None = None
    archived: bool = False


#: sort keys of the members list → database ordering
MEMBER_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_name", "first_name"),
    "email": ("email",),
    "completion": ("profile_completion",),
    "last_session": ("last_access",),
    "relationships": ("relationships_count",),
    "groups": ("first_group",),
    "matches": ("matches_count",),
    "role": ("role",),
    "hours": ("mentoring_minutes",),
    "since": ("date_joined",),
    "end": ("deactivated_at",),
    "active": ("is_active",),
    "administrator": ("administrator__last_name", "administrator__first_name"),
}


#: the sorts on a column that may be empty: the empty ones come last, either way
NULLABLE_SORTS = frozenset({"last_session", "groups", "end", "administrator"})


def _search(members: QuerySet[Member], q: str) -> QuerySet[Member]:
    for word in search_words(q):
        members = members.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return members


def member_rows(
    *,
    members: QuerySet[Member],
    filters: MemberFilters,
    sort: str = "name",
    order: str = "asc",
    now: dt.datetime | None = None,
) -> QuerySet[Member]:
    """The members list: every filter and sort happens in the database, on columns kept up
    to date (completion, counters), so a page costs the same at 50,000 members."""
    now = now or timezone.now()
    if not filters.archived:
        members = members.filter(archived_at__isnull=True)
    members = _search(members, filters.q)
    if filters.role == "none":
        members = members.filter(role="")
    elif filters.role in (MemberRole.MENTOR, MemberRole.MENTEE):
        members = members.filter(role__in=[filters.role, MemberRole.BOTH])
    elif filters.role:
        members = members.filter(role=filters.role)
    if filters.custom_field:
        answered = Q(field_id=filters.custom_field)
        if filters.option:
            # options are stored as the field spells them: an exact match can use the index
            field = CustomField.objects.filter(pk=filters.custom_field).first()
            spelled = {choice.casefold(): choice for choice in (field.choices if field else [])}
            option = spelled.get(filters.option.casefold())
            answered &= Q(value=option) if option else Q(value__iexact=filters.option)
        members = members.filter(
            pk__in=CustomFieldValue.objects.filter(answered).values("member_id")
        )
    if filters.industries:
        members = members.filter(industry__in=filters.industries)
    if filters.job_titles:
        members = members.filter(job_title__in=filters.job_titles)
    if filters.completion_below is not None:
        members = members.filter(profile_completion__lt=filters.completion_below)
    if filters.created_after:
        members = members.filter(date_joined__date__gt=filters.created_after)
    if filters.current_positions:
        members = members.exclude(job_title="")
    if filters.active == "yes":
        members = members.filter(is_active=True)
    elif filters.active == "no":
        members = members.filter(is_active=False)
    if filters.recent == "never":
        members = members.filter(last_access__isnull=True)
    elif filters.recent in ("7", "30", "90"):
        members = members.filter(last_access__gte=now - dt.timedelta(days=int(filters.recent)))
    if filters.relationship == "matched":
        members = members.filter(relationships_count__gt=0)
    elif filters.relationship == "unmatched":
        members = members.filter(relationships_count=0)
    if filters.cohort:
        members = members.filter(cohorts=filters.cohort)
    if filters.program:
        members = members.filter(
            enrolments__program_id=filters.program, enrolments__ended_at__isnull=True
        )
    columns = MEMBER_SORTS.get(sort, MEMBER_SORTS["name"])
    if sort == "groups":
        # the first cohort or tag by name; a correlated subquery sorts 50,000 members
        # without grouping the whole join
        through = Member.cohorts.through
        first = (
            through.objects.filter(member_id=OuterRef("pk"))
            .order_by("cohort__name")
            .values("cohort__name")[:1]
        )
        members = members.annotate(first_group=Subquery(first))
    descending = order == "desc"
    # NULLS LAST only where there can be NULLs: on a NOT NULL column it would stop
    # PostgreSQL from reading the (organisation, column, id) index backwards
    nulls = {"nulls_last": True} if sort in NULLABLE_SORTS else {}
    ordering = [
        F(column).desc(**nulls) if descending else F(column).asc(**nulls) for column in columns
    ]
    tie = "-pk" if descending else "pk"
    return members.select_related("administrator").order_by(*ordering, tie)


def member_page(
    rows: QuerySet[Member],
    *,
    page: int | str,
    size: int,
    sort: str = "name",
    order: str = "asc",
    organisation_id: int | None = None,
) -> Page:
    """One page of member_rows(), its rows' cohorts read. A sort on a column that may be
    empty (last session, end date) or on another table (first group, administrator) cannot
    be read from one index: PostgreSQL would sort all 100,000 members for 25 of them (the
    first group: one subquery per member, seconds). The page is then read as the same order
    in consecutive parts that each follow an index — the members with a date, then those
    without; the members whose first group is the first cohort by name, then the second… —
    counting a part only to skip it, so the rows are those member_rows() orders, read in
    milliseconds."""
    found = Paginator(rows, size).get_page(page)
    found.object_list = member_slice(
        rows,
        offset=(found.number - 1) * size,
        size=size,
        sort=sort,
        order=order,
        organisation_id=organisation_id,
    )
    return found


def member_slice(
    rows: QuerySet[Member],
    *,
    offset: int,
    size: int,
    sort: str = "name",
    order: str = "asc",
    organisation_id: int | None = None,
) -> list[Member]:
    """Rows offset..offset+size of member_rows() (see member_page), their cohorts read."""
    descending = order == "desc"
    parts = _sort_parts(rows, sort=sort, descending=descending, organisation_id=organisation_id)
    if parts is None:
        found = list(rows[offset : offset + size])
    else:
        found = _read_parts(parts, offset=offset, size=size)
    prefetch_related_objects(found, "cohorts")
    return found


def _sort_parts(
    rows: QuerySet[Member], *, sort: str, descending: bool, organisation_id: int | None
) -> list[QuerySet[Member]] | None:
    """member_rows()'s order for `sort` as consecutive querysets, or None when one index
    already gives it."""
    tie = "-pk" if descending else "pk"
    if sort in ("last_session", "end"):
        column = MEMBER_SORTS[sort][0]
        key = F(column).desc() if descending else F(column).asc()
        return [
            rows.filter(**{f"{column}__isnull": False}).order_by(key, tie),
            rows.filter(**{f"{column}__isnull": True}).order_by(tie),
        ]
    if organisation_id is None or sort not in ("groups", "administrator"):
        return None
    if sort == "administrator":
        admins = (
            Member.objects.filter(
                pk__in=Member.objects.filter(
                    organisation_id=organisation_id, administrator__isnull=False
                ).values("administrator_id")
            )
            .order_by("last_name", "first_name", "pk")
            .values_list("last_name", "first_name", "pk")
        )
        keys: list[tuple[object, int]] = [((last, first), pk) for last, first, pk in admins]
    else:
        cohort: Any = Member.cohorts.field.model  # programs.Cohort: accounts imports no programs
        keys = list(
            cohort.objects.filter(organisation_id=organisation_id)
            .order_by("name", "pk")
            .values_list("name", "pk")
        )
    groups = _consecutive(key for key, _pk in keys), [pk for _key, pk in keys]
    ids_by_group = _split(*groups)
    parts = []
    through = Member.cohorts.through
    for position, ids in enumerate(ids_by_group):
        if sort == "administrator":
            part = rows.filter(administrator_id__in=ids)
        else:  # the first group by name: in this one, in none before it
            earlier = [pk for group in ids_by_group[:position] for pk in group]
            part = rows.filter(
                Exists(through.objects.filter(member_id=OuterRef("pk"), cohort_id__in=ids))
            )
            if earlier:
                part = part.exclude(
                    Exists(through.objects.filter(member_id=OuterRef("pk"), cohort_id__in=earlier))
                )
        parts.append(part.order_by(tie))
    if descending:
        parts.reverse()
    every = [pk for group in ids_by_group for pk in group]
    if sort == "administrator":
        parts.append(rows.filter(administrator__isnull=True).order_by(tie))
    else:
        parts.append(
            rows.exclude(
                Exists(through.objects.filter(member_id=OuterRef("pk"), cohort_id__in=every))
            ).order_by(tie)
        )
    return parts


def _consecutive(keys: Any) -> list[int]:
    """The position of the first key of each run of equal keys."""
    starts, previous = [], object()
    for position, key in enumerate(keys):
        if key != previous:
            starts.append(position)
            previous = key
    return starts


def _split(starts: list[int], ids: list[int]) -> list[list[int]]:
    return [ids[start:end] for start, end in zip(starts, [*starts[1:], len(ids)], strict=True)]


def _read_parts(parts: list[QuerySet[Member]], *, offset: int, size: int) -> list[Member]:
    """Rows offset..offset+size of the parts one after the other; a part is counted only
    when the page starts after it."""
    found: list[Member] = []
    for part in parts:
        if offset:
            count = part.count()
            if offset >= count:
                offset -= count
                continue
        found += part[offset : offset + size - len(found)]
        offset = 0
        if len(found) >= size:
            break
    return found


def filter_choices(organisation_id: int) -> dict[str, list[str]]:
    """The values the advanced filters offer: sectors and functions members actually have.
    Two DISTINCT scans of the whole organisation: kept a few minutes in the shared cache."""
    choices = cache.get_or_set(
        f"member-filter-choices:{organisation_id}",
        lambda: _filter_choices(organisation_id),
        timeout=300,
    )
    return choices or {"industries": [], "job_titles": []}


def _filter_choices(organisation_id: int) -> dict[str, list[str]]:
    members = Member.objects.filter(organisation_id=organisation_id)
    return {
        "industries": list(
            members.exclude(industry="")
            .values_list("industry", flat=True)
            .distinct()
            .order_by("industry")[:200]
        ),
        "job_titles": list(
            members.exclude(job_title="")
            .values_list("job_title", flat=True)
            .distinct()
            .order_by("job_title")[:200]
        ),
    }


def custom_fields_of(organisation_id: int) -> QuerySet[CustomField]:
    return CustomField.objects.filter(organisation_id=organisation_id)


def saved_filters_of(organisation_id: int) -> QuerySet[SavedMemberFilter]:
    """The organisation's saved filters: its administrators' (only they may apply them)."""
    return SavedMemberFilter.objects.filter(organisation_id=organisation_id)
