from django.db.models import Count, Q, QuerySet
from django.utils.text import slugify

from cohorte.accounts.models import CustomField, MemberRole
from cohorte.programs.models import Program, Role

from .models import Application, ApplicationStatus, SignupSettings


def program_slug(program: Program) -> str:
    return slugify(program.name)[:60].strip("-") or "programme"


def signup_settings_of(program: Program) -> SignupSettings:
    """The programme's settings, or the defaults (not saved) until its manager saves them."""
    found = SignupSettings.objects.filter(program=program).first()
    return found or SignupSettings(program=program)


def member_role_for(role: str) -> str:
    """Which side of the custom fields (mentor / mentee) a programme role answers."""
    return MemberRole.MENTOR if role in (Role.MENTOR, Role.PROFESSIONAL) else MemberRole.MENTEE


def signup_fields(program: Program, roles: list[str]) -> list[CustomField]:
    """The organisation's custom fields a person may fill in: those shown in profiles, not
    reserved to administrators, that apply to at least one of the accepted roles."""
    fields = CustomField.objects.filter(
        organisation_id=program.organisation_id, admin_only=False, in_profile=True
    )
    sides = {member_role_for(role) for role in roles}
    return [field for field in fields if any(field.applies_to(side) for side in sides)]


def applications_of(program: Program, status: str) -> QuerySet[Application]:
    return Application.objects.filter(program=program, status=status).order_by("-created_at", "-pk")


def application_counts(program: Program) -> dict[str, int]:
    counts = Application.objects.filter(program=program).aggregate(
        **{status: Count("pk", filter=Q(status=status)) for status in ApplicationStatus.values}
    )
    return {status: counts[status] or 0 for status in ApplicationStatus.values}
