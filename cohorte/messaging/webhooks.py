"""django-anymail's tracking webhooks, closed while no secret is set.

Anymail accepts every call when ANYMAIL["WEBHOOK_SECRET"] is empty (it only warns), so
anyone could mark an e-mail bounced. These routes shadow anymail's own (the messaging URLs
come first in cohorte/urls.py) and answer 403 until a secret is configured; with one,
anymail's view checks the HTTP basic credentials, and it compares them with
django.utils.crypto.constant_time_compare (anymail/webhooks/base.py,
AnymailBasicAuthMixin.validate_request), so a wrong guess takes as long as any other."""

import functools

import anymail.urls
from django.conf import settings
from django.http import HttpResponseForbidden
from django.urls import URLPattern, path, re_path


def webhook_secrets() -> list[str]:
    """The "user:password" pairs a provider may present (one string or a list)."""
    secret = (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET") or []
    secrets = [secret] if isinstance(secret, str) else list(secret)
    return [value for value in secrets if value and ":" in value]


def _closed_without_secret(view):
    @functools.wraps(view)  # keeps anymail's csrf_exempt
    def guarded(request, *args, **kwargs):
        if not webhook_secrets():
            return HttpResponseForbidden(
                "Webhook disabled: set ANYMAIL_WEBHOOK_SECRET.", content_type="text/plain"
            )
        return view(request, *args, **kwargs)

    return guarded


def _guarded(pattern: URLPattern) -> URLPattern:
    route = str(pattern.pattern)
    build = re_path if route.startswith("^") else path
    return build(route, _closed_without_secret(pattern.callback), name=pattern.name)


urlpatterns = [
    _guarded(pattern) for pattern in anymail.urls.urlpatterns if isinstance(pattern, URLPattern)
]
