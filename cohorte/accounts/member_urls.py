from django.urls import path

from . import member_views as views
from . import token_views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("rapport.csv", views.members_report, name="report"),
    path("<id:member_id>/", views.member_profile, name="profile"),
    path("<id:member_id>/actif/", views.member_active, name="active"),
    path("<id:member_id>/photo/", views.member_photo, name="photo"),
    path("<id:member_id>/message/", views.member_message, name="message"),
    path("<id:member_id>/archiver/", views.member_archive, name="archive"),
    path("<id:member_id>/supprimer/", views.member_delete, name="delete"),
    path("filtres/", views.saved_filters, name="saved-filters"),
    path("filtres/nouveau/", views.saved_filter_create, name="saved-filter-create"),
    path("filtres/<id:filter_id>/", views.saved_filter_apply, name="saved-filter"),
    path("filtres/<id:filter_id>/modifier/", views.saved_filter_edit, name="saved-filter-edit"),
    path("desactiver/", views.members_deactivate, name="deactivate"),
    path("desactiver/echantillon.csv", views.members_deactivate_sample, name="deactivate-sample"),
    path("champs/", views.custom_fields, name="custom-fields"),
    path("champs/<id:field_id>/", views.custom_fields, name="custom-field"),
    path("champs/recalculer/", views.completion_recompute, name="recompute"),
    path("importer/", views.members_import, name="import"),
    path("importer/<id:job_id>/", views.members_import_map, name="import-map"),
    path("jetons/", token_views.token_list, name="tokens"),
    path("jetons/<id:token_id>/revoquer/", token_views.token_revoke, name="token-revoke"),
]
