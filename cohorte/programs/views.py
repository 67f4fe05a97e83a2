from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from cohorte.accounts.http import MemberRequest

from . import services
from .forms import GroupForm, ParticipantAddForm, ProgramForm
from .models import Group, Organisation, Program
from .selectors import groups_of, program_for, programs_visible_to


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
        return redirect("accounts:my-space")
    groups = groups_of(request.user).select_related("parent") if request.user.is_org_admin else []
    return render(request, "programs/home.html", {"programs": programs, "groups": groups})


@login_required
def program_create(request: MemberRequest) -> HttpResponse:
    organisation = _admin_organisation(request)
    form = ProgramForm(
        request.POST or None,
        organisation=organisation,
        initial={"group": request.GET.get("group")},
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
    program = program_for(request.user, program_id)
    _admin_organisation(request)
    request.current_program = program
    # The form validates a copy: `program` keeps the old values, so the service sees what moved.
    form = ProgramForm(
        request.POST or None,
        instance=Program.objects.get(pk=program.pk),
        organisation=program.organisation,
    )
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.program_update(program=program, by=request.user, **changes)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Programme enregistré."))
            return redirect("activity:program", program_id=program.pk)
    return render(request, "programs/program_form.html", {"form": form, "program": program})


def _group_form_view(request: MemberRequest, group: Group | None) -> HttpResponse:
    organisation = _admin_organisation(request)
    initial = (
        {"name": group.name, "parent": group.parent_id}
        if group
        else {"parent": request.GET.get("parent")}
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
