"""Benchmark of the Members tab at scale.

Builds (once, set-based SQL: INSERT … SELECT over generate_series on PostgreSQL, over a
recursive CTE on SQLite; a smaller existing set is topped up) an organisation with N members,
10 custom fields (6 answers per member), 5 cohorts and the counters, then times the members
list page — first page, every sort both ways, combined filters with a custom field — and the
API page (median of R). Every figure is printed beside its SQL floor (the page's own queries
run alone through a cursor: its rows, its count, the cohorts of its rows) and their ratio.
Then, unless --reads-only, the « Recalculer valeur du profil » task over every member and an
import of 10,000 rows through the worker's code path.

    .venv/bin/python bench/members.py                      # SQLite (var/bench.sqlite3), 50,000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memberslog_bench \\
        nice -n 10 .venv/bin/python bench/members.py --issue   # 100,000 members (issue 10)
Options: --members N (default 50,000; --issue: 100,000) --repeat R --reads-only
"""

import argparse
import time
from collections.abc import Sequence

# isort: split
import common  # first: it sets Django up
from common import median_ms

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from cohorte.accounts import services
from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.member_views import _filter_form, _state
from cohorte.accounts.models import CustomField, Member
from cohorte.accounts.selectors import MEMBER_SORTS, member_page, member_rows, members_visible_to
from cohorte.core.db import analyze
from cohorte.programs.models import Cohort, Organisation
from cohorte.programs.services import organisation_create

floor_ms, report = common.floor_ms, common.report


NAME = "Bench membres"
ISSUE_MEMBERS = 100_000
INDUSTRIES = ["Numérique", "Santé", "Finance", "Industrie", "Éducation", "Commerce"]
JOBS = ["Ingénieure", "Infirmier", "Comptable", "Enseignante", "Vendeur", "Chef de projet"]
ROLES = ["mentor", "mentee", "both", ""]
TABLES = ("accounts_member", "accounts_customfieldvalue", "programs_cohort_members")


def _pick(expression: str, values: Sequence[str]) -> str:
    """SQL choosing values[expression % len(values)] (the values are ours: no quotes)."""
    cases = " ".join(f"WHEN {n} THEN '{value}'" for n, value in enumerate(values))
    return f"CASE (({expression}) %% {len(values)}) {cases} END"


def _mix(expression: str, salt: int) -> str:
    """SQL of a well-mixed integer in 0..65536 from an integer expression: one column's
    pseudo-random value must not follow another's (a filter on two would find none)."""
    return f"((CAST({expression} AS BIGINT) * 40503 + {salt * 7919}) %% 65537)"


def _series(start: int, stop: int) -> tuple[str, str, list[int]]:
    """(prefix, source, params) of g = start..stop on this engine."""
    if connection.vendor == "postgresql":
        return "", "generate_series(%s, %s) AS s(g)", [start, stop]
    recursive = "WITH RECURSIVE seq(g) AS (SELECT %s UNION ALL SELECT g + 1 FROM seq WHERE g < %s) "
    return recursive, "seq", [start, stop]


def _ago(seconds: str) -> str:
    if connection.vendor == "postgresql":
        return f"now() - ({seconds}) * interval '1 second'"
    return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '-' || ({seconds}) || ' seconds')"


def _insert_members(organisation: Organisation, admin: Member, start: int, stop: int) -> None:
    """Members g = start..stop, every column computed from g, in one statement."""
    DEPTH = f"({_mix('g', 7)} %% 10)"  # how much of the profile is filled in  # noqa: N806
    columns = {
        "password": "%s",
        "is_superuser": "FALSE",
        "email": "'bench.member.' || g || '@cohorte.example'",
        "first_name": "'Prénom' || (g %% 997)",
        "last_name": "'Nom' || (g %% 1009)",
        "organisation_id": str(organisation.pk),
        "is_org_admin": "FALSE",
        "language": "'fr'",
        "photo": "''",
        "is_active": f"{_mix('g', 2)} %% 20 <> 0",
        "is_staff": "FALSE",
        "date_joined": _ago(f"({_mix('g', 3)} %% 900) * 86400 + g %% 86400"),
        "last_access": f"CASE WHEN {_mix('g', 4)} %% 10 <> 0 THEN "
        + _ago(f"({_mix('g', 5)} %% 200) * 86400 + g %% 86400")
        + " END",
        "role": _pick(_mix("g", 1), ROLES),
        "administrator_id": f"CASE WHEN g %% 3 = 0 THEN {admin.pk} END",
        # the inactive ones (same mix as is_active) have an end date
        "deactivated_at": f"CASE WHEN {_mix('g', 2)} %% 20 = 0 THEN "
        + _ago("(g %% 300) * 86400")
        + " END",
        "timezone": "''",
        "job_title": f"CASE WHEN {DEPTH} >= 3 THEN {_pick(_mix('g', 6), JOBS)} ELSE '' END",
        "company": f"CASE WHEN {DEPTH} >= 5 THEN 'ACME' ELSE '' END",
        "industry": f"CASE WHEN {DEPTH} >= 2 THEN {_pick(_mix('g', 8), INDUSTRIES)} ELSE '' END",
        "country": "''",
        "province": "''",
        "city": f"CASE WHEN {DEPTH} >= 4 THEN 'Paris' ELSE '' END",
        "goals": f"CASE WHEN {DEPTH} >= 6 THEN 'Progresser' ELSE '' END",
        "skills": "''",
        "development_areas": "''",
        "linkedin": "''",
        "profile_completion": f"{_mix('g', 9)} %% 101",
        "relationships_count": f"{_mix('g', 10)} %% 3",
        "matches_count": f"{_mix('g', 11)} %% 5",
        "mentoring_minutes": f"{_mix('g', 12)} %% 3001",
        "max_mentees": "3",
        "max_mentors": "1",
    }
    prefix, source, series = _series(start, stop)
    sql = (
        f"{prefix}INSERT INTO accounts_member ({', '.join(columns)}) "
        f"SELECT {', '.join(columns.values())} FROM {source}"
    )
    with connection.cursor() as cursor:
        password = make_password(None)
        cursor.execute(sql, [*series, password] if prefix else [password, *series])


