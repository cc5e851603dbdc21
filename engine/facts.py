"""The fact catalogue (facts.yaml) and the validation of a cluster's answers against it.

A cluster's answers are one JSON object, fact id -> value (../shared/contracts/facts.md).
`validate_facts` keeps every valid value and reports every invalid one as a `FactError`,
so one bad field never hides the rest: that fact simply counts as unknown.
"""

from __future__ import annotations

import difflib
import math
import json
import re
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import ConfigDict, Field, Strict, StrictBool, StrictInt, StrictStr, TypeAdapter, ValidationError
from typing_extensions import NotRequired, TypedDict

DATA_DIR = Path(__file__).parent
FACT_TYPES = ("number", "count", "bool", "level", "rank", "series", "rate", "trend")
FIGURE_TYPES = ("number", "count", "series", "rate", "trend")  # each has a range in facts.yaml
# Keys of an input object that are not facts.
META_KEYS = ("name",)
YEAR_RE = re.compile(r"^(19|20)\d\d$")


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    group: str
    zh: str
    en: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    derive: dict | None = None
    short: dict | None = None  # a short label where the full one is long: {zh:, en:}
    plausible_max: float | None = None  # beyond any real cluster, though in range: asked back or noted (facts.yaml)

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def short_label(self, lang: str) -> str:
        return self.short[lang] if self.short else self.label(lang)

    def implausible(self, figure: float) -> bool:
        """Within the range but beyond any real cluster (facts.yaml plausible_max): asked back, noted."""
        return self.plausible_max is not None and figure > self.plausible_max

    def read_in_wan(self, figure: float) -> float | None:
        """A figure of this fact read as typed in 万元, in the fact's unit (92000 → 9.2 where 亿元 is
        asked); None when the fact is not counted in 亿元."""
        return round(figure / 10000, 6) if self.unit == "yi_yuan" else None

    @property
    def share(self) -> bool:
        """A percentage that runs to 100: what may be written as a fraction (`fractions`)."""
        return self.unit == "percent" and self.max == 100

    def fractions(self, figures) -> list[bool]:
        """Which of figures typed without % (a series' years) are most likely a share written as
        a fraction, for a percentage that runs to 100: every figure when all lie between 0 and
        1 (1 included, when another is below it); else one between 0 and 1 among percentages more than ten times it (0.81 among 80.5 and
        82.3: its hundredfold is nearer to them than itself; 0.5 among 2 and 3 is a share of 0.5%).
        Asked back (the chat) or noted (the form), never converted."""
        figures = list(figures)
        small = [0 < v < 1 for v in figures]
        if not self.share or not any(small):
            return [False] * len(figures)
        if all(0 < v <= 1 for v in figures):  # 0.8, 0.9, 1: the 1 is 100 % as a fraction too
            return [True] * len(figures)
        others = [v for v, s in zip(figures, small) if not s]
        return [s and all(o > 10 * v for o in others) for v, s in zip(figures, small)]


