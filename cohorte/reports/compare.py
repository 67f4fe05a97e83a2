"""Figures side by side: the organisation's Home (every running programme the reader may see
in one row, their sum, and the organisation's average) and a programme's cohorts compared.

The same rules as a programme's Home (home.py), counted for many at once: one grouped query
per kind of figure (people and meetings from the maintained counters, unanswered
conversations, survey answers), and one query for what the Home counts from its own lists
(open reports, e-mails bounced, people at risk: the Home's querysets, one row per programme
in a UNION ALL), never a query per programme or per cohort. A test compares each
programme's row with its own Home, figure by figure. The organisation's Home reads those
rows from the programmes' Home snapshots (one query) and counts only the programmes that
have none yet.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, F, Func, IntegerField, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorte.accounts.models import Member
from cohorte.activity.models import Conversation
from cohorte.activity.selectors import open_reports
from cohorte.programs.models import (
    PARTICIPANT_ROLES,
    Cohort,
    CohortKind,
    Enrolment,
    Program,
    Role,
)
from cohorte.programs.selectors import programs_visible_to
from cohorte.surveys.models import Invitation

from .at_risk import at_risk_rows
from .home import COMPARED
from .home_rules import MENTOR_ROLES, bounced_emails, rate

#: the counts of a row (summed across rows for the total)
COUNTS = (
    "enrolled",
    "mentees",
    "participants",
    "mentors",
    "signed_in",
    "adopted",
    "repeat",
    "confirmed_meetings",
    "objective_met",
    "unanswered_conversations",
    "open_reports",
    "survey_invitations",
    "survey_responses",
    "bounced_emails",
    "at_risk",
)
#: the rates of a row, computed from its counts (the total's from the summed counts)
RATES = (*COMPARED, "survey_response_rate")
#: the columns of the organisation's compare table, in order
PROGRAM_COLUMNS = (
    "enrolled",
    "signed_in_rate",
    "adopted",
    "adoption_rate",
    "repeat_rate",
    "confirmed_meetings",
    "objective_rate",
    "unanswered_conversations",
    "open_reports",
    "bounced_emails",
    "at_risk",
    "survey_response_rate",
)
#: the columns of a programme's cohorts compared (people's figures only)
COHORT_COLUMNS = (
    "enrolled",
    "signed_in_rate",
    "adopted",
    "adoption_rate",
    "repeat_rate",
    "confirmed_meetings",
    "objective_rate",
)
#: the organisation's figures in the API (GET /api/dashboard), in this order
API_FIGURES = (
    "enrolled",
    "participants",
    "mentees",
    "mentors",
    "signed_in",
    "signed_in_rate",
    "adopted",
    "adoption_rate",
    "repeat",
    "repeat_rate",
    "confirmed_meetings",
    "objective_met",
    "objective_rate",
    "unanswered_conversations",
    "open_reports",
    "survey_invitations",
    "survey_responses",
    "survey_response_rate",
    "bounced_emails",
    "at_risk",
)
#: sortable columns: the columns and the programme's name
SORTS = frozenset({"name", *PROGRAM_COLUMNS})


def with_rates(counts: dict[str, int]) -> dict[str, int | float]:
    """A row's counts and the rates drawn from them (the programme Home's definitions)."""
    return {
        **counts,
        "signed_in_rate": rate(counts["signed_in"], counts["enrolled"]),
        "adoption_rate": rate(counts["adopted"], counts["enrolled"]),
        "repeat_rate": rate(counts["repeat"], counts["adopted"]),
        "objective_rate": rate(counts["objective_met"], counts["enrolled"]),
        "survey_response_rate": rate(
            counts.get("survey_responses", 0), counts.get("survey_invitations", 0)
        ),
    }


def _people_counts(rows: QuerySet[Enrolment], by: str) -> dict[Any, dict[str, int]]:
    """The people's figures of the current enrolments `rows`, grouped by `by`: one query.
    The objective is each programme's own (at least one meeting), as on its Home."""
    followed = Q(role__in=PARTICIPANT_ROLES)
    objective = Greatest(F("program__objective"), 1)
    grouped = (
        rows.filter(ended_at__isnull=True)
        .order_by()
        .values(by)
        .annotate(
            enrolled=Count("pk", filter=followed),
            participants=Count("pk", filter=Q(role__in=[Role.PARTICIPANT, Role.COLLABORATOR])),
            mentees=Count("pk", filter=Q(role=Role.MENTEE)),
            mentors=Count("pk", filter=Q(role__in=MENTOR_ROLES)),
            signed_in=Count("pk", filter=followed & Q(stats__last_access__isnull=False)),
            adopted=Count("pk", filter=followed & Q(stats__confirmed_meetings__gte=1)),
            repeat=Count("pk", filter=followed & Q(stats__confirmed_meetings__gte=2)),
            objective_met=Count(
                "pk", filter=followed & Q(stats__confirmed_meetings__gte=objective)
            ),
            confirmed_meetings=Coalesce(Sum("stats__confirmed_meetings", filter=followed), 0),
        )
    )
    return {row.pop(by): row for row in grouped}


