"""The Members tab: the list and everything an administrator does to people."""

from collections.abc import Callable
from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.core.audit import log_action
from cohorte.core.exports import csv_response
from cohorte.core.files import private_file_response
from cohorte.core.jobs import job_create, job_enqueue
from cohorte.core.models import AuditEntry, Job
from cohorte.core.moments import format_moment
from cohorte.core.parse import safe_next
from cohorte.core.tabular import TableError, read_csv

from . import services, tasks
from .forms import CustomFieldForm, MemberFilterForm, ProfileForm, SavedFilterForm
from .http import MemberRequest
from .models import CustomField, Member, MemberRole, SavedMemberFilter
from .reports import member_report_rows
from .selectors import (
    MEMBER_SORTS,
    MemberFilters,
    custom_fields_of,
    enrolments_visible_to,
    filter_choices,
    may_administer_members,
    member_page,
    member_rows,
    members_visible_to,
    saved_filters_of,
)

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_IMPORT_BYTES = 15 * 1024 * 1024


def _require_admin(request: MemberRequest) -> int:
    """The administrator's organisation id; anyone else gets 404."""
    if not may_administer_members(request.user) or request.user.organisation_id is None:
        raise Http404("Not an administrator.")
    return request.user.organisation_id


def _organisation_id(request: MemberRequest) -> int:
    if request.user.organisation_id is None:
        raise Http404("No organisation.")
    return request.user.organisation_id


def _member_or_404(request: MemberRequest, member_id: int) -> Member:
    return get_object_or_404(members_visible_to(request.user), pk=member_id)


def _filter_form(request: MemberRequest, data: QueryDict | dict) -> MemberFilterForm:
    organisation_id = _organisation_id(request)
    choices = filter_choices(organisation_id)
    organisation = request.user.organisation
    programs = (
        organisation.programs.all()
        if organisation and request.user.is_org_admin
        else request.user.managed_programs.all()
    )
    fields = custom_fields_of(organisation_id).filter(searchable=True)
    if not request.user.is_org_admin:
        fields = fields.filter(admin_only=False)
    return MemberFilterForm(
        data,
        custom_fields=fields,
        industries=choices["industries"],
        job_titles=choices["job_titles"],
        cohorts=organisation.cohorts.all() if organisation else [],
        programs=programs,
    )


def _state(form: MemberFilterForm) -> tuple[MemberFilters, dict]:
    form.is_valid()
    data = form.cleaned_data  # the valid filters apply; the others are shown as errors
    filters = MemberFilters(
        q=data.get("q") or "",
        role=data.get("role") or "",
        custom_field=data.get("custom_field"),
        option=data.get("option") or "",
        industries=data.get("industries") or [],
        job_titles=data.get("job_titles") or [],
        completion_below=data.get("completion_below"),
        created_after=data.get("created_after"),
        current_positions=bool(data.get("current_positions")),
        active=data.get("active") or "",
        recent=data.get("recent") or "",
        relationship=data.get("relationship") or "",
        cohort=data.get("cohort"),
        program=data.get("program"),
        archived=bool(data.get("archived")),
    )
    sort = data.get("sort") if data.get("sort") in MEMBER_SORTS else "name"
    state = {
        "sort": sort,
        "order": data.get("order") or "asc",
        "page": data.get("page") or 1,
        "size": data.get("size") or 25,
    }
    return filters, state


#: stands for a member's id in a reversed URL, then replaced by each row's (see _table_rows)
_ID = 987_654_321_987


def _link_maker(name: str, *args: object) -> Callable[[int], str]:
    """reverse() once; each row's URL is then the same with its id in place of _ID."""
    head, tail = reverse(name, args=[*args, _ID]).rsplit(str(_ID), 1)
    return lambda pk: f"{head}{pk}{tail}"


