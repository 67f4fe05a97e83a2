from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.management.base import BaseCommand

from cohorte.accounts.models import Member
from cohorte.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_PASSWORD,
    DEMO_ORGANISATION,
    big_program,
    demo_build,
)
from cohorte.programs.models import Organisation


class Command(BaseCommand):
    help = "Build the demo organisation (idempotent); --participants/--events add a big programme."

    def add_arguments(self, parser):
        parser.add_argument("--participants", type=int, default=0)
        parser.add_argument("--events", type=int, default=0)

    def handle(self, *args, participants, events, **options):
        organisation = demo_build()
        if organisation is None:
            self.stdout.write("Demo data already present: nothing to do.")
            organisation = Organisation.objects.get(name=DEMO_ORGANISATION)
        else:
            self.stdout.write(f"Demo organisation « {organisation.name} » built.")
        if participants:
            name = f"Programme volumineux ({participants} participants)"
            _, built = big_program(
                organisation=organisation, name=name, participants=participants, events=events
            )
            self.stdout.write(
                f"« {name} » built with {events} events."
                if built
                else f"« {name} » already present."
            )
        self.stdout.write(
            "\n  Administrateur de démonstration / demo administrator:\n"
            f"    courriel / e-mail : {DEMO_ADMIN_EMAIL}\n"
            f"    mot de passe / password : {DEMO_ADMIN_PASSWORD}\n"
        )
        # everyone else who signs in with the same password: the managers, and two members
        # to see « Mon espace » as a participant and a professional do
        others = (
            Member.objects.filter(organisation=organisation, is_active=True)
            .exclude(email=DEMO_ADMIN_EMAIL)
            .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
            .order_by("pk")
            .values_list("email", flat=True)
        )
        self.stdout.write(
            "  Même mot de passe / same password:\n" + "".join(f"    {email}\n" for email in others)
        )
