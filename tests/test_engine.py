"""The engine's reading rules: averages, rounding, unknowns, conditions, incidents, terms."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import catalogue, evaluate, evaluate_many, load_rulesets, validate_facts
from engine.facts import average_rate, per_10k, round2
from locales.explain import explain
from engine.rules import Term, add_years
from tests.conftest import ON, eligible_facts, evaluate_with, series_as_of, status_of

JURISDICTIONS = ["national", "jiangsu", "guangdong", "shaanxi"]


def test_the_eligible_fixture_passes_everywhere():
    for j in JURISDICTIONS:
        ev = evaluate_with(j)
        assert ev.verdict == "eligible", [(r.criterion.id, r.status) for r in ev.results if r.status != "pass"]


def test_round_half_up_not_bankers():
    assert round2(2.675) == 2.68  # Python's round() gives 2.67 (binary float); the form says half-up
    assert round2(10.005) == 10.01
    assert round2(10.004999) == 10.0
    assert round2(-1.005) == -1.01


W = ("2023", "2024", "2025")  # 近三年 on ON (2026-01-15)


def test_geometric_average_of_annual_rates():
    # ((1.09 × 1.10 × 1.11)^(1/3) − 1) × 100 = 9.9970…, rounded half-up to 10.00
    assert average_rate({"2023": 9, "2024": 10, "2025": 11}, W) == 10.0
    assert average_rate({"2023": 20, "2024": 0, "2025": 0}, W) == 6.27
    assert average_rate(12.5, W) == 12.5
    # 近三年 is the window: earlier years are ignored, a year of the window missing is unknown
    assert average_rate({"2021": 50, "2023": 10, "2024": 10, "2025": 10}, W) == 10.0
    assert average_rate({"2024": 10, "2025": 10}, W) is None


def test_rounding_happens_before_comparing():
    """10.0033 % rounds to 10.00 %, which is not 高于 10 %: rounding comes first."""
    rates = {"2023": 10.01, "2024": 10, "2025": 10}
    assert average_rate(rates, W) == 10.0
    assert status_of("national", "rd-growth", rd_growth=rates) == "fail"
    assert status_of("jiangsu", "rd-growth", rd_growth=rates) == "pass"  # 不低于


def test_the_average_of_equal_rates_is_that_rate_exactly():
    """Three annual rates of 9.995 average to 9.995, which rounds half-up to 10.00: the float
    cube root gives 9.99499…, which would round down and fail Jiangsu 第六条（二）."""
    assert average_rate({"2023": 9.995, "2024": 9.995, "2025": 9.995}, W) == 10.0
    assert average_rate({"2023": -0.005, "2024": -0.005, "2025": -0.005}, W) == -0.01  # away from zero
    assert status_of("jiangsu", "leading-output-growth",
                     leading_output_growth={"2023": 9.995, "2024": 9.995, "2025": 9.995}) == "pass"


@pytest.mark.parametrize("given", [10.004, {"2023": 10.004, "2024": 10.004, "2025": 10.004}])
def test_a_rate_gets_the_same_verdict_given_or_derived(given):
    """10.004 rounds to 10.00, which is not 高于10%, whether given as the average or as rates."""
    result = evaluate_with("national", rd_growth=given).by_id("rd-growth")
    assert result.status == "fail"
    assert result.outcome.observed == 10.0
    assert "10.00%" in explain(result, "zh") and "恰好等于 10%" in explain(result, "zh")


def test_a_given_figure_is_rounded_before_comparing_and_the_explanation_agrees():
    # 29.995 rounds half-up to 30.00, which is 不低于30%
    result = evaluate_with("jiangsu", cloud_or_identifier_rate=29.995).by_id("cloud-identifier-rate")
    assert result.status == "pass"
    assert "30.00%" in explain(result, "zh") and "符合（恰好等于" in explain(result, "zh")
    # 100.005 km² rounds to 100.01: over the soft limit by 0.01, a warning, never 差 0.00
    result = evaluate_with("national", area_km2=100.005).by_id("area")
    assert result.status == "warning" and result.outcome.margin == -0.01
    text = explain(result, "zh")
    assert "100.01" in text and "超出 0.01" in text and "0.00" not in text and "不含本数" not in text
    # a series' year is rounded the same way: 39.995 is 40.00, 以上 includes it
    assert status_of("jiangsu", "output-each-year", total_output={"2023": 45, "2024": 39.995, "2025": 50}) == "pass"
    result = evaluate_with("jiangsu", total_output={"2023": 45, "2024": 39.994, "2025": 50}).by_id("output-each-year")
    assert result.status == "fail" and "39.99亿元，差 0.01亿元" in explain(result, "zh")



def test_the_years_that_fail_are_told_apart_where_each_says_its_gap():
    """差 2.00个百分点、2024年 … read as one list with the gaps inside it (English: '2.00
    percentage points short, 2024: …'): each failing year holds a comma of its own, so the years
    are separated by ；/;."""
    result = evaluate_with("guangdong", sme_output_share={"2023": 68, "2024": 69.5, "2025": 70}).by_id("sme-share")
    assert result.status == "fail"
    assert ("不符合：2023年 68.00%，差 2.00个百分点；2024年 69.50%，差 0.50个百分点；"
            "2025年恰好等于 70%，而“高于”不含本数。") in explain(result, "zh")
    assert ("Fails: 2023: 68.00%, 2.00 percentage points short; 2024: 69.50%, 0.50 percentage points short; "
            "2025: exactly 70%") in explain(result, "en")

def test_per_10k_rounds_half_up_exactly():
    assert per_10k(1, 80000) == 0.13  # 0.125 exactly
    assert per_10k(1499, 1_000_000) == 14.99
    assert per_10k(29_999, 20_000_000) == 15.0  # 14.9995 → 15.00


WINDOW_CASES = [
    # (evaluation date, data_year, years given, status, years named in the explanation)
    (dt.date(2026, 1, 15), None, ("2023", "2024", "2025"), "pass", None),
    (dt.date(2026, 12, 1), None, ("2023", "2024", "2025"), "pass", None),
    (dt.date(2026, 12, 1), None, ("2024", "2025", "2026"), "unknown", "2026年尚未结束"),  # not complete
    (dt.date(2024, 6, 1), None, ("2023", "2024", "2025"), "unknown", "2024年、2025年尚未结束"),
    (dt.date(2026, 1, 15), None, ("2019", "2022", "2025"), "unknown", "缺少2023年、2024年"),   # a gap
    (dt.date(2026, 1, 15), None, ("2020", "2021", "2022"), "unknown", "缺少2023年、2024年、2025年"),  # only older
    (dt.date(2024, 6, 1), 2023, ("2021", "2022", "2023"), "pass", None),   # the 2024 Jiangsu round
    (dt.date(2026, 1, 15), 2023, ("2021", "2022", "2023"), "pass", None),  # data_year moves it back
    (dt.date(2026, 1, 15), 2023, ("2022", "2023", "2024"), "unknown", "2024年尚未结束或晚于填报截止年度"),
    (dt.date(2024, 6, 1), 2024, ("2022", "2023", "2024"), "unknown", "data_year（2024年）在评估日期尚未结束"),
]


def test_a_window_with_a_year_missing_whose_given_years_already_fail_says_it_cannot_pass():
    # 每年均在40亿元以上 with 2024 at 38.5 and 2023 missing: unknown (facts.md), and said hopeless
    ev = evaluate_with("jiangsu", on=dt.date(2026, 1, 15), total_output={"2024": 38.5, "2025": 52})
    result = ev.by_id("output-each-year")
    assert result.status == "unknown"
    assert explain(result, "zh").endswith("缺少2023年，无法判断近三年情况。已填年份已不满足“在40亿元以上”"
                                          "（2024年 38.50亿元，差 1.50亿元）：补齐后本项仍不符合。")
    assert "filling in the rest cannot make this pass" in explain(result, "en")
    # the given years passing: nothing more is said
    ev = evaluate_with("jiangsu", on=dt.date(2026, 1, 15), total_output={"2024": 40, "2025": 52})
    assert explain(ev.by_id("output-each-year"), "zh").endswith("缺少2023年，无法判断近三年情况。")
    # 持续下降 with 2025 missing and 2024 above 2023: it cannot become a steady decline
    ev = evaluate_with("national", on=dt.date(2026, 1, 15), co2_intensity={"2023": 1.0, "2024": 1.1})
    assert explain(ev.by_id("co2-falling"), "zh").endswith("2024年未比上一年下降：补齐后本项仍不是“持续下降”。")
    ev = evaluate_with("national", on=dt.date(2026, 1, 15), co2_intensity={"2023": 1.1, "2024": 1.0})
    assert "补齐后" not in explain(ev.by_id("co2-falling"), "zh")
    # a soft limit (一般不超过) is never a failure: nothing is said of it either
    ev = evaluate_with("national", on=dt.date(2026, 1, 15), area_km2=150)
    assert "补齐后" not in explain(ev.by_id("area"), "zh")


def test_a_window_with_a_later_year_and_a_missing_one_says_each_as_its_own_clause():
    # evaluated on 2025-12-31: 2025 is not complete and 2022 and 2024 are missing. The two
    # problems are clauses, not items of one list: 、 and , join the years within each.
    ev = evaluate_with("national", on=dt.date(2025, 12, 31), total_output={"2023": 40, "2025": 41})
    result = ev.by_id("output-each-year")
    assert result.status == "unknown"
    assert "2025年尚未结束或晚于填报截止年度，不能计入；缺少2022年、2024年，无法判断" in explain(result, "zh")
    assert "2025 not yet complete or after the last year of data, so not counted; 2022, 2024 missing" \
        in explain(result, "en")


@pytest.mark.parametrize("on,data_year,years,status,named", WINDOW_CASES)
def test_the_last_three_years_are_the_complete_years_before_the_date(on, data_year, years, status, named):
    changes = {fact: dict.fromkeys(years, 99.0 if fact == "total_output" else 80.0)
               for fact in ("total_output", "sme_output_share", "leading_output_share")}
    changes["leading_output_growth"] = dict.fromkeys(years, 12.0)
    changes["co2_intensity"] = dict(zip(years, (1.2, 1.1, 1.0)))
    if data_year:
        changes["data_year"] = data_year
    ev = evaluate_with("jiangsu", on=on, **changes)
    for cid in ("output-each-year", "sme-share", "leading-output-growth", "co2-falling"):
        result = ev.by_id(cid)
        assert result.status == status, (cid, explain(result, "zh"))
        if named:
            text = explain(result, "zh")
            expected = (on.year - 3, on.year - 2, on.year - 1) if data_year is None else (
                data_year - 2, data_year - 1, data_year)
            assert named in text, text
            if "data_year" not in named:
                assert "近三年应为{}年、{}年、{}年".format(*expected) in text, text
            assert "the last three years" in explain(result, "en")


def test_the_chat_date_moves_the_window():
    """The same answers, evaluated on two dates, use different years (evaluate --on, the chat's today)."""
    from dialogs.questions import evaluate_answers
    answers = dict(eligible_facts(), total_output={"2020": 30, "2021": 45, "2022": 46, "2023": 47})
    rulesets = [load_rulesets()["national"]]
    assert evaluate_answers(answers, rulesets, dt.date(2024, 3, 1))[0].by_id("output-each-year").status == "pass"
    later = evaluate_answers(answers, rulesets, dt.date(2025, 3, 1))[0].by_id("output-each-year")
    assert later.status == "unknown" and "缺少2024年" in explain(later, "zh")


def test_stored_answers_are_told_apart_by_their_json_and_a_value_set_without_it_by_its_own():
    """Evaluations are remembered by the answers' content (dialogs/questions.py): stored answers
    by the JSON they are stored as, others written out; a value changed without its JSON is
    never taken for the one stored before it."""
    import json

    from dialogs.questions import evaluate_answers
    from storage.repo import Answers
    on, rulesets = dt.date(2026, 11, 23), [load_rulesets()["national"]]
    stored = Answers()
    for fact, value in eligible_facts().items():
        if fact != "rd_growth":
            stored.set_stored(fact, value, json.dumps(value, ensure_ascii=False))
    assert evaluate_answers(stored, rulesets, on)[0].verdict == "undetermined"  # rd_growth not answered
    stored["rd_growth"] = 1.0  # set without its text: not the content remembered just before
    assert "rd_growth" not in stored.texts
    assert evaluate_answers(stored, rulesets, on)[0].verdict == "not_eligible"
    stored.set_stored("rd_growth", 12.0, "12.0")
    assert evaluate_answers(stored, rulesets, on)[0].verdict == "eligible"
    assert evaluate_answers(dict(stored), rulesets, on)[0].verdict == "eligible"  # written out: the same


def test_patents_per_10k_derived_when_absent():
    ev = evaluate_with("national", drop=("patents_per_10k",), invention_patents=1499, sme_employees=1_000_000)
    result = ev.by_id("patents-per-10k")
    assert result.status == "fail"  # 14.99
    assert result.values == {"patents_per_10k": 14.99}
    assert result.outcome.derived
    assert status_of("national", "patents-per-10k", invention_patents=75, sme_employees=50_000) == "pass"  # 15.00
    # a given figure wins over the derived one
    assert status_of("national", "patents-per-10k", patents_per_10k=20, invention_patents=1, sme_employees=10**6) == "pass"


def test_missing_facts_are_unknown_and_the_verdict_undetermined():
    ev = evaluate_with("jiangsu", drop=("rd_growth", "accident_level"))
    assert ev.by_id("rd-growth").status == "unknown"
    assert ev.by_id("accident").status == "unknown"
    assert ev.verdict == "undetermined"
    assert set(ev.missing) == {"rd_growth", "accident_level"}


def test_a_failure_beats_unknowns():
    ev = evaluate_with("jiangsu", drop=("rd_growth",), iip_rate=5)
    assert ev.verdict == "not_eligible"


def test_a_series_needs_three_years():
    ev = evaluate_with("national", total_output={"2024": 50, "2025": 60})
    assert ev.by_id("output-each-year").status == "unknown"
    # the three latest years are used when more are given
    ev = evaluate_with("national", total_output={"2021": 1, "2023": 45, "2024": 46, "2025": 47})
    assert ev.by_id("output-each-year").status == "pass"


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_energy_and_water_apply_only_when_flagged(jurisdiction):
    ev = evaluate_with(jurisdiction, high_energy_industry=False, drop=("energy_efficiency_ok",))
    assert ev.by_id("energy-efficiency").status == "not_applicable"
    ev = evaluate_with(jurisdiction, high_energy_industry=True, energy_efficiency_ok=False)
    assert ev.by_id("energy-efficiency").status == "fail"
    ev = evaluate_with(jurisdiction, high_energy_industry=True, energy_efficiency_ok=True)
    assert ev.by_id("energy-efficiency").status == "pass"
    ev = evaluate_with(jurisdiction, high_energy_industry=True, drop=("energy_efficiency_ok",))
    assert ev.by_id("energy-efficiency").missing == ("energy_efficiency_ok",)
    ev = evaluate_with(jurisdiction, drop=("high_energy_industry", "energy_efficiency_ok"))
    assert ev.by_id("energy-efficiency").status == "unknown"
    assert ev.by_id("energy-efficiency").missing == ("high_energy_industry",)
    water = "water_efficiency_general_ok" if jurisdiction == "shaanxi" else "water_efficiency_ok"
    ev = evaluate_with(jurisdiction, high_water_industry=False, **{water: False})
    assert ev.by_id("water-efficiency").status == "not_applicable"
    ev = evaluate_with(jurisdiction, high_water_industry=True, **{water: False})
    assert ev.by_id("water-efficiency").status == "fail"


LEVELS = ["none", "general", "larger", "major", "extraordinary"]


@pytest.mark.parametrize("jurisdiction,accident,cyber", [
    # 未发生较大及以上…事故，重大及以上网络安全事件和数据安全事件
    ("national", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    ("guangdong", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    ("shaanxi", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    # 第七条（二）（三）: 重大及以上 excluded; the 承诺函 (accident-pledge) fails a 较大 one
    ("jiangsu", ["pass", "pass", "pass", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
])
def test_incident_levels(jurisdiction, accident, cyber):
    assert [status_of(jurisdiction, "accident", accident_level=level) for level in LEVELS] == accident
    assert [status_of(jurisdiction, "cyber-incident", cyber_incident_level=level) for level in LEVELS] == cyber


def test_jiangsu_larger_accident_fails_on_the_pledge_of_the_application_form():
    """第七条（二） names only 重大及以上, but the form's 承诺函 promises 未发生较大及以上…事故."""
    ev = evaluate_with("jiangsu", accident_level="larger")
    assert ev.by_id("accident").status == "pass"
    pledge = ev.by_id("accident-pledge")
    assert pledge.status == "fail" and ev.verdict == "not_eligible"
    assert pledge.criterion.citation == "申报表 承诺函"
    assert "集群及集群内企业近三年未发生较大及以上安全、质量和环境污染等事故" in pledge.criterion.article_text
    text = explain(pledge, "zh")
    assert "第七条（二）只排除重大及以上" in text and "第十四条（五）" in text
    assert "only serious or worse accidents" in explain(pledge, "en")
    # the accident grades in their official English: 较大 is "relatively serious", never "larger"
    english = explain(pledge, "en") + explain(ev.by_id("accident"), "en")
    assert "relatively serious" in english and "larger" not in english
    assert [status_of("jiangsu", "accident-pledge", accident_level=x) for x in LEVELS] == [
        "pass", "pass", "fail", "fail", "fail"]


def test_the_pledge_says_a_larger_accident_fails_only_where_it_does():
    """The reading's conclusion (按不符合处理) is said of a failure, not of 无 or an unknown level."""
    # said of a 重大 one too, so the conclusion names 较大及以上, as the 承诺函 does, not 较大 alone
    ends = {"zh": "故发生较大及以上事故的不能如实承诺，按不符合处理。",
            "en": "So a relatively serious or worse accident cannot be promised, and fails."}
    for level in ("major", "extraordinary"):
        worse = evaluate_with("jiangsu", accident_level=level).by_id("accident-pledge")
        assert worse.status == "fail" and all(explain(worse, lang).endswith(end) for lang, end in ends.items())
    failed = evaluate_with("jiangsu", accident_level="larger").by_id("accident-pledge")
    passed = evaluate_with("jiangsu", accident_level="none").by_id("accident-pledge")
    unknown = evaluate_with("jiangsu", drop=("accident_level",)).by_id("accident-pledge")
    assert (passed.status, unknown.status) == ("pass", "unknown")
    for lang, end in ends.items():
        assert explain(failed, lang).endswith(end)
        for result in (passed, unknown):
            text = explain(result, lang)
            assert end not in text and "第十四条（五）" in text


@pytest.mark.parametrize("jurisdiction", ["national", "guangdong", "shaanxi"])
def test_a_prohibited_industry_cannot_comply_with_industrial_policy(jurisdiction):
    result = evaluate_with(jurisdiction, prohibited_industry=True, policy_compliant=True).by_id("policy-compliant")
    assert result.status == "fail"
    assert "禁止、限制和淘汰类" in explain(result, "zh")
    assert status_of(jurisdiction, "policy-compliant", prohibited_industry=False, policy_compliant=True) == "pass"
    assert status_of(jurisdiction, "policy-compliant", drop=("prohibited_industry",)) == "unknown"
    # the chat refuses the second of the two answers, whichever comes first
    cat = catalogue()
    assert cat.contradiction("policy_compliant", True, {"prohibited_industry": True}) == {"prohibited_industry": True}
    assert cat.contradiction("prohibited_industry", True, {"policy_compliant": True}) == {"policy_compliant": True}
    assert cat.contradiction("prohibited_industry", False, {"policy_compliant": True}) is None


def test_organising_work_on_key_technologies_passes_only_jiangsu():
    """Jiangsu 第六条（五） asks for 组织…攻关; the others require 突破了一批…关键核心技术."""
    changes = dict(key_tech_tackling=True, key_tech_breakthrough=False)
    assert status_of("jiangsu", "key-tech", **changes) == "pass"
    for j in ("national", "guangdong", "shaanxi"):
        assert status_of(j, "key-tech", **changes) == "fail"
    assert status_of("jiangsu", "key-tech", key_tech_tackling=False, key_tech_breakthrough=True) == "fail"


def test_jiangsu_counts_provincial_champions_of_the_leading_industry_only():
    """Jiangsu 第六条（三） writes 属于集群主导产业的制造业单项冠军 without 国家级: the leading
    industry's provincial champions count there; champions of any industry
    (provincial_champion_count) count only for Guangdong's second branch."""
    changes = dict(champion_count=0, leading_provincial_champion_count=2, provincial_champion_count=0,
                   little_giant_count=1, srdi_sme_count=0, hitech_count=0, innovative_sme_count=0,
                   chain_leader_count=0)
    result = evaluate_with("jiangsu", **changes).by_id("quality-enterprises")
    assert result.status == "pass"
    assert "国家级和省级单项冠军均计入" in explain(result, "zh")
    assert status_of("jiangsu", "quality-enterprises", **dict(changes, leading_provincial_champion_count=1)) == "fail"
    assert status_of("jiangsu", "quality-enterprises",
                     **dict(changes, leading_provincial_champion_count=0, provincial_champion_count=9)) == "fail"
    # Guangdong and Shaanxi write 国家级: a provincial champion is not one of the 1 required
    for j in ("guangdong", "shaanxi"):
        assert status_of(j, "quality-enterprises", **dict(changes, little_giant_count=0)) == "fail"


def test_a_figure_of_one_takes_the_units_singular_in_english():
    """1 firm, 1 item, 1 project (the catalogue's one_en), in the explanation, the saved value
    and the side-by-side requirement; 0, 2 and 1.00 keep the plural."""
    from dialogs.compare import criterion_requirement
    from locales.explain import value_text

    none = evaluate_with("national", champion_count=0, little_giant_count=0).by_id("quality-enterprises")
    assert "= 0 firms; the article requires in total ≥ 1 firm (不少于). Fails, 1 firm short." in explain(none, "en")
    jiangsu = evaluate_with("jiangsu", resource_sharing_count=1, pilot_projects=0)
    assert ": 1 item; the article requires ≥ 1 item (至少)." in explain(jiangsu.by_id("resource-sharing"), "en")
    assert ": 0 projects; the article requires ≥ 1 project (不少于). Fails, 1 project short." in explain(
        jiangsu.by_id("pilot-projects"), "en")
    assert "≥ 1 firm " in criterion_requirement(none.criterion, "en")
    assert (value_text("innovative_sme_count", 1, "en"), value_text("innovative_sme_count", 2, "en"),
            value_text("sme_employees", 1, "en"), value_text("innovative_sme_count", 1, "zh")) == (
        "1 firm", "2 firms", "1 person", "1家")
    assert value_text("enterprise_count", {"2025": 1.0}, "en") == "2025: 1.00 firms"


def test_jiangsu_digital_transformation_work_is_a_criterion():
    result = evaluate_with("jiangsu", digital_transformation_work=False).by_id("digital-transformation")
    assert result.status == "fail" and result.criterion.citation == "第六条（六）"
    assert result.criterion.article_text == "集群有序开展中小企业智能化改造数字化转型相关工作"


def test_shaanxi_water_efficiency_is_against_the_general_value():
    """陕第十二条（七） 优于行业通用值 is its own fact; the others read 高于行业基准值."""
    changes = dict(high_water_industry=True, water_efficiency_ok=False, water_efficiency_general_ok=True)
    assert status_of("shaanxi", "water-efficiency", **changes) == "pass"
    assert status_of("national", "water-efficiency", **changes) == "fail"


def test_a_yes_no_criterion_quotes_only_what_its_question_asks():
    """Jiangsu's 较大贡献 and each measure's energy mix are their own criteria; a 否 names them."""
    assert status_of("jiangsu", "local-contribution", local_contribution=False) == "fail"
    assert status_of("national", "pillar-industry", local_contribution=False) == "pass"
    assert status_of("shaanxi", "energy-mix", energy_mix_low_carbon=False) == "fail"
    assert status_of("shaanxi", "energy-mix", energy_mix_sound=False) == "pass"
    assert status_of("national", "energy-mix", energy_mix_sound=False) == "fail"
    cat = catalogue()
    requirements = ("关键环节配套能力较强", "工业软件应用率稳步提升", "“用云上平台”成效显著", "数字化新模式新业态",
                    "不漏户")
    checked = 0
    for j in JURISDICTIONS:
        for c in load_rulesets()[j].criteria:
            if c.id in ("chain-collaboration", "digital-infrastructure", "policy-outreach"):
                failing = explain(evaluate_with(j, **{c.check.fact: False}).by_id(c.id), "zh")
                for words in requirements:
                    if words in c.article_text:  # the 否 names every requirement the quotation holds
                        assert words in cat[c.check.fact].zh and words in failing, (j, c.id, words)
                        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("jurisdiction", JURISDICTIONS)
def test_violations(jurisdiction):
    assert status_of(jurisdiction, "violations", violations=True) == "fail"
    assert status_of(jurisdiction, "violations", violations=False) == "pass"


def test_jiangsu_only_criteria():
    jiangsu = {c.id for c in load_rulesets()["jiangsu"].criteria}
    others = set().union(*({c.id for c in load_rulesets()[j].criteria} for j in ("national", "guangdong", "shaanxi")))
    assert {"priority-chain", "leading-output-growth", "resource-sharing", "innovation-incentive",
            "innovation-platforms", "standards-count", "cloud-identifier-rate", "pilot-projects",
            "prohibited-industry"} <= jiangsu - others
    assert status_of("jiangsu", "prohibited-industry", prohibited_industry=True) == "fail"
    assert status_of("jiangsu", "innovation-incentive", innovation_incentive=False) == "fail"
    # 重点支持 is a preference: not belonging warns but does not exclude
    ev = evaluate_with("jiangsu", priority_chain=False)
    assert ev.by_id("priority-chain").status == "warning"
    assert ev.verdict == "eligible"
    # Jiangsu reads the leading industry's growth, not the cluster's
    assert evaluate_with("jiangsu", output_growth=0).verdict == "eligible"
    assert status_of("jiangsu", "leading-output-growth", leading_output_growth=9.99) == "fail"


def test_national_needs_provincial_certification_first():
    assert status_of("national", "provincial-certified", provincial_certified=False) == "fail"
    assert status_of("national", "county-level", county_level=False) == "fail"


def test_shaanxi_cooperation_either_kind_and_nonfossil():
    assert status_of("shaanxi", "open-cooperation", intl_cooperation=False, domestic_cooperation=True) == "pass"
    assert status_of("shaanxi", "open-cooperation", intl_cooperation=False, domestic_cooperation=False) == "fail"
    assert status_of("national", "open-cooperation", intl_cooperation=False, domestic_cooperation=True) == "fail"
    assert status_of("shaanxi", "nonfossil-share", nonfossil_share_rising=False) == "fail"


@pytest.mark.parametrize("series,expected", [
    ({"2023": 1.2, "2024": 1.1, "2025": 1.0}, "pass"),
    ({"2023": 1.2, "2024": 1.2, "2025": 1.0}, "fail"),   # flat is not a fall
    ({"2023": 1.2, "2024": 1.1, "2025": 1.15}, "fail"),
    ({"2024": 1.1, "2025": 1.0}, "unknown"),
    (True, "pass"),
    (False, "fail"),
])
def test_co2_intensity_falls_every_year(series, expected):
    assert status_of("guangdong", "co2-falling", co2_intensity=series) == expected


def test_sum_with_unknown_parts_passes_when_already_enough():
    ev = evaluate_with("national", drop=("little_giant_count", "srdi_sme_count"), champion_count=1)
    assert ev.by_id("quality-enterprises").status == "pass"
    ev = evaluate_with("national", drop=("little_giant_count",), champion_count=0, srdi_sme_count=0,
                       innovative_sme_count=0, hitech_count=0)
    result = ev.by_id("quality-enterprises")
    assert result.status == "unknown"
    assert result.missing == ("little_giant_count",)


# --- terms ---------------------------------------------------------------------------------

@pytest.mark.parametrize("jurisdiction,day,kind", [
    ("national", dt.date(2022, 9, 12), "not_yet_in_force"),
    ("national", dt.date(2022, 9, 13), None),
    ("national", dt.date(2030, 1, 1), None),
    ("jiangsu", dt.date(2023, 4, 30), "not_yet_in_force"),  # 自2023年5月1日起实施
    ("jiangsu", dt.date(2023, 5, 1), None),
    ("guangdong", dt.date(2026, 2, 27), None),               # 自2023年2月28日起实施，有效期3年
    ("guangdong", dt.date(2026, 2, 28), "term_ended"),
    ("shaanxi", dt.date(2023, 4, 27), "not_yet_in_force"),   # 自印发之日（2023年4月28日）起实施，有效期2年
    ("shaanxi", dt.date(2025, 4, 27), None),
    ("shaanxi", dt.date(2025, 4, 28), "term_ended"),
])
def test_measure_terms(jurisdiction, day, kind):
    ev = evaluate_with(jurisdiction, on=day, **series_as_of(day))
    assert [n.kind for n in ev.notices] == ([kind] if kind else [])
    assert ev.verdict == "eligible"  # out of term still evaluates
    for n in ev.notices:
        assert n.citation == load_rulesets()[jurisdiction].term.citation


def test_add_years_handles_february_29():
    assert add_years(dt.date(2024, 2, 29), 3) == dt.date(2027, 3, 1)
    assert add_years(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    term = Term.model_validate({"from": "2024-02-29", "years": 1, "citation": "x", "article_text": "y"})
    assert term.last_day == dt.date(2025, 2, 28)


def test_evaluate_many_shares_one_profile():
    facts, _ = validate_facts(eligible_facts(), catalogue())
    rulesets = list(load_rulesets().values())
    many = evaluate_many(facts, rulesets, dt.date(2026, 1, 15))
    single = [evaluate(facts, r, dt.date(2026, 1, 15)) for r in rulesets]
    assert [e.statuses for e in many] == [e.statuses for e in single]


from decimal import ROUND_HALF_UP, Decimal  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
       | st.decimals(-10**6, 10**6, places=3).map(float))
def test_round2_is_decimal_half_up_of_the_written_figure(value):
    assert round2(value) == float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_results_with_a_status_are_those_of_the_full_list():
    """`with_status` builds only the results it gives: they are the full list's, in its order."""
    for j in JURISDICTIONS:
        ev = evaluate_with(j, drop=("rd_growth", "accident_level"), area_km2=150, patent_growth=1)
        again = evaluate_with(j, drop=("rd_growth", "accident_level"), area_km2=150, patent_growth=1)
        for status in ("pass", "fail", "unknown", "warning", "not_applicable"):
            picked = ev.with_status(status)
            full = [r for r in again.results if r.status == status]
            assert [(r.criterion.id, r.status, r.values, r.outcome.margin, r.outcome.missing) for r in picked] == \
                   [(r.criterion.id, r.status, r.values, r.outcome.margin, r.outcome.missing) for r in full]
        assert ev.with_status("unknown") and ev.with_status("fail") and ev.with_status("not_applicable")


def test_a_derived_figure_is_found_once_per_profile():
    from engine import Profile

    facts = {**eligible_facts(), "invention_patents": 75, "sme_employees": 50_000}
    facts.pop("patents_per_10k", None)
    p = Profile(facts, dt.date(2026, 1, 15))
    assert p.derived == ("patents_per_10k",) and p.derived is p.derived
    assert p.values(["patents_per_10k", "sme_employees"]) == {"patents_per_10k": 15.0, "sme_employees": 50_000}
    given = Profile({**facts, "patents_per_10k": 20}, dt.date(2026, 1, 15))
    assert given.derived == ()


def test_statuses_read_from_the_traced_outcomes_are_the_compiled_statuses():
    """The dialog evaluates `traced` (the outcomes at once, the statuses read from them): the
    same statuses and missing facts as the statuses-only evaluation, whatever is answered."""
    rulesets = list(load_rulesets().values())
    base = eligible_facts()
    variants = [{k: v for k, v in base.items() if k != drop} for drop in base]  # each fact unanswered
    variants += [dict(list(base.items())[:n]) for n in range(0, len(base), 5)]  # the questions so far
    variants += [{**base, "area_km2": 150, "patent_growth": 1, "high_energy_industry": True},
                 {**base, "champion_count": 0, "little_giant_count": 0, "srdi_sme_count": None}]
    for raw in variants:
        facts, _ = validate_facts({k: v for k, v in raw.items() if v is not None}, catalogue())
        plain, traced = evaluate_many(facts, rulesets, ON), evaluate_many(facts, rulesets, ON, traced=True)
        assert [e.statuses for e in traced] == [e.statuses for e in plain]
        assert [e.missing for e in traced] == [e.missing for e in plain]
        assert [e.verdict for e in traced] == [e.verdict for e in plain]


def _random_value(rng, spec, years=("2023", "2024", "2025")):
    """A value of the fact's type near the thresholds, or None (unanswered; a derived figure
    mostly, so that its inputs are what it is read from)."""
    cat = catalogue()
    if rng.random() < (0.7 if spec.derive else 0.15):
        return None
    if spec.type == "bool":
        return rng.random() < 0.7
    if spec.type == "count":
        return rng.randint(0, 12)
    if spec.type == "level":
        return rng.choice(cat.levels)["id"]
    if spec.type == "rank":
        return rng.choice(cat.ranks)["id"]
    series = {y: round(rng.uniform(0, 120), 2) for y in years if rng.random() < 0.9}
    if spec.type == "series" or (spec.type in ("rate", "trend") and rng.random() < 0.5):
        return series or {"2025": 1.0}
    if spec.type == "trend":
        return rng.random() < 0.5
    return round(rng.uniform(0, 120), 2)


def test_an_answer_evaluated_again_from_the_evaluation_before_it_is_the_whole_evaluation():
    """The dialog evaluates an answer from the evaluation before it (only the criteria that
    read the changed fact again: engine.evaluate.reevaluate): the same outcomes, statuses,
    missing facts and verdicts as evaluating everything, whichever fact changes, data_year
    and a derived figure's inputs among them."""
    import random

    from engine.evaluate import reevaluate

    rng = random.Random(14)
    cat, rulesets = catalogue(), tuple(load_rulesets().values())
    facts_ids = [f for f in cat.facts if f != "data_year"]
    facts, _ = validate_facts(eligible_facts(), cat)
    before = evaluate_many(facts, rulesets, ON, traced=True)
    changes = 0
    for _ in range(1500):
        fact = "data_year" if rng.random() < 0.03 else rng.choice(facts_ids)
        value = rng.choice([2023, 2024, 2025, None]) if fact == "data_year" else _random_value(rng, cat.facts[fact])
        raw = {**facts, fact: value}
        try:
            after_facts, _ = validate_facts({k: v for k, v in raw.items() if v is not None}, cat)
        except Exception:
            continue  # a combination the contract refuses: no evaluation to compare
        changed = [f for f in set(facts) | set(after_facts) if facts.get(f) != after_facts.get(f)]
        again = reevaluate(before, after_facts, ON, changed)
        whole = evaluate_many(after_facts, rulesets, ON, traced=True)
        assert [e._raw for e in again] == [e._raw for e in whole], (fact, value)
        assert [e.statuses for e in again] == [e.statuses for e in whole]
        assert [e.verdict for e in again] == [e.verdict for e in whole]
        assert [e.missing for e in again] == [e.missing for e in whole]
        assert [e.waits_for(fact) for e in again] == [fact in e.missing for e in whole]
        changes += bool(changed)
        facts, before = after_facts, again
    assert changes > 1000


def test_rate_given_as_one_average_names_its_three_years():
    # 近三年…年均增长 given as one figure: the official must see which years it stands for,
    # as a rate given year by year already does (data_year moves them).
    for on, data_year, years in ((ON, None, ("2023—2025", "2023–2025")),
                                 (dt.date(2026, 11, 23), 2024, ("2022—2024", "2022–2024"))):
        extra = {"data_year": data_year} if data_year else {}
        result = evaluate_with("national", on=on, rd_growth=10, **extra).by_id("rd-growth")
        assert f"近三年即{years[0]}年的年均值" in explain(result, "zh")
        assert f"the last three years, {years[1]}" in explain(result, "en")
    result = evaluate_with("national", rd_growth={"2023": 9, "2024": 10, "2025": 11}).by_id("rd-growth")
    assert "年均值" not in explain(result, "zh")  # the years are named by the series itself


@pytest.mark.parametrize("jurisdiction", ["guangdong", "shaanxi"])
def test_a_provincial_rank_is_required_in_the_articles_words_and_a_national_one_said_to_meet_it(jurisdiction):
    # 广东、陕西 write 全省前列: 乃至全国 is Jiangsu's wording, never what their article requires
    ev = evaluate_with(jurisdiction, on=dt.date(2026, 1, 15), segment_rank="national")
    result = ev.by_id("segment-rank")
    assert result.status == "pass" and "全省前列" in result.criterion.article_text
    zh, en = explain(result, "zh"), explain(result, "en")
    assert "乃至" not in zh and "条文要求位居细分领域全省前列（位居全国前列的亦符合）" in zh, zh
    assert "the article requires a place among the province's leaders of the segment " \
           "(a place among the nation's leaders also meets it)" in en, en


def test_a_per_10k_figure_not_given_names_the_counts_it_can_be_computed_from():
    # 每万人有效发明专利拥有量 not given: the counts it is derived from (facts.md) are named too,
    # those not given only, so an official who gave the patents knows the employees would do
    base = ("patents_per_10k", "invention_patents", "sme_employees")
    none = evaluate_with("national", drop=base).by_id("patents-per-10k")
    assert none.status == "unknown"
    assert explain(none, "zh") == ("尚未填报：每万人有效发明专利拥有量，或用以计算它的集群中小企业有效发明专利拥有量、"
                                   "集群内中小企业从业人员数。")
    assert explain(none, "en") == ("Not answered yet: Valid invention patents per 10,000 employees, or Valid "
                                   "invention patents held by the cluster's SMEs and People employed by the cluster's "
                                   "SMEs, from which it is computed."), explain(none, "en")
    one = evaluate_with("national", drop=("patents_per_10k", "sme_employees"), invention_patents=74).by_id(
        "patents-per-10k")
    assert explain(one, "zh") == "尚未填报：每万人有效发明专利拥有量，或用以计算它的集群内中小企业从业人员数。"
    assert explain(one, "en") == ("Not answered yet: Valid invention patents per 10,000 employees, "
                                  "or People employed by the cluster's SMEs, from which it is computed."), explain(one, "en")
