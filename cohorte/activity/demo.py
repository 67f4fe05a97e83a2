"""Demo and benchmark data: a believable organisation, and a bulk filler for big programmes.
Random is seeded so every run builds the same world."""

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
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
from cohorte.core.db import analyze
from cohorte.meetings.models import (
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    Relationship,
    RelationshipStatus,
)
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

from .models import ActivityEvent, Conversation, EventKind, ParticipantStats, Report
from .services import stats_refresh

DEMO_ORGANISATION = "Réseau Cohorte"
DEMO_ADMIN_EMAIL = "admin@cohorte.example"
DEMO_ADMIN_PASSWORD = "cohorte-demo"  # noqa: S105 — printed by `make run`, demo only
DEMO_MANAGER_PASSWORD = "cohorte-demo"  # noqa: S105

FRENCH_FIRST = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Jade",
    "Louise",
    "Zoé",
    "Lina",
    "Emma",
    "Lucas",
    "Hugo",
    "Louis",
    "Nathan",
    "Gabriel",
    "Jules",
    "Arthur",
    "Raphaël",
    "Adam",
    "Théo",
    "Sofiane",
    "Yasmine",
    "Mamadou",
    "Aïcha",
    "Élodie",
    "Benoît",
    "Gaëlle",
    "Noé",
    "Maëlys",
    "Anaïs",
]
FRENCH_LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Ait-Salem",
    "Diallo",
    "Nguyen",
    "Girard",
    "Bonnet",
    "Dupont",
]
ENGLISH_FIRST = [
    "Emily",
    "Oliver",
    "Grace",
    "Jack",
    "Sophie",
    "Harry",
    "Olivia",
    "George",
    "Amelia",
]
ENGLISH_LAST = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Wright"]


def _member(organisation: Organisation, first: str, last: str, language: str, n: int) -> Member:
    slug = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    for a, b in [("é", "e"), ("è", "e"), ("ë", "e"), ("ï", "i"), ("ç", "c"), ("ê", "e")]:
        slug = slug.replace(a, b)
    return Member(
        email=f"{slug}.{n}@cohorte.example",
        first_name=first,
        last_name=last,
        language=language,
        organisation=organisation,
        password=make_password(None),
    )


