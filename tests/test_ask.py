"""`clusterbot ask` on revocation, the validity, the reports' dates and a measure's own term,
in many phrasings in both languages. Expected articles are read off the texts by hand:
revocation 国第十七条, 苏第十四条, 粤第十七条, 陕第十九条, each （一）–（五）; validity 国第十五条,
苏第十一条, 粤第十五条, 陕第十七条; Jiangsu 第十二条 3月底前 (local) and 4月10日前 (province);
Guangdong 第十九条 自2023年2月28日起实施，有效期3年 (last day 2026-02-27), Shaanxi 第二十一条
有效期2年 from 2023-04-28 (last day 2025-04-27)."""

from __future__ import annotations

import re

import pytest

from bot.cli import main
from engine import load_rulesets

R = load_rulesets()


def ask(capsys, question: str) -> str:
    assert main(["ask", question]) == 0
    return capsys.readouterr().out


# --- revocation: all five grounds -------------------------------------------------------

REVOCATION = {"national": "第十七条", "jiangsu": "第十四条", "guangdong": "第十七条", "shaanxi": "第十九条"}


def test_every_measure_has_five_grounds_of_revocation():
    for j, article in REVOCATION.items():
        revocation = R[j].deadlines.revocation
        assert revocation.citation == article
        assert [g.citation for g in revocation.grounds] == [f"{article}（{n}）" for n in "一二三四五"]
        assert revocation.grounds[4].article_text.startswith("集群企业发生较大及以上安全、质量和环境污染等事故")
        # the dates' consequences are grounds: （三） a missed report, （一） a missed re-review
        assert R[j].deadlines.missed.annual_report == revocation.grounds[2]
        assert R[j].deadlines.missed.re_review == revocation.grounds[0]


@pytest.mark.parametrize("question", ["什么情况会被撤销认定", "认定会被撤销吗", "发生事故会被取消认定吗",
                                      "what are the grounds for revocation", "can a certification be revoked"])
def test_revocation_questions_quote_all_five_grounds(capsys, question):
    out = ask(capsys, question)
    sep = ": " if question.isascii() else "："
    for j, article in REVOCATION.items():
        assert f"{article}{sep}“{R[j].deadlines.revocation.article_text}”" in out
        for n in "一二三四五":  # in English, each ground's gist between the citation and its quotation
            assert re.search(rf"{article}（{n}）{sep}{'[^“]+: ' if sep == ': ' else ''}“", out), (j, n, out)
    assert "未及时报送集群年度培育情况信息表，不接受、不配合监测监督工作的" in out  # a missed report
    assert "偷税漏税等违法违规行为，以及严重失信和其它重大问题的行为" in out  # Guangdong （五） in its words
    assert out.count("“集群企业发生较大及以上安全、质量和环境污染等事故，重大及以上网络安全事件和数据安全事件") == 4


def test_a_named_measure_gets_its_own_grounds(capsys):
    out = ask(capsys, "陕西 撤销认定的情形")
    assert "【陕西】第十九条" in out and "第十九条（五）" in out and "第十七条" not in out


# --- the validity of a certification ----------------------------------------------------

VALIDITY = ["第十五条", "第十一条", "第十五条", "第十七条"]


@pytest.mark.parametrize("question", [
    "认定有效多久", "有效期几年", "认定有效期多长", "多久复核一次", "认定几年有效", "集群认定有效几年",
    "how long is a certification valid", "what is the validity period", "how long does a certification last",
    "is a certification valid for three years", "is the certification still valid?",
    "我们的集群认定还有效吗", "集群现在仍然有效吗",
])
def test_validity_questions_quote_the_validity_article(capsys, question):
    out, sep = ask(capsys, question), ": " if question.isascii() else "："
    for j, citation in zip(REVOCATION, VALIDITY):
        assert f"{citation}{sep}“{R[j].deadlines.validity.article_text}”" in out
    assert "有效发明专利" not in out and "办法本身" not in out and "measures' own terms" not in out


@pytest.mark.parametrize("question", ["有效发明专利增长要求多少", "valid invention patents per 10,000"])
def test_valid_patents_are_still_a_criterion(capsys, question):
    out = ask(capsys, question)
    assert "有效期与复核" not in out and "Validity and re-review" not in out
    assert "有效发明专利" in out


# --- a day of the year points to the reports due on it ---------------------------------

