from django import forms
from django.utils.translation import gettext_lazy as _

from cohorte.accounts.models import Language, Member
from cohorte.core.widgets import (
    PersonMultipleChoiceField,
    SearchableSelect,
    SearchableSelectMultiple,
)

from .models import CohortKind, Group, Program, Role


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name",
            "kind",
            "group",
            "start_date",
            "end_date",
            "objective",
            "unanswered_after_days",
            "description",
            "managers",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "group": SearchableSelect,
            "managers": SearchableSelectMultiple,
        }
        field_classes = {"managers": PersonMultipleChoiceField}
        help_texts = {
            "managers": _("Tapez un nom ou un courriel pour trouver une personne."),
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(organisation=organisation)
        self.fields["managers"].queryset = Member.objects.filter(
            organisation=organisation, is_active=True
        ).order_by("last_name", "first_name", "email")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("La date de fin doit suivre la date de début."))
        return cleaned


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    parent = forms.ModelChoiceField(
        label=_("Groupe parent"),
        queryset=Group.objects.none(),
        required=False,
        widget=SearchableSelect,
    )

    def __init__(self, *args, organisation, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        parents = Group.objects.filter(organisation=organisation)
        if group is not None:
            parents = parents.exclude(pk=group.pk)
        self.fields["parent"].queryset = parents


class ParticipantAddForm(forms.Form):
    email = forms.EmailField(label=_("Courriel"))
    first_name = forms.CharField(label=_("Prénom"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nom"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.PARTICIPANT)
    language = forms.ChoiceField(label=_("Langue"), choices=Language.choices, initial=Language.FR)


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=100)
    kind = forms.ChoiceField(label=_("Type"), choices=CohortKind.choices)
