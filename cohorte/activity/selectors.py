import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.collation import collated
from cohorte.meetings.models import EVALUATION_WAIT_DAYS, MeetingAttendee, MeetingStatus
from cohorte.meetings.selectors import evaluations_unsettled
from cohorte.programs.models import PARTICIPANT_ROLES, Enrolment, Program
from cohorte.programs.selectors import search_members

from .models import Conversation, Report


class ActivityRow(Protocol):
    """An enrolment as participant_activity_rows annotates it: one line of the table."""

    member_id: int
    member: Member
    role: str
    profiles_visited: int
    professionals_contacted: int
    upcoming_meetings: int
    confirmed_meetings: int
    progress: int
    last_access: dt.datetime | None
    platform_last_access: dt.datetime | None
    is_reported: bool
    has_unanswered: bool
    has_unsettled_evaluation: bool
    flag_reasons: list[str]


#: figure name → what to order by. The API's `sort` accepts exactly these keys.
SORTS: dict[str, tuple[str, ...]] = {
    "name": ("member__last_name", "member__first_name"),
    # Moodle's « Prénom / Nom » (seed 002)
    "first_name": ("member__first_name", "member__last_name"),
    "last_name": ("member__last_name", "member__first_name"),
    "email": ("member__email",),
    "profiles_visited": ("profiles_visited",),
    "professionals_contacted": ("professionals_contacted",),
    "upcoming_meetings": ("upcoming_meetings",),
    "confirmed_meetings": ("confirmed_meetings",),
    "progress": ("progress",),
    "last_access": ("last_access",),
    "flags": ("flag_count",),
}
#: the sort keys that are names: sorted in the language's alphabetical order
COLLATED = {"member__first_name", "member__last_name"}
#: the only sort key that can be NULL (« Jamais »): first going up, last going down
NULLABLE_SORT_KEYS = {"last_access"}
FLAG_REPORTED = "reported"
FLAG_UNANSWERED = "unanswered_conversation"
FLAG_EVALUATION = "unsettled_evaluation"

#: what a row reads: the member's columns the table, the CSV and the API show, no more
#: (a member has forty columns; reading them all for every row costs more than the sort)
ROW_FIELDS = (
    "id",
    "program_id",
    "member_id",
    "role",
    "member__id",
    "member__first_name",
    "member__last_name",
    "member__email",
    "member__photo",
    "member__city",
    "member__country",
    "member__is_active",
    "member__archived_at",
)


