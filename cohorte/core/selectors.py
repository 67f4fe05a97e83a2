"""The audit log read back: an organisation's entries, filtered by kind of action, person,
target and dates, a page at a time (keyset, never a count over the whole log), each entry
put in plain words."""

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import AuditEntry
from .moments import format_moment
from .parse import ParseError

# --- Actions in plain words ------------------------------------------------------------------

ACTION_LABELS: dict[str, Promise] = {
    "organisation.created": gettext_lazy("Organisation créée"),
    "program.created": gettext_lazy("Programme créé"),
    "program.updated": gettext_lazy("Programme modifié"),
    "program.deleted": gettext_lazy("Programme supprimé"),
    "program.managers_changed": gettext_lazy("Responsables du programme modifiés"),
    "group.created": gettext_lazy("Groupe créé"),
    "group.updated": gettext_lazy("Groupe modifié"),
    "group.deleted": gettext_lazy("Groupe supprimé"),
    "member.created": gettext_lazy("Membre créé"),
    "member.profile_updated": gettext_lazy("Profil modifié"),
    "member.language_changed": gettext_lazy("Langue modifiée"),
    "member.availability_saved": gettext_lazy("Disponibilités enregistrées"),
    "member.messaged": gettext_lazy("Message envoyé à un membre"),
    "member.activated": gettext_lazy("Membre réactivé"),
    "member.deactivated": gettext_lazy("Membre désactivé"),
    "member.archived": gettext_lazy("Membre archivé"),
    "member.unarchived": gettext_lazy("Membre désarchivé"),
    "member.deleted": gettext_lazy("Membre supprimé"),
    "member.role_changed": gettext_lazy("Rôle modifié"),
    "member.admin_granted": gettext_lazy("Droits d'administration accordés"),
    "member.admin_revoked": gettext_lazy("Droits d'administration retirés"),
    "members.imported": gettext_lazy("Membres importés"),
    "member.imported": gettext_lazy("Membre importé"),
    "enrolment.started": gettext_lazy("Inscription à un programme"),
    "enrolment.ended": gettext_lazy("Fin d'inscription à un programme"),
    "enrolment.role_changed": gettext_lazy("Rôle dans le programme modifié"),
    "cohort.created": gettext_lazy("Cohorte créée"),
    "cohort.updated": gettext_lazy("Cohorte modifiée"),
    "cohort.members_added": gettext_lazy("Membres ajoutés à une cohorte"),
    "cohort.members_removed": gettext_lazy("Membres retirés d'une cohorte"),
    "cohort.deleted": gettext_lazy("Cohorte supprimée"),
    "custom_field.created": gettext_lazy("Champ personnalisé créé"),
    "custom_field.updated": gettext_lazy("Champ personnalisé modifié"),
    "custom_field.deleted": gettext_lazy("Champ personnalisé supprimé"),
    "saved_filter.created": gettext_lazy("Filtre sauvegardé"),
    "saved_filter.renamed": gettext_lazy("Filtre renommé"),
    "saved_filter.deleted": gettext_lazy("Filtre supprimé"),
    "participant.reported": gettext_lazy("Participant signalé"),
    "participant.report_resolved": gettext_lazy("Signalement traité"),
    "participant.conversation_followed_up": gettext_lazy("Conversation marquée comme suivie"),
    "campaign.created": gettext_lazy("Campagne d'entretiens créée"),
    "campaign.deleted": gettext_lazy("Campagne d'entretiens supprimée"),
    "campaign.interviews_added": gettext_lazy("Entretiens ajoutés à une campagne"),
    "campaign.interviews_deleted": gettext_lazy("Entretiens supprimés en masse"),
    "campaign.circuit_changed": gettext_lazy("Circuit de validation modifié"),
    "campaign.reminders_sent": gettext_lazy("Managers relancés pour un statut d'entretien"),
    "campaign.reminder_sent": gettext_lazy("Manager relancé pour ses entretiens"),
    "campaign.reminder_rules_changed": gettext_lazy("Règles de relance d'une campagne modifiées"),
    "campaign.template_saved": gettext_lazy("Modèle de formulaire d'entretien enregistré"),
    "campaign_type.created": gettext_lazy("Type d'entretien ajouté"),
    "campaign_type.renamed": gettext_lazy("Type d'entretien renommé"),
    "campaign_type.deleted": gettext_lazy("Type d'entretien supprimé"),
    "interview.planned": gettext_lazy("Entretien planifié"),
    "interview.moved": gettext_lazy("Entretien déplacé"),
    "interview.held": gettext_lazy("Entretien effectué"),
    "interview.submitted": gettext_lazy("Compte-rendu d'entretien soumis"),
    "interview.signed": gettext_lazy("Entretien signé"),
    "interview.sent_back": gettext_lazy("Compte-rendu d'entretien renvoyé"),
    "interview.closed": gettext_lazy("Entretien clos"),
    "interview.reopened": gettext_lazy("Entretien rouvert"),
    "interview.deleted": gettext_lazy("Entretien supprimé"),
    "participants.reminded": gettext_lazy("Participants relancés"),
    "reminder_rule.saved": gettext_lazy("Règle de relance enregistrée"),
    "report.saved": gettext_lazy("Rapport personnalisé enregistré"),
    "report.scheduled": gettext_lazy("Envoi programmé d'un rapport modifié"),
    "report.schedule_stopped": gettext_lazy("Envoi programmé d'un rapport arrêté"),
    "report.updated": gettext_lazy("Rapport personnalisé modifié"),
    "report.deleted": gettext_lazy("Rapport personnalisé supprimé"),
    "survey.created": gettext_lazy("Sondage créé"),
    "survey.sent": gettext_lazy("Sondage envoyé"),
    "survey.updated": gettext_lazy("Sondage modifié"),
    "survey.deleted": gettext_lazy("Sondage supprimé"),
    "survey.reminded": gettext_lazy("Sondage : relance des personnes sans réponse"),
    "relationship.created": gettext_lazy("Relation créée"),
    "relationship.ended": gettext_lazy("Relation terminée"),
    "relationship.updated": gettext_lazy("Relation modifiée"),
    "relationship.deleted": gettext_lazy("Relation supprimée"),
    "relationships.ended": gettext_lazy("Relations terminées"),
    "meeting.created": gettext_lazy("Rencontre créée"),
    "meetings.booked": gettext_lazy("Rencontres planifiées"),
    "meeting.answered": gettext_lazy("Réponse à une invitation"),
    "meeting.reschedule_requested": gettext_lazy("Report de rencontre demandé"),
    "meetings.cancelled": gettext_lazy("Rencontres annulées"),
    "meetings.rescheduled": gettext_lazy("Rencontres reportées"),
    "meeting.held": gettext_lazy("Rencontre tenue"),
    "meeting.not_held": gettext_lazy("Rencontre non tenue"),
    "meeting.evaluated": gettext_lazy("Rencontre évaluée"),
    "session.created": gettext_lazy("Séance créée"),
    "message.saved": gettext_lazy("Message enregistré"),
    "message.sent": gettext_lazy("Message envoyé"),
    "message.send_started": gettext_lazy("Envoi d'un message commencé"),
    "application.submitted": gettext_lazy("Candidature déposée"),
    "application.confirmed": gettext_lazy("Candidature confirmée par courriel"),
    "application.accepted": gettext_lazy("Candidature acceptée"),
    "application.refused": gettext_lazy("Candidature refusée"),
    "program.brand_updated": gettext_lazy("Apparence du programme modifiée"),
    "program.partner_logo_added": gettext_lazy("Logo partenaire ajouté"),
    "program.partner_logo_deleted": gettext_lazy("Logo partenaire retiré"),
    "program.signup_settings_saved": gettext_lazy("Réglages des inscriptions enregistrés"),
    "program.site_published": gettext_lazy("Site du programme publié"),
    "program.site_unpublished": gettext_lazy("Site du programme retiré du public"),
    "program.conversation_settings": gettext_lazy("Réglages des conversations modifiés"),
    "conversation.contents_read": gettext_lazy("Conversation ou notes lues par un responsable"),
    "conversation.message_reported": gettext_lazy("Message d'une conversation signalé"),
    "message.scheduled": gettext_lazy("Message programmé"),
    "message.deleted": gettext_lazy("Message supprimé"),
    "message.duplicated": gettext_lazy("Message dupliqué"),
    "system_template.saved": gettext_lazy("Message système modifié"),
    "cycle.deactivated": gettext_lazy("Fin de cycle : comptes désactivés"),
    "cycle.ended": gettext_lazy("Fin de cycle terminée"),
    "token.issued": gettext_lazy("Jeton d'API émis"),
    "token.revoked": gettext_lazy("Jeton d'API révoqué"),
    "export.audit_csv": gettext_lazy("Export du journal d'audit"),
    "export.members_csv": gettext_lazy("Export des membres"),
    "export.participants_csv": gettext_lazy("Export des participants"),
    "export.bookings_csv": gettext_lazy("Export des réservations d'un programme"),
    "export.program_members_csv": gettext_lazy("Export des membres d'un programme"),
    "export.home_people_csv": gettext_lazy("Export des personnes derrière un chiffre de l'accueil"),
    "export.email_log_csv": gettext_lazy("Export du registre des courriels"),
    "export.job_file": gettext_lazy("Téléchargement d'un fichier généré"),
}

