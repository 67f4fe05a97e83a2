"""Campaigns and the life of an interview.

An interview moves only forward through its statuses (not planned → planned → held →
closing → closed), each move by the one person whose turn it is (rules.py), in one
transaction with its « Avancement » line, its audit entry and its e-mails (outbox rows,
sent after commit). Out of turn is refused (PermissionDenied: 403); a closed or deleted
interview refuses every change (InterviewLocked: 409) but an administrator's reopening,
which keeps the signed version readable beside the new one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.core.audit import log_action
from cohorte.core.moments import localtime_or_utc
from cohorte.core.parse import EARLIEST_DATE, LATEST_DATE, check_schedule_time, zone_or_default
from cohorte.programs.models import Organisation

from . import rules
from .models import (
    LOCKED,
    Campaign,
    CampaignKind,
    CampaignType,
    CircuitRole,
    EventAction,
    Interview,
    InterviewEvent,
    InterviewStatus,
    QuestionKind,
    SignedVersion,
    default_reminder_rules,
)

#: bounds of what a campaign holds
MAX_STEPS = 10
MAX_DEADLINE_DAYS = 365
MAX_SECTIONS = 20
MAX_QUESTIONS = 100
MAX_OPTIONS = 30
MAX_OBJECTIVES = 30
MAX_TEXT = 20_000
MAX_COMMENT = 5_000
MAX_BATCH = 50_000
_KEY = re.compile(r"[a-z0-9_]{1,40}")


class InterviewLocked(Exception):
    """A closed or deleted interview: nothing changes it but an administrator's reopening."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadLines(ValidationError):
    """A batch refused as a whole: every bad line, by index, {index, field, reason}."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(_("Aucun entretien n'a été créé : corrigez les lignes en erreur."))
        self.lines = errors


# --- Campaigns ------------------------------------------------------------------------------


def kind_choices(organisation: Organisation) -> list[tuple[str, str]]:
    """The built-in types, then the organisation's own."""
    own = CampaignType.objects.filter(organisation=organisation).order_by("name_fr")
    return [(k.value, str(k.label)) for k in CampaignKind] + [(t.slug, t.name) for t in own]


def kind_label(campaign: Campaign) -> str:
    if campaign.kind in CampaignKind.values:
        return str(CampaignKind(campaign.kind).label)
    found = CampaignType.objects.filter(
        organisation_id=campaign.organisation_id, slug=campaign.kind
    ).first()
    return found.name if found else campaign.kind


def circuit_clean(circuit: Sequence[Any]) -> list[dict[str, Any]]:
    """[{role, deadline_days}], 1 to MAX_STEPS steps; the reasons keyed by step."""
    if not isinstance(circuit, list | tuple) or not circuit:
        raise ValidationError(
            {"circuit": [_("Le circuit de validation compte au moins une étape.")]}
        )
    if len(circuit) > MAX_STEPS:
        raise ValidationError({"circuit": [_("%(n)s étapes au plus.") % {"n": MAX_STEPS}]})
    steps = []
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(circuit):
        role = step.get("role") if isinstance(step, dict) else None
        days = step.get("deadline_days") if isinstance(step, dict) else None
        if role not in CircuitRole.values:
            errors[f"circuit.{index}.role"] = [
                _("Rôle inconnu : attendu %(roles)s.") % {"roles": ", ".join(CircuitRole.values)}
            ]
        if (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 0 <= days <= MAX_DEADLINE_DAYS
        ):
            errors[f"circuit.{index}.deadline_days"] = [
                _("Un nombre de jours entre 0 et %(n)s.") % {"n": MAX_DEADLINE_DAYS}
            ]
        steps.append({"role": role, "deadline_days": days})
    if errors:
        raise ValidationError(errors)
    return steps


def _bilingual(value: Any, *, required: bool, limit: int = 500) -> dict[str, str] | None:
    if isinstance(value, str):
        value = {"fr": value}
    if not isinstance(value, dict):
        return None
    fr, en = value.get("fr", ""), value.get("en", "")
    if not isinstance(fr, str) or not isinstance(en, str) or len(fr) > limit or len(en) > limit:
        return None
    if required and not fr.strip():
        return None
    return {"fr": fr.strip(), "en": en.strip()}