@pytest.mark.parametrize("question, due, not_due", [
    ("江苏4月10日前报什么", ["【江苏】每年4月10日前报送至江苏省工业和信息化厅（第十二条：“并组织特色产业集群于每年4月10日前"],
     ["3月31日", "第六条"]),
    ("江苏四月十日前要报送什么", ["【江苏】每年4月10日前报送至江苏省工业和信息化厅"], ["3月31日"]),
    ("3月底前交什么", ["【江苏】每年3月31日前报送至当地中小企业主管部门（第十二条",
                   "【广东】每年3月31日前报送至省工业和信息化厅（第十六条", "【陕西】每年3月31日前报送至省工业和信息化厅（第十八条"],
     ["4月30日", "4月10日"]),
    ("４月３０日前报什么", ["【国家（工信部）】每年4月30日前报送至工业和信息化部（第十六条", "第十七条（三）"], ["3月31日"]),
    ("what is due by April 10 in Jiangsu", ["[Jiangsu] by April 10 each year, to the Jiangsu Department"],
     ["March 31"]),
    ("what is due by the end of March", ["[Guangdong] by March 31 each year", "[Shaanxi] by March 31 each year"],
     ["April 30"]),
    # "due" is no month (it was read as one, and the day with it); 4/10 and 4.30 are days
    ("what is due 10 April", ["[Jiangsu] by April 10 each year"], ["April 30", "March 31", "patents"]),
    ("due 30 April", ["[National (MIIT)] by April 30 each year"], ["April 10", "March 31", "output"]),
    ("4/10要交什么", ["【江苏】每年4月10日前报送至江苏省工业和信息化厅"], ["4月30日", "3月31日", "专利"]),
    ("4.30截止的是什么", ["【国家（工信部）】每年4月30日前报送至工业和信息化部"], ["4月10日", "3月31日", "产值"]),
    ("江苏 4.10前报什么", ["【江苏】每年4月10日前报送至江苏省工业和信息化厅"], ["3月31日"]),
    # a month named alone, or a part of it: the reports due in it
    ("what's due in April", ["by April 30 each year", "by April 10 each year"], ["March 31", "16 advanced manufacturing"]),
    ("what is due in early April", ["by April 10 each year"], ["April 30", "March 31"]),
    ("4月份要交什么", ["每年4月30日前", "每年4月10日前"], ["3月31日"]),
    ("4月上旬要交什么", ["【江苏】每年4月10日前"], ["4月30日", "3月31日"]),
    ("四月下旬报什么", ["【国家（工信部）】每年4月30日前"], ["4月10日", "3月31日"]),
    ("3月份有什么要报的", ["【广东】每年3月31日前", "【陕西】每年3月31日前"], ["4月30日", "4月10日"]),
])
def test_a_date_in_the_question_finds_the_report_due_on_it(capsys, question, due, not_due):
    out = ask(capsys, question)
    for words in due:
        assert words in out, (words, out)
    for words in not_due:
        assert words not in out, (words, out)


def test_days_of_year():
    from dialogs.compare import days_of_year

    assert days_of_year("4月10日前") == {(4, 10)}
    assert days_of_year("3月底、十二月三十一日") == {(3, 31), (12, 31)}
    assert days_of_year("April 10th, 30 Apr, end of feb") == {(4, 10), (4, 30), (2, 28)}
    assert days_of_year("2月30日 13月1日 the 10 patents per 10,000") == set()
    assert days_of_year("what is due 10 April") == {(4, 10)}  # not "due 10"
    assert days_of_year("4/10要交什么，4.30截止的, due 3/31") == {(4, 10), (4, 30), (3, 31)}
    assert days_of_year("4月上旬") == {(4, d) for d in range(1, 11)}
    assert days_of_year("2月底, late February") == {(2, 28)} | {(2, d) for d in range(21, 29)}
    assert days_of_year("4月份") == days_of_year("in April") == {(4, d) for d in range(1, 31)}
    # a share, a figure, a date with its year in figures, "may" the verb: no day
    assert days_of_year("研发投入强度4.30%以上，产值4.5亿，1/3的企业，2024/4/10，what may be due") == set()


@pytest.mark.parametrize("question", ["2024年4月10日认定的集群", "集群4月10日认定的", "4月10日被认定", "认定于2024年4月10日",
                                      "认定日期：4月10日", "a cluster certified on 10 April 2024",
                                      "certified April 10, 2024", "certification date: 10 April", "certified in April 2024"])
def test_a_date_of_certification_is_no_day_of_a_report(question):
    from dialogs.compare import days_of_year

    assert days_of_year(question) == set()
    assert days_of_year(question + "，4月30日前报什么") == {(4, 30)}  # a report's day beside it still is one


@pytest.mark.parametrize("question", ["2024年4月10日认定的集群什么时候复核", "4月10日认定的集群有效期到什么时候",
                                      "a cluster certified on 10 April 2024, when is its re-review",
                                      "certified April 10 2024: when does the certification expire?"])
def test_a_date_of_certification_asks_the_validity_not_the_reports(capsys, question):
    out, sep = ask(capsys, question), ": " if question.isascii() else "："
    assert out.startswith("有效期与复核" if sep == "：" else "Validity and re-review"), out
    for j, citation in zip(REVOCATION, VALIDITY):
        assert f"{citation}{sep}“{R[j].deadlines.validity.article_text}”" in out
    assert "4月10日前" not in out and "April 10 each year" not in out


@pytest.mark.parametrize("question", ["集群4月10日认定的，第一次年报什么时候", "2024年4月10日认定，年报什么时候交",
                                      "certified on 10 April 2024, when is the first annual report due"])
