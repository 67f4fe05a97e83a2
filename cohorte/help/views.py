"""The help centre: the index with its search, each article, and whom to write to."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language

from cohorte.accounts.models import Member

from .articles import MAX_QUERY, article_get, articles_all, articles_search, query_clean

#: the administrators listed in « Contact »: an organisation has a handful
MAX_CONTACTS = 10


def _contacts(request: HttpRequest) -> list[Member]:
    """The organisation's administrators, for its own signed-in members only: their
    e-mail addresses are not for the public."""
    user = request.user
    if not user.is_authenticated or user.organisation_id is None:
        return []
    return list(
        Member.objects.filter(
            organisation_id=user.organisation_id,
            is_org_admin=True,
            is_active=True,
            archived_at__isnull=True,
        )
        .exclude(email="")
        .order_by("last_name", "first_name", "pk")[:MAX_CONTACTS]
    )


def _is_manager(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and (user.is_org_admin or user.managed_programs.exists()))


def help_index(request: HttpRequest) -> HttpResponse:
    """Every article, managers' and members' apart (the reader's own first), or the
    articles that hold the words searched for."""
    language = get_language()
    query = query_clean(request.GET.get("q"))
    hits = articles_search(query=query, language=language) if query else None
    articles = articles_all(language=language)
    sections = [
        ("managers", [a for a in articles if a.audience == "managers"]),
        ("members", [a for a in articles if a.audience == "members"]),
    ]
    if not _is_manager(request):
        sections.reverse()
    return render(
        request,
        "help/index.html",
        {
            "query": query,
            "hits": hits,
            "sections": sections,
            "contacts": _contacts(request),
            "max_query": MAX_QUERY,
        },
    )


def help_article(request: HttpRequest, slug: str) -> HttpResponse:
    article = article_get(slug=slug, language=get_language())
    if article is None:
        raise Http404("No such article.")
    related = [
        a
        for a in articles_all(language=get_language())
        if a.audience == article.audience and a.slug != article.slug
    ]
    return render(
        request,
        "help/article.html",
        {"article": article, "related": related, "contacts": _contacts(request)},
    )