def form_clean(sections: Any) -> list[dict[str, Any]]:
    """The interview form: sections of questions (text, scale, choice, objectives), each
    question with a unique key. Keys are given when missing (q1, q2…)."""
    if sections in (None, ""):
        return []
    if not isinstance(sections, list) or len(sections) > MAX_SECTIONS:
        raise ValidationError({"form": [_("%(n)s sections au plus.") % {"n": MAX_SECTIONS}]})
    cleaned, keys, count = [], set(), 0
    for s_index, section in enumerate(sections):
        if not isinstance(section, dict):
            raise ValidationError({f"form.{s_index}": [_("Section invalide.")]})
        title = _bilingual(section.get("title", ""), required=False, limit=200)
        if title is None:
            raise ValidationError({f"form.{s_index}.title": [_("Titre invalide.")]})
        questions = []
        for q_index, question in enumerate(section.get("questions") or []):
            where = f"form.{s_index}.questions.{q_index}"
            count += 1
            if count > MAX_QUESTIONS or not isinstance(question, dict):
                raise ValidationError(
                    {where: [_("%(n)s questions au plus.") % {"n": MAX_QUESTIONS}]}
                )
            kind = question.get("kind")
            if kind not in QuestionKind.values:
                raise ValidationError({f"{where}.kind": [_("Type de question inconnu.")]})
            label = _bilingual(question.get("label"), required=True)
            if label is None:
                raise ValidationError({f"{where}.label": [_("Le libellé est obligatoire.")]})
            key = question.get("key") or f"q{count}"
            if not isinstance(key, str) or not _KEY.fullmatch(key) or key in keys:
                raise ValidationError({f"{where}.key": [_("Clé invalide ou en double.")]})
            keys.add(key)
            options = []
            if kind == QuestionKind.CHOICE:
                raw = question.get("options") or []
                if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
                    raise ValidationError(
                        {f"{where}.options": [_("Entre 2 et %(n)s choix.") % {"n": MAX_OPTIONS}]}
                    )
                for option in raw:
                    text = _bilingual(option, required=True, limit=200)
                    if text is None:
                        raise ValidationError({f"{where}.options": [_("Choix invalide.")]})
                    options.append(text)
            questions.append(
                {
                    "key": key,
                    "kind": kind,
                    "label": label,
                    "options": options,
                    "required": bool(question.get("required", False)),
                    # the collaborator fills it too, beforehand (« préparation »)
                    "prepared": bool(question.get("prepared", True)),
                }
            )
        cleaned.append({"title": title, "questions": questions})
    return cleaned