def test_a_date_of_certification_with_the_reports_lists_them_all(capsys, question):
    out = ask(capsys, question)
    if question.isascii():
        assert all(w in out for w in ("by April 30 each year", "by April 10 each year", "[Guangdong] by March 31",
                                      "[Shaanxi] by March 31")), out
    else:
        assert all(w in out for w in ("【国家（工信部）】每年4月30日前", "【江苏】每年4月10日前", "【江苏】每年3月31日前",
                                      "【广东】每年3月31日前", "【陕西】每年3月31日前")), out


# --- a measure's own term ---------------------------------------------------------------

@pytest.mark.parametrize("question, words", [
    ("广东办法什么时候到期", "【广东】《广东省促进中小企业特色产业集群发展暂行办法》第十九条：“本办法自2023年2月28日起实施，有效期3年。”"
                      " 自2023年2月28日起实施，最后一日为2026年2月27日。"),
    ("广东办法什么时候失效", "最后一日为2026年2月27日"),
    # the measure named by its province alone: 失效, 还有效 are a measure's, never a cluster's
    ("广东什么时候失效", "最后一日为2026年2月27日"), ("陕西还有效吗", "最后一日为2025年4月27日"),
    ("陕西办法还有效吗", "第二十一条：“本办法自印发之日起实施，有效期2年。” 自2023年4月28日起实施，最后一日为2025年4月27日。"),
    ("江苏办法有效期到哪天", "第十六条：“本办法自2023年5月1日起实施。” 自2023年5月1日起实施，条文未规定办法的有效期。"),
    ("when does the Guangdong measure expire", "第十九条: “本办法自2023年2月28日起实施，有效期3年。” In force from 2023-02-28;"
                                               " its last day is 2026-02-27."),
    ("is the Shaanxi measure still in force", "its last day is 2025-04-27"),
])
def test_a_measures_own_term_is_its_term_article(capsys, question, words):
    out = ask(capsys, question)
    assert words in out, out
    assert "集群有效期为三年" not in out  # not the certification's validity


SHAANXI_TERM = "第二十一条：“本办法自印发之日起实施，有效期2年。” 自2023年4月28日起实施，最后一日为2025年4月27日。"
GUANGDONG_TERM = "第十九条：“本办法自2023年2月28日起实施，有效期3年。” 自2023年2月28日起实施，最后一日为2026年2月27日。"


@pytest.mark.parametrize("question, words", [
    # how long the measure itself runs, said as a certification's validity is asked
    ("陕西办法有效多久", SHAANXI_TERM), ("广东办法有效几年", GUANGDONG_TERM), ("广东办法管几年", GUANGDONG_TERM),
    ("陕西办法多长时间有效", SHAANXI_TERM), ("陕西的办法是不是已经过了", SHAANXI_TERM),
    ("广东政策有效期多久", GUANGDONG_TERM), ("江苏办法什么时候开始实施", "第十六条：“本办法自2023年5月1日起实施。”"),
    ("how many years is the Shaanxi measure valid", "第二十一条: “本办法自印发之日起实施，有效期2年。” In force from"
                                                   " 2023-04-28; its last day is 2025-04-27."),
    ("how long is the Guangdong measure valid for", "its last day is 2026-02-27"),
    ("how long does the Guangdong measure last", "its last day is 2026-02-27"),
    ("when did the Jiangsu measure take effect", "第十六条: “本办法自2023年5月1日起实施。”"),
])
def test_how_long_a_measure_runs_is_its_term_not_the_certifications(capsys, question, words):
    out = ask(capsys, question)
    assert words in out, out
    assert "集群有效期为三年" not in out and "第十七条：" not in out  # not the certification's validity
    assert "三年发展规划" not in out  # nor a criterion (管几年 read 三年)


@pytest.mark.parametrize("question, words", [
    # 标准/政策 with 实施 is a criterion (standards, policy outreach), not a measure's first day
    ("参与标准制定实施的要求", "参与国家标准、行业标准项数"),
    ("政策宣贯实施全覆盖是什么要求", "惠企政策宣贯全覆盖"),
    ("标准实施", ""),
    # "exchange" holds "change", and a change in emissions is no duty
    ("international exchange activities requirement", "Open cooperation (international exchanges)"),
    ("change in CO2 emissions per unit of output", "CO2 intensity falling"),
    # "background" holds "ground", and 报送 of the application is no annual report
    ("background of the Jiangsu measure", ""), ("how is the cluster's management background assessed", ""),
    ("申报材料报送给谁", ""),
])
def test_a_word_inside_another_does_not_route_a_question_to_articles(capsys, question, words):
    out = ask(capsys, question)
    assert words in out, out
    for heading in ("办法本身的施行期限", "常设义务", "年度报送", "撤销认定的情形", "The measures' own terms",
                    "Standing duties", "Annual reports", "Grounds for revocation"):
        assert heading not in out, out


@pytest.mark.parametrize("question", ["what changes must be reported", "does a major change need reporting",
                                      "what are the duties of a certified cluster", "重大变动要报备吗", "申报材料虚假会怎样"])
