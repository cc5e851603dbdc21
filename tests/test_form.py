"""The Jiangsu application form: filled forms built with openpyxl and python-docx, checked
through the CLI (`clusterbot form check`) and in-process; bad files refused with one line."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.cli import main
from dialogs.forms import finding_text
from dialogs.form_files import MAX_BYTES, FormFileError, read_bytes, read_path
from dialogs.parse import read_figure
from engine import load_rulesets
from engine.form import check_form, load_form, squeeze
from bench.standins.form_helpers import NAME, PLAN, passing, rows_of, write_docx, write_xlsx

ON = dt.date(2024, 6, 1)
SOURCE = squeeze(load_form().source_text())
MEASURE = squeeze(load_rulesets()[load_form().measure].source_text())


def check(path, extra_facts=None):
    """The form checked as `form check` and the chat check it (Chinese numerals read as the chat reads them)."""
    return check_form(read_path(str(path)), ON, extra_facts=extra_facts, figure=read_figure)


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_form_with_nothing_to_say_has_no_empty_heading_of_its_checks(tmp_path, capsys, fmt):
    """The report of a form that passes said 表内检查 (Checks of the form) and nothing under it,
    in the chat (WeCom, DingTalk…) and in `form check`: the heading comes with findings only."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", fmt)
    assert status == 0, out
    assert "申报表检查通过" in out and "按表内数据评估" in out
    assert "表内检查" not in out
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", fmt, "--lang", "en")
    assert status == 0 and "Checks of the form" not in out and "Evaluation from the form's figures" in out


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_a_complete_form_passes_with_its_figures_read(tmp_path, capsys, writer):
    path = writer(tmp_path / f"form.{writer.__name__[-4:]}", passing())
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    assert status == 0, out
    report = json.loads(out)[0]
    assert report["passed"] and report["findings"] == [] and report["cluster"] == NAME
    facts = report["facts"]
    assert facts["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert facts["leading_output_growth"] == 12.0            # the stated average, checked against the rates
    assert facts["srdi_sme_count"] == 20                     # the data year's count
    assert facts["innovation_platforms"] == 6                # national 2 + provincial 4
    assert facts["standards_count"] == 4                     # 国家 and 行业 rows, both roles, three years
    assert facts["cloud_or_identifier_rate"] == 40.0         # the larger of 上云 40 and 上标识 30
    assert facts["resource_sharing_count"] == 2
    assert facts["innovation_incentive"] is True and facts["key_tech_tackling"] is True
    # 联合攻关 is Jiangsu's 攻关, not 突破; the 产供销协同 box is a part of chain_collaboration
    assert "key_tech_breakthrough" not in facts and "chain_collaboration" not in facts
    assert facts["high_energy_industry"] is False and facts["water_efficiency_ok"] is True
    assert facts["management_body"] is True and facts["three_year_plan"] is True
    jiangsu = report["evaluations"][0]
    assert jiangsu["jurisdiction"] == "jiangsu" and not jiangsu["for_comparison"]
    assert all(e["for_comparison"] for e in report["evaluations"][1:])
    statuses = {c["id"]: c["status"] for c in jiangsu["criteria"]}
    assert "fail" not in statuses.values()
    # What the form does not ask stays unknown: the county-level condition, the exclusions.
    assert statuses["county-level"] == "unknown"


def finding_codes(report):
    return {(f.code, f.field, f.year) for f in report.findings}


CASES = {
    "required": ({"cluster_name": [""]}, ("required", "集群名称", None)),
    "not_number": ({"total_output": [45.0, "见附件", 52.9]}, ("not_number", "集群总产值（亿元）", "2022")),
    "decimals": ({"total_output": [45.123, 48.2, 52.9]}, ("decimals", "集群总产值（亿元）", "2021")),
    "not_integer": ({"enterprises": [300.5, 320, 350]}, ("not_integer", "集群企业数量", "2021")),
    "range": ({"sme_output_share": [80.5, 101, 82.3]}, ("range", "集群内中小企业产值占集群总产值比例（%）", "2022")),
    "below": ({"std_intl_lead": [-1, 0, 0]}, ("below", "国际主持数量", "2021")),
    "range_of_fact": ({"area": [-3]}, ("range", "集群占地面积（平方公里）", None)),
    "unknown_option": ({"priority_chain": ["也许"]},
                       ("unknown_option", "集群主导产业是否属于全省16个先进制造业集群和50条重点产业链", None)),
    "several": ({"priority_chain": ["☑是\n☑否"]},
                ("several", "集群主导产业是否属于全省16个先进制造业集群和50条重点产业链", None)),
    "names_mismatch": ({"platforms_national": ["数量：3个\n名称：甲中心、乙中心"]},
                       ("names_mismatch", "国家制造业创新中心或国家级创新平台名称及数量", None)),
    "average_mismatch": ({"leading_growth_average": [14.0]}, ("average_mismatch", "近三年主导产业产值年均增速（%）", None)),
    "per_10k_mismatch": ({"patents_per_10k": [150.0]},
                         ("per_10k_mismatch", "集群中小企业从业人员每万人有效发明专利拥有量", None)),
    "exceeds": ({"smes": [290, 330, 338]}, ("exceeds", "其中：集群中小企业数量", "2022")),
    "exceeds_warning": ({"little_giants": [2, 3, 25]}, ("exceeds", "主导产业相关的专精特新“小巨人”企业数量", "2023")),
    "reduction_mismatch": ({"co2_reduction": [20.0]}, ("reduction_mismatch", "近三年累计降低率", None)),
    "plan_too_long": ({"plan_text": [PLAN + "很" * 3000]}, ("plan_too_long", "未来三年中小企业特色产业集群发展规划", None)),
    "headings_missing": ({"plan_text": [PLAN.replace("保障措施", "")]},
                         ("headings_missing", "未来三年中小企业特色产业集群发展规划", None)),
    "baseline_mismatch": ({"target_patents": [800, 1400]}, ("baseline_mismatch", "有效发明专利数量", None)),
    "baseline_standard": ({"target_iip": [15.0, 45.0], "iip_rate": [15.0]}, ("baseline_standard", "工业互联网普及率", None)),
    "not_rising": ({"stages_quality_smes": [70, 70, 90]}, ("not_rising", "优质中小企业数量", None)),
    "target_low": ({"target_output_growth": [12.5, 9.5]}, ("target_low", "集群产值年均增速", None)),
    "growth_low": ({"target_rd": [5.0, 6.0]}, ("growth_low", "研发经费投入", None)),
    "about_low": ({"target_iip": [25.0, 38.0]}, ("about_low", "工业互联网普及率", None)),
    "reduction_low": ({"target_co2": [1.00, 0.90]}, ("reduction_low", "二氧化碳排放量", None)),
    "statement_missing": ({"promise_text": [""]}, ("statement_missing", "承诺函", None)),
    "not_signed": ({"declaration_signed": [""]}, ("required", "县级行政区划中小企业主管部门负责人（签字）", None)),
    "not_sealed": ({"promise_sealed": [""]}, ("required", "（公章）", None)),
    "bad_date": ({"declaration_date": ["三月中旬"]}, ("bad_date", "年月日", None)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_finding_names_section_field_and_year_and_quotes_the_form(tmp_path, case):
    changes, expected = CASES[case]
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **changes}))
    assert expected in finding_codes(report), [(f.code, f.field, f.year) for f in report.findings]
    for f in report.findings:  # a failed criterion quotes its article, the rest the form
        assert squeeze(f.quote) in (MEASURE if f.code == "criterion" else SOURCE), f.quote
        assert f.section.split("、")[-1] in SOURCE
        assert f.field in finding_text(f, "zh") and f.field in finding_text(f, "en")


def test_warnings_alone_pass_and_errors_fail_through_the_cli(tmp_path, capsys):
    warned = write_xlsx(tmp_path / "warned.xlsx", {**passing(), "target_iip": [25.0, 38.0]})
    status, out, _ = run(capsys, "form", "check", str(warned), "--on", "2024-06-01")
    assert status == 0 and "[提示]" in out and "工业互联网普及率达到45%左右" in out
    wrong = write_xlsx(tmp_path / "wrong.xlsx", {**passing(), "total_output": [45.0, "见附件", 52.9]})
    status, out, _ = run(capsys, "form", "check", str(wrong), "--on", "2024-06-01", "--lang", "en")
    assert status == 1
    assert "二、主导产业情况 “集群总产值（亿元）” 2022 expects a number, got “见附件”." in out


def test_the_summary_counts_in_the_singular_and_the_plural(tmp_path, capsys):
    one = write_xlsx(tmp_path / "one.xlsx", {**passing(), "area": [200000]})
    status, out, _ = run(capsys, "form", "check", str(one), "--on", "2024-06-01", "--lang", "en")
    assert status == 1 and "The form has 1 problem and 0 notes." in out
    two = write_xlsx(tmp_path / "two.xlsx", {**passing(), "area": [200000], "target_iip": [25.0, 38.0],
                                             "cluster_name": [""]})
    status, out, _ = run(capsys, "form", "check", str(two), "--on", "2024-06-01", "--lang", "en")
    assert "The form has 2 problems and 1 note." in out
    status, out, _ = run(capsys, "form", "check", str(two), "--on", "2024-06-01")
    assert "申报表有 2 个问题、1 个提示。" in out
    warned = write_xlsx(tmp_path / "warned.xlsx", {**passing(), "target_iip": [25.0, 38.0]})
    status, out, _ = run(capsys, "form", "check", str(warned), "--on", "2024-06-01", "--lang", "en")
    assert status == 0 and "The form passes the check, with 1 note." in out


def test_a_failed_criterion_of_the_jiangsu_measure_is_a_finding_with_its_article(tmp_path, capsys):
    path = write_xlsx(tmp_path / "low.xlsx", {**passing(), "total_output": [45.0, 48.2, 38.5]})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "markdown")
    assert status == 1
    assert "第六条（二）" in out and "近三年，集群总产值每年均在40亿元以上" in out
    assert "（仅供对比）" in out


def test_a_failed_criterion_is_counted_and_names_section_row_and_year(tmp_path, capsys):
    """The summary counts a failed criterion of the form's own measure: it is a finding on the
    row and the year that fail it, quoting the article."""
    path = write_xlsx(tmp_path / "low.xlsx", {**passing(), "total_output": [39.99, 48.2, 52.9]})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2026-12-07")
    assert status == 1 and "申报表有 1 个问题、0 个提示。" in out
    assert ("二、主导产业情况「集群总产值（亿元）」2021年39.99亿元，不符合江苏第六条（二）（近三年每年均在40亿元以上），"
            "差 0.01亿元。") in out
    assert "条文原文：第六条（二）“近三年，集群总产值每年均在40亿元以上”" in out
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2026-12-07", "--lang", "en")
    assert "The form has 1 problem and 0 notes." in out
    assert "二、主导产业情况 “集群总产值（亿元）” 2021 39.99 hundred million yuan fails Jiangsu 第六条（二）" in out
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2026-12-07", "-f", "json")
    (finding,) = json.loads(out)[0]["findings"]
    assert (finding["code"], finding["section"], finding["field"], finding["year"]) == (
        "criterion", "二、主导产业情况", "集群总产值（亿元）", "2021")
    assert finding["quote"] == "近三年，集群总产值每年均在40亿元以上"


@pytest.mark.parametrize("chosen,facts", [
    ([0, 1, 2, 4], {"key_tech_tackling": True, "chain_collaboration": None}),
    ([0, 1], {"key_tech_tackling": False, "chain_collaboration": False}),
    ([], {"key_tech_tackling": False, "chain_collaboration": False}),
])
def test_each_chain_work_box_reads_only_what_it_asks(tmp_path, chosen, facts):
    """The 联合攻关 box is Jiangsu's 攻关 (第六条（五）), never the others' 突破, which the form does
    not ask; the 产供销协同 box is one part of chain_collaboration (布局合理 and 配套能力 are the
    reviewer's): unticked it fails the criterion, ticked it leaves it open."""
    from bench.standins.form_helpers import _options, ticked

    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "chain_work": [ticked(_options("chain_work"), chosen)]}))
    assert {fact: report.facts.get(fact) for fact in facts} == facts
    assert "key_tech_breakthrough" not in report.facts
    statuses = {ev.ruleset.jurisdiction: {r.criterion.id: r.status for r in ev.results} for ev in report.evaluations}
    assert statuses["jiangsu"]["key-tech"] == ("pass" if facts["key_tech_tackling"] else "fail")
    assert statuses["jiangsu"]["chain-collaboration"] == ("unknown" if 4 in chosen else "fail")
    assert statuses["national"]["key-tech"] == "unknown"


