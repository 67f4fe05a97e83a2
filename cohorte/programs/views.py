from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.accounts.models import Member
from cohorte.core.parse import ParseError, parse_id, parse_ids, safe_next

from . import services
from .brand_forms import ProgramInfoForm
from .branding import program_brand_update
from .forms import CohortForm, GroupForm, ParticipantAddForm, ProgramForm
from .models import Cohort, Group, Organisation, Program
from .selectors import groups_of, program_for, programs_visible_to


def _id_or_none(value: object) -> int | None:
    """An id from a link's query string to preselect a choice; anything else preselects none."""
    try:
        return parse_id(value)
    except ParseError:
        return None


def _admin_organisation(request: MemberRequest) -> Organisation:
    """The organisation an administrator administers; anyone else is refused."""
    if not request.user.is_org_admin or request.user.organisation is None:
        raise PermissionDenied
    return request.user.organisation


@login_required
def home(request: MemberRequest) -> HttpResponse:
    """Managers land on their programmes; members on their own space."""
    programs = programs_visible_to(request.user)
    if not programs.exists() and not request.user.is_org_admin:
        return redirect("space:home")
    groups = groups_of(request.user).select_related("parent") if request.user.is_org_admin else []
    return render(request, "programs/home.html", {"programs": programs, "groups": groups})