def _table_rows(members: list[Member], program_id: int | None = None) -> list[dict]:
    """What each row of the list shows, ready to print. The template engine looks a name
    up in a dict at once, but tries `member[name]` on a model first and catches the
    failure: 40 such lookups a row, the date formats, the role's label and five reverse()
    calls made 100 rows cost more than reading them (profiled: 2,200 calls a row)."""
    makers = {
        name: _link_maker(f"members:{name}")
        for name in ("profile", "active", "message", "archive", "delete")
    }
    remove = (
        _link_maker("activity:participant-remove", program_id)
        if program_id
        else lambda pk: makers["profile"](pk) + "#programmes"
    )
    roles = {value: str(label) for value, label in MemberRole.choices}
    rows = []
    for member in members:
        name = member.full_name
        rows.append(
            {
                "pk": str(member.pk),
                "full_name": name,
                "email": member.email,
                "archived": member.archived_at is not None,
                "profile_completion": str(member.profile_completion),
                "last_access": format_moment(member.last_access, "SHORT_DATETIME_FORMAT"),
                "relationships_count": str(member.relationships_count),
                "cohorts": [cohort.name for cohort in member.cohorts.all()],
                "matches_count": str(member.matches_count),
                "role": roles.get(member.role, member.role),
                "mentoring_hours": member.mentoring_hours,
                "date_joined": format_moment(member.date_joined, "SHORT_DATE_FORMAT"),
                "deactivated_at": format_moment(member.deactivated_at, "SHORT_DATE_FORMAT"),
                "is_active": member.is_active,
                "administrator": member.administrator.full_name if member.administrator else "",
                "select_label": _("Sélectionner %(name)s") % {"name": name},
                "active_label": _("%(name)s actif") % {"name": name},
                "links": {key: make(member.pk) for key, make in makers.items()}
                | {"remove": remove(member.pk)},
            }
        )
    return rows


def _saved_query(request: MemberRequest) -> str:
    params = [(key, value) for key, value in request.GET.lists() if key in MemberFilterForm.SAVED]
    return urlencode([(key, v) for key, values in params for v in values if v])


@login_required
def member_list(request: MemberRequest) -> HttpResponse:
    """« Membres »: find people, see how complete and how active they are, act on them."""
    members = members_visible_to(request.user)
    if not request.user.is_org_admin and not request.user.managed_programs.exists():
        raise Http404("No members to see.")
    form = _filter_form(request, request.GET)
    filters, state = _state(form)
    rows = member_rows(members=members, filters=filters, sort=state["sort"], order=state["order"])
    page = member_page(
        rows,
        page=state["page"],
        size=state["size"],
        sort=state["sort"],
        order=state["order"],
        organisation_id=request.user.organisation_id,
    )
    organisation_id = _organisation_id(request)
    is_admin = may_administer_members(request.user)
    context = {
        "form": form,
        "page": page,
        "rows": _table_rows(cast(list[Member], page.object_list), filters.program),
        "state": state,
        "filters": filters,
        "is_admin": is_admin,
        "saved_filters": saved_filters_of(organisation_id)[:20] if is_admin else [],
        "saved_query": _saved_query(request),
        "cohorts": request.user.organisation.cohorts.all() if request.user.organisation else [],
        "advanced_open": any(
            request.GET.get(name)
            for name in (
                "industries",
                "job_titles",
                "completion_below",
                "created_after",
                "current_positions",
                "active",
                "recent",
                "relationship",
                "cohort",
            )
        ),  # fmt: skip
    }
    template = "accounts/members.html"
    if request.headers.get("HX-Target") == "members" and not request.headers.get(
        "HX-History-Restore-Request"
    ):
        template += "#members"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@login_required
def members_report(request: MemberRequest) -> StreamingHttpResponse:
    """« Rapport complet »: the list as filtered, every column of the profile, re-importable."""
    form = _filter_form(request, request.GET)
    filters, state = _state(form)
    rows = member_rows(
        members=members_visible_to(request.user),
        filters=filters,
        sort=state["sort"],
        order=state["order"],
    )
    fields = list(custom_fields_of(_organisation_id(request)).filter(in_reports=True))
    if not request.user.is_org_admin:
        fields = [field for field in fields if not field.admin_only]
    header, lines = member_report_rows(rows, fields)
    log_action("export.members_csv", actor=request.user, data={"filters": request.GET.urlencode()})
    french = translation.get_language() == "fr"
    return csv_response("membres.csv", header, lines, delimiter=";" if french else ",")


@login_required
@require_POST
def member_active(request: MemberRequest, member_id: int) -> HttpResponse:
    """The « Actif » box: htmx posts it, the member is switched at once."""
    _require_admin(request)
    member = _member_or_404(request, member_id)
    active = request.POST.get("active") == "1"
    error = ""
    try:
        services.member_set_active(member=member, active=active, by=request.user)
    except ValidationError as problem:
        error = " ".join(problem.messages)
        member.refresh_from_db()
    if request.headers.get("HX-Request"):
        return render(
            request,
            "accounts/members.html#active-cell",
            {"row": _table_rows([member])[0], "error": error, "is_admin": True},
        )
    if error:
        messages.error(request, error)
    return redirect(safe_next(request, reverse("members:list")))


