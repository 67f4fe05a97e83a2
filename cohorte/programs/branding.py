"""A programme's brand: colours, font and images, and the rules that keep them legible and
safe. Pure functions where they can be (hex parsing, WCAG contrast), so they are tested
alone; the images are checked on their content and re-encoded before they are stored.

Colours are used as the background of buttons and headers with white text, and as the
text of links and headings on white: each must reach WCAG AA (4.5:1) against white.
"""

import io
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _

from cohorte.core.files import random_name

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#2f5bd3"
DEFAULT_SECONDARY = "#1f2a44"
#: what the brand colours meet on every page, e-mail and PDF: white letters on a button or
#: header, and as letters themselves (titles, links) the white of a card or the page's
#: background (--bg in cohorte.css)
WHITE = "#ffffff"
PAGE_BACKGROUND = "#f6f7f9"
MIN_CONTRAST = 4.5

#: font key → (label, CSS font-family stack); web-safe stacks only, nothing fetched
FONTS: dict[str, tuple[Any, str]] = {
    "system": (
        _("Système (sans empattement)"),
        'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    ),
    "helvetica": ("Helvetica / Arial", '"Helvetica Neue", Helvetica, Arial, sans-serif'),
    "verdana": ("Verdana", "Verdana, Geneva, Tahoma, sans-serif"),
    "trebuchet": ("Trebuchet", '"Trebuchet MS", "Lucida Grande", sans-serif'),
    "georgia": (_("Georgia (avec empattement)"), 'Georgia, "Times New Roman", Times, serif'),
    "palatino": ("Palatino", '"Palatino Linotype", Palatino, "Book Antiqua", serif'),
    "dejavu": ("DejaVu Sans", '"DejaVu Sans", Verdana, sans-serif'),
}
FONT_CHOICES = [(key, label) for key, (label, _stack) in FONTS.items()]


def font_stack(key: str) -> str:
    return FONTS.get(key, FONTS["system"])[1]


def validate_hex_colour(value: str) -> None:
    if not HEX_COLOUR.match(value or ""):
        raise ValidationError(
            _("« %(value)s » n'est pas une couleur : écrivez-la #RRVVBB (par exemple #2f5bd3)."),
            code="colour",
            params={"value": str(value)[:20]},
        )


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of « #rrggbb »."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio between two « #rrggbb » colours, from 1 to 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def safe_colour(value: str, default: str) -> str:
    return value if HEX_COLOUR.match(value or "") else default


def brand_tokens(program: Any) -> dict[str, str]:
    """--brand-primary, --brand-secondary, --brand-font (the design system's names)."""
    return {
        "--brand-primary": safe_colour(program.color_primary, DEFAULT_PRIMARY),
        "--brand-secondary": safe_colour(program.color_secondary, DEFAULT_SECONDARY),
        "--brand-font": font_stack(program.font),
    }


def brand_contrast(colour: str) -> float:
    """The lowest contrast this brand colour has with what it meets (WHITE, PAGE_BACKGROUND)."""
    return min(contrast_ratio(colour, WHITE), contrast_ratio(colour, PAGE_BACKGROUND))


# --- Images -------------------------------------------------------------------------------

IMAGE_MAX_BYTES = 2 * 1024 * 1024
#: the longest side kept; a larger image is scaled down when it is re-encoded
IMAGE_MAX_SIDE = 2000
#: decoding refuses images with more pixels than this (a « decompression bomb »)
IMAGE_MAX_PIXELS = 40_000_000
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "png", "WEBP": "png"}

#: which brand file → model field; the view and the URLs take these names only
BRAND_FILES = ("logo", "header_logo", "footer_logo", "image", "default_avatar")


def brand_image_path(instance: Any, filename: str) -> str:
    """A random name under brand/: the files are served by programs:brand-file only."""
    return random_name("brand", filename)


