from django import template

from cohorte.conversations.selectors import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages(context: template.Context) -> int:
    """The signed-in member's unread messages (for the header's « Messages » badge)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return unread_count(user) if user is not None and user.is_authenticated else 0
