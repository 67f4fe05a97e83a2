"""Thin tasks: the e-mail notice of a conversation's quiet period."""

from django.tasks import task

from . import services


@task()
def conversation_notice(participant_id: int) -> bool:
    return services.conversation_notice_send(participant_id=participant_id)


@task()
def conversation_digest(member_id: int) -> bool:
    return services.conversation_digest_send(member_id=member_id)
