"""What the benches need to play an official, from the product's own install alone (no
pytest, nothing from tests/): the eligible example cluster and how its answers are typed."""

from __future__ import annotations

import json
from pathlib import Path

from engine import catalogue
from locales import t

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "示例集群.json"


def eligible_facts() -> dict:
    """The example cluster, which meets every criterion of all four measures, without its name."""
    facts = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    facts.pop("name", None)
    return facts


def official_facts(number: int) -> dict:
    """The example cluster as official `number` has it: its area differs by official (80 to
    99.9 km², under every measure's 100), so that no two officials' answers are the same and
    none is evaluated from what another's evaluation left in the dialog's cache."""
    facts = eligible_facts()
    facts["area_km2"] = 80 + number % 200 / 10
    return facts


def typed_answer(fact: str, value, lang: str = "zh") -> str:
    """A fact's value typed the way an official would."""
    spec = catalogue()[fact]
    if isinstance(value, bool):
        return t(lang, "yes") if value else t(lang, "no")
    if spec.type in ("level", "rank"):
        return catalogue().option_label(spec.type, value, lang)
    if isinstance(value, dict):
        return " ".join(f"{year}:{amount:g}" for year, amount in sorted(value.items()))
    return f"{value:g}" if isinstance(value, float) else str(value)


def asked_fact(text: str, lang: str = "zh") -> str | None:
    """The fact whose question appears last in the reply text, if any."""
    positions = {f: text.rfind(t(lang, f"question.{f}.text")) for f in catalogue().facts}
    fact, where = max(positions.items(), key=lambda kv: (kv[1], len(t(lang, f"question.{kv[0]}.text"))))
    return fact if where >= 0 else None
