"""The programme's Home (« Accueil »): its headline figures, each with its definition and
the people behind it, mentors and mentees with their progress, and who needs attention now
and why.

Every figure is counted by the database, in a fixed number of queries whatever the size
of the programme: the participants' figures from the maintained counters (ParticipantStats,
one row per enrolment, counted between the programme's dates — see activity.counters), the
flags through activity.selectors' rules (open_reports, unanswered_conversations), so the
Home, the activity table and the ❗ never disagree. The figure set is cached for
CACHE_SECONDS per programme and says when it was computed (« à jour le … »).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Least, TruncMonth
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cohorte.activity.models import ActivityEvent, EventKind
from cohorte.activity.selectors import open_reports, unanswered_conversations
from cohorte.meetings.models import Meeting, MeetingAttendee, MeetingStatus
from cohorte.messaging.models import Email, EmailStatus
from cohorte.programs.models import (
    PARTICIPANT_ROLES,
    Enrolment,
    Organisation,
    Program,
    ProgramKind,
    Role,
)
from cohorte.surveys.models import Invitation

#: how long a computed figure set is served before it is counted again
CACHE_SECONDS = 60
#: « no meeting recently »: no confirmed meeting in this many weeks
NO_MEETING_WEEKS = 4
#: « behind the objective »: under this share of the objective …
BEHIND_SHARE = 0.5
#: … with under this share of the programme's days left
TIME_LEFT_SHARE = 0.25
#: the counterparts of the followed people (mentoring: mentors; accompaniment: professionals)
MENTOR_ROLES = (Role.MENTOR, Role.PROFESSIONAL)
#: the rows of each compact table on the Home
TOP = 10

REASON_CODES = (
    "never_signed_in",
    "behind_objective",
    "unanswered_conversation",
    "reported",
    "bounced_email",
    "no_meeting_recently",
)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _current(program: Program) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(program=program, ended_at__isnull=True).order_by()


def _progress(objective: Any) -> Least:
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
        member_id__in=_current(program).values("member_id"),
    ).order_by()


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


# --- The figures ----------------------------------------------------------------------


def _count_figures(program: Program, now: dt.datetime) -> dict[str, int | float]:
    """Every headline figure of the programme, counted by the database: six queries."""
    objective = max(program.objective, 1)
    stats = Q(role__in=PARTICIPANT_ROLES)
    people = _current(program).aggregate(
        enrolled=Count("pk", filter=stats),
        participants=Count("pk", filter=Q(role__in=[Role.PARTICIPANT, Role.COLLABORATOR])),
        mentees=Count("pk", filter=Q(role=Role.MENTEE)),
        mentors=Count("pk", filter=Q(role__in=MENTOR_ROLES)),
        signed_in=Count("pk", filter=stats & Q(stats__last_access__isnull=False)),
        mentors_signed_in=Count(
            "pk", filter=Q(role__in=MENTOR_ROLES, stats__last_access__isnull=False)
        ),
        adopted=Count("pk", filter=stats & Q(stats__confirmed_meetings__gte=1)),
        repeat=Count("pk", filter=stats & Q(stats__confirmed_meetings__gte=2)),
        objective_met=Count("pk", filter=stats & Q(stats__confirmed_meetings__gte=objective)),
        confirmed_meetings=Coalesce(Sum("stats__confirmed_meetings", filter=stats), 0),
    )
    enrolled = people["enrolled"]
    unanswered = unanswered_conversations(program=program, now=now).count()
    reports = open_reports(program=program).count()
    bounced = bounced_emails(program=program).count()
    surveys = Invitation.objects.filter(survey__program=program).aggregate(
        invited=Count("pk"), answered=Count("response")
    )
    at_risk_count = at_risk_rows(program=program, now=now).count()
    return {
        **people,
        "never_signed_in": enrolled - people["signed_in"],
        "signed_in_rate": _rate(people["signed_in"], enrolled),
        "not_adopted": enrolled - people["adopted"],
        "adoption_rate": _rate(people["adopted"], enrolled),
        "repeat_rate": _rate(people["repeat"], people["adopted"]),
        "meetings_objective": objective * enrolled,
        "objective_rate": _rate(people["objective_met"], enrolled),
        "unanswered_conversations": unanswered,
        "open_reports": reports,
        "bounced_emails": bounced,
        "survey_invitations": surveys["invited"],
        "survey_responses": surveys["answered"],
        "survey_response_rate": _rate(surveys["answered"], surveys["invited"]),
        "at_risk": at_risk_count,
    }


def home_figures(*, program: Program, fresh: bool = False) -> dict[str, Any]:
    """{"as_of": when counted, "values": {key: number}, "per_month": per_month(program)},
    cached CACHE_SECONDS per programme (numbers only: the words are put beside them in the
    reader's language). Eight queries when counted, none when cached."""
    key = f"reports:home:{program.pk}"
    found = None if fresh else cache.get(key)
    if found is None:
        now = timezone.now()
        found = {
            "as_of": now,
            "values": _count_figures(program, now),
            "per_month": per_month(program),
        }
        cache.set(key, found, CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class FigureText:
    label: Promise | str
    definition: Promise | str
    #: the people behind it (reports:home-people) or "" when it is not a set of people
    people: str = ""
    rate: bool = False


def figure_texts(program: Program) -> dict[str, FigureText]:
    """Each figure's name and written definition, in the current language, and the list of
    people behind it. « Participants » are the followed roles (participant, mentee,
    collaborator), as in the activity table."""
    mentoring = program.kind == ProgramKind.MENTORING
    followed = _("mentorés") if mentoring else _("participants")
    counterparts = _("Mentors") if mentoring else _("Mentors et professionnels")
    objective = program.objective
    return {
        "enrolled": FigureText(
            _("Inscrits suivis"),
            _(
                "Personnes inscrites aujourd'hui comme participant, mentoré ou collaborateur "
                "(les rôles que suit le tableau d'activité), inscription non terminée."
            ),
            "enrolled",
        ),
        "participants": FigureText(
            _("Participants"),
            _("Inscrits comme participant ou collaborateur."),
            "participants",
        ),
        "mentees": FigureText(_("Mentorés"), _("Inscrits comme mentoré."), "mentees"),
        "mentors": FigureText(
            counterparts,
            _("Inscrits comme mentor ou professionnel (ceux qui accompagnent les suivis)."),
            "mentors",
        ),
        "signed_in": FigureText(
            _("Connectés au moins une fois"),
            _(
                "Inscrits suivis ayant ouvert le programme ou s'étant connectés à la "
                "plateforme au moins une fois entre les dates du programme (le « dernier "
                "accès » du tableau d'activité n'est pas « Jamais »)."
            ),
            "signed_in",
        ),
        "never_signed_in": FigureText(
            _("Jamais connectés"),
            _("Inscrits suivis sans aucun accès entre les dates du programme."),
            "never_signed_in",
        ),
        "signed_in_rate": FigureText(
            _("Taux de connexion"),
            _("Connectés au moins une fois ÷ inscrits suivis."),
            "signed_in",
            rate=True,
        ),
        "adopted": FigureText(
            _("Avec au moins une rencontre"),
            _(
                "Inscrits suivis ayant au moins une rencontre tenue et confirmée dont la date "
                "est entre les dates du programme ; une rencontre annulée, non tenue ou "
                "seulement programmée ne compte pas."
            ),
            "adopted",
        ),
        "not_adopted": FigureText(
            _("%(who)s sans rencontre") % {"who": followed.capitalize()},
            _(
                "Inscrits suivis sans aucune rencontre tenue et confirmée entre les dates "
                "du programme."
            ),
            "not_adopted",
        ),
        "adoption_rate": FigureText(
            _("Taux d'adoption"),
            _("Inscrits suivis avec au moins une rencontre ÷ inscrits suivis (de 0 à 100 %)."),
            "adopted",
            rate=True,
        ),
        "repeat": FigureText(
            _("Avec deux rencontres ou plus"),
            _(
                "Inscrits suivis ayant au moins deux rencontres tenues et confirmées entre "
                "les dates du programme."
            ),
            "repeat",
        ),
        "repeat_rate": FigureText(
            _("Taux de rencontres répétées"),
            _("Inscrits avec deux rencontres ou plus ÷ inscrits avec au moins une rencontre."),
            "repeat",
            rate=True,
        ),
        "confirmed_meetings": FigureText(
            _("Rencontres confirmées"),
            _(
                "Somme des rencontres tenues et confirmées des inscrits suivis entre les "
                "dates du programme (une rencontre compte pour chacun de ses participants), "
                "à comparer à l'objectif : %(n)d par inscrit suivi."
            )
            % {"n": objective},
            "adopted",
        ),
        "meetings_objective": FigureText(
            _("Objectif de rencontres"),
            _("L'objectif du programme (%(n)d) × le nombre d'inscrits suivis.") % {"n": objective},
        ),
        "objective_met": FigureText(
            _("Objectif atteint"),
            _(
                "Inscrits suivis à 100 %% de progression : au moins %(n)d rencontres tenues "
                "et confirmées entre les dates du programme."
            )
            % {"n": objective},
            "objective_met",
        ),
        "objective_rate": FigureText(
            _("Part à l'objectif"),
            _("Inscrits suivis dont la progression atteint 100 % ÷ inscrits suivis."),
            "objective_met",
            rate=True,
        ),
        "unanswered_conversations": FigureText(
            _("Conversations sans réponse"),
            _(
                "Conversations dont le dernier message du participant attend depuis plus de "
                "%(days)d jours sans réponse ni suivi (le ❗ du tableau d'activité)."
            )
            % {"days": program.unanswered_after_days},
            "unanswered_conversations",
        ),
        "open_reports": FigureText(
            _("Signalements à traiter"),
            _("Signalements de participants que personne n'a encore marqués « Traité »."),
            "open_reports",
        ),
        "bounced_emails": FigureText(
            _("Courriels retournés"),
            _(
                "Courriels envoyés aux inscrits actuels entre les dates du programme et "
                "revenus avec le statut « Retourné » (registre des courriels)."
            ),
            "bounced_emails",
        ),
        "survey_response_rate": FigureText(
            _("Taux de réponse aux sondages"),
            _("Réponses reçues ÷ invitations envoyées, pour tous les sondages du programme."),
            "survey_pending",
            rate=True,
        ),
        "survey_pending": FigureText(
            _("Sans réponse aux sondages"),
            _("Personnes invitées à un sondage du programme qui n'y ont pas encore répondu."),
            "survey_pending",
        ),
        "survey_invitations": FigureText(
            _("Invitations aux sondages"),
            _("Personnes invitées à répondre à un sondage du programme (une par sondage)."),
        ),
        "survey_responses": FigureText(
            _("Réponses aux sondages"),
            _("Invitations auxquelles la personne a répondu."),
        ),
        "at_risk": FigureText(
            _("À suivre maintenant"),
            _(
                "Personnes ayant au moins une des raisons de la liste « À suivre » (jamais "
                "connecté, en retard sur l'objectif, conversation sans réponse, signalé, "
                "courriel retourné, pas de rencontre récente)."
            ),
            "at_risk",
        ),
    }


#: the figures of the dashboard's API, in this order (the others are on the page)
API_FIGURES = (
    "enrolled",
    "participants",
    "mentees",
    "mentors",
    "signed_in",
    "never_signed_in",
    "adopted",
    "adoption_rate",
    "repeat",
    "repeat_rate",
    "confirmed_meetings",
    "meetings_objective",
    "objective_met",
    "unanswered_conversations",
    "open_reports",
    "bounced_emails",
    "survey_invitations",
    "survey_responses",
    "survey_response_rate",
    "at_risk",
)

#: the rates compared with the organisation's running programmes
COMPARED = ("signed_in_rate", "adoption_rate", "repeat_rate", "objective_rate")


def organisation_rates(*, organisation: Organisation, fresh: bool = False) -> dict[str, Any]:
    """The mean of each compared rate over the organisation's running programmes (each
    programme counts once, whatever its size), with how many programmes it covers: one
    query, grouped by programme; cached CACHE_SECONDS."""
    key = f"reports:home:organisation:{organisation.pk}"
    found = None if fresh else cache.get(key)
    if found is not None:
        return found
    today = timezone.now().astimezone(organisation.tzinfo).date()
    followed = Q(role__in=PARTICIPANT_ROLES)
    rows = list(
        Enrolment.objects.filter(
            program__organisation=organisation,
            program__start_date__lte=today,
            program__end_date__gte=today,
            ended_at__isnull=True,
        )
        .order_by()
        .values("program_id")
        .annotate(
            enrolled=Count("pk", filter=followed),
            signed_in=Count("pk", filter=followed & Q(stats__last_access__isnull=False)),
            adopted=Count("pk", filter=followed & Q(stats__confirmed_meetings__gte=1)),
            repeat=Count("pk", filter=followed & Q(stats__confirmed_meetings__gte=2)),
            objective_met=Count(
                "pk",
                filter=followed & Q(stats__confirmed_meetings__gte=F("program__objective")),
            ),
        )
        .filter(enrolled__gt=0)
    )
    rates: dict[str, list[float]] = defaultdict(list)
    for row in rows:  # one row per running programme
        rates["signed_in_rate"].append(_rate(row["signed_in"], row["enrolled"]))
        rates["adoption_rate"].append(_rate(row["adopted"], row["enrolled"]))
        rates["objective_rate"].append(_rate(row["objective_met"], row["enrolled"]))
        if row["adopted"]:
            rates["repeat_rate"].append(_rate(row["repeat"], row["adopted"]))
    found = {
        "as_of": timezone.now(),
        "programs": len(rows),
        "values": {
            name: round(sum(rates[name]) / len(rates[name]), 4) if rates[name] else None
            for name in COMPARED
        },
    }
    cache.set(key, found, CACHE_SECONDS)
    return found


# --- Activity per month -------------------------------------------------------------------


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    months, day = [], start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def per_month(program: Program) -> list[dict[str, Any]]:
    """Sign-ins, messages and meetings held and confirmed, per month of the programme (in
    the organisation's time zone), every month of its dates, empty ones included. Counted
    from the events and meetings (two grouped queries): a maintained monthly rollup can
    take its place behind this same function."""
    start, end = program.window()
    tz = program.organisation.tzinfo
    access = Q(program=program, kind__in=[EventKind.SIGN_IN, EventKind.COURSE_ACCESS]) | Q(
        program__isnull=True,
        kind=EventKind.SIGN_IN,
        actor_id__in=_current(program).values("member_id"),
    )
    messages = Q(program=program, kind=EventKind.MESSAGE)
    events = {
        row["month"]: row
        for row in ActivityEvent.objects.filter(
            access | messages, occurred_at__gte=start, occurred_at__lt=end
        )
        .annotate(month=TruncMonth("occurred_at", tzinfo=tz))
        .order_by()
        .values("month")
        .annotate(sign_ins=Count("pk", filter=access), messages=Count("pk", filter=messages))
    }
    meetings = dict(
        Meeting.objects.filter(
            program=program,
            status=MeetingStatus.CONFIRMED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .annotate(month=TruncMonth("starts_at", tzinfo=tz))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )

    def day(value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.astimezone(tz).date() if value.tzinfo else value.date()
        return value

    events_by_day: dict[dt.date, dict[str, Any]] = {
        day(month): dict(row) for month, row in events.items()
    }
    meetings_by_day = {day(month): n for month, n in meetings.items()}
    return [
        {
            "month": month.strftime("%Y-%m"),
            "sign_ins": events_by_day.get(month, {}).get("sign_ins", 0),
            "messages": events_by_day.get(month, {}).get("messages", 0),
            "meetings_confirmed": meetings_by_day.get(month, 0),
        }
        for month in _months(start.date(), (end - dt.timedelta(days=1)).date())
    ]


# --- The people behind a figure -------------------------------------------------------------


def _with_progress(rows: QuerySet[Enrolment], program: Program) -> QuerySet[Enrolment]:
    return (
        rows.select_related("member")
        .annotate(
            confirmed_meetings=Coalesce(F("stats__confirmed_meetings"), 0),
            progress=_progress(max(program.objective, 1)),
            last_access=F("stats__last_access"),
        )
        .order_by("progress", "member__last_name", "member__first_name", "member_id")
    )


def progress_table(*, program: Program, side: str, limit: int = TOP) -> list[Enrolment]:
    """The `limit` lowest in progress of one side (« mentees »: the followed roles,
    « mentors »: mentors and professionals), with their progress: one query."""
    roles = MENTOR_ROLES if side == "mentors" else PARTICIPANT_ROLES
    return list(_with_progress(_current(program).filter(role__in=roles), program)[:limit])


PEOPLE = (
    "enrolled",
    "participants",
    "mentees",
    "mentors",
    "signed_in",
    "never_signed_in",
    "adopted",
    "not_adopted",
    "repeat",
    "objective_met",
    "unanswered_conversations",
    "open_reports",
    "bounced_emails",
    "survey_pending",
    "at_risk",
)


def people_behind(
    *, program: Program, figure: str, now: dt.datetime | None = None
) -> QuerySet[Enrolment] | None:
    """The current enrolments a figure counts, lowest progress first, or None for a figure
    that names no people. The same rules as the figures (one query for the page)."""
    now = now or timezone.now()
    if figure not in PEOPLE:
        return None
    if figure == "at_risk":
        return at_risk_rows(program=program, now=now)
    rows = _current(program)
    followed = Q(role__in=PARTICIPANT_ROLES)
    objective = max(program.objective, 1)
    where = {
        "enrolled": followed,
        "participants": Q(role__in=[Role.PARTICIPANT, Role.COLLABORATOR]),
        "mentees": Q(role=Role.MENTEE),
        "mentors": Q(role__in=MENTOR_ROLES),
        "signed_in": followed & Q(stats__last_access__isnull=False),
        "never_signed_in": followed & Q(stats__last_access__isnull=True),
        "adopted": followed & Q(stats__confirmed_meetings__gte=1),
        "not_adopted": followed
        & (Q(stats__confirmed_meetings=0) | Q(stats__confirmed_meetings__isnull=True)),
        "repeat": followed & Q(stats__confirmed_meetings__gte=2),
        "objective_met": followed & Q(stats__confirmed_meetings__gte=objective),
        "unanswered_conversations": Q(
            member_id__in=unanswered_conversations(program=program, now=now).values(
                "participant_id"
            )
        ),
        "open_reports": Q(member_id__in=open_reports(program=program).values("member_id")),
        "bounced_emails": Q(member_id__in=bounced_emails(program=program).values("member_id")),
        "survey_pending": Q(
            member_id__in=Invitation.objects.filter(
                survey__program=program, response__isnull=True
            ).values("member_id")
        ),
    }[figure]
    return _with_progress(rows.filter(where), program)


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
        _current(program)
        .filter(roles)
        .filter(Q(followed & any_reason) | Q(Q(role__in=MENTOR_ROLES) & mentor_reasons))
        .select_related("member")
        .annotate(
            **flags,
            confirmed_meetings=Coalesce(F("stats__confirmed_meetings"), 0),
            progress=_progress(objective),
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