def test_duties_are_still_asked(capsys, question):
    out = ask(capsys, question)
    assert "Standing duties" in out or "常设义务" in out, out


@pytest.mark.parametrize("question", ["认定以后每年要做什么", "认定后要做什么", "认定之后需要干什么"])
def test_what_a_certified_cluster_must_do_is_its_reports_and_duties(capsys, question):
    out = ask(capsys, question)
    assert "年度报送" in out and "常设义务" in out, out
    assert "相关的条件" not in out and "近三年集群总产值" not in out


def test_the_certifications_validity_under_a_named_measure_is_not_its_term(capsys):
    out = ask(capsys, "广东办法规定的集群有效期多长")
    assert "【广东】第十五条：“集群有效期为三年" in out and "第十九条" not in out


# --- whether a measure is in force, as of the CLI's today (CLUSTERBOT_FAKE_NOW) or the chat's clock

@pytest.mark.parametrize("today, question, words", [
    ("2026-11-23", "陕西办法还有效吗", "最后一日为2025年4月27日。截至今天（2026年11月23日），该办法有效期已于2025年4月27日届满。"),
    ("2026-11-23", "陕西的办法是不是已经过了", "该办法有效期已于2025年4月27日届满"),
    ("2025-04-28", "陕西办法还有效吗", "截至今天（2025年4月28日），该办法有效期已于2025年4月27日届满。"),
    ("2025-04-27", "陕西办法还有效吗", "截至今天（2025年4月27日），该办法在有效期内（至2025年4月27日）。"),
    ("2026-11-23", "is the Shaanxi policy expired", "its last day is 2025-04-27. As of today (2026-11-23), it is no longer"
                                                  " in force: its term ended on 2025-04-27."),
    ("2025-06-01", "is the Guangdong measure still in force", "As of today (2025-06-01), it is in force (until 2026-02-27)."),
    ("2025-06-01", "广东办法还有效吗", "截至今天（2025年6月1日），该办法在有效期内（至2026年2月27日）。"),
    ("2026-11-23", "江苏办法还有效吗", "条文未规定办法的有效期。截至今天（2026年11月23日），该办法已施行，未规定届满日期。"),
    ("2026-11-23", "is the national measure still in force", "the text sets no term for the measure. As of today"
                                                            " (2026-11-23), it is in force, with no end date set."),
    ("2023-03-01", "江苏办法生效了吗", "截至今天（2023年3月1日），该办法尚未施行。"),
])
def test_whether_a_measure_is_in_force_is_said_as_of_today(capsys, monkeypatch, today, question, words):
    monkeypatch.setenv("CLUSTERBOT_FAKE_NOW", f"{today}T10:00:00")
    out = ask(capsys, question)
    assert words in out, out


def test_the_chat_says_whether_a_measure_is_in_force_on_its_own_clock(db_url):
    import datetime as dt

    from bot.clock import ManualClock
    from dialogs.conversation import Conversation, in_group
    from dialogs.messages import Incoming
    from storage.db import make_engine

    clock = ManualClock(dt.datetime(2025, 1, 10, 9, 0))
    conversation = Conversation(make_engine(db_url), clock)
    said = "\n".join(r.text for r in conversation.handle("alice", text="/ask 陕西办法还有效吗"))
    assert "截至今天（2025年1月10日），该办法在有效期内（至2025年4月27日）。" in said
    clock.set(dt.datetime(2025, 5, 1, 9, 0))
    said = "\n".join(r.text for r in conversation.handle("alice", text="陕西办法还有效吗"))
    assert "截至今天（2025年5月1日），该办法有效期已于2025年4月27日届满。" in said
    group = Incoming(channel="terminal", user_id="bob", chat_id="g1", text="陕西办法还有效吗", group=True, mentioned=True)
    assert "该办法有效期已于2025年4月27日届满" in in_group(group, "zh", clock.today())[0].text


# --- accidents: every measure's accident criterion, and once certified its ground （五） -------

ACCIDENT_CITATIONS = ["认定标准（2022年版）序言", "第七条（二）", "申报表 承诺函", "第十三条（一）", "第十二条（一）"]
ACCIDENT_GROUNDS = ["第十七条（五）", "第十四条（五）", "第十九条（五）"]


@pytest.mark.parametrize("question", ["accident", "incident", "safety accidents", "pollution accident",
                                      "事故", "安全事故", "较大事故要求"])
def test_an_accident_question_finds_the_accident_criterion_of_every_measure(capsys, question):
    out = ask(capsys, question)
    assert all(f"[{c}]" in out for c in ACCIDENT_CITATIONS), out
    assert "撤销其认定" not in out  # asked no consequence


@pytest.mark.parametrize("question", ["what if there was a larger accident", "what happens after an accident",
                                      "a certified cluster had a safety incident", "发生较大安全事故会怎样",
                                      "已认定的集群发生事故", "安全事故的后果"])