def test_a_declaration_or_promise_dated_after_the_check_is_a_finding(tmp_path, capsys):
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "declaration_date": ["2027年3月15日"],
                                               "promise_date": ["2027年3月15日"]})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2026-12-07")
    assert status == 1 and "申报表有 2 个问题、0 个提示。" in out
    assert "九、真实性声明及推荐意见「真实性声明」下的「年月日」填的是 2027年3月15日，晚于检查日期 2026年12月7日。" in out
    assert "承诺函「年月日」填的是 2027年3月15日，晚于检查日期 2026年12月7日。" in out
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2026-12-07", "--lang", "en")
    assert "承诺函 “年月日” is 2027-03-15, later than the date of the check, 2026-12-07." in out
    # dated on the day of the check: no finding
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2027-03-15")
    assert "晚于检查日期" not in out


@pytest.mark.parametrize("written", ["二〇二四年三月十五日", "二○二四年三月十五日", "二零二四年三月十五日", "贰零贰肆年叁月拾伍日",
                                     "2024年三月十五日"])
def test_a_date_in_chinese_numerals_is_read(tmp_path, written):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "promise_date": [written]}))
    assert report.findings == [] and report.values["promise_date"] == dt.date(2024, 3, 15)


@pytest.mark.parametrize("written, day", [("二〇二四年三月卅一日", 31), ("二〇二四年三月卅日", 30), ("2024年3月廿日", 20)])
def test_a_date_with_卅_or_廿_is_read(tmp_path, written, day):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "promise_date": [written]}))
    assert report.findings == [] and report.values["promise_date"] == dt.date(2024, 3, day)


def test_a_date_not_read_is_said_with_the_way_to_write_one(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "promise_date": ["二〇二四年二月三十日"]}))
    [finding] = report.findings
    assert finding_text(finding, "zh") == "承诺函「年月日」“二〇二四年二月三十日”不是日期；应写作 YYYY年M月D日，如 2024年3月15日。"
    assert finding_text(finding, "en").endswith("is not a date; write it as YYYY年M月D日, such as 2024年3月15日.")


def test_the_promise_is_checked_against_the_facts(tmp_path):
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    report = check(path, extra_facts={"accident_level": "larger"})
    promise = [f for f in report.findings if f.code == "promise_false"]
    assert [f.quote for f in promise] == ["集群及集群内企业近三年未发生较大及以上安全、质量和环境污染等事故"]
    assert not report.passed
    # 第七条 itself excludes only 重大及以上; the 承诺函's promise fails the application.
    assert report.evaluations[0].by_id("accident").status == "pass"
    assert report.evaluations[0].by_id("accident-pledge").status == "fail"


def _promise_written(path, name: str | None, issuer: str | None):
    """The form at `path` with the 承诺函's XXX集群 as `name` and its XXX市工业和信息化局 row's
    label as `issuer` (the name written in place, as on the paper letter), the cell after it emptied."""
    import docx
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path)
        cells = [row[:2] for row in book["承诺函"].iter_rows()]
    else:
        book = docx.Document(path)
        cells = [row.cells[:2] for row in book.tables[-1].rows]
    for label, value in cells:
        text = label.value if path.suffix == ".xlsx" else label.text
        new = None
        written = value.value if path.suffix == ".xlsx" else value.text
        if text == "承诺函" and written and name is not None:
            new = [(value, re.sub(f"{re.escape(NAME)}集群|XXX集群", name, written))]
        elif text == "XXX市工业和信息化局" and issuer is not None:
            new = (label, issuer), (value, None)
        for cell, v in new or ():
            if path.suffix == ".xlsx":
                cell.value = v
            else:
                cell.text = v or ""
    book.save(path)
    return path


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_the_promise_letter_filled_as_on_paper_is_read_and_its_xxx_left_is_a_finding(tmp_path, writer):
    """The 承诺函 is a letter: its XXX市工业和信息化局 filled by writing the city in place of XXX
    is the row filled; its XXX集群 left as it is, or taken out with nothing for it, is a finding
    quoting the letter, in either language."""
    source = writer(tmp_path / f"form.{writer.__name__[-4:]}", passing())
    report = check(_promise_written(source, f"{NAME}集群", "示例市工业和信息化局"))
    assert report.findings == [] and report.values["promise_issuer"] == "示例市工业和信息化局"
    for left in ("XXX集群", "集群"):
        report = check(_promise_written(source, left, None))
        assert [(f.code, f.field) for f in report.findings] == [("placeholder", "承诺函")]
        assert report.findings[0].quote == load_form().field("promise_text").text
        assert squeeze(report.findings[0].quote) in SOURCE
        assert finding_text(report.findings[0], "zh") == "承诺函「承诺函」原文中的“XXX”仍未替换为本集群的名称。"
        assert "XXX" in finding_text(report.findings[0], "en") and "cluster's name" in finding_text(report.findings[0], "en")
        assert not report.passed


@pytest.mark.parametrize("written, other", [
    ("乙县纺织产业集群", True), ("示例县纺织产业集群", True), (f"{NAME}集群", False),
    ("示例县精密机械集群", False), ("示例市精密机械产业集群", False), ("精密机械产业集群", False),
])
def test_a_promise_letter_naming_another_cluster_is_a_note(tmp_path, written, other):
    """The letter's 我市本次申报的XXX集群 written with another cluster's name (a letter copied
    from last year's form) is a note naming both; the form's name shortened or lengthened is not."""
    source = write_xlsx(tmp_path / "form.xlsx", passing())
    report = check(_promise_written(source, written, "示例市工业和信息化局"))
    found = [(f.code, f.severity, f.field) for f in report.findings]
    assert found == ([("promise_name", "warning", "承诺函")] if other else []), found
    if other:
        assert f"承诺函「承诺函」写的是“{written}”，与「集群名称」“{NAME}”不一致，请核对。" == \
            finding_text(report.findings[0], "zh")
        assert f"names “{written}”, not the form's 集群名称 “{NAME}”" in finding_text(report.findings[0], "en")


def test_a_county_level_citys_bureau_is_never_taken_for_the_promises_signature(tmp_path):
    """江阴市工业和信息化局 as the 县级行政区划中小企业主管部门 of a form in one table (a Word
    document, one sheet) is that row's value, not the 承诺函's XXX市工业和信息化局 filled in."""
    changes = {"county_department": ["江阴市工业和信息化局"], "department_contact": ["江阴市工业和信息化局"]}
    report = check(write_docx(tmp_path / "form.docx", {**passing(), **changes}))
    assert report.findings == [] and report.values["promise_issuer"] == "示例市工业和信息化局"
    assert report.values["county_department"] == "江阴市工业和信息化局"


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_a_criterion_with_a_warning_is_a_note_on_its_row(tmp_path, capsys, writer):
    """集群占地面积一般不超过100平方公里 is a soft limit: over it the form passes with a note on the
    area's row (counted), as a failed criterion is a problem on its row."""
    path = writer(tmp_path / f"form.{writer.__name__[-4:]}", {**passing(), "area": [120],
                                                               "priority_chain": ["□是\n☑否"]})
    report = check(path)
    notes = [f for f in report.findings if f.code == "criterion"]
    assert [(f.severity, f.field, f.params["result"].criterion.id) for f in notes] == [
        ("warning", "集群占地面积（平方公里）", "area"),
        ("warning", "集群主导产业是否属于全省16个先进制造业集群和50条重点产业链", "priority-chain")]
    assert report.passed and not report.errors
    assert finding_text(notes[0], "zh").startswith(
        "一、基本情况「集群占地面积（平方公里）」对照江苏第六条（一）：集群占地面积：120.00平方公里；")
    assert "noted under Jiangsu 第六条（一）: " in finding_text(notes[0], "en")
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 0 and "申报表检查通过，有 2 个提示。" in out
    assert "[提示] 一、基本情况「集群占地面积（平方公里）」对照江苏第六条（一）" in out


def test_the_champions_row_counts_every_level_for_jiangsu(tmp_path):
    """「主导产业相关的制造业单项冠军企业数量」 names no level: all champions of provincial level or
    above, Jiangsu 第六条（三）'s whole count. A form failing it fails it, never 待定 for want of
    the provincial count; no national reading counts the row as national champions."""
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "champions": [0, 0, 0], "little_giants": [0, 0, 0],
                                               "srdi_smes": [5, 6, 7], "hitech": [7, 7, 7]})
    report = check(path)
    assert report.evaluations[0].by_id("quality-enterprises").status == "fail"
    assert "leading_provincial_champion_count" not in report.evaluations[0].missing
    report = check(write_xlsx(tmp_path / "three.xlsx", {**passing(), "champions": [3, 3, 3], "little_giants": [0, 0, 0],
                                                       "srdi_smes": [5, 6, 7], "hitech": [7, 7, 7]}))
    assert (report.facts["leading_provincial_champion_count"], report.facts["champion_count"]) == (3, 0)  # none as national
    assert report.evaluations[0].by_id("quality-enterprises").status == "pass"
    # the national and provincial counts known besides are kept where they add up to the row, else the row wins
    report = check(path, extra_facts={"champion_count": 1, "leading_provincial_champion_count": 2})
    assert (report.facts["champion_count"], report.facts["leading_provincial_champion_count"]) == (0, 0)
    report = check(write_xlsx(tmp_path / "split.xlsx", {**passing(), "champions": [3, 3, 3]}),
                   extra_facts={"champion_count": 1, "leading_provincial_champion_count": 2})
    assert (report.facts["champion_count"], report.facts["leading_provincial_champion_count"]) == (1, 2)


def test_ticks_short_of_the_answers_known_besides_are_noted(tmp_path):
    """The form's ticks give 否 (or fewer) where the facts known besides say 是 (or more): a note on
    the row, the ticks evaluated; ticks agreeing with them, or giving more, are not noted."""
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "intl_work": ["无"]})
    known = {"intl_cooperation": True, "resource_sharing_count": 3, "public_service_system": True}
    notes = [f for f in check(path, extra_facts=known).findings if f.code == "answer_contradicted"]
    assert [(f.severity, f.field, f.params["fact"]) for f in notes] == [
        ("warning", "集群已开展的产业链资源协同协作工作", "resource_sharing_count"),
        ("warning", "集群内机构或法人已开展的国际合作交流活动", "intl_cooperation")]
    assert "was answered “yes”, the form's ticks give “no” (the ticks are evaluated)." in finding_text(notes[1], "en")
    for agreeing in ({"intl_cooperation": False, "resource_sharing_count": 1}, {}):
        assert not any(f.code == "answer_contradicted" for f in check(path, extra_facts=agreeing).findings)


def test_union_of_cloud_and_identifier_shares_is_checked_when_known(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", passing()), extra_facts={"cloud_or_identifier_rate": 80.0})
    assert ("union_mismatch", "企业上云比例（%）", None) in finding_codes(report)


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
@pytest.mark.parametrize("cloud, identifier, row", [
    (29.99, 20.0, "企业上云比例（%）"), (20.0, 29.99, "企业上标识比例（%）"),
    (29.99, 29.99, "企业上云比例（%）"), (0.0, 29.99, "企业上标识比例（%）")])
def test_the_cloud_or_identifier_finding_names_the_larger_row(tmp_path, writer, cloud, identifier, row):
    """上云或上标识 is evaluated as the larger of the two rows: the finding names that row."""
    path = writer(tmp_path / f"form.{writer.__name__[-4:]}",
                  {**passing(), "cloud_rate": [cloud], "identifier_rate": [identifier]})
    failed = [f for f in check(path).findings if f.code == "criterion"]
    assert [(f.field, f.params["result"].criterion.citation) for f in failed] == [(row, "第六条（六）")]
    assert f"四、数字化升级情况「{row}」不符合江苏第六条（六）：企业上云或上标识比例：{max(cloud, identifier):g}%" \
        in finding_text(failed[0], "zh")


def test_a_number_keeps_the_forms_own_unit_and_note(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "invention_patents": ["900 个\n（需提供清单及年份）"],
                                                        "area": ["80平方公里"], "iip_rate": ["25%"]}))
    assert not report.findings
    assert (report.values["invention_patents"], report.values["area"], report.values["iip_rate"]) == (900, 80.0, 25.0)


def test_无_is_none_of_an_amount_or_a_count_and_no_figure_of_a_growth(tmp_path, capsys):
    """填报说明 1 asks 无 where there is nothing to state: a count or an amount of none is 0 (总产值
    无 fails 40亿 instead of passing as not given), a growth rate of nothing has no figure."""
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": ["无", "无", "无"], "green_parks": ["无"],
                                               "fdi_growth": ["无"]})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    report = json.loads(out)[0]
    assert not report["passed"] and not [f for f in report["findings"] if "无" in f["message"]]
    assert report["facts"]["total_output"] == {"2021": 0, "2022": 0, "2023": 0} and report["facts"]["green_parks"] == 0
    assert "fdi_growth" not in report["facts"]
    (output,) = [c for c in report["evaluations"][0]["criteria"] if c["id"] == "output-each-year"]
    assert output["status"] == "fail"


