"""The deadline calendar against dates read off the texts by hand, and `clusterbot deadlines`.

Expected dates are written out literally: national 第十六条 每年4月30日前; Jiangsu 第十二条
3月底前 (local) and 4月10日前 (province); Guangdong 第十六条 and Shaanxi 第十八条 3月31日前;
有效期为三年 from the certification day; Guangdong 第十九条 自2023年2月28日起…有效期3年 and
Shaanxi 第二十一条 自印发之日（2023年4月28日）起…有效期2年.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from bot.cli import main
from bot.clock import ManualClock
from dialogs.conversation import Conversation
from bot.commands.deadlines import describe
from locales.deadlines import cluster_key, ics_description
from engine import load_rulesets
from engine.deadlines import calendar, calendars, validity_periods
from storage.db import make_engine

D = date.fromisoformat
R = load_rulesets()


def rows(deadlines):
    return [(d.date.isoformat(), d.kind) for d in deadlines]


# --- annual reports, validity, re-review ------------------------------------------------

def test_national_first_cycle_and_first_report_after_it():
    cal = calendar(R["national"], D("2024-06-01"), D("2024-06-01"), D("2028-05-31"))
    assert rows(cal) == [
        ("2025-04-30", "annual_report"),
        ("2026-04-30", "annual_report"),
        ("2027-04-30", "annual_report"),
        ("2027-05-31", "re_review"),
        ("2027-05-31", "validity_end"),
        ("2028-04-30", "annual_report"),
    ]
    reports = [d for d in cal if d.kind == "annual_report"]
    assert [d.report_year for d in reports] == [2024, 2025, 2026, 2027]
    assert [d.to.zh for d in reports] == ["工业和信息化部"] * 4
    assert {d.citation for d in reports} == {"第十六条"}
    assert {d.missed.citation for d in reports} == {"第十七条（三）"}
    assert [d.assumes_re_review for d in reports] == [False, False, False, True]
    re_review = cal[3]
    assert (re_review.citation, re_review.missed.citation, re_review.revocation.citation) == \
        ("第十五条", "第十七条（一）", "第十七条")
    assert (re_review.period.first_day, re_review.period.last_day) == (D("2024-06-01"), D("2027-05-31"))
    assert cal[4].missed is None  # validity_end itself: the consequence sits on the re-review
    assert not any(d.after_term_end for d in cal)  # the national measure has no end date


def test_jiangsu_two_reports_a_year():
    cal = calendar(R["jiangsu"], D("2024-06-01"), D("2024-06-01"), D("2026-12-31"))
    assert [(d.date.isoformat(), d.to.zh, d.report_year) for d in cal] == [
        ("2025-03-31", "当地中小企业主管部门", 2024),
        ("2025-04-10", "江苏省工业和信息化厅", 2024),
        ("2026-03-31", "当地中小企业主管部门", 2025),
        ("2026-04-10", "江苏省工业和信息化厅", 2025),
    ]
    assert {d.citation for d in cal} == {"第十二条"}
    # 第十四条（三） names the 信息表 due to the province on 4月10日; the 3月底 report to the local
    # authority is a duty of 第十二条 with no consequence stated
    assert [d.missed.citation if d.missed else None for d in cal] == [None, "第十四条（三）"] * 2


def test_jiangsu_validity_cites_article_11():
    cal = calendar(R["jiangsu"], D("2024-06-01"), D("2027-05-31"), D("2027-05-31"))
    assert [(d.kind, d.citation) for d in cal] == [("re_review", "第十一条"), ("validity_end", "第十一条")]
    assert cal[0].missed.citation == "第十四条（一）"


def test_guangdong_term_ends_2026_02_27_and_later_deadlines_are_flagged():
    cal = calendar(R["guangdong"], D("2024-06-01"), D("2024-06-01"), D("2027-12-31"))
    assert [(d.date.isoformat(), d.kind, d.after_term_end) for d in cal] == [
        ("2025-03-31", "annual_report", False),
        ("2026-02-27", "measure_term_end", False),
        ("2026-03-31", "annual_report", True),
        ("2027-03-31", "annual_report", True),
        ("2027-05-31", "re_review", True),
        ("2027-05-31", "validity_end", True),
    ]
    term_end = cal[1]
    assert (term_end.citation, term_end.article_text) == ("第十九条", "本办法自2023年2月28日起实施，有效期3年。")
    assert [d.citation for d in cal if d.kind == "annual_report"] == ["第十六条"] * 3
    assert "第十九条" in describe(cal[2], "zh") and "2026年2月27日" in describe(cal[2], "zh")


def test_shaanxi_term_ends_2025_04_27():
    cal = calendar(R["shaanxi"], D("2024-06-01"), D("2024-06-01"), D("2026-12-31"))
    assert [(d.date.isoformat(), d.kind, d.citation, d.after_term_end) for d in cal] == [
        ("2025-03-31", "annual_report", "第十八条", False),
        ("2025-04-27", "measure_term_end", "第二十一条", False),
        ("2026-03-31", "annual_report", "第十八条", True),
    ]
    assert cal[0].missed.citation == "第十九条（三）"


def test_shaanxi_validity_certified_mid_june():
    cal = calendar(R["shaanxi"], D("2023-06-15"), D("2026-01-01"), D("2026-12-31"))
    assert rows(cal) == [("2026-03-31", "annual_report"), ("2026-06-14", "re_review"),
                         ("2026-06-14", "validity_end")]
    assert cal[1].citation == "第十七条"


def test_no_term_end_for_national_and_jiangsu():
    for j in ("national", "jiangsu"):
        cal = calendar(R[j], D("2022-01-01"), D("2022-01-01"), D("2040-12-31"))
        assert not any(d.kind == "measure_term_end" for d in cal)


def test_certified_on_29_february():
    cal = calendar(R["national"], D("2024-02-29"), D("2024-02-29"), D("2030-12-31"))
    assert rows(cal) == [
        ("2024-04-30", "annual_report"),  # in the certification year, after the certification day
        ("2025-04-30", "annual_report"),
        ("2026-04-30", "annual_report"),
        ("2027-02-28", "re_review"),      # anniversary 2027-03-01, last valid day the day before
        ("2027-02-28", "validity_end"),
        ("2027-04-30", "annual_report"),
        ("2028-04-30", "annual_report"),
        ("2029-04-30", "annual_report"),
        ("2030-02-28", "re_review"),
        ("2030-02-28", "validity_end"),
        ("2030-04-30", "annual_report"),
    ]
    assert cal[0].report_year == 2023  # 上一年度 of 2024


def test_extensions_follow_each_other():
    """复核通过的有效期延长三年: each period starts the day after the previous one."""
    periods = validity_periods(R["national"], D("2024-02-29"))
    assert [(p.cycle, p.first_day.isoformat(), p.last_day.isoformat()) for p in
            (next(periods) for _ in range(4))] == [
        (1, "2024-02-29", "2027-02-28"),
        (2, "2027-03-01", "2030-02-28"),
        (3, "2030-03-01", "2033-02-28"),
        (4, "2033-03-01", "2036-02-29"),
    ]


def test_certified_late_in_the_year():
    cal = calendar(R["national"], D("2024-12-31"), D("2024-12-31"), D("2028-12-31"))
    assert [(d.date.isoformat(), d.kind, d.report_year, d.period.cycle) for d in cal] == [
        ("2025-04-30", "annual_report", 2024, 1),
        ("2026-04-30", "annual_report", 2025, 1),
        ("2027-04-30", "annual_report", 2026, 1),
        ("2027-12-30", "re_review", None, 1),
        ("2027-12-30", "validity_end", None, 1),
        ("2028-04-30", "annual_report", 2027, 2),
    ]


def test_certified_early_in_the_year_reports_that_year():
    cal = calendar(R["national"], D("2024-01-02"), D("2024-01-02"), D("2027-12-31"))
    assert [(d.date.isoformat(), d.kind, d.report_year, d.assumes_re_review) for d in cal] == [
        ("2024-04-30", "annual_report", 2023, False),  # 每年4月30日前: the certification year too
        ("2025-04-30", "annual_report", 2024, False),
        ("2026-04-30", "annual_report", 2025, False),
        ("2027-01-01", "re_review", None, False),
        ("2027-01-01", "validity_end", None, False),
        ("2027-04-30", "annual_report", 2026, True),   # due in the second period
    ]


def test_jiangsu_certified_before_the_due_dates_reports_that_year():
    """苏第十二条 每年3月底前 / 每年4月10日前, and 第十四条（三） revokes a missed 信息表: a cluster
    certified 2026-02-28 owes both reports of 2026 (they were once listed from 2027 only)."""
    cal = calendar(R["jiangsu"], D("2026-02-28"), D("2026-02-28"), D("2027-12-31"))
    assert [(d.date.isoformat(), d.report_year, d.missed.citation if d.missed else None) for d in cal] == [
        ("2026-03-31", 2025, None),
        ("2026-04-10", 2025, "第十四条（三）"),
        ("2027-03-31", 2026, None),
        ("2027-04-10", 2026, "第十四条（三）"),
    ]
    assert not any(d.due_on_certification_day for d in cal)


@pytest.mark.parametrize("certified_on, first", [
    ("2025-12-31", "2026-03-31"),   # the day before a new year and the day after report alike
    ("2026-01-01", "2026-03-31"),
    ("2026-03-30", "2026-03-31"),
    ("2026-04-01", "2027-03-31"),   # after the due date: the next year's
])
def test_every_due_date_after_the_certification_is_owed(certified_on, first):
    cal = calendar(R["guangdong"], D(certified_on), D(certified_on), D("2027-12-31"))
    assert [d for d in cal if d.kind == "annual_report"][0].date == D(first)


def test_jiangsu_certified_between_its_two_due_dates_owes_the_second():
    cal = calendar(R["jiangsu"], D("2026-04-05"), D("2026-04-05"), D("2026-12-31"))
    assert [(d.date.isoformat(), d.to.zh) for d in cal] == [("2026-04-10", "江苏省工业和信息化厅")]


def test_a_report_due_on_the_certification_day_is_listed_and_flagged():
    cal = calendar(R["national"], D("2025-04-30"), D("2025-04-30"), D("2026-12-31"))
    assert [(d.date.isoformat(), d.due_on_certification_day) for d in cal] == [
        ("2025-04-30", True), ("2026-04-30", False)]
    assert describe(cal[0], "zh").endswith(
        "注意：截止日即认定当日，条文未写明当日认定的集群是否须报送当日到期的报告；为免遗漏照列，请向主管部门确认。")
    assert "due on the certification day itself" in describe(cal[0], "en")
    assert "认定当日" not in describe(cal[1], "zh")


def test_second_cycle():
    cal = calendar(R["national"], D("2024-06-01"), D("2024-06-01"), D("2031-12-31"))
    ends = [(d.date.isoformat(), d.period.cycle, d.period.first_day.isoformat())
            for d in cal if d.kind == "validity_end"]
    assert ends == [("2027-05-31", 1, "2024-06-01"), ("2030-05-31", 2, "2027-06-01")]
    second = [d for d in cal if d.kind == "re_review"][1]
    assert second.assumes_re_review
    assert "第2个" in describe(second, "zh")
    later = [d for d in cal if d.kind == "annual_report" and d.date.year == 2029][0]
    assert "假定此前的复核已通过" in describe(later, "zh")


def test_national_and_jiangsu_merged_in_date_order():
    cal = calendars([R["national"], R["jiangsu"]], D("2024-06-01"), D("2024-06-01"), D("2027-05-31"))
    assert [(d.date.isoformat(), d.jurisdiction, d.kind) for d in cal] == [
        ("2025-03-31", "jiangsu", "annual_report"),
        ("2025-04-10", "jiangsu", "annual_report"),
        ("2025-04-30", "national", "annual_report"),
        ("2026-03-31", "jiangsu", "annual_report"),
        ("2026-04-10", "jiangsu", "annual_report"),
        ("2026-04-30", "national", "annual_report"),
        ("2027-03-31", "jiangsu", "annual_report"),
        ("2027-04-10", "jiangsu", "annual_report"),
        ("2027-04-30", "national", "annual_report"),
        ("2027-05-31", "national", "re_review"),
        ("2027-05-31", "national", "validity_end"),
        ("2027-05-31", "jiangsu", "re_review"),
        ("2027-05-31", "jiangsu", "validity_end"),
    ]


def test_window_is_inclusive_and_filters():
    national, cert = R["national"], D("2024-06-01")
    assert rows(calendar(national, cert, D("2026-01-01"), D("2026-12-31"))) == [("2026-04-30", "annual_report")]
    assert rows(calendar(national, cert, D("2026-04-30"), D("2026-04-30"))) == [("2026-04-30", "annual_report")]
    assert calendar(national, cert, D("2026-05-01"), D("2027-04-29")) == []
    assert calendar(national, cert, D("2027-01-01"), D("2026-01-01")) == []
    # A window before the certification holds no report, only the measure's own term end.
    early = calendar(R["guangdong"], D("2026-06-01"), D("2025-01-01"), D("2026-05-31"))
    assert rows(early) == [("2026-02-27", "measure_term_end")]


def _bare(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("jurisdiction", ["national", "jiangsu", "guangdong", "shaanxi"])
def test_every_quoted_text_is_in_the_source(jurisdiction):
    ruleset = R[jurisdiction]
    source = _bare(ruleset.source_text())
    cal = calendar(ruleset, D("2022-01-01"), D("2020-01-01"), D("2035-12-31"))
    assert {d.kind for d in cal} >= {"annual_report", "re_review", "validity_end"}
    for d in cal:
        for quote in (d, d.missed, d.revocation):
            if quote is not None:
                assert _bare(quote.article_text) in source, (d.kind, quote.citation)


# --- wording ----------------------------------------------------------------------------

def test_descriptions_say_what_to_whom_which_year_and_the_consequence():
    cal = calendar(R["national"], D("2024-06-01"), D("2024-06-01"), D("2027-05-31"))
    assert describe(cal[0], "zh") == ("2025年4月30日前报送2024年度集群发展情况至工业和信息化部（第十六条）；"
                                      "逾期未报送属第十七条（三）撤销认定情形。")
    en = describe(cal[0], "en")
    assert "2024" in en and "Ministry of Industry and Information Technology" in en and "第十七条（三）" in en
    re_review = describe(cal[3], "zh")
    assert "2027年5月31日" in re_review and "申请复核" in re_review and "第十七条（一）" in re_review


def test_the_re_review_date_is_advice():
    """The texts say 有效期满后…组织开展复核: no date to apply is set, so the date is advice."""
    cal = calendar(R["jiangsu"], D("2024-06-01"), D("2024-06-01"), D("2027-05-31"))
    (re_review,) = [d for d in cal if d.kind == "re_review"]
    zh, en = describe(re_review, "zh"), describe(re_review, "en")
    assert "有效期满后" in zh and "此日期是建议" in zh and "第十四条（一）" in zh
    assert "This date is advice" in en and "有效期满后" in en


# The revocation items of a standing duty, read off each text: （二） and （四） (then （五）) of 国第十七条,
# 苏第十四条, 粤第十七条, 陕第十九条; Guangdong's （二） has no 违法违规.
DUTIES = {
    "national": [("第十七条（二）", "发现虚假申报或存在违法违规行为的"), ("第十七条（四）", "重大变动未及时更新报备的")],
    "jiangsu": [("第十四条（二）", "发现虚假申报或存在违法违规行为的"), ("第十四条（四）", "重大变动未及时更新报备的")],
    "guangdong": [("第十七条（二）", "发现虚假申报的"), ("第十七条（四）", "重大变动未及时更新报备的")],
    "shaanxi": [("第十九条（二）", "发现虚假申报或存在违法违规行为的"), ("第十九条（四）", "重大变动未及时更新报备的")],
}


@pytest.mark.parametrize("jurisdiction", list(DUTIES))
def test_standing_duties_quote_each_measure(jurisdiction):
    duties = R[jurisdiction].deadlines.duties
    assert [(d.citation, d.article_text[-len(end):]) for d, (_, end) in zip(duties, DUTIES[jurisdiction])] == \
        DUTIES[jurisdiction]
    assert duties[1].article_text == "集群发生主导产业、空间范围、运营管理机构变更等重大变动未及时更新报备的"
    if jurisdiction == "guangdong":
        assert duties[0].article_text == "发现虚假申报的"  # not 或存在违法违规行为


def test_deadlines_lists_the_standing_duties(capsys):
    code, out, _ = run(capsys, "-j", "guangdong", "--certified-on", "2024-06-01", "--until", "2025-12-31")
    assert code == 0
    assert "常设义务" in out and "第十七条（四）：“集群发生主导产业、空间范围、运营管理机构变更等重大变动未及时更新报备的”" in out
    assert "第十七条（二）：“发现虚假申报的”" in out
    assert "第十七条（五）：“集群企业发生较大及以上安全、质量和环境污染等事故" in out  # an accident revokes too
    code, out, _ = run(capsys, "-j", "guangdong", "--certified-on", "2024-06-01", "-f", "json", "--lang", "en")
    duty = [i for i in json.loads(out) if i["kind"] == "standing_duty"][1]
    assert duty["citation"] == "第十七条（四）" and duty["revocation"]["citation"] == "第十七条"
    assert duty["description"].startswith("· [Guangdong] 第十七条（四）")


@pytest.mark.parametrize("jurisdiction, day, lang, words", [
    ("jiangsu", "2023-04-30", "zh", "早于江苏办法（苏工信规〔2023〕3号）的施行日2023年5月1日"),   # 自2023年5月1日起实施
    ("jiangsu", "2023-04-30", "en", "before the Jiangsu measure"),
    ("national", "2022-09-12", "zh", "施行日2022年9月13日"),
    ("national,jiangsu", "2023-01-01", "zh", "江苏办法"),
    ("national", "2099-01-01", "zh", "晚于今天"),
    ("national", "2099-01-01", "en", "after today"),
    # 陕第二十一条 有效期2年 from 2023-04-28, 粤第十九条 有效期3年 from 2023-02-28: none is certified after
    ("shaanxi", "2025-05-01", "zh", "认定日期2025年5月1日晚于陕西办法（陕工信发〔2023〕89号）有效期的最后一日2025年4月27日"
                                    "（第二十一条“本办法自印发之日起实施，有效期2年。”）"),
    ("national,shaanxi", "2025-04-28", "en", "after the last day of the Shaanxi measure (陕工信发〔2023〕89号), "
                                             "2025-04-27 (第二十一条 “本办法自印发之日起实施，有效期2年。”)"),
    ("guangdong", "2026-02-28", "zh", "晚于广东办法（粤工信服务函〔2023〕4号）有效期的最后一日2026年2月27日"
                                      "（第十九条“本办法自2023年2月28日起实施，有效期3年。”）"),
])
def test_impossible_certification_dates_are_refused(capsys, jurisdiction, day, lang, words):
    code, out, err = run(capsys, "-j", jurisdiction, "--certified-on", day, "--lang", lang)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--certified-on" in err and words in err
    # the first day in force is accepted, and the last
    assert run(capsys, "-j", "jiangsu", "--certified-on", "2023-05-01")[0] == 0
    assert run(capsys, "-j", "shaanxi", "--certified-on", "2025-04-27")[0] == 0
    assert run(capsys, "-j", "guangdong", "--certified-on", "2026-02-27")[0] == 0


# --- the command ------------------------------------------------------------------------

def run(capsys, *argv):
    code = main(["deadlines", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape(capsys):
    code, out, _ = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "--format", "json")
    assert code == 0
    items = json.loads(out)
    assert [i["date"] for i in items] == ["2025-04-30", "2026-04-30", "2027-04-30", "2027-05-31",
                                          "2027-05-31", "2028-04-30", None, None, None]  # default window, duties
    assert [i["kind"] for i in items[-3:]] == ["standing_duty"] * 3  # 第十七条（二）（四）（五）
    for item in items:
        assert list(item)[:6] == ["date", "kind", "jurisdiction", "citation", "article_text", "description"]
        assert item["jurisdiction"] == "national" and item["ruleset"] == "national-2022"
    assert items[0]["consequence"].startswith("第十七条：“已认定的中小企业特色产业集群")
    assert items[0]["description"].startswith("2025年4月30日前报送2024年度")
    assert items[4]["kind"] == "validity_end" and items[4]["consequence"] is None


def test_deadlines_lists_the_reports_of_the_certification_year(capsys):
    code, out, _ = run(capsys, "-j", "jiangsu", "--certified-on", "2024-02-28", "-f", "json")
    items = json.loads(out)
    assert [i["date"] for i in items][:3] == ["2024-03-31", "2024-04-10", "2025-03-31"]
    code, out, _ = run(capsys, "-j", "national", "--certified-on", "2024-04-30", "-f", "json")
    assert [(i["date"], i["due_on_certification_day"]) for i in json.loads(out)[:2]] == [
        ("2024-04-30", True), ("2025-04-30", False)]


def test_json_english_keeps_article_text_verbatim(capsys):
    code, out, _ = run(capsys, "-j", "jiangsu", "--certified-on", "2024-06-01", "--until", "2025-12-31",
                       "-f", "json", "--lang", "en")
    items = json.loads(out)
    assert [i["date"] for i in items] == ["2025-03-31", "2025-04-10", None, None, None]
    assert items[0]["article_text"] == R["jiangsu"].deadlines.annual_reports[0].article_text
    assert "the local SME authority" in items[0]["description"]


def test_table(capsys):
    code, out, _ = run(capsys, "-j", "national,jiangsu", "--certified-on", "2024-06-01",
                       "--from", "2025-01-01", "--until", "2025-12-31")
    assert code == 0
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == 2 + 3 + 2 + 6  # the table, a blank line, the duties of both measures
    assert lines[0].split() == ["日期", "类型", "办法", "条款", "说明"]
    assert lines[2].startswith("2025-03-31") and "江苏" in lines[2] and "第十二条" in lines[2]
    assert lines[4].startswith("2025-04-30") and "国家（工信部）" in lines[4]
    # CJK alignment: the citation column starts at the same terminal column on every line.
    from dialogs.reports import text_width
    columns = {text_width(line[:line.index("第十")]) for line in lines[2:5]}
    assert len(columns) == 1


@pytest.mark.parametrize("argv, option", [
    (["-j", "national", "--certified-on", "2024-13-01"], "--certified-on"),
    (["-j", "national", "--certified-on", "yesterday"], "--certified-on"),
    (["-j", "hainan", "--certified-on", "2024-06-01"], "--jurisdiction"),
    (["-j", "national", "--certified-on", "2024-06-01", "--until", "1 May"], "--until"),
    (["-j", "national", "--certified-on", "2024-06-01", "--alarms", "400,-1"], "--alarms"),
])
def test_bad_argument_is_one_line_exit_2(capsys, argv, option):
    with pytest.raises(SystemExit) as exit_:
        main(["deadlines", *argv])  # in Chinese, as the calendar, without --lang
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"clusterbot deadlines：错误：参数 {option}") and "应为" in err


@pytest.mark.parametrize("names, english", [
    ("江苏", "jiangsu"), ("国家,江苏", "national,jiangsu"), ("工信部，广东", "national,guangdong"),
    ("国家、陕西", "national,shaanxi"), ("陕西省", "shaanxi"), ("National, Jiangsu", "national,jiangsu"),
    ("国家 江苏", "national,jiangsu"),  # as the chat's /track takes them; was 未知的办法 国家 江苏
])
def test_the_measures_chinese_names_are_taken_as_the_chat_takes_them(capsys, names, english):
    argv = ("--certified-on", "2024-06-01", "-f", "json")
    assert run(capsys, "-j", names, *argv)[:2] == run(capsys, "-j", english, *argv)[:2]


@pytest.mark.parametrize("jurisdiction", ["all", "jiangsu,guangdong", "江苏,广东", "national,guangdong,shaanxi", "全部"])
@pytest.mark.parametrize("lang, words", [("zh", "一个集群只能由国家和一个省认定"),
                                         ("en", "A cluster is certified by the national measure, one province's, or both")])
def test_one_clusters_calendar_has_no_two_provinces(capsys, jurisdiction, lang, words):
    # as the chat's /track: a cluster is certified nationally, by one province, or both
    with pytest.raises(SystemExit) as exit_:
        main(["deadlines", "-j", jurisdiction, "--certified-on", "2024-06-01", "--lang", lang])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err.count("\n") == 1 and "--jurisdiction" in err and words in err, err


def test_until_before_from_exit_2(capsys):
    code, out, err = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "--until", "2024-01-01")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--until" in err and "--from" in err


def _ics(capsys, *argv):
    code, out, _ = run(capsys, *argv, "--format", "ics")
    assert code == 0
    return out


def test_ics_parses_and_round_trips(capsys):
    out = _ics(capsys, "-j", "national,guangdong", "--certified-on", "2024-06-01",
               "--until", "2027-05-31")
    expected = calendars([R["national"], R["guangdong"]], D("2024-06-01"), D("2024-06-01"), D("2027-05-31"))
    cal = icalendar.Calendar.from_ical(out)
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(expected) == 11  # national 3 + 2, Guangdong 3 + 2 + term end
    assert [e.decoded("DTSTART") for e in events] == [d.date for d in expected]
    assert events[0].decoded("DTSTART") == date(2025, 3, 31) and events[0].decoded("DTEND") == date(2025, 4, 1)
    assert str(events[0]["SUMMARY"]) == "【广东】2024年度集群发展情况报送截止（报送省工业和信息化厅）"
    for event, d in zip(events, expected):
        description = str(event["DESCRIPTION"])
        assert description == ics_description(d, "zh")      # Chinese, newlines and all, exactly
        assert d.article_text in description
        alarms = [a.decoded("TRIGGER") for a in event.walk("VALARM")]
        assert alarms == ([] if d.kind == "validity_end" else [timedelta(days=-n, hours=9) for n in (30, 7, 1)])
    assert len({str(e["UID"]) for e in events}) == len(events)

    raw = out.encode("utf-8")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75
        line.decode("utf-8")  # folded between characters, never inside one


def test_ics_rings_once_for_a_validity_end_and_its_re_review(capsys):
    # 有效期届满 and 申请复核 fall on one day under one article (第十五条): a calendar app rang
    # every alarm twice that day, once per event; the chat reminds once (REMINDED_KINDS).
    cal = icalendar.Calendar.from_ical(_ics(capsys, "-j", "national,jiangsu", "--certified-on", "2024-02-29",
                                            "--from", "2027-02-28", "--until", "2027-02-28"))
    events = list(cal.walk("VEVENT"))
    assert sorted(str(e["CATEGORIES"].to_ical(), "utf-8") for e in events) == ["有效期届满", "有效期届满", "申请复核", "申请复核"]
    ringing = [(str(e["SUMMARY"]), a.decoded("TRIGGER")) for e in events for a in e.walk("VALARM")]
    assert len(ringing) == len(set(ringing)) == 2 * 3  # two measures' re-reviews, at 30, 7 and 1 days


def test_ics_english_escapes_and_stable_uids(capsys):
    argv = ("-j", "jiangsu", "--certified-on", "2024-06-01", "--until", "2025-12-31", "--lang", "en")
    first, second = _ics(capsys, *argv), _ics(capsys, *argv)
    events = list(icalendar.Calendar.from_ical(first).walk("VEVENT"))
    d = calendar(R["jiangsu"], D("2024-06-01"), D("2024-06-01"), D("2025-12-31"))[0]
    assert str(events[0]["DESCRIPTION"]) == ics_description(d, "en")  # has commas and semicolons
    assert str(events[0]["UID"]) == f"jiangsu-annual_report-20250331-certified-20240601-cluster-{cluster_key('')}@clusterbot"
    uids = lambda text: [line for line in text.split("\r\n") if line.startswith("UID:")]
    assert uids(first) == uids(second)


# --- the chat: /track refuses an impossible date, /deadlines shows the duties ------------

def _chat(tmp_path, now=datetime(2025, 3, 1, 10, 0)):
    """A conversation on a real SQLite file, by default on 2025-03-01 10:00 (Asia/Shanghai)."""
    conversation = Conversation(make_engine(f"sqlite:///{tmp_path / 'chat.db'}"), ManualClock(now))

    def say(text: str, user: str = "alice") -> str:
        return "\n".join(r.text for r in conversation.handle(user, text=text))
    return say


def test_chat_refuses_a_certification_before_the_measure_took_effect(tmp_path):
    say = _chat(tmp_path)
    text = say("/track 甲集群 江苏 2023-04-30")
    assert "早于江苏办法（苏工信规〔2023〕3号）的施行日2023年5月1日" in text and "未作任何更改" in text
    assert "认定日期是哪天" in text  # asked again, name and measure kept
    text = say("2023-05-01")
    assert "已开始跟踪 #1「甲集群」" in text
    say("/lang en", user="bob")
    text = say("/track B national 2022-09-01", user="bob")
    assert "before the National (MIIT) measure" in text and "Nothing was changed" in text


def test_chat_refuses_a_certification_after_the_measures_term(tmp_path):
    say = _chat(tmp_path, datetime(2026, 12, 7, 9, 0))
    text = say("/track 陕晚集群 陕西 2025-06-01")
    assert "晚于陕西办法（陕工信发〔2023〕89号）有效期的最后一日2025年4月27日（第二十一条“本办法自印发之日起实施，有效期2年。”）" in text
    assert "未作任何更改" in text and "认定日期是哪天" in text
    assert "已开始跟踪 #1「陕晚集群」" in say("2025-04-27")  # its last day
    text = say("/track 粤晚集群 广东 2026-06-01")
    assert "有效期的最后一日2026年2月27日（第十九条“本办法自2023年2月28日起实施，有效期3年。”）" in text
    say("/lang en", user="bob")
    text = say("/track Late guangdong 2026-03-01", user="bob")
    assert "after the last day of the Guangdong measure (粤工信服务函〔2023〕4号), 2026-02-27" in text
    assert "Nothing was changed" in text


def test_chat_deadlines_show_the_standing_duties(tmp_path):
    say = _chat(tmp_path)
    say("/track 甲集群 广东 2024-06-01")
    text = say("/deadlines")
    assert "常设义务" in text
    assert "【广东】第十七条（四）：“集群发生主导产业、空间范围、运营管理机构变更等重大变动未及时更新报备的”" in text
    assert "【广东】第十七条（二）：“发现虚假申报的”" in text


# --- clusterbot ask on deadlines and duties ----------------------------------------------

@pytest.mark.parametrize("question, words", [
    ("复核什么时候", ["有效期与复核", "第十五条：“集群有效期为三年。有效期满后", "第十四条（一）", "条文未规定申请复核的日期"]),
    ("年度报告什么时候交", ["每年4月30日前报送至工业和信息化部", "江苏】每年3月31日前", "每年4月10日前", "第十七条（三）"]),
    ("when is the annual report due", ["by April 30 each year, to the Ministry", "by April 10 each year",
                                       "ground for revocation under 第十七条（三）"]),
    ("广东 重大变动要报备吗", ["【广东】第十七条（四）：“集群发生主导产业", "【广东】第十七条（二）：“发现虚假申报的”"]),
])
def test_ask_answers_deadline_and_duty_questions_in_their_language(capsys, question, words):
    assert main(["ask", *question.split()]) == 0
    out = capsys.readouterr().out
    for w in words:
        assert w in out, (w, out)
    if question.isascii():
        assert out.startswith("Annual reports") and "年度报送（" not in out  # English around the verbatim quotations
    if "广东" in question:
        assert "江苏" not in out


def test_ask_still_answers_criteria_and_in_the_question_language(capsys):
    assert main(["ask", "valid", "invention", "patents", "per", "10,000"]) == 0
    out = capsys.readouterr().out
    assert "Invention patents per 10,000 employees" in out and "Validity" not in out
    assert main(["ask", "--lang", "en", "研发经费增长要求多少"]) == 0
    assert "研发经费年均增长" in capsys.readouterr().out
def test_two_clusters_certified_the_same_day_keep_all_their_events_in_one_calendar(capsys):
    argv = ("-j", "national,jiangsu", "--certified-on", "2024-06-01", "--until", "2027-05-31")
    first = icalendar.Calendar.from_ical(_ics(capsys, *argv, "--cluster", "甲县装备集群（四办法）"))
    second = icalendar.Calendar.from_ical(_ics(capsys, *argv, "--cluster", "乙县纺织集群"))
    assert str(first["X-WR-CALNAME"]) == "甲县装备集群（四办法）认定期限（2024年6月1日认定）"
    merged = {str(e["UID"]): e for cal in (first, second) for e in cal.walk("VEVENT")}  # a calendar keys on UID
    assert len(merged) == len(first.walk("VEVENT")) + len(second.walk("VEVENT"))
    assert all(cluster_key("乙县纺织集群") in str(e["UID"]) for e in second.walk("VEVENT"))
    assert str(second.walk("VEVENT")[0]["SUMMARY"]).startswith("乙县纺织集群：")


def test_a_cluster_name_with_a_line_break_is_one_line_in_the_calendar(capsys):
    # pasted from a document: a line break or a control character is not an iCalendar title's
    cal = icalendar.Calendar.from_ical(_ics(capsys, "-j", "jiangsu", "--certified-on", "2024-06-01",
                                            "--cluster", "甲县\n装备\t集群\x01 "))
    assert str(cal["X-WR-CALNAME"]).startswith("甲县 装备 集群认定期限")
    assert str(cal.walk("VEVENT")[0]["SUMMARY"]).startswith("甲县 装备 集群：")


def test_a_calendars_name_is_escaped_as_text(capsys):
    ics = _ics(capsys, "-j", "jiangsu", "--certified-on", "2024-06-01", "--cluster", "甲;乙,丙\\丁")
    assert "X-WR-CALNAME:甲\\;乙\\,丙\\\\丁认定期限" in ics


def test_alarms_are_configurable(capsys):
    cal = icalendar.Calendar.from_ical(_ics(capsys, "-j", "jiangsu", "--certified-on", "2024-06-01",
                                            "--alarms", "14,3"))
    alarms = [a.decoded("TRIGGER") for a in cal.walk("VEVENT")[0].walk("VALARM")]
    assert alarms == [timedelta(days=-14, hours=9), timedelta(days=-3, hours=9)]  # at the chat's reminder time


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_example_the_no_match_hint_gives_finds_a_criterion(lang):
    from dialogs.compare import question_language, search_criteria
    from locales import t

    hint = t(lang, "compare.no_match", query="?").split("：" if lang == "zh" else "Try: ")[-1].rstrip("。.")
    examples = re.split("、|, ", hint)
    assert len(examples) == 6, examples
    for example in examples:
        assert search_criteria(example, lang)[1], example
        if lang == "en":  # answered in the language of the hint that gave it
            assert question_language(example, "zh") == "en", example


@pytest.mark.parametrize("measures, bodies", [("national,jiangsu", ("Ministry of", "Jiangsu Department of")),
                                              ("guangdong", ("Guangdong Department of",)),
                                              ("shaanxi", ("Shaanxi Department of",))])
def test_an_english_sentence_names_the_issuing_body_with_the(capsys, measures, bodies):
    assert main(["deadlines", "--lang", "en", "-j", measures, "--certified-on", "2024-04-10"]) == 0
    out = capsys.readouterr().out
    for body in bodies:
        assert f"(有效期满后) the {body} Industry and Information Technology organises the re-review" in out
    assert "is the last day of the three-year validity period 1" in out
    assert re.search(r"(?<!the )(?<!The )\b(Ministry|(Jiangsu|Guangdong|Shaanxi) Department) of", out) is None


# --- a cluster certified nationally and by its province, each on its own day ------------------
# National 第十二条: 申报认定的集群应…并已认定为省级集群 — the province certified first. Each
# measure counts 有效期为三年 from its own certification: Jiangsu 2023-10-15 → 2026-10-14 (第十一条),
# national 2024-06-01 → 2027-05-31 (第十五条). One date for both put Jiangsu's re-review
# (第十四条（一）有效期满未申请复核: revoked) seven months late.

def test_each_measure_counts_from_its_own_certification():
    cal = calendars([R["national"], R["jiangsu"]], {"national": D("2024-06-01"), "jiangsu": D("2023-10-15")},
                    D("2023-10-15"), D("2027-06-30"))
    re_reviews = [(d.jurisdiction, d.date.isoformat(), d.certified_on.isoformat()) for d in cal if d.kind == "re_review"]
    assert re_reviews == [("jiangsu", "2026-10-14", "2023-10-15"), ("national", "2027-05-31", "2024-06-01")]
    reports = [(d.jurisdiction, d.date.isoformat()) for d in cal if d.kind == "annual_report"]
    assert reports[:4] == [("jiangsu", "2024-03-31"), ("jiangsu", "2024-04-10"), ("jiangsu", "2025-03-31"),
                           ("jiangsu", "2025-04-10")]
    assert ("national", "2024-04-30") not in reports and ("national", "2025-04-30") in reports


def test_deadlines_takes_each_measures_certification_date(capsys):
    code, out, err = run(capsys, "-j", "国家,江苏", "--certified-on", "国家=2024-06-01，江苏：2023-10-15",
                         "--format", "json", "--until", "2027-06-30")
    assert code == 0 and err == ""
    items = [i for i in json.loads(out) if i.get("kind") == "re_review"]
    assert [(i["jurisdiction"], i["date"]) for i in items] == [("jiangsu", "2026-10-14"), ("national", "2027-05-31")]
    cal = icalendar.Calendar.from_ical(_ics(capsys, "-j", "national,jiangsu", "--certified-on",
                                            "national=2024-06-01,jiangsu=2023-10-15", "--cluster", "甲"))
    assert str(cal["X-WR-CALNAME"]) == "甲认定期限（国家（工信部）2024年6月1日、江苏2023年10月15日认定）"
    assert "jiangsu-re_review-20261014-certified-20231015-cluster-" in "".join(str(e["UID"]) for e in cal.walk("VEVENT"))


@pytest.mark.parametrize("argv, words", [
    (("-j", "national,jiangsu", "--certified-on", "national=2024-06-01"), "国家（工信部）、江苏"),
    (("-j", "jiangsu", "--certified-on", "national=2024-06-01,jiangsu=2023-10-15"), "所选的办法是江苏"),
    (("-j", "jiangsu", "--certified-on", "all=2023-10-15"), "“all=2023-10-15”看不懂"),
    (("-j", "jiangsu", "--certified-on", "jiangsu=2023-02-30"), "“2023-02-30”不是日期"),
    (("-j", "national,jiangsu", "--certified-on", "national=2024-06-01,jiangsu=2023-04-01"), "早于江苏办法"),
    (("-j", "national,jiangsu", "--certified-on", "national=2024-06-01,jiangsu=2024-06-02"), "晚于国家级认定日期2024年6月1日"),
])
def test_each_measures_date_refused_naming_what_is_expected(capsys, argv, words):
    try:
        code = main(["deadlines", *argv])
    except SystemExit as exit_:  # refused while the arguments are read
        code = exit_.code
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and "--certified-on" in err and words in err


def test_one_date_for_two_measures_is_said(capsys):
    code, out, err = run(capsys, "-j", "national,jiangsu", "--certified-on", "2024-06-01")
    assert code == 0 and "申请复核" in out
    assert "国家办法第十二条" in err and "--certified-on national=YYYY-MM-DD" in err
    code, out, err = run(capsys, "-j", "national,jiangsu", "--certified-on", "2024-06-01", "--lang", "en")
    assert err.startswith("Note: both measures are counted from one certification date, 2024-06-01.")
    assert run(capsys, "-j", "jiangsu", "--certified-on", "2024-06-01")[2] == ""  # one measure: nothing to say


def test_a_later_from_alone_lists_the_year_after_it(capsys):
    # --from 2030-01-01 without --until was refused as "--until 2028-05-31 早于 --from"
    code, out, err = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "--from", "2030-01-01", "-f", "json")
    assert code == 0 and err == ""
    assert [(i["date"], i["kind"]) for i in json.loads(out) if i["date"]] == [
        ("2030-04-30", "annual_report"), ("2030-05-31", "re_review"), ("2030-05-31", "validity_end")]


@pytest.mark.parametrize("typed", ["2024年6月1日", "2024/6/1", "２０２４年６月１日", "1 June 2024"])
def test_a_certification_date_is_read_as_the_chat_reads_it(capsys, typed):
    """An official types the date on the command line as in the chat's /track: it was refused
    as no YYYY-MM-DD."""
    iso = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "-f", "json")
    assert run(capsys, "-j", "national", "--certified-on", typed, "-f", "json") == iso and iso[0] == 0
    both = run(capsys, "-j", "national,jiangsu", "--certified-on", "national=2024-06-01,jiangsu=2023-10-15", "-f", "json")
    assert run(capsys, "-j", "national,jiangsu", "--certified-on", "国家=2024年6月1日，江苏=2023年10月15日",
               "-f", "json") == both and both[0] == 0


def test_evaluate_takes_its_date_as_the_chat_writes_it(capsys):
    example = str(Path(__file__).parents[1] / "examples" / "示例集群.json")
    results = []
    for on in ("2025年3月1日", "2025-03-01"):  # 近三年 2022–2024: not the default date's
        code = main(["evaluate", example, "--on", on, "-f", "json"])
        results.append((code, *capsys.readouterr()))
    assert results[0] == results[1] and "2022年" in results[0][1]


@pytest.mark.parametrize("lang, words", [
    ((), "参数 --until：9999-12-31 晚于 --from 2024-06-01 之后 100 年；应不晚于 2124-06-01"),
    (("--lang", "en"), "argument --until: 9999-12-31 is more than 100 years after --from 2024-06-01; "
                       "expected 2124-06-01 or earlier")])
def test_an_until_past_a_hundred_years_is_refused_naming_the_last_day_taken(capsys, lang, words):
    """--until 9999-12-31 took tens of seconds and wrote some 19 MB of .ics."""
    code, out, err = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "--until", "9999-12-31", *lang)
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err
    code, out, err = run(capsys, "-j", "national", "--certified-on", "2024-06-01", "--until", "2124-06-01", "-f", "json")
    dates = [i["date"] for i in json.loads(out) if i["date"]]  # the standing duties have none
    assert code == 0 and err == "" and dates[-1] <= "2124-06-01" and len(dates) > 100
