"""Shared pieces of the JSON API: errors as {"message", "errors": [{index, field, reason}]}
in the caller's language."""

import json
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import Field, Schema
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

#: a page number in a query string: past this nobody is reading, and the OFFSET it makes
#: stays far from what a database accepts
MAX_PAGE = 1_000_000
NUL_REFUSED = gettext_noop("caractère nul (\\0) interdit")
ApiPage = Annotated[int, Field(ge=1, le=MAX_PAGE)]


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL refuses it in any text, even in a WHERE
        raise PydanticCustomError("cohorte_nul", _(NUL_REFUSED))
    return value


#: text for a query or a column: no NUL character (add a max_length with Field)
ApiText = Annotated[str, AfterValidator(_no_nul)]

PYDANTIC_REASONS = {
    "missing": lambda ctx: _("champ obligatoire"),
    "timezone_aware": lambda ctx: _("l'heure doit indiquer son décalage horaire (ex. +02:00)"),
    "datetime_parsing": lambda ctx: _("date et heure ISO 8601 attendues"),
    "datetime_from_date_parsing": lambda ctx: _("date et heure ISO 8601 attendues"),
    "datetime_type": lambda ctx: _("date et heure ISO 8601 attendues"),
    "date_parsing": lambda ctx: _("date attendue (AAAA-MM-JJ)"),
    "date_from_datetime_parsing": lambda ctx: _("date attendue (AAAA-MM-JJ)"),
    "date_from_datetime_inexact": lambda ctx: _("date attendue (AAAA-MM-JJ)"),
    "date_type": lambda ctx: _("date attendue (AAAA-MM-JJ)"),
    "int_parsing": lambda ctx: _("nombre entier attendu"),
    "int_type": lambda ctx: _("nombre entier attendu"),
    "int_from_float": lambda ctx: _("nombre entier attendu"),
    "string_type": lambda ctx: _("texte attendu"),
    "list_type": lambda ctx: _("liste attendue"),
    "dict_type": lambda ctx: _("objet JSON attendu"),
    "model_type": lambda ctx: _("objet JSON attendu"),
    "model_attributes_type": lambda ctx: _("objet JSON attendu"),
    "greater_than_equal": lambda ctx: _("doit être au moins %(n)s") % {"n": ctx.get("ge")},
    "greater_than": lambda ctx: _("doit être plus grand que %(n)s") % {"n": ctx.get("gt")},
    "less_than_equal": lambda ctx: _("doit être au plus %(n)s") % {"n": ctx.get("le")},
    "string_too_short": lambda ctx: _("ne doit pas être vide"),
    "string_too_long": lambda ctx: (
        _("trop long (%(n)s caractères au plus)") % {"n": ctx.get("max_length")}
    ),
    "too_long": lambda ctx: _("trop d'éléments (%(n)s au plus)") % {"n": ctx.get("max_length")},
    "too_short": lambda ctx: _("au moins %(n)s élément(s)") % {"n": ctx.get("min_length")},
    "literal_error": lambda ctx: (
        _("valeur non autorisée, attendu : %(expected)s") % {"expected": ctx.get("expected")}
    ),
    "extra_forbidden": lambda ctx: _("champ inconnu"),
    "json_invalid": lambda ctx: _("JSON invalide"),
}

#: parts of a pydantic location that say where the body is, not which field
_LOCATION_NOISE = {"body", "payload", "query", "path", "params"}


class ErrorItem(Schema):
    index: int | None = None
    field: str | None = None
    reason: str


class ErrorOut(Schema):
    message: str
    errors: list[ErrorItem] = []


#: the answers every operation may give whatever it does, in the one error shape: the
#: fuzzer (tests/test_api_fuzz.py) checks each answer against the declared ones
_WRITES = {"post", "put", "patch", "delete"}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_GENERIC_ERRORS = {
    # any input: pydantic's refusals, malformed JSON, a body over the size limit
    "400": "Requête invalide : les champs en erreur sont listés dans errors.",
    "401": "Authentification requise : Authorization: Bearer <jeton>.",
    # a write through the browser's session without its CSRF token
    "403": "Accès refusé.",
    # a path id that is not a number, or names nothing the caller may see
    "404": "Introuvable.",
}


