"""Everything that changes members: profiles and their completion, switching accounts off,
archiving, deleting, bulk deactivation and import."""

import dataclasses
import functools
import itertools
import secrets
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.expressions import CombinedExpression, Expression
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.core.audit import log_action, log_actions
from cohorte.core.db import rows_insert, rows_update
from cohorte.core.jobs import job_create
from cohorte.core.models import AuditEntry, Job, JobChunk
from cohorte.core.parse import ParseError, parse_int
from cohorte.core.tabular import iter_table

from .models import CustomField, CustomFieldValue, Language, Member, MemberRole
from .signals import member_counters_stale, members_deactivated
from .tokens import member_tokens_revoke

# --- Profile completion ------------------------------------------------------------------

#: core profile fields every member is asked to fill
CORE_COMPLETION_FIELDS = (
    "first_name",
    "last_name",
    "photo",
    "job_title",
    "company",
    "industry",
    "years_experience",
    "country",
    "city",
    "goals",
    "linkedin",
)
#: core fields that only make sense for one side of a relationship
ROLE_COMPLETION_FIELDS = {
    "": (),
    MemberRole.MENTOR: ("skills",),
    MemberRole.MENTEE: ("development_areas",),
    MemberRole.BOTH: ("skills", "development_areas"),
}
NULLABLE_FIELDS = {"years_experience"}


def _filled(field: str) -> Expression:
    empty = Q(**{f"{field}__isnull": True}) if field in NULLABLE_FIELDS else Q(**{field: ""})
    return Case(When(empty, then=Value(0)), default=Value(1), output_field=IntegerField())


def _sum(expressions: Sequence[Expression]) -> Expression:
    total: Expression = Value(0, output_field=IntegerField())
    for expression in expressions:
        total = CombinedExpression(total, "+", expression, output_field=IntegerField())
    return total


def completion_expression(organisation_id: int) -> Expression:
    """Profile completion % of each member, as one SQL expression.

    % = the fields that apply to the member's role — the core ones and the organisation's
    required custom fields — that are filled, rounded down: 100 means all of them.
    Written for the database so that recomputing 50,000 members is a few UPDATEs.
    """
    required = list(CustomField.objects.filter(organisation_id=organisation_id, required=True))
    filled_core = _sum([_filled(field) for field in CORE_COMPLETION_FIELDS])
    whens_filled, whens_total = [], []
    for role, fields in ROLE_COMPLETION_FIELDS.items():
        custom_ids = [field.pk for field in required if field.applies_to(role)]
        custom_filled: Expression = Value(0, output_field=IntegerField())
        if custom_ids:
            answered = (
                CustomFieldValue.objects.filter(member=OuterRef("pk"), field_id__in=custom_ids)
                .exclude(value="")
                .order_by()
                .values("member")
                .annotate(n=Count("field", distinct=True))
                .values("n")
            )
            custom_filled = Coalesce(Subquery(answered, output_field=IntegerField()), 0)
        role_filled = _sum([_filled(field) for field in fields] + [custom_filled])
        whens_filled.append(When(role=role, then=role_filled))
        total = len(CORE_COMPLETION_FIELDS) + len(fields) + len(custom_ids)
        whens_total.append(When(role=role, then=Value(total)))  # type: ignore[misc]
    filled = CombinedExpression(
        filled_core,
        "+",
        Case(*whens_filled, default=Value(0), output_field=IntegerField()),
        output_field=IntegerField(),
    )
    total_fields = Case(
        *whens_total,
        default=Value(len(CORE_COMPLETION_FIELDS)),
        output_field=IntegerField(),
    )
    return CombinedExpression(
        CombinedExpression(filled, "*", Value(100), output_field=IntegerField()),
        "/",
        total_fields,
        output_field=IntegerField(),
    )


def completion_of(
    values: Mapping[str, Any], answered: Iterable[int], required: Sequence[CustomField]
) -> int:
    """The same % as completion_expression, for a member not yet in the database (an
    import's new rows, written with their figure instead of rewritten after): `values`
    are their columns, `answered` the custom fields they gave a non-empty answer to,
    `required` the organisation's required custom fields. tests/test_completion.py
    checks that both give the same figure."""

    def filled(field: str) -> bool:
        value = values.get(field)
        return value is not None if field in NULLABLE_FIELDS else value not in (None, "")

    core = sum(filled(field) for field in CORE_COMPLETION_FIELDS)
    role = values.get("role") or ""
    if role not in ROLE_COMPLETION_FIELDS:
        return core * 100 // len(CORE_COMPLETION_FIELDS)
    fields = ROLE_COMPLETION_FIELDS[role]
    custom_ids = {field.pk for field in required if field.applies_to(role)}
    done = core + sum(filled(field) for field in fields) + len(custom_ids & set(answered))
    return done * 100 // (len(CORE_COMPLETION_FIELDS) + len(fields) + len(custom_ids))


