"""The load test's data set, built once into its own PostgreSQL database (run.py copies it
for every run, so each run starts from the same state):

- one organisation, « Bench charge »;
- a big programme of N participants (20,000 by default) with M activity events (500,000),
  meetings and reports, filled by the demo's bulk_fill;
- a small programme per manager beyond the first half (400 participants each);
- K manager accounts (50): the first half share the big programme, each of the others
  manages a small programme of their own.

    DATABASE_URL=postgres://…/load_bench_seed_… .venv/bin/python bench/load/dataset.py \\
        --participants 20000 --events 500000 --managers 50
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cohorte.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402

from cohorte.accounts.models import Member  # noqa: E402
from cohorte.demo import big_program  # noqa: E402
from cohorte.programs.models import Organisation  # noqa: E402
from cohorte.programs.services import organisation_create  # noqa: E402

ORGANISATION = "Bench charge"
BIG = "Charge : grand programme"
SMALL = "Charge : petit programme {k}"
MANAGER_EMAIL = "manager-{k}@charge.cohorte.example"
MANAGER_PASSWORD = "charge-password-{k}"  # noqa: S105 — one each, for a bench account


def small_size(participants: int) -> int:
    return max(20, min(400, participants // 50))


def build(*, participants: int, events: int, managers: int) -> None:
    started = time.perf_counter()
    organisation, _admin = organisation_create(
        name=ORGANISATION,
        admin_email="admin@charge.cohorte.example",
        admin_password="charge-admin-password",
    )
    big, _ = big_program(
        organisation=organisation,
        name=BIG,
        participants=participants,
        events=events,
        prefix="charge",
    )
    print(f"  big programme: {participants} participants, {events} events", flush=True)
    shared = (managers + 1) // 2
    accounts = Member.objects.bulk_create(
        [
            Member(
                email=MANAGER_EMAIL.format(k=k),
                first_name="Manager",
                last_name=f"Charge {k:02d}",
                organisation=organisation,
                password=make_password(MANAGER_PASSWORD.format(k=k)),
            )
            for k in range(managers)
        ]
    )
    big.managers.add(*accounts[:shared])
    size = small_size(participants)
    for k, account in enumerate(accounts[shared:], start=shared):
        small, _ = big_program(
            organisation=organisation,
            name=SMALL.format(k=k),
            participants=size,
            events=size * 25,
            prefix=f"charge{k}",
        )
        small.managers.add(account)
    print(
        f"  {managers} managers ({shared} share the big programme, "
        f"{managers - shared} have a small one of {size}) — built in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--managers", type=int, default=50)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if Organisation.objects.filter(name=ORGANISATION).exists():
        print("  the data set is already there")
        return
    build(participants=args.participants, events=args.events, managers=args.managers)


if __name__ == "__main__":
    main()
