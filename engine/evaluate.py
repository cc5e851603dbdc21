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

from .facts import Catalogue, average_rate, latest_three, per_10k, round2
from .rules import (
    WORDS, AnyOfCheck, Criterion, DeclaredCheck, EveryYearCheck, FallingCheck, LevelCheck,
    PreferredCheck, RankCheck, Ruleset, SumCheck, ThresholdCheck, catalogue,
)

PASS, FAIL, UNKNOWN, NA, WARNING = "pass", "fail", "unknown", "not_applicable", "warning"
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class Profile:
    """A cluster's validated facts, read once for every measure: `num` holds each number,
    count, rate average (geometric, rounded) and derived figure; `years` each series'
    近三年 window (None with fewer than three years), with its lowest and highest value."""

    __slots__ = ("facts", "num", "years", "low", "high", "derived", "cat")

    def __init__(self, facts: dict[str, Any], cat: Catalogue | None = None):
        cat = cat or catalogue()
        self.cat = cat
        self.facts = facts
        self.num = num = dict(facts)
        self.years, self.low, self.high = {}, {}, {}
        self.derived = ()
        for fact_id in cat.yearly:
            value = facts.get(fact_id)
            if type(value) is dict:
                years = self.years[fact_id] = latest_three(value)
                if years is not None:
                    amounts = [years[0][1], years[1][1], years[2][1]]
                    self.low[fact_id], self.high[fact_id] = min(amounts), max(amounts)
                if fact_id in cat.rates:
                    num[fact_id] = average_rate(value)
        for spec in cat.derived:
            if spec.id not in facts:
                patents, employees = (facts.get(f) for f in spec.derive["per_10k"])
                if patents is not None and employees is not None:
                    num[spec.id] = per_10k(patents, employees)
                    self.derived += (spec.id,)

    def values(self, facts: list[str]) -> dict[str, Any]:
        """The input values a criterion read, and a derived figure where one was derived."""
        return {f: (self.num[f] if f in self.derived else self.facts[f])
                for f in facts if f in self.facts or f in self.derived}


# --- compiling checks --------------------------------------------------------------------
# A raw outcome is a tuple (status, observed, missing, parts).

def _compile(check) -> Callable[[Profile], tuple]:
    if isinstance(check, ThresholdCheck):
        return _threshold(check)
    if isinstance(check, EveryYearCheck):
        return _every_year(check)
    if isinstance(check, SumCheck):
        return _sum(check)
    if isinstance(check, (DeclaredCheck, PreferredCheck)):
        return _declared(check)
    if isinstance(check, RankCheck):
        return _rank(check)
    if isinstance(check, LevelCheck):
        return _level(check)
    if isinstance(check, FallingCheck):
        return _falling(check)
    if isinstance(check, AnyOfCheck):
        return _any_of(check)
    raise TypeError(f"unknown check {check!r}")


def _threshold(check: ThresholdCheck):
    op, soft = WORDS[check.word]
    compare, value, fact = OPS[op], check.value, check.fact
    short, missing = (WARNING if soft else FAIL), (check.fact,)

    def run(p):
        observed = p.num.get(fact)
        if observed is None:
            return (UNKNOWN, None, missing, None)
        return (PASS if compare(observed, value) else short, observed, (), None)
    return run


def _every_year(check: EveryYearCheck):
    op, soft = WORDS[check.word]
    compare, value, fact = OPS[op], check.value, check.fact
    short, missing = (WARNING if soft else FAIL), (check.fact,)
    lower_bound = op[0] == ">"

    def run(p):
        # Every year passes exactly when the worst year does.
        observed = (p.low if lower_bound else p.high).get(fact)
        if observed is None:
            return (UNKNOWN, None, missing, None)
        return (PASS if compare(observed, value) else short, observed, (), None)
    return run


def _sum(check: SumCheck):
    op, _ = WORDS[check.word]
    compare, value, facts = OPS[op], check.value, tuple(check.facts)

    def run(p):
        get = p.facts.get
        counts = [get(f) for f in facts]
        if None not in counts:
            known = sum(counts)
            return (PASS if compare(known, value) else FAIL, known, (), None)
        known = sum(c for c in counts if c is not None)
        # Unknown counts can only add to the sum: one already high enough passes.
        if op[0] == ">" and compare(known, value):
            return (PASS, known, (), None)
        return (UNKNOWN, known, tuple(f for f, c in zip(facts, counts) if c is None), None)
    return run


def _declared(check):
    fact = check.fact
    wanted = check.kind != "declared_not"
    otherwise = WARNING if check.kind == "preferred" else FAIL
    # Three possible outcomes, built once.
    unknown = (UNKNOWN, None, (fact,), None)
    met, unmet = (PASS, wanted, (), None), (otherwise, not wanted, (), None)

    def run(p):
        value = p.facts.get(fact)
        if value is None:
            return unknown
        return met if value == wanted else unmet
    return run


