from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from cohorte.core.moments import format_moment

register = template.Library()


@register.filter
def ago(value: datetime | None) -> str:
    """« il y a 3 jours » — the largest unit only, as people say it. A time ahead of now
    (a clock a little fast) is « à l'instant »; one far ahead, which only a bad stored value
    can be, shows its date rather than pretending."""
    if value is None:
        return _("Jamais")
    elapsed = timezone.now() - value
    if elapsed < timedelta(minutes=1):
        if -elapsed > timedelta(days=1):
            return format_moment(value, "DATE_FORMAT")
        return _("à l'instant")
    return _("il y a %(duration)s") % {"duration": timesince(value, depth=1)}


@register.filter
def moment(value: datetime | None, fmt: str = "DATETIME_FORMAT") -> str:
    """Like `date`, in the active time zone, but a stored year 1 or 9999 never breaks the
    page (see cohorte.core.moments)."""
    return format_moment(value, fmt)


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: object) -> str:
    """The current query string with some parameters changed (sort, page…), for links."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def hours_minutes(minutes: int | None) -> str:
    """« 01:30 »: mentoring time as the seed shows it."""
    minutes = int(minutes or 0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@register.simple_tag
def presence_dot(member_id: int) -> str:
    """A dot the page's poller turns green when the person is online."""
    from django.utils.html import format_html

    return format_html(
        '<span class="presence" data-presence="{}" title="{}"></span>', member_id, _("hors ligne")
    )


@register.filter
def action_label(action: str) -> str:
    """An audit entry's action in the reader's words (« Langue modifiée »), not its key."""
    from cohorte.core.selectors import action_label as label

    return label(action)
