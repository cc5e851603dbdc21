"""The engine's reading rules: averages, rounding, unknowns, conditions, incidents, terms."""

from __future__ import annotations

import datetime as dt

import pytest

from engine import catalogue, evaluate, evaluate_many, load_rulesets, validate_facts
from engine.facts import average_rate, round2
from engine.rules import Term, add_years
from tests.conftest import eligible_facts, evaluate_with, status_of

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


def test_geometric_average_of_annual_rates():
    # ((1.09 × 1.10 × 1.11)^(1/3) − 1) × 100 = 9.9970…, rounded half-up to 10.00
    assert average_rate({"2023": 9, "2024": 10, "2025": 11}) == 10.0
    assert average_rate({"2023": 20, "2024": 0, "2025": 0}) == 6.27
    assert average_rate(12.5) == 12.5
    # 近三年: the three latest years; fewer than three is unknown
    assert average_rate({"2021": 50, "2023": 10, "2024": 10, "2025": 10}) == 10.0
    assert average_rate({"2024": 10, "2025": 10}) is None


def test_rounding_happens_before_comparing():
    """10.0033 % rounds to 10.00 %, which is not 高于 10 %: rounding comes first."""
    rates = {"2023": 10.01, "2024": 10, "2025": 10}
    assert average_rate(rates) == 10.0
    assert status_of("national", "rd-growth", rd_growth=rates) == "fail"
    assert status_of("jiangsu", "rd-growth", rd_growth=rates) == "pass"  # 不低于


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
    ev = evaluate_with(jurisdiction, high_water_industry=False, water_efficiency_ok=False)
    assert ev.by_id("water-efficiency").status == "not_applicable"
    ev = evaluate_with(jurisdiction, high_water_industry=True, water_efficiency_ok=False)
    assert ev.by_id("water-efficiency").status == "fail"


LEVELS = ["none", "general", "larger", "major", "extraordinary"]


@pytest.mark.parametrize("jurisdiction,accident,cyber", [
    # 未发生较大及以上…事故，重大及以上网络安全事件和数据安全事件
    ("national", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    ("guangdong", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    ("shaanxi", ["pass", "pass", "fail", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
    # 第七条（二）（三）: 重大及以上 excluded; a 较大 accident warns (第十四条（五）)
    ("jiangsu", ["pass", "pass", "warning", "fail", "fail"], ["pass", "pass", "pass", "fail", "fail"]),
])
def test_incident_levels(jurisdiction, accident, cyber):
    assert [status_of(jurisdiction, "accident", accident_level=level) for level in LEVELS] == accident
    assert [status_of(jurisdiction, "cyber-incident", cyber_incident_level=level) for level in LEVELS] == cyber


def test_jiangsu_larger_accident_warning_quotes_revocation_clause():
    result = evaluate_with("jiangsu", accident_level="larger").by_id("accident")
    assert result.outcome.check.warn_citation == "第十四条（五）"
    assert "较大及以上" in result.outcome.check.warn_text
    assert evaluate_with("jiangsu", accident_level="larger").verdict == "eligible"


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
    ev = evaluate_with(jurisdiction, on=day)
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
    many = evaluate_many(facts, rulesets, dt.date(2024, 6, 1))
    single = [evaluate(facts, r, dt.date(2024, 6, 1)) for r in rulesets]
    assert [e.statuses for e in many] == [e.statuses for e in single]


from decimal import ROUND_HALF_UP, Decimal  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12)
       | st.decimals(-10**6, 10**6, places=3).map(float))
def test_round2_is_decimal_half_up_of_the_written_figure(value):
    assert round2(value) == float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
