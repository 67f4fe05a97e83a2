from django.http import HttpRequest

from .selectors import todo_count


def todo(request: HttpRequest) -> dict:
    """The header's « À faire » count. Lazy: counted only where the header is drawn, and
    kept a minute per member (selectors.TODO_COUNT_SECONDS)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"todo_count": lambda: todo_count(user)}
