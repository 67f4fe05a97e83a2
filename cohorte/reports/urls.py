from django.urls import path

from . import run_views, summary_views, views

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
