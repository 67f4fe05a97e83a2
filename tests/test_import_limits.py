"""Hostile or oversized files for « Importer des membres » and « Désactiver les membres »:
one row limit for the page and the API, files read row by row and refused at the first row
too many, XML bombs and zip bombs refused with a clear message, never a server error."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cohorte.accounts import services
from cohorte.core.models import Job
from cohorte.core.tabular import TableError, read_table

from .conftest import signed_in

LIMIT = django_settings.COHORTE_IMPORT_MAX_ROWS


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_part(data: bytes, name: str, content: bytes, *, level: int = 6) -> bytes:
    """The same .xlsx with one part replaced or added, as an attacker would write it with
    zipfile. A shared strings part is declared in the content types (openpyxl writes none)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    parts = {item.filename: source.read(item) for item in source.infolist()}
    if name == STRINGS and name not in parts:
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    parts[name] = content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as out:
        for filename, part in parts.items():
            out.writestr(filename, part)
    return buffer.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"
SHEET_OPEN = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_CLOSE = b"</sheetData></worksheet>"


def raw_sheet(rows: int) -> bytes:
    """A sheet of `rows` members written straight as XML (openpyxl would take too long)."""
    lines = [
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>Courriel</t></is></c></row>',
        *(
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>m%d@x.example</t></is></c></row>'
            % (n, n, n)
            for n in range(2, rows + 2)
        ),
    ]
    return SHEET_OPEN + b"".join(lines) + SHEET_CLOSE


def refused(data: bytes, name: str) -> str:
    with pytest.raises(TableError) as caught:
        read_table(data, name)
    return str(caught.value)


