from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("taches/<int:job_id>/", views.job_status, name="job"),
    path("taches/<int:job_id>/fichier/", views.job_file, name="job-file"),
]
