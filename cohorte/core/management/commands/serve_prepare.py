from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Before the production server serves (make serve-prepare): apply migrations, collect "
        "and compress static files, book the worker's periodic tick. One process for the three."
    )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.stdout.write("static files collected")
        call_command("scheduler_start")