def members_completion_refresh(*, organisation_id: int, member_ids: Iterable[int]) -> None:
    ids = list(member_ids)
    expression = completion_expression(organisation_id)
    for start in range(0, len(ids), 5000):
        Member.objects.filter(
            organisation_id=organisation_id, pk__in=ids[start : start + 5000]
        ).update(profile_completion=expression)


def organisation_completion_recompute(
    *, organisation_id: int, progress: Callable[[int, int], None] | None = None
) -> int:
    """« Recalculer valeur du profil »: every member, in slices of primary keys."""
    members = Member.objects.filter(organisation_id=organisation_id)
    total = members.count()
    expression = completion_expression(organisation_id)
    ids = members.order_by("pk").values_list("pk", flat=True)
    bounds = list(ids[::5000]) if total else []
    done = 0
    for index, low in enumerate(bounds):
        piece = members.filter(pk__gte=low)
        if index + 1 < len(bounds):
            piece = piece.filter(pk__lt=bounds[index + 1])
        with transaction.atomic():
            done += piece.update(profile_completion=expression)
        if progress:
            progress(done, total)
    return done


# --- Profiles -----------------------------------------------------------------------------

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "timezone",
    "language",
    "role",
    "job_title",
    "company",
    "industry",
    "years_experience",
    "country",
    "province",
    "city",
    "goals",
    "skills",
    "development_areas",
    "linkedin",
)


def custom_values_set(
    *, member: Member, values: dict[CustomField, list[str]], replace: bool = True
) -> None:
    for field, chosen in values.items():
        if replace:
            CustomFieldValue.objects.filter(member=member, field=field).delete()
        CustomFieldValue.objects.bulk_create(
            [CustomFieldValue(member=member, field=field, value=value) for value in chosen],
            ignore_conflicts=True,
        )


@transaction.atomic
def member_profile_update(
    *,
    member: Member,
    by: Member,
    data: dict[str, Any],
    custom: dict[CustomField, list[str]] | None = None,
) -> Member:
    """Save a profile and its completion together, and keep who changed what."""
    changed = {}
    for name in PROFILE_FIELDS + ("photo", "administrator", "hired_on"):
        if name in data and getattr(member, name) != data[name]:
            changed[name] = [str(getattr(member, name) or ""), str(data[name] or "")]
            setattr(member, name, data[name])
    member.full_clean(exclude=["password", "email", "organisation", "administrator"])
    member.save()
    if custom:
        custom_values_set(member=member, values=custom)
        changed.update({f"custom:{field.pk}": ["", ", ".join(v)] for field, v in custom.items()})
    if member.organisation_id:
        members_completion_refresh(organisation_id=member.organisation_id, member_ids=[member.pk])
        member.refresh_from_db(fields=["profile_completion"])
    if changed:
        log_action("member.profile_updated", actor=by, target=member, data=changed)
    return member


# --- Active, archived, deleted --------------------------------------------------------------


@transaction.atomic
def member_set_active(*, member: Member, active: bool, by: Member) -> Member:
    """The « Actif » box: at once, no confirmation; the data stays."""
    if member.is_active == active:
        return member
    if not active and member.pk == by.pk:
        raise ValidationError(_("Vous ne pouvez pas désactiver votre propre compte."))
    member.is_active = active
    member.deactivated_at = None if active else timezone.now()
    member.save(update_fields=["is_active", "deactivated_at"])
    log_action(
        "member.activated" if active else "member.deactivated",
        actor=by,
        target=member,
        data={"old": not active, "new": active},
    )
    if not active:
        member_tokens_revoke(member_ids=[member.pk], by=by, reason="deactivated")
        members_deactivated.send(sender=Member, member_ids=[member.pk])
    return member


