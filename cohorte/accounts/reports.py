"""The members report (« Rapport complet »): every profile column, under headers that the
import maps back by themselves — a report exported at the end of a cycle re-imports."""

from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorte.core.moments import localtime_or_utc

from .models import CustomField, Member, MemberRole

#: (field, header) of the core columns, in the report's order
MEMBER_REPORT_COLUMNS = (
    ("first_name", gettext_lazy("Prénom")),
    ("last_name", gettext_lazy("Nom")),
    ("email", gettext_lazy("Courriel")),
    ("role", gettext_lazy("Rôle")),
    ("language", gettext_lazy("Langue")),
    ("timezone", gettext_lazy("Fuseau horaire")),
    ("job_title", gettext_lazy("Intitulé du poste")),
    ("company", gettext_lazy("Entreprise")),
    ("industry", gettext_lazy("Secteur")),
    ("years_experience", gettext_lazy("Années d'expérience")),
    ("country", gettext_lazy("Pays")),
    ("province", gettext_lazy("État/Province")),
    ("city", gettext_lazy("Ville")),
    ("goals", gettext_lazy("Objectifs")),
    ("skills", gettext_lazy("Compétences spécialisées")),
    ("development_areas", gettext_lazy("Domaines de développement")),
    ("linkedin", gettext_lazy("LinkedIn")),
)
#: read-only columns after the profile
STATUS_COLUMNS = (
    gettext_lazy("Achèvement du profil (%)"),
    gettext_lazy("Dernière session"),
    gettext_lazy("Relations en cours"),
    gettext_lazy("Jumelages"),
    gettext_lazy("Heures de mentorat"),
    gettext_lazy("Membre depuis"),
    gettext_lazy("Date de fin"),
    gettext_lazy("Actif"),
    gettext_lazy("Cohortes et étiquettes"),
)


def member_report_rows(
    members: Iterable[Member], fields: list[CustomField]
) -> tuple[list[str], Iterator[list[object]]]:
    header = [str(label) for _, label in MEMBER_REPORT_COLUMNS]
    header += [field.name for field in fields] + [str(label) for label in STATUS_COLUMNS]
    field_ids = [field.pk for field in fields]
    roles = dict(MemberRole.choices)
    yes, no = _("oui"), _("non")

    def lines() -> Iterator[list[object]]:
        queryset = members.prefetch_related("field_values", "cohorts")  # type: ignore[attr-defined]
        for member in queryset.iterator(chunk_size=2000):
            values: dict[int, list[str]] = {}
            for value in member.field_values.all():
                values.setdefault(value.field_id, []).append(value.value)
            line: list[object] = []
            for name, _label in MEMBER_REPORT_COLUMNS:
                value = getattr(member, name)
                if name == "role":
                    value = roles.get(value, "")
                line.append("" if value is None else value)
            line += [", ".join(values.get(field_id, [])) for field_id in field_ids]
            line += [
                member.profile_completion,
                _format(member.last_access, "%Y-%m-%d %H:%M"),
                member.relationships_count,
                member.matches_count,
                member.mentoring_hours,
                _format(member.date_joined, "%Y-%m-%d"),
                _format(member.deactivated_at, "%Y-%m-%d"),
                yes if member.is_active else no,
                ", ".join(cohort.name for cohort in member.cohorts.all()),
            ]
            yield line

    return header, lines()


def _format(moment, pattern: str) -> str:
    return localtime_or_utc(moment).strftime(pattern) if moment is not None else ""
