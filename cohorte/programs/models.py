import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cohorte.core.models import TimeStampedModel
from cohorte.core.parse import (
    EARLIEST_DATE,
    LATEST_DATE,
    ParseError,
    parse_timezone,
    zone_or_default,
)
from cohorte.programs.branding import (
    DEFAULT_PRIMARY,
    DEFAULT_SECONDARY,
    FONT_CHOICES,
    brand_image_path,
    validate_hex_colour,
)

#: the bounds a form or the API accepts for a programme's dates (2000–2100)
DATE_VALIDATORS = [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]
MAX_OBJECTIVE = 1000
MAX_UNANSWERED_DAYS = 365
UTC_ZONE = zoneinfo.ZoneInfo("UTC")


def validate_timezone(value: str) -> None:
    """An IANA name zoneinfo knows, nothing else (« ../../etc/passwd » is a path to it)."""
    try:
        parse_timezone(value)
    except ParseError as error:
        raise ValidationError(error.message, code="timezone") from error


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Organisation(TimeStampedModel):
    name = models.CharField(_("nom"), max_length=200)
    timezone = models.CharField(
        _("fuseau horaire"), max_length=64, default="Europe/Paris", validators=[validate_timezone]
    )

    class Meta:
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        """The organisation's time zone; a name stored before it was checked reads as UTC
        rather than breaking every page that shows a time."""
        zone = zone_or_default(self.timezone, UTC_ZONE)
        return zone if isinstance(zone, zoneinfo.ZoneInfo) else UTC_ZONE

    def admin_email(self) -> str:
        admin = self.members.filter(is_org_admin=True, is_active=True).order_by("pk").first()
        return admin.email if admin else settings.DEFAULT_FROM_EMAIL


class Group(TimeStampedModel):
    """A folder of programmes in the sidebar; groups nest to any depth."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="groups")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("groupe parent"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    name = models.CharField(_("nom"), max_length=200)

    class Meta:
        verbose_name = _("groupe")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def ancestor_ids(self) -> list[int]:
        ids: list[int] = []
        node: Group | None = self
        while node is not None:
            ids.append(node.pk)
            node = node.parent
        return ids


def default_meeting_types() -> list[str]:
    return ["video", "in_person", "phone"]


class ProgramKind(models.TextChoices):
    ACCOMPANIMENT = "accompaniment", _("Accompagnement")
    MENTORING = "mentoring", _("Mentorat")
    TRAINING = "training", _("Formation")
    INTERVIEW_CAMPAIGN = "interview_campaign", _("Campagne d'entretiens")


class ProgramStatus(models.TextChoices):
    PREPARING = "preparing", _("En préparation")
    RUNNING = "running", _("En cours")
    FINISHED = "finished", pgettext_lazy("programme", "Terminé")


class Program(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="programs"
    )
    group = models.ForeignKey(
        Group,
        verbose_name=_("groupe"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="programs",
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=32, choices=ProgramKind.choices)
    start_date = models.DateField(_("date de début"), validators=DATE_VALIDATORS)
    end_date = models.DateField(_("date de fin"), validators=DATE_VALIDATORS)
    objective = models.PositiveIntegerField(
        _("objectif"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_OBJECTIVE)],
        help_text=_("Nombre de rendez-vous confirmés attendus par participant."),
    )
    description = models.TextField(_("description"), blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsables"),
        blank=True,
        related_name="managed_programs",
    )
    #: the meeting types members of this programme may book (« Paramètres de type de réunion »)
    meeting_types = models.JSONField(default=default_meeting_types, blank=True)
    unanswered_after_days = models.PositiveIntegerField(
        _("conversation non suivie après (jours)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_UNANSWERED_DAYS)],
    )
    # --- Info and brand (« Onglet Programme »): see programs/branding.py ---
    slogan_fr = models.CharField(_("slogan (français)"), max_length=200, blank=True)
    slogan_en = models.CharField(_("slogan (anglais)"), max_length=200, blank=True)
    #: rich text, stored sanitised (programs.branding / messaging.rendering.sanitise) and
    #: sanitised again when shown
    about_fr = models.TextField(_("à propos (français)"), blank=True)
    about_en = models.TextField(_("à propos (anglais)"), blank=True)
    color_primary = models.CharField(
        _("couleur principale"),
        max_length=7,
        default=DEFAULT_PRIMARY,
        validators=[validate_hex_colour],
    )
    color_secondary = models.CharField(
        _("couleur secondaire"),
        max_length=7,
        default=DEFAULT_SECONDARY,
        validators=[validate_hex_colour],
    )
    font = models.CharField(_("police"), max_length=20, choices=FONT_CHOICES, default="system")
    logo = models.ImageField(_("logo"), upload_to=brand_image_path, blank=True, max_length=200)
    header_logo = models.ImageField(
        _("logo d'en-tête"), upload_to=brand_image_path, blank=True, max_length=200
    )
    footer_logo = models.ImageField(
        _("logo de pied de page"), upload_to=brand_image_path, blank=True, max_length=200
    )
    image = models.ImageField(
        _("image du programme"), upload_to=brand_image_path, blank=True, max_length=200
    )
    default_avatar = models.ImageField(
        _("image de profil par défaut"), upload_to=brand_image_path, blank=True, max_length=200
    )
    #: the public site (« Afficher le site Web ») and the brand files are public once true
    site_published = models.BooleanField(_("site public publié"), default=False)

    class Meta:
        verbose_name = _("programme")
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="program_dates_in_order"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def brand_file_url(self, which: str) -> str:
        """The brand image `which` (programs.branding.BRAND_FILES) through its view, or "";
        the stored name makes each new file a new address, so browsers may keep one."""
        file = getattr(self, which)
        if not file:
            return ""
        from django.urls import reverse

        version = (file.name or "").rsplit("/", 1)[-1].partition(".")[0][:12]
        return f"{reverse('programs:brand-file', args=[self.pk, which])}?v={version}"

    @property
    def logo_url(self) -> str:
        return self.brand_file_url("logo")

    @property
    def slogan(self) -> str:
        """The slogan in the current language (templates)."""
        from django.utils.translation import get_language

        return self.slogan_in(get_language() or "fr")

    @property
    def about(self) -> str:
        """« À propos » in the current language, sanitised and marked safe (templates)."""
        from django.utils.safestring import mark_safe
        from django.utils.translation import get_language

        return mark_safe(self.about_in(get_language() or "fr"))  # noqa: S308 (sanitised)

    def slogan_in(self, language: str) -> str:
        """The slogan in `language` (fr/en), the other one when it is empty."""
        first, other = (
            (self.slogan_en, self.slogan_fr)
            if language == "en"
            else (
                self.slogan_fr,
                self.slogan_en,
            )
        )
        return first or other

    def about_in(self, language: str) -> str:
        """« À propos » in `language` (the other one when empty), sanitised as it is shown:
        safe to mark safe whatever was stored."""
        from cohorte.messaging.rendering import sanitise

        first, other = (
            (self.about_en, self.about_fr)
            if language == "en"
            else (
                self.about_fr,
                self.about_en,
            )
        )
        return sanitise(first or other)

    def brand_style(self) -> str:
        """The brand as CSS custom properties, for a style attribute on a wrapper (the
        values are validated hex colours and a fixed font stack: nothing from the user is
        written here unchecked)."""
        from cohorte.programs.branding import brand_tokens

        return "; ".join(f"{name}: {value}" for name, value in brand_tokens(self).items())

    def status_on(self, day: dt.date) -> str:
        if day < self.start_date:
            return ProgramStatus.PREPARING
        if day > self.end_date:
            return ProgramStatus.FINISHED
        return ProgramStatus.RUNNING

    @property
    def status(self) -> str:
        return self.status_on(timezone.now().astimezone(self.organisation.tzinfo).date())

    def get_status_display(self) -> str:
        return str(ProgramStatus(self.status).label)

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) of the programme: the whole end day, in the organisation's time zone.
        Dates stored out of bounds (before the forms checked them) are read within them, so
        the date arithmetic and the database never see year 1 or 10000."""
        tz = self.organisation.tzinfo
        first, last = _within_bounds(self.start_date), _within_bounds(self.end_date)
        start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        return start, end


