"""/api/members and /api/custom-fields: the Members tab for other tools."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from cohorte.core.api import BatchError, ErrorOut, json_body
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import ApiDate, ApiId, TimeZoneName

from . import services
from .forms import PROFILE_TEXT_MAX
from .models import CustomField, CustomFieldValue, Member
from .selectors import (
    MEMBER_SORTS,
    MemberFilters,
    custom_fields_of,
    foreign_filter,
    may_administer_members,
    member_rows,
    member_slice,
    members_visible_to,
)

members_router = Router(tags=["membres"])
custom_fields_router = Router(tags=["champs personnalisés"])

#: one limit for a batch, here and in the page's import (a file of more rows is refused)
BATCH_MAX = settings.COHORTE_IMPORT_MAX_ROWS

MemberSort = Literal[tuple(MEMBER_SORTS)]  # type: ignore[valid-type]
TEXT_MAX = PROFILE_TEXT_MAX
#: the last page a list serves
PAGE_MAX = 100_000
ShortText = Annotated[str, Field(max_length=200)]
Answer = Annotated[str, Field(max_length=500)]


class MemberQuery(Schema):
    q: str = Field("", max_length=200)
    role: Literal["", "mentor", "mentee", "both", "none"] = ""
    custom_field: ApiId | None = None
    option: str = Field("", max_length=500)
    industries: list[ShortText] = Field([], max_length=200)
    job_titles: list[ShortText] = Field([], max_length=200)
    completion_below: int | None = Field(None, ge=1, le=101)
    created_after: ApiDate | None = None
    current_positions: bool = False
    active: bool | None = None
    recent: Literal["", "7", "30", "90", "never"] = ""
    relationship: Literal["", "matched", "unmatched"] = ""
    cohort: ApiId | None = None
    program: ApiId | None = None
    archived: bool = False
    sort: MemberSort = "name"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "asc"
    page: int = Field(1, ge=1, le=PAGE_MAX)
    page_size: int = Field(25, ge=1, le=1000)


class MemberOut(Schema):
    id: int
    email: str
    first_name: str
    last_name: str
    role: str
    language: str
    profile_completion: int
    last_access: dt.datetime | None
    relationships: int
    matches: int
    mentoring_minutes: int
    member_since: dt.datetime | None
    end_date: dt.datetime | None
    active: bool
    archived: bool
    is_admin: bool
    cohorts: list[str]
    custom_fields: dict[str, list[str]]


class MemberPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[MemberOut]


def _out(member: Member, values: dict[int, list[str]]) -> dict[str, Any]:
    tz = timezone.get_current_timezone()
    return {
        "id": member.pk,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "role": member.role,
        "language": member.language,
        "profile_completion": member.profile_completion,
        "last_access": localtime_or_utc(member.last_access, tz) if member.last_access else None,
        "relationships": member.relationships_count,
        "matches": member.matches_count,
        "mentoring_minutes": member.mentoring_minutes,
        "member_since": localtime_or_utc(member.date_joined, tz),
        "end_date": localtime_or_utc(member.deactivated_at, tz) if member.deactivated_at else None,
        "active": member.is_active,
        "archived": member.archived_at is not None,
        "is_admin": member.is_org_admin,
        "cohorts": [cohort.name for cohort in member.cohorts.all()],
        "custom_fields": {str(k): v for k, v in values.items()},
    }


def _values_of(members: list[Member], admin: bool) -> dict[int, dict[int, list[str]]]:
    found: dict[int, dict[int, list[str]]] = {}
    values = CustomFieldValue.objects.filter(member__in=members).order_by("pk")
    if not admin:
        values = values.exclude(field__admin_only=True)
    for member_id, field_id, value in values.values_list("member_id", "field_id", "value"):
        found.setdefault(member_id, {}).setdefault(field_id, []).append(value)
    return found


@members_router.get("", response={200: MemberPage, 400: ErrorOut, 404: ErrorOut})
def member_list(request, filters: Query[MemberQuery]):
    """The members list with the same filters and sorts as the page. A programme the caller
    does not manage, another organisation's cohort or field: 404, as everywhere else."""
    user = request.auth
    chosen = MemberFilters(
        q=filters.q,
        role=filters.role,
        custom_field=filters.custom_field,
        option=filters.option,
        industries=filters.industries,
        job_titles=filters.job_titles,
        completion_below=filters.completion_below,
        created_after=filters.created_after,
        current_positions=filters.current_positions,
        active="" if filters.active is None else ("yes" if filters.active else "no"),
        recent=filters.recent,
        relationship=filters.relationship,
        cohort=filters.cohort,
        program=filters.program,
        archived=filters.archived,
    )
    if foreign_filter(user, chosen):
        raise HttpError(404, _("Introuvable."))
    rows = member_rows(
        members=members_visible_to(user), filters=chosen, sort=filters.sort, order=filters.order
    )
    count = rows.count()
    start = (filters.page - 1) * filters.page_size
    page = (
        member_slice(
            rows,
            offset=start,
            size=filters.page_size,
            sort=filters.sort,
            order=filters.order,
            organisation_id=user.organisation_id,
        )
        if start < count
        else []
    )
    values = _values_of(page, may_administer_members(user))
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [_out(member, values.get(member.pk, {})) for member in page],
    }


