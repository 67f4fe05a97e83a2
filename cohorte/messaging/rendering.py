"""Message bodies: sanitised rich text, dynamic tags in two languages, text alternatives."""

import base64
import binascii
import dataclasses
import email.header
import email.utils
import functools
import html
import re
import secrets
from collections.abc import Mapping

import nh3
from django.conf import settings
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


# --- One message for many recipients ----------------------------------------------------------

#: stands for a recipient's tag while a body is sanitised once for all of them: letters and
#: digits only, so sanitising and text_of() leave it as it is; random, so no body holds it
_TOKEN = f"cohorte{secrets.token_hex(8)}tag"
#: a tag (<a href="…">) in the sanitiser's output: its attributes are always double-quoted
_MARKUP = re.compile(r'<(?:[^">]|"[^"]*")*>')


def _as_text_node(value: str) -> str:
    """The value as the HTML parser reads it in text: CR and CRLF become LF, NUL is dropped."""
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _escape_text_node(value: str) -> str:
    """The value as the sanitiser writes text (its own escaping, nothing more)."""
    escaped = _as_text_node(value).replace("&", "&amp;").replace("\xa0", "&nbsp;")
    return escaped.replace("<", "&lt;").replace(">", "&gt;")


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A body sanitised once for every recipient of a message, in one language; only the
    recipient's tags are filled for each. That is the same HTML as sanitising each filled
    body (sanitise(fill(body, values, escape=True))) because every recipient's tag sits in
    text, never in markup: the sanitiser parses the escaped value back to the same text and
    writes it with the escaping done here. A body with a recipient's tag inside markup
    (<a href="{prénom}">) is sanitised per recipient, as before."""

    body: str
    shared: Mapping[str, str]
    keys: tuple[str, ...]
    html: str | None
    text: str | None

    def render(self, values: Mapping[str, object]) -> tuple[str, str]:
        """(html, text) for one recipient: `values` holds the recipient's own tags."""
        if self.html is None or self.text is None:
            html_body = sanitise(fill(self.body, {**self.shared, **values}, escape=True))
            return html_body, text_of(html_body)
        html_body, text = self.html, self.text
        for n, key in enumerate(self.keys):
            token = f"{_TOKEN}{n}x"
            value = str(values[key])
            html_body = html_body.replace(token, _escape_text_node(value))
            text = text.replace(token, _as_text_node(value))
        return html_body, re.sub(r"\n{3,}", "\n\n", text).strip()


def prepare(body: str, *, shared: Mapping[str, object], keys: tuple[str, ...]) -> Prepared:
    """Sanitise `body` once with the values every recipient shares (`shared`), the tags of
    `keys` left to fill per recipient by Prepared.render()."""
    shared_text = {key: str(value) for key, value in shared.items()}
    tokens = {key: f"{_TOKEN}{n}x" for n, key in enumerate(keys)}
    html_body = sanitise(fill(body, {**shared_text, **tokens}, escape=True))
    in_markup = any(
        _TOKEN in markup.group(0) for markup in _MARKUP.finditer(html_body)
    ) or html_body.count(_TOKEN) != sum(html_body.count(token) for token in tokens.values())
    if in_markup:
        return Prepared(body, shared_text, keys, None, None)
    return Prepared(body, shared_text, keys, html_body, text_of(html_body))


# --- On the wire ---------------------------------------------------------------------------


def _one_line(value: str) -> str:
    """A header value on one line: a line break would start another header."""
    return " ".join(value.split())


@functools.lru_cache(maxsize=256)  # a message's rows mostly share their subject
def _encoded(value: str) -> str:
    """A header value in ASCII: as it is, or as RFC 2047 encoded words (base64 UTF-8 of at
    most 45 bytes each, whole characters, one per folded line)."""
    value = _one_line(value)
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 45:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode()}?=" for word in words)


def envelope_address(address: str) -> str:
    """The bare address SMTP's MAIL FROM and RCPT TO take; a domain in other letters is
    written in IDNA, a local part in other letters or any space or bracket is refused."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or not local.isascii()
        or any(c.isspace() or c in '<>,;"()[]\\' for c in address)
    ):
        raise ValueError(f"Adresse invalide : {address!r}")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def header_address(address: str, name: str = "") -> str:
    """« Name <address> » for a From or To header (RFC 5322 quoting, a name in other
    letters encoded); the bare address when there is no name or the name is the address."""
    address, name = address.strip(), _one_line(name)
    if not address.isascii():  # a domain in other letters, in IDNA as on the envelope
        address = envelope_address(address)
    if not name or name.casefold() == address.casefold():
        return address
    if not name.isascii():
        return f"{_encoded(name)} <{address}>"
    return email.utils.formataddr((name, address))


def _quoted_printable(body: str) -> bytes:
    """A text part's body: UTF-8 in quoted-printable (lines of at most 76 characters, CRLF),
    ending with a line break as Django's do."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    lines = (body if body.endswith("\n") else body + "\n").encode("utf-8")
    encoded = binascii.b2a_qp(lines, istext=True)
    return encoded.replace(b"\n", b"\r\n")


def _text_part(body: str, subtype: str) -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + _quoted_printable(body)


def wire_bytes(
    *, from_header: str, to_header: str, subject: str, message_id: str, text: str, html: str
) -> bytes:
    """The e-mail as the SMTP server receives it: the headers and parts Django's
    EmailMultiAlternatives writes (text, and HTML as its alternative), written here in
    ASCII (encoded words, quoted-printable UTF-8): Django's policy-based building took
    several times the rest of the send. Each header is on one line or folded."""
    head = (
        f"Subject: {_encoded(subject)}\r\n"
        f"From: {from_header}\r\n"
        f"To: {to_header}\r\n"
        f"Date: {email.utils.formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}\r\n"
        f"Message-ID: {_one_line(message_id)}\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode("ascii")
    if not html:
        return head + _text_part(text, "plain")
    # quoted-printable writes every « = » as =3D: no line of a part can be this boundary
    boundary = f"=={secrets.token_hex(16)}=="
    return b"".join(
        [
            head,
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode(),
            f"--{boundary}\r\n".encode(),
            _text_part(text, "plain"),
            f"\r\n--{boundary}\r\n".encode(),
            _text_part(html, "html"),
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
