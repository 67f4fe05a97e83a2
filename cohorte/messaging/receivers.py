import hashlib

from anymail.signals import tracking
from django.dispatch import receiver
from django.utils import timezone

from cohorte.accounts.signals import members_invited

from . import services
from .models import Email


@receiver(tracking)
def on_provider_event(sender, event, esp_name, **kwargs) -> None:
    """django-anymail's tracking webhook: match the row by the provider's message id and move
    its status (never backwards); each event is kept once, as providers send them again."""
    status = services.TRACKING_STATUS.get(event.event_type)
    if status is None or not event.message_id:
        return
    email = (
        Email.objects.filter(provider_message_id=event.message_id).first()
        or Email.objects.filter(message_id_header=event.message_id).first()
    )
    if email is None:
        return
    at = event.timestamp or timezone.now()
    key = (
        event.event_id
        or hashlib.sha256(
            f"{esp_name}|{event.message_id}|{event.event_type}|{at.isoformat()}".encode()
        ).hexdigest()
    )
    services.email_status_record(
        email=email,
        status=status,
        at=at,
        event_key=f"{esp_name}:{key}",
        detail=event.mta_response or event.description or "",
    )


@receiver(members_invited)
def invite_members(sender, *, organisation_id, member_ids, **kwargs) -> int:
    """« Importation des informations de connexion »: a link to choose one's password."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from cohorte.accounts.models import Member
    from cohorte.programs.models import Organisation

    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        return 0
    sent = 0
    for member in Member.objects.filter(
        pk__in=member_ids, organisation_id=organisation_id, is_active=True
    ):
        uid = urlsafe_base64_encode(force_bytes(member.pk))
        link = services.absolute_url(
            reverse(
                "accounts:password-reset-confirm",
                args=[uid, default_token_generator.make_token(member)],
            )
        )
        email = services.system_email(
            organisation_id=organisation_id,
            key="import_login",
            member=member,
            values={
                "sign_in_link": link,
                "organisation": organisation.name,
                "admin_email": organisation.admin_email(),
            },
        )
        sent += email is not None
    return sent
