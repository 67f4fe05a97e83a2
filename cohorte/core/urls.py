from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("taches/<id:job_id>/", views.job_status, name="job"),
    path("taches/<id:job_id>/fichier/", views.job_file, name="job-file"),
]
