from django.core.management.base import BaseCommand, CommandError

from cohorte.accounts.api_auth import token_issue
from cohorte.accounts.models import Member


class Command(BaseCommand):
    help = "Print a new API token for a member (and nothing else)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email, **options):
        member = Member.objects.filter(email=Member.objects.normalize_email(email)).first()
        if member is None:
            raise CommandError(f"No member with the e-mail {email}.")
        if not member.is_active:
            raise CommandError(f"{email} is deactivated.")
        self.stdout.write(token_issue(member=member))
