"""The forms of a new campaign: its settings, its interview form (one row per question), its
sign-off circuit (one row per step, ordered), its reminder rules and its population's
source. The rows become the services' JSON (form_clean, circuit_clean,
reminder_rules_clean), whose reasons come back beside the field they concern."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from cohorte.core.parse import ParseError, parse_date

from .models import CircuitRole, QuestionKind, default_circuit

MAX_QUESTION_ROWS = 100
MAX_STEP_ROWS = 10


class DateInput(forms.CharField):
    """A date typed AAAA-MM-JJ (the browser's date picker), read by core.parse."""

    widget = forms.DateInput(attrs={"type": "date"})

    def to_python(self, value: Any) -> dt.date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_date(text)
        except ParseError as error:
            raise forms.ValidationError(error.message) from error


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Nom de la campagne"), max_length=200)
    kind = forms.ChoiceField(label=_("Type d'entretien"))
    start_date = DateInput(label=_("Date de début"))
    end_date = DateInput(label=_("Date de fin"))
    hr_email = forms.EmailField(
        label=_("Personne RH (courriel)"),
        required=False,
        help_text=_("Elle signe l'étape « RH » ; vide : tout administrateur de l'organisation."),
    )
    template = forms.TypedChoiceField(
        label=_("Partir d'un modèle"), required=False, coerce=int, empty_value=None
    )
    save_as = forms.CharField(
        label=_("Enregistrer comme modèle"),
        max_length=200,
        required=False,
        help_text=_("Un nom, pour réutiliser ce formulaire dans d'autres campagnes."),
    )

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, str]],
        templates: list[tuple[int, str]],
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        cast(forms.ChoiceField, self.fields["kind"]).choices = kinds
        cast(forms.ChoiceField, self.fields["template"]).choices = [("", "—"), *templates]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("La date de fin suit la date de début."))
        return data


class RemindersForm(forms.Form):
    """→ services.reminder_rules_clean."""

    enabled = forms.BooleanField(label=_("Relances automatiques des étapes"), required=False)
    before = forms.CharField(
        label=_("Jours avant l'échéance"),
        max_length=40,
        required=False,
        help_text=_("Par ex. « 7, 2 » ; vide : aucune avant l'échéance."),
    )
    every_after = forms.IntegerField(
        label=_("Puis tous les N jours de retard"), min_value=1, max_value=365, required=False
    )
    escalate_after = forms.IntegerField(
        label=_("Au N+2 après N jours de retard"), min_value=1, max_value=365, required=False
    )
    hr_after = forms.IntegerField(
        label=_("RH en copie après N jours de retard"), min_value=1, max_value=365, required=False
    )

    def clean_before(self) -> list[int]:
        days = []
        for part in (self.cleaned_data.get("before") or "").replace(";", ",").split(","):
            if not part.strip():
                continue
            try:
                from cohorte.core.parse import parse_int

                days.append(parse_int(part, minimum=1, maximum=60))
            except ParseError as error:
                raise forms.ValidationError(error.message) from error
        if len(days) > 5:
            raise forms.ValidationError(_("Jusqu'à 5 nombres de jours entre 1 et 60."))
        return days

    def rules(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "enabled": bool(data.get("enabled")),
            "before": data.get("before") or [],
            "every_after": data.get("every_after"),
            "escalate_after": data.get("escalate_after"),
            "hr_after": data.get("hr_after"),
        }

    @staticmethod
    def initial_of(rules: dict[str, Any]) -> dict[str, Any]:
        return {**rules, "before": ", ".join(str(d) for d in rules.get("before", []))}


class StepForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Rôle"), choices=[("", "—"), *CircuitRole.choices], required=False
    )
    deadline_days = forms.IntegerField(
        label=_("Délai (jours après l'étape précédente)"),
        min_value=0,
        max_value=365,
        required=False,
    )


StepFormSet = forms.formset_factory(
    StepForm,
    extra=2,
    can_order=True,
    can_delete=True,
    max_num=MAX_STEP_ROWS,
    absolute_max=MAX_STEP_ROWS,
    validate_max=True,
)


def circuit_of(formset: Any) -> list[dict[str, Any]]:
    """The steps in the order asked (« Ordre »), blank and deleted rows left out."""
    steps = []
    for form in formset.ordered_forms if formset.can_order else formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE") or not data.get("role"):
            continue
        days = data.get("deadline_days")
        steps.append({"role": data["role"], "deadline_days": 7 if days is None else days})
    return steps


def step_initial(circuit: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        {"role": step["role"], "deadline_days": step["deadline_days"], "ORDER": i + 1}
        for i, step in enumerate(circuit or default_circuit())
    ]