@dataclass(frozen=True)
class Catalogue:
    facts: dict[str, Fact]
    groups: list[dict]
    levels: list[dict]
    ranks: list[dict]
    units: dict[str, dict]
    contradictions: list[dict] = field(default_factory=list)
    level_order: dict[str, int] = field(default_factory=dict)
    rank_order: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, fact_id: str) -> Fact:
        return self.facts[fact_id]

    def nearest(self, unknown_id: str) -> str | None:
        """The fact id most like a mistyped one, for 'did you mean'."""
        found = difflib.get_close_matches(unknown_id, list(self.facts) + list(META_KEYS), n=1, cutoff=0.5)
        return found[0] if found else None

    def contradiction(self, fact_id: str, value: Any, answers: dict[str, Any]) -> dict | None:
        """The other answers that `fact_id = value` contradicts (facts.yaml contradictions)."""
        for combination in self.contradictions:
            if combination.get(fact_id, object()) == value and type(value) is type(combination[fact_id]):
                others = {f: v for f, v in combination.items() if f != fact_id}
                if all(answers.get(f, object()) == v for f, v in others.items()):
                    return others
        return None

    def option_label(self, kind: str, value: str, lang: str) -> str:
        for item in self.levels if kind == "level" else self.ranks:
            if item["id"] == value:
                return item[lang]
        return value

    def unit_label(self, fact_id: str, lang: str) -> str:
        unit = self.facts[fact_id].unit
        return self.units[unit][lang] if unit else ""

    def gap_unit_label(self, fact_id: str, lang: str) -> str:
        """The unit of a difference: percentage points for a percent."""
        unit = self.facts[fact_id].unit
        if not unit:
            return ""
        return self.units[unit].get(f"gap_{lang}", self.units[unit][lang])

    @cached_property
    def yearly(self) -> list[str]:
        """The facts that may be given year by year."""
        return [f.id for f in self.facts.values() if f.type in ("series", "rate", "trend")]

    @cached_property
    def numbers(self) -> tuple[str, ...]:
        """The facts compared as a figure given as one number (rounded before comparing)."""
        return tuple(f.id for f in self.facts.values() if f.type in ("number", "rate"))

    @cached_property
    def yearly_types(self) -> tuple[tuple[str, str], ...]:
        """(fact id, type) of the facts that may be given year by year."""
        return tuple((f.id, f.type) for f in self.facts.values() if f.type in ("series", "rate", "trend"))

    @cached_property
    def rates(self) -> frozenset[str]:
        return frozenset(f.id for f in self.facts.values() if f.type == "rate")

    @cached_property
    def derived(self) -> list[Fact]:
        return [f for f in self.facts.values() if f.derive]

    def implausible_derived(self, facts: dict) -> list[tuple[str, float]]:
        """(figure id, figure) of each derived figure not given (每万人有效发明专利 from patents and
        employees) that the counts given make beyond any real cluster (plausible_max): asked back
        by the chat and noted by a batch as a typed one is (15 employees typed for 15万 made
        100,000 and met the criterion). A count skipped or refused is no count."""
        found = []
        for fact in self._derived_capped:
            first, second = fact.derive["per_10k"]
            patents, employees = facts.get(first), facts.get(second)
            # patents ÷ employees × 10000 > limit, in integers: a batch's clusters are nearly all done here
            if type(patents) is int and type(employees) is int and patents * 10000 > fact.plausible_max * employees \
                    and fact.id not in facts and (figure := per_10k(patents, employees)) is not None \
                    and fact.implausible(figure):
                found.append((fact.id, figure))
        return found

    @cached_property
    def _derived_capped(self) -> tuple[Fact, ...]:
        return tuple(f for f in self.derived if f.plausible_max is not None)

    @cached_property
    def inputs(self) -> dict[str, tuple[str, ...]]:
        """fact id -> the facts a derived figure is made from (每万人 from two counts); none for
        a fact given as it is."""
        return {f.id: tuple(f.derive["per_10k"]) if f.derive else () for f in self.facts.values()}

    @cached_property
    def position(self) -> dict[str, int]:
        """fact id -> its place in the form's order (the order questions are asked in)."""
        return {fact_id: i for i, fact_id in enumerate(self.facts)}

    @cached_property
    def by_label(self) -> dict[str, str]:
        """Fact id by any of its names: the id, the form's label or its short label, in either
        language (English case-insensitive), so a column may be written as the form writes it."""
        names = {}
        for f in self.facts.values():
            for name in (f.zh, f.en, *(f.short or {}).values(), f.id):
                names[name.strip().lower()] = f.id
        return names

    def fact_id(self, name: str) -> str:
        """The fact id a column name stands for; the name itself when it names none."""
        return self.by_label.get(name.strip().lower(), name)

    @cached_property
    def field_types(self) -> dict[str, Any]:
        """fact id -> the pydantic type of its value (`_annotation`), each made once, when first
        asked for: the whole object's adapter and each fact's own take the same."""
        return _PerFact(lambda fact_id: _annotation(self.facts[fact_id], self))

    @cached_property
    def field_adapters(self) -> dict[str, TypeAdapter]:
        """fact id -> the validator of its value, each made when first asked for: all of them
        took 25 ms, where a returning user's first message checks a few."""
        return _PerFact(lambda fact_id: TypeAdapter(self.field_types[fact_id]))

    def accepts(self, fact_id: str, value: Any) -> bool:
        """Whether a value, already in JSON form, is valid for the fact now: a stored answer
        from before a fact was removed or a range was added may no longer be."""
        if fact_id not in self.facts:
            return False
        try:
            self.field_adapters[fact_id].validate_python(value)
        except ValidationError:
            return False
        return True

    @cached_property
    def fast_reader(self) -> tuple[Callable[[str | bytes], dict], type[Exception]]:
        """The same shape as `adapter` for msgspec, which parses and checks JSON in one pass:
        (a function giving a JSON text's object, the exception it raises for anything the
        shape refuses). Every fact optional (absent is UNSET, left out by to_builtins), unknown
        keys refused; fields in the catalogue's order and the name last, as pydantic returns
        them. msgspec is imported here: only a batch needs it, not every command's start."""
        import msgspec

        unset, kit = msgspec.UnsetType, _msgspec_kit()
        fields = [(f.id, Union[_annotation(f, self, kit), unset], msgspec.UNSET) for f in self.facts.values()]
        fields.append(("name", Union[str, int, unset], msgspec.UNSET))
        decode = msgspec.json.Decoder(msgspec.defstruct("ClusterFacts", fields, forbid_unknown_fields=True)).decode
        to_builtins = msgspec.to_builtins
        return (lambda text: to_builtins(decode(text))), msgspec.MsgspecError

    @cached_property
    def adapter(self) -> TypeAdapter:
        """The validator of a whole input object in exact JSON types; unknown keys refused."""
        fields = {fact_id: NotRequired[self.field_types[fact_id]] for fact_id in self.facts}
        fields["name"] = NotRequired[Union[StrictStr, StrictInt]]  # true or 1.0 is said as written, not as 1
        shape = TypedDict("ClusterFacts", fields, total=False)
        shape.__pydantic_config__ = ConfigDict(extra="forbid")
        return TypeAdapter(shape)


