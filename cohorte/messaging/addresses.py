"""E-mail addresses are built by the standard library, never by string formatting: a
display name with a period, a comma, quotes or accents (« Marc St. Martin », « Smith,
John », « Élodie Ñúñez ») is quoted or encoded as RFC 5322 wants, and a person without a
name gets the bare address (Django refuses « a@b.fr <a@b.fr> »: the period in the phrase)."""

from email.utils import formataddr, parseaddr

from django.conf import settings


def clean_name(name: object) -> str:
    """A display name on one line: a line break in a header would start another header."""
    return " ".join(str(name or "").split())


def mail_address(email: str, name: object = "") -> str:
    """« "Marc St. Martin" <marc@x.fr> », or the bare address when there is no real name."""
    email = email.strip()
    name = clean_name(name)
    if not name or name.casefold() == email.casefold():
        return email
    return formataddr((name, email))


def member_name(member: object) -> str:
    """The name a member's e-mails carry: their first and last names, nothing else (not the
    e-mail fallback `Member.full_name` uses for the screen)."""
    return clean_name(f"{getattr(member, 'first_name', '')} {getattr(member, 'last_name', '')}")


def member_address(member: object) -> str:
    return mail_address(str(getattr(member, "email", "")), member_name(member))


def normalised(address: str) -> str:
    """An address as people write it in a setting (« Lycées St. Martin <noreply@x.fr> »),
    rewritten so that Django's strict parser accepts it."""
    name, email = parseaddr(address)
    return mail_address(email, name) if email else address


def sender_address() -> str:
    return normalised(settings.DEFAULT_FROM_EMAIL)
