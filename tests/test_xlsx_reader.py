"""Our own .xlsx reader reads what openpyxl read: the same header, the same rows with the
same line numbers and the same text in each cell (numbers, dates, booleans, strings),
checked on random sheets against the openpyxl-based reading it replaces, kept here as the
reference."""

import datetime
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from cohorte.core import tabular
from cohorte.core.tabular import TableError, read_table

from .test_import_limits import SHEET, STRINGS, with_part, xlsx

# --- The reference: iter_xlsx as it was, on openpyxl's read-only mode --------------------------

_HEAD = 64 * 1024


def _with_dimensions(data: bytes) -> bytes:
    import re

    root_re = re.compile(rb"<(\w+:)?worksheet\b[^>]*>")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        missing: dict[str, tuple[int, bytes]] = {}
        for item in archive.infolist():
            if not (item.filename.startswith("xl/worksheets/") and item.filename.endswith(".xml")):
                continue
            with archive.open(item) as part:
                head = part.read(_HEAD)
            data_at = head.find(b"sheetData")
            before = head if data_at == -1 else head[:data_at]
            root = root_re.search(head)
            if b"dimension" not in before and root:
                tag = (root.group(1) or b"") + b"dimension"
                missing[item.filename] = (root.end(), b"<" + tag + b' ref="A1"/>')
        if not missing:
            return data
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for item in archive.infolist():
                with archive.open(item) as source, out.open(item.filename, "w") as target:
                    if item.filename in missing:
                        at, dimension = missing[item.filename]
                        target.write(source.read(at) + dimension)
                    while chunk := source.read(1024 * 1024):
                        target.write(chunk)
    return buffer.getvalue()


def openpyxl_read(data: bytes, max_rows: int = 50):
    limit = max_rows
    scanned_limit = limit * tabular.SCANNED_ROWS_PER_ROW + 1000

    def numbered():
        book = load_workbook(io.BytesIO(_with_dimensions(data)), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > scanned_limit:
                    raise TableError("scanned")
                if values.count(None) == len(values):
                    continue
                if len(values) > tabular.MAX_COLUMNS:
                    beyond = values[tabular.MAX_COLUMNS :]
                    if beyond.count(None) != len(beyond):
                        raise tabular._too_many_columns(number)
                    values = values[: tabular.MAX_COLUMNS]
                cells = [tabular._cell_text(value) for value in values]
                while cells and not cells[-1].strip():
                    cells.pop()
                yield number, cells
        finally:
            book.close()

    header, rows = tabular._split(tabular._counted(numbered(), limit))
    return header, list(rows)


def outcome(reader, data: bytes, max_rows: int):
    try:
        return reader(data, max_rows)
    except TableError as error:
        return "error", str(error)


def ours(data: bytes, max_rows: int):
    return read_table(data, "membres.xlsx", max_rows=max_rows)


# --- Random sheets --------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters=[chr(n) for n in (*range(0, 9), 11, 12, *range(14, 32))],
    ),
    max_size=12,
)
_VALUES = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(["=A1", "=1+1", " ", "  a  ", "\t", "x005F_x", "0012", "1e5", "TRUE", "é"]),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(datetime.date(1900, 1, 1), datetime.date(9999, 12, 31)),
    st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(9999, 12, 30)),  # noqa: DTZ001
    st.times(),
    st.timedeltas(datetime.timedelta(0), datetime.timedelta(days=1000)),
)
_ROWS = st.lists(st.lists(_VALUES, max_size=8), max_size=12)


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_ROWS, max_rows=st.sampled_from([3, 50]))
def test_a_random_sheet_reads_as_openpyxl_read_it(rows, max_rows):
    data = xlsx(rows)
    assert outcome(ours, data, max_rows) == outcome(openpyxl_read, data, max_rows)


# --- What openpyxl gave, cell by cell ----------------------------------------------------------


def test_dates_numbers_and_booleans_read_as_before():
    data = xlsx(
        [
            ["Courriel", "Arrivée", "Rendez-vous", "Âge", "Note", "Actif", "Heure"],
            [
                "a@x.example",
                datetime.date(2024, 3, 1),
                datetime.datetime(2024, 3, 1, 14, 30),  # noqa: DTZ001 — what a sheet holds
                42,
                4.5,
                True,
                datetime.time(9, 15),
            ],
            ["b@x.example", None, None, 3.0, -0.25, False],
        ]
    )
    expected = (
        ["Courriel", "Arrivée", "Rendez-vous", "Âge", "Note", "Actif", "Heure"],
        [
            (
                2,
                [
                    "a@x.example",
                    "2024-03-01T00:00:00",
                    "2024-03-01T14:30:00",
                    "42",
                    "4.5",
                    "True",
                    "09:15:00",
                ],
            ),
            (3, ["b@x.example", "", "", "3", "-0.25", "False"]),
        ],
    )
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected


WORKSHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _sheet(rows: bytes, root: bytes = WORKSHEET, close: bytes = b"</worksheet>") -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + root + rows + close


