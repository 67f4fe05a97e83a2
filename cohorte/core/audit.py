from typing import Any

from django.db import models

from .models import AuditEntry


def log_action(
    action: str, *, actor: Any = None, target: models.Model | None = None, data: dict | None = None
) -> AuditEntry:
    """Record a state change; call it inside the transaction that makes the change."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:300] if target is not None else "",
        data=data or {},
    )
