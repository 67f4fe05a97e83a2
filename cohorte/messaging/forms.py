import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Audience, EmailStatus


class ComposeForm(forms.Form):
    """« Messages de la communauté »: who, what, in both languages, and when."""

    program = forms.TypedChoiceField(
        label=_("Programme"), required=False, coerce=int, empty_value=None
    )
    audience = forms.ChoiceField(label=_("Destinataires"), choices=Audience.choices)
    cohort = forms.TypedChoiceField(
        label=_("Cohorte ou étiquette"), required=False, coerce=int, empty_value=None
    )
    people = forms.CharField(required=False, widget=forms.HiddenInput)
    subject_fr = forms.CharField(label=_("Sujet (français)"), max_length=200, required=False)
    subject_en = forms.CharField(label=_("Sujet (anglais)"), max_length=200, required=False)
    body_fr = forms.CharField(
        label=_("Texte français"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_en = forms.CharField(
        label=_("English text"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )

    def __init__(self, *args, programs=(), cohorts=(), allow_organisation=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Toute l'organisation"))] if allow_organisation else []
        self.fields["program"].choices = choices + [(p.pk, p.name) for p in programs]
        self.fields["program"].required = not allow_organisation
        self.fields["cohort"].choices = [("", "—")] + [(c.pk, c.name) for c in cohorts]

    def people_ids(self) -> list[int]:
        raw = self.cleaned_data.get("people") or ""
        return [int(v) for v in raw.split(",") if v.strip().isdigit()]


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(
        label=_("Prévoir horaire"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )

    def clean_send_at(self) -> dt.datetime:
        value = self.cleaned_data["send_at"]
        if value <= timezone.now():
            raise forms.ValidationError(_("La date d'envoi prévue est déjà passée."))
        return value


class EmailLogForm(forms.Form):
    """The e-mail log's filters, read from the URL."""

    member = forms.TypedMultipleChoiceField(required=False, coerce=int)
    status = forms.MultipleChoiceField(
        label=_("Statut"), required=False, choices=EmailStatus.choices
    )
    start = forms.DateField(
        label=_("Date de début"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Date de fin"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    message = forms.IntegerField(required=False, widget=forms.HiddenInput)
    after = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, member_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(pk, pk) for pk in member_ids]
