"""« Rejoindre le programme »: the programme's public sign-up settings and the applications
people send from its public site (double opt-in, then the manager's approval or not)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cohorte.accounts.models import Language
from cohorte.core.models import TimeStampedModel
from cohorte.programs.models import Program, Role

#: the roles a person may ask for on a public site (never manager or collaborator)
SIGNUP_ROLES = (Role.PARTICIPANT, Role.MENTOR, Role.MENTEE, Role.PROFESSIONAL)


def default_signup_roles() -> list[str]:
    return [Role.PARTICIPANT.value]


class SignupSettings(TimeStampedModel):
    """One per programme, made the first time its manager saves them."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="signup")
    open = models.BooleanField(
        _("inscriptions ouvertes"),
        default=True,
        help_text=_("Le site public propose « Rejoindre le programme »."),
    )
    roles = models.JSONField(_("rôles acceptés"), default=default_signup_roles)
    approval_required = models.BooleanField(
        _("validation par un responsable"),
        default=True,
        help_text=_(
            "Coché : chaque candidature confirmée attend votre accord. "
            "Décoché : la personne est inscrite dès qu'elle confirme son courriel."
        ),
    )

    class Meta:
        verbose_name = _("réglages des inscriptions")

    def __str__(self) -> str:
        return str(self.program)


class ApplicationStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Courriel à confirmer")
    PENDING = "pending", _("En attente")
    ACCEPTED = "accepted", _("Acceptée")
    REFUSED = "refused", _("Refusée")


class Application(TimeStampedModel):
    """One person's request to join one programme: one row per address and programme,
    whatever the number of times the form is sent."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="applications")
    email = models.EmailField(_("courriel"))
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(pgettext_lazy("family name", "nom"), max_length=150)
    language = models.CharField(
        _("langue"), max_length=2, choices=Language.choices, default=Language.FR
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    #: the custom fields' answers: {"<field id>": ["value", …]}
    answers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("statut"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.UNCONFIRMED,
    )
    confirmed_at = models.DateTimeField(_("courriel confirmé le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="applications",
    )

    class Meta:
        verbose_name = _("candidature")
        constraints = [
            models.UniqueConstraint(fields=["program", "email"], name="one_application_per_email")
        ]
        indexes = [
            models.Index(fields=["program", "status", "-created_at"], name="application_list_idx")
        ]

    def __str__(self) -> str:
        return f"{self.full_name} — {self.program}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email
