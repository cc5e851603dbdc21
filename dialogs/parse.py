"""Reading a person's answer: lenient in form, exact in value.

`45`, `45.2亿`, `452000万元` (→ 45.2 亿元), `72.5%`, `是/否/有/没有/yes/no`, series as
`2023:45 2024:48 2025:52` or `45, 48, 52` (the three latest years, to be confirmed),
full-width digits and punctuation. Anything else raises `ParseError`, whose code the
locales turn into a message saying what is expected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engine import catalogue
from engine.facts import Fact

NUMBER = r"[-+]?\d+(?:\.\d+)?"
# Units a figure may carry, with the factor that turns it into the fact's unit.
YI_YUAN_UNITS = [("千万元", 0.1), ("千万", 0.1), ("亿元", 1.0), ("亿", 1.0), ("万元", 1e-4), ("万", 1e-4), ("元", 1e-8)]
COUNT_UNITS = [("万", 10000)]
PLAIN_SUFFIXES = ("%", "％", "平方公里", "km2", "km²", "平方千米", "家", "个", "项", "人", "件", "吨/万元", "吨", "个百分点")

YES = {"是", "有", "对", "yes", "y", "true", "√", "是的", "有的", "符合", "属于"}
NO = {"否", "无", "没有", "不是", "不", "no", "n", "false", "×", "x", "不符合", "不属于", "没"}


class ParseError(ValueError):
    """An answer that cannot be read. `code`: number, count, bool, choice, series, rate,
    trend, range, year, empty."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Parsed:
    value: Any
    assumed_years: bool = False  # a bare list was put on the latest years: confirm it


def normalise(text: str) -> str:
    """Full-width digits and punctuation to ASCII; separators unified; spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("、", ",").replace("；", ";").replace("。", "").replace("~", "-")
    return re.sub(r"\s+", " ", text).strip()


def parse_answer(spec: Fact, text: str, latest_year: int, options: list[str] | None = None) -> Parsed:
    """Read `text` as a value of the fact; `latest_year` is the last complete year."""
    text = normalise(text or "")
    if not text:
        raise ParseError("empty")
    reader = _READERS[spec.type]
    parsed = reader(spec, text, latest_year)
    _check(spec, parsed.value)
    return parsed


def _check(spec: Fact, value: Any) -> None:
    """The same pydantic type that validates a JSON input validates a chat answer."""
    try:
        catalogue().field_adapters[spec.id].validate_python(value)
    except ValidationError as exc:
        kinds = {e["type"] for e in exc.errors()}
        if kinds & {"greater_than_equal", "less_than_equal", "finite_number"}:
            raise ParseError("range") from None
        raise ParseError(spec.type) from None


def _unit_factor(spec: Fact, suffix: str) -> float | None:
    """The factor of a unit written after a figure, or None if it is not one we read."""
    suffix = suffix.strip().lower()
    if not suffix:
        return 1.0
    if spec.unit == "yi_yuan":
        for unit, factor in YI_YUAN_UNITS:
            if suffix == unit:
                return factor
        return None
    if spec.type == "count":
        for unit, factor in COUNT_UNITS:
            if suffix.startswith(unit) and suffix[len(unit):] in ("",) + PLAIN_SUFFIXES:
                return factor
    return 1.0 if suffix in PLAIN_SUFFIXES else None


def _figure(spec: Fact, text: str) -> float:
    """One figure with an optional unit: 45 / 45.2亿 / 452000万元 / 72.5% / 1,200 / 5万人."""
    text = text.strip()
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?.*", text):
        text = text.replace(",", "")  # thousands separators, only in a single figure
    match = re.fullmatch(rf"({NUMBER})\s*(.*)", text)
    if not match:
        raise ParseError("count" if spec.type == "count" else "number")
    factor = _unit_factor(spec, match.group(2))
    if factor is None:
        raise ParseError("count" if spec.type == "count" else "number")
    value = float(match.group(1)) * factor
    if spec.unit == "yi_yuan":
        value = round(value, 6)  # 452000万元 is 45.2 亿元 exactly, not 45.199999…
    return value


def _read_number(spec: Fact, text: str, _latest_year: int) -> Parsed:
    return Parsed(_figure(spec, text))


def _read_count(spec: Fact, text: str, _latest_year: int) -> Parsed:
    value = _figure(spec, text)
    if not float(value).is_integer():
        raise ParseError("count")
    return Parsed(int(value))


def _read_bool(spec: Fact, text: str, _latest_year: int) -> Parsed:
    word = text.lower().rstrip("!！.")
    if word in YES:
        return Parsed(True)
    if word in NO:
        return Parsed(False)
    raise ParseError("bool")


def _read_option(kind: str):
    def read(spec: Fact, text: str, _latest_year: int) -> Parsed:
        cat = catalogue()
        word = text.lower()
        items = cat.levels if kind == "level" else cat.ranks
        for item in items:
            if word in (item["id"], item["zh"], item["en"].lower()):
                return Parsed(item["id"])
        if kind == "level" and word in NO | {"未发生", "无事故"}:
            return Parsed("none")
        if kind == "rank" and word in {"都不是", "均不是", "均未", "否", "无", "no"}:
            return Parsed("none")
        raise ParseError("choice")
    return read


_UNIT = r"(?:\s*[^\s\d,;:=+\-.][^\s,;:=]*)?"  # a unit after a figure never starts with a digit
_PAIR = re.compile(rf"((?:19|20)\d\d)\s*(?:年度|年)?\s*[:=]\s*({NUMBER}{_UNIT})"
                   rf"|((?:19|20)\d\d)\s*(?:年度|年)\s*({NUMBER}{_UNIT})")


def _series(spec: Fact, text: str, latest_year: int) -> Parsed:
    """Year-value pairs, or a bare list of exactly three figures for the three latest years."""
    pairs = _PAIR.findall(text)
    if pairs:
        leftover = _PAIR.sub("", text)
        if re.sub(r"[\s,;]+", "", leftover):
            raise ParseError("series")
        series = {}
        for y1, v1, y2, v2 in pairs:
            year, figure = (y1, v1) if y1 else (y2, v2)
            if year in series:
                raise ParseError("series")
            series[year] = _figure(spec, figure)
        return Parsed(dict(sorted(series.items())))
    figures = [part for part in re.split(r"\s*[,;]\s*|\s+", text) if part]
    if len(figures) != 3:
        raise ParseError("series")
    years = [str(latest_year - 2 + i) for i in range(3)]
    return Parsed(dict(zip(years, (_figure(spec, f) for f in figures))), assumed_years=True)


def _read_series(spec: Fact, text: str, latest_year: int) -> Parsed:
    try:
        return _series(spec, text, latest_year)
    except ParseError as exc:
        if exc.code in ("number", "count"):
            raise
        raise ParseError("series") from None


def _read_rate(spec: Fact, text: str, latest_year: int) -> Parsed:
    """One figure is the three-year average; several are the annual rates."""
    try:
        return Parsed(_figure(spec, text))
    except ParseError:
        pass
    try:
        return _series(spec, text, latest_year)
    except ParseError:
        raise ParseError("rate") from None


def _read_trend(spec: Fact, text: str, latest_year: int) -> Parsed:
    try:
        return _read_bool(spec, text, latest_year)
    except ParseError:
        pass
    try:
        return _series(spec, text, latest_year)
    except ParseError:
        raise ParseError("trend") from None


_READERS = {
    "number": _read_number,
    "count": _read_count,
    "bool": _read_bool,
    "level": _read_option("level"),
    "rank": _read_option("rank"),
    "series": _read_series,
    "rate": _read_rate,
    "trend": _read_trend,
}