def test_every_kind_of_cell_is_read():
    strings = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<si><t>Courriel</t></si>"
        b'<si><r><rPr><b/></rPr><t>Ma</t></r><r><t xml:space="preserve"> rie </t></r>'
        b'<rPh sb="0" eb="1"><t>phonetic</t></rPh></si>'
        b'<si><t xml:space="preserve">  espac\xc3\xa9  </t></si>'
        b"</sst>"
    )
    sheet = _sheet(
        b"<sheetData>"
        b'<row r="1"><c r="A1" t="s"><v>0</v></c>'
        b'<c r="B1" t="inlineStr"><is><t>Pr\xc3\xa9nom</t></is></c>'
        b'<c r="D1" t="inlineStr"><is><t>Total</t></is></c>'
        b'<c r="E1" t="inlineStr"><is><t>Erreur</t></is></c>'
        b'<c r="F1" t="inlineStr"><is><t>Oui</t></is></c></row>'
        b'<row r="3"><c r="A3" t="inlineStr"><is><t>a@x.example</t></is></c>'
        b'<c r="B3" t="s"><v>1</v></c><c r="C3" t="s"><v>2</v></c>'
        b'<c r="D3" t="str"><f>CONCAT("a","b")</f><v>ab</v></c>'
        b'<c r="E3" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="F3" t="b"><v>1</v></c></row>'
        b'<row><c><v>12.0</v></c><c><v>1E3</v></c><c/><c t="inlineStr"><is><r><t>x</t></r>'
        b"<r><t>y</t></r></is></c></row>"
        b"</sheetData>"
    )
    data = with_part(with_part(xlsx([["x"]]), STRINGS, strings), SHEET, sheet)
    expected = (
        ["Courriel", "Prénom", "", "Total", "Erreur", "Oui"],
        [
            (3, ["a@x.example", "Ma rie ", "  espacé  ", "ab", "#DIV/0!", "True"]),
            (4, ["12", "1000", "", "xy"]),
        ],
    )
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected


def test_a_sheet_with_prefixed_tags_and_no_dimension_is_read():
    root = b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    sheet = _sheet(
        b'<x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>Courriel</x:t></x:is>'
        b'</x:c></x:row><x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>a@x.example</x:t>'
        b'</x:is></x:c><x:c r="B2"><x:v>7</x:v></x:c></x:row></x:sheetData>',
        root,
        b"</x:worksheet>",
    )
    data = with_part(xlsx([["x"]]), SHEET, sheet)
    expected = (["Courriel"], [(2, ["a@x.example", "7"])])
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected


def test_a_custom_date_format_is_a_date_and_a_plain_number_is_not():
    book = Workbook()
    sheet = book.active
    sheet.append(["Courriel", "Arrivée", "Score"])
    sheet.append(["a@x.example", 45352, 45352])
    sheet["B2"].number_format = "dd/mm/yyyy"
    sheet["C2"].number_format = "0.00"
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    expected = (
        ["Courriel", "Arrivée", "Score"],
        [(2, ["a@x.example", "2024-03-01T00:00:00", "45352"])],
    )
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected


def test_the_first_sheet_is_the_one_the_workbook_names_first():
    book = Workbook()
    book.active.title = "Membres"
    book.active.append(["Courriel"])
    book.active.append(["premier@x.example"])
    other = book.create_sheet("Autre")
    other.append(["Courriel"])
    other.append(["second@x.example"])
    buffer = io.BytesIO()
    book.save(buffer)
    # the parts swapped: the first sheet of the workbook is now in sheet2.xml
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    parts = {item.filename: source.read(item) for item in source.infolist()}
    rels = parts["xl/_rels/workbook.xml.rels"]
    assert b"worksheets/sheet1.xml" in rels and b"worksheets/sheet2.xml" in rels
    parts["xl/_rels/workbook.xml.rels"] = (
        rels.replace(b"worksheets/sheet1.xml", b"worksheets/TMP")
        .replace(b"worksheets/sheet2.xml", b"worksheets/sheet1.xml")
        .replace(b"worksheets/TMP", b"worksheets/membres.xml")
    )
    parts["xl/worksheets/membres.xml"] = parts.pop("xl/worksheets/sheet1.xml")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"/xl/worksheets/sheet1.xml", b"/xl/worksheets/membres.xml"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    data = out.getvalue()
    expected = (["Courriel"], [(2, ["premier@x.example"])])
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected


@pytest.mark.parametrize(
    "sheet",
    [
        b'<sheetData><row r="x"><c r="A1"><v>1</v></c></row></sheetData>',
        b'<sheetData><row r="1"><c r="A1" t="s"><v>99</v></c></row></sheetData>',
        b'<sheetData><row r="1"><c r="A1" t="b"><v>oui</v></c></row></sheetData>',
        b'<sheetData><row r="1"><c r="A1"><v>abc</v></c></row></sheetData>',
        b'<sheetData><row r="1"><c r="11"><v>1</v></c></row></sheetData>',
    ],
    ids=["row-number", "shared-string-index", "boolean", "number", "cell-reference"],
)
def test_a_broken_cell_makes_the_file_unreadable(sheet):
    data = with_part(xlsx([["x"]]), SHEET, _sheet(sheet))
    with pytest.raises(TableError) as refused:
        read_table(data, "membres.xlsx")
    assert "Ce fichier Excel est illisible" in str(refused.value)


def test_rows_going_back_over_and_over_are_not_read_to_their_end():
    rows = b"".join(b'<row r="2"><c r="A2"><v>%d</v></c></row>' % n for n in range(40_000))
    data = with_part(xlsx([["x"]]), SHEET, _sheet(b"<sheetData>" + rows + b"</sheetData>"))
    with pytest.raises(TableError) as refused:
        read_table(data, "membres.xlsx", max_rows=50)
    assert "vides comprises" in str(refused.value)


def test_a_workbook_on_the_1904_calendar_reads_its_dates_as_before():
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["Courriel", "Arrivée"])
    book.active.append(["a@x.example", datetime.date(2024, 3, 1)])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert b"date1904" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    expected = (["Courriel", "Arrivée"], [(2, ["a@x.example", "2024-03-01T00:00:00"])])
    assert openpyxl_read(data) == expected
    assert read_table(data, "membres.xlsx") == expected