@pytest.mark.parametrize("changes, where", [
    ({"total_output": [45.0, 450000, 52.9]}, "二、主导产业情况「集群总产值（亿元）」2022年450000 超出范围（应在 0 至 100000亿元 之间）；"
                                             "看起来是按万元填写的：450000万元 = 45亿元。未换算，请按本栏单位填写。"),
    ({"area": [200000]}, "一、基本情况「集群占地面积（平方公里）」200000 超出范围（应在 0 至 100000平方公里 之间）。"),
    ({"area": [1e308]}, "一、基本情况「集群占地面积（平方公里）」1E+308 超出范围（应在 0 至 100000平方公里 之间）。"),
    ({"total_output": ["4500000000万元", 48.2, 52.9]},
     "二、主导产业情况「集群总产值（亿元）」2021年4500000000万元 超出范围（应在 0 至 100000亿元 之间）。"),
], ids=["output in 万元", "area", "1e308", "converted"])
def test_a_figure_past_its_facts_range_is_a_finding_not_dropped(tmp_path, capsys, changes, where):
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), **changes})
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    report = json.loads(out)[0]
    assert status == 1 and not report["passed"] and err == ""
    assert [(f["severity"], f["message"]) for f in report["findings"]] == [("error", where)]


def test_a_sum_written_in_the_other_money_unit_is_converted(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": ["450000万元", "482000万元", "529000 万元"],
                                                       "software_purchase": ["0.01亿元", 120, 150]}))
    assert report.findings == []
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["software_purchase"] == {"2021": 100.0, "2022": 120.0, "2023": 150.0}


def test_two_decimals_are_counted_in_the_rows_unit(tmp_path):
    """0.012亿元 in a 万元 row is 120万元: no decimals to speak of. A sum converted into a figure
    of more decimals than two in the row's unit is said with what was written."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "software_purchase": ["0.01亿元", "0.012亿元", "0.015亿元"]}))
    assert report.findings == [] and report.values["software_purchase"] == {"2021": 100.0, "2022": 120.0, "2023": 150.0}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": ["452345万元", 48.2, 52.9],
                                                       "software_purchase": [100.123, 120, 150]}))
    assert [(f.code, f.field, f.year) for f in report.findings] == [
        ("decimals", "集群总产值（亿元）", "2021"), ("decimals", "工业软件采购金额（万元）", "2021")]
    assert [finding_text(f, "zh") for f in report.findings] == [
        "二、主导产业情况「集群总产值（亿元）」2021年452345万元 即 45.2345亿元，小数超过两位。",
        "四、数字化升级情况「工业软件采购金额（万元）」2021年100.123 的小数超过两位。"]
    assert finding_text(report.findings[0], "en").endswith(
        "452345万元 makes 45.2345 hundred million yuan, with more than two decimals.")


def test_figures_that_look_like_the_other_money_unit_are_said_so_not_converted(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": [450000, 482000, 529000]}))
    assert [(f.code, f.year) for f in report.findings if f.field == "集群总产值（亿元）"] == [
        ("range_other_unit", "2021"), ("range_other_unit", "2022"), ("range_other_unit", "2023")]
    assert "total_output" not in report.values
    assert ("二、主导产业情况「集群总产值（亿元）」2021年450000 超出范围（应在 0 至 100000亿元 之间）；"
            "看起来是按万元填写的：450000万元 = 45亿元。") in finding_text(report.findings[0], "zh")
    assert "it looks written in 10,000 yuan, which makes 48.2 hundred million yuan" in finding_text(
        report.findings[1], "en")


@pytest.mark.parametrize("output, years", [([92000, 95000, 98000], ["2021", "2022", "2023"]),
                                           (["45,000", 48.2, 52.9], ["2021"]), ([40.5, 41.2, 39000], ["2023"])],
                         ids=["every year", "with a comma", "one year"])
def test_a_sum_beyond_any_county_cluster_is_noted_as_likely_in_万元(tmp_path, capsys, output, years):
    """Within the range of 集群总产值 but past its plausible_max (10,000亿): a note on the row and
    year saying it looks like 万元 and what it makes; the figure is evaluated as given."""
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": output})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    report = json.loads(out)[0]
    notes = [f for f in report["findings"] if f["code"] == "implausible_other_unit"]
    assert [(f["severity"], f["year"]) for f in notes] == [("warning", y) for y in years]
    assert report["findings"] == notes and status == 0 and report["passed"]  # a note, not a refusal
    first = [o for o in output if not isinstance(o, float) or o > 10000][0]
    value = str(first).replace(",", "")
    assert notes[0]["message"] == (
        f"二、主导产业情况「集群总产值（亿元）」{years[0]}年{value} 远超县域集群的规模（超过 10000亿元），看起来是按万元填写的："
        f"{value}万元 = {int(value) / 10000:g}亿元。未换算，按 {value}亿元 评估。")
    assert report["facts"]["total_output"][years[0]] == float(value)  # evaluated as given
    en = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "--lang", "en")[1]
    assert (f"{value} is far beyond any county cluster (over 10000 hundred million yuan); it looks written in "
            f"10,000 yuan, which makes {int(value) / 10000:g} hundred million yuan. Not converted: evaluated as "
            f"{value} hundred million yuan.") in en


def test_a_figure_beyond_any_cluster_of_another_fact_is_noted(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "patents_per_10k": [1500]}))
    note = next(f for f in report.findings if f.code == "implausible")
    assert note.severity == "warning" and report.values["patents_per_10k"] == 1500
    assert finding_text(note, "zh") == ("三、创新能力情况「集群中小企业从业人员每万人有效发明专利拥有量」1500 远超县域集群的规模"
                                        "（超过 1000个），请核对。按 1500个 评估。")


def test_a_money_row_whose_label_names_the_other_unit_is_read_in_it(tmp_path):
    """集群总产值（万元） for the form's 集群总产值（亿元）: the row is found, its figures converted, and
    the changed label is one note."""
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": [450000, 482000, 529000],
                                               "software_purchase": [0.01, 0.02, 0.03]})
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            row[0].value = {"集群总产值（亿元）": "集群总产值（万元）",
                            "工业软件采购金额（万元）": "工业软件采购金额(亿元)"}.get(row[0].value, row[0].value)
    book.save(path)
    report = check(path)
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["software_purchase"] == {"2021": 100.0, "2022": 200.0, "2023": 300.0}
    assert [(f.code, f.field, f.severity) for f in report.findings] == [
        ("label_unit", "集群总产值（亿元）", "warning"), ("label_unit", "工业软件采购金额（万元）", "warning")]
    assert finding_text(report.findings[0], "zh") == (
        "二、主导产业情况「集群总产值（亿元）」栏目单位写作“万元”，申报表为“亿元”：已按万元读取并换算为亿元。")
    assert "the row's unit is written as 10,000 yuan where the form has hundred million yuan" in finding_text(
        report.findings[0], "en")


def test_years_headed_with_年度_and_a_figure_in_亿_are_read(tmp_path):
    titles = [title for title, rows in rows_of(passing()) if any(row[:1] == ["年度"] for row in rows)]
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": ["45亿", "48.2 亿", "52.9亿元"],
                                               "software_purchase": ["0.01亿", 120, 150]})
    report = check(_years_headed(path, titles, ["2021年度", "2022年度", "2023年度"]))
    assert report.findings == []
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["software_purchase"] == {"2021": 100.0, "2022": 120.0, "2023": 150.0}


def _cells_of(book, label):
    """The cells after a label in the workbook (the first row that starts with it)."""
    return next(row[1:] for sheet in book.worksheets for row in sheet.iter_rows() if row[0].value == label)


def test_a_percentage_cell_is_read_as_excel_shows_it(tmp_path):
    """Typing 80.5% in Excel stores 0.805 with the format 0.00%: the figure is the one shown."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    for cell, value in zip(_cells_of(book, "集群内中小企业产值占集群总产值比例（%）"), [0.805, 0.81, 0.823]):
        cell.value, cell.number_format = value, "0.00%"
    cloud = _cells_of(book, "企业上云比例（%）")[0]
    cloud.value, cloud.number_format = 0.4, "0%"
    identifier = _cells_of(book, "企业上标识比例（%）")[0]  # a % sign written as text: no scaling
    identifier.value, identifier.number_format = 30, '0"%"'
    book.save(path)
    report = check(path)
    assert report.findings == [] and report.passed
    assert report.values["sme_output_share"] == {"2021": 80.5, "2022": 81.0, "2023": 82.3}
    assert (report.values["cloud_rate"], report.values["identifier_rate"]) == (40.0, 30.0)


def test_a_unit_shown_by_a_cells_number_format_is_read_as_shown(tmp_path):
    """450000 shown 450,000万元 by the format #,##0"万元" in 集群总产值（亿元） is 45亿元, as the
    same typed as text is (it was refused as out of range, said to look like 万元); a format
    scaling its figure (0,"万元") is not read so."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    output = _cells_of(book, "集群总产值（亿元）")
    for cell, value, fmt in zip(output, [450000, 48.2, 52.9], ['#,##0"万元"', '0.00"亿元"', "General"]):
        cell.value, cell.number_format = value, fmt
    software = _cells_of(book, "工业软件采购金额（万元）")[0]
    software.value, software.number_format = 0.01, '0.00"亿元"'
    book.save(path)
    report = check(path)
    assert report.findings == [] and report.passed
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["software_purchase"]["2021"] == 100.0
    output[0].number_format = '0,"万元"'  # 450 shown, scaled by a thousand: not read as shown
    book.save(path)
    assert ("range_other_unit", "2021") in [(f.code, f.year) for f in check(path).findings]


def test_a_share_typed_as_a_fraction_is_asked_back_year_by_year_not_converted(tmp_path):
    """0.805 for 80.5%, a plain number: a note per year asking whether the share is meant, as the
    chat asks; the figure stays as typed (and fails 第六条（二） as typed)."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "sme_output_share": [0.805, 0.81, 0.823],
                                                       "rd_staff_share": [0.5]}))
    notes = [f for f in report.findings if f.code == "fraction"]
    assert [(f.field, f.year, f.severity) for f in notes] == [
        ("集群内中小企业产值占集群总产值比例（%）", y, "warning") for y in ("2021", "2022", "2023")] + [
        ("集群内中小企业研发人员占从业人员比例（%）", None, "warning")]
    assert not any(f.code == "decimals" for f in report.findings)
    assert report.values["sme_output_share"] == {"2021": 0.805, "2022": 0.81, "2023": 0.823}
    assert ("二、主导产业情况「集群内中小企业产值占集群总产值比例（%）」2022年0.81 像是小数形式的比例，是否应为 81%？"
            in finding_text(notes[1], "zh"))
    assert "0.805 looks like a share written as a fraction: should it be 80.5%? (Not converted: evaluated as 0.81%.)" \
        in finding_text(notes[0], "en")  # the figure evaluated, rounded as the failed criterion shows it
    # written with %, or a share under 1 among shares it is not a hundredth of: as typed, no note
    for shares in (["0.81%", "0.82%", "0.83%"], [0.81, 1.5, 2.0], [0, 0.5, 0.6]):
        report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "sme_output_share": shares}))
        assert not any(f.code == "fraction" for f in report.findings), shares


@pytest.mark.parametrize("field, shares, year", [
    ("sme_output_share", [80.5, 0.81, 82.3], "2022"), ("sme_output_share", [80.5, 81, 0.9], "2023"),
    ("leading_output_share", [0.75, 76.2, 77.1], "2021"), ("sme_output_share", [0.805, 81, 82.3], "2021")])
def test_one_year_typed_as_a_fraction_among_percentages_is_noted(tmp_path, field, shares, year):
    """0.81 among 80.5 and 82.3 is a share written as a fraction: noted for its year alone, with
    the figure evaluated as the failed criterion shows it (0.805 → 0.81%)."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), field: shares}))
    notes = [f for f in report.findings if f.code == "fraction"]
    assert [f.year for f in notes] == [year]
    value = shares[int(year) - 2021]
    failed = next(f for f in report.findings if f.code == "criterion" and f.year == year)
    shown = f"{round(value, 2):.2f}%"
    assert f"{value} 像是小数形式的比例，是否应为 {value * 100:g}%？（未换算，按 {shown} 评估。）" in finding_text(notes[0], "zh")
    assert f"{year}年{shown}，不符合江苏第六条（二）" in finding_text(failed, "zh")
    assert not any(f.code == "decimals" for f in report.findings)


def _rewritten(content: bytes, name: str, change) -> bytes:
    """The file with one part changed by `change` (bytes → bytes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, change(data) if item.filename == name else data)
    return out.getvalue()