@login_required
def program_create(request: MemberRequest) -> HttpResponse:
    organisation = _admin_organisation(request)
    form = ProgramForm(
        request.POST or None,
        organisation=organisation,
        initial={"group": _id_or_none(request.GET.get("group"))},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        program = services.program_create(
            organisation=organisation,
            by=request.user,
            name=data["name"],
            kind=data["kind"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            objective=data["objective"],
            group=data["group"],
            description=data["description"],
            managers=data["managers"],
            unanswered_after_days=data["unanswered_after_days"],
        )
        messages.success(request, _("Programme « %(name)s » créé.") % {"name": program.name})
        return redirect("activity:program", program_id=program.pk)
    return render(request, "programs/program_form.html", {"form": form})


@login_required
def program_edit(request: MemberRequest, program_id: int) -> HttpResponse:
    """The Programme tab, « Info »: the programme's settings (administrators) and its
    slogan and « à propos » in French and English (its managers too)."""
    program = program_for(request.user, program_id)
    request.current_program = program
    # The forms validate copies: `program` keeps the old values, so the service sees what moved.
    form = (
        ProgramForm(
            request.POST or None,
            instance=Program.objects.get(pk=program.pk),
            organisation=program.organisation,
        )
        if request.user.is_org_admin
        else None
    )
    info = ProgramInfoForm(request.POST or None, instance=Program.objects.get(pk=program.pk))
    if request.method == "POST" and info.is_valid() and (form is None or form.is_valid()):
        changes = {name: form.cleaned_data[name] for name in form.changed_data} if form else {}
        try:
            with transaction.atomic():
                if changes:
                    services.program_update(program=program, by=request.user, **changes)
                if info.changed_data:
                    program_brand_update(
                        program=program,
                        by=request.user,
                        **{name: info.cleaned_data[name] for name in info.changed_data},
                    )
        except ValidationError as error:
            (form or info).add_error(None, error)
        else:
            messages.success(request, _("Programme enregistré."))
            return redirect("activity:program", program_id=program.pk)
    return render(
        request,
        "programs/program_form.html",
        {
            "form": form,
            "info": info,
            "info_languages": [
                ("fr", info["slogan_fr"], info["about_fr"]),
                ("en", info["slogan_en"], info["about_en"]),
            ],
            "program": program,
            "tab": "info",
        },
    )


def _group_form_view(request: MemberRequest, group: Group | None) -> HttpResponse:
    organisation = _admin_organisation(request)
    initial = (
        {"name": group.name, "parent": group.parent_id}
        if group
        else {"parent": _id_or_none(request.GET.get("parent"))}
    )
    form = GroupForm(request.POST or None, organisation=organisation, group=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_save(
                organisation=organisation,
                by=request.user,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                group=group,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Groupe enregistré."))
            return redirect("programs:home")
    return render(request, "programs/group_form.html", {"form": form, "group": group})


@login_required
def group_create(request: MemberRequest) -> HttpResponse:
    return _group_form_view(request, None)


@login_required
def group_edit(request: MemberRequest, group_id: int) -> HttpResponse:
    group = get_object_or_404(Group, pk=group_id, organisation_id=request.user.organisation_id)
    return _group_form_view(request, group)


@login_required
def participant_add(request: MemberRequest, program_id: int) -> HttpResponse:
    """Enrol one person by e-mail; the member is created if new."""
    program = program_for(request.user, program_id)
    request.current_program = program
    form = ParticipantAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            enrolment, created = services.enrolment_add(program=program, by=request.user, **data)
        except ValidationError as error:
            form.add_error("email", error.message_dict.get("email", error.messages))
        else:
            name = enrolment.member.full_name
            if created:
                messages.success(request, _("%(name)s a rejoint le programme.") % {"name": name})
            else:
                messages.info(
                    request, _("%(name)s fait déjà partie du programme.") % {"name": name}
                )
            return redirect("activity:program", program_id=program.pk)
    return render(request, "programs/participant_add.html", {"form": form, "program": program})


@login_required
def cohorts(request: MemberRequest, cohort_id: int | None = None) -> HttpResponse:
    """« Cohortes et tags »: made ahead of time or later, filled from the members list."""
    if not request.user.is_org_admin or request.user.organisation is None:
        raise Http404("Administrators only.")
    organisation = request.user.organisation
    cohort = (
        get_object_or_404(Cohort, pk=cohort_id, organisation=organisation) if cohort_id else None
    )
    form = CohortForm(
        request.POST or None, initial={"name": cohort.name, "kind": cohort.kind} if cohort else None
    )
    if request.method == "POST":
        if request.POST.get("delete") == "1" and cohort is not None:
            services.cohort_delete(cohort=cohort, by=request.user)
            messages.success(request, _("« %(name)s » supprimé.") % {"name": cohort.name})
            return redirect("programs:cohorts")
        if form.is_valid():
            try:
                services.cohort_save(
                    organisation=organisation, by=request.user, cohort=cohort, **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Enregistré."))
                return redirect("programs:cohorts")
    listing = organisation.cohorts.annotate(size=Count("members")).order_by("kind", "name")
    return render(
        request, "programs/cohorts.html", {"form": form, "cohorts": listing, "editing": cohort}
    )


@login_required
@require_POST
def cohort_assign(request: MemberRequest) -> HttpResponse:
    """Bulk from the members list's selection: add to (or remove from) a cohort or tag."""
    if not request.user.is_org_admin:
        raise Http404("Administrators only.")
    target = safe_next(request, reverse("members:list"))
    try:
        cohort_id = parse_id(request.POST.get("cohort"))
        ids = parse_ids(request.POST.getlist("member"))
    except ParseError as error:
        messages.error(request, _("Sélection invalide : %(reason)s.") % {"reason": error.message})
        return redirect(target)
    cohort = get_object_or_404(Cohort, pk=cohort_id, organisation=request.user.organisation)
    members = Member.objects.filter(pk__in=ids, organisation=request.user.organisation)
    if not ids:
        messages.error(request, _("Sélectionnez au moins un membre."))
    else:
        add = request.POST.get("action") != "remove"
        count = services.cohort_members_set(
            cohort=cohort, members=members, add=add, by=request.user
        )
        text = (
            ngettext(
                "%(count)d membre ajouté à « %(name)s ».",
                "%(count)d membres ajoutés à « %(name)s ».",
                count,
            )
            if add
            else ngettext(
                "%(count)d membre retiré de « %(name)s ».",
                "%(count)d membres retirés de « %(name)s ».",
                count,
            )
        )
        messages.success(request, text % {"count": count, "name": cohort.name})
    return redirect(target)