class _PerFact(dict):
    """fact id -> what `make` makes of it, made when first asked for."""

    def __init__(self, make: Callable[[str], Any]):
        super().__init__()
        self.make = make

    def __missing__(self, fact_id: str) -> Any:
        made = self[fact_id] = self.make(fact_id)
        return made


def read_yaml(path: Path) -> Any:
    """A data file's content, parsed once per version of the file and then read from a JSON
    copy (locales.read_kept): yaml is imported and run only when a file changed, not at
    every start of a command that reads the measures (45 ms)."""
    from locales import parse_yaml, read_kept  # light: messages and their JSON copies

    return read_kept([path], path.parent / "__pycache__" / f"{path.name}.json", lambda contents: parse_yaml(contents[0]))


def load_catalogue(path: Path = DATA_DIR / "facts.yaml") -> Catalogue:
    data = read_yaml(path)
    facts = {}
    # `facts`, then each further block (`form_facts`, ...) in the file's order.
    for raw in (item for key in data if key.endswith("facts") for item in data[key]):
        fact = Fact(**raw)
        if fact.type not in FACT_TYPES:
            raise ValueError(f"fact {fact.id}: unknown type {fact.type}")
        if fact.type in FIGURE_TYPES and (fact.min is None or fact.max is None):
            raise ValueError(f"fact {fact.id}: a figure needs its range (min and max)")
        facts[fact.id] = fact
    return Catalogue(
        facts=facts,
        groups=data["groups"],
        levels=data["levels"],
        ranks=data["ranks"],
        units=data["units"],
        contradictions=data.get("contradictions", []),
        level_order={item["id"]: i for i, item in enumerate(data["levels"])},
        rank_order={item["id"]: i for i, item in enumerate(data["ranks"])},
    )


# --- value types -------------------------------------------------------------------------
# Each fact's type is one strict pydantic annotation: exact JSON types and the fact's bounds.
# Input written by people (CSV cells, 是/否, 较大, "45", full-width digits) is first turned
# into those JSON types by `_normalise`, then validated by the same annotation.

_BOOL_WORDS = {
    "是": True, "有": True, "true": True, "yes": True, "y": True, "1": True, "√": True,
    "否": False, "无": False, "没有": False, "false": False, "no": False, "n": False, "0": False,
}
# The minus sign Word, WPS and Excel write (U+2212) is "-", as the chat reads it (dialogs/parse.py);
# a zero-width character pasted with a figure is not seen, so not read.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－：％\u2212", "0123456789.,-:%-", "\u200b\u200c\u200d\u2060\ufeff")


