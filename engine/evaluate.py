"""Evaluation: a full trace of every criterion of a measure, never a bare True/False.

The checks of the chosen measures compile into Python source, each check kind from one
template, written out twice: a function of a `Profile` giving every criterion's status, and
one giving its raw outcome `(status, observed, missing, parts)`. Checks that several measures
share (the same kind and parameters) are written once, so a cluster evaluated against all
four measures computes each distinct test once. The raw outcomes, and the rich `Outcome`
(threshold, margin, failing years) built from them, are computed only when a result is read:
batch screening of many clusters pays for statuses, an explanation pays for its figures.
"""

from __future__ import annotations

import datetime as dt
import operator
from itertools import count, repeat
from dataclasses import dataclass, field
from typing import Any

from .facts import Catalogue, Fact, average_rate, latest_three, per_10k, round2, window
from .rules import (
    WORDS, AllOfCheck, AnyOfCheck, Criterion, EveryYearCheck, FallingCheck, Ruleset, SumCheck, ThresholdCheck, catalogue,
)

PASS, FAIL, UNKNOWN, NA, WARNING = "pass", "fail", "unknown", "not_applicable", "warning"
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class Profile:
    """A cluster's validated facts on an evaluation date, read once for every measure.

    The figures compared (`figure`, `lowest`/`highest`, `window_years`) follow the readings below, each
    in one function that the compiled checks call too:
    each compared figure is rounded half-up to 2 decimals (a number, a rate's average, a
    derived figure); a series is compared through the lowest and highest value of its 近三年
    window, rounded (rounding keeps the order, so the worst year stays the worst); a trend's
    years are rounded, as each is compared with the one before.

    近三年 is the three consecutive years ending with `data_year` when the profile gives it,
    else the last complete year before the evaluation date; a series missing one of them, or
    giving a later one, has no window (unknown) and `window_issue` says why. Nothing is
    computed before it is asked for: batch screening reads the figures in the compiled checks,
    an explanation reads the few it shows."""

    __slots__ = ("facts", "cat", "on", "last", "window", "_derived", "refused")

    def __init__(self, facts: dict[str, Any], on: dt.date, cat: Catalogue | None = None,
                 refused: dict[str, tuple] | None = None):
        self.cat, self.facts, self.on = cat or catalogue(), facts, on
        # Values given but refused (batch input): fact → the years refused, () for the whole
        # value. They count as unknown, and the explanation says they were refused, not missing.
        self.refused = refused or {}
        self.last = facts.get("data_year") or on.year - 1
        # data_year must be a complete year on the evaluation date: no window otherwise.
        self.window = _window(self.last) if self.last < on.year else None
        self._derived: tuple[str, ...] | None = None

    def figure(self, fact_id: str) -> Any:
        """The figure a threshold compares: see `figure_of`."""
        return figure_of(self.cat.facts[fact_id], self.facts, self.window)

    def window_years(self, fact_id: str) -> list | None:
        """A yearly series' 近三年 as (year, value) pairs, oldest first (a trend's rounded)."""
        spec = self.cat.facts.get(fact_id)
        if spec is None or spec.type not in ("series", "rate", "trend"):
            return None
        return (trend_years if spec.type == "trend" else window_years)(self.facts.get(fact_id), self.window)

    @property
    def derived(self) -> tuple[str, ...]:
        """The figures derived from other facts (每万人 from two counts), not given. Found once:
        every criterion's explanation asks, and the facts of a profile do not change."""
        if self._derived is None:
            self._derived = tuple(spec.id for spec in self.cat.derived
                                  if spec.id not in self.facts and all(f in self.facts for f in spec.derive["per_10k"]))
        return self._derived

    def window_issue(self, fact_id: str) -> dict | None:
        """Why a series given year by year has no 近三年 window: the years expected, those
        refused (given, but not valid), those missing and those later than the window (not
        yet complete, or after data_year)."""
        value = self.facts.get(fact_id)
        if type(value) is not dict or self.window_years(fact_id) is not None:
            return None
        expected = [int(y) for y in window(self.last)]
        refused = [y for y in expected if str(y) not in value and str(y) in self.refused.get(fact_id, ())]
        return {"expected": expected, "refused": refused,
                "missing": [y for y in expected if str(y) not in value and y not in refused],
                "later": sorted(int(y) for y in value if int(y) > self.last),
                "incomplete": self.window is None, "data_year": self.facts.get("data_year")}

    def later_given(self) -> list[str]:
        """The yearly facts given for a year after 近三年's last (not yet complete, or after
        data_year): the contract refuses such a year (the criterion stays unknown, and
        `window_issue` says why). Years are four digits, so their strings compare as numbers."""
        last, facts = str(self.last), self.facts
        return [f for f in self.cat.yearly if type(value := facts.get(f)) is dict and value and max(value) > last]

    def values(self, facts: list[str]) -> dict[str, Any]:
        """The input values a criterion read, and a derived figure where one was derived."""
        derived = self.derived
        return {f: (self.figure(f) if f in derived else self.facts[f])
                for f in facts if f in self.facts or f in derived}