def _flag_counts(programs: Sequence[Program], now: dt.datetime) -> dict[int, dict[str, int]]:
    """Unanswered conversations and survey answers of these programmes, one grouped query
    each (open reports: _home_list_counts). The rule is activity.selectors'
    unanswered_conversations (each programme's own number of days), written for many."""
    ids = [program.pk for program in programs]
    found: dict[int, dict[str, int]] = {
        pk: {
            "unanswered_conversations": 0,
            "survey_invitations": 0,
            "survey_responses": 0,
        }
        for pk in ids
    }
    if not ids:
        return found
    by_days: dict[int, list[int]] = {}
    for program in programs:
        by_days.setdefault(min(program.unanswered_after_days, 3650), []).append(program.pk)
    waited = Q()
    for days, same in by_days.items():
        waited |= Q(program_id__in=same, last_message_at__lt=now - dt.timedelta(days=days))
    for program_id, n in (
        Conversation.objects.filter(waited)
        .filter(
            Q(last_reply_at__isnull=True) | Q(last_reply_at__lt=F("last_message_at")),
            Q(followed_up_at__isnull=True) | Q(followed_up_at__lt=F("last_message_at")),
        )
        .order_by()
        .values("program_id")
        .annotate(n=Count("pk"))
        .values_list("program_id", "n")
    ):
        found[program_id]["unanswered_conversations"] = n
    for row in (
        Invitation.objects.filter(survey__program_id__in=ids)
        .order_by()
        .values("survey__program_id")
        .annotate(invited=Count("pk"), answered=Count("response"))
    ):
        mine = found[row["survey__program_id"]]
        mine["survey_invitations"], mine["survey_responses"] = row["invited"], row["answered"]
    return found


#: programmes read by one query of _home_list_counts (a UNION ALL of one row each: SQLite
#: takes at most 500 parts)
HOME_LISTS_CHUNK = 200


