"""« Entretiens » in the sidebar: for administrators, and for members who manage interviews
(a flag in their session: no query on the page)."""

from typing import Any

from django import template

from cohorte.campaigns import navigation

register = template.Library()


@register.simple_tag(takes_context=True)
def shows_interviews(context: Any) -> bool:
    request = context.get("request")
    return navigation.shows_interviews(request) if request is not None else False