#: what a prefix says when an action has no label of its own yet
_PREFIX_LABELS: dict[str, Promise] = {
    "cycle.": gettext_lazy("Fin de cycle"),
    "token.": gettext_lazy("Jeton d'API"),
    "api_token.": gettext_lazy("Jeton d'API"),
    "export.": gettext_lazy("Export"),
    "role.": gettext_lazy("Rôle modifié"),
}


@dataclass(frozen=True)
class ActionGroup:
    label: Promise
    actions: tuple[str, ...] = ()
    #: every action starting so belongs too (names other parts add later)
    prefixes: tuple[str, ...] = ()
    #: and every action ending so
    suffixes: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """The exact names this group holds among the known actions (every logged action has
        a label: a test sees to it), so the database reads one index range per name rather
        than matching a pattern on every row."""
        return sorted({*self.actions, *(name for name in ACTION_LABELS if self.holds(name))})

    def holds(self, action: str) -> bool:
        return (
            action in self.actions
            or action.startswith(self.prefixes)
            or action.endswith(self.suffixes)
        )


#: the kinds of action an administrator filters on; « all » is every entry
ACTION_GROUPS: dict[str, ActionGroup] = {
    "deletions": ActionGroup(gettext_lazy("Suppressions"), suffixes=(".deleted",)),
    "deactivations": ActionGroup(
        gettext_lazy("Désactivations et réactivations"),
        actions=("member.deactivated", "member.activated", "cycle.deactivated"),
        suffixes=(".deactivated",),
    ),
    "archive": ActionGroup(
        gettext_lazy("Archivages"),
        actions=("member.archived", "member.unarchived"),
        suffixes=(".archived", ".unarchived"),
    ),
    "cycle": ActionGroup(gettext_lazy("Fins de cycle"), prefixes=("cycle.",)),
    "tokens": ActionGroup(gettext_lazy("Jetons d'API"), prefixes=("token.", "api_token.")),
    "roles": ActionGroup(
        gettext_lazy("Rôles et droits"),
        actions=(
            "member.role_changed",
            "member.admin_granted",
            "member.admin_revoked",
            "enrolment.role_changed",
            "program.managers_changed",
        ),
        prefixes=("role.",),
        suffixes=(".role_changed",),
    ),
    "exports": ActionGroup(gettext_lazy("Exports"), prefixes=("export.",)),
}
GROUP_NAMES = ("all", *ACTION_GROUPS)


