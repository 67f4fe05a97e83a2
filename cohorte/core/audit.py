from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models

from .db import rows_insert
from .models import AuditEntry

#: how to reach the organisation from a model, in order: its own column, then through the
#: row it belongs to (a meeting's programme, a token's member…)
_OWNER_FIELDS = ("organisation", "program", "member", "message", "meeting", "enrolment", "cohort")


def organisation_path(model: type[models.Model], depth: int = 3) -> str | None:
    """The ORM path from a model to its organisation's id ("program__organisation_id"),
    or None when the model belongs to no organisation."""
    if model._meta.label_lower == "programs.organisation":
        return "pk"
    if depth == 0:
        return None
    names = {field.name: field for field in model._meta.concrete_fields}
    plain = names.get("organisation_id")  # a plain column (jobs, e-mails): no foreign key
    if plain is not None and not plain.is_relation:
        return "organisation_id"
    for name in _OWNER_FIELDS:
        field = names.get(name)
        if field is None or not field.is_relation or field.related_model is None:
            continue
        related = field.related_model
        if not isinstance(related, type):  # "self" not resolved: never here
            continue
        if related._meta.label_lower == "programs.organisation":
            return f"{name}_id"
        rest = organisation_path(related, depth - 1)
        if rest is not None and rest != "pk":
            return f"{name}__{rest}"
    return None


def organisation_of(target: models.Model | None) -> int | None:
    """The organisation a row belongs to, read through what is already loaded where it can."""
    if target is None:
        return None
    path = organisation_path(type(target))
    if path is None:
        return None
    if path == "pk":
        return target.pk
    value: Any = target
    try:
        for part in path.split("__"):
            value = getattr(value, part)
            if value is None:
                return None
    except ObjectDoesNotExist:
        return None
    return int(value)


def log_action(
    action: str,
    *,
    actor: Any = None,
    target: models.Model | None = None,
    data: dict | None = None,
    organisation_id: int | None = None,
) -> AuditEntry:
    """Record a state change; call it inside the transaction that makes the change.
    The entry belongs to `organisation_id` when given, else the actor's organisation, else
    the target's (a task acting for no one)."""
    actor = actor if getattr(actor, "pk", None) else None
    if organisation_id is None:
        organisation_id = getattr(actor, "organisation_id", None) or organisation_of(target)
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:300] if target is not None else "",
        data=data or {},
        organisation_id=organisation_id,
    )


def log_actions(
    action: str,
    *,
    actor: Any = None,
    model: type[models.Model],
    entries: Iterable[tuple[Any, str, dict]],
    organisation_id: int | None = None,
) -> int:
    """log_action for many rows of one model at once (an import of 10,000 members): one
    entry per (primary key, label, data), written in a few statements (rows_insert), in
    the caller's transaction. The entries belong to `organisation_id`, else the actor's."""
    actor_id = getattr(actor, "pk", None)
    if organisation_id is None:
        organisation_id = getattr(actor, "organisation_id", None)
    target_type = model._meta.label_lower
    return rows_insert(
        AuditEntry,
        (
            {
                "action": action,
                "actor_id": actor_id,
                "target_type": target_type,
                "target_id": str(pk),
                "target_repr": label[:300],
                "data": data,
                "organisation_id": organisation_id,
            }
            for pk, label, data in entries
        ),
    )


def organisations_fill(entries: Iterable[AuditEntry]) -> None:
    """Give entries built by hand (bulk writes) their organisation: the actor's, else the
    target's, read with one query per kind of target."""
    pending: dict[str, list[AuditEntry]] = defaultdict(list)
    actor_ids: set[int] = set()
    for entry in entries:
        if entry.organisation_id is not None:
            continue
        actor = entry._state.fields_cache.get("actor") if entry.actor_id else None
        if actor is not None and actor.organisation_id:
            entry.organisation_id = actor.organisation_id
        else:
            if entry.actor_id:
                actor_ids.add(entry.actor_id)
            pending[entry.target_type].append(entry)
    if actor_ids:
        user_model = AuditEntry._meta.get_field("actor").related_model
        assert isinstance(user_model, type)  # noqa: S101 — for mypy
        of_actor = dict(
            user_model._default_manager.filter(
                pk__in=actor_ids, organisation_id__isnull=False
            ).values_list("pk", "organisation_id")
        )
        for group in pending.values():
            for entry in group:
                if entry.actor_id in of_actor:
                    entry.organisation_id = of_actor[entry.actor_id]
    for target_type, group in pending.items():
        todo = [e for e in group if e.organisation_id is None and e.target_id.isascii()]
        todo = [e for e in todo if e.target_id.isdecimal() and len(e.target_id) <= 18]
        if not target_type or not todo:
            continue
        try:
            model = apps.get_model(target_type)
        except (LookupError, ValueError):
            continue
        path = organisation_path(model)
        if path is None:
            continue
        found = dict(
            model._default_manager.filter(pk__in={int(e.target_id) for e in todo}).values_list(
                "pk", path
            )
        )
        for entry in todo:
            entry.organisation_id = found.get(int(entry.target_id))
