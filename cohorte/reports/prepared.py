"""The six prepared reports of « Générer des rapports » (seed 004): each is a list of
columns and a query whose rows are yielded one at a time (exporters.Report). Everything
is counted by the database — filtered Count, Subquery — and read with .iterator(), so a
report costs a fixed number of queries whatever its number of rows (the surveys report:
a fixed number per survey, through surveys.selectors.survey_results).

For a programme, or for the whole organisation (administrators). Times are in the
organisation's time zone.

What is left out, and said in the file:
- the relationships report holds the notes and the messages of a relationship only where
  its programme lets its managers read them (conversations.ProgramConversationSettings
  .managers_read, off by default, « les responsables lisent les conversations et les
  notes »); elsewhere the two cells say that the programme's setting keeps them private;
- evaluation comments are those the « Rencontres » tab already shows the managers.
"""

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator
from itertools import batched
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    StringAgg,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cohorte.accounts.models import CustomField, CustomFieldValue, Member, MemberRole
from cohorte.accounts.reports import MEMBER_REPORT_COLUMNS, STATUS_COLUMNS
from cohorte.conversations.models import (
    ConversationMessage,
    ProgramConversationSettings,
    RelationshipNote,
)
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import MAX_ID, ParseError, parse_date, parse_id, parse_int
from cohorte.meetings.models import (
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    MeetingType,
    Relationship,
    RelationshipStatus,
)
from cohorte.programs.models import Cohort, CohortKind, Enrolment, Organisation, Program, Role
from cohorte.surveys.models import QuestionKind, Survey
from cohorte.surveys.selectors import option_label, question_label, survey_results, surveys_of

from .exporters import Column, Report


@dataclasses.dataclass(frozen=True)
class Scope:
    """Whose data: one programme, or every programme of the organisation."""

    organisation: Organisation
    program: Program | None
    by: Member
    filters: dict[str, str] = dataclasses.field(default_factory=dict)

    def programs(self) -> QuerySet[Program]:
        if self.program is not None:
            return Program.objects.filter(pk=self.program.pk)
        return Program.objects.filter(organisation=self.organisation)

    @property
    def tz(self) -> dt.tzinfo:
        return self.organisation.tzinfo


#: how a filter's value is written and checked (filters_clean)
CHOICE, DATE, COHORT, TAG, FIELD, TEXT, PERCENT = (
    "choice", "date", "cohort", "tag", "field", "text", "percent"
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Filter:
    """One filter a report accepts. Every value is a string (a form's, a JSON body's, a
    saved definition's): a choice among `choices`, a date AAAA-MM-JJ, the id of one of the
    organisation's cohorts, tags or custom fields, a short text or a percentage."""

    key: str
    label: str | Promise
    kind: str = CHOICE
    #: a choice's values and their labels
    choices: Callable[[], list[tuple[str, str | Promise]]] | None = None
    #: the filter this one only makes sense with (a custom field's option: its field)
    needs: str = ""

    def values(self) -> list[str]:
        return [value for value, _label in (self.choices() if self.choices else [])]


@dataclasses.dataclass(frozen=True)
class Prepared:
    name: str
    label: str | Promise
    build: Callable[[Scope], Report]
    #: its filters by key, in the order the custom report page shows them
    filters: dict[str, Filter] = dataclasses.field(default_factory=dict)

    def columns(self, scope: Scope) -> list[Column]:
        return self.build(scope).columns


MINUTE = "%Y-%m-%d %H:%M"
DAY = "%Y-%m-%d"


def _when(moment: dt.datetime | None, tz: dt.tzinfo, pattern: str = MINUTE) -> str:
    """`moment` in `tz` by `pattern`; the two patterns of the reports through isoformat,
    several times faster than strftime (300,000 calls for the members of a large
    programme), with the same text (but for a year before 1000, which isoformat writes
    with its leading zeros)."""
    if moment is None:
        return ""
    local = localtime_or_utc(moment, tz)
    if pattern == MINUTE:
        return f"{local.date().isoformat()} {local.hour:02d}:{local.minute:02d}"
    if pattern == DAY:
        return local.date().isoformat()
    return local.strftime(pattern)


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def _name(first: str, last: str, email: str) -> str:
    return f"{first} {last}".strip() or email


def _roles() -> list[str]:
    return [value for value, _label in Role.choices]


def _yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return _("oui") if value else _("non")


# --- Members -----------------------------------------------------------------------------

#: keys of accounts.reports.STATUS_COLUMNS, in its order
STATUS_KEYS = (
    "profile_completion",
    "last_access",
    "relationships_count",
    "matches_count",
    "mentoring_hours",
    "date_joined",
    "deactivated_at",
    "is_active",
    "cohorts",
)


#: the Member fields behind STATUS_KEYS' cells, in its order (cohorts: read apart)
MEMBER_STATUS_FIELDS = (
    "profile_completion",
    "last_access",
    "relationships_count",
    "matches_count",
    "mentoring_minutes",
    "date_joined",
    "deactivated_at",
    "is_active",
)
#: members read at once by the members report, with their answers and cohorts
MEMBERS_CHUNK = 2000


def _among(ids: list[int]) -> Any:
    """`ids` for an `__in` as one parameter (an array on PostgreSQL, JSON on SQLite): a
    chunk of 2,000 ids is then not 2,000 placeholders for Django to build and the driver
    to parse (15 ms a query on PostgreSQL: 1.5 s of a report of 100,000 members)."""
    if connection.vendor == "postgresql":  # a text, not an array: dumped at no cost
        return RawSQL(
            "SELECT unnest(string_to_array(%s, ',')::bigint[])", [",".join(map(str, ids))]
        )
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])
    return ids