def test_a_formula_is_read_by_its_computed_value_or_named_without_one(tmp_path, capsys):
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    book["二、主导产业情况"]["D3"] = "=C3*1.1"  # openpyxl keeps no value: Excel computes it on opening
    book.save(path)
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 1
    assert ("二、主导产业情况「集群总产值（亿元）」2023年单元格 D3 为公式 =C3*1.1，文件中没有它的计算结果："
            "请先在 Excel 或 WPS 中打开并保存。") in out
    assert "未填写" not in out
    # Saved by Excel, the file keeps the value beside the formula: that is the figure.
    sheet = "xl/worksheets/sheet2.xml"
    path.write_bytes(_rewritten(path.read_bytes(), sheet, lambda xml: xml.replace(b"<v></v>", b"<v>53.02</v>")))
    report = check(path)
    assert report.findings == [] and report.values["total_output"]["2023"] == 53.02


def test_a_total_known_from_the_chat_is_checked_against_the_forms_parts(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", passing()),
                   extra_facts={"standards_count": 7, "innovation_platforms": 6})
    codes = finding_codes(report)
    assert ("total_mismatch", "国家主持数量", None) in codes
    assert not any(f.field == "省级制造业创新中心或省级创新平台名称及数量" for f in report.findings)
    assert report.facts["standards_count"] == 7  # the known total stands; the reviewer sees both


def test_data_year_and_missing_year_column(tmp_path):
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    sheet = book["二、主导产业情况"]
    assert sheet["D2"].value == "2023年"
    sheet["D2"] = "2024年"
    book["三、创新能力情况"].delete_cols(4)
    book.save(path)
    report = check(path)
    # One finding a year row, not one for every field under it; the years there are read.
    heads = [(f.section, f.params["found"], f.quote) for f in report.findings if f.code == "years"]
    assert heads == [("二、主导产业情况", ["2021", "2022", "2024"], "未注明填报年度的，请填写截止到申报2023年底的数据"),
                     ("三、创新能力情况", ["2021", "2022"], "为确保文件信息的正确采集，填表时不得改变表格样式")]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2}
    text = [finding_text(f, "en") for f in report.findings if f.code == "years"][0]
    assert text == "二、主导产业情况 has the year columns 2021, 2022, 2024; the form asks for 2021, 2022, 2023."


def _years_headed(path, sheets, years):
    """The form at `path` with the year rows of these sheets headed by `years` (cells as given)."""
    book = openpyxl.load_workbook(path)
    for sheet in (book[title] for title in sheets):
        for row in sheet.iter_rows():
            if row[0].value == "年度":
                for cell, year in zip(row[1:], years):
                    cell.value = year
    book.save(path)
    return path


def test_other_years_in_the_header_are_a_finding_not_a_crash(tmp_path, capsys):
    path = _years_headed(write_xlsx(tmp_path / "form.xlsx", passing()), ["二、主导产业情况"],
                         ["2022年", "2023年", "2024年"])
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 1 and err == ""
    assert "二、主导产业情况：年度栏为 2022、2023、2024 年，应为 2021、2022、2023 年。" in out
    assert out.count("年度栏") == 1
    # A Word table given a fourth year column: the three years are read, the fourth named.
    import docx
    path = write_docx(tmp_path / "form.docx", passing())
    document = docx.Document(path)
    table = document.tables[1]
    table.add_column(table.columns[0].width)
    table.rows[0].cells[-1].text = "2024年"
    document.save(path)
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    assert status == 1 and err == ""
    report = json.loads(out)[0]
    assert [f["message"] for f in report["findings"]] == [
        "二、主导产业情况：年度栏为 2021、2022、2023、2024 年，应为 2021、2022、2023 年。"]
    assert report["facts"]["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}


def test_the_co2_reduction_is_worked_from_the_years_the_form_has(tmp_path):
    """Year columns shifted to 2022–2024: the 累计降低率 is checked against the years read
    (2022 and 2023, the data year's), and the finding names those, not 2021."""
    green = next(title for title, _ in rows_of(passing()) if title.startswith("五、"))
    path = _years_headed(write_xlsx(tmp_path / "form.xlsx", passing()), [green], ["2022年", "2023年", "2024年"])
    report = check(path)
    mismatch = [f for f in report.findings if f.code == "reduction_mismatch"]
    assert [finding_text(f, "zh") for f in mismatch] == [
        f"{green}「近三年累计降低率」填写 16.67%，按2022年与2023年单位产值二氧化碳排放量计算应为 8.33%。"]
    assert "the 2022 and 2023 CO2 per unit of output give 8.33%" in finding_text(mismatch[0], "en")
    # the form's own three years: the first and the last of them
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "co2_reduction": [20.0]}))
    assert "按2021年与2023年单位产值二氧化碳排放量计算应为 16.67%。" in finding_text(
        next(f for f in report.findings if f.code == "reduction_mismatch"), "zh")


@pytest.mark.parametrize("years", [[2021, 2022, 2023], [2021.0, 2022.0, 2023.0], ["2021", "2022", "2023"],
                                   ["２０２１年", "２０２２年", "２０２３年"], ["二〇二一年", "二○二二年", "二〇二三年度"]],
                         ids=["int", "float", "text", "full-width", "chinese numerals"])
def test_years_typed_as_numbers_head_their_columns(tmp_path, years):
    titles = [title for title, rows in rows_of(passing()) if any(row[:1] == ["年度"] for row in rows)]
    report = check(_years_headed(write_xlsx(tmp_path / "form.xlsx", passing()), titles, years))
    assert report.findings == [] and report.passed
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}


@pytest.mark.parametrize("fmt", ['yyyy"年"', "yyyy", 'yyyy"年度"'])
def test_years_typed_as_dates_shown_as_years_head_their_columns(tmp_path, fmt):
    """2021-01-01 shown 2021年 by the format yyyy"年" (Excel turns 2021年 typed into a date so)
    is the year it shows: the section's figures were left unread, said as 未找到年度栏."""
    titles = [title for title, rows in rows_of(passing()) if any(row[:1] == ["年度"] for row in rows)]
    path = _years_headed(write_xlsx(tmp_path / "form.xlsx", passing()), titles,
                         [dt.datetime(y, 1, 1) for y in (2021, 2022, 2023)])
    book = openpyxl.load_workbook(path)
    for sheet in (book[title] for title in titles):
        for row in sheet.iter_rows():
            if row[0].value == "年度":
                for cell in row[1:4]:
                    cell.number_format = fmt
    book.save(path)
    report = check(path)
    assert report.findings == [] and report.passed
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}


def test_figures_that_look_like_years_stay_figures(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "enterprises": [2021, 2022, 2023],
                                                       "software_purchase": [2021, 2022, 2023]}))
    assert report.values["enterprises"] == {"2021": 2021, "2022": 2022, "2023": 2023}
    assert report.values["software_purchase"] == {"2021": 2021.0, "2022": 2022.0, "2023": 2023.0}


def test_a_form_whose_every_year_row_is_later_is_read_with_that_data_year(tmp_path):
    """The chat writes the form's years after the latest year answered; 近三年 is the latest
    complete years: a form headed 2022–2024 throughout is read so once 2024 is over."""
    titles = [title for title, rows in rows_of(passing()) if any(row[:1] == ["年度"] for row in rows)]
    path = _years_headed(write_xlsx(tmp_path / "form.xlsx", passing()), titles, ["2022年", "2023年", "2024年"])
    report = check_form(read_path(str(path)), dt.date(2025, 6, 1))
    assert not [f for f in report.findings if f.code == "years"]
    assert report.facts["data_year"] == 2024 and report.facts["total_output"] == {"2022": 45.0, "2023": 48.2, "2024": 52.9}
    # Before 2024 is over, the form's own years stand.
    assert len([f for f in check(path).findings if f.code == "years"]) == len(titles)


def test_a_year_row_headed_by_its_field_as_on_the_official_form(tmp_path):
    import docx
    document = docx.Document()
    for title, rows in rows_of(passing()):
        table = document.add_table(rows=0, cols=5)
        for n, row in enumerate(rows[1:]):
            if row[0] == "工业软件采购金额（万元）":  # the label moves up into the year head
                rows[n][0], row[0] = row[0], ""
        for row in rows[1:]:
            for cell, value in zip(table.add_row().cells, row):
                cell.text = "" if value is None else str(value)
    path = tmp_path / "official.docx"
    document.save(path)
    report = check(path)
    assert report.values["software_purchase"] == {"2021": 100.0, "2022": 120.0, "2023": 150.0}
    assert not report.findings


def test_a_row_taken_out_is_named(tmp_path):
    report = check(write_docx(tmp_path / "form.docx", passing(), drop_rows=("area",)))
    assert ("missing_row", "集群占地面积（平方公里）", None) in finding_codes(report)


def test_docx_merged_cells_are_read_once(tmp_path):
    import docx
    path = write_docx(tmp_path / "form.docx", passing())
    document = docx.Document(path)
    table = document.tables[2]
    row = next(r for r in table.rows if r.cells[0].text == "集群内中小企业从业人员数量")
    row.cells[1].text, row.cells[2].text = "", "50000"
    row.cells[0].merge(row.cells[1])  # the label spans two columns, as on the form
    document.save(path)
    cells = [c.text.strip() for c in docx.Document(path).tables[2].rows[row._index].cells]
    assert cells[:3] == ["集群内中小企业从业人员数量", "集群内中小企业从业人员数量", "50000"]  # repeated
    report = check(path)
    assert report.values["sme_employees"] == 50000 and not report.findings


def _split_table(table, at: int, between: str | None) -> None:
    """A Word table split in two before its row `at` (Word's 拆分表格, or a page's 续表), the
    paragraph `between` (or an empty one, as Word leaves) between the two."""
    import copy
    from docx.oxml.ns import qn
    second = copy.deepcopy(table._tbl)
    for tr in table._tbl.findall(qn("w:tr"))[at:]:
        table._tbl.remove(tr)
    for tr in second.findall(qn("w:tr"))[:at]:
        second.remove(tr)
    paragraph = table._parent.add_paragraph(between or "")._p
    table._tbl.addnext(paragraph)
    paragraph.addnext(second)


@pytest.mark.parametrize("between", ["（续表）", None])
def test_a_word_table_split_in_two_reads_the_years_above_it(tmp_path, between):
    """二、主导产业情况 split after its 单项冠军 row: the rows of the second table are read
    under the first's year row, never left unread as a table without years."""
    import docx
    path = write_docx(tmp_path / "form.docx", passing())
    document = docx.Document(path)
    table = document.tables[1]
    at = next(r._index for r in table.rows if r.cells[0].text == "主导产业相关的制造业单项冠军企业数量")
    _split_table(table, at, between)
    _split_table(document.tables[2], 2, between)  # 三、创新能力情况 just after its year row, too
    document.save(path)
    assert len(docx.Document(path).tables) == 12
    report = check(path)
    assert report.findings == [], [finding_text(f, "zh") for f in report.findings]
    assert report.values["champions"] == {"2021": 1, "2022": 1, "2023": 1}
    assert report.facts["srdi_sme_count"] == 20 and report.values["rd_growth"]["2023"] == 13.0
    # A sheet's year row still holds for its own sheet only: a sheet without one is said so.
    book = openpyxl.load_workbook(write_xlsx(tmp_path / "form.xlsx", passing()))
    book["三、创新能力情况"].delete_rows(2)
    book.save(tmp_path / "form.xlsx")
    assert [f.code for f in check(tmp_path / "form.xlsx").findings] == ["no_years"]


W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'
WATER = "属于高用水行业的集群，水效水平高于行业基准值"