@transaction.atomic
def member_archive(*, member: Member, by: Member) -> Member:
    """Archived: nothing is lost, the member cannot sign in and leaves the lists."""
    if member.pk == by.pk:
        raise ValidationError(_("Vous ne pouvez pas archiver votre propre compte."))
    if member.archived_at is None:
        member.archived_at = timezone.now()
        member.save(update_fields=["archived_at"])
        log_action("member.archived", actor=by, target=member)
    member_tokens_revoke(member_ids=[member.pk], by=by, reason="archived")
    return member


@transaction.atomic
def member_unarchive(*, member: Member, by: Member) -> Member:
    if member.archived_at is not None:
        member.archived_at = None
        member.save(update_fields=["archived_at"])
        log_action("member.unarchived", actor=by, target=member)
    return member


@dataclasses.dataclass
class DeletionSummary:
    relationships: int
    meetings: int
    messages: int
    events: int
    enrolments: int


def member_deletion_summary(member: Member) -> DeletionSummary:
    """What « Supprimer définitivement » takes with it, for the confirmation."""
    return DeletionSummary(
        relationships=member.as_mentor.count() + member.as_mentee.count(),
        meetings=member.attendances.count(),
        messages=member.events.filter(kind="message").count(),
        events=member.events.count(),
        enrolments=member.enrolments.count(),
    )


def deletion_refusal(member: Member, by: Member) -> str | None:
    if member.pk == by.pk:
        return _("Vous ne pouvez pas supprimer votre propre compte.")
    if member.is_org_admin:
        return _("Un administrateur ne peut pas être supprimé depuis cet écran.")
    return None


@transaction.atomic
def member_delete(*, member: Member, by: Member) -> None:
    """Delete for good: the member and everything that is theirs (events, relationships,
    attendances, answers). Meetings created by them stay for the other attendees."""
    refusal = deletion_refusal(member, by)
    if refusal:
        raise ValidationError(refusal)
    members_delete(members=[member], by=by)


def members_delete(*, members: Sequence[Member], by: Member | None) -> int:
    """Delete members for good (the caller has checked who may go); partners' counters follow."""
    ids = [member.pk for member in members]
    if not ids:
        return 0
    partners = set(
        Member.objects.filter(as_mentor__mentee_id__in=ids).values_list("pk", flat=True)
    ) | set(Member.objects.filter(as_mentee__mentor_id__in=ids).values_list("pk", flat=True))
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action="member.deleted",
                actor=by if by is not None and by.pk not in ids else None,
                target_type="accounts.member",
                target_id=str(member.pk),
                target_repr=f"{member.full_name} <{member.email}>"[:300],
            )
            for member in members
        ]
    )
    for start in range(0, len(ids), 500):
        Member.objects.filter(pk__in=ids[start : start + 500]).delete()
    stale = partners - set(ids)
    if stale:
        member_counters_stale.send(sender=Member, member_ids=sorted(stale))
    return len(ids)


# --- Line-by-line problems ------------------------------------------------------------------


@dataclasses.dataclass
class LineError:
    """A problem in an uploaded file or a batch: line is 1-based in a file, index in a batch."""

    line: int
    field: str
    message: str


class BatchRefused(Exception):
    """Nothing was changed: the batch has these problems."""

    def __init__(self, errors: list[LineError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


# --- Deactivation from a list of e-mails ----------------------------------------------------


def deactivation_check(
    *, organisation_id: int, emails: Sequence[tuple[int, str]]
) -> tuple[list[Member], list[LineError]]:
    """Who the list switches off, or why it cannot: unknown e-mails, administrators."""
    errors: list[LineError] = []
    wanted: dict[str, int] = {}
    for line, raw in emails:
        email = Member.objects.normalize_email(raw)
        try:
            validate_email(email)
        except ValidationError:
            errors.append(
                LineError(
                    line, "email", _("« %(value)s » n'est pas un courriel valide.") % {"value": raw}
                )
            )
            continue
        wanted.setdefault(email, line)
    known = {
        member.email: member
        for member in Member.objects.filter(organisation_id=organisation_id, email__in=list(wanted))
    }
    for email, line in wanted.items():
        member = known.get(email)
        if member is None:
            errors.append(
                LineError(
                    line, "email", _("Aucun membre n'a le courriel %(email)s.") % {"email": email}
                )
            )
        elif member.is_org_admin:
            errors.append(
                LineError(
                    line,
                    "email",
                    _(
                        "%(email)s est administrateur : un fichier ne désactive jamais "
                        "un administrateur."
                    )
                    % {"email": email},
                )
            )
    errors.sort(key=lambda error: error.line)
    return list(known.values()), errors


@transaction.atomic
def members_deactivate(
    *, organisation_id: int, emails: Sequence[tuple[int, str]], by: Member
) -> int:
    """All or nothing: a single bad line and no one is switched off."""
    members, errors = deactivation_check(organisation_id=organisation_id, emails=emails)
    if errors:
        raise BatchRefused(errors)
    now = timezone.now()
    to_switch = [member for member in members if member.is_active]
    Member.objects.filter(pk__in=[member.pk for member in to_switch]).update(
        is_active=False, deactivated_at=now
    )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action="member.deactivated",
                actor=by,
                target_type="accounts.member",
                target_id=str(member.pk),
                target_repr=str(member)[:300],
                data={"old": True, "new": False, "by": "file"},
            )
            for member in to_switch
        ]
    )
    member_tokens_revoke(
        member_ids=[member.pk for member in to_switch], by=by, reason="deactivated"
    )
    members_deactivated.send(sender=Member, member_ids=[member.pk for member in to_switch])
    return len(to_switch)


