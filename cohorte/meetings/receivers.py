from django.dispatch import receiver

from cohorte.accounts.signals import member_counters_stale

from . import services


@receiver(member_counters_stale)
def refresh_member_counters(sender, *, member_ids, **kwargs) -> None:
    services.member_counters_refresh(member_ids=member_ids)