class QuestionForm(forms.Form):
    """One question; each text in French and, optionally, English (shown to those who read
    Cohorte in English; the French stands in where it is left blank)."""

    section = forms.CharField(label=_("Section"), max_length=200, required=False)
    section_en = forms.CharField(label=_("Section (anglais)"), max_length=200, required=False)
    label = forms.CharField(label=_("Question"), max_length=500, required=False)
    label_en = forms.CharField(label=_("Question (anglais)"), max_length=500, required=False)
    kind = forms.ChoiceField(label=_("Type"), choices=QuestionKind.choices, required=False)
    options = forms.CharField(label=_("Choix (séparés par « ; »)"), max_length=3000, required=False)
    options_en = forms.CharField(
        label=_("Choix en anglais (dans le même ordre)"), max_length=3000, required=False
    )
    required = forms.BooleanField(label=_("Obligatoire"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("section_en", "label_en", "options_en"):
            self.fields[name].widget.attrs.update({"lang": "en", "placeholder": "English"})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        french = _parts(data.get("options") or "")
        english = _parts(data.get("options_en") or "")
        if english and len(english) != len(french):
            self.add_error(
                "options_en",
                _("Autant de choix en anglais qu'en français (%(n)s), dans le même ordre.")
                % {"n": len(french)},
            )
        return data


def _parts(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


QuestionFormSet = forms.formset_factory(
    QuestionForm,
    extra=3,
    can_delete=True,
    max_num=MAX_QUESTION_ROWS,
    absolute_max=MAX_QUESTION_ROWS,
    validate_max=True,
)


def sections_of(formset: Any) -> list[dict[str, Any]]:
    """Rows → form_clean's sections: consecutive rows of the same section title make one
    section (a blank title continues the one above)."""
    sections: list[dict[str, Any]] = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or data.get("DELETE") or not (data.get("label") or "").strip():
            continue
        title = (data.get("section") or "").strip()
        title_en = (data.get("section_en") or "").strip()
        if not sections or (title and title != sections[-1]["title"]["fr"]):
            sections.append({"title": {"fr": title, "en": title_en}, "questions": []})
        elif title_en and not sections[-1]["title"]["en"]:
            sections[-1]["title"]["en"] = title_en
        kind = data.get("kind") or QuestionKind.TEXT
        english = _parts(data.get("options_en") or "")
        options = [
            {"fr": part, "en": english[n] if n < len(english) else ""}
            for n, part in enumerate(_parts(data.get("options") or ""))
        ]
        sections[-1]["questions"].append(
            {
                "kind": kind,
                "label": {
                    "fr": data["label"].strip(),
                    "en": (data.get("label_en") or "").strip(),
                },
                "options": options if kind == QuestionKind.CHOICE else [],
                "required": bool(data.get("required")),
            }
        )
    return sections


def question_initial(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for section in sections or []:
        title = section.get("title") or {}
        for question in section.get("questions", []):
            label = question.get("label") or {}
            options = question.get("options", [])
            rows.append(
                {
                    "section": title.get("fr", ""),
                    "section_en": title.get("en", ""),
                    "label": label.get("fr", ""),
                    "label_en": label.get("en", ""),
                    "kind": question.get("kind"),
                    "options": "; ".join(o.get("fr", "") for o in options),
                    "options_en": "; ".join(o.get("en", "") for o in options)
                    if any(o.get("en") for o in options)
                    else "",
                    "required": bool(question.get("required")),
                }
            )
    return rows


#: a form to start from when there is no template
STARTER_FORM: list[dict[str, Any]] = [
    {
        "title": {"fr": "Bilan de la période", "en": "Review of the period"},
        "questions": [
            {
                "kind": "text",
                "label": {"fr": "Les réussites de la période", "en": "Achievements of the period"},
                "required": True,
            },
            {
                "kind": "scale",
                "label": {"fr": "Satisfaction dans le poste", "en": "Satisfaction in the role"},
            },
            {
                "kind": "objectives",
                "label": {
                    "fr": "Objectifs de la période écoulée",
                    "en": "Objectives of the past period",
                },
            },
        ],
    },
    {
        "title": {"fr": "Perspectives", "en": "Outlook"},
        "questions": [
            {
                "kind": "objectives",
                "label": {
                    "fr": "Objectifs de la période à venir",
                    "en": "Objectives for the coming period",
                },
            },
            {"kind": "text", "label": {"fr": "Besoins de formation", "en": "Training needs"}},
        ],
    },
]


class PopulationSource(forms.Form):
    SOURCES = [
        ("file", _("Un fichier CSV ou Excel (collaborateur, manager, N+2)")),
        ("group", _("Un groupe")),
        ("cohort", _("Une cohorte")),
        ("tag", _("Une étiquette")),
        ("legal", _("La population légale (entretien professionnel)")),
    ]
    source = forms.ChoiceField(
        label=_("Population"), choices=SOURCES, widget=forms.RadioSelect, initial="file"
    )
    file = forms.FileField(label=_("Fichier"), required=False)
    group = forms.TypedChoiceField(label=_("Groupe"), required=False, coerce=int, empty_value=None)
    cohort = forms.TypedChoiceField(
        label=_("Cohorte"), required=False, coerce=int, empty_value=None
    )
    tag = forms.TypedChoiceField(label=_("Étiquette"), required=False, coerce=int, empty_value=None)

    def __init__(
        self,
        *args: Any,
        groups: list[tuple[int, str]],
        cohorts: list[tuple[int, str]],
        tags: list[tuple[int, str]],
        **kw: Any,
    ):
        super().__init__(*args, **kw)
        for name, choices in (("group", groups), ("cohort", cohorts), ("tag", tags)):
            cast(forms.ChoiceField, self.fields[name]).choices = [("", "—"), *choices]
