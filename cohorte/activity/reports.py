"""The participants' activity report: the table as shown, for the CSV and the cycle's archive."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cohorte.core.moments import localtime_or_utc


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
        # plain tuples, not model instances: 100,000 rows stream in a few seconds
        for first, last, email, *figures, last_access, reported, unanswered in rows.values_list(
            "member__first_name",
            "member__last_name",
            "member__email",
            "profiles_visited",
            "professionals_contacted",
            "upcoming_meetings",
            "confirmed_meetings",
            "progress",
            "last_access",
            "is_reported",
            "has_unanswered",
        ).iterator(chunk_size=2000):
            yield [
                f"{first} {last}".strip() or email,  # as Member.full_name
                email,
                *figures,
                (
                    localtime_or_utc(last_access)
                    .replace(tzinfo=None)
                    .isoformat(" ", timespec="seconds")
                    if last_access
                    else _("Jamais")
                ),
                yes if (reported or unanswered) else no,
            ]

    return header, lines()