def _docx_with(tmp_path, cells: dict, wrap_first_table: bool = False):
    """The passing form as a Word file, the cell after each label (and column) given as the
    XML of its one paragraph: tracked changes, content controls, symbols, as Word writes them."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    path = write_docx(tmp_path / "form.docx", passing())
    document = docx.Document(path)
    for (label, column), xml in cells.items():
        row = next(r for t in document.tables for r in t.rows if r.cells[0].text == label)
        cell = row.cells[column]
        cell.text = ""
        paragraph = cell.paragraphs[0]._p
        for child in list(parse_xml(f'<w:p {nsdecls("w")} {W14}>{xml}</w:p>')):
            paragraph.append(child)
    if wrap_first_table:  # the whole table inside a content control
        table = document.tables[0]._tbl
        sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtPr/><w:sdtContent/></w:sdt>')
        table.addprevious(sdt)
        sdt[1].append(table)
    document.save(path)
    return path


def run_xml(text: str, tag: str = "w:t") -> str:
    return f"<w:r><{tag}>{text}</{tag}></w:r>"


def test_a_word_cell_is_read_as_word_shows_it(tmp_path):
    """Tracked changes: an insertion is read and a deletion is not (48.5 corrected to 38.5 by
    deleting 4 and inserting 3 is 38.5, not 8.5); the content of content controls is read,
    inline or holding the paragraph, and a table inside one is read as any other."""
    output = "集群总产值（亿元）"
    path = _docx_with(tmp_path, {
        (output, 1): f'<w:del w:id="1" w:author="审核人">{run_xml("4", "w:delText")}</w:del>'
                     f'<w:ins w:id="2" w:author="审核人">{run_xml("3")}</w:ins>{run_xml("8.5")}',
        (output, 2): f'<w:del w:id="3" w:author="a">{run_xml("48.2", "w:delText")}</w:del>'
                     f'<w:ins w:id="4" w:author="a">{run_xml("41.2")}</w:ins>',
        (output, 3): f'<w:sdt><w:sdtPr><w:alias w:val="2023年"/></w:sdtPr><w:sdtContent>{run_xml("42.9")}'
                     f'</w:sdtContent></w:sdt>',
        ("集群占地面积（平方公里）", 1): f'{run_xml("8")}<w:r><w:rPr><w:vanish/></w:rPr><w:t>0000</w:t></w:r>'
                                  f'<w:r><w:instrText> MERGEFIELD 面积 </w:instrText></w:r>{run_xml("1")}',
    }, wrap_first_table=True)
    report = check(path)
    assert report.values["total_output"] == {"2021": 38.5, "2022": 41.2, "2023": 42.9}
    assert report.values["area"] == 81.0  # hidden text and a field's code are not shown either
    assert report.name == NAME  # its table inside a content control
    assert [(f.code, f.year) for f in report.findings] == [("criterion", "2021")]  # 38.5 < 40, as corrected


@pytest.mark.parametrize("xml", [
    '<w:r><w:sym w:font="Wingdings 2" w:char="F052"/></w:r>' + run_xml("不涉及"),        # Insert > Symbol ☑
    '<w:r><w:rPr><w:rFonts w:ascii="Wingdings" w:hAnsi="Wingdings"/></w:rPr><w:t>\u00fe</w:t></w:r>'
    + run_xml("不涉及"),                                                                # þ in Wingdings is ☑
    '<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="1"/></w14:checkbox></w:sdtPr>'
    '<w:sdtContent>' + run_xml("☒") + '</w:sdtContent></w:sdt>' + run_xml("不涉及"),     # a checkbox control
    run_xml("□是 □否 □不涉及√"),                                                          # the tick after
], ids=["wingdings 2", "wingdings", "checkbox control", "tick after"])
def test_ticks_written_the_usual_word_ways_are_read(tmp_path, xml):
    others = "" if "√" in xml else run_xml("□是 □否 ")
    report = check(_docx_with(tmp_path, {(WATER, 1): others + xml}))
    assert report.findings == [] and report.facts["high_water_industry"] is False  # 不涉及, as ticked


def test_an_unticked_checkbox_control_is_unticked_and_an_unknown_mark_is_said(tmp_path):
    unticked = ('<w:sdt><w:sdtPr><w14:checkbox><w14:checked w14:val="0"/></w14:checkbox></w:sdtPr>'
                '<w:sdtContent>' + run_xml("☐") + '</w:sdtContent></w:sdt>')
    report = check(_docx_with(tmp_path, {(WATER, 1): unticked + run_xml("是 □否 □不涉及")}))
    assert [(f.code, f.field) for f in report.findings] == [("required", WATER)]
    # a mark the check does not know is said as such, never 未填写
    report = check(_docx_with(tmp_path, {(WATER, 1): run_xml("✅是 □否 □不涉及")}))
    assert [(f.code, f.field) for f in report.findings] == [("tick_unrecognised", WATER)]
    assert finding_text(report.findings[0], "zh") == (
        f"一、基本情况「{WATER}」填有“✅是 □否 □不涉及”，但未能识别勾选了哪一项：请在所选项前标 ☑（或 √）。可选：是、否、不涉及。")
    assert "which option is ticked cannot be told" in finding_text(report.findings[0], "en")


@pytest.mark.parametrize("cell, monitoring", [("□是  ☑否（如涉及，需提供佐证材料）", False),
                                             ("☑是  □否（如涉及，需提供佐证材料）", True), ("□是  □否（如涉及，需提供佐证材料）", None)])
def test_a_box_with_the_forms_note_after_its_option_is_read(tmp_path, cell, monitoring):
    """The official cell of 集群碳排放监测机制 has a note after 否: the box is 否's all the same."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "co2_monitoring": [cell]}))
    assert report.facts.get("co2_monitoring") is monitoring
    assert not [f for f in report.findings if f.code in ("unknown_option", "tick_unrecognised")]
    assert [f.code for f in report.findings if f.field == "建立了集群碳排放监测机制"] == (
        ["required"] if monitoring is None else [])


@pytest.mark.parametrize("cell, monitoring", [
    ("是 √\n否", True), ("是√\n否", True), ("是☑ 否☐", True), ("是☐ 否☑", False), ("是：✔  否：", True),
    ("[x]是\n[ ]否", True), ("[ ]是 [X]否", False), ("( )是\n(√)否", False), ("是（√）\n否", True),
    ("【√】是 【 】否", True), ("√是\n否", True), ("□是\n□否", None),
])
def test_a_tick_after_its_option_is_that_options_never_the_next_lines(tmp_path, cell, monitoring):
    """A tick written after the option (是 √, 是☑ 否☐) is the option's: it was read as the next
    line's, 否 for 是; a box typed as brackets ([x], (√), 【√】) is a box."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "co2_monitoring": [cell]}))
    assert report.facts.get("co2_monitoring") is monitoring
    assert [f.code for f in report.findings if f.field == "建立了集群碳排放监测机制"] == (
        ["required"] if monitoring is None else [])


def test_a_tick_in_a_symbol_font_in_excel_is_read(tmp_path):
    """R in Wingdings 2 shows ☑, £ shows □: a cell in that font is read as shown."""
    from openpyxl.styles import Font
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "water_efficiency": ["£是\n£否\nR不涉及"]})
    book = openpyxl.load_workbook(path)
    cell = _cells_of(book, WATER)[0]
    cell.font = Font(name="Wingdings 2")
    book.save(path)
    report = check(path)
    assert report.findings == [] and report.facts["high_water_industry"] is False


def _shared_strings(path):
    """The workbook with its inline strings (as openpyxl writes them) moved to a shared string
    table, as Excel and WPS save every text, rich runs and all."""
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    strings = []

    def shared(match):
        strings.append(match.group(2))
        return f'<c{match.group(1)} t="s"><v>{len(strings) - 1}</v></c>'

    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        parts[name] = re.sub(r'<c([^>]*?) t="inlineStr"><is>(.*?)</is></c>', shared, parts[name].decode(),
                             flags=re.S).encode()
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(strings)}">' + "".join(f"<si>{s}</si>" for s in strings) + "</sst>"
    ).encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Id="rIdStrings" Type="http://schemas.openxmlformats.org/officeDocument/'
                             b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            out.writestr(name, data)
    return path


@pytest.mark.parametrize("shared", [True, False], ids=["shared, as Excel and WPS save", "inline"])
def test_a_tick_inserted_in_a_symbol_font_within_a_cells_text_is_read(tmp_path, shared):
    """☑ inserted as Wingdings 2's R in a run of its own (插入 > 符号), the options' text in
    宋体: read as shown, as a whole cell in that font is (it was a mark not known)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    symbol, song = InlineFont(rFont="Wingdings 2"), InlineFont(rFont="宋体")
    _cells_of(book, WATER)[0].value = CellRichText([
        TextBlock(symbol, "£"), TextBlock(song, "是\n"), TextBlock(symbol, "£"), TextBlock(song, "否\n"),
        TextBlock(symbol, "R"), TextBlock(song, "不涉及")])
    book.save(path)
    report = check(_shared_strings(path) if shared else path)
    assert report.findings == [] and report.facts["high_water_industry"] is False


@pytest.mark.parametrize("first", [True, False], ids=["first", "last"])
def test_a_sheet_the_form_does_not_have_is_one_note_never_read_in_place_of_a_section(tmp_path, first):
    """A sheet repeating the form's labels (数据来源说明) is not read, wherever it stands: each
    section is read from the sheet that bears its name."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    extra = ("数据来源说明", [["数据来源说明"], ["集群总产值（亿元）", "县统计局出具的证明"],
                          ["集群内中小企业从业人员数量", "县人社局"]])
    sheets = rows_of(passing())
    for title, rows in [extra, *sheets] if first else [*sheets, extra]:
        sheet = book.create_sheet(title[:31])
        for row in rows:
            sheet.append(row)
    book.save(tmp_path / "form.xlsx")
    report = check(tmp_path / "form.xlsx")
    assert [(f.code, f.severity, f.params) for f in report.findings] == [
        ("extra_sheet", "warning", {"sheet": "数据来源说明"})]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["sme_employees"] == 50000 and report.passed
    assert "工作表「数据来源说明」不是申报表的栏目，未读取。" in finding_text(report.findings[0], "zh")
    assert "the sheet “数据来源说明” is not one of the form's sections" in finding_text(report.findings[0], "en")


@pytest.mark.parametrize("renamed", ["主导产业", "Sheet3", "2.主导产业情况"])
def test_a_renamed_sheet_holding_a_section_missing_by_name_is_read_as_that_section(tmp_path, renamed):
    """An applicant renames a sheet (主导产业, Sheet3): its rows are the section's, whose own
    sheet is missing, so it is read as that section with one note, not twenty 未找到该栏目."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in rows_of(passing()):
        sheet = book.create_sheet(renamed if title.startswith("二、") else title[:31])
        for row in rows:
            sheet.append(row)
    book.save(tmp_path / "form.xlsx")
    report = check(tmp_path / "form.xlsx")
    assert [(f.code, f.severity, f.params) for f in report.findings] == [
        ("renamed_sheet", "warning", {"sheet": renamed, "section": "二、主导产业情况"})]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9} and report.passed
    assert f"工作表「{renamed}」不是申报表的栏目名称，按其内容作为「二、主导产业情况」读取。" \
        in finding_text(report.findings[0], "zh")
    assert f"the sheet “{renamed}” is not named as a section of the form; it was read as “二、主导产业情况”" \
        " by its rows" in finding_text(report.findings[0], "en")


