"""The Programme tab's Design sub-tab and the brand's files.

Who gets a brand file (logos, programme image, default avatar, partner logos): the members
who may see the programme (its managers, the organisation's administrators, the members
enrolled in it); anyone at all once the programme's public site is published
(`site_published`); and an e-mail client holding the signed address of that one file
(branding.email_file_path): e-mails are read outside any session.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cohorte.accounts.http import MemberRequest
from cohorte.core.files import private_file_response

from . import branding
from .brand_forms import PartnerLogoForm, ProgramDesignForm
from .models import Enrolment, Program, ProgramPartnerLogo
from .selectors import program_for, programs_visible_to


def may_see_brand(request: HttpRequest, program: Program) -> bool:
    if program.site_published:
        return True
    member = request.user
    if not member.is_authenticated:
        return False
    if programs_visible_to(member).filter(pk=program.pk).exists():  # type: ignore[arg-type]
        return True
    return Enrolment.objects.filter(
        program=program, member=member, ended_at__isnull=True, member__is_active=True
    ).exists()


def brand_file(request: HttpRequest, program_id: int, which: str) -> FileResponse:
    if which not in branding.BRAND_FILES:
        raise Http404("No such file.")
    program = get_object_or_404(Program, pk=program_id)
    file = getattr(program, which)
    if not file:
        raise Http404("No such file.")
    signed = branding.email_file_signed(program, which, request.GET.get("s", ""))
    if not (signed or may_see_brand(request, program)):
        raise Http404("No such file.")
    extension = (file.name or "").rpartition(".")[2]
    return private_file_response(
        file, filename=f"{which}-{program.pk}.{extension}", as_attachment=False, cache_seconds=3600
    )


def partner_logo_file(request: HttpRequest, program_id: int, logo_id: int) -> FileResponse:
    logo = get_object_or_404(
        ProgramPartnerLogo.objects.select_related("program"), pk=logo_id, program_id=program_id
    )
    if not may_see_brand(request, logo.program):
        raise Http404("No such file.")
    extension = (logo.image.name or "").rpartition(".")[2]
    return private_file_response(
        logo.image,
        filename=f"partner-{logo.pk}.{extension}",
        as_attachment=False,
        cache_seconds=3600,
    )


def _design_context(program: Program, form, partner_form) -> dict:
    return {
        "program": program,
        "form": form,
        "partner_form": partner_form,
        "partners": list(program.partner_logos.all()),
        "tab": "design",
        "image_fields": [form[name] for name in branding.BRAND_FILES],
        "logo_url": program.brand_file_url("logo"),
        "min_contrast": branding.MIN_CONTRAST,
        "fonts": {key: stack for key, (_label, stack) in branding.FONTS.items()},
        "primary_ratio": branding.brand_contrast(
            branding.safe_colour(program.color_primary, branding.DEFAULT_PRIMARY)
        ),
        "secondary_ratio": branding.brand_contrast(
            branding.safe_colour(program.color_secondary, branding.DEFAULT_SECONDARY)
        ),
        "backgrounds": [branding.WHITE, branding.PAGE_BACKGROUND],
    }


@login_required
def program_design(request: MemberRequest, program_id: int) -> HttpResponse:
    """« Design »: colours, font and images, with a live preview beside the form."""
    program = program_for(request.user, program_id)
    request.current_program = program
    # the form validates a copy: `program` keeps the stored files until the service runs
    form = ProgramDesignForm(
        request.POST or None,
        request.FILES or None,
        instance=Program.objects.get(pk=program.pk),
    )
    if request.method == "POST" and form.is_valid():
        branding.program_brand_update(program=program, by=request.user, **form.brand_changes())
        messages.success(request, _("Design enregistré."))
        return redirect("programs:program-design", program_id=program.pk)
    return render(
        request,
        "programs/program_design.html",
        _design_context(program, form, PartnerLogoForm()),
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def partner_logo_add(request: MemberRequest, program_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    request.current_program = program
    form = PartnerLogoForm(request.POST, request.FILES)
    if form.is_valid():
        branding.partner_logo_add(program=program, by=request.user, **form.cleaned_data)
        messages.success(request, _("Logo de partenaire ajouté."))
        return redirect("programs:program-design", program_id=program.pk)
    design = ProgramDesignForm(instance=program)
    return render(
        request, "programs/program_design.html", _design_context(program, design, form), status=400
    )


@login_required
@require_POST
def partner_logo_delete(request: MemberRequest, program_id: int, logo_id: int) -> HttpResponse:
    program = program_for(request.user, program_id)
    logo = get_object_or_404(ProgramPartnerLogo, pk=logo_id, program=program)
    branding.partner_logo_delete(logo=logo, by=request.user)
    messages.success(request, _("Logo de partenaire retiré."))
    return redirect("programs:program-design", program_id=program.pk)
