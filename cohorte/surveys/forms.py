"""The builder's form: the survey's settings, and its questions one a line."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cohorte.programs.models import Role

from .models import QuestionKind, Trigger

QUESTION_HELP = _(
    "Une question par ligne : clé | type | libellé français | libellé anglais | options "
    "séparées par ; (choix seulement) | obligatoire (oui/non) | condition clé=valeur. "
    "Types : scale (1 à 5), nps (0 à 10), single, multiple, short_text, long_text."
)


class SurveyForm(forms.Form):
    title_fr = forms.CharField(label=_("Titre (français)"), max_length=200)
    title_en = forms.CharField(label=_("Titre (anglais)"), max_length=200, required=False)
    questions = forms.CharField(
        label=_("Questions"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=QUESTION_HELP,
        max_length=20000,
    )
    opens_at = forms.DateTimeField(
        label=_("Ouverture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("Clôture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    anonymous = forms.BooleanField(label=_("Anonyme"), required=False)
    trigger = forms.ChoiceField(label=_("Déclencheur"), choices=Trigger.choices)
    trigger_n = forms.IntegerField(label=_("N"), min_value=0, max_value=365, initial=0)
    roles = forms.MultipleChoiceField(
        label=_("Rôles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    cohorts = forms.MultipleChoiceField(label=_("Cohortes et étiquettes"), required=False)
    emails = forms.CharField(
        label=_("Personnes choisies (courriels, un par ligne)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=50000,
    )
    saved_filter = forms.ChoiceField(label=_("Filtre de membres sauvegardé"), required=False)

    def __init__(self, *args: Any, cohorts=(), saved_filters=(), **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["cohorts"]).choices = [
            (str(c.pk), c.name) for c in cohorts
        ]
        cast(forms.ChoiceField, self.fields["saved_filter"]).choices = [("", "—")] + [
            (str(f.pk), f.name) for f in saved_filters
        ]


def questions_from_lines(text: str) -> list[dict[str, Any]]:
    """The builder's lines as the API's questions (the service checks them)."""
    questions = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")] + [""] * 7
        key, kind, fr, en, options, required, condition = parts[:7]
        question: dict[str, Any] = {
            "key": key,
            "kind": kind if kind in QuestionKind.values else kind or "?",
            "label": {"fr": fr, "en": en},
            "options": [o.strip() for o in options.split(";") if o.strip()] or None,
            "required": required.lower() in ("oui", "yes", "o", "y", "1", "true"),
        }
        if "=" in condition:
            other, _sep, value = condition.partition("=")
            question["show_if"] = {"question": other.strip(), "in": [value.strip()]}
        questions.append(question)
    return questions


def aware(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone)