def form_questions(form: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [question for section in form for question in section.get("questions", [])]


def answers_clean(
    form: Sequence[dict[str, Any]], answers: Any, *, complete: bool
) -> dict[str, Any]:
    """The answers to the form, checked against it; `complete` asks for every required one
    (a submitted write-up), else any subset (a draft, a preparation)."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise ValidationError({"answers": [_("Un objet {clé de question: réponse} est attendu.")]})
    questions = {question["key"]: question for question in form_questions(form)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in answers:
        if key not in questions:
            errors[f"answers.{str(key)[:40]}"] = [_("Question inconnue.")]
    for key, question in questions.items():
        value = answers.get(key)
        empty = value in (None, "", [])
        if empty:
            if complete and question.get("required"):
                errors[f"answers.{key}"] = [_("Réponse obligatoire.")]
            continue
        kind = question["kind"]
        if kind == QuestionKind.TEXT:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                errors[f"answers.{key}"] = [
                    _("Un texte de %(n)s caractères au plus.") % {"n": MAX_TEXT}
                ]
                continue
            cleaned[key] = value
        elif kind == QuestionKind.SCALE:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                errors[f"answers.{key}"] = [_("Une note de 1 à 5.")]
                continue
            cleaned[key] = value
        elif kind == QuestionKind.CHOICE:
            names = [option["fr"] for option in question.get("options", [])]
            if value not in names:
                errors[f"answers.{key}"] = [_("Choisissez parmi les options proposées.")]
                continue
            cleaned[key] = value
        elif kind == QuestionKind.OBJECTIVES:
            if not isinstance(value, list) or len(value) > MAX_OBJECTIVES:
                errors[f"answers.{key}"] = [
                    _("Une liste de %(n)s objectifs au plus.") % {"n": MAX_OBJECTIVES}
                ]
                continue
            objectives = []
            for item in value:
                title = item.get("title") if isinstance(item, dict) else None
                rating = item.get("rating") if isinstance(item, dict) else None
                if not isinstance(title, str) or not title.strip() or len(title) > 300:
                    errors[f"answers.{key}"] = [_("Chaque objectif a un intitulé.")]
                    break
                if rating is not None and (
                    isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
                ):
                    errors[f"answers.{key}"] = [_("Une note de 1 à 5.")]
                    break
                objectives.append({"title": title.strip(), "rating": rating})
            else:
                cleaned[key] = objectives
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_dates(start_date: dt.date, end_date: dt.date) -> None:
    errors: dict[str, list[str]] = {}
    for field, value in (("start_date", start_date), ("end_date", end_date)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            errors[field] = [
                _("Une date entre %(a)s et %(b)s.") % {"a": EARLIEST_DATE, "b": LATEST_DATE}
            ]
    if not errors and end_date < start_date:
        errors["end_date"] = [_("La date de fin suit la date de début.")]
    if errors:
        raise ValidationError(errors)


def _kind_check(organisation: Organisation, kind: str) -> None:
    if kind in CampaignKind.values:
        return
    if not CampaignType.objects.filter(organisation=organisation, slug=kind).exists():
        raise ValidationError({"kind": [_("Type inconnu : %(kind)s.") % {"kind": str(kind)[:50]}]})


def hr_lookup(organisation: Organisation, email: str | None) -> Member | None:
    if not email:
        return None
    hr = Member.objects.filter(
        organisation=organisation, email__iexact=email.strip(), is_active=True
    ).first()
    if hr is None:
        raise ValidationError({"hr_email": [_("Aucun membre actif n'a ce courriel.")]})
    return hr


@transaction.atomic
def campaign_create(
    *,
    organisation: Organisation,
    by: Member,
    name: str,
    kind: str,
    start_date: dt.date,
    end_date: dt.date,
    circuit: Sequence[Any],
    hr: Member | None = None,
    form: Any = None,
    template_id: int | None = None,
    reminder_rules: dict[str, Any] | None = None,
) -> Campaign:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ValidationError({"name": [_("Un nom de 1 à 200 caractères.")]})
    _kind_check(organisation, kind)
    _check_dates(start_date, end_date)
    steps = circuit_clean(circuit)
    template = None
    if template_id is not None:
        from .models import FormTemplate

        template = FormTemplate.objects.filter(organisation=organisation, pk=template_id).first()
        if template is None:
            raise ValidationError({"template": [_("Modèle introuvable.")]})
        if not form:
            form = template.sections
    campaign = Campaign.objects.create(
        organisation=organisation,
        name=name,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        created_by=by,
        hr=hr,
        form=form_clean(form),
        template=template,
        circuit=steps,
        reminder_rules=reminder_rules_clean(reminder_rules),
    )
    log_action(
        "campaign.created",
        actor=by,
        target=campaign,
        data={"kind": kind, "start": str(start_date), "end": str(end_date), "steps": len(steps)},
    )
    return campaign


def reminder_rules_clean(rules_in: dict[str, Any] | None) -> dict[str, Any]:
    """The staged reminders of the circuit's steps: days before the deadline, every N days
    after it, escalation to the N+2 then HR after so many days late; `enabled` off stops
    them for the campaign."""
    merged = default_reminder_rules()
    if rules_in is None:
        return merged
    if not isinstance(rules_in, dict):
        raise ValidationError({"reminder_rules": [_("Règles de relance invalides.")]})
    errors: dict[str, list[str]] = {}
    if "enabled" in rules_in:
        merged["enabled"] = bool(rules_in["enabled"])
    if "before" in rules_in:
        before = rules_in["before"]
        if (
            not isinstance(before, list)
            or len(before) > 5
            or any(
                isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= 60 for d in before
            )
        ):
            errors["reminder_rules.before"] = [_("Jusqu'à 5 nombres de jours entre 1 et 60.")]
        else:
            merged["before"] = sorted(set(before), reverse=True)
    for field in ("every_after", "escalate_after", "hr_after"):
        if field in rules_in:
            value = rules_in[field]
            if value is None:
                merged[field] = None
            elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
                errors[f"reminder_rules.{field}"] = [_("Un nombre de jours entre 1 et 365.")]
            else:
                merged[field] = value
    if errors:
        raise ValidationError(errors)
    return merged


@transaction.atomic
def campaign_delete(*, campaign: Campaign, by: Member, confirm: str) -> dict[str, int]:
    """Irreversible (the seed's rule): the campaign and every interview attached, confirmed
    by its exact name; the audit log keeps the counts."""
    if confirm != campaign.name:
        raise ValidationError(
            {"confirm": [_("Tapez le nom exact de la campagne pour confirmer la suppression.")]}
        )
    counts = {
        status: campaign.interviews.filter(status=status).count()
        for status in InterviewStatus.values
    }
    log_action(
        "campaign.deleted",
        actor=by,
        target=campaign,
        data={"name": campaign.name, "interviews": sum(counts.values()), "by_status": counts},
        organisation_id=campaign.organisation_id,
    )
    campaign.delete()
    return counts


# --- The population -------------------------------------------------------------------------


def _member_map(organisation: Organisation, emails: set[str]) -> dict[str, Member]:
    found: dict[str, Member] = {}
    lowered = sorted({e.strip().lower() for e in emails if e})
    for start in range(0, len(lowered), 5_000):  # parameters per statement stay bounded
        chunk = lowered[start : start + 5_000]
        for member in Member.objects.filter(organisation=organisation, email__in=chunk):
            found[member.email.lower()] = member
    return found


def interviews_check(
    *, campaign: Campaign, lines: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[Member, Member, Member | None]]]:
    """Each line {collaborator_email, manager_email, second_approver_email?} checked
    against the organisation's members and the campaign: (errors by index, people)."""
    if len(lines) > MAX_BATCH:
        raise ValidationError(
            {"lines": [_("%(n)s entretiens au plus par envoi.") % {"n": MAX_BATCH}]}
        )
    emails = set()
    for line in lines:
        for field in ("collaborator_email", "manager_email", "second_approver_email"):
            value = line.get(field)
            if isinstance(value, str):
                emails.add(value.strip().lower())
    people = _member_map(campaign.organisation, emails)
    already = set(campaign.interviews.values_list("collaborator__email", flat=True))
    already = {e.lower() for e in already}
    seen: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    found: list[tuple[Member, Member, Member | None]] = []

    def bad(index: int, field: str, reason: str) -> None:
        errors.append({"index": index, "field": field, "reason": reason})

    for index, line in enumerate(lines):
        before = len(errors)
        resolved: dict[str, Member | None] = {}
        for field, required in (
            ("collaborator_email", True),
            ("manager_email", True),
            ("second_approver_email", False),
        ):
            value = line.get(field)
            if value in (None, "") and not required:
                resolved[field] = None
                continue
            if not isinstance(value, str) or not value.strip():
                bad(index, field, _("courriel obligatoire"))
                continue
            member = people.get(value.strip().lower())
            if member is None:
                bad(index, field, _("aucun membre de l'organisation n'a ce courriel"))
            elif not member.is_active or member.archived_at is not None:
                bad(index, field, _("ce membre est inactif"))
            else:
                resolved[field] = member
        collaborator = resolved.get("collaborator_email")
        manager = resolved.get("manager_email")
        second = resolved.get("second_approver_email")
        if collaborator is not None:
            key = collaborator.email.lower()
            if key in seen:
                bad(
                    index,
                    "collaborator_email",
                    _("collaborateur en double (ligne %(n)s)") % {"n": seen[key]},
                )
            elif key in already:
                bad(index, "collaborator_email", _("ce collaborateur a déjà un entretien"))
            else:
                seen[key] = index
            if manager is not None and manager.pk == collaborator.pk:
                bad(index, "manager_email", _("le manager ne peut pas être le collaborateur"))
            if second is not None and second.pk == collaborator.pk:
                bad(index, "second_approver_email", _("le N+2 ne peut pas être le collaborateur"))
        if len(errors) == before and collaborator and manager:
            found.append((collaborator, manager, second))
    return errors, found


@transaction.atomic
def interviews_add(
    *, campaign: Campaign, by: Member, lines: Sequence[dict[str, Any]]
) -> list[Interview]:
    """All or nothing: one bad line and nothing is created (BadLines lists each by index)."""
    errors, found = interviews_check(campaign=campaign, lines=lines)
    if errors:
        raise BadLines(errors)
    circuit = list(campaign.circuit)
    created = Interview.objects.bulk_create(
        [
            Interview(
                campaign=campaign,
                collaborator=collaborator,
                manager=manager,
                second_approver=second,
                circuit=circuit,
            )
            for collaborator, manager, second in found
        ],
        batch_size=2_000,
    )
    if not created or created[0].pk is None:  # databases that do not return the keys
        created = list(
            campaign.interviews.filter(collaborator__in=[c for c, _m, _s in found]).order_by("pk")
        )
    log_action("campaign.interviews_added", actor=by, target=campaign, data={"count": len(created)})
    return created


# --- One interview --------------------------------------------------------------------------


def _locked_check(interview: Interview) -> None:
    if interview.status == InterviewStatus.CLOSED:
        raise InterviewLocked(
            _("Cet entretien est clos : son compte-rendu ne change plus, sauf s'il est rouvert.")
        )
    if interview.status == InterviewStatus.DELETED:
        raise InterviewLocked(_("Cet entretien est supprimé."))


def _lock(interview: Interview) -> Interview:
    """The interview's row, locked for the change (two clicks at once make one change)."""
    current = (
        Interview.objects.select_for_update(of=("self",))
        .select_related("campaign", "campaign__organisation")
        .get(pk=interview.pk)
    )
    _locked_check(current)
    return current


def _event(
    interview: Interview,
    action: str,
    by: Member | None,
    *,
    position: int | None = None,
    role: str = "",
    comment: str = "",
    reserve: str = "",
) -> InterviewEvent:
    return InterviewEvent.objects.create(
        interview=interview,
        action=action,
        by=by,
        at=timezone.now(),
        position=position,
        role=role,
        comment=comment,
        reserve=reserve,
        round=interview.versions.count() + 1,
    )


def _text(value: str | None, field: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("Ce champ est obligatoire.")]})
    if len(value) > MAX_COMMENT:
        raise ValidationError({field: [_("%(n)s caractères au plus.") % {"n": MAX_COMMENT}]})
    return value


