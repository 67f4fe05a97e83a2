from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Language(models.TextChoices):
    FR = "fr", "Français"
    EN = "en", "English"


class MemberRole(models.TextChoices):
    """The member's side in mentoring relationships (« Rôle Relation »)."""

    MENTOR = "mentor", _("Mentor")
    MENTEE = "mentee", _("Mentoré")
    BOTH = "both", _("Mentor et mentoré")


def member_photo_path(instance: "Member", filename: str) -> str:
    """A random name: a photo is served by its member's page, to the same organisation."""
    from cohorte.core.files import random_name

    return random_name("photos", filename)


class MemberManager(BaseUserManager["Member"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """E-mails are matched without regard to case or surrounding spaces."""
        return (email or "").strip().lower()

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "Member":
        member = self.model(email=self.normalize_email(email), **fields)
        member.set_password(password)
        member.save(using=self._db)
        return member

    def create_superuser(self, email: str, password: str | None = None, **fields: object):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class Member(AbstractBaseUser, PermissionsMixin):
    """A person with an account in one organisation; signs in with their e-mail."""

    email = models.EmailField(_("courriel"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(pgettext_lazy("family name", "nom"), max_length=150, blank=True)
    organisation = models.ForeignKey(
        "programs.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="members",
    )
    is_org_admin = models.BooleanField(_("administrateur de l'organisation"), default=False)
    language = models.CharField(
        _("langue"), max_length=2, choices=Language.choices, default=Language.FR
    )
    photo = models.ImageField(_("photo"), upload_to=member_photo_path, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(_("membre depuis"), default=timezone.now)
    last_access = models.DateTimeField(_("dernier accès"), null=True, blank=True)
    #: presence when no Redis is configured: the last request, written at most every 30 s
    last_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    role = models.CharField(_("rôle"), max_length=8, choices=MemberRole.choices, blank=True)
    administrator = models.ForeignKey(
        "self",
        verbose_name=_("administrateur des membres"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="administered",
    )
    #: « Date de fin »: when the account was last switched off
    deactivated_at = models.DateTimeField(_("date de fin"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archivé le"), null=True, blank=True)

    # The profile (core fields); the organisation adds its own custom fields.
    timezone = models.CharField(_("fuseau horaire"), max_length=64, blank=True)
    job_title = models.CharField(_("intitulé du poste"), max_length=200, blank=True)
    company = models.CharField(_("entreprise"), max_length=200, blank=True)
    industry = models.CharField(_("secteur"), max_length=200, blank=True)
    years_experience = models.PositiveSmallIntegerField(
        _("années d'expérience"), null=True, blank=True
    )
    country = models.CharField(_("pays"), max_length=100, blank=True)
    province = models.CharField(_("état/province"), max_length=100, blank=True)
    city = models.CharField(_("ville"), max_length=100, blank=True)
    #: the hire date: when the « entretien professionnel » is due (campaigns.legal)
    hired_on = models.DateField(_("date d'embauche"), null=True, blank=True)
    goals = models.TextField(_("objectifs"), blank=True)
    skills = models.TextField(_("compétences spécialisées"), blank=True)
    development_areas = models.TextField(_("domaines de développement"), blank=True)
    linkedin = models.URLField(_("LinkedIn"), blank=True)

    # Kept up to date by services so that the members list sorts and filters in the database.
    profile_completion = models.PositiveSmallIntegerField(_("achèvement du profil"), default=0)
    relationships_count = models.PositiveIntegerField(_("relations en cours"), default=0)
    matches_count = models.PositiveIntegerField(_("jumelages"), default=0)
    mentoring_minutes = models.PositiveIntegerField(_("heures de mentorat"), default=0)
    max_mentees = models.PositiveSmallIntegerField(_("quantité maximale de mentorés"), default=3)
    max_mentors = models.PositiveSmallIntegerField(_("quantité maximale de mentors"), default=1)

    objects = MemberManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("membre")
        verbose_name_plural = _("membres")
        indexes = [
            # the members list's sorts, each ending with the id it breaks ties with: the
            # first page of any sort, either way, reads 25 index entries, not 100,000 rows
            *[
                models.Index(fields=["organisation", *columns, "id"], name=f"member_sort_{key}_idx")
                for key, columns in {
                    "name": ["last_name", "first_name"],
                    "email": ["email"],
                    "completion": ["profile_completion"],
                    "access": ["last_access"],
                    "relations": ["relationships_count"],
                    "matches": ["matches_count"],
                    "role": ["role"],
                    "minutes": ["mentoring_minutes"],
                    "joined": ["date_joined"],
                    "end": ["deactivated_at"],
                    "active": ["is_active"],
                }.items()
            ],
            models.Index(fields=["organisation", "industry"]),
            models.Index(fields=["organisation", "job_title"]),
            models.Index(fields=["organisation", "archived_at"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def photo_url(self) -> str:
        """The photo through its view (never MEDIA_URL); the stored name makes each new
        photo a new address, so browsers may keep one."""
        if not self.photo:
            return ""
        from django.urls import reverse

        version = (self.photo.name or "").rsplit("/", 1)[-1].partition(".")[0][:12]
        return f"{reverse('members:photo', args=[self.pk])}?v={version}"

    @property
    def initials(self) -> str:
        letters = (self.first_name[:1] + self.last_name[:1]) or self.email[:1]
        return letters.upper()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def mentoring_hours(self) -> str:
        """« 01:30 », as the members list shows it."""
        return f"{self.mentoring_minutes // 60:02d}:{self.mentoring_minutes % 60:02d}"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name or self.email


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its SHA-256 is kept, and the first characters
    of the key so that people can tell their tokens apart. A token works while it is neither
    revoked nor expired and its member is active and not archived."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    #: the first characters of the key, shown on the tokens page and given to revoke_token
    key_prefix = models.CharField(_("début du jeton"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        indexes = [models.Index(fields=["member", "revoked_at"])]

    def __str__(self) -> str:
        return f"token {self.key_prefix or self.key_hash[:8]}… ({self.member})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class FieldRole(models.TextChoices):
    """Whom a profile field applies to."""

    ANY = "any", _("Tous les rôles")
    MENTOR = "mentor", _("Mentor")
    MENTEE = "mentee", _("Mentoré")
    BOTH = "both", _("Mentor et mentoré")


class CustomField(models.Model):
    """A profile field an organisation adds (« Gérer les champs personnalisés »)."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="custom_fields"
    )
    name_fr = models.CharField(_("nom (français)"), max_length=100)
    name_en = models.CharField(_("nom (anglais)"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    options = models.TextField(
        _("options"),
        blank=True,
        help_text=_("Séparez les options par des virgules ; laissez vide pour du texte libre."),
    )
    hint = models.CharField(_("conseil"), max_length=300, blank=True)
    role = models.CharField(_("rôle"), max_length=8, choices=FieldRole.choices, default="any")
    required = models.BooleanField(_("champ obligatoire"), default=False)
    searchable = models.BooleanField(_("apparaître dans la recherche"), default=False)
    admin_only = models.BooleanField(_("administrateur seulement"), default=False)
    multiple = models.BooleanField(_("choix multiple"), default=False)
    order = models.PositiveSmallIntegerField(_("ordre"), default=0)
    in_profile = models.BooleanField(_("dans le profil"), default=True)
    in_reports = models.BooleanField(_("dans les rapports"), default=True)
    match_weight = models.PositiveSmallIntegerField(
        _("poids pour les suggestions de jumelage"),
        default=0,
        help_text=_(
            "0 : ce champ ne compte pas ; sinon, points par réponse commune "
            "au mentor et au mentoré."
        ),
    )

    class Meta:
        verbose_name = _("champ personnalisé")
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        from django.utils.translation import get_language

        if get_language() == "en" and self.name_en:
            return self.name_en
        return self.name_fr

    @property
    def choices(self) -> list[str]:
        return [option.strip() for option in self.options.split(",") if option.strip()]

    def applies_to(self, role: str) -> bool:
        if self.role == FieldRole.ANY:
            return True
        if self.role == FieldRole.BOTH:
            return role in (MemberRole.MENTOR, MemberRole.MENTEE, MemberRole.BOTH)
        return role in (self.role, MemberRole.BOTH)


class CustomFieldValue(models.Model):
    """One answer; a multiple-choice field has one row per option chosen."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="field_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(max_length=500)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "field", "value"], name="one_value_once")
        ]
        indexes = [
            # the members list's « champ personnalisé + option » filter: the members who gave
            # this answer, read from the index alone (no table visit for 15,000 answers)
            models.Index(fields=["field", "value", "member"], name="custom_value_members_idx")
        ]

    def __str__(self) -> str:
        return self.value


class SavedMemberFilter(models.Model):
    """« Recherches récentes »: a named set of members-list filters, shared by the admins."""

    organisation = models.ForeignKey(
        "programs.Organisation", on_delete=models.CASCADE, related_name="saved_filters"
    )
    name = models.CharField(_("nom"), max_length=100)
    query = models.TextField()
    created_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name
