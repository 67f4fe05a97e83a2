from django.core.management.base import BaseCommand

from cohorte.activity.tasks import tick_schedule


class Command(BaseCommand):
    help = "Book the worker's periodic tick (scheduled messages, reminder rules, retention)."

    def handle(self, *args, **options) -> None:
        booked = tick_schedule()
        self.stdout.write("tick booked" if booked else "a tick is already waiting")
