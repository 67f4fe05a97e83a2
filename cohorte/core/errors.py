"""Error pages: under /api/ every error is JSON in the API's one shape, so a client (or the
fuzzer) never has to read an HTML page; elsewhere Django's own pages."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    from .middleware import REQUEST_LIMIT_ERRORS, request_refused

    if isinstance(exception, REQUEST_LIMIT_ERRORS):  # raised while the CSRF check read a form
        return request_refused(request, exception)
    if _api(request):
        return JsonResponse({"message": _("Requête invalide."), "errors": []}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"message": _("Accès refusé."), "errors": []}, status=403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _api(request):
        return JsonResponse({"message": _("Introuvable."), "errors": []}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _api(request):
        return JsonResponse({"message": _("Erreur du serveur."), "errors": []}, status=500)
    return defaults.server_error(request)
