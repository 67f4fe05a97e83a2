from django.core.management.base import BaseCommand

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
