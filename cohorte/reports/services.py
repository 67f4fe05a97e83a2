"""Ending a programme cycle (seed 004, « Mettre fin à un cycle de programme »): the three
methods, what each will do to whom and why, and doing exactly that with the reports kept.

The promises:
- A cycle end never touches another programme's data. It ends for the members enrolled in
  the programme *now*; someone removed earlier was promised « leur historique reste » and
  is left alone; a member is deleted only when nothing of theirs belongs elsewhere.
- One function (`cycle_plan`) decides who is deleted, kept, deactivated, reactivated; the
  administrator confirms that plan, the job stores it, and the execution recomputes it
  under lock and refuses if it changed: the result is the plan, member for member.
- All or nothing: the whole cycle end, its archive and the job's completion are one
  transaction (see `cycle_end`), so a failure or a killed worker leaves the programme as
  it was and the job can simply be run again.
"""

import dataclasses
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cohorte.accounts import services as member_services
from cohorte.accounts.models import CustomField, Member
from cohorte.accounts.reports import member_report_rows
from cohorte.accounts.signals import members_deactivated
from cohorte.activity.models import ActivityEvent, Conversation, Report
from cohorte.activity.reports import participants_report
from cohorte.activity.selectors import participant_activity_rows
from cohorte.core.audit import log_action
from cohorte.core.exports import csv_write
from cohorte.core.models import AuditEntry, Job
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship, RelationshipStatus
from cohorte.meetings.services import relationships_end
from cohorte.messaging.models import Email, ReminderSent
from cohorte.programs.models import Enrolment, Program

from .models import CycleSnapshot

FULL_REFRESH = "full"
KEEP_SOME = "keep"
REIMPORT = "reimport"
METHODS = (FULL_REFRESH, KEEP_SOME, REIMPORT)

#: what the cycle end does to one member (exactly one of these)
DELETE = "delete"  # nothing of theirs is elsewhere: deleted for good
LEAVE = "leave"  # something of theirs is elsewhere: their place here ends, the account stays
RETURN = "return"  # method 2, ticked as returning: stays, with their data, and active

#: what ties a member to another programme, as the plan page names it
TIE_LABELS = {
    "enrolled": gettext_lazy("inscription en cours"),
    "was_enrolled": gettext_lazy("inscription terminée"),
    "relationship_current": gettext_lazy("relation en cours"),
    "relationship": gettext_lazy("relation"),
    "meeting": gettext_lazy("rencontres"),
    "activity": gettext_lazy("activité"),
}
#: ties that mean the member still takes part in that programme now
CURRENT_TIES = {"enrolled", "relationship_current"}

CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def cycle_members(program: Program) -> QuerySet[Member]:
    """The people a cycle ends for: enrolled in the programme now (their enrolment has not
    ended), never an administrator nor a programme manager. Members removed from the
    programme earlier are not among them: their history stays, a cycle end leaves it."""
    return (
        Member.objects.filter(enrolments__program=program, enrolments__ended_at__isnull=True)
        .exclude(is_org_admin=True)
        .exclude(managed_programs__isnull=False)
    )


