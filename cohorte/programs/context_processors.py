from django.http import HttpRequest

from .selectors import sidebar_tree


def sidebar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: built only by pages that show the sidebar, never for an htmx partial.
    return {"sidebar": lambda: sidebar_tree(user, getattr(request, "current_program", None))}
