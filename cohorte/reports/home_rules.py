"""The rules the programme's Home and its at-risk list share: who a programme follows
today, their progress against the objective, and the e-mails to them that bounced."""

from typing import Any

from django.db.models import BigIntegerField, ExpressionWrapper, F, IntegerField, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Least

from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import Enrolment, Program, Role

#: the counterparts of the followed people (mentoring: mentors; accompaniment: professionals)
MENTOR_ROLES = (Role.MENTOR, Role.PROFESSIONAL)


def rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def current_enrolments(program: Program) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(program=program, ended_at__isnull=True).order_by()


def progress_percent(objective: Any) -> Least:
    """Confirmed meetings against the objective, in percent, at most 100 (as the activity
    table counts it)."""
    return Least(
        Value(100),
        ExpressionWrapper(
            Cast(Coalesce(F("stats__confirmed_meetings"), 0), BigIntegerField()) * 100 / objective,
            output_field=IntegerField(),
        ),
    )


def bounced_emails(*, program: Program) -> QuerySet[Email]:
    """E-mails to the programme's current members that bounced (« Retourné »), sent
    between the programme's dates."""
    start, end = program.window()
    return Email.objects.filter(
        organisation_id=program.organisation_id,
        status=EmailStatus.BOUNCED,
        created_at__gte=start,
        created_at__lt=end,
        member_id__in=current_enrolments(program).values("member_id"),
    ).order_by()
