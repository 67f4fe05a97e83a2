"""Refusals that belong to the request, not to one view: a body over the size limit, too
many fields or files. Each is a 400 that says why, in the person's language — JSON in the
API's one shape under /api/, a short readable page elsewhere — never a server error.

Django raises these (``RequestDataTooBig``, ``TooManyFieldsSent``, ``TooManyFilesSent``)
the first time someone reads the body, which may be the CSRF check, a form or a JSON view;
``request_refused`` is the one answer for all of them, used by this middleware and by the
400 handler (``cohorte.core.errors.bad_request``) for those raised outside a view."""

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _


class NulCharacterSent(ValueError):
    """A query string or form with a NUL character: no text field can store it (PostgreSQL
    refuses it outright), so the request is refused before any view reads it."""


REQUEST_LIMIT_ERRORS = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, NulCharacterSent)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"


def refusal_message(exception: Exception) -> str:
    if isinstance(exception, NulCharacterSent):
        return _("Requête refusée : le caractère nul (U+0000) n'est accepté dans aucun champ.")
    if isinstance(exception, TooManyFieldsSent):
        return _("Formulaire refusé : trop de champs (%(n)s au plus).") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    if isinstance(exception, TooManyFilesSent):
        return _("Envoi refusé : trop de fichiers (%(n)s au plus).") % {
            "n": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    return _("Requête trop volumineuse : %(n)s Mo au plus (hors fichiers joints).") % {
        "n": _megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    }


#: the one endpoint whose JSON body may be larger than DATA_UPLOAD_MAX_MEMORY_SIZE: a batch of
#: up to COHORTE_EVENTS_BATCH_MAX events, read up to COHORTE_EVENTS_BODY_MAX bytes
_EVENTS_PATH = re.compile(r"^/api/programs/[^/]+/events/?$")


def events_body_refusal() -> str:
    """Why a batch of events over the byte limit is refused (a 413), and what to do."""
    return _(
        "Lot refusé : la requête dépasse %(mb)s Mo ; %(limit)d événements au plus par lot, "
        "envoyez-les en plusieurs lots."
    ) % {
        "mb": _megabytes(settings.COHORTE_EVENTS_BODY_MAX),
        "limit": settings.COHORTE_EVENTS_BATCH_MAX,
    }


def _is_events_batch(request: HttpRequest) -> bool:
    return bool(_EVENTS_PATH.match(request.path)) and not request.META.get(
        "CONTENT_TYPE", ""
    ).startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


def request_refused(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 for a request refused as a whole (see the module's docstring)."""
    message = refusal_message(exception)
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "errors": []}, status=400)
    page = format_html(
        '<!doctype html><html lang="{}"><head><meta charset="utf-8"><title>{}</title></head>'
        "<body><h1>{}</h1><p>{}</p><p>{}</p></body></html>",
        get_language() or "fr",
        _("Requête refusée"),
        _("Requête refusée"),
        message,
        _("Revenez à la page précédente et envoyez moins de données."),
    )
    return HttpResponse(page, status=400, content_type="text/html; charset=utf-8")


def _has_nul(data: Any) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in data.lists())


def _has_form_body(request: HttpRequest) -> bool:
    return request.method == "POST" and request.META.get("CONTENT_TYPE", "").startswith(
        ("multipart/form-data", "application/x-www-form-urlencoded")
    )


def _has_multipart_body(request: HttpRequest) -> bool:
    return request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")


class RequestLimitsMiddleware:
    """Refuse a body over DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it (Django makes
    the same check from Content-Length when the body is first read: this answers it once,
    the same way, for every view), and turn the limit errors a view raises into 400s. A
    batch of events has its own, larger limit, and over it a 413 that says it.

    Multipart bodies are let through: their files do not count against the limit, and Django
    checks the other fields while it parses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        events = _is_events_batch(request)
        limit = settings.COHORTE_EVENTS_BODY_MAX if events else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and not _has_multipart_body(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads such a body as empty
            if length > limit and events:  # a batch too big: 413, it says the limits
                return JsonResponse({"message": events_body_refusal(), "errors": []}, status=413)
            if length > limit:
                return request_refused(request, RequestDataTooBig())
        # a form with NUL is refused; query strings are read by views that treat it as any
        # other bad value (a form error, an inert search); the API refuses NUL in its parser
        try:
            if not request.path.startswith("/api/") and (
                _has_form_body(request) and _has_nul(request.POST)
            ):
                return request_refused(request, NulCharacterSent())
        except REQUEST_LIMIT_ERRORS as error:
            return request_refused(request, error)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, REQUEST_LIMIT_ERRORS):
            return request_refused(request, exception)
        return None
