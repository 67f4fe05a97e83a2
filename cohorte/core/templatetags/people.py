"""``{{ member|person_label }}``: « Nom Prénom — courriel », as every people picker shows it."""

from django import template

from cohorte.core.widgets import person_label as _person_label

register = template.Library()


@register.filter
def person_label(person) -> str:
    return _person_label(person) if person is not None else ""
