from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cohorte.accounts.models import CustomField, Language
from cohorte.programs.models import Role

from .antiabuse import HONEYPOT
from .models import SIGNUP_ROLES, ApplicationStatus
from .selectors import member_role_for

MAX_ANSWER = 500


def _field_key(custom: CustomField) -> str:
    return f"custom_{custom.pk}"


class SignupForm(forms.Form):
    """« Rejoindre le programme »: who you are, the role you ask for, the programme's own
    questions. The honeypot and the signed start time are checked by the view."""

    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = forms.EmailField(
        label=_("Courriel"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(label=_("Langue des courriels"), choices=Language.choices)
    role = forms.ChoiceField(label=_("Je souhaite rejoindre le programme comme"))
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, roles: list[str], fields: list[CustomField], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Role.choices)
        offered = [(role.value, labels[role.value]) for role in SIGNUP_ROLES if role.value in roles]
        role_field = cast(forms.ChoiceField, self.fields["role"])
        role_field.choices = offered
        if len(offered) == 1:
            role_field.initial = offered[0][0]
        self.custom_fields = fields
        for custom in fields:
            label = custom.name
            if custom.role not in ("any", ""):
                label = f"{label} ({custom.get_role_display()})"
            common: dict[str, Any] = {"label": label, "required": False, "help_text": custom.hint}
            if custom.choices:
                options = [(option, option) for option in custom.choices]
                self.fields[_field_key(custom)] = (
                    forms.MultipleChoiceField(
                        choices=options, widget=forms.CheckboxSelectMultiple, **common
                    )
                    if custom.multiple
                    else forms.ChoiceField(choices=[("", "—"), *options], **common)
                )
            else:
                self.fields[_field_key(custom)] = forms.CharField(max_length=MAX_ANSWER, **common)
        # last, and out of sight: a person never fills it in
        self.fields[HONEYPOT] = forms.CharField(
            label=_("Laissez ce champ vide"),
            required=False,
            widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
        )

    def custom_bound_fields(self):
        return [self[_field_key(custom)] for custom in self.custom_fields]

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].replace("\x00", "").strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].replace("\x00", "").strip()

    def clean(self):
        data = super().clean()
        role = data.get("role")
        answers: dict[str, list[str]] = {}
        for custom in self.custom_fields:
            key = _field_key(custom)
            value = data.get(key)
            chosen = (
                [v for v in value if v]
                if isinstance(value, list)
                else ([value.replace("\x00", "").strip()] if value and value.strip() else [])
            )
            applies = role is not None and custom.applies_to(member_role_for(role))
            if not applies:
                continue
            if custom.required and not chosen:
                self.add_error(key, _("Ce champ est obligatoire."))
            if chosen:
                answers[str(custom.pk)] = chosen
        data["answers"] = answers
        return data


class SignupSettingsForm(forms.Form):
    open = forms.BooleanField(label=_("Proposer « Rejoindre le programme »"), required=False)
    roles = forms.MultipleChoiceField(
        label=_("Rôles acceptés"),
        choices=[(role.value, role.label) for role in SIGNUP_ROLES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choisissez au moins un rôle.")},
    )
    approval_required = forms.BooleanField(
        label=_("Chaque candidature confirmée attend l'accord d'un responsable"), required=False
    )


#: the list's tabs, named for what they hold
STATUS_TAB_LABELS = {
    ApplicationStatus.PENDING: _("En attente"),
    ApplicationStatus.ACCEPTED: _("Acceptées"),
    ApplicationStatus.REFUSED: _("Refusées"),
    ApplicationStatus.UNCONFIRMED: _("Courriel à confirmer"),
}
STATUS_TABS = [
    ApplicationStatus.PENDING,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.REFUSED,
    ApplicationStatus.UNCONFIRMED,
]