def _when(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    # In UTC: adding to a Paris time would move by the wall clock across a DST change.
    span = max(1, int((end - start).total_seconds()))
    return start.astimezone(dt.UTC) + dt.timedelta(seconds=rng.randrange(span))


@transaction.atomic
def demo_build(*, today: dt.date | None = None) -> Organisation | None:
    """The demo world. Returns None when it is already there (the command is idempotent)."""
    if Organisation.objects.filter(name=DEMO_ORGANISATION).exists():
        return None
    rng = random.Random(2026)  # noqa: S311
    today = today or timezone.localdate()
    organisation, admin = organisation_create(
        name=DEMO_ORGANISATION,
        admin_email=DEMO_ADMIN_EMAIL,
        admin_password=DEMO_ADMIN_PASSWORD,
        timezone_name="Europe/Paris",
    )
    admin.first_name, admin.last_name = "Alice", "Administratrice"
    admin.save(update_fields=["first_name", "last_name"])
    claire = Member.objects.create_user(
        "claire.martin@cohorte.example",
        DEMO_MANAGER_PASSWORD,
        organisation=organisation,
        first_name="Claire",
        last_name="Martin",
    )
    james = Member.objects.create_user(
        "james.wilson@cohorte.example",
        DEMO_MANAGER_PASSWORD,
        organisation=organisation,
        first_name="James",
        last_name="Wilson",
        language=Language.EN,
    )
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

    days = dt.timedelta
    orientation = program(
        "Orientation Terminale 2026",
        ProgramKind.ACCOMPANIMENT,
        today - days(60),
        today + days(60),
        3,
        lycees,
        "Les élèves de terminale rencontrent des professionnels pour choisir leur voie.",
        [claire],
    )
    mentoring = program(
        "Mentorat jeunes diplômés",
        ProgramKind.MENTORING,
        today - days(300),
        today - days(30),
        4,
        paris,
        "Un mentor accompagne chaque jeune diplômé pendant sa première année.",
        [james],
    )
    training = program(
        "Formation enseignants : le numérique en classe",
        ProgramKind.TRAINING,
        today - days(20),
        today + days(70),
        2,
        region,
        "Parcours en ligne et ateliers pour les enseignants du second degré.",
        [claire],
    )
    campaign = program(
        "Entretiens annuels 2027",
        ProgramKind.INTERVIEW_CAMPAIGN,
        today + days(20),
        today + days(120),
        1,
        hr,
        "Campagne d'entretiens annuels des collaborateurs.",
        [james],
    )

    people = []
    for n in range(58):
        if n % 6 == 5:
            first, last, lang = rng.choice(ENGLISH_FIRST), rng.choice(ENGLISH_LAST), Language.EN
        else:
            first, last, lang = rng.choice(FRENCH_FIRST), rng.choice(FRENCH_LAST), Language.FR
        people.append(_member(organisation, first, last, lang, n))
    Member.objects.bulk_create(people)
    people = list(Member.objects.filter(email__in=[p.email for p in people]).order_by("pk"))
    participants, professionals = people[:48], people[48:]

    plan = [
        (orientation, participants[:22], professionals[:5], Role.PARTICIPANT),
        (mentoring, participants[18:34], professionals[4:8], Role.MENTEE),
        (training, participants[30:48], professionals[6:10], Role.PARTICIPANT),
        (campaign, participants[:10], professionals[:2], Role.COLLABORATOR),
    ]
    now = timezone.now()
    events, meetings = [], []
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
        start, end = prog.window()
        active_end = min(end, now)
        if active_end <= start:
            continue
        for i, member in enumerate(members):
            if i % 7 == 3:
                continue  # never came: « Jamais »
            energy = rng.randint(1, 12)
            for _ in range(energy):
                events.append(
                    ActivityEvent(
                        program=None,
                        actor=member,
                        kind=EventKind.SIGN_IN,
                        occurred_at=_when(rng, start, active_end),
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
                        occurred_at=_when(rng, start, active_end),
                    )
                )
            if prog.kind == ProgramKind.TRAINING:
                for _ in range(rng.randint(0, energy)):
                    events.append(
                        ActivityEvent(
                            program=prog,
                            actor=member,
                            kind=EventKind.COURSE_ACCESS,
                            occurred_at=_when(rng, start, active_end),
                        )
                    )
            for _ in range(rng.randint(0, min(energy, prog.objective + 1))):
                when = _when(rng, start, end)
                status = (
                    MeetingStatus.CONFIRMED
                    if when < now and rng.random() < 0.8
                    else (
                        MeetingStatus.CANCELLED if rng.random() < 0.1 else MeetingStatus.SCHEDULED
                    )
                )
                meetings.append((prog, when, status, [member, rng.choice(pros)]))
    ActivityEvent.objects.bulk_create(events, batch_size=2000)
    for prog, when, status, attendees in meetings:
        meeting = Meeting.objects.create(
            program=prog, starts_at=when, duration_minutes=rng.choice([30, 45, 60]), status=status
        )
        MeetingAttendee.objects.bulk_create(
            [MeetingAttendee(meeting=meeting, member=m) for m in attendees]
        )

    # Flags: two reports and two conversations left unanswered in the running programme.
    Report.objects.create(
        program=orientation,
        member=participants[2],
        reported_by=professionals[0],
        reason="Absent au rendez-vous sans prévenir",
    )
    Report.objects.create(
        program=orientation,
        member=participants[9],
        reported_by=professionals[1],
        reason="Propos inappropriés dans la messagerie",
    )
    for participant, pro, ago in [
        (participants[5], professionals[2], 12),
        (participants[12], professionals[3], 9),
    ]:
        sent = now - days(ago)
        ActivityEvent.objects.create(
            program=orientation,
            actor=participant,
            kind=EventKind.MESSAGE,
            target=pro,
            occurred_at=sent,
        )
        Conversation.objects.create(
            program=orientation, participant=participant, professional=pro, last_message_at=sent
        )
    for prog in (orientation, mentoring, training, campaign):
        stats_refresh(program=prog)
    _demo_profiles(
        rng, organisation, participants=participants, professionals=professionals,
        mentoring=mentoring, manager=claire, now=now,
    )  # fmt: skip
    _demo_messages(
        rng, organisation, admin=admin, mentoring=mentoring, orientation=orientation, now=now
    )
    return organisation


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
    mentoring: Program,
    manager: Member,
    now: dt.datetime,
) -> None:
    """Profiles of every completeness, custom fields, cohorts and tags, mentoring pairs,
    a few members switched off and one archived: the Members tab has something to show."""
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
        member.date_joined = now - dt.timedelta(days=rng.randint(5, 400))
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
        member.is_active, member.deactivated_at = False, now - dt.timedelta(days=10)
    participants[43].archived_at = now - dt.timedelta(days=3)
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
    mentees, mentors = participants[18:34], professionals[4:8]
    pairs = [
        Relationship(
            program=mentoring,
            mentor=mentors[i % len(mentors)],
            mentee=mentee,
            status=RelationshipStatus.COMPLETED if i >= 10 else RelationshipStatus.MATCHED,
            ended_at=now if i >= 10 else None,
        )
        for i, mentee in enumerate(mentees[:13])
    ]
    Relationship.objects.bulk_create(pairs)
    member_counters_refresh(member_ids=[m.pk for m in participants + professionals])
    organisation_completion_recompute(organisation_id=organisation.pk)
    _demo_bookings(mentoring=mentoring, mentors=mentors, mentees=mentees, manager=manager, now=now)


