"""Every e-mail sent for a programme wears its brand: a header in the programme's colour
with its logo, the body, and a footer in its second colour; the text alternative gets the
programme's name above and below. The layout is built once per programme and language and
wrapped around each body when the e-mail leaves (the outbox rows keep the body alone, as
the e-mail log shows it).

The logo (and the footer logo) is reached by the e-mail client without a session: its
address is signed for that programme and that stored file (programs.branding.email_file_path),
nothing else opens.
Colours are validated hex and the font a fixed stack; the programme's name and slogan are
escaped: nothing a person typed reaches the markup unescaped."""

import html
from typing import Any

from django.conf import settings

from cohorte.programs import branding


def _absolute(path: str) -> str:
    return settings.COHORTE_BASE_URL.rstrip("/") + path


class EmailLayout:
    def __init__(self, program: Any, language: str):
        self.program = program
        self.language = "en" if language == "en" else "fr"
        primary = branding.safe_colour(program.color_primary, branding.DEFAULT_PRIMARY)
        secondary = branding.safe_colour(program.color_secondary, branding.DEFAULT_SECONDARY)
        font = html.escape(branding.font_stack(program.font), quote=True)
        name = html.escape(program.name)
        slogan = program.slogan_in(self.language)
        organisation = html.escape(program.organisation.name)
        logo_path = branding.email_file_path(program, "logo")
        logo = (
            f'<img src="{html.escape(_absolute(logo_path), quote=True)}" alt="{name}" '
            'height="40" style="display:block;max-height:40px;max-width:160px;border:0;'
            'background:#ffffff;padding:2px;border-radius:4px">'
            if logo_path
            else ""
        )
        slogan_html = (
            f'<div style="font-size:14px;opacity:.95">{html.escape(slogan)}</div>' if slogan else ""
        )
        self.head = (
            f'<div class="cohorte-brand" data-program="{program.pk}" '
            f'style="font-family:{font};max-width:640px;margin:0 auto;color:#1d2433">'
            f'<div style="background:{primary};color:#ffffff;padding:16px 20px;'
            'border-radius:6px 6px 0 0">'
            f"{logo}"
            f'<div style="font-size:18px;font-weight:bold;margin-top:4px">{name}</div>'
            f"{slogan_html}</div>"
            '<div style="padding:16px 20px;background:#ffffff;border:1px solid #e3e6ec;'
            'border-top:0;border-bottom:0">'
        )
        footer_path = branding.email_file_path(program, "footer_logo")
        footer_logo = (
            f'<img src="{html.escape(_absolute(footer_path), quote=True)}" alt="" '
            'height="28" style="display:block;max-height:28px;max-width:140px;border:0;'
            'margin-bottom:6px;background:#ffffff;padding:2px;border-radius:4px">'
            if footer_path
            else ""
        )
        self.foot = (
            "</div>"
            f'<div style="background:{secondary};color:#ffffff;padding:10px 20px;'
            f'font-size:12px;border-radius:0 0 6px 6px">{footer_logo}{name} · {organisation}'
            "</div></div>"
        )
        self.text_head = program.name + (f"\n{slogan}" if slogan else "")
        self.text_foot = f"-- \n{program.name} · {program.organisation.name}"

    def html(self, body_html: str) -> str:
        return f"{self.head}{body_html}{self.foot}"

    def text(self, body_text: str) -> str:
        return f"{self.text_head}\n\n{body_text.strip()}\n\n{self.text_foot}\n"


class Layouts:
    """One sending batch's layouts, by message: a query per message, not per row."""

    def __init__(self) -> None:
        self.by_message: dict[int, Any] = {}
        self.cache: dict[tuple[int, str], EmailLayout] = {}

    def for_row(self, row: Any) -> EmailLayout | None:
        if not row.message_id:
            return None
        if row.message_id not in self.by_message:
            from .models import Message

            message = (
                Message.objects.filter(pk=row.message_id)
                .select_related("program__organisation")
                .first()
            )
            self.by_message[row.message_id] = message.program if message else None
        program = self.by_message[row.message_id]
        if program is None:
            return None
        key = (program.pk, row.language)
        if key not in self.cache:
            self.cache[key] = EmailLayout(program, row.language)
        return self.cache[key]


def system_html(body_text: str) -> str:
    """A system message's text as HTML paragraphs (escaped, line breaks kept, links
    written as they are)."""
    paragraphs = [p for p in body_text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        "<p>" + html.escape(p.strip()).replace("\n", "<br>") + "</p>" for p in paragraphs
    )