def _rank(check: RankCheck):
    fact, missing = check.fact, (check.fact,)

    def run(p):
        value = p.facts.get(fact)
        if value is None:
            return (UNKNOWN, None, missing, None)
        order = p.cat.rank_order
        return (PASS if order[value] >= order[check.rank] else FAIL, value, (), None)
    return run


def _level(check: LevelCheck):
    fact, missing = check.fact, (check.fact,)

    def run(p):
        value = p.facts.get(fact)
        if value is None:
            return (UNKNOWN, None, missing, None)
        order = p.cat.level_order
        if order[value] >= order[check.bound]:
            return (FAIL, value, (), None)
        if check.warn_from and order[value] >= order[check.warn_from]:
            return (WARNING, value, (), None)
        return (PASS, value, (), None)
    return run


def _falling(check: FallingCheck):
    fact, missing = check.fact, (check.fact,)

    def run(p):
        value = p.facts.get(fact)
        if value is None:
            return (UNKNOWN, None, missing, None)
        if type(value) is bool:
            return (PASS if value else FAIL, value, (), None)
        years = p.years.get(fact)
        if years is None:
            return (UNKNOWN, value, missing, None)
        falling = all(b < a for (_, a), (_, b) in zip(years, years[1:]))
        return (PASS if falling else FAIL, years, (), None)
    return run


def _any_of(check: AnyOfCheck):
    parts = [_compile(sub) for sub in check.checks]

    def run(p):
        outcomes = [part(p) for part in parts]
        statuses = [o[0] for o in outcomes]
        if PASS in statuses:
            return (PASS, None, (), outcomes)
        if UNKNOWN in statuses:
            missing = tuple(dict.fromkeys(f for o in outcomes if o[0] == UNKNOWN for f in o[2]))
            return (UNKNOWN, None, missing, outcomes)
        return (FAIL, None, (), outcomes)
    return run


def _compile_criterion(criterion: Criterion):
    run = _compile(criterion.check)
    condition = criterion.applies_if
    if condition is None:
        return run
    unknown, not_applicable = (UNKNOWN, None, (condition,), None), (NA, False, (), None)

    def guarded(p):
        applies = p.facts.get(condition)
        if applies is None:
            return unknown
        return run(p) if applies else not_applicable
    return guarded


class CompiledSet:
    """Several rulesets compiled together: each distinct criterion test compiled once."""

    def __init__(self, rulesets: tuple[Ruleset, ...]):
        self.rulesets = rulesets
        self.functions: list[Callable] = []
        self.pickers: list[Callable] = []
        seen: dict[str, int] = {}
        for ruleset in rulesets:
            positions = []
            for criterion in ruleset.criteria:
                key = criterion.check.model_dump_json() + "|" + str(criterion.applies_if)
                if key not in seen:
                    seen[key] = len(self.functions)
                    self.functions.append(_compile_criterion(criterion))
                positions.append(seen[key])
            self.pickers.append(_picker(positions))

    def run(self, p: Profile) -> list[tuple[tuple, tuple]]:
        """Per ruleset: the raw outcomes of its criteria, and their statuses."""
        raw = [f(p) for f in self.functions]
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
        elif isinstance(p.facts.get(check.fact), dict):
            out.inputs = p.facts[check.fact]  # annual rates averaged geometrically
    if isinstance(check, AnyOfCheck):
        out.parts = [_outcome(c, r, p) for c, r in zip(check.checks, parts)]
    if status == UNKNOWN or observed is None or not hasattr(check, "word"):
        if isinstance(check, FallingCheck) and isinstance(observed, list):
            out.years = [(int(y), v) for y, v in observed]
            out.failing_years = [y for (_, a), (y, b) in zip(out.years, out.years[1:]) if not b < a]
        return out
    op, _ = WORDS[check.word]
    out.threshold = check.value
    out.margin = round2(observed - check.value if op[0] == ">" else check.value - observed)
    if isinstance(check, EveryYearCheck):
        out.years = [(int(y), v) for y, v in p.years[check.fact]]
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
            p = self._profile
            self._results = [
                CriterionResult(c, raw[0], _outcome(c.check, raw, p), p.values(c.facts))
                for c, raw in zip(self.ruleset.criteria, self._raw)
            ]
        return self._results

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
    p = facts if isinstance(facts, Profile) else Profile(facts)
    rulesets = tuple(rulesets)
    per_ruleset = compiled(rulesets).run(p)
    return [Evaluation(r, on, raw, statuses, p) for r, (raw, statuses) in zip(rulesets, per_ruleset)]


def evaluate(facts: dict | Profile, ruleset: Ruleset, on: dt.date) -> Evaluation:
    return evaluate_many(facts, (ruleset,), on)[0]
