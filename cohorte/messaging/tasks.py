"""Thin tasks: the worker sends the outbox, fires scheduled messages, runs the rules."""

from django.tasks import task

from . import services


@task()
def outbox_send() -> int:
    """Everything due in the outbox; several workers run it side by side (a full claim
    calls one more in)."""
    return services.outbox_send(spread=True)


@task()
def message_send_due(message_id: int) -> int:
    """A scheduled message, at its time (a no-op if it was revised, deleted or already sent)."""
    return services.message_send_if_due(message_id=message_id)