def test_what_an_accident_leads_to_is_the_revocation_ground_five_verbatim(capsys, question):
    out = ask(capsys, question)
    assert all(f"[{c}]" in out for c in ACCIDENT_CITATIONS), out
    for j in R.values():
        ground = j.deadlines.revocation.grounds[4]
        assert f"{ground.citation}" in out and f"“{ground.article_text}”" in out
    assert ("Once certified, this is a ground for revocation" in out) == question.isascii()
    assert "（一）: “有效期满" not in out and "（一）：“有效期满" not in out  # only the ground on accidents


def test_a_question_with_escape_sequences_is_quoted_without_them(capsys):
    out = ask(capsys, "\x00\x1b[31m什么\x1b[0m")
    assert out == "没有找到与“什么”相关的条件。可以试试：研发、专利、产值、面积、事故、江苏 专利。\n"


# --- the application procedure: who applies, to whom, who certifies ----------------------
# Read off the texts by hand: 国第十二条–第十四条 (申报主体 the county SME authority, 推荐至工业和
# 信息化部), 苏第八条–第十条 (向所在市（县、区）中小企业主管部门提交申报材料), 粤第十二条 and
# 第十四条（一）–（三） (报送至所在地级以上市中小企业主管部门), 陕第十四条–第十六条.

APPLICATION = {"national": ["第十二条", "第十三条", "第十四条"], "jiangsu": ["第八条", "第九条", "第十条"],
               "guangdong": ["第十二条", "第十四条（一）", "第十四条（二）", "第十四条（三）"],
               "shaanxi": ["第十四条", "第十五条", "第十六条"]}


@pytest.mark.parametrize("question", ["申报材料报送给谁", "申报材料交给谁", "怎么申报", "向谁申报", "谁来申报",
                                      "申报流程是什么", "认定程序", "需要提交哪些材料", "要准备什么材料",
                                      "谁来组织推荐", "申报截止时间", "who do we submit the application to",
                                      "how do we apply", "what is the application procedure"])
def test_a_question_on_the_procedure_gets_every_measures_procedure_articles(capsys, question):
    out = ask(capsys, question)
    english = question.isascii()
    assert out.startswith("How to apply" if english else "申报与认定程序")
    for j, citations in APPLICATION.items():
        assert [s.citation for s in R[j].application.steps] == citations
        for step in R[j].application.steps:
            assert step.article_text in out
    # the answer names to whom, and no criterion is offered as a best match
    assert "中小企业主管部门提交申报材料" in out and "报送至所在地级以上市中小企业主管部门" in out
    assert "相关的条件" not in out and "Criteria matching" not in out
    assert "clusterbot deadlines" not in out  # no cluster date to look up


def test_a_deadline_for_applying_is_the_named_measures_procedure(capsys):
    # the measures set no date of their own: Jiangsu's 第八条 says the year's notice sets it
    out = ask(capsys, "江苏申报截止时间")
    assert out.startswith("申报与认定程序") and "具体时间和要求以当年申报通知为准" in out and "【广东】" not in out


def test_a_procedure_question_naming_a_measure_gets_that_measure_only(capsys):
    out = ask(capsys, "江苏申报材料交给谁")
    assert "【江苏】" in out and "第九条" in out and "【广东】" not in out and "【国家（工信部）】" not in out


@pytest.mark.parametrize("question", ["申报条件是什么", "年报报送给谁", "when do we submit the annual report",
                                      "研发经费要求"])
def test_conditions_and_reports_are_not_the_procedure(capsys, question):
    assert "申报与认定程序" not in ask(capsys, question) and "How to apply" not in ask(capsys, question)


# --- the criteria as a whole, and where two measures differ -------------------------------

@pytest.mark.parametrize("question", ["申报条件是什么", "认定条件有哪些", "what are the eligibility requirements"])
def test_a_question_on_all_the_conditions_gets_every_criterion_not_one_best_match(capsys, question):
    out = ask(capsys, question)
    english = question.isascii()
    for j in R.values():
        for c in j.criteria:  # every criterion of every measure, with its article
            assert f"[{c.citation}]" in out
    assert ("Area of the cluster" in out or "Area" in out) if english else "占地面积" in out
    assert "近三年集群总产值" in out or "Total output" in out
    assert "相关的条件" not in out and "No criterion matches" not in out


def test_a_question_on_one_measures_conditions_quotes_its_articles(capsys):
    out = ask(capsys, "江苏申报条件是什么")
    assert "【" not in out and "广东" not in out and "国家（工信部）" not in out
    for c in R["jiangsu"].criteria:
        assert c.article_text in out


@pytest.mark.parametrize("question", ["江苏和国家有什么区别", "江苏与国家的认定条件有什么不同",
                                      "difference between Jiangsu and national",
                                      "What's the difference between Jiangsu and national?",
                                      "how does Jiangsu differ from national", "Jiangsu compared with national"])