def interview_url(interview: Interview) -> str:
    from cohorte.messaging.services import absolute_url

    return absolute_url(reverse("campaigns:interview", args=[interview.pk]))


def _mail(
    interview: Interview, member: Member, key: str, values: Mapping[str, object], **kw: Any
) -> Any:
    from cohorte.messaging import services as messaging

    return messaging.system_email(
        organisation_id=interview.campaign.organisation_id,
        key=key,
        member=member,
        values={"campaign": interview.campaign.name, "link": interview_url(interview), **values},
        **kw,
    )


def _invitation(interview: Interview, *, moved: bool) -> None:
    """The collaborator's invitation, with its .ics (the meetings' calendar machinery):
    one event per interview, a new date is the same event one SEQUENCE later."""
    from cohorte.meetings import ics
    from cohorte.meetings.models import Meeting

    campaign = interview.campaign
    tz = campaign.organisation.tzinfo
    if interview.scheduled_at is None:
        return
    event = Meeting(
        starts_at=interview.scheduled_at,
        duration_minutes=interview.duration_minutes,
        uid=interview.uid,
        sequence=interview.sequence,
        title=campaign.name,
        place=interview.place,
    )
    calendar = ics.invitation([event], [interview.collaborator, interview.manager], tz)
    collaborator = interview.collaborator
    local = localtime_or_utc(interview.scheduled_at, zone_or_default(collaborator.timezone, tz))
    with translation.override(collaborator.language):
        values = {
            "partner": interview.manager.full_name,
            "date": formats.date_format(local.date(), "DATE_FORMAT"),
            "time": formats.time_format(local, "TIME_FORMAT"),
        }
    _mail(
        interview,
        collaborator,
        "interview_moved" if moved else "interview_planned",
        values,
        attachments=[
            {
                "name": "entretien.ics",
                "content": calendar,
                "content_type": "text/calendar; method=REQUEST",
            }
        ],
    )


