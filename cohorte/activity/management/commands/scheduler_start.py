from django.core.management.base import BaseCommand

from cohorte.activity.tasks import tick_schedule


class Command(BaseCommand):
    help = "Book the worker's periodic tick (scheduled messages, reminder rules, retention)."

    def handle(self, *args, **options) -> None:
        from cohorte.core.jobs import jobs_resume

        jobs_resume()  # a worker starts: the jobs of one that was killed are queued again
        booked = tick_schedule()
        self.stdout.write("tick booked" if booked else "a tick is already waiting")
