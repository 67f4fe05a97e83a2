"""Benchmark of the Members tab at scale.

Builds (once) an organisation with 50,000 members, 10 custom fields (about 6 answers per
member), cohorts and relationships counters, then times the members list page filtered
and sorted (median of R), the API page, the « Recalculer valeur du profil » task over every
member, and an import of 10,000 rows through the worker's code path.

    .venv/bin/python bench/members.py                      # SQLite (var/bench.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/members.py
Options: --members N --repeat R
"""

import argparse
import random
import time

# isort: split
from common import median_ms  # first: it sets Django up

# isort: split
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cohorte.accounts import services
from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.db import analyze
from cohorte.programs.models import Cohort, Organisation
from cohorte.programs.services import organisation_create

NAME = "Bench membres"
INDUSTRIES = ["Numérique", "Santé", "Finance", "Industrie", "Éducation", "Commerce"]
JOBS = ["Ingénieure", "Infirmier", "Comptable", "Enseignante", "Vendeur", "Chef de projet"]


def build(count: int) -> Organisation:
    organisation = Organisation.objects.filter(name=NAME).first()
    if organisation is not None and organisation.members.count() >= count:
        organisation.custom_fields.update(searchable=True)
        analyze()  # migrations may have added indexes since the build
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
        rng = random.Random(50_000)  # noqa: S311
        fields = [
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
            for n in range(10)
        ]
        password = make_password(None)
        now = timezone.now()
        members = []
        for n in range(count):
            depth = rng.random()
            members.append(
                Member(
                    organisation=organisation,
                    email=f"bench.member.{n}@cohorte.example",
                    first_name=f"Prénom{n % 997}",
                    last_name=f"Nom{n % 1009}",
                    password=password,
                    role=rng.choice(["mentor", "mentee", "both", ""]),
                    industry=rng.choice(INDUSTRIES) if depth > 0.2 else "",
                    job_title=rng.choice(JOBS) if depth > 0.3 else "",
                    city="Paris" if depth > 0.4 else "",
                    company="ACME" if depth > 0.5 else "",
                    goals="Progresser" if depth > 0.6 else "",
                    last_access=now - timezone.timedelta(days=rng.randint(0, 200))
                    if depth > 0.1
                    else None,
                    relationships_count=rng.randint(0, 2),
                    matches_count=rng.randint(0, 4),
                    mentoring_minutes=rng.randint(0, 3000),
                    is_active=depth > 0.05,
                    date_joined=now - timezone.timedelta(days=rng.randint(0, 900)),
                )
            )
        Member.objects.bulk_create(members, batch_size=2000)
        ids = list(Member.objects.filter(organisation=organisation).values_list("pk", flat=True))
        values = []
        for pk in ids:
            for field in rng.sample(fields, 6):
                values.append(
                    CustomFieldValue(
                        member_id=pk,
                        field=field,
                        value=rng.choice(field.choices or ["texte libre"]),
                    )
                )
        CustomFieldValue.objects.bulk_create(values, batch_size=5000)
        cohorts = [
            Cohort.objects.create(organisation=organisation, name=f"Cohorte {n}") for n in range(5)
        ]
        through = Cohort.members.through
        through.objects.bulk_create(
            [
                through(cohort_id=rng.choice(cohorts).pk, member_id=pk)
                for pk in ids
                if rng.random() < 0.6
            ],
            batch_size=5000,
        )
    analyze()
    elapsed = time.perf_counter() - started
    print(f"built {count} members, {len(values)} custom answers in {elapsed:.1f} s")
    return organisation


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    organisation = build(args.members)
    admin = organisation.members.filter(is_org_admin=True).first()
    field = organisation.custom_fields.filter(options__gt="").first()
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    engine = connection.vendor
    print(f"\n{engine}, {organisation.members.count()} members — medians of {args.repeat}")
    cases = [
        ("first page (name)", {}),
        (
            "role=mentor & completion<80, by completion desc",
            {"role": "mentor", "completion_below": 80, "sort": "completion", "order": "desc"},
        ),
        (
            "custom field + option, by last session",
            {"custom_field": field.pk, "option": "B", "sort": "last_session", "order": "desc"},
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
        ("sorted by groups (cohort name)", {"sort": "groups"}),
        ("unmatched, page 100", {"relationship": "unmatched", "page": 100}),
    ]
    for label, params in cases:
        ms = median_ms(lambda p=params: client.get("/membres/", p), args.repeat)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/membres/", params)
        assert response.status_code == 200
        print(f"  list page, {label:<48} {ms:7.1f} ms  ({len(queries)} queries)")
    token = token_issue(member=admin)
    ms = median_ms(
        lambda: client.get(
            "/api/members",
            {"role": "mentor", "completion_below": 80, "sort": "completion", "page_size": 100},
            headers={"Authorization": f"Bearer {token}"},
        ),
        args.repeat,
    )
    print(f"  API, 100 rows, mentor & completion<80          {ms:7.1f} ms")

    started = time.perf_counter()
    done = services.organisation_completion_recompute(organisation_id=organisation.pk)
    print(
        f"  recompute completion of {done} members          {time.perf_counter() - started:7.2f} s"
    )

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
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = services.members_import(organisation_id=organisation.pk, rows=rows, by=admin)
    print(
        f"  import 10,000 rows: new {first:5.2f} s ({result['created']} created), "
        f"again {time.perf_counter() - started:5.2f} s ({again['updated']} updated)"
    )
    Member.objects.filter(email__startswith="bench.import.").delete()


if __name__ == "__main__":
    main()
