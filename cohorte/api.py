"""The JSON API under /api/: token auth, OpenAPI at /api/openapi.json, errors as
{"message": …, "errors": [{"index", "field", "reason"}]}."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cohorte.accounts.api import custom_fields_router, members_router
from cohorte.accounts.api_auth import BearerToken, MemberSession
from cohorte.activity.api import router as activity_router
from cohorte.campaigns.api import campaigns_router, interviews_router
from cohorte.campaigns.api_exports import router as campaign_exports_router
from cohorte.campaigns.api_reminders import router as campaign_reminders_router
from cohorte.campaigns.services import InterviewLocked
from cohorte.conversations.api import conversations_router
from cohorte.conversations.api import programs_router as conversation_programs_router
from cohorte.core.api import ApiParser, BatchError, BodyRefused, declare_error_responses, error_item
from cohorte.core.audit_api import audit_router
from cohorte.core.middleware import REQUEST_LIMIT_ERRORS, request_refused
from cohorte.meetings.api import meetings_router, relationships_router
from cohorte.meetings.api import programs_router as meeting_programs_router
from cohorte.messaging.api import email_log_router, messages_router
from cohorte.programs.api import router as programs_router
from cohorte.reports.api_home import organisation_router as dashboard_router
from cohorte.reports.api_home import router as home_router
from cohorte.reports.api_reports import reports_router, runs_router
from cohorte.space.api import me_router
from cohorte.surveys.api import programs_router as survey_programs_router
from cohorte.surveys.api import surveys_router


class CohorteApi(NinjaAPI):
    """The API whose schema declares, on every operation, the errors below (400 from the
    validation handler, 401, 404) in the ErrorOut shape."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return declare_error_responses(schema)


api = CohorteApi(
    title="Cohorte API",
    version="1",
    description="Programmes, participants and their activity. Times are ISO 8601 with an offset.",
    auth=[BearerToken(), MemberSession()],
    parser=ApiParser(),
    urls_namespace="api",
)
api.add_router("/programs", programs_router)
api.add_router("/programs", activity_router)
api.add_router("/members", members_router)
api.add_router("/custom-fields", custom_fields_router)
api.add_router("/programs", meeting_programs_router)
api.add_router("/relationships", relationships_router)
api.add_router("/meetings", meetings_router)
api.add_router("/messages", messages_router)
api.add_router("/email-log", email_log_router)
api.add_router("/audit", audit_router)
api.add_router("/programs", conversation_programs_router)
api.add_router("/conversations", conversations_router)
api.add_router("/me", me_router)
api.add_router("/programs", survey_programs_router)
api.add_router("/surveys", surveys_router)
api.add_router("/campaigns", campaigns_router)
api.add_router("/interviews", interviews_router)
api.add_router("/campaigns", campaign_exports_router)
api.add_router("/campaigns", campaign_reminders_router)
api.add_router("/programs", home_router)
api.add_router("/dashboard", dashboard_router)
api.add_router("/reports", reports_router)
api.add_router("/report-runs", runs_router)


@api.exception_handler(BatchError)
def on_batch_error(request, exc: BatchError):
    return api.create_response(request, {"message": exc.message, "errors": exc.errors}, status=400)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [error_item(error) for error in exc.errors]
    return api.create_response(
        request, {"message": _("Requête invalide."), "errors": errors}, status=400
    )


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    message = exc.message
    if isinstance(exc.__cause__, BodyRefused):  # raised by our parser, wrapped by ninja
        message = exc.__cause__.message
    elif exc.status_code == 400 and message.startswith("Cannot parse request body"):
        message = _("JSON invalide : le corps de la requête n'est pas du JSON valide.")
    return api.create_response(request, {"message": message, "errors": []}, status=exc.status_code)


@api.exception_handler(InterviewLocked)
def on_interview_locked(request, exc: InterviewLocked):
    """A closed (or deleted) interview: nothing changes it but an administrator's reopening."""
    return api.create_response(request, {"message": exc.message, "errors": []}, status=409)


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    return api.create_response(request, {"message": _("Introuvable."), "errors": []}, status=404)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc: AuthenticationError):
    return api.create_response(
        request,
        {"message": _("Authentification requise : Authorization: Bearer <jeton>."), "errors": []},
        status=401,
    )


def on_request_refused(request: HttpRequest, exc: Any) -> HttpResponse:
    """A body over the size limit (or too many fields) read by an endpoint: the same 400 as
    everywhere else, also with DEBUG on (ninja would answer a 500 with a traceback)."""
    return request_refused(request, exc)


for _refusal in REQUEST_LIMIT_ERRORS:
    api.add_exception_handler(_refusal, on_request_refused)
