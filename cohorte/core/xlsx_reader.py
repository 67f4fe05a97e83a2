"""Our own reader of the first sheet of an .xlsx, row by row.

openpyxl's read-only mode built a cell object per cell through its descriptors: two
thirds of the upload of 10,000 members went there. This reads the same values (checked against
openpyxl by a property test) with the C ElementTree parser, streaming the sheet's XML from
the zip: one row in memory at a time, the rows already read cleared from the tree.

Every part is first fed to a bare expat parser whose handlers refuse what defusedxml
refuses (entity declarations, external references), before the tree parser sees it; it
raises defusedxml's own exceptions. Errors are left to the caller (tabular), which turns
them into TableError.
"""

import posixpath
import re
import zipfile
from collections.abc import Iterator
from itertools import product
from typing import IO, Any, cast
from xml.etree.ElementTree import Element, XMLPullParser, fromstring
from xml.parsers import expat

from defusedxml import EntitiesForbidden, ExternalReferenceForbidden
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601

#: bytes of a part decompressed and parsed at a time
_CHUNK = 64 * 1024
#: elements inside one row or one shared string (a row of Excel's 16,384 cells with rich
#: inline text stays far below): beyond, the file was not written by a spreadsheet
MAX_ELEMENTS_IN_ONE = 16_384 * 16

_WORKBOOK_TYPES = [
    "application/vnd.ms-excel.template.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
]
_SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_COORDINATE = re.compile(r"([A-Z]{1,3})([0-9]+)\Z")


def _column_numbers() -> dict[str, int]:
    """A to ZZZ and their numbers, as openpyxl's column_index_from_string."""
    letters = [chr(65 + n) for n in range(26)]
    names = ("".join(name) for width in (1, 2, 3) for name in product(letters, repeat=width))
    return {name: number for number, name in enumerate(names, start=1)}


_COLUMNS = _column_numbers()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _forbid_entity(name: str, *args: object) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _guard() -> expat.XMLParserType:
    """An expat parser that refuses entities the way defusedxml does, and nothing else."""
    guard = expat.ParserCreate()
    guard.EntityDeclHandler = _forbid_entity
    guard.UnparsedEntityDeclHandler = _forbid_entity
    guard.ExternalEntityRefHandler = _forbid_external
    return guard


def _elements(stream: IO[bytes], name: str) -> Iterator[Element]:
    """The elements of a local name, whole, as the parser meets them, from a part read
    piece by piece, each piece checked by the guard first. Everything read before is
    cleared from the tree, so memory stays that of one element."""
    guard = _guard()
    parser: XMLPullParser[Any] = XMLPullParser(("start", "end"))
    stack: list[Element] = []
    inside = 0  # depth within the element being built
    count = 0
    ended = False
    while not ended:
        chunk = stream.read(_CHUNK)
        if chunk:
            guard.Parse(chunk, False)
            parser.feed(chunk)
        else:
            guard.Parse(b"", True)
            parser.close()
            ended = True
        for event_and_element in parser.read_events():
            event, element = cast(tuple[str, Element], event_and_element)
            if inside:
                if event == "start":
                    inside += 1
                    count += 1
                    if count > MAX_ELEMENTS_IN_ONE:
                        raise ValueError(f"over {MAX_ELEMENTS_IN_ONE} elements in one {name}")
                    continue
                inside -= 1
                if inside:
                    continue
                yield element
            elif event == "start":
                if _local(element.tag) == name:
                    inside, count = 1, 0
                else:
                    stack.append(element)
                continue
            else:
                stack.pop()
            element.clear()
            if stack:
                del stack[-1][:]


def _parse(data: bytes) -> Element:
    guard = _guard()
    guard.Parse(data, True)
    return fromstring(data)  # noqa: S314 — the guard has refused entities


def _children(root: Element, name: str) -> Iterator[Element]:
    return (element for element in root.iter() if _local(element.tag) == name)


def _attribute(element: Element, name: str) -> str | None:
    """An attribute by its local name (r:id is {…relationships}id)."""
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _text(element: Element) -> str:
    """The text of a string item (<si> or <is>): its <t>, then its runs' <t>, as openpyxl's
    Text.content (phonetic runs left out)."""
    if len(element) == 1:
        only = element[0]
        if only.tag[-2:] == "}t" or only.tag == "t":
            return only.text or ""  # the usual case: one <t>
    plain = None
    runs = []
    for child in element:
        tag = _local(child.tag)
        if tag == "t":
            plain = child.text
        elif tag == "r":
            texts = [part.text for part in child if _local(part.tag) == "t"]
            if texts and texts[-1] is not None:
                runs.append(texts[-1])
    return "".join(([plain] if plain is not None else []) + runs)