# --- Import ---------------------------------------------------------------------------------

#: the core columns an import may fill
IMPORT_FIELDS = ("email",) + PROFILE_FIELDS

ROLE_WORDS = {
    "mentor": MemberRole.MENTOR,
    "mentee": MemberRole.MENTEE,
    "mentoré": MemberRole.MENTEE,
    "mentore": MemberRole.MENTEE,
    "mentorée": MemberRole.MENTEE,
    "both": MemberRole.BOTH,
    "mentor et mentoré": MemberRole.BOTH,
    "mentor and mentee": MemberRole.BOTH,
    "mentor & mentee": MemberRole.BOTH,
    "": "",
}
LANGUAGE_WORDS = {
    "fr": Language.FR,
    "français": Language.FR,
    "francais": Language.FR,
    "french": Language.FR,
    "en": Language.EN,
    "english": Language.EN,
    "anglais": Language.EN,
}


@dataclasses.dataclass(slots=True)
class ImportRow:
    line: int
    core: dict[str, Any]
    custom: dict[int, list[str]]


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the disk: once, not per row


_url = URLValidator()
#: the longest text each core column holds
_LIMITS = {
    name: getattr(Member._meta.get_field(name), "max_length", None) for name in IMPORT_FIELDS
}


def _clean_core(name: str, raw: str, line: int, errors: list[LineError]) -> Any:
    value = raw.strip()
    if name == "role":
        if value.lower() not in ROLE_WORDS:
            errors.append(
                LineError(
                    line,
                    name,
                    _("Rôle inconnu : « %(value)s » (mentor, mentoré ou mentor et mentoré).")
                    % {"value": value},
                )
            )
        return ROLE_WORDS.get(value.lower(), "")
    if name == "language":
        if value and value.lower() not in LANGUAGE_WORDS:
            errors.append(
                LineError(
                    line, name, _("Langue inconnue : « %(value)s » (fr ou en).") % {"value": value}
                )
            )
        return LANGUAGE_WORDS.get(value.lower(), "")
    if name == "years_experience":
        if not value:
            return None
        try:
            return parse_int(value, minimum=0, maximum=80)
        except ParseError:  # « ² » and « ٣ » are digits to str.isdigit(), not to int()
            errors.append(
                LineError(
                    line, name, _("Années d'expérience : un nombre entier de 0 à 80 est attendu.")
                )
            )
            return None
    if name == "timezone" and value:
        if value not in _time_zones():
            errors.append(
                LineError(
                    line, name, _("Fuseau horaire inconnu : « %(value)s ».") % {"value": value}
                )
            )
    if name == "linkedin" and value:
        try:
            _url(value)
        except ValidationError:
            errors.append(
                LineError(
                    line, name, _("LinkedIn : une adresse web complète est attendue (https://…).")
                )
            )
    limit = _LIMITS.get(name)
    if limit and len(value) > limit:
        errors.append(
            LineError(line, name, _("Trop long : %(limit)d caractères au plus.") % {"limit": limit})
        )
    return value