_WINDOWS: dict[int, tuple[str, str, str]] = {}


def _window(last: int) -> tuple[str, str, str]:
    found = _WINDOWS.get(last)
    if found is None:
        found = _WINDOWS[last] = window(last)
    return found


def window_values(value: Any, span: tuple[str, str, str] | None) -> tuple | None:
    """A series' three values in the 近三年 window `span`, oldest first; None when it is not
    a series, a year of the window is missing, or it gives a later year."""
    if type(value) is not dict or span is None:
        return None
    get = value.get
    a, b, c = get(span[0]), get(span[1]), get(span[2])  # a series holds no None (validated)
    if a is None or b is None or c is None or (len(value) > 3 and max(value) > span[2]):  # 4-digit years
        return None
    return a, b, c


def window_years(value: Any, span) -> list | None:
    """The window's (year, value) pairs, oldest first (see window_values)."""
    found = window_values(value, span)
    return None if found is None else list(zip(span, found))


def lowest(value: Any, span) -> float | None:
    """A series' lowest value in the window, rounded: what 每年均 compares with a lower bound
    (rounding keeps the order, so the worst year stays the worst)."""
    found = window_values(value, span)
    if found is None:
        return None
    a, b, c = found
    low = a if a < b else b
    return round2(c if c < low else low)


def highest(value: Any, span) -> float | None:
    """A series' highest value in the window, rounded: what 每年均 compares with an upper bound."""
    found = window_values(value, span)
    if found is None:
        return None
    a, b, c = found
    high = b if a < b else a
    return round2(c if c > high else high)


def trend_years(value: Any, span) -> list | None:
    found = window_values(value, span)
    return None if found is None else [(span[0], round2(found[0])), (span[1], round2(found[1])),
                                       (span[2], round2(found[2]))]


def rate_figure(value: Any, span) -> float | None:
    """A rate's figure: as given, rounded; or year by year, averaged over the window."""
    if type(value) is not dict:
        return None if value is None else round2(value)
    return None if window_values(value, span) is None else average_rate(value, span)


def figure_of(spec: Fact, facts: dict, span) -> Any:
    """The figure a threshold compares: a number rounded; a rate's average over the window
    (None without one); a derived figure from its inputs when not given; else the value."""
    value = facts.get(spec.id)
    if value is None and spec.derive:
        first, second = spec.derive["per_10k"]
        patents, employees = facts.get(first), facts.get(second)
        if patents is not None and employees is not None:
            return per_10k(patents, employees)
    if spec.type in ("number", "rate"):
        return rate_figure(value, span)
    return value


# --- compiling checks --------------------------------------------------------------------
# The distinct checks of the chosen rulesets are written out as one Python function, a few
# plain lines per check from the templates below (`CompiledSet.source` shows the result).
# One call then reads a cluster's facts for every measure: batch screening evaluates
# 100,000 clusters, and a function call per check would cost more than the checks.
# Each fact, and each figure made from it (Profile's functions), is read once, at the top.
# A raw outcome is a tuple (status, observed, missing, parts).

