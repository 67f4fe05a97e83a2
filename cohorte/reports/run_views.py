"""« Générer des rapports » for a programme: the six prepared reports with a button per
format, the runs under way with their progress (the partial polls itself), and the ones
done with their download link. The link checks again, at each download, that the
requester may still see the programme (404 otherwise) and that the file has not expired.

The custom reports live on the same page: each saved one with its owner, private or
shared, its schedule; « Modifier » re-opens « Rapport personnalisé » with its definition,
« Supprimer » asks first, « Programmer l'envoi » sets or stops its sending. Only the owner
(or an administrator) edits or deletes one, only the owner schedules it; a report of a
programme one does not manage does not exist (404)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.files import job_file_expired, private_file_response
from cohorte.core.parse import ParseError, parse_id, parse_ids, parse_int
from cohorte.programs.selectors import program_for

from . import custom, exporters, runs
from .models import SavedReport, Schedule
from .prepared import PREPARED, Scope, filter_choices, filters_described, filters_problems

#: the runs the page lists
RUNS_SHOWN = 10


def _context(request: MemberRequest, program) -> dict:
    listed = list(runs.runs_of(by=request.user).filter(payload__program_id=program.pk)[:RUNS_SHOWN])
    now = timezone.now()
    for job in listed:
        job.expired = job_file_expired(job, now=now)  # type: ignore[attr-defined]
        job.report_label = (  # type: ignore[attr-defined]
            job.result.get("title", "")
            if job.payload.get("saved_id")
            else PREPARED[job.payload["name"]].label
            if job.payload.get("name") in PREPARED
            else ""
        )
    saved_reports = list(custom.saved_reports_visible_to(request.user, program=program))
    described = filters_described(
        [(PREPARED[s.report], s.filters) for s in saved_reports if s.report in PREPARED],
        organisation=program.organisation,
    )
    for saved in saved_reports:
        saved.may_change = custom.may_change(request.user, saved)  # type: ignore[attr-defined]
        saved.is_own = saved.owner_id == request.user.pk  # type: ignore[attr-defined]
        saved.filters_words = (  # type: ignore[attr-defined]
            described.pop(0) if saved.report in PREPARED else []
        )
    return {
        "program": program,
        "reports": list(PREPARED.values()),
        "saved_reports": saved_reports,
        "formats": exporters.FORMATS,
        "runs": listed,
        "polling": any(not job.is_finished for job in listed),
    }


@login_required
def generate(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    template = "reports/generate.html"
    if request.headers.get("HX-Request"):
        template += "#runs"
    return render(request, template, _context(request, program))


def _refused(request: MemberRequest, program: Any, text: str) -> HttpResponse:
    """A run that cannot start: the page again with the reason on top (htmx is told to
    load it whole, since it does not show an error's answer)."""
    messages.error(request, text)
    url = reverse("reports:generate", args=[program.pk])
    if request.headers.get("HX-Request"):
        return HttpResponse(status=200, headers={"HX-Redirect": url})
    return redirect(url)


@login_required
@require_POST
def generate_run(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    name = request.POST.get("name", "")
    format = request.POST.get("format", "")
    saved = None
    if name.startswith(custom.PREFIX):
        saved = custom.saved_report_of(request.user, name)
        if saved is None or saved.program_id != program.pk:
            raise Http404("No such report.")
        name = saved.report
    if name not in PREPARED:
        raise Http404("No such report.")
    if format not in exporters.FORMATS:
        return _refused(request, program, _("Choisissez un format : CSV, Excel ou PDF."))
    if saved is not None:
        # its filters again, as they stand today (a cohort gone, a field made private)
        problems = filters_problems(
            PREPARED[name], saved.filters, organisation=program.organisation, by=request.user
        )
        if problems:
            text = _("« %(name)s » ne peut plus être lancé tel quel : %(problems)s Modifiez-le.")
            return _refused(
                request, program, text % {"name": saved.name, "problems": " ".join(problems)}
            )
    runs.report_run_request(
        name=name,
        format=format,
        by=request.user,
        program=program,
        filters=saved.filters if saved is not None else None,
        columns=saved.columns if saved is not None else None,
        saved=saved,
    )
    if request.headers.get("HX-Request"):
        return render(request, "reports/generate.html#runs", _context(request, program))
    return redirect("reports:generate", program_id=program.pk)


@login_required
def run_file(request: MemberRequest, run_id: int) -> HttpResponse | FileResponse:
    job = runs.run_for(by=request.user, run_id=run_id)
    if job is None:
        raise Http404("No such report run.")
    if not job.file and not job.result.get("file_expired"):
        raise Http404("No file yet.")
    if job_file_expired(job, now=timezone.now()) or not job.file:
        return render(request, "core/job_file_expired.html", {"job": job}, status=410)
    name = job.result.get("filename") or (job.file.name or "").rpartition("/")[2]
    log_action("export.job_file", actor=request.user, target=job, data={"file": name})
    return private_file_response(job.file, filename=name)


def _saved_or_404(request: MemberRequest, program, saved_id: int) -> SavedReport:
    """A saved report of this programme the member may see (own, or shared), else 404."""
    saved = (
        custom.saved_reports_visible_to(request.user, program=program).filter(pk=saved_id).first()
    )
    if saved is None:
        raise Http404("No such report.")
    return saved


def _chosen_order(
    request: MemberRequest, columns: list, saved: SavedReport | None
) -> tuple[list[str], dict[str, int]]:
    """The ticked columns in the order their numbers say (the page's order without
    JavaScript; with it, the numbers follow the rows moved up and down)."""
    order = {column.key: index + 1 for index, column in enumerate(columns)}
    if request.method != "POST":
        if saved is None:
            return list(order), order
        chosen = [key for key in saved.columns if key in order]
        rest = [key for key in order if key not in chosen]
        return chosen, {key: index + 1 for index, key in enumerate(chosen + rest)}
    chosen = [key for key in dict.fromkeys(request.POST.getlist("columns")) if key in order]
    unknown = [key for key in request.POST.getlist("columns") if key not in order]
    for key in order:
        try:
            order[key] = parse_int(request.POST.get(f"order-{key}"), minimum=1, maximum=999)
        except ParseError:
            pass  # no number: keep the report's own place
    place = {key: index for index, key in enumerate(order)}
    chosen.sort(key=lambda key: (order[key], place[key]))
    return chosen + unknown, order


@login_required
@require_http_methods(["GET", "POST"])
def generate_custom(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Rapport personnalisé »: a prepared report's columns ticked and put in the order
    wanted (« Monter » / « Descendre », or the numbers without JavaScript), the members
    list's advanced filters, saved under a name, private or shared with the organisation's
    managers; `filter-<key>` in the query string fills a filter in. With `saved`, the
    same page edits a saved one (its owner, or an administrator)."""
    program = program_for(request.user, program_id)
    data = request.POST if request.method == "POST" else request.GET
    saved = None
    if data.get("saved"):
        try:
            saved_id = parse_id(data.get("saved"))
        except ParseError as error:
            raise Http404("No such report.") from error
        saved = _saved_or_404(request, program, saved_id)
        if not custom.may_change(request.user, saved):
            raise PermissionDenied(_("Seul l'auteur du rapport, ou un administrateur, le modifie."))
        name = saved.report
    else:
        name = data.get("report", "members")
    prepared = PREPARED.get(name)
    if prepared is None:
        raise Http404("No such report.")
    scope = Scope(organisation=program.organisation, program=program, by=request.user)
    columns = prepared.columns(scope)
    errors: dict[str, list[str]] = {}
    status = 200
    chosen, order = _chosen_order(request, columns, saved)
    values: dict[str, str] = dict(saved.filters) if saved is not None else {}
    if saved is None and request.method == "GET":
        # a link may carry filters to start from (« ?filter-cohort=12 »), checked on saving
        values = {key: request.GET.get(f"filter-{key}", "") for key in prepared.filters}
    title = saved.name if saved is not None else ""
    shared = saved.shared if saved is not None else False
    if request.method == "POST":
        values = {key: request.POST.get(f"filter-{key}", "") for key in prepared.filters}
        title = request.POST.get("name", "")
        shared = request.POST.get("shared") == "1"
        try:
            if saved is not None:
                custom.saved_report_update(
                    saved=saved,
                    by=request.user,
                    name=title,
                    columns=chosen,
                    filters=values,
                    shared=shared,
                )
                messages.success(request, _("Rapport « %(name)s » modifié.") % {"name": saved.name})
            else:
                made = custom.saved_report_save(
                    by=request.user,
                    name=title,
                    report=name,
                    program=program,
                    columns=chosen,
                    filters=values,
                    shared=shared,
                )
                messages.success(
                    request, _("Rapport « %(name)s » enregistré.") % {"name": made.name}
                )
        except ValidationError as error:
            errors, status = error.message_dict, 400
        else:
            return redirect("reports:generate", program_id=program.pk)
    rows = sorted(
        ((column, column.key in chosen, order[column.key]) for column in columns),
        key=lambda row: row[2],
    )
    offered = filter_choices(prepared, organisation=program.organisation, by=request.user)
    context = {
        "program": program,
        "reports": list(PREPARED.values()),
        "report": prepared,
        "saved": saved,
        "columns": rows,
        "filters": [
            (spec, options, "".join(ch for ch in str(values.get(spec.key, "")) if ch != "\x00"))
            for spec, options in offered
            # a list with nothing to choose from (no tag yet) is left out, unless set
            if options
            or spec.kind in ("date", "percent")
            or values.get(spec.key)
            or (spec.kind == "text" and any(o for s, o in offered if s.key == spec.needs))
        ],
        "errors": errors,
        "name": "".join(ch for ch in title if ch != "\x00"),
        "shared": shared,
    }
    return render(request, "reports/generate_custom.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def saved_delete(request: MemberRequest, program_id: int, saved_id: int) -> HttpResponse:
    """A saved report deleted after a confirmation step: its owner, or an administrator."""
    program = program_for(request.user, program_id)
    saved = _saved_or_404(request, program, saved_id)
    if not custom.may_change(request.user, saved):
        raise PermissionDenied(_("Seul l'auteur du rapport, ou un administrateur, le supprime."))
    if request.method == "POST":
        custom.saved_report_delete(saved=saved, by=request.user)
        messages.success(request, _("Rapport « %(name)s » supprimé.") % {"name": saved.name})
        return redirect("reports:generate", program_id=program.pk)
    return render(request, "reports/saved_delete.html", {"program": program, "saved": saved})


def schedule_recipients(program) -> list[Member]:
    """Who a programme's report may be e-mailed to: its managers and the organisation's
    administrators, active ones."""
    return list(
        Member.objects.filter(organisation_id=program.organisation_id, is_active=True)
        .filter(Q(managed_programs=program) | Q(is_org_admin=True))
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


WEEKDAYS = [
    _lazy("lundi"),
    _lazy("mardi"),
    _lazy("mercredi"),
    _lazy("jeudi"),
    _lazy("vendredi"),
    _lazy("samedi"),
    _lazy("dimanche"),
]


@login_required
@require_http_methods(["GET", "POST"])
def saved_schedule(request: MemberRequest, program_id: int, saved_id: int) -> HttpResponse:
    """« Programmer l'envoi »: weekly or monthly, on a chosen day, to chosen managers of the
    programme (or administrators), in a format; « Arrêter l'envoi ». Its owner only."""
    program = program_for(request.user, program_id)
    saved = _saved_or_404(request, program, saved_id)
    if saved.owner_id != request.user.pk:
        raise PermissionDenied(_("Seul l'auteur du rapport en programme l'envoi."))
    candidates = schedule_recipients(program)
    errors: dict[str, list[str]] = {}
    status = 200
    # a first schedule: its owner ticked, to start with
    chosen_ids = set(saved.recipients.values_list("pk", flat=True)) or {request.user.pk}
    form: dict[str, Any] = {
        "schedule": saved.schedule or Schedule.WEEKLY,
        "format": saved.schedule_format or exporters.XLSX,
        "weekday": saved.schedule_day if saved.schedule == Schedule.WEEKLY else 0,
        "monthday": saved.schedule_day if saved.schedule == Schedule.MONTHLY else 1,
    }
    if request.method == "POST":
        stop = "stop" in request.POST
        schedule = "" if stop else request.POST.get("schedule", "")
        form["schedule"] = schedule
        form["format"] = request.POST.get("format", "")
        day: int | None = None
        people: list[Member] = []
        if not stop:
            if schedule not in (Schedule.WEEKLY, Schedule.MONTHLY):
                errors["schedule"] = [_("Choisissez chaque semaine ou chaque mois.")]
            field = "weekday" if schedule == Schedule.WEEKLY else "monthday"
            try:
                day = parse_int(request.POST.get(field), minimum=0, maximum=custom.MONTH_DAY_MAX)
                form[field] = day
            except ParseError as error:
                errors["day"] = [_("Jour : %(reason)s.") % {"reason": error.message}]
            try:
                chosen_ids = set(parse_ids(request.POST.getlist("recipients"), limit=500))
            except ParseError as error:
                errors["recipients"] = [
                    _("Destinataires : %(reason)s.") % {"reason": error.message}
                ]
                chosen_ids = set()
            by_id = {member.pk: member for member in candidates}
            if chosen_ids - set(by_id):
                errors.setdefault("recipients", []).append(
                    _(
                        "Choisissez les destinataires parmi les responsables du programme "
                        "et les administrateurs."
                    )
                )
            people = [by_id[pk] for pk in chosen_ids if pk in by_id]
        if not errors:
            try:
                custom.saved_report_schedule(
                    saved=saved,
                    by=request.user,
                    schedule=schedule,
                    format=str(form["format"]) if not stop else saved.schedule_format or "xlsx",
                    recipients=people,
                    day=day,
                )
            except ValidationError as error:
                errors = error.message_dict
        if errors:
            status = 400
        else:
            if stop:
                messages.success(request, _("Envoi de « %(name)s » arrêté.") % {"name": saved.name})
            else:
                messages.success(
                    request, _("Envoi de « %(name)s » programmé.") % {"name": saved.name}
                )
            return redirect("reports:generate", program_id=program.pk)
    context = {
        "program": program,
        "saved": saved,
        "candidates": [(member, member.pk in chosen_ids) for member in candidates],
        "errors": errors,
        "form": form,
        "formats": exporters.FORMATS,
        "weekdays": list(enumerate(WEEKDAYS)),
        "monthdays": list(range(1, custom.MONTH_DAY_MAX + 1)),
        "schedules": [
            (Schedule.WEEKLY, Schedule.WEEKLY.label),
            (Schedule.MONTHLY, Schedule.MONTHLY.label),
        ],
    }
    return render(request, "reports/saved_schedule.html", context, status=status)
