from django.urls import URLPattern, URLResolver, include, path

from .api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/", api.urls),
    path("compte/", include("cohorte.accounts.urls")),
    path("membres/", include("cohorte.accounts.member_urls")),
    path("aide/", include("cohorte.help.urls")),
    path("", include("cohorte.core.urls")),
    path("", include("cohorte.reports.urls")),
    path("", include("cohorte.messaging.urls")),
    path("", include("cohorte.conversations.urls")),
    path("", include("cohorte.meetings.urls")),
    path("webhooks/anymail/", include("anymail.urls")),
    path("", include("cohorte.activity.urls")),
    path("", include("cohorte.programs.urls")),
    path("", include("cohorte.signup.urls")),
    path("", include("cohorte.space.urls")),
    path("", include("cohorte.surveys.urls")),
    path("", include("cohorte.campaigns.urls")),
]
# No route serves MEDIA_ROOT, not even with DEBUG: every uploaded or generated file is private
# and goes through a view that checks who asks (cohorte.core.files).

handler400 = "cohorte.core.errors.bad_request"
handler403 = "cohorte.core.errors.permission_denied"
handler404 = "cohorte.core.errors.page_not_found"
handler500 = "cohorte.core.errors.server_error"
