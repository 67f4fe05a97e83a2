"""Reading the spreadsheets people upload: CSV in whatever Excel wrote, or .xlsx."""

import csv
import io
import zipfile

from django.utils.translation import gettext as _


class TableError(Exception):
    """The file cannot be read at all; the message is for the person who sent it."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252: what French Excel writes."""
    if b"\x00" in data[:4096]:
        raise TableError(
            _("Ce fichier n'est pas un CSV lisible : enregistrez-le en CSV UTF-8 ou Windows-1252.")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        raise TableError(
            _(
                "Encodage illisible (octet inattendu à la position %(pos)d) : enregistrez le "
                "fichier en CSV UTF-8 ou Windows-1252."
            )
            % {"pos": error.start}
        ) from error


def read_csv(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-empty rows with their line numbers (the header is line 1)."""
    text = decode_text(data)
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        raise TableError(_("Le fichier est vide."))
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    if "\t" in first and delimiter not in first:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            rows.append((reader.line_num, row))
    except csv.Error as error:
        raise TableError(
            _("Ligne %(line)d : %(reason)s") % {"line": reader.line_num, "reason": error}
        ) from error
    return header or [], rows


def read_xlsx(data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise TableError(_("Ce fichier Excel est illisible (.xlsx attendu).")) from error
    sheet = book.worksheets[0]
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = ["" if value is None else _cell_text(value) for value in values]
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        rows.append((number, cells))
    book.close()
    return header or [], rows


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not data.strip():
        raise TableError(_("Le fichier est vide."))
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return read_xlsx(data)
    if filename.lower().endswith(".xls"):
        raise TableError(_("L'ancien format .xls n'est pas lu : enregistrez en .xlsx ou en CSV."))
    return read_csv(data)
