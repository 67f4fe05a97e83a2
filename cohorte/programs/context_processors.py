from django.http import HttpRequest

from .selectors import sidebar_tree


def sidebar(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: built only by pages that show the sidebar, never for an htmx partial.
    return {"sidebar": lambda: sidebar_tree(user, getattr(request, "current_program", None))}


def brand(request: HttpRequest) -> dict:
    """A programme's page wears its brand: base.html puts `brand_style` (CSS custom
    properties, programs.branding.brand_tokens) on the page's wrapper."""
    program = getattr(request, "current_program", None)
    if program is None:
        return {}
    return {"brand_style": program.brand_style(), "brand_program": program}
