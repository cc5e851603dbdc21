"""The conversation, driven in-process against a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from dialogs.conversation import Conversation, Incoming, Reply
from locales import t
from storage import outbox
from storage.db import make_engine, session
from storage.models import Answer, OutboxMessage, Profile, User
from storage.outbox import Mark
from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts, series_as_of

NOW = dt.datetime(2026, 11, 23, 10, 0)


class Chat:
    """One user talking to the dialog; `say` returns the replies' text joined."""

    def __init__(self, conversation: Conversation, user: str = "alice"):
        self.conversation, self.user = conversation, user
        self.last = []

    def say(self, text: str | None = None, data: str | None = None, **kw) -> str:
        self.last = self.conversation.handle(self.user, text=text, data=data, **kw)
        return "\n".join(r.text for r in self.last)

    def current_fact(self) -> str | None:
        """The question this user's active profile is asking, read from the database."""
        with session(self.conversation.engine) as s:
            user = s.exec(select(User).where(User.external_id == self.user)).one()
            profile = s.get(Profile, user.active_profile_id)
            return profile.current_fact if profile else None

    def answer_all(self, facts: dict, limit: int = 80) -> list[str]:
        """Answer every question asked with the given facts; returns the facts asked, in order."""
        asked = []
        text = "\n".join(r.text for r in self.last)
        for _ in range(limit):
            fact = asked_fact(self.last[-1].text) if self.last else None
            if fact is None or self.last[-1].kind != "question":
                return asked
            asked.append(fact)
            text = self.say(chat_answer(fact, facts[fact]))
            if "年份对吗" in text:
                text = self.say("是")
        raise AssertionError(f"more than {limit} questions: {asked}")


@pytest.fixture
def conversation(db_url):
    return Conversation(make_engine(db_url), ManualClock(NOW))


def answer_until(chat: Chat, stop_at: str, facts: dict | None = None) -> None:
    """Answer with the eligible figures until `stop_at` is the question asked."""
    facts = facts or eligible_facts()
    for _ in range(80):
        fact = chat.current_fact()
        if fact == stop_at:
            return
        chat.say(chat_answer(fact, facts[fact]))
        if "年份对吗" in chat.last[0].text:
            chat.say("是")
    raise AssertionError(f"{stop_at} was never asked")


def start(chat: Chat, measures: str = "全部", name: str = "示例县机械集群") -> str:
    chat.say("/start")
    chat.say(f"/new {name}")
    return chat.say(measures)


def test_full_conversation_to_an_eligible_verdict(conversation):
    chat = Chat(conversation)
    assert "第 1/" in start(chat)
    asked = chat.answer_all(eligible_facts())
    final = "\n".join(r.text for r in chat.last)
    assert "全部问题已答完" in final
    for measure in ("国家（工信部）", "江苏", "广东", "陕西"):
        assert f"【{measure}" in final
    assert final.count("】符合条件") == 4
    assert "energy_efficiency_ok" not in asked  # not a high-energy cluster: never asked
    assert "patents_per_10k" not in asked       # derived from patents and employees
    assert len(asked) == len(set(asked))
    # the measures' own terms have ended for Guangdong and Shaanxi on 2026-11-23
    assert "有效期已于2026年2月27日届满" in final and "有效期已于2025年4月27日届满" in final


