"""The data the API fuzzer and the page walk run against: two organisations with one of
everything a URL can name (programme, member, relationship, meeting, message, job, field,
filter, cohort, group, notification…), so every path parameter has a real id of its kind in
each organisation, and the second organisation's names are distinctive enough to spot if
they ever appear in a page or a response of the first."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import CustomField, Member, SavedMemberFilter
from cohorte.campaigns.models import Campaign, Interview
from cohorte.core.models import Job
from cohorte.meetings.models import Meeting, MeetingAttendee, Relationship
from cohorte.messaging.models import Message, Notification, ReleaseNote
from cohorte.programs.models import (
    Cohort,
    Enrolment,
    Group,
    Organisation,
    Program,
    ProgramKind,
    Role,
)

#: words that exist only in the second organisation: none may reach a user of the first
FOREIGN_MARKERS = ("Zanzibar", "Quokka", "etranger.example", "Xylophone")
#: and the other way round, for the second organisation's administrator
HOME_MARKERS = ("Albatros", "Héliotrope", "poitiers.example")


@dataclass
class Side:
    """One organisation's people and one id of every kind (`ids["program_id"]`…)."""

    organisation: Organisation
    admin: Member
    manager: Member  # manages `program`
    other_manager: Member  # manages only `other_program`
    mentor: Member
    mentee: Member
    program: Program
    other_program: Program
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class World:
    home: Side
    foreign: Side
    token: str  # the home administrator's API token

    def roles(self) -> dict[str, Member | None]:
        """The five roles the page walk tries every URL as."""
        return {
            "anonymous": None,
            "member": self.home.mentee,
            "other_manager": self.home.other_manager,
            "foreign_admin": self.foreign.admin,
            "admin": self.home.admin,
        }


def _member(organisation, email, first, last, **extra) -> Member:
    # no usable password: hashing one costs 0.3 s and force_login does not need it
    return Member.objects.create_user(
        email, None, organisation=organisation, first_name=first, last_name=last, **extra
    )


def _side(name: str, domain: str, words: tuple[str, ...]) -> Side:
    a, b, c, d, e = words
    today = timezone.localdate()
    organisation = Organisation.objects.create(name=f"{name} {a}", timezone="Europe/Paris")
    admin = _member(organisation, f"admin@{domain}", "Anne", a, is_org_admin=True)
    manager = _member(organisation, f"manon@{domain}", "Manon", b)
    other_manager = _member(organisation, f"bob@{domain}", "Bob", c)
    mentor = _member(organisation, f"marc@{domain}", "Marc", d, role="mentor")
    mentee = _member(organisation, f"lea@{domain}", "Léa", e, role="mentee")
    group = Group.objects.create(organisation=organisation, name=f"Groupe {a}")
    program = Program.objects.create(
        organisation=organisation,
        group=group,
        name=f"Mentorat {b}",
        kind=ProgramKind.MENTORING,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
    )
    program.managers.add(manager)
    other_program = Program.objects.create(
        organisation=organisation,
        name=f"Orientation {c}",
        kind=ProgramKind.ACCOMPANIMENT,
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=60),
    )
    other_program.managers.add(other_manager)
    Enrolment.objects.create(program=program, member=mentor, role=Role.MENTOR)
    Enrolment.objects.create(program=program, member=mentee, role=Role.MENTEE)
    Enrolment.objects.create(program=other_program, member=mentee, role=Role.PARTICIPANT)
    relationship = Relationship.objects.create(program=program, mentor=mentor, mentee=mentee)
    meeting = Meeting.objects.create(
        program=program,
        relationship=relationship,
        starts_at=timezone.now() + dt.timedelta(days=3),
        duration_minutes=45,
        status="scheduled",
        title=f"Rencontre {d}",
    )
    for person in (mentor, mentee):
        MeetingAttendee.objects.create(meeting=meeting, member=person)
    cohort = Cohort.objects.create(organisation=organisation, name=f"Cohorte {a}")
    cohort.members.add(mentee)
    custom_field = CustomField.objects.create(organisation=organisation, name_fr=f"Champ {a}")
    saved_filter = SavedMemberFilter.objects.create(
        organisation=organisation, name=f"Filtre {a}", query="q=" + e, created_by=admin
    )
    message = Message.objects.create(
        organisation=organisation,
        program=program,
        audience="all",
        subject_fr=f"Nouvelles {a}",
        body_fr=f"<p>Bonjour {e}</p>",
        created_by=admin,
    )
    # an import waiting for its columns to be mapped, as the upload step leaves it
    job = Job.objects.create(
        kind="members_import",
        organisation_id=organisation.pk,
        created_by=admin,
        payload={
            "filename": "membres.csv",
            "header": ["Courriel", "Prénom", "Nom"],
            "rows": [[2, [f"nouveau@{domain}", "Nina", e]]],
        },
        result={"title": "Importer des membres"},
    )
    notification = Notification.objects.create(member=admin, title=f"Avis {a}", url="/")
    # an interview campaign with one interview (the manager's with the mentee)
    campaign = Campaign.objects.create(
        organisation=organisation,
        name=f"Entretiens {a}",
        kind="annual",
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=60),
        created_by=admin,
    )
    interview = Interview.objects.create(
        campaign=campaign, collaborator=mentee, manager=manager, circuit=campaign.circuit
    )
    Notification.objects.create(member=mentee, title=f"Avis {e}", url="/")
    return Side(
        organisation=organisation,
        admin=admin,
        manager=manager,
        other_manager=other_manager,
        mentor=mentor,
        mentee=mentee,
        program=program,
        other_program=other_program,
        ids={
            "program_id": program.pk,
            "member_id": mentee.pk,
            "relationship_id": relationship.pk,
            "meeting_id": meeting.pk,
            "message_id": message.pk,
            "job_id": job.pk,
            "field_id": custom_field.pk,
            "filter_id": saved_filter.pk,
            "cohort_id": cohort.pk,
            "group_id": group.pk,
            "notification_id": notification.pk,
            "organisation_id": organisation.pk,
            "campaign_id": campaign.pk,
            "interview_id": interview.pk,
        },
    )


def build_world() -> World:
    home = _side("Lycées", "poitiers.example", ("Albatros", "Héliotrope", "Iris", "Jade", "Kiwi"))
    foreign = _side(
        "Ailleurs", "etranger.example", ("Zanzibar", "Quokka", "Xylophone", "Yak", "Wombat")
    )
    note = ReleaseNote.objects.create(
        title_fr="Nouveautés", title_en="News", body_fr="…", body_en="…", published_at=None
    )
    home.ids["note_id"] = foreign.ids["note_id"] = note.pk
    return World(home=home, foreign=foreign, token=token_issue(member=home.admin))


def world_teardown() -> None:
    """The world is committed (built once for a whole module): empty the tables again, as a
    transactional test does, so the next modules start from an empty database."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
