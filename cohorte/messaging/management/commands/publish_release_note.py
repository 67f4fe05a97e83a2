from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cohorte.messaging import services
from cohorte.messaging.models import ReleaseNote


class Command(BaseCommand):
    help = "Publish release notes (French and English) to every organisation's administrators."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--title-fr", required=True)
        parser.add_argument("--title-en", required=True)
        parser.add_argument("--body-fr", required=True, help="a file of HTML or text")
        parser.add_argument("--body-en", required=True, help="a file of HTML or text")

    def handle(self, *args, **options) -> None:
        try:
            body_fr = Path(options["body_fr"]).read_text(encoding="utf-8")
            body_en = Path(options["body_en"]).read_text(encoding="utf-8")
        except OSError as error:
            raise CommandError(str(error)) from error
        note = ReleaseNote.objects.create(
            title_fr=options["title_fr"],
            title_en=options["title_en"],
            body_fr=body_fr,
            body_en=body_en,
        )
        count = services.release_note_publish(note=note)
        self.stdout.write(f"published to {count} administrator(s)")
