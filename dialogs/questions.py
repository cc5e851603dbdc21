"""Which question comes next: the first fact, in the application form's order, that a chosen
measure still needs to settle a criterion. A question that cannot matter is not asked
(energy efficiency only for a high-energy cluster; counts once a sum already passes;
nothing a chosen measure does not read)."""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from typing import Any

from engine import Profile, catalogue, evaluate_many, load_rulesets
from engine.evaluate import Evaluation, missing_of, reevaluate
from engine.rules import Ruleset
from storage.repo import SKIPPED


def rulesets_for(measures: str) -> tuple[Ruleset, ...]:
    """A profile's chosen measures (a comma list), in the product's order; asked several
    times a message, made once per list (a tuple, as evaluate_many keeps its compiled set by)."""
    every = load_rulesets()
    found = _CHOSEN.get((measures, id(every)))
    if found is None:
        chosen = [m for m in measures.split(",") if m]
        found = tuple(r for j, r in every.items() if j in chosen)
        if len(_CHOSEN) < 64:  # some lists of four measures; `every` lives as long as the process
            _CHOSEN[(measures, id(every))] = found
    return found


_CHOSEN: dict[tuple[str, int], tuple[Ruleset, ...]] = {}


def known_facts(answers: dict[str, Any]) -> dict[str, Any]:
    return {fact: value for fact, value in answers.items() if value is not SKIPPED}


_EVALUATED: OrderedDict[tuple, list[Evaluation]] = OrderedDict()
EVALUATED_KEPT = 256  # recent evaluations kept; a few KiB each


def evaluate_answers(answers: dict[str, Any], rulesets: list[Ruleset], on: dt.date,
                     since: tuple[list[Evaluation], list[str]] | None = None) -> list[Evaluation]:
    """The evaluations of these answers, remembered by their content: a message evaluates
    the answers before and after the one it saves, and the next message starts from the
    same answers again. (The same facts, measures and date give the same evaluation.)
    `since`: the evaluations of these rulesets on answers that differ from these only in the
    facts listed, from which only the criteria reading those facts are evaluated again.
    Stored answers are known by their JSON in the order a profile's rows give them, which the
    profile's next turn gives again (sorting them took twice as long as the lookup)."""
    texts = getattr(answers, "texts", None)  # stored answers come with their JSON (storage/repo.py)
    # Told by the texts when every answer not skipped has one (a skip never has: Answers).
    told = texts is not None and (len(texts) == len(answers) or all(
        value is SKIPPED for fact, value in answers.items() if fact not in texts))
    facts = None if told else known_facts(answers)  # made only when evaluated, or not told
    try:
        # JSON tells 1 from 1.0 and True, as an explanation does; series keep their order.
        content = ((tuple(texts), tuple(texts.values())) if told
                   else json.dumps(dict(sorted(facts.items())), ensure_ascii=False))
    except (TypeError, ValueError):  # not a value a stored answer can hold: not remembered
        return evaluate_many(Profile(facts, on), rulesets, on, traced=True)
    key = (content, tuple(id(r) for r in rulesets), on)
    found = _EVALUATED.get(key)
    if found is None:
        facts = known_facts(answers) if facts is None else facts
        # The evaluations keep their rulesets alive: their ids in the key stay theirs.
        found = _EVALUATED[key] = (reevaluate(since[0], Profile(facts, on), on, since[1]) if since
                                   else evaluate_many(Profile(facts, on), rulesets, on, traced=True))
        if len(_EVALUATED) > EVALUATED_KEPT:
            _EVALUATED.popitem(last=False)
    else:
        _EVALUATED.move_to_end(key)
    return list(found)


def facts_to_ask(missing, answers: dict[str, Any]) -> list[str]:
    """The questions that would settle the missing facts, in catalogue order. A derived
    figure (每万人发明专利) is asked through its inputs first, and itself only when an
    input was skipped."""
    cat = catalogue()
    inputs_of = cat.inputs
    wanted: set[str] = set()
    for fact in missing if type(missing) is dict else dict.fromkeys(missing):  # several measures miss the same facts
        inputs = inputs_of[fact]
        if inputs and not any(answers.get(i) is SKIPPED for i in inputs):
            wanted.update(inputs)
        else:
            wanted.add(fact)
    return sorted((f for f in wanted if f not in answers), key=cat.position.__getitem__)


def needed(evaluations: list[Evaluation], answers: dict[str, Any]) -> list[str]:
    """Every question still worth asking for these evaluations."""
    return facts_to_ask(missing_of(evaluations), answers)


def asked_facts(rulesets: list[Ruleset]) -> frozenset[str]:
    """Every fact these measures may ask about: what they read, and the inputs of derived figures."""
    key = tuple(id(r) for r in rulesets)
    found = _ASKED.get(key)
    if found is None:
        cat = catalogue()
        read = {f for r in rulesets for f in r.facts}
        found = frozenset(read | {i for f in read if cat[f].derive for i in cat[f].derive["per_10k"]})
        if len(_ASKED) < 64:
            _ASKED[key] = found
            _KEPT.extend(rulesets)  # alive, so that their ids stay theirs
    return found


# Asked on every question; the rulesets are loaded once (engine.load_rulesets), so a few sets.
_ASKED: dict[tuple[int, ...], frozenset[str]] = {}
_KEPT: list[Ruleset] = []


def relevant_answered(rulesets: list[Ruleset], answers: dict[str, Any]) -> int:
    """How many questions of these measures were answered or skipped (for 第 k/n 题)."""
    read = asked_facts(rulesets)
    return sum(1 for f in answers if f in read)


def criteria_reading(fact: str, rulesets: list[Ruleset]) -> list[tuple[Ruleset, Any]]:
    """The criteria of these measures a fact serves (directly, or through a derived figure)."""
    cat = catalogue()
    serves = {fact} | {f.id for f in cat.derived if fact in f.derive["per_10k"]}
    return [(r, c) for r in rulesets for c in r.criteria if serves & set(c.facts)]
