"""Matching suggestions: mentors ranked for a mentee by what their profiles share, among
those with room for one more mentee; each suggestion says why."""

import dataclasses
import re

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from cohorte.accounts.models import CustomFieldValue, Member, MemberRole
from cohorte.programs.models import Program, Role

from .models import Relationship, RelationshipStatus

WEIGHTS = {"industry": 3, "skills": 2, "language": 1, "city": 1}


def _words(text: str) -> set[str]:
    return {w.strip().casefold() for w in re.split(r"[,;\n]", text or "") if w.strip()}


@dataclasses.dataclass
class Suggestion:
    mentor: Member
    score: int
    reasons: list[str]
    load: int
    capacity: int


def mentors_of(program: Program) -> QuerySet[Member]:
    return Member.objects.filter(
        enrolments__program=program,
        enrolments__ended_at__isnull=True,
        enrolments__role__in=[Role.MENTOR, Role.PROFESSIONAL],
        is_active=True,
        archived_at__isnull=True,
    ).distinct()


def mentees_of(program: Program) -> QuerySet[Member]:
    return Member.objects.filter(
        enrolments__program=program,
        enrolments__ended_at__isnull=True,
        enrolments__role__in=[Role.MENTEE, Role.PARTICIPANT, Role.COLLABORATOR],
        is_active=True,
        archived_at__isnull=True,
    ).distinct()


def current_load(program: Program) -> dict[int, int]:
    """Current matched relationships per mentor in this programme."""
    from django.db.models import Count

    return dict(
        Relationship.objects.filter(program=program, status=RelationshipStatus.MATCHED)
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .values_list("mentor_id", "n")
    )


def suggestions(*, program: Program, mentee: Member, limit: int = 10) -> list[Suggestion]:
    load = current_load(program)
    already = set(
        Relationship.objects.filter(
            program=program, mentee=mentee, status=RelationshipStatus.MATCHED
        ).values_list("mentor_id", flat=True)
    )
    mentors = [
        m
        for m in mentors_of(program).exclude(pk=mentee.pk).exclude(role=MemberRole.MENTEE)
        if m.pk not in already and load.get(m.pk, 0) < m.max_mentees
    ]
    # the custom fields the administrator weighted, each shared answer worth its weight
    custom: dict[int, set[tuple[int, str]]] = {}
    weights: dict[int, int] = {}
    for member_id, field_id, weight, value in CustomFieldValue.objects.filter(
        member_id__in=[m.pk for m in mentors] + [mentee.pk], field__match_weight__gt=0
    ).values_list("member_id", "field_id", "field__match_weight", "value"):
        custom.setdefault(member_id, set()).add((field_id, value.casefold()))
        weights[field_id] = weight
    wanted = _words(mentee.development_areas) | _words(mentee.goals)
    ranked = []
    for mentor in mentors:
        score, reasons = 0, []
        if (
            mentee.industry
            and mentor.industry
            and mentee.industry.casefold() == mentor.industry.casefold()
        ):
            score += WEIGHTS["industry"]
            reasons.append(_("même secteur : %(value)s") % {"value": mentor.industry})
        shared = wanted & _words(mentor.skills)
        if shared:
            score += WEIGHTS["skills"] * len(shared)
            reasons.append(
                _("compétences recherchées : %(value)s") % {"value": ", ".join(sorted(shared))}
            )
        if mentor.language == mentee.language:
            score += WEIGHTS["language"]
            reasons.append(_("même langue"))
        if mentee.city and mentor.city and mentee.city.casefold() == mentor.city.casefold():
            score += WEIGHTS["city"]
            reasons.append(_("même ville : %(value)s") % {"value": mentor.city})
        common = custom.get(mentor.pk, set()) & custom.get(mentee.pk, set())
        if common:
            score += sum(weights[field_id] for field_id, _value in common)
            reasons.append(
                _("%(n)d réponse(s) commune(s) aux champs personnalisés") % {"n": len(common)}
            )
        ranked.append(
            Suggestion(mentor, score, reasons, load.get(mentor.pk, 0), mentor.max_mentees)
        )
    ranked.sort(key=lambda s: (-s.score, s.load, s.mentor.last_name, s.mentor.pk))
    return ranked[:limit]
