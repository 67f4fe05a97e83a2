"""/api/audit: the organisation's audit log for its administrators, newest first, a page at a
time (keyset: `after` = the previous page's `next`)."""

import datetime as dt
from typing import Annotated, Any, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from pydantic import AfterValidator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from .api import BatchError, ErrorOut
from .parse import ApiDate, ParseError, zone_or_default
from .selectors import (
    CURSOR_PATTERN,
    GROUP_NAMES,
    AuditFilters,
    audit_entries,
    audit_lines,
    audit_page,
    day_bounds,
    parse_cursor,
)

audit_router = Router(tags=["journal d'audit"])

ActionGroupName = Literal[GROUP_NAMES]  # type: ignore[valid-type]


def _no_nul(value: str) -> str:
    """A NUL character cannot be searched for (PostgreSQL refuses it in any text)."""
    if "\x00" in value:
        raise PydanticCustomError("cohorte_invalid", _("caractère nul interdit"))
    return value.strip()


SearchText = Annotated[str, AfterValidator(_no_nul)]
#: said in the schema too, so a fuzzer knows what is accepted
NO_NUL: JsonDict = {"pattern": "^[^\\x00]*$"}
#: core.parse's bounds on dates (2000-01-01 to 2100-12-31), as the schema can say them
CENTURY: JsonDict = {"pattern": "^(20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$"}


class AuditQuery(Schema):
    action: ActionGroupName = Field(  # type: ignore[valid-type]
        "all", description="a kind of action: " + ", ".join(GROUP_NAMES)
    )
    actor: SearchText = Field(
        "",
        max_length=200,
        description="part of the name or e-mail of who acted; « système »",
        json_schema_extra=NO_NUL,
    )
    target: SearchText = Field(
        "", max_length=200, description="part of what was acted on", json_schema_extra=NO_NUL
    )
    start: ApiDate | None = Field(
        None, alias="from", description="first day (organisation's)", json_schema_extra=CENTURY
    )
    end: ApiDate | None = Field(
        None, alias="to", description="last day, included", json_schema_extra=CENTURY
    )
    after: str = Field(
        "",
        max_length=40,
        description="the `next` cursor of the previous page",
        json_schema_extra={"pattern": CURSOR_PATTERN},  # checked by parse_cursor, in words
    )
    page_size: int = Field(50, ge=1, le=500)


class AuditRow(Schema):
    id: int
    created_at: dt.datetime
    action: str
    action_label: str
    actor: int | None
    actor_name: str
    actor_email: str
    target_type: str
    target_id: str
    target_repr: str
    summary: str
    data: dict[str, Any]


class AuditPage(Schema):
    results: list[AuditRow]
    next: str = Field(description="cursor of the next page; empty on the last one")


@audit_router.get("", response={200: AuditPage, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut})
def audit_list(request, filters: Query[AuditQuery]):
    """Every destructive or sensitive action of the caller's organisation: deletions,
    deactivations, archiving, cycle ends, API tokens, roles, exports. Administrators only.
    Dates are whole days in the organisation's time zone, `to` included."""
    user = request.auth
    organisation = user.organisation
    if not user.is_org_admin or organisation is None:
        raise HttpError(403, _("Réservé aux administrateurs de l'organisation."))
    try:
        after = parse_cursor(filters.after) if filters.after else None
    except ParseError as error:
        raise BatchError(
            _("Requête invalide."), [{"index": None, "field": "after", "reason": error.message}]
        ) from error
    if filters.start and filters.end and filters.start > filters.end:
        return {"results": [], "next": ""}  # an empty range: nothing happened in it
    tz = zone_or_default(organisation.timezone, timezone.get_current_timezone())
    start, end = day_bounds(filters.start, filters.end, tz)
    rows = audit_entries(
        organisation_id=organisation.pk,
        filters=AuditFilters(
            group=filters.action,
            actor=filters.actor,
            target=filters.target,
            start=start,
            end=end,
        ),
    )
    entries, cursor = audit_page(rows, after=after, size=filters.page_size)
    return {
        "results": [
            {
                "id": line.entry.pk,
                "created_at": line.entry.created_at,
                "action": line.entry.action,
                "action_label": line.action_label,
                "actor": line.entry.actor_id,
                "actor_name": line.entry.actor.get_full_name() if line.entry.actor else "",
                "actor_email": line.entry.actor.email if line.entry.actor else "",
                "target_type": line.entry.target_type,
                "target_id": line.entry.target_id,
                "target_repr": line.entry.target_repr,
                "summary": line.summary,
                "data": line.entry.data if isinstance(line.entry.data, dict) else {},
            }
            for line in audit_lines(entries)
        ],
        "next": cursor,
    }