def _demo_bookings(
    *,
    mentoring: Program,
    mentors: list[Member],
    mentees: list[Member],
    manager: Member,
    now: dt.datetime,
) -> None:
    """Weekly availability for the mentoring pairs (one mentor in Montréal, as in the seed)
    and a few meetings booked on their behalf, some answered."""
    from cohorte.meetings.models import Availability, MeetingAttendee, Response
    from cohorte.meetings.services import meetings_book

    Member.objects.filter(pk=mentors[0].pk).update(timezone="America/Toronto")
    mentors[0].timezone = "America/Toronto"
    Availability.objects.bulk_create(
        [
            Availability(member=person, weekday=day, start=dt.time(8), end=dt.time(20))
            for person in mentors + mentees
            for day in range(5)
        ]
    )
    tz = mentoring.organisation.tzinfo
    today = now.astimezone(tz).date()
    tuesday = today + dt.timedelta(days=(1 - today.weekday()) % 7 + 7)
    matched = list(
        Relationship.objects.filter(program=mentoring, status=RelationshipStatus.MATCHED).order_by(
            "pk"
        )[:3]
    )
    for index, relationship in enumerate(matched):
        start = dt.datetime.combine(tuesday + dt.timedelta(days=index), dt.time(15, 0), tzinfo=tz)
        meetings = meetings_book(
            relationship=relationship,
            by=manager,
            starts_at=start,
            duration_minutes=30 if index else 60,
            meeting_type="video",
            frequency="weekly" if index == 0 else "none",
            count=3 if index == 0 else 1,
        )
        if index == 0:
            MeetingAttendee.objects.filter(meeting__in=meetings, member=relationship.mentor).update(
                response=Response.ACCEPTED, responded_at=now
            )
        if index == 1:
            MeetingAttendee.objects.filter(meeting__in=meetings, member=relationship.mentee).update(
                response=Response.DECLINED, responded_at=now
            )


#: the kinds bulk_fill draws from, equally often
BULK_KINDS = (EventKind.SIGN_IN, EventKind.COURSE_ACCESS, EventKind.PROFILE_VIEW, EventKind.CONTACT)
#: events written by one statement on SQLite (PostgreSQL writes them all in one)
BULK_CHUNK = 50_000
#: from this many events, PostgreSQL's indexes on events are built again after the insert
REBUILD_INDEXES_FROM = 200_000


