"""Ending a programme cycle (seed 004, « Mettre fin à un cycle de programme »): the three
methods, what each will do to how many people, and doing it with the reports kept."""

import dataclasses
import io
import zipfile
from collections.abc import Callable, Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from cohorte.accounts import services as member_services
from cohorte.accounts.models import CustomField, Member
from cohorte.accounts.reports import member_report_rows
from cohorte.activity.reports import participants_report
from cohorte.activity.selectors import participant_activity_rows
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_write
from cohorte.core.models import Job
from cohorte.meetings.models import MeetingAttendee, Relationship, RelationshipStatus
from cohorte.meetings.services import relationships_end
from cohorte.programs.models import Enrolment, Program

FULL_REFRESH = "full"
KEEP_SOME = "keep"
REIMPORT = "reimport"
METHODS = (FULL_REFRESH, KEEP_SOME, REIMPORT)


def cycle_members(program: Program) -> QuerySet[Member]:
    """The people a cycle ends for: enrolled in the programme (now or before), never an
    administrator nor a programme manager."""
    return (
        Member.objects.filter(enrolments__program=program)
        .exclude(is_org_admin=True)
        .exclude(managed_programs__isnull=False)
        .distinct()
    )


def kept_elsewhere(program: Program, members: QuerySet[Member]) -> QuerySet[Member]:
    """Members who still take part in another programme: switching them off or deleting
    them would end that programme for them too, so the cycle only ends their place here."""
    return members.filter(
        pk__in=Enrolment.objects.filter(ended_at__isnull=True)
        .exclude(program=program)
        .values("member_id")
    )


@dataclasses.dataclass
class CyclePlan:
    method: str
    members: int
    deactivated: int
    relationships_ended: int
    deleted: int
    deleted_relationships: int
    deleted_meetings: int
    kept_in_other_programmes: int
    returning: int
    archive_name: str


def archive_name(program: Program) -> str:
    """« {programme} 2026/2027 », as the seed files the reports; a file name cannot hold a
    « / », so the archive is « {programme} 2026-2027.zip » with that folder inside."""
    year = program.start_date.year
    return f"{program.name} {year}-{year + 1}"


def cycle_plan(*, program: Program, method: str, returning_ids: Sequence[int] = ()) -> CyclePlan:
    members = cycle_members(program)
    elsewhere = set(kept_elsewhere(program, members).values_list("pk", flat=True))
    returning = (
        set(returning_ids) & set(members.values_list("pk", flat=True))
        if method == KEEP_SOME
        else set()
    )
    doomed = members.exclude(pk__in=elsewhere | returning)
    doomed_ids = list(doomed.values_list("pk", flat=True))
    current = Relationship.objects.filter(program=program, status=RelationshipStatus.MATCHED)
    return CyclePlan(
        method=method,
        members=members.count(),
        deactivated=members.exclude(pk__in=elsewhere).filter(is_active=True).count(),
        relationships_ended=current.count() if method == KEEP_SOME else 0,
        deleted=len(doomed_ids),
        deleted_relationships=Relationship.objects.filter(
            Q(mentor_id__in=doomed_ids) | Q(mentee_id__in=doomed_ids)
        ).count(),
        deleted_meetings=MeetingAttendee.objects.filter(member_id__in=doomed_ids)
        .values("meeting_id")
        .distinct()
        .count(),
        kept_in_other_programmes=len(elsewhere),
        returning=len(returning),
        archive_name=archive_name(program),
    )


