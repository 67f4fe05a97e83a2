"""Reading the spreadsheets people upload: CSV in whatever Excel wrote, or .xlsx.

The file comes from anyone with an administrator's account, so it is read as hostile:
row by row (never the whole sheet at once), stopping at the row limit, with bounds on the
length of a line, the number of columns and the uncompressed size of an Excel file (a zip
bomb declares its sizes, and zipfile never inflates a part beyond what it declares).
The sheet is our own streaming reader (xlsx_reader), whose parser refuses entities as
defusedxml does (billion laughs, external entities). Whatever goes wrong, the only
exception that leaves this module is TableError, whose message tells the person what to do.
"""

import codecs
import csv
import io
import itertools
import logging
import zipfile
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: columns a row may have; our own member report has about forty
MAX_COLUMNS = 1000
#: characters in one physical line of a CSV
MAX_LINE_CHARS = 1_000_000
#: uncompressed bytes of one part of an .xlsx (the sheet's XML, the shared strings), and of all
MAX_XLSX_PART_BYTES = 64 * 1024 * 1024
MAX_XLSX_TOTAL_BYTES = 128 * 1024 * 1024
MAX_XLSX_PARTS = 1000
#: rows read, empty ones included, for each row the limit allows (a sheet of blank rows)
SCANNED_ROWS_PER_ROW = 3
#: bytes decoded at a time when checking a CSV's encoding
_CHUNK = 1024 * 1024

Row = tuple[int, list[str]]
Rows = list[Row]


class TableError(Exception):
    """The file cannot be read at all; the message is for the person who sent it."""


def _limit() -> int:
    return int(settings.COHORTE_IMPORT_MAX_ROWS)


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _too_many_rows(limit: int) -> TableError:
    return TableError(
        _("Le fichier dépasse %(limit)s lignes : découpez-le en plusieurs fichiers.")
        % {"limit": _number(limit)}
    )


def _too_many_columns(line: int) -> TableError:
    return TableError(
        _("Ligne %(line)d : plus de %(limit)s colonnes. Gardez seulement les colonnes utiles.")
        % {"line": line, "limit": _number(MAX_COLUMNS)}
    )


def _counted(
    lines: Iterator[tuple[int, list[str]]], max_rows: int
) -> Iterator[tuple[int, list[str]]]:
    """The non-empty lines, refusing what is over the limits: one at a time, never all."""
    count = -1  # the header is not a row
    for line, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > MAX_COLUMNS:
            raise _too_many_columns(line)
        if count >= max_rows:
            raise _too_many_rows(max_rows)
        count += 1
        yield line, cells


def _split(lines: Iterator[tuple[int, list[str]]]) -> tuple[list[str], Iterator[Row]]:
    """The header (read now: a file that has none fails here) and the rows after it."""
    first = next(lines, None)
    if first is None:
        return [], iter(())
    return [cell.strip() for cell in first[1]], lines


# --- CSV --------------------------------------------------------------------------------------


def _unreadable_text() -> TableError:
    return TableError(
        _("Ce fichier n'est pas un CSV lisible : enregistrez-le en CSV UTF-8 ou Windows-1252.")
    )


def text_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: what French Excel writes. Checked
    piece by piece, so that a big file is never held twice in memory."""
    if b"\x00" in data:  # UTF-16 (« Texte Unicode »), a binary file
        raise _unreadable_text()
    position = 0
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), _CHUNK):
                position = start
                decoder.decode(data[start : start + _CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            position += error.start
            continue
        return "utf-8-sig" if encoding == "utf-8" else encoding
    raise TableError(
        _(
            "Encodage illisible (octet inattendu à la position %(pos)d) : enregistrez le "
            "fichier en CSV UTF-8 ou Windows-1252."
        )
        % {"pos": position}
    )


def _bounded_lines(stream: IO[str]) -> Iterator[str]:
    number = 0
    while True:
        line = stream.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise TableError(
                _(
                    "Ligne %(line)d : plus de %(limit)s caractères. Est-ce bien un tableau "
                    "(une ligne par membre) ?"
                )
                % {"line": number, "limit": _number(MAX_LINE_CHARS)}
            )
        yield line


def _delimiter(first: str) -> str:
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    if "\t" in first and delimiter not in first:
        delimiter = "\t"
    return delimiter


def iter_csv(data: bytes, *, max_rows: int | None = None) -> tuple[list[str], Iterator[Row]]:
    """The header and the non-empty rows with their line numbers (the header is line 1),
    read line by line as they are asked for: a file over the row limit stops at the first
    row too many."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=text_encoding(data), newline="")
    lines = _bounded_lines(stream)
    leading = []
    for line in lines:
        leading.append(line)
        if line.strip():
            break
    else:
        raise TableError(_("Le fichier est vide."))
    reader = csv.reader(itertools.chain(leading, lines), delimiter=_delimiter(leading[-1]))

    def numbered() -> Iterator[Row]:
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                reason = _("une cellule dépasse %(limit)s caractères") % {
                    "limit": _number(csv.field_size_limit())
                }
            else:
                reason = _("le CSV est mal formé (%(reason)s)") % {"reason": error}
            raise TableError(
                _("Ligne %(line)d : %(reason)s") % {"line": reader.line_num, "reason": reason}
            ) from error

    return _split(_counted(numbered(), _limit() if max_rows is None else max_rows))