def group_choices() -> list[tuple[str, Any]]:
    return [("all", gettext_lazy("Toutes les actions"))] + [
        (name, group.label) for name, group in ACTION_GROUPS.items()
    ]


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    if label is None:
        for prefix, prefix_label in _PREFIX_LABELS.items():
            if action.startswith(prefix):
                return f"{prefix_label} ({action})"
        return action
    return str(label)


# --- The « what » in plain words ---------------------------------------------------------------

DATA_LABELS: dict[str, Promise] = {
    "count": gettext_lazy("nombre"),
    "rows": gettext_lazy("lignes"),
    "filters": gettext_lazy("filtres"),
    "reason": gettext_lazy("raison"),
    "role": gettext_lazy("rôle"),
    "subject": gettext_lazy("objet"),
    "name": gettext_lazy("nom"),
    "query": gettext_lazy("filtre"),
    "method": gettext_lazy("méthode"),
    "deleted": gettext_lazy("supprimés"),
    "reactivated": gettext_lazy("réactivés"),
    "relationships_ended": gettext_lazy("relations terminées"),
    "created": gettext_lazy("créés"),
    "updated": gettext_lazy("mis à jour"),
    "answers": gettext_lazy("réponses"),
    "recipients": gettext_lazy("destinataires"),
    "send_at": gettext_lazy("envoi prévu"),
    "audience": gettext_lazy("public"),
    "status": gettext_lazy("statut"),
    "answer": gettext_lazy("réponse"),
    "scope": gettext_lazy("portée"),
    "windows": gettext_lazy("créneaux"),
    "kind": gettext_lazy("type"),
    "from": gettext_lazy("copie de"),
    "active": gettext_lazy("actif"),
    "by": gettext_lazy("par"),
    "file": gettext_lazy("fichier"),
    "job": gettext_lazy("tâche"),
    "program": gettext_lazy("programme"),
}

