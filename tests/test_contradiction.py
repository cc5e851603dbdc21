"""Answers that cannot all be true (facts.yaml contradictions) are refused in the chat, in
either order, and nothing stored changes; through Conversation.handle on a real SQLite file."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from dialogs.conversation import Conversation
from storage.db import make_engine, session
from storage.models import Answer, Profile, User
from tests.chat_helpers import chat_answer
from tests.conftest import eligible_facts


@pytest.fixture
def chat(tmp_path):
    conversation = Conversation(make_engine(f"sqlite:///{tmp_path / 'chat.db'}"),
                                ManualClock(dt.datetime(2026, 11, 23, 10, 0)))

    def say(text: str) -> str:
        return "\n".join(r.text for r in conversation.handle("alice", text=text))

    def current_fact() -> str | None:
        with session(conversation.engine) as s:
            user = s.exec(select(User).where(User.external_id == "alice")).one()
            return s.get(Profile, user.active_profile_id).current_fact

    def stored(fact: str) -> list[str]:
        with session(conversation.engine) as s:
            return [a.value_json for a in s.exec(select(Answer).where(Answer.fact == fact))]

    say.current_fact, say.stored = current_fact, stored
    return say


def answer_until(chat, stop_at: str, facts: dict) -> None:
    for _ in range(80):
        fact = chat.current_fact()
        if fact == stop_at:
            return
        text = chat(chat_answer(fact, facts[fact]))
        if "年份对吗" in text:
            chat("是")
    raise AssertionError(f"{stop_at} was never asked")


def test_a_prohibited_industry_that_complies_with_policy_is_refused(chat):
    chat("/start")
    chat("/new 甲集群")
    chat("国家")
    answer_until(chat, "prohibited_industry", eligible_facts())  # policy_compliant answered 是 before
    assert chat.stored("policy_compliant") == ["true"]
    text = chat("是")
    assert "相矛盾" in text and "“主导产业符合国家产业政策和（省）发展规划要求”：是" in text and "未保存" in text
    assert chat.current_fact() == "prohibited_industry" and chat.stored("prohibited_industry") == []
    text = chat("否")
    assert "相矛盾" not in text and chat.stored("prohibited_industry") == ["false"]
