"""The builder: the survey's settings (one form) and its questions (a formset, one row per
question, a row added by htmx). The rows become the API's questions and the service checks
them as a whole; its reasons come back on the row they concern."""

import datetime as dt
import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cohorte.core.parse import ParseError, check_datetime
from cohorte.programs.models import CohortKind, Role

from .models import CHOICE_KINDS, DEFAULT_REMINDER_DAYS, QuestionKind, Trigger

#: the most questions a survey has (the service's bound too)
MAX_ROWS = 50
PREFIX = "q"


class SurveyForm(forms.Form):
    title_fr = forms.CharField(label=_("Titre (français)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Titre (anglais)"), max_length=200, required=False)
    opens_at = forms.DateTimeField(
        label=_("Ouverture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    closes_at = forms.DateTimeField(
        label=_("Clôture"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    anonymous = forms.BooleanField(
        label=_("Anonyme (les résultats ne disent pas qui a répondu quoi)"), required=False
    )
    trigger = forms.ChoiceField(label=_("Déclencheur"), choices=Trigger.choices)
    trigger_n = forms.IntegerField(
        label=_("N"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_(
            "La N-ième rencontre tenue, ou N jours après la fin de la relation "
            "(sans effet pour les autres déclencheurs)."
        ),
    )
    reminder_days = forms.CharField(
        label=_("Relances (jours après l'invitation)"),
        max_length=60,
        required=False,
        initial=", ".join(str(d) for d in DEFAULT_REMINDER_DAYS),
        help_text=_("Aux personnes qui n'ont pas répondu, par ex. « 7, 14, 21 » ; vide : aucune."),
    )
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
        cohorts = list(cohorts)
        groups = []
        for kind, label in CohortKind.choices:
            choices = [(str(c.pk), c.name) for c in cohorts if c.kind == kind]
            if choices:
                groups.append((label, choices))
        cast(forms.ChoiceField, self.fields["cohorts"]).choices = groups
        cast(forms.ChoiceField, self.fields["saved_filter"]).choices = [("", "—")] + [
            (str(f.pk), f.name) for f in saved_filters
        ]

    def clean_reminder_days(self) -> list[int]:
        text = self.cleaned_data["reminder_days"]
        parts = [p for p in re.split(r"[\s,;]+", text) if p]
        if any(not (p.isascii() and p.isdigit()) or not 1 <= int(p) <= 365 for p in parts):
            raise forms.ValidationError(
                _("Des nombres de jours de 1 à 365, séparés par des virgules.")
            )
        if len(parts) > 10:
            raise forms.ValidationError(_("Dix relances au plus."))
        return sorted({int(p) for p in parts})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("title_fr") or "").strip() and not (data.get("title_en") or "").strip():
            self.add_error("title_fr", _("Donnez un titre, en français ou en anglais."))
        for name in ("opens_at", "closes_at"):
            if data.get(name):
                try:
                    check_datetime(aware(data[name], dt.UTC))
                except ParseError as error:
                    self.add_error(name, error.message)
        return data


class QuestionForm(forms.Form):
    """One question of the builder."""

    key = forms.CharField(
        label=_("Clé"),
        max_length=40,
        required=False,
        help_text=_("Le nom court de la question dans l'export et l'API (q1, q2… si vide)."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=QuestionKind.choices)
    label_fr = forms.CharField(label=_("Question (français)"), max_length=500, required=False)
    label_en = forms.CharField(label=_("Question (anglais)"), max_length=500, required=False)
    options_fr = forms.CharField(
        label=_("Options (français, une par ligne)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=7000,
        help_text=_("Choix unique ou multiple seulement."),
    )
    options_en = forms.CharField(
        label=_("Options (anglais, une par ligne, dans le même ordre)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=7000,
    )
    required = forms.BooleanField(label=_("Réponse obligatoire"), required=False)
    #: a select of the questions above; a key typed since the row was drawn is accepted
    #: too (the service checks that it names an earlier question)
    show_if_question = forms.CharField(
        label=_("Afficher seulement si la question"), required=False, max_length=40
    )
    show_if_values = forms.CharField(
        label=_("a pour réponse"),
        max_length=1000,
        required=False,
        help_text=_(
            "Une ou plusieurs réponses séparées par « ; » : une option, ou une note (ex. 9; 10)."
        ),
    )

    def __init__(self, *args: Any, earlier: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *(earlier or [])]
        current = self.data.get(self.add_prefix("show_if_question")) if self.is_bound else None
        current = current or (self.initial or {}).get("show_if_question")
        if current and current not in {k for k, _label in choices}:
            choices.append((str(current)[:40], str(current)[:40]))
        self.fields["show_if_question"].widget = forms.Select(choices=choices)

    def is_empty(self) -> bool:
        data = self.cleaned_data
        return not any(
            (data.get(name) or "").strip()
            for name in ("key", "label_fr", "label_en", "options_fr", "options_en")
        )

    def as_question(self, position: int) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        fr = _lines(data.get("options_fr", ""))
        en = _lines(data.get("options_en", ""))
        question: dict[str, Any] = {
            "key": (data.get("key") or "").strip() or f"q{position}",
            "kind": kind,
            "label": {"fr": data.get("label_fr", ""), "en": data.get("label_en", "")},
            "options": (
                [{"fr": f, "en": en[i] if i < len(en) else ""} for i, f in enumerate(fr)]
                + [{"fr": "", "en": e} for e in en[len(fr) :]]
            )
            if kind in CHOICE_KINDS
            else [],
            "required": bool(data.get("required")),
        }
        if data.get("show_if_question"):
            question["show_if"] = {
                "question": data["show_if_question"],
                "in": [v.strip() for v in data.get("show_if_values", "").split(";") if v.strip()],
            }
        return question


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class BaseQuestionFormSet(forms.BaseFormSet):
    kept: list[QuestionForm]

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"earlier": earlier_choices(self.data, self.initial, index or 0)}

    def questions(self) -> list[dict[str, Any]]:
        """The rows kept (not deleted, not left empty), in their « Ordre », as the API's
        questions."""
        kept = [form for form in self.ordered_forms if not form.is_empty()]
        self.kept = kept
        return [form.as_question(position) for position, form in enumerate(kept, start=1)]


QuestionFormSet = cast(
    type[BaseQuestionFormSet],
    forms.formset_factory(
        QuestionForm,
        formset=BaseQuestionFormSet,
        extra=0,
        can_delete=True,
        can_order=True,
        max_num=MAX_ROWS,
        absolute_max=MAX_ROWS,
        validate_max=True,
    ),
)


def earlier_choices(data: Any, initial: Any, index: int) -> list[tuple[str, str]]:
    """The questions above row `index`, as (key, « q1 — label ») for its condition: read
    from what was posted (not yet checked) or from the survey being edited."""
    choices = []
    for i in range(min(index, MAX_ROWS)):
        if data:
            key = str(data.get(f"{PREFIX}-{i}-key", ""))[:40].strip() or f"q{i + 1}"
            label = str(
                data.get(f"{PREFIX}-{i}-label_fr", "") or data.get(f"{PREFIX}-{i}-label_en", "")
            )
            if data.get(f"{PREFIX}-{i}-DELETE"):
                continue
        elif initial and i < len(initial):
            key, label = initial[i]["key"], initial[i]["label_fr"] or initial[i]["label_en"]
        else:
            key, label = f"q{i + 1}", ""
        choices.append((key, f"{key} — {label[:60]}" if label else key))
    return choices


def initial_rows(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A survey's questions as the builder's rows (to edit it)."""
    rows = []
    for question in questions:
        condition = question.get("show_if") or {}
        rows.append(
            {
                "key": question["key"],
                "kind": question["kind"],
                "label_fr": question["label"].get("fr", ""),
                "label_en": question["label"].get("en", ""),
                "options_fr": "\n".join(o["fr"] for o in question.get("options") or []),
                "options_en": "\n".join(o["en"] for o in question.get("options") or []),
                "required": question["required"],
                "show_if_question": condition.get("question", ""),
                "show_if_values": "; ".join(condition.get("in", [])),
            }
        )
    return rows


def aware(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone)
