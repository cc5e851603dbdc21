"""Boundaries an outside review of the law found wrong, each against the article it reads."""

from __future__ import annotations

from engine import evaluate_many, load_rulesets
from locales.explain import explain
from tests.conftest import ON, evaluate_with


def test_an_unanswered_preference_does_not_hold_the_verdict():
    """苏第六条（一）“重点支持主导产业在全省16个先进制造业集群和50条重点产业链的产业集群” is a
    preference: no answer to it can change the verdict, so a cluster meeting every condition
    is eligible without it; the criterion says it was not answered, and the chat still asks it."""
    ev = evaluate_with("jiangsu", drop=("priority_chain",))
    result = ev.by_id("priority-chain")
    assert result.status == "warning"
    assert ev.verdict == "eligible"
    text = explain(result, "zh")
    assert "尚未填报" in text and "不影响认定" in text and "否。" not in text
    assert "not answered" in explain(result, "en").lower()
    assert "priority_chain" in ev.missing  # still worth asking
    # answered, it reads as before
    assert evaluate_with("jiangsu", priority_chain=False).by_id("priority-chain").status == "warning"
    assert evaluate_with("jiangsu", priority_chain=True).by_id("priority-chain").status == "pass"
    # traced evaluation (the dialog's) agrees with the statuses alone (a batch's)
    facts = evaluate_with("jiangsu", drop=("priority_chain",))._trace.profile.facts
    traced = evaluate_many(facts, [load_rulesets()["jiangsu"]], ON, traced=True)[0]
    assert traced.verdict == "eligible" and traced.by_id("priority-chain").status == "warning"
