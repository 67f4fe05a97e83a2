import datetime as dt

from django import forms
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cohorte.core import parse
from cohorte.core.widgets import SearchableSelectMultiple, person_label

from . import rendering
from .models import Audience, EmailStatus
from .selectors import parse_cursor


class PeopleIdsField(forms.Field):
    """People chosen one by one: a multiple select (searchable, asking the server as one
    types) whose values are ids; « 1,2,3 » from a link or a saved message is read too."""

    widget = SearchableSelectMultiple

    def prepare_value(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        return [part for v in values for part in str(v or "").split(",") if part.strip()]


class ComposeForm(forms.Form):
    """« Messages de la communauté »: who, what, in both languages, and when."""

    program = forms.TypedChoiceField(
        label=_("Programme"), required=False, coerce=int, empty_value=None
    )
    audience = forms.ChoiceField(label=_("Destinataires"), choices=Audience.choices)
    cohort = forms.TypedChoiceField(
        label=_("Cohorte ou étiquette"), required=False, coerce=int, empty_value=None
    )
    people = PeopleIdsField(
        label=_("Personnes"),
        required=False,
        widget=SearchableSelectMultiple(search_url=reverse_lazy("programs:people-search")),
    )
    subject_fr = forms.CharField(label=_("Sujet (français)"), max_length=200, required=False)
    subject_en = forms.CharField(label=_("Sujet (anglais)"), max_length=200, required=False)
    body_fr = forms.CharField(
        label=_("Texte français"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_en = forms.CharField(
        label=_("English text"), required=False, widget=forms.Textarea(attrs={"rows": 8})
    )

    BODIES = ("body_fr", "body_en")

    def __init__(
        self, data=None, *args, programs=(), cohorts=(), allow_organisation=False, **kwargs
    ):
        # The editor shows the textarea's value as HTML: a form shown again after an error
        # carries the sanitised body, never what was posted.
        if data is not None:
            data = data.copy()
            for field in self.BODIES:
                if field in data:
                    data[field] = rendering.sanitise(data.get(field) or "")
        initial = dict(kwargs.pop("initial", None) or {})
        for field in self.BODIES:
            if initial.get(field):
                initial[field] = rendering.sanitise(initial[field])
        super().__init__(data, *args, initial=initial, **kwargs)
        choices = [("", _("Toute l'organisation"))] if allow_organisation else []
        self.fields["program"].choices = choices + [(p.pk, p.name) for p in programs]
        self.fields["program"].required = not allow_organisation
        self.fields["cohort"].choices = [("", "—")] + [(c.pk, c.name) for c in cohorts]

    def clean_people(self) -> str:
        raw = self.cleaned_data.get("people") or ""
        try:
            return ",".join(
                str(pk) for pk in parse.parse_ids(raw if isinstance(raw, list) else [raw])
            )
        except parse.ParseError as error:
            raise forms.ValidationError(error.message) from error

    def people_shown_ids(self) -> list[int]:
        """The people to show as chosen: those posted (the valid ids among them, so a
        mistake elsewhere loses no one) or those the form started with."""
        values = self["people"].value() or []
        ids = []
        for value in values:
            try:
                ids.append(parse.parse_id(value))
            except parse.ParseError:
                continue
        return list(dict.fromkeys(ids))[:1000]

    def show_people(self, people) -> None:
        """The chosen people become the select's options, « Nom Prénom — courriel »."""
        self.fields["people"].widget.choices = [(p.pk, person_label(p)) for p in people]

    def people_ids(self) -> list[int]:
        raw = self.cleaned_data.get("people") or ""
        return [int(v) for v in raw.split(",") if v]


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
        try:
            return parse.check_schedule_time(value)
        except parse.ParseError as error:
            raise forms.ValidationError(error.message) from error


class EmailLogForm(forms.Form):
    """The e-mail log's filters, read from the URL through the shared strict parsers: a bad
    value is a message on the page, never a server error."""

    member = forms.Field(label=_("Membre"), required=False)
    status = forms.MultipleChoiceField(
        label=_("Statut"), required=False, choices=EmailStatus.choices
    )
    start = forms.CharField(
        label=_("Date de début"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.CharField(
        label=_("Date de fin"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    message = forms.CharField(label=_("Message"), required=False, widget=forms.HiddenInput)
    after = forms.CharField(label=_("Page"), required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.member_values: list[object] = (
            data.getlist("member")
            if hasattr(data, "getlist")
            else list((data or {}).get("member") or [])
        )

    def clean_member(self) -> list[int]:
        try:
            return parse.parse_ids(self.member_values, limit=200)
        except parse.ParseError as error:
            raise forms.ValidationError(error.message) from error

    def _date(self, field: str) -> dt.date | None:
        value = self.cleaned_data.get(field) or ""
        if not value.strip():
            return None
        try:
            return parse.parse_date(value)
        except parse.ParseError as error:
            raise forms.ValidationError(error.message) from error

    def clean_start(self) -> dt.date | None:
        return self._date("start")

    def clean_end(self) -> dt.date | None:
        return self._date("end")

    def clean_message(self) -> int | None:
        value = self.cleaned_data.get("message") or ""
        if not value.strip():
            return None
        try:
            return parse.parse_id(value)
        except parse.ParseError as error:
            raise forms.ValidationError(error.message) from error

    def clean_after(self) -> str:
        value = self.cleaned_data.get("after") or ""
        if value and parse_cursor(value) is None:
            raise forms.ValidationError(_("Lien de page invalide : revenez à la première page."))
        return value