# The building blocks of a fact's type, for pydantic (the reference, whose errors users see)
# and for msgspec (batch screening's fast path, see validate_json). msgspec's are never wider:
# a year key is one of 1900–2099 in ASCII digits (YEAR_RE also takes other digits and a
# trailing newline), no NaN or infinity (outside every range); what they refuse, pydantic decides.
_PYDANTIC = {
    "float": lambda lo, hi: Annotated[float, Strict(), Field(ge=lo, le=hi, allow_inf_nan=False)],
    "int": lambda lo, hi: Annotated[int, Strict(), Field(ge=lo, le=hi)],
    "bool": StrictBool,
    "year": Annotated[str, Strict(), Field(pattern=YEAR_RE.pattern)],
    "nonempty": lambda shape: Annotated[shape, Field(min_length=1)],
    "top": lambda fact: fact.max,
}
_PYDANTIC["share"] = _PYDANTIC["float"]  # the reference takes every share in its range


def _msgspec_kit() -> dict:
    """msgspec's building blocks, made when a batch first reads JSON (see Catalogue.fast_reader)."""
    import msgspec

    return {
        "float": lambda lo, hi: Annotated[float, msgspec.Meta(ge=lo, le=hi)],
        # A share below 1 may be a fraction (Fact.fractions): the reference path reads the line,
        # and its reader looks for fractions, which the batch then need not do for every line.
        # A share that may be negative cannot keep out (0, 1) with one range: it is looked at.
        "share": lambda lo, hi: Annotated[float, msgspec.Meta(ge=max(lo, 1) if lo >= 0 else lo, le=hi)],
        "int": lambda lo, hi: Annotated[int, msgspec.Meta(ge=lo, le=hi)],
        "bool": bool,
        "year": Literal[tuple(str(year) for year in range(1900, 2100))],  # a pattern was 2/3 of the parse
        "nonempty": lambda shape: Annotated[shape, msgspec.Meta(min_length=1)],
        # A figure beyond plausible_max is noted (bot.inputs._large): the reference path reads
        # that line, so a line the fast types took need not be looked at.
        "top": lambda fact: fact.max if fact.plausible_max is None else min(fact.max, fact.plausible_max),
    }


def _annotation(fact: Fact, cat: Catalogue, kit: dict = _PYDANTIC):
    """The type of one fact: its JSON form plus its bounds (an int where a float is expected is
    taken as a float, by both kits). Only the types its own needs are made: a series type made
    for each of the 85 facts, and thrown away by 71, was most of a batch's start (typing hashes
    msgspec's 200 years each time)."""
    if fact.type == "bool":
        return kit["bool"]
    if fact.type in ("level", "rank"):
        return Literal[tuple(cat.level_order if fact.type == "level" else cat.rank_order)]
    if fact.type == "count":
        return kit["int"](fact.min, kit["top"](fact))
    bounded = kit["share" if fact.share else "float"](fact.min, kit["top"](fact))
    if fact.type == "number":
        return bounded
    series = kit["nonempty"](dict[kit["year"], bounded])
    return {"series": series, "rate": Union[bounded, series], "trend": Union[kit["bool"], series]}[fact.type]


# Reads a figure as a person writes it (45,000; 4.5 billion; 450000万元 where 亿元 is asked; a yes/no, √ ×) in
# the fact's unit, raising ValueError when it cannot: the chat's reader, given by the caller
# (dialogs.parse.read_figure), the engine not depending on the dialogs.
FigureReader = Callable[[Fact, str], float]


def _normalise(fact: Fact, value: Any, cat: Catalogue, figure: FigureReader | None = None) -> Any:
    """Turn what a person or a CSV cell writes into the fact's JSON form, where it is clear."""
    if isinstance(value, str):
        text = value.strip().translate(_FULL_WIDTH)
        if fact.id == "data_year":  # a year, as a series' years are written: 2024年, 2024年度
            text = year_key(text)
        if fact.type in ("bool", "trend"):
            if text.lower() in _BOOL_WORDS:
                return _BOOL_WORDS[text.lower()]
            return _read_figure(fact, value, figure)  # the chat's yes or no (√ ×, 不是), else the text
        if fact.type in ("level", "rank"):
            for item in cat.levels if fact.type == "level" else cat.ranks:
                if text.lower() in (item["id"], item["zh"], item["en"].lower()):
                    return item["id"]
            return _read_figure(fact, value, figure)  # the chat's words (较大事故, 未发生), else the text
        if fact.type in ("number", "count", "rate"):
            try:
                value = float(_without_percent(fact, text))
            except ValueError:
                value = _read_figure(fact, value, figure)
                if isinstance(value, str):
                    return value
    if isinstance(value, float) and fact.type == "count" and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and fact.type in ("bool", "trend") and value in (0, 1):
        return bool(value)
    if isinstance(value, dict) and fact.type in ("series", "rate", "trend"):
        out = {}
        for year, amount in value.items():
            if isinstance(amount, str):
                try:
                    amount = float(_without_percent(fact, amount.strip().translate(_FULL_WIDTH)))
                except ValueError:
                    amount = _read_figure(fact, amount, figure)
            out[year_key(year)] = amount
        if len(out) < len(value):  # a year given twice (2023 and 2023年): as written, the spelled one refused
            return {str(year).strip(): amount for year, amount in value.items()}
        return out
    return value