def read_csv(data: bytes, *, max_rows: int | None = None) -> tuple[list[str], Rows]:
    """iter_csv, every row at once (a short file: e-mails to deactivate)."""
    header, rows = iter_csv(data, max_rows=max_rows)
    return header, list(rows)


# --- Excel ------------------------------------------------------------------------------------


def _unreadable_xlsx() -> TableError:
    return TableError(_("Ce fichier Excel est illisible (.xlsx attendu)."))


def _check_xlsx_sizes(data: bytes) -> None:
    """Refuse an archive whose parts would inflate beyond what a real sheet needs."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except Exception as error:  # BadZipFile, and NotImplementedError for a version it cannot read
        raise _unreadable_xlsx() from error
    if (
        len(parts) > MAX_XLSX_PARTS
        or any(part.file_size > MAX_XLSX_PART_BYTES for part in parts)
        or sum(part.file_size for part in parts) > MAX_XLSX_TOTAL_BYTES
    ):
        raise TableError(
            _(
                "Ce fichier Excel est trop volumineux une fois décompressé : "
                "découpez-le ou enregistrez-le en CSV."
            )
        )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def iter_xlsx(data: bytes, *, max_rows: int | None = None) -> tuple[list[str], Iterator[Row]]:
    """The first sheet, row by row as they are asked for (its XML is streamed from the zip,
    one row in memory at a time)."""
    from .xlsx_reader import Book

    limit = _limit() if max_rows is None else max_rows
    scanned_limit = limit * SCANNED_ROWS_PER_ROW + 1000
    _check_xlsx_sizes(data)

    def too_many_scanned() -> TableError:
        return TableError(
            _(
                "Le fichier compte plus de %(count)s lignes, vides comprises : "
                "supprimez les lignes vides ou découpez-le."
            )
            % {"count": _number(scanned_limit)}
        )

    def numbered() -> Iterator[Row]:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                seen = 0
                for number, values in Book(archive).rows():
                    seen += 1
                    # a row number far ahead (1048576), or rows going back over and over
                    if number > scanned_limit or seen > scanned_limit:
                        raise too_many_scanned()
                    if values is None or values.count(None) == len(values):
                        continue
                    if len(values) > MAX_COLUMNS:
                        beyond = values[MAX_COLUMNS:]
                        if beyond.count(None) != len(beyond):
                            raise _too_many_columns(number)
                        values = values[:MAX_COLUMNS]
                    cells = [_cell_text(value) for value in values]
                    while cells and not cells[-1].strip():
                        cells.pop()
                    yield number, cells
        except TableError:
            raise
        except Exception as error:  # any failure of the parser on hostile input
            logger.info("unreadable xlsx: %r", error)
            raise _unreadable_xlsx() from error

    return _split(_counted(numbered(), limit))


def read_xlsx(data: bytes, *, max_rows: int | None = None) -> tuple[list[str], Rows]:
    header, rows = iter_xlsx(data, max_rows=max_rows)
    return header, list(rows)


def iter_table(
    data: bytes, filename: str, *, max_rows: int | None = None
) -> tuple[list[str], Iterator[Row]]:
    """The header and the rows of an uploaded CSV or .xlsx, at most max_rows rows
    (COHORTE_IMPORT_MAX_ROWS unless told), read as they are asked for: whatever is wrong
    with the file raises TableError then, at the row where it is met."""
    if not data or data.isspace():
        raise TableError(_("Le fichier est vide."))
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return iter_xlsx(data, max_rows=max_rows)
    if filename.lower().endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise TableError(_("L'ancien format .xls n'est pas lu : enregistrez en .xlsx ou en CSV."))
    return iter_csv(data, max_rows=max_rows)


def read_table(
    data: bytes, filename: str, *, max_rows: int | None = None
) -> tuple[list[str], Rows]:
    """iter_table, every row at once."""
    header, rows = iter_table(data, filename, max_rows=max_rows)
    return header, list(rows)