class MemberPatch(Schema):
    active: bool | None = None
    archived: bool | None = None
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    language: Literal["fr", "en"] | None = None
    role: Literal["", "mentor", "mentee", "both"] | None = None
    timezone: Literal[""] | TimeZoneName | None = None
    job_title: str | None = Field(None, max_length=200)
    company: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=200)
    years_experience: int | None = Field(None, ge=0, le=80)
    country: str | None = Field(None, max_length=100)
    province: str | None = Field(None, max_length=100)
    city: str | None = Field(None, max_length=100)
    goals: str | None = Field(None, max_length=TEXT_MAX)
    skills: str | None = Field(None, max_length=TEXT_MAX)
    development_areas: str | None = Field(None, max_length=TEXT_MAX)
    linkedin: str | None = Field(None, max_length=200)
    custom_fields: dict[Annotated[str, Field(max_length=100)], Answer | list[Answer]] | None = (
        Field(None, max_length=200)
    )


def _admin(request) -> tuple[Member, int]:
    """The caller and their organisation, if they administer it; else 403."""
    user = request.auth
    if not may_administer_members(user) or user.organisation_id is None:
        raise HttpError(403, _("Seul un administrateur de l'organisation peut faire cela."))
    return user, user.organisation_id


def _custom_key(fields: dict[str, CustomField], key: str) -> str | None:
    field = fields.get(key) or fields.get(key.casefold())
    return f"custom:{field.pk}" if field else None


def _field_index(organisation_id: int) -> dict[str, CustomField]:
    index: dict[str, CustomField] = {}
    for field in CustomField.objects.filter(organisation_id=organisation_id):
        index[str(field.pk)] = field
        index[field.name_fr.casefold()] = field
        if field.name_en:
            index[field.name_en.casefold()] = field
    return index


def _row_from(
    item: dict[str, Any], fields: dict[str, CustomField], index: int, errors: list
) -> dict[str, str]:
    row: dict[str, str] = {}
    for key, value in item.items():
        if key == "custom_fields":
            if not isinstance(value, dict):
                errors.append({"index": index, "field": key, "reason": _("objet JSON attendu")})
                continue
            for name, answer in value.items():
                column = _custom_key(fields, str(name))
                if column is None:
                    errors.append(
                        {
                            "index": index,
                            "field": f"custom_fields.{name}",
                            "reason": _("Champ personnalisé inconnu."),
                        }
                    )
                    continue
                row[column] = (
                    ", ".join(answer)
                    if isinstance(answer, list)
                    else ("" if answer is None else str(answer))
                )
        elif key in services.IMPORT_FIELDS:
            row[key] = "" if value is None else str(value)
        else:
            errors.append({"index": index, "field": key, "reason": _("champ inconnu")})
    return row


@members_router.patch(
    "/{int:member_id}", response={200: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut}
)
def member_patch(request, member_id: ApiId, payload: MemberPatch):
    """Switch a member on or off, archive them, or change their profile."""
    user, organisation_id = _admin(request)
    member = get_object_or_404(members_visible_to(user), pk=member_id)
    data = payload.dict(exclude_unset=True)
    custom = data.pop("custom_fields", None)
    active = data.pop("active", None)
    archived = data.pop("archived", None)
    errors: list[dict] = []
    custom_values: dict[CustomField, list[str]] = {}
    if custom:
        fields = _field_index(member.organisation_id or 0)
        row = _row_from({"custom_fields": custom}, fields, 0, errors)
        line_errors: list[services.LineError] = []
        for column, text in row.items():
            field = fields[column.split(":", 1)[1]]
            custom_values[field] = services.custom_choices(field, text, 0, line_errors)
        errors += [
            {"index": None, "field": f"custom_fields.{e.field[7:]}", "reason": e.message}
            for e in line_errors
        ]
        for error in errors:
            error["index"] = None
    if errors:
        raise BatchError(_("Requête invalide."), errors)
    try:
        with transaction.atomic():
            if data or custom_values:
                values = {
                    key: ("" if value is None and key != "years_experience" else value)
                    for key, value in data.items()
                }
                services.member_profile_update(
                    member=member, by=user, data=values, custom=custom_values
                )
            if active is not None:
                services.member_set_active(member=member, active=active, by=user)
            if archived is True:
                services.member_archive(member=member, by=user)
            elif archived is False:
                services.member_unarchive(member=member, by=user)
    except DjangoValidationError as error:
        details = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        raise BatchError(
            _("Requête invalide."),
            [
                {"index": None, "field": key or None, "reason": " ".join(messages)}
                for key, messages in details.items()
            ],
        ) from error
    member.refresh_from_db()
    return _out(member, _values_of([member], True).get(member.pk, {}))


class DeactivateIn(Schema):
    emails: list[str] = Field(max_length=BATCH_MAX)


