from django.urls import path

from . import views

app_name = "meetings"
urlpatterns = [
    path("programmes/<id:program_id>/relations/", views.relationships, name="relationships"),
    path("programmes/<id:program_id>/seances/", views.calendar, name="calendar"),
    path("programmes/<id:program_id>/relations/nouvelle/", views.relationship_new, name="new"),
    path("programmes/<id:program_id>/seances/nouvelle/", views.group_session_new, name="group-new"),
    path("compte/cours-de-maitre/", views.masterclasses, name="masterclasses"),
    path("relations/<id:relationship_id>/", views.relationship_detail, name="relationship"),
    path("relations/<id:relationship_id>/planifier/", views.book, name="book"),
    path("relations/<id:relationship_id>/terminer/", views.relationship_end, name="end"),
    path(
        "relations/<id:relationship_id>/modifier/",
        views.relationship_edit,
        name="relationship-edit",
    ),
    path(
        "relations/<id:relationship_id>/supprimer/",
        views.relationship_delete,
        name="relationship-delete",
    ),
    path("rencontres/<id:meeting_id>/annuler/", views.meeting_cancel, name="cancel"),
    path("rencontres/<id:meeting_id>/reporter/", views.meeting_reschedule, name="reschedule"),
    path("rencontres/<id:meeting_id>/tenue/", views.meeting_held, name="held"),
    path("rencontres/<id:meeting_id>/non-tenue/", views.meeting_not_held, name="not-held"),
    path("rencontres/<id:meeting_id>/evaluation/", views.meeting_evaluate, name="evaluate"),
    path("rencontres/reponse/<str:token>/", views.answer, name="answer"),
    path("compte/disponibilites/", views.availability, name="availability"),
]