class _Checker:
    """Checks rows one at a time (a file is read as a stream), remembering only what a later
    row needs: the e-mails seen, and at which line."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id
        self.fields = {
            field.pk: field for field in CustomField.objects.filter(organisation_id=organisation_id)
        }
        self.words = {pk: _words(field) for pk, field in self.fields.items()}
        self.errors: list[LineError] = []
        self.seen: dict[str, int] = {}

    def check(self, line: int, raw: dict[str, str]) -> ImportRow:
        errors, seen = self.errors, self.seen
        email = Member.objects.normalize_email(raw.get("email"))
        if not email:
            errors.append(LineError(line, "email", _("Le courriel est obligatoire.")))
        else:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(
                    LineError(
                        line,
                        "email",
                        _("« %(value)s » n'est pas un courriel valide.")
                        % {"value": raw.get("email", "")},
                    )
                )
            if email in seen:
                errors.append(
                    LineError(
                        line,
                        "email",
                        _("Ce courriel figure déjà à la ligne %(line)d.") % {"line": seen[email]},
                    )
                )
            else:
                seen[email] = line
        core: dict[str, Any] = {"email": email}
        custom: dict[int, list[str]] = {}
        for key, value in raw.items():
            value = "" if value is None else str(value)
            if key in PROFILE_FIELDS:
                if value.strip():
                    core[key] = _clean_core(key, value, line, errors)
            elif key.startswith("custom:"):
                field = self.fields.get(int(key[7:])) if key[7:].isdigit() else None
                if field is None:
                    errors.append(LineError(line, key, _("Champ personnalisé inconnu.")))
                    continue
                chosen = custom_choices(field, value, line, errors, words=self.words[field.pk])
                if chosen:
                    custom[field.pk] = chosen
        return ImportRow(line, core, custom)

    def known(self) -> dict[str, tuple[int, int]]:
        """Every e-mail of the rows that has an account, in one query: (organisation, pk)."""
        emails = list(self.seen)
        found: dict[str, tuple[int, int]] = {}
        for start in range(0, len(emails), IMPORT_LOOKUP):
            found.update(
                (email, (organisation_id, pk))
                for email, organisation_id, pk in Member.objects.filter(
                    email__in=emails[start : start + IMPORT_LOOKUP]
                ).values_list("email", "organisation_id", "pk")
            )
        return found

    def refuse_others(self, known: dict[str, tuple[int, int]]) -> None:
        for email, (organisation_id, _pk) in known.items():
            if organisation_id != self.organisation_id:
                self.errors.append(
                    LineError(
                        self.seen[email],
                        "email",
                        _(
                            "Ce courriel est déjà utilisé par un autre compte et ne peut pas "
                            "être importé."
                        ),
                    )
                )
        if self.errors:
            self.errors.sort(key=lambda error: error.line)
            raise BatchRefused(self.errors)


def import_check(
    *,
    organisation_id: int,
    rows: Iterable[tuple[int, dict[str, str]]],
    progress: Callable[[int], None] | None = None,
) -> tuple[list[ImportRow], list[LineError]]:
    """Validate every row of an import. A row maps a column key to the raw text of its cell:
    core field names (« email », « first_name »…) or « custom:<id> »."""
    checker = _Checker(organisation_id)
    cleaned = []
    for number, (line, raw) in enumerate(rows):
        if progress and number and not number % IMPORT_CHUNK:
            progress(number)
        cleaned.append(checker.check(line, raw))
    try:
        checker.refuse_others(checker.known())
    except BatchRefused:
        pass
    return cleaned, checker.errors


def custom_choices(
    field: CustomField,
    value: str,
    line: int,
    errors: list[LineError],
    *,
    words: dict[str, str] | None = None,
) -> list[str]:
    """The options a cell chooses; words (each option by its casefold) may be given once
    for many rows."""
    value = value.strip()
    if not value:
        return []
    by_word = words if words is not None else _words(field)
    if not by_word:
        return [value[:500]]
    options = list(by_word.values())
    parts = (
        [part.strip() for part in value.split(",") if part.strip()] if field.multiple else [value]
    )
    chosen = []
    for part in parts:
        option = by_word.get(part.casefold())
        if option is None:
            errors.append(
                LineError(
                    line,
                    f"custom:{field.pk}",
                    _("« %(value)s » n'est pas une option de « %(field)s » (%(options)s).")
                    % {"value": part, "field": field.name, "options": ", ".join(options)},
                )
            )
        else:
            chosen.append(option)
    return chosen


def _words(field: CustomField) -> dict[str, str]:
    return {option.casefold(): option for option in field.choices}


#: rows checked or written between two reports of progress
IMPORT_CHUNK = 500
#: e-mails looked up in one IN (…): well under every database's limit of parameters
IMPORT_LOOKUP = 5000


def members_import(
    *,
    organisation_id: int,
    rows: Iterable[tuple[int, dict[str, str]]],
    by: Member | None,
    total: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    within: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Import all rows or none. Existing e-mails are updated (an empty cell keeps what is
    there), new ones get an account without a password: they set it from the invitation.

    The rows are read once, as a stream (a file's slices one after the other): each is
    checked as it comes and only its cleaned values are kept; then one query finds which
    e-mails have an account, and the members, their answers and their history are written
    in a few set-based statements per chunk, in one transaction. within(result) runs inside
    it: what must happen exactly when the import happens (a job's bookkeeping, the
    invitations' job) commits or rolls back with it. Progress counts each row twice:
    checked, then written."""
    if total is None:
        total = len(rows) if isinstance(rows, Sequence) else 0
    report = progress or (lambda done, total: None)
    checker = _Checker(organisation_id)
    cleaned: list[ImportRow] = []
    for line, raw in rows:
        cleaned.append(checker.check(line, raw))
        if not len(cleaned) % IMPORT_CHUNK:
            report(len(cleaned), max(total, len(cleaned)) * 2)
    total = len(cleaned) * 2
    if checker.errors:
        checker.refuse_others(checker.known())  # every bad line, those of other accounts too
    report(len(cleaned), total)
    with transaction.atomic():
        known = checker.known()
        checker.refuse_others(known)
        result = _members_write(
            organisation_id=organisation_id,
            cleaned=cleaned,
            known={email: pk for email, (_org, pk) in known.items()},
            by=by,
            report=lambda written: report(len(cleaned) + written, total),
        )
        if within:
            within(result)
    report(total, total)
    return result


