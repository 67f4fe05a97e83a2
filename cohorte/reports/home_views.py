"""The programme's Home (« Accueil ») and the people behind each of its figures, with the
actions that exist for them (« Relancer », « Écrire », « Étiqueter », CSV); the
organisation's Home (« Tableau de bord »), its running programmes side by side."""

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_response
from cohorte.core.parse import ParseError, parse_int
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Program
from cohorte.programs.selectors import program_for, programs_visible_to

from . import compare, home
from .at_risk import (
    BEHIND_SHARE,
    NO_MEETING_WEEKS,
    TIME_LEFT_SHARE,
    Reason,
    at_risk_reasons,
)
from .charts import monthly_chart, ratings_chart
from .home_snapshot import home_cohorts, home_people, home_ratings, home_snapshot
from .models import CycleSnapshot
from .rollups import monthly_rows

#: people per page of a figure's list: as many as one reminder takes (activity's selection)
PEOPLE_PAGE = 100


def _figure_rows(
    program: Program, values: dict, organisation: dict, previous: dict | None = None
) -> list[dict]:
    texts = home.figure_texts(program)
    rows = []
    for key in (
        "enrolled",
        "mentees",
        "participants",
        "mentors",
        "signed_in",
        "never_signed_in",
        "signed_in_rate",
        "adopted",
        "not_adopted",
        "adoption_rate",
        "repeat",
        "repeat_rate",
        "confirmed_meetings",
        "objective_met",
        "objective_rate",
        "unanswered_conversations",
        "open_reports",
        "bounced_emails",
        "survey_response_rate",
        "at_risk",
    ):
        text = texts[key]
        value = values[key]
        rows.append(
            {
                "key": key,
                "label": text.label,
                "definition": text.definition,
                "value": value,
                "percent": round(value * 100) if text.rate else None,
                "people": text.people,
                "organisation": organisation["values"].get(key),
                # the same figure at the end of the programme's previous cycle, if any
                "previous": _shown(previous.get(key), text.rate) if previous else None,
                "objective": values["meetings_objective"] if key == "confirmed_meetings" else None,
                "invited": values["survey_invitations"] if key == "survey_response_rate" else None,
                "answered": values["survey_responses"] if key == "survey_response_rate" else None,
            }
        )
    return rows


def _shown(value: Any, is_rate: bool) -> Any:
    if value is None:
        return None
    return f"{round(value * 100)} %" if is_rate else value


@login_required
def program_home(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Accueil »: how the programme is doing, and who needs the manager now. What is
    costly to count comes from the programme's snapshot (home_snapshot: one query, counted
    by the worker), the people of its lists afresh by id: the same few queries whatever the
    programme's size."""
    program = program_for(request.user, program_id)
    request.current_program = program
    now = timezone.now()
    snapshot = home_snapshot(program=program, now=now)
    values = snapshot.figures
    organisation = {"as_of": snapshot.computed_at, **snapshot.organisation}
    previous = CycleSnapshot.objects.filter(program=program).first()
    people = home_people(program=program, snapshot=snapshot)
    months = monthly_rows(program)
    rates = set(compare.RATES)

    def cohort_cells(values: dict) -> list[dict]:
        return [
            {
                "key": key,
                "value": values[key],
                "percent": _percent(values[key]) if key in rates else None,
            }
            for key in compare.COHORT_COLUMNS
        ]

    labels = compare.column_labels()
    reasons = at_risk_reasons(program=program, rows=people.at_risk, now=now)
    return render(
        request,
        "reports/home.html",
        {
            "program": program,
            "as_of": snapshot.computed_at,
            "values": values,
            "figures": _figure_rows(
                program, values, organisation, previous.figures if previous else None
            ),
            "previous": previous,
            "organisation": organisation,
            # drawn from the maintained monthly rollup (reports.rollups), not the raw events
            "activity_chart": monthly_chart(months, chart_id="home-activity"),
            "ratings_chart": ratings_chart(home_ratings(snapshot), chart_id="home-ratings"),
            "mentees": people.mentees,
            "mentors": people.mentors,
            "at_risk": [(row, reasons.get(row.member_id, [])) for row in people.at_risk],
            "texts": home.figure_texts(program),
            "weeks": NO_MEETING_WEEKS,
            "behind_share": round(BEHIND_SHARE * 100),
            "time_left_share": round(TIME_LEFT_SHARE * 100),
            "cache_seconds": home.CACHE_SECONDS,
            # the programme's cohorts side by side (none: no table)
            "cohort_columns": [labels[key] for key in compare.COHORT_COLUMNS],
            "cohorts": [
                (cohort, cohort_cells(values))
                for cohort, values in home_cohorts(program=program, snapshot=snapshot)
            ],
            "program_cells": cohort_cells(values),
        },
    )


def _reasons_text(reasons: list[Reason]) -> str:
    return " · ".join(reason.detail for reason in reasons)


