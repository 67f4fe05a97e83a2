"""Joining a programme from its public site. The promise: one application per address and
programme however often the form is sent; nothing is enrolled before the address is
confirmed (double opt-in); a visitor never learns whether an address already has an
account; every e-mail goes through the outbox in the transaction that decides it."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from cohorte.accounts.models import CustomField, CustomFieldValue, Member
from cohorte.core.audit import log_action
from cohorte.core.parse import ParseError
from cohorte.messaging import branding
from cohorte.messaging.services import absolute_url, email_enqueue, notify
from cohorte.programs.models import Program
from cohorte.programs.services import enrolment_add

from .models import SIGNUP_ROLES, Application, ApplicationStatus, SignupSettings
from .selectors import program_slug, signup_settings_of

CONFIRM_SALT = "cohorte.signup.confirm"


# --- The manager's side: publishing and settings ------------------------------------------


@transaction.atomic
def site_publish(*, program: Program, by: Member, published: bool) -> Program:
    """« Afficher le site Web »: the public page exists for visitors only once published."""
    old = program.site_published
    if old != published:
        program.site_published = published
        program.save(update_fields=["site_published", "updated_at"])
        log_action(
            "program.site_published" if published else "program.site_unpublished",
            actor=by,
            target=program,
            data={"old": old, "new": published},
        )
    return program


@transaction.atomic
def signup_settings_save(
    *, program: Program, by: Member, open: bool, roles: Iterable[str], approval_required: bool
) -> SignupSettings:
    chosen = [role.value for role in SIGNUP_ROLES if role.value in set(roles)]
    if not chosen:
        raise ValidationError({"roles": _("Choisissez au moins un rôle.")})
    current = signup_settings_of(program)
    old = {"open": current.open, "roles": current.roles, "approval": current.approval_required}
    current.open, current.roles, current.approval_required = open, chosen, approval_required
    current.save()
    log_action(
        "program.signup_settings_saved",
        actor=by,
        target=program,
        data={"old": old, "new": {"open": open, "roles": chosen, "approval": approval_required}},
    )
    return current


# --- The visitor's side: apply, confirm --------------------------------------------------


def confirmation_token(application: Application) -> str:
    return signing.dumps({"a": application.pk, "e": application.email}, salt=CONFIRM_SALT)


def application_from_token(token: str) -> Application:
    """The application a confirmation link names, if the link is genuine and recent."""
    max_age = int(getattr(settings, "COHORTE_SIGNUP_CONFIRM_SECONDS", 7 * 24 * 3600))
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ParseError(
            _("Ce lien a expiré : envoyez à nouveau le formulaire."), code="expired"
        ) from error
    except signing.BadSignature as error:
        raise ParseError(_("Ce lien n'est pas valide."), code="invalid") from error
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise ParseError(_("Ce lien n'est pas valide."), code="invalid")
    application = (
        Application.objects.filter(pk=data["a"], email=str(data.get("e")))
        .select_related("program__organisation")
        .first()
    )
    if application is None:
        raise ParseError(_("Ce lien n'est pas valide."), code="invalid")
    return application


def confirm_url(application: Application) -> str:
    program = application.program
    return absolute_url(
        reverse(
            "signup:confirm",
            args=[program.pk, program_slug(program), confirmation_token(application)],
        )
    )


def _program_name(program: Program) -> str:
    return program.name


def _branded_enqueue(
    *,
    program: Program,
    member: Member | None,
    to_email: str,
    subject: str,
    text: str,
    language: str,
) -> None:
    """An e-mail for this programme, in its brand (messaging.branding), through the outbox."""
    layout = branding.EmailLayout(program, language)
    email_enqueue(
        organisation_id=program.organisation_id,
        member=member,
        to_email=to_email,
        subject=subject,
        text=layout.text(text),
        html=layout.html(branding.system_html(text)),
        language=language,
    )


def _send_confirmation(application: Application) -> None:
    program = application.program
    with translation.override(application.language):
        subject = _("Confirmez votre inscription à %(program)s") % {
            "program": _program_name(program)
        }
        text = _(
            "Bonjour %(first_name)s,\n\n"
            "Vous avez demandé à rejoindre le programme « %(program)s ». "
            "Pour confirmer votre adresse, ouvrez ce lien :\n%(link)s\n\n"
            "Ce lien est valable 7 jours. Si vous n'avez rien demandé, ignorez ce courriel : "
            "rien ne sera fait sans votre confirmation."
        ) % {
            "first_name": application.first_name,
            "program": _program_name(program),
            "link": confirm_url(application),
        }
    _branded_enqueue(
        program=program,
        member=None,
        to_email=application.email,
        subject=subject,
        text=text,
        language=application.language,
    )


@dataclass
class Submission:
    email: str
    first_name: str
    last_name: str
    language: str
    role: str
    answers: dict[str, list[str]] = field(default_factory=dict)


@transaction.atomic
def application_submit(*, program: Program, submission: Submission) -> Application:
    """Record the request and send the confirmation link. Sent again with the same
    address, the same row is updated (and the link sent again while unconfirmed); an
    application already decided is left as it is. The visitor sees the same page whatever
    happened here."""
    email = Member.objects.normalize_email(submission.email).strip()
    values = {
        "first_name": submission.first_name,
        "last_name": submission.last_name,
        "language": submission.language,
        "role": submission.role,
        "answers": submission.answers,
    }
    try:
        with transaction.atomic():
            application, created = Application.objects.get_or_create(
                program=program, email=email, defaults=values
            )
    except IntegrityError:  # the same address sent twice at the same moment
        application, created = Application.objects.get(program=program, email=email), False
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not created and application.status == ApplicationStatus.UNCONFIRMED:
        for key, value in values.items():
            setattr(application, key, value)
        application.save()
    if application.status == ApplicationStatus.UNCONFIRMED:
        _send_confirmation(application)
    log_action(
        "application.submitted",
        target=application,
        organisation_id=program.organisation_id,
        data={"role": submission.role, "again": not created, "status": application.status},
    )
    return application


@transaction.atomic
def application_confirm(*, application: Application) -> Application:
    """The address is confirmed: enrol now, or wait for a manager, as the programme says.
    Confirming twice changes nothing."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.UNCONFIRMED:
        return application
    program = application.program
    application.confirmed_at = timezone.now()
    application.status = ApplicationStatus.PENDING
    application.save(update_fields=["confirmed_at", "status", "updated_at"])
    log_action("application.confirmed", target=application, organisation_id=program.organisation_id)
    if signup_settings_of(program).approval_required:
        managers = program.managers.filter(is_active=True)
        url = reverse("signup:applications", args=[program.pk])
        notify(
            members=managers,
            title_fr=f"Nouvelle candidature à {program.name} : {application.full_name}",
            title_en=f"New application to {program.name}: {application.full_name}",
            url=url,
        )
    else:
        applications_decide(program=program, ids=[application.pk], accept=True, by=None)
        application.refresh_from_db()
    return application