def ties_elsewhere(program: Program, members: QuerySet[Member]) -> dict[int, dict[int, set[str]]]:
    """member id → {other programme id → kinds of ties}: everything of theirs that belongs
    to another programme and that deleting them would delete or blank (their enrolments,
    current or ended; relationships; meeting attendances and meetings they lead or made;
    activity events by them or about them; reports, conversations, the programme's e-mails
    and reminders they received)."""
    ids = members.values("pk")
    ties: dict[int, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))

    def add(rows: Iterable[tuple[int, int]], kind: str) -> None:
        for member_id, program_id in rows:
            ties[member_id][program_id].add(kind)

    enrolments = Enrolment.objects.filter(member__in=ids).exclude(program=program)
    add(enrolments.filter(ended_at__isnull=True).values_list("member_id", "program_id"), "enrolled")
    add(
        enrolments.filter(ended_at__isnull=False).values_list("member_id", "program_id"),
        "was_enrolled",
    )
    relationships = Relationship.objects.exclude(program=program)
    for field in ("mentor_id", "mentee_id"):
        mine = relationships.filter(**{f"{field}__in": ids})
        add(
            mine.filter(status=RelationshipStatus.MATCHED).values_list(field, "program_id"),
            "relationship_current",
        )
        add(mine.values_list(field, "program_id").distinct(), "relationship")
    for field in ("created_by_id", "administrator_id"):
        add(
            relationships.filter(**{f"{field}__in": ids})
            .values_list(field, "program_id")
            .distinct(),
            "relationship",
        )
    add(
        MeetingAttendee.objects.filter(member__in=ids)
        .exclude(meeting__program=program)
        .values_list("member_id", "meeting__program_id")
        .distinct(),
        "meeting",
    )
    meetings = Meeting.objects.exclude(program=program)
    for field in ("led_by_id", "created_by_id"):
        add(
            meetings.filter(**{f"{field}__in": ids}).values_list(field, "program_id").distinct(),
            "meeting",
        )
    events = ActivityEvent.objects.filter(program__isnull=False).exclude(program=program)
    for field in ("actor_id", "target_id"):
        add(
            events.filter(**{f"{field}__in": ids}).values_list(field, "program_id").distinct(),
            "activity",
        )
    others: QuerySet
    for others, fields in (
        (Report.objects.exclude(program=program), ("member_id", "reported_by_id")),
        (Conversation.objects.exclude(program=program), ("participant_id", "professional_id")),
    ):
        for field in fields:
            add(
                others.filter(**{f"{field}__in": ids}).values_list(field, "program_id").distinct(),
                "activity",
            )
    add(
        Email.objects.filter(member__in=ids, message__program__isnull=False)
        .exclude(message__program=program)
        .values_list("member_id", "message__program_id")
        .distinct(),
        "activity",
    )
    add(
        ReminderSent.objects.filter(member__in=ids)
        .exclude(rule__program=program)
        .values_list("member_id", "rule__program_id")
        .distinct(),
        "activity",
    )
    return ties


@dataclasses.dataclass
class PlannedMember:
    pk: int
    full_name: str
    email: str
    is_active: bool
    action: str
    #: other programme's name → kinds of ties (empty for a deletion)
    ties: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    @property
    def takes_part_elsewhere(self) -> bool:
        return any(CURRENT_TIES & set(kinds) for kinds in self.ties.values())

    @property
    def deactivate(self) -> bool:
        """Someone kept for another programme's history is switched off like everyone else
        in the cycle, unless they still take part in another programme now (a current
        enrolment or a relationship in progress there): that would end it for them too."""
        return self.action == LEAVE and self.is_active and not self.takes_part_elsewhere

    @property
    def reactivate(self) -> bool:
        """The seed's method 2 switches everyone off, then the returning ones on again."""
        return self.action == RETURN

    @property
    def reasons(self) -> list[str]:
        """Why, in the administrator's words, for the plan page."""
        if self.action == RETURN:
            return [_("revient au prochain cycle : garde son compte, ses données et sa place")]
        if self.action == DELETE:
            return [_("rien de son historique n'appartient à un autre programme")]
        reasons = [
            f"{name} : {', '.join(str(TIE_LABELS[kind]) for kind in kinds)}"
            for name, kinds in self.ties.items()
        ]
        if self.deactivate:
            reasons.append(_("aucune participation en cours ailleurs : désactivé"))
        elif self.takes_part_elsewhere:
            reasons.append(_("participe encore à un autre programme : reste actif"))
        return reasons