def _members_write(
    *,
    organisation_id: int,
    cleaned: list[ImportRow],
    known: dict[str, int],
    by: Member | None,
    report: Callable[[int], None],
) -> dict[str, Any]:
    """The writes of an import, set-based: rows_insert and rows_update rather than
    bulk_create and bulk_update, which spend seconds in Python on 10,000 members."""
    defaults = {
        name: Member._meta.get_field(name).get_default()  # type: ignore[union-attr]
        for name in PROFILE_FIELDS
    }
    required = list(CustomField.objects.filter(organisation_id=organisation_id, required=True))
    created: list[dict[str, Any]] = []
    #: members to update, grouped by the columns they fill (an empty cell keeps what is there)
    updates: dict[tuple[str, ...], list[tuple[int, list[Any]]]] = {}
    labels: dict[str, str] = {}
    for row in cleaned:
        email = row.core["email"]
        values = {
            key: value
            for key, value in row.core.items()
            if key != "email" and value not in ("", None)
        }
        labels[email] = (
            f"{values.get('first_name', '')} {values.get('last_name', '')}".strip() or email
        )
        pk = known.get(email)
        if pk is None:
            profile = {name: values.get(name, defaults[name]) for name in PROFILE_FIELDS}
            given = [field_id for field_id, chosen in row.custom.items() if any(chosen)]
            created.append(
                {
                    "organisation_id": organisation_id,
                    "email": email,
                    # unusable, as set_unusable_password() makes it, without its slow random
                    "password": UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
                    **profile,
                    # written with the row: rewriting 10,000 fresh rows costs a second
                    "profile_completion": completion_of(profile, given, required),
                }
            )
        else:
            columns = tuple(sorted(values))
            updates.setdefault(columns, []).append((pk, [values[name] for name in columns]))
    written = 0
    for start in range(0, len(created), IMPORT_CHUNK):
        written += rows_insert(Member, created[start : start + IMPORT_CHUNK])
        report(written)
    for columns, group in updates.items():
        for start in range(0, len(group), IMPORT_CHUNK):
            chunk = group[start : start + IMPORT_CHUNK]
            if columns:
                rows_update(Member, chunk, columns)
            written += len(chunk)
            report(written)
    emails = [row["email"] for row in created]
    created_of: dict[str, int] = {}
    for start in range(0, len(emails), IMPORT_LOOKUP):
        created_of.update(
            Member.objects.filter(
                organisation_id=organisation_id, email__in=emails[start : start + IMPORT_LOOKUP]
            ).values_list("email", "pk")
        )
    pk_of = {**created_of, **known}
    answered = [row for row in cleaned if row.custom]
    field_ids = {field_id for row in answered for field_id in row.custom}
    if answered:
        replaced = [known[row.core["email"]] for row in answered if row.core["email"] in known]
        for start in range(0, len(replaced), IMPORT_LOOKUP):
            CustomFieldValue.objects.filter(
                member_id__in=replaced[start : start + IMPORT_LOOKUP], field_id__in=field_ids
            ).delete()
        rows_insert(
            CustomFieldValue,
            (
                {"member_id": pk_of[row.core["email"]], "field_id": field_id, "value": value}
                for row in answered
                for field_id, values in row.custom.items()
                for value in dict.fromkeys(values)  # « Hockey, hockey »: one answer
            ),
        )
    created_ids = [created_of[email] for email in emails]
    all_ids = [pk_of[row.core["email"]] for row in cleaned]
    # the new rows carry their figure already; the updated ones are recomputed in SQL
    members_completion_refresh(organisation_id=organisation_id, member_ids=known.values())
    log_action(
        "members.imported",
        actor=by,
        organisation_id=organisation_id,
        data={"created": len(created), "updated": len(all_ids) - len(created)},
    )
    log_actions(
        "member.imported",
        actor=by,
        model=Member,
        organisation_id=organisation_id,
        entries=(
            (
                pk_of[row.core["email"]],
                labels[row.core["email"]],
                {"created": True}
                if row.core["email"] in created_of
                else {"fields": sorted(key for key in row.core if key != "email")},
            )
            for row in cleaned
        ),
    )
    return {
        "created": len(created),
        "updated": len(all_ids) - len(created),
        "created_ids": created_ids,
        "member_ids": all_ids,
    }


