"""Reading clusters for `clusterbot evaluate`: a JSON object, a JSON array, JSON Lines, or
CSV (one cluster a row; series as columns such as `total_output.2024`), from files or `-`.

Unreadable or malformed input raises `InputError` naming the file and line; values that
are the wrong type are not input errors but `FactError`s of the cluster they belong to.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from engine import FactError, catalogue, validate_facts, validate_json


class InputError(Exception):
    """A file that cannot be read as clusters: one line naming the file and the line."""

    def __init__(self, source: str, line: int | None, message: str):
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


@dataclass
class Cluster:
    """One cluster read from input: its name (or position), its valid facts, its errors."""

    name: str
    facts: dict
    errors: list[FactError] = field(default_factory=list)
    source: str = ""
    line: int | None = None


def read_clusters(paths: list[str], stdin=None) -> Iterator[Cluster]:
    """Every cluster of every file, in order; names default to the running index."""
    index = 0
    for path in paths:
        if Path(path).suffix.lower() in (".jsonl", ".ndjson"):
            clusters = _stream_json_lines(path)  # a large batch is read line by line
        else:
            text, source = _read_text(path, stdin)
            clusters = _parse(text, source, path)
        for cluster in clusters:
            cluster.name = cluster.name or str(index)
            index += 1
            yield cluster


@contextlib.contextmanager
def _reading(source: str):
    """A file or stream that cannot be read becomes one InputError naming it."""
    try:
        yield
    except FileNotFoundError:
        raise InputError(source, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, None, "is a directory, not a file") from None
    except PermissionError:
        raise InputError(source, None, "permission denied") from None
    except UnicodeDecodeError as exc:
        raise InputError(source, None, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise InputError(source, None, exc.strerror or str(exc)) from None


def _read_text(path: str, stdin) -> tuple[str, str]:
    if path == "-":
        with _reading("<stdin>"):
            return (stdin or sys.stdin).read(), "<stdin>"
    with _reading(path):
        return Path(path).read_text(encoding="utf-8-sig"), path


def _parse(text: str, source: str, path: str) -> Iterator[Cluster]:
    suffix = Path(path).suffix.lower()
    start = text.lstrip()[:1]
    if suffix == ".csv" or (suffix != ".json" and start not in ("{", "[", "")):
        yield from _parse_csv(text, source)
    elif not text.strip():
        raise InputError(source, None, "empty input")
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg == "Extra data" and start == "{":
                yield from _parse_json_lines(text, source)
                return
            raise InputError(source, exc.lineno, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
        items = data if isinstance(data, list) else [data]
        for position, item in enumerate(items):
            if not isinstance(item, dict):
                raise InputError(source, None, f"item {position} is {type(item).__name__}, not a JSON object")
            yield _cluster(item, source, None)


def _stream_json_lines(path: str) -> Iterator[Cluster]:
    with _reading(path), open(path, encoding="utf-8-sig") as lines:
        yield from _parse_json_lines(lines, path)


def _parse_json_lines(lines, source: str) -> Iterator[Cluster]:
    """JSON Lines from a text or an open file, one object a line."""
    cat = catalogue()
    if isinstance(lines, str):
        lines = lines.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            meta, facts, errors = validate_json(line, cat)
        except json.JSONDecodeError as exc:
            raise InputError(source, number, f"malformed JSON: {exc.msg} (column {exc.colno})") from None
        except TypeError as exc:
            raise InputError(source, number, f"a JSON object was expected, not {exc}") from None
        yield Cluster(_name(meta), facts, errors, source, number)


def _parse_csv(text: str, source: str) -> Iterator[Cluster]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(source, None, "empty CSV file") from None
    except csv.Error as exc:
        raise InputError(source, 1, f"malformed CSV: {exc}") from None
    if not any(header):
        raise InputError(source, 1, "the first row must name the columns (fact ids)")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(source, reader.line_num, f"malformed CSV: {exc}") from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise InputError(source, reader.line_num, f"{len(row)} cells but the header names {len(header)} columns")
        yield _cluster(_row_to_object(header, row), source, reader.line_num)


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
    facts, errors = validate_facts(raw, catalogue())
    return Cluster(_name(raw), facts, errors, source, line)


def _name(meta: dict) -> str:
    name = meta.get("name")
    return "" if name is None else str(name)