@dataclasses.dataclass
class CyclePlan:
    """What ending the cycle will do, member by member, in the seed's order."""

    program_id: int
    method: str
    people: list[PlannedMember]
    #: the relationships in progress that method 2 completes
    relationships: list[int]
    deleted_relationships: int
    deleted_meetings: int
    archive_name: str

    def of(self, action: str) -> list[PlannedMember]:
        return [person for person in self.people if person.action == action]

    @property
    def to_delete(self) -> list[PlannedMember]:
        return self.of(DELETE)

    @property
    def to_leave(self) -> list[PlannedMember]:
        return self.of(LEAVE)

    @property
    def to_deactivate(self) -> list[PlannedMember]:
        return [person for person in self.people if person.deactivate]

    @property
    def to_reactivate(self) -> list[PlannedMember]:
        return [person for person in self.people if person.reactivate]

    # the figures the page and the result show
    @property
    def members(self) -> int:
        return len(self.people)

    @property
    def deleted(self) -> int:
        return len(self.to_delete)

    @property
    def deactivated(self) -> int:
        return len(self.to_deactivate)

    @property
    def reactivated(self) -> int:
        return len(self.to_reactivate)

    @property
    def returning(self) -> int:
        return self.reactivated

    @property
    def kept_in_other_programmes(self) -> int:
        return len(self.to_leave)

    @property
    def relationships_ended(self) -> int:
        return len(self.relationships)

    def actions(self) -> dict[str, list[int]]:
        """The member ids per action (and the relationships ended): what the job stores
        when the administrator confirms, and what the execution must find again."""
        return {
            "delete": sorted(p.pk for p in self.to_delete),
            "leave": sorted(p.pk for p in self.to_leave),
            "deactivate": sorted(p.pk for p in self.to_deactivate),
            "reactivate": sorted(p.pk for p in self.to_reactivate),
            "relationships": sorted(self.relationships),
        }

    @property
    def fingerprint(self) -> str:
        """Carried by the confirmation form: the plan confirmed is the plan shown."""
        text = json.dumps([self.program_id, self.method, self.actions()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def archive_name(program: Program) -> str:
    """« {programme} 2026/2027 », as the seed files the reports; a file name cannot hold a
    « / », so the archive is « {programme} 2026-2027.zip » with that folder inside."""
    year = program.start_date.year
    return f"{program.name} {year}-{year + 1}"


def cycle_plan(*, program: Program, method: str, returning_ids: Iterable[int] = ()) -> CyclePlan:
    """The one place that decides what a cycle end does: the plan page shows it, the job
    stores it, the execution checks it again. For every member the cycle ends for:
    - RETURN (method 2 only, ticked): stays enrolled with their data, and ends active;
    - DELETE: nothing of theirs belongs to another programme (see `ties_elsewhere`);
    - LEAVE: something does — their enrolment here ends, their account and every history
      stay; they are deactivated only if they take part in nothing else now."""
    if method not in METHODS:
        raise ValueError(method)
    members = cycle_members(program)
    rows = list(
        members.order_by("last_name", "first_name", "pk").values_list(
            "pk", "first_name", "last_name", "email", "is_active"
        )
    )
    returning = set(returning_ids) if method == KEEP_SOME else set()
    ties = ties_elsewhere(program, members)
    names = dict(
        Program.objects.filter(pk__in={pid for per in ties.values() for pid in per}).values_list(
            "pk", "name"
        )
    )
    people = []
    for pk, first, last, email, is_active in rows:
        mine = ties.get(pk, {})
        action = RETURN if pk in returning else LEAVE if mine else DELETE
        people.append(
            PlannedMember(
                pk=pk,
                full_name=f"{first} {last}".strip() or email,
                email=email,
                is_active=is_active,
                action=action,
                ties={
                    names[pid]: sorted(kinds, key=list(TIE_LABELS).index)
                    for pid, kinds in sorted(mine.items(), key=lambda item: names[item[0]])
                }
                if action == LEAVE
                else {},
            )
        )
    doomed = [p.pk for p in people if p.action == DELETE]
    relationship_ids: set[int] = set()
    meeting_ids: set[int] = set()
    for chunk in _chunks(doomed):
        relationship_ids |= set(
            Relationship.objects.filter(
                Q(mentor_id__in=chunk) | Q(mentee_id__in=chunk)
            ).values_list("pk", flat=True)
        )
        meeting_ids |= set(
            MeetingAttendee.objects.filter(member_id__in=chunk).values_list("meeting_id", flat=True)
        )
    current = (
        list(
            Relationship.objects.filter(
                program=program, status=RelationshipStatus.MATCHED
            ).values_list("pk", flat=True)
        )
        if method == KEEP_SOME
        else []
    )
    return CyclePlan(
        program_id=program.pk,
        method=method,
        people=people,
        relationships=sorted(current),
        deleted_relationships=len(relationship_ids),
        deleted_meetings=len(meeting_ids),
        archive_name=archive_name(program),
    )


def cycle_archive(*, program: Program) -> tuple[str, bytes]:
    """Every report of the programme, in a zip: the members the cycle ends for
    (re-importable), participants' activity, relationships, meetings."""
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


class CyclePlanChanged(Exception):
    """The programme's data changed since the plan was confirmed: nothing was done."""

    def __init__(self, changes: list[str]):
        self.changes = changes
        self.message = _(
            "Les données du programme ont changé depuis la confirmation (%(changes)s) : "
            "rien n'a été modifié. Ouvrez à nouveau « Terminer le cycle » pour voir le "
            "nouveau résumé et le confirmer."
        ) % {"changes": "; ".join(changes)}
        super().__init__(self.message)


ACTION_LABELS = {
    "delete": gettext_lazy("membres à supprimer"),
    "leave": gettext_lazy("membres conservés pour un autre programme"),
    "deactivate": gettext_lazy("membres à désactiver"),
    "reactivate": gettext_lazy("membres à réactiver"),
    "relationships": gettext_lazy("relations à terminer"),
}


def plan_changes(confirmed: dict[str, list[int]], now: dict[str, list[int]]) -> list[str]:
    """What differs between the plan confirmed and the plan the data gives now."""
    changes = []
    for key, label in ACTION_LABELS.items():
        before, after = set(confirmed.get(key, [])), set(now.get(key, []))
        if before != after:
            changes.append(
                ngettext(
                    "%(label)s : %(count)d différence",
                    "%(label)s : %(count)d différences",
                    len(before ^ after),
                )
                % {"label": label, "count": len(before ^ after)}
            )
    return changes


def _audit(
    action: str, by: Member | None, targets: Sequence[tuple[str, int, str]], data: dict
) -> None:
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action=action,
                actor=by,
                target_type=target_type,
                target_id=str(pk),
                target_repr=text[:300],
                data=data,
            )
            for target_type, pk, text in targets
        ],
        batch_size=CHUNK,
    )


