"""The one exporter base: a report yields a header and rows, this writes them safely."""

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import IO

from django.http import StreamingHttpResponse
from django.utils import timezone

#: what starts a formula (or a DDE call) in Excel, LibreOffice or Google Sheets — the
#: characters of defusedcsv, plus tab and carriage return
FORMULA_PREFIXES = ("=", "+", "-", "@", "|", "%", "\t", "\r")
#: a plain number (« -12 », « 3,5 ») is no formula and keeps its sign, as in defusedcsv
_PLAIN_NUMBER = re.compile(r"-?[0-9][0-9,.]*")


def _looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula. Spreadsheets skip leading
    spaces and line feeds, and read the full-width forms (＝ ＋ － ＠, U+FF1D…) as the
    ASCII ones: so skip what is blank or invisible, fold compatibility forms (NFKC), then
    look at the first character."""
    if not text or (text[0].isascii() and text[0].isalnum()):
        return False  # most cells: a letter or digit first is no formula (and NFKC keeps it)
    if text.startswith(("\t", "\r")):
        return True
    start = 0
    while start < len(text) and (
        text[start].isspace() or unicodedata.category(text[start]) in ("Cc", "Cf", "Zs")
    ):
        start += 1
    rest = unicodedata.normalize("NFKC", text[start:])
    if not rest.startswith(FORMULA_PREFIXES):
        return False
    return not (start == 0 and _PLAIN_NUMBER.fullmatch(text))


def neutralise(value: object) -> str:
    """Make a cell inert in spreadsheet software: a leading = + - @ | % (after spaces or
    line feeds, in ASCII or full-width) would start a formula; a quote keeps it text."""
    if type(value) is str:  # most cells: straight to the check
        return "'" + value if _looks_like_formula(value) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        try:
            value = timezone.localtime(value)
        except OverflowError:  # a time stored at the very end of the calendar: as it is
            pass
        return value.replace(tzinfo=None).isoformat(" ", timespec="seconds")  # docs/i18n.md
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if _looks_like_formula(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable[object], rows: Iterable[Iterable[object]], delimiter: str
) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")
    yield "\ufeff"  # BOM: Excel then reads UTF-8.
    yield writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def _in_chunks(lines: Iterable[str], size: int = 64 * 1024) -> Iterator[str]:
    """Lines joined into pieces of about 64 KB: the response encodes, and the server writes,
    one piece at a time — once per row, that cost more than writing the row (100,000 rows)."""
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def csv_response(
    filename: str,
    header: Iterable[object],
    rows: Iterable[Iterable[object]],
    *,
    delimiter: str = ";",
) -> StreamingHttpResponse:
    """Stream a CSV so 10,000 rows never sit in memory at once."""
    response = StreamingHttpResponse(
        _in_chunks(csv_lines(header, rows, delimiter)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_write(
    stream: IO[bytes], header: Iterable[object], rows: Iterable[Iterable[object]], *, delimiter: str
) -> None:
    """The same CSV into a binary stream (a file inside a zip), line by line."""
    for line in csv_lines(header, rows, delimiter):
        stream.write(line.encode("utf-8"))
