import datetime as dt
import hashlib
import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxLengthValidator, MaxValueValidator
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cohorte.core.parse import ParseError, check_date
from cohorte.core.ratelimit import over_limit
from cohorte.core.widgets import SearchableSelect, SearchableSelectMultiple

from . import photos
from .models import CustomField, Language, Member, MemberRole
from .signals import members_invited

#: the last page number a list accepts (beyond, the request is a mistake or a probe)
MAX_PAGE = 100_000


def deactivated_message(member: Member) -> str:
    """What a deactivated or archived member reads at sign-in, in the language of the page
    they are reading (the rest of the page is in it): archived is said as such."""
    admin_email = member.organisation.admin_email() if member.organisation else ""
    values = {"email": admin_email or settings.DEFAULT_FROM_EMAIL}
    if member.archived_at is not None:
        return (
            _(
                "Votre compte a été archivé. Veuillez envoyer un courriel à %(email)s "
                "pour le réactiver."
            )
            % values
        )
    return (
        _(
            "Votre compte a été désactivé. Veuillez envoyer un courriel à %(email)s "
            "pour réactiver votre compte."
        )
        % values
    )


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=gettext_lazy("Courriel"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": gettext_lazy("Courriel ou mot de passe incorrect."),
        "inactive": gettext_lazy("Ce compte est inactif."),
        "throttled": gettext_lazy(
            "Trop de tentatives de connexion. Réessayez dans quelques minutes."
        ),
    }

    def _throttle_key(self, email: str) -> str:
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        digest = hashlib.sha256(f"{email}|{ip}".encode()).hexdigest()
        return f"login-failures:{digest}"

    def clean(self):
        email = Member.objects.normalize_email(self.cleaned_data.get("username"))
        password = self.cleaned_data.get("password")
        if not email or not password:
            return self.cleaned_data
        key = self._throttle_key(email)
        if (cache.get(key) or 0) >= settings.COHORTE_LOGIN_ATTEMPTS:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        self.user_cache = authenticate(self.request, username=email, password=password)
        if self.user_cache is None:
            member = Member.objects.filter(email=email).select_related("organisation").first()
            if (
                member is not None
                and (not member.is_active or member.archived_at is not None)
                and member.check_password(password)
            ):
                raise forms.ValidationError(deactivated_message(member), code="inactive")
            cache.add(key, 0, timeout=settings.COHORTE_LOGIN_WINDOW_SECONDS)
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=settings.COHORTE_LOGIN_WINDOW_SECONDS)
            raise self.get_invalid_login_error()
        cache.delete(key)
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
    next = forms.CharField(required=False)


_over_limit = over_limit  # the shared counter (cohorte.core.ratelimit)


def reset_throttled(request, email: str) -> bool:
    """Password reset requests, counted per address and per IP through the shared cache
    (as sign-in failures are): beyond the limits nothing is sent, and nothing says so."""
    window = getattr(settings, "COHORTE_RESET_WINDOW_SECONDS", 900)
    ip = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    by_address = hashlib.sha256(email.encode()).hexdigest()
    by_ip = hashlib.sha256(ip.encode()).hexdigest()
    over_address = _over_limit(
        f"reset-address:{by_address}", getattr(settings, "COHORTE_RESET_PER_ADDRESS", 3), window
    )
    over_ip = _over_limit(
        f"reset-ip:{by_ip}", getattr(settings, "COHORTE_RESET_PER_IP", 20), window
    )
    return over_address or over_ip


