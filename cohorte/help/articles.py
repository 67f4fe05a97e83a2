"""Help articles: Markdown files in this repository, one per task and language.

An article is ``articles/<language>/<slug>.md``: a front matter block (``title``,
``audience``: managers or members, optional ``summary`` and ``order``), then Markdown.
They are read once per process and rendered by markdown-it (raw HTML off), then passed
through the same sanitiser as message bodies, so even a careless article cannot carry a
script. Edit an article, restart the server: the development server reloads on .py only.

A slug from a URL is only ever a key into the dictionary built here: no path is made from
what a visitor typed.
"""

import dataclasses
import functools
import html
import re
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt

from cohorte.messaging.rendering import sanitise

ARTICLES_DIR = Path(__file__).resolve().parent / "articles"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
AUDIENCES = ("managers", "members")
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: a search query longer than this is cut: enough for a question, not for a flood
MAX_QUERY = 100
MAX_TERMS = 8
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)


@dataclasses.dataclass(frozen=True)
class Article:
    slug: str
    language: str
    title: str
    audience: str
    summary: str
    order: int  # place in the index: the order in which a newcomer meets the tasks
    html: str
    text: str  # the body as plain text, for search and excerpts

    @property
    def folded(self) -> str:
        return fold(f"{self.title}\n{self.text}")


def fold(text: str) -> str:
    """Lower case without accents, so « relancer » finds « Relancer » and « reunion »
    finds « réunion »."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _parse(path: Path, language: str) -> Article:
    source = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    match = FRONT_MATTER.match(source)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
        source = source[match.end() :]
    title = meta.get("title", "")
    if not title:  # else the first heading is the title
        heading = re.match(r"\s*#\s+(.+)\n", source)
        if heading:
            title = heading.group(1).strip()
            source = source[heading.end() :]
    audience = meta.get("audience", "members")
    if audience not in AUDIENCES:
        raise ValueError(f"{path}: audience must be one of {AUDIENCES}, not {audience!r}")
    if not title:
        raise ValueError(f"{path}: no title")
    body = sanitise(_markdown().render(source))
    text = re.sub(r"</?(?:p|li|h[1-6]|ul|ol|blockquote|br|hr)\b[^>]*>", " ", body)
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    text = re.sub(r"\s+", " ", text).strip()
    return Article(
        slug=path.stem,
        language=language,
        title=title,
        audience=audience,
        summary=meta.get("summary", ""),
        order=int(meta["order"]) if meta.get("order", "").isdigit() else 100,
        html=body,
        text=text,
    )


@functools.cache
def _library() -> dict[str, dict[str, Article]]:
    """{language: {slug: article}}, read once per process."""
    library: dict[str, dict[str, Article]] = {}
    for language in LANGUAGES:
        library[language] = {}
        for path in sorted((ARTICLES_DIR / language).glob("*.md")):
            if not SLUG.fullmatch(path.stem):
                raise ValueError(f"{path}: the file name must be a slug")
            library[language][path.stem] = _parse(path, language)
    return library


def _language(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def article_get(*, slug: str, language: str | None) -> Article | None:
    """The article in this language, else in French; None when no such slug exists."""
    library = _library()
    return library[_language(language)].get(slug) or library[DEFAULT_LANGUAGE].get(slug)


def articles_all(*, language: str | None) -> list[Article]:
    """Every article, in this language where it exists (French otherwise), in the order
    their front matter gives, then by title."""
    library = _library()
    chosen = dict(library[DEFAULT_LANGUAGE])
    chosen.update(library[_language(language)])
    return sorted(chosen.values(), key=lambda a: (a.order, fold(a.title)))


def slugs() -> set[str]:
    return {slug for articles in _library().values() for slug in articles}


@dataclasses.dataclass(frozen=True)
class Hit:
    article: Article
    excerpt: str


def query_clean(query: str | None) -> str:
    return re.sub(r"\s+", " ", (query or "")[:MAX_QUERY]).strip()


def articles_search(*, query: str, language: str | None) -> list[Hit]:
    """The articles of the current language holding every word of the query (accents and
    case ignored), those with the words in their title first."""
    terms = [t for t in fold(query_clean(query)).split(" ") if t][:MAX_TERMS]
    if not terms:
        return []
    scored: list[tuple[int, str, Hit]] = []
    for article in articles_all(language=language):
        folded = article.folded
        if not all(term in folded for term in terms):
            continue
        title = fold(article.title)
        score = sum(3 if term in title else 1 for term in terms)
        scored.append((-score, fold(article.title), Hit(article, _excerpt(article, terms[0]))))
    return [hit for _, _, hit in sorted(scored, key=lambda s: (s[0], s[1]))]


def _excerpt(article: Article, term: str, width: int = 160) -> str:
    """The body around the first place the term occurs (the folded text keeps the same
    length as the original for the letters we write, so the positions match)."""
    text = article.text
    folded = fold(text)
    at = folded.find(term) if len(folded) == len(text) else -1
    if at < 0:
        return article.summary or text[:width] + ("…" if len(text) > width else "")
    start = max(0, at - width // 3)
    end = min(len(text), start + width)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
