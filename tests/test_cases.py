"""The boundary cases of tests/cases/*.yaml, one file per measure: every file is picked up,
and every ruleset in engine/rulesets/ must have one, so a new measure needs cases, not Python."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine import load_rulesets
from locales.explain import explain
from tests.conftest import ON, evaluate_with

CASES = Path(__file__).parent / "cases"


def load_cases() -> list:
    found = []
    for path in sorted(CASES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            found.append(pytest.param(data["jurisdiction"], case, id=f"{path.stem}: {case['name']}"))
    return found


def test_every_ruleset_has_its_cases():
    covered = {yaml.safe_load(p.read_text(encoding="utf-8"))["jurisdiction"] for p in CASES.glob("*.yaml")}
    assert set(load_rulesets()) <= covered


@pytest.mark.parametrize("jurisdiction, case", load_cases())
def test_case(jurisdiction, case):
    on = case.get("date", ON)  # not `on:`, which YAML reads as true
    on = on if isinstance(on, dt.date) else dt.date.fromisoformat(on)
    ev = evaluate_with(jurisdiction, on=on, drop=tuple(case.get("drop", ())), **case["input"])
    for criterion, status in case.get("criteria", {}).items():
        result = ev.by_id(criterion)
        assert result.status == status, (criterion, explain(result, "zh"))
    if "verdict" in case:
        assert ev.verdict == case["verdict"], [(r.criterion.id, r.status) for r in ev.results if r.status != "pass"]
    for criterion, words in case.get("explanation", {}).items():
        text = explain(ev.by_id(criterion), "zh")
        for w in words:
            assert w in text, (w, text)