class _Writer:
    """Collects the generated lines, the facts and figures they read and the constants."""

    def __init__(self, full: bool):
        self.full = full  # raw outcomes; else statuses alone
        self.lines: list[str] = []
        self.reads: dict[tuple[str, str], str] = {}  # (how, fact) -> variable, in order of use
        self.constants: dict[str, Any] = {"STATUSES": (PASS, FAIL, UNKNOWN, NA, WARNING), "_partial_sum": _partial_sum,
                                          "_missing_of": _missing_of, "figure_of": figure_of,
                                          "lowest": lowest, "highest": highest, "trend_years": trend_years, "round2": round2,
                                          "rate_figure": rate_figure}
        self.counter = 0

    def const(self, value: Any) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def outcome(self, status: str, observed: str, missing: str = "()", parts: str = "None") -> str:
        """The expression of an outcome: the raw tuple, or the status alone."""
        return f"({status}, {observed}, {missing}, {parts})" if self.full else status

    def fixed(self, status: str, observed: Any, missing: tuple = ()) -> str:
        """An outcome known when compiling: one shared constant."""
        return self.const((status, observed, missing, None)) if self.full else _STATUS_NAMES[status]

    def var(self) -> str:
        self.counter += 1
        return f"v{self.counter}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def read(self, how: str, fact: str) -> str:
        """The variable holding a fact (`fact`), its compared figure (`figure`), its window's
        lowest or highest value (`lowest`, `highest`: a series) or its rounded years (`trend`)."""
        if (how, fact) not in self.reads:
            if how != "fact":
                self.read("fact", fact)
            assert fact.isidentifier(), fact  # it names a variable
            self.reads[how, fact] = f"{_PREFIX[how]}{fact}"
        return self.reads[how, fact]

    def prologue(self) -> list[str]:
        cat = catalogue()
        lines = []
        for (how, fact), name in self.reads.items():
            spec, value = cat.facts[fact], f"f_{fact}"
            if how == "fact":
                lines.append(f"{name} = fget({fact!r})")
            elif how == "figure" and spec.derive:
                lines.append(f"{name} = figure_of({self.const(spec)}, facts, span)")
            elif how == "figure" and spec.type == "rate":
                lines.append(f"{name} = rate_figure({value}, span)")
            elif how == "figure" and spec.type == "number":
                lines.append(f"{name} = None if {value} is None else round2({value})")
            elif how == "figure":  # a count (exact), as given
                lines.append(f"{name} = {value}")
            elif how in ("lowest", "highest"):  # only the side a criterion compares is rounded
                lines.append(f"{name} = {how}({value}, span)" if spec.type == "series" else f"{name} = None")
            else:
                lines.append(f"{name} = trend_years({value}, span)")
        return ["    " + line for line in lines]


_STATUS_NAMES = {PASS: "PASS", FAIL: "FAIL", UNKNOWN: "UNKNOWN", NA: "NA", WARNING: "WARNING"}
_PREFIX = {"fact": "f_", "figure": "n_", "lowest": "lo_", "highest": "hi_", "trend": "t_"}


