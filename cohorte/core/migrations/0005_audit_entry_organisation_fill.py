"""Give the audit entries written before the organisation column their organisation: the
actor's, else the target's (through its own column or the row it belongs to). Entries whose
actor and target are both gone stay without one: no administrator sees them."""

from django.db import migrations
from django.db.models import BigIntegerField, OuterRef, Subquery
from django.db.models.functions import Cast

OWNER_FIELDS = ("organisation", "program", "member", "message", "meeting", "enrolment", "cohort")


def organisation_path(model, depth=3):
    if model._meta.label_lower == "programs.organisation":
        return "pk"
    if depth == 0:
        return None
    names = {field.name: field for field in model._meta.concrete_fields}
    for name in OWNER_FIELDS:
        field = names.get(name)
        if field is None or not field.is_relation or not isinstance(field.related_model, type):
            continue
        if field.related_model._meta.label_lower == "programs.organisation":
            return f"{name}_id"
        rest = organisation_path(field.related_model, depth - 1)
        if rest is not None and rest != "pk":
            return f"{name}__{rest}"
    return None


def fill(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    Member = apps.get_model("accounts", "Member")
    AuditEntry.objects.filter(organisation_id__isnull=True, actor__isnull=False).update(
        organisation_id=Subquery(
            Member.objects.filter(pk=OuterRef("actor_id")).values("organisation_id")[:1]
        )
    )
    pending = AuditEntry.objects.filter(organisation_id__isnull=True)
    for target_type in pending.exclude(target_type="").values_list(
        "target_type", flat=True
    ).distinct():
        try:
            model = apps.get_model(target_type)
        except (LookupError, ValueError):
            continue
        path = organisation_path(model)
        if path is None:
            continue
        pending.filter(target_type=target_type, target_id__regex=r"^[0-9]{1,18}$").update(
            organisation_id=Subquery(
                model._default_manager.filter(
                    pk=Cast(OuterRef("target_id"), BigIntegerField())
                ).values(path)[:1]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_audit_entry_organisation"),
        ("accounts", "0007_custom_field_match_weight"),
        ("activity", "0001_initial"),
        ("meetings", "0004_invitations_series_availability"),
        ("messaging", "0003_message_client_id"),
        ("programs", "0003_program_meeting_types"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
