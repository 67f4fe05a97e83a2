from django.urls import path

from . import views, views_exports, views_reminders, views_setup

app_name = "campaigns"

urlpatterns = [
    # « Campagnes d'entretiens »: the list, a new campaign, the organisation's types
    path("entretiens/campagnes/", views_setup.campaign_list, name="list"),
    path("entretiens/campagnes/nouvelle/", views_setup.campaign_create, name="create"),
    path("entretiens/types/", views_setup.campaign_types, name="types"),
    # « Détail campagne » (statistics) and « Détail entretiens » (grouped by manager)
    path("entretiens/campagnes/<id:campaign_id>/", views.campaign_detail, name="detail"),
    path(
        "entretiens/campagnes/<id:campaign_id>/entretiens/",
        views.campaign_interviews,
        name="interviews",
    ),
    path("entretiens/<id:interview_id>/", views.interview_detail, name="interview"),
    # « Relancer les managers »
    path("entretiens/campagnes/<id:campaign_id>/relancer/", views_reminders.remind, name="remind"),
    path(
        "entretiens/campagnes/<id:campaign_id>/relancer-responsable/",
        views_reminders.remind_manager,
        name="remind-manager",
    ),
    # « Autres actions »: export, print, delete
    path("entretiens/campagnes/<id:campaign_id>/export/", views_exports.export, name="export"),
    path(
        "entretiens/campagnes/<id:campaign_id>/export/<id:job_id>/fichier/",
        views_exports.export_file,
        name="export-file",
    ),
    path("entretiens/campagnes/<id:campaign_id>/imprimer/", views_exports.print_pdfs, name="print"),
    path(
        "entretiens/campagnes/<id:campaign_id>/supprimer/",
        views_exports.campaign_delete,
        name="delete",
    ),
    path("entretiens/<id:interview_id>/pdf/", views_exports.interview_pdf, name="interview-pdf"),
    # « Détail entretiens »: delete in bulk (the filter's selection) or one by one
    path(
        "entretiens/campagnes/<id:campaign_id>/entretiens/supprimer/",
        views.interviews_delete,
        name="interviews-delete",
    ),
    path(
        "entretiens/<id:interview_id>/supprimer/", views.interview_delete, name="interview-delete"
    ),
]
urlpatterns.append(
    path(
        "entretiens/campagnes/<id:campaign_id>/relances/",
        views_reminders.remind_rules,
        name="remind-rules",
    )
)
