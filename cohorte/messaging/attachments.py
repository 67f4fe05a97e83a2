"""Attachments: documents and images people share, nothing that runs. An allow-list of
types, each checked on the content (the `filetype` library reads the magic numbers) and
agreeing with the file name's extension; an Office document is a zip archive, so its
inside is checked too (its table of contents only: nothing is extracted). Plain text and
CSV are refused: the seed names PDF, images and office documents, and a « .txt » is the
usual disguise of a script.

Files are stored under a random name (attachments/<uuid>.<ext>), never the uploaded one,
and are not served on any URL: the worker reads them from storage to attach them."""

import uuid
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import filetype
from django.conf import settings
from django.utils.translation import gettext as _

#: how much of the file the type detection reads
HEAD_BYTES = 8192
#: an Office archive with more entries than this is not a document someone wrote
MAX_ZIP_ENTRIES = 5000


@dataclass(frozen=True)
class Kind:
    mime: str
    #: what `filetype` may answer for it (an OOXML file not laid out as Office does it is
    #: only recognised as a zip: its contents then decide)
    detected: frozenset[str]
    #: for a zip-based document: the folder its contents live in (word/, xl/, ppt/), or the
    #: OpenDocument `mimetype` entry
    zip_folder: str = ""
    odf: bool = False


_ZIP = "application/zip"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_ODP = "application/vnd.oasis.opendocument.presentation"

#: extension → what the content must be
ALLOWED: dict[str, Kind] = {
    "pdf": Kind("application/pdf", frozenset({"application/pdf"})),
    "png": Kind("image/png", frozenset({"image/png"})),
    "jpg": Kind("image/jpeg", frozenset({"image/jpeg"})),
    "jpeg": Kind("image/jpeg", frozenset({"image/jpeg"})),
    "gif": Kind("image/gif", frozenset({"image/gif"})),
    "webp": Kind("image/webp", frozenset({"image/webp"})),
    "docx": Kind(_DOCX, frozenset({_DOCX, _ZIP}), zip_folder="word/"),
    "xlsx": Kind(_XLSX, frozenset({_XLSX, _ZIP}), zip_folder="xl/"),
    "pptx": Kind(_PPTX, frozenset({_PPTX, _ZIP}), zip_folder="ppt/"),
    "odt": Kind(_ODT, frozenset({_ODT, _ZIP}), odf=True),
    "ods": Kind(_ODS, frozenset({_ODS, _ZIP}), odf=True),
    "odp": Kind(_ODP, frozenset({_ODP, _ZIP}), odf=True),
    "doc": Kind("application/msword", frozenset({"application/msword"})),
    "xls": Kind("application/vnd.ms-excel", frozenset({"application/vnd.ms-excel"})),
}


def extension_of(name: str) -> str:
    return PurePath(name or "").suffix.lower().lstrip(".")


def _zip_matches(upload: Any, kind: Kind) -> bool:
    """The archive's table of contents says it is this Office document (and holds no
    macros); nothing is decompressed but the few bytes of an OpenDocument `mimetype`."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return False
            names = [entry.filename for entry in entries]
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                return False  # a macro-enabled document under a .docx name
            if kind.odf:
                first = entries[0] if entries else None
                if first is None or first.filename != "mimetype" or first.file_size > 100:
                    return False
                return archive.read(first).decode("ascii", "replace").strip() == kind.mime
            return "[Content_Types].xml" in names and any(
                name.startswith(kind.zip_folder) for name in names
            )
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError):
        return False
    finally:
        upload.seek(0)


def content_type_of(upload: Any) -> str | None:
    """The type the content proves, when it is allowed and agrees with the name; else None."""
    kind = ALLOWED.get(extension_of(upload.name or ""))
    if kind is None:
        return None
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    detected = filetype.guess_mime(head) if head else None
    if detected not in kind.detected:
        return None
    if detected == _ZIP or kind.zip_folder or kind.odf:
        if not _zip_matches(upload, kind):
            return None
    return kind.mime


def attachment_check(upload: Any) -> str | None:
    """Size and type; the reason, in the sender's language, when the file is refused."""
    if (upload.size or 0) > settings.COHORTE_ATTACHMENT_MAX_BYTES:
        return _("« %(name)s » dépasse 5 Mo.") % {"name": upload.name}
    if content_type_of(upload) is None:
        return _(
            "« %(name)s » : ce type de fichier n'est pas accepté "
            "(PDF, images, documents bureautiques)."
        ) % {"name": upload.name}
    return None


def attachment_path(instance: Any, filename: str) -> str:
    """An unguessable name: the uploaded name stays in the row, not in the path."""
    extension = extension_of(filename)
    suffix = f".{extension}" if extension in ALLOWED else ""
    return f"attachments/{uuid.uuid4().hex}{suffix}"
