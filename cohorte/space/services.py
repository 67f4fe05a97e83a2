"""What a member does from their space: answer an invitation, ask for another time, say
whether a past meeting took place.

Answering goes through the meetings app's own path (the signed answer of the e-mail's
links, meetings.services.meeting_answer), so the rules are the same wherever one answers:
once, before the meeting, for its current time, for this occurrence and the ones after it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.models import AuditEntry
from cohorte.core.moments import localtime_or_utc
from cohorte.meetings import services as meetings
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus, Response

from .selectors import todo_count_forget

#: the longest message sent with a request to reschedule
RESCHEDULE_MESSAGE_MAX = 1000


def _attendance(*, member: Member, meeting_id: int) -> MeetingAttendee:
    """Their own place at that meeting; anyone else's meeting is not found."""
    attendance = (
        MeetingAttendee.objects.filter(member=member, meeting_id=meeting_id)
        .select_related("meeting__program__organisation", "member")
        .first()
    )
    if attendance is None:
        raise PermissionDenied
    return attendance


def invitation_answer(*, member: Member, meeting_id: int, answer: str) -> MeetingAttendee:
    """Accept or decline from the space: the e-mail link's path, signed here for them."""
    if answer not in (Response.ACCEPTED, Response.DECLINED):
        raise ValidationError(_("Réponse inconnue."))
    attendance = _attendance(member=member, meeting_id=meeting_id)
    try:
        attendance, _answer = meetings.meeting_answer(
            token=meetings.answer_token(attendance, answer)
        )
    except meetings.AnswerRefused as refused:
        raise ValidationError(refused.reason) from refused
    finally:
        todo_count_forget(member.pk)
    return attendance


def evaluation_answer(*, member: Member, meeting_id: int, took_place: str) -> MeetingAttendee:
    """« Elle a eu lieu » / « Elle n'a pas eu lieu » in one click from the space: the
    meetings app's evaluation (meetings.evaluations.meeting_evaluate), so a 1:1 meeting is
    confirmed by both sides the same way wherever they answer. A rating or comment already
    given is kept: the detailed form (meetings:evaluate) changes those."""
    from cohorte.meetings import evaluations

    if took_place not in ("yes", "no"):
        raise ValidationError(_("Dites si la rencontre a eu lieu."))
    attendance = _attendance(member=member, meeting_id=meeting_id)
    try:
        return evaluations.meeting_evaluate(
            meeting=attendance.meeting,
            member=member,
            took_place=took_place == "yes",
            rating=attendance.rating if attendance.evaluated_at else None,
            comment=attendance.comment if attendance.evaluated_at else "",
        )
    except evaluations.EvaluationRefused as refused:
        raise ValidationError(refused.message) from refused
    finally:
        todo_count_forget(member.pk)


def _notice(meeting: Meeting, member: Member, language: str) -> str:
    with translation.override(language):
        when = formats.date_format(
            localtime_or_utc(meeting.starts_at, meeting.program.organisation.tzinfo),
            "DATETIME_FORMAT",
        )
        return _("%(name)s demande à reporter la rencontre du %(when)s (%(program)s)") % {
            "name": member.full_name,
            "when": when,
            "program": meeting.program.name,
        }


@transaction.atomic
def reschedule_request(*, member: Member, meeting_id: int, message: str) -> Meeting:
    """« Demander un report »: an attendee cannot move a meeting others share, so they ask,
    with a message; the other attendees and the programme's managers (who move it, with
    « Reporter ») get it by the bell and by e-mail in their own language. Once per
    meeting time: asking again before it moves sends nothing twice."""
    from cohorte.messaging import services as messaging

    message = (message or "").strip()
    if not message:
        raise ValidationError(_("Écrivez un message : pourquoi et quand vous seriez disponible."))
    if len(message) > RESCHEDULE_MESSAGE_MAX:
        raise ValidationError(
            _("Le message dépasse %(max)d caractères.") % {"max": RESCHEDULE_MESSAGE_MAX}
        )
    attendance = _attendance(member=member, meeting_id=meeting_id)
    meeting = Meeting.objects.select_for_update(of=("self",)).get(pk=attendance.meeting_id)
    meeting.program = attendance.meeting.program
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("Cette rencontre a été annulée."))
    if meeting.starts_at <= timezone.now():
        raise ValidationError(_("Cette rencontre est passée."))
    asked = AuditEntry.objects.filter(
        action="meeting.reschedule_requested",
        actor=member,
        target_type=Meeting._meta.label_lower,
        target_id=str(meeting.pk),
    ).values_list("data", flat=True)
    if any(data.get("sequence") == meeting.sequence for data in asked):
        raise ValidationError(
            _("Vous avez déjà demandé un report de cette rencontre : sa nouvelle date suivra.")
        )
    others = [
        a.member
        for a in meeting.attendances.select_related("member").exclude(member=member)
        if a.member.is_active
    ]
    managers = list(meeting.program.managers.filter(is_active=True).exclude(pk=member.pk))
    reschedule_url = reverse("meetings:reschedule", args=[meeting.pk])
    space_url = reverse("space:home") + f"#meeting-{meeting.pk}"
    for person, url in [(m, space_url) for m in others] + [(m, reschedule_url) for m in managers]:
        messaging.notify(
            members=[person],
            title_fr=_notice(meeting, member, "fr"),
            title_en=_notice(meeting, member, "en"),
            url=url,
        )
        with translation.override(person.language):
            subject = _notice(meeting, member, person.language)
            body = "\n\n".join(
                [
                    subject + ".",
                    _("Son message :"),
                    message,
                    messaging.absolute_url(url),
                ]
            )
        messaging.email_enqueue(
            organisation_id=meeting.program.organisation_id,
            member=person,
            to_email=person.email,
            subject=subject,
            text=body,
            language=person.language,
        )
    log_action(
        "meeting.reschedule_requested",
        actor=member,
        target=meeting,
        data={"sequence": meeting.sequence, "message": message, "told": len(others + managers)},
    )
    return meeting