def _manager_check(interview: Interview, by: Member) -> None:
    if by.pk != interview.manager_id or not by.is_active:
        raise PermissionDenied(_("Seul le manager de cet entretien peut faire cela."))


@transaction.atomic
def interview_plan(
    *,
    interview: Interview,
    by: Member,
    scheduled_at: dt.datetime,
    duration_minutes: int | None = None,
    place: str | None = None,
) -> Interview:
    """The manager sets (or moves) the date; the collaborator gets the invitation, or is
    told it moved. The same date again changes nothing and sends nothing."""
    interview = _lock(interview)
    _manager_check(interview, by)
    if interview.status not in (InterviewStatus.NOT_PLANNED, InterviewStatus.PLANNED):
        raise PermissionDenied(_("Cet entretien a déjà eu lieu : sa date ne change plus."))
    if timezone.is_naive(scheduled_at):
        raise ValidationError({"scheduled_at": [_("L'heure doit indiquer son fuseau horaire.")]})
    check_schedule_time(scheduled_at)
    if duration_minutes is not None and not 5 <= duration_minutes <= 8 * 60:
        raise ValidationError({"duration_minutes": [_("Entre 5 et 480 minutes.")]})
    place = _text(place, "place")[:300] if place is not None else interview.place
    duration = duration_minutes or interview.duration_minutes
    if (
        interview.status == InterviewStatus.PLANNED
        and interview.scheduled_at == scheduled_at
        and interview.duration_minutes == duration
        and interview.place == place
    ):
        return interview  # a retry: nothing moves, nobody is told twice
    moved = interview.status == InterviewStatus.PLANNED
    old = interview.scheduled_at
    interview.scheduled_at = scheduled_at
    interview.duration_minutes = duration
    interview.place = place
    interview.status = InterviewStatus.PLANNED
    if moved:
        interview.sequence += 1
    interview.save(
        update_fields=[
            "scheduled_at", "duration_minutes", "place", "status", "sequence", "updated_at"
        ]
    )  # fmt: skip
    _event(interview, EventAction.MOVED if moved else EventAction.PLANNED, by)
    log_action(
        "interview.moved" if moved else "interview.planned",
        actor=by,
        target=interview,
        data={"old": old.isoformat() if old else None, "new": scheduled_at.isoformat()},
    )
    _invitation(interview, moved=moved)
    return interview


