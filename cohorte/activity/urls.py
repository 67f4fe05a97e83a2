from django.urls import path

from . import counter_views, views

app_name = "activity"
urlpatterns = [
    path("programmes/<id:program_id>/", views.program_page, name="program"),
    path("presence/", views.presence_now, name="presence"),
    path(
        "programmes/<id:program_id>/compteurs/",
        counter_views.counters_banner,
        name="counters-banner",
    ),
    path("programmes/<id:program_id>/participants.csv", views.participants_csv, name="csv"),
    path("programmes/<id:program_id>/relancer/", views.participants_remind, name="remind"),
    path("programmes/<id:program_id>/retirer/", views.participants_remove, name="remove"),
    path(
        "programmes/<id:program_id>/relances-automatiques/",
        views.reminder_rules,
        name="reminder-rules",
    ),
    path(
        "programmes/<id:program_id>/participants/<id:member_id>/signalements/",
        views.participant_flags,
        name="participant-flags",
    ),
    path(
        "programmes/<id:program_id>/participants/<id:member_id>/retirer/",
        views.participant_remove,
        name="participant-remove",
    ),
]
