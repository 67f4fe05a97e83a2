"""Dates of the messages and of the e-mail log, shown even when a stored value is out of
range (a year 9999 saved before the bounds existed): « — » instead of a server error."""

import datetime as dt

from django import template
from django.utils import dateformat, timezone

register = template.Library()


def safe_localtime(value: dt.datetime | None, tz: dt.tzinfo | None = None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return timezone.localtime(value, tz) if timezone.is_aware(value) else value
    except (OverflowError, ValueError):
        return None


def local_time(value: dt.datetime | None, tz: dt.tzinfo | None, pattern: str) -> str:
    moment = safe_localtime(value, tz)
    return moment.strftime(pattern) if moment is not None else ""


@register.filter(expects_localtime=False)
def when(value: dt.datetime | None, pattern: str = "j F Y H:i") -> str:
    """Like `date`, in the current time zone, never failing on a stored extreme."""
    moment = safe_localtime(value)
    if moment is None:
        return "—" if value is not None else ""
    try:
        return dateformat.format(moment, pattern)
    except (OverflowError, ValueError):
        return "—"
