"""What a person would type: a fact's value written as a chat answer, and which question a
reply is asking (recognised by its wording in the locales)."""

from __future__ import annotations

from engine import catalogue
from locales import t


def chat_answer(fact: str, value, lang: str = "zh") -> str:
    """The eligible fixture's value of a fact, typed the way an official would."""
    spec = catalogue()[fact]
    if isinstance(value, bool):
        return t(lang, "yes") if value else t(lang, "no")
    if spec.type in ("level", "rank"):
        return catalogue().option_label(spec.type, value, lang)
    if isinstance(value, dict):
        return " ".join(f"{year}:{amount:g}" for year, amount in sorted(value.items()))
    return f"{value:g}" if isinstance(value, float) else str(value)


def asked_fact(text: str, lang: str = "zh") -> str | None:
    """The fact whose question appears last in a transcript, if any."""
    positions = {f: text.rfind(t(lang, f"question.{f}.text")) for f in catalogue().facts}
    fact, where = max(positions.items(), key=lambda kv: (kv[1], len(t(lang, f"question.{kv[0]}.text"))))
    return fact if where >= 0 else None
