"""The demo: a believable organisation whose every screen agrees with every other.

Four programmes, each with a story that fits its dates and status: « Orientation » and the
training course are running (meetings held in the past, booked in the coming days, some
this very week for the calendar), « Mentorat » finished a month ago (its pairs, meetings
and messages all inside its dates, its pairs' hours made of their held meetings), the
interview campaign is in preparation (people enrolled, nothing done yet). Counters are
rebuilt from the events and meetings at the end, by the service the application uses.
Random is seeded so every run builds the same world."""

import datetime as dt
import random

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from cohorte.accounts.models import (
    CustomField,
    CustomFieldValue,
    FieldRole,
    Language,
    Member,
    MemberRole,
)
from cohorte.accounts.services import organisation_completion_recompute
from cohorte.activity.models import ActivityEvent, EventKind, Report
from cohorte.activity.services import stats_refresh
from cohorte.core.models import AuditEntry
from cohorte.meetings.models import MeetingKind
from cohorte.meetings.services import member_counters_refresh
from cohorte.programs.models import (
    Cohort,
    CohortKind,
    Enrolment,
    Group,
    Organisation,
    Program,
    ProgramKind,
    Role,
)
from cohorte.programs.services import organisation_create, program_create

from .campaigns import demo_campaign
from .conversations import demo_conversations, demo_quiet
from .meetings import Diary, availabilities, mentoring_pairs
from .messages import demo_messages
from .names import email_for, unique_names
from .surveys import demo_survey

DEMO_ORGANISATION = "Réseau Cohorte"
DEMO_ADMIN_EMAIL = "admin@cohorte.example"
DEMO_ADMIN_PASSWORD = "cohorte-demo"  # noqa: S105 — printed by `make run`, demo only
DEMO_MANAGER_PASSWORD = DEMO_ADMIN_PASSWORD

DAY = dt.timedelta(days=1)
STAFF = [("Alice", "Administratrice"), ("Claire", "Martin"), ("James", "Wilson")]


