import hashlib

from anymail.signals import tracking
from django.dispatch import receiver
from django.utils import timezone

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