@login_required
def member_profile(request: MemberRequest, member_id: int) -> HttpResponse:
    """A member's profile; an administrator may edit it."""
    member = _member_or_404(request, member_id)
    is_admin = may_administer_members(request.user)
    fields = custom_fields_of(member.organisation_id or 0)
    form = ProfileForm(
        request.POST or None,
        request.FILES or None,
        instance=member,
        custom_fields=fields,
        custom_values=services.profile_fields_of(member),
        is_admin=is_admin,
    )
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if form.is_valid():
            data = {
                name: form.cleaned_data[name]
                for name in [*form.Meta.fields, "administrator", "hired_on"]
                if name in form.cleaned_data
            }
            services.member_profile_update(
                member=Member.objects.get(pk=member.pk),
                by=request.user,
                data=data,
                custom=form.custom_data(),
            )
            messages.success(request, _("Profil enregistré."))
            return redirect("members:profile", member_id=member.pk)
    history = AuditEntry.objects.filter(
        target_type="accounts.member", target_id=str(member.pk)
    ).select_related("actor")[:20]
    return render(
        request,
        "accounts/member_profile.html",
        {
            "member": member,
            "form": form,
            "is_admin": is_admin,
            "history": history,
            "enrolments": enrolments_visible_to(request.user, member),
        },
    )


@login_required
def member_message(request: MemberRequest, member_id: int) -> HttpResponse:
    """« Envoyer un message »: a plain e-mail for now (the messaging issue brings the outbox)."""
    member = _member_or_404(request, member_id)
    if request.method == "POST":
        subject = request.POST.get("subject", "").strip()
        body = request.POST.get("body", "").strip()
        if not subject or not body:
            messages.error(request, _("Le sujet et le message sont obligatoires."))
        else:
            EmailMessage(
                subject=subject,
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[member.email],
                reply_to=[request.user.email],
            ).send()
            log_action(
                "member.messaged", actor=request.user, target=member, data={"subject": subject}
            )
            messages.success(request, _("Message envoyé à %(name)s.") % {"name": member.full_name})
            return redirect("members:list")
    return render(request, "accounts/member_message.html", {"member": member})


@login_required
@require_POST
def member_archive(request: MemberRequest, member_id: int) -> HttpResponse:
    _require_admin(request)
    member = _member_or_404(request, member_id)
    try:
        if request.POST.get("undo") == "1":
            services.member_unarchive(member=member, by=request.user)
            messages.success(
                request, _("%(name)s n'est plus archivé·e.") % {"name": member.full_name}
            )
        else:
            services.member_archive(member=member, by=request.user)
            messages.success(
                request,
                _("%(name)s est archivé·e : ses données sont conservées, sa connexion est bloquée.")
                % {"name": member.full_name},
            )
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
    return redirect(safe_next(request, reverse("members:list")))


@login_required
def member_delete(request: MemberRequest, member_id: int) -> HttpResponse:
    """Delete for good, after a confirmation that names what will be lost."""
    _require_admin(request)
    member = _member_or_404(request, member_id)
    refusal = services.deletion_refusal(member, request.user)
    if request.method == "POST" and not refusal:
        name = member.full_name
        services.member_delete(member=member, by=request.user)
        messages.success(request, _("%(name)s a été supprimé·e définitivement.") % {"name": name})
        return redirect("members:list")
    return render(
        request,
        "accounts/member_delete.html",
        {"member": member, "summary": services.member_deletion_summary(member), "refusal": refusal},
    )


# --- Saved filters ---------------------------------------------------------------------------


@login_required
@require_POST
def saved_filter_create(request: MemberRequest) -> HttpResponse:
    organisation_id = _require_admin(request)
    form = SavedFilterForm(request.POST)
    # only the list's own filters are kept, re-encoded: a saved filter is never more than that
    submitted = QueryDict(request.POST.get("query", ""))
    query = urlencode(
        [
            (key, value)
            for key in MemberFilterForm.SAVED
            for value in submitted.getlist(key)
            if value
        ]
    )
    if form.is_valid():
        saved = SavedMemberFilter.objects.create(
            organisation_id=organisation_id,
            name=form.cleaned_data["name"],
            query=query,
            created_by=request.user,
        )
        log_action("saved_filter.created", actor=request.user, target=saved, data={"query": query})
        messages.success(request, _("Filtre « %(name)s » sauvegardé.") % {"name": saved.name})
    else:
        messages.error(request, _("Donnez un nom au filtre."))
    return redirect(reverse("members:list") + (f"?{query}" if query else ""))


@login_required
def saved_filter_apply(request: MemberRequest, filter_id: int) -> HttpResponse:
    """A saved filter is the administrators': anyone else gets 404, like another
    organisation's filter."""
    saved = get_object_or_404(saved_filters_of(_require_admin(request)), pk=filter_id)
    return redirect(reverse("members:list") + (f"?{saved.query}" if saved.query else ""))


