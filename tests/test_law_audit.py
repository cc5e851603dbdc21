"""Boundaries an outside review of the law found wrong, each against the article it reads."""

from __future__ import annotations

import json

from engine import evaluate_many, load_rulesets
from locales import t
from locales.explain import explain
from tests.conftest import ON, evaluate_with


def test_an_unanswered_preference_does_not_hold_the_verdict():
    """苏第六条（一）“重点支持主导产业在全省16个先进制造业集群和50条重点产业链的产业集群” is a
    preference: no answer to it can change the verdict, so a cluster meeting every condition
    is eligible without it; the criterion says it was not answered, and the chat still asks it."""
    ev = evaluate_with("jiangsu", drop=("priority_chain",))
    result = ev.by_id("priority-chain")
    assert result.status == "warning"
    assert ev.verdict == "eligible"
    text = explain(result, "zh")
    assert "尚未填报" in text and "不影响认定" in text and "否。" not in text
    assert "not answered" in explain(result, "en").lower()
    assert "priority_chain" in ev.missing  # still worth asking
    # answered, it reads as before
    assert evaluate_with("jiangsu", priority_chain=False).by_id("priority-chain").status == "warning"
    assert evaluate_with("jiangsu", priority_chain=True).by_id("priority-chain").status == "pass"
    # traced evaluation (the dialog's) agrees with the statuses alone (a batch's)
    facts = evaluate_with("jiangsu", drop=("priority_chain",))._trace.profile.facts
    traced = evaluate_many(facts, [load_rulesets()["jiangsu"]], ON, traced=True)[0]
    assert traced.verdict == "eligible" and traced.by_id("priority-chain").status == "warning"


def test_a_sum_passing_on_known_counts_says_so_not_equal():
    """认定标准二 “不少于1家…或者不少于10家…”: with a count unknown, a known total that already
    reaches the figure passes, but the total is at least that, not equal to it: no 恰好等于,
    no margin given as exact."""
    ev = evaluate_with("national", drop=("champion_count", "srdi_sme_count"), little_giant_count=1,
                       innovative_sme_count=0, hitech_count=12)
    result = ev.by_id("quality-enterprises")
    assert result.status == "pass"
    text = explain(result, "zh")
    assert "恰好等于" not in text and "= 1家" not in text and "= 12家" not in text
    assert "已知合计 1家" in text and "已知合计 12家" in text
    assert "至少高出 2家" in text
    assert "尚缺：主导产业的国家级制造业单项冠军企业数" in text
    en = explain(result, "en")
    assert "exactly" not in en and "at least 2 firms above" in en
    # every count known: the sum as before
    full = explain(evaluate_with("national", champion_count=0, little_giant_count=1).by_id("quality-enterprises"), "zh")
    assert "= 1家" in full and "恰好等于" in full


def test_patents_per_10k_with_no_employees_is_not_called_unanswered():
    """认定标准四 “每万人有效发明专利拥有量不低于15个”: derived from the two counts given; with 0
    employees it cannot be derived, which the explanation says (both were answered)."""
    ev = evaluate_with("national", drop=("patents_per_10k",), invention_patents=5, sme_employees=0)
    result = ev.by_id("patents-per-10k")
    assert result.status == "unknown"
    text = explain(result, "zh")
    assert "尚未填报" not in text
    assert "集群内中小企业从业人员数为 0，无法按每万人计算" in text and "有效发明专利拥有量 5" in text
    en = explain(result, "en")
    assert "cannot be derived" in en and "is 0" in en and "Not answered" not in en


def test_a_csv_column_in_another_unit_names_the_fact_and_its_unit():
    """认定标准一 “近三年产值均在40亿元以上” counts 亿元; a column headed 集群总产值（万元） is not
    read (its figures would be taken for 亿元), and the refusal says which fact the column meant,
    the unit written and the unit expected, not merely 未知字段."""
    from tests.test_evaluate_inputs import clusterbot

    csv = "name,集群总产值（万元）.2023,集群总产值（万元）.2024,集群总产值（万元）.2025\n甲,400000,420000,450000\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-03-01", stdin=csv)
    assert run.returncode == 1
    assert "未知字段" not in run.stderr
    assert ("甲（第 2 行）：列“集群总产值（万元）”标明的单位“万元”不是集群总产值（total_output）的单位亿元，该列未读取："
            "请按亿元填写并把列名写作“集群总产值（亿元）”，或在单元格的数值后写明其单位。") in run.stderr
    (result,) = json.loads(run.stdout)
    assert next(c for c in result["criteria"] if c["id"] == "output-each-year")["status"] == "unknown"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-03-01", "--lang", "en", stdin=csv)
    assert "the unit “万元” written in column “集群总产值（万元）” is not that of" in run.stderr
    # the fact's own unit is read as before
    ok = "name,集群总产值（亿元）.2023,集群总产值（亿元）.2024,集群总产值(亿元).2025\n甲,40,42,45\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-03-01", stdin=ok)
    (result,) = json.loads(run.stdout)
    assert next(c for c in result["criteria"] if c["id"] == "output-each-year")["status"] == "pass"


def test_a_measure_not_yet_in_force_is_said_of_the_measure():
    """苏第十六条 “本办法自2023年5月1日起实施。”: evaluated on 2023-04-30, the measure was not in
    force on that date (the notice said 评估日期尚未生效, the date not being what takes effect)."""
    from locales.explain import notice_text

    ev = evaluate_with("jiangsu", on=__import__("datetime").date(2023, 4, 30))
    (notice,) = ev.notices
    text = notice_text(notice, ev.ruleset, "zh")
    assert "于2023年5月1日起实施，评估日期时尚未施行" in text and "评估日期尚未生效" not in text
    assert evaluate_with("jiangsu", on=__import__("datetime").date(2023, 5, 1)).notices == []


def test_the_jiangsu_form_is_called_by_its_own_title_申报表():
    """The accident-pledge reading sent officials to a 申报书 the measure never names: the form's
    title is 江苏省中小企业特色产业集群申报表 (and the web page's upload button said 申报书 too)."""
    from engine.form import load_form

    assert "申报表" in load_form().source_text().splitlines()[0] and "申报书" not in load_form().source_text()
    pledge = load_rulesets()["jiangsu"].criteria
    reading = next(c for c in pledge if c.id == "accident-pledge").reading
    assert "申报表的承诺函" in reading.zh and "申报书" not in reading.zh
    assert t("zh", "web.upload") == "上传申报表"