class MemberPasswordResetForm(PasswordResetForm):
    """« Mot de passe oublié »: the same answer whatever happens (no account enumeration).
    A member with a password gets the reset link, in their own language; a member who never
    chose one (imported, added to a programme) gets the set-password invitation instead;
    archived and deactivated members nothing; requests are throttled per address and IP."""

    def get_users(self, email):
        return (
            member
            for member in super().get_users(email)
            if member.archived_at is None  # type: ignore[attr-defined]
        )

    def save(self, request=None, **kwargs) -> None:  # type: ignore[override]
        email = Member.objects.normalize_email(self.cleaned_data["email"])
        if reset_throttled(request, email):
            return
        super().save(request=request, **kwargs)
        never_set = Member.objects.filter(
            email=email,
            is_active=True,
            archived_at__isnull=True,
            organisation__isnull=False,
            password__startswith=UNUSABLE_PASSWORD_PREFIX,
        )
        for member in never_set:
            members_invited.send(
                sender=Member, organisation_id=member.organisation_id, member_ids=[member.pk]
            )

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(context["user"].language):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class MemberFilterForm(forms.Form):
    """The members list's state, read from the URL (and kept by a saved filter)."""

    q = forms.CharField(required=False, max_length=200)
    role = forms.ChoiceField(
        label=gettext_lazy("Sélectionner un rôle"),
        required=False,
        choices=[
            ("", gettext_lazy("Pour tous")),
            *MemberRole.choices,
            ("none", gettext_lazy("Sans rôle")),
        ],
    )
    custom_field = forms.TypedChoiceField(
        label=gettext_lazy("Champ personnalisé"), required=False, coerce=int, empty_value=None
    )
    option = forms.CharField(label=gettext_lazy("Options"), required=False, max_length=500)
    industries = forms.MultipleChoiceField(
        label=gettext_lazy("Secteurs"),
        required=False,
        widget=SearchableSelectMultiple(placeholder=gettext_lazy("Tapez pour chercher…")),
    )
    job_titles = forms.MultipleChoiceField(
        label=gettext_lazy("Fonctions exercées"),
        required=False,
        widget=SearchableSelectMultiple(placeholder=gettext_lazy("Tapez pour chercher…")),
    )
    completion_below = forms.IntegerField(
        label=gettext_lazy("Complétude du profil inférieure à (%)"),
        required=False,
        min_value=1,
        max_value=101,
    )
    created_after = forms.DateField(
        label=gettext_lazy("Créé au-delà du"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    current_positions = forms.BooleanField(
        label=gettext_lazy("Postes actuels uniquement"), required=False
    )
    active = forms.ChoiceField(
        label=gettext_lazy("Compte activé"),
        required=False,
        choices=[
            ("", gettext_lazy("Veuillez sélectionner")),
            ("yes", gettext_lazy("Oui")),
            ("no", gettext_lazy("Non")),
        ],
    )
    recent = forms.ChoiceField(
        label=gettext_lazy("Activité récente"),
        required=False,
        choices=[
            ("", gettext_lazy("Veuillez sélectionner")),
            ("7", gettext_lazy("7 derniers jours")),
            ("30", gettext_lazy("30 derniers jours")),
            ("90", gettext_lazy("90 derniers jours")),
            ("never", gettext_lazy("Jamais")),
        ],
    )
    relationship = forms.ChoiceField(
        label=gettext_lazy("Relation"),
        required=False,
        choices=[
            ("", gettext_lazy("Veuillez sélectionner")),
            ("matched", gettext_lazy("Jumelé")),
            ("unmatched", gettext_lazy("Non jumelé")),
        ],
    )
    cohort = forms.TypedChoiceField(
        label=gettext_lazy("Cohorte ou étiquette"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=SearchableSelect,
    )
    program = forms.TypedChoiceField(
        label=gettext_lazy("Programme"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=SearchableSelect,
    )
    archived = forms.BooleanField(label=gettext_lazy("Afficher les archivés"), required=False)
    sort = forms.CharField(label=gettext_lazy("Tri"), required=False)
    order = forms.ChoiceField(
        label=gettext_lazy("Ordre"), choices=[("asc", "asc"), ("desc", "desc")], required=False
    )
    page = forms.IntegerField(
        label=gettext_lazy("Page"), required=False, min_value=1, max_value=MAX_PAGE
    )
    size = forms.TypedChoiceField(
        label=gettext_lazy("Lignes par page"),
        choices=[(25, 25), (50, 50), (100, 100)],
        coerce=int,
        required=False,
        empty_value=None,
    )

    #: the fields a saved filter keeps (not the page)
    SAVED = (
        "q", "role", "custom_field", "option", "industries", "job_titles", "completion_below",
        "created_after", "current_positions", "active", "recent", "relationship", "cohort",
        "program", "archived", "sort", "order",
    )  # fmt: skip

    def __init__(
        self,
        *args,
        custom_fields=(),
        industries=(),
        job_titles=(),
        cohorts=(),
        programs=(),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        blank = [("", gettext_lazy("Veuillez sélectionner"))]
        self.fields["custom_field"].choices = blank + [(f.pk, f.name) for f in custom_fields]
        self.fields["industries"].choices = [(value, value) for value in industries]
        self.fields["job_titles"].choices = [(value, value) for value in job_titles]
        self.fields["cohort"].choices = blank + [(c.pk, c.name) for c in cohorts]
        self.fields["program"].choices = [("", gettext_lazy("Tous les programmes"))] + [
            (p.pk, p.name) for p in programs
        ]
        for name in ("role", "program"):  # a choice in these lists applies at once
            self.fields[name].widget.attrs["data-autosubmit"] = ""

    def clean_created_after(self):
        day = self.cleaned_data.get("created_after")
        if day is not None:
            try:
                check_date(day)
            except ParseError as error:
                raise forms.ValidationError(error.message) from error
        return day


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom"), max_length=100)


class CustomFieldForm(forms.ModelForm):
    class Meta:
        model = CustomField
        fields = [
            "name_fr", "name_en", "description", "options", "hint", "role", "required",
            "searchable", "admin_only", "multiple", "order", "in_profile", "in_reports",
            "match_weight",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options"].widget.attrs["rows"] = 2
        self.fields["match_weight"].required = False

    def clean_match_weight(self) -> int:
        return self.cleaned_data.get("match_weight") or 0

    def clean_options(self):
        options = [option.strip() for option in self.cleaned_data["options"].split(",")]
        return ", ".join(option for option in options if option)


PHOTO_MAX_BYTES = photos.PHOTO_MAX_BYTES
#: the longest free text of a profile (the API has the same bound)
PROFILE_TEXT_MAX = 5000


class _CurrentPhoto:
    """What the file input shows of the current photo: a link to its view, not its name."""

    def __init__(self, url: str):
        self.url = url

    def __str__(self) -> str:
        return _("photo actuelle")


class PhotoInput(forms.ClearableFileInput):
    def __init__(self, *args, photo_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.photo_url = photo_url

    def format_value(self, value):
        return _CurrentPhoto(self.photo_url) if self.is_initial(value) else None


class ProfileForm(forms.ModelForm):
    """A member's own profile (or an administrator editing it)."""

    class Meta:
        model = Member
        fields = [
            "first_name", "last_name", "photo", "timezone", "language", "role", "job_title",
            "company", "industry", "years_experience", "country", "province", "city", "goals",
            "skills", "development_areas", "linkedin",
        ]  # fmt: skip
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 3}),
            "skills": forms.Textarea(attrs={"rows": 2}),
            "development_areas": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, custom_fields=(), custom_values=None, is_admin=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"] = forms.ChoiceField(
            label=gettext_lazy("Fuseau horaire"),
            required=False,
            choices=[("", "—")] + [(name, name) for name in sorted(zoneinfo.available_timezones())],
        )
        self.fields["years_experience"].widget.attrs["max"] = 80
        self.fields["years_experience"].validators.append(MaxValueValidator(80))
        for name in ("goals", "skills", "development_areas"):
            self.fields[name].max_length = PROFILE_TEXT_MAX
            self.fields[name].validators.append(MaxLengthValidator(PROFILE_TEXT_MAX))
            self.fields[name].widget.attrs["maxlength"] = PROFILE_TEXT_MAX
        # a plain file field: the picture is checked and decoded once, by photos.py, with
        # its own reasons (too heavy, too many pixels, not an image)
        self.fields["photo"] = forms.FileField(
            label=self.fields["photo"].label,
            required=False,
            widget=PhotoInput(photo_url=self.instance.photo_url, attrs={"accept": "image/*"}),
            help_text=_("JPEG, PNG, WebP ou GIF, %(mb)d Mo au plus : recadrée en carré.")
            % {"mb": PHOTO_MAX_BYTES // (1024 * 1024)},
        )
        if is_admin and self.instance.organisation_id:
            # « Administrateur des membres »: who follows this member (an administrator or
            # a programme manager of the organisation)
            self.fields["administrator"] = forms.ModelChoiceField(
                label=gettext_lazy("Administrateur des membres"),
                required=False,
                initial=self.instance.administrator_id,
                queryset=Member.objects.filter(organisation_id=self.instance.organisation_id)
                .filter(Q(is_org_admin=True) | Q(managed_programs__isnull=False))
                .distinct()
                .order_by("last_name", "first_name"),
            )
            # the hire date: when the « entretien professionnel » is due (campaigns.legal)
            self.fields["hired_on"] = forms.DateField(
                label=gettext_lazy("Date d'embauche"),
                required=False,
                initial=self.instance.hired_on,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                help_text=gettext_lazy(
                    "Pour proposer les entretiens professionnels dus (Entretiens › nouvelle "
                    "campagne)."
                ),
            )
        self.custom_fields = [
            f for f in custom_fields if f.in_profile and (is_admin or not f.admin_only)
        ]
        custom_values = custom_values or {}
        for field in self.custom_fields:
            name = f"custom_{field.pk}"
            initial = custom_values.get(field.pk, [])
            if field.choices and field.multiple:
                self.fields[name] = forms.MultipleChoiceField(
                    choices=[(c, c) for c in field.choices],
                    widget=forms.CheckboxSelectMultiple,
                    initial=initial,
                )
            elif field.choices:
                self.fields[name] = forms.ChoiceField(
                    choices=[("", "—")] + [(c, c) for c in field.choices],
                    initial=initial[0] if initial else "",
                )
            else:
                self.fields[name] = forms.CharField(
                    max_length=500, initial=initial[0] if initial else ""
                )
            self.fields[name].label = field.name
            self.fields[name].required = field.required and field.applies_to(self.instance.role)
            self.fields[name].help_text = field.hint or field.description

    def clean_hired_on(self):
        value = self.cleaned_data.get("hired_on")
        if value is not None:
            try:  # a career can have started last century; a hire is not years ahead
                check_date(
                    value,
                    earliest=dt.date(1950, 1, 1),
                    latest=timezone.localdate() + dt.timedelta(days=366),
                )
            except ParseError as error:
                raise forms.ValidationError(error.message) from error
        return value

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):  # a new one (not the current one, not « clear »)
            return photos.photo_normalise(photo)
        return photo

    def custom_data(self) -> dict:
        data = {}
        for field in self.custom_fields:
            value = self.cleaned_data.get(f"custom_{field.pk}")
            values = value if isinstance(value, list) else ([value] if value else [])
            data[field] = [v for v in values if v]
        return data