def _emit(w: _Writer, check, target: str, indent: int) -> None:
    """Lines that compute the outcome of `check` into the variable `target`: its raw outcome,
    or in a statuses-only writer its status alone (w.outcome)."""
    kind = check.kind
    if kind in ("threshold", "every_year"):
        op, soft = WORDS[check.word]
        unknown = w.fixed(UNKNOWN, None, (check.fact,))
        short = "WARNING" if soft else "FAIL"
        if kind == "threshold":
            v = w.read("figure", check.fact)
            none = f"{v} is None"
        else:  # the worst year: the lowest against a lower bound, the highest against an upper one
            v = w.read("lowest" if op[0] == ">" else "highest", check.fact)
            none = f"{v} is None"
        w.emit(indent, f"{target} = {unknown} if {none} else "
                       f"{w.outcome(f'(PASS if {v} {op} {check.value!r} else {short})', v)}")
    elif kind == "sum":
        op, _ = WORDS[check.word]
        parts = [w.read("fact", fact) for fact in check.facts]
        v = w.var()
        w.emit(indent, f"if {' and '.join(f'{x} is not None' for x in parts)}:")
        w.emit(indent + 1, f"{v} = {' + '.join(parts)}")
        w.emit(indent + 1, f"{target} = {w.outcome(f'(PASS if {v} {op} {check.value!r} else FAIL)', v)}")
        w.emit(indent, "else:")
        w.emit(indent + 1, f"{target} = _partial_sum(fget, {tuple(check.facts)!r}, {op!r}, {check.value!r})"
                           + ("" if w.full else "[0]"))
    elif kind in ("declared", "declared_not", "preferred"):
        wanted = kind != "declared_not"
        otherwise = WARNING if kind == "preferred" else FAIL
        # A preference (苏第六条（一）重点支持) unanswered cannot change the verdict, whatever the
        # answer: a warning that it was not answered, still naming the fact worth asking.
        unknown = w.fixed(WARNING if kind == "preferred" else UNKNOWN, None, (check.fact,))
        met, unmet = w.fixed(PASS, wanted), w.fixed(otherwise, not wanted)
        v = w.read("fact", check.fact)
        w.emit(indent, f"{target} = {unknown} if {v} is None else ({met} if {v} == {wanted!r} else {unmet})")
    elif kind in ("rank_at_least", "level_below"):
        cat = catalogue()
        unknown = w.fixed(UNKNOWN, None, (check.fact,))
        order = w.const(cat.rank_order if kind == "rank_at_least" else cat.level_order)
        v = w.read("fact", check.fact)
        if kind == "rank_at_least":  # at least this rank
            status = f"(PASS if {order}[{v}] >= {cat.rank_order[check.rank]} else FAIL)"
        else:  # stays below the bound
            status = f"(FAIL if {order}[{v}] >= {cat.level_order[check.bound]} else PASS)"
        w.emit(indent, f"{target} = {unknown} if {v} is None else {w.outcome(status, v)}")
    elif kind == "falling":
        unknown = w.fixed(UNKNOWN, None, (check.fact,))
        v = w.read("fact", check.fact)
        w.emit(indent, f"if {v} is None:")
        w.emit(indent + 1, f"{target} = {unknown}")
        w.emit(indent, f"elif {v} is True or {v} is False:")
        w.emit(indent + 1, f"{target} = {w.outcome(f'(PASS if {v} else FAIL)', v)}")
        w.emit(indent, "else:  # 持续下降: each year strictly below the one before")
        y = w.read("trend", check.fact)
        w.emit(indent + 1, f"{target} = {w.outcome('UNKNOWN', v, f'({check.fact!r},)')} if {y} is None else "
                           f"{w.outcome(f'(PASS if {y}[1][1] < {y}[0][1] and {y}[2][1] < {y}[1][1] else FAIL)', y)}")
    elif kind in ("any_of", "all_of"):
        # any_of passes on one pass and fails when all fail; all_of the other way round.
        decisive, otherwise = ("PASS", "FAIL") if kind == "any_of" else ("FAIL", "PASS")
        parts = [w.var() for _ in check.checks]
        for part, sub in zip(parts, check.checks):
            _emit(w, sub, part, indent)
        statuses = [f"{x}[0]" if w.full else x for x in parts]
        listed = "[" + ", ".join(parts) + "]"
        w.emit(indent, f"if {' or '.join(f'{x} is {decisive}' for x in statuses)}:")
        w.emit(indent + 1, f"{target} = {w.outcome(decisive, 'None', '()', listed)}")
        w.emit(indent, f"elif {' or '.join(f'{x} is UNKNOWN' for x in statuses)}:")
        w.emit(indent + 1, f"{target} = {w.outcome('UNKNOWN', 'None', f'_missing_of({listed})', listed)}")
        w.emit(indent, "else:")
        w.emit(indent + 1, f"{target} = {w.outcome(otherwise, 'None', '()', listed)}")
    else:
        raise TypeError(f"unknown check {check!r}")


