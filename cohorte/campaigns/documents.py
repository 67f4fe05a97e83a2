"""The write-up of one interview as a PDF (WeasyPrint, as reports.summary does it): the
campaign, the people, every question and its answer beside the collaborator's
preparation, and the circuit's signatures. Sent to the collaborator when it closes,
downloaded by the people who may see it, zipped by the exports.

Nothing is fetched while rendering: the document is text only, and the fetcher allows no
protocol at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import slugify

from cohorte.core.files import random_name

from .models import CircuitRole, EventAction, Interview, InterviewStatus, QuestionKind

PDF_TYPE = "application/pdf"


def _in(label: Any, language: str) -> str:
    """A bilingual label {fr, en} in the language, else the other one."""
    if isinstance(label, dict):
        other = "en" if language == "fr" else "fr"
        return str(label.get(language) or label.get(other) or "")
    return str(label or "")


def answer_text(question: dict[str, Any], value: Any, language: str) -> str:
    """An answer as one line of text (the PDF, the Excel export): a scale « 4 / 5 », a
    choice in the reader's language, objectives « title (3 / 5) ; … »."""
    if value in (None, "", []):
        return ""
    kind = question.get("kind")
    if kind == QuestionKind.SCALE:
        return f"{value} / 5"
    if kind == QuestionKind.CHOICE:
        for option in question.get("options", []):
            if isinstance(option, dict) and option.get("fr") == value:
                return _in(option, language)
        return str(value)
    if kind == QuestionKind.OBJECTIVES and isinstance(value, list):
        parts = []
        for item in value:
            if not isinstance(item, dict):
                continue
            title, rating = str(item.get("title", "")), item.get("rating")
            parts.append(f"{title} ({rating} / 5)" if rating is not None else title)
        return " ; ".join(parts)
    return str(value)


def role_label(role: str) -> str:
    return str(CircuitRole(role).label) if role in CircuitRole.values else role


def signatures(interview: Interview, events: Sequence[Any] | None = None) -> list[dict]:
    """The signatures of the current round, oldest first, each with its person and time
    (events: the interview's SIGNED events, when the caller read them for many at once)."""
    if events is None:
        round_ = interview.versions.count() + 1
        events = list(
            interview.events.filter(action=EventAction.SIGNED, round=round_).select_related("by")
        )
    return [
        {
            "position": event.position,
            "role": role_label(event.role),
            "by": event.by.full_name if event.by else "",
            "by_email": event.by.email if event.by else "",
            "at": event.at,
            "comment": event.comment,
            "reserve": event.reserve,
        }
        for event in events
    ]


def _questions(
    interview: Interview,
    language: str,
    answers: dict[str, Any] | None = None,
    preparation: dict[str, Any] | None = None,
) -> list[dict]:
    """The form's sections, each question with its answer and the preparation (by default
    the interview's current ones; a signed version's when given)."""
    answers = interview.answers if answers is None else answers
    preparation = interview.preparation if preparation is None else preparation
    sections = []
    for section in interview.campaign.form or []:
        rows = []
        for question in section.get("questions", []):
            key = question.get("key")
            rows.append(
                {
                    "label": _in(question.get("label"), language),
                    "kind": question.get("kind"),
                    "answer": answer_text(question, interview.answers.get(key), language),
                    "objectives": interview.answers.get(key)
                    if question.get("kind") == QuestionKind.OBJECTIVES
                    else None,
                    "preparation": answer_text(question, interview.preparation.get(key), language),
                }
            )
        sections.append({"title": _in(section.get("title"), language), "questions": rows})
    return sections


def _moment(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def signed_versions(interview: Interview, language: str) -> list[dict]:
    """The write-ups as they were signed before each reopening: kept, and printed after
    the current one, so that both remain readable."""
    versions = []
    for version in interview.versions.select_related("reopened_by"):
        versions.append(
            {
                "round": version.round,
                "closed_at": version.closed_at,
                "reopened_at": version.reopened_at,
                "reopened_by": version.reopened_by.full_name if version.reopened_by else "",
                "reason": version.reason,
                "sections": _questions(
                    interview, language, answers=version.answers, preparation=version.preparation
                ),
                "signatures": [
                    {
                        "role": role_label(str(s.get("role", ""))),
                        "by": s.get("by_name") or s.get("by_email") or "",
                        "at": _moment(s.get("at")),
                        "comment": s.get("comment", ""),
                        "reserve": s.get("reserve", ""),
                    }
                    for s in version.signatures
                    if isinstance(s, dict)
                ],
            }
        )
    return versions


def interview_html(
    interview: Interview, *, language: str | None = None, events: Sequence[Any] | None = None
) -> str:
    language = language or settings.LANGUAGE_CODE
    tz = interview.campaign.organisation.tzinfo
    signed = signatures(interview, events)
    remaining = []
    if interview.status == InterviewStatus.CLOSING and interview.step is not None:
        remaining = [role_label(step["role"]) for step in interview.circuit[interview.step :]]
    signers: list[str] = []
    for signature in signed:
        if signature["by"] and signature["by"] not in signers:
            signers.append(signature["by"])
    with translation.override(language), timezone.override(tz):
        return render_to_string(
            "campaigns/pdf_interview.html",
            {
                "interview": interview,
                "campaign": interview.campaign,
                "second_approver": interview.second_approver,
                "status_label": InterviewStatus(interview.status).label,
                "sections": _questions(interview, language),
                "signatures": signed,
                "remaining": remaining,
                "signers": ", ".join(signers),
                "versions": signed_versions(interview, language),
                "closed": interview.status == InterviewStatus.CLOSED,
                "printed_at": timezone.now(),
                "LANGUAGE_CODE": language,
            },
        )


def interview_pdf(
    interview: Interview, *, language: str | None = None, events: Sequence[Any] | None = None
) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = interview_html(interview, language=language, events=events)
    fetcher = URLFetcher(allowed_protocols=set(), allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def pdf_filename(interview: Interview, when: dt.date | None = None) -> str:
    """« entretien-claire-collab-42.pdf »: the collaborator's name and the id, unique in
    a zip."""
    name = slugify(interview.collaborator.full_name) or "collaborateur"
    return f"entretien-{name}-{interview.pk}.pdf"


def signed_pdf_attachment(interview: Interview) -> dict[str, str]:
    """The signed write-up for the collaborator's « Clos » e-mail: stored in the private
    storage under a random name (the outbox reads it from there when it sends), in the
    collaborator's language."""
    data = interview_pdf(interview, language=interview.collaborator.language)
    path = default_storage.save(random_name("interviews", "signed.pdf"), ContentFile(data))
    return {"path": path, "name": pdf_filename(interview), "content_type": PDF_TYPE}
