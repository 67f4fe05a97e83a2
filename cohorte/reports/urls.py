from django.urls import path

from . import home_views, run_views, summary_views, views

app_name = "reports"
urlpatterns = [
    path("programmes/<id:program_id>/terminer-le-cycle/", views.cycle_end, name="cycle-end"),
    path(
        "programmes/<id:program_id>/terminer-le-cycle/<id:job_id>/reprendre/",
        views.cycle_end_resume,
        name="cycle-end-resume",
    ),
    path(
        "programmes/<id:program_id>/terminer-les-relations/",
        views.relationships_end_view,
        name="relationships-end",
    ),
    path("programmes/<id:program_id>/resume.pdf", summary_views.program_pdf, name="program-pdf"),
    path("tableau-de-bord/", home_views.organisation_home, name="organisation-home"),
    path("programmes/<id:program_id>/accueil/", home_views.program_home, name="home"),
    path(
        "programmes/<id:program_id>/accueil/<str:figure>/",
        home_views.program_home_people,
        name="home-people",
    ),
]

from . import tab_views  # noqa: E402 (the « Rapports » tab)

urlpatterns += [
    path("programmes/<id:program_id>/rapports/", tab_views.reports_tab, name="tab"),
    path(
        "programmes/<id:program_id>/rapports/activite/",
        tab_views.activity_tab,
        name="tab-activity",
    ),
    path(
        "programmes/<id:program_id>/rapports/reservations.csv",
        tab_views.bookings_csv,
        name="bookings-csv",
    ),
    path(
        "programmes/<id:program_id>/rapports/membres.csv",
        tab_views.members_csv,
        name="members-csv",
    ),
]

urlpatterns += [
    path(
        "programmes/<id:program_id>/generer-des-rapports/",
        run_views.generate,
        name="generate",
    ),
    path(
        "programmes/<id:program_id>/generer-des-rapports/lancer/",
        run_views.generate_run,
        name="generate-run",
    ),
    path(
        "programmes/<id:program_id>/generer-des-rapports/personnaliser/",
        run_views.generate_custom,
        name="generate-custom",
    ),
    path("rapports/executions/<id:run_id>/fichier/", run_views.run_file, name="run-file"),
]

urlpatterns += [
    path(
        "programmes/<id:program_id>/generer-des-rapports/<id:saved_id>/supprimer/",
        run_views.saved_delete,
        name="saved-delete",
    ),
    path(
        "programmes/<id:program_id>/generer-des-rapports/<id:saved_id>/programmer/",
        run_views.saved_schedule,
        name="saved-schedule",
    ),
]