def _emit_criterion(w: _Writer, criterion: Criterion, target: str) -> None:
    condition = criterion.applies_if
    if condition is None:
        _emit(w, criterion.check, target, 1)
        return
    # Applies only when the condition is declared (高耗能、高用水行业).
    v = w.read("fact", condition)
    w.emit(1, f"if {v} is None:")
    w.emit(2, f"{target} = {w.fixed(UNKNOWN, None, (condition,))}")
    w.emit(1, f"elif not {v}:")
    w.emit(2, f"{target} = {w.fixed(NA, False)}")
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
    """Several rulesets compiled together: each distinct criterion test written once, twice
    over: `statuses(p)` gives per ruleset its criteria's statuses (all a verdict or a batch
    row needs), `outcomes(p)` their raw outcomes with the figures an explanation shows. The
    outcomes are compiled when first asked for: a batch written as CSV or a table never asks,
    and compiling them was half of its start."""

    def __init__(self, rulesets: tuple[Ruleset, ...]):
        self.rulesets = rulesets
        self.sources: dict[str, str] = {}
        # Each distinct check once (the measures share many), and per ruleset the distinct
        # check of each of its criteria.
        seen: dict[str, int] = {}
        self.distinct: list[Criterion] = []
        layout, labels = [], []
        firsts: list[tuple[int, int]] = []  # where each distinct check is first: (ruleset, criterion)
        for ruleset in rulesets:
            positions = []
            for criterion in ruleset.criteria:
                key = criterion.check.model_dump_json() + "|" + str(criterion.applies_if)
                if key not in seen:
                    seen[key] = len(seen)
                    self.distinct.append(criterion)
                    firsts.append((len(layout), len(positions)))
                    labels.append(f"{criterion.id} ({ruleset.id} {criterion.citation})")
                positions.append(seen[key])
            layout.append(tuple(positions))
        self.layout: tuple[tuple[int, ...], ...] = tuple(layout)
        self._labels = labels  # a comment above each check's lines in the source
        self.firsts = tuple(firsts)
        self.statuses = self._compile("statuses", full=False)
        self._outcomes = None
        self._parts: tuple | None = None

    def outcomes(self, p: Profile) -> tuple:
        return (self._outcomes or self._compile_outcomes())(p)

    @property
    def source(self) -> str:
        """The generated source of both functions, to read."""
        self._outcomes or self._compile_outcomes()
        return "\n".join(self.sources.values())

    def _compile_outcomes(self):
        # Two threads may both compile it: each gets the same function.
        self._outcomes = self._compile("outcomes", full=True)
        return self._outcomes

    def _compile(self, name: str, full: bool):
        w = _Writer(full)
        for i, criterion in enumerate(self.distinct):
            w.emit(1, f"# {self._labels[i]}")
            _emit_criterion(w, criterion, f"r{i}")
        per_ruleset = ["(" + "".join(f"r{i}, " for i in positions) + ")" for positions in self.layout]
        footer = ["    return (" + "".join(f"{x}, " for x in per_ruleset) + ")"]
        source = self.sources[name] = "\n".join(_header(name) + w.prologue() + w.lines + footer) + "\n"
        exec(compile(source, f"<compiled {name} {'+'.join(r.id for r in self.rulesets)}>", "exec"),
             scope := dict(w.constants))
        return scope[name]

    def reevaluated(self, raw: tuple, p: Profile, changed) -> tuple[tuple, dict[int, tuple] | None]:
        """`outcomes(p)`, from `raw`, the outcomes of facts that differ from p's only in the
        facts `changed`: only the checks that read one of them are computed again (a dialog's
        answer changes one fact; the four measures' hundred-odd checks read some fifty), and
        those are given too, by distinct check (None: all were). data_year moves every
        近三年 window: then all are."""
        if "data_year" in changed:
            return self.outcomes(p), None
        parts, readers = self._parts or self._compile_parts()
        again: dict[int, tuple] = {}
        for fact in changed:
            for i in readers.get(fact, ()):
                if i not in again:
                    again[i] = parts[i](p)
        if not again:
            return raw, again
        return tuple(tuple([again.get(i, old) for i, old in zip(positions, outcomes)])
                     if not again.keys().isdisjoint(positions) else outcomes
                     for positions, outcomes in zip(self.layout, raw)), again

    def waiting(self, raw: tuple) -> dict[int, tuple]:
        """distinct check -> the facts it waits for (unknown, or a preference unanswered)."""
        return {i: raw[r][k][2] for i, (r, k) in enumerate(self.firsts) if _waits(raw[r][k])}

    def _compile_parts(self) -> tuple:
        """One function per distinct check, its raw outcome, and for each fact the checks
        reading it (a derived figure's inputs with it). Compiled when first asked for."""
        cat, parts, readers = catalogue(), [], {}
        for i, criterion in enumerate(self.distinct):
            w = _Writer(full=True)
            _emit_criterion(w, criterion, "r")
            source = "\n".join(_header("part") + w.prologue() + w.lines + ["    return r"]) + "\n"
            exec(compile(source, f"<compiled part {criterion.id}>", "exec"), scope := dict(w.constants))
            parts.append(scope["part"])
            read = {fact for _, fact in w.reads}
            for fact in list(read):
                read.update(cat.facts[fact].derive["per_10k"] if cat.facts[fact].derive else ())
            for fact in read:
                readers.setdefault(fact, []).append(i)
        self._parts = (parts, readers)
        return self._parts


