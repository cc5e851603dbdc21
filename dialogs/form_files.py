"""The application form as files: a blank or pre-filled template written as XLSX (openpyxl,
one sheet per section) or DOCX (python-docx, one table per section), and a filled one read
back into the tables of cells that engine/form.py checks.

Reading refuses, with one reason, what is not a form: a file over 50 MB (before it is read),
a macro-enabled workbook, a corrupt file, a file that is neither XLSX nor DOCX (said as what it
is: empty, an old .xls or .doc, protected by a password, a PDF, a web page, text such as a CSV,
OpenDocument), a sheet whose values reach far past the form's size (before it is read), a Word
document without tables, a document in which none of the form's labels is found.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
import math
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .messages import read_named_file, without_controls

# engine.form is imported where a form is written or read: the chat imports this module at
# every start (through dialogs.forms) and needs none of it there.
if TYPE_CHECKING:
    from engine.form import Field, FormSpec

MAX_BYTES = 50 * 1024 * 1024
MAX_UNPACKED = 4 * MAX_BYTES  # what the parts may unpack to: a small file that unpacks huge is refused
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".docm", ".dotm")
# Files sent in place of the filled form (an old or a WPS file, a PDF, a CSV, a web page):
# read_bytes says what each is and what to send instead.
SENT_INSTEAD = MACRO_SUFFIXES + (".xls", ".xlt", ".xltx", ".et", ".ett", ".doc", ".dot", ".dotx", ".wps", ".wpt",
                                 ".pdf", ".csv", ".rtf", ".ods", ".odt", ".htm", ".html", ".mht", ".mhtml")
BOX, TICK = "□", "☑"
YEAR_HEAD_LABEL = "年度"  # the form's own head of a year row (三、创新能力情况)
MIN_LABELS = 5  # fewer of the form's labels than this: not the form
# How far a sheet's filled cells may reach: the form has a few hundred rows and a dozen
# columns. openpyxl pads every row up to the last cell, so one stray cell at XFD1048576 in a
# 17 KB file would make 17 billion cells: such a sheet is refused before it is read.
MAX_ROWS, MAX_COLUMNS = 10_000, 200  # room for a list (the patents) on a sheet of its own
MAX_CELLS = 2_000_000  # the padded rows of every sheet together


class FormFileError(Exception):
    """A file that cannot be read as the form: `code` is a locales key (form.file.<code>),
    `params` what its message names besides `detail`."""

    def __init__(self, code: str, detail: str = "", **params):
        super().__init__(code, detail)
        # a sheet's name is the file's text quoted back, as a cell is (_drop_controls)
        self.code, self.detail = code, detail
        self.params = {k: without_controls(v) if isinstance(v, str) else v for k, v in params.items()}


# --- reading -----------------------------------------------------------------------------

# The system's reasons a user meets (its words are English whatever the language asked for)
_OS_ERRORS = {errno.ENOENT: "no_such_file", errno.EISDIR: "is_directory", errno.EACCES: "permission_denied",
              errno.EPERM: "permission_denied"}


def read_path(path: str) -> list[list[list[Any]]]:
    """The tables of a form file on disk; its size is checked before anything is read."""
    try:
        size, content = read_named_file(path, MAX_BYTES)
    except OSError as exc:  # not there, not a file, not ours to read: said in the user's words
        code = _OS_ERRORS.get(exc.errno)
        raise (FormFileError(code) if code else FormFileError("unreadable", exc.strerror or str(exc))) from None
    if content is None:
        raise FormFileError("too_large", f"{size / 1024 / 1024:.1f}")
    return read_bytes(content, os.path.basename(path))


def read_bytes(content: bytes, filename: str) -> list[list[list[Any]]]:
    """The tables of a form file: one per sheet (XLSX) or per Word table, rows of cells."""
    if len(content) > MAX_BYTES:
        raise FormFileError("too_large", f"{len(content) / 1024 / 1024:.1f}")
    if filename.lower().endswith(MACRO_SUFFIXES):
        raise FormFileError("macro")
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise FormFileError(not_a_zip(content, filename))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(item.file_size for item in archive.infolist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    except (zipfile.BadZipFile, OSError, KeyError, zlib.error, EOFError, NotImplementedError, RuntimeError):
        raise FormFileError("corrupt") from None  # damaged, an unknown compression, a password
    if any(n.endswith("vbaProject.bin") for n in names) or b"macroEnabled" in types:
        raise FormFileError("macro")
    if unpacked > MAX_UNPACKED:
        raise FormFileError("too_large", f"{unpacked / 1024 / 1024:.1f}")
    try:
        if "xl/workbook.xml" in names:
            tables = _xlsx_tables(content)
        elif "word/document.xml" in names:
            tables = _docx_tables(content)
        elif "mimetype" in names and _opendocument(content):
            raise FormFileError("opendocument")
        else:
            raise FormFileError("not_office")
    except FormFileError:
        raise
    except Exception as exc:  # a damaged part inside a valid zip: the library says which
        raise FormFileError("corrupt", type(exc).__name__) from None
    _drop_controls(tables)
    from engine.form import load_form, locate  # deferred: see the top

    if len(locate(load_form(), tables)) < MIN_LABELS:
        raise FormFileError("not_a_form")
    return tables


def _drop_controls(tables: list[list[list[Any]]]) -> None:
    """A form's cells, as they are read, lose their control characters and terminal escape
    sequences, as a user's typed text does (messages.without_controls, the one rule): a check
    quotes a cell, the cluster's name or a formula back, and a terminal showing it would act
    on them. (XML keeps ESC and the other C0 out of a file, not C1's CSI, OSC or DEL.)"""
    from engine.form import Formula  # deferred: see the top

    for table in tables:
        for row in table:
            for j, value in enumerate(row):
                if isinstance(value, str):
                    row[j] = without_controls(value)
                elif isinstance(value, Formula):
                    row[j] = Formula(without_controls(value.text), value.cell)


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: Office 97-2003, or an Office file with a password
# The streams that say which compound file it is (their names head 128-byte directory entries).
OLE_STREAMS = {"EncryptedPackage": "encrypted", "WordDocument": "old_word", "Workbook": "old_excel", "Book": "old_excel"}


WORD_SUFFIXES = (".docx", ".doc", ".dotx", ".dot")


def not_a_zip(content: bytes, filename: str = "") -> str:
    """What a file that is no zip (so neither .xlsx nor .docx) is, as a form.file code: empty,
    an old Excel or Word file or one with a password, a PDF, an RTF, a web page (one named as a
    Word file is Word's to save again), text (a CSV), a zip cut short, or something else."""
    if not content:
        return "empty_file"
    if content.startswith(OLE):
        for name, code in OLE_STREAMS.items():
            needle, at = name.encode("utf-16-le") + b"\0\0", -1
            while (at := content.find(needle, at + 1)) != -1:
                if at % 128 == 0:
                    return code
        return "old_office"
    if content.startswith(b"%PDF"):
        return "pdf"
    if content.startswith(b"PK"):
        return "corrupt"  # a zip's first bytes, its directory missing: cut short
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{\\rtf"):
        return "rtf"  # Word's rich text, saved as .rtf or renamed .docx
    if head.startswith((b"<html", b"<!doctype html", b"mime-version")) or b"<table" in head:
        # a web page named .xls, as many systems export a table; one named .docx is Word's
        # 网页 or 单个文件网页 (.mht)
        return "html_word" if filename.lower().endswith(WORD_SUFFIXES) else "html"
    if _text(content[:65536]):
        return "text_file"
    return "not_office"


def _text(sample: bytes) -> bool:
    """Whether the bytes read as text (UTF-8 or GB 18030, no control characters but white space)."""
    import codecs
    for encoding in ("utf-8", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return not any(ch < " " and ch not in "\t\r\n\f" for ch in text)
    return False


def _opendocument(content: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("mimetype")[:64].startswith(b"application/vnd.oasis.opendocument")


def _xlsx_tables(content: bytes) -> list[list[list[Any]]]:
    """The sheets' cells; a formula's value is the one Excel computed and kept in the file,
    and a formula without one (written by a program, never opened in Excel) is a `Formula`."""
    import openpyxl

    from engine.form import Formula  # deferred: see the top

    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    try:
        extents = _extents(book)
    except BaseException:
        book.close()
        raise
    symbols = _symbol_runs(book)
    tables, formulas = _xlsx_cells(book, extents, symbols)
    if formulas:  # a second reading, only for a workbook with formulas: their kept values
        computed, _ = _xlsx_cells(openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True),
                                  extents, symbols)
        for (n, i, j), (text, cell) in formulas.items():
            value = computed[n][i][j]
            tables[n][i][j] = Formula(text, cell) if value is None else value
    return tables


def _extents(book) -> list[tuple[int, int]]:
    """Each sheet's last row and last column holding a value (0, 0 for an empty sheet), from
    the cells present in its XML: the <dimension> it states may be anything. A value past
    MAX_ROWS or MAX_COLUMNS, or one that takes the sheets' padded rows past MAX_CELLS, refuses
    the file as soon as it is seen."""
    from lxml import etree
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.cell import column_index_from_string

    extents, total = [], 0
    widest: list[tuple[int, str, str]] = []  # each sheet read: (its padded cells, its name, its farthest value)
    for sheet in book.worksheets:
        last_row = last_col = row = 0
        far = (0, "")  # the value farthest out (row × column) on this sheet, and its cell
        # the sheet's part, as openpyxl's read-only sheet opens it
        with book._archive.open(sheet._worksheet_path) as source:
            for _, element in etree.iterparse(source, events=("end",), tag="{*}row", resolve_entities=False,
                                              no_network=True):
                row = int(element.get("r") or row + 1)  # r may be left out: the next row
                col = 0
                for cell in element.iterchildren("{*}c"):
                    ref = cell.get("r")
                    col = column_index_from_string(ref.rstrip("0123456789")) if ref else col + 1
                    if next(cell.iterchildren("{*}v", "{*}f", "{*}is"), None) is None:
                        continue  # formatting alone: nothing to read
                    if row > MAX_ROWS or col > MAX_COLUMNS:
                        raise FormFileError("sheet_too_large", sheet=sheet.title, cell=f"{get_column_letter(col)}{row}")
                    if row * col > far[0]:
                        far = (row * col, f"{get_column_letter(col)}{row}")
                    area = max(row, last_row) * max(col, last_col)
                    if total + area > MAX_CELLS:
                        # the cells together too many: named by the sheet that takes most, and its
                        # value farthest out (a stray GR10000), not the cell that tipped the sum
                        _, title, cell = max([*widest, (area, sheet.title, far[1])])
                        raise FormFileError("sheet_too_large", sheet=title, cell=cell)
                    last_row, last_col = row, max(last_col, col)
                element.clear()
                while element.getprevious() is not None:  # the rows read: kept no longer
                    del element.getparent()[0]
        total += last_row * last_col
        widest.append((last_row * last_col, sheet.title, far[1]))
        extents.append((last_row, last_col))
    return extents


def _symbol_runs(book) -> dict[str, str]:
    """The texts with a run in a symbol font (☑ inserted as Wingdings 2's R within a cell's
    text, 插入 > 符号), shared or inline, as shown, by their text as stored (read-only openpyxl
    joins the runs and drops their fonts)."""
    from lxml import etree

    archive, shown = book._archive, {}
    parts = [n for n in archive.namelist() if n.startswith("xl/worksheets/") or n.endswith("sharedStrings.xml")]
    for name in parts:
        if not _names_a_symbol_font(archive, name):
            continue  # a part without a symbol font's name (most): nothing to parse
        with archive.open(name) as source:
            for _, text in etree.iterparse(source, events=("end",), tag=("{*}si", "{*}is"), resolve_entities=False,
                                           no_network=True):
                runs = [("".join(t.text or "" for t in run.iterchildren("{*}t")),
                         next((f.get("val") for f in run.iterfind("{*}rPr/{*}rFont")), None))
                        for run in text.iterchildren("{*}r")]
                if any((font or "").strip().lower() in SYMBOL_FONTS for _, font in runs):
                    shown["".join(t for t, _ in runs)] = "".join(symbol(font, c) for t, font in runs for c in t)
                text.clear()
    return shown


def _names_a_symbol_font(archive, name: str) -> bool:
    """Whether a part of the file names a symbol font, read a megabyte at a time."""
    fonts, tail = [font.encode() for font in SYMBOL_FONTS], b""
    with archive.open(name) as source:
        while chunk := source.read(1 << 20):
            text, tail = (tail + chunk).lower(), chunk[-16:].lower()
            if any(font in text for font in fonts):
                return True
    return False


def _xlsx_cells(book, extents: list[tuple[int, int]], symbols: dict[str, str] | None = None
                ) -> tuple[list[list[list[Any]]], dict]:
    """Each sheet's rows of values up to its extent, and its formulas by position: (text, cell);
    a text with a run in a symbol font as shown (`symbols`)."""
    from engine.form import Table  # deferred: see the top

    tables, formulas = [], {}
    try:
        for n, (sheet, (last_row, last_col)) in enumerate(zip(book.worksheets, extents)):
            rows = []
            cells = sheet.iter_rows(min_row=1, max_row=last_row, min_col=1, max_col=last_col) if last_row else ()
            for i, row in enumerate(cells):
                values = [cell.value for cell in row]
                for j, cell in enumerate(row):
                    if cell.data_type == "f":
                        text = values[j] if isinstance(values[j], str) else getattr(values[j], "text", "")
                        formulas[n, i, j] = (text, cell.coordinate)
                        values[j] = None  # its computed value, if any, is read apart
                    elif type(values[j]) in (int, float):
                        values[j] = _shown(values[j], cell.number_format)
                    elif isinstance(values[j], dt.date) and (year := _year_shown(values[j], cell.number_format)):
                        values[j] = year  # 2021年 typed, kept by Excel as a date shown yyyy"年"
                    elif isinstance(values[j], str) and (cell.font.name or "").strip().lower() in SYMBOL_FONTS:
                        values[j] = "".join(symbol(cell.font.name, c) for c in values[j])  # R in Wingdings 2 shows ☑
                    elif isinstance(values[j], str) and symbols and values[j] in symbols:
                        values[j] = symbols[values[j]]  # a run of it in Wingdings 2
                rows.append(values)
            tables.append(Table(rows, sheet.title))
    finally:
        book.close()
    return tables, formulas


_LITERAL = re.compile(r'"[^"]*"|\\.')  # a number format's quoted text and escaped characters


# A money unit shown by a format (#,##0"万元"), unless the format scales the figure (0,"万元").
_FORMAT_UNIT = re.compile(r'^[#0.,?\s]*(?<!,)(?:"(万元|亿元)"|\\(万)\\(元)|\\(亿)\\(元))$')


def _year_shown(day: dt.date, number_format: str) -> str | None:
    """A date whose format shows its year alone (yyyy"年"): the text shown, 2021年."""
    literals = "".join(m.group(0).strip('"').lstrip("\\") for m in _LITERAL.finditer(number_format))
    codes = re.sub(r"\[[^\]]*\]", "", _LITERAL.sub("", number_format)).lower()
    if "y" not in codes or re.search("[mdhs]", codes):
        return None
    return f"{day.year}{literals}"


def _shown(number: int | float, number_format: str) -> int | float | Decimal | str:
    """A number as Excel shows it: formatted as a percentage it is stored as a hundredth
    (80.5% typed is 0.805), and is read as the figure shown, exactly; with a money unit in its
    format (#,##0"万元") it is that figure and unit, as if typed so (450000万元)."""
    unit = _FORMAT_UNIT.match(number_format.split(";")[0].strip())
    if unit and math.isfinite(number):
        return format(Decimal(repr(number)).normalize(), "f") + "".join(g for g in unit.groups() if g)
    if "%" not in number_format or "%" not in _LITERAL.sub("", number_format) or not math.isfinite(number):
        return number  # (an infinite or NaN figure, 1E+400 typed, is no percentage: not a number)
    shown = Decimal(repr(number)).scaleb(2).normalize()
    return shown.quantize(Decimal(1)) if shown.as_tuple().exponent > 0 else shown


def _docx_tables(content: bytes) -> list[list[list[Any]]]:
    """Each Word table, and each run of paragraphs between them as a table of one column,
    with their text as Word shows it (`shown_text`); a table, row, cell or paragraph inside a
    content control is read as any other. python-docx repeats a merged cell in every grid column it
    spans: it is read once."""
    import docx
    from docx.table import Table

    _docx_extents(content)
    document = docx.Document(io.BytesIO(content))
    tables, paragraphs, found = [], [], False
    for block in _blocks(document.element.body):
        if block.tag == _W + "tbl":
            found = True
            if paragraphs:
                tables.append(paragraphs)
                paragraphs = []
            _unwrap_rows_and_cells(block)
            rows = []
            for row in Table(block, document._body).rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(shown_text(cell._tc))
                rows.append(cells)
            tables.append(rows)
        elif (text := shown_text(block)).strip():
            paragraphs.append([text])
    if not found:
        raise FormFileError("no_tables")
    if paragraphs:
        tables.append(paragraphs)
    return tables


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W14 = "{http://schemas.microsoft.com/office/word/2010/wordml}"


def _blocks(parent):
    """The body's paragraphs and tables in order, those inside content controls included."""
    for child in parent.iterchildren():
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml"):
            yield from _blocks(child)


def _docx_extents(content: bytes) -> None:
    """Refuses, before python-docx builds it, a document one of whose tables has more rows or
    columns than a sheet may (MAX_ROWS, MAX_COLUMNS): 100,000 empty rows are 82 KB zipped, and
    seconds and hundreds of MB once read. The XML is streamed, each row let go once counted."""
    from lxml import etree

    frames: list[list[int]] = []  # the open tables (nested ones inside cells): [number, rows, cells of the row]
    count = 0
    with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("word/document.xml") as source:
        for event, element in etree.iterparse(source, events=("start", "end"), tag=(_W + "tbl", _W + "tr", _W + "tc"),
                                              resolve_entities=False, no_network=True, huge_tree=True):
            if element.tag == _W + "tbl":
                if event == "start":
                    count += 1
                    frames.append([count, 0, 0])
                else:
                    frames.pop()
            elif not frames:
                continue
            elif element.tag == _W + "tr" and event == "start":
                frames[-1][1:] = [frames[-1][1] + 1, 0]
            elif element.tag == _W + "tc" and event == "start":
                frames[-1][2] += 1
            if frames and (frames[-1][1] > MAX_ROWS or frames[-1][2] > MAX_COLUMNS):
                raise FormFileError("table_too_large", table=frames[-1][0], rows=MAX_ROWS, columns=MAX_COLUMNS)
            if event == "end" and element.tag == _W + "tr" and len(frames) == 1:
                element.clear()  # a row of the outer table counted: its XML kept no longer
                while element.getprevious() is not None:
                    del element.getparent()[0]


def _unwrap_rows_and_cells(table) -> None:
    """A content control (or custom XML) around a whole row or cell is taken away, its rows and
    cells left in its place: python-docx reads only a table's own rows and a row's own cells, and
    would skip them (a year's figure moving to the next year's column, a row not found)."""
    for wrapper in list(table.iter(_W + "sdt", _W + "customXml")):
        parent = wrapper.getparent()
        if parent is None or parent.tag not in (_W + "tbl", _W + "tr"):
            continue
        content = wrapper.find(_W + "sdtContent") if wrapper.tag == _W + "sdt" else wrapper
        if content is not None and _placeholder(wrapper):
            for text in content.iter(_W + "t"):
                text.text = ""
        at = parent.index(wrapper)
        parent[at:at + 1] = [c for c in (content if content is not None else ())
                             if c.tag not in (_W + "customXmlPr", _W + "sdtPr", _W + "sdtEndPr")]


# Symbol fonts' characters as the Unicode they show (Insert > Symbol writes a w:sym, or text in
# the font): the boxes and ticks a form is ticked with. A code is the character's low byte.
SYMBOL_FONTS = {
    "wingdings": {0xFE: "☑", 0xFD: "☒", 0x78: "☒", 0xFC: "✓", 0xFB: "✗", 0xA8: "□", 0x6F: "□", 0x71: "□",
                  0x6E: "■", 0xA1: "○"},
    "wingdings 2": {0x52: "☑", 0x54: "☒", 0x53: "☒", 0x51: "☒", 0x50: "✓", 0x4F: "✗", 0xA3: "□", 0x2A: "□",
                    0x99: "○"},
}
# What Word does not show of a cell: deletions of tracked changes, field codes, the properties
# of a paragraph, run or content control, pictures and text boxes.
_HIDDEN = {_W + tag for tag in ("del", "moveFrom", "delText", "delInstrText", "instrText", "pPr", "rPr", "sdtPr",
                                "sdtEndPr", "drawing", "pict", "object", "fldData")}


def symbol(font: str | None, char: str) -> str:
    """A character written in a symbol font as the Unicode it shows; others as they are."""
    table = SYMBOL_FONTS.get((font or "").strip().lower())
    code = ord(char)
    if table is None or not (code < 0x100 or 0xF000 <= code <= 0xF0FF):
        return char
    return table.get(code & 0xFF, char)


def shown_text(element) -> str:
    """The text of a paragraph or a cell as Word shows it: tracked insertions in and deletions
    out, the content of content controls (none while a control shows its placeholder, a
    checkbox control as ☑ or □), a legacy checkbox
    field as ☒ or ☐, a symbol font's box
    or tick as its character; paragraphs one a line, a paragraph whose mark was deleted run on
    into the next."""
    out: list[str] = []

    def visit(node, font: str | None) -> None:
        tag = node.tag
        if not isinstance(tag, str) or tag in _HIDDEN or tag.endswith("}Fallback"):
            return  # a comment, what Word hides, the fallback of what it shows
        if tag == _W + "r":
            rpr = node.find(_W + "rPr")
            if rpr is not None and _on(rpr.find(_W + "vanish")):
                return  # hidden text
            fonts = rpr.find(_W + "rFonts") if rpr is not None else None
            font = (fonts.get(_W + "ascii") or fonts.get(_W + "hAnsi")) if fonts is not None else None
        elif tag == _W + "t":
            out.append("".join(symbol(font, c) for c in node.text or ""))
            return
        elif tag == _W + "sym":
            out.append(symbol(node.get(_W + "font"), chr(int(node.get(_W + "char") or "0", 16))))
            return
        elif tag in (_W + "tab", _W + "ptab"):
            out.append("\t")
            return
        elif tag in (_W + "br", _W + "cr"):
            out.append("\n")
            return
        elif tag == _W + "noBreakHyphen":
            out.append("-")
            return
        elif tag == _W + "sdt" and _placeholder(node):
            return  # 单击或点击此处输入文字。: the control's placeholder, nothing typed
        elif tag == _W + "sdt" and (box := node.find(f"{_W}sdtPr/{_W14}checkbox")) is not None:
            checked = box.find(_W14 + "checked")
            out.append("☑" if checked is not None and checked.get(_W14 + "val") in ("1", "true") else "□")
            return
        elif tag == _W + "fldChar" and (box := node.find(f"{_W}ffData/{_W}checkBox")) is not None:
            # a legacy checkbox (FORMCHECKBOX): w:checked overrides its default, as Word shows it
            checked = box.find(_W + "checked")
            ticked = _on(checked) if checked is not None else _on(box.find(_W + "default"))
            out.append("☒" if ticked else "☐")
            return
        for child in node.iterchildren():  # a run's, or ins, moveTo, hyperlink, sdtContent, a nested table…
            visit(child, font)
        if tag == _W + "p" and node.find(f"{_W}pPr/{_W}rPr/{_W}del") is None:
            out.append("\n")  # a deleted paragraph mark runs the paragraph on into the next

    visit(element, None)
    text = "".join(out)
    return text[:-1] if text.endswith("\n") else text


def _placeholder(sdt) -> bool:
    """Whether a content control still shows its placeholder text (nothing was typed in it)."""
    return _on(sdt.find(f"{_W}sdtPr/{_W}showingPlcHdr"))


def _on(flag) -> bool:
    """A toggle property (w:vanish, ...) that is set: present, and not val="0"/"false"."""
    return flag is not None and flag.get(_W + "val") not in ("0", "false", "off")


# --- writing ----------------------------------------------------------------------------

@dataclass
class Blank:
    """A field the prefill left blank: where it is, and what the answers say that its boxes
    cannot show (True: answered yes, a number: the count answered), if anything."""

    section: str
    label: str
    under: str | None  # the row it belongs to
    answered: Any = None


@dataclass
class Layout:
    """The form as rows of cells per section, and the fields left blank."""

    sections: list[tuple[str, list[tuple[str | None, list[Any]]]]]  # rows: (field id or None, cells)
    blank: list[Blank]


def layout(prefill: dict[str, Any] | None = None, name: str = "", data_year: str | None = None,
           spec: FormSpec | None = None) -> Layout:
    """The template's rows; `prefill` (fact id → value, the chat's answers) fills what it can."""
    from engine.form import load_form  # deferred: see the top

    spec = spec or load_form()
    facts = prefill or {}
    data_year = data_year or spec.data_year
    shift = int(data_year) - int(spec.data_year)
    years = [str(int(y) + shift) for y in spec.years]
    sections, blank = [], []
    for section in spec.sections:
        rows: list[tuple[str | None, list[Any]]] = [(None, [section.title])]
        head = None
        for f in section.fields:
            want = _head(f, years)
            if want is not None and want != head:
                rows.append((None, want))
            head = want if want is not None else head
            row, filled = _row(f, facts, name, years, data_year)
            rows.append((f.id, row))
            if not filled and f.required and f.kind != "statement":
                blank.append(Blank(section.title, f.label, f.under, _unticked(f, facts)))
        sections.append((section.title, rows))
    return Layout(sections, blank)


def _head(f: Field, years: list[str]) -> list[str] | None:
    if f.kind == "yearly":
        return [YEAR_HEAD_LABEL] + [f"{y}年" for y in years]
    if f.kind == "target":
        return ["方向", "指标", "2023年基准值", "2026年目标值"]
    if f.kind == "stages":
        return ["阶段性目标", "", "（1）2024年度", "（2）2025年度", "（3）2026年度"]
    return None


def _unticked(f: Field, facts: dict) -> Any:
    """What the answers say of a checklist whose boxes they cannot choose: the count of its
    ticks answered (资源共享: which?), or True for a fact answered yes that several of its boxes
    declare (国际合作: which of five activities?); None otherwise."""
    if f.kind != "checklist":
        return None
    if f.count and type(facts.get(f.count)) is int and facts[f.count] > 0:
        return facts[f.count]
    shared = [k for o in f.options for k, v in o.sets.items()
              if v is True and facts.get(k) is True and sum(k in p.sets for p in f.options) > 1]
    return True if shared else None


def _row(f: Field, facts: dict, name: str, years: list[str], data_year: str) -> tuple[list[Any], bool]:
    """One field's row, and whether the prefill filled it."""
    value = facts.get(f.fact) if f.fact else None
    if f.total_of:  # a row counting several facts (单项冠军 of every level): their sum, when all are known
        parts = [facts.get(k) for k in f.total_of]
        value = sum(parts) if all(type(p) is int for p in parts) else None
    if f.kind == "yearly":
        series = value if isinstance(value, dict) else ({data_year: value} if value is not None and f.take == "latest"
                                                        else {})
        cells = [series.get(y) for y in years]
        return [f.label, *["" if c is None else c for c in cells]], any(c is not None for c in cells)
    if f.kind in ("choice", "checklist"):
        ticked = [o for o in f.options if (o.sets or o.part_of) and all(facts.get(k) == v for k, v in o.sets.items())
                  and all(facts.get(k) is True for k in o.part_of)]
        if f.kind == "choice":
            ticked = ticked[:1]
        else:
            # An answer ticks an option only when that option alone declares it: intl_cooperation
            # does not say which of five activities took place.
            ticked = [o for o in ticked if not any(p is not o and set(p.sets) & set(o.sets) for p in f.options)]
        cell = "\n".join((TICK if o in ticked else BOX) + o.text for o in f.options)
        return [f.label, cell], bool(ticked)
    if f.kind == "named_count":
        count = "" if value is None else value
        return [f.label, f"数量：{count}个\n名称："], value is not None
    if f.kind == "target":
        return [f.direction or "", f.label, "", ""], False
    if f.kind == "stages":
        return ["", f.label, "", "", ""], False
    if f.kind == "statement":
        return [f.label, named(f.text, name)], True
    if f.id == "cluster_name" and name:
        return [f.label, name], True
    if f.kind == "number" and value is not None and not isinstance(value, dict):
        return [f.label, value], True
    return [f.label, ""], False


def named(text: str, name: str) -> str:
    """A statement's text with the name for XXX: a name that already ends in 集群 (乙集群) does
    not get the form's 集群 after XXX a second time."""
    if not name:
        return text
    return re.sub("XXX(集群)?", lambda m: name + ("" if name.endswith("集群") else m.group(1) or ""), text)


def write_xlsx(lay: Layout) -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in lay.sections:
        sheet = book.create_sheet(title[:31])
        for _, row in rows:
            sheet.append(row)
        sheet["A1"].font = Font(bold=True)
        sheet.column_dimensions["A"].width = 48
        for column in "BCDE":
            sheet.column_dimensions[column].width = 24
        for row in sheet.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if cell.data_type == "f":
                    # openpyxl stores a text starting with "=" (a name typed as =HYPERLINK(…)) as a
                    # formula Excel would run: the form writes what was typed, as text, and marks it
                    # as Excel marks a text typed after an apostrophe.
                    cell.data_type, cell.quotePrefix = "s", True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_docx(lay: Layout, title: str) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(title, level=0)
    for section_title, rows in lay.sections:
        document.add_heading(section_title, level=1)
        body = [row for _, row in rows[1:]]  # the title is the heading
        table = document.add_table(rows=0, cols=max(len(r) for r in body))
        table.style = "Table Grid"
        for row in body:
            cells = table.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = "" if value is None else str(value)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