def members_report(scope: Scope) -> Report:
    """The members' full report (accounts.reports: same columns, same custom fields), for
    a programme's enrolled members with their role there, or the organisation's."""
    fields = list(
        CustomField.objects.filter(organisation=scope.organisation, in_reports=True).order_by("pk")
    )
    if not scope.by.is_org_admin:
        fields = [field for field in fields if not field.admin_only]
    members = Member.objects.filter(organisation=scope.organisation)
    if scope.filters.get("status") != "archived":
        members = members.filter(archived_at__isnull=True)
    members = members.filter(*member_conditions(scope))
    columns: list[Column] = []
    role = scope.filters.get("role")
    if scope.program is not None:
        # a join on the member's current enrolment (one per programme and member), not a
        # subquery per member: 101,000 index lookups fewer for the largest programmes
        current = Q(enrolments__program=scope.program, enrolments__ended_at__isnull=True)
        if role:
            current &= Q(enrolments__role=role)
        members = (
            members.annotate(current=FilteredRelation("enrolments", condition=current))
            .filter(current__isnull=False)
            .annotate(program_role=F("current__role"))
        )
        columns.append(Column("program_role", gettext_lazy("Rôle dans le programme")))
    elif role:
        members = members.filter(role=role)
    columns += [Column(key, label) for key, label in MEMBER_REPORT_COLUMNS]
    columns += [Column(f"field_{field.pk}", field.name) for field in fields]
    columns += [Column(key, label) for key, label in zip(STATUS_KEYS, STATUS_COLUMNS, strict=True)]
    members = members.order_by("last_name", "first_name", "pk")
    total = members.count()
    # the labels translated once, not once a row
    member_roles = {value: str(label) for value, label in MemberRole.choices}
    program_roles = {value: str(label) for value, label in Role.choices}
    field_ids = [field.pk for field in fields]
    tz = scope.tz

    def rows() -> Iterator[list[Any]]:
        # plain tuples, not models: model instances and their prefetch caches cost ~250 µs
        # a member (25 s for 100,000, bench/reports.py); answers and cohorts are read per
        # chunk of MEMBERS_CHUNK members, two queries each, as prefetch_related would
        names = [key for key, _label in MEMBER_REPORT_COLUMNS]
        role_at = names.index("role")
        lead = ["pk", "program_role"] if scope.program is not None else ["pk"]
        queryset = members.values_list(*lead, *names, *MEMBER_STATUS_FIELDS)
        start = len(lead)
        end = start + len(names)
        yes_no = {True: _yes_no(True), False: _yes_no(False)}
        field_at = {field_id: i for i, field_id in enumerate(field_ids)}
        no_answers = [""] * len(field_ids)
        for chunk in batched(queryset.iterator(chunk_size=MEMBERS_CHUNK), MEMBERS_CHUNK):
            ids = [row[0] for row in chunk]
            # each member's cells joined once here: a row then takes them in one lookup
            found: dict[int, list[list[str]]] = {}
            if field_ids:
                for member_id, field_id, value in (
                    CustomFieldValue.objects.filter(member_id__in=_among(ids))
                    .filter(field_id__in=field_ids)
                    .order_by("pk")
                    .values_list("member_id", "field_id", "value")
                ):
                    cells = found.get(member_id)
                    if cells is None:
                        cells = found[member_id] = [[] for _field in field_ids]
                    cells[field_at[field_id]].append(value)
            answers = {m: [", ".join(cell) for cell in cells] for m, cells in found.items()}
            groups: dict[int, list[str]] = {}
            for member_id, cohort in (
                Cohort.members.through.objects.filter(member_id__in=_among(ids))
                .order_by("cohort__kind", "cohort__name", "cohort_id")
                .values_list("member_id", "cohort__name")
            ):
                groups.setdefault(member_id, []).append(cohort)
            cohorts = {m: ", ".join(named) for m, named in groups.items()}
            for row in chunk:
                member_id = row[0]
                line: list[Any] = []
                if scope.program is not None:
                    line.append(program_roles.get(row[1], row[1] or ""))
                profile = ["" if cell is None else cell for cell in row[start:end]]
                profile[role_at] = member_roles.get(row[start + role_at], "")
                line += profile
                line += answers.get(member_id, no_answers)
                completion, last_access, relationships, matches, minutes = row[end : end + 5]
                joined, deactivated, active = row[end + 5 :]
                line += [
                    completion,
                    _when(last_access, tz),
                    relationships,
                    matches,
                    f"{minutes // 60:02d}:{minutes % 60:02d}",  # as Member.mentoring_hours
                    _when(joined, tz, DAY),
                    _when(deactivated, tz, DAY),
                    yes_no[active],
                    cohorts.get(member_id, ""),
                ]
                yield line

    return Report("members", str(PREPARED_LABELS["members"]), columns, total, rows())


# --- Relationships -----------------------------------------------------------------------


