from django.urls import path

from . import views

app_name = "space"
urlpatterns = [
    path("mon-espace/", views.home, name="home"),
    path("mon-espace/rencontres/reponse/", views.meeting_answer, name="answer"),
    path("mon-espace/rencontres/evaluation/", views.meeting_evaluation, name="evaluate"),
    path("mon-espace/rencontres/report/", views.meeting_reschedule_request, name="reschedule"),
    path("mon-espace/relations/<id:relationship_id>/", views.relationship, name="relationship"),
    path("mon-espace/programmes/<id:program_id>/", views.program, name="program"),
]