def test_a_renamed_sheet_is_not_read_for_a_section_that_has_its_own_sheet_or_rows_of_several(tmp_path):
    """A copy of a section under another name (二's own sheet is there) and a sheet of labels of
    several sections (a 数据来源说明 when 二's sheet is missing) stay unread, as before."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets = rows_of(passing())
    for title, rows in sheets:
        sheet = book.create_sheet(title[:31])
        for row in rows:
            sheet.append(row)
    copy_of_two = book.create_sheet("主导产业（草稿）")
    for row in next(rows for title, rows in sheets if title.startswith("二、")):
        copy_of_two.append([v if not isinstance(v, float) else v * 2 for v in row])
    book.save(tmp_path / "copy.xlsx")
    report = check(tmp_path / "copy.xlsx")
    assert [(f.code, f.params) for f in report.findings] == [("extra_sheet", {"sheet": "主导产业（草稿）"})]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}

    del book["主导产业（草稿）"]
    book[next(t for t, _ in sheets if t.startswith("二、"))[:31]].title = "Sheet2"
    sources = book.create_sheet("数据来源说明")
    sources.append(["集群总产值（亿元）", "县统计局出具的证明"])
    sources.append(["集群内中小企业从业人员数量", "县人社局"])
    book.save(tmp_path / "sources.xlsx")
    report = check(tmp_path / "sources.xlsx")
    assert ("renamed_sheet", {"sheet": "Sheet2", "section": "二、主导产业情况"}) in [
        (f.code, f.params) for f in report.findings]
    assert ("extra_sheet", {"sheet": "数据来源说明"}) in [(f.code, f.params) for f in report.findings]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}


# --- template and round trip ------------------------------------------------------------

# A blank form: its fields are empty, the criteria its unticked boxes answer 否 fail, and its
# 承诺函 still reads XXX集群.
BLANK = {"required", "criterion", "placeholder"}


def test_template_fill_check_round_trip(tmp_path, capsys):
    template = tmp_path / "blank.xlsx"
    assert run(capsys, "form", "template", "-o", str(template))[0] == 0
    blank = check(template)
    assert len(blank.errors) > 50 and {f.code for f in blank.findings} <= BLANK
    book = openpyxl.load_workbook(template)
    by_label = {"集群名称": NAME, "集群占地面积（平方公里）": 80, "集群总产值（亿元）": [45, 48.2, 52.9],
                "集群主导产业是否属于全省16个先进制造业集群和50条重点产业链": "☑是\n□否"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            value = by_label.get(row[0].value)
            if value is not None:
                for cell, v in zip(row[1:], value if isinstance(value, list) else [value]):
                    cell.value = v
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    report = check(filled)
    assert report.name == NAME
    assert report.facts["area_km2"] == 80 and report.facts["priority_chain"] is True
    assert report.facts["total_output"] == {"2021": 45, "2022": 48.2, "2023": 52.9}
    assert len(report.errors) == len(blank.errors) - 6


def test_a_label_the_form_has_twice_is_named_with_its_row(tmp_path, capsys):
    """联系人 of 主管部门 and of 运营管理机构, the two 定性描述 of the plan, 国家级 of the 荣誉 row:
    each finding says which row it means, in both languages."""
    template = tmp_path / "blank.xlsx"
    assert run(capsys, "form", "template", "-o", str(template))[0] == 0
    findings = check(template).findings
    for lang in ("zh", "en"):
        texts = [finding_text(f, lang) for f in findings]
        assert len(texts) == len(set(texts)), sorted(t for t in texts if texts.count(t) > 1)
    texts = [finding_text(f, "zh") for f in findings]
    assert "一、基本情况「集群运营管理机构」下的「联系人」未填写。" in texts
    assert "八、未来三年中小企业特色产业集群发展规划「开放合作」下的「定性描述」2026年未填写。" in texts
    assert ("二、主导产业情况「集群获得中小企业双创示范基地、特色小镇、特色创新（产业）示范园区等优质产业集群相关荣誉情况」"
            "下的「国家级」未填写。") in texts
    assert "一、基本情况 “联系人” under “集群运营管理机构” is empty." in [finding_text(f, "en") for f in findings]
    # the form's description: a label twice in a section is told apart by its row
    for section in load_form().sections:
        rows = [(f.label, f.under) for f in section.fields]
        assert len(rows) == len(set(rows)), section.title


def test_docx_template_reads_back_blank(tmp_path, capsys):
    template = tmp_path / "blank.docx"
    assert run(capsys, "form", "template", "--format", "docx", "-o", str(template))[0] == 0
    assert {f.code for f in check(template).findings} == BLANK


def _kind(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "docx" if "word/document.xml" in archive.namelist() else "xlsx"


def test_the_template_format_follows_the_name_unless_given(tmp_path, capsys):
    for name, option, kind in [("t.docx", [], "docx"), ("t.xlsx", [], "xlsx"), ("T.DOCX", [], "docx"),
                               ("t.docx", ["--format", "xlsx"], "xlsx")]:
        path = tmp_path / name
        assert run(capsys, "form", "template", "-o", str(path), *option)[0] == 0
        assert _kind(path.read_bytes()) == kind, (name, option)
    status, out, err = run(capsys, "form", "template", "-o", str(tmp_path / "t.txt"))
    assert status == 2 and out == "" and "--format" in err and "t.txt" in err
    assert not (tmp_path / "t.txt").exists()


def test_the_template_to_standard_output(capsysbinary):
    assert main(["form", "template", "-o", "-", "--format", "docx"]) == 0
    out = capsysbinary.readouterr().out
    assert _kind(out) == "docx"
    assert {f.code for f in check_form(read_bytes(out, "t.docx"), ON).findings} == BLANK
    assert main(["form", "template", "-o", "-"]) == 0
    assert _kind(capsysbinary.readouterr().out) == "xlsx"


# --- bad files ---------------------------------------------------------------------------

def _xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_part(content: bytes, name: str, part: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr(name, part)
    return out.getvalue()


def _with_macro(content: bytes) -> bytes:
    return _with_part(content, "xl/vbaProject.bin", b"\x00" * 16)


def _docx_without_tables() -> bytes:
    import docx
    document = docx.Document()
    document.add_paragraph("江苏省中小企业特色产业集群申报表")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


BAD = {
    "another spreadsheet": ("sales.xlsx", lambda: _xlsx_bytes([["月份", "销售额"], ["1月", 100]]), "not_a_form"),
    "corrupt": ("form.xlsx", lambda: b"PK\x03\x04 this is not a workbook", "corrupt"),
    "damaged inside": ("form.xlsx", lambda: _xlsx_bytes([["x"]])[:-200], "corrupt"),
    "macro by name": ("form.xlsm", lambda: _xlsx_bytes([["集群名称"]]), "macro"),
    "macro inside": ("form.xlsx", lambda: _with_macro(_xlsx_bytes([["集群名称"]])), "macro"),
    "docx without tables": ("form.docx", _docx_without_tables, "no_tables"),
    "plain text": ("form.txt", lambda: "集群名称,集群总产值".encode(), "text_file"),
}


def _compound_file(stream: str) -> bytes:
    """A compound file (OLE, CFB version 3) holding one 4 KB stream of this name: the container
    of Excel 97-2003 (Workbook), Word 97-2003 (WordDocument), or an Office file with a password
    (EncryptedPackage). Sector 0 is the FAT, 1 the directory, 2-9 the stream."""
    import struct
    end, free, nostream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 0x1000, end, 0, end, 0)
              + struct.pack("<109I", 0, *[free] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, end, *range(3, 10), end, *[free] * 118)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (encoded.ljust(64, b"\0") + struct.pack("<HBB3I16sIQQIQ", len(encoded), kind, 1, nostream, nostream,
                                                        child, bytes(16), 0, 0, 0, start, size))
    directory = entry("Root Entry", 5, 1, end, 0) + entry(stream, 2, nostream, 2, 4096) + bytes(256)
    return header + fat + directory + bytes(range(256)) * 16


def _opendocument_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


WRONG_TYPE = {  # a file of another kind, whatever its name says: what it is, and what to do
    "empty": ("form.xlsx", lambda: b"", "文件是空的（0 字节）。"),
    "csv renamed": ("form.xlsx", lambda: "集群名称,示例县\n集群总产值（亿元）,45\n".encode(), "这是纯文本文件（如 CSV）"),
    "csv in gbk": ("form.xlsx", lambda: "集群名称,示例县\n".encode("gbk"), "这是纯文本文件（如 CSV）"),
    "xls renamed": ("form.xlsx", lambda: _compound_file("Workbook"), "这是旧版 Excel 文件（.xls），不是 .xlsx：请在 Excel 或 WPS 中打开，另存为 .xlsx"),
    "doc": ("form.doc", lambda: _compound_file("WordDocument"), "这是旧版 Word 文件（.doc），不是 .docx：请在 Word 或 WPS 中打开，另存为 .docx"),
    "password": ("form.xlsx", lambda: _compound_file("EncryptedPackage"), "文件设有打开密码"),
    "other compound file": ("form.xls", lambda: _compound_file("Contents"), "这是旧版 Excel 或 Word 文件（.xls 或 .doc）"),
    "web page as xls": ("form.xls", lambda: "<html><body><table><tr><td>集群名称</td></tr></table></body></html>".encode(),
                        "这是网页（HTML）文件"),
    "rtf as docx": ("form.docx", lambda: b"{\\rtf1\\ansi\\ansicpg936 {\\fonttbl}}",
                    "这是 RTF 文件，不是 Word（.docx）文件：请在 Word 或 WPS 中打开，另存为 .docx 后再检查。"),
    "mht as docx": ("form.docx", lambda: b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="b"\r\n',
                    "这是网页（HTML 或 MHT）文件，不是 Word（.docx）文件：请在 Word 或 WPS 中打开，另存为 .docx 后再检查。"),
    "pdf": ("form.pdf", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "这是 PDF 文件"),
    "opendocument": ("form.ods", _opendocument_bytes, "这是 OpenDocument 文件（.ods 或 .odt）"),
    "random bytes": ("form.xlsx", lambda: bytes(range(256)) * 8, "不是 Excel（.xlsx）或 Word（.docx）文件。"),
    "cut short": ("form.xlsx", lambda: _xlsx_bytes([["x"]])[:3000], "文件已损坏，无法打开。"),
}


@pytest.mark.parametrize("case", list(WRONG_TYPE))
def test_a_file_of_another_kind_is_said_what_it_is(tmp_path, capsys, case):
    name, make, said = WRONG_TYPE[case]
    path = tmp_path / name
    path.write_bytes(make())
    status, out, err = run(capsys, "form", "check", str(path))
    assert status == 2 and out == ""
    assert err.startswith(f"clusterbot form check: {path}: {said}") and err.count("\n") == 1, err
    assert run(capsys, "form", "check", str(path), "--lang", "en")[2].count("\n") == 1


@pytest.mark.parametrize("case", list(BAD))
def test_a_file_that_is_not_the_form_gets_one_line_and_exit_2(tmp_path, capsys, case):
    name, make, code = BAD[case]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(FormFileError) as caught:
        read_bytes(path.read_bytes(), name)
    assert caught.value.code == code
    status, out, err = run(capsys, "form", "check", str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"clusterbot form check: {path}: ")


def test_a_file_over_50_mb_is_refused_before_it_is_read(tmp_path, capsys, monkeypatch):
    path = tmp_path / "huge.xlsx"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: nothing written
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: opened.append(str(p)) or real_open(p, *a, **k))
    status, _, err = run(capsys, "form", "check", str(path))
    assert status == 2 and "超过 50 MB" in err
    assert str(path) not in opened


def test_a_small_file_that_unpacks_huge_is_refused(monkeypatch):
    monkeypatch.setattr("dialogs.form_files.MAX_UNPACKED", 1024 * 1024)  # 200 MB in production
    content = _with_part(_xlsx_bytes([["x"]]), "xl/huge.xml", b" " * 2 * 1024 * 1024)
    assert len(content) < 64 * 1024
    with pytest.raises(FormFileError) as caught:
        read_bytes(content, "form.xlsx")
    assert caught.value.code == "too_large"


def _limited(megabytes: int):
    """A child's preexec_fn: at most this much memory (a regression then fails, never swaps)."""
    import resource
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))


def stray_cell(path, cell: str):
    """The passing form with one stray value far out on its second sheet."""
    write_xlsx(path, passing())
    book = openpyxl.load_workbook(path)
    book.worksheets[1][cell] = "x"
    book.save(path)
    return path


@pytest.mark.parametrize("cell", ["XFD1048576", "Z1048576", "XFD1"])
def test_a_stray_cell_far_out_is_refused_at_once(tmp_path, cell):
    """openpyxl pads every row to the last cell present: one value at XFD1048576 in a 17 KB
    file once took minutes and 16 GB. It is refused in a second, naming the sheet and the cell."""
    import subprocess
    import sys
    path = stray_cell(tmp_path / "form.xlsx", cell)
    assert path.stat().st_size < 64 * 1024
    run = subprocess.run([sys.executable, "-m", "bot.cli", "form", "check", str(path)], capture_output=True,
                         text=True, timeout=60, preexec_fn=_limited(1500))
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (f"clusterbot form check: {path}: 工作表「二、主导产业情况」的内容延伸到单元格 {cell}，"
                          "远超申报表的大小，未读取：请删去多余的单元格后另存。\n")
    with pytest.raises(FormFileError) as caught:
        read_bytes(path.read_bytes(), "form.xlsx")
    assert caught.value.params["cell"] == cell


