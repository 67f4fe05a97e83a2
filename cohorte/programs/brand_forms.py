"""The Programme tab's forms: Info (slogans and « à propos » in both languages, beside the
programme's own settings of ProgramForm) and Design (colours, font, images), and a partner
logo. Kept apart from forms.py so each grows on its own."""

import math

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from cohorte.messaging.rendering import sanitise

from . import branding
from .models import Program

ABOUT_MAX = 20_000


class ProgramInfoForm(forms.ModelForm):
    """Slogan and « à propos » in French and in English; the text is sanitised here and
    again when shown (Program.about_in)."""

    class Meta:
        model = Program
        fields = ["slogan_fr", "slogan_en", "about_fr", "about_en"]
        widgets = {
            "about_fr": forms.Textarea(attrs={"rows": 6}),
            "about_en": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("about_fr", "about_en"):
            self.fields[name].max_length = ABOUT_MAX
            self.fields[name].help_text = _("Visible sur le site du programme.")

    def _about(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        if len(value) > ABOUT_MAX:
            raise forms.ValidationError(_("Le texte est trop long (20 000 caractères au plus)."))
        return sanitise(value)

    def clean_about_fr(self) -> str:
        return self._about("about_fr")

    def clean_about_en(self) -> str:
        return self._about("about_en")


class ColourInput(forms.TextInput):
    input_type = "color"


def _ratio(value: float) -> str:
    """One decimal, rounded down: 4.49:1 must not read « 4,5:1 » and look accepted."""
    return number_format(math.floor(value * 10) / 10, 1)


class ProgramDesignForm(forms.ModelForm):
    """Colours, font and images. Each colour is refused under 4.5:1 against the white it
    is used with (buttons and headers in white letters, links and titles on white)."""

    class Meta:
        model = Program
        fields = ["color_primary", "color_secondary", "font", *branding.BRAND_FILES]
        widgets = {"color_primary": ColourInput, "color_secondary": ColourInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        help_texts = {
            "logo": _("Affiché en tête des pages, des courriels et des PDF du programme."),
            "header_logo": _("Remplace le logo dans l'en-tête du site public."),
            "footer_logo": _("Affiché en pied de page du site public et des courriels."),
            "image": _("Grande image du site public."),
            "default_avatar": _("Montrée à la place d'un membre sans photo."),
        }
        for name in branding.BRAND_FILES:
            # a plain file field: size and type are checked before Pillow decodes anything
            self.fields[name] = forms.FileField(
                label=self.fields[name].label,
                required=False,
                widget=forms.ClearableFileInput(
                    attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
                ),
                help_text=help_texts[name],
            )
        for name in ("color_primary", "color_secondary"):
            self.fields[name].widget.attrs["data-brand-colour"] = name

    def _colour(self, name: str, label: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip().lower()
        branding.validate_hex_colour(value)
        ratio = branding.brand_contrast(value)
        if ratio < branding.MIN_CONTRAST:
            raise forms.ValidationError(
                _(
                    "%(label)s %(value)s n'a qu'un contraste de %(ratio)s:1 avec le blanc "
                    "(texte des boutons, fond des pages) ; il faut au moins 4,5:1 (WCAG AA). "
                    "Choisissez une couleur plus foncée."
                ),
                code="contrast",
                params={"label": label, "value": value, "ratio": _ratio(ratio)},
            )
        return value

    def clean_color_primary(self) -> str:
        return self._colour("color_primary", str(_("La couleur principale")))

    def clean_color_secondary(self) -> str:
        return self._colour("color_secondary", str(_("La couleur secondaire")))

    def _image(self, name: str):
        upload = self.cleaned_data.get(name)
        if isinstance(upload, UploadedFile):
            return branding.reencoded_image(upload)
        return upload  # unchanged (the stored file) or False (cleared)

    def clean_logo(self):
        return self._image("logo")

    def clean_header_logo(self):
        return self._image("header_logo")

    def clean_footer_logo(self):
        return self._image("footer_logo")

    def clean_image(self):
        return self._image("image")

    def clean_default_avatar(self):
        return self._image("default_avatar")

    def brand_changes(self) -> dict[str, object]:
        """What moved: new images (re-encoded uploads), cleared ones (None), new values."""
        changes: dict[str, object] = {}
        for name in self.changed_data:
            value = self.cleaned_data.get(name)
            if name in branding.BRAND_FILES:
                if value is False:
                    changes[name] = None
                elif isinstance(value, UploadedFile):
                    changes[name] = value
            else:
                changes[name] = value
        return changes


class PartnerLogoForm(forms.Form):
    name = forms.CharField(label=_("Nom du partenaire"), max_length=200)
    url = forms.URLField(
        label=_("Site du partenaire"), required=False, max_length=500, assume_scheme="https"
    )
    image = forms.FileField(
        label=_("Logo"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=1000, initial=0)

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url") or ""
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("Une adresse http(s) seulement."))
        return url

    def clean_image(self):
        return branding.reencoded_image(self.cleaned_data["image"])