@transaction.atomic
def interview_held(*, interview: Interview, by: Member) -> Interview:
    """The manager says it took place; the write-up can be written."""
    interview = _lock(interview)
    _manager_check(interview, by)
    if interview.status == InterviewStatus.HELD:
        return interview  # a retry
    if interview.status != InterviewStatus.PLANNED:
        raise PermissionDenied(_("Planifiez d'abord l'entretien : il n'a pas de date."))
    interview.status = InterviewStatus.HELD
    interview.held_at = timezone.now()
    interview.save(update_fields=["status", "held_at", "updated_at"])
    _event(interview, EventAction.HELD, by)
    log_action("interview.held", actor=by, target=interview)
    return interview


@transaction.atomic
def interview_save_draft(*, interview: Interview, by: Member, answers: Any) -> Interview:
    """The manager's write-up in progress (held, not yet submitted)."""
    interview = _lock(interview)
    _manager_check(interview, by)
    if interview.status != InterviewStatus.HELD:
        raise PermissionDenied(_("Le compte-rendu s'écrit une fois l'entretien effectué."))
    interview.answers = answers_clean(interview.campaign.form, answers, complete=False)
    interview.save(update_fields=["answers", "updated_at"])
    return interview


@transaction.atomic
def interview_prepare(*, interview: Interview, by: Member, preparation: Any) -> Interview:
    """The collaborator's preparation, read by the manager beside the form."""
    interview = _lock(interview)
    if by.pk != interview.collaborator_id:
        raise PermissionDenied(_("Seul le collaborateur prépare son entretien."))
    if interview.status not in (
        InterviewStatus.NOT_PLANNED,
        InterviewStatus.PLANNED,
        InterviewStatus.HELD,
    ):
        raise PermissionDenied(_("Le compte-rendu est soumis : la préparation ne change plus."))
    interview.preparation = answers_clean(interview.campaign.form, preparation, complete=False)
    interview.save(update_fields=["preparation", "updated_at"])
    return interview


def second_approver_of(interview: Interview) -> Member | None:
    """The N+2: named on the interview, else the manager's own manager in this campaign."""
    if interview.second_approver_id is not None:
        return interview.second_approver
    above = (
        Interview.objects.filter(
            campaign_id=interview.campaign_id, collaborator_id=interview.manager_id
        )
        .exclude(status=InterviewStatus.DELETED)
        .select_related("manager")
        .first()
    )
    if above is not None and above.manager_id != interview.collaborator_id:
        return above.manager
    return None


def step_actors(interview: Interview) -> list[Member]:
    """Who is asked to sign the step that waits (HR: the named person, else the
    organisation's administrators)."""
    role = rules.step_role(interview)
    if role == CircuitRole.COLLABORATOR:
        return [interview.collaborator]
    if role == CircuitRole.MANAGER:
        return [interview.manager]
    if role == CircuitRole.SECOND_APPROVER and interview.second_approver is not None:
        return [interview.second_approver]
    if role in (CircuitRole.HR, CircuitRole.SECOND_APPROVER):
        campaign = interview.campaign
        if campaign.hr is not None:
            return [campaign.hr]
        return list(
            Member.objects.filter(
                organisation_id=campaign.organisation_id, is_org_admin=True, is_active=True
            ).order_by("pk")[:5]
        )
    return []


def _step_label(role: str, language: str) -> str:
    with translation.override(language):
        return str(CircuitRole(role).label)


def _start_step(interview: Interview, position: int, by: Member | None) -> None:
    """The step at `position` waits now; after the last one the interview is closed."""
    now = timezone.now()
    if position >= len(interview.circuit):
        interview.status = InterviewStatus.CLOSED
        interview.step = None
        interview.step_started_at = None
        interview.closed_at = now
        interview.save(
            update_fields=["status", "step", "step_started_at", "closed_at", "updated_at"]
        )
        _event(interview, EventAction.CLOSED, by)
        log_action("interview.closed", actor=by, target=interview)
        _closed_notice(interview)
        return
    interview.status = InterviewStatus.CLOSING
    interview.step = position
    interview.step_started_at = now
    if interview.circuit[position]["role"] == CircuitRole.SECOND_APPROVER:
        interview.second_approver = second_approver_of(interview)
    interview.save(
        update_fields=["status", "step", "step_started_at", "second_approver", "updated_at"]
    )
    due = interview.step_due_at()
    for member in step_actors(interview):
        if by is not None and member.pk == by.pk:
            continue  # the person who just acted knows it is their turn
        tz = zone_or_default(member.timezone, interview.campaign.organisation.tzinfo)
        with translation.override(member.language):
            values = {
                "collaborator": interview.collaborator.full_name,
                "step": _step_label(interview.circuit[position]["role"], member.language),
                "end_date": formats.date_format(localtime_or_utc(due, tz).date(), "DATE_FORMAT")
                if due
                else "",
            }
        _mail(interview, member, "interview_step", values)