@login_required
@require_POST
def saved_filter_edit(request: MemberRequest, filter_id: int) -> HttpResponse:
    organisation_id = _require_admin(request)
    saved = get_object_or_404(saved_filters_of(organisation_id), pk=filter_id)
    if request.POST.get("delete") == "1":
        log_action("saved_filter.deleted", actor=request.user, target=saved)
        saved.delete()
        messages.success(request, _("Filtre supprimé."))
    else:
        form = SavedFilterForm(request.POST)
        if form.is_valid():
            old = saved.name
            saved.name = form.cleaned_data["name"]
            saved.save(update_fields=["name"])
            log_action("saved_filter.renamed", actor=request.user, target=saved, data={"old": old})
            messages.success(request, _("Filtre renommé."))
    return redirect("members:saved-filters")


@login_required
def saved_filters(request: MemberRequest) -> HttpResponse:
    organisation_id = _require_admin(request)
    return render(
        request, "accounts/saved_filters.html", {"saved_filters": saved_filters_of(organisation_id)}
    )


# --- Bulk deactivation from a file ------------------------------------------------------------


def _uploaded_bytes(request: MemberRequest, limit: int) -> tuple[str, bytes]:
    """The uploaded file's name and content, or TableError with the reason (none, too big)."""
    upload = request.FILES.get("file")
    if upload is None:
        raise TableError(_("Choisissez un fichier."))
    if (upload.size or 0) > limit:
        raise TableError(
            _("Le fichier dépasse %(limit)d Mo : découpez-le en plusieurs fichiers.")
            % {"limit": limit // (1024 * 1024)}
        )
    return upload.name or "", upload.read()


def _emails_from_file(data: bytes) -> list[tuple[int, str]]:
    header, rows = read_csv(data)
    names = [cell.strip().strip('"').lower() for cell in header]
    column = next(
        (i for i, name in enumerate(names) if name in ("courriel", "email", "e-mail")), None
    )
    if column is None:
        raise TableError(
            _(
                "La première ligne doit contenir une colonne « courriel » ou « email » "
                "(trouvé : %(found)s)."
            )
            % {"found": ", ".join(header) or "—"}
        )
    if not rows:
        raise TableError(_("Le fichier ne contient aucun courriel."))
    return [(line, row[column] if column < len(row) else "") for line, row in rows]


@login_required
def members_deactivate(request: MemberRequest) -> HttpResponse:
    """« Désactiver les membres »: a CSV of e-mails; nothing changes until it is clean."""
    organisation_id = _require_admin(request)
    errors: list[services.LineError] = []
    problem = ""
    if request.method == "POST":
        try:
            emails = _emails_from_file(_uploaded_bytes(request, MAX_UPLOAD_BYTES)[1])
            count = services.members_deactivate(
                organisation_id=organisation_id, emails=emails, by=request.user
            )
        except TableError as error:
            problem = str(error)
        except services.BatchRefused as refused:
            errors = refused.errors
            problem = _(
                "Aucun membre n'a été désactivé : corrigez ces lignes puis renvoyez le fichier."
            )
        else:
            messages.success(
                request,
                translation.ngettext(
                    "%(count)d membre désactivé.", "%(count)d membres désactivés.", count
                )
                % {"count": count},
            )
            return redirect(reverse("members:list") + "?active=no")
    return render(
        request, "accounts/members_deactivate.html", {"errors": errors, "problem": problem}
    )


@login_required
def members_deactivate_sample(request: MemberRequest) -> StreamingHttpResponse:
    """« Télécharger un échantillon »: the template to fill in."""
    _require_admin(request)
    return csv_response(
        "desactivation-echantillon.csv",
        ["courriel"],
        iter([["prenom.nom@exemple.org"], ["autre.membre@exemple.org"]]),
        delimiter=";",
    )


# --- Custom fields and completion ------------------------------------------------------------


@login_required
def custom_fields(request: MemberRequest, field_id: int | None = None) -> HttpResponse:
    """« Gérer les champs personnalisés » and « Recalculer valeur du profil »."""
    organisation_id = _require_admin(request)
    instance = (
        get_object_or_404(CustomField, pk=field_id, organisation_id=organisation_id)
        if field_id
        else CustomField(organisation_id=organisation_id)
    )
    form = CustomFieldForm(request.POST or None, instance=instance)
    if request.method == "POST" and request.POST.get("delete") == "1" and instance.pk:
        services.custom_field_delete(field=instance, by=request.user)
        messages.success(
            request,
            _("Champ « %(name)s » supprimé avec ses réponses.") % {"name": instance.name},
        )
        return redirect("members:custom-fields")
    if request.method == "POST" and form.is_valid():
        field = form.save(commit=False)
        field.organisation_id = organisation_id
        services.custom_field_save(field=field, by=request.user)
        messages.success(
            request,
            _(
                "Champ « %(name)s » enregistré. Les pourcentages d'achèvement suivront après "
                "« Recalculer valeur du profil »."
            )
            % {"name": field.name},
        )
        return redirect("members:custom-fields")
    return render(
        request,
        "accounts/custom_fields.html",
        {"form": form, "fields": custom_fields_of(organisation_id), "editing": instance},
    )


@login_required
@require_POST
def completion_recompute(request: MemberRequest) -> HttpResponse:
    _require_admin(request)
    with transaction.atomic():
        job = job_create(
            kind="completion_recompute",
            by=request.user,
            organisation_id=request.user.organisation_id,
        )
        job_enqueue(job, tasks.completion_recompute)
    return redirect("core:job", job_id=job.pk)


# --- Import ---------------------------------------------------------------------------------


@login_required
def members_import(request: MemberRequest) -> HttpResponse:
    """« Importer des membres », step 1: the file."""
    organisation_id = _require_admin(request)
    problem = ""
    if request.method == "POST":
        try:
            filename, data = _uploaded_bytes(request, MAX_IMPORT_BYTES)
            job = services.members_import_prepare(
                organisation_id=organisation_id, by=request.user, filename=filename, data=data
            )
        except TableError as error:
            problem = str(error)
        else:
            if job is None:
                problem = _("Le fichier ne contient aucune ligne de membre.")
            else:
                return redirect("members:import-map", job_id=job.pk)
    return render(request, "accounts/members_import.html", {"problem": problem})


@login_required
def members_import_map(request: MemberRequest, job_id: int) -> HttpResponse:
    """Step 2: map columns, preview the first rows with their problems, then import."""
    organisation_id = _require_admin(request)
    job = get_object_or_404(
        Job,
        pk=job_id,
        kind="members_import",
        organisation_id=organisation_id,
        status="queued",
    )
    if "sample" not in job.payload:
        raise Http404("Rows already used.")
    fields = list(custom_fields_of(organisation_id))
    targets = tasks.import_targets(fields)
    header = job.payload["header"]
    sample = job.payload["sample"]
    count = job.payload["count"]
    if request.method == "POST":
        allowed = {target for target, _label in targets}
        mapping = {
            str(i): choice if (choice := request.POST.get(f"col_{i}", "")) in allowed else ""
            for i in range(len(header))
        }
    else:
        mapping = job.payload.get("mapping") or tasks.guess_mapping(header, fields)
    preview_rows = list(tasks.mapped_rows(sample, mapping))
    _checked, preview_errors = services.import_check(
        organisation_id=organisation_id, rows=preview_rows
    )
    mapped = set(mapping.values()) - {""}
    problem = (
        ""
        if "email" in mapped
        else _("Associez une colonne au courriel : il identifie chaque membre.")
    )
    if request.method == "POST" and request.POST.get("go") == "1" and not problem:
        payload = {**job.payload, "mapping": mapping, "invite": request.POST.get("invite") == "1"}
        with transaction.atomic():
            Job.objects.filter(pk=job.pk).update(payload=payload, total=count * 2)
            job_enqueue(job, tasks.members_import)
        return redirect("core:job", job_id=job.pk)
    labels = dict(targets)
    return render(
        request,
        "accounts/members_import_map.html",
        {
            "job": job,
            "columns": [
                (
                    i,
                    name,
                    mapping.get(str(i), ""),
                    [row[i] if i < len(row) else "" for _, row in sample[:3]],
                )
                for i, name in enumerate(header)
            ],
            "targets": targets,
            "preview": [
                (line, {labels.get(k, k): v for k, v in cells.items() if v})
                for line, cells in preview_rows
            ],
            "preview_errors": preview_errors,
            "problem": problem,
            "count": count,
        },
    )


# --- Photos ---------------------------------------------------------------------------------


@login_required
def member_photo(request: MemberRequest, member_id: int) -> FileResponse:
    """A member's photo, for anyone signed in to the same organisation (the tables and
    profiles show it to all of them); nobody else, and no other file, gets a byte."""
    member = get_object_or_404(
        Member.objects.exclude(photo=""), pk=member_id, organisation_id=_organisation_id(request)
    )
    name = f"photo-{member.pk}.{(member.photo.name or '').rpartition('.')[2]}"
    return private_file_response(
        member.photo, filename=name, as_attachment=False, cache_seconds=86400
    )