#: rows of the file kept apart for the mapping page: its samples and its preview
IMPORT_SAMPLE = 10


def members_import_prepare(
    *, organisation_id: int, by: Member, filename: str, data: bytes
) -> Job | None:
    """« Importer des membres », step 1: the file read once, row by row, into slices that the
    job keeps until it imports them (or is left: the clock deletes it, slices with it), so
    that neither a page nor the worker ever holds every row. A file that cannot be read,
    or that goes over COHORTE_IMPORT_MAX_ROWS, raises TableError at the row where it is
    found, with nothing kept; a file without member rows gives None."""
    header, rows = iter_table(data, filename)
    with transaction.atomic():
        job = job_create(
            kind="members_import",
            by=by,
            title=_("Importer des membres"),
            organisation_id=organisation_id,
        )
        count = number = 0
        sample: list = []
        while chunk := list(itertools.islice(rows, IMPORT_CHUNK)):
            JobChunk.objects.create(job=job, number=number, rows=chunk)
            if len(sample) < IMPORT_SAMPLE:
                sample += chunk[: IMPORT_SAMPLE - len(sample)]
            number += 1
            count += len(chunk)
        if not header or not count:
            transaction.set_rollback(True)
            return None
        job.payload = {"filename": filename, "header": header, "sample": sample, "count": count}
        job.save(update_fields=["payload"])
    return job


def import_chunks(*, job: Job) -> Iterator[list[tuple[int, list[str]]]]:
    """The rows a job prepared, a slice at a time (one query each)."""
    for pk in job.chunks.order_by("number").values_list("pk", flat=True):
        rows = JobChunk.objects.filter(pk=pk).values_list("rows", flat=True).first()
        if rows is not None:
            yield [(line, cells) for line, cells in rows]


def custom_field_save(*, field: CustomField, by: Member) -> CustomField:
    created = field.pk is None
    field.full_clean()
    field.save()
    log_action(
        "custom_field.created" if created else "custom_field.updated", actor=by, target=field
    )
    return field


@transaction.atomic
def custom_field_delete(*, field: CustomField, by: Member) -> None:
    """The field and every answer to it; completion follows after a recompute."""
    log_action(
        "custom_field.deleted",
        actor=by,
        target=field,
        data={"name": field.name_fr, "answers": field.values.count()},
    )
    field.delete()


def profile_fields_of(member: Member) -> dict[int, list[str]]:
    values: dict[int, list[str]] = {}
    for field_id, value in member.field_values.values_list("field_id", "value").order_by("pk"):
        values.setdefault(field_id, []).append(value)
    return values
