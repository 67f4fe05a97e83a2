"""Reads of members: who a person may see, and the members list with its filters."""

import dataclasses
import datetime as dt
from typing import Any

from django.core.cache import cache
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
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
    ordering = [
        F(column).desc(nulls_last=True) if descending else F(column).asc(nulls_last=True)
        for column in columns
    ]
    tie = "-pk" if descending else "pk"
    return members.select_related("administrator").order_by(*ordering, tie)


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