def upload(client, name: str, data: bytes, url: str = "/membres/importer/"):
    response = client.post(url, {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- One row limit, the page and the API alike ------------------------------------------------


def test_one_limit_for_the_page_and_the_api():
    from cohorte.accounts.api import BATCH_MAX

    assert BATCH_MAX == LIMIT == 10_000


@pytest.mark.django_db(transaction=True)
def test_a_csv_over_the_limit_is_refused_on_the_page(admin):
    rows = b"".join(b"m%d@x.example;Nom\n" % n for n in range(LIMIT + 1))
    html = upload(signed_in(admin), "membres.csv", b"courriel;nom\n" + rows)
    assert "dépasse 10" in html and "découpez-le" in html
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_csv_at_the_limit_is_accepted(admin):
    rows = b"".join(b"m%d@x.example;Nom\n" % n for n in range(LIMIT))
    response = signed_in(admin).post(
        "/membres/importer/",
        {"file": SimpleUploadedFile("membres.csv", b"courriel;nom\n" + rows)},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.payload["count"] == LIMIT
    assert sum(len(chunk.rows) for chunk in job.chunks.all()) == LIMIT
    # kept in slices, never in the job's row: the page that polls the job stays light
    assert "rows" not in job.payload and len(job.payload["sample"]) == 10
    page = signed_in(admin).get(response["Location"])
    assert "Importer 10" in page.content.decode() and "000 lignes" in page.content.decode()


def test_an_excel_sheet_of_300_000_rows_stops_at_the_first_row_too_many():
    data = with_part(xlsx([["Courriel"]]), SHEET, raw_sheet(300_000))
    tracemalloc.start()
    started = time.monotonic()
    try:
        message = refused(data, "membres.xlsx")
        elapsed = time.monotonic() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "dépasse 10" in message and "découpez-le" in message
    # read as it streams: the memory stays that of a few rows, not of the sheet
    assert peak < 40 * 1024 * 1024, peak
    # reading the whole sheet takes about ten seconds; the first row too many, well under one
    # (a figure for bench/, not a bound here: a busy machine is several times slower)
    print(f"refused in {elapsed:.2f} s")


def test_an_excel_sheet_is_not_read_past_its_first_row_too_many():
    """Broken XML 50,000 rows after the limit: a reader that went on would report it instead."""
    rows = raw_sheet(LIMIT + 50_000).removesuffix(SHEET_CLOSE)
    broken = b'<row r="99999"><c r="A99999" t="inlineStr"><is><t>x</is></row></c><<<'
    data = with_part(xlsx([["Courriel"]]), SHEET, rows + broken + raw_sheet(200_000))
    short = raw_sheet(10).removesuffix(SHEET_CLOSE) + broken + SHEET_CLOSE
    assert "dépasse" not in refused(with_part(xlsx([["Courriel"]]), SHEET, short), "m.xlsx")
    message = refused(data, "membres.xlsx")
    assert "dépasse 10" in message and "découpez-le" in message


def test_a_sheet_of_blank_rows_is_not_read_to_its_end():
    blank = b"".join(b'<row r="%d"><c r="A%d" s="1"/></row>' % (n, n) for n in range(1, 300_000))
    data = with_part(xlsx([["Courriel"]]), SHEET, SHEET_OPEN + blank + SHEET_CLOSE)
    assert "vides comprises" in refused(data, "membres.xlsx")


def test_a_sheet_that_jumps_to_its_last_row_is_not_read_to_its_end():
    far = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    data = with_part(
        xlsx([["Courriel"]]),
        SHEET,
        raw_sheet(2).replace(b"</sheetData>", far + b"</sheetData>"),
    )
    assert "vides comprises" in refused(data, "membres.xlsx")


@pytest.mark.django_db(transaction=True)
def test_the_api_refuses_a_batch_over_the_same_limit(admin, api_as):
    rows = [{"email": f"m{n}@x.example"} for n in range(LIMIT + 1)]
    response = api_as(admin).post("/api/members/import", {"rows": rows})
    assert response.status_code == 400
    assert "10000" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_a_deactivation_file_over_the_limit_is_refused(admin):
    rows = b"".join(b"m%d@x.example\n" % n for n in range(LIMIT + 1))
    html = upload(signed_in(admin), "emails.csv", b"courriel\n" + rows, "/membres/desactiver/")
    assert "dépasse 10" in html and "découpez-le" in html


@pytest.mark.django_db(transaction=True)
def test_progress_moves_by_chunks_of_rows(admin):
    reports = []
    rows = [(n + 2, {"email": f"m{n}@x.example"}) for n in range(1_600)]
    services.members_import(
        organisation_id=admin.organisation_id,
        rows=rows,
        by=admin,
        progress=lambda done, total: reports.append((done, total)),
    )
    assert {total for _done, total in reports} == {3_200}
    done = [done for done, _total in reports]
    assert done == sorted(done) and done[-1] == 3_200
    assert len(set(done)) >= 6  # checked and written a chunk at a time, not in two steps


# --- Hostile Excel files ------------------------------------------------------------------------

LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
EXTERNAL = (
    b'<?xml version="1.0"?>\n<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
#: the size comes first, so the parser meets the entity only while the rows are read
LATE_ENTITY = (
    b'<?xml version="1.0"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<dimension ref="A1:A2"/><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>Courriel</t></is></c></row>'
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
    b"</sheetData></worksheet>"
)
SHARED_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    b'uniqueCount="1"><si><t>&lol;</t></si></sst>'
)


@pytest.mark.parametrize(
    ("part", "content"),
    [(SHEET, LAUGHS), (SHEET, EXTERNAL), (SHEET, LATE_ENTITY), (STRINGS, SHARED_LAUGHS)],
    ids=["billion-laughs", "external-entity", "entity-among-rows", "entity-in-shared-strings"],
)
@pytest.mark.django_db(transaction=True)
def test_an_excel_file_with_entities_is_unreadable_not_a_server_error(admin, part, content):
    data = with_part(xlsx([["Courriel"], ["a@x.example"], ["texte"]]), part, content)
    assert "Ce fichier Excel est illisible" in refused(data, "membres.xlsx")
    html = upload(signed_in(admin), "membres.xlsx", data)
    assert "Ce fichier Excel est illisible" in html
    assert "root:" not in html
    assert not Job.objects.exists()


def test_defusedxml_is_what_refuses_the_entities():
    from defusedxml import EntitiesForbidden

    data = with_part(xlsx([["Courriel"]]), SHEET, LAUGHS)
    with pytest.raises(TableError) as caught:
        read_table(data, "membres.xlsx")
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(cause, EntitiesForbidden) for cause in causes), causes


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = SHEET_OPEN + b" " * (65 * 1024 * 1024) + SHEET_CLOSE
    data = with_part(xlsx([["Courriel"]]), SHEET, bomb, level=1)
    assert len(data) < 1024 * 1024  # a small upload
    assert "trop volumineux une fois décompressé" in refused(data, "membres.xlsx")


def test_a_zip_that_lies_about_its_size_is_unreadable():
    data = bytearray(with_part(xlsx([["Courriel"]]), SHEET, raw_sheet(50)))
    # shrink the declared uncompressed size of every part in the central directory
    at = data.find(b"PK\x01\x02")
    while at != -1:
        data[at + 24 : at + 28] = (10).to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    assert "Ce fichier Excel est illisible" in refused(bytes(data), "membres.xlsx")


def test_an_excel_row_wider_than_the_column_limit_is_refused():
    cells = b"".join(
        b'<c r="%s1" t="inlineStr"><is><t>v</t></is></c>' % column.encode()
        for column in (_letters(n) for n in range(1, 16_385))
    )
    data = with_part(xlsx([["Courriel"]]), SHEET, SHEET_OPEN + b'<row r="1">' + cells + b"</row>"
                     + SHEET_CLOSE)  # fmt: skip
    assert "plus de 1" in refused(data, "membres.xlsx") and "colonnes" in refused(
        data, "membres.xlsx"
    )


def _letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- Hostile CSV files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"courriel;nom\na@x.example;N\x00ul\n", "CSV UTF-8 ou Windows-1252"),
        ("courriel\n".encode("utf-16"), "CSV UTF-8 ou Windows-1252"),
        (b"courriel;nom\na@x.example;\x81\x8d\x8f\n", "Encodage illisible"),
        (b"courriel;nom\n" + b"a" * (10 * 1024 * 1024) + b"\n", "plus de 1"),
        (b";".join([b"c"] * 100_000) + b"\n" + b"a@x.example\n", "colonnes"),
        (b'courriel;nom\n"a@x.example;' + b"x" * 200_000 + b"\n", "une cellule dépasse"),
        (b"\n\n   \n", "vide"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ],
    ids=[
        "nul",
        "utf-16",
        "bad-encoding",
        "10MB-line",
        "100000-columns",
        "huge-cell",
        "blank",
        "xls",
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_hostile_csv_gets_a_clear_message(admin, content, expected):
    assert expected in refused(content, "membres.csv")
    html = upload(signed_in(admin), "membres.csv", content)
    assert expected.replace("'", "&#x27;") in html
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_hostile_deactivation_file_gets_a_clear_message(admin):
    html = upload(signed_in(admin), "e.csv", b"courriel\n\x00\x01", "/membres/desactiver/")
    assert "CSV UTF-8 ou Windows-1252" in html


# --- Anything at all ------------------------------------------------------------------------------


def _reads_or_refuses(data: bytes, name: str) -> None:
    try:
        header, rows = read_table(data, name, max_rows=50)
    except TableError as error:
        assert str(error)
    else:
        assert isinstance(header, list) and len(rows) <= 50
        assert all(isinstance(cell, str) for _line, cells in rows for cell in cells)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), name=st.sampled_from(["f.csv", "f.xlsx", "f.xls", "f"]))
