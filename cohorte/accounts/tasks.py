"""Thin tasks: take ids, call a service, keep the job's progress."""

import unicodedata

from django.conf import settings
from django.tasks import task
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cohorte.core.jobs import job_run
from cohorte.core.models import Job

from . import services
from .models import CustomField, Member
from .reports import MEMBER_REPORT_COLUMNS
from .signals import members_invited


def _language_of(job: Job) -> str:
    return job.created_by.language if job.created_by else settings.LANGUAGE_CODE


@task()
def completion_recompute(job_id: int) -> None:
    """« Recalculer valeur du profil » for a whole organisation."""

    def work(job: Job, progress) -> dict:
        count = services.organisation_completion_recompute(
            organisation_id=job.organisation_id or 0, progress=progress
        )
        with translation.override(_language_of(job)):
            return {
                "title": _("Recalculer valeur du profil"),
                "summary": ngettext(
                    "%(count)d profil recalculé.", "%(count)d profils recalculés.", count
                )
                % {"count": count},
                "next_url": reverse("members:list"),
                "next_label": _("Voir les membres"),
            }

    job_run(job_id, work)


# --- Import -----------------------------------------------------------------------------------


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in text if char.isalnum())


#: other names people give the core columns (the seed's spreadsheets are in English)
ALIASES = {
    "email": ["email", "e-mail", "courriel", "adresse courriel", "email address", "adresse e-mail"],
    "first_name": ["first name", "prenom", "prénom", "firstname"],
    "last_name": ["last name", "nom", "nom de famille", "lastname", "surname"],
    "role": ["role", "rôle", "rôle relation", "relationship role"],
    "language": ["language", "langue"],
    "timezone": ["time zone", "fuseau horaire", "timezone"],
    "job_title": ["job title", "intitulé du poste", "intitulé du poste actuel", "title", "poste"],
    "company": ["company", "entreprise"],
    "industry": ["industry", "secteur", "industrie actuelle", "current industry"],
    "years_experience": ["years of experience", "années d'expérience"],
    "country": ["country", "pays"],
    "province": ["state/province", "état/province", "province", "state"],
    "city": ["city", "ville"],
    "goals": ["goals", "objectifs"],
    "skills": ["specialized skills", "compétences spécialisées", "skills", "compétences"],
    "development_areas": ["development areas", "domaines de développement"],
    "linkedin": ["linkedin", "identifiant sur linkedin", "linkedin handle"],
}


def import_targets(fields: list[CustomField]) -> list[tuple[str, str]]:
    targets = [("", _("— ne pas importer —"))]
    targets += [(name, str(label)) for name, label in MEMBER_REPORT_COLUMNS]
    targets += [(f"custom:{field.pk}", field.name) for field in fields]
    return targets


def guess_mapping(header: list[str], fields: list[CustomField]) -> dict[str, str]:
    """Columns map by themselves when they carry our report's headers (in either language),
    the seed's English ones, or a custom field's name."""
    known: dict[str, str] = {}
    for name, label in MEMBER_REPORT_COLUMNS:
        known[_key(name)] = name
        for language in ("fr", "en"):
            with translation.override(language):
                known[_key(str(label))] = name
    for name, words in ALIASES.items():
        for word in words:
            known[_key(word)] = name
    for field in fields:
        for word in (field.name_fr, field.name_en):
            if word:
                known[_key(word)] = f"custom:{field.pk}"
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, title in enumerate(header):
        target = known.get(_key(title), "")
        if target in used:
            target = ""
        used.add(target)
        mapping[str(index)] = target
    return mapping


def mapped_rows(rows: list, mapping: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    out = []
    for line, cells in rows:
        row: dict[str, str] = {}
        for index, target in mapping.items():
            position = int(index)
            if target and position < len(cells):
                row[target] = cells[position]
        out.append((line, row))
    return out


def invitations_send(*, organisation_id: int, member_ids: list[int]) -> int:
    """Sign-in details for new members: the messaging app puts them in its outbox."""
    answers = members_invited.send(
        sender=Member, organisation_id=organisation_id, member_ids=member_ids
    )
    return sum(int(result or 0) for _receiver, result in answers)


@task()
def members_import(job_id: int) -> None:
    """Import every row or none; the per-line problems go to the job."""

    def work(job: Job, progress) -> dict:
        rows = mapped_rows(job.payload["rows"], job.payload["mapping"])
        # the uploaded rows are personal data: they do not outlive the import
        Job.objects.filter(pk=job.pk).update(
            payload={key: value for key, value in job.payload.items() if key != "rows"}
        )
        with translation.override(_language_of(job)):
            title = _("Importer des membres")
            try:
                result = services.members_import(
                    organisation_id=job.organisation_id or 0,
                    rows=rows,
                    by=job.created_by,
                    progress=progress,
                )
            except services.BatchRefused as refused:
                fields = list(CustomField.objects.filter(organisation_id=job.organisation_id or 0))
                labels = dict(import_targets(fields))
                return {
                    "title": title,
                    "failed": True,
                    "error": _("Rien n'a été importé : corrigez ces lignes puis recommencez."),
                    "errors": [
                        {
                            "line": e.line,
                            "field": labels.get(e.field, e.field),
                            "message": e.message,
                        }
                        for e in refused.errors
                    ],
                    "next_url": reverse("members:import"),
                    "next_label": _("Importer un fichier corrigé"),
                }
            invited = 0
            if job.payload.get("invite") and result["created_ids"]:
                invited = invitations_send(
                    organisation_id=job.organisation_id or 0, member_ids=result["created_ids"]
                )
            return {
                "title": title,
                "summary": _(
                    "%(created)d membre(s) créé(s), %(updated)d mis à jour, "
                    "%(invited)d invitation(s) envoyée(s)."
                )
                % {"created": result["created"], "updated": result["updated"], "invited": invited},
                "created": result["created"],
                "updated": result["updated"],
                "next_url": reverse("members:list"),
                "next_label": _("Voir les membres"),
            }

    job_run(job_id, work)
