from django.core.management.base import BaseCommand
from django.utils import timezone

from cohorte.activity.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_PASSWORD,
    DEMO_ORGANISATION,
    bulk_fill,
    demo_build,
)
from cohorte.programs.models import Organisation, Program, ProgramKind


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
            if Program.objects.filter(organisation=organisation, name=name).exists():
                self.stdout.write(f"« {name} » already present.")
            else:
                today = timezone.localdate()
                program = Program.objects.create(
                    organisation=organisation,
                    name=name,
                    kind=ProgramKind.ACCOMPANIMENT,
                    start_date=today - timezone.timedelta(days=90),
                    end_date=today + timezone.timedelta(days=90),
                    objective=3,
                )
                bulk_fill(program=program, participants=participants, events=events)
                self.stdout.write(f"« {name} » built with {events} events.")
        self.stdout.write(
            "\n  Administrateur de démonstration / demo administrator:\n"
            f"    courriel / e-mail : {DEMO_ADMIN_EMAIL}\n"
            f"    mot de passe / password : {DEMO_ADMIN_PASSWORD}\n"
        )
