from django import template
from django.template.loader import get_template

register = template.Library()


@register.simple_tag(takes_context=True)
def include_if_present(context: template.Context, name: str) -> str:
    """A partial another app gives the header (« conversations/_nav_link.html »), drawn
    when that app is installed and nothing otherwise."""
    try:
        partial = get_template(name)
    except template.TemplateDoesNotExist:
        return ""
    return partial.render(dict(context.flatten()), context.get("request"))  # type: ignore[arg-type]