def test_a_sheet_whose_dimension_claims_every_cell_is_read_by_its_cells(tmp_path):
    """The <dimension> a program writes may claim A1:XFD1048576 with nothing there: the cells
    present are read; a stray value a few rows or columns out is read too."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    claim = lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml)  # noqa: E731
    path.write_bytes(_rewritten(path.read_bytes(), "xl/worksheets/sheet2.xml", claim))
    report = check(path)
    assert report.findings == [] and report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    report = check(stray_cell(tmp_path / "near.xlsx", "Z5000"))
    assert report.findings == [] and report.passed


def test_one_bad_file_does_not_hide_the_others(tmp_path, capsys):
    good = write_xlsx(tmp_path / "good.xlsx", passing())
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    status, out, err = run(capsys, "form", "check", str(bad), str(good), "--on", "2024-06-01")
    assert status == 2 and NAME in out and "bad.xlsx" in err


def test_the_form_cites_the_measure_it_belongs_to():
    assert load_form().measure in load_rulesets()


def test_the_cli_takes_the_facts_the_form_does_not_ask(tmp_path, capsys):
    form = write_xlsx(tmp_path / "form.xlsx", passing())
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps({"accident_level": "较大", "county_level": True}, ensure_ascii=False), encoding="utf-8")
    status, out, err = run(capsys, "form", "check", str(form), "--facts", str(facts), "--on", "2024-06-01")
    assert status == 1 and err == ""
    assert "承诺函「承诺函」承诺与已知情况不符：近三年集群企业最严重的安全、质量、环境污染事故为“较大”。" in out
    assert "江苏尚缺（申报表未问及或未填）：" in out and "集群定位在县级区划范围内" not in out

def test_a_target_against_a_tiny_baseline_is_a_finding_never_a_traceback():
    """A baseline of 1e-300 makes the growth or the fall overflow to infinity: still a finding."""
    changes = {"target_rd": [1e-300, 1e300], "target_co2": [1e-300, 1e300], "co2_intensity": [1e-300, 1.1, 1.0]}
    report = check_form([rows for _, rows in rows_of({**passing(), **changes})], ON)
    codes = finding_codes(report)
    assert ("reduction_low", "二氧化碳排放量", None) in codes and ("reduction_mismatch", "近三年累计降低率", None) in codes
    for f in report.findings:
        assert finding_text(f, "zh") and finding_text(f, "en")


CELL = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                 st.text(max_size=20), st.sampled_from(["无", "五十二亿", "☑是\n☑否", "数量：x个", "2024年13月1日",
                                                        "45.123", "-5", "１２.５", "□", "√"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(sorted(passing())), st.lists(CELL, min_size=1, max_size=4),
                               max_size=8))
def test_any_cell_anywhere_gives_findings_never_a_traceback(changes):
    tables = [rows for _, rows in rows_of({**passing(), **changes})]
    report = check_form(tables, ON)
    for f in report.findings:
        assert finding_text(f, "zh") and finding_text(f, "en")


def _damaged_content_types(how: str) -> bytes:
    """A form whose [Content_Types].xml is damaged inside a zip that opens: its deflated bytes
    flipped, its compression method unknown, or its entry marked encrypted."""
    content = bytearray(_xlsx_bytes([["x"]]))
    with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
        info = archive.getinfo("[Content_Types].xml")
    header = info.header_offset  # the local header: method at +8, flags at +6, data after the names
    start = header + 30 + int.from_bytes(content[header + 26:header + 28], "little") + int.from_bytes(
        content[header + 28:header + 30], "little")
    if how == "flipped":
        content[start:start + 5] = bytes(b ^ 0xFF for b in content[start:start + 5])
    elif how == "method":
        content[header + 8:header + 10] = (99).to_bytes(2, "little")
        cd = content.rfind(b"PK\x01\x02", 0, len(content))  # the central directory's entry says the same
        while cd != -1:
            if content[cd + 46:cd + 46 + len(b"[Content_Types].xml")] == b"[Content_Types].xml":
                content[cd + 10:cd + 12] = (99).to_bytes(2, "little")
            cd = content.rfind(b"PK\x01\x02", 0, cd)
    else:
        cd = content.rfind(b"PK\x01\x02", 0, len(content))
        while cd != -1:
            if content[cd + 46:cd + 46 + len(b"[Content_Types].xml")] == b"[Content_Types].xml":
                content[cd + 8] |= 1
            cd = content.rfind(b"PK\x01\x02", 0, cd)
    return bytes(content)


@pytest.mark.parametrize("how", ["flipped", "method", "encrypted"])
def test_a_damaged_part_inside_a_zip_is_a_corrupt_file_never_a_crash(how):
    with pytest.raises(FormFileError) as caught:
        read_bytes(_damaged_content_types(how), "form.xlsx")
    assert caught.value.code in ("corrupt", "not_office")


@pytest.mark.parametrize("typed, number_format", [("1E+400", "General"), ("-1E+400", "General"), ("1E+400", "0.0%")])
def test_an_infinite_figure_is_a_finding_on_its_row_never_a_crash(tmp_path, capsys, typed, number_format):
    """Excel keeps 1E+400 as typed; openpyxl reads it as inf, which is no figure."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    book["二、主导产业情况"]["B3"] = 45
    book["二、主导产业情况"]["B3"].number_format = number_format
    book.save(path)
    path.write_bytes(_rewritten(path.read_bytes(), "xl/worksheets/sheet2.xml",
                                lambda xml: re.sub(rb'(<c r="B3"[^>]*><v>)45(</v>)', rb"\g<1>" + typed.encode() + rb"\2", xml)))
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 1 and err == ""
    assert "二、主导产业情况「集群总产值（亿元）」2021年应填数字" in out


def legacy_checkbox(default: int, checked: str = "") -> str:
    """A legacy form field checkbox (FORMCHECKBOX) as Word writes it; `checked` a <w:checked/>."""
    return (f'<w:r><w:fldChar w:fldCharType="begin"><w:ffData><w:name w:val="Check1"/><w:enabled/>'
            f'<w:checkBox><w:sizeAuto/><w:default w:val="{default}"/>{checked}</w:checkBox></w:ffData></w:fldChar></w:r>'
            '<w:r><w:instrText xml:space="preserve"> FORMCHECKBOX </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>')


@pytest.mark.parametrize("box", [legacy_checkbox(0, "<w:checked/>"), legacy_checkbox(1)], ids=["checked", "default"])
def test_a_legacy_checkbox_is_read_as_word_shows_it(tmp_path, box):
    """A FORMCHECKBOX shows ☒ or ☐: an option after an unchecked one is not ticked by its bare text."""
    sharing = "集群已开展的产业链资源协同协作工作"
    options = [o.text for o in load_form().field("resource_sharing").options]
    report = check(_docx_with(tmp_path, {
        (WATER, 1): legacy_checkbox(0) + run_xml("是 ") + legacy_checkbox(0) + run_xml("否 ") + box + run_xml("不涉及"),
        (sharing, 1): "<w:r><w:br/></w:r>".join(legacy_checkbox(0) + run_xml(o) for o in options),
    }))
    assert report.facts["high_water_industry"] is False  # 不涉及 alone, as ticked
    assert report.facts["resource_sharing_count"] == 0   # none checked
    assert [(f.code, f.field) for f in report.findings] == [("criterion", sharing)]


def test_a_content_control_around_a_cell_or_a_row_is_read_in_place(tmp_path):
    """Word wraps a whole cell (<w:sdt> around a <w:tc>) or row (around a <w:tr>) in a content
    control: its figures stay in their year's column and its row is found."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    path = write_docx(tmp_path / "form.docx", passing())
    document = docx.Document(path)

    def wrap(element):
        sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtPr><w:id w:val="5"/></w:sdtPr><w:sdtContent/></w:sdt>')
        element.addprevious(sdt)
        sdt[1].append(element)

    rows = {r.cells[0].text: r for t in document.tables for r in t.rows}
    wrap(rows["集群总产值（亿元）"].cells[2]._tc)  # 2022
    wrap(rows["集群名称"]._tr)
    wrap(rows[WATER]._tr)
    wrap(rows[WATER]._tr.getparent().getparent())  # a control in a control
    document.save(path)
    report = check(path)
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.name == NAME and report.facts["water_efficiency_ok"] is True
    assert report.findings == []


@pytest.mark.parametrize("changes, row, year, written, asked", [
    ({"area": ["80亿元"]}, "集群占地面积（平方公里）", None, "亿元", "平方公里"),
    ({"total_output": ["45平方公里", 48.2, 52.9]}, "集群总产值（亿元）", "2021", "平方公里", "亿元"),
    ({"total_output": [45, "48.2家", 52.9]}, "集群总产值（亿元）", "2022", "家", "亿元"),
    ({"total_output": [45, 48.2, "45%"]}, "集群总产值（亿元）", "2023", "%", "亿元"),
    ({"sme_output_share": ["80.5亿", 81, 82.3]}, "集群内中小企业产值占集群总产值比例（%）", "2021", "亿", "%"),
    ({"invention_patents": ["900万元"]}, "集群内中小企业有效发明专利拥有量", None, "万元", "个"),
    ({"sme_employees": ["50000家"]}, "集群内中小企业从业人员数量", None, "家", "人"),
])
def test_a_unit_not_the_rows_is_a_finding_naming_both(tmp_path, changes, row, year, written, asked):
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **changes}))
    wrong = [f for f in report.findings if f.code == "wrong_unit"]
    assert [(f.field, f.year, f.params["written"], f.params["asked"]) for f in wrong] == [(row, year, written, asked)]
    assert f"单位“{written}”不是本栏的单位（{asked}）" in finding_text(wrong[0], "zh")
    assert f"{written} is not the row's unit" in finding_text(wrong[0], "en")


def test_the_rows_own_unit_and_the_other_money_unit_are_read(tmp_path):
    report = check(write_xlsx(tmp_path / "form.xlsx", {
        **passing(), "total_output": ["450000万元", "48.2亿", "52.9亿元"], "sme_output_share": ["80.5%", 81, 82.3],
        "enterprises": ["300个", "320家", 350], "sme_employees": ["12000人"], "area": ["81平方公里"]}))
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["enterprises"] == {"2021": 300, "2022": 320, "2023": 350}
    assert not [f for f in report.findings if f.code == "wrong_unit"], report.findings


def test_the_facts_of_several_clusters_are_the_forms_by_its_name(tmp_path, capsys):
    form = write_xlsx(tmp_path / "form.xlsx", passing())
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps([{"name": "乙集群"}, {"name": NAME, "accident_level": "较大"}], ensure_ascii=False),
                     encoding="utf-8")
    status, out, err = run(capsys, "form", "check", str(form), "--facts", str(facts), "--on", "2024-06-01")
    assert status == 1 and err == "" and "事故为“较大”" in out  # the form's cluster, though second
    facts.write_text(json.dumps([{"name": "乙集群", "accident_level": "较大"}, {"name": "丙集群"}], ensure_ascii=False),
                     encoding="utf-8")
    status, out, err = run(capsys, "form", "check", str(form), "--facts", str(facts), "--on", "2024-06-01")
    assert status == 2 and out == ""
    assert err == (f"clusterbot form check: {form}: 表中集群名称为“{NAME}”，而 {facts} 有多个集群（乙集群、丙集群），"
                   "没有与之同名的：未检查。请只留本集群，或使名称与表中一致。\n")
    status, out, err = run(capsys, "form", "check", str(form), "--facts", str(facts), "--on", "2024-06-01",
                           "--lang", "en")
    assert status == 2 and "none of that name: not checked" in err
    # one cluster alone is the form's, whatever its name
    facts.write_text(json.dumps([{"name": "乙集群", "accident_level": "较大"}], ensure_ascii=False), encoding="utf-8")
    status, out, err = run(capsys, "form", "check", str(form), "--facts", str(facts), "--on", "2024-06-01")
    assert status == 1 and "事故为“较大”" in out


def test_a_content_control_showing_its_placeholder_is_not_filled(tmp_path):
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls
    placeholder = ('<w:sdt><w:sdtPr><w:showingPlcHdr/><w:text/></w:sdtPr><w:sdtContent>'
                   + run_xml("单击或点击此处输入文字。") + '</w:sdtContent></w:sdt>')
    path = _docx_with(tmp_path, {("集群名称", 1): placeholder, ("集群总产值（亿元）", 1): placeholder})
    document = docx.Document(path)
    tc = next(r for t in document.tables for r in t.rows if r.cells[0].text == "集群总产值（亿元）").cells[3]._tc
    tc.getparent().remove(tc)
    tc.find(".//" + tc.tag.replace("tc", "p")).append(parse_xml(f'<w:r {nsdecls("w")}><w:t>单击或点击此处输入文字。</w:t></w:r>'))
    sdt = parse_xml(f'<w:sdt {nsdecls("w")}><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent/></w:sdt>')
    sdt[1].append(tc)
    next(r for t in document.tables for r in t.rows if r.cells[0].text == "集群总产值（亿元）")._tr.append(sdt)
    document.save(path)
    report = check(path)
    assert {(f.code, f.field, f.year) for f in report.findings} >= {
        ("required", "集群名称", None), ("required", "集群总产值（亿元）", "2021"), ("required", "集群总产值（亿元）", "2023")}
    assert "单击" not in repr(report.findings)


def test_a_failing_year_is_a_finding_when_another_year_is_refused(tmp_path, capsys):
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), "total_output": [450000, 39, 52.9],
                                               "sme_output_share": [101, 65, 82]})
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 1 and err == ""
    assert "二、主导产业情况「集群总产值（亿元）」2022年39.00亿元，不符合江苏第六条（二）" in out
    assert "二、主导产业情况「集群内中小企业产值占集群总产值比例（%）」2022年65.00%，不符合江苏第六条（二）" in out
    report = check(path)
    assert [(f.field, f.year, f.severity) for f in report.findings if f.code == "criterion"] == [
        ("集群总产值（亿元）", "2022", "error"), ("集群内中小企业产值占集群总产值比例（%）", "2022", "error")]


@pytest.mark.parametrize("rows, columns", [(100_000, 1), (1, 201)], ids=["rows", "columns"])
def test_a_word_table_past_the_sheets_limits_is_refused_at_once(tmp_path, capsys, rows, columns):
    """100,000 empty rows are 82 KB zipped and took 6 s and 218 MB: refused as a sheet that large is."""
    import time
    path = write_docx(tmp_path / "form.docx", passing())
    row = "<w:tr>" + "<w:tc><w:p/></w:tc>" * columns + "</w:tr>"
    table = f"<w:tbl><w:tblPr/>{row * rows}</w:tbl>".encode()
    path.write_bytes(_rewritten(path.read_bytes(), "word/document.xml",
                                lambda xml: xml.replace(b"<w:sectPr", table + b"<w:p/><w:sectPr", 1)))
    started = time.monotonic()
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert time.monotonic() - started < 3
    n = len(load_form().sections) + 1  # the form's tables, then the extra one
    assert status == 2 and out == ""
    assert err == (f"clusterbot form check: {path}: 第 {n} 个 Word 表格超过 10000 行或 200 列，远超申报表的大小，"
                   "未读取：请删去多余的行后另存。\n")


@pytest.mark.parametrize("strays, sheet, cell", [
    ({0: ["GR10000"]}, "一、基本情况", "GR10000"),            # within the limits alone; the next sheet's A1 tips the sum
    ({0: ["GH9999"], 2: ["T9000"]}, "一、基本情况", "GH9999"),  # the sheet taking most, not the one read last
])
def test_too_many_cells_together_name_the_stray_cell_that_takes_them(tmp_path, strays, sheet, cell):
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    for n, cells in strays.items():
        for ref in cells:
            book.worksheets[n][ref] = "x"
    book.save(path)
    with pytest.raises(FormFileError) as caught:
        read_bytes(path.read_bytes(), "form.xlsx")
    assert (caught.value.code, caught.value.params) == ("sheet_too_large", {"sheet": sheet, "cell": cell})


def test_a_sheets_name_is_quoted_without_control_characters(tmp_path, capsys):
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    book.worksheets[0].title = "基本\x9b31m情况\x7f"
    book.worksheets[0]["GR10000"] = "x"
    book.save(path)
    status, out, err = run(capsys, "form", "check", str(path), "--on", "2024-06-01")
    assert status == 2 and "工作表「基本情况」的内容延伸到单元格 GR10000" in err


@pytest.mark.parametrize("lang,missing,folder", [
    ("zh", "没有这个文件。", "这是文件夹，不是文件：请给出申报表文件的路径。"),
    ("en", "no such file.", "this is a folder, not a file: give the path of the form's file."),
])
def test_a_path_that_is_no_file_is_said_in_the_users_language(tmp_path, capsys, lang, missing, folder):
    """The system's strerror (No such file or directory) was quoted in English in a Chinese run;
    the forms named beside it are still checked."""
    (tmp_path / "folder.xlsx").mkdir()
    form = write_xlsx(tmp_path / "form.xlsx", passing())
    status, out, err = run(capsys, "form", "check", str(tmp_path / "none.xlsx"), str(tmp_path / "folder.xlsx"),
                           str(form), "--on", "2024-06-01", "--lang", lang)
    assert status == 2 and NAME in out
    assert err.splitlines() == [f"clusterbot form check: {tmp_path / 'none.xlsx'}: {missing}",
                                f"clusterbot form check: {tmp_path / 'folder.xlsx'}: {folder}"]


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_a_minus_sign_as_word_writes_it_and_an_invisible_character_are_read(tmp_path, writer):
    # U+2212 is what Word and WPS put for a typed minus; a zero-width space comes with a paste
    path = writer(tmp_path / f"form.{writer.__name__[-4:]}", {**passing(), "fdi_growth": ["\u22125.0", "6.0\u200b", "－7"]})
    report = check(path)
    assert report.findings == [], [finding_text(f, "en") for f in report.findings]
    assert report.facts["fdi_growth"] == {"2021": -5.0, "2022": 6.0, "2023": -7.0}


@pytest.mark.parametrize("writer", [write_xlsx, write_docx], ids=["xlsx", "docx"])
def test_a_count_written_in_万_of_its_unit_is_read_as_its_figure(tmp_path, writer):
    # 5万人 of employees is 50000 人, as an applicant writes it; a count past a whole number is still said
    path = writer(tmp_path / f"form.{writer.__name__[-4:]}", {**passing(), "sme_employees": ["5万人"]})
    report = check(path)
    assert report.findings == [], [finding_text(f, "en") for f in report.findings]
    assert report.facts["sme_employees"] == 50000
    report = check(writer(tmp_path / f"odd.{writer.__name__[-4:]}", {**passing(), "sme_employees": ["5.000012万人"]}))
    assert ("not_integer", "集群内中小企业从业人员数量", None) in finding_codes(report)
    assert any("50000.12" in finding_text(f, "zh") for f in report.findings)


def test_chinese_numerals_in_a_cell_are_read_as_the_chat_reads_them(tmp_path, capsys):
    """三百, 百分之八十点五, 四十五亿 in a filled form: the chat and `evaluate` read them, the form
    check said 应填数字. An estimate (十几家) or an approximation (约三百) is still refused."""
    cells = {"enterprises": ["三百", "三百二十家", 350], "smes": ["二百九十", 310, 338],
             "sme_output_share": ["百分之八十点五", "81%", "八十二点三"],
             "total_output": ["四十五亿", 48.2, "五十二点九亿元"], "sme_employees": ["五万"],
             "srdi_smes": ["十几家", 18, 20], "hitech": ["约二十五", 28, 30]}
    path = write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells})
    status, out, _ = run(capsys, "form", "check", str(path), "--on", "2024-06-01", "-f", "json")
    report = json.loads(out)[0]
    assert report["facts"]["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report["facts"]["sme_output_share"] == {"2021": 80.5, "2022": 81.0, "2023": 82.3}
    assert report["facts"]["sme_employees"] == 50000
    assert [(f["code"], f["year"]) for f in report["findings"]] == [("not_number", "2021")] * 2, report["findings"]
    assert status == 1


@pytest.mark.parametrize("field, cell", [
    ("promise_sealed", "未盖章"), ("promise_sealed", "无"), ("declaration_sealed", "待盖章"),
    ("declaration_signed", "（签字）"), ("declaration_signed", "尚未签字"), ("declaration_signed", "/"),
])
def test_a_signature_or_seal_written_as_not_there_is_a_finding(tmp_path, field, cell):
    """承诺函（公章）未盖章, a 负责人（签字） of 无 or of the form's own （签字）: no seal, no
    signature, said on its row; the form passed with them."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), field: [cell]}))
    label = load_form().field(field).label
    assert [(f.code, f.field) for f in report.findings] == [("not_signed", label)] and not report.passed
    assert f"「{label}」填的是“{cell}”，不是签字或盖章：须签字（盖章）后报送。" in finding_text(report.findings[0], "zh")
    assert f"says “{cell}”, which is no signature or seal" in finding_text(report.findings[0], "en")


