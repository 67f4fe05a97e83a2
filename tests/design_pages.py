"""The main pages of Cohorte, on the demo's data, for the width and accessibility checks
(test_layout_widths.py, test_accessibility.py): one place that says which pages count."""

from django.core.management import call_command
from django.urls import reverse

from cohorte.accounts.models import Member
from cohorte.conversations.models import Conversation
from cohorte.programs.models import Enrolment, Program, ProgramKind, Role
from cohorte.surveys.models import Survey

from .conftest import PASSWORD

WIDTHS = (1280, 1440, 390)


def demo_pages(language: str) -> tuple[Member, dict[str, str]]:
    """Build the demo (as `make demo` does), and give its administrator, speaking
    `language`, with the path of every main page, by name."""
    call_command("demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    admin = Member.objects.filter(is_org_admin=True).order_by("pk").first()
    assert admin is not None, "the demo has no organisation administrator"
    admin.set_password(PASSWORD)
    admin.language = language
    admin.save()
    programs = Program.objects.filter(organisation=admin.organisation)
    # the programme with the most participants: its table is the widest
    table = max(programs, key=lambda p: p.enrolments.filter(role=Role.PARTICIPANT).count())
    mentoring = programs.filter(kind=ProgramKind.MENTORING).first() or table
    participant = (
        Enrolment.objects.filter(program=table, role=Role.PARTICIPANT).order_by("pk").first()
    )
    assert participant is not None
    conversation = Conversation.objects.filter(program=table).order_by("pk").first()
    assert conversation is not None, "the demo has no conversation"
    survey = Survey.objects.filter(program=table).order_by("pk").first()
    assert survey is not None, "the demo has no survey"
    return admin, {
        "activity": reverse("activity:program", args=[table.pk]),
        "members": reverse("members:list"),
        "relationships": reverse("meetings:relationships", args=[mentoring.pk]),
        "calendar": reverse("meetings:calendar", args=[mentoring.pk]),
        "compose": reverse("messaging:compose"),
        "email-log": reverse("messaging:log"),
        "profile": reverse("members:profile", args=[participant.member_id]),
        "my-space": reverse("space:home"),
        "audit": reverse("core:audit"),
        "cohorts": reverse("programs:cohorts"),
        "notifications": reverse("messaging:notifications"),
        "program-edit": reverse("programs:program-edit", args=[table.pk]),
        # members acting in Cohorte: conversations, surveys
        "conversations": reverse("conversations:inbox"),
        "program-conversations": reverse("conversations:program", args=[table.pk]),
        "conversation": reverse("conversations:detail", args=[conversation.pk]),
        "surveys": reverse("surveys:list", args=[table.pk]),
        "survey-new": reverse("surveys:create", args=[table.pk]),
        "survey": reverse("surveys:detail", args=[survey.pk]),
        "my-surveys": reverse("surveys:mine"),
    }