def _count_of(rows: QuerySet) -> Subquery:
    """COUNT(*) of `rows` as a scalar subquery (no GROUP BY: always one row)."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def _home_list_counts(programs: Sequence[Program], now: dt.datetime) -> dict[int, dict[str, int]]:
    """Open reports, e-mails bounced and people at risk of each programme, by the
    programme Home's own querysets (activity.selectors.open_reports,
    home_rules.bounced_emails, at_risk.at_risk_rows: each programme's dates, objective and
    delays), counted as one row per programme in one query per HOME_LISTS_CHUNK
    programmes."""
    found = {
        program.pk: {"open_reports": 0, "bounced_emails": 0, "at_risk": 0} for program in programs
    }
    for first in range(0, len(programs), HOME_LISTS_CHUNK):
        parts = [
            Program.objects.filter(pk=program.pk)
            .order_by()
            .annotate(
                n_reports=_count_of(open_reports(program=program)),
                n_bounced=_count_of(bounced_emails(program=program)),
                n_at_risk=_count_of(at_risk_rows(program=program, now=now)),
            )
            .values_list("pk", "n_reports", "n_bounced", "n_at_risk")
            for program in programs[first : first + HOME_LISTS_CHUNK]
        ]
        query = parts[0].union(*parts[1:], all=True).order_by() if len(parts) > 1 else parts[0]
        for pk, reports, bounced, risky in query:
            found[pk] = {"open_reports": reports, "bounced_emails": bounced, "at_risk": risky}
    return found


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def program_rows(
    *, programs: Sequence[Program], now: dt.datetime | None = None
) -> dict[int, dict[str, int | float]]:
    """Every figure of each programme, by programme id: three grouped queries, and one
    per HOME_LISTS_CHUNK programmes for the open reports, bounced e-mails and people at
    risk."""
    now = now or timezone.now()
    ids = [program.pk for program in programs]
    people = _people_counts(Enrolment.objects.filter(program_id__in=ids), "program_id")
    flags = _flag_counts(programs, now)
    lists = _home_list_counts(programs, now)
    return {
        pk: with_rates({**_zero(), **people.get(pk, {}), **flags[pk], **lists[pk]}) for pk in ids
    }


def total_row(rows: Iterable[dict[str, int | float]]) -> dict[str, int | float]:
    """The counts summed and the rates drawn from the sums (a person enrolled in two
    programmes counts in each)."""
    total = _zero()
    for row in rows:
        for key in COUNTS:
            total[key] += int(row[key])
    return with_rates(total)


def running_programs_of(member: Member) -> list[Program]:
    """The running programmes (today between their dates, in the organisation's zone) this
    member may see: all the organisation's for an administrator, their own for a manager."""
    if member.organisation is None:
        return []
    today = timezone.now().astimezone(member.organisation.tzinfo).date()
    return list(
        programs_visible_to(member)
        .filter(start_date__lte=today, end_date__gte=today)
        .order_by("name", "pk")
    )


def organisation_figures(*, member: Member, fresh: bool = False) -> dict[str, Any]:
    """The organisation's Home as this member may see it: {"as_of", "programs" (running,
    visible), "rows" {id: figures}, "total"}. Each programme's row is read from its Home
    snapshot (home_snapshot: the same figures, counted by the worker), one query for them
    all, whatever their size; a stale one is served and its refresh queued, as the
    programme's Home does; the programmes without one are counted here (program_rows) and
    their snapshot queued. `as_of` is the oldest row's. `fresh` counts every row here."""
    programs = running_programs_of(member)
    now = timezone.now()
    if fresh:
        rows = program_rows(programs=programs, now=now)
        as_of = now
    else:
        rows, as_of = _snapshot_rows(programs, now)
    return {"as_of": as_of, "rows": rows, "total": total_row(rows.values()), "programs": programs}


def _snapshot_rows(
    programs: Sequence[Program], now: dt.datetime
) -> tuple[dict[int, dict[str, int | float]], dt.datetime]:
    from . import home_snapshot
    from .models import HomeSnapshot

    snapshots = {
        snapshot.program_id: snapshot
        for snapshot in HomeSnapshot.objects.filter(
            program__in=[program.pk for program in programs], version=home_snapshot.VERSION
        ).only("program_id", "computed_at", "figures", "refresh_queued_at")
    }
    missing = [program for program in programs if program.pk not in snapshots]
    counted = program_rows(programs=missing, now=now) if missing else {}
    rows: dict[int, dict[str, int | float]] = {}
    as_of = now
    for program in programs:
        snapshot = snapshots.get(program.pk)
        if snapshot is None:
            rows[program.pk] = counted[program.pk]
            home_snapshot.home_snapshot_ask(program=program)
            continue
        figures = snapshot.figures
        rows[program.pk] = with_rates({key: int(figures.get(key, 0)) for key in COUNTS})
        as_of = min(as_of, snapshot.computed_at)
        if home_snapshot.is_stale(snapshot, now):
            home_snapshot.home_snapshot_refresh_queue(program=program, snapshot=snapshot, now=now)
    return rows, as_of


def sorted_programs(
    programs: Sequence[Program], rows: dict[int, dict[str, int | float]], sort: str, desc: bool
) -> list[Program]:
    """The programmes in the order of one column (`sort` one of SORTS, else by name);
    ties by name."""
    by_name = sorted(programs, key=lambda p: (p.name.casefold(), p.pk))
    if sort not in SORTS or sort == "name":
        return list(reversed(by_name)) if desc else by_name
    return sorted(by_name, key=lambda p: rows[p.pk][sort], reverse=desc)


# --- A programme's cohorts side by side -----------------------------------------------------


def cohort_rows(*, program: Program) -> list[tuple[Cohort, dict[str, int | float]]]:
    """The organisation's cohorts (not tags) that hold someone enrolled in the programme
    now, each with the people's figures of its members in this programme: two queries. A
    member of two cohorts counts in each."""
    people = _people_counts(
        Enrolment.objects.filter(program=program, member__cohorts__kind=CohortKind.COHORT),
        "member__cohorts",
    )
    if not people:
        return []
    cohorts = Cohort.objects.filter(pk__in=list(people), organisation_id=program.organisation_id)
    return [
        (cohort, with_rates({**_zero(), **people[cohort.pk]}))
        for cohort in cohorts.order_by("name", "pk")
    ]


# --- Words ----------------------------------------------------------------------------------


def column_labels() -> dict[str, str]:
    """The short name of each figure (a column's heading), in the current language."""
    return {
        "name": _("Programme"),
        "enrolled": _("Inscrits suivis"),
        "signed_in_rate": _("Taux de connexion"),
        "adopted": _("Avec au moins une rencontre"),
        "adoption_rate": _("Taux d'adoption"),
        "repeat_rate": _("Taux de rencontres répétées"),
        "confirmed_meetings": _("Rencontres confirmées"),
        "objective_rate": _("Part à l'objectif"),
        "unanswered_conversations": _("Conversations sans réponse"),
        "open_reports": _("Signalements à traiter"),
        "bounced_emails": _("Courriels retournés"),
        "at_risk": _("À suivre maintenant"),
        "survey_response_rate": _("Taux de réponse aux sondages"),
        "participants": _("Participants"),
        "mentees": _("Mentorés"),
        "mentors": _("Mentors et professionnels"),
        "signed_in": _("Connectés au moins une fois"),
        "repeat": _("Avec deux rencontres ou plus"),
        "objective_met": _("Objectif atteint"),
        "survey_invitations": _("Invitations aux sondages"),
        "survey_responses": _("Réponses aux sondages"),
    }


ORGANISATION_DEFINITIONS: dict[str, Promise] = {
    "enrolled": gettext_lazy(
        "Personnes inscrites aujourd'hui comme participant, mentoré ou collaborateur dans ces "
        "programmes, inscription non terminée ; une personne inscrite à deux programmes "
        "compte dans chacun."
    ),
    "participants": gettext_lazy("Inscrits comme participant ou collaborateur."),
    "mentees": gettext_lazy("Inscrits comme mentoré."),
    "mentors": gettext_lazy("Inscrits comme mentor ou professionnel."),
    "signed_in": gettext_lazy(
        "Inscrits suivis ayant ouvert leur programme ou s'étant connectés à la plateforme au "
        "moins une fois entre les dates de leur programme."
    ),
    "repeat": gettext_lazy(
        "Inscrits suivis ayant au moins deux rencontres tenues et confirmées entre les dates "
        "de leur programme."
    ),
    "objective_met": gettext_lazy(
        "Inscrits suivis ayant atteint l'objectif de rencontres de leur programme "
        "(progression à 100 %)."
    ),
    "survey_invitations": gettext_lazy(
        "Personnes invitées à répondre à un sondage de ces programmes (une par sondage)."
    ),
    "survey_responses": gettext_lazy("Invitations auxquelles la personne a répondu."),
    "signed_in_rate": gettext_lazy(
        "Inscrits suivis connectés au moins une fois entre les dates de leur programme ÷ "
        "inscrits suivis."
    ),
    "adopted": gettext_lazy(
        "Inscrits suivis ayant au moins une rencontre tenue et confirmée entre les dates de "
        "leur programme ; une rencontre annulée, non tenue ou seulement programmée ne compte "
        "pas."
    ),
    "adoption_rate": gettext_lazy(
        "Inscrits suivis avec au moins une rencontre ÷ inscrits suivis (de 0 à 100 %)."
    ),
    "repeat_rate": gettext_lazy(
        "Inscrits avec deux rencontres ou plus ÷ inscrits avec au moins une rencontre."
    ),
    "confirmed_meetings": gettext_lazy(
        "Somme des rencontres tenues et confirmées des inscrits suivis entre les dates de leur "
        "programme (une rencontre compte pour chacun de ses participants)."
    ),
    "objective_rate": gettext_lazy(
        "Inscrits suivis ayant atteint l'objectif de rencontres de leur programme ÷ inscrits "
        "suivis."
    ),
    "unanswered_conversations": gettext_lazy(
        "Conversations dont le dernier message du participant attend sans réponse ni suivi "
        "depuis plus que le nombre de jours fixé par son programme."
    ),
    "open_reports": gettext_lazy(
        "Signalements de participants que personne n'a encore marqués « Traité »."
    ),
    "survey_response_rate": gettext_lazy(
        "Réponses reçues ÷ invitations envoyées, pour tous les sondages de ces programmes."
    ),
    "bounced_emails": gettext_lazy(
        "Courriels envoyés aux inscrits actuels entre les dates de leur programme et revenus "
        "avec le statut « Retourné » (registre des courriels), comme sur l'accueil de chaque "
        "programme."
    ),
    "at_risk": gettext_lazy(
        "Personnes de la liste « À suivre maintenant » de chaque programme (jamais connecté, "
        "en retard sur l'objectif, conversation sans réponse, signalé, courriel retourné, pas "
        "de rencontre récente) ; une personne inscrite à deux programmes compte dans chacun."
    ),
}