SUMMARY_LENGTH = 500


#: a moment as the services store it in an entry's data (`starts_at.isoformat()`)
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and _ISO_MOMENT.fullmatch(value):
        # in the reader's language and the active time zone, like every other date shown
        moment = dt.datetime.fromisoformat(value)
        return format_moment(moment, "DATETIME_FORMAT") if moment.tzinfo else value
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value[:20]) + (" …" if len(value) > 20 else "")
    if isinstance(value, dict):
        return ", ".join(f"{_key(k)} = {_value(v)}" for k, v in list(value.items())[:20])
    return str(value)


def _key(key: Any) -> str:
    label = DATA_LABELS.get(str(key))
    return str(label) if label is not None else str(key)


def data_summary(data: Any) -> str:
    """An entry's data as a line a person reads: « nombre : 14 · rôle : mentor »; a change
    {old, new} as « avant → après », field by field when it is a set of fields."""
    if not isinstance(data, dict) or not data:
        return "" if not data else _value(data)[:SUMMARY_LENGTH]
    parts = []
    rest = dict(data)
    if "old" in rest and "new" in rest:
        old, new = rest.pop("old"), rest.pop("new")
        if isinstance(old, dict) and isinstance(new, dict):
            for key in dict.fromkeys([*old, *new]):
                change = f"{_value(old.get(key))} → {_value(new.get(key))}"
                parts.append(_("%(key)s : %(value)s") % {"key": _key(key), "value": change})
        else:
            parts.append(f"{_value(old)} → {_value(new)}")
    for key, value in rest.items():
        parts.append(_("%(key)s : %(value)s") % {"key": _key(key), "value": _value(value)})
    text = " · ".join(parts)
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def target_type_label(target_type: str) -> str:
    if not target_type:
        return ""
    try:
        return str(apps.get_model(target_type)._meta.verbose_name)
    except (LookupError, ValueError):
        return target_type


def actor_label(entry: AuditEntry) -> str:
    actor = entry.actor
    if actor is None:
        return _("système")
    name = actor.get_full_name()
    return f"{name} <{actor.email}>" if name and name != actor.email else actor.email


# --- Reading the log -----------------------------------------------------------------------------


#: what one types to find what no one did by hand (tasks, the system)
SYSTEM_WORDS = {"système", "systeme", "system"}


@dataclass(frozen=True)
class AuditFilters:
    group: str = "all"
    actor: str = ""
    target: str = ""
    #: [start, end): aware times, the organisation's whole days already worked out
    start: dt.datetime | None = None
    end: dt.datetime | None = None


def day_bounds(
    start: dt.date | None, end: dt.date | None, tz: dt.tzinfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Whole days in the organisation's time zone, the end day included."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=tz) if start else None,
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if end else None,
    )


#: past this many people matching a search, the database joins instead of taking a list
ACTOR_LIST_LIMIT = 1000