def _header(name: str) -> list[str]:
    return [f"def {name}(p):",
            "    facts, span = p.facts, p.window",
            "    fget = facts.get",
            "    PASS, FAIL, UNKNOWN, NA, WARNING = STATUSES  # locals: read some 150 times a call"]


_COMPILED: dict[tuple[int, ...], CompiledSet] = {}


def compiled(rulesets: tuple[Ruleset, ...]) -> CompiledSet:
    """The compiled set for these rulesets; it keeps them alive, so their ids stay theirs."""
    global _last
    last = _last  # one read: another thread may replace it meanwhile
    if last[0] is rulesets:  # a batch asks with the same tuple for every cluster
        return last[1]
    key = tuple(map(id, rulesets))
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = CompiledSet(rulesets)
    _last = (rulesets, found)
    return found


_last: tuple = (None, None)  # the tuple asked for last, and its compiled set


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
    period: tuple | None = None  # a rate given as one average: the 近三年 it stands for (first, last)
    refused: tuple = ()  # unknown: the facts of `missing` given but refused as a whole (Profile.refused)


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
        elif status == UNKNOWN and (derive := p.cat.facts[check.fact].derive):
            # neither given nor derived: the counts given, so the explanation names the others
            out.inputs = {f: p.facts[f] for f in derive["per_10k"] if f in p.facts}
        elif isinstance(p.facts.get(check.fact), dict) and (years := p.window_years(check.fact)):
            out.inputs = {y: round2(v) for y, v in years}  # annual rates, averaged geometrically
        elif p.cat.facts[check.fact].type == "rate" and p.window and check.fact in p.facts:
            # one figure already averaged: the explanation names the three years it must cover
            out.period = (p.window[0], p.window[-1])
    if isinstance(check, (AnyOfCheck, AllOfCheck)):
        out.parts = [_outcome(c, r, p) for c, r in zip(check.checks, parts)]
    if status == UNKNOWN and p.refused:
        out.refused = tuple(f for f in missing if f in p.refused and f not in p.facts)
    if status == UNKNOWN and hasattr(check, "fact"):
        out.window = p.window_issue(check.fact)
        if out.window and isinstance(check, EveryYearCheck) and not WORDS[check.word][1]:
            # The years of the window given may already fail: the explanation says that
            # filling in the rest cannot make it pass (the status stays unknown: facts.md).
            series, op = p.facts[check.fact], WORDS[check.word][0]
            out.threshold = check.value
            out.failing_years = [y for y in out.window["expected"]
                                 if str(y) in series and not OPS[op](round2(series[str(y)]), check.value)]
            out.years = [(y, round2(series[str(y)])) for y in out.failing_years]
        elif out.window and isinstance(check, FallingCheck) and type(p.facts[check.fact]) is dict:
            # 持续下降 with a year missing: two given years in a row that do not fall already fail it
            series = p.facts[check.fact]
            given = [y for y in out.window["expected"] if str(y) in series]
            out.failing_years = [b for a, b in zip(given, given[1:])
                                 if b == a + 1 and not round2(series[str(b)]) < round2(series[str(a)])]
            out.years = [(y, round2(series[str(y)])) for y in given]
    if status == UNKNOWN or observed is None or not hasattr(check, "word"):
        if isinstance(check, FallingCheck) and isinstance(observed, list):
            out.years = [(int(y), v) for y, v in observed]
            out.failing_years = [y for (_, a), (y, b) in zip(out.years, out.years[1:]) if not b < a]
        return out
    op, _ = WORDS[check.word]
    out.threshold = check.value
    out.margin = round2(observed - check.value if op[0] == ">" else check.value - observed)
    if isinstance(check, EveryYearCheck):
        out.years = [(int(y), round2(v)) for y, v in p.window_years(check.fact)]
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