def participants_filtered(
    *,
    program: Program,
    q: str = "",
    never_signed_in: bool = False,
    never_on_platform: bool = False,
    flagged: bool | str = False,
    cohort: int | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[Enrolment]:
    """The table's rows before their figures and order: what its count reads (on the
    enrolments' (programme, role, ended_at) index alone, unless a search or filter needs
    more)."""
    now = now or timezone.now()
    rows = Enrolment.objects.filter(
        program=program, ended_at__isnull=True, role__in=PARTICIPANT_ROLES
    ).order_by()
    if q.strip():
        rows = search_members(rows, q, prefix="member__")
    if never_signed_in:  # never opened this programme (seed 002: « jamais » in its column)
        rows = rows.filter(stats__last_access__isnull=True)
    if never_on_platform:  # never signed in to Cohorte at all
        rows = rows.filter(member__last_access__isnull=True)
    if flagged == "resolved":  # « traités »: a report was dealt with (the history)
        rows = rows.filter(member_id__in=resolved_reports(program=program).values("member_id"))
    elif flagged:  # « à traiter »: a ❗ now
        rows = rows.filter(flagged_members(program=program, now=now))
    if cohort:
        rows = rows.filter(member__cohorts=cohort)
    return rows


def unsettled_evaluations(*, program: Program, now: dt.datetime) -> QuerySet[MeetingAttendee]:
    """The attendees of the 1:1 meetings whose evaluations disagree or never came (see
    meetings' evaluations_unsettled): each one raises the ❗."""
    return evaluations_unsettled(program=program, now=now)


def flagged_members(*, program: Program, now: dt.datetime) -> Q:
    """« Has a ❗ »: reported, an unanswered conversation, or an unsettled evaluation."""
    return (
        Q(member_id__in=open_reports(program=program).values("member_id"))
        | Q(
            member_id__in=unanswered_conversations(program=program, now=now).values(
                "participant_id"
            )
        )
        | Q(member_id__in=unsettled_evaluations(program=program, now=now).values("member_id"))
    )


def _upcoming(program: Program, now: dt.datetime) -> QuerySet[MeetingAttendee]:
    """Attendances of meetings still to come inside the programme's dates."""
    start, end = program.window()
    return (
        MeetingAttendee.objects.filter(
            meeting__program=program,
            meeting__status=MeetingStatus.SCHEDULED,
            meeting__starts_at__gte=max(now, start),
            meeting__starts_at__lt=end,
        )
        .exclude(response="declined")  # accepted or not yet answered: « programmé »
        .order_by()
    )


def _among_members(members: QuerySet) -> ExpressionWrapper:
    """« The row's member is among `members` » (a queryset of member ids), for every row:
    one set computed once and hashed (`member_id IN (…)`)."""
    return ExpressionWrapper(Q(member_id__in=members), output_field=BooleanField())


def _flags_of_page(program: Program, now: dt.datetime, rows: list[Enrolment]) -> None:
    """The ❗ of a page's rows (is_reported, has_unanswered, has_unsettled_evaluation), each
    read for the page's members alone: three queries on the members' indexes. As EXISTS in
    the rows' query, the planner hashed the programme's whole set of unsettled evaluations
    for a page of 100 (43 ms of the API's page of 100 rows at 100,000 participants)."""
    members = [row.member_id for row in rows]
    reported = set(
        open_reports(program=program)
        .filter(member_id__in=members)
        .values_list("member_id", flat=True)
    )
    unanswered = set(
        unanswered_conversations(program=program, now=now)
        .filter(participant_id__in=members)
        .values_list("participant_id", flat=True)
    )
    # their meetings named: else the planner still read the programme's 1:1 meetings whole
    # (18 ms), where it now looks up the page's members' few (1.4 ms)
    theirs = MeetingAttendee.objects.filter(member_id__in=members).values("meeting_id")
    unsettled = set(
        unsettled_evaluations(program=program, now=now)
        .filter(member_id__in=members, meeting_id__in=theirs)
        .values_list("member_id", flat=True)
    )
    for row in rows:
        row.is_reported = row.member_id in reported  # type: ignore[attr-defined]
        row.has_unanswered = row.member_id in unanswered  # type: ignore[attr-defined]
        row.has_unsettled_evaluation = row.member_id in unsettled  # type: ignore[attr-defined]


def _figures(program: Program, now: dt.datetime, *, every_row: bool) -> dict[str, Any]:
    """Each figure of a row as an SQL expression, by name. `every_row`: the query reads all
    the rows (a sort on meetings, the CSV), so the upcoming meetings are counted for the
    members found in one set computed once (PostgreSQL hashes `member_id IN (…)`) rather
    than by a subquery run for each of 100,000 rows; for one page of 25 the subquery, run
    25 times, is cheaper than that set, and the page's ❗ are read apart (_flags_of_page)."""
    upcoming = _upcoming(program, now)
    upcoming_count = Coalesce(
        Subquery(
            upcoming.filter(member=OuterRef("member_id"))
            .values("member")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )
    reported = open_reports(program=program).values("member_id")
    unanswered = unanswered_conversations(program=program, now=now).values("participant_id")
    unsettled = unsettled_evaluations(program=program, now=now).values("member_id")
    figures: dict[str, Any] = {
        "profiles_visited": Coalesce(F("stats__profiles_visited"), 0),
        "professionals_contacted": Coalesce(F("stats__professionals_contacted"), 0),
        "confirmed_meetings": Coalesce(F("stats__confirmed_meetings"), 0),
        "last_access": F("stats__last_access"),
        "platform_last_access": F("member__last_access"),
        "upcoming_meetings": Case(
            When(Q(member_id__in=upcoming.values("member_id")), then=upcoming_count),
            default=Value(0),
            output_field=IntegerField(),
        )
        if every_row
        else upcoming_count,
        "progress": Least(
            Value(100),
            ExpressionWrapper(
                # BIGINT: a counter near 2³¹ times 100 must not overflow PostgreSQL's INTEGER
                Cast(Coalesce(F("stats__confirmed_meetings"), 0), BigIntegerField())
                * 100
                / max(program.objective, 1),
                output_field=IntegerField(),
            ),
        ),
    }
    if not every_row:  # a page's: read apart, for its members alone (_flags_of_page)
        return figures
    return figures | {
        "is_reported": _among_members(reported),
        "has_unanswered": _among_members(unanswered),
        "has_unsettled_evaluation": _among_members(unsettled),
        "flag_count": Case(
            When(flagged_members(program=program, now=now), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    }


def _ordering(sort: str, order: str) -> list[OrderBy]:
    descending = order == "desc"
    ordering = []
    for name in SORTS.get(sort, SORTS["name"]):
        # names in the page's language's alphabetical order (core.collation)
        expression = collated(name) if name in COLLATED else F(name)
        if name in NULLABLE_SORT_KEYS:
            ordering.append(
                expression.desc(nulls_last=True) if descending else expression.asc(nulls_first=True)
            )
        else:  # no NULLS clause on a column that has none: an index can serve the order
            ordering.append(expression.desc() if descending else expression.asc())
    return [*ordering, F("member_id").asc()]


def participant_activity_rows(
    *,
    program: Program,
    sort: str = "name",
    order: str = "asc",
    q: str = "",
    never_signed_in: bool = False,
    never_on_platform: bool = False,
    flagged: bool | str = False,
    cohort: int | None = None,
    now: dt.datetime | None = None,
    every_row: bool = True,
) -> QuerySet[Enrolment]:
    """The participants' activity table: one row per current participant, every figure
    counted between the programme's dates, sorted in the database; every order ends on
    the member's id, so pages never overlap. For one page, participant_activity_page."""
    now = now or timezone.now()
    figures = _figures(program, now, every_row=every_row)
    if sort != "flags":
        figures.pop("flag_count", None)
    rows = (
        participants_filtered(
            program=program,
            q=q,
            never_signed_in=never_signed_in,
            never_on_platform=never_on_platform,
            flagged=flagged,
            cohort=cohort,
            now=now,
        )
        # always true (a programme enrols only members of its organisation): it lets the
        # name sort walk the (organisation, last_name, first_name) index of members
        .filter(member__organisation_id=program.organisation_id)
        .select_related("member")
        .only(*ROW_FIELDS)
        .annotate(**figures)
    )
    return rows.order_by(*_ordering(sort, order))


#: a search that found at most this many rows sorts them (ActivityPage._found_few)
SEARCH_SORTED_UP_TO = 10_000

#: pages read level by level (progress, upcoming meetings going down) up to this row;
#: deeper, the whole order is sorted
LEVELS_UP_TO = 2_000


@dataclass(frozen=True)
class Level:
    """A level of a page read level by level: the rows `where` selects. `walked`: read in
    member order, which stops after the page (for a level holding most people: those
    without any meeting). Otherwise read through the filter's own index, then sorted: in
    member order, as the planner prefers (it cannot know which programme the counters it
    sees belong to), a level empty in this programme but full in another was a walk
    through all 100,000 enrolments (211 ms)."""

    where: Q
    walked: bool = False


class ActivityPage:
    """The table's rows, sliced the way a Paginator slices: keys first, then rows.

    A page of 100,000 sorted rows is found by a narrow query (the enrolment's id and the
    one sort key, nothing joined that the sort does not need), then only its 25 rows are
    read whole with every figure, by primary key. Sorting 100,000 narrow rows costs a
    fraction of sorting them with every member column and figure joined in."""

    ordered = True  # for the Paginator: the order is the keys'

    def __init__(
        self, *, program: Program, sort: str, order: str, now: dt.datetime, **filters: Any
    ) -> None:
        self.program, self.sort, self.order, self.now, self.filters = (
            program,
            sort,
            order,
            now,
            filters,
        )
        self._count: int | None = None

    def count(self) -> int:
        """How many rows the table has, from the enrolments alone (an index-only count,
        not one of the sorted rows), counted once: the Paginator reads it, and a page past
        the middle is read from the other end with it."""
        if self._count is None:
            self._count = participants_filtered(
                program=self.program, now=self.now, **self.filters
            ).count()
        return self._count

    def keys(self) -> QuerySet[Enrolment]:
        keys = participants_filtered(program=self.program, now=self.now, **self.filters)
        names = [name for name in SORTS.get(self.sort, SORTS["name"]) if "__" not in name]
        if names:
            figures = _figures(self.program, self.now, every_row=True)
            keys = keys.annotate(**{name: figures[name] for name in names})
        elif not self._found_few():
            # a member column: the rows' organisation filter, which lets the order walk the
            # (organisation, name…) indexes
            keys = keys.filter(member__organisation_id=self.program.organisation_id)
        return keys.order_by(*_ordering(self.sort, self.order))

    def _found_few(self) -> bool:
        """A search that found at most SEARCH_SORTED_UP_TO rows: they are read through the
        search's indexes and sorted, not found by walking the names' index in order. The
        planner walks it for a page of 25 whenever it expects matches spread along it;
        those of « mar » (2,971 of 100,000) sit together at the M's, behind 53,000 others
        walked first (62 ms). A broad search (« e ») still walks: its matches come soon."""
        return bool(self.filters.get("q", "").strip()) and self.count() <= SEARCH_SORTED_UP_TO

    def _head(self) -> tuple[Q, list[OrderBy]] | None:
        """The rows this order puts first, and their order, as a query an index serves:
        going down a counter, those above zero (walked on the counter's index); going up,
        the zeros, by member id (walked on the enrolments' (programme, member) index);
        likewise flags and dates. A page that falls inside them is read from them alone."""
        descending = self.order == "desc"
        by_member = [F("member_id").asc()]
        if self.sort in ("profiles_visited", "professionals_contacted", "confirmed_meetings"):
            column = f"stats__{self.sort}"
            if descending:
                return Q(**{f"{column}__gt": 0}), [F(column).desc(), *by_member]
            return Q(**{column: 0}) | Q(stats__isnull=True), by_member
        if self.sort == "last_access":
            if descending:
                return Q(stats__last_access__isnull=False), [
                    F("stats__last_access").desc(),
                    *by_member,
                ]
            return Q(stats__last_access__isnull=True), by_member
        if self.sort == "progress":  # an objective above 100 (else _progress_levels)
            objective = max(self.program.objective, 1)
            if descending:  # 100 %: the objective reached, all equal, by member id
                return Q(stats__confirmed_meetings__gte=objective), by_member
            # 0 %: fewer meetings than a hundredth of the objective (none, for most)
            zero_below = (objective - 1) // 100 + 1
            return Q(stats__confirmed_meetings__lt=zero_below) | Q(stats__isnull=True), by_member
        if self.sort == "upcoming_meetings" and not descending:
            return ~Q(
                member_id__in=_upcoming(self.program, self.now).values("member_id")
            ), by_member
        if self.sort == "flags":
            flagged = flagged_members(program=self.program, now=self.now)
            return (flagged if descending else ~flagged), by_member
        return None

    def _progress_levels(self) -> list[Level] | None:
        """Sorting by progress is sorting by meetings up to the objective: one level per
        count (objective reached, objective − 1, …, none), each read by member id. Exact
        while the objective is at most 100 (one percentage per count)."""
        objective = max(self.program.objective, 1)
        if self.sort != "progress" or objective > 100:
            return None
        column = "stats__confirmed_meetings"
        levels = [Level(Q(**{f"{column}__gte": objective}))]
        levels += [Level(Q(**{column: n})) for n in range(objective - 1, 0, -1)]
        levels.append(Level(Q(**{column: 0}) | Q(stats__isnull=True), walked=True))
        return levels if self.order == "desc" else levels[::-1]

    def _by_levels(self, levels: list[Level], stop: int) -> list[int]:
        """The first `stop` ids, level after level, each level by member id: a walked one
        in member order (it stops after `stop`), any other through its filter's index,
        then sorted (see Level)."""
        ids: list[int] = []
        for level in levels:
            order = F("member_id") if level.walked else F("member_id") + 0
            ids += (
                participants_filtered(program=self.program, now=self.now, **self.filters)
                .filter(level.where)
                .order_by(order.asc())
                .values_list("pk", flat=True)[: stop - len(ids)]
            )
            if len(ids) >= stop:
                break
        return ids

    def _upcoming_first(self, stop: int) -> list[int]:
        """Going down upcoming meetings: those who have some, most first, counted in one
        GROUP BY over the programme's coming meetings; then everyone else by member id."""
        filtered = participants_filtered(program=self.program, now=self.now, **self.filters)
        # everyone with a meeting to come, most first (as many as the coming meetings, a
        # few thousand), then kept if the table shows them, 500 at a time: SQLite would
        # probe the whole table for each meeting if asked both at once
        counted = list(
            _upcoming(self.program, self.now)
            .values("member_id")
            .annotate(n=Count("pk"))
            .order_by("-n", "member_id")
            .values_list("member_id", flat=True)
        )
        ids: list[int] = []
        for first in range(0, len(counted), 500):
            batch = counted[first : first + 500]
            pk_of = dict(filtered.filter(member_id__in=batch).values_list("member_id", "pk"))
            ids += [pk_of[member] for member in batch if member in pk_of]
            if len(ids) >= stop:
                return ids[:stop]
        if len(ids) < stop:
            without = ~Q(member_id__in=_upcoming(self.program, self.now).values("member_id"))
            ids += self._by_levels([Level(without, walked=True)], stop - len(ids))
        return ids

    def _in_order(self, start: int, stop: int | None) -> list[int]:
        """The ids from `start` to `stop` in the whole order. A page past the middle is
        read from the other end, the order reversed (exactly: every order ends on the
        member's id) — the last page of 100,000 by name then walks 25 entries of the
        names' index, not 100,000."""
        keys = self.keys().values_list("pk", flat=True)
        if stop is None:
            return list(keys[start:])
        total = self.count()
        if start >= total:
            return []
        if start <= total // 2:
            return list(keys[start:stop])
        stop = min(stop, total)
        return list(reversed(keys.reverse()[total - stop : total - start]))

    def __getitem__(self, index: slice) -> list[Enrolment]:
        ids: list[int] | None = None
        head = self._head()
        start, stop = index.start or 0, index.stop
        levels = self._progress_levels()
        if stop is not None and stop <= LEVELS_UP_TO:
            if levels is not None:
                ids = self._by_levels(levels, stop)[start:]
            elif self.sort == "upcoming_meetings" and self.order == "desc":
                ids = self._upcoming_first(stop)[start:]
        if ids is None and head is not None and stop is not None:
            where, ordering = head
            ids = list(
                participants_filtered(program=self.program, now=self.now, **self.filters)
                .filter(where)
                .order_by(*ordering)
                .values_list("pk", flat=True)[index]
            )
            if len(ids) < index.stop - (index.start or 0):
                ids = None  # the page reaches past those rows: the whole order decides
        if ids is None:
            ids = self._in_order(start, stop)
        rows = participant_activity_rows(
            program=self.program,
            sort=self.sort,
            order=self.order,
            now=self.now,
            every_row=False,
            **self.filters,
        ).filter(pk__in=ids)
        by_pk = {row.pk: row for row in rows.order_by()}
        page = [by_pk[pk] for pk in ids if pk in by_pk]
        _flags_of_page(self.program, self.now, page)
        return page


def participant_activity_page(
    *,
    program: Program,
    sort: str = "name",
    order: str = "asc",
    q: str = "",
    never_signed_in: bool = False,
    never_on_platform: bool = False,
    flagged: bool | str = False,
    cohort: int | None = None,
    now: dt.datetime | None = None,
) -> ActivityPage:
    """The table for paging through (Paginator, API): slice it, `[start:end]`, for a page."""
    return ActivityPage(
        program=program,
        sort=sort,
        order=order,
        now=now or timezone.now(),
        q=q,
        never_signed_in=never_signed_in,
        never_on_platform=never_on_platform,
        flagged=flagged,
        cohort=cohort,
    )


def open_reports(*, program: Program) -> QuerySet[Report]:
    """Reports on participants that nobody has resolved yet: each one raises the ❗."""
    return Report.objects.filter(program=program, resolved_at__isnull=True)


def resolved_reports(*, program: Program) -> QuerySet[Report]:
    """Reports marked « Traité »: they no longer raise the ❗; their history stays."""
    return Report.objects.filter(program=program, resolved_at__isnull=False)


def unanswered_conversations(*, program: Program, now: dt.datetime) -> QuerySet[Conversation]:
    """Conversations whose participant's last message has waited more than the programme's
    N days with no message back since: each one raises the ❗."""
    return Conversation.objects.filter(
        program=program,
        # bounded (forms stop at 365): a value stored by hand must not overflow the date
        last_message_at__lt=now - dt.timedelta(days=min(program.unanswered_after_days, 3650)),
    ).filter(
        Q(last_reply_at__isnull=True) | Q(last_reply_at__lt=F("last_message_at")),
        Q(followed_up_at__isnull=True) | Q(followed_up_at__lt=F("last_message_at")),
    )


def flag_reasons(
    *, program: Program, rows: Sequence[ActivityRow], now: dt.datetime | None = None
) -> dict[int, list[str]]:
    """The words behind each ❗ on a page of rows: report reasons, unanswered conversations.
    Two queries for the page, whatever its size."""
    member_ids = [
        row.member_id
        for row in rows
        if row.is_reported or row.has_unanswered or getattr(row, "has_unsettled_evaluation", False)
    ]
    reasons: dict[int, list[str]] = defaultdict(list)
    if not member_ids:
        return reasons
    for report in (
        open_reports(program=program)
        .filter(member_id__in=member_ids)
        .select_related("reported_by")
        .order_by("created_at")
    ):
        reasons[report.member_id].append(
            _("Signalé par %(name)s : %(reason)s")
            % {"name": report.reported_by.full_name, "reason": report.reason}
        )
    for conversation in (
        unanswered_conversations(program=program, now=now or timezone.now())
        .filter(participant_id__in=[r.member_id for r in rows if r.has_unanswered])
        .select_related("professional")
    ):
        reasons[conversation.participant_id].append(
            _("Conversation sans réponse de %(name)s depuis plus de %(days)s jours")
            % {"name": conversation.professional.full_name, "days": program.unanswered_after_days}
        )
    unsettled = [r.member_id for r in rows if getattr(r, "has_unsettled_evaluation", False)]
    if unsettled:
        _evaluation_reasons(program, unsettled, now or timezone.now(), reasons)
    return reasons


def evaluation_reasons(*, program: Program, member_id: int, now: dt.datetime) -> list[str]:
    """The ❗'s evaluation lines for one participant (their page of reasons)."""
    reasons: dict[int, list[str]] = defaultdict(list)
    _evaluation_reasons(program, [member_id], now, reasons)
    return reasons[member_id]


def _evaluation_reasons(
    program: Program, member_ids: list[int], now: dt.datetime, reasons: dict[int, list[str]]
) -> None:
    """One line per unsettled meeting of these members: disagreement or no answer."""
    tz = program.organisation.tzinfo
    for member_id, starts_at, status in (
        unsettled_evaluations(program=program, now=now)
        .filter(member_id__in=member_ids)
        .order_by("meeting__starts_at")
        .values_list("member_id", "meeting__starts_at", "meeting__status")
    ):
        when = formats.date_format(starts_at.astimezone(tz), "SHORT_DATE_FORMAT")
        if status == MeetingStatus.NOT_HELD:
            reasons[member_id].append(
                _("Rencontre du %(date)s : les deux côtés ne sont pas d'accord") % {"date": when}
            )
        else:
            reasons[member_id].append(
                _("Rencontre du %(date)s sans évaluation après %(days)d jours")
                % {"date": when, "days": EVALUATION_WAIT_DAYS}
            )


def row_flags(row: ActivityRow) -> list[str]:
    flags = []
    if row.is_reported:
        flags.append(FLAG_REPORTED)
    if row.has_unanswered:
        flags.append(FLAG_UNANSWERED)
    if getattr(row, "has_unsettled_evaluation", False):
        flags.append(FLAG_EVALUATION)
    return flags