@transaction.atomic
def bulk_fill(
    *, program: Program, participants: int, events: int, seed: int = 7, prefix: str = "bulk"
) -> None:
    """Fill a programme with many participants and events, fast, for the benchmark and
    `demo --participants N --events M`. Counters are rebuilt at the end.

    The events are drawn as before (each kind equally often, a silent tenth of participants
    who do nothing, targets among the professionals, times anywhere between the start and
    now) but written set-based: one INSERT … SELECT over generate_series on PostgreSQL
    (10,000,000 rows without one Python object each), executemany in large chunks on
    SQLite. Both are seeded, so a rebuild gives the same world."""
    rng = random.Random(seed)  # noqa: S311
    organisation = program.organisation
    password = make_password(None)
    start, end = (moment.astimezone(dt.UTC) for moment in program.window())
    now = timezone.now()
    active_end = min(end, now) if now > start else end
    pros = [
        Member(
            email=f"{prefix}-pro-{program.pk}-{i}@cohorte.example",
            first_name=rng.choice(FRENCH_FIRST),
            last_name=rng.choice(FRENCH_LAST),
            organisation=organisation,
            password=password,
        )
        for i in range(max(5, participants // 100))
    ]
    members = [
        Member(
            email=f"{prefix}-{program.pk}-{i}@cohorte.example",
            first_name=rng.choice(FRENCH_FIRST + ENGLISH_FIRST),
            last_name=rng.choice(FRENCH_LAST + ENGLISH_LAST),
            organisation=organisation,
            password=password,
        )
        for i in range(participants)
    ]
    Member.objects.bulk_create(pros + members, batch_size=2000)
    if any(member.pk is None for member in pros + members):  # no RETURNING on this database
        emails = [m.email for m in pros + members]
        by_email: dict[str, int] = {}
        for i in range(0, len(emails), 900):
            by_email.update(
                Member.objects.filter(email__in=emails[i : i + 900]).values_list("email", "pk")
            )
        for member in pros + members:
            member.pk = by_email[member.email]
    pro_ids = [p.pk for p in pros]
    member_ids = [m.pk for m in members]
    Enrolment.objects.bulk_create(
        [Enrolment(program=program, member_id=pk, role=Role.PROFESSIONAL) for pk in pro_ids]
        + [Enrolment(program=program, member_id=pk, role=Role.PARTICIPANT) for pk in member_ids],
        batch_size=2000,
    )
    silent = set(rng.sample(member_ids, k=len(member_ids) // 10))
    active_ids = [pk for pk in member_ids if pk not in silent] or member_ids
    span = max(1, int((active_end - start).total_seconds()))
    if events:
        write = _events_insert_sql if connection.vendor == "postgresql" else _events_executemany
        write(
            program=program,
            actor_ids=active_ids,
            target_ids=pro_ids,
            start=start,
            span=span,
            events=events,
            rng=rng,
        )
    meeting_rows = []
    for pk in rng.sample(member_ids, k=len(member_ids) // 2):
        meeting_rows.append(
            (
                Meeting(
                    program=program,
                    starts_at=start
                    + dt.timedelta(
                        seconds=rng.randrange(max(1, int((end - start).total_seconds())))
                    ),
                    duration_minutes=45,
                    status=rng.choice(list(MeetingStatus.values)),
                ),
                pk,
            )
        )
    Meeting.objects.bulk_create([m for m, _ in meeting_rows], batch_size=2000)
    MeetingAttendee.objects.bulk_create(
        [MeetingAttendee(meeting=m, member_id=pk) for m, pk in meeting_rows]
        + [MeetingAttendee(meeting=m, member_id=rng.choice(pro_ids)) for m, _ in meeting_rows],
        batch_size=2000,
    )
    for pk in rng.sample(member_ids, k=min(20, len(member_ids))):
        Report.objects.create(
            program=program, member_id=pk, reported_by_id=pro_ids[0], reason="Absent"
        )
    analyze(ActivityEvent._meta.db_table, Enrolment._meta.db_table, Member._meta.db_table)
    stats_refresh(program=program)
    analyze(
        ActivityEvent._meta.db_table,
        Meeting._meta.db_table,
        MeetingAttendee._meta.db_table,
        Enrolment._meta.db_table,
        ParticipantStats._meta.db_table,
        Member._meta.db_table,
    )


@contextmanager
def _indexes_built_after(table: str, *, rows: int) -> Iterator[None]:
    """Drop the table's indexes (not its primary key) for a bulk insert, build them again
    after. Millions of rows at random places of six B-trees far larger than the cache cost
    random writes by the million (measured on SQLite: 120 µs a row, against 22 without
    indexes); building them again after, by sorting, costs a few seconds a million. Same
    definitions, read back from the catalogue; same transaction: nobody sees the table
    without them."""
    if rows < REBUILD_INDEXES_FROM or connection.vendor not in ("postgresql", "sqlite"):
        yield
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND tablename = %s"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


def _events_insert_sql(
    *,
    program: Program,
    actor_ids: list[int],
    target_ids: list[int],
    start: dt.datetime,
    span: int,
    events: int,
    rng: random.Random,
) -> None:
    """PostgreSQL: every event in one INSERT … SELECT. The draws are made once per row in a
    subquery (OFFSET 0 keeps the planner from inlining them: kind, programme and target
    must agree), random() seeded from rng so a rebuild is the same."""
    table = ActivityEvent._meta.db_table  # d.k = 1 is BULK_KINDS[0], the platform sign-in
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")  # a builder: nothing to lose
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        (superuser,) = cursor.fetchone()
    with _indexes_built_after(table, rows=events), connection.cursor() as cursor:
        if superuser:
            # every id below was just read from its table: skip the three foreign-key checks
            # a row (each one locks a member row), as pg_restore does
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked now, before CREATE INDEX
        cursor.execute("SELECT setseed(%s)", [rng.random() * 2 - 1])
        cursor.execute(
            f"""
            INSERT INTO {table} (program_id, actor_id, kind, target_id, occurred_at, created_at)
            SELECT CASE WHEN d.k = 1 THEN NULL ELSE %(program)s END,
                   (%(actors)s::bigint[])[d.a],
                   (%(kinds)s::varchar[])[d.k],
                   CASE WHEN d.k >= 3 THEN (%(targets)s::bigint[])[d.t] END,
                   %(start)s::timestamptz + d.s * interval '1 second',
                   now()
            FROM (
                SELECT 1 + floor(random() * 4)::int AS k,
                       1 + floor(random() * %(n_actors)s)::int AS a,
                       1 + floor(random() * %(n_targets)s)::int AS t,
                       floor(random() * %(span)s) AS s
                FROM generate_series(1, %(events)s)
                OFFSET 0
            ) AS d
            """,  # noqa: S608 — the table name is ours, every value a parameter
            {
                "program": program.pk,
                "actors": actor_ids,
                "kinds": [str(kind) for kind in BULK_KINDS],
                "targets": target_ids,
                "start": start,
                "n_actors": len(actor_ids),
                "n_targets": len(target_ids),
                "span": span,
                "events": events,
            },
        )
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _events_executemany(
    *,
    program: Program,
    actor_ids: list[int],
    target_ids: list[int],
    start: dt.datetime,
    span: int,
    events: int,
    rng: random.Random,
) -> None:
    """SQLite (or any other database): plain tuples, written BULK_CHUNK at a time."""
    table = ActivityEvent._meta.db_table
    sign_in, _access, *with_target = BULK_KINDS
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"INSERT INTO {table} (program_id, actor_id, kind, target_id, occurred_at, created_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    choice, randrange = rng.choice, rng.randrange
    with _indexes_built_after(table, rows=events), connection.cursor() as cursor:
        for first in range(0, events, BULK_CHUNK):
            rows = []
            for _ in range(min(BULK_CHUNK, events - first)):
                kind = choice(BULK_KINDS)
                rows.append(
                    (
                        None if kind == sign_in else program.pk,
                        choice(actor_ids),
                        str(kind),
                        choice(target_ids) if kind in with_target else None,
                        adapt(start + dt.timedelta(seconds=randrange(span))),
                        created,
                    )
                )
            cursor.executemany(sql, rows)


@transaction.atomic  # a fill that fails leaves no empty programme to be « reused »
def big_program(
    *, organisation: Organisation, name: str, participants: int, events: int, prefix: str = "bulk"
) -> tuple[Program, bool]:
    """A running programme (90 days in, 90 to go) filled by bulk_fill; the one already there
    under that name is reused. Returns (programme, built)."""
    program = (
        Program.objects.filter(organisation=organisation, name=name)
        .select_related("organisation")
        .first()
    )
    if program is not None:
        return program, False
    today = timezone.localdate()
    program = Program.objects.create(
        organisation=organisation,
        name=name,
        kind=ProgramKind.ACCOMPANIMENT,
        start_date=today - dt.timedelta(days=90),
        end_date=today + dt.timedelta(days=90),
        objective=3,
    )
    bulk_fill(program=program, participants=participants, events=events, prefix=prefix)
    return program, True


def _demo_messages(
    rng: random.Random,
    organisation: Organisation,
    *,
    admin: Member,
    mentoring: Program,
    orientation: Program,
    now: dt.datetime,
) -> None:
    """A sent message with delivery statuses in the e-mail log, one scheduled for next week,
    an automatic reminder rule and a release note in the administrator's bell."""
    from cohorte.messaging import services as messaging
    from cohorte.messaging.models import Email, EmailStatus, ReleaseNote, ReminderRule

    sent = messaging.message_save(
        organisation_id=organisation.pk,
        program=mentoring,
        by=admin,
        draft=messaging.Draft(
            audience="mentors_mentees",
            subject_fr="Lancement du mentorat, {prénom} !",
            subject_en="Mentoring starts, {first_name}!",
            body_fr="<p>Bonjour {prénom},</p><p>Le programme <strong>{programme}</strong> démarre. "
            "Votre première rencontre est à planifier <em>avant la fin du mois</em>.</p>"
            "<ul><li>Complétez votre profil</li><li>Prenez contact avec votre binôme</li></ul>",
            body_en="<p>Hello {first_name},</p><p><strong>{program}</strong> is starting. "
            "Plan your first meeting <em>before the end of the month</em>.</p>",
        ),
    )
    messaging.message_send(message=sent, by=admin)
    rows = list(Email.objects.filter(message=sent))
    outcomes = [EmailStatus.OPENED] * 5 + [EmailStatus.DELIVERED] * 3 + [EmailStatus.BOUNCED]
    for row in rows:
        status = rng.choice(outcomes)
        when = now - dt.timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 12))
        Email.objects.filter(pk=row.pk).update(
            status=status,
            created_at=when,
            sent_at=when,
            delivered_at=when if status != EmailStatus.BOUNCED else None,
            opened_at=when + dt.timedelta(hours=rng.randint(1, 48))
            if status == EmailStatus.OPENED
            else None,
            last_error="550 5.1.1 mailbox unavailable" if status == EmailStatus.BOUNCED else "",
        )
    Email.objects.filter(message=sent).update(attempts=1)
    later = messaging.message_save(
        organisation_id=organisation.pk,
        program=orientation,
        by=admin,
        draft=messaging.Draft(
            audience="mentees",
            subject_fr="Atelier CV jeudi",
            subject_en="CV workshop on Thursday",
            body_fr="<p>Bonjour {prénom}, un atelier CV a lieu jeudi à 17 h.</p>",
            body_en="<p>Hello {first_name}, a CV workshop takes place on Thursday at 5 pm.</p>",
        ),
    )
    messaging.message_schedule(message=later, send_at=now + dt.timedelta(days=7), by=admin)
    ReminderRule.objects.create(
        program=orientation, kind="never_signed_in", days=14, created_by=admin
    )
    note = ReleaseNote.objects.create(
        title_fr="Notes de mise à jour : registre des courriels",
        title_en="Release notes: e-mail log",
        body_fr="<h2>Registre des courriels</h2><ul><li>Statut de livraison de chaque courriel "
        "(délivré, ouvert, retourné, différé, rapport de spam).</li><li>Téléchargement du registre "
        "filtré en CSV.</li></ul>",
        body_en="<h2>E-mail log</h2><ul><li>Delivery status of each e-mail (delivered, opened, "
        "bounced, deferred, spam report).</li><li>Download the filtered log as CSV.</li></ul>",
    )
    messaging.release_note_publish(note=note)