class _Trace:
    """The raw outcomes of every measure of one evaluate_many call, computed the first time
    an explanation asks (a verdict needs only the statuses), unless given."""

    __slots__ = ("compiled", "profile", "_raw", "_waiting")

    def __init__(self, compiled: CompiledSet, profile: Profile, raw: tuple | None = None):
        self.compiled, self.profile, self._raw = compiled, profile, raw
        self._waiting: dict[int, tuple] | None = None

    def raw(self, position: int) -> tuple:
        if self._raw is None:
            self._raw = self.compiled.outcomes(self.profile)
        return self._raw[position]

    def waiting(self) -> dict[int, tuple]:
        """CompiledSet.waiting of these outcomes (found once; a re-evaluation carries it over)."""
        if self._waiting is None:
            self.raw(0)
            self._waiting = self.compiled.waiting(self._raw)
        return self._waiting


class Evaluation:
    """One measure's verdict for one cluster on one date, with the trace behind it."""

    __slots__ = ("ruleset", "on", "verdict", "statuses", "_trace", "_position", "_results")

    def __init__(self, ruleset: Ruleset, on: dt.date, statuses: tuple, trace: _Trace, position: int):
        self.ruleset, self.on, self._trace, self._position = ruleset, on, trace, position
        self.statuses = statuses
        self.verdict = verdict_of(statuses)
        self._results = None

    @property
    def notices(self) -> list[Notice]:
        return term_notices(self.ruleset, self.on)

    @property
    def _raw(self) -> tuple:
        return self._trace.raw(self._position)

    @property
    def results(self) -> list[CriterionResult]:
        if self._results is None:
            self._results = [self.result_at(i) for i in range(len(self.statuses))]
        return self._results

    def result_at(self, index: int) -> CriterionResult:
        """One criterion's result, its trace built on demand."""
        if self._results is not None:
            return self._results[index]
        c, raw, p = self.ruleset.criteria[index], self._raw[index], self._trace.profile
        return CriterionResult(c, raw[0], _outcome(c.check, raw, p), p.values(c.facts))

    def with_status(self, status: str) -> list[CriterionResult]:
        """The results of the criteria with this status, each built only if it has it (a
        result view lists what failed or is unknown, most criteria pass)."""
        return [self.result_at(i) for i, s in enumerate(self.statuses) if s == status]

    @property
    def missing(self) -> list[str]:
        """The facts still unanswered that could change a criterion's status (a preference
        unanswered is a warning that names its fact too: worth asking, though no verdict waits)."""
        found: dict[str, None] = {}
        self.gather_missing(found)
        return list(found)

    def waits_for(self, fact: str) -> bool:
        """Whether `fact` is in `missing` (asked after every answer: not listing them all)."""
        for raw in self._raw:
            if _waits(raw) and fact in raw[2]:
                return True
        return False

    def missing_at(self, index: int) -> tuple:
        """The facts one criterion still waits for (a preference unanswered: a warning that waits)."""
        return tuple(self._raw[index][2] or ())

    def gather_missing(self, found: dict[str, None]) -> None:
        """`missing` added to `found`'s keys, in order: the dialog gathers the chosen
        measures' after nearly every answer, in one dict."""
        statuses = self.statuses
        if UNKNOWN in statuses or WARNING in statuses:
            listed: list[str] = []
            for raw in self._raw:  # a loop, not a generator
                if _waits(raw):
                    listed += raw[2]
            found.update(dict.fromkeys(listed))

    def by_id(self, criterion_id: str) -> CriterionResult:
        return next(r for r in self.results if r.criterion.id == criterion_id)