class ProgramPartnerLogo(TimeStampedModel):
    """A partner's logo on the programme's site and pages, in the order of `position`."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="partner_logos")
    image = models.ImageField(_("logo"), upload_to=brand_image_path, max_length=200)
    name = models.CharField(_("nom du partenaire"), max_length=200)
    url = models.URLField(_("site du partenaire"), blank=True, max_length=500)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("logo de partenaire")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def file_url(self) -> str:
        from django.urls import reverse

        version = (self.image.name or "").rsplit("/", 1)[-1].partition(".")[0][:12]
        return f"{reverse('programs:partner-logo', args=[self.program_id, self.pk])}?v={version}"


def _within_bounds(day: dt.date) -> dt.date:
    return min(max(day, EARLIEST_DATE), LATEST_DATE)


class Role(models.TextChoices):
    PARTICIPANT = "participant", _("Participant")
    MENTEE = "mentee", _("Mentoré")
    COLLABORATOR = "collaborator", _("Collaborateur")
    MENTOR = "mentor", _("Mentor")
    PROFESSIONAL = "professional", _("Professionnel")
    MANAGER = "manager", _("Manager")


#: The roles whose activity the participants' table follows.
PARTICIPANT_ROLES = (Role.PARTICIPANT, Role.MENTEE, Role.COLLABORATOR)


class Enrolment(TimeStampedModel):
    """A member's place in a programme. Removing someone ends it; nothing is deleted."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="enrolments")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    ended_at = models.DateTimeField(_("fin de participation"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inscription")
        constraints = [
            models.UniqueConstraint(fields=["program", "member"], name="one_enrolment_per_member")
        ]
        indexes = [models.Index(fields=["program", "role", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.member} — {self.program}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class CohortKind(models.TextChoices):
    COHORT = "cohort", _("Cohorte")
    TAG = "tag", _("Étiquette")


class Cohort(TimeStampedModel):
    """A custom grouping of members (« Cohortes et tags »), made ahead of time or later."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="cohorts")
    name = models.CharField(_("nom"), max_length=100)
    kind = models.CharField(
        _("type"), max_length=8, choices=CohortKind.choices, default=CohortKind.COHORT
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="cohorts")

    class Meta:
        verbose_name = _("cohorte ou étiquette")
        ordering = ["kind", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "kind", "name"], name="cohort_name_once_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.name