def _csv(
    request: MemberRequest, program: Program, figure: str, query: QuerySet[Enrolment]
) -> StreamingHttpResponse:
    french = translation.get_language() != "en"
    header = [
        _("Nom"),
        _("Prénom"),
        _("Courriel"),
        _("Rôle"),
        _("Rendez-vous confirmés"),
        _("Progression (%)"),
        _("Dernier accès"),
        _("Raisons"),
    ]
    now = timezone.now()

    def lines() -> Iterator[list[object]]:
        # 500 rows at a time: the reasons' words are read for each chunk (at-risk list)
        for first in range(0, 1_000_000_000, 500):
            chunk = list(query[first : first + 500])
            if not chunk:
                return
            reasons = (
                at_risk_reasons(program=program, rows=chunk, now=now) if figure == "at_risk" else {}
            )
            for row in chunk:
                member = row.member
                yield [
                    member.last_name,
                    member.first_name,
                    member.email,
                    row.get_role_display(),
                    getattr(row, "confirmed_meetings", 0),
                    getattr(row, "progress", 0),
                    getattr(row, "last_access", None),
                    _reasons_text(reasons.get(row.member_id, [])),
                ]

    log_action(
        "export.home_people_csv", actor=request.user, target=program, data={"figure": figure}
    )
    stamp = timezone.localdate().isoformat()
    return csv_response(
        f"{figure}-{program.pk}-{stamp}.csv", header, lines(), delimiter=";" if french else ","
    )


@login_required
def program_home_people(
    request: MemberRequest, program_id: int, figure: str
) -> HttpResponse | StreamingHttpResponse:
    """The people a figure of the Home counts, with « Relancer », « Écrire » and the CSV."""
    program = program_for(request.user, program_id)
    request.current_program = program
    now = timezone.now()
    query = home.people_behind(program=program, figure=figure, now=now)
    if query is None:
        raise Http404("No such figure.")
    if request.GET.get("format") == "csv":
        return _csv(request, program, figure, query)
    number = 1
    if request.GET.get("page", "").strip():
        try:
            number = parse_int(request.GET["page"], minimum=1, maximum=1_000_000)
        except ParseError:
            number = 1
    page = Paginator(query, PEOPLE_PAGE).get_page(number)
    rows = list(page.object_list)
    reasons = at_risk_reasons(program=program, rows=rows, now=now) if figure == "at_risk" else {}
    text = home.figure_texts(program).get(figure)
    template = "reports/home_people.html"
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        template += "#people"
    return render(
        request,
        template,
        {
            "program": program,
            "figure": figure,
            "label": text.label if text else home.figure_texts(program)["enrolled"].label,
            "definition": text.definition if text else "",
            "page": page,
            "rows": [(row, reasons.get(row.member_id, [])) for row in rows],
            "show_reasons": figure == "at_risk",
            # « Étiqueter »: the organisation's tags, through programs' cohort_assign (the
            # tagging service and its audit); tagging is the administrators' (as the members
            # list and « Cohortes et tags »)
            "can_tag": request.user.is_org_admin,
            "tags": list(
                Cohort.objects.filter(
                    organisation_id=program.organisation_id, kind=CohortKind.TAG
                ).order_by("name", "pk")
            )
            if request.user.is_org_admin
            else [],
        },
    )


# --- The organisation's Home: its running programmes side by side ---------------------------


def _percent(value: int | float | None) -> int | None:
    return None if value is None else round(value * 100)


@login_required
def organisation_home(request: MemberRequest) -> HttpResponse:
    """« Tableau de bord »: the running programmes the reader may see (all the
    organisation's for an administrator, their own for a manager), their figures summed,
    then side by side with the organisation's average, sortable by any column."""
    member = request.user
    organisation = member.organisation
    if organisation is None or (
        not member.is_org_admin and not programs_visible_to(member).exists()
    ):
        raise Http404("No programme to show.")
    data = compare.organisation_figures(member=member)
    sort = request.GET.get("sort", "")
    if sort not in compare.SORTS:
        sort = "name"
    desc = request.GET.get("dir") == "desc"
    programs = compare.sorted_programs(data["programs"], data["rows"], sort, desc)
    labels = compare.column_labels()
    rates = set(compare.RATES)
    total = data["total"]
    average = home.organisation_rates(organisation=organisation)

    def cells(values: dict) -> list[dict]:
        return [
            {
                "key": key,
                "value": values.get(key),
                "percent": _percent(values.get(key)) if key in rates else None,
            }
            for key in compare.PROGRAM_COLUMNS
        ]

    columns = []
    for key in ("name", *compare.PROGRAM_COLUMNS):
        ascending_first = key == "name"
        if key == sort:
            next_dir = "asc" if desc else "desc"
            aria = "descending" if desc else "ascending"
        else:
            next_dir = "asc" if ascending_first else "desc"
            aria = ""
        columns.append(
            {
                "key": key,
                "label": labels[key],
                "query": f"?sort={key}&dir={next_dir}",
                "aria_sort": aria,
                "num": key != "name",
            }
        )
    return render(
        request,
        "reports/organisation_home.html",
        {
            "as_of": data["as_of"],
            "cache_seconds": home.CACHE_SECONDS,
            "whole_organisation": member.is_org_admin,
            "figures": [
                {
                    "key": key,
                    "label": labels[key],
                    "definition": compare.ORGANISATION_DEFINITIONS[key],
                    "value": total[key],
                    "percent": _percent(total[key]) if key in rates else None,
                }
                for key in compare.PROGRAM_COLUMNS
            ],
            "programs_count": len(programs),
            "columns": columns,
            "rows": [(program, cells(data["rows"][program.pk])) for program in programs],
            "total": cells(total),
            "average": cells(average["values"]),
            "average_programs": average["programs"],
            "sort": sort,
            "desc": desc,
        },
    )
