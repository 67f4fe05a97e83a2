"""Thin tasks: the worker asks each attendee, after the end, how their meeting went."""

from django.tasks import task

from . import evaluations


@task()
def meeting_feedback_send() -> int:
    """« Comment s'est passée votre rencontre ? » to the attendees of meetings that just
    ended, once each (safe to run twice, or twice at once)."""
    return evaluations.feedback_send_due()
