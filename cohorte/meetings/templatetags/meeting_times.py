"""`|when`: a meeting's date and time in the active time zone, like `|date`, but a time
stored at the very end of the calendar (year 9999, from before the bounds existed) is
shown in UTC instead of breaking the page for everyone."""

import datetime as dt

from django import template
from django.utils import formats, timezone

from cohorte.meetings.scheduling import in_zone

register = template.Library()


@register.filter
def when(value: object, arg: str = "DATETIME_FORMAT") -> str:
    if not isinstance(value, dt.datetime):
        return ""
    if timezone.is_aware(value):
        value = in_zone(value, timezone.get_current_timezone())
    return formats.date_format(value, arg)