def _closed_notice(interview: Interview) -> None:
    """The collaborator receives the signed write-up (its PDF is attached by the export
    machinery when it exists: cohorte.campaigns.documents)."""
    attachments: list[dict[str, str]] = []
    if importlib.util.find_spec("cohorte.campaigns.documents") is not None:
        documents = importlib.import_module("cohorte.campaigns.documents")
        if hasattr(documents, "signed_pdf_attachment"):
            attachments = [documents.signed_pdf_attachment(interview)]
    _mail(interview, interview.collaborator, "interview_closed", {}, attachments=attachments)


@transaction.atomic
def interview_submit(*, interview: Interview, by: Member, answers: Any) -> Interview:
    """The manager's final write-up: it enters the sign-off circuit at its first step."""
    interview = _lock(interview)
    _manager_check(interview, by)
    if interview.status != InterviewStatus.HELD:
        raise PermissionDenied(
            _("Le compte-rendu se soumet une fois l'entretien effectué, et une seule fois.")
        )
    interview.answers = answers_clean(interview.campaign.form, answers, complete=True)
    interview.submitted_at = timezone.now()
    interview.save(update_fields=["answers", "submitted_at", "updated_at"])
    _event(interview, EventAction.SUBMITTED, by)
    log_action("interview.submitted", actor=by, target=interview)
    _start_step(interview, 0, by)
    return interview


def _actor_check(interview: Interview, by: Member) -> dict[str, Any]:
    if interview.status != InterviewStatus.CLOSING or interview.waiting_step is None:
        raise PermissionDenied(_("Aucune étape du circuit n'attend de signature."))
    if not rules.is_step_actor(by, interview):
        raise PermissionDenied(_("Cette étape du circuit n'est pas la vôtre."))
    return interview.waiting_step


@transaction.atomic
def interview_sign(
    *, interview: Interview, by: Member, comment: str | None = None, reserve: str | None = None
) -> Interview:
    """The actor of the waiting step signs (the collaborator may record a « réserve »);
    after the last step the interview is closed and its write-up locked."""
    interview = _lock(interview)
    step = _actor_check(interview, by)
    comment = _text(comment, "comment")
    reserve = _text(reserve, "reserve")
    if reserve and step["role"] != CircuitRole.COLLABORATOR:
        raise ValidationError({"reserve": [_("Seul le collaborateur peut émettre une réserve.")]})
    position = interview.step or 0
    _event(
        interview,
        EventAction.SIGNED,
        by,
        position=position,
        role=step["role"],
        comment=comment,
        reserve=reserve,
    )
    log_action(
        "interview.signed",
        actor=by,
        target=interview,
        data={"step": position, "role": step["role"], "reserve": bool(reserve)},
    )
    _start_step(interview, position + 1, by)
    return interview


@transaction.atomic
def interview_send_back(*, interview: Interview, by: Member, comment: str) -> Interview:
    """The actor of the waiting step sends it back one step (from the first step: to the
    manager's write-up, status « Effectué »), with a comment for whoever gets it."""
    interview = _lock(interview)
    step = _actor_check(interview, by)
    comment = _text(comment, "comment", required=True)
    position = interview.step or 0
    _event(
        interview,
        EventAction.SENT_BACK,
        by,
        position=position,
        role=step["role"],
        comment=comment,
    )
    log_action(
        "interview.sent_back",
        actor=by,
        target=interview,
        data={"step": position, "role": step["role"]},
    )
    if position == 0:
        interview.status = InterviewStatus.HELD
        interview.step = None
        interview.step_started_at = None
        interview.submitted_at = None
        interview.save(
            update_fields=["status", "step", "step_started_at", "submitted_at", "updated_at"]
        )
        receivers = [interview.manager]
    else:
        interview.step = position - 1
        interview.step_started_at = timezone.now()
        interview.save(update_fields=["step", "step_started_at", "updated_at"])
        receivers = step_actors(interview)
    for member in receivers:
        if member.pk != by.pk:
            _mail(
                interview,
                member,
                "interview_sent_back",
                {"collaborator": interview.collaborator.full_name, "comment": comment},
            )
    return interview


def signatures_of(interview: Interview, round_: int | None = None) -> list[dict[str, Any]]:
    """The signatures of one round of the circuit (the current one by default)."""
    round_ = round_ or interview.versions.count() + 1
    events = interview.events.filter(action=EventAction.SIGNED, round=round_).select_related("by")
    return [
        {
            "position": event.position,
            "role": event.role,
            "by_email": event.by.email if event.by else "",
            "by_name": event.by.full_name if event.by else "",
            "at": event.at.isoformat(),
            "comment": event.comment,
            "reserve": event.reserve,
        }
        for event in events
    ]


