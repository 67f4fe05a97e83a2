import zoneinfo

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from cohorte.accounts.models import Member
from cohorte.programs.services import organisation_create


class Command(BaseCommand):
    help = "Create an organisation and its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--timezone", default="Europe/Paris")

    def handle(self, *args, name, admin_email, admin_password, timezone, **options):
        try:
            validate_email(admin_email)
        except ValidationError as error:
            raise CommandError(f"Invalid e-mail: {admin_email}") from error
        if timezone not in zoneinfo.available_timezones():
            raise CommandError(f"Unknown time zone: {timezone}")
        if not name.strip():
            raise CommandError("The organisation needs a name.")
        if Member.objects.filter(email=Member.objects.normalize_email(admin_email)).exists():
            raise CommandError(f"A member with the e-mail {admin_email} already exists.")
        organisation, admin = organisation_create(
            name=name.strip(),
            admin_email=admin_email,
            admin_password=admin_password,
            timezone_name=timezone,
        )
        self.stdout.write(
            f"Organisation {organisation.name} (#{organisation.pk}) created; "
            f"administrator {admin.email}."
        )
