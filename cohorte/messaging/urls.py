from django.urls import include, path

from . import views, webhooks

app_name = "messaging"
urlpatterns = [
    path("messages/", views.compose, name="compose"),
    path("messages/personnes/", views.people_search, name="people"),
    path("messages/registre/", views.email_log_view, name="log"),
    path("messages/systeme/", views.system_messages_page, name="system"),
    path("messages/systeme/<slug:key>/", views.system_message_edit, name="system-edit"),
    path("messages/registre.csv", views.email_log_csv, name="log-csv"),
    path("messages/<id:message_id>/", views.message_detail, name="message"),
    path("messages/<id:message_id>/modifier/", views.compose, name="edit"),
    path("messages/<id:message_id>/envoyer/", views.message_send, name="send"),
    path("messages/<id:message_id>/supprimer/", views.message_delete, name="delete"),
    path("messages/<id:message_id>/dupliquer/", views.message_duplicate, name="duplicate"),
    path("m/o/<str:token>.gif", views.email_opened, name="open"),
    path("notifications/", views.notifications_page, name="notifications"),
    path("notifications/<id:notification_id>/", views.notification_open, name="notification"),
    path(
        "notifications/<id:notification_id>/supprimer/",
        views.notification_delete,
        name="notification-delete",
    ),
    path("notes-de-mise-a-jour/<id:note_id>/", views.release_note, name="release-note"),
    # anymail's tracking webhooks, closed while no secret is set (they shadow the same paths
    # that cohorte/urls.py includes from anymail after these)
    path("webhooks/anymail/", include((webhooks.urlpatterns, "webhooks"))),
]
