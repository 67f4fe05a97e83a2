"""The programme's Home (« Accueil »): its headline figures, each with its definition and
the people behind it, mentors and mentees with their progress (who needs attention now and
why: at_risk.py; the rules both share: home_rules.py).

Every figure is counted by the database, in a fixed number of queries whatever the size
of the programme: the participants' figures from the maintained counters (ParticipantStats,
one row per enrolment, counted between the programme's dates — see activity.counters), the
flags through activity.selectors' rules (open_reports, unanswered_conversations), so the
Home, the activity table and the ❗ never disagree. The figure set is cached for
CACHE_SECONDS per programme and says when it was computed (« à jour le … »).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cohorte.activity.selectors import open_reports, unanswered_conversations
from cohorte.programs.models import (
    PARTICIPANT_ROLES,
    Enrolment,
    Organisation,
    Program,
    ProgramKind,
    Role,
)
from cohorte.surveys.models import Invitation

from . import at_risk
from .home_rules import MENTOR_ROLES, bounced_emails, current_enrolments, progress_percent, rate
from .rollups import monthly_rows

#: how long a computed figure set is served before it is counted again
CACHE_SECONDS = 60
#: the rows of each compact table on the Home
TOP = 10
#: at-risk people shown on the Home itself (the rest behind « tout voir »)
AT_RISK_ON_HOME = 20


# --- The figures ----------------------------------------------------------------------


def _count_figures(program: Program, now: dt.datetime) -> dict[str, int | float]:
    """Every headline figure of the programme, counted by the database: six queries."""
    objective = max(program.objective, 1)
    stats = Q(role__in=PARTICIPANT_ROLES)
    people = current_enrolments(program).aggregate(
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
    at_risk_count = at_risk.at_risk_rows(program=program, now=now).count()
    return {
        **people,
        "never_signed_in": enrolled - people["signed_in"],
        "signed_in_rate": rate(people["signed_in"], enrolled),
        "not_adopted": enrolled - people["adopted"],
        "adoption_rate": rate(people["adopted"], enrolled),
        "repeat_rate": rate(people["repeat"], people["adopted"]),
        "meetings_objective": objective * enrolled,
        "objective_rate": rate(people["objective_met"], enrolled),
        "unanswered_conversations": unanswered,
        "open_reports": reports,
        "bounced_emails": bounced,
        "survey_invitations": surveys["invited"],
        "survey_responses": surveys["answered"],
        "survey_response_rate": rate(surveys["answered"], surveys["invited"]),
        "at_risk": at_risk_count,
    }


def home_figures(*, program: Program, fresh: bool = False) -> dict[str, Any]:
    """{"as_of": when counted, "values": {key: number}, "per_month": per_month(program),
    "per_month_as_of": when the rollup summed those months}: the values from the
    programme's Home snapshot (home_snapshot: counted by the worker, served up to
    CACHE_SECONDS old before it is refreshed behind the page; numbers only, the words are
    put beside them in the reader's language), the months from the rollup: two queries.
    `fresh`: the values counted now (seven queries), the snapshot left as it is."""
    if fresh:
        as_of = timezone.now()
        values = _count_figures(program, as_of)
    else:
        from .home_snapshot import home_snapshot

        snapshot = home_snapshot(program=program)
        as_of, values = snapshot.computed_at, snapshot.figures
    months, months_as_of = per_month_rows(program)
    return {
        "as_of": as_of,
        "values": values,
        "per_month": months,
        "per_month_as_of": months_as_of,
    }


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
        rates["signed_in_rate"].append(rate(row["signed_in"], row["enrolled"]))
        rates["adoption_rate"].append(rate(row["adopted"], row["enrolled"]))
        rates["objective_rate"].append(rate(row["objective_met"], row["enrolled"]))
        if row["adopted"]:
            rates["repeat_rate"].append(rate(row["repeat"], row["adopted"]))
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


def per_month_rows(program: Program) -> tuple[list[dict[str, Any]], dt.datetime | None]:
    """Sign-ins, messages and confirmed meetings per month of the programme (months cut in
    the organisation's time zone), every month of its dates, empty ones included, and when
    they were last summed (« à jour le », as the Reports tab says it; None while never
    summed, zeros until the worker's next pass). Read from the maintained rollup
    (rollups.MonthlyActivity, kept by the worker every ten minutes: one query), never from
    the events, so 10,000,000 of them cost nothing here; the definitions are the rollup's,
    the same as the Home's chart and the Reports tab."""
    rows = monthly_rows(program)
    stamps = [row.updated_at for row in rows if row.updated_at is not None]
    months = [
        {
            "month": row.month.strftime("%Y-%m"),
            "sign_ins": row.sign_ins,
            "messages": row.messages,
            "meetings_confirmed": row.meetings_confirmed,
        }
        for row in rows
    ]
    return months, max(stamps, default=None)


def per_month(program: Program) -> list[dict[str, Any]]:
    """per_month_rows' months alone (the dashboard API's `per_month`)."""
    return per_month_rows(program)[0]


# --- The people behind a figure -------------------------------------------------------------


def _with_progress(rows: QuerySet[Enrolment], program: Program) -> QuerySet[Enrolment]:
    return (
        rows.select_related("member")
        .annotate(
            confirmed_meetings=Coalesce(F("stats__confirmed_meetings"), 0),
            progress=progress_percent(max(program.objective, 1)),
            last_access=F("stats__last_access"),
        )
        .order_by("progress", "member__last_name", "member__first_name", "member_id")
    )


def progress_table(*, program: Program, side: str, limit: int = TOP) -> list[Enrolment]:
    """The `limit` lowest in progress of one side (« mentees »: the followed roles,
    « mentors »: mentors and professionals), with their progress: one query."""
    roles = MENTOR_ROLES if side == "mentors" else PARTICIPANT_ROLES
    return list(_with_progress(current_enrolments(program).filter(role__in=roles), program)[:limit])


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
        return at_risk.at_risk_rows(program=program, now=now)
    rows = current_enrolments(program)
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