def test_a_signature_or_seal_given_passes(tmp_path):
    cells = {"declaration_signed": ["王五"], "declaration_sealed": ["无锡市某区工业和信息化局（已盖章）"],
             "promise_sealed": ["已加盖公章"]}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells}))
    assert report.findings == [] and report.passed


def test_a_note_written_after_a_figure_is_read_with_the_figure_and_shown(tmp_path):
    """48.2（初步统计） and 52.9 注：含预估 in 集群总产值: the figure is read, the note shown on its row
    and year (it was dropped without a word, or the cell refused as no number); the form's own
    notes (900 个（需提供清单及年份）) stay unsaid."""
    cells = {"total_output": [45.0, "48.2（初步统计）", "52.9 注：含预估"], "invention_patents": ["900 个（需提供清单及年份）"]}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells}))
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert report.values["invention_patents"] == 900
    assert [(f.code, f.severity, f.year, f.params["note"]) for f in report.findings] == [
        ("cell_note", "warning", "2022", "初步统计"), ("cell_note", "warning", "2023", "含预估")]
    assert report.passed
    assert "二、主导产业情况「集群总产值（亿元）」2022年填的是“48.2（初步统计）”：说明“初步统计”未作为数据，按 48.2 读取，请核对。" \
        in finding_text(report.findings[0], "zh")
    assert "the note “初步统计” is not part of the figure; read as 48.2" in finding_text(report.findings[0], "en")


def test_a_checklist_cell_left_empty_is_not_filled_and_one_of_none_is_none(tmp_path):
    """A checklist whose cell was emptied (its boxes deleted) is 未填写, as a choice left empty
    is (各必填栏目不得空缺): it was read as nothing done, without a word; 无 is nothing done."""
    report = check(write_xlsx(tmp_path / "empty.xlsx", {**passing(), "green_work": [""]}))
    assert ("required", "集群已开展的绿色低碳相关工作") in [(f.code, f.field) for f in report.findings]
    report = check(write_xlsx(tmp_path / "none.xlsx", {**passing(), "green_work": ["无"]}))
    assert "集群已开展的绿色低碳相关工作" not in [f.field for f in report.findings if f.code == "required"]


def test_a_row_repeated_in_a_sheet_is_a_finding_naming_what_was_not_read(tmp_path):
    """An extra 集群总产值（亿元） row (a revision pasted below the first): only the first is read,
    and the other is a problem naming its figures; the same figures repeated are a note."""
    path = write_xlsx(tmp_path / "form.xlsx", passing())
    book = openpyxl.load_workbook(path)
    sheet = next(s for s in book.worksheets if s.title.startswith("二、"))
    sheet.append(["集群总产值（亿元）", 30, 31, 32])
    sheet.append(["集群企业数量：", 300, 320, 350])
    book.save(path)
    report = check(path)
    assert [(f.code, f.severity, f.field, f.params["values"]) for f in report.findings] == [
        ("repeated_row", "error", "集群总产值（亿元）", "30、31、32"), ("repeated_row", "warning", "集群企业数量", "300、320、350")]
    assert report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}
    assert finding_text(report.findings[0], "zh") == (
        "二、主导产业情况「集群总产值（亿元）」出现在不止一行：另一行填的是 30、31、32，只读取了第一行；请删去多余的一行。")
    assert "appears in more than one row: another reads 30、31、32" in finding_text(report.findings[0], "en")


@pytest.mark.parametrize("day, early", [("2019年3月15日", True), ("2023年12月30日", True), ("2024年1月2日", False)])
def test_a_letter_dated_before_its_datas_year_ended_is_a_note(tmp_path, day, early):
    """A 承诺函 dated 2019 (last round's letter) promises 近三年 nothing happened before the
    three years ended: a note quoting the form's 截止到申报2023年底; the form passed unseen."""
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), "promise_date": [day]}))
    found = [(f.code, f.severity, f.field) for f in report.findings]
    assert found == ([("early_date", "warning", "年月日")] if early else []), found
    if early:
        assert report.findings[0].quote == "未注明填报年度的，请填写截止到申报2023年底的数据"
        assert "早于申报数据截止的 2023年12月31日" in finding_text(report.findings[0], "zh")
        assert "earlier than the end of the form's data year, 2023-12-31" in finding_text(report.findings[0], "en")


def test_the_units_the_chat_reads_are_read_in_a_form_cell(tmp_path):
    """900件 of patents, 50000名 of employees, 15户 of firms, 1.20吨/万元 of CO₂: the chat reads
    them (dialogs/parse.py's unit words), the form check said 应填数字; another row's unit in a
    cell is still said (1.2万元 of CO₂)."""
    cells = {"invention_patents": ["900件"], "sme_employees": ["50000名"], "srdi_smes": ["15户", 18, 20],
             "co2_intensity": ["1.20吨/万元", "1.10吨二氧化碳/万元", 1.0], "target_patents": ["900件", "1400件"]}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells}))
    assert report.findings == [] and report.passed
    assert (report.values["invention_patents"], report.values["sme_employees"]) == (900, 50000)
    assert report.values["co2_intensity"] == {"2021": 1.2, "2022": 1.1, "2023": 1.0}
    report = check(write_xlsx(tmp_path / "wrong.xlsx", {**passing(), "co2_intensity": ["1.2万元", 1.1, 1.0]}))
    assert [(f.code, f.year) for f in report.findings if f.field.startswith("近三年单位产值")] == [("wrong_unit", "2021")]
    assert "单位“万元”不是本栏的单位（吨/万元）" in finding_text(report.findings[0], "zh")


def test_a_unit_in_brackets_after_a_figure_is_its_unit(tmp_path):
    """450000（万元） in 集群总产值（亿元） is 45亿元, as 450000万元 is: the bracketed unit was dropped as
    a note, the figure refused as out of range; 80.5(%) is 80.5%."""
    cells = {"total_output": ["450000（万元）", "48.2(亿元)", 52.9], "sme_output_share": ["80.5(%)", 81.0, 82.3]}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells}))
    assert report.findings == [] and report.values["total_output"] == {"2021": 45.0, "2022": 48.2, "2023": 52.9}


def test_two_figures_in_one_cell_are_not_read_as_one(tmp_path):
    """45 48 in one year's cell (two years typed in one) was read as 4548 亿元 and 320 350 as
    320350 firms; a figure grouped in thousands by a format's no-break space (50 000) is one."""
    cells = {"total_output": ["45 48", 48.2, 52.9], "enterprises": [300, "320 350", 350], "sme_employees": ["50\u00a0000"]}
    report = check(write_xlsx(tmp_path / "form.xlsx", {**passing(), **cells}))
    assert [(f.code, f.field, f.year) for f in report.findings if f.code == "not_number"] == [
        ("not_number", "集群总产值（亿元）", "2021"), ("not_number", "集群企业数量", "2022")]
    assert report.values["sme_employees"] == 50000