def _text_agg(field: str) -> StringAgg:
    """The texts joined, oldest first where the database orders inside an aggregate (an
    old SQLite does not: then in the order the rows were written)."""
    ordered = connection.features.supports_aggregate_order_by_clause
    return StringAgg(field, delimiter=Value("\n— "), order_by="created_at" if ordered else None)


def _count_of(queryset: QuerySet, group: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def relationships_report(scope: Scope) -> Report:
    """Each relationship: mentor, mentee, status, dates, meetings; its notes and messages
    only where the programme's setting lets the managers read them."""
    relationships = Relationship.objects.filter(program__in=scope.programs())
    status = scope.filters.get("status")
    if status:
        relationships = relationships.filter(status=status)
    started_after, started_before = _day_bounds(scope, "started_after", "started_before")
    if started_after is not None:
        relationships = relationships.filter(
            Q(started_on__gte=started_after.date())
            | Q(started_on__isnull=True, created_at__gte=started_after)
        )
    if started_before is not None:
        relationships = relationships.filter(
            Q(started_on__lt=started_before.date())
            | Q(started_on__isnull=True, created_at__lt=started_before)
        )
    readable = Coalesce(
        Subquery(
            ProgramConversationSettings.objects.filter(program=OuterRef("program")).values(
                "managers_read"
            )[:1],
            output_field=BooleanField(),
        ),
        Value(False),
    )
    meetings = Meeting.objects.filter(relationship=OuterRef("pk"))
    notes = (
        RelationshipNote.objects.filter(relationship=OuterRef("pk"))
        .order_by()
        .values("relationship")
        .annotate(text=_text_agg("body"))
        .values("text")
    )
    messages = ConversationMessage.objects.filter(
        conversation__program=OuterRef("program"),
        conversation__participants__member=OuterRef("mentor"),
    ).filter(conversation__participants__member=OuterRef("mentee"))
    messages_text = (
        messages.order_by()
        .values("conversation__program")
        .annotate(text=_text_agg("body"))
        .values("text")
    )
    held = meetings.filter(status=MeetingStatus.CONFIRMED)
    planned = meetings.exclude(status=MeetingStatus.CANCELLED)
    notes_count = RelationshipNote.objects.filter(relationship=OuterRef("pk"))

    Integer = IntegerField

    def if_readable(value: Any, output: Any) -> Case:
        return Case(When(readable=True, then=value), default=None, output_field=output)

    def text_of(query: QuerySet) -> Coalesce:
        return Coalesce(Subquery(query, output_field=TextField()), Value(""))

    relationships = (
        relationships.select_related("program", "mentor", "mentee")
        .annotate(
            readable=readable,
            meetings_held=_count_of(held, "relationship"),
            meetings_all=_count_of(planned, "relationship"),
            notes_count=if_readable(_count_of(notes_count, "relationship"), IntegerField()),
            notes_text=if_readable(text_of(notes), TextField()),
            messages_count=if_readable(_count_of(messages, "conversation__program"), Integer()),
            messages_text=if_readable(text_of(messages_text), TextField()),
        )
        .order_by("program__name", "program_id", "-created_at", "pk")
    )
    columns = [
        Column("program", gettext_lazy("Programme")),
        Column("mentor", gettext_lazy("Mentor")),
        Column("mentor_email", gettext_lazy("Courriel du mentor")),
        Column("mentee", gettext_lazy("Mentoré")),
        Column("mentee_email", gettext_lazy("Courriel du mentoré")),
        Column("status", gettext_lazy("Statut")),
        Column("started_on", gettext_lazy("Commencée le")),
        Column("ended_at", gettext_lazy("Terminée le")),
        Column("meetings", gettext_lazy("Rencontres (hors annulées)")),
        Column("meetings_held", gettext_lazy("Rencontres tenues")),
        Column("notes_count", gettext_lazy("Notes")),
        Column("notes", gettext_lazy("Texte des notes")),
        Column("messages_count", gettext_lazy("Messages")),
        Column("messages", gettext_lazy("Texte des messages")),
    ]
    statuses = dict(RelationshipStatus.choices)
    private = _("non visible : le réglage du programme garde les notes et messages privés")
    total = relationships.count()
    tz = scope.tz

    def rows() -> Iterator[list[Any]]:
        for r in relationships.iterator(chunk_size=2000):
            yield [
                r.program.name,
                r.mentor.full_name,
                r.mentor.email,
                r.mentee.full_name,
                r.mentee.email,
                statuses.get(r.status, r.status),
                _day(r.started_on) or _when(r.created_at, tz, DAY),
                _when(r.ended_at, tz, DAY),
                r.meetings_all,
                r.meetings_held,
                r.notes_count if r.readable else private,
                r.notes_text if r.readable else private,
                r.messages_count if r.readable else private,
                r.messages_text if r.readable else private,
            ]

    note = _(
        "Les notes et les messages d'une relation n'y figurent que si son programme permet "
        "à ses responsables de les lire (réglage des conversations, désactivé par défaut) ; "
        "sinon la cellule le dit."
    )
    return Report(
        "relationships", str(PREPARED_LABELS["relationships"]), columns, total, rows(), [note]
    )


# --- Meetings between relationships ------------------------------------------------------


def relationship_meetings_report(scope: Scope) -> Report:
    """Each meeting of a relationship, with each side's evaluation."""
    meetings = Meeting.objects.filter(relationship__program__in=scope.programs())
    status = scope.filters.get("status")
    if status:
        meetings = meetings.filter(status=status)
    meetings = meetings.filter(*_between(scope, "starts_at"))

    def side(who: str, field: str) -> Subquery:
        return Subquery(
            MeetingAttendee.objects.filter(
                meeting=OuterRef("pk"), member=OuterRef(f"relationship__{who}")
            ).values(field)[:1]
        )

    meetings = (
        meetings.select_related("program", "relationship__mentor", "relationship__mentee")
        .annotate(
            mentor_took_place=side("mentor", "took_place"),
            mentor_rating=side("mentor", "rating"),
            mentor_comment=side("mentor", "comment"),
            mentee_took_place=side("mentee", "took_place"),
            mentee_rating=side("mentee", "rating"),
            mentee_comment=side("mentee", "comment"),
        )
        .order_by("starts_at", "pk")
    )
    columns = [
        Column("program", gettext_lazy("Programme")),
        Column("mentor", gettext_lazy("Mentor")),
        Column("mentee", gettext_lazy("Mentoré")),
        Column("starts_at", gettext_lazy("Date")),
        Column("duration", gettext_lazy("Durée (min)")),
        Column("status", gettext_lazy("Statut")),
        Column("type", gettext_lazy("Type")),
        Column("mentor_took_place", gettext_lazy("A eu lieu selon le mentor")),
        Column("mentor_rating", gettext_lazy("Note du mentor")),
        Column("mentor_comment", gettext_lazy("Commentaire du mentor")),
        Column("mentee_took_place", gettext_lazy("A eu lieu selon le mentoré")),
        Column("mentee_rating", gettext_lazy("Note du mentoré")),
        Column("mentee_comment", gettext_lazy("Commentaire du mentoré")),
    ]
    statuses = dict(MeetingStatus.choices)
    types = dict(MeetingType.choices)
    total = meetings.count()
    tz = scope.tz

    def rows() -> Iterator[list[Any]]:
        for m in meetings.iterator(chunk_size=2000):
            pair = m.relationship
            if pair is None:  # the query keeps a relationship's meetings only
                continue
            yield [
                m.program.name,
                pair.mentor.full_name,
                pair.mentee.full_name,
                _when(m.starts_at, tz),
                m.duration_minutes,
                statuses.get(m.status, m.status),
                types.get(m.meeting_type, m.meeting_type),
                _yes_no(m.mentor_took_place),
                m.mentor_rating,
                m.mentor_comment or "",
                _yes_no(m.mentee_took_place),
                m.mentee_rating,
                m.mentee_comment or "",
            ]

    return Report(
        "relationship_meetings",
        str(PREPARED_LABELS["relationship_meetings"]),
        columns,
        total,
        rows(),
    )


# --- Meetings per member -----------------------------------------------------------------


def member_meetings_report(scope: Scope) -> Report:
    """Per member and programme: meetings planned, held, not held, cancelled, hours held —
    one grouped query."""
    enrolments = Enrolment.objects.filter(program__in=scope.programs())
    role = scope.filters.get("role")
    if role:
        enrolments = enrolments.filter(role=role)
    enrolments = enrolments.filter(*member_conditions(scope, path="member__"))
    inside = Q(member__attendances__meeting__program=F("program"))

    def count(status: str) -> Count:
        return Count(
            "member__attendances",
            filter=inside & Q(member__attendances__meeting__status=status),
        )

    held = inside & Q(member__attendances__meeting__status=MeetingStatus.CONFIRMED)
    enrolments = (
        enrolments.select_related("program", "member")
        .annotate(
            planned=count(MeetingStatus.SCHEDULED),
            held=count(MeetingStatus.CONFIRMED),
            not_held=count(MeetingStatus.NOT_HELD),
            cancelled=count(MeetingStatus.CANCELLED),
            minutes=Coalesce(Sum("member__attendances__meeting__duration_minutes", filter=held), 0),
            last_held=Max("member__attendances__meeting__starts_at", filter=held),
        )
        .order_by("program__name", "program_id", "member__last_name", "member__first_name", "pk")
    )
    columns = [
        Column("program", gettext_lazy("Programme")),
        Column("name", gettext_lazy("Nom")),
        Column("email", gettext_lazy("Courriel")),
        Column("role", gettext_lazy("Rôle")),
        Column("planned", gettext_lazy("Programmées")),
        Column("held", gettext_lazy("Tenues")),
        Column("not_held", gettext_lazy("Non tenues")),
        Column("cancelled", gettext_lazy("Annulées")),
        Column("hours", gettext_lazy("Heures tenues")),
        Column("last_held", gettext_lazy("Dernière rencontre tenue")),
        Column("enrolment_ended", gettext_lazy("Fin de participation")),
    ]
    roles = dict(Role.choices)
    total = enrolments.count()
    tz = scope.tz

    def rows() -> Iterator[list[Any]]:
        for e in enrolments.iterator(chunk_size=2000):
            yield [
                e.program.name,
                e.member.full_name,
                e.member.email,
                roles.get(e.role, e.role),
                e.planned,
                e.held,
                e.not_held,
                e.cancelled,
                round(e.minutes / 60, 2),
                _when(e.last_held, tz),
                _when(e.ended_at, tz, DAY),
            ]

    return Report(
        "member_meetings", str(PREPARED_LABELS["member_meetings"]), columns, total, rows()
    )


# --- Programme evaluation ----------------------------------------------------------------


def program_evaluation_report(scope: Scope) -> Report:
    """Every evaluation given after a meeting, and the distribution of the ratings."""
    evaluations = MeetingAttendee.objects.filter(
        meeting__program__in=scope.programs(), evaluated_at__isnull=False
    )
    role_of = Enrolment.objects.filter(
        program=OuterRef("meeting__program"), member=OuterRef("member")
    ).values("role")[:1]
    evaluations = evaluations.annotate(program_role=Subquery(role_of))
    role = scope.filters.get("role")
    if role:
        evaluations = evaluations.filter(program_role=role)
    evaluations = evaluations.filter(
        *_between(scope, "meeting__starts_at"), *member_conditions(scope, path="member__")
    )
    distribution = {
        row["rating"]: row["n"]
        for row in evaluations.order_by().values("rating").annotate(n=Count("pk"))
    }
    evaluations = evaluations.select_related("meeting__program", "member").order_by(
        "meeting__starts_at", "meeting_id", "pk"
    )
    columns = [
        Column("program", gettext_lazy("Programme")),
        Column("meeting", gettext_lazy("Date de la rencontre")),
        Column("name", gettext_lazy("Nom")),
        Column("email", gettext_lazy("Courriel")),
        Column("role", gettext_lazy("Rôle")),
        Column("took_place", gettext_lazy("A eu lieu")),
        Column("rating", gettext_lazy("Note (1 à 5)")),
        Column("comment", gettext_lazy("Commentaire")),
        Column("evaluated_at", gettext_lazy("Évaluée le")),
    ]
    roles = dict(Role.choices)
    total = sum(distribution.values())
    tz = scope.tz
    spread = " ; ".join(f"{rating} ★ : {distribution.get(rating, 0)}" for rating in range(5, 0, -1))
    notes = [
        _("Répartition des notes : %(spread)s ; sans note : %(none)d.")
        % {"spread": spread, "none": distribution.get(None, 0)}
    ]

    def rows() -> Iterator[list[Any]]:
        for a in evaluations.iterator(chunk_size=2000):
            yield [
                a.meeting.program.name,
                _when(a.meeting.starts_at, tz),
                a.member.full_name,
                a.member.email,
                roles.get(a.program_role, a.program_role or ""),
                _yes_no(a.took_place),
                a.rating,
                a.comment,
                _when(a.evaluated_at, tz),
            ]

    return Report(
        "program_evaluation",
        str(PREPARED_LABELS["program_evaluation"]),
        columns,
        total,
        rows(),
        notes,
    )


# --- Surveys -----------------------------------------------------------------------------


def surveys_report(scope: Scope) -> Report:
    """Per survey and question: invited, answered, rate, answers, mean, NPS, choices —
    the figures of the survey's results page (surveys.selectors.survey_results, a fixed
    number of queries per survey). An anonymous survey with too few answers shows none."""
    if scope.program is not None:
        surveys: QuerySet[Survey] = surveys_of(scope.program.pk)
    else:
        surveys = Survey.objects.filter(program__organisation=scope.organisation)
    surveys = surveys.select_related("program").order_by("program__name", "-opens_at", "pk")
    listed = list(surveys)
    total = sum(max(1, len(survey.questions or [])) for survey in listed)
    language = get_language() or "fr"
    kinds = dict(QuestionKind.choices)
    columns = [
        Column("program", gettext_lazy("Programme")),
        Column("survey", gettext_lazy("Sondage")),
        Column("anonymous", gettext_lazy("Anonyme")),
        Column("invited", gettext_lazy("Invités")),
        Column("answered", gettext_lazy("Réponses")),
        Column("rate", gettext_lazy("Taux de réponse (%)")),
        Column("question", gettext_lazy("Question")),
        Column("kind", gettext_lazy("Type de question")),
        Column("answers", gettext_lazy("Réponses à la question")),
        Column("mean", gettext_lazy("Moyenne")),
        Column("nps", gettext_lazy("NPS")),
        Column("choices", gettext_lazy("Répartition")),
    ]
    hidden = _("trop peu de réponses pour un sondage anonyme")

    def rows() -> Iterator[list[Any]]:
        for survey in listed:
            results = survey_results(survey=survey)
            head = [
                survey.program.name,
                survey.title_in(language),
                _yes_no(survey.anonymous),
                results["invited"],
                results["responded"],
                round(results["rate"] * 100, 1),
            ]
            by_key = {question["key"]: question for question in survey.questions or []}
            if not results["questions"]:
                yield [*head, "", "", "", "", "", ""]
            for row in results["questions"]:
                question = by_key.get(row["key"], {})
                if results["too_few"]:
                    choices = hidden
                else:
                    choices = " ; ".join(
                        f"{option_label(question, value, language)} : {n}"
                        for value, n in row["distribution"].items()
                    )
                yield [
                    *head,
                    question_label(question, language),
                    kinds.get(row["kind"], row["kind"]),
                    row["count"],
                    row.get("mean"),
                    row.get("nps"),
                    choices,
                ]

    return Report("surveys", str(PREPARED_LABELS["surveys"]), columns, total, rows())


# --- The catalogue -----------------------------------------------------------------------

PREPARED_LABELS: dict[str, str | Promise] = {
    "members": gettext_lazy("Rapport des membres"),
    "relationships": gettext_lazy("Rapport des relations"),
    "relationship_meetings": gettext_lazy("Rapport des rencontres entre les relations"),
    "member_meetings": gettext_lazy("Rapport des rencontres par membre"),
    "program_evaluation": gettext_lazy("Rapport d'évaluation du programme"),
    "surveys": gettext_lazy("Rapport des sondages"),
}


def _role_choices() -> list[tuple[str, str | Promise]]:
    return list(Role.choices)


def _relationship_statuses() -> list[tuple[str, str | Promise]]:
    return list(RelationshipStatus.choices)


def _meeting_statuses() -> list[tuple[str, str | Promise]]:
    return list(MeetingStatus.choices)


def _member_statuses() -> list[tuple[str, str | Promise]]:
    return [
        ("active", gettext_lazy("Actif")),
        ("inactive", gettext_lazy("Désactivé")),
        ("archived", gettext_lazy("Archivé")),
    ]


def _signed_in_choices() -> list[tuple[str, str | Promise]]:
    return [
        ("yes", gettext_lazy("Au moins une fois")),
        ("never", gettext_lazy("Jamais")),
    ]


def _relationship_choices() -> list[tuple[str, str | Promise]]:
    return [("matched", gettext_lazy("Jumelé")), ("unmatched", gettext_lazy("Non jumelé"))]


ROLE = Filter("role", gettext_lazy("Rôle dans le programme"), choices=_role_choices)
COHORT_FILTER = Filter("cohort", gettext_lazy("Cohorte"), COHORT)
TAG_FILTER = Filter("tag", gettext_lazy("Étiquette"), TAG)
MEMBER_STATUS = Filter("status", gettext_lazy("Statut du compte"), choices=_member_statuses)
SIGNED_IN = Filter("signed_in", gettext_lazy("Connecté"), choices=_signed_in_choices)
#: the members list's advanced filters, as a report applies them
MEMBER_FILTERS = (
    ROLE,
    MEMBER_STATUS,
    COHORT_FILTER,
    TAG_FILTER,
    Filter("custom_field", gettext_lazy("Champ personnalisé"), FIELD),
    Filter("option", gettext_lazy("Option du champ"), TEXT, needs="custom_field"),
    Filter("completion_below", gettext_lazy("Complétude du profil inférieure à (%)"), PERCENT),
    Filter("relationship", gettext_lazy("Relation"), choices=_relationship_choices),
    SIGNED_IN,
    Filter("last_access_after", gettext_lazy("Dernière connexion depuis le"), DATE),
    Filter("last_access_before", gettext_lazy("Dernière connexion avant le"), DATE),
    Filter("created_after", gettext_lazy("Inscrit depuis le"), DATE),
    Filter("created_before", gettext_lazy("Inscrit avant le"), DATE),
)
MEETING_DATES = (
    Filter("after", gettext_lazy("Rencontres depuis le"), DATE),
    Filter("before", gettext_lazy("Rencontres avant le"), DATE),
)
#: a date range: the first date must come before the second
DATE_RANGES = (
    ("last_access_after", "last_access_before"),
    ("created_after", "created_before"),
    ("started_after", "started_before"),
    ("after", "before"),
)


def _keyed(*filters: Filter) -> dict[str, Filter]:
    return {item.key: item for item in filters}


PREPARED: dict[str, Prepared] = {
    "members": Prepared(
        "members", PREPARED_LABELS["members"], members_report, _keyed(*MEMBER_FILTERS)
    ),
    "relationships": Prepared(
        "relationships",
        PREPARED_LABELS["relationships"],
        relationships_report,
        _keyed(
            Filter("status", gettext_lazy("Statut de la relation"), choices=_relationship_statuses),
            Filter("started_after", gettext_lazy("Commencée depuis le"), DATE),
            Filter("started_before", gettext_lazy("Commencée avant le"), DATE),
        ),
    ),
    "relationship_meetings": Prepared(
        "relationship_meetings",
        PREPARED_LABELS["relationship_meetings"],
        relationship_meetings_report,
        _keyed(
            Filter("status", gettext_lazy("Statut de la rencontre"), choices=_meeting_statuses),
            *MEETING_DATES,
        ),
    ),
    "member_meetings": Prepared(
        "member_meetings",
        PREPARED_LABELS["member_meetings"],
        member_meetings_report,
        _keyed(ROLE, MEMBER_STATUS, COHORT_FILTER, TAG_FILTER, SIGNED_IN),
    ),
    "program_evaluation": Prepared(
        "program_evaluation",
        PREPARED_LABELS["program_evaluation"],
        program_evaluation_report,
        _keyed(ROLE, COHORT_FILTER, TAG_FILTER, *MEETING_DATES),
    ),
    "surveys": Prepared("surveys", PREPARED_LABELS["surveys"], surveys_report),
}


# --- Filters -----------------------------------------------------------------------------

#: filters one request may carry, and the longest text one may hold
FILTERS_MAX = 30
TEXT_MAX = 200


def _shown(key: object) -> str:
    """A key as a message may repeat it: printable, short."""
    text = "".join(ch for ch in str(key) if ch.isprintable())
    return text[:40] + ("…" if len(text) > 40 else "")


def filters_clean(
    prepared: Prepared, filters: Any, *, organisation: Organisation | None, by: Member
) -> tuple[dict[str, str], list[str]]:
    """The filters asked for this report, checked strictly — a known filter, a value of its
    kind, an id of this organisation's (never another's), dates in order — and written
    back the one way they are stored (empty ones dropped); and what is wrong, in words."""
    problems: list[str] = []
    clean: dict[str, str] = {}
    if not isinstance(filters, dict):
        return {}, [_("Les filtres doivent être un objet (filtre → valeur).")]
    if len(filters) > FILTERS_MAX:
        return {}, [_("Trop de filtres : %(n)d au plus.") % {"n": FILTERS_MAX}]
    for key, value in filters.items():
        spec = prepared.filters.get(key) if isinstance(key, str) else None
        if spec is None:
            problems.append(_("Filtre inconnu pour ce rapport : %(key)s.") % {"key": _shown(key)})
            continue
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            problems.append(
                _("Filtre « %(label)s » : une valeur écrite en texte est attendue.")
                % {"label": spec.label}
            )
            continue
        try:
            clean[key] = _filter_value(spec, value, organisation=organisation, by=by)
        except ParseError as error:
            problems.append(
                _("Filtre « %(label)s » : %(reason)s.")
                % {"label": spec.label, "reason": error.message}
            )
    for key in list(clean):
        needed = prepared.filters[key].needs
        if needed and needed not in clean:
            problems.append(
                _("Filtre « %(label)s » : choisissez d'abord « %(other)s ».")
                % {"label": prepared.filters[key].label, "other": prepared.filters[needed].label}
            )
    for first, last in DATE_RANGES:
        if first in clean and last in clean and clean[first] >= clean[last]:
            problems.append(
                _("« %(first)s » doit précéder « %(last)s ».")
                % {"first": prepared.filters[first].label, "last": prepared.filters[last].label}
            )
    return clean, problems


def _filter_value(
    spec: Filter, value: str, *, organisation: Organisation | None, by: Member
) -> str:
    if "\x00" in value:
        raise ParseError(_("caractère interdit (NUL)"))
    value = value.strip()
    if spec.kind == CHOICE:
        allowed = spec.values()
        if value not in allowed:
            raise ParseError(
                _("valeur refusée, valeurs possibles %(values)s") % {"values": ", ".join(allowed)}
            )
        return value
    if spec.kind == DATE:
        return parse_date(value).isoformat()
    if spec.kind == PERCENT:
        return str(parse_int(value, minimum=1, maximum=101))
    if spec.kind == TEXT:
        if len(value) > TEXT_MAX or not value.isprintable():
            raise ParseError(
                _("texte d'au plus %(n)d caractères imprimables attendu") % {"n": TEXT_MAX}
            )
        return value
    number = parse_id(value)
    if organisation is None:
        raise ParseError(_("identifiant inconnu"))
    if spec.kind in (COHORT, TAG):
        kind = CohortKind.COHORT if spec.kind == COHORT else CohortKind.TAG
        if not Cohort.objects.filter(pk=number, organisation=organisation, kind=kind).exists():
            raise ParseError(
                _("aucune cohorte n'a cet identifiant dans votre organisation")
                if spec.kind == COHORT
                else _("aucune étiquette n'a cet identifiant dans votre organisation")
            )
        return str(number)
    fields = CustomField.objects.filter(pk=number, organisation=organisation)
    if not by.is_org_admin:
        fields = fields.filter(admin_only=False)
    if not fields.exists():
        raise ParseError(_("aucun champ personnalisé n'a cet identifiant dans votre organisation"))
    return str(number)


def filters_problems(
    prepared: Prepared,
    filters: Any,
    *,
    organisation: Organisation | None = None,
    by: Member | None = None,
) -> list[str]:
    """What is wrong with the filters asked for this report (filters_clean)."""
    if by is None:
        by = Member(is_org_admin=False)
    return filters_clean(prepared, filters, organisation=organisation, by=by)[1]


def filter_choices(
    prepared: Prepared, *, organisation: Organisation, by: Member
) -> list[tuple[Filter, list[tuple[str, str]]]]:
    """Each filter of a report with what the custom report page offers for it (the
    organisation's cohorts, tags, custom fields; a choice's values), in at most two
    queries."""
    kinds = {item.kind for item in prepared.filters.values()}
    cohorts: dict[str, list[tuple[str, str]]] = {CohortKind.COHORT: [], CohortKind.TAG: []}
    if kinds & {COHORT, TAG}:
        rows = Cohort.objects.filter(organisation=organisation).order_by("name", "pk")
        for pk, name, kind in rows.values_list("pk", "name", "kind"):
            cohorts.setdefault(kind, []).append((str(pk), name))
    fields: list[tuple[str, str]] = []
    if FIELD in kinds:
        found = CustomField.objects.filter(organisation=organisation).order_by("pk")
        if not by.is_org_admin:
            found = found.filter(admin_only=False)
        fields = sorted(((str(field.pk), field.name) for field in found), key=lambda row: row[1])
    offered = []
    for spec in prepared.filters.values():
        options: list[tuple[str, str]] = []
        if spec.kind == CHOICE and spec.choices is not None:
            options = [(value, str(label)) for value, label in spec.choices()]
        elif spec.kind == COHORT:
            options = cohorts[CohortKind.COHORT]
        elif spec.kind == TAG:
            options = cohorts[CohortKind.TAG]
        elif spec.kind == FIELD:
            options = fields
        offered.append((spec, options))
    return offered


def _day_start(scope: Scope, key: str) -> dt.datetime | None:
    """A date filter's day, from its first moment in the organisation's time zone."""
    value = scope.filters.get(key)
    if not value:
        return None
    try:
        day = parse_date(value)
    except ParseError:
        return None  # written by filters_clean: cannot happen
    return dt.datetime.combine(day, dt.time.min, tzinfo=scope.tz)


def _day_bounds(
    scope: Scope, first: str, last: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    return _day_start(scope, first), _day_start(scope, last)


def _between(scope: Scope, field: str, first: str = "after", last: str = "before") -> list[Q]:
    """« depuis le » a day (included) and « avant le » a day (excluded)."""
    start, end = _day_bounds(scope, first, last)
    conditions = []
    if start is not None:
        conditions.append(Q(**{f"{field}__gte": start}))
    if end is not None:
        conditions.append(Q(**{f"{field}__lt": end}))
    return conditions


def _number(scope: Scope, key: str) -> int | None:
    try:
        return parse_int(scope.filters.get(key), minimum=1, maximum=MAX_ID)
    except ParseError:
        return None


def member_conditions(scope: Scope, *, path: str = "") -> list[Q | Exists]:
    """The members list's advanced filters as conditions on a member reached by `path`
    (« » on members, « member__ » on enrolments or evaluations). Ids are matched within
    the scope's organisation as well: a definition saved with another's id finds nobody."""
    filters = scope.filters
    member = OuterRef(f"{path}pk")
    organisation = scope.organisation
    conditions: list[Q | Exists] = []
    status = filters.get("status")
    if status == "active":
        conditions.append(Q(**{f"{path}is_active": True, f"{path}archived_at__isnull": True}))
    elif status == "inactive":
        conditions.append(Q(**{f"{path}is_active": False, f"{path}archived_at__isnull": True}))
    elif status == "archived":
        conditions.append(Q(**{f"{path}archived_at__isnull": False}))
    through = Member.cohorts.through
    for key, kind in (("cohort", CohortKind.COHORT), ("tag", CohortKind.TAG)):
        number = _number(scope, key)
        if number is not None:
            conditions.append(
                Exists(
                    through.objects.filter(
                        member_id=member,
                        cohort_id=number,
                        cohort__organisation=organisation,
                        cohort__kind=kind,
                    )
                )
            )
    field = _number(scope, "custom_field")
    if field is not None:
        answered = CustomFieldValue.objects.filter(
            member_id=member, field_id=field, field__organisation=organisation
        )
        if not scope.by.is_org_admin:
            answered = answered.filter(field__admin_only=False)
        if filters.get("option"):
            answered = answered.filter(value__iexact=filters["option"])
        conditions.append(Exists(answered))
    below = _number(scope, "completion_below")
    if below is not None:
        conditions.append(Q(**{f"{path}profile_completion__lt": below}))
    if filters.get("relationship") == "matched":
        conditions.append(Q(**{f"{path}relationships_count__gt": 0}))
    elif filters.get("relationship") == "unmatched":
        conditions.append(Q(**{f"{path}relationships_count": 0}))
    if filters.get("signed_in") == "yes":
        conditions.append(Q(**{f"{path}last_access__isnull": False}))
    elif filters.get("signed_in") == "never":
        conditions.append(Q(**{f"{path}last_access__isnull": True}))
    conditions += _between(scope, f"{path}last_access", "last_access_after", "last_access_before")
    conditions += _between(scope, f"{path}date_joined", "created_after", "created_before")
    return conditions


def _as_id(value: object) -> int | None:
    try:
        return parse_id(value)
    except ParseError:
        return None


def filters_described(
    definitions: list[tuple[Prepared, dict[str, str]]], *, organisation: Organisation
) -> list[list[str]]:
    """Each definition's filters in words (« Cohorte : Promo 2026 »), for a list of saved
    reports: the cohorts, tags and fields they name read in two queries for all of them."""
    ids: dict[str, set[int]] = {"cohort": set(), "field": set()}
    for prepared, filters in definitions:
        for key, given in filters.items():
            spec = prepared.filters.get(key)
            number = _as_id(given)
            if spec is not None and spec.kind in (COHORT, TAG, FIELD) and number is not None:
                ids["field" if spec.kind == FIELD else "cohort"].add(number)
    cohorts = dict(
        Cohort.objects.filter(organisation=organisation, pk__in=ids["cohort"]).values_list(
            "pk", "name"
        )
    ) if ids["cohort"] else {}  # fmt: skip
    fields = {
        field.pk: field.name
        for field in CustomField.objects.filter(organisation=organisation, pk__in=ids["field"])
    } if ids["field"] else {}  # fmt: skip
    described = []
    for prepared, filters in definitions:
        words = []
        for key, spec in prepared.filters.items():  # in the page's order
            raw = filters.get(key)
            if not isinstance(raw, str) or not raw:
                continue
            value = raw
            shown = value
            if spec.kind == CHOICE and spec.choices is not None:
                shown = str(dict(spec.choices()).get(value, value))
            elif spec.kind in (COHORT, TAG):
                shown = cohorts.get(_as_id(value) or 0, _("introuvable"))
            elif spec.kind == FIELD:
                shown = fields.get(_as_id(value) or 0, _("introuvable"))
            words.append(_("%(label)s : %(value)s") % {"label": spec.label, "value": shown})
        described.append(words)
    return described
