"""Reading a batch of events posted to the API: the body, parsed and checked once for the
whole batch, every bad item listed with its index, field and reason in the caller's language.

A batch of 10,000 events is parsed and validated in one pass (pydantic-core reads the JSON
and checks every item's types in Rust), then the checks that need Python or the database —
times within bounds, NUL characters, e-mails of the organisation, resolved in one query —
run over the parsed items. Only a batch with bad items takes the slower road item by item,
to say which ones are bad and why.
"""

import datetime as dt
import json
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import pydantic_core
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from pydantic import AwareDatetime, StringConstraints, TypeAdapter
from pydantic import ValidationError as PydanticError

from cohorte.accounts.models import Member
from cohorte.core.api import NUL_REFUSED, BatchError, error_item
from cohorte.core.middleware import events_body_refusal
from cohorte.core.parse import ParseError, check_event_time, past_event_bounds
from cohorte.programs.models import Program

from .counters import EventRow

#: compared in lower case, without the spaces around it (as members' e-mails are stored)
Email = Annotated[str, StringConstraints(max_length=254, strip_whitespace=True, to_lower=True)]


class EventItem(TypedDict):
    """One item as the API reads it (the schema published is EventIn's, the same fields)."""

    email: Email
    kind: Literal["sign_in", "course_access", "profile_view", "contact", "message"]
    occurred_at: AwareDatetime
    target_email: NotRequired[Email | None]
    client_id: NotRequired[Annotated[str, StringConstraints(min_length=1, max_length=100)] | None]


_item = TypeAdapter(EventItem)
_batch = TypeAdapter(list[EventItem])

_INVALID_JSON = [{"index": None, "field": None, "reason": _("JSON invalide")}]


class TooManyEvents(ValueError):
    """More items than a batch may hold."""


def body_too_big() -> HttpError:
    return HttpError(413, events_body_refusal())


def events_body(request: HttpRequest) -> bytes:
    """The raw body, up to COHORTE_EVENTS_BODY_MAX (a full batch is larger than the other
    endpoints' DATA_UPLOAD_MAX_MEMORY_SIZE); over it, 413 before reading further. A form's
    body is read the usual way (and refused as not JSON)."""
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return request.body
    limit = settings.COHORTE_EVENTS_BODY_MAX
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise body_too_big()
    body = request.read(limit + 1)
    if len(body) > limit:
        raise body_too_big()
    return body


def _json_refused(message: str) -> BatchError:
    return BatchError(message, _INVALID_JSON)


def _top_level(error: PydanticError) -> BatchError | None:
    """The refusal of the body as a whole (not JSON, not a list), if that is the error."""
    for detail in error.errors():
        if detail["loc"]:
            continue
        if detail["type"] == "json_invalid":
            return _json_refused(
                _("JSON invalide : le corps de la requête n'est pas du JSON valide.")
            )
        return BatchError(_("Une liste d'événements est attendue."), [])
    return None


def events_parse(
    body: bytes, *, limit: int
) -> tuple[list[tuple[int, EventItem]], list[dict[str, Any]], int]:
    """The batch's items that pass the type checks (with their index), the errors of the
    others, and how many items there were. Raises TooManyEvents over `limit` items, before
    validating any."""
    if not body.strip():
        raise _json_refused(_("JSON invalide : le corps de la requête est vide."))
    if body.count(b",") >= limit:  # perhaps more items than allowed: count them first
        try:
            raw = pydantic_core.from_json(body)
        except ValueError as error:
            raise _json_refused(
                _("JSON invalide : le corps de la requête n'est pas du JSON valide.")
            ) from error
        if isinstance(raw, list) and len(raw) > limit:
            raise TooManyEvents()
    try:
        items = _batch.validate_json(body)
        return list(enumerate(items)), [], len(items)
    except PydanticError as error:
        refused = _top_level(error)
        if refused is not None:
            raise refused from error
    # some items are bad: the road item by item, to list every one of them
    raw = json.loads(body)
    parsed: list[tuple[int, EventItem]] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        try:
            parsed.append((index, _item.validate_python(item)))
        except PydanticError as error:
            for detail in error.errors():
                errors.append({**error_item(dict(detail), index_from_loc=False), "index": index})
    return parsed, errors, len(raw)


def _has_nul(item: EventItem) -> str | None:
    for field in ("email", "target_email", "client_id"):
        value = item.get(field)
        if isinstance(value, str) and "\x00" in value:
            return field
    return None


def member_ids_by_email(organisation_id: int, emails: set[str]) -> dict[str, int]:
    """The organisation's members among these (lower-case) e-mails, in one query."""
    if not emails:
        return {}
    table = Member._meta.db_table
    param: Any
    if connection.vendor == "postgresql":
        where, param = "email = ANY(%s)", list(emails)
    else:
        where, param = "email IN (SELECT value FROM json_each(%s))", json.dumps(list(emails))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT email, id FROM {table} WHERE organisation_id = %s AND {where}",  # noqa: S608
            [organisation_id, param],
        )
        return dict(cursor.fetchall())


def events_resolve(
    *,
    program: Program,
    parsed: list[tuple[int, EventItem]],
    errors: list[dict[str, Any]],
    body: bytes = b"\\u0000",
) -> list[EventRow]:
    """The parsed items as rows to store, their members resolved; every item that cannot be
    stored (a time out of bounds, a NUL character, an unknown e-mail) adds to `errors`. A
    body without the escape of a NUL (`body`) has none, and its items are not searched."""
    earliest, latest = past_event_bounds()
    nul = b"\\u0000" in body
    utc = dt.UTC
    checked: list[tuple[int, EventItem, str, str | None, dt.datetime]] = []
    emails: set[str] = set()
    for index, item in parsed:
        # in UTC from here: comparing and storing it is then several times cheaper (a time
        # at the edge of the calendar with its offset has no UTC: it is out of bounds anyway)
        try:
            moment: dt.datetime | None = item["occurred_at"].astimezone(utc)
        except OverflowError:
            moment = None
        if moment is None or not earliest <= moment <= latest:
            try:
                check_event_time(item["occurred_at"])
            except ParseError as error:
                errors.append({"index": index, "field": "occurred_at", "reason": error.message})
                continue
        if moment is None:  # check_event_time refuses every such time: never left unsaid
            errors.append({"index": index, "field": "occurred_at", "reason": _("date invalide")})
            continue
        field = _has_nul(item) if nul else None
        if field is not None:
            errors.append({"index": index, "field": field, "reason": _(NUL_REFUSED)})
            continue
        email, wanted = item["email"], item.get("target_email") or None
        emails.add(email)
        if wanted:
            emails.add(wanted)
        checked.append((index, item, email, wanted, moment))
    ids = member_ids_by_email(program.organisation_id, emails).get
    rows: list[EventRow] = []
    unknown = _("membre inconnu dans cette organisation : %(email)s")
    for index, item, email, wanted, moment in checked:
        actor = ids(email)
        target = ids(wanted) if wanted else None
        if actor is None:
            errors.append(
                {"index": index, "field": "email", "reason": unknown % {"email": item["email"]}}
            )
        if wanted and target is None:
            errors.append(
                {
                    "index": index,
                    "field": "target_email",
                    "reason": unknown % {"email": item["target_email"]},
                }
            )
        if actor is not None and (target is not None or not wanted):
            rows.append((actor, item["kind"], target, moment, item.get("client_id")))
    return rows
