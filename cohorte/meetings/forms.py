from django import forms

from cohorte.core.parse import ParseError, check_date

from .models import Relationship


class RelationshipForm(forms.ModelForm):
    """« Modifier la correspondance »: what a manager may change; the pair is not."""

    class Meta:
        model = Relationship
        fields = ["status", "started_on", "agreement_url", "evaluation_url"]
        widgets = {"started_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_started_on(self):
        day = self.cleaned_data.get("started_on")
        if day is not None:
            try:
                check_date(day)
            except ParseError as error:
                raise forms.ValidationError(error.message) from error
        return day
