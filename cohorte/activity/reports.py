"""The participants' activity report: the table as shown, for the CSV and the cycle's archive."""

from collections.abc import Iterator
from typing import cast

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cohorte.core.moments import localtime_or_utc

from .selectors import ActivityRow


def participants_report(rows: QuerySet) -> tuple[list[str], Iterator[list[object]]]:
    header = [
        _("Nom"),
        _("Courriel"),
        _("Profils visités"),
        _("Professionnels contactés"),
        _("Rendez-vous à venir"),
        _("Rendez-vous confirmés"),
        _("Progression (%)"),
        _("Dernier accès"),
        _("Signalé"),
    ]
    yes, no = _("oui"), _("non")

    def lines() -> Iterator[list[object]]:
        for row in cast(Iterator[ActivityRow], rows.iterator(chunk_size=2000)):
            yield [
                row.member.full_name,
                row.member.email,
                row.profiles_visited,
                row.professionals_contacted,
                row.upcoming_meetings,
                row.confirmed_meetings,
                row.progress,
                (
                    localtime_or_utc(row.last_access).isoformat(timespec="seconds")
                    if row.last_access
                    else _("Jamais")
                ),
                yes if (row.is_reported or row.has_unanswered) else no,
            ]

    return header, lines()