def _insert_answers_and_groups(organisation: Organisation, after_id: int) -> None:
    """Six custom answers per member (options A–D, or free text) and about one cohort each,
    for the members whose id is above after_id."""
    through = Cohort.members.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_customfieldvalue (member_id, field_id, value) "
            "SELECT m.id, f.id, CASE WHEN f.options <> '' THEN "
            "CASE (" + _mix('m.id * 10 + f."order"', 13) + " %% 4) WHEN 0 THEN 'A' WHEN 1 THEN 'B' "
            "WHEN 2 THEN 'C' ELSE 'D' END ELSE 'texte libre' END "
            "FROM accounts_member m CROSS JOIN accounts_customfield f "
            "WHERE m.organisation_id = %s AND f.organisation_id = %s AND m.id > %s "
            'AND m.is_org_admin = %s AND ((m.id * 7 + f."order" * 3) %% 10) < 6',
            [organisation.pk, organisation.pk, after_id, False],
        )
        cursor.execute(
            f"INSERT INTO {through} (cohort_id, member_id) "  # noqa: S608 (our table name)
            "SELECT c.id, m.id FROM accounts_member m CROSS JOIN programs_cohort c "
            "WHERE m.organisation_id = %s AND c.organisation_id = %s AND m.id > %s "
            "AND m.is_org_admin = %s AND " + _mix("m.id * 100 + c.id", 14) + " %% 10 < 2",
            [organisation.pk, organisation.pk, after_id, False],
        )


def build(count: int) -> Organisation:
    organisation = Organisation.objects.filter(name=NAME).first()
    built = (
        organisation.members.filter(email__startswith="bench.member.").count()
        if organisation
        else 0
    )
    if organisation is not None and built >= count:
        organisation.custom_fields.update(searchable=True)
        analyze(*TABLES)
        print(f"reusing « {NAME} » ({organisation.members.count()} members)")
        return organisation
    started = time.perf_counter()
    with transaction.atomic():
        if organisation is None:
            organisation, _ = organisation_create(
                name=NAME,
                admin_email="bench.members@cohorte.example",
                admin_password="bench-password-1",
            )
        if not organisation.custom_fields.exists():
            for n in range(10):
                CustomField.objects.create(
                    organisation=organisation,
                    name_fr=f"Champ {n}",
                    options="A, B, C, D" if n % 2 else "",
                    multiple=n % 4 == 1,
                    searchable=True,
                    required=n < 6,
                    role=["any", "mentor", "mentee", "both"][n % 4],
                    order=n,
                )
        for n in range(5):
            Cohort.objects.get_or_create(organisation=organisation, name=f"Cohorte {n}")
        admin = organisation.members.filter(is_org_admin=True).first()
        last_id = Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        _insert_members(organisation, admin, built + 1, count)
        _insert_answers_and_groups(organisation, last_id)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        analyze(*TABLES)
    print(f"built {count - built} members in {time.perf_counter() - started:.1f} s")
    return organisation


