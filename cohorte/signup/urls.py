from django.urls import path

from . import views

app_name = "signup"
urlpatterns = [
    # the public site: a stable address, /p/<id>-<name>/ (a renamed programme's old name
    # leads to its new one)
    path("p/<id:program_id>/", views.public_site, name="site-short"),
    path("p/<id:program_id>-<slug:slug>/", views.public_site, name="site"),
    path("p/<id:program_id>-<slug:slug>/rejoindre/", views.join, name="join"),
    path("p/<id:program_id>-<slug:slug>/envoye/", views.sent, name="sent"),
    path("p/<id:program_id>-<slug:slug>/confirmer/<str:token>/", views.confirm, name="confirm"),
    # the manager's side
    path("programmes/<id:program_id>/site/publier/", views.site_publish, name="publish"),
    path("programmes/<id:program_id>/candidatures/", views.applications, name="applications"),
    path(
        "programmes/<id:program_id>/candidatures/decider/",
        views.applications_decide,
        name="applications-decide",
    ),
    path(
        "programmes/<id:program_id>/candidatures/reglages/",
        views.signup_settings,
        name="settings",
    ),
]
