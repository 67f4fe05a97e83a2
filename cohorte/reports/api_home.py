"""The programme's Home through the API: its figures with their definitions (in the
caller's language) and its at-risk list with the reasons; and the organisation's
(GET /api/dashboard): the running programmes the caller may see, summed and one by one."""

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema

from cohorte.core.api import ApiPage, ErrorOut
from cohorte.core.parse import ApiId
from cohorte.programs.selectors import program_for

from . import compare, home
from .at_risk import at_risk_reasons, at_risk_rows
from .models import CycleSnapshot

router = Router(tags=["accueil du programme"])
organisation_router = Router(tags=["tableau de bord"])


class FigureOut(Schema):
    key: str
    value: int | float
    definition: str
    label: str


class MonthOut(Schema):
    #: YYYY-MM, in the organisation's time zone
    month: str
    sign_ins: int
    messages: int
    meetings_confirmed: int


class PreviousFigureOut(Schema):
    key: str
    value: int | float


class PreviousCycleOut(Schema):
    #: when that cycle was ended (« Terminer le cycle »): its figures as they stood then
    ended_at: dt.datetime
    start_date: dt.date
    end_date: dt.date
    figures: list[PreviousFigureOut]


class DashboardOut(Schema):
    program_id: int
    #: when the figures were counted: the Home's snapshot, counted again by the worker
    #: behind a read that finds it over a minute old (that read gets it as it was)
    as_of: dt.datetime
    figures: list[FigureOut]
    per_month: list[MonthOut]
    #: when the monthly rollup behind per_month was last summed (null: not yet, zeros)
    per_month_as_of: dt.datetime | None
    #: the programme's previous cycle, to compare with (null: no cycle ended yet)
    previous_cycle: PreviousCycleOut | None = None


class ReasonOut(Schema):
    code: str
    detail: str


class AtRiskOut(Schema):
    member_id: int
    email: str
    name: str
    role: str
    confirmed_meetings: int
    progress: int
    reasons: list[ReasonOut]


class AtRiskPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[AtRiskOut]


class AtRiskQuery(Schema):
    page: ApiPage = 1
    page_size: int = Field(100, ge=1, le=1000)


@router.get("/{int:program_id}/dashboard", response={200: DashboardOut, 404: ErrorOut})
def dashboard(request: Any, program_id: ApiId) -> dict[str, Any]:
    """The Home's headline figures: each `{key, value, definition}`; rates from 0 to 1."""
    program = program_for(request.auth, program_id)
    figures = home.home_figures(program=program)
    texts = home.figure_texts(program)
    values = figures["values"]
    return {
        "program_id": program.pk,
        "as_of": figures["as_of"],
        "figures": [
            {
                "key": key,
                "value": values[key],
                "label": str(texts[key].label),
                "definition": str(texts[key].definition),
            }
            for key in home.API_FIGURES
        ],
        "per_month": figures["per_month"],
        "per_month_as_of": figures["per_month_as_of"],
        "previous_cycle": _previous_cycle(program),
    }


def _previous_cycle(program: Any) -> dict[str, Any] | None:
    previous = CycleSnapshot.objects.filter(program=program).first()
    if previous is None:
        return None
    return {
        "ended_at": previous.ended_at,
        "start_date": previous.start_date,
        "end_date": previous.end_date,
        "figures": [
            {"key": key, "value": previous.figures[key]}
            for key in home.API_FIGURES
            if isinstance(previous.figures.get(key), int | float)
        ],
    }


@router.get("/{int:program_id}/at-risk", response={200: AtRiskPage, 400: ErrorOut, 404: ErrorOut})
def at_risk(request: Any, program_id: ApiId, query: Query[AtRiskQuery]) -> dict[str, Any]:
    """The people who need attention now, lowest progress first, each with its reasons."""
    program = program_for(request.auth, program_id)
    now = timezone.now()
    rows_query = at_risk_rows(program=program, now=now)
    first = (query.page - 1) * query.page_size
    rows = list(rows_query[first : first + query.page_size])
    reasons = at_risk_reasons(program=program, rows=rows, now=now)
    return {
        "count": rows_query.count(),
        "page": query.page,
        "page_size": query.page_size,
        "results": [
            {
                "member_id": row.member_id,
                "email": row.member.email,
                "name": row.member.full_name,
                "role": row.role,
                "confirmed_meetings": getattr(row, "confirmed_meetings", 0),
                "progress": getattr(row, "progress", 0),
                "reasons": [
                    {"code": reason.code, "detail": reason.detail}
                    for reason in reasons.get(row.member_id, [])
                ],
            }
            for row in rows
        ],
    }


class ProgramFiguresOut(Schema):
    program_id: int
    name: str
    figures: list[FigureOut]


class OrganisationDashboardOut(Schema):
    #: when the figures were counted: the oldest of the programmes' Home snapshots read
    as_of: dt.datetime
    #: the running programmes the caller may see, summed (a person in two counts twice)
    figures: list[FigureOut]
    #: each of them, by name
    programs: list[ProgramFiguresOut]
    #: the mean of each compared rate over the organisation's running programmes
    organisation_average: list[FigureOut]


@organisation_router.get("", response={200: OrganisationDashboardOut})
def organisation_dashboard(request: Any) -> dict[str, Any]:
    """The organisation's Home: the running programmes the caller may see (all the
    organisation's for an administrator, their own for a manager), their figures summed,
    then one by one; each figure `{key, value, definition}`, rates from 0 to 1."""
    member = request.auth
    data = compare.organisation_figures(member=member)
    labels = compare.column_labels()
    texts_total = compare.ORGANISATION_DEFINITIONS
    programs = []
    for program in data["programs"]:
        texts = home.figure_texts(program)
        values = data["rows"][program.pk]
        programs.append(
            {
                "program_id": program.pk,
                "name": program.name,
                "figures": [
                    {
                        "key": key,
                        "value": values[key],
                        "label": str(texts[key].label),
                        "definition": str(texts[key].definition),
                    }
                    for key in compare.API_FIGURES
                ],
            }
        )
    average = (
        home.organisation_rates(organisation=member.organisation)
        if member.organisation_id
        else {"values": {}}
    )
    return {
        "as_of": data["as_of"],
        "figures": [
            {
                "key": key,
                "value": data["total"][key],
                "label": labels[key],
                "definition": str(texts_total[key]),
            }
            for key in compare.API_FIGURES
        ],
        "programs": programs,
        "organisation_average": [
            {
                "key": key,
                "value": value,
                "label": labels[key],
                "definition": str(texts_total[key]),
            }
            for key, value in average["values"].items()
            if value is not None
        ],
    }