def _actors_matching(organisation_id: int, text: str) -> Any:
    """The people whose name or e-mail holds the text: the organisation's, and accounts of
    no organisation (platform staff). Read first, so a search that matches no one costs a
    look at the members, not a walk through the whole log."""
    people = get_user_model()._default_manager.filter(
        Q(organisation_id=organisation_id) | Q(organisation_id__isnull=True)
    )
    people = people.annotate(full_name_text=Concat("first_name", Value(" "), "last_name")).filter(
        Q(email__icontains=text) | Q(full_name_text__icontains=text)
    )
    ids = list(people.values_list("pk", flat=True)[: ACTOR_LIST_LIMIT + 1])
    return ids if len(ids) <= ACTOR_LIST_LIMIT else people.values("pk")


def audit_entries(*, organisation_id: int, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """One organisation's audit entries, newest first; the filters follow the indexes
    (organisation + time, organisation + action + time)."""
    rows = AuditEntry.objects.filter(organisation_id=organisation_id)
    group = ACTION_GROUPS.get(filters.group)
    if group is not None:
        rows = rows.filter(action__in=group.names())
    if filters.actor:
        if filters.actor.casefold() in SYSTEM_WORDS:
            rows = rows.filter(actor__isnull=True)
        else:
            rows = rows.filter(actor_id__in=_actors_matching(organisation_id, filters.actor))
    if filters.target:
        rows = rows.filter(target_repr__icontains=filters.target)
    if filters.start:
        rows = rows.filter(created_at__gte=filters.start)
    if filters.end:
        rows = rows.filter(created_at__lt=filters.end)
    return rows.select_related("actor").order_by("-created_at", "-id")


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
#: a page cursor: microseconds since 1970 and the entry's id. Every value of this shape is a
#: position in the log (at worst before the first entry or after the last), so the API's
#: schema can say exactly what it accepts.
CURSOR_PATTERN = r"^([0-9]{1,16}_[0-9]{1,18})?$"
_CURSOR = re.compile(r"([0-9]{1,16})_([0-9]{1,18})")


def cursor_of(entry: AuditEntry) -> str:
    return f"{(entry.created_at - _EPOCH) // _MICROSECOND}_{entry.pk}"


def parse_cursor(value: str) -> tuple[dt.datetime, int]:
    """The `next` of a previous page; anything else is refused, never guessed."""
    found = _CURSOR.fullmatch((value or "").strip())
    if found is None:
        raise ParseError(_("curseur de page invalide"))
    return _EPOCH + int(found[1]) * _MICROSECOND, int(found[2])


def audit_page(
    rows: QuerySet[AuditEntry], *, after: tuple[dt.datetime, int] | None = None, size: int = 50
) -> tuple[list[AuditEntry], str]:
    """Keyset pagination: the next page starts after the last entry seen, so page 1,000
    costs what page 1 costs; the `next` cursor is empty on the last page."""
    if after is not None:
        stamp, pk = after
        rows = rows.filter(created_at__lte=stamp).filter(
            Q(created_at__lt=stamp) | Q(created_at=stamp, id__lt=pk)
        )
    page = list(rows[: size + 1])
    more = len(page) > size
    page = page[:size]
    return page, (cursor_of(page[-1]) if more and page else "")


@dataclass(frozen=True)
class AuditLine:
    """An entry as the page, the CSV and the API show it."""

    entry: AuditEntry
    action_label: str
    actor_label: str
    target_label: str
    summary: str

    @property
    def when(self) -> dt.datetime:
        return self.entry.created_at


def audit_lines(entries: Sequence[AuditEntry]) -> list[AuditLine]:
    return [
        AuditLine(
            entry=entry,
            action_label=action_label(entry.action),
            actor_label=actor_label(entry),
            target_label=target_type_label(entry.target_type),
            summary=data_summary(entry.data),
        )
        for entry in entries
    ]


def audit_csv_rows(rows: QuerySet[AuditEntry], *, tz: dt.tzinfo) -> Iterator[list[object]]:
    """Every filtered entry as a CSV row, read in chunks."""
    for entry in rows.iterator(chunk_size=2000):
        actor = entry.actor
        yield [
            timezone.localtime(entry.created_at, tz).strftime("%Y-%m-%d %H:%M:%S"),
            action_label(entry.action),
            entry.action,
            actor.get_full_name() if actor is not None else _("système"),
            actor.email if actor is not None else "",
            target_type_label(entry.target_type),
            entry.target_repr,
            data_summary(entry.data),
        ]