@transaction.atomic
def cycle_snapshot_take(*, program: Program, now: dt.datetime) -> CycleSnapshot:
    """Keep the Home's figures of the cycle that ends (counted afresh, not from the cache)."""
    from .home import home_figures

    values = home_figures(program=program, fresh=True)["values"]
    return CycleSnapshot.objects.create(
        program=program,
        ended_at=now,
        start_date=program.start_date,
        end_date=program.end_date,
        figures={key: value for key, value in values.items() if isinstance(value, int | float)},
    )


def cycle_end(
    *,
    program: Program,
    method: str,
    confirmed: dict[str, list[int]],
    by: Member | None,
    job: Job | None = None,
) -> dict:
    """Carry out the confirmed plan, all or nothing, in the seed's order: deactivate,
    (end the relationships), export every report, delete, (reactivate the returning).

    Why one transaction rather than resumable steps: a cycle end is one decision, and a
    step that committed alone is exactly the half-ended cycle this prevents (members
    switched off, nothing archived, nothing deleted). So the programme row and the
    members' rows are locked first (on PostgreSQL an insert that refers to them — a new
    attendance, enrolment, event — waits for the end; SQLite has a single writer), the
    plan is computed again and must be the one confirmed, and everything — the changes,
    the audit entries, the archive and the job's completion (`job_run_atomic`) — commits
    together or not at all. The archive is written last, so a failure before leaves no
    file, and a failure when writing it changes nothing (a file written by a rolled-back
    attempt is removed; only a worker killed in the milliseconds between writing it and
    the commit leaves an orphan, which no job refers to, so it is never served). The
    price: no progress shows while it runs, and on SQLite other writers wait while a
    large programme ends (their timeout is 20 s).
    """
    if method not in METHODS:
        raise ValueError(method)
    program = (
        Program.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=program.pk)
    )
    list(
        Member.objects.select_for_update()
        .filter(pk__in=cycle_members(program).values("pk"))
        .values_list("pk", flat=True)
    )
    plan = cycle_plan(program=program, method=method, returning_ids=confirmed.get("reactivate", []))
    changes = plan_changes(confirmed, plan.actions())
    if changes:
        raise CyclePlanChanged(changes)
    now = timezone.now()
    member_type = Member._meta.label_lower

    # 0. the cycle's figures as they stand, for the Home to compare the next cycle with
    cycle_snapshot_take(program=program, now=now)
    # 1. deactivate (those who stay; the deleted ones go at step 4 of the same transaction)
    off = plan.to_deactivate
    for chunk in _chunks([p.pk for p in off]):
        Member.objects.filter(pk__in=chunk).update(is_active=False, deactivated_at=now)
    _audit(
        "member.deactivated",
        by,
        [(member_type, p.pk, f"{p.full_name} <{p.email}>") for p in off],
        {"old": True, "new": False, "by": "cycle", "program": program.pk},
    )
    members_deactivated.send(sender=Member, member_ids=[p.pk for p in off])
    # 2. method 2: every relationship in progress is completed
    ended = 0
    if method == KEEP_SOME and plan.relationships:
        ended = relationships_end(program=program, by=by)
    # 3. every report, before anything is deleted
    filename, data = cycle_archive(program=program)
    # 4. delete those with nothing elsewhere; the others' place here ends
    leaving = [p.pk for p in plan.to_leave]
    enrolments = (
        list(
            program.enrolments.filter(member_id__in=leaving, ended_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        if leaving
        else []
    )
    for chunk in _chunks(enrolments):
        Enrolment.objects.filter(pk__in=chunk).update(ended_at=now, ended_by=by, updated_at=now)
    _audit(
        "enrolment.ended",
        by,
        [(Enrolment._meta.label_lower, pk, f"{program}") for pk in enrolments],
        {"by": "cycle"},
    )
    doomed = list(Member.objects.filter(pk__in=[p.pk for p in plan.to_delete]))
    deleted = member_services.members_delete(members=doomed, by=by)
    # 5. method 2: the returning members are on again for the next cycle
    back = [p for p in plan.to_reactivate if not p.is_active]
    for chunk in _chunks([p.pk for p in back]):
        Member.objects.filter(pk__in=chunk).update(is_active=True, deactivated_at=None)
    _audit(
        "member.activated",
        by,
        [(member_type, p.pk, f"{p.full_name} <{p.email}>") for p in back],
        {"old": False, "new": True, "by": "cycle", "program": program.pk},
    )
    result = {
        "method": method,
        "members": plan.members,
        "deactivated": len(off),
        "relationships_ended": ended,
        "deleted": deleted,
        "kept_in_other_programmes": len(leaving),
        "reactivated": plan.reactivated,
        "filename": filename,
        "done": plan.actions(),
    }
    log_action(
        "cycle.ended",
        actor=by,
        target=program,
        data={key: value for key, value in result.items() if key != "filename"},
    )
    # the Home's snapshot counted the cycle that ended: dropped, the worker counts the next
    from .home_snapshot import home_snapshot_drop

    home_snapshot_drop(program=program)
    if job is not None:  # last: nothing after it can fail but the commit
        job.file.save(get_valid_filename(filename), ContentFile(data), save=False)
    return result
