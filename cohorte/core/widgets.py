"""Searchable selects for long lists, by progressive enhancement.

The server renders an ordinary ``<select>`` (or ``<select multiple>``) whose options are
complete and valid: without JavaScript the form works as it is. ``static/js/selects.js``
turns every ``select[data-searchable]`` into a Tom Select box (typing filters the options;
with ``data-search-url`` it also asks the server for more, for lists too long to send).

People are always shown as « Nom Prénom — courriel », so two people with the same name
can be told apart (the e-mail address is unique).
"""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .parse import ParseError, parse_id


def person_label(person: Any) -> str:
    """« Nom Prénom — courriel »: what a person is called in every picker."""
    name = " ".join(part for part in (person.last_name, person.first_name) if part).strip()
    return f"{name} — {person.email}" if name else person.email


def _searchable_attrs(attrs: dict[str, Any] | None, *, placeholder, search_url: str | None):
    merged = {"data-searchable": "", **(attrs or {})}
    if placeholder:
        merged.setdefault("data-placeholder", placeholder)  # lazy: in the reader's language
    if search_url is not None:  # may be a reverse_lazy(): never evaluated at import
        merged["data-search-url"] = search_url
    return merged


class SearchableSelect(forms.Select):
    """One choice among many: a native select, made searchable in the browser."""

    def __init__(self, attrs=None, choices=(), *, placeholder=None, search_url=None):
        super().__init__(
            _searchable_attrs(attrs, placeholder=placeholder, search_url=search_url), choices
        )


class SearchableSelectMultiple(forms.SelectMultiple):
    """Several choices among many: a native multiple select, made searchable (chips with a
    « × » to remove each one) in the browser."""

    def __init__(self, attrs=None, choices=(), *, placeholder=None, search_url=None):
        super().__init__(
            _searchable_attrs(
                {"data-remove-label": _("Retirer"), **(attrs or {})},
                placeholder=placeholder or _("Tapez un nom ou un courriel…"),
                search_url=search_url,
            ),
            choices,
        )


class PersonChoiceField(forms.ModelChoiceField):
    """One person, shown « Nom Prénom — courriel »; the id is checked before any query."""

    widget = SearchableSelect

    def label_from_instance(self, obj) -> str:
        return person_label(obj)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            parse_id(value)
        except ParseError as error:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error
        return super().to_python(value)


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several people, shown « Nom Prénom — courriel »; each value is checked as an id before
    any query, so « ² » or an id above 2⁶³ is a form error, not a database error."""

    widget = SearchableSelectMultiple

    def label_from_instance(self, obj) -> str:
        return person_label(obj)

    def clean(self, value):
        for item in value or ():
            try:
                parse_id(item)
            except ParseError as error:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": str(item)[:30]},
                ) from error
        return super().clean(value)
