from django.urls import path

from . import views

app_name = "activity"
urlpatterns = [
    path("programmes/<int:program_id>/", views.program_page, name="program"),
    path("presence/", views.presence_now, name="presence"),
    path("programmes/<int:program_id>/participants.csv", views.participants_csv, name="csv"),
    path("programmes/<int:program_id>/relancer/", views.participants_remind, name="remind"),
    path(
        "programmes/<int:program_id>/relances-automatiques/",
        views.reminder_rules,
        name="reminder-rules",
    ),
    path(
        "programmes/<int:program_id>/participants/<int:member_id>/retirer/",
        views.participant_remove,
        name="participant-remove",
    ),
]
