from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from .api import api

urlpatterns = [
    path("api/", api.urls),
    path("compte/", include("cohorte.accounts.urls")),
    path("", include("cohorte.activity.urls")),
    path("", include("cohorte.programs.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
