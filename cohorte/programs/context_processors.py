from django.http import HttpRequest

from .selectors import sidebar_tree


def sidebar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "htmx_partial", False):
        return {}
    return {"sidebar": lambda: sidebar_tree(user, getattr(request, "current_program", None))}
