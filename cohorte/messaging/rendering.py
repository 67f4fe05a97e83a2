"""Message bodies: sanitised rich text, dynamic tags in two languages, text alternatives."""

import html
import re
from collections.abc import Mapping

import nh3
from django.utils.translation import gettext as _

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "h1",
    "h2",
    "h3",
    "blockquote",
    "span",
    "div",
    "hr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
}

#: every dynamic tag, in French and in English, and what it stands for
TAGS: dict[str, str] = {
    "prénom": "first_name",
    "first_name": "first_name",
    "nom": "last_name",
    "last_name": "last_name",
    "nom complet": "full_name",
    "full_name": "full_name",
    "courriel": "email",
    "email": "email",
    "programme": "program",
    "program": "program",
    "organisation": "organisation",
    "organization": "organisation",
    "lien de connexion": "sign_in_link",
    "sign_in_link": "sign_in_link",
}
TAG_PATTERN = re.compile(r"\{([^{}\n]{1,40})\}")


def sanitise(body: str) -> str:
    """Rich text as people may send it: formatting, links and images by address; no script,
    no style, no event handler, only http(s) and mailto links."""
    return nh3.clean(
        body or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def unknown_tags(*texts: str, known: Mapping[str, str] = TAGS) -> list[str]:
    found: list[str] = []
    for text in texts:
        for name in TAG_PATTERN.findall(text or ""):
            if name.strip().lower() not in known and f"{{{name}}}" not in found:
                found.append(f"{{{name}}}")
    return found


def fill(
    text: str, values: Mapping[str, object], *, escape: bool, known: Mapping[str, str] = TAGS
) -> str:
    """Replace each {tag} by the recipient's value (escaped in HTML); a tag without a value
    is left as written."""

    def replace(match: re.Match[str]) -> str:
        key = known.get(match.group(1).strip().lower())
        if key is None or key not in values:
            return match.group(0)
        value = str(values[key])
        return html.escape(value) if escape else value

    return TAG_PATTERN.sub(replace, text or "")


def text_of(body_html: str) -> str:
    """A plain-text alternative: paragraphs and list items on their own lines, links kept."""
    text = re.sub(
        r"<a [^>]*href=\"([^\"]+)\"[^>]*>(.*?)</a>", r"\2 (\1)", body_html or "", flags=re.S
    )
    text = re.sub(r"<li[^>]*>", "• ", text)
    text = re.sub(r"</(p|div|li|h[1-3]|blockquote)>|<br\s*/?>", "\n", text)
    text = nh3.clean(text, tags=set())
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def tag_help() -> list[tuple[str, str]]:
    """The tags offered with a copy button (in the interface's language; both work), with
    what each gives."""
    from django.utils.translation import get_language

    english = get_language() == "en"
    return [
        ("{first_name}" if english else "{prénom}", _("prénom du destinataire")),
        ("{last_name}" if english else "{nom}", _("nom du destinataire")),
        ("{full_name}" if english else "{nom complet}", _("prénom et nom")),
        ("{email}" if english else "{courriel}", _("courriel du destinataire")),
        ("{program}" if english else "{programme}", _("nom du programme")),
        ("{organization}" if english else "{organisation}", _("nom de l'organisation")),
        ("{sign_in_link}" if english else "{lien de connexion}", _("lien pour se connecter")),
    ]
