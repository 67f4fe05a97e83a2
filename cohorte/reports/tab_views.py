"""The « Rapports » tab of a programme (seed 001): sessions held per month, mentee adoption
and repeat-session rates, mentors' load, activity per month and the ratings, filtered by
cohort, tag and dates; and the CSVs of bookings and members, downloadable at any time
with the same filters."""

import dataclasses
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.http import MemberRequest
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_response
from cohorte.core.parse import ParseError, parse_date, parse_id
from cohorte.programs.models import Cohort, CohortKind, Program
from cohorte.programs.selectors import program_for

from . import charts, rollups
from .tab_selectors import (
    ReportFilters,
    adoption,
    bookings_rows,
    engagement,
    members_rows,
    mentors_load,
    most_engaged,
    rating_counts,
)


def _filters(
    request: MemberRequest, program: Program, cohorts: list[Cohort]
) -> tuple[ReportFilters, list[str], QueryDict]:
    """The filters from the URL, each read on its own: a value that cannot be used is
    ignored and said so above the figures (never a server error). Also the query string
    of the values kept, for the CSV links."""
    params = request.GET
    errors: list[str] = []
    kept = QueryDict(mutable=True)

    def refuse(label: str, reason: str) -> None:
        errors.append(
            _("%(field)s : %(reason)s (valeur ignorée).") % {"field": label, "reason": reason}
        )

    groups: dict[str, Cohort | None] = {"cohort": None, "tag": None}
    for name, kind, label in (
        ("cohort", CohortKind.COHORT, _("Cohorte")),
        ("tag", CohortKind.TAG, _("Étiquette")),
    ):
        value = params.get(name, "")
        if not value:
            continue
        try:
            group_id = parse_id(value)
        except ParseError as error:
            refuse(label, error.message)
            continue
        group = next((c for c in cohorts if c.pk == group_id and c.kind == kind), None)
        if group is None:
            refuse(label, _("introuvable dans votre organisation"))
            continue
        groups[name] = group
        kept[name] = str(group.pk)
    days: dict[str, dt.date | None] = {"from": None, "to": None}
    for name, label in (("from", _("Du")), ("to", _("Au"))):
        value = params.get(name, "")
        if not value:
            continue
        try:
            days[name] = parse_date(value)
        except ParseError as error:
            refuse(label, error.message)
    first, last = days["from"], days["to"]
    if first and last and last < first:
        refuse(_("Au"), _("la date de fin précède la date de début"))
        last = None
    for name, day in (("from", first), ("to", last)):
        if day is not None:
            kept[name] = day.isoformat()
    filters = ReportFilters(cohort=groups["cohort"], tag=groups["tag"], first=first, last=last)
    return filters, errors, kept


def _cohorts_asked(request: MemberRequest, program: Program) -> list[Cohort]:
    """The organisation's cohorts and tags when the URL names one (a CSV's filters)."""
    if not (request.GET.get("cohort") or request.GET.get("tag")):
        return []
    return list(Cohort.objects.filter(organisation=program.organisation))


def _percent(rate: float) -> str:
    return _("%(n)s %%") % {"n": charts.number(round(100 * rate))}


