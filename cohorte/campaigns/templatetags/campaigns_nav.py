"""« Entretiens » in the sidebar: for administrators, and for members who manage interviews
(a cached flag: no query on most pages)."""

from typing import Any

from django import template

from cohorte.campaigns.navigation import manages_interviews

register = template.Library()


@register.simple_tag
def shows_interviews(member: Any) -> bool:
    return manages_interviews(member)
