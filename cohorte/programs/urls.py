from django.urls import path

from . import people_views, views

app_name = "programs"
urlpatterns = [
    path("", views.home, name="home"),
    path("programmes/nouveau/", views.program_create, name="program-create"),
    path("programmes/<id:program_id>/modifier/", views.program_edit, name="program-edit"),
    path(
        "programmes/<id:program_id>/participants/ajouter/",
        views.participant_add,
        name="participant-add",
    ),
    path("cohortes/", views.cohorts, name="cohorts"),
    path("cohortes/<id:cohort_id>/", views.cohorts, name="cohort"),
    path("cohortes/affecter/", views.cohort_assign, name="cohort-assign"),
    path("groupes/nouveau/", views.group_create, name="group-create"),
    path("groupes/<id:group_id>/modifier/", views.group_edit, name="group-edit"),
    path("personnes/recherche/", people_views.people_search, name="people-search"),
]