def _page_floor(admin: Member, params: dict, repeat: int) -> float:
    """The page's data queries alone, through a cursor: the same selector the view calls,
    its queries captured once and replayed."""
    request = RequestFactory().get("/membres/", params)
    request.user = admin
    filters, state = _state(_filter_form(request, request.GET))
    rows = member_rows(
        members=members_visible_to(admin), filters=filters, sort=state["sort"], order=state["order"]
    )
    with CaptureQueriesContext(connection) as captured:
        member_page(
            rows,
            page=state["page"],
            size=state["size"],
            sort=state["sort"],
            order=state["order"],
            organisation_id=admin.organisation_id,
        )
    queries = [query["sql"] for query in captured.captured_queries]

    def run() -> None:
        with connection.cursor() as cursor:
            for sql in queries:
                cursor.execute(sql)
                cursor.fetchall()

    return floor_ms(run, repeat)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--issue", action="store_true", help=f"issue 10's size: {ISSUE_MEMBERS}")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reads-only", action="store_true", help="no recompute, no import")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)
    if args.issue:
        args.members = ISSUE_MEMBERS
    if not args.no_migrate:
        call_command("migrate", verbosity=0)
    organisation = build(args.members)
    admin = organisation.members.filter(is_org_admin=True).first()
    field = organisation.custom_fields.filter(options__gt="").order_by("order").first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    engine = connection.vendor
    print(f"\n{engine}, {organisation.members.count()} members — medians of {args.repeat}")
    print(f"  {'':<50} {'figure ms':>9} | {'floor ms':>9} | {'ratio':>7}")
    combined = {
        "custom_field": field.pk,
        "option": "B",
        "role": "mentor",
        "active": "yes",
        "recent": "90",
    }
    cases = [
        ("first page (name)", {}),
        *[
            (f"sorted by {sort} {order}", {"sort": sort, "order": order})
            for sort in MEMBER_SORTS
            if sort != "name"
            for order in ("asc", "desc")
        ],
        ("sorted by name desc", {"sort": "name", "order": "desc"}),
        ("custom field + option", {"custom_field": field.pk, "option": "B"}),
        (
            "custom field B + mentor + active + 90 days, by last session",
            {**combined, "sort": "last_session", "order": "desc"},
        ),
        ("same, by groups", {**combined, "sort": "groups"}),
        ("same, by administrator desc", {**combined, "sort": "administrator", "order": "desc"}),
        (
            "role=mentor & completion<80, by completion desc",
            {"role": "mentor", "completion_below": 80, "sort": "completion", "order": "desc"},
        ),
        (
            "sectors + active + 30 days, by hours",
            {
                "industries": ["Santé", "Finance"],
                "active": "yes",
                "recent": "30",
                "sort": "hours",
                "order": "desc",
            },
        ),
        ("search « nom10 », by email", {"q": "nom10", "sort": "email"}),
        ("unmatched, page 100", {"relationship": "unmatched", "page": 100}),
    ]
    slowest = ("", 0.0, 0.0)
    for label, params in cases:
        ms = median_ms(lambda p=params: client.get("/membres/", p), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/membres/", params)
        assert response.status_code == 200, response.status_code
        shown = response.content.count(b"<tr data-member=")
        floor = _page_floor(admin, params, args.repeat)
        report(f"list, {label}", ms, floor, f"({len(queries)} queries, {shown} rows)")
        if label.startswith("sorted by") and ms > slowest[1]:
            slowest = (label, ms, floor)
    report(f"slowest sort: {slowest[0]}", slowest[1], slowest[2])

    token = token_issue(member=admin)
    for label, params in [
        ("API, 100 rows, first page", {"page_size": 100}),
        (
            "API, 100 rows, mentor & completion<80",
            {"role": "mentor", "completion_below": 80, "sort": "completion", "page_size": 100},
        ),
        ("API, 100 rows, combined filter", {**combined, "page_size": 100}),
    ]:
        ms = median_ms(
            lambda p=params: client.get(
                "/api/members", p, headers={"Authorization": f"Bearer {token}"}
            ),
            args.repeat,
        )
        response = client.get("/api/members", params, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.content
        same = {key: value for key, value in params.items() if key != "page_size"}
        floor = _page_floor(admin, {**same, "size": 100}, args.repeat)
        report(label, ms, floor, f"({len(response.json()['results'])} rows)")

    if args.reads_only:
        return
    started = time.perf_counter()
    done = services.organisation_completion_recompute(organisation_id=organisation.pk)
    report(f"recompute completion of {done} members", (time.perf_counter() - started) * 1000, None)

    rows = [
        (
            n + 2,
            {
                "email": f"bench.import.{n}@cohorte.example",
                "first_name": "Import",
                "last_name": f"N{n}",
                "city": "Lyon",
                "role": "mentee",
                f"custom:{field.pk}": "A",
            },
        )
        for n in range(10_000)
    ]
    started = time.perf_counter()
    result = services.members_import(organisation_id=organisation.pk, rows=rows, by=admin)
    first = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    again = services.members_import(organisation_id=organisation.pk, rows=rows, by=admin)
    report(f"import 10,000 rows, new ({result['created']} created)", first, None)
    report(
        f"import 10,000 rows, again ({again['updated']} updated)",
        (time.perf_counter() - started) * 1000,
        None,
    )
    Member.objects.filter(email__startswith="bench.import.").delete()


if __name__ == "__main__":
    main()
