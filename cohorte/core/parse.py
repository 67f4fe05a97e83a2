"""Parse at the boundary, once: ids, integers, dates, times and time zones from query
strings, forms and JSON go through these functions, with bounds, so that nothing out of
range reaches the database or is ever stored.

Every refusal is a ``ParseError`` (a ``ValueError``) whose message is written for the
person who sent the value, in the active language. Views turn it into a form error or a
400; the API uses the pydantic types at the bottom, which give the same reasons.
"""

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any

from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

#: the largest primary key a database column holds (BIGINT / SQLite INTEGER)
MAX_ID = 2**63 - 1
#: a date people type for something in our programmes: this century, give or take
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)
#: how far ahead meetings and scheduled sendings may be set
FUTURE_YEARS = 5
#: an event reported « now » by another machine may come from a clock a little ahead
EVENT_CLOCK_SKEW = dt.timedelta(minutes=10)

_DIGITS = re.compile(r"[0-9]+")  # ASCII only: "²" and "٣" are digits to str.isdigit()
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ParseError(ValueError):
    """A value that cannot be used; the message says why, for the person who sent it."""

    def __init__(self, message: str, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- Numbers ----------------------------------------------------------------------------


def parse_id(value: object) -> int:
    """A primary key: ASCII digits, 1 to 2⁶³−1."""
    text = _text(value)
    if not text or len(text) > 19 or not _DIGITS.fullmatch(text):
        raise ParseError(_("identifiant invalide"))
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ParseError(_("identifiant invalide"))
    return number


def parse_ids(values: Iterable[object], *, limit: int = 10_000) -> list[int]:
    """Several ids (a form's ticked boxes, « 1,2,3 »), each checked, duplicates dropped."""
    ids: list[int] = []
    for value in values:
        for part in _text(value).split(","):
            if part.strip():
                ids.append(parse_id(part))
    unique = list(dict.fromkeys(ids))
    if len(unique) > limit:
        raise ParseError(_("trop d'éléments (%(n)s au plus)") % {"n": limit})
    return unique


def parse_int(value: object, *, minimum: int, maximum: int) -> int:
    """An integer between two bounds, from its ASCII decimal writing."""
    text = _text(value)
    if not text or len(text) > 20 or not _INTEGER.fullmatch(text):
        raise ParseError(_("nombre entier attendu"))
    number = int(text)
    if number < minimum:
        raise ParseError(_("doit être au moins %(n)s") % {"n": minimum})
    if number > maximum:
        raise ParseError(_("doit être au plus %(n)s") % {"n": maximum})
    return number


# --- Dates and times ----------------------------------------------------------------------


def check_date(value: dt.date, *, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE):
    if not earliest <= value <= latest:
        raise ParseError(
            _("date hors limites (du %(earliest)s au %(latest)s)")
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
            code="date_range",
        )
    return value


def parse_date(
    value: object, *, earliest: dt.date = EARLIEST_DATE, latest: dt.date = LATEST_DATE
) -> dt.date:
    """A calendar date written AAAA-MM-JJ, within bounds."""
    text = _text(value)
    if not _DATE.fullmatch(text):
        raise ParseError(_("date attendue (AAAA-MM-JJ)"))
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as error:
        raise ParseError(_("date attendue (AAAA-MM-JJ)")) from error
    return check_date(day, earliest=earliest, latest=latest)


def parse_time(value: object) -> dt.time:
    """A time of day, HH:MM (or HH:MM:SS)."""
    text = _text(value)
    if not re.fullmatch(r"[0-9]{2}:[0-9]{2}(:[0-9]{2})?", text):
        raise ParseError(_("heure attendue (HH:MM)"))
    try:
        return dt.time.fromisoformat(text)
    except ValueError as error:
        raise ParseError(_("heure attendue (HH:MM)")) from error


def check_datetime(
    value: dt.datetime,
    *,
    earliest: dt.datetime | None = None,
    latest: dt.datetime | None = None,
) -> dt.datetime:
    """An aware date and time within bounds (by default this century)."""
    if timezone.is_naive(value):
        raise ParseError(
            _("l'heure doit indiquer son décalage horaire (ex. +02:00)"), code="timezone_aware"
        )
    earliest = earliest or dt.datetime.combine(EARLIEST_DATE, dt.time.min, tzinfo=dt.UTC)
    latest = latest or dt.datetime.combine(LATEST_DATE, dt.time.max, tzinfo=dt.UTC)
    if not earliest <= value <= latest:
        tz = timezone.get_current_timezone()
        raise ParseError(
            _("date hors limites (du %(earliest)s au %(latest)s)")
            % {
                "earliest": timezone.localtime(earliest, tz).date().isoformat(),
                "latest": timezone.localtime(latest, tz).date().isoformat(),
            },
            code="date_range",
        )
    return value


def within_bounds(value: dt.datetime) -> bool:
    """Whether a stored date and time lies in this century (one saved before the bounds
    existed may not, and a form cannot show it)."""
    try:
        check_datetime(value)
    except ParseError:
        return False
    return True


def parse_datetime(value: object, *, tz: dt.tzinfo | None = None) -> dt.datetime:
    """An ISO 8601 date and time; without an offset it is read in `tz` (the organisation's
    or the member's time zone) when one is given, and refused otherwise."""
    text = _text(value)
    if not text or len(text) > 40 or not text[:1].isdigit():
        raise ParseError(_("date et heure ISO 8601 attendues"))
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as error:
        raise ParseError(_("date et heure ISO 8601 attendues")) from error
    if timezone.is_naive(moment):
        if tz is None:
            raise ParseError(
                _("l'heure doit indiquer son décalage horaire (ex. +02:00)"),
                code="timezone_aware",
            )
        moment = moment.replace(tzinfo=tz)
    return check_datetime(moment)


def past_event_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """What happened: from 2000 to now (plus a little clock skew)."""
    now = now or timezone.now()
    return dt.datetime.combine(EARLIEST_DATE, dt.time.min, tzinfo=dt.UTC), now + EVENT_CLOCK_SKEW


def schedule_bounds(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """What is planned (meetings, scheduled sendings): from 2000 to a few years ahead."""
    now = now or timezone.now()
    return (
        dt.datetime.combine(EARLIEST_DATE, dt.time.min, tzinfo=dt.UTC),
        now + dt.timedelta(days=365 * FUTURE_YEARS + 1),
    )


def check_event_time(value: dt.datetime) -> dt.datetime:
    earliest, latest = past_event_bounds()
    return check_datetime(value, earliest=earliest, latest=latest)


def check_schedule_time(value: dt.datetime) -> dt.datetime:
    earliest, latest = schedule_bounds()
    return check_datetime(value, earliest=earliest, latest=latest)


# --- Time zones ---------------------------------------------------------------------------


@cache
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(value: object) -> str:
    """An IANA time zone name that zoneinfo knows (« Europe/Paris »), nothing else: a name
    is a path on disk to zoneinfo, so « ../../etc/passwd » must never reach it."""
    text = _text(value)
    if text not in time_zone_names():
        raise ParseError(_("fuseau horaire inconnu : %(value)s") % {"value": text[:64]})
    return text


def zone_or_default(name: str | None, default: dt.tzinfo) -> dt.tzinfo:
    """A stored time zone name as a tzinfo; a bad stored name never breaks a page."""
    if name and name in time_zone_names():
        return zoneinfo.ZoneInfo(name)
    return default


# --- Searches -------------------------------------------------------------------------------


def search_words(q: str) -> list[str]:
    """The words of a search box; a NUL character (which no database text can hold) counts
    as a space, so a search with one is inert instead of a server error."""
    return q.replace("\x00", " ").split()[:20]


# --- Redirects ----------------------------------------------------------------------------


def safe_next(request: Any, fallback: str, *, field: str = "next") -> str:
    """Where to go after a form: the `next` the page asked for if it stays on this site,
    else the fallback (never an open redirect)."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- The same rules for the API (pydantic) -------------------------------------------------


def _pydantic(check):
    """A parse/check function as a pydantic validator with our reason as its message."""

    def validate(value):
        try:
            return check(value)
        except ParseError as error:
            raise PydanticCustomError(f"cohorte_{error.code}", error.message) from error

    return validate


#: a primary key in a path or a body
ApiId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: a calendar date within this century
ApiDate = Annotated[dt.date, AfterValidator(_pydantic(check_date))]
#: something that happened (an activity event): 2000 to now
EventTime = Annotated[AwareDatetime, AfterValidator(_pydantic(check_event_time))]
#: something planned (a meeting, a scheduled message): 2000 to a few years ahead
ScheduleTime = Annotated[AwareDatetime, AfterValidator(_pydantic(check_schedule_time))]
#: an IANA time zone name
TimeZoneName = Annotated[str, AfterValidator(_pydantic(parse_timezone))]