# A year in Chinese digits (二〇二三年), read as the year it is: by the chat and in a form's year row.
_CN_YEAR = re.compile(r"[〇零○一二三四五六七八九]{4}(?=\s*年)")
_CN_YEAR_DIGITS = str.maketrans("〇零○一二三四五六七八九", "000123456789")


def cn_years(text: str) -> str:
    """二〇二三年 as 2023年 (the other Chinese numerals left as they are)."""
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_YEAR_DIGITS), text)


def year_key(year: Any) -> str:
    """A year as a series' key, as a person writes it: 2023年, 2023年度, ２０２３ are 2023."""
    key = str(year).strip().translate(_FULL_WIDTH)
    return key.removesuffix("年度").removesuffix("年").rstrip() if key.endswith(("年", "年度")) else key


def _without_percent(fact: Fact, text: str) -> str:
    """A figure's text without its % sign, where the fact is a percentage: on any other fact
    (99% for an area) the sign is left for the figure reader, which refuses it."""
    return text.rstrip("%") if fact.unit == "percent" else text


def _read_figure(fact: Fact, text: str, figure: FigureReader | None) -> float | str:
    """The figure `figure` reads in the text, else the text as given (refused by validation)."""
    if figure is None:
        return text
    try:
        return figure(fact, text)
    except ValueError:
        return text


# --- validation --------------------------------------------------------------------------

@dataclass(frozen=True)
class FactError:
    """One refused value: which fact, what was given, and why (a code the locales explain)."""

    fact: str
    value: Any
    code: str  # type | range | year | unknown_fact | empty
    suggestion: str | None = None
    # The years of a series whose entry is refused (its figure, or the year itself), so the
    # message names those and not the good years beside them; () when the fault is no year's.
    years: tuple[str, ...] = ()


def validate_facts(raw: dict, cat: Catalogue, figure: FigureReader | None = None) -> tuple[dict, list[FactError]]:
    """Split an input object into valid facts (typed, JSON-shaped) and errors, field by field.
    An object already in exact JSON types is validated in one pydantic call; a figure written
    as text is read by `figure`, where given."""
    try:
        facts = cat.adapter.validate_python(raw)
    except ValidationError:
        return _validate_each(raw, cat, figure)
    for key in META_KEYS:
        facts.pop(key, None)
    return facts, []


def validate_json(text: str | bytes, cat: Catalogue, figure: FigureReader | None = None) -> tuple[dict, dict, list[FactError]]:
    """Parse and validate one JSON object: (the object as read, its facts, its errors).
    Raises ValueError (json.JSONDecodeError) for malformed JSON, TypeError for a non-object."""
    return read_json(text, cat, figure)[:3]


def read_json(text: str | bytes, cat: Catalogue, figure: FigureReader | None = None) -> tuple[dict, dict, list[FactError], bool]:
    """validate_json's three, and whether the fast types took the object. Those take no share
    below 1 whose range starts at 0 or above and no figure beyond its plausible_max
    (`_msgspec_kit`), so of an object they took only a signed share (co2_reduction) may hold a
    fraction, and no figure is to be noted as implausible. (A plain tuple: a NamedTuple's making was
    a twentieth of the batch's reading.)

    A batch calls this per line. The fast path parses and checks in one pass (msgspec, against
    `Catalogue.fast_reader`: a third of the time of pydantic on the same object); whatever it
    refuses (malformed JSON, lone surrogates, integers past 64 bits, any invalid value, an
    unknown key) takes the reference path below, so errors and their wording are the
    reference's. The fast types accept a subset of what the reference accepts, and give the
    same values in the same order (tests/test_batch_fast.py pins it)."""
    read, refused = cat.fast_reader
    try:
        facts = read(text)
    except refused:
        return *_validate_json_reference(text, cat, figure), False
    return _split_meta(facts), facts, [], True