@login_required
def reports_tab(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    request.current_program = program  # type: ignore[attr-defined]
    cohorts = list(Cohort.objects.filter(organisation=program.organisation))
    filters, errors, kept = _filters(request, program, cohorts)
    months = rollups.window_months(program)
    if filters.first is not None:
        months = [m for m in months if m >= rollups.month_of(filters.first)]
    if filters.last is not None:
        months = [m for m in months if m <= rollups.month_of(filters.last)]
    as_of: dt.datetime | None
    if filters.by_people:
        # a cohort's activity is not summed ahead: counted now, over its members' events
        start, end = filters.bounds(program)
        counts = rollups.monthly_counts(
            program=program, start=start, end=end, members=filters.members()
        )
        rows = rollups.rows_from_counts(months, counts)
        as_of = timezone.now()
    else:
        rows = rollups.monthly_rows(program, first=filters.first, last=filters.last)
        stamps = [row.updated_at for row in rows if row.updated_at is not None]
        as_of = max(stamps) if stamps else None
    figures = adoption(program=program, filters=filters)
    loads, more_mentors = mentors_load(program=program, filters=filters)
    context = {
        "program": program,
        "cohorts": [c for c in cohorts if c.kind == CohortKind.COHORT],
        "tags": [c for c in cohorts if c.kind == CohortKind.TAG],
        "filters": filters,
        "errors": errors,
        "query": kept.urlencode(),
        "rows": rows,
        "as_of": as_of,
        "whole_months": not filters.by_people
        and (
            (filters.first is not None and filters.first.day != 1)
            or (filters.last is not None and (filters.last + dt.timedelta(days=1)).day != 1)
        ),
        "held_total": sum(row.meetings_held for row in rows),
        "confirmed_total": sum(row.meetings_confirmed for row in rows),
        "figures": figures,
        "adoption_rate": _percent(figures.adoption_rate),
        "repeat_rate": _percent(figures.repeat_rate),
        "loads": loads,
        "more_mentors": more_mentors,
        "activity_chart": charts.monthly_chart(rows, chart_id="reports-activity"),
        "ratings_chart": charts.ratings_chart(
            rating_counts(program=program, filters=filters), chart_id="reports-ratings"
        ),
    }
    return render(request, "reports/tab.html", context)


@login_required
def activity_tab(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Rapports › Activité » (seed 001: « un aperçu encore plus approfondi de
    l'engagement »): how far participants and mentors went step by step, how long ago each
    last came, and the participants furthest along — with the tab's cohort and tag."""
    program = program_for(request.user, program_id)
    request.current_program = program  # type: ignore[attr-defined]
    cohorts = list(Cohort.objects.filter(organisation=program.organisation))
    filters, errors, kept = _filters(request, program, cohorts)
    # the steps are read from the counters, over the programme's dates: dates do not apply
    kept.pop("from", None)
    kept.pop("to", None)
    filters = dataclasses.replace(filters, first=None, last=None)
    context = {
        "program": program,
        "cohorts": [c for c in cohorts if c.kind == CohortKind.COHORT],
        "tags": [c for c in cohorts if c.kind == CohortKind.TAG],
        "filters": filters,
        "errors": errors,
        "query": kept.urlencode(),
        "engagement": engagement(program=program, filters=filters, now=timezone.now()),
        "engaged": most_engaged(program=program, filters=filters),
    }
    return render(request, "reports/tab_activity.html", context)


def _csv(
    request: MemberRequest, program: Program, action: str, name: str, header, rows
) -> StreamingHttpResponse:
    log_action(
        action, actor=request.user, target=program, data={"filters": request.GET.urlencode()}
    )
    french = translation.get_language() == "fr"
    stamp = timezone.localdate().isoformat()
    return csv_response(
        f"{name}-{program.pk}-{stamp}.csv", header, rows, delimiter=";" if french else ","
    )


@login_required
def bookings_csv(request: MemberRequest, program_id: int) -> StreamingHttpResponse:
    """Every booking (meeting) of the programme, with the tab's filters."""
    program = program_for(request.user, program_id)
    filters, _errors, _kept = _filters(request, program, _cohorts_asked(request, program))
    header, rows = bookings_rows(program=program, filters=filters)
    return _csv(request, program, "export.bookings_csv", "reservations", header, rows)


@login_required
def members_csv(request: MemberRequest, program_id: int) -> StreamingHttpResponse:
    """The programme's enrolled members with role, progress and last access."""
    program = program_for(request.user, program_id)
    filters, _errors, _kept = _filters(request, program, _cohorts_asked(request, program))
    header, rows = members_rows(program=program, filters=filters)
    return _csv(request, program, "export.program_members_csv", "membres", header, rows)
