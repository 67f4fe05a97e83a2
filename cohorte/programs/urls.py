from django.urls import path

from . import brand_views, people_views, views

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
    path(
        "programmes/<id:program_id>/marque/<str:which>/",
        brand_views.brand_file,
        name="brand-file",
    ),
    path(
        "programmes/<id:program_id>/partenaires/<id:logo_id>/logo/",
        brand_views.partner_logo_file,
        name="partner-logo",
    ),
    path("programmes/<id:program_id>/design/", brand_views.program_design, name="program-design"),
    path(
        "programmes/<id:program_id>/partenaires/ajouter/",
        brand_views.partner_logo_add,
        name="partner-logo-add",
    ),
    path(
        "programmes/<id:program_id>/partenaires/<id:logo_id>/retirer/",
        brand_views.partner_logo_delete,
        name="partner-logo-delete",
    ),
    path("cohortes/", views.cohorts, name="cohorts"),
    path("cohortes/<id:cohort_id>/", views.cohorts, name="cohort"),
    path("cohortes/affecter/", views.cohort_assign, name="cohort-assign"),
    path("groupes/nouveau/", views.group_create, name="group-create"),
    path("groupes/<id:group_id>/modifier/", views.group_edit, name="group-edit"),
    path("personnes/recherche/", people_views.people_search, name="people-search"),
]