def declare_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare on every operation the errors the API's handlers give to any operation —
    401 when it needs a sign-in, 400 when it reads an input, 403 when it writes (the session
    sign-in checks CSRF), 404 when its path has an id — so that the schema describes every
    answer and no new operation can forget one."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    if "ErrorOut" not in components:
        generated = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(generated.pop("$defs", {}))
        components["ErrorOut"] = generated
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            parameters = operation.get("parameters") or []
            applies = {
                "400": bool(parameters) or "requestBody" in operation,
                "401": bool(operation.get("security")),
                "403": bool(operation.get("security")) and method in _WRITES,
                "404": any(parameter.get("in") == "path" for parameter in parameters),
            }
            responses = operation.setdefault("responses", {})
            for status, description in _GENERIC_ERRORS.items():
                if applies[status] and status not in responses and int(status) not in responses:
                    responses[status] = {
                        "description": description,
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    }
    return schema


def error_item(error: dict[str, Any], *, index_from_loc: bool = True) -> dict[str, Any]:
    """A pydantic error as {index, field, reason}, the reason in the active language."""
    loc = [part for part in error.get("loc", ()) if part not in _LOCATION_NOISE]
    index = None
    if index_from_loc and loc and isinstance(loc[0], int):
        index = loc.pop(0)
    translate = PYDANTIC_REASONS.get(error.get("type", ""))
    reason = translate(error.get("ctx") or {}) if translate else error.get("msg", "")
    return {
        "index": index,
        "field": ".".join(str(part) for part in loc) or None,
        "reason": str(reason),
    }


class BatchError(HttpError):
    """A batch refused as a whole: 400 with every bad item listed."""

    def __init__(self, message: str, errors: list[dict]):
        super().__init__(400, message)
        self.errors = errors


def contains_nul(data: Any) -> bool:
    """Whether a parsed JSON document holds a NUL character in any key or string (PostgreSQL
    refuses it in text: a lookup or an insert with one fails instead of answering)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class BodyRefused(ValueError):
    """A body that parses as JSON but cannot be used as it is; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ApiParser(Parser):
    """The API's parser: ninja's, refusing NUL characters in bodies and query strings."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = super().parse_body(request)  # ninja answers its errors as a 400
        if contains_nul(data):
            raise BodyRefused(_(NUL_REFUSED))
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise ValidationError(
                    [{"type": "cohorte_nul", "loc": ("query", key[:50]), "msg": _(NUL_REFUSED)}]
                )
        return super().parse_querydict(data, list_fields, request)


def json_body(request: HttpRequest, *, refuse_nul: bool = True) -> Any:
    """The request's body as JSON, for the endpoints that read it themselves (batches listed
    item by item). Anything that is not JSON — empty, bytes that are not UTF-8, a document
    nested deeper than the parser goes — is a 400 « JSON invalide », never a 500. A NUL
    character anywhere is refused too, unless the caller checks each item's fields itself
    (`refuse_nul=False`, to list the bad items by index)."""
    body = request.body
    if not body.strip():
        raise BatchError(
            _("JSON invalide : le corps de la requête est vide."),
            [{"index": None, "field": None, "reason": _("JSON invalide")}],
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        # RecursionError: json.loads gives up on arrays or objects nested too deep
        raise BatchError(
            _("JSON invalide : le corps de la requête n'est pas du JSON valide."),
            [{"index": None, "field": None, "reason": _("JSON invalide")}],
        ) from error
    if refuse_nul and contains_nul(data):
        raise BatchError(
            _("JSON refusé : %(reason)s.") % {"reason": _(NUL_REFUSED)},
            [{"index": None, "field": None, "reason": _(NUL_REFUSED)}],
        )
    return data


def page_of(queryset: Any, *, page: int, page_size: int) -> tuple[int, list[Any]]:
    """An API page: the total and the rows of this page (none past the end)."""
    count = queryset.count()
    start = (page - 1) * page_size
    return count, list(queryset[start : start + page_size]) if start < count else []
