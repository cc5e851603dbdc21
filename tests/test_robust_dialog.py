"""The dialog against hostile or stale data (issue 15 items 4, 7, 9): forged button ids,
stored values that a range added later refuses, and the first notice of a failure quoting
the article. Driven through Conversation.handle against a real SQLite file."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from storage.db import session
from storage.models import Answer, Profile
from engine import catalogue
from tests.chat_helpers import chat_answer
from tests.conftest import eligible_facts
from tests.test_dialog import Chat, answer_until, conversation, start  # noqa: F401  (conversation: a fixture)

HUGE = "9" * 20  # beyond any 64-bit row id
CAT = catalogue()


@pytest.mark.parametrize("data", [f"c:{HUGE}:asking-county_level:1", f"c:1:asking-county_level:{HUGE}",
                                  f"c:-{HUGE}:x:1", f"t:measures:{HUGE}", f"t:date:{HUGE}"])
def test_forged_button_ids_are_refused_and_nothing_changes(conversation, data):
    chat = Chat(conversation)
    start(chat, "江苏")
    text = chat.say(data=data)
    assert chat.last[0].kind == "error" or "按钮" in text
    assert chat.current_fact() == "county_level"
    chat.say("是")
    assert chat.current_fact() == "area_km2"  # the dialog goes on


@pytest.mark.parametrize("text", [f"/switch {HUGE}", f"/edit {HUGE}", f"/untrack #{HUGE}", f"/remind #{HUGE} 30",
                                  f"/deadlines {HUGE}", f"/pause {HUGE}"])
def test_huge_numbers_in_commands_are_refused(conversation, text):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    assert chat.say(text)  # a reply, no exception
    with session(conversation.engine) as s:
        assert [a.fact for a in s.exec(select(Answer))] == ["county_level"]


def _store(conversation, **values) -> None:
    """Answers written as an earlier version (without ranges) would have stored them."""
    with session(conversation.engine) as s:
        profile = s.exec(select(Profile)).one()
        for fact, value in values.items():
            s.add(Answer(profile_id=profile.id, fact=fact, value_json=json.dumps(value), source="dialog"))
        s.commit()


def test_a_stored_value_now_out_of_range_counts_as_unknown_with_a_note(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    _store(conversation, hitech_count=10**30 - 1, rd_growth=1e300, area_km2=1e26, accident_level="huge",
           removed_fact=1, total_output={"2023": 1e30, "2024": 1e30, "2025": 1e30})
    for command in ("/status", "/result", "/export", "/compare", "/list", "/why", "/edit", "/back", "/skip"):
        text = chat.say(command)
        assert "下列已保存的值不在现行取值范围内" in text, command
        assert "“国家级高新技术企业数” 999999999999999999999999999999" in text and "removed_fact" in text
    chat.say("/cancel")
    result = chat.say("/result")
    assert "集群占地面积" in result.split("尚缺：", 1)[1]  # unknown, not compared
    # answered again, it is valid and no longer said; the old rows are kept
    answer_until(chat, "area_km2")
    chat.say(chat_answer("area_km2", 80))
    text = chat.say("/status")
    assert "下列已保存的值" in text and "“集群占地面积”" not in text
    with session(conversation.engine) as s:
        facts = [a.fact for a in s.exec(select(Answer))]
    assert "removed_fact" in facts and facts.count("area_km2") == 3  # answered, stored by the old version, answered again
    chat.say("/lang en")
    assert "outside the ranges now in force" in chat.say("/status")


def test_the_first_notice_of_a_failure_quotes_the_article(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say("2023:45 2024:48 2025:38.5")
    notice = text.split("✗ 江苏 第六条（二） 不符合", 1)[1]
    assert notice.lstrip().startswith("原文：“近三年，集群总产值每年均在40亿元以上”")
    assert "2025年 38.50亿元，差 1.50亿元" in notice


@pytest.mark.parametrize("typed", ["9" * 30, "1e26", "9" * 400])
def test_an_absurd_typed_figure_is_refused_naming_the_range(conversation, typed):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say(f"2023:{typed} 2024:48 2025:52")
    assert "total_output" not in _stored(conversation) and chat.current_fact() == "total_output"
    assert "0 到 10万 之间的数" in text
    facts = eligible_facts()
    for _ in range(10):
        fact = chat.current_fact()
        if CAT[fact].type == "count":
            break
        chat.say(chat_answer(fact, facts[fact]))
        if "年份对吗" in chat.last[0].text:
            chat.say("是")
    text = chat.say(typed)
    assert fact not in _stored(conversation) and chat.current_fact() == fact
    assert "0 到 10万 之间的整数" in text or "没有看懂" in text
    assert "尚待补充" in chat.say("/result")


def _stored(conversation) -> list[str]:
    with session(conversation.engine) as s:
        return [a.fact for a in s.exec(select(Answer))]


def test_a_lone_surrogate_in_any_text_is_replaced_never_an_internal_error(conversation):
    # "\ud800" is valid JSON (a web post, a Telegram update) but cannot be stored or sent
    chat = Chat(conversation, user="u\ud800")
    text = chat.say("/new 甲\udfff集群", display_name="名\ud800")
    assert "已创建集群「甲\ufffd集群」" in text
    start_text = chat.say("全部")
    assert chat.last[-1].kind == "question", start_text
    text = chat.say("80\ud800")
    assert "内部错误" not in text and chat.last[0].kind == "error" and chat.last[-1].kind == "question"
    text = chat.say(data="c:1:\ud800:1")
    assert "内部错误" not in text


def test_what_a_channel_could_not_take_is_answered_in_the_users_language_once(conversation):
    from dialogs.messages import Incoming

    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("/lang en")
    replies = conversation.receive(Incoming("terminal", "alice", "alice", message_id="m1", unreadable="too_large"))
    assert replies[0].text.startswith("The file is too large: at most 5 MB") and replies[-1].kind == "question"
    assert conversation.receive(Incoming("terminal", "alice", "alice", message_id="m1", unreadable="too_large")) == []
    chat.say("/lang zh")
    replies = conversation.receive(Incoming("terminal", "alice", "alice", message_id="m2", unreadable="unsupported"))
    assert replies[0].text.startswith("只能读取文字消息和申报表文件") and replies[-1].kind == "question"


def test_an_update_id_longer_than_its_column_is_handled_once(conversation):
    # a WeCom card press is known by its task, time and button: past the column's 64 characters
    from dialogs.messages import Incoming

    long_id = "card:" + "f" * 32 + ":1733550000:" + "c:12:asking-sme_output_share:1" + "x" * 20
    first = conversation.receive(Incoming("wecom", "zhang", "zhang", text="/start", message_id=long_id))
    assert first and "内部错误" not in first[0].text
    assert conversation.receive(Incoming("wecom", "zhang", "zhang", text="/start", message_id=long_id)) == []
    other = long_id[:-1] + "y"  # another id with the same first 64 characters: another update
    assert conversation.receive(Incoming("wecom", "zhang", "zhang", text="/start", message_id=other))


@pytest.mark.parametrize("lang,yes,area", [("zh", "是的，在宜兴市范围内", "约95平方公里"),
                                           ("en", "Yes, it was certified in 2023", "about 95 square kilometers")])
def test_a_sentence_and_an_approximate_figure_are_read_in_either_language(conversation, lang, yes, area):
    chat = Chat(conversation)
    chat.say(f"/lang {lang}")
    start(chat, "江苏" if lang == "zh" else "jiangsu")
    chat.say(yes)
    assert chat.current_fact() == "area_km2"
    text = chat.say(area)
    assert "单位" not in text and "unit" not in text
    assert chat.current_fact() not in ("county_level", "area_km2")
    with session(conversation.engine) as s:
        assert {a.fact: json.loads(a.value_json) for a in s.exec(select(Answer))} == {"county_level": True, "area_km2": 95.0}


# Control characters and terminal escape sequences a user may type or paste: a colour, an arrow
# key (ESC [ A, or ESC O A in a terminal's application mode), a window title, a NUL, a C1 CSI.
CONTROLS = ("\x00", "\x07", "\x1b", "\x9b", "\r", "\x7f")


def _clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS) and "[31m" not in text and "]0;" not in text


def test_control_characters_typed_are_never_quoted_back(conversation):
    from dialogs.messages import Attachment

    chat = Chat(conversation)
    text = chat.say("\x00\x1b[31m什么是集群研发\x1b[0m")  # a quick question, quoted in its answer
    assert _clean(text) and "“什么是集群研发”" in text
    text = chat.say("\x1b[A\x1bOA\x9b2J什么\r")  # nothing matches: the question quoted as typed
    assert text == "没有找到与“什么”相关的条件。可以试试：研发、专利、产值、面积、事故、江苏 专利。"
    text = chat.say("/new \x1b]0;pwned\x07乙\x1b[31m集群\x07")
    assert _clean(text) and "已创建集群「乙集群」" in text
    chat.say("江苏")
    text = chat.say("十几家\x1b[1m")  # a refused answer quotes what was typed
    assert _clean(text) and chat.last[0].kind == "error"
    assert "乙集群" in chat.say("/list") and _clean(chat.say("/list"))
    text = chat.say(attachment=Attachment("\x1b[31m申报\x00表.xlsx", b"not a form"))
    assert _clean(text) and "「申报表.xlsx」" in text


def test_escape_sequences_alone_are_no_question_in_latin_letters(conversation):
    # ESC O A ESC O B (two arrow keys) once left "OAOB", a Latin word: answered in English
    chat = Chat(conversation)
    text = chat.say("\x1bOA\x1bOB\x1b]0;title\x07")
    assert text.startswith("您好！") and _clean(text)
    text = chat.say("\x1b[1;33m专利\x1b[0m")
    assert text.startswith("与“专利”相关的条件")


def test_the_rule_keeps_tabs_and_line_breaks_and_reads_a_carriage_return_as_one():
    from dialogs.messages import Incoming, without_controls

    assert without_controls("甲\t乙\r\n丙\r丁\n戊") == "甲\t乙\n丙\n丁\n戊"
    assert without_controls("\x1b[38;5;196m红\x1b[0m") == "红"
    assert without_controls("\x1b]2;t\x1b\\名") == "名" and without_controls("\x1b]名") == "名"  # unterminated: the ESC ]
    assert without_controls("45\x1b(B亿\x85") == "45亿"
    assert without_controls("研发经费") == "研发经费"
    incoming = Incoming("web", "u", "u", text="\x1b[2J/new 甲", button="/skip\x00", display_name="张\x1b[5m三")
    assert (incoming.text, incoming.button, incoming.display_name) == ("/new 甲", "/skip", "张三")


def test_a_name_over_the_limit_is_cut_and_said_so(conversation):
    # A name over 100 characters was cut to 100 without a word.
    long = "江苏省" + "高端装备制造" * 20  # 123 characters
    kept = long[:100]
    chat = Chat(conversation)
    text = chat.say(f"/new {long}")
    assert f"名称超过100个字，只保留前100个字：「{kept}」" in text and f"已创建集群「{kept}」" in text
    chat.say("/new")  # named at the question too, in English
    chat.say("/lang en")
    text = chat.say(long)
    assert f"only the first 100 are kept: “{kept}”" in text and f"“{kept}（2）”" in text  # then told apart
    with session(conversation.engine) as s:
        assert sorted(p.name for p in s.exec(select(Profile))) == [kept, f"{kept}（2）"]
    assert "cut" not in chat.say("/new 短名")  # a name within the limit: nothing said


def test_a_tracked_name_over_the_limit_is_cut_and_said_so(conversation):
    long = "乙" * 130
    chat = Chat(conversation)
    text = chat.say(f"/track {long} 国家 2024-06-01")  # the measures and date are read past the 100th character
    assert "只保留前100个字" in text and f"已开始跟踪 #1「{'乙' * 100}」" in text
    chat.say("/track")
    text = chat.say("丙" * 120)
    assert f"只保留前100个字：「{'丙' * 100}」" in text