class Book:
    """What is needed to read the first sheet: where it is, the shared strings, the styles
    that are dates and the calendar."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        names = set(archive.namelist())
        types = _parse(archive.read("[Content_Types].xml"))
        overrides = {
            _attribute(item, "ContentType"): (_attribute(item, "PartName") or "")
            for item in _children(types, "Override")
        }
        workbook = next(
            (overrides[kind] for kind in _WORKBOOK_TYPES if overrides.get(kind)),
            "/xl/workbook.xml",
        )
        workbook = workbook.removeprefix("/")
        book = _parse(archive.read(workbook))
        self.epoch = WINDOWS_EPOCH
        for properties in _children(book, "workbookPr"):
            if (_attribute(properties, "date1904") or "").lower() in ("1", "true"):
                self.epoch = MAC_EPOCH
        folder, base = posixpath.split(workbook)
        rels = _parse(archive.read(posixpath.join(folder, "_rels", base + ".rels")))
        targets = {}
        for rel in _children(rels, "Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target") or ""
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            targets[rel.get("Id")] = (target, rel.get("Type") or "")
        self.sheet: str | None = None
        for sheet in _children(book, "sheet"):
            identifier = _attribute(sheet, "id")
            if identifier is None:
                continue
            target, kind = targets.get(identifier, ("", ""))
            if target in names and "chartsheet" not in kind:
                self.sheet = target
                break
        strings = overrides.get(_SHARED_STRINGS_TYPE)
        self.strings: list[str] = []
        if strings:
            with archive.open(strings.removeprefix("/")) as source:
                self.strings = [
                    _text(item).replace("x005F_", "") for item in _elements(source, "si")
                ]
        self.dates: set[int] = set()
        self.durations: set[int] = set()
        if "xl/styles.xml" in names:
            self._styles(_parse(archive.read("xl/styles.xml")))

    def _styles(self, styles: Element) -> None:
        custom = {
            int(_attribute(item, "numFmtId") or ""): _attribute(item, "formatCode")
            for formats in styles
            if _local(formats.tag) == "numFmts"
            for item in formats
            if _local(item.tag) == "numFmt"
        }
        for xfs in (item for item in styles if _local(item.tag) == "cellXfs"):
            for index, xf in enumerate(item for item in xfs if _local(item.tag) == "xf"):
                number = int(_attribute(xf, "numFmtId") or 0)
                code = custom[number] if number in custom else BUILTIN_FORMATS.get(number)
                if is_date_format(code):
                    self.dates.add(index)
                if is_timedelta_format(code):
                    self.durations.add(index)

    def value(self, cell: Element, namespace: str) -> object:
        """A cell's value as openpyxl's reader gives it (data_only, without rich text)."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            string = cell.find(namespace + "is")
            return None if string is None else _text(string)
        text = cell.findtext(namespace + "v") or None
        if text is None:
            return None
        if kind == "n":
            number = float(text) if "." in text or "E" in text or "e" in text else int(text)
            style: int | str = cell.get("s", 0)
            if style:
                style = int(style)
            if style in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.strings[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        return text  # str (a formula's result), e (an error), or a type we do not know

    def rows(self) -> Iterator[tuple[int, list[object] | None]]:
        """(row number, values) for each row element, as openpyxl numbers them: by r=, else
        the one after the last; a row going back is dropped (its values are None, so that
        the caller can count them). Each row as wide as its last cell, gaps filled with
        None."""
        if self.sheet is None:
            raise ValueError("no worksheet in the workbook")  # openpyxl: an IndexError
        with self.archive.open(self.sheet) as source:
            counter = 0
            expected = 1
            for row in _elements(source, "row"):
                number = row.get("r")
                if number is None:
                    counter += 1
                else:
                    try:
                        counter = int(number)
                    except ValueError:
                        real = float(number)
                        if not real.is_integer():
                            raise
                        counter = int(real)
                if counter < expected:
                    yield counter, None
                    continue
                expected = counter + 1
                namespace = row.tag[: len(row.tag) - 3]
                cells: list[tuple[int, object]] = []
                column = 0
                for cell in row:
                    reference = cell.get("r")
                    if reference:
                        match = _COORDINATE.match(reference)
                        column = _COLUMNS[match[1]] if match else coordinate_to_tuple(reference)[1]
                    else:
                        column += 1
                    cells.append((column, self.value(cell, namespace)))
                if not cells:
                    yield counter, []
                    continue
                width = cells[-1][0]
                values: list[object] = [None] * width
                for position, value in cells:
                    if 1 <= position <= width:
                        values[position - 1] = value
                yield counter, values
