from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.dispatch import receiver

from cohorte.accounts.signals import members_deactivated
from cohorte.meetings.signals import meetings_changed
from cohorte.programs.signals import members_enrolled, program_dates_changed

from . import presence, services


@receiver(program_dates_changed)
def rebuild_after_dates_change(sender, *, program, **kwargs) -> None:
    """Every counter again, in the background; the page shows the progress meanwhile."""
    transaction.on_commit(lambda: services.counters_rebuild_start(program=program))


@receiver(members_enrolled)
@receiver(meetings_changed)
def refresh_members(sender, *, program, member_ids, **kwargs) -> None:
    services.stats_refresh(program=program, member_ids=member_ids)


@receiver(user_logged_in)
def record_sign_in(sender, *, user, **kwargs) -> None:
    """A real sign-in is activity: an event, and the member's last access."""
    services.sign_in_record(member=user)


@receiver(user_logged_out)
def offline_at_sign_out(sender, *, user, **kwargs) -> None:
    if user is not None:
        presence.clear([user.pk])


@receiver(members_deactivated)
def offline_when_switched_off(sender, *, member_ids, **kwargs) -> None:
    transaction.on_commit(lambda: presence.clear(member_ids))