# --- Deciding ---------------------------------------------------------------------------


@dataclass
class Decision:
    accepted: list[Application] = field(default_factory=list)
    refused: list[Application] = field(default_factory=list)
    #: could not be enrolled (an address of another organisation): left pending
    refused_address: list[Application] = field(default_factory=list)


def _sign_in_link(member: Member) -> str:
    """A link to choose one's password for a new account, else the sign-in page."""
    if member.has_usable_password():
        return absolute_url(reverse("accounts:login"))
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    return absolute_url(
        reverse(
            "accounts:password-reset-confirm",
            args=[uid, default_token_generator.make_token(member)],
        )
    )


def _send_decision(application: Application, *, accepted: bool) -> None:
    program = application.program
    member = application.member
    language = member.language if member else application.language
    with translation.override(language):
        if accepted and member is not None:
            subject = _("Bienvenue dans le programme %(program)s") % {"program": program.name}
            text = _(
                "Bonjour %(first_name)s,\n\n"
                "Votre candidature au programme « %(program)s » est acceptée : vous en faites "
                "désormais partie.\n\nPour vous connecter : %(link)s"
            ) % {
                "first_name": application.first_name,
                "program": program.name,
                "link": _sign_in_link(member),
            }
        else:
            subject = _("Votre candidature au programme %(program)s") % {"program": program.name}
            text = _(
                "Bonjour %(first_name)s,\n\n"
                "Merci de votre intérêt pour le programme « %(program)s ». Votre candidature "
                "n'a pas été retenue.\n\nUne question ? Écrivez à %(admin_email)s."
            ) % {
                "first_name": application.first_name,
                "program": program.name,
                "admin_email": program.organisation.admin_email(),
            }
    _branded_enqueue(
        program=program,
        member=member,
        to_email=member.email if member else application.email,
        subject=subject,
        text=text,
        language=language,
    )


def _answers_keep(application: Application, member: Member) -> None:
    """The custom fields' answers go to the profile, for the fields the member had not
    filled in yet (an application never overwrites what a member wrote)."""
    ids = []
    for key in application.answers:
        try:
            ids.append(int(key))
        except ValueError:
            continue
    if member.organisation_id is None:
        return
    fields = CustomField.objects.filter(pk__in=ids, organisation_id=member.organisation_id)
    filled = set(
        CustomFieldValue.objects.filter(member=member, field__in=fields).values_list(
            "field_id", flat=True
        )
    )
    rows = [
        CustomFieldValue(member=member, field=custom, value=value[:500])
        for custom in fields
        if custom.pk not in filled
        for value in application.answers.get(str(custom.pk), [])
    ]
    CustomFieldValue.objects.bulk_create(rows, ignore_conflicts=True)


@transaction.atomic
def applications_decide(
    *, program: Program, ids: Iterable[int], accept: bool, by: Member | None
) -> Decision:
    """Accept or refuse confirmed applications, each applicant told in their language.
    An accepted one becomes a member (or joins the existing member of that address)
    enrolled with the role asked for. Applications not awaiting a decision are skipped."""
    decision = Decision()
    now = timezone.now()
    rows = (
        Application.objects.select_for_update()
        .filter(program=program, pk__in=list(ids), status=ApplicationStatus.PENDING)
        .select_related("program__organisation")
        .order_by("pk")
    )
    for application in rows:
        if accept:
            try:
                with transaction.atomic():
                    enrolment, _created = enrolment_add(
                        program=program,
                        by=by,
                        email=application.email,
                        first_name=application.first_name,
                        last_name=application.last_name,
                        role=application.role,
                        language=application.language,
                    )
            except ValidationError:
                decision.refused_address.append(application)
                continue
            application.member = enrolment.member
            application.status = ApplicationStatus.ACCEPTED
            _answers_keep(application, enrolment.member)
            decision.accepted.append(application)
        else:
            application.status = ApplicationStatus.REFUSED
            decision.refused.append(application)
        application.decided_at, application.decided_by = now, by
        application.save(
            update_fields=["member", "status", "decided_at", "decided_by", "updated_at"]
        )
        log_action(
            "application.accepted" if accept else "application.refused",
            actor=by,
            target=application,
            organisation_id=program.organisation_id,
            data={"role": application.role, "email": application.email},
        )
        _send_decision(application, accepted=accept)
    return decision