def _when(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    # In UTC: adding to a Paris time would move by the wall clock across a DST change.
    span = max(1, int((end - start).total_seconds()))
    return start.astimezone(dt.UTC) + dt.timedelta(seconds=rng.randrange(span))


def _awake(rng: random.Random, start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """A moment in [start, end) between 07:00 and 23:00 where the member lives (drawn
    again when it falls in the night; a few draws at most)."""
    moment = _when(rng, start, end)
    for _ in range(8):
        if 7 <= moment.astimezone(tz).hour < 23:
            break
        moment = _when(rng, start, end)
    return moment


@transaction.atomic
def demo_build(*, today: dt.date | None = None) -> Organisation | None:
    """The demo world. Returns None when it is already there (the command is idempotent)."""
    if Organisation.objects.filter(name=DEMO_ORGANISATION).exists():
        return None
    rng = random.Random(2026)  # noqa: S311
    today = today or timezone.localdate()
    now = timezone.now()
    organisation, admin = organisation_create(
        name=DEMO_ORGANISATION,
        admin_email=DEMO_ADMIN_EMAIL,
        admin_password=DEMO_ADMIN_PASSWORD,
        timezone_name="Europe/Paris",
    )
    admin.first_name, admin.last_name = STAFF[0]
    admin.save(update_fields=["first_name", "last_name"])
    # the managers' password is the administrator's: its hash is reused, not computed twice
    # more (each costs a third of a second, on every `make run`)
    claire, james = (
        Member.objects.create_user(
            email,
            None,
            organisation=organisation,
            first_name=first,
            last_name=last,
            language=language,
        )
        for email, (first, last), language in [
            ("claire.martin@cohorte.example", STAFF[1], Language.FR),
            ("james.wilson@cohorte.example", STAFF[2], Language.EN),
        ]
    )
    Member.objects.filter(pk__in=[claire.pk, james.pk]).update(password=admin.password)
    region = Group.objects.create(organisation=organisation, name="Île-de-France")
    paris = Group.objects.create(organisation=organisation, name="Paris", parent=region)
    lycees = Group.objects.create(organisation=organisation, name="Lycées", parent=paris)
    companies = Group.objects.create(organisation=organisation, name="Entreprises")
    hr = Group.objects.create(
        organisation=organisation, name="Ressources humaines", parent=companies
    )

    def program(name, kind, start, end, objective, group, description, managers):
        return program_create(
            organisation=organisation,
            by=admin,
            name=name,
            kind=kind,
            start_date=start,
            end_date=end,
            objective=objective,
            group=group,
            description=description,
            managers=managers,
        )

    orientation = program(
        "Orientation Terminale 2026",
        ProgramKind.ACCOMPANIMENT,
        today - 60 * DAY,
        today + 60 * DAY,
        3,
        lycees,
        "Les élèves de terminale rencontrent des professionnels pour choisir leur voie.",
        [claire],
    )
    mentoring = program(
        "Mentorat jeunes diplômés",
        ProgramKind.MENTORING,
        today - 300 * DAY,
        today - 30 * DAY,
        4,
        paris,
        "Un mentor accompagne chaque jeune diplômé pendant sa première année.",
        [james],
    )
    training = program(
        "Formation enseignants : le numérique en classe",
        ProgramKind.TRAINING,
        today - 20 * DAY,
        today + 70 * DAY,
        2,
        region,
        "Parcours en ligne et ateliers pour les enseignants du second degré.",
        [claire],
    )
    campaign = program(
        "Entretiens annuels 2027",
        ProgramKind.INTERVIEW_CAMPAIGN,
        today + 20 * DAY,
        today + 120 * DAY,
        1,
        hr,
        "Campagne d'entretiens annuels des collaborateurs.",
        [james],
    )
    programmes = [orientation, mentoring, training, campaign]

    password = make_password(None)
    taken = {DEMO_ADMIN_EMAIL, claire.email, james.email}
    people = [
        Member(
            email=email_for(first, last, taken),
            first_name=first,
            last_name=last,
            language=Language.EN if english else Language.FR,
            organisation=organisation,
            password=password,
        )
        for first, last, english in unique_names(rng, 58, english_every=6, reserved=STAFF)
    ]
    Member.objects.bulk_create(people)
    people = list(Member.objects.filter(email__in=[p.email for p in people]).order_by("pk"))
    participants, professionals = people[:48], people[48:]
    mentees, mentors = participants[18:34], professionals[4:8]
    # one mentor lives in Montréal (as in the seed): her meetings fit her hours and theirs
    mentors[0].timezone = "America/Toronto"
    Member.objects.filter(pk=mentors[0].pk).update(timezone=mentors[0].timezone)

    plan = [
        (orientation, participants[:22], professionals[:5], Role.PARTICIPANT),
        (mentoring, mentees, mentors, Role.MENTEE),
        (training, participants[30:48], professionals[6:10], Role.PARTICIPANT),
        (campaign, participants[:10], professionals[:2], Role.COLLABORATOR),
    ]
    for prog, members, pros, role in plan:
        Enrolment.objects.bulk_create(
            [Enrolment(program=prog, member=m, role=role) for m in members]
            + [
                Enrolment(
                    program=prog,
                    member=p,
                    role=Role.MENTOR if prog.kind == ProgramKind.MENTORING else Role.PROFESSIONAL,
                )
                for p in pros
            ]
        )
    diary = Diary(rng=rng, now=now, default_tz=organisation.tzinfo)
    events = []
    # switched off ten days ago, archived three days ago: nothing of theirs after that
    left = {m.pk: now - 10 * DAY for m in participants[40:42]} | {
        participants[43].pk: now - 3 * DAY
    }
    for prog, members, pros, _role in plan:
        start, end = prog.window()
        if min(end, now) <= start:
            continue  # in preparation: nobody has done anything yet
        for i, member in enumerate(members):
            if i % 7 == 3:
                continue  # never came: « Jamais »
            active_end = min(end, now, left.get(member.pk, now))
            tz = diary.zone(member)
            energy = rng.randint(1, 12)
            for _ in range(energy):
                events.append(
                    ActivityEvent(
                        program=None,
                        actor=member,
                        kind=EventKind.SIGN_IN,
                        occurred_at=_awake(rng, start, active_end, tz),
                    )
                )
            for _ in range(rng.randint(0, energy)):
                events.append(
                    ActivityEvent(
                        program=prog,
                        actor=member,
                        kind=rng.choice(
                            [EventKind.PROFILE_VIEW, EventKind.PROFILE_VIEW, EventKind.CONTACT]
                        ),
                        target=rng.choice(pros),
                        occurred_at=_awake(rng, start, active_end, tz),
                    )
                )
            if prog.kind == ProgramKind.TRAINING:
                for _ in range(rng.randint(0, energy)):
                    events.append(
                        ActivityEvent(
                            program=prog,
                            actor=member,
                            kind=EventKind.COURSE_ACCESS,
                            occurred_at=_awake(rng, start, active_end, tz),
                        )
                    )
            if prog.kind == ProgramKind.MENTORING:
                continue  # a mentee meets their mentor: the pairs' story below
            for _ in range(rng.randint(0, min(energy, prog.objective + 1))):
                diary.one_to_one(  # nobody meets after leaving (switched off, archived)
                    prog,
                    [rng.choice(pros), member],
                    after=start,
                    before=min(end, left.get(member.pk, end)),
                    by=claire,
                )
    ActivityEvent.objects.bulk_create(events, batch_size=2000)
    mentoring_pairs(diary, program=mentoring, mentors=mentors, mentees=mentees[:14], manager=james)
    _this_week(diary, orientation, participants[:22], professionals[:5], manager=claire)
    diary.write()

    # Flags: two reports and two conversations left unanswered in the running programme.
    for member, pro, reason, ago in [
        (participants[2], professionals[0], "Absent au rendez-vous sans prévenir", 6),
        (participants[9], professionals[1], "Propos inappropriés dans la messagerie", 3),
    ]:
        report = Report.objects.create(
            program=orientation, member=member, reported_by=pro, reason=reason
        )
        Report.objects.filter(pk=report.pk).update(created_at=now - ago * DAY)
    # conversations: answered ones, two the professional has not answered (the ❗), a
    # manager's message to a group — through the conversations app, as members write them
    demo_conversations(
        rng,
        program=orientation,
        manager=claire,
        participants=[participants[i] for i in (0, 1, 4, 6, 8, 14)],
        professionals=[professionals[i % 5] for i in range(6)],
        unanswered=[
            (participants[5], professionals[2], 12),
            (participants[12], professionals[3], 9),
        ],
        zone=diary.zone,
        awake=_awake,
        now=now,
    )
    # a survey halfway through, answered by a dozen (not by Chloé: it waits in her « À faire »)
    orientation_people = participants[:22]
    answerers = [m for i, m in enumerate(orientation_people) if i % 7 != 3 and i != 0][:12]
    demo_survey(
        rng,
        program=orientation,
        manager=claire,
        invited=orientation_people,
        answering=answerers,
        awake=_awake,
        zone=diary.zone,
        now=now,
    )
    # the running interview campaign: Chloé signs her write-up, the first professional
    # (Mamadou) has interviews to plan, through the campaigns' services
    demo_campaign(
        organisation=organisation,
        admin=admin,
        hr_manager=james,
        managers=[claire, professionals[0]],
        collaborators=participants[1:14],
        chloe=participants[0],
        now=now,
    )
    joined = _dates(rng, organisation, programmes, staff=[admin, claire, james], now=now)
    _demo_profiles(
        rng, organisation, participants=participants, professionals=professionals,
        manager=claire, joined=joined, left=left, now=now,
    )  # fmt: skip
    availabilities(participants + professionals)
    demo_messages(
        rng, organisation, admin=admin, mentoring=mentoring, orientation=orientation, now=now
    )
    # every figure from the rows it counts, by the services the application uses
    for prog in programmes:
        stats_refresh(program=prog)
    member_counters_refresh(member_ids=[m.pk for m in people])
    organisation_completion_recompute(organisation_id=organisation.pk)
    demo_quiet()
    # two members who sign in with the demo password, to see « Mon espace » as they do: a
    # participant of the running programme (conversations, meetings to evaluate) and one
    # of its professionals
    Member.objects.filter(pk__in=[participants[0].pk, professionals[0].pk]).update(
        password=admin.password
    )
    return organisation


def _this_week(
    diary: Diary,
    program: Program,
    participants: list[Member],
    professionals: list[Member],
    *,
    manager: Member,
) -> None:
    """The calendar opens on this week: a masterclass and a private group session, a few
    1:1 appointments each weekday (held on the days gone by, booked on the days to come),
    and more next week."""
    tz, rng = diary.default_tz, diary.rng
    today = diary.now.astimezone(tz).date()
    monday = today - today.weekday() * DAY
    start, end = program.window()
    active = [p for i, p in enumerate(participants) if i % 7 != 3]
    diary.session(
        program,
        kind=MeetingKind.MASTERCLASS,
        title="Découvrir les métiers du numérique",
        day=monday + 3 * DAY,
        after=start,
        before=end,
        minutes=90,
        led_by=professionals[0],
        members=active[:6],
        capacity=12,
        by=manager,
    )
    diary.session(
        program,
        kind=MeetingKind.GROUP,
        title="Atelier lettre de motivation",
        day=monday + DAY,
        after=start,
        before=end,
        minutes=60,
        led_by=None,
        members=[professionals[1], *active[6:10]],
        by=manager,
    )
    for offset in range(12):
        day = monday + offset * DAY
        if day.weekday() >= 5:
            continue
        for _ in range(2 if offset < 7 else 1):
            diary.one_to_one(
                program,
                [rng.choice(professionals), rng.choice(active)],
                after=start,
                before=end,
                day=day,
                by=manager,
            )


def _dates(
    rng: random.Random,
    organisation: Organisation,
    programmes: list[Program],
    *,
    staff: list[Member],
    now: dt.datetime,
) -> dict[int, dt.datetime]:
    """Created before they began: each programme some weeks before its start, each
    enrolment between the programme's creation and its start, the organisation and its staff
    before all of them (audit entries too). Returns when each member joined: before their
    first enrolment."""
    opened = {}
    for prog in programmes:
        begins = min(prog.window()[0], now)
        opened[prog.pk] = begins - rng.randint(20, 45) * DAY
        Program.objects.filter(pk=prog.pk).update(
            created_at=opened[prog.pk], updated_at=opened[prog.pk]
        )
        AuditEntry.objects.filter(target_type="programs.program", target_id=str(prog.pk)).update(
            created_at=opened[prog.pk]
        )
    founded = min(opened.values()) - 30 * DAY
    Organisation.objects.filter(pk=organisation.pk).update(created_at=founded, updated_at=founded)
    Member.objects.filter(pk__in=[m.pk for m in staff]).update(date_joined=founded)
    AuditEntry.objects.filter(organisation_id=organisation.pk, created_at__gte=now).exclude(
        target_type="programs.program"
    ).update(created_at=founded)
    joined: dict[int, dt.datetime] = {}
    enrolments = list(Enrolment.objects.filter(program__in=programmes).select_related("program"))
    for enrolment in enrolments:
        begins = min(enrolment.program.window()[0], now)
        first = opened[enrolment.program_id]
        enrolment.created_at = enrolment.updated_at = _when(rng, first, begins)
        joined[enrolment.member_id] = min(
            joined.get(enrolment.member_id, enrolment.created_at),
            enrolment.created_at - rng.randint(1, 30) * DAY,
        )
    Enrolment.objects.bulk_update(enrolments, ["created_at", "updated_at"])
    return joined


JOBS = [
    ("Développeuse web", "Numérique"),
    ("Chargé de communication", "Communication"),
    ("Infirmière", "Santé"),
    ("Comptable", "Finance"),
    ("Ingénieur qualité", "Industrie"),
    ("Professeure des écoles", "Éducation"),
    ("Responsable RH", "Ressources humaines"),
]
COMPANIES = [
    "Atelier Lumière",
    "Banque du Marais",
    "Hôpital Saint-Louis",
    "Rails & Cie",
    "Lycée Voltaire",
]
CITIES = [
    ("Paris", "Île-de-France"),
    ("Lyon", "Auvergne-Rhône-Alpes"),
    ("Lille", "Hauts-de-France"),
    ("Nantes", "Pays de la Loire"),
]
SKILLS = ["Communication", "Leadership", "Négociation", "Prise de parole", "Gestion de projet"]


def _demo_profiles(
    rng: random.Random,
    organisation: Organisation,
    *,
    participants: list[Member],
    professionals: list[Member],
    manager: Member,
    joined: dict[int, dt.datetime],
    left: dict[int, dt.datetime],
    now: dt.datetime,
) -> None:
    """Profiles of every completeness, custom fields, cohorts and tags, a few members
    switched off and one archived: the Members tab has something to show."""
    sport = CustomField.objects.create(
        organisation=organisation, name_fr="Sport préféré", name_en="Favorite sport",
        options="Baseball, Football, Hockey, Natation, Tennis", multiple=True, searchable=True,
        order=1, hint="Choisissez un ou plusieurs sports",
    )  # fmt: skip
    pronoun = CustomField.objects.create(
        organisation=organisation, name_fr="Votre pronom", name_en="Preferred pronouns",
        options="Il/Lui, Elle/Elle, Iel, Autre", required=True, role=FieldRole.BOTH, order=2,
    )  # fmt: skip
    CustomField.objects.create(
        organisation=organisation, name_fr="Disponibilités", name_en="Availability",
        description="Quand êtes-vous disponible pour une rencontre ?", order=3,
    )  # fmt: skip
    values = []
    for index, member in enumerate(participants + professionals):
        member.role = MemberRole.MENTOR if member in professionals else MemberRole.MENTEE
        depth = rng.random()
        job, industry = rng.choice(JOBS)
        city, province = rng.choice(CITIES)
        member.country = "France"
        member.city, member.province = (city, province) if depth > 0.2 else ("", "")
        if depth > 0.35:
            member.job_title, member.industry = job, industry
            member.company = rng.choice(COMPANIES)
            member.years_experience = rng.randint(0, 25)
        if depth > 0.55:
            member.goals = "Trouver ma voie et élargir mon réseau."
            member.skills = ", ".join(rng.sample(SKILLS, 2))
            member.development_areas = ", ".join(rng.sample(SKILLS, 2))
        if depth > 0.8:
            member.linkedin = f"https://www.linkedin.com/in/demo-{index}"
        if index < 22:
            member.administrator = manager
        member.date_joined = joined.get(member.pk, now - 5 * DAY)
        if depth > 0.3:
            values += [
                CustomFieldValue(member=member, field=sport, value=value)
                for value in rng.sample(sport.choices, rng.randint(1, 2))
            ]
        if depth > 0.45:
            values.append(
                CustomFieldValue(member=member, field=pronoun, value=rng.choice(pronoun.choices))
            )
    for member in participants[40:42]:
        member.is_active, member.deactivated_at = False, left[member.pk]
    participants[43].archived_at = left[participants[43].pk]
    Member.objects.bulk_update(
        participants + professionals,
        ["role", "country", "city", "province", "job_title", "industry", "company",
         "years_experience", "goals", "skills", "development_areas", "linkedin",
         "administrator", "date_joined", "is_active", "deactivated_at", "archived_at"],
    )  # fmt: skip
    CustomFieldValue.objects.bulk_create(values)
    autumn = Cohort.objects.create(organisation=organisation, name="Cohorte automne 2026")
    spring = Cohort.objects.create(organisation=organisation, name="Cohorte printemps 2027")
    grant = Cohort.objects.create(organisation=organisation, name="Boursier", kind=CohortKind.TAG)
    autumn.members.add(*participants[:24])
    spring.members.add(*participants[24:40])
    grant.members.add(*participants[::5])