class DeactivateOut(Schema):
    deactivated: int


@members_router.post("/deactivate", response={200: DeactivateOut, 400: ErrorOut, 403: ErrorOut})
def members_deactivate(request, payload: DeactivateIn):
    """Switch off every member of the list, or nobody: unknown e-mails and administrators
    are listed with their index."""
    user, organisation_id = _admin(request)
    if not payload.emails:
        raise BatchError(_("La liste de courriels est vide."), [])
    try:
        count = services.members_deactivate(
            organisation_id=organisation_id,
            emails=list(enumerate(payload.emails)),
            by=user,
        )
    except services.BatchRefused as refused:
        raise BatchError(
            _("Aucun membre n'a été désactivé."),
            [{"index": e.line, "field": "emails", "reason": e.message} for e in refused.errors],
        ) from refused
    return {"deactivated": count}


class ImportOut(Schema):
    created: int
    updated: int


@members_router.post(
    "/import",
    response={200: ImportOut, 400: ErrorOut, 403: ErrorOut},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["rows"],
                        "properties": {
                            "rows": {
                                "type": "array",
                                "maxItems": BATCH_MAX,
                                "items": {
                                    "type": "object",
                                    "required": ["email"],
                                    "properties": {
                                        **{
                                            name: {"type": "string"}
                                            for name in services.IMPORT_FIELDS
                                        },
                                        "custom_fields": {"type": "object"},
                                    },
                                },
                            },
                            "invite": {"type": "boolean"},
                        },
                    }
                }
            },
        }
    },
)
def members_import(request):
    """Create or update members, all rows or none. An existing e-mail is updated (a missing
    or empty value keeps what is there); every bad row is listed with its index."""
    user, organisation_id = _admin(request)
    body = json_body(request)
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise BatchError(_("Une liste « rows » non vide est attendue."), [])
    if len(rows) > BATCH_MAX:
        raise BatchError(
            _("%(count)d lignes envoyées : %(limit)d au plus par lot.")
            % {"count": len(rows), "limit": BATCH_MAX},
            [],
        )
    fields = _field_index(organisation_id)
    errors: list[dict] = []
    parsed: list[tuple[int, dict[str, str]]] = []
    for index, item in enumerate(rows):
        if not isinstance(item, dict):
            errors.append({"index": index, "field": None, "reason": _("objet JSON attendu")})
            continue
        parsed.append((index, _row_from(item, fields, index, errors)))
    try:
        if errors:
            _checked, more = services.import_check(organisation_id=organisation_id, rows=parsed)
            raise services.BatchRefused(more)
        invite = isinstance(body.get("invite"), bool) and body["invite"]
        result = services.members_import(
            organisation_id=organisation_id,
            rows=parsed,
            by=user,
            within=lambda result: _invitations(result, organisation_id, user) if invite else None,
        )
    except services.BatchRefused as refused:
        errors += [{"index": e.line, "field": e.field, "reason": e.message} for e in refused.errors]
        errors.sort(key=lambda e: (e["index"] is None, e["index"] or 0))
        raise BatchError(_("Rien n'a été importé."), errors) from refused
    return {"created": result["created"], "updated": result["updated"]}


def _invitations(result: dict, organisation_id: int, user) -> None:
    """The new members' invitations: one background job, in the import's transaction."""
    from .tasks import invitations_job

    if result["created_ids"]:
        invitations_job(organisation_id=organisation_id, member_ids=result["created_ids"], by=user)


class CustomFieldIO(Schema):
    id: int | None = None
    name_fr: str = Field(min_length=1, max_length=100)
    name_en: str = Field("", max_length=100)
    description: str = Field("", max_length=300)
    options: str = ""
    hint: str = Field("", max_length=300)
    role: Literal["any", "mentor", "mentee", "both"] = "any"
    required: bool = False
    searchable: bool = False
    admin_only: bool = False
    multiple: bool = False
    order: int = Field(0, ge=0, le=32767)
    in_profile: bool = True
    in_reports: bool = True


@custom_fields_router.get("", response=list[CustomFieldIO])
def custom_field_list(request):
    fields = custom_fields_of(request.auth.organisation_id or 0)
    if not may_administer_members(request.auth):
        fields = fields.filter(admin_only=False)
    return list(fields)


@custom_fields_router.post("", response={201: CustomFieldIO, 400: ErrorOut, 403: ErrorOut})
def custom_field_create(request, payload: CustomFieldIO):
    """A new field; completion percentages follow after a recompute."""
    user, organisation_id = _admin(request)
    data = payload.dict(exclude={"id"})
    data["options"] = ", ".join(o.strip() for o in data["options"].split(",") if o.strip())
    field = CustomField(organisation_id=organisation_id, **data)
    try:
        services.custom_field_save(field=field, by=user)
    except DjangoValidationError as error:
        raise BatchError(
            _("Requête invalide."),
            [
                {"index": None, "field": k, "reason": " ".join(v)}
                for k, v in error.message_dict.items()
            ],
        ) from error
    return Status(201, field)
