"""The rough edges of a first use (issue 10): skip, back, edit, cancel and pending questions
behave like a form; notices say only what is true. Driven through the dialog's entry point
against a real SQLite file."""

from __future__ import annotations

import json

from sqlmodel import select

from dialogs.conversation import Conversation
from locales.explain import label, value_text
from storage import repo
from storage.db import session
from storage.models import Answer, Profile
from tests.chat_helpers import asked_fact, chat_answer
from tests.conftest import eligible_facts
from tests.test_dialog import Chat, answer_until, conversation, start  # noqa: F401  (fixture)


def rows(conversation, fact):
    with session(conversation.engine) as s:
        return [(r.value_json, r.skipped) for r in s.exec(select(Answer).where(Answer.fact == fact).order_by(Answer.id))]


def test_skip_on_a_question_reached_by_back_keeps_its_answer(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")      # county_level
    chat.say("80")      # area_km2
    chat.say("/back")
    assert chat.current_fact() == "area_km2"
    text = chat.say("/skip")
    assert "保留原答案：集群占地面积 = 80.00平方公里" in text and "已跳过" not in text
    assert chat.current_fact() == "pillar_industry"
    assert rows(conversation, "area_km2") == [("80.0", False)]


def test_skip_or_cancel_during_an_edit_keeps_the_answer_and_the_verdict(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("80")
    frontier = chat.current_fact()
    chat.say("/edit")
    chat.say("2")       # area_km2, in the form's order
    assert chat.current_fact() == "area_km2"
    chat.say("/skip")
    assert chat.current_fact() == frontier and rows(conversation, "area_km2") == [("80.0", False)]
    chat.say("/edit")
    chat.say("2")
    text = chat.say("/cancel")
    assert "已取消修改" in text and chat.current_fact() == frontier
    assert rows(conversation, "area_km2") == [("80.0", False)]


def test_back_follows_the_question_order_like_a_form(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    order = []
    for _ in range(4):
        order.append(chat.current_fact())
        chat.say(chat_answer(order[-1], eligible_facts()[order[-1]]))
    frontier = chat.current_fact()
    chat.say("/back")
    chat.say("/back")
    assert chat.current_fact() == order[2]
    chat.say(chat_answer(order[2], eligible_facts()[order[2]]))   # answered again: back to the progress
    assert chat.current_fact() == frontier
    chat.say("/back")   # the question before this one in the form, not the one just answered
    assert chat.current_fact() == order[3]
    chat.say("/back")
    assert chat.current_fact() == order[2]


def test_the_others_may_pass_is_said_only_when_another_chosen_measure_can(conversation):
    failing = dict(eligible_facts(), total_output={"2023": 45, "2024": 48, "2025": 38.5})
    alone = Chat(conversation, "alone")
    start(alone, "江苏")
    answer_until(alone, "total_output", failing)
    text = alone.say(chat_answer("total_output", failing["total_output"]))
    assert "✗ 江苏 第六条（二） 不符合" in text and "其他办法仍可能符合" not in text
    several = Chat(conversation, "several")
    start(several, "江苏 陕西")
    answer_until(several, "total_output", failing)
    text = several.say(chat_answer("total_output", failing["total_output"]))
    assert "✗ 江苏 第六条（二） 不符合" in text and "其他办法仍可能符合" in text


def test_skipped_questions_are_counted_apart_and_can_be_returned_to(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/skip")   # area_km2
    chat.answer_all(eligible_facts())
    final = "\n".join(r.text for r in chat.last)
    assert "全部问题已答完" not in final and "待定 1 题（已跳过：集群占地面积）" in final
    assert any(b.data == "/pending" for r in chat.last for b in r.actions)
    status = chat.say("/status")
    assert "待定 1 题" in status
    answered = int(status.split("已答 ")[1].split("/")[0])
    text = chat.say("/pending")
    assert chat.current_fact() == "area_km2" and "回到待定的问题" in text
    text = chat.say("80")
    assert "全部问题已答完" in text
    assert int(chat.say("/status").split("已答 ")[1].split("/")[0]) == answered + 1


def test_skipping_a_pending_question_again_ends_the_round(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/skip")
    chat.answer_all(eligible_facts())
    chat.say("/pending")
    text = chat.say("/skip")
    assert asked_fact(chat.last[-1].text) is None and "待定 1 题" in text


def test_a_unit_that_does_not_fit_is_refused_naming_the_fact_and_the_unit(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "sme_employees")
    text = chat.say("1200件")
    assert "“集群内中小企业从业人员数”的单位应为人，不能用“件”" in text
    assert chat.current_fact() == "sme_employees" and rows(conversation, "sme_employees") == []


def test_an_implausible_figure_is_confirmed_before_it_is_saved(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    answer_until(chat, "sme_output_share")
    text = chat.say("2023:0.7 2024:0.72 2025:0.75")
    assert "是否应为 2023年 70.00%、2024年 72.00%、2025年 75.00%？" in text and rows(conversation, "sme_output_share") == []
    text = chat.say("是")  # yes, the percentage was meant: saved as such
    assert "已保存：集群内中小企业产值占集群总产值比例 = 2023年 70.00%、2024年 72.00%、2025年 75.00%" in text
    assert rows(conversation, "sme_output_share") == [('{"2023": 70.0, "2024": 72.0, "2025": 75.0}', False)]
    answer_until(chat, "iip_rate")
    text = chat.say("0.07")
    assert "是否应为 7.00%？" in text
    text = chat.say("否")  # no: the figure as typed
    assert "已保存：工业互联网平台应用普及率 = 0.07%" in text
    chat.say("/back")
    text = chat.say("0.5")
    assert "是否应为 50.00%？" in text
    chat.say("45%")  # a new answer instead
    assert chat.current_fact() != "iip_rate" and rows(conversation, "iip_rate") == [("0.07", False), ("45.0", False)]


def test_a_slip_in_some_years_is_asked_back_naming_them_and_yes_mends_only_those(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say("2023:45 2024:48 2025:45万")  # 万 for 亿: never saved unasked as 0.00亿元
    assert ("理解为：2023年 45.00亿元、2024年 48.00亿元、2025年 0.0045亿元，其中 2025 年小得异常，"
            "可能写错了单位。是否应为 2025年 45.00亿元？") in text and "0.00亿元" not in text
    assert rows(conversation, "total_output") == []
    chat.say("是")
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 45.0}', False)]
    assert chat.current_fact() == "sme_output_share"
    text = chat.say("2023:80 2024:0.81 2025:82")
    assert ("理解为：2023年 80.00%、2024年 0.81%、2025年 82.00%，其中 2024 年不到 1%。是否应为 2024年 81.00%？"
            in text) and rows(conversation, "sme_output_share") == []
    text = chat.say("是")  # 2024 alone converted
    assert "已保存：集群内中小企业产值占集群总产值比例 = 2023年 80.00%、2024年 81.00%、2025年 82.00%" in text
    chat.say("/back")
    chat.say("/lang en")
    text = chat.say("2023:75 2024:0.72 2025:0.73")
    assert "0.73%: under 1% in 2024, 2025. Did you mean 2024: 72.00%, 2025: 73.00%?" in text
    chat.say("no")  # as typed
    assert rows(conversation, "sme_output_share")[-1] == ('{"2023": 75.0, "2024": 0.72, "2025": 0.73}', False)


def test_a_figure_saved_as_typed_is_shown_as_exactly_as_it_was_confirmed(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    assert "回复“否”按 2025年 0.0045亿元 保存" in chat.say("2023:45 2024:48 2025:45万")
    text = chat.say("否")
    assert "已保存：集群总产值 = 2023年 45.00亿元、2024年 48.00亿元、2025年 0.0045亿元" in text
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 0.0045}', False)]
    chat.say("/edit")  # the menu and the question asked again show it so too
    assert any(b.label.endswith("2025年 0.0045亿元") for b in chat.last[-1].choices)
    chat.say("/cancel")
    assert "当前答案：2023年 45.00亿元、2024年 48.00亿元、2025年 0.0045亿元" in chat.say("/back")


def test_enclosed_and_superscript_digits_at_a_choice_never_raise(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "segment_rank")
    for typed in ("²", "⁴⁵", "㊿"):
        text = chat.say(typed)
        assert "没有看懂" in text and chat.current_fact() == "segment_rank"
    text = chat.say("①")
    assert "已保存：发展水平在细分领域的位次" in text and chat.current_fact() != "segment_rank"


def test_natural_answers_in_the_dialog(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    answer_until(chat, "champion_count", dict(eligible_facts(), champion_count=0))
    assert "已保存：主导产业的国家级制造业单项冠军企业数 = 0" in chat.say("无")
    answer_until(chat, "co2_intensity", dict(eligible_facts(), champion_count=0))
    text = chat.say("持续下降")
    assert "已保存：单位产值二氧化碳排放量 = 持续下降" in text
    assert rows(conversation, "co2_intensity") == [("true", False)]
    chat.say("/edit")
    assert "单位产值二氧化碳排放量：持续下降" in [b.label for b in chat.last[-1].choices]


def test_names_keep_their_characters(conversation):
    chat = Chat(conversation)
    text = start(chat, "江苏", name="甲县装备集群（四办法）")
    assert "「甲县装备集群（四办法）」" in chat.say("/status")
    assert "甲县装备集群（四办法）" in chat.say("/list") and text


def test_a_quick_question_in_the_middle_of_a_question_is_answered_then_the_question_again(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    answer_until(chat, "area_km2")
    text = chat.say("研发经费增长要求多少")
    assert "研发" in text and "第六条" in text and "没有看懂" not in text
    assert chat.last[-1].kind == "question" and chat.current_fact() == "area_km2"


def test_menus_take_a_number_and_carry_labelled_buttons(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("80")
    chat.say("/edit")
    labels = [b.label for b in chat.last[-1].choices]
    assert labels[1] == "集群占地面积：80.00平方公里" and "1" not in labels
    chat.say("/cancel")
    text = chat.say("/edit 2")
    assert chat.current_fact() == "area_km2" and "修改此题" in text
    chat.say("/new 乙集群")
    chat.say("/switch")
    assert [b.label for b in chat.last[-1].choices][0].startswith("示例县机械集群")


def test_editing_a_question_not_answered_yet_says_so_and_opens_no_menu(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    chat.say("是")
    chat.say("是")
    text = chat.say("/edit 3")   # the question asked now
    assert "第 3 题“集群占地面积”还没有答案" in text and "直接回答" in text and chat.current_fact() == "area_km2"
    assert "已保存：集群占地面积 = 80.00平方公里" in chat.say("80")
    text = chat.say("/edit 9")
    assert "第 9 题“" in text and "还没有答案" in text and "要修改哪一项" not in text
    assert chat.current_fact() == "pillar_industry" and "已保存：主导产业" in chat.say("1")   # an answer, not a menu item
    assert "没有第 99 题" in chat.say("/edit 99") and chat.last[-1].kind == "question"
    chat.say("/lang en")
    assert "Question 9, “" in chat.say("/edit 9") and "has no answer yet" in chat.last[0].text
    text = chat.say("/edit 2")   # one answered: edited straight away
    assert chat.current_fact() == "provincial_certified" and "Editing this answer" in text


def test_duplicate_names_are_told_apart_in_the_list(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="甲集群")
    start(chat, "国家", name="甲集群")  # named 甲集群（2） now
    with session(conversation.engine) as s:  # two of one name, as an earlier version made them
        s.exec(select(Profile).where(Profile.name == "甲集群（2）")).one().name = "甲集群"
        s.commit()
    lines = [line for line in chat.say("/list").splitlines() if "甲集群" in line]
    assert len(lines) == 2 and lines[0] != lines[1]
    assert "江苏" in lines[0].split("—")[0] and "国家" in lines[1].split("—")[0]


def test_the_report_has_no_internal_ids_and_every_criterion_with_its_figures(conversation):
    from engine import load_rulesets
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.answer_all(eligible_facts())
    chat.say("/export")
    report = dict(chat.last[0].documents)["示例县机械集群-预审报告.md"].decode("utf-8")
    jiangsu = load_rulesets()["jiangsu"]
    assert jiangsu.id not in report and "county_level" not in report
    assert not any(f"（{c.id}）" in report or f"| {c.id} |" in report for c in jiangsu.criteria)
    assert "### 符合" in report and "| 第六条（二） | 近三年，集群总产值每年均在40亿元以上 | 集群总产值：" in report
    for c in jiangsu.criteria:
        assert c.citation in report and c.article_text.replace("|", "\\|") in report


def test_changing_measures_counts_skipped_questions_as_pending_as_status_does(conversation):
    """/measures said 已保留 41 个答案 where /status said 已答 38 题，待定 3 题: the skipped
    questions were counted as answers kept."""
    chat = Chat(conversation)
    start(chat, "江苏")
    facts, skipped = eligible_facts(), {"innovation_platforms", "patent_growth", "iip_rate"}
    for _ in range(80):
        fact = chat.current_fact()
        if fact is None:
            break
        chat.say("/skip" if fact in skipped else chat_answer(fact, facts[fact]))
        if "年份对吗" in chat.last[0].text:
            chat.say("是")
    with session(conversation.engine) as s:
        answered = len({r.fact for r in s.exec(select(Answer).where(Answer.skipped == False))})  # noqa: E712
    chat.say("/measures")
    text = chat.say("全部")
    assert f"已保留 {answered} 个答案和 3 道待定（已跳过）的题" in text
    status = chat.say("/status")
    assert f"已答 {answered}/" in status and "待定 3 题" in status
    chat.say("/lang en")
    chat.say("/measures")
    text = chat.say("jiangsu")
    assert f"{answered} answers and 3 pending (skipped) questions kept" in text


def test_adding_a_measure_keeps_the_answers_and_asks_only_what_it_needs(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    jiangsu_asked = chat.answer_all(eligible_facts())
    assert "全部问题已答完" in "\n".join(r.text for r in chat.last)
    text = chat.say("/measures")
    assert "保留" in text and "✓ 江苏" in [b.label for b in chat.last[-1].choices]
    text = chat.say("江苏 国家")
    assert f"已保留 {len(jiangsu_asked)} 个答案" in text
    national_asked = chat.answer_all(eligible_facts())
    assert national_asked and not set(national_asked) & set(jiangsu_asked)
    assert "provincial_certified" in national_asked
    with session(conversation.engine) as s:
        assert not any(r.source == "restart" for r in s.exec(select(Answer)))


def test_restart_offers_to_change_only_the_measures(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("是")
    chat.say("/restart")
    assert "只更改所选办法（保留答案）" in [b.label for b in chat.last[-1].choices]
    chat.say("2")
    chat.say("国家")
    assert rows(conversation, "county_level") == [("true", False)]
    assert chat.current_fact() != "county_level"


def test_the_province_is_derived_from_a_single_provincial_measure(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    chat.say("/measures")
    chat.say("江苏 广东")
    assert "哪个省" not in "\n".join(r.text for r in chat.last)
    text = chat.say("/result")
    assert "【广东（仅供对比）" in text and "「示例县机械集群」位于江苏，广东的办法只适用于该省的集群" in text
    assert "【江苏（" in text and "【江苏（仅供对比）" not in text
    chat.say("/measures")
    chat.say("广东 陕西")  # 江苏's measure dropped: the province it gave is asked again, not kept
    assert "位于哪个省" in "\n".join(r.text for r in chat.last)
    chat.say("/measures")
    chat.say("广东")
    assert "【广东（" in chat.say("/result") and "仅供对比" not in chat.last[0].text


def test_with_several_provincial_measures_the_province_is_asked_and_others_are_for_comparison(conversation):
    chat = Chat(conversation)
    text = start(chat, "全部")
    assert "位于哪个省" in text and "/province jiangsu" in [b.data for r in chat.last for b in r.actions]
    assert chat.last[-1].kind == "question"       # the questions go on meanwhile
    assert "尚未确定「示例县机械集群」所在省份" in chat.say("/status")
    chat.answer_all(eligible_facts())
    text = chat.say("/province 江苏")
    assert "已记下：集群位于江苏" in text
    result = chat.say("/result")
    assert "【广东（仅供对比）" in result and "【陕西（仅供对比）" in result and "【江苏（" in result
    assert "广东（仅供对比） 符合条件" in chat.say("/list")
    chat.say("/export")
    report = dict(chat.last[0].documents)["示例县机械集群-预审报告.md"].decode("utf-8")
    assert "## 广东（仅供对比）：符合条件" in report and "仅供对比，不是本集群的认定结论" in report



def test_the_exported_report_says_why_results_are_for_comparison_as_a_document_would(conversation):
    """The report repeated the chat's note whole: > **注意**：注：「…」… 可发送 /province 更改所在省份,
    a note inside a note and a command to send, in a file read away from the chat."""
    chat = Chat(conversation)
    start(chat, "全部")
    chat.say("/export")
    report = dict(chat.last[0].documents)["示例县机械集群-预审报告.md"].decode("utf-8")
    assert "> **注意**：尚未确定「示例县机械集群」所在省份；" in report
    chat.say("/province 江苏")
    chat.say("/export")
    report = dict(chat.last[0].documents)["示例县机械集群-预审报告.md"].decode("utf-8")
    assert "> **注意**：「示例县机械集群」位于江苏，广东、陕西的办法只适用于该省的集群" in report
    assert "注：" not in report and "/province" not in report
    assert "可发送 /province" in chat.say("/status")     # the chat still says what to send
    chat.say("/lang en")
    chat.say("/export")
    report = dict(chat.last[0].documents)["示例县机械集群-report.md"].decode("utf-8")
    assert "> **Note**: “示例县机械集群” is in Jiangsu; the measures of Guangdong and Shaanxi" in report
    assert "Note: Note" not in report and "/province" not in report

EDGE_ANSWERS = {  # per fact type: what an official might type, at its limits
    "number": ["-0", "0", "99999999999", "0.0001"],
    "count": ["无", "0", "999999999", "两家"],
    "bool": ["无", "①", "是"],
    "level": ["无事故", "②"],
    "rank": ["①", "都不是"],
    "series": ["2023:0 2024:0 2025:0", "2023:-0 2024:99999999999 2025:0.0001"],
    "rate": ["-0", "-100", "2023:0 2024:-0 2025:0"],
    "trend": ["持续下降", "2023:0 2024:0 2025:0", "否"],
}


def test_no_stored_value_makes_a_later_command_fail(conversation):
    from engine import catalogue
    for variant in range(3):
        chat = Chat(conversation, f"edge{variant}")
        start(chat, "全部")
        for _ in range(80):
            fact = chat.current_fact()
            if fact is None or chat.last[-1].kind != "question":
                break
            options = EDGE_ANSWERS[catalogue()[fact].type]
            chat.say(options[variant % len(options)])
            if chat.last[0].kind == "error":   # out of this fact's range: refused, nothing stored
                chat.say(options[0])
            if "对吗" in chat.last[0].text or "确认" in chat.last[0].text or "是否想填写" in chat.last[0].text:
                chat.say("是")
        assert "全部问题已答完" in "\n".join(r.text for r in chat.last), variant  # every edge value stored
        for command in ("/status", "/result", "/compare", "/export", "/list", "/edit", "/cancel", "/back",
                        "/pending", "/why", "/deadlines", "/province 江苏", "/result"):
            assert chat.say(command).strip(), command


def test_pending_asks_the_skipped_questions_after_the_current_one_then_the_rest(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("/skip")   # county_level
    chat.say("/skip")   # provincial_certified
    text = chat.say("/pending")
    assert "当前问题答完后，再依次回到待定的 2 题" in text and chat.current_fact() == "area_km2"
    text = chat.say("50")
    assert chat.current_fact() == "county_level" and "回到待定的问题" in text
    chat.say("/skip")   # skipped again: asked once in this round, the next pending one follows
    assert chat.current_fact() == "provincial_certified"
    chat.say("是")
    assert chat.current_fact() == "pillar_industry"   # then the rest, in the form's order
    assert "待定 1 题" in chat.say("/status")


def test_back_from_a_pending_question_comes_back_to_it(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("/skip")   # county_level
    chat.say("/skip")   # provincial_certified
    chat.say("/pending")
    chat.say("50")      # area_km2, then the pending ones
    assert chat.current_fact() == "county_level"
    chat.say("是")
    assert chat.current_fact() == "provincial_certified"
    chat.say("/back")   # to county_level: answered again, the round goes on where it was
    assert chat.current_fact() == "county_level"
    chat.say("/skip")   # keeps its answer
    assert chat.current_fact() == "provincial_certified"
    chat.say("/skip")   # skipped again: the round ends, the rest follows
    assert chat.current_fact() == "pillar_industry"


def test_pending_while_a_figure_awaits_its_confirmation_keeps_it(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("/skip")   # county_level
    answer_until(chat, "sme_output_share")
    chat.say("2023:0.7 2024:0.72 2025:0.75")
    text = chat.say("/pending")
    assert "再依次回到待定的 1 题" in text and "是否应为 2023年 70.00%" in text
    chat.say("是")
    assert rows(conversation, "sme_output_share") == [('{"2023": 70.0, "2024": 72.0, "2025": 75.0}', False)]
    assert chat.current_fact() == "county_level"


def test_focus_after_pending_asks_the_focus_first_as_it_says(conversation):
    chat = Chat(conversation)
    start(chat, "国家,江苏")
    chat.say("/skip")   # county_level
    chat.say("/pending")
    text = chat.say("/focus jiangsu")
    assert "先询问可能改变江苏结论" in text and chat.current_fact() != "county_level"


def live_unnamed(conversation) -> list:
    with session(conversation.engine) as s:
        return s.exec(select(Profile).where(Profile.name == "", Profile.deleted == False)).all()  # noqa: E712


def listed(chat) -> list[str]:
    chat.say("/list")
    return chat.last[0].text.splitlines()[1:]


def test_cancel_while_naming_a_new_cluster_gives_it_up_and_returns(conversation):
    chat = Chat(conversation)
    start(chat, "江苏", name="甲集群")
    chat.say("/new")
    assert listed(chat) == ["1. 甲集群 — 已答 0 题 — 江苏 尚待补充"]   # the unnamed one is not a cluster yet
    assert "还没有名称" in chat.say("/start")   # a restart asks the name again, naming no cluster
    text = chat.say("/cancel")
    assert "已取消新建集群；回到「甲集群」" in text and chat.current_fact() == "county_level"
    assert listed(chat) == ["1. 甲集群（当前） — 已答 0 题 — 江苏 尚待补充"]
    assert not live_unnamed(conversation)
    chat.say("/new")
    assert "已切换到「甲集群」" in chat.say("/switch 1") and not live_unnamed(conversation)
    alone = Chat(conversation, "bob")   # no cluster before: back to none
    alone.say("/new")
    text = alone.say("/cancel")
    assert "已取消新建集群。" in text and "还没有正在预审的集群" in text and "还没有集群" in alone.say("/list")
    assert not live_unnamed(conversation)


def test_one_cancel_leaves_a_menu_opened_from_another_even_after_a_restart(conversation):
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")
    for command in ("/edit", "/switch", "/edit", "/switch 99", "/edit 999", "/restart"):
        chat.say(command)
        assert chat.last[-1].choices and chat.current_fact() is None, command   # a menu replaces the open one
    restarted = Chat(Conversation(conversation.engine, conversation.clock))
    restarted.say("/cancel")
    assert restarted.current_fact() == "provincial_certified" and "第 2/" in restarted.last[-1].text
    # menus an earlier version stacked: one /cancel leaves them all
    chat.say("/edit")
    with session(conversation.engine) as s:
        profile = s.exec(select(Profile)).one()
        menu = json.loads(profile.pending)
        profile.pending = json.dumps({**menu, "back_to": {"state": "picking", "fact": None, "pending": menu}})
        s.add(profile)
        s.commit()
    chat.say("/cancel")
    assert chat.current_fact() == "provincial_certified" and chat.last[-1].kind == "question"


def test_every_edit_item_shows_its_whole_answer_and_fits_a_button(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    chat.answer_all(eligible_facts())
    for lang, sep in (("zh", "："), ("en", ": ")):
        chat.say(f"/lang {lang}")
        chat.say("/edit")
        with session(conversation.engine) as s:
            profile = s.exec(select(Profile)).one()
            answers = repo.current_answers(s, profile)
            facts = [option["fact"] for option in json.loads(profile.pending)["options"]]
        labels = [b.label for b in chat.last[-1].choices]
        for fact, shown in zip(facts, labels, strict=True):
            value = value_text(fact, answers[fact], lang)
            assert shown.endswith(sep + value), shown   # the answer, whole
            name, full = shown.removesuffix(sep + value), label(fact, lang)
            assert name == full or (name.endswith("…") and full.startswith(name[:-1])), shown
            assert len(shown) <= 60 or len(name) <= 30, shown   # only a long answer makes it longer
        chat.say("/cancel")
    assert "Already certified as a provincial SME characteristic…: yes" in labels


def test_the_english_comparison_note_lists_the_other_measures_in_english(conversation):
    chat = Chat(conversation)
    start(chat, "全部")
    chat.answer_all(eligible_facts())
    chat.say("/province 江苏")
    chat.say("/lang en")
    result = chat.say("/result")
    assert "the measures of Guangdong and Shaanxi apply only to their own provinces' clusters" in result
    chat.say("/lang zh")
    assert "广东、陕西的办法只适用于该省的集群" in chat.say("/result")  # Chinese as it was


def test_an_amount_beyond_any_county_cluster_is_asked_back_as_typed_in_wan(conversation):
    """9.2亿 typed in 万元 (92000) is within the range but beyond plausible_max (10,000亿):
    asked back with the 万元 reading; yes saves it, no the figure as typed."""
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say("2023:38.5 2024:39.2 2025:39000")
    assert "其中 2025 年远超县域集群的规模（超过 10000亿元）" in text and "是否应为 2025年 3.90亿元？" in text
    assert rows(conversation, "total_output") == []
    assert "已保存：集群总产值 = 2023年 38.50亿元、2024年 39.20亿元、2025年 3.90亿元" in chat.say("是")
    chat.say("/back")
    chat.say("2023:92000 2024:95000 2025:98000")
    assert "2025年 98000.00亿元" in chat.say("否")
    assert rows(conversation, "total_output")[-1] == ('{"2023": 92000.0, "2024": 95000.0, "2025": 98000.0}', False)


def skipped_then_pending(conversation) -> Chat:
    """A national pre-screening with its second question skipped and /pending asked for at the third."""
    chat = Chat(conversation)
    start(chat, "国家")
    chat.say("是")      # county_level
    chat.say("/skip")   # provincial_certified
    chat.say("/pending")
    return chat


def test_an_edit_during_a_pending_round_leaves_the_round_going(conversation):
    chat = skipped_then_pending(conversation)
    chat.say("50")      # area_km2: then the pending one
    assert chat.current_fact() == "provincial_certified"
    chat.say("/edit 1")
    text = chat.say("/cancel")
    assert "已取消修改" in text and chat.current_fact() == "provincial_certified"
    chat.say("/edit 1 否")  # answered: the round goes on where it was, too
    assert chat.current_fact() == "provincial_certified"
    chat.say("是")
    assert rows(conversation, "provincial_certified")[-1] == ("true", False)
    assert rows(conversation, "county_level")[-1] == ("false", False)


def test_pending_asked_for_then_an_edit_still_asks_the_current_question_first(conversation):
    chat = skipped_then_pending(conversation)  # the pending one asked once area_km2 is answered
    chat.say("/edit 1")
    chat.say("/cancel")
    assert chat.current_fact() == "area_km2"
    chat.say("50")
    assert chat.current_fact() == "provincial_certified"


def test_an_edit_from_figures_awaiting_their_confirmation_comes_back_to_them(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    chat.say("45, 48, 52")  # the years to confirm
    assert chat.last[-1].kind == "question" and "年份对吗" in chat.last[-1].text
    chat.say("/edit 1")
    text = chat.say("/cancel")
    assert "年份对吗" in text and "2025年 52.00亿元" in text
    chat.say("/edit 2 70")  # answered at once: the figures are asked about again
    assert "年份对吗" in chat.last[-1].text
    chat.say("/edit 2")
    chat.say("/skip")       # keeps its answer: the same
    assert "年份对吗" in chat.last[-1].text
    chat.say("是")
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 52.0}', False)]
    assert json.loads(rows(conversation, "area_km2")[-1][0]) == 70.0
    assert chat.current_fact() == "sme_output_share"


def test_an_edit_that_makes_the_interrupted_question_needless_goes_on_to_the_next(conversation):
    chat = Chat(conversation)
    start(chat, "陕西")
    answer_until(chat, "energy_efficiency_ok", dict(eligible_facts(), high_energy_industry=True))
    chat.say("/edit")
    menu = json.loads(_profile(conversation).pending)["options"]
    chat.say(str([o["fact"] for o in menu].index("high_energy_industry") + 1))
    chat.say("否")  # no energy-intensive industry: its efficiency is not asked
    assert chat.current_fact() == "high_water_industry"


def _profile(conversation):
    with session(conversation.engine) as s:
        return s.exec(select(Profile)).one()


def test_cells_pasted_from_a_spreadsheet_are_saved_and_a_header_alone_is_refused(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    text = chat.say("2023\t2024\t2025")  # the header row alone: no figures, said so, nothing saved
    assert "“集群总产值”：2023, 2024, 2025 是年份，不是数值" in text and chat.current_fact() == "total_output"
    assert rows(conversation, "total_output") == []
    chat.say("/lang en")
    text = chat.say("2023\t2024\t2025\n45\t48\t52.5")  # years over figures: the years are given, no confirmation
    assert "Saved: Total output of the cluster = 2023: 45.00" in text
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 52.5}', False)]
    text = chat.say("2023\t80.5%\n2024\t81%\n2025\t−82%")  # a year a row; Excel's minus sign read as one
    assert "“Share of SMEs in the cluster's total output”: not valid for 2025 (-82%)" in text
    chat.say("2023\t80.5%\n2024\t81%\n2025\t82%")
    assert rows(conversation, "sme_output_share") == [('{"2023": 80.5, "2024": 81.0, "2025": 82.0}', False)]


def test_a_back_from_figures_awaiting_their_confirmation_keeps_them_and_asks_again(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    chat.say("45,48,52")
    assert "年份对吗" in chat.last[-1].text
    text = chat.say("/back")   # said plainly: not saved, asked after this question
    assert "刚才填写的集群总产值（2023年 45.00亿元、2024年 48.00亿元、2025年 52.00亿元）尚未保存" in text
    previous = chat.current_fact()
    assert previous != "total_output" and rows(conversation, "total_output") == []
    chat.say("/back")          # further back: still kept
    chat.say("/skip")          # the earlier answer kept: the figures are asked about again
    assert "年份对吗" in chat.last[-1].text and "2025年 52.00亿元" in chat.last[-1].text
    chat.say("/back")
    chat.say(chat_answer(previous, eligible_facts()[previous]))   # answered again: the same
    assert "年份对吗" in chat.last[-1].text
    chat.say("是")
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 52.0}', False)]
    assert chat.current_fact() == "sme_output_share"
    chat.say("/lang en")
    chat.say("70,72,75")
    assert "Back to the previous question" in chat.say("/back") and "is not saved yet" in chat.last[-1].text


def test_measures_opened_from_figures_awaiting_their_confirmation_come_back_to_them(conversation):
    chat = Chat(conversation)
    start(chat, "江苏")
    answer_until(chat, "total_output")
    chat.say("45,48,52")
    chat.say("/measures")
    text = chat.say("/cancel")
    assert "已取消更改" in text and "年份对吗" in chat.last[-1].text and "2025年 52.00亿元" in chat.last[-1].text
    chat.say("/measures")
    chat.say("江苏 国家")      # chosen: the figures are still asked about, the question being asked still
    assert "年份对吗" in chat.last[-1].text
    chat.say("/measures")
    chat.say("/back")          # the menu left as /cancel leaves it, then back from the figures: kept
    assert "尚未保存" in chat.last[-1].text
    chat.say("/cancel")
    assert "年份对吗" in chat.last[-1].text
    chat.say("/edit")
    chat.say("/back")          # from the /edit menu too
    chat.say("/skip")
    chat.say("是")
    assert rows(conversation, "total_output") == [('{"2023": 45.0, "2024": 48.0, "2025": 52.0}', False)]
    assert _profile(conversation).measures == "national,jiangsu"
