from django.http import HttpRequest

from .models import Notification


def notifications(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: one COUNT on the (member, read_at) index, only where the bell is drawn.
    return {
        "unread_notifications": lambda: Notification.objects.filter(
            member=user, read_at__isnull=True
        ).count()
    }