def test_random_bytes_never_raise_anything_but_a_table_error(data, name):
    _reads_or_refuses(data, name)


VALID = xlsx(
    [["Courriel", "Prénom", "Années"], ["a@x.example", "Ana", 3], ["b@x.example", None, 4.5]]
)


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_a_damaged_excel_file_never_raises_anything_but_a_table_error(changes):
    data = bytearray(VALID)
    for position, value in changes:
        data[position] = value
    _reads_or_refuses(bytes(data), "membres.xlsx")


def test_an_excel_file_of_a_zip_version_python_cannot_read_gets_the_table_message():
    """Hypothesis found it: a central directory that asks for a newer zip version raised
    NotImplementedError before any part was read."""
    data = bytearray(VALID)
    directory = data.index(b"PK\x01\x02")
    data[directory + 6] = 250  # « version needed to extract »: 25.0
    with pytest.raises(TableError) as refused:
        read_table(bytes(data), "membres.xlsx", max_rows=50)
    assert "Excel" in str(refused.value)


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from([SHEET, STRINGS, "xl/workbook.xml", "[Content_Types].xml"]),
        min_size=1,
        max_size=2,
    ),
    content=st.binary(max_size=512) | st.text(max_size=300).map(str.encode),
)
def test_an_excel_file_with_a_garbage_part_never_raises_anything_but_a_table_error(parts, content):
    data = xlsx([["Courriel"], ["a@x.example"]])
    for part in parts:
        data = with_part(data, part, content)
    _reads_or_refuses(data, "membres.xlsx")