def reencoded_image(upload: Any) -> SimpleUploadedFile:
    """The upload as a fresh PNG or JPEG drawn from its pixels: what is kept is an image
    Pillow decoded, with no metadata, comment or trailing bytes of the original. Refuses
    (ValidationError, in French) what is too large, not an image, or not PNG/JPEG/GIF/WebP."""
    import filetype
    from PIL import Image, ImageOps, UnidentifiedImageError

    if (getattr(upload, "size", 0) or 0) > IMAGE_MAX_BYTES:
        raise ValidationError(
            _("« %(name)s » dépasse 2 Mo."), code="size", params={"name": upload.name}
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    if filetype.guess_mime(head) not in {"image/png", "image/jpeg", "image/gif", "image/webp"}:
        raise ValidationError(
            _("« %(name)s » n'est pas une image PNG, JPEG, GIF ou WebP."),
            code="type",
            params={"name": upload.name},
        )
    Image.MAX_IMAGE_PIXELS = IMAGE_MAX_PIXELS
    try:
        with Image.open(upload) as source:
            source_format = source.format or ""
            if source_format not in IMAGE_FORMATS:
                raise ValidationError(
                    _("« %(name)s » n'est pas une image PNG, JPEG, GIF ou WebP."),
                    code="type",
                    params={"name": upload.name},
                )
            source.seek(0)
            image = ImageOps.exif_transpose(source)
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(
            _("« %(name)s » n'est pas une image lisible."),
            code="type",
            params={"name": upload.name},
        ) from error
    image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE))
    extension = IMAGE_FORMATS[source_format]
    out = io.BytesIO()
    if extension == "jpg":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    content_type = "image/jpeg" if extension == "jpg" else "image/png"
    return SimpleUploadedFile(f"image.{extension}", out.getvalue(), content_type=content_type)


# --- Services -----------------------------------------------------------------------------


def program_brand_update(*, program: Any, by: Any, **changes: Any) -> Any:
    """Info and Design of the Programme tab. A new image replaces the old, whose file is
    deleted once the change is committed (a rollback keeps it); an image set to None is
    removed. The audit log says which fields moved, never the images' bytes."""
    from django.db import transaction

    from cohorte.core.audit import log_action
    from cohorte.messaging.rendering import sanitise

    old_files = []
    old = {}
    with transaction.atomic():
        for name, value in changes.items():
            if name in BRAND_FILES:
                current = getattr(program, name)
                if current:
                    old_files.append((current.storage, current.name))
                if value is None:
                    setattr(program, name, "")
                else:
                    getattr(program, name).save(value.name, value, save=False)
                old[name] = current.name if current else ""
                continue
            if name in ("about_fr", "about_en"):
                value = sanitise(value or "")
            old[name] = getattr(program, name)
            setattr(program, name, value)
        program.clean_fields(
            exclude=[f.name for f in program._meta.fields if f.name not in changes]
        )
        program.save()
        log_action(
            "program.brand_updated",
            actor=by,
            target=program,
            data={
                "old": {k: str(v)[:200] for k, v in old.items() if k not in BRAND_FILES},
                "new": {k: str(getattr(program, k))[:200] for k in changes if k not in BRAND_FILES},
                "files": sorted(k for k in changes if k in BRAND_FILES),
            },
        )

        def delete_old() -> None:
            for storage, name in old_files:
                storage.delete(name)

        transaction.on_commit(delete_old)
    return program


def partner_logo_add(*, program: Any, by: Any, name: str, url: str, image: Any, position: int):
    from cohorte.core.audit import log_action

    from .models import ProgramPartnerLogo

    logo = ProgramPartnerLogo(program=program, name=name, url=url, position=position)
    logo.image.save(image.name, image, save=False)
    logo.save()
    log_action("program.partner_logo_added", actor=by, target=program, data={"name": name})
    return logo


def partner_logo_delete(*, logo: Any, by: Any) -> None:
    from django.db import transaction

    from cohorte.core.audit import log_action

    storage, name = logo.image.storage, logo.image.name
    program = logo.program
    logo.delete()
    log_action("program.partner_logo_deleted", actor=by, target=program, data={"name": logo.name})
    transaction.on_commit(lambda: storage.delete(name))


# --- Addresses for e-mails ------------------------------------------------------------------

_SALT = "cohorte.programs.brand-file"


def _signature_value(program: Any, which: str) -> str:
    return f"{program.pk}:{which}:{getattr(program, which).name}"


def email_file_path(program: Any, which: str = "logo") -> str:
    """A path (prefix it with the site's address) that opens this one brand file without a
    session, for e-mails: signed with SECRET_KEY for this programme, this file and its
    stored name, so it cannot be guessed and stops working when the file is replaced."""
    from django.core import signing
    from django.urls import reverse

    if which not in BRAND_FILES or not getattr(program, which):
        return ""
    token = signing.Signer(salt=_SALT).sign(_signature_value(program, which)).rpartition(":")[2]
    return f"{reverse('programs:brand-file', args=[program.pk, which])}?s={token}"


def email_file_signed(program: Any, which: str, token: str) -> bool:
    from django.core import signing

    if not token or len(token) > 100 or not getattr(program, which):
        return False
    try:
        signing.Signer(salt=_SALT).unsign(f"{_signature_value(program, which)}:{token}")
    except signing.BadSignature:
        return False
    return True
