"""The header's « À faire » count is kept a minute per member (selectors.TODO_COUNT_SECONDS);
what a member does anywhere that changes their list forgets it, so the next page counts
again: answering an invitation (here, by the e-mail's link or in the calendar), evaluating,
signing up for a masterclass, setting an availability, saving the profile, answering a
survey, replying in a conversation, moving an interview along. Each receiver reads ids
the row already holds: no query.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from .selectors import todo_count_forget


def _forget_member(sender: Any, instance: Any, **kwargs: Any) -> None:
    member_id = getattr(instance, "member_id", None)
    if member_id:
        todo_count_forget(member_id)


def _forget_self(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk:
        todo_count_forget(instance.pk)


def _forget_sender(sender: Any, instance: Any, **kwargs: Any) -> None:
    if getattr(instance, "sender_id", None):
        todo_count_forget(instance.sender_id)


def _forget_respondent(sender: Any, instance: Any, **kwargs: Any) -> None:
    invitation = instance.invitation if type(instance).invitation.is_cached(instance) else None
    if invitation is not None:
        todo_count_forget(invitation.member_id)


def _forget_interview_people(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A planned, signed or sent-back interview changes what its people have to do."""
    for member_id in (instance.collaborator_id, instance.manager_id, instance.second_approver_id):
        if member_id:
            todo_count_forget(member_id)


def connect() -> None:
    from cohorte.accounts.models import Member
    from cohorte.campaigns.models import Interview
    from cohorte.conversations.models import ConversationMessage
    from cohorte.meetings.models import Availability, MeetingAttendee
    from cohorte.surveys.models import Invitation, Response

    for model in (MeetingAttendee, Availability, Invitation):
        post_save.connect(_forget_member, sender=model, dispatch_uid=f"space-todo-{model.__name__}")
        post_delete.connect(
            _forget_member, sender=model, dispatch_uid=f"space-todo-del-{model.__name__}"
        )
    post_save.connect(_forget_self, sender=Member, dispatch_uid="space-todo-member")
    post_save.connect(_forget_sender, sender=ConversationMessage, dispatch_uid="space-todo-reply")
    post_save.connect(_forget_respondent, sender=Response, dispatch_uid="space-todo-survey")
    post_save.connect(
        _forget_interview_people, sender=Interview, dispatch_uid="space-todo-interview"
    )