@transaction.atomic
def interview_reopen(*, interview: Interview, by: Member, reason: str) -> Interview:
    """An administrator reopens a closed write-up, with a reason: the signed version is kept
    as it was, readable beside the new one; the manager writes again and the circuit runs
    once more."""
    current = (
        Interview.objects.select_for_update(of=("self",))
        .select_related("campaign", "campaign__organisation")
        .get(pk=interview.pk)
    )
    if not rules.is_admin_of(by, current.campaign):
        raise PermissionDenied(_("Seul un administrateur peut rouvrir un entretien."))
    if current.status != InterviewStatus.CLOSED:
        raise InterviewLocked(_("Seul un entretien clos peut être rouvert."))
    reason = _text(reason, "reason", required=True)
    round_ = current.versions.count() + 1
    now = timezone.now()
    SignedVersion.objects.create(
        interview=current,
        round=round_,
        answers=current.answers,
        preparation=current.preparation,
        signatures=signatures_of(current, round_),
        closed_at=current.closed_at or now,
        reopened_at=now,
        reopened_by=by,
        reason=reason,
    )
    current.status = InterviewStatus.HELD
    current.closed_at = None
    current.submitted_at = None
    current.step = None
    current.step_started_at = None
    current.save(
        update_fields=[
            "status",
            "closed_at",
            "submitted_at",
            "step",
            "step_started_at",
            "updated_at",
        ]
    )
    _event(current, EventAction.REOPENED, by, comment=reason)
    log_action(
        "interview.reopened", actor=by, target=current, data={"reason": reason, "round": round_}
    )
    return current


@transaction.atomic
def interview_delete(*, interview: Interview, by: Member) -> Interview:
    """« Supprimé »: the interview stays counted in the statistics, nothing changes it."""
    interview = _lock(interview)
    if not rules.is_admin_of(by, interview.campaign):
        raise PermissionDenied(_("Seul un administrateur peut supprimer un entretien."))
    old = interview.status
    interview.status = InterviewStatus.DELETED
    interview.deleted_at = timezone.now()
    interview.step = None
    interview.save(update_fields=["status", "deleted_at", "step", "updated_at"])
    _event(interview, EventAction.DELETED, by)
    log_action("interview.deleted", actor=by, target=interview, data={"old": old})
    return interview


@transaction.atomic
def interviews_delete(*, interviews: QuerySet[Interview], by: Member, campaign: Campaign) -> int:
    """Bulk « Supprimer »: every interview the filter selects that can still be deleted
    (closed ones stay), in a few statements."""
    if not rules.is_admin_of(by, campaign):
        raise PermissionDenied(_("Seul un administrateur peut supprimer des entretiens."))
    targets = interviews.filter(campaign=campaign).exclude(status__in=LOCKED)
    ids = list(targets.values_list("pk", flat=True))
    now = timezone.now()
    Interview.objects.filter(pk__in=ids).update(
        status=InterviewStatus.DELETED, deleted_at=now, step=None, updated_at=now
    )
    InterviewEvent.objects.bulk_create(
        [InterviewEvent(interview_id=pk, action=EventAction.DELETED, by=by, at=now) for pk in ids],
        batch_size=2_000,
    )
    log_action("campaign.interviews_deleted", actor=by, target=campaign, data={"count": len(ids)})
    return len(ids)


@transaction.atomic
def circuit_change(
    *,
    campaign: Campaign,
    by: Member,
    circuit: Sequence[Any],
    interview: Interview | None = None,
) -> int:
    """Change the circuit during the campaign, for one interview or for all not yet closed
    (and for those created from now on). A waiting step keeps its place if it still exists;
    else the last new step waits. Audited with the old and new circuits."""
    if not rules.is_admin_of(by, campaign):
        raise PermissionDenied(_("Seul un administrateur peut modifier le circuit."))
    steps = circuit_clean(circuit)
    if interview is not None:
        targets = [_lock(interview)]
    else:
        campaign.circuit = steps
        campaign.save(update_fields=["circuit", "updated_at"])
        targets = list(
            campaign.interviews.select_for_update(of=("self",)).exclude(status__in=LOCKED)
        )
    changed = 0
    for target in targets:
        old = target.circuit
        if old == steps:
            continue
        target.circuit = steps
        fields = ["circuit", "updated_at"]
        if target.status == InterviewStatus.CLOSING and target.step is not None:
            target.step = min(target.step, len(steps) - 1)
            fields.append("step")
        target.save(update_fields=fields)
        _event(target, EventAction.CIRCUIT_CHANGED, by)
        changed += 1
    log_action(
        "campaign.circuit_changed",
        actor=by,
        target=interview or campaign,
        data={"new": steps, "interviews": changed},
        organisation_id=campaign.organisation_id,
    )
    return changed