def test_a_difference_question_lists_where_the_two_differ(capsys, question):
    out = ask(capsys, question)
    assert "广东" not in out and "Guangdong" not in out
    # 苏第六条（二）: 主导产业产值年均增速不低于10% where the national text has the output's 高于10%;
    # 苏第六条（三）: 合计不少于3家 / 15家 against the national 1家 / 10家 (认定标准二)
    assert "集群主导产业产值近三年年均增速不低于10%" in out and "产值年均增速高于10%" in out
    assert "合计不少于3家" in out and "不少于10家专精特新中小企业" in out
    # the same requirement in other words is no difference: 70%以上 (national) and 不低于70% (Jiangsu)
    assert "中小企业产值占集群总产值70%以上" not in out
    # nor is an area both cap at 一般不超过100平方公里
    assert "占地面积一般不超过100平方公里" not in out


def test_a_difference_question_on_one_criterion_stays_on_it(capsys):
    out = ask(capsys, "江苏研发要求和国家有什么区别")
    assert "研发经费年均增长" in out and "占地面积" not in out and "优质企业" not in out


# --- English words for the criteria: the best match first, no stray criterion -------------

def test_output_value_in_english_finds_the_output_criteria_not_the_local_contribution(capsys):
    out = ask(capsys, "how much output value is required")
    assert out.startswith("Criteria matching")
    assert out.split("\n")[2] == "Total output, each of the last three years"
    assert "近三年产值均在30亿元以上" in out  # 陕第十二条（二）
    assert "Substantial contribution to local output" not in out  # 苏第六条（一） sets no figure


def test_specialized_in_american_spelling_finds_the_quality_enterprises(capsys):
    out = ask(capsys, "how many specialized SMEs are needed")
    assert out.split("\n")[2].startswith("Quality enterprises")
    assert "合计不少于3家，或者专精特新中小企业、高新技术企业合计不少于15家" in out  # 苏第六条（三）
    assert "SMEs' share of output" not in out


def test_gaoqi_the_officials_word_for_high_tech_firms_finds_the_quality_enterprises(capsys):
    out = ask(capsys, "高企要几家")
    assert out.split("\n")[2].startswith("优质企业")
    assert "不少于8家专精特新中小企业、创新型中小企业和高新技术企业" in out  # 陕第十二条（三）


@pytest.mark.parametrize("question, english", [("how many 专精特新 enterprises are required", True),
                                               ("what is the deadline of the 年报", True),
                                               ("江苏 patent", False), ("jiangsu 专利", False),
                                               ("江苏 R&D 要求", False), ("专精特新要几家", False)])
def test_an_english_question_quoting_a_chinese_term_is_answered_in_english(capsys, question, english):
    out = ask(capsys, question)
    assert out.startswith(("Criteria matching", "Annual reports")) if english else not out.isascii()
    if english:
        assert "相关的条件" not in out and "年度报送（" not in out


@pytest.mark.parametrize("question", ["申报需要哪些材料", "陕西公示几天", "what documents do we need to apply"])
def test_materials_and_the_public_notice_are_the_procedures(capsys, question):
    out = ask(capsys, question)
    assert out.startswith(("申报与认定程序", "How to apply"))
    if "陕西" in question:  # 陕第十六条: 经公示无异议后
        assert "经公示无异议后，发布陕西省中小企业特色产业集群名单" in out and "【江苏】" not in out
        assert "clusterbot form" not in out  # the form is Jiangsu's
    else:  # 粤第十四条（一） names the materials; the Jiangsu form is the project's
        assert "主要包括省级中小企业特色产业集群申报表及必要的证明材料" in out and "clusterbot form template" in out
    assert "相关的条件" not in out and "Criteria matching" not in out  # no criterion offered as the answer


# --- questions as officials type them: traditional characters, spaces ---------------------

def test_a_question_in_traditional_characters_is_answered_as_in_simplified(capsys):
    # 研發投入 found nothing: the topic words and articles are simplified
    out = ask(capsys, "研發投入要求多少？")
    assert "与“研發投入要求多少？”相关的条件" in out  # quoted as typed
    assert "[认定标准（2022年版）四]" in out and "“近三年中小企业研发经费年均增长高于10%”" in out
    assert "高于8%  [第十二条（五）]" in out
    assert ask(capsys, "江蘇和國家有什麼區別？") == ask(capsys, "江苏和国家有什么区别？")
    assert "4月10日前" in ask(capsys, "年報什麼時候交")


def test_spaces_between_chinese_characters_do_not_change_the_question(capsys):
    # 江 苏 和 国 家 的 区 别 answered 县级区划 and 优质企业, all four measures, as criteria found
    spaced = ask(capsys, "江 苏 和 国 家 的 区 别")
    assert spaced == ask(capsys, "江苏和国家的区别")
    assert spaced.startswith("国家（工信部）、江苏认定条件的不同之处")
    assert "广东" not in spaced.splitlines()[0]


@pytest.mark.parametrize("question", ["撤销后多久能再申请", "被撤销了还能重新申报吗",
                                      "how long after revocation can we reapply"])
