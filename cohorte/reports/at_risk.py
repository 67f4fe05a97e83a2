"""Who needs attention now on a programme (« À suivre maintenant »), each with the reasons
why, never an opaque score: the Home's list, its « À suivre » figure, the people behind it
and the API's /at-risk all read at_risk_rows and at_risk_reasons.

The ❗ reasons (reported, unanswered conversation) are activity.selectors' rules, so the
Home, the activity table and the flag never disagree.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cohorte.activity.selectors import open_reports, unanswered_conversations
from cohorte.meetings.models import MeetingAttendee, MeetingStatus
from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

from .home_rules import MENTOR_ROLES, bounced_emails, current_enrolments, progress_percent

#: « no meeting recently »: no confirmed meeting in this many weeks
NO_MEETING_WEEKS = 4
#: « behind the objective »: under this share of the objective …
BEHIND_SHARE = 0.5
#: … with under this share of the programme's days left
TIME_LEFT_SHARE = 0.25

REASON_CODES = (
    "never_signed_in",
    "behind_objective",
    "unanswered_conversation",
    "reported",
    "bounced_email",
    "no_meeting_recently",
)


def still_bouncing(*, program: Program) -> QuerySet[Email]:
    """The bounced e-mails (bounced_emails) after which nothing reached the member: no
    e-mail of theirs was delivered or opened since. Their address needs attention."""
    reached_later = Email.objects.filter(
        organisation_id=program.organisation_id,
        member_id=OuterRef("member_id"),
        status__in=[EmailStatus.DELIVERED, EmailStatus.OPENED],
        created_at__gt=OuterRef("created_at"),
    )
    return bounced_emails(program=program).filter(~Exists(reached_later))


def _recent_meetings(program: Program, now: dt.datetime, weeks: int) -> QuerySet[MeetingAttendee]:
    since = now - dt.timedelta(weeks=weeks)
    start, end = program.window()
    return MeetingAttendee.objects.filter(
        meeting__program=program,
        meeting__status=MeetingStatus.CONFIRMED,
        meeting__starts_at__gte=max(since, start),
        meeting__starts_at__lt=min(now, end),
    ).order_by()


# --- Who needs attention now ----------------------------------------------------------------


def behind_objective_applies(program: Program, now: dt.datetime) -> bool:
    """The rule's time half: the programme is running and under TIME_LEFT_SHARE of its
    days are left."""
    start, end = program.window()
    if not start <= now < end:
        return False
    return (end - now) < (end - start) * TIME_LEFT_SHARE


def at_risk_rows(
    *, program: Program, now: dt.datetime | None = None, weeks: int = NO_MEETING_WEEKS
) -> QuerySet[Enrolment]:
    """The people who need attention now, each with a flag per reason, most reasons first
    (one query; the words of each reason: at_risk_reasons). The rules:

    - never_signed_in: no access to the programme (nor platform sign-in) between its dates;
    - behind_objective: a followed person under BEHIND_SHARE of the objective while under
      TIME_LEFT_SHARE of the programme's days are left;
    - unanswered_conversation, reported: the activity table's ❗ (activity.selectors);
    - bounced_email: an e-mail to them bounced between the programme's dates and none
      reached them since (still_bouncing);
    - no_meeting_recently: a followed person enrolled for more than `weeks` weeks, in a
      programme running for as long, with no confirmed meeting in the last `weeks` weeks.

    Followed people (participants, mentees, collaborators) for every reason; mentors and
    professionals for never_signed_in and bounced_email."""
    now = now or timezone.now()
    start, end = program.window()
    followed = Q(role__in=PARTICIPANT_ROLES)
    objective = max(program.objective, 1)
    false = Value(False)
    reasons: dict[str, Any] = {
        "never_signed_in": Q(stats__last_access__isnull=True) | Q(stats__isnull=True),
        "reported": followed & Q(member_id__in=open_reports(program=program).values("member_id")),
        "unanswered_conversation": followed
        & Q(
            member_id__in=unanswered_conversations(program=program, now=now).values(
                "participant_id"
            )
        ),
        "bounced_email": Q(member_id__in=still_bouncing(program=program).values("member_id")),
    }
    if behind_objective_applies(program, now):
        reasons["behind_objective"] = followed & (
            Q(stats__confirmed_meetings__lt=objective * BEHIND_SHARE) | Q(stats__isnull=True)
        )
    weeks_ago = now - dt.timedelta(weeks=weeks)
    if start <= weeks_ago and now < end:
        reasons["no_meeting_recently"] = (
            followed
            & Q(created_at__lte=weeks_ago)
            & ~Q(member_id__in=_recent_meetings(program, now, weeks).values("member_id"))
        )
    flags = {
        f"why_{code}": ExpressionWrapper(reasons[code], output_field=BooleanField())
        if code in reasons
        else ExpressionWrapper(false, output_field=BooleanField())
        for code in REASON_CODES
    }
    any_reason = Q()
    for condition in reasons.values():
        any_reason |= condition
    roles = Q(role__in=[*PARTICIPANT_ROLES, *MENTOR_ROLES])
    mentor_reasons = reasons["never_signed_in"] | reasons["bounced_email"]
    return (
        current_enrolments(program)
        .filter(roles)
        .filter(Q(followed & any_reason) | Q(Q(role__in=MENTOR_ROLES) & mentor_reasons))
        .select_related("member")
        .annotate(
            **flags,
            confirmed_meetings=Coalesce(F("stats__confirmed_meetings"), 0),
            progress=progress_percent(objective),
            last_access=F("stats__last_access"),
        )
        .order_by("progress", "member__last_name", "member__first_name", "member_id")
    )


@dataclass
class Reason:
    code: str
    detail: str


def at_risk_reasons(
    *,
    program: Program,
    rows: Sequence[Enrolment],
    now: dt.datetime | None = None,
    weeks: int = NO_MEETING_WEEKS,
) -> dict[int, list[Reason]]:
    """The words of each reason of these rows (a page of at_risk_rows), by member id: at
    most four queries for the page, whatever its size."""
    now = now or timezone.now()
    tz = program.organisation.tzinfo
    objective = max(program.objective, 1)
    start, end = program.window()
    days_left = max(0, (end - now).days)

    def day(value: dt.datetime) -> str:
        return formats.date_format(value.astimezone(tz), "SHORT_DATE_FORMAT")

    def ids(code: str) -> list[int]:
        return [row.member_id for row in rows if getattr(row, f"why_{code}", False)]

    details: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if reported := ids("reported"):
        for report in (
            open_reports(program=program)
            .filter(member_id__in=reported)
            .select_related("reported_by")
            .order_by("created_at")
        ):
            details[report.member_id]["reported"].append(
                _("Signalé par %(name)s : %(reason)s")
                % {"name": report.reported_by.full_name, "reason": report.reason}
            )
    if waiting := ids("unanswered_conversation"):
        for conversation in (
            unanswered_conversations(program=program, now=now)
            .filter(participant_id__in=waiting)
            .select_related("professional")
            .order_by("last_message_at")
        ):
            details[conversation.participant_id]["unanswered_conversation"].append(
                _("Conversation sans réponse de %(name)s depuis plus de %(days)s jours")
                % {
                    "name": conversation.professional.full_name,
                    "days": program.unanswered_after_days,
                }
            )
    if bouncing := ids("bounced_email"):
        for member_id, last in (
            still_bouncing(program=program)
            .filter(member_id__in=bouncing)
            .values("member_id")
            .annotate(last=Max("created_at"))
            .values_list("member_id", "last")
        ):
            details[member_id]["bounced_email"].append(
                _("Courriel retourné le %(date)s : vérifiez son adresse") % {"date": day(last)}
            )
    last_meeting: dict[int, dt.datetime] = {}
    if quiet := ids("no_meeting_recently"):
        last_meeting = dict(
            MeetingAttendee.objects.filter(
                member_id__in=quiet,
                meeting__program=program,
                meeting__status=MeetingStatus.CONFIRMED,
                meeting__starts_at__gte=start,
                meeting__starts_at__lt=min(now, end),
            )
            .order_by()
            .values("member_id")
            .annotate(last=Max("meeting__starts_at"))
            .values_list("member_id", "last")
        )
    found: dict[int, list[Reason]] = {}
    for row in rows:
        member = row.member
        reasons: list[Reason] = []
        mine = details[row.member_id]
        for code in REASON_CODES:
            if not getattr(row, f"why_{code}", False):
                continue
            if code == "never_signed_in":
                text = (
                    _("N'a jamais ouvert le programme ; connecté à la plateforme le %(date)s")
                    % {"date": day(member.last_access)}
                    if member.last_access
                    else _("Ne s'est jamais connecté à la plateforme")
                )
                reasons.append(Reason(code, text))
            elif code == "behind_objective":
                done = getattr(row, "confirmed_meetings", 0)
                reasons.append(
                    Reason(
                        code,
                        ngettext(
                            "Objectif : %(done)d sur %(objective)d rencontres confirmées, "
                            "%(days)d jour restant",
                            "Objectif : %(done)d sur %(objective)d rencontres confirmées, "
                            "%(days)d jours restants",
                            days_left,
                        )
                        % {"done": done, "objective": objective, "days": days_left},
                    )
                )
            elif code == "no_meeting_recently":
                last = last_meeting.get(row.member_id)
                text = (
                    ngettext(
                        "Aucune rencontre confirmée depuis %(weeks)d semaine (la dernière : "
                        "%(date)s)",
                        "Aucune rencontre confirmée depuis %(weeks)d semaines (la dernière : "
                        "%(date)s)",
                        weeks,
                    )
                    % {"weeks": weeks, "date": day(last)}
                    if last
                    else ngettext(
                        "Aucune rencontre confirmée depuis %(weeks)d semaine",
                        "Aucune rencontre confirmée depuis %(weeks)d semaines",
                        weeks,
                    )
                    % {"weeks": weeks}
                )
                reasons.append(Reason(code, text))
            else:
                reasons += [Reason(code, text) for text in mine.get(code, [])] or [
                    Reason(code, str(REASON_LABELS[code]))
                ]
        found[row.member_id] = reasons
    return found


REASON_LABELS: dict[str, Promise] = {
    "never_signed_in": gettext_lazy("Jamais connecté"),
    "behind_objective": gettext_lazy("En retard sur l'objectif"),
    "unanswered_conversation": gettext_lazy("Conversation sans réponse"),
    "reported": gettext_lazy("Signalé"),
    "bounced_email": gettext_lazy("Courriel retourné"),
    "no_meeting_recently": gettext_lazy("Pas de rencontre récente"),
}
