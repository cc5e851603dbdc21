"""Reading clusters for `clusterbot evaluate`: a JSON object, a JSON array, JSON Lines, or
CSV (one cluster a row; series as columns such as `total_output.2024`), from files or `-`.

Unreadable or malformed input raises `InputError` naming the file and line; values that
are the wrong type (or too large, too deep, not valid Unicode) are not input errors but
`FactError`s of the cluster they belong to, so the rest of the batch is still evaluated.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import itertools
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from dialogs.messages import LONE_SURROGATE
from dialogs.parse import is_own_unit, read_figure
from engine import FactError, catalogue, validate_facts
from engine.facts import load_json, read_json, year_key
from locales import messages, t

# Column names a CSV may give the cluster's name under (the fact columns take the catalogue's
# ids and labels, see Catalogue.fact_id).
NAME_COLUMNS = ("name", "名称", "集群名称", "cluster", "cluster name")


class InputError(Exception):
    """A file that cannot be read as clusters: one line naming the file and the line, said in
    the run's language by `text` (the message is `input_error.<code>` of the locales); str()
    is the English."""

    def __init__(self, source: str, line: int | None, code: str, **fields):
        self.source, self.line, self.code, self.fields = source, line, code, fields
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        # file:line: first in both languages, as compilers and grep write it (editors jump there)
        where = f"{self.source}:{self.line}" if self.line else self.source
        fields = self.fields
        if "detail" in fields:  # json's or csv's own words, in the run's language
            fields = dict(fields, detail=messages(lang).get(f"parser_error.{fields['detail']}", fields["detail"]))
        return f"{where}: {t(lang, f'input_error.{self.code}', **fields)}"


@dataclass(slots=True)
class Cluster:
    """One cluster read from input: its name (or position), its valid facts, its errors."""

    name: str
    facts: dict
    errors: list[FactError] = field(default_factory=list)
    source: str = ""
    line: int | None = None
    # Shares most likely written as a fraction (0.81 for 81%): (fact, {year or None: figure}),
    # to be told, never converted (see _fractions).
    fractions: list[tuple[str, dict]] | tuple = ()
    # Figures beyond any real cluster though in range (45,000亿: 4.5亿 in 万元?), likewise (_large).
    large: list[tuple[str, dict]] | tuple = ()
    csv: bool = False  # read from a CSV row: a year's figure is a column, never a JSON object


@dataclass(frozen=True)
class Note:
    """Something to tell once about a whole file (code: no_name_column): `input.<code>` of the
    locales, with `fields`; `refused`: values were refused (an unknown column), else no error."""

    source: str
    code: str
    fields: tuple[tuple[str, str], ...] = ()
    refused: bool = False


def read_clusters(paths: list[str], stdin=None, notes: list[Note] | None = None) -> Iterator[Cluster]:
    """Every cluster of every file, in order, each as soon as it is read: JSON Lines and CSV are
    read a line at a time (a batch never sits in memory), a JSON object or array whole. Names
    default to the running index. What is to be said once about a file is appended to `notes`."""
    index = 0
    notes = [] if notes is None else notes
    for path in paths:
        source = "<stdin>" if path == "-" else path
        with _reading(source):
            stream = (stdin or sys.stdin) if path == "-" else open(path, "rb")
            with contextlib.nullcontext() if path == "-" else stream:
                # Standard input as a file: its bytes (a text stream given by a caller, as is)
                binary = stream if path != "-" else getattr(stream, "buffer", None)
                lines = _text_lines(binary, source, notes) if binary is not None else _without_bom(stream)
                first, told = index, len(notes)
                for cluster in _parse(lines, source, path, notes):
                    cluster.name = cluster.name or str(index)
                    index += 1
                    yield cluster
                if index == first and len(notes) == told:  # [] or an empty .jsonl: said, not silent
                    notes.append(Note(source, "no_clusters"))


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


MAX_LINE = 64 * 1024 * 1024  # bytes of one line: a cluster's is some 2 KB


def _text_lines(binary, source: str, notes: list[Note]) -> Iterator[str]:
    """A byte stream's lines as text, line ends as they are (as open(newline="") gives them),
    one at a time. UTF-8, its BOM dropped; UTF-16 with a BOM (Excel's "Unicode text"); and
    what is not UTF-8 but reads cleanly as GB18030, which Excel on a Chinese Windows writes
    for "CSV (逗号分隔)" (said once, as a note). The first line that is not ASCII decides,
    and the rest must be the same: GBK bytes almost never read as UTF-8, so the guess holds."""
    start = binary.peek(4)[:4] if hasattr(binary, "peek") else b""
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = io.TextIOWrapper(binary, encoding="utf-16", newline="")
        try:
            yield from text
        finally:
            text.detach()  # the caller's stream stays open (it closes its own files)
        return
    encoding = None
    # Lines of at most MAX_LINE bytes: a stream with no line end (/dev/zero) is refused, not
    # read until memory runs out. A partial, not a lambda: no Python call per line.
    for number, raw in enumerate(iter(functools.partial(binary.readline, MAX_LINE + 1), b""), start=1):
        if len(raw) > MAX_LINE:
            raise InputError(source, number, "line_too_long", mb=MAX_LINE // (1024 * 1024))
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw, encoding = raw[3:], "utf-8"
        try:
            line = raw.decode(encoding or "utf-8")
        except UnicodeDecodeError:
            if encoding is not None:
                raise InputError(source, number, "undecodable", encoding=encoding.upper()) from None
            try:
                line = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise InputError(source, number, "not_text") from None
            encoding = "gb18030"
            notes.append(Note(source, "gb18030"))
        if encoding is None and not line.isascii():
            encoding = "utf-8"
        if "\r" in line and _LONE_CR.search(line):  # a lone CR ends a line too (old Mac files)
            yield from filter(None, _LONE_CR.split(line))
        else:
            yield line


def _without_bom(lines) -> Iterator[str]:
    lines = iter(lines)
    first = next(lines, None)
    if first is not None:
        yield first.removeprefix("\ufeff")
        yield from lines


@contextlib.contextmanager
def _reading(source: str):
    """A file or stream that cannot be read becomes one InputError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(source, None, "no_such_file") from None
    except IsADirectoryError:
        raise InputError(source, None, "is_directory") from None
    except PermissionError:
        raise InputError(source, None, "permission_denied") from None
    except UnicodeDecodeError as exc:  # UTF-16 that is not
        raise InputError(source, None, "undecodable", encoding=exc.encoding.upper()) from None
    except OSError as exc:
        raise InputError(source, None, "unreadable", reason=exc.strerror or str(exc)) from None


def _parse(stream, source: str, path: str, notes: list[Note]) -> Iterator[Cluster]:
    """The format from the file's suffix, else from its first line: CSV unless it opens a JSON
    value; JSON Lines when that line is a whole object; else one JSON object or array."""
    suffix = Path(path).suffix.lower()
    stream = iter(stream)
    if suffix in (".jsonl", ".ndjson"):
        yield from _parse_json_lines(stream, source)
        return
    head = []  # the lines read to see the format, given back to the parser
    for line in stream:
        head.append(line)
        if line.strip():
            break
    start = "".join(head).lstrip()[:1]
    if suffix == ".csv" or (suffix != ".json" and start not in ("{", "[", "")):
        yield from _parse_csv(itertools.chain(head, stream), source, notes)
    elif not start:
        raise InputError(source, None, "empty_input")
    elif start == "{" and _is_object(head[-1]):
        yield from _parse_json_lines(itertools.chain(head, stream), source)
    else:
        yield from _parse_json("".join(itertools.chain(head, stream)), source)


def _is_object(line: str) -> bool:
    try:
        return isinstance(load_json(line), dict)
    except ValueError:
        return False


def _parse_json(text: str, source: str) -> Iterator[Cluster]:
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip()[:1] == "{":
            yield from _parse_json_lines(text.splitlines(), source)
            return
        raise InputError(source, exc.lineno, "malformed_json", detail=exc.msg, column=exc.colno) from None
    if not isinstance(data, (list, dict)):  # a bare null, 42 or "text": no array's item
        raise InputError(source, None, "line_not_an_object", type=json_type(type(data).__name__))
    for position, item in enumerate(data if isinstance(data, list) else [data]):
        if not isinstance(item, dict):
            raise InputError(source, None, "not_an_object", position=position, type=json_type(type(item).__name__))
        yield _cluster(item, source, None)


# What JSON calls a value of each of Python's types that json.loads makes: a user wrote JSON.
JSON_TYPES = {"dict": "object", "list": "array", "str": "string", "int": "number", "float": "number",
              "bool": "true/false", "NoneType": "null"}


def json_type(python_type: str) -> str:
    return JSON_TYPES.get(python_type, python_type)


def _parse_json_lines(lines, source: str) -> Iterator[Cluster]:
    """JSON Lines, one object a line, from an iterable of lines."""
    cat, signed = catalogue(), _signed_shares()
    for number, line in enumerate(lines, start=1):
        if not line or line.isspace():
            continue
        try:
            meta, facts, errors, fast = read_json(line, cat, read_figure)
        except json.JSONDecodeError as exc:
            raise InputError(source, number, "malformed_json", detail=exc.msg, column=exc.colno) from None
        except TypeError as exc:
            raise InputError(source, number, "line_not_an_object", type=json_type(str(exc))) from None
        name, name_errors = _name(meta)
        if fast:  # the fast types took no share below 1 but a signed one, no figure beyond its plausible_max
            fractions = () if signed.keys().isdisjoint(facts.keys()) else _fractions(facts, meta, signed)
            yield Cluster(name, facts, name_errors + errors if name_errors else errors, source, number, fractions,
                          _large_derived(facts))
        else:
            yield Cluster(name, facts, name_errors + errors, source, number, _fractions(facts, meta), _large(facts))


def _parse_csv(lines, source: str, notes: list[Note]) -> Iterator[Cluster]:
    # Python's csv module writes the excel dialect; only the delimiter is guessed, from the
    # header line alone (a sniffer's fixed-size sample cut inside a long header misreads quotes).
    lines = iter(lines)
    first_line = next(lines, "")
    delimiter = max(",;\t", key=lambda d: len(next(csv.reader([first_line.lstrip("\ufeff")], delimiter=d), [])))
    reader = csv.reader(itertools.chain([first_line], lines), csv.excel, delimiter=delimiter, strict=True)
    headings = [_heading(h) for h in _csv_row(reader, source, 0) or []]
    header = [_column(h) for h in headings]
    if not header:
        raise InputError(source, None, "empty_csv")
    # A first row none of whose cells names a fact or the name is no header of clusters
    # (a line of text, a YAML line, a bare JSON value): refused, not read as no clusters.
    facts = catalogue().facts
    if not any(column == "name" or column.partition(".")[0] in facts for column in header):
        raise InputError(source, 1, "no_header")
    _refuse_duplicates(headings, header, source)
    _unknown_columns(headings, header, source, notes)
    rows = 0
    while True:
        row = _csv_row(reader, source, reader.line_num)
        if row is None:
            if not rows:
                notes.append(Note(source, "no_rows"))
            return
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(source, reader.line_num, "ragged_row", cells=len(row), columns=len(header))
        if not rows and "name" not in header:
            notes.append(Note(source, "no_name_column"))
        rows += 1
        cluster = _cluster(_row_to_object(header, row), source, reader.line_num)
        cluster.csv = True
        if not cluster.facts and not cluster.errors and "name" in header and any(c not in ("", "name") for c in header):
            # a note below the table, a 合计: said (a file of names alone is not)
            notes.append(Note(source, "name_only", (("line", str(reader.line_num)), ("name", cluster.name))))
        yield cluster


def _refuse_duplicates(headings: list[str], header: list[str], source: str) -> None:
    """Two columns for one fact (集群占地面积 and area_km2, a year twice, or a series given whole
    and by year) or two name columns: which one holds the figure is the file's to say, not
    ours to guess (the last one won, unsaid), so the file is refused at its header."""
    facts = catalogue().facts
    seen: dict[str, str] = {}  # column (fact, fact.year, name) -> its heading
    whole: dict[str, str] = {}  # fact given in one column, and fact given by year -> a heading
    by_year: dict[str, str] = {}
    for heading, column in zip(headings, header):
        fact, dot, _ = column.partition(".")
        if fact not in facts and column != "name":
            continue  # an unknown column is said once, after this (_unknown_columns)
        if column in seen:
            other, named = seen[column], column
        else:
            other, named = (whole if dot else by_year).get(fact), fact
        if other is not None:
            raise InputError(source, 1, "duplicate_column", first=other.strip(), second=heading.strip(), fact=named)
        seen[column] = heading
        (by_year if dot else whole).setdefault(fact, heading)


def _unknown_columns(headings: list[str], header: list[str], source: str, notes: list[Note]) -> None:
    """A column naming no fact (序号, 备注, a typo) is the header's: said once for the file,
    naming it, what a heading is and the nearest id, and left out of every row (`header`'s
    entry emptied), not refused again on each row. A fact's label with a unit not its own
    is still refused per cluster (_other_unit), naming the unit expected."""
    cat = catalogue()
    for i, (heading, column) in enumerate(zip(headings, header)):
        fact = column.partition(".")[0]
        if not column or column == "name" or fact in cat.facts:
            continue
        if _other_unit(FactError(fact, None, "unknown_fact")).code != "unknown_fact":
            continue
        nearest = cat.nearest(fact)
        notes.append(Note(source, "unknown_column", (("column", heading.strip()), ("nearest", nearest or "")), True))
        header[i] = ""


def _csv_row(reader, source: str, before: int) -> list[str] | None:
    """The next row, None at the end; malformed CSV is an InputError naming the row's line
    (for an unterminated quote, the line where the quoted cell opens)."""
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(source, before + 1, "unterminated_quote") from None
        raise InputError(source, reader.line_num, "malformed_csv", detail=str(exc)) from None


_SPACE_RUN = re.compile(r"\s+")
_SPACE_BETWEEN_WIDE = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")


def _heading(cell: str) -> str:
    """A heading cell on one line: a line break made inside the cell (Excel's Alt+Enter, 集群内中小
    企业⏎产值占…) or a space between Chinese characters is no part of the name; between English
    words, a space."""
    return _SPACE_BETWEEN_WIDE.sub("", _SPACE_RUN.sub(" ", cell.strip()))


def _column(heading: str) -> str:
    """A column heading as a fact id (ids or the form's labels, either language), a year after
    a dot kept: 集群总产值.2024 → total_output.2024; the name column as `name`."""
    heading = heading.strip()
    if heading.lower() in NAME_COLUMNS:
        return "name"
    fact, dot, year = heading.rpartition(".") if "." in heading else (heading, "", "")
    column = _fact_id(fact) + dot + (year_key(year) if dot else "")  # .2023年 is .2023: a year twice is refused
    return column if dot or column in catalogue().facts else _year_apart(heading) or column


# A year written before or after a fact's name, as spreadsheets head yearly columns:
# 2023年集群总产值（亿元）, 集群总产值（亿元）2024年, 集群总产值_2025, 比例(2024年), 比例-２０２５.
_YEAR = r"(?P<year>[12１２][0-9０-９]{3})\s*(?:年度|年)?"
_YEAR_BEFORE = re.compile(rf"{_YEAR}\s*[-_/]?\s*(?P<rest>\D.*)", re.S)
_YEAR_AFTER = re.compile(rf"(?P<rest>.*?\D)\s*[-_/]?\s*[（(]?\s*{_YEAR}\s*[）)]?", re.S)


def _year_apart(heading: str) -> str | None:
    """The column `fact.year` of a heading with its year before or after the fact's name (the
    name as _fact_id reads it, its unit too: a unit not the fact's stays in the column, to be
    refused naming it); None when the rest names no fact."""
    cat = catalogue()
    for pattern in (_YEAR_BEFORE, _YEAR_AFTER):
        if (found := pattern.fullmatch(heading)) is not None:
            rest = found["rest"].strip()
            if _named(_UNIT.sub("", rest), cat) in cat.facts:
                return _fact_id(rest) + "." + year_key(found["year"])
    return None


# A unit in parentheses, full-width or ASCII, at the end of a heading: 集群总产值（亿元）
_UNIT = re.compile(r"\s*[（(]([^（）()]*)[）)]\s*$")


def _fact_id(name: str) -> str:
    """The fact a column names, also when the form's label is followed by the fact's own unit
    (the form writes 集群占地面积（平方公里）, and a heading copied from it keeps that); a label
    with another unit is no fact (its figures would be read in the wrong unit)."""
    cat = catalogue()
    fact = _named(name, cat)
    unit = _UNIT.search(name) if fact not in cat.facts else None
    if unit is not None:
        bare = _named(name[:unit.start()], cat)
        if bare in cat.facts and cat.facts[bare].unit and is_own_unit(cat.facts[bare], unit.group(1)):
            return bare
    return fact


def _named(name: str, cat) -> str:
    """The fact a name stands for: the catalogue's ids and labels, else a row label of the
    application form (主导产业相关的专精特新“小巨人”企业数量); the name itself when neither."""
    fact = cat.fact_id(name)
    return fact if fact in cat.facts else _form_labels().get(_plain(name), name)


@functools.cache
def _form_labels() -> dict[str, str]:
    """Fact id by the row labels of the application forms (engine/forms), as _plain writes them,
    with their unit (the form's own, that of the fact) and without: the rows `form check` reads
    into a fact as is (a named count's count; a latest-year row's one figure). The 单项冠军 row
    is left out: it counts every level (`total_of`), which no one column of facts says."""
    from engine.form import FORM_DIR, load_form  # only for a heading the catalogue does not name

    labels: dict[str, str] = {}
    for path in sorted(FORM_DIR.glob("*.yaml")):
        for _, f in load_form(path.stem).fields():
            if f.fact and not f.total_of and f.kind in ("number", "yearly", "named_count"):
                for label in (f.label, _UNIT.sub("", f.label)):
                    labels.setdefault(_plain(label), f.fact)
    return labels


def _plain(text: str) -> str:
    """Full-width and superscript forms as plain ones (％ → %, km² → km2), no spaces, lower case."""
    return unicodedata.normalize("NFKC", text).replace(" ", "").lower()


def _row_to_object(header: list[str], row: list[str]) -> dict:
    """`total_output.2024` columns become {"total_output": {"2024": ...}}."""
    obj: dict = {}
    for column, cell in zip(header, row):
        cell = cell.strip()
        if not column or cell == "":
            continue
        fact, dot, year = column.partition(".")
        if dot:
            obj.setdefault(fact, {})
            if isinstance(obj[fact], dict):
                obj[fact][year] = cell
        else:
            obj[fact] = cell
    return obj


def _cluster(raw: dict, source: str, line: int | None) -> Cluster:
    facts, errors = validate_facts(raw, catalogue(), read_figure)
    errors = [_other_unit(e) if e.code == "unknown_fact" else e for e in errors]
    name, name_errors = _name(raw)
    return Cluster(name, facts, name_errors + errors, source, line, _fractions(facts, raw), _large(facts))


def _other_unit(error: FactError) -> FactError:
    """A column named by a fact's label with a unit not the fact's (集群总产值（万元）) is not read
    (`_fact_id`); refused as such, naming the fact and both units, not as an unknown field."""
    column = error.fact if isinstance(error.fact, str) else ""
    unit = _UNIT.search(column)
    cat = catalogue()
    bare = _named(column[:unit.start()], cat) if unit else None
    if bare in cat.facts and cat.facts[bare].unit and unit.group(1).strip():
        return FactError(bare, column, "column_unit", unit.group(1).strip())
    return error


def _large(facts: dict) -> list[tuple[str, dict]]:
    """The figures beyond their fact's plausible_max (facts.yaml): (fact, {year or None: figure}),
    in the catalogue's order; noted, evaluated as given. Then a derived figure not given (每万人
    from two counts) as the engine makes it, as the chat asks it back."""
    found = []
    for fact_id, fact in _capped().items():
        value = facts.get(fact_id)
        items = value.items() if isinstance(value, dict) else [(None, value)] if value is not None else []
        if over := {year: v for year, v in items if not isinstance(v, bool) and fact.implausible(v)}:
            found.append((fact_id, over))
    return found + _large_derived(facts)


def _large_derived(facts: dict) -> list[tuple[str, dict]]:
    """_large's derived figures not given (Catalogue.implausible_derived), as {None: figure}."""
    found = catalogue().implausible_derived(facts)
    return [(fact_id, {None: figure}) for fact_id, figure in found] if found else found


@functools.cache
def _capped() -> dict:
    return {f.id: f for f in catalogue().facts.values() if f.plausible_max is not None}


def _fractions(facts: dict, raw: dict, shares: dict | None = None) -> list[tuple[str, dict]]:
    """The figures of shares that Fact.fractions takes for a fraction (0.81 for 81%), the
    predicate by which the chat asks them back and the form check notes them: (fact, {year or
    None: figure}). A figure written with % (a string cell) is a percentage as written. Only
    `shares` are looked at (all of them unless said)."""
    shares = _shares() if shares is None else shares
    # A batch pays this per cluster, and nearly every cluster has no share under 1: the shares
    # given are found by a set intersection (in C), and only they are looked at (a loop over
    # all twelve was 20 k instructions a cluster, this is 12 k).
    under_one = set()
    for fact_id in facts.keys() & shares.keys():
        value = facts[fact_id]
        if (min(value.values()) if type(value) is dict else value) < 1:  # a series is never empty
            under_one.add(fact_id)
    if not under_one:
        return []
    found = []
    for fact_id, fact in shares.items():  # in the catalogue's order
        if fact_id not in under_one:
            continue
        value = facts[fact_id]
        items = list(value.items()) if isinstance(value, dict) else [(None, value)]
        typed = raw.get(fact_id)
        likely = fact.fractions(v for _, v in items)
        hit = {year: v for (year, v), fraction in zip(items, likely) if fraction
               and not _with_percent(typed.get(year) if isinstance(typed, dict) else typed)}
        if hit:
            found.append((fact_id, hit))
    return found


@functools.cache
def _shares() -> dict:
    """The facts Fact.fractions looks at (a percentage that runs to 100) by id, in the catalogue's order, found once."""
    return {f.id: f for f in catalogue().facts.values() if f.share}


@functools.cache
def _signed_shares() -> dict:
    """The shares whose range reaches below 0 (co2_reduction): the fast types take any of their figures."""
    return {fact_id: f for fact_id, f in _shares().items() if f.min < 0}


def _with_percent(typed) -> bool:
    return isinstance(typed, str) and ("%" in typed or "％" in typed)


def _name(meta: dict) -> tuple[str, list[FactError]]:
    """The cluster's name as text that can be printed: a lone surrogate (valid JSON, not
    valid Unicode) is replaced with U+FFFD and said."""
    name = meta.get("name")
    # a name that is not text is shown as its JSON (["x"], not Python's ['x'])
    name = "" if name is None else name if isinstance(name, str) else json.dumps(name, ensure_ascii=False)
    if not name.isascii() and LONE_SURROGATE.search(name):
        return LONE_SURROGATE.sub("\ufffd", name), [FactError("name", meta["name"], "name")]
    return name, []
