import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cohorte.accounts.models import Language, Member
from cohorte.core.audit import log_action

from .models import Cohort, Enrolment, Group, Organisation, Program
from .signals import members_enrolled, program_dates_changed


@transaction.atomic
def organisation_create(
    *, name: str, admin_email: str, admin_password: str, timezone_name: str = "Europe/Paris"
) -> tuple[Organisation, Member]:
    organisation = Organisation.objects.create(name=name, timezone=timezone_name)
    admin = Member.objects.create_user(
        admin_email, admin_password, organisation=organisation, is_org_admin=True
    )
    log_action("organisation.created", actor=admin, target=organisation)
    return organisation, admin


def _check_program(program: Program) -> None:
    if program.start_date and program.end_date and program.end_date < program.start_date:
        raise ValidationError({"end_date": _("La date de fin doit suivre la date de début.")})
    if program.objective is not None and program.objective < 1:
        raise ValidationError({"objective": _("L'objectif doit être d'au moins 1 rendez-vous.")})
    if program.group is not None and program.group.organisation_id != program.organisation_id:
        raise ValidationError({"group": _("Ce groupe n'appartient pas à votre organisation.")})


@transaction.atomic
def program_create(
    *,
    organisation: Organisation,
    by: Member | None,
    name: str,
    kind: str,
    start_date: dt.date,
    end_date: dt.date,
    objective: int,
    group: Group | None = None,
    description: str = "",
    managers: Iterable[Member] = (),
    unanswered_after_days: int = 7,
) -> Program:
    program = Program(
        unanswered_after_days=unanswered_after_days,
        organisation=organisation,
        group=group,
        name=name,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        objective=objective,
        description=description,
    )
    _check_program(program)
    program.save()
    program.managers.set(list(managers))
    log_action("program.created", actor=by, target=program, data={"name": name})
    return program


@transaction.atomic
def program_update(*, program: Program, by: Member, **changes: object) -> Program:
    """Dates moving changes every figure: the counters are rebuilt after commit."""
    managers = changes.pop("managers", None)
    old = {key: getattr(program, key) for key in changes}
    for key, value in changes.items():
        setattr(program, key, value)
    _check_program(program)
    program.save()
    if managers is not None:
        program.managers.set(list(managers))  # type: ignore[call-overload]
    log_action(
        "program.updated",
        actor=by,
        target=program,
        data={
            "old": {k: str(v) for k, v in old.items()},
            "new": {k: str(v) for k, v in changes.items()},
        },
    )
    if (
        old.get("start_date", program.start_date) != program.start_date
        or old.get("end_date", program.end_date) != program.end_date
    ):
        transaction.on_commit(lambda: program_dates_changed.send(Program, program=program))
    return program


@transaction.atomic
def group_save(
    *,
    organisation: Organisation,
    by: Member,
    name: str,
    parent: Group | None,
    group: Group | None = None,
) -> Group:
    if parent is not None and parent.organisation_id != organisation.pk:
        raise ValidationError({"parent": _("Ce groupe n'appartient pas à votre organisation.")})
    if group is not None and parent is not None and group.pk in parent.ancestor_ids():
        raise ValidationError({"parent": _("Un groupe ne peut pas être placé dans lui-même.")})
    created = group is None
    group = group or Group(organisation=organisation)
    group.name, group.parent = name, parent
    group.save()
    log_action("group.created" if created else "group.updated", actor=by, target=group)
    return group


def address_refused() -> ValidationError:
    """The one refusal for an address that cannot be enrolled, whatever the reason (badly
    written, or an account of another organisation): Django's own « invalid e-mail »."""
    return ValidationError({"email": ValidationError(EmailValidator.message, code="invalid")})


@transaction.atomic
def enrolment_add(
    *,
    program: Program,
    by: Member | None,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str,
    language: str | None = None,
) -> tuple[Enrolment, bool]:
    """Create the member if new, then enrol them (again, if they had left). Returns
    (enrolment, created) where created says whether the enrolment is new or re-opened."""
    email = Member.objects.normalize_email(email)
    try:
        validate_email(email)
    except ValidationError as error:
        raise address_refused() from error
    member = Member.objects.filter(email=email).first()
    if member is None:
        member = Member.objects.create_user(
            email,
            None,
            organisation=program.organisation,
            first_name=first_name,
            last_name=last_name,
            language=language or Language.FR,
        )
        log_action("member.created", actor=by, target=member)
    elif member.organisation_id != program.organisation_id:
        # the same answer as a mistyped address: never say that an account exists elsewhere
        raise address_refused()
    enrolment, created = Enrolment.objects.get_or_create(
        program=program, member=member, defaults={"role": role}
    )
    if not created and (enrolment.ended_at is not None or enrolment.role != role):
        reopened = enrolment.ended_at is not None
        enrolment.ended_at, enrolment.ended_by, enrolment.role = None, None, role
        enrolment.save(update_fields=["ended_at", "ended_by", "role", "updated_at"])
        created = reopened
    if created:
        log_action("enrolment.started", actor=by, target=enrolment, data={"role": role})
        members_enrolled.send(Enrolment, program=program, member_ids=[member.pk])
    return enrolment, created


@transaction.atomic
def enrolment_end(*, enrolment: Enrolment, by: Member | None) -> Enrolment:
    """Remove someone from a programme: the enrolment ends, their history stays."""
    if enrolment.ended_at is None:
        enrolment.ended_at, enrolment.ended_by = timezone.now(), by
        enrolment.save(update_fields=["ended_at", "ended_by", "updated_at"])
        log_action("enrolment.ended", actor=by, target=enrolment)
    return enrolment


@transaction.atomic
def enrolments_end(*, program: Program, members: Sequence[Member], by: Member | None) -> int:
    """Remove several people from a programme at once (each audited as enrolment_end)."""
    ended = 0
    for enrolment in Enrolment.objects.filter(
        program=program, member__in=members, ended_at__isnull=True
    ).select_for_update():
        enrolment_end(enrolment=enrolment, by=by)
        ended += 1
    return ended


@transaction.atomic
def cohort_save(
    *, organisation: Organisation, name: str, kind: str, by: Member, cohort: Cohort | None = None
) -> Cohort:
    name = name.strip()
    duplicate = Cohort.objects.filter(organisation=organisation, kind=kind, name__iexact=name)
    if cohort is not None:
        duplicate = duplicate.exclude(pk=cohort.pk)
    if duplicate.exists():
        raise ValidationError({"name": _("Ce nom existe déjà.")})
    created = cohort is None
    cohort = cohort or Cohort(organisation=organisation)
    cohort.name, cohort.kind = name, kind
    cohort.save()
    log_action("cohort.created" if created else "cohort.updated", actor=by, target=cohort)
    return cohort


@transaction.atomic
def cohort_members_set(*, cohort: Cohort, members: Iterable[Member], add: bool, by: Member) -> int:
    """Put members in a cohort or tag, or take them out; only the organisation's members."""
    ids = [m.pk for m in members if m.organisation_id == cohort.organisation_id]
    if add:
        cohort.members.add(*ids)
    else:
        cohort.members.remove(*ids)
    log_action(
        "cohort.members_added" if add else "cohort.members_removed",
        actor=by,
        target=cohort,
        data={"members": ids},
    )
    return len(ids)


@transaction.atomic
def cohort_delete(*, cohort: Cohort, by: Member) -> None:
    log_action("cohort.deleted", actor=by, target=cohort, data={"name": cohort.name})
    cohort.delete()