def cycle_archive(*, program: Program) -> tuple[str, bytes]:
    """Every report of the programme, in a zip: members (re-importable), participants'
    activity, relationships, meetings."""
    folder = archive_name(program)
    buffer = io.BytesIO()
    delimiter = ";" if translation.get_language() == "fr" else ","
    fields = list(CustomField.objects.filter(organisation=program.organisation, in_reports=True))
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        header, rows = member_report_rows(
            cycle_members(program).order_by("last_name", "first_name", "pk"), fields
        )
        with archive.open(f"{folder}/{_('membres')}.csv", "w") as stream:
            csv_write(stream, header, rows, delimiter=delimiter)
        header, rows = participants_report(participant_activity_rows(program=program))
        with archive.open(f"{folder}/{_('activite-des-participants')}.csv", "w") as stream:
            csv_write(stream, header, rows, delimiter=delimiter)
        relationships = Relationship.objects.filter(program=program).select_related(
            "mentor", "mentee"
        )
        statuses = dict(RelationshipStatus.choices)
        with archive.open(f"{folder}/{_('relations')}.csv", "w") as stream:
            csv_write(
                stream,
                [
                    _("Mentor"),
                    _("Courriel du mentor"),
                    _("Mentoré"),
                    _("Courriel du mentoré"),
                    _("Statut"),
                    _("Créée le"),
                    _("Fin"),
                ],
                (
                    [
                        r.mentor.full_name,
                        r.mentor.email,
                        r.mentee.full_name,
                        r.mentee.email,
                        statuses.get(r.status, r.status),
                        r.created_at,
                        r.ended_at or "",
                    ]
                    for r in relationships.iterator(chunk_size=2000)
                ),  # fmt: skip
                delimiter=delimiter,
            )
        attendances = (
            MeetingAttendee.objects.filter(meeting__program=program)
            .select_related("meeting", "member")
            .order_by("meeting__starts_at", "meeting_id", "pk")
        )
        with archive.open(f"{folder}/{_('rencontres')}.csv", "w") as stream:
            csv_write(
                stream,
                [
                    _("Rencontre"),
                    _("Début"),
                    _("Durée (minutes)"),
                    _("Statut"),
                    _("Participant"),
                    _("Courriel"),
                ],
                (
                    [
                        a.meeting_id,
                        a.meeting.starts_at,
                        a.meeting.duration_minutes,
                        a.meeting.get_status_display(),
                        a.member.full_name,
                        a.member.email,
                    ]
                    for a in attendances.iterator(chunk_size=2000)
                ),  # fmt: skip
                delimiter=delimiter,
            )
    return f"{folder}.zip", buffer.getvalue()


def cycle_end(
    *,
    program: Program,
    method: str,
    by: Member | None,
    returning_ids: Sequence[int] = (),
    progress: Callable[[int, int], None] | None = None,
    job: Job | None = None,
) -> dict:
    """The seed's three methods, in its order: deactivate, (end relationships), export,
    delete; (reactivate the returning ones). The archive is written before anything is
    deleted, so the data of the cycle always survives in it."""
    if method not in METHODS:
        raise ValueError(method)
    report = progress or (lambda done, total: None)
    members = cycle_members(program)
    returning = set(returning_ids) if method == KEEP_SOME else set()
    steps = 4 if method != KEEP_SOME else 6
    now = timezone.now()
    elsewhere = set(kept_elsewhere(program, members).values_list("pk", flat=True))
    with transaction.atomic():
        switched = list(
            members.exclude(pk__in=elsewhere).filter(is_active=True).values_list("pk", flat=True)
        )
        Member.objects.filter(pk__in=switched).update(is_active=False, deactivated_at=now)
        log_action("cycle.deactivated", actor=by, target=program, data={"count": len(switched)})
    report(1, steps)
    ended = 0
    if method == KEEP_SOME:
        ended = relationships_end(program=program, by=by)
        report(2, steps)
    filename, data = cycle_archive(program=program)
    if job is not None:
        job.file.save(get_valid_filename(filename), ContentFile(data), save=False)
        Job.objects.filter(pk=job.pk).update(file=job.file.name)
    report(steps - 2, steps)
    with transaction.atomic():
        doomed = list(members.exclude(pk__in=elsewhere | returning))
        deleted = member_services.members_delete(members=doomed, by=by)
        # those kept for another programme leave this one, and keep their account
        program.enrolments.filter(member_id__in=elsewhere, ended_at__isnull=True).update(
            ended_at=now, ended_by=by
        )
        report(steps - 1, steps)
        reactivated = 0
        if returning:
            reactivated = Member.objects.filter(pk__in=returning, is_active=False).update(
                is_active=True, deactivated_at=None
            )
        log_action(
            "cycle.ended",
            actor=by,
            target=program,
            data={
                "method": method,
                "deleted": deleted,
                "reactivated": reactivated,
                "relationships_ended": ended,
            },
        )
    report(steps, steps)
    return {
        "deactivated": len(switched),
        "relationships_ended": ended,
        "deleted": deleted,
        "kept_in_other_programmes": len(elsewhere),
        "reactivated": reactivated,
        "filename": filename,
    }
