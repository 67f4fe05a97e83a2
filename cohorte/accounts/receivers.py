"""Tokens end with the role that gave them: an administrator who stops being one (even if
they still manage a programme: the token was an administrator's), a manager removed from
their last programme — whatever path makes the change: a service, the Django admin, a shell.
(A bulk `QuerySet.update()` sends no signal; the check at sign-in on every request still
refuses deactivated and archived members.)"""

from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from .models import Member
from .tokens import member_tokens_revoke, revoke_if_role_lost

#: Program.managers, reached from the member's side so accounts needs no import of programs
ManagedPrograms = Member.managed_programs.through  # type: ignore[attr-defined]


@receiver(pre_save, sender=Member, dispatch_uid="accounts-admin-role-before")
def _note_admin_role(sender, instance: Member, update_fields=None, **kwargs) -> None:
    instance._was_org_admin = False  # type: ignore[attr-defined]
    if instance.pk is None or instance.is_org_admin:
        return
    if update_fields is not None and "is_org_admin" not in update_fields:
        return
    instance._was_org_admin = Member.objects.filter(  # type: ignore[attr-defined]
        pk=instance.pk, is_org_admin=True
    ).exists()


@receiver(post_save, sender=Member, dispatch_uid="accounts-admin-role-lost")
def _admin_role_lost(sender, instance: Member, **kwargs) -> None:
    if getattr(instance, "_was_org_admin", False):
        instance._was_org_admin = False  # type: ignore[attr-defined]
        # even if they still manage a programme: the token was an administrator's
        member_tokens_revoke(member_ids=[instance.pk], by=None, reason="role_lost")


@receiver(m2m_changed, sender=ManagedPrograms, dispatch_uid="accounts-manager-role-lost")
def _manager_role_lost(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if action == "pre_clear" and not isinstance(instance, Member):
        # Program.managers.clear(): remember who managed it before the rows go
        instance._cleared_managers = list(instance.managers.values_list("pk", flat=True))
        return
    if action not in ("post_remove", "post_clear"):
        return
    if isinstance(instance, Member):  # member.managed_programs.remove(…)
        member_ids = [instance.pk]
    elif action == "post_clear":
        member_ids = getattr(instance, "_cleared_managers", [])
    else:
        member_ids = list(pk_set or [])
    revoke_if_role_lost(member_ids)
