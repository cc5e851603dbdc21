"""Reading a person's answer: lenient in form, exact in value.

`45`, `45.2亿`, `452000万元` (→ 45.2 亿元), `520,000万元`, `4.5bn` or `4.5 billion yuan` (→ 45 亿元),
`100千米²`, `99.5 sq km` or `99.5 km^2`, `5家` or `5 firms` (a unit's own words, in either
language), `72.5%`, `是/否/有/没有/yes/no` (leading a sentence too, `Yes, we have`, unless the rest
says otherwise; and 无/没有 as 0 for a count, as the form's 填“无”),
Chinese numerals and amounts (两家, 六成, 百分之六十, 四十五亿, 五十二点五亿, read by cn2an), series as
`2023:45 2024:48 2025:52` (二〇二三年45亿 too) or `45, 48, 52` (the three latest years, to be
confirmed; `45, 48 and 52`, `45，48，52（亿元）`, `45、48、52万元`, `近三年分别为45亿、48亿、52亿` too;
`2023-2025年分别为45、48、52亿元` as the years' pairs), full-width digits and punctuation; an
approximation (约95, 95左右, about 95) is read as the figure given, `85 percent` as 85%, `85.` as 85, `三成五`
as 35%, `年均增速9.5%` as a rate of 9.5, `暂无`/`一家也没有` as a count of 0; an estimate (十几家, 5家以上) is
refused as one. Zero-width characters and a BOM are dropped. Superscript digits are refused, not read as plain
ones (10⁴ is not 104). Anything else raises `ParseError`, whose code (and details) the locales
turn into a message saying what is expected. A figure that is most likely a slip is marked
(`Parsed.doubt`) to be asked back.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from engine import catalogue
from engine.facts import FIGURE_TYPES, Fact, cn_years

NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"  # 1e26 is a figure (refused by its range), not a unit "e26"
# Money: the facts' units and the scale words a figure may carry, in yuan; 元, yuan or RMB may
# follow a scale word (4.5亿元, 4.5 billion yuan, 45亿元人民币) or stand alone (5200000000元).
YUAN_IN = {"yi_yuan": 1e8, "wan_yuan": 1e4}
MONEY_SCALES = {"千万": 1e7, "亿": 1e8, "万": 1e4, "hundred million": 1e8, "billion": 1e9, "bn": 1e9,
                "million": 1e6, "mn": 1e6, "m": 1e6}
CURRENCY = re.compile(r"\s*(?:元人民币|元|人民币|yuan|rmb|cny)$")
# Before a figure of money: RMB 4.5 billion, ¥4.5bn, 人民币45亿 (after it, CURRENCY).
_CURRENCY_AHEAD = re.compile(r"(?:rmb|cny|人民币|[¥￥])\s*(?=[-+]?\d)", re.IGNORECASE)
# Units a count may carry, with the factor that turns it into the fact's unit.
COUNT_UNITS = [("万", 10000)]
# The words a figure of each unit may carry besides the catalogue's own labels (家, firms,
# firm: unit_words); another unit (1200件 of people) is refused.
UNIT_WORDS = {
    "km2": ("平方千米", "km^2", "km**2", "sq km", "sq. km", "sqkm", "square km", "square kilometres",
            "square kilometers", "square kilometre", "square kilometer"),
    "percent": ("个百分点",),
    "firms": ("个", "户", "enterprises", "enterprise", "companies", "company", "smes", "sme"),
    "items": ("个",),
    "platforms": ("家", "项"),
    "patents": ("件", "项"),
    "persons": ("名", "people", "employees", "employee", "workers", "worker", "staff"),
    "projects": ("项",),
    "t_per_10k_yuan": ("吨",),
}
# A count's own noun, where its unit's labels are more general (3 standards of items).
FACT_NOUNS = {
    "standards_count": ("standards", "standard", "项标准"),
    "resource_sharing_count": ("initiatives", "initiative"),
    "green_parks": ("parks", "park"),
    "green_products": ("products", "product"),
    "overseas_branches": ("branches", "branch"),
    "pct_applications": ("applications", "application"),
    "invention_patents": ("invention patents", "invention patent", "valid invention patents"),
}
# A year's amount below a thousandth of another year's (45万 beside 45亿), or under 0.01 of the
# asked unit (shown 0.00 or 0.01), is most likely a slip of unit: asked back before it is saved.
SLIP_RATIO, SLIP_BELOW = 1000, 0.01
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉"
# The ² of an area unit squares the unit, it is no exponent: 100千米² is 100 平方千米.
SQUARED_UNITS = {"km²": "km2", "千米²": "平方千米", "公里²": "平方公里"}
_SQUARED = re.compile("|".join(SQUARED_UNITS), re.IGNORECASE)
_SUPERSCRIPT = re.compile(f"[{SUPERSCRIPTS}]")
CN_DIGITS = "零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟"
CN_NUMERAL = re.compile(rf"负?[{CN_DIGITS}][{CN_DIGITS}点]*")
# cn2an reads no decimal before a scale word (五十二点五亿): the scale is split off a numeral that
# ends in one and has none before it (一亿五千万 is read whole).
CN_SCALES = {"千万": 10**7, "万": 10**4, "亿": 10**8}
_CN_SCALED = re.compile(r"([^万亿]+?)(千万|万|亿)")
# Words around a figure that are no unit: dropped, the figure read as given. Approximations
# (约95, 约有95, 大概95, 差不多95, 95左右, about 95), "percent" for %, and/和/及 between the figures of a list.
_APPROX = re.compile(rf"(?:大约|大概|大致|差不多|估计|约|将近|接近|近(?!\s*[三3]\s*年))(?:\s*(?:为|有|是))?"
                     rf"(?=\s*(?:[-+]?\d|[{CN_DIGITS}]))|左右"
                     r"|\b(?:about|approx(?:imately|\.)?|around|roughly|nearly)(?=\s*[-+]?\d)\s*", re.IGNORECASE)
_PERCENT = re.compile(r"\s*\b(?:percent|per cent)\b", re.IGNORECASE)
_AND = re.compile(r"\s*,?\s*\band\b\s*(?=[-+]?\d)|\s*(?:以及|和|及)\s*(?=[-+]?\d|[" + CN_DIGITS + "])",
                  re.IGNORECASE)
# One unit in brackets after the figures (45, 48, 52.3（亿元）) is each bare figure's unit.
_BRACKETED_UNIT = re.compile(r"\s*\(([^()\d]+)\)$")
NONE_WORDS = {"无", "没有", "没", "0家", "none", "暂无", "尚无", "暂时没有", "目前没有", "还没有"}  # the form's 填“无”
# Not even one (一家也没有, 一个都没有): none, as 没有 is.
_NOT_ONE = re.compile(r"(?:一|1)\s*(?:家|个|项|件|名|人|户|所|座)?\s*(?:也|都)\s*(?:没有|没|无)")
# A minus sign as Word and Excel write it (U+2212), and 负 before a figure (负3%; 负三 is cn2an's).
_NEGATIVE = re.compile(r"\u2212|负\s*(?=\d)")
# Characters a pasted answer may carry that no one sees: zero-width spaces and joiners, a BOM.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# An estimate or an open range is no figure (十几家, 5家以上, 10余家, 三成多, more than 5): said so,
# in the words typed, not refused as a unit named "几家". (约95, 95左右 are read: _APPROX.)
_ESTIMATE = re.compile(r"几|多|余|以上|以下|以内|之内|不到|不足|不超过|不少于|至少|超过|上下|开外|若干|数十|数百|上百|上千"
                       r"|[十百千万\d]\s*来|\b(?:more than|over|under|less than|at least|several|dozens?|a few)\b|\+$",
                       re.IGNORECASE)
# Words before the figures that only restate the question: 近三年分别为45、48、52亿 is a bare list
# of the three latest years; 2023-2025年分别为45、48、52亿元 gives their years as a range.
_FIGURE_AHEAD = rf"(?=\s*(?:[-+]?\d|[{CN_DIGITS}]))"
_RECENT_YEARS = re.compile(r"^(?:(?:近|最近)\s*[三3]\s*年(?:来|度)?\s*(?:分别|依次)?|分别|依次)\s*(?:为|是)?\s*[:,]?"
                           + _FIGURE_AHEAD)
_YEAR_LIST = re.compile(r"^((?:(?:19|20)\d\d\s*(?:年度|年)?\s*,\s*)+(?:19|20)\d\d)\s*(?:年度|年)\s*"
                        r"(?:分别|依次)\s*(?:为|是)?\s*[:,]?\s*(.+)$")  # 2023、2024、2025年分别为45、48、52亿元
_YEAR_RANGE = re.compile(r"^((?:19|20)\d\d)\s*年?\s*(?:-|至|到|—|–)\s*((?:19|20)\d\d)\s*(?:年度|年)\s*"
                         r"(?:分别|依次)?\s*(?:为|是)?\s*[:,]?\s*(.+)$")
# A rate's figure after the words of its question (年均9.5%, 年均增速9.5%, 增速9.5%, 平均每年增长9.5%): the average.
_RATE_WORDS = re.compile(r"^(?:(?:近|最近)\s*[三3]\s*年)?\s*(?:年均|年平均|平均每年|平均|每年)?\s*(?:增速|增长率|增幅|增长)?\s*"
                         r"(?:为|是|达到|达)?\s*[:,]?" + _FIGURE_AHEAD)

YES = {"是", "有", "对", "yes", "y", "true", "√", "✓", "✔", "☑", "是的", "有的", "符合", "属于", "对的", "yeah", "yep", "yup",
       "correct", "absolutely", "certainly", "of course", "indeed"}
NO = {"否", "无", "没有", "不是", "不是的", "不", "no", "n", "false", "×", "x", "✗", "✘", "☒", "不符合", "不属于", "没", "not", "nope"}
# A yes/no word leading a sentence (Yes, we have; 是的，在宜兴市范围内) is the answer unless the
# rest says otherwise: a word of the other side, or a "but", makes it ambiguous.
_LEADING_WORD = re.compile(r"([^\s,;:.!?！？]+)[\s,;:.!?！？]+(.+)")
_EN_NO = re.compile(r"\b(?:no|not|never|none|nope|false)\b|n't", re.IGNORECASE)
_EN_YES = re.compile(r"\b(?:yes|yeah|yep|yup|true)\b", re.IGNORECASE)
_ZH_NO = re.compile("[不没无否非未]")
_ZH_YES = re.compile("[是有对]")
_BUT = re.compile(r"\b(?:but|however|though|although|partly|partially)\b|但|不过|然而|部分", re.IGNORECASE)


class ParseError(ValueError):
    """An answer that cannot be read. `code`: number, count, bool, choice, series, rate,
    trend, range, year, empty, superscript, unit (`given`: the unit written), estimate (`given`:
    the figure typed, 十几家), repeated_year
    (`year`), missing_years (`years`), later_year (`years`; `first`, `middle`, `last`: 近三年),
    year_values (`items`: the years whose figure is refused), years_only (`given`: three years
    and no figure, a table's header). `details` fill the locales' message."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code, self.details = code, details


@dataclass(frozen=True)
class Parsed:
    value: Any
    assumed_years: bool = False  # a bare list was put on the latest years: confirm it
    # A figure that is most likely a slip, to confirm: implausible (per_10k), fraction (0.85 for
    # 85%), scale (45万 beside 45亿: `meant` reads it in the asked unit), small (no such reading).
    doubt: str | None = None
    years: tuple[str, ...] = ()  # of a series, the years doubted
    meant: Any = None  # the value most likely meant (fraction, scale), saved when confirmed
    percent_years: tuple[str, ...] = ()  # of a series, the years whose figure was typed as a percentage


def visible(text: str) -> str:
    """The text without zero-width characters or a BOM (pasted with an answer, 85\u200b)."""
    return text.translate(_INVISIBLE)


def normalise(text: str) -> str:
    """Full-width digits and punctuation to ASCII; separators unified; spaces collapsed; the
    characters no one sees dropped; a minus sign as Word and Excel write it (−3%) or 负 before
    a figure (负3%) is "-"."""
    text = unicodedata.normalize("NFKC", _SQUARED.sub(lambda m: SQUARED_UNITS[m.group(0).lower()], visible(text)))
    text = _NEGATIVE.sub("-", cn_years(text))
    text = text.replace("、", ",").replace("；", ";").replace("。", "").replace("~", "-")
    return re.sub(r"\s+", " ", text).strip()


def refuse_superscripts(text: str) -> None:
    """NFKC would read 10⁴ as 104 and 5² as 52: a superscript or subscript digit is refused
    (the ² of km², 千米², 公里² excepted)."""
    if _SUPERSCRIPT.search(text) and _SUPERSCRIPT.search(_SQUARED.sub("", text)):
        raise ParseError("superscript")


def choice_number(text: str) -> int | None:
    """A typed option number: 3, ３ or ③; None for anything else (² is not 2)."""
    if any(ch in SUPERSCRIPTS for ch in text):
        return None
    word = normalise(text)
    return int(word) if re.fullmatch(r"\d{1,6}", word) else None


NAME_LIMIT = 100  # characters of a cluster's name (a long official name is some 40)


def clean_name(text: str, limit: int | None = NAME_LIMIT) -> str:
    """A name as typed, characters kept (（四办法） stays full-width): only spaces collapsed; at
    most `limit` characters (None: a command's whole text, whose name is read off it)."""
    return re.sub(r"\s+", " ", "".join(ch for ch in text if ch.isprintable() or ch == " ")).strip()[:limit]


def name_cut(name: str) -> tuple[str, bool]:
    """A cluster's name (cleaned) at most NAME_LIMIT characters, and whether it was cut: the
    reply then says so, with the name kept."""
    return name[:NAME_LIMIT].rstrip(), len(name) > NAME_LIMIT


# The years an official names by today's (去年52亿): how many years back each word is.
_RELATIVE_YEARS = {"大前年": 3, "前年": 2, "去年": 1, "今年": 0,
                   "the year before last": 2, "last year": 1, "this year": 0}
_RELATIVE_YEAR = re.compile("|".join(_RELATIVE_YEARS), re.IGNORECASE)


def parse_answer(spec: Fact, text: str, latest_year: int, options: list[str] | None = None,
                 this_year: int | None = None) -> Parsed:
    """Read `text` as a value of the fact; `latest_year` is the last complete year, `this_year`
    today's, by which 去年、前年、大前年 (and 今年, not complete) of a series name their years."""
    refuse_superscripts(text or "")
    if spec.type in ("series", "rate", "trend") and ("\t" in text or "\n" in text):
        text = _table(text)
    if this_year is not None and spec.type in ("series", "rate", "trend") and text and _RELATIVE_YEAR.search(text):
        text = _RELATIVE_YEAR.sub(lambda m: f"{this_year - _RELATIVE_YEARS[m.group(0).lower()]}年", text)
    text = normalise(text or "")
    if not text:
        raise ParseError("empty")
    if spec.type not in ("bool", "level", "rank"):
        text = _plain(_no_currency_ahead(spec, _restated(spec, text)))
    reader = _READERS[spec.type]
    parsed = reader(spec, text, latest_year)
    _check(spec, parsed.value)
    return _doubted(spec, text, parsed)


# Words before a figure that only restate the question (占地85平方公里, 从业人员3.5万人, 总产值分别为…)
# or say it is a total (共12家, 合计12家, 目前有12家): dropped; any other words (耕地85) are refused.
_RESTATED = re.compile(rf"^([\u4e00-\u9fff]+?)\s*(?:分别|依次)?\s*(?:为|是|有|达到|达)?\s*[:]?\s*(?=约|[-+]?\d|[{CN_DIGITS}])")
_TOTAL_WORDS = re.compile(r"(?:目前|现在|现)?(?:共有|共计|一共|总共|合计|总计|共|计|有)?")
# A count's general noun after its unit (12家企业, 3.5万名员工): the unit's.
UNIT_NOUNS = {"firms": ("企业", "公司"), "persons": ("员工", "职工")}


def _restated(spec: Fact, text: str) -> str:
    match = _RESTATED.match(text)
    if match is None:
        return text
    words = match.group(1)
    if _TOTAL_WORDS.fullmatch(words) or (len(words) >= 2 and words in spec.label("zh")):
        return text[match.end():]
    return text


_YEAR_CELL = re.compile(r"((?:19|20)\d\d)\s*(?:年度|年)?")


def _table(text: str) -> str:
    """Rows copied from a spreadsheet (cells between tabs, rows between line breaks) as the
    pairs they give: a year and its figure a row (2023⇥45), or a row of years over a row of
    figures (2023⇥2024⇥2025 / 45⇥48⇥52); anything else (a label's cell, a header) as typed."""
    rows = [[normalise(cell) for cell in line.split("\t") if cell.strip()] for line in text.splitlines() if line.strip()]

    def year(cell: str) -> str | None:
        return match.group(1) if (match := _YEAR_CELL.fullmatch(cell)) else None

    if rows and all(len(row) == 2 and year(row[0]) for row in rows):
        return " ".join(f"{year(row[0])}:{row[1]}" for row in rows)
    if len(rows) == 2 and len(rows[0]) == len(rows[1]) >= 2 and all(year(cell) for cell in rows[0]):
        return " ".join(f"{year(cell)}:{figure}" for cell, figure in zip(*rows))
    return text


def _plain(text: str) -> str:
    """The figures without the words that are no unit (_APPROX, _PERCENT, _AND, the words of
    _RECENT_YEARS, a full stop after a figure: 85. is 85), a year range with its figures
    written as pairs (_YEAR_RANGE), and one unit after a list of bare figures written after each
    (45、48、52万元; also in brackets, 45，48，52（亿元）, where a year may stand before a figure)."""
    text = _RECENT_YEARS.sub("", _no_stop(text))
    text = _AND.sub(",", _PERCENT.sub("%", _APPROX.sub("", text))).strip()
    bracketed = _BRACKETED_UNIT.search(text)
    if bracketed:
        unit, text = bracketed.group(1).strip(), text[:bracketed.start()]
        # a figure (not a year: 2023:, 2023年) before a separator, a year or the end
        bare = rf"(?<![\d.])({NUMBER})(?=\s*;|\s*,(?!\d{{3}}(?!\d))|\s+(?:19|20)\d\d\s*(?:年|[:=])|\s*$)"
        return re.sub(bare, lambda m: m.group(1) + unit, text)
    if listed := _YEAR_LIST.fullmatch(text):
        years = re.findall(r"(?:19|20)\d\d", listed.group(1))
        figures = _each_unit([part for part in _LIST_SEP.split(listed.group(2)) if part])
        if len(figures) == len(years):
            return " ".join(f"{year}:{figure}" for year, figure in zip(years, figures))
        return text  # not as many figures as years: refused as written
    if ranged := _YEAR_RANGE.fullmatch(text):
        first, last = int(ranged.group(1)), int(ranged.group(2))
        figures = _each_unit([part for part in _LIST_SEP.split(ranged.group(3)) if part])
        if first < last and len(figures) == last - first + 1:
            return " ".join(f"{first + i}:{figure}" for i, figure in enumerate(figures))
        return text  # not as many figures as years: refused as written
    parts = _LIST_SEP.split(text)
    if len(parts) < 2:  # one figure, most answers
        return text
    figures = [part for part in parts if part]
    spread = _each_unit(figures)
    return ", ".join(spread) if spread != figures else text


_STOP = re.compile(r"(?<=\d)\.(?!\d)")


def _no_stop(text: str) -> str:
    """A full stop after a figure ends a sentence (85.): dropped, not read as a unit "."."""
    return _STOP.sub("", text).removesuffix(".") if "." in text else text  # 3 firms. is 3 firms


def _each_unit(figures: list[str]) -> list[str]:
    """A list of bare figures whose last alone carries a unit (450000,480000,520000万元): the
    unit written after each; a list where another figure carries its own is kept as typed (45亿,
    48, 52万: each as written, the bare one in the asked unit)."""
    last = re.fullmatch(rf"({_GROUPED}|{NUMBER})\s*([^\d\s,;:=+\-.].*)", figures[-1]) if len(figures) > 1 else None
    if last and all(re.fullmatch(rf"{_GROUPED}|{NUMBER}", part) for part in figures[:-1]):  # 4,500 too
        return [part + last.group(2) for part in figures[:-1]] + [figures[-1]]
    return figures


def _doubted(spec: Fact, text: str, parsed: Parsed) -> Parsed:
    """Mark a figure that is most likely a slip: a share written as a fraction (0.85 for
    85%; of a series, each year Fact.fractions takes for one, as the form notes them), a
    per-10,000 figure beyond any real cluster."""
    if spec.type not in FIGURE_TYPES:  # a yes/no or a choice: no figure to doubt
        return parsed
    value = parsed.value
    items = list(value.items()) if isinstance(value, dict) else [(None, value)]
    figures = [(y, v) for y, v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    large = [y for y, v in figures if spec.implausible(v)]
    if large:
        if spec.read_in_wan(1) is None:
            return Parsed(value, parsed.assumed_years, doubt="implausible")
        # beyond any county cluster in 亿元: most likely 万元 typed where 亿元 is asked
        years = tuple(y for y in large if y is not None)
        meant = (spec.read_in_wan(value) if not isinstance(value, dict) else
                 {y: spec.read_in_wan(v) if y in years else v for y, v in value.items()})
        return Parsed(value, parsed.assumed_years, doubt="large", years=years, meant=meant)
    fractions = [y for (y, _), likely in zip(figures, spec.fractions(v for _, v in figures))
                 if likely and y not in parsed.percent_years]
    # One figure typed with % is a percentage; of a series, each year typed with % (75%, 72%, 0.71:
    # the 0.71 is asked back)
    if fractions and (isinstance(value, dict) or ("%" not in text and "百分之" not in text)):
        years = tuple(y for y in fractions if y is not None)
        return Parsed(value, parsed.assumed_years, doubt="fraction", years=years, meant=as_percent(value, years))
    return parsed


def as_percent(value: Any, years=None) -> Any:
    """A share written as a fraction, as the percentage meant (0.85 → 85, in decimal: 0.07
    is 7, not 7.000000000000001); of a series, the `years` given, or every year."""
    if isinstance(value, dict):
        return {year: as_percent(v) if years is None or year in years else v for year, v in value.items()}
    return float(Decimal(repr(value)) * 100)


def _slips_of_unit(spec: Fact, series: dict, typed: dict, assumed: bool) -> Parsed:
    """A series, its amounts that look like a slip of unit marked (SLIP_RATIO, SLIP_BELOW; a
    positive figure stored as 0 too): `meant` reads each as typed in the asked unit (45万 → 45亿),
    where each was written in another unit."""
    top = max(series.values(), default=0)
    years = tuple(y for y, v in series.items() if spec.unit in YUAN_IN and (v > 0 or typed.get(y, 0) > 0)
                  and (v < SLIP_BELOW or v * SLIP_RATIO < top))
    if not years:
        return Parsed(series, assumed)
    meant = {**series, **{y: typed[y] for y in years if y in typed}}
    if all(y in typed for y in years) and catalogue().accepts(spec.id, meant):
        return Parsed(series, assumed, doubt="scale", years=years, meant=meant)
    return Parsed(series, assumed, doubt="small", years=years)


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
    if spec.unit in YUAN_IN:
        scale = CURRENCY.sub("", suffix)
        yuan = MONEY_SCALES.get(scale) if scale else 1.0  # 元 alone: yuan
        return yuan / YUAN_IN[spec.unit] if yuan else None
    words = unit_words(spec.unit) + FACT_NOUNS.get(spec.id, ())
    noun = next((n for n in UNIT_NOUNS.get(spec.unit, ()) if suffix.endswith(n) and suffix != n), None)
    if noun:  # 家企业, 万名员工
        suffix = suffix[:-len(noun)].strip()
    if spec.type == "count":
        for unit, factor in COUNT_UNITS:
            if suffix.startswith(unit) and suffix[len(unit):].strip() in ("",) + words:
                return factor
    return 1.0 if suffix in words else None


def is_own_unit(spec: Fact, written: str) -> bool:
    """Whether a unit as written (亿, 亿元人民币, 平方千米, km², 个 of firms) is the fact's own, as a
    figure typed with it is read: a CSV heading's unit, checked by the same words as an answer."""
    written = normalise(written)
    return bool(written.strip()) and _unit_factor(spec, written) == 1.0


@lru_cache(maxsize=None)
def unit_words(unit: str | None) -> tuple[str, ...]:
    """The words a figure of the unit may carry, as `_unit_factor` compares them: the catalogue's
    labels in both languages (家, firms, firm; 平方公里, km²) and the others of UNIT_WORDS."""
    if not unit:
        return ()
    labels = [name for key, name in catalogue().units[unit].items() if not key.startswith("gap_")]
    return tuple(normalise(word).lower() for word in (*labels, *UNIT_WORDS.get(unit, ())))


def _arabic(spec: Fact, text: str) -> str:
    """Chinese numerals to figures (by cn2an): 两家 → 2家, 十二点五万人 → 125000人, 百分之六十 →
    60%, 六成 → 60%; an amount keeps its scale word (五十二点五亿 → 52.5亿, 一亿五千万 → 150000000元)."""
    text = re.sub(r"^百分之(.+)$", r"\1%", text)
    match = CN_NUMERAL.match(text)
    if not match:
        return text
    import cn2an  # here, not at the top: loading it was a tenth of a second of every start

    scaled = _CN_SCALED.fullmatch(match.group(0))
    try:
        number = cn2an.cn2an(scaled.group(1) if scaled else match.group(0), "smart")
    except ValueError:
        raise ParseError("count" if spec.type == "count" else "number") from None
    rest = text[match.end():].strip()
    if scaled and spec.unit in YUAN_IN:
        rest = scaled.group(2) + rest
    elif scaled:
        number = Decimal(str(number)) * CN_SCALES[scaled.group(2)]
    if tenth := re.match("成([一二三四五六七八九])(?![十百千万亿点成])", rest):  # 三成五 is 35%
        number, rest = number * 10 + "一二三四五六七八九".index(tenth.group(1)) + 1, "%" + rest[2:]
    elif rest.startswith("成"):  # 六成 is 60%
        number, rest = number * 10, "%" + rest[1:]
    if spec.unit in YUAN_IN and re.search("[万亿]", match.group(0)) and rest in ("", "元"):
        rest = "元"  # 四十五亿 is counted in yuan, then read in the fact's unit
    return f"{number}{rest}"


def read_figure(spec: Fact, text: str) -> float:
    """One figure as a cell of batch input writes it, read as an answer is (45,000; 4.5 billion
    and 450000万元 in 亿元; 5万人), in the fact's unit; ParseError (a ValueError) when it cannot be.
    Of a yes/no, a trend, a grade or a rank, the word the chat reads (√, ×, 不是, 持续下降, 较大事故,
    未发生, 都不是)."""
    if spec.type in ("bool", "trend", "level", "rank"):
        return _word(spec, text.strip())
    if spec.type == "count" and _none_in_words(text.strip()):
        return 0  # 无, 暂无: the form's 填“无”, read as the chat reads a count (_read_count)
    refuse_superscripts(text)
    return _figure(spec, _no_currency_ahead(spec, _no_stop(normalise(text))))


def _word(spec: Fact, text: str) -> bool | str:
    """A cell of a yes/no, trend, level or rank fact as the chat's readers read the answer."""
    if spec.type in ("level", "rank"):
        return _READERS[spec.type](spec, text, 0).value
    if spec.type == "trend" and text.lower() in TREND_WORDS:
        return TREND_WORDS[text.lower()]
    if (answer := yes_or_no(text)) is None:
        raise ParseError("bool")
    return answer


def _no_currency_ahead(spec: Fact, text: str) -> str:
    """RMB 4.5bn as 4.5bn, in an amount of money only (¥5 is no count of firms)."""
    return _CURRENCY_AHEAD.sub("", text) if spec.unit in YUAN_IN else text


def _figure(spec: Fact, text: str) -> float:
    """One figure with an optional unit: 45 / 45.2亿 / 452000万元 / 72.5% / 1,200 / 5万人."""
    return _reading(spec, text)[0]


def _reading(spec: Fact, text: str) -> tuple[float, float | None]:
    """A figure, and the number as typed when a unit other than the fact's scaled it (45 of 45万)."""
    typed = text.strip()
    if _DIGIT_PAIR.search(typed):
        raise ParseError("estimate", given=typed)
    try:
        text = _arabic(spec, typed)
    except ParseError:
        _refuse_estimate(typed)
        raise
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?.*", text):
        text = text.replace(",", "")  # thousands separators, only in a single figure
    match = re.fullmatch(rf"({NUMBER})\s*(.*)", text)
    if not match:
        _refuse_estimate(typed)
        raise ParseError("count" if spec.type == "count" else "number")
    factor = _unit_factor(spec, match.group(2))
    if factor is None:
        _refuse_estimate(typed)
        given = match.group(2).strip()
        if given and spec.unit and not re.search(r"\d", given):  # 2023-45, 80-90: the form is wrong, no unit
            raise ParseError("unit", given=given)
        raise ParseError("count" if spec.type == "count" else "number")
    value = float(match.group(1)) * factor
    if spec.unit in YUAN_IN:
        value = round(value, 6)  # 452000万元 is 45.2 亿元 exactly, not 45.199999…; 4.8 million is 0.048
    return value + 0.0, (float(match.group(1)) + 0.0 if factor != 1 else None)  # -0 is stored as 0


def _refuse_estimate(typed: str) -> None:
    """An estimate or an open range (十几家, 5家以上) is refused as such, quoting it."""
    if _ESTIMATE.search(typed) and re.search(r"\d|[一二三四五六七八九十百千万两]", typed):  # 多 alone: no figure
        raise ParseError("estimate", given=typed)


# Two digits side by side in words are a range, never a number (两三家, 七八个, 六七成: 2 to 3);
# a year in words (二〇二三) has four, with 〇.
_DIGIT_PAIR = re.compile(r"(?<![一二两三四五六七八九〇零○])[一二两三四五六七八九]{2}(?![一二两三四五六七八九〇零○])")


def _read_number(spec: Fact, text: str, _latest_year: int) -> Parsed:
    return Parsed(_figure(spec, text))


def _none_in_words(text: str) -> bool:
    """A count of none said in words: 无, 暂无, none, 一家也没有."""
    return text.lower() in NONE_WORDS or _NOT_ONE.fullmatch(text) is not None


def _read_count(spec: Fact, text: str, _latest_year: int) -> Parsed:
    if _none_in_words(text):
        return Parsed(0)
    value = _figure(spec, text)
    if not float(value).is_integer():
        raise ParseError("count")
    return Parsed(int(value))


# A yes or a no said by what was done (已设立, 建立了, 已开展相关工作, 具备) or not (尚未设立, 未开展,
# 不具备), as an official answers 是否设立了…: the verbs the questions ask about.
_DONE = "设立|建立|建成|成立|开展|组织|制定|出台|实施|形成|具备|完成|落实|编制|参与|参加|加入|获得|纳入|达到|通过"
_DONE_YES = re.compile(rf"^(?:(?:已经?|均已|都已)(?:{_DONE})|(?:{_DONE})了|具备)(?P<rest>.*)$")
_DONE_NO = re.compile(rf"^(?:未|尚未|还未|暂未|没有|还没有|没|不|并未|从未)(?:{_DONE})(?P<rest>.*)$")


def _read_bool(spec: Fact, text: str, _latest_year: int) -> Parsed:
    answer = yes_or_no(text)
    if answer is None:
        word = normalise(text).rstrip("!！.。")
        if (done := _DONE_NO.match(word)) and not _BUT.search(done.group("rest")):
            answer = False
        elif (done := _DONE_YES.match(word)) and not _BUT.search(done.group("rest")) \
                and not _ZH_NO.search(done.group("rest")):
            answer = True
    if answer is None:
        raise ParseError("bool")
    return Parsed(answer)


def yes_or_no(text: str, words: tuple[set, set] = (YES, NO)) -> bool | None:
    """A yes or a no: one of `words`, or one leading a sentence that does not say otherwise
    (是的，有 / no, not yet); None when it is neither."""
    yes, no = words
    word = normalise(text).lower().rstrip("!！.。")
    if word in yes:
        return True
    if word in no:
        return False
    leading = _LEADING_WORD.fullmatch(word)
    if leading and leading.group(1) in yes | no and not _BUT.search(leading.group(2)):
        answer, rest = leading.group(1) in yes, leading.group(2)
        negated = _EN_NO.search(rest) or _ZH_NO.search(rest)
        # 没有/不是 hold 有/是: an affirmative word is looked for outside the negated ones
        affirmed = _EN_YES.search(rest) or _ZH_YES.search(_ZH_NO.sub("", re.sub("[不没无否非未].", "", rest)))
        if not (negated if answer else affirmed):
            return answer
    return None


# An answer corrected at the question after it (不对，是90; 错了，应该是90; 不是80，是90; 更正：90;
# sorry, it's 90): the words before the new answer.
_CORRECTION = re.compile(
    r"^(?:(?:不对|错了|说错了|写错了|填错了|输错了|打错了|搞错了|有误|更正|纠正|改正)(?:一下)?"
    r"|不是[^,;:]*?[,;:]\s*(?=应|是|为)"
    r"|(?:correction|sorry|oops|wrong|no wait|i meant))"
    r"[\s,;:.!?]*(?:上一题|刚才|前一题)?(?:的|答案)?[\s,;:]*"
    r"(?:应该是|应该为|应为|应是|改为|改成|更正为|是|为|it'?s|it is|it should be|should be|make it|i meant)?\s*",
    re.IGNORECASE)


def correction(text: str) -> str | None:
    """The new answer of a correction of the answer before (不对，是90 → "90", 不对 alone → ""),
    or None when the text is no correction."""
    typed = normalise(text)
    match = _CORRECTION.match(typed)
    return typed[match.end():] if match else None


# Replies to "is this right?" (the years a list was put on, a figure asked back): a yes or a
# no as a question takes them, and the words of agreeing or not, and the buttons' numbers.
CONFIRM_YES = YES | {"1", "确认", "正确", "没错", "没错的", "没有错", "没问题", "好", "好的", "可以", "行", "嗯", "ok",
                     "okay", "correct", "right", "sure"}
CONFIRM_NO = NO | {"2", "不对", "不对的", "错", "错了", "不正确", "wrong", "incorrect"}


def confirmation(text: str) -> bool | None:
    return yes_or_no(text, (CONFIRM_YES, CONFIRM_NO))


# What a grade may be followed by, in either language: 较大安全事故, 重大网络安全事件, no accidents.
_EVENT = re.compile(r"(?:安全|生产|环境|质量|网络|数据)*(?:事故|事件)$"
                    r"|\s+(?:safety\s+|security\s+|cyber\s+|data\s+|pollution\s+)*(?:accidents?|incidents?)$")


def _read_option(kind: str):
    def read(spec: Fact, text: str, _latest_year: int) -> Parsed:
        cat = catalogue()
        word = text.lower().rstrip("!！.。")  # a sentence's end, as a yes or a no drops it: None.
        if kind == "level":
            word = _EVENT.sub("", word) or word  # 较大事故 is 较大, no accidents is no
        items = cat.levels if kind == "level" else cat.ranks
        for item in items:
            if word in (item["id"], item["zh"], item["en"].lower()):
                return Parsed(item["id"])
        if kind == "level" and word in NO | {"未发生", "无事故", "nothing", "none at all", "never"}:
            return Parsed("none")
        if kind == "rank" and word in {"都不是", "均不是", "均未", "否", "无", "no"}:
            return Parsed("none")
        raise ParseError("choice")
    return read


# A unit after a figure never starts with a digit; it may be words (4.5 billion yuan).
_UNIT = r"(?:\s*[^\s\d,;:=+\-.][^\s,;:=]*(?:\s+[^\s\d,;:=+\-.][^\s,;:=]*)*)?"
_GROUPED = r"[-+]?\d{1,3}(?:,\d{3}(?!\d))+(?:\.\d+)?"  # 520,000: thousands separators (45,2024年… is two figures)
_PAIR_FIGURE = rf"(?:{_GROUPED}|{NUMBER}|{CN_NUMERAL.pattern}){_UNIT}"  # 2023:四十亿 as well as 2023:40亿
# A report's verb between a year and its figure (2023年为45.2亿元, 2024年达48.6亿元) only links them.
_PAIR = re.compile(rf"((?:19|20)\d\d)\s*(?:年度|年)?\s*[:=]\s*({_PAIR_FIGURE})"
                   rf"|((?:19|20)\d\d)\s*(?:年度|年)\s*(?:为|是|达到|达|实现)?\s*({_PAIR_FIGURE})")
# A figure before its year, as English writes a report's sentence (45 in 2023, 4.5 billion in
# 2024): read as the pair 2023:45 (the unit matched lazily, so it stops before "in").
_FIGURE_IN_YEAR = re.compile(rf"({_PAIR_FIGURE}?)\s+in\s+((?:19|20)\d\d)\b(?!\s*[:=年])", re.IGNORECASE)
# Between the figures of a bare list: a comma (not one of thousands), a semicolon, a space
# before a figure (not one before its unit: 4.5 billion, 45 亿), a slash between figures.
_LIST_SEP = re.compile(rf"\s*;\s*|\s*,(?!\d{{3}}(?!\d))\s*|\s+(?=[-+]?\d|负|(?![万亿])[{CN_DIGITS}])"
                       r"|(?<=[\d亿万元%])\s*/\s*(?=[-+]?\d)")  # 45/48/52亿元, but 吨/万元 is a unit
# A year given with what is no figure (2025:abc): named as such, not refused as a wrong form.
_NO_FIGURE_PAIR = re.compile(r"((?:19|20)\d\d)\s*(?:年度|年)?\s*[:=]\s*([^\s,;]+)")
# Codes that already say exactly what is wrong: kept, not replaced by the general form.
EXACT = {"unit", "repeated_year", "missing_years", "later_year", "superscript", "year_values", "estimate",
         "years_only"}
TREND_WORDS = {"持续下降": True, "逐年下降": True, "连续下降": True, "下降": True, "declining": True,
               "未下降": False, "没有下降": False, "未持续下降": False, "上升": False, "not declining": False}


def window_years(latest_year: int) -> dict[str, str]:
    """The years of 近三年 a refusal names in its example (first:45 middle:48 last:52)."""
    return {"first": str(latest_year - 2), "middle": str(latest_year - 1), "last": str(latest_year)}


def _series(spec: Fact, text: str, latest_year: int) -> Parsed:
    """Year-value pairs, or a bare list of exactly three figures for the three latest years."""
    text = _FIGURE_IN_YEAR.sub(r"\2:\1", text)
    pairs = [(y1, v1) if y1 else (y2, v2) for y1, v1, y2, v2 in _PAIR.findall(text)]
    if not pairs:
        figures = [part for part in _LIST_SEP.split(text) if part]
        if len(figures) != 3:
            raise ParseError("series")
        if all(re.fullmatch(r"(?:19|20)\d\d", f) for f in figures) \
                and [int(f) - int(figures[0]) for f in figures] == [0, 1, 2]:
            raise ParseError("years_only", given=", ".join(figures))  # a table's header, 2023 2024 2025
        pairs = list(zip([str(latest_year - 2 + i) for i in range(3)], figures))
        return _with_percent_years(_slips_of_unit(spec, *_yearly_figures(spec, pairs, assumed=True), assumed=True), pairs)
    leftover = _PAIR.sub("", text)
    pairs += _NO_FIGURE_PAIR.findall(leftover)  # 2025:abc, named in the refusal
    if re.sub(r"[\s,;]+", "", _NO_FIGURE_PAIR.sub("", leftover)):
        raise ParseError("series")
    seen = set()
    for year, _ in pairs:
        if year in seen:
            raise ParseError("repeated_year", year=year)
        seen.add(year)
    later = sorted(y for y in seen if int(y) > latest_year)
    if later:  # not yet complete, or after data_year: the contract refuses it
        raise ParseError("later_year", years=later, **window_years(latest_year))
    # 近三年 each: older years may come too, but none of the three may be missing
    missing = [str(y) for y in range(latest_year - 2, latest_year + 1) if str(y) not in seen]
    if missing:
        raise ParseError("missing_years", years=missing)
    series, typed = _yearly_figures(spec, pairs)
    return _with_percent_years(_slips_of_unit(spec, dict(sorted(series.items())), typed, assumed=False), pairs)


def _with_percent_years(parsed: Parsed, pairs) -> Parsed:
    """The series read, knowing which years' figures were typed as a percentage (`_doubted`)."""
    typed = tuple(year for year, figure in pairs if "%" in figure or "百分之" in figure)
    if not typed:  # most answers: kept as read (dataclasses.replace took 3 µs)
        return parsed
    return Parsed(parsed.value, parsed.assumed_years, parsed.doubt, parsed.years, parsed.meant, typed)


def _yearly_figures(spec: Fact, pairs: list[tuple[str, str]], assumed: bool = False) -> tuple[dict, dict]:
    """Each year's figure, and the numbers typed with another unit (`_reading`); the years whose
    figure is out of range or, written with its year, cannot be read are refused together,
    naming them (year_values: year, figure as typed, whether it was read)."""
    series, typed, wrong = {}, {}, []
    for year, figure in pairs:
        try:
            series[year], number = _reading(spec, figure)
            if number is not None:
                typed[year] = number
        except ParseError as exc:
            if exc.code not in ("number", "count") or assumed:
                raise
            wrong.append((year, figure.strip(), False))
            continue
        if not spec.min <= series[year] <= spec.max:
            wrong.append((year, figure.strip(), True))
    if wrong:
        raise ParseError("year_values", items=wrong)
    return series, typed


def _read_series(spec: Fact, text: str, latest_year: int) -> Parsed:
    try:
        return _series(spec, text, latest_year)
    except ParseError as exc:
        if exc.code in EXACT | {"number", "count"}:
            raise
        raise ParseError("series") from None


# A year's rate said with its growth (2023年增长10.5%, 2024年同比增长了11%, 2025年增速为12%): the
# year and its figure, for a rate only (2023年增长45亿 is no output of 45亿).
_GROWTH_AFTER_YEAR = re.compile(r"((?:19|20)\d\d\s*(?:年度|年))\s*(?:同比)?(?:增长率|增速|增幅|增长)了?\s*(?:为|是|达到|达)?")


def _read_rate(spec: Fact, text: str, latest_year: int) -> Parsed:
    """One figure is the three-year average; several are the annual rates. The words of the
    question before one figure (年均增速9.5%) only restate it."""
    estimate = None
    try:
        return Parsed(_figure(spec, text))
    except ParseError as exc:
        estimate = exc if exc.code == "estimate" else None
        restated = _RATE_WORDS.match(text)
        if restated and restated.end():
            try:
                return Parsed(_figure(spec, text[restated.end():]))
            except ParseError:
                pass
    try:
        return _series(spec, _GROWTH_AFTER_YEAR.sub(r"\1", text), latest_year)
    except ParseError as exc:
        if exc.code in EXACT:
            raise
        if estimate is not None:  # 十几% is one figure, an estimate: said so
            raise estimate from None
        raise ParseError("rate") from None


def _read_trend(spec: Fact, text: str, latest_year: int) -> Parsed:
    """A series of the yearly figures, or whether they fell every year (持续下降 → true)."""
    if text.lower() in TREND_WORDS:
        return Parsed(TREND_WORDS[text.lower()])
    try:
        return _read_bool(spec, text, latest_year)
    except ParseError:
        pass
    try:
        return _series(spec, text, latest_year)
    except ParseError as exc:
        if exc.code in EXACT:
            raise
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