def test_a_wait_to_apply_again_is_said_to_be_in_no_measure(capsys, question):
    # no seed sets one (no 再次申报/不得申报 in any text): the grounds alone read as an answer
    out = ask(capsys, question)
    assert ("各办法均未规定撤销认定后多久可以重新申报" in out
            or "None of the measures says how long after a revocation" in out)
    assert "第十九条（五）" in out


# --- a province whose measure is not here ------------------------------------------------

@pytest.mark.parametrize("question, province, lang", [
    ("浙江 专利要求", "浙江", "zh"), ("上海的集群年报什么时候交", "上海", "zh"), ("湖北省申报条件是什么", "湖北", "zh"),
    ("what is the patent requirement in Zhejiang", "Zhejiang", "en")])
def test_a_province_without_a_measure_here_is_said_so_before_the_measures_answer(capsys, question, province, lang):
    """浙江 专利 answered the four measures here with no word that none is Zhejiang's: an official
    there read Jiangsu's, Guangdong's and Shaanxi's thresholds as their own province's."""
    out = ask(capsys, question)
    first, rest = out.split("\n", 1)
    if lang == "zh":
        assert first.startswith(f"注意：本工具未收录{province}的办法") and "国家（工信部）、江苏、广东、陕西" in first
        assert "各省办法的规定仅供对比" in first
    else:
        assert first.startswith(f"Note: this tool has no measure of {province}")
        assert "National (MIIT), Jiangsu, Guangdong and Shaanxi" in first and "for comparison only" in first
    assert "第" in rest  # the measures' articles still follow


@pytest.mark.parametrize("question", ["江苏 专利", "陕西 研发", "shaanxi patent", "研发经费增长要求多少", "hebeian patent"])
def test_a_question_naming_no_other_province_has_no_such_note(capsys, question):
    out = ask(capsys, question)
    assert "未收录" not in out and "has no measure of" not in out


# --- what 近三年 means --------------------------------------------------------------------

@pytest.mark.parametrize("question", ["近三年是指哪三年", "近三年怎么算", "江苏 近三年指哪几年",
                                      "what does 近三年 mean", "which years are the last three years"])
def test_which_years_近三年_are_is_answered_with_the_reading_and_todays_years(capsys, monkeypatch, question):
    """近三年是指哪三年 was answered with every criterion that writes 近三年 (产值, 事故), never the years."""
    monkeypatch.setenv("CLUSTERBOT_FAKE_NOW", "2027-03-01T10:00:00+08:00")
    out = ask(capsys, question)
    from engine.form import load_form

    quoted = "未注明填报年度的，请填写截止到申报2023年底的数据。"
    assert quoted in load_form().source_text()  # verbatim from the form's 填报说明 1
    if question.isascii() or "what" in question:
        assert "none of the four measures defines it" in out and "(2027-03-01), 2024–2026" in out
    else:
        assert "四个办法均未定义" in out and "今天（2027年3月1日）评估即2024—2026年" in out
    assert quoted in out and "第六条" not in out  # not the criteria


def test_a_criterion_asked_of_the_last_three_years_is_still_the_criterion(capsys):
    out = ask(capsys, "近三年产值要求多少")
    assert "近三年每年均在40亿元以上" in out and "均未定义" not in out


@pytest.mark.parametrize("question", ["跨两个县的集群能申报吗", "集群跨县怎么办", "can a cluster span two counties"])
def test_a_cluster_across_counties_finds_the_county_level_condition(capsys, question):
    """跨两个县的集群能申报吗 matched 集群品牌知名度 and 公共服务体系 on 集群 and 申报 alone."""
    out = ask(capsys, question)
    assert ("位于县级区划范围内" in out or "Within one county-level division" in out) and "申报认定的集群应在县级区划范围内" in out
    assert "品牌" not in out and "Brand" not in out


# --- what a comparison word means ---------------------------------------------------------

def test_whether_高于_includes_the_number_is_answered_with_the_reading_and_its_criteria(capsys):
    """高于70%包括70%吗 was answered with the water-efficiency criterion (高于行业基准值), never
    with whether 70% itself passes: the one reading an official most needs (facts.md)."""
    out = ask(capsys, "高于70%包括70%吗")
    assert out.startswith("“高于”不含本数（>）：恰好等于条文数值的，不符合")
    assert "“中小企业产值占集群总产值高于70%”" in out and "“主导产业占集群总产值比例高于70%”" in out
    assert "水效" not in out  # 高于行业基准值 is no 70


@pytest.mark.parametrize("question, first", [
    ("以上包括本数吗", "“以上”含本数（≥）：恰好等于条文数值的，符合。"),
    ("不低于10%含10%吗", "“不低于”含本数（≥）"),
    ("一般不超过是什么意思", "“一般不超过”含本数（≤）：恰好等于条文数值的，符合。“一般不超过”是软性上限：超出不作否决"),
    ("does above 70% include 70%", "“高于” excludes the number itself (>): a figure exactly equal to the article's fails"),
    ("does at least 1 include 1", "“至少” includes the number itself (≥)"),
])
def test_each_comparison_word_is_read_as_facts_md_reads_it(capsys, question, first):
    out = ask(capsys, question)
    assert out.startswith(first)
    if "不低于10%" in question:
        assert "“集群主导产业产值近三年年均增速不低于10%”" in out and "“有效发明专利年均增长率不低于10%”" in out
        assert "工业互联网" not in out  # 不低于15% and 20%: not the figure named


