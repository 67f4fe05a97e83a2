"""The brand's files (logos, programme image, default avatar, partner logos).

Who gets a byte: the members who may see the programme (its managers and the
organisation's administrators, and the members enrolled in it); anyone at all once the
programme's public site is published (`site_published`); and an e-mail client holding a
signed address (`email_logo_url`): e-mails are read outside any session, so the logo they
show is reached by an address signed with SECRET_KEY for that programme, that file and
that stored name: it cannot be guessed, opens only that one image, and stops working when
the logo is replaced.
"""

from django.core import signing
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from cohorte.core.files import private_file_response

from .branding import BRAND_FILES
from .models import Enrolment, Program, ProgramPartnerLogo
from .selectors import programs_visible_to

_SALT = "cohorte.programs.brand-file"


def _signature_value(program: Program, which: str) -> str:
    return f"{program.pk}:{which}:{getattr(program, which).name}"


def email_logo_url(program: Program, which: str = "logo") -> str:
    """A path (prefix it with the site's address) that opens this brand file without a
    session: for e-mails."""
    if which not in BRAND_FILES or not getattr(program, which):
        return ""
    signature = signing.Signer(salt=_SALT).sign(_signature_value(program, which))
    token = signature.rpartition(":")[2]
    return f"{reverse('programs:brand-file', args=[program.pk, which])}?s={token}"


def _signed(request: HttpRequest, program: Program, which: str) -> bool:
    token = request.GET.get("s", "")
    if not token or len(token) > 100:
        return False
    try:
        signing.Signer(salt=_SALT).unsign(f"{_signature_value(program, which)}:{token}")
    except signing.BadSignature:
        return False
    return True


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
    if which not in BRAND_FILES:
        raise Http404("No such file.")
    program = get_object_or_404(Program, pk=program_id)
    file = getattr(program, which)
    if not file or not (_signed(request, program, which) or may_see_brand(request, program)):
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
