"""Who may write to whom in a programme, and the message filter: rules written once, used
by the pages and the API alike.

Who may reach whom (the roles and relationships that exist):
- a programme's managers (and the organisation's administrators) reach any current member
  of the programme, alone or as a group;
- a participant and a professional of the same programme reach each other (an
  accompaniment programme's participants contact professionals);
- the two people of a current relationship (mentee ↔ mentor, collaborator ↔ manager)
  reach each other; a mentee does not write to another mentor;
- any current member writes to the programme's managers;
- nobody else: two participants, two mentors, a member outside the programme.
A programme whose settings say members do not write to one another keeps only the managers
within members' reach.
A group conversation is allowed when its author may reach every other person in it.
"""

import re

from django.db.models import Q
from django.utils.translation import gettext as _

from cohorte.accounts.models import Member
from cohorte.meetings.models import Relationship
from cohorte.programs.models import Enrolment, Program, Role

from .models import ProgramConversationSettings

_LINK = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|fr|net|org|io|be|ca|ch)\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(?<!\d)(\+?\d[\s.\-]?){9,14}\d(?!\d)")


def filter_refusal(body: str, *, words: str) -> str | None:
    """Why the filter refuses this message, or None. `words`: one word or phrase a line."""
    if _EMAIL.search(body):
        return _("Votre message n'a pas été envoyé : les adresses e-mail n'y sont pas permises.")
    if _LINK.search(body):
        return _("Votre message n'a pas été envoyé : les liens n'y sont pas permis.")
    if _PHONE.search(body):
        return _("Votre message n'a pas été envoyé : les numéros de téléphone n'y sont pas permis.")
    lowered = body.casefold()
    for word in (w.strip().casefold() for w in words.splitlines()):
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
            return _(
                "Votre message n'a pas été envoyé : il contient un mot interdit (« %(w)s »)."
            ) % {"w": word}
    return None


def manages(member: Member, program: Program) -> bool:
    if member.organisation_id != program.organisation_id or not member.is_active:
        return False
    return member.is_org_admin or program.managers.filter(pk=member.pk).exists()


def program_people(program: Program) -> Q:
    """Members who belong to the programme now: its current enrolments and its managers."""
    return Q(enrolments__program=program, enrolments__ended_at__isnull=True) | Q(
        managed_programs=program
    )


def roles_in(program: Program, member_ids: list[int]) -> dict[int, str]:
    return dict(
        Enrolment.objects.filter(
            program=program, member_id__in=member_ids, ended_at__isnull=True
        ).values_list("member_id", "role")
    )


_PARTICIPANT_SIDE = {Role.PARTICIPANT, Role.MENTEE, Role.COLLABORATOR}
_PROFESSIONAL_SIDE = {Role.PROFESSIONAL, Role.MENTOR}


def unreachable(program: Program, author: Member, others: list[Member]) -> list[Member]:
    """The people among `others` the author may not write to (see the module's rule)."""
    if manages(author, program):
        return []
    ids = [m.pk for m in others]
    managers = set(program.managers.filter(pk__in=ids).values_list("pk", flat=True))
    managers |= {m.pk for m in others if m.is_org_admin}
    if ProgramConversationSettings.objects.filter(program=program, members_write=False).exists():
        return [m for m in others if m.pk not in managers]
    roles = roles_in(program, [author.pk, *ids])
    mine = roles.get(author.pk)
    paired = set()
    for mentor_id, mentee_id in Relationship.objects.filter(
        Q(mentor=author, mentee_id__in=ids) | Q(mentee=author, mentor_id__in=ids),
        program=program,
        ended_at__isnull=True,
    ).values_list("mentor_id", "mentee_id"):
        paired |= {mentor_id, mentee_id}
    refused = []
    for other in others:
        theirs = roles.get(other.pk)
        if other.pk in managers or other.pk in paired:
            continue
        if {mine, theirs} == {Role.PARTICIPANT, Role.PROFESSIONAL}:
            continue
        refused.append(other)
    return refused


def program_people_of(member: Member) -> Q:
    """Programmes the member belongs to now: enrolled (not ended) or managing."""
    return Q(enrolments__member=member, enrolments__ended_at__isnull=True) | Q(managers=member)