def _validate_json_reference(text: str | bytes, cat: Catalogue,
                             figure: FigureReader | None = None) -> tuple[dict, dict, list[FactError]]:
    """validate_json through pydantic's JSON parser, then field by field: the errors it reports
    and the values it keeps are the contract; the fast path must agree with it (tests pin it)."""
    try:
        facts = cat.adapter.validator.validate_json(text)
    except ValidationError:
        raw = load_json(text)
        if not isinstance(raw, dict):
            raise TypeError(type(raw).__name__) from None
        facts, errors = _validate_each(raw, cat, figure)
        return raw, facts, errors
    return _split_meta(facts), facts, []


def _split_meta(facts: dict) -> dict:
    """The keys that are not facts (the name), taken out of `facts`."""
    meta = {}
    for key in META_KEYS:
        if key in facts:
            meta[key] = facts.pop(key)
    return meta


def _validate_each(raw: dict, cat: Catalogue, figure: FigureReader | None = None) -> tuple[dict, list[FactError]]:
    facts, errors = {}, []
    for key, value in raw.items():
        if key in META_KEYS:
            continue
        spec = cat.facts.get(key)
        if spec is None:
            errors.append(FactError(key, value, "unknown_fact", cat.nearest(key)))
            continue
        if value is None or value == "":
            continue  # not answered
        value_read = _normalise(spec, value, cat, figure)
        # The adapter's validator itself: TypeAdapter.validate_python, a Python wrapper
        # passing its defaults on, nearly doubled the cost of each field of a refused line.
        validate = cat.field_adapters[key].validator.validate_python
        try:
            facts[key] = validate(value_read)
        except ValidationError as exc:
            years = _refused_years(value_read, exc.errors())
            errors.append(FactError(key, value, _error_code(exc.errors()), years=years))
            # Of a series, only the years refused are lost: the others stand (a year already
            # failing is then said, and a year missing leaves the criterion unknown, facts.md).
            rest = {year: v for year, v in value_read.items() if year not in years} if years else None
            if rest:
                try:
                    facts[key] = validate(rest)
                except ValidationError:
                    pass
    return facts, errors


def _refused_years(value: Any, errors: list[dict]) -> tuple[str, ...]:
    """The keys of a series the errors point at, in the order given: an error's location ends
    with the year whose figure is refused, or with the year and `[key]` when the year is."""
    if not isinstance(value, dict):
        return ()
    hit = {e["loc"][-2] if e["loc"][-1:] == ("[key]",) else e["loc"][-1] for e in errors if e["loc"]}
    return tuple(year for year in value if year in hit)


def _error_code(errors: list[dict]) -> str:
    kinds = {e["type"] for e in errors}
    if any("[key]" in map(str, e["loc"]) for e in errors):
        return "year"
    if kinds & {"greater_than_equal", "less_than_equal", "finite_number"} or any(map(_beyond_floats, errors)):
        return "range"
    if "too_short" in kinds:
        return "empty"
    return "type"


def _beyond_floats(error: dict) -> bool:
    """A number no float can hold (10**400, inf): refused for its size, not its type."""
    value = error.get("input")
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not abs(value) < 1e300


