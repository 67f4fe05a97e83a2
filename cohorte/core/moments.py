"""Times read back from the database, shown safely. Values are bounded where they come in
(cohorte.core.parse), but a row written before that, or by hand, may hold year 1 or 9999:
converting 9999-12-31 23:00 UTC to Paris is year 10000, which Python cannot hold, and one
such row used to make a page fail for everyone who opened it."""

import datetime as dt

from django.utils import formats, timezone


def localtime_or_utc(value: dt.datetime, tz: dt.tzinfo | None = None) -> dt.datetime:
    """`value` in the time zone `tz` (default: the active one), or left in UTC when the
    conversion would leave the years Python can hold."""
    if value.tzinfo is None or value.utcoffset() is None:  # timezone.is_naive, inline: an
        value = value.replace(tzinfo=dt.UTC)  # export calls this for each of 100,000 rows
    try:
        return value.astimezone(tz or timezone.get_current_timezone())
    except (OverflowError, ValueError):
        return value.astimezone(dt.UTC)


def format_moment(
    value: dt.datetime | None, fmt: str = "DATETIME_FORMAT", tz: dt.tzinfo | None = None
) -> str:
    """A date and time for a page or an export, in the active language and time zone (or
    `tz`)."""
    if value is None:
        return ""
    return formats.date_format(localtime_or_utc(value, tz), fmt)
