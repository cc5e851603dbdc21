"""The scripted terminal session of issue 10: `clusterbot chat` in a pseudo-terminal completes
a Jiangsu pre-screening with /back, /skip, /edit and a measure added midway, then tracks two
clusters certified the same day and ends with one valid .ics of both, parsed by icalendar."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import icalendar

from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts
from tests.test_chat_process import Terminal


def test_a_jiangsu_pre_screening_then_a_calendar_of_two_clusters(tmp_path):
    facts = eligible_facts()
    term = Terminal(tmp_path / "c.db")
    term.say("/new 甲县装备集群（江苏）")
    assert "哪个省" not in term.say("江苏")           # the province follows from the measure
    text = term.say("是")                             # county_level
    assert "[/skip 跳过]  [/back 上一题]  [/why 依据]" in text   # a question's actions, as typed
    term.say("80")                                    # area_km2
    text = term.say("/back")
    assert asked_fact(text) == "area_km2" and "当前答案：80.00平方公里" in text
    text = term.say("/skip")                          # skipping an answered question keeps it
    assert "保留原答案：集群占地面积 = 80.00平方公里" in text
    skipped = asked_fact(text)
    text = term.say("/skip")                          # a real skip: pending
    assert "已跳过" in text
    term.answer_all(facts, until="total_output")
    text = term.say("2023:45 2024:48 2025")           # a year without its figure
    assert "没有看懂" in text and asked_fact(text) == "total_output"
    term.say(chat_answer("total_output", facts["total_output"]))
    text = term.say("/edit 2")                        # area, straight from the menu's number
    assert "修改此题" in text and asked_fact(text) == "area_km2"
    text = term.say("90平方公里")
    assert "已保存：集群占地面积 = 90.00平方公里" in text and "修改后各办法结论未变" in text
    text = term.say("/measures")                      # the national measure added midway
    assert "✓ 江苏" in text
    text = term.say("江苏 国家")
    assert re.search(r"已保留 \d+ 个答案", text)
    term.answer_all(facts)
    assert "待定 1 题" in term.last and "全部问题已答完" not in term.last
    text = term.say("/pending")
    assert asked_fact(text) == skipped
    term.say(chat_answer(skipped, facts[skipped]))
    assert "全部问题已答完" in term.last and term.last.count("】符合条件") == 2

    term.say("/track 甲县装备集群（江苏） 国家,江苏 2024-06-01")
    term.say("2023-10-15")                            # the province's own certification date
    term.say("/track 乙县纺织集群 江苏 2024-06-01")
    # reminders of deadlines already past are printed meanwhile, each with a prompt of its
    # own: wait for the file's line itself
    term.child.sendline("/deadlines ics")
    term.child.expect(r"已写入文件：(\S+\.ics)")
    path = Path(term.child.match.group(1))
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    events = calendar.walk("VEVENT")
    titles = [str(e["SUMMARY"]) for e in events]
    assert any(t.startswith("甲县装备集群（江苏）：【国家") for t in titles)
    assert any(t.startswith("甲县装备集群（江苏）：【江苏") for t in titles)
    assert any(t.startswith("乙县纺织集群：【江苏") for t in titles)
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert all([a.decoded("TRIGGER").days for a in e.walk("VALARM")] == [-30, -7, -1] for e in events)
    term.close()
    with sqlite3.connect(tmp_path / "c.db") as con:
        (name,) = con.execute("select name from profiles").fetchone()
    assert name == "甲县装备集群（江苏）"            # full-width characters kept