def load_json(text: str | bytes) -> Any:
    """json.loads for input from anyone: an integer too long for int() (over 4,300 digits) is
    kept as its digits, a string that validation then refuses as out of range; nesting too
    deep for the parser is cut below MAX_DEPTH (that value is then refused as the wrong type),
    so neither sinks the rest of the input. Malformed JSON raises json.JSONDecodeError."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    try:
        return json.loads(text, parse_int=_parse_int)
    except RecursionError:
        return json.loads(_cut_deep(text), parse_int=_parse_int)


MAX_DEPTH = 32
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _parse_int(digits: str) -> int | str:
    limit = sys.get_int_max_str_digits()  # 4300 by default; 0 is no limit
    return int(digits) if not limit or len(digits.lstrip("-")) <= limit else digits


def _cut_deep(text: str) -> str:
    """The JSON text with every array or object nested deeper than MAX_DEPTH replaced by "…"."""
    out, depth, last, start = [], 0, 0, 0
    for token in _JSON_TOKEN.finditer(text):
        kind = token.group()
        if kind in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1:
                start = token.start()
        elif kind in "]}":
            if depth == MAX_DEPTH + 1:
                out.append(text[last:start] + '"…"')
                last = token.end()
            depth -= 1
    if depth > MAX_DEPTH:  # never closed: malformed, and json.loads will say where
        return "".join(out) + text[last:start] + '"…'
    return "".join(out) + text[last:]


# --- derived figures ---------------------------------------------------------------------

_CENT = Decimal("0.01")
_WIDE = Context(prec=400)


def round2(value: float) -> float:
    """Half-up to 2 decimals, as the application form's 填报说明 requires (保留小数点后2位).

    Rounds the figure as written (its shortest decimal form, repr), away from zero on a
    third decimal of 5 or more: 2.675 → 2.68 (Python's round gives 2.67), -1.005 → -1.01.
    """
    try:
        # Already 2 decimals or fewer, the common case: then value is the float nearest to
        # k/100, and k/100 computes to it (round(value, 2) would say the same, 4x slower).
        if round(value * 100) / 100 == value:
            return value
    except (OverflowError, ValueError):  # inf, nan
        pass
    text = repr(value)
    if "e" in text or "n" in text:  # exponent, inf, nan: let Decimal decide
        # Enough digits for any finite float (1e26 has 29 digits with its cents).
        return float(Decimal(text).quantize(_CENT, rounding=ROUND_HALF_UP, context=_WIDE))
    negative = text.startswith("-")
    whole, _, decimals = text.lstrip("-").partition(".")
    if len(decimals) <= 2:
        return value
    cents = int(whole + decimals[:2]) + (decimals[2] >= "5")
    return (-cents if negative else cents) / 100


def window(last: int) -> tuple[str, str, str]:
    """近三年: the three consecutive years ending with `last` (the last complete year, or the
    profile's data_year), as the series keys."""
    return (str(last - 2), str(last - 1), str(last))


def latest_three(series: dict, years: tuple[str, str, str]) -> list[tuple[str, float]] | None:
    """The series' values for the three years of the window, oldest first; None when a year
    of the window is missing."""
    try:
        return [(y, series[y]) for y in years]
    except KeyError:
        return None


_EXACT = Context(prec=60)


def average_rate(value, years: tuple[str, str, str]) -> float | None:
    """A rate given as a number is already the three-year average (rounded half-up); a series
    of annual rates is averaged geometrically over the window, ((Π(1 + gᵢ/100))^(1/3) − 1) × 100,
    rounded half-up to 2 decimals exactly: three rates of 9.995 average to 10.00."""
    if not isinstance(value, dict):
        return round2(value)
    try:
        rates = value[years[0]], value[years[1]], value[years[2]]  # no list comprehension: a batch's hot path
    except KeyError:
        return None
    product = (1 + rates[0] / 100) * (1 + rates[1] / 100) * (1 + rates[2] / 100)
    if product <= 0:
        return -100.0
    hundredths = ((product ** (1 / 3)) - 1) * 10000
    below = math.floor(hundredths)
    if abs(hundredths - below - 0.5) > 1e-6:  # far from a half: the float is exact enough
        return round(hundredths) / 100
    # At a half-hundredth the float cannot decide: compare the cube of that boundary with
    # the product of the rates, both exact in decimal (half-up is away from zero).
    ctx = _EXACT
    factors = [1 + Decimal(repr(r)) / 100 for r in rates]
    exact = ctx.multiply(ctx.multiply(factors[0], factors[1]), factors[2])
    boundary = 1 + (Decimal(below) + Decimal("0.5")) / 10000
    cube = ctx.multiply(ctx.multiply(boundary, boundary), boundary)
    up = cube < exact or (cube == exact and boundary > 1)
    return (below + up) / 100


def per_10k(patents: int, employees: int) -> float | None:
    """patents ÷ employees × 10000, half-up to 2 decimals, in integers (exact)."""
    if not employees:
        return None
    hundredths = (2 * patents * 1_000_000 + employees) // (2 * employees)
    return hundredths / 100
