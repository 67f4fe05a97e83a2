from django.core.management.base import BaseCommand, CommandError

from cohorte.accounts.models import ApiToken, Member
from cohorte.accounts.tokens import tokens_revoke


class Command(BaseCommand):
    help = (
        "Revoke a member's API tokens: --all, or --token-prefix=P (the first characters of "
        "the key, as the tokens page shows them; write it with « = » when it begins with « - »). "
        "Without either, the member's only live token."
    )

    def add_arguments(self, parser):
        parser.add_argument("email")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="every live token of the member")
        which.add_argument("--token-prefix", default="", help="the token whose key starts so")

    def handle(self, *args, email, all=False, token_prefix="", **options):  # noqa: A002
        member = Member.objects.filter(email=Member.objects.normalize_email(email)).first()
        if member is None:
            raise CommandError(f"No member with the e-mail {email}.")
        live = ApiToken.objects.filter(member=member, revoked_at__isnull=True).select_related(
            "member"
        )
        if token_prefix:
            if len(token_prefix) < 4:
                raise CommandError("--token-prefix needs at least 4 characters.")
            chosen = [token for token in live if token.key_prefix.startswith(token_prefix)]
            if not chosen:
                raise CommandError(f"{email} has no live token starting with {token_prefix}.")
            if len(chosen) > 1:
                raise CommandError(f"Several tokens start with {token_prefix}: give more of it.")
        elif all:
            chosen = list(live)
        else:
            chosen = list(live)
            if len(chosen) > 1:
                prefixes = ", ".join(token.key_prefix or "?" for token in chosen)
                raise CommandError(
                    f"{email} has {len(chosen)} live tokens ({prefixes}): "
                    "choose one with --token-prefix=…, or --all."
                )
        count = tokens_revoke(tokens=chosen, by=None, reason="command")
        self.stdout.write(f"{count} token(s) revoked for {member.email}.")
