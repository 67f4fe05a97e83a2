from django.urls import path

from . import audit_views, health, views

app_name = "core"
urlpatterns = [
    # answered by health.HealthMiddleware before the rest of the stack; named here for reverse()
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("taches/<id:job_id>/", views.job_status, name="job"),
    path("taches/<id:job_id>/fichier/", views.job_file, name="job-file"),
    path("journal/", audit_views.audit_view, name="audit"),
    path("journal.csv", audit_views.audit_csv, name="audit-csv"),
]
