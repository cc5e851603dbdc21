"""Evaluation: a full trace of every criterion of a measure, never a bare True/False.

Each check kind compiles once into a small function of a `Profile` that returns a raw
outcome `(status, observed, missing, parts)`. Checks that several measures share (the same
kind and parameters) are compiled once, so a cluster evaluated against all four measures
computes each distinct test once. The rich `Outcome` (threshold, margin, failing years) is
built from the raw one only when a result is read: batch screening of many clusters pays
for statuses, an explanation pays for its figures.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import Any, Callable

from .facts import Catalogue, average_rate, latest_three, per_10k, round2, window
from .rules import (
    WORDS, AllOfCheck, AnyOfCheck, Criterion, EveryYearCheck, FallingCheck, Ruleset, SumCheck, ThresholdCheck, catalogue,
)

PASS, FAIL, UNKNOWN, NA, WARNING = "pass", "fail", "unknown", "not_applicable", "warning"
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class Profile:
    """A cluster's validated facts on an evaluation date, read once for every measure.

    `num` holds each compared figure rounded half-up to 2 decimals (a number, a count, a
    rate's average, a derived figure); `years` each series' 近三年 window as given, with its
    lowest and highest value rounded (rounding keeps the order, so the worst year stays the
    worst); a trend's years are rounded, as each is compared with the one before.

    近三年 is the three consecutive years ending with `data_year` when the profile gives it,
    else the last complete year before the evaluation date; a series missing one of them, or
    giving a later one, has no window (unknown) and `window_issue` says why."""

    __slots__ = ("facts", "num", "years", "low", "high", "derived", "cat", "on", "window", "later")

    def __init__(self, facts: dict[str, Any], on: dt.date, cat: Catalogue | None = None):
        cat = cat or catalogue()
        self.cat, self.facts, self.on = cat, facts, on
        last = facts.get("data_year") or on.year - 1
        # data_year must be a complete year on the evaluation date: no window otherwise.
        self.window = window(last) if last < on.year else None
        self.num = num = dict(facts)
        for fact_id in cat.numbers:
            value = facts.get(fact_id)
            if type(value) is float and round(value, 2) != value:  # round2's fast path, inlined
                num[fact_id] = round2(value)
        self.years, self.low, self.high, self.later = {}, {}, {}, {}
        self.derived = ()
        span, last_key = self.window, str(last)
        for fact_id, kind in cat.yearly_types:
            value = facts.get(fact_id)
            if type(value) is not dict:
                continue
            if span is None or max(value) > last_key:  # keys are validated 4-digit years
                self.later[fact_id] = [y for y in value if y > last_key]
                years = None
            else:
                years = latest_three(value, span)
            self.years[fact_id] = years
            if kind == "rate":
                num[fact_id] = None if years is None else average_rate(value, span)
            elif years is None:
                continue
            elif kind == "series":
                amounts = (years[0][1], years[1][1], years[2][1])
                low, high = min(amounts), max(amounts)
                self.low[fact_id] = low if round(low, 2) == low else round2(low)
                self.high[fact_id] = high if round(high, 2) == high else round2(high)
            else:  # trend
                self.years[fact_id] = [(y, round2(v)) for y, v in years]
        for spec in cat.derived:
            if spec.id not in facts:
                patents, employees = (facts.get(f) for f in spec.derive["per_10k"])
                if patents is not None and employees is not None:
                    num[spec.id] = per_10k(patents, employees)
                    self.derived += (spec.id,)

    def window_issue(self, fact_id: str) -> dict | None:
        """Why a series given year by year has no 近三年 window: the years expected, those
        missing and those later than the window (not yet complete, or after data_year)."""
        value = self.facts.get(fact_id)
        if type(value) is not dict or self.years.get(fact_id) is not None:
            return None
        last = self.facts.get("data_year") or self.on.year - 1
        expected = [int(y) for y in window(last)]
        return {"expected": expected, "missing": [y for y in expected if str(y) not in value],
                "later": sorted(int(y) for y in self.later.get(fact_id, ())),
                "incomplete": self.window is None, "data_year": self.facts.get("data_year")}

    def values(self, facts: list[str]) -> dict[str, Any]:
        """The input values a criterion read, and a derived figure where one was derived."""
        return {f: (self.num[f] if f in self.derived else self.facts[f])
                for f in facts if f in self.facts or f in self.derived}


# --- compiling checks --------------------------------------------------------------------
# The distinct checks of the chosen rulesets are written out as one Python function, a few
# plain lines per check from the templates below (`CompiledSet.source` shows the result).
# One call then reads a cluster's facts for every measure: batch screening evaluates
# 100,000 clusters, and a function call per check would cost more than the checks.
# A raw outcome is a tuple (status, observed, missing, parts).

class _Writer:
    """Collects the generated lines and the constants they refer to."""

    def __init__(self):
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {"PASS": PASS, "FAIL": FAIL, "UNKNOWN": UNKNOWN, "NA": NA,
                                          "WARNING": WARNING, "_partial_sum": _partial_sum,
                                          "_missing_of": _missing_of}
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


def _emit(w: _Writer, check, target: str, indent: int) -> None:
    """Lines that compute the raw outcome of `check` into the variable `target`."""
    v = w.var()
    kind = check.kind
    if kind in ("threshold", "every_year"):
        op, soft = WORDS[check.word]
        source = "num" if kind == "threshold" else ("low" if op[0] == ">" else "high")  # the worst year
        unknown = w.const((UNKNOWN, None, (check.fact,), None))
        short = "WARNING" if soft else "FAIL"
        w.emit(indent, f"{v} = {source}({check.fact!r})")
        w.emit(indent, f"{target} = {unknown} if {v} is None else "
                       f"((PASS if {v} {op} {check.value!r} else {short}), {v}, (), None)")
    elif kind == "sum":
        op, _ = WORDS[check.word]
        parts = [w.var() for _ in check.facts]
        for part, fact in zip(parts, check.facts):
            w.emit(indent, f"{part} = fget({fact!r})")
        w.emit(indent, f"if {' and '.join(f'{x} is not None' for x in parts)}:")
        w.emit(indent + 1, f"{v} = {' + '.join(parts)}")
        w.emit(indent + 1, f"{target} = ((PASS if {v} {op} {check.value!r} else FAIL), {v}, (), None)")
        w.emit(indent, "else:")
        w.emit(indent + 1, f"{target} = _partial_sum(fget, {tuple(check.facts)!r}, {op!r}, {check.value!r})")
    elif kind in ("declared", "declared_not", "preferred"):
        wanted = kind != "declared_not"
        otherwise = WARNING if kind == "preferred" else FAIL
        unknown = w.const((UNKNOWN, None, (check.fact,), None))
        met, unmet = w.const((PASS, wanted, (), None)), w.const((otherwise, not wanted, (), None))
        w.emit(indent, f"{v} = fget({check.fact!r})")
        w.emit(indent, f"{target} = {unknown} if {v} is None else ({met} if {v} == {wanted!r} else {unmet})")
    elif kind in ("rank_at_least", "level_below"):
        cat = catalogue()
        unknown = w.const((UNKNOWN, None, (check.fact,), None))
        order = w.const(cat.rank_order if kind == "rank_at_least" else cat.level_order)
        w.emit(indent, f"{v} = fget({check.fact!r})")
        if kind == "rank_at_least":  # at least this rank
            status = f"(PASS if {order}[{v}] >= {cat.rank_order[check.rank]} else FAIL)"
        else:  # stays below the bound
            status = f"(FAIL if {order}[{v}] >= {cat.level_order[check.bound]} else PASS)"
        w.emit(indent, f"{target} = {unknown} if {v} is None else ({status}, {v}, (), None)")
    elif kind == "falling":
        unknown = w.const((UNKNOWN, None, (check.fact,), None))
        w.emit(indent, f"{v} = fget({check.fact!r})")
        w.emit(indent, f"if {v} is None:")
        w.emit(indent + 1, f"{target} = {unknown}")
        w.emit(indent, f"elif {v} is True or {v} is False:")
        w.emit(indent + 1, f"{target} = ((PASS if {v} else FAIL), {v}, (), None)")
        w.emit(indent, "else:  # 持续下降: each year strictly below the one before")
        y = w.var()
        w.emit(indent + 1, f"{y} = years({check.fact!r})")
        w.emit(indent + 1, f"{target} = (UNKNOWN, {v}, ({check.fact!r},), None) if {y} is None else "
                           f"((PASS if {y}[1][1] < {y}[0][1] and {y}[2][1] < {y}[1][1] else FAIL), {y}, (), None)")
    elif kind in ("any_of", "all_of"):
        # any_of passes on one pass and fails when all fail; all_of the other way round.
        decisive, otherwise = ("PASS", "FAIL") if kind == "any_of" else ("FAIL", "PASS")
        parts = [w.var() for _ in check.checks]
        for part, sub in zip(parts, check.checks):
            _emit(w, sub, part, indent)
        listed = "[" + ", ".join(parts) + "]"
        w.emit(indent, f"if {' or '.join(f'{x}[0] is {decisive}' for x in parts)}:")
        w.emit(indent + 1, f"{target} = ({decisive}, None, (), {listed})")
        w.emit(indent, f"elif {' or '.join(f'{x}[0] is UNKNOWN' for x in parts)}:")
        w.emit(indent + 1, f"{target} = (UNKNOWN, None, _missing_of({listed}), {listed})")
        w.emit(indent, "else:")
        w.emit(indent + 1, f"{target} = ({otherwise}, None, (), {listed})")
    else:
        raise TypeError(f"unknown check {check!r}")


def _emit_criterion(w: _Writer, criterion: Criterion, target: str) -> None:
    condition = criterion.applies_if
    if condition is None:
        _emit(w, criterion.check, target, 1)
        return
    # Applies only when the condition is declared (高耗能、高用水行业).
    v = w.var()
    w.emit(1, f"{v} = fget({condition!r})")
    w.emit(1, f"if {v} is None:")
    w.emit(2, f"{target} = {w.const((UNKNOWN, None, (condition,), None))}")
    w.emit(1, f"elif not {v}:")
    w.emit(2, f"{target} = {w.const((NA, False, (), None))}")
    w.emit(1, "else:")
    _emit(w, criterion.check, target, 2)


def _partial_sum(fget, facts: tuple, op: str, value: float) -> tuple:
    """A sum with some counts unknown: unknown counts can only add, so a sum already high
    enough passes; otherwise it is unknown."""
    counts = [fget(f) for f in facts]
    known = sum(c for c in counts if c is not None)
    if op[0] == ">" and OPS[op](known, value):
        return (PASS, known, (), None)
    return (UNKNOWN, known, tuple(f for f, c in zip(facts, counts) if c is None), None)


def _missing_of(outcomes: list[tuple]) -> tuple:
    return tuple(dict.fromkeys(f for o in outcomes if o[0] is UNKNOWN for f in o[2]))


class CompiledSet:
    """Several rulesets compiled together: each distinct criterion test written once."""

    def __init__(self, rulesets: tuple[Ruleset, ...]):
        self.rulesets = rulesets
        self.pickers: list[Callable] = []
        w = _Writer()
        seen: dict[str, int] = {}
        for ruleset in rulesets:
            positions = []
            for criterion in ruleset.criteria:
                key = criterion.check.model_dump_json() + "|" + str(criterion.applies_if)
                if key not in seen:
                    seen[key] = len(seen)
                    w.emit(1, f"# {criterion.id} ({ruleset.id} {criterion.citation})")
                    _emit_criterion(w, criterion, f"r{seen[key]}")
                positions.append(seen[key])
            self.pickers.append(_picker(positions))
        header = ["def run(p):",
                  "    fget, num, low, high, years = p.facts.get, p.num.get, p.low.get, p.high.get, p.years.get"]
        footer = ["    return [" + ", ".join(f"r{i}" for i in range(len(seen))) + "]"]
        self.source = "\n".join(header + w.lines + footer) + "\n"
        namespace = dict(w.constants)
        exec(compile(self.source, f"<compiled {'+'.join(r.id for r in rulesets)}>", "exec"), namespace)
        self._run = namespace["run"]

    def run(self, p: Profile) -> list[tuple[tuple, tuple]]:
        """Per ruleset: the raw outcomes of its criteria, and their statuses."""
        raw = self._run(p)
        statuses = [r[0] for r in raw]
        return [(pick(raw), pick(statuses)) for pick in self.pickers]


def _picker(positions: list[int]) -> Callable[[list], tuple]:
    """A function picking these positions out of a list, always as a tuple."""
    if len(positions) == 1:
        return lambda raw: (raw[positions[0]],)
    return operator.itemgetter(*positions)


_COMPILED: dict[tuple[int, ...], CompiledSet] = {}


def compiled(rulesets: tuple[Ruleset, ...]) -> CompiledSet:
    """The compiled set for these rulesets; it keeps them alive, so their ids stay theirs."""
    key = tuple(id(r) for r in rulesets)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = CompiledSet(rulesets)
    return found


# --- results -----------------------------------------------------------------------------

@dataclass(slots=True)
class Outcome:
    """What one check found, with the figures an explanation needs. `observed` is the figure
    compared (for every_year, the worst year's value); `margin` is signed so that a negative
    number is a shortfall: observed − threshold for a lower bound, threshold − observed for
    an upper one."""

    status: str
    check: Any
    observed: Any = None
    threshold: float | None = None
    margin: float | None = None
    years: list | None = None
    failing_years: list = field(default_factory=list)
    missing: tuple = ()
    parts: list["Outcome"] | None = None
    inputs: dict | None = None  # what the figure was computed from (counts, annual rates, ...)
    derived: bool = False  # the figure was derived from other facts (每万人 from two counts)
    window: dict | None = None  # unknown: why a yearly series has no 近三年 window (Profile.window_issue)


def _outcome(check, raw: tuple, p: Profile) -> Outcome:
    status, observed, missing, parts = raw
    out = Outcome(status, check, observed, missing=missing)
    if isinstance(check, SumCheck):
        out.inputs = {f: p.facts[f] for f in check.facts if f in p.facts}
    elif isinstance(check, ThresholdCheck):
        out.derived = check.fact in p.derived
        if out.derived:
            spec = p.cat.facts[check.fact]
            out.inputs = {f: p.facts[f] for f in spec.derive["per_10k"]}
        elif isinstance(p.facts.get(check.fact), dict) and p.years.get(check.fact):
            out.inputs = {y: round2(v) for y, v in p.years[check.fact]}  # annual rates, averaged geometrically
    if isinstance(check, (AnyOfCheck, AllOfCheck)):
        out.parts = [_outcome(c, r, p) for c, r in zip(check.checks, parts)]
    if status == UNKNOWN and hasattr(check, "fact"):
        out.window = p.window_issue(check.fact)
    if status == UNKNOWN or observed is None or not hasattr(check, "word"):
        if isinstance(check, FallingCheck) and isinstance(observed, list):
            out.years = [(int(y), v) for y, v in observed]
            out.failing_years = [y for (_, a), (y, b) in zip(out.years, out.years[1:]) if not b < a]
        return out
    op, _ = WORDS[check.word]
    out.threshold = check.value
    out.margin = round2(observed - check.value if op[0] == ">" else check.value - observed)
    if isinstance(check, EveryYearCheck):
        out.years = [(int(y), round2(v)) for y, v in p.years[check.fact]]
        out.failing_years = [y for y, v in out.years if not OPS[op](v, check.value)]
    return out


@dataclass(slots=True)
class CriterionResult:
    criterion: Criterion
    status: str
    outcome: Outcome
    values: dict

    @property
    def missing(self) -> tuple:
        return self.outcome.missing if self.status == UNKNOWN else ()


@dataclass(slots=True)
class Notice:
    """Something the official must know beside the criteria, e.g. a measure out of its term."""

    kind: str  # not_yet_in_force | term_ended
    citation: str
    article_text: str
    date: dt.date  # the first day in force, or the last day in force


class Evaluation:
    """One measure's verdict for one cluster on one date, with the trace behind it."""

    __slots__ = ("ruleset", "on", "verdict", "statuses", "notices", "_raw", "_profile", "_results")

    def __init__(self, ruleset: Ruleset, on: dt.date, raw: tuple, statuses: tuple, profile: Profile):
        self.ruleset, self.on, self._raw, self._profile = ruleset, on, raw, profile
        self.statuses = statuses
        self.verdict = verdict_of(self.statuses)
        self.notices = term_notices(ruleset, on)
        self._results = None

    @property
    def results(self) -> list[CriterionResult]:
        if self._results is None:
            self._results = [self.result_at(i) for i in range(len(self._raw))]
        return self._results

    def result_at(self, index: int) -> CriterionResult:
        """One criterion's result, its trace built on demand."""
        if self._results is not None:
            return self._results[index]
        c, raw, p = self.ruleset.criteria[index], self._raw[index], self._profile
        return CriterionResult(c, raw[0], _outcome(c.check, raw, p), p.values(c.facts))

    @property
    def missing(self) -> list[str]:
        """The facts still unanswered that could change a criterion's status."""
        return list(dict.fromkeys(f for raw in self._raw if raw[0] == UNKNOWN for f in raw[2]))

    def by_id(self, criterion_id: str) -> CriterionResult:
        return next(r for r in self.results if r.criterion.id == criterion_id)


def verdict_of(statuses) -> str:
    """not_eligible if any criterion fails; else undetermined if any is unknown; else eligible."""
    if FAIL in statuses:
        return "not_eligible"
    if UNKNOWN in statuses:
        return "undetermined"
    return "eligible"


_NOTICES: dict[tuple[int, dt.date], list[Notice]] = {}


def term_notices(ruleset: Ruleset, on: dt.date) -> list[Notice]:
    """Whether the measure is in force on that date (cached: a batch asks it per cluster)."""
    key = (id(ruleset), on)
    found = _NOTICES.get(key)
    if found is None:
        term, found = ruleset.term, []
        if on < term.from_:
            found = [Notice("not_yet_in_force", term.citation, term.article_text, term.from_)]
        elif term.last_day is not None and on > term.last_day:
            found = [Notice("term_ended", term.citation, term.article_text, term.last_day)]
        if len(_NOTICES) < 4096:
            _NOTICES[key] = found
    return list(found)


def evaluate_many(facts: dict | Profile, rulesets, on: dt.date) -> list[Evaluation]:
    """Every criterion of each measure against one cluster's facts, on a given date."""
    p = facts if isinstance(facts, Profile) else Profile(facts, on)
    rulesets = tuple(rulesets)
    per_ruleset = compiled(rulesets).run(p)
    return [Evaluation(r, on, raw, statuses, p) for r, (raw, statuses) in zip(rulesets, per_ruleset)]


def evaluate(facts: dict | Profile, ruleset: Ruleset, on: dt.date) -> Evaluation:
    return evaluate_many(facts, (ruleset,), on)[0]
