"""A member's photo as it is kept: a square JPEG of at most PHOTO_SIDE pixels a side, cut
from the middle of what they sent, turned the way the camera said, with no EXIF left (no
place, no device, no date). A file that is not a picture, too heavy or of too many pixels
is refused with a reason, before anything is decoded beyond its header."""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

#: the largest file accepted (the form states it)
PHOTO_MAX_BYTES = 5 * 1024 * 1024
#: the most pixels decoded: a small file can still unpack to gigabytes (a « bomb »)
PHOTO_MAX_PIXELS = 40_000_000
#: the side of the square kept
PHOTO_SIDE = 512
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


def photo_normalise(upload: UploadedFile) -> ContentFile:
    """The photo to store, or ValidationError with the reason in the member's language."""
    if (upload.size or 0) > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("La photo dépasse %(mb)d Mo : choisissez une image plus légère.")
            % {"mb": PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    not_an_image = _("Ce fichier n'est pas une image : envoyez une photo JPEG, PNG, WebP ou GIF.")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:  # reads the header only
            width, height = probe.size
            kind = probe.format
            if kind not in PHOTO_FORMATS:
                raise ValidationError(not_an_image)
            if width * height > PHOTO_MAX_PIXELS:
                raise ValidationError(
                    _(
                        "L'image est trop grande (%(w)d × %(h)d pixels) : "
                        "%(max)d millions de pixels au plus."
                    )
                    % {"w": width, "h": height, "max": PHOTO_MAX_PIXELS // 1_000_000}
                )
            picture = ImageOps.exif_transpose(probe)  # a decoded copy, upright
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValidationError(not_an_image) from error
    if picture.mode not in ("RGB", "L"):
        background = Image.new("RGB", picture.size, "white")
        rgba = picture.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        picture = background
    side = min(picture.size)
    square = ImageOps.fit(picture.convert("RGB"), (side, side), Image.Resampling.LANCZOS)
    if side > PHOTO_SIDE:
        square = square.resize((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    square.save(out, "JPEG", quality=85, optimize=True)  # no exif= given: none is written
    return ContentFile(out.getvalue(), name="photo.jpg")
