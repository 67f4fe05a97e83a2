"""Thin tasks: take ids, call a service, keep the job's progress."""

import itertools
import unicodedata
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cohorte.core.jobs import job_create, job_enqueue, job_run, job_run_atomic
from cohorte.core.models import Job, JobChunk

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


def mapped_rows(
    rows: Iterable[tuple[int, list[str]]], mapping: dict[str, str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row as {column key: cell}, one at a time."""
    columns = [(int(index), target) for index, target in mapping.items() if target]
    for line, cells in rows:
        width = len(cells)
        yield line, {target: cells[position] for position, target in columns if position < width}


def invitations_send(*, organisation_id: int, member_ids: list[int]) -> int:
    """Sign-in details for new members: the messaging app puts them in its outbox."""
    answers = members_invited.send(
        sender=Member, organisation_id=organisation_id, member_ids=member_ids
    )
    return sum(int(result or 0) for _receiver, result in answers)


def invitations_job(*, organisation_id: int, member_ids: list[int], by: Member | None) -> Job:
    """One background job for every invitation of an import, created in the import's
    transaction: both happen or neither, and the import does not wait for 10,000 e-mails
    to be written into the outbox."""
    job = job_create(
        kind="members_invite",
        by=by,
        organisation_id=organisation_id,
        title=_("Envoyer les invitations"),
        payload={"member_ids": member_ids},
    )
    Job.objects.filter(pk=job.pk).update(total=len(member_ids))
    job_enqueue(job, members_invite)
    return job


@task()
def members_invite(job_id: int) -> None:
    """The invitations of an import: their outbox rows and the job's end in one
    transaction, so a worker killed meanwhile leaves none of them, and the next run writes
    each once."""

    def work(job: Job) -> dict:
        sent = invitations_send(
            organisation_id=job.organisation_id or 0, member_ids=job.payload["member_ids"]
        )
        with translation.override(_language_of(job)):
            return {
                "invited": sent,
                "summary": ngettext(
                    "%(count)d invitation mise au courrier.",
                    "%(count)d invitations mises au courrier.",
                    sent,
                )
                % {"count": sent},
                "next_url": reverse("messaging:log"),
                "next_label": _("Voir le journal des courriels"),
            }

    job_run_atomic(job_id, work)


@task()
def members_import(job_id: int) -> None:
    """Import every row or none; the per-line problems go to the job.

    The uploaded rows are personal data: they do not outlive the import, but they leave the
    job (its slices, JobChunk) only in the transaction that commits it (with the
    invitations' job and the outcome), so a worker killed at any point leaves either the
    rows, to import again from the start, or the finished import, never both or neither.
    The slices are read one after the other: no step holds every raw row."""

    def work(job: Job, progress) -> dict:
        if not job.chunks.exists():  # committed by a worker that stopped before finishing
            return {"failed": bool(job.result.get("failed"))}
        mapping = job.payload["mapping"]
        rows = mapped_rows(itertools.chain.from_iterable(services.import_chunks(job=job)), mapping)
        with translation.override(_language_of(job)):
            title = _("Importer des membres")

            def within(result: dict) -> None:
                invited = 0
                if job.payload.get("invite") and result["created_ids"]:
                    invitations_job(
                        organisation_id=job.organisation_id or 0,
                        member_ids=result["created_ids"],
                        by=job.created_by,
                    )
                    invited = len(result["created_ids"])
                outcome.update(
                    {
                        "title": title,
                        "summary": _(
                            "%(created)d membre(s) créé(s), %(updated)d mis à jour, "
                            "%(invited)d invitation(s) en cours d'envoi."
                        )
                        % {
                            "created": result["created"],
                            "updated": result["updated"],
                            "invited": invited,
                        },
                        "created": result["created"],
                        "updated": result["updated"],
                        "next_url": reverse("members:list"),
                        "next_label": _("Voir les membres"),
                    }
                )
                _forget_rows(job, outcome)

            outcome: dict = {}
            try:
                services.members_import(
                    organisation_id=job.organisation_id or 0,
                    rows=rows,
                    total=int(job.payload.get("count") or 0),
                    by=job.created_by,
                    progress=progress,
                    within=within,
                )
            except services.BatchRefused as refused:
                fields = list(CustomField.objects.filter(organisation_id=job.organisation_id or 0))
                labels = dict(import_targets(fields))
                outcome = {
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
                _forget_rows(job, outcome)
            except Exception:
                _forget_rows(job, {})  # failed for good: job_run records why
                raise
            return outcome

    job_run(job_id, work)


def _forget_rows(job: Job, outcome: dict) -> None:
    """Drop the uploaded rows (their slices and the samples) and keep the outcome, at
    once."""
    with transaction.atomic():
        JobChunk.objects.filter(job_id=job.pk).delete()
        Job.objects.filter(pk=job.pk).update(
            payload=_without_rows(job.payload), result={**job.result, **outcome}
        )


def _without_rows(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key not in ("rows", "sample")}