def test_a_question_on_a_criterion_with_no_comparison_word_is_still_the_criterion(capsys):
    out = ask(capsys, "江苏专利要求是什么意思")
    assert "含本数" not in out and "有效发明专利年均增长率不低于15%" in out


@pytest.mark.parametrize("question, word", [("高于", "高于"), ("“一般不超过”？", "一般不超过"), ("高于10%", "高于")])
def test_a_comparison_word_typed_alone_or_with_a_figure_is_read_as_asking_its_meaning(capsys, question, word):
    out = ask(capsys, question)
    assert out.startswith(f"“{word}”") and "水效" not in out
    if question == "高于10%":
        assert "“产值年均增速高于10%”" in out and "“近三年中小企业研发经费年均增长高于10%”" in out
        assert "每万人" not in out  # 10 of 10,000 is no figure of 高于


def test_how_a_rate_or_a_per_10k_figure_is_computed_is_answered_with_the_readings(capsys):
    """年均增速怎么算 listed the criteria only: how an average of annual rates is taken (facts.md:
    geometric, 水平法; one figure is the three years' average) was nowhere in the answer."""
    out = ask(capsys, "年均增速怎么算")
    assert "按几何平均计算：((1+g₁/100)×(1+g₂/100)×(1+g₃/100))^(1/3)−1，再×100" in out and "只填一个数的，视为近三年的年均值" in out
    assert "÷" not in out
    out = ask(capsys, "每万人发明专利怎么算")
    assert "按 集群中小企业有效发明专利拥有量 ÷ 集群内中小企业从业人员数 × 10000 计算，四舍五入保留两位小数" in out
    out = ask(capsys, "how is the R&D growth rate calculated")
    assert "averaged geometrically, ((1+g₁/100)×(1+g₂/100)×(1+g₃/100))^(1/3)−1, times 100" in out
    assert "计算方法" not in ask(capsys, "研发经费增长要求多少")


@pytest.mark.parametrize("lang,said", [
    ("zh", "clusterbot ask：错误：参数 text：问题为空；应为一个问题，如 clusterbot ask 研发经费增长要求多少\n"),
    ("en", "clusterbot ask: error: argument text: the question is empty; expected a question, "
           "e.g. clusterbot ask what R&D growth is required\n"),
])
def test_an_empty_question_is_refused_as_no_question_is(lang, said):
    """`ask ""` (or spaces) is no question: one line, exit 2, as `ask` alone is; it was
    answered "nothing found for “”", exit 0."""
    from tests.conftest import run_cli

    for text in ("", "  ", "\x1b[31m"):
        run = run_cli("ask", text, "--lang", lang)
        assert (run.returncode, run.stdout, run.stderr) == (2, "", said)


# --- 企业 is in nearly every criterion: it finds none by itself ---------------------------

def test_a_dishonest_enterprise_question_finds_the_violations_criterion_alone(capsys):
    out = ask(capsys, "失信企业能申报吗")
    assert "偷税漏税、违法违规、严重失信" in out
    for other in ("中小企业产值占比", "企业上云或上标识比例", "高耗能行业能效水平", "优质企业"):
        assert other not in out, out


def test_a_count_of_leading_enterprises_is_set_by_no_measure(capsys):
    # 龙头企业 is in no criterion: no SME share or cloud rate offered in its place
    out = ask(capsys, "龙头企业要几家")
    assert out.startswith("没有找到与“龙头企业要几家”相关的条件"), out


@pytest.mark.parametrize("question, said", [
    ("一个县可以申报几个集群", "各办法均未限制一个县（市、区）可以申报的集群数量"),
    ("how many clusters can a county apply for", "None of the measures limits how many clusters a county"),
])
def test_how_many_clusters_a_county_may_apply_for_is_set_by_no_measure(capsys, question, said):
    # said plainly first, then the county criterion the measures do set
    out = ask(capsys, question)
    assert out.startswith(said), out
    assert "申报认定的集群应在县级区划范围内" in out


@pytest.mark.parametrize("question", ["江苏", "江苏条件", "江苏 申报要求", "陕西的标准"])
def test_a_measure_named_alone_or_with_a_bare_word_for_criteria_lists_its_criteria(capsys, question):
    """An official typing 「江苏」 or 「江苏条件」 after /ask was told 没有找到…相关的条件,
    though 「江苏的认定条件」 lists them all."""
    said = ask(capsys, question)
    assert "没有找到" not in said
    assert re.search(r"(江苏|陕西)的认定条件（共\d+项", said), said


def test_a_topic_with_a_bare_word_for_criteria_still_finds_that_criterion(capsys):
    said = ask(capsys, "江苏 专利条件")
    assert "每万人有效发明专利拥有量" in said and "认定条件（共" not in said
