from django.urls import path

from . import views

app_name = "surveys"
urlpatterns = [
    path("programmes/<id:program_id>/sondages/", views.survey_list, name="list"),
    path("programmes/<id:program_id>/sondages/nouveau/", views.survey_create, name="create"),
    path("programmes/<id:program_id>/sondages/question/", views.question_row, name="question-row"),
    path("sondages/<id:survey_id>/", views.survey_detail, name="detail"),
    path("sondages/<id:survey_id>/modifier/", views.survey_edit, name="edit"),
    path("sondages/<id:survey_id>/supprimer/", views.survey_delete, name="delete"),
    path("sondages/<id:survey_id>/envoyer/", views.survey_send, name="send"),
    path("sondages/<id:survey_id>/relancer/", views.survey_remind, name="remind"),
    path("sondages/<id:survey_id>/reponses.csv", views.survey_csv, name="csv"),
    path("sondages/<id:survey_id>/repondre/", views.answer, name="answer"),
    path("sondages/lien/<str:token>/", views.answer_link, name="answer-link"),
    path("mes-sondages/", views.my_surveys, name="mine"),
]
