from django.urls import path

from . import views

app_name = "conversations"
urlpatterns = [
    path("conversations/", views.inbox, name="inbox"),
    path("conversations/nouvelle/", views.start_from, name="start-from"),
    path("conversations/preferences/", views.preferences, name="preferences"),
    path("conversations/<id:conversation_id>/", views.detail, name="detail"),
    path("conversations/fichiers/<id:file_id>/", views.file_download, name="file"),
    path("conversations/messages/<id:message_id>/signaler/", views.report, name="report"),
    path("programmes/<id:program_id>/conversations/", views.program_page, name="program"),
    path("programmes/<id:program_id>/conversations/nouvelle/", views.start, name="start"),
    path("relations/<id:relationship_id>/notes/", views.notes, name="notes"),
]
