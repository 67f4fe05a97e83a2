"""The programme's summary (« Exporter en PDF »): its dates, objective and headline counts,
in the programme's brand. The counts are read in a few aggregate queries (the maintained
counters for the participants' figures); the PDF is drawn by WeasyPrint from a template,
with no access to anything outside it: the logo goes in as a data: address, and any other
address the HTML might name is refused."""

import base64
import dataclasses
import datetime as dt
import mimetypes

from django.db.models import Count, Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cohorte.activity.models import ParticipantStats
from cohorte.activity.selectors import open_reports
from cohorte.meetings.models import Meeting, MeetingStatus, Relationship, RelationshipStatus
from cohorte.programs import branding
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program

#: the largest logo put into a PDF (the brand's files are 2 MB at most already)
LOGO_MAX_BYTES = 2 * 1024 * 1024


@dataclasses.dataclass(frozen=True)
class ProgramSummary:
    participants: int
    others: int
    never_signed_in: int
    reached_objective: int
    confirmed_meetings: int
    upcoming_meetings: int
    relationships_matched: int
    relationships_completed: int
    flagged: int


def program_summary(*, program: Program, now: dt.datetime | None = None) -> ProgramSummary:
    """The programme's headline figures, between its dates, as the activity table counts
    them (confirmed meetings from the maintained counters)."""
    now = now or timezone.now()
    enrolments = Enrolment.objects.filter(program=program, ended_at__isnull=True).aggregate(
        participants=Count("pk", filter=Q(role__in=PARTICIPANT_ROLES)),
        others=Count("pk", filter=~Q(role__in=PARTICIPANT_ROLES)),
    )
    stats = ParticipantStats.objects.filter(
        enrolment__program=program,
        enrolment__ended_at__isnull=True,
        enrolment__role__in=PARTICIPANT_ROLES,
    ).aggregate(
        confirmed=Sum("confirmed_meetings"),
        reached=Count("pk", filter=Q(confirmed_meetings__gte=max(program.objective, 1))),
        signed_in=Count("pk", filter=Q(last_access__isnull=False)),
    )
    start, end = program.window()
    upcoming = Meeting.objects.filter(
        program=program,
        status=MeetingStatus.SCHEDULED,
        starts_at__gte=max(now, start),
        starts_at__lt=end,
    ).count()
    relationships = Relationship.objects.filter(program=program).aggregate(
        matched=Count("pk", filter=Q(status=RelationshipStatus.MATCHED)),
        completed=Count("pk", filter=Q(status=RelationshipStatus.COMPLETED)),
    )
    flagged = open_reports(program=program).values("member_id").order_by().distinct().count()
    return ProgramSummary(
        participants=enrolments["participants"],
        others=enrolments["others"],
        never_signed_in=enrolments["participants"] - (stats["signed_in"] or 0),
        reached_objective=stats["reached"] or 0,
        confirmed_meetings=stats["confirmed"] or 0,
        upcoming_meetings=upcoming,
        relationships_matched=relationships["matched"],
        relationships_completed=relationships["completed"],
        flagged=flagged,
    )


def _data_address(file) -> str:
    """The image as a data: address, read from storage (never fetched by URL)."""
    if not file:
        return ""
    try:
        with file.open("rb") as handle:
            data = handle.read(LOGO_MAX_BYTES + 1)
    except (FileNotFoundError, OSError, ValueError):
        return ""
    if len(data) > LOGO_MAX_BYTES:
        return ""
    kind = mimetypes.guess_type(file.name)[0] or ""
    if kind not in ("image/png", "image/jpeg"):
        return ""
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def program_summary_html(*, program: Program, language: str, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    with translation.override(language):
        return render_to_string(
            "reports/program_summary_pdf.html",
            {
                "program": program,
                "summary": program_summary(program=program, now=now),
                "slogan": program.slogan_in(language),
                "logo": _data_address(program.logo),
                "primary": branding.safe_colour(program.color_primary, branding.DEFAULT_PRIMARY),
                "secondary": branding.safe_colour(
                    program.color_secondary, branding.DEFAULT_SECONDARY
                ),
                "font": branding.font_stack(program.font),
                "today": now.astimezone(program.organisation.tzinfo).date(),
                "LANGUAGE_CODE": language,
            },
        )


def program_summary_pdf(
    *, program: Program, language: str, now: dt.datetime | None = None
) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = program_summary_html(program=program, language=language, now=now)
    # only the data: addresses this module wrote: nothing is fetched from a network or disk
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