def test_not_eligible_says_so_at_once_and_quotes_the_article(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    facts = dict(eligible_facts(), total_output={"2023": 45, "2024": 48, "2025": 38.5})
    seen = []
    for _ in range(60):
        fact = asked_fact(chat.last[-1].text)
        if fact is None:
            break
        text = chat.say(chat_answer(fact, facts[fact]))
        seen.append(text)
        if fact == "total_output":
            assert "✗ 江苏 第六条（二） 不符合" in text and "2025年 38.50亿元，差 1.50亿元" in text
    final = seen[-1]
    assert "不符合条件" in final
    assert "原文：“近三年，集群总产值每年均在40亿元以上”" in final


def test_only_questions_a_chosen_measure_reads(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    asked = chat.answer_all(eligible_facts())
    assert "priority_chain" not in asked and "innovation_platforms" not in asked
    assert "provincial_certified" in asked
    chat2 = Chat(conversation, "bob")
    start(chat2, "江苏")
    asked = chat2.answer_all(eligible_facts())
    assert "provincial_certified" not in asked and "priority_chain" in asked


def test_high_energy_cluster_is_asked_about_energy_efficiency(conversation):
    chat = Chat(conversation)
    start(chat, "陕西")
    asked = chat.answer_all(dict(eligible_facts(), high_energy_industry=True, energy_efficiency_ok=True))
    assert asked.index("energy_efficiency_ok") == asked.index("high_energy_industry") + 1


def test_a_sum_that_already_passes_stops_asking_counts(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    asked = chat.answer_all(dict(eligible_facts(), champion_count=1))
    assert "champion_count" in asked and "srdi_sme_count" not in asked and "little_giant_count" not in asked


def test_bad_input_is_refused_with_the_expected_form_and_nothing_changes(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")          # county_level
    assert chat.current_fact() == "area_km2"
    text = chat.say("很大")
    assert "没有看懂" in text and "0 到 10万 之间的数" in text and "集群占地面积" in text
    assert chat.current_fact() == "area_km2"
    chat.say("80")
    text = chat.say("也许")  # a yes/no question
    assert "1. 是、2. 否" in text
    with session(conversation.engine) as s:
        rows = s.exec(select(Answer)).all()
    assert [(r.fact, r.value_json) for r in rows] == [("county_level", "true"), ("area_km2", "80.0")]


def test_out_of_range_share(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "sme_output_share")
    text = chat.say("2023:80 2024:120 2025:82")
    assert "2024年 的值 120 无效：每年应为0 到 100" in text  # the year refused named, as evaluate names it
    assert chat.current_fact() == "sme_output_share"


def test_a_refusal_says_the_saved_answer_stands_only_when_there_is_one(conversation):
    chat = Chat(conversation)
    start(chat, "全部", name="范围集群")
    answer_until(chat, "area_km2")
    text = chat.say("200000")   # a first answer: nothing saved to speak of
    assert "超出范围" in text and "已保存的答案" not in text and chat.current_fact() == "area_km2"
    assert "已答 2/" in chat.say("/status")
    chat.say("80")
    chat.say("/back")
    for wrong in ("200000", "八十多"):   # an answer to change: it stands, and is named
        text = chat.say(wrong)
        assert "已保存的答案未改动：80.00平方公里。" in text and chat.current_fact() == "area_km2"
    chat.say("/lang en")
    assert "The saved answer is unchanged: 80.00 km²." in chat.say("200000")
    chat.say("/skip")
    chat.say("/skip")   # pillar_industry: 待定, which is no answer
    chat.say("/back")
    text = chat.say("9")
    assert "Reply with a number" in text and "saved answer" not in text and chat.current_fact() == "pillar_industry"


def test_series_read_as_the_three_latest_years_is_confirmed(conversation):
    chat = Chat(conversation)
    start(chat, "陕西")
    answer_until(chat, "total_output")
    text = chat.say("45，48，52")
    assert "2023年 45.00亿元、2024年 48.00亿元、2025年 52.00亿元" in text and "年份对吗" in text
    text = chat.say("否")
    assert "请写明年份" in text and chat.current_fact() == "total_output"
    text = chat.say("2022:45 2023:48 2024:52")  # 近三年 is 2023–2025: the copy of an older round
    assert "缺少 2025 年的数值" in text and chat.current_fact() == "total_output"
    chat.say("2022:40 2023:45 2024:48 2025:52")  # an older year beside them is kept
    assert chat.current_fact() != "total_output"


@pytest.mark.parametrize("reply,saved", [("是的", True), ("对的", True), ("正确", True), ("没错", True), ("好的", True),
                                         ("Yes.", True), ("没有错", True), ("不是", False), ("不是的", False),
                                         ("错了", False), ("不对", False), ("不对的", False)])
def test_a_confirmation_takes_the_words_of_agreeing_or_not(conversation, reply, saved):
    chat = Chat(conversation)
    start(chat, "陕西")
    answer_until(chat, "total_output")
    assert "年份对吗" in chat.say("45，48，52")
    text = chat.say(reply)
    if saved:
        assert "已保存：集群总产值" in text and chat.current_fact() != "total_output"
    else:
        assert "请写明年份" in text and chat.current_fact() == "total_output"


@pytest.mark.parametrize("reply,said", [("是，但年份不对", "请回复“是”或“否”"),  # neither yes nor no
                                         ("研发经费增长要求多少", "研发经费")])      # a quick question, answered
def test_a_reply_to_a_confirmation_that_is_neither_keeps_the_figures_asked_about(conversation, reply, said):
    chat = Chat(conversation)
    start(chat, "陕西")
    answer_until(chat, "total_output")
    chat.say("45，48，52")
    text = chat.say(reply)
    assert said in text and "年份对吗" in text and "2025年 52.00亿元" in text
    assert "已保存：集群总产值 = 2023年 45.00亿元" in chat.say("是")


def test_a_year_not_yet_complete_is_refused_and_nothing_is_saved(conversation):
    chat = Chat(conversation)  # on 2026-11-23 近三年 is 2023–2025
    start(chat, "陕西")
    answer_until(chat, "total_output")
    text = chat.say("2024:45 2025:48 2026:50")
    assert "2026 年尚未结束或晚于近三年（2023—2025年）" in text and chat.current_fact() == "total_output"
    with session(conversation.engine) as s:
        assert not s.exec(select(Answer).where(Answer.fact == "total_output")).all()
    chat.say("2023:45 2024:48 2025:50")
    assert chat.current_fact() != "total_output"


def test_last_year_and_the_year_before_in_words_name_their_years(conversation):
    chat = Chat(conversation)  # on 2026-11-23 去年 is 2025
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say("大前年45亿，前年48亿，去年52亿")
    assert "已保存：集群总产值 = 2023年 45.00亿元、2024年 48.00亿元、2025年 52.00亿元" in text
    answer_until(chat, "sme_output_share")
    text = chat.say("前年80%，去年81%，今年82%")  # 今年 is not over
    assert "2026 年尚未结束" in text and chat.current_fact() == "sme_output_share"


@pytest.mark.parametrize("typed", ["不对，是90平方公里", "错了，应该是90", "不是80，是90", "更正：90平方公里", "sorry, it's 90",
                                   "correction: 90"])
def test_a_correction_typed_at_the_next_question_changes_the_answer_before(conversation, typed):
    """不对，是90 right after an answer corrects that answer, as /edit would, and the question
    being asked is asked again."""
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")      # county_level
    chat.say("80")      # area
    assert chat.current_fact() == "pillar_industry"
    text = chat.say(typed)
    assert "已保存：集群占地面积 = 90.00平方公里" in text, text
    assert chat.current_fact() == "pillar_industry" and chat.last[-1].kind == "question"


def test_a_correction_of_one_year_keeps_the_other_years_saved(conversation):
    """不对，2023年是80% (or /edit N 2023年80%) changes that year of the figures saved; the years
    not named keep theirs. A first answer still needs every year of 近三年."""
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "sme_output_share")
    assert "缺少 2024、2025 年的数值" in chat.say("2023年79%")
    chat.say("2023:79 2024:81 2025:82")
    assert chat.current_fact() != "sme_output_share"
    text = chat.say("不对，2023年是80%")
    assert "已保存：集群内中小企业产值占集群总产值比例 = 2023年 80.00%、2024年 81.00%、2025年 82.00%" in text, text
    text = chat.say("/edit 集群内中小企业产值 2025年83%")
    assert "= 2023年 80.00%、2024年 81.00%、2025年 83.00%" in text, text


def test_a_correction_not_read_names_the_answer_before_and_keeps_it(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")      # county_level
    chat.say("80")      # area
    text = chat.say("不对，是九十多")
    assert "集群占地面积" in text and "当前答案：80.00平方公里" in text and chat.current_fact() == "area_km2"
    chat.say("90")
    assert chat.current_fact() == "pillar_industry"
    text = chat.say("不对")  # alone on a yes/no question: not read as a correction, nor as a no
    assert "没有看懂" in text and chat.current_fact() == "pillar_industry"
    answer_until(chat, "total_output")
    text = chat.say("不对")  # alone on a question of figures: the answer before is open to change
    assert chat.current_fact() != "total_output" and "当前答案" in text


def test_skip_back_edit(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")      # county_level
    chat.say("80")      # area
    assert chat.current_fact() == "pillar_industry"
    text = chat.say("/skip")
    assert "已跳过" in text and chat.current_fact() == "policy_compliant"
    text = chat.say("/back")
    assert chat.current_fact() == "pillar_industry" and "当前答案：（已跳过）" in text
    text = chat.say("/back")
    assert chat.current_fact() == "area_km2" and "当前答案：80.00平方公里" in text
    chat.say("90")
    assert chat.current_fact() == "policy_compliant"  # back where we were: the first open question
    chat.say("是")
    text = chat.say("/edit")
    assert "要修改哪一项" in text and "集群占地面积：90.00平方公里" in [b.label for b in chat.last[-1].choices]
    text = chat.say("1")      # county_level
    assert chat.current_fact() == "county_level" and "当前答案：是" in text
    text = chat.say("否")
    assert "✗ 江苏 第二条 不符合" in text and "修改后结论变化：江苏 尚待补充 → 不符合条件" in text
    with session(conversation.engine) as s:
        history = [(r.fact, r.value_json, r.source) for r in s.exec(select(Answer).order_by(Answer.id))]
    assert ("area_km2", "80.0", "dialog") in history and ("area_km2", "90.0", "dialog") in history
    assert ("county_level", "false", "edit") in history


def test_why_quotes_each_chosen_measure(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    answer_until(chat, "sme_output_share")
    text = chat.say("/why")
    for citation, quote in [("认定标准（2022年版）一", "中小企业产值占集群总产值70%以上"),
                            ("第六条（二）", "中小企业产值占集群总产值每年比例均不低于70%"),
                            ("第十三条（二）", "中小企业产值占集群总产值高于70%"),
                            ("第十二条（二）", "中小企业产值占集群总产值高于70%")]:
        assert citation in text and f"“{quote}”" in text
    assert chat.last[-1].kind == "question"  # the question is asked again after the explanation
    # Of a Jiangsu cluster, the other provinces' articles are for comparison, as in its results.
    chat.say("/province 江苏")
    text = chat.say("/why")
    assert "• 江苏 第六条（二）" in text and "• 国家（工信部） " in text
    assert "• 广东（仅供对比） 第十三条（二）" in text and "• 陕西（仅供对比） 第十二条（二）" in text


def test_status_names_open_questions_and_focus(conversation):
    chat = Chat(conversation)
    start(chat, "国家,江苏")
    chat.say("是")
    text = chat.say("/status")
    assert "已答 1/" in text and "仍可能改变结论的问题" in text
    focus = [b for b in chat.last[0].actions if b.data == "/focus jiangsu"]
    assert focus
    text = chat.say(data=focus[0].data)
    assert "先询问可能改变江苏结论" in text


def test_status_names_an_article_two_failed_criteria_share_once(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    answer_until(chat, "pillar_industry")
    chat.say("否")  # 认定标准（2022年版）一
    chat.say("否")  # policy_compliant: 认定标准（2022年版）一 as well
    text = chat.say("/status")
    assert "不符合：认定标准（2022年版）一" in text and text.count("认定标准（2022年版）一") == 1, text


def test_help_lists_quit_only_in_the_terminal(conversation):
    assert "/quit" in Chat(conversation).say("/help")
    web = Conversation(conversation.engine, ManualClock(NOW), channel="web")
    text = Chat(web, user="page-1").say("/help")
    assert "/quit" not in text and "/pending" in text and "/track" in text


def test_list_counts_a_skip_as_pending_not_answered(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/skip")
    chat.say("/skip")
    assert "已答 1 题" in chat.say("/list") and "已答 1/" in chat.say("/status")


def test_commands_while_naming_a_new_cluster_ask_for_its_name(conversation):
    chat = Chat(conversation)
    chat.say("/new")
    for command in ("/status", "/edit", "/result", "/restart"):
        text = chat.say(command)
        assert "请先选择" not in text and "请输入集群名称" in text, (command, text)


def test_compare_and_result(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    chat.say("是")
    text = chat.say("/compare")
    assert "各办法对照" in text and "位于县级区划范围内：国家（工信部） ✓ 符合｜江苏 ✓ 符合" in text
    text = chat.say("/result")
    assert "预审结果" in text and "尚待补充" in text


def test_profiles_are_separate_and_private(conversation):
    alice, bob = Chat(conversation, "alice"), Chat(conversation, "bob")
    start(alice, "江苏", name="甲集群")
    alice.say("是")
    start(alice, "广东", name="乙集群")
    text = alice.say("/list")
    assert "1. 甲集群" in text and "2. 乙集群（当前）" in text
    text = alice.say("/switch 1")
    assert "已切换到「甲集群」" in text and alice.current_fact() == "area_km2"
    assert "没有集群" in bob.say("/list") or "还没有集群" in bob.say("/list")
    # a crafted button naming alice's profile is refused for bob
    start(bob, "江苏", name="丙集群")
    with session(conversation.engine) as s:
        alice_profile = s.exec(select(Profile).where(Profile.name == "甲集群")).one()
    text = bob.say(data=f"c:{alice_profile.id}:asking-area_km2:1")
    assert "不属于您" in text
    with session(conversation.engine) as s:
        assert not s.exec(select(Answer).where(Answer.profile_id == alice_profile.id,
                                               Answer.fact == "area_km2")).all()


def test_stale_button_is_refused(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    old = chat.last[-1].choices[0].data   # 是 for county_level
    chat.say("是")
    text = chat.say(data=old)
    assert "已失效" in text and chat.current_fact() == "area_km2"


def test_a_questions_actions_act_on_that_question_only(conversation):
    """跳过, 上一题 and 依据 pressed under a question no longer asked are refused like its
    choices (they once skipped the question asked instead); typed, they act on the one asked."""
    chat = Chat(conversation)
    start(chat, "全部", name="旧按钮集群")
    first = chat.last[-1]   # county_level, answered by typing below: its buttons stay on screen
    for answer in ("是", "是", "80"):
        chat.say(answer)
    assert chat.current_fact() == "pillar_industry"
    for action in first.actions:
        text = chat.say(data=action.data)
        assert "已失效" in text and "已跳过" not in text and chat.current_fact() == "pillar_industry", action
        assert asked_fact(chat.last[-1].text) == "pillar_industry" and chat.last[-1].kind == "question"
    with session(conversation.engine) as s:
        assert not s.exec(select(Answer).where(Answer.fact == "pillar_industry")).all()
    assert all(len(b.data.encode()) <= 64 for b in chat.last[-1].choices + chat.last[-1].actions)  # Telegram's limit
    skip = next(b for b in chat.last[-1].actions if b.typed == "/skip")
    assert "已跳过：主导产业" in chat.say(data=skip.data) and chat.current_fact() != "pillar_industry"
    assert "已失效" not in chat.say("/back") and chat.current_fact() == "pillar_industry"   # typed: from the one asked


def test_a_question_asked_again_leaves_its_older_message_dead(conversation):
    """/back asks county_level again, in a new message: the first message's 否 and 依据 carry
    the data of the question asked now, yet are refused (only the latest message showing it
    is live: the outbox says which message showed what, the channel which one was pressed);
    the newest one's 否 answers, and a typed answer is not concerned."""
    engine = conversation.engine

    def say(text=None, button=None, pressed=None) -> tuple[str, Reply, list[Reply]]:
        """The turn's replies sent (an edit in the message pressed), and the last one with its id."""
        replies = conversation.receive(Incoming("web", "alice", "alice", text=text, button=button, pressed=pressed))
        with session(engine) as s:
            rows = s.exec(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
            outbox.record(s, [Mark(r.id, "sent", message_id=r.edit_of or f"m{r.id}") for r in rows])
        return f"m{rows[-1].id}", Reply.from_json(json.loads(rows[-1].payload)), replies

    say("/new 对话重问集群")
    first_id, first, _ = say("江苏")
    say("是")
    again_id, again, _ = say("/back")
    assert asked_fact(again.text) == asked_fact(first.text) == "county_level" and again_id != first_id
    no = next(b.data for b in first.choices if b.label == "否")
    why = next(b.data for b in first.actions if b.typed == "/why")
    for data in (no, why):
        latest_id, _, replies = say(button=data, pressed=first_id)
        assert replies[0].text == t("zh", "dialog.stale_button") and asked_fact(replies[-1].text) == "county_level", data
    with session(engine) as s:
        assert [(a.fact, a.value_json) for a in s.exec(select(Answer))] == [("county_level", "true")]
    _, _, replies = say(button=no, pressed=latest_id)  # the one asking now
    assert "已保存" in replies[0].text
    say("/back")
    assert "已保存" in say("否")[2][0].text  # typed: the question asked, whichever message shows it


def test_a_redelivered_update_is_handled_once(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    assert chat.say("是", update_id="77") != ""
    assert chat.say("是", update_id="77") == ""
    with session(conversation.engine) as s:
        assert len(s.exec(select(Answer)).all()) == 1


def test_export_is_evaluable_and_the_report_is_a_record(conversation, tmp_path):
    chat = Chat(conversation)
    start(chat, "江苏", name="示例县机械集群")
    chat.answer_all(eligible_facts())
    chat.say("/export")
    (json_name, data), (md_name, report) = chat.last[0].documents
    assert json_name.endswith(".json") and md_name.endswith(".md")
    path = tmp_path / json_name
    path.write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "bot.cli", "evaluate", str(path), "-j", "jiangsu", "--on",
                          "2026-11-23"], capture_output=True, text=True, cwd=Path(__file__).parents[1], timeout=60)
    assert json.loads(run.stdout)[0]["verdict"] == "eligible"
    text = report.decode("utf-8")
    assert "评估日期：2026年11月23日" in text and "苏工信规〔2023〕3号" in text and "## 填报数据" in text


def test_english(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    chat.say("/new Sample cluster")
    text = chat.say("jiangsu")
    assert "Question 1/" in text and "county-level division" in text
    text = chat.say("maybe")
    assert "I could not read" in text


def test_quick_question_outside_a_profile(conversation):
    chat = Chat(conversation)
    text = chat.say("研发经费增长要求多少")
    assert "高于10%" in text and "不低于10%" in text and "高于8%" in text


def test_derived_patents_per_10k_asked_when_an_input_is_skipped(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    answer_until(chat, "invention_patents")
    chat.say("/skip")
    # without the patents the figure cannot be derived: it is asked for itself, and the
    # employee count, which would only serve the derivation, is no longer asked
    assert chat.current_fact() == "patents_per_10k"
    chat.say("18")
    assert chat.current_fact() != "sme_employees"


def test_restart_clears_answers_but_keeps_history(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/restart")
    text = chat.say("1")
    assert "已清空" in text
    chat.say("江苏")
    assert chat.current_fact() == "county_level"
    with session(conversation.engine) as s:
        assert len(s.exec(select(Answer)).all()) == 2  # the answer and its clearing


def test_measures_ticked_on_buttons_then_confirmed(conversation):
    chat = Chat(conversation)
    chat.say("/new 甲集群")
    prompt = chat.last[-1]
    national, jiangsu = prompt.choices[0].data, prompt.choices[1].data
    chat.say(data=national)
    assert chat.last[-1].replace and chat.last[-1].choices[0].label == "✓ 国家（工信部）"
    chat.say(data=jiangsu)
    confirm = chat.last[-1].choices[-1]
    assert confirm.label == "确定（已选 2 个）"
    chat.say(data=jiangsu)  # unticked again
    assert chat.last[-1].choices[-1].label == "确定（已选 1 个）"
    chat.say(data=jiangsu)
    text = chat.say(data=chat.last[-1].choices[-1].data)
    assert "按国家（工信部）、江苏预审" in text and chat.current_fact() == "county_level"


def test_typed_number_still_chooses_at_once(conversation):
    chat = Chat(conversation)
    chat.say("/new 乙集群")
    assert "按江苏预审" in chat.say("2")


def measures_of(conversation, user: str = "alice") -> str:
    with session(conversation.engine) as s:
        u = s.exec(select(User).where(User.external_id == user)).one()
        return s.get(Profile, u.active_profile_id).measures


def test_typed_answers_at_the_measures_menu_do_what_it_shows(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("/measures")
    labels = [b.label for b in chat.last[-1].choices]
    assert labels[1] == "✓ 江苏" and labels[5] == "确定（已选 1 个）" and "回复一个编号勾选或取消勾选" in chat.last[-1].text
    chat.say("1")  # ticks national, as the menu's ✓ says: Jiangsu stays
    labels = [b.label for b in chat.last[-1].choices]
    assert labels[:2] == ["✓ 国家（工信部）", "✓ 江苏"] and labels[5] == "确定（已选 2 个）"
    assert measures_of(conversation) == "jiangsu"  # nothing changed before it is confirmed
    text = chat.say("6")  # the confirming number
    assert "按国家（工信部）、江苏预审" in text and measures_of(conversation) == "national,jiangsu"
    for confirm in ("确定", "确定（已选 1 个）"):  # the word, or the label as shown
        chat.say("/measures")
        chat.say("1")  # unticks national
        assert "按江苏预审" in chat.say(confirm) and measures_of(conversation) == "jiangsu"
    chat.say("/measures")
    assert "按国家（工信部）、江苏、广东、陕西预审" in chat.say("全部四个")  # the label shown
    chat.say("/measures")
    assert "按国家（工信部）预审" in chat.say("国家（工信部）")      # a name typed chooses it
    assert measures_of(conversation) == "national"


def test_the_first_choice_of_measures_takes_what_the_menu_shows(conversation):
    for typed, chosen in (("2", "江苏"), ("江苏省", "江苏"), ("5", "国家（工信部）、江苏、广东、陕西"),
                          ("全部四个", "国家（工信部）、江苏、广东、陕西"), ("国家（工信部）", "国家（工信部）"),
                          ("1,3", "国家（工信部）、广东")):
        chat = Chat(conversation, f"u{typed}")
        chat.say(f"/new 甲{typed}")
        assert "（/cancel 取消新建集群）" in chat.last[-1].text
        assert f"按{chosen}预审" in chat.say(typed)
    chat = Chat(conversation, "u6")
    chat.say("/new 甲")
    assert "没有看懂所选办法" in chat.say("6")  # no 确定 is shown while nothing is ticked
    assert "没有看懂所选办法" in chat.say("确定")


def test_a_province_typed_answers_the_province_asked(conversation):
    chat = Chat(conversation)
    text = start(chat, "全部", name="乙集群")
    assert "「乙集群」位于哪个省" in text and "回复省份名称" in text
    text = chat.say("江苏")
    assert "已记下：集群位于江苏" in text and "没有看懂" not in text
    assert chat.current_fact() == "county_level" and "该集群是否定位在一个县级区划" in chat.last[-1].text
    with session(conversation.engine) as s:
        assert s.exec(select(Profile).where(Profile.name == "乙集群")).one().province == "jiangsu"
    assert "没有看懂" in chat.say("广东")  # the province is known: no question takes a province's name
    chat2 = Chat(conversation, "bob")
    start(chat2, "江苏 广东", name="丙集群")
    answer_until(chat2, "total_output")
    chat2.say("45, 48, 52")  # the years asked to confirm: 广东省 answers the province, the confirmation stays
    assert "已记下：集群位于广东" in chat2.say("广东省") and "年份对吗" in chat2.last[-1].text
    chat3 = Chat(conversation, "carol")  # a province without its own measure here is 其他省份
    start(chat3, "全部", name="丁集群")
    assert "已记下：集群位于其他省份" in chat3.say("浙江省")
    assert "“火星”不是可选的省份" in chat3.say("/province 火星")


def test_a_province_named_in_english_as_people_write_it(conversation):
    """An English user's "Jiangsu Province" or "Zhejiang" was "not one of the provinces offered"
    (only jiangsu, or Chinese names of the provinces without a measure here, were read)."""
    chat = Chat(conversation)
    start(chat, "all", name="Widget Cluster")
    chat.say("/lang en")
    assert "Noted: the cluster is in Jiangsu." in chat.say("/province Jiangsu Province")
    assert "Noted: the cluster is in another province." in chat.say("/province Zhejiang")
    assert "Noted: the cluster is in another province." in chat.say("/province Inner Mongolia Autonomous Region")
    assert "Noted: the cluster is in Guangdong." in chat.say("/province guangdong province")
    # Shanxi (山西) is not guessed: Shaanxi (陕西) is as often spelt so
    assert "“shanxi” is not one of the provinces offered" in chat.say("/province shanxi")
    with session(conversation.engine) as s:
        assert s.exec(select(Profile)).one().province == "guangdong"
    chat2 = Chat(conversation, "bob")  # typed at a question while the province is open
    start(chat2, "all", name="Gadget Cluster")
    chat2.say("/lang en")
    assert "Noted: the cluster is in another province." in chat2.say("Zhejiang Province")
    assert chat2.current_fact() == "county_level"


def test_cancel_at_the_measures_menu_says_what_it_does_and_returns(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="甲集群")
    chat.say("是")
    chat.say("/new 壬集群")
    text = chat.say("/cancel")  # the new cluster is not made: back to the question of 甲集群
    assert "已取消新建集群；回到「甲集群」" in text and chat.current_fact() == "area_km2"
    assert "壬集群" not in chat.say("/list")
    chat.say("/measures")
    assert "（/cancel 不作更改，仍按江苏预审）" in chat.last[-1].text
    chat.say("1")
    text = chat.say("/cancel")  # a change of measures is not made
    assert "已取消更改，仍按江苏预审" in text and chat.current_fact() == "area_km2"
    assert measures_of(conversation) == "jiangsu" and "第 2/" in text
    chat.say("/new")
    chat.say("壬集群")
    assert "已取消新建集群；回到「甲集群」" in chat.say("/cancel")  # named on its own line, then cancelled
    first = Chat(conversation, "bob")
    first.say("/new 庚集群")
    text = first.say("/cancel")  # the user's only cluster: none is left
    assert "已取消新建集群" in text and "您还没有正在预审的集群" in text


def test_a_name_in_latin_letters_taken_is_told_apart_with_ascii_brackets(conversation):
    chat = Chat(conversation)
    chat.say("/lang en")
    start(chat, "1", name="Ding County Bearing Cluster")
    text = chat.say("/new Ding County Bearing Cluster")
    assert "“Ding County Bearing Cluster (2)”" in text and "（" not in text, text


def test_a_new_cluster_is_never_named_by_a_command_nor_twice_the_same(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="戊集群")
    for command in ("/skip", "跳过", "跳过。", "／skip"):
        text = chat.say(f"/new {command}")
        assert f"“{command}”是命令，不能作集群名称" in text and chat.current_fact() == "county_level"
    text = chat.say("/new 戊集群")
    assert "已有名为「戊集群」的集群，新集群命名为「戊集群（2）」" in text and "已创建集群「戊集群（2）」" in text
    chat.say("国家")
    chat.say("/new")
    assert "新集群命名为「戊集群（3）」" in chat.say("戊集群")
    chat.say("国家")
    text = chat.say("/switch 戊集群")  # one cluster of that name: no doubt
    assert "已切换到「戊集群」" in text and measures_of(conversation) == "jiangsu"


def test_switch_by_a_name_two_clusters_share_asks_which(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="戊集群")
    start(chat, "国家", name="己集群")
    with session(conversation.engine) as s:  # two of one name, as an earlier version allowed
        s.exec(select(Profile).where(Profile.name == "己集群")).one().name = "戊集群"
        s.commit()
    text = chat.say("/switch 戊集群")
    assert "有 2 个集群名为「戊集群」，请选择" in text and "已切换" not in text
    assert len(chat.last[-1].choices) == 2 and all("戊集群" in b.label for b in chat.last[-1].choices)
    assert "已切换到「戊集群」" in chat.say("1") and measures_of(conversation) == "jiangsu"


def test_edit_with_a_number_and_an_answer_edits_that_question(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("80")
    text = chat.say("/edit 2 90平方公里")
    assert "已保存：集群占地面积 = 90.00平方公里" in text and "修改后各办法结论未变" in text
    assert chat.current_fact() == "pillar_industry"
    text = chat.say("/edit 99999999999999999999")
    assert "没有第 999999999999… 题：本集群目前共" in text and chat.current_fact() == "pillar_industry"
    assert chat.last[-1].kind == "question" and not chat.last[-1].text.startswith("要修改哪一项")
    text = chat.say("/edit 很大")  # no answered question's name
    assert "没有看懂 /edit 后的“很大”" in text and chat.current_fact() == "pillar_industry"
    text = chat.say("/edit 2 很大")  # refused: the edit stays open, the answer saved unchanged
    assert "已保存的答案未改动：90.00平方公里" in text and chat.current_fact() == "area_km2"
    chat.say("/cancel")
    assert "已保存：主导产业为所在县域的支柱或特色产业 = 是" in chat.say("/edit 3 是")  # the one asked now


def test_commands_typed_as_a_chinese_keyboard_types_them(conversation):
    """A full-width ／ and letters, a full-width space, a sentence's end after the command, the
    slash apart, 修改 written against its number: each read as the command (they were read as
    an answer, 没有看懂, or as 未知命令 /status。。); an answer ending in 。 stays an answer."""
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")
    chat.say("是")
    # 、 is what a Chinese input method types for the slash key, a space after it as after /
    for typed in ("／ｓｔａｔｕｓ", "/ status", "、 status", "、\u3000status", "/Status！", "进度。"):
        text = chat.say(typed)
        assert "进度：已答 2/40 题" in text and "没有看懂" not in text and "未知命令" not in text, typed
    assert "已跳过：集群占地面积" in chat.say("跳过。")
    assert "修改此题" in chat.say("/edit\u30001") and chat.current_fact() == "county_level"
    chat.say("/cancel")
    assert "修改此题" in chat.say("修改第1题") and chat.current_fact() == "county_level"
    chat.say("/cancel")
    text = chat.say("修改2 否")
    assert "已保存：已认定为省级中小企业特色产业集群 = 否" in text and "结论变化" in text
    assert "已保存：集群定位在县级区划范围内 = 否" in chat.say("/edit 第 1 题 否")
    assert chat.current_fact() == "pillar_industry"
    assert "未知命令 /foo。发送" in chat.say("/foo。")
    assert "未知命令 /stauts。是要发送 /status 吗？" in chat.say("/stauts")
    assert "已跳过：主导产业为所在县域的支柱或特色产业" in chat.say("/跳过")  # a Chinese word with the slash
    chat.say("/back")
    assert "已保存：主导产业为所在县域的支柱或特色产业 = 是" in chat.say("是。")


def test_the_words_an_official_types_for_a_command_and_the_buttons_own_words(conversation):
    """返回上一题 is the back button's own label on Telegram; 回到上一题, 上一步, 不确定, 查看进度 are
    what people type: each does what it says, never refused as an answer."""
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")
    chat.say("是")
    for typed in ("返回上一题", "回到上一题", "上一步"):
        text = chat.say(typed)
        assert "返回上一题" in text and chat.current_fact() == "provincial_certified", typed
        chat.say("/skip")
    assert "已跳过：集群占地面积" in chat.say("不确定")
    assert "进度：已答" in chat.say("查看进度")
    assert "预审结果" in chat.say("查看结果")


def test_a_language_not_read_shows_the_question_again_and_english_with_a_full_stop_is_read(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("/lang xx")
    assert chat.last[0].text == "用法：/lang zh 或 /lang en" and chat.last[-1].text.startswith("第 1/40 题")
    assert "Language set to English" in chat.say("/lang English。") and chat.last[-1].text.startswith("Question 1/40")


def test_cancel_at_figures_awaiting_their_confirmation_drops_them_and_says_so(conversation):
    """It showed the confirmation again without a word, as if /cancel were not heard."""
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    assert "年份对吗" in chat.say("45, 48, 52")
    text = chat.say("/cancel")
    assert "已取消：刚才填写的集群总产值（2023年 45.00亿元、2024年 48.00亿元、2025年 52.00亿元）未保存" in text
    assert chat.last[-1].kind == "question" and "年份对吗" not in chat.last[-1].text
    assert chat.current_fact() == "total_output" and "已答 7/" in chat.say("/status")
    chat.say("45, 48, 52")
    assert "已保存：集群总产值" in chat.say("是")
    text = chat.say("/cancel")  # nothing open: said so, the question asked again
    assert "当前没有可取消的操作" in text and chat.last[-1].kind == "question"


def test_an_edit_says_the_questions_it_makes_needed_or_needless(conversation):
    """第 32/40 题 became 第 33/41 题 after an edit, without a word why."""
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "high_water_industry", dict(eligible_facts(), high_energy_industry=False))
    text = chat.say("/edit 高耗能 是")
    assert "此修改后还需回答（稍后询问，总题数随之增加）：能效水平高于（优于）行业基准值。" in text
    text = chat.say("/edit 高耗能 否")
    assert "此修改后不再需要回答（总题数随之减少）：能效水平高于（优于）行业基准值。" in text
    assert "此修改后" not in chat.say("/edit 1 是")  # an edit that changes no question needed


def test_restart_asked_whether_to_clear_is_answered_yes_or_no(conversation):
    """确定要清空…吗？ answered 否 or 是 was refused as no number."""
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")
    chat.say("/restart")
    chat.say("否")
    assert chat.current_fact() == "provincial_certified" and "已答 1/40" in chat.say("/status")
    chat.say("/restart")
    assert "已清空「示例县机械集群」的答案" in chat.say("是")


def test_focus_typed_with_a_chinese_name_or_a_measure_not_chosen(conversation):
    """/focus 国家 and /focus 火星 were ignored without a word."""
    chat = Chat(conversation)
    start(chat, "1,2")
    text = chat.say("/focus 火星")
    assert "/focus 后请写所选办法中的一个（国家（工信部）、江苏）" in text and chat.last[-1].kind == "question"
    assert "/focus 后请写所选办法中的一个" in chat.say("/focus 广东")
    assert "先询问可能改变国家（工信部）结论的" in chat.say("/focus 国家")


def test_edit_by_a_name_several_unanswered_questions_hold_names_the_one_it_begins(conversation):
    """/edit 集群总产值 45 before the output was asked: 集群总产值 is also in two shares' names
    (…占集群总产值比例), none answered; the reply said no answered question has such a name and
    repeated the usage, as if the name were wrong. The one whose name begins with it is named."""
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    text = chat.say("/edit 集群总产值 45")
    assert "题“集群总产值”还没有答案，无可修改" in text and "没有名称含有它的" not in text
    assert chat.current_fact() == "area_km2"


def test_edit_by_the_name_of_what_was_asked(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("80")
    text = chat.say("/edit 占地面积")
    assert "修改此题" in text and "当前答案：80.00平方公里" in text and chat.current_fact() == "area_km2"
    assert "已保存：集群占地面积 = 90.00平方公里" in chat.say("90")
    assert chat.current_fact() == "pillar_industry"
    text = chat.say("/edit 细分领域")  # a question not answered yet: said so, with its number
    assert "题“发展水平在细分领域的位次”还没有答案，无可修改" in text and chat.current_fact() == "pillar_industry"
    text = chat.say("/edit 占地面积 100平方公里")  # the name, then the new answer
    assert "已保存：集群占地面积 = 100.00平方公里" in text and chat.current_fact() == "pillar_industry"
    text = chat.say("/edit 集群 否")  # an answer for one of several: not guessed
    assert "已答的问题中有 2 题的名称含有“集群”，不知道要修改哪一题" in text and "已保存" not in text
    text = chat.say("/edit 集群")  # several answered questions say it: which one is asked
    assert chat.last[-1].text.startswith("要修改哪一项") and len(chat.last[-1].choices) == 2
    assert "当前答案：是" in chat.say("1") and chat.current_fact() == "county_level"


def test_switch_to_no_such_cluster_says_so_and_a_part_of_a_name_finds_it(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="甲 集群")
    start(chat, "国家", name="乙集群")
    text = chat.say("/switch 9")
    assert "没有第 9 个集群：您共有 2 个集群" in text and chat.last[-1].text.startswith("切换到哪个集群")
    chat.say("/cancel")
    text = chat.say("/switch 丙")
    assert "没有名称含有「丙」的集群" in text and "已切换" not in text
    chat.say("/cancel")
    assert "已切换到「甲 集群」" in chat.say("/switch 甲集群") and measures_of(conversation) == "jiangsu"
    assert "已切换到「乙集群」" in chat.say("切换到乙") and measures_of(conversation) == "national"
    text = chat.say("/switch 集群")
    assert "有 2 个集群的名称含有「集群」" in text and len(chat.last[-1].choices) == 2


def test_why_on_a_menu_shows_the_menu_once(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/edit")
    chat.say("/why")
    assert [r.text.startswith("要修改哪一项") for r in chat.last] == [False, True]
    assert chat.last[0].text == "当前没有正在回答的问题。"


def test_what_is_asked_is_shown_again_last_after_list_or_form_at_the_name_or_the_measures(conversation):
    """/list at the measures menu ended on the numbered clusters, and the number typed next
    chose a measure; /form before the name made a form of 「」."""
    chat = Chat(conversation)
    start(chat, "江苏", name="甲集群")
    chat.say("/new 乙集群")
    for command in ("/list", "/form", "/why", "/status"):
        chat.say(command)
        assert chat.last[-1].text.startswith("请选择按哪些办法预审「乙集群」"), command
        assert sum(r.text.startswith("请选择按哪些办法") for r in chat.last) == 1, command
    chat.say("/new")
    for command in ("/list", "/why", "/ask 专利"):
        chat.say(command)
        assert [r.text.startswith("请输入集群名称") for r in chat.last][-1:] == [True], command
    chat.say("/form")
    assert not any(r.documents for r in chat.last) and "「」" not in "".join(r.text for r in chat.last)
    assert chat.last[-1].text.startswith("请输入集群名称")


def test_measures_typed_after_the_command_choose_them(conversation):
    """/measures 国家 江苏 opened the menu, the names typed ignored."""
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")
    text = chat.say("/measures 国家 江苏")
    assert "好的，按国家（工信部）、江苏预审" in text and measures_of(conversation) == "national,jiangsu"
    assert chat.current_fact() == "provincial_certified"
    text = chat.say("更改办法 火星")
    assert "没有看懂所选办法" in text and chat.last[-1].text.startswith("请选择按哪些办法")
    assert "已取消更改，仍按国家（工信部）、江苏预审" in chat.say("/cancel")


def test_unticking_every_measure_keeps_the_ticking_menu(conversation):
    """The last tick taken off, a number still ticks (it used to choose at once, and the next
    number typed went to the next question as an answer)."""
    chat = Chat(conversation)
    start(chat, "广东")
    chat.say("/measures")
    chat.say("3")                      # 广东 unticked: nothing ticked
    assert "✓ 为已选" in chat.say("2")
    text = chat.say("4")
    assert "✓ 为已选" in text
    assert "好的，按江苏、陕西预审" in chat.say("确定")
    assert measures_of(conversation) == "jiangsu,shaanxi"


def test_plus_or_minus_a_number_ticks_or_unticks_that_measure(conversation):
    chat = Chat(conversation)
    start(chat, "1,2,3")
    chat.say("/measures")
    chat.say("+1")  # ticked already: stays ticked
    assert "确定（已选 3 个）" in [b.label for b in chat.last[-1].choices]
    chat.say("+4")
    chat.say("-3")
    chat.say("确定")
    assert measures_of(conversation) == "national,jiangsu,shaanxi"


def test_a_preference_answered_no_is_said_at_once_though_it_warned_unanswered(conversation):
    # Unanswered, Jiangsu's 重点支持 already warns (no answer can change the verdict); its "no"
    # was no news, the status being a warning before and after: it is said, as a failure is.
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "priority_chain")
    text = chat.say("否")
    assert "江苏 第六条（一） 提示" in text and "不属于重点支持方向，但不影响认定" in text
    answer_until(chat, "total_output")
    assert "提示" not in chat.say("2023:45 2024:48.2 2025:52.9")  # an answer that warns nothing: none


@pytest.mark.parametrize("question, said", [
    ("申报材料报送给谁", "第九条：“符合条件的申报主体按照属地化管理原则向所在市（县、区）中小企业主管部门提交申报材料"),
    ("有效期多久", "第十一条：“特色产业集群有效期为三年"),            # 苏第十一条
    ("专精特新要几家", "专精特新中小企业、高新技术企业合计不少于15家"),  # 苏第六条（三）
    ("江苏和国家有什么区别", "认定条件的不同之处"),
    ("年报什么时候交", "每年4月10日前"),                              # 苏第十二条
])
def test_a_question_typed_in_place_of_an_answer_is_answered_and_the_question_asked_again(conversation, question, said):
    chat = Chat(conversation)
    start(chat, "江苏")
    fact = chat.current_fact()
    text = chat.say(question)
    assert said in text and "没有看懂" not in text
    assert chat.current_fact() == fact  # nothing saved, the same question again


def test_an_answer_with_a_count_is_still_an_answer_not_a_question(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")  # 县级区划; then the area
    text = chat.say("十几")  # 十几 is an approximate answer (几 after 十 asks nothing)
    assert "约数或范围" in text and "相关的条件" not in text and chat.current_fact() == "area_km2"


def test_examples_and_refusals_name_the_years_of_the_three_latest_years_asked(db_url):
    """In 2027 近三年 is 2024–2026, but the question's example and every refusal still said
    2023:45 2024:48 2025:52: an official who typed as shown was refused 2026 missing."""
    chat = Chat(Conversation(make_engine(db_url), ManualClock(dt.datetime(2027, 3, 1, 10, 0))))
    start(chat, "陕西")
    answer_until(chat, "total_output")
    asked = chat.last[-1].text
    assert "例：2024:45 2025:48.2 2026:52.9" in asked and "2023:45" not in asked
    text = chat.say("2025:45 2026:48")
    assert "缺少 2024 年的数值" in text and "如 2024:45 2025:48 2026:52。" in text and "2023:45" not in text
    text = chat.say("四十五")
    assert "请按年份填写，如 2024:45 2025:48 2026:52" in text and "2023" not in text
    assert "年份对吗" in chat.say("45, 48, 52")
    assert "请写明年份，如 2024:45 2025:48 2026:52。" in chat.say("否")
    answer_until(chat, "output_growth", {**eligible_facts(), **series_as_of(dt.date(2027, 3, 1))})
    assert "或各年增速（如 2024:10 2025:12 2026:14）" in chat.say("快")
    chat.say("/lang en")
    assert "such as 2024:45 2025:48 2026:52." in chat.say("/edit 8 2026:48 2027:50")  # some years alone now keep the rest
    assert "years as 2024:45 2025:48 2026:52," in chat.say("/help")


def test_which_years_近三年_are_asked_in_the_middle_of_a_question_is_answered(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    fact = chat.current_fact()
    text = chat.say("近三年是指哪三年")
    assert "今天（2026年11月23日）评估即2023—2025年" in text and "没有看懂" not in text
    assert chat.current_fact() == fact and chat.last[-1].kind == "question"  # asked again


def test_a_count_that_makes_an_implausible_derived_figure_is_asked_back(conversation):
    """每万人有效发明专利 is made from the patents and the employees: 15 employees typed for 15万
    made 100,000 a 10,000 people (the criterion met); it is asked back as a figure typed beyond
    any real cluster is, naming the figure it makes. Yes keeps it; another answer replaces it."""
    chat = Chat(conversation)
    start(chat, "国家")
    answer_until(chat, "sme_employees", dict(eligible_facts(), invention_patents=150))
    number = re.search(r"第 (\d+)/", chat.last[-1].text).group(1)
    text = chat.say("15")
    assert chat.current_fact() == "sme_employees", text  # asked back, not saved
    assert text.startswith("“集群内中小企业从业人员数”理解为：15人。按“集群中小企业有效发明专利拥有量”、“集群内中小企业从业人员数”计算，"), text
    assert "每万人有效发明专利拥有量为 100000" in text and "远超常见水平（超过 1000" in text
    text = chat.say("15万")  # answered again: saved, nothing asked back
    assert "已保存：集群内中小企业从业人员数 = 150000人" in text, text
    assert chat.current_fact() != "sme_employees"
    # a yes keeps the figure as typed, as for a typed figure beyond any real cluster
    assert "远超常见水平" in chat.say(f"/edit {number} 20")
    assert chat.say("是").startswith("已保存：集群内中小企业从业人员数 = 20人")
