from django.urls import path

from . import views

app_name = "campaigns"

urlpatterns = [
    path("entretiens/campagnes/", views.campaign_list, name="list"),
    path("entretiens/campagnes/<id:campaign_id>/", views.campaign_detail, name="detail"),
    path("entretiens/<id:interview_id>/", views.interview_detail, name="interview"),
]
