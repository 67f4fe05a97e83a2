"""The one exporter base: a report is a list of columns and rows yielded one at a time,
with their total announced first; each format is a writer that streams the rows to a file,
neutralises every text cell (formula injection, in every format) and reports its progress.

CSV is UTF-8 with a BOM, `;` in French and `,` in English (core.exports); XLSX is written
by XlsxWriter in constant memory, a row at a time; PDF is for bounded summaries: beyond
PDF_MAX_ROWS rows the table stops and says so (the CSV or XLSX has them all).
"""

import csv
import dataclasses
import io
import string
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from cohorte.core.exports import neutralise

CSV, XLSX, PDF = "csv", "xlsx", "pdf"
FORMATS = (CSV, XLSX, PDF)
#: the longest table a PDF holds: past it, the file says how many rows it left out
PDF_MAX_ROWS = 500
#: how often the progress is written: every so many rows, at most every so many seconds
PROGRESS_EVERY = 500
PROGRESS_SECONDS = 0.25
#: a spreadsheet cell holds at most this many characters
XLSX_CELL_MAX = 32767

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise


@dataclasses.dataclass
class Report:
    """What a writer needs: a title, the columns, the total (for progress), the rows in
    the columns' order, and notes that the file states (what it leaves out, and why)."""

    name: str
    title: str
    columns: list[Column]
    total: int
    rows: Iterable[list[Any]]
    notes: list[str] = dataclasses.field(default_factory=list)

    def only(self, keys: list[str] | None) -> "Report":
        """The same report with the columns asked for, in that order (unknown keys are
        the caller's to refuse: see unknown_columns)."""
        if not keys:
            return self
        index = {column.key: i for i, column in enumerate(self.columns)}
        picked = [index[key] for key in keys if key in index]
        rows = self.rows
        return dataclasses.replace(
            self,
            columns=[self.columns[i] for i in picked],
            rows=([row[i] for i in picked] for row in rows),
        )


def unknown_columns(columns: list[Column], keys: list[str]) -> list[str]:
    known = {column.key for column in columns}
    return [key for key in keys if key not in known]


def _counted(report: Report, progress: Progress | None) -> Iterator[list[Any]]:
    """The rows, the progress told at the start, every PROGRESS_EVERY rows but at most
    every PROGRESS_SECONDS (each is a write: 200 of them cost half a second of a report of
    100,000 rows), and at the end."""
    done = 0
    total = report.total
    if progress is None:
        yield from report.rows
        return
    progress(0, total)
    told = time.monotonic()
    for row in report.rows:
        yield row
        done += 1
        if done % PROGRESS_EVERY == 0 and time.monotonic() - told >= PROGRESS_SECONDS:
            progress(done, max(total, done))
            told = time.monotonic()
    progress(done, max(total, done))


#: a text that starts so (or is empty) is given back as it is: no formula starts so
_SAFE_START = frozenset(["", *string.ascii_letters, *string.digits])


def _csv_cells(row: list[Any]) -> list[Any]:
    """The row's cells made inert (neutralise), without a call for the cells it would give
    back as they are — an integer (csv writes str() of it too), an empty text, a text
    whose first character is an ASCII letter or digit (one set lookup) — which are most
    cells: 3,000,000 calls for 100,000 members otherwise."""
    return [
        cell
        if (type(cell) is str and cell[:1] in _SAFE_START) or type(cell) is int
        else neutralise(cell)
        for cell in row
    ]


def csv_write_report(
    report: Report, stream: IO[bytes], *, delimiter: str, progress: Progress | None = None
) -> int:
    """UTF-8 with a BOM (Excel then reads it), the header and every row made inert, written
    to `stream` about 64 KB at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([neutralise(str(column.label)) for column in report.columns])
    count = 0
    for row in _counted(report, progress):
        writer.writerow(_csv_cells(row))
        count += 1
        if buffer.tell() >= 64 * 1024:
            stream.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    stream.write(buffer.getvalue().encode("utf-8"))
    return count


def _xlsx_cell(value: Any) -> tuple[str, Any]:
    if value is None or value == "":
        return "blank", None
    if isinstance(value, bool):
        return "string", _("oui") if value else _("non")
    if isinstance(value, int | float):
        return "number", value
    return "string", neutralise(value)[:XLSX_CELL_MAX]


def xlsx_write_report(report: Report, path: str, *, progress: Progress | None = None) -> int:
    """In constant memory: each row is flushed to the file once the next one starts. Every
    text goes through write_string (never write(), which would read « =… » as a formula)
    after neutralise, so a cell another spreadsheet re-reads as text stays inert too."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    count = 0
    try:
        sheet = workbook.add_worksheet(neutralise(report.title)[:31].replace("/", "-") or "report")
        bold = workbook.add_format({"bold": True})
        for column, item in enumerate(report.columns):
            sheet.write_string(0, column, neutralise(str(item.label)), bold)
        sheet.freeze_panes(1, 0)
        write_string, write_number = sheet.write_string, sheet.write_number
        for count, row in enumerate(_counted(report, progress), start=1):
            for column, value in enumerate(row):
                kind = type(value)
                if kind is str and value and value[0].isascii() and value[0].isalnum():
                    write_string(count, column, value[:XLSX_CELL_MAX])  # inert: as it is
                elif kind is int:
                    write_number(count, column, value)
                else:
                    cell_kind, cell = _xlsx_cell(value)
                    if cell_kind == "number":
                        write_number(count, column, cell)
                    elif cell_kind == "string":
                        write_string(count, column, cell)
        if report.notes:
            notes = workbook.add_worksheet(_("Notes"))
            for line, note in enumerate(report.notes):
                notes.write_string(line, 0, neutralise(note)[:XLSX_CELL_MAX])
    finally:
        workbook.close()
    return count


def pdf_write_report(
    report: Report, stream: IO[bytes], *, progress: Progress | None = None, limit: int | None = None
) -> int:
    """A bounded table: the first `limit` rows, and a note of how many were left out."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    limit = PDF_MAX_ROWS if limit is None else limit
    kept: list[list[str]] = []
    count = 0
    for row in _counted(report, progress):
        count += 1
        if len(kept) < limit:
            kept.append([_pdf_cell(value) for value in row])
    notes = list(report.notes)
    if count > limit:
        notes.append(
            _(
                "Ce PDF montre les %(kept)d premières lignes sur %(total)d : le PDF est fait pour "
                "les synthèses, demandez le CSV ou le XLSX pour toutes les lignes."
            )
            % {"kept": limit, "total": count}
        )
    html = render_to_string(
        "reports/run_pdf.html",
        {
            "title": report.title,
            "columns": [str(column.label) for column in report.columns],
            "rows": kept,
            "notes": notes,
            "count": count,
            "made_at": timezone.localtime(),
        },
    )
    # nothing is fetched: the document has no image, no link to follow
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    stream.write(HTML(string=html, url_fetcher=fetcher).write_pdf())
    return count


def _pdf_cell(value: Any) -> str:
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    text = neutralise(value)
    return text if len(text) <= 1000 else text[:1000] + "…"