def _waits(raw: tuple) -> bool:
    """Whether a raw outcome waits for the facts it names: unknown, or a preference unanswered
    (a warning that names its fact: worth asking, though no verdict waits)."""
    return bool(raw[2]) and (raw[0] == UNKNOWN or raw[0] == WARNING)


def missing_of(evaluations: list[Evaluation]) -> dict[str, None]:
    """The facts still unanswered that could change a criterion of any of these evaluations
    (Evaluation.missing of each, together, in no particular order): for the evaluations of
    one evaluate_many or reevaluate, from their distinct checks."""
    trace = evaluations[0]._trace if evaluations else None
    if (trace is not None and trace._raw is not None and len(evaluations) == len(trace.compiled.rulesets)
            and all(ev._trace is trace for ev in evaluations)):
        listed: list[str] = []
        for facts in trace.waiting().values():
            listed += facts
        return dict.fromkeys(listed)
    found: dict[str, None] = {}
    for ev in evaluations:
        ev.gather_missing(found)
    return found


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


def evaluate_many(facts: dict | Profile, rulesets, on: dt.date, traced: bool = False) -> list[Evaluation]:
    """Every criterion of each measure against one cluster's facts, on a given date. `traced`:
    the raw outcomes computed at once and the statuses read from them, for a caller that asks
    what is missing after nearly every evaluation (the dialog); otherwise the statuses alone,
    and the outcomes when an explanation first asks."""
    p = facts if isinstance(facts, Profile) else Profile(facts, on)
    rulesets = rulesets if type(rulesets) is tuple else tuple(rulesets)
    found = compiled(rulesets)
    trace = _Trace(found, p, found.outcomes(p) if traced else None)
    statuses = [tuple(map(_STATUS, raw)) for raw in trace._raw] if traced else found.statuses(p)
    return list(map(Evaluation, rulesets, repeat(on), statuses, repeat(trace), count()))  # map: no frame per item


_STATUS = operator.itemgetter(0)  # a raw outcome's status


def reevaluate(before: list[Evaluation], facts: dict | Profile, on: dt.date, changed) -> list[Evaluation]:
    """What `evaluate_many(facts, the same rulesets, on, traced=True)` gives, from `before`,
    traced evaluations of facts that differ from these only in the facts `changed` (a
    dialog's answer): only the checks reading a changed fact are computed again."""
    trace = before[0]._trace if before else None
    rulesets = tuple(ev.ruleset for ev in before)
    if trace is None or trace._raw is None or before[0].on != on:
        return evaluate_many(facts, rulesets, on, traced=True)
    p = facts if isinstance(facts, Profile) else Profile(facts, on)
    found, old = compiled(rulesets), trace
    raw, again = found.reevaluated(old._raw, p, changed)
    trace = _Trace(found, p, raw)
    if again is not None and old._waiting is not None:  # carried over: only the checks computed again
        trace._waiting = waiting = dict(old._waiting)
        for i, outcome in again.items():
            if _waits(outcome):
                waiting[i] = outcome[2]
            else:
                waiting.pop(i, None)
    statuses = [ev.statuses if now is was else tuple(map(_STATUS, now))  # a ruleset no check of changed
                for ev, now, was in zip(before, raw, old._raw)]
    return list(map(Evaluation, rulesets, repeat(on), statuses, repeat(trace), count()))


def evaluate(facts: dict | Profile, ruleset: Ruleset, on: dt.date) -> Evaluation:
    return evaluate_many(facts, (ruleset,), on)[0]
