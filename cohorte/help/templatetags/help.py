from django import template
from django.urls import reverse

from cohorte.help.articles import article_get
from cohorte.help.links import article_slug_for

register = template.Library()


@register.simple_tag(takes_context=True)
def help_link(context: template.Context) -> dict[str, str]:
    """The « ? » of this page: its article (title for the tooltip), else the help index."""
    from django.utils.translation import get_language
    from django.utils.translation import gettext as _

    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    slug = article_slug_for(match.view_name if match else None)
    article = article_get(slug=slug, language=get_language()) if slug else None
    if article is None:
        return {"url": reverse("help:index"), "title": _("Aide")}
    return {
        "url": reverse("help:article", args=[article.slug]),
        "title": _("Aide : %(title)s") % {"title": article.title},
    }
