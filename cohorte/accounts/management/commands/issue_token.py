from django.core.management.base import BaseCommand, CommandError

from cohorte.accounts.models import Member
from cohorte.accounts.tokens import MAX_DAYS, token_issue


class Command(BaseCommand):
    help = (
        "Print a new API token for a member (and nothing else). --days N: the token expires "
        "after N days."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--days", type=int, default=None, help=f"expire after N days (1 to {MAX_DAYS})"
        )

    def handle(self, *args, email, days=None, **options):
        member = Member.objects.filter(email=Member.objects.normalize_email(email)).first()
        if member is None:
            raise CommandError(f"No member with the e-mail {email}.")
        if not member.is_active:
            raise CommandError(f"{email} is deactivated.")
        if member.archived_at is not None:
            raise CommandError(f"{email} is archived.")
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        self.stdout.write(token_issue(member=member, days=days))
