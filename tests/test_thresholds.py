"""Every threshold of every measure, exactly at it, one hundredth below and above.

The thresholds and comparison words below were read off the source texts by hand and are
written here independently of the ruleset files, so a wrong number or word in a ruleset
fails a test. 'includes' is True for 以上、不低于、不少于、至少 (≥) and False for 高于 (>).
"""

from __future__ import annotations

import pytest

from tests.conftest import evaluate_with, status_of

# (jurisdiction, criterion id, fact, threshold, includes the number itself)
LOWER_BOUNDS = [
    # 认定标准（2022年版）一、四、五
    ("national", "output-each-year", "total_output", 40, True),        # 均在40亿元以上
    ("national", "sme-share", "sme_output_share", 70, True),            # 70%以上
    ("national", "leading-share", "leading_output_share", 70, False),   # 高于70%
    ("national", "output-growth", "output_growth", 10, False),          # 高于10%
    ("national", "rd-growth", "rd_growth", 10, False),                  # 高于10%
    ("national", "patent-growth", "patent_growth", 15, True),           # 不低于15%
    ("national", "patents-per-10k", "patents_per_10k", 15, True),       # 不低于15个
    ("national", "iip-rate", "iip_rate", 15, True),                     # 不低于15%
    # 苏工信规〔2023〕3号 第六条
    ("jiangsu", "output-each-year", "total_output", 40, True),          # 每年均在40亿元以上
    ("jiangsu", "sme-share", "sme_output_share", 70, True),             # 每年比例均不低于70%
    ("jiangsu", "leading-output-growth", "leading_output_growth", 10, True),  # 不低于10%
    ("jiangsu", "leading-share", "leading_output_share", 70, True),     # 均不低于70%
    ("jiangsu", "rd-growth", "rd_growth", 10, True),                    # 不低于10%
    ("jiangsu", "patent-growth", "patent_growth", 15, True),            # 不低于15%
    ("jiangsu", "patents-per-10k", "patents_per_10k", 15, True),        # 不低于15个
    ("jiangsu", "cloud-identifier-rate", "cloud_or_identifier_rate", 30, True),  # 不低于30%
    ("jiangsu", "iip-rate", "iip_rate", 20, True),                      # 不低于20%
    # 粤工信服务函〔2023〕4号 第十三条
    ("guangdong", "output-each-year", "total_output", 40, True),        # 均在40亿元以上
    ("guangdong", "sme-share", "sme_output_share", 70, False),          # 高于70%
    ("guangdong", "leading-share", "leading_output_share", 70, False),  # 高于70%
    ("guangdong", "output-growth", "output_growth", 10, False),         # 高于10%
    ("guangdong", "rd-growth", "rd_growth", 10, False),                 # 高于10%
    ("guangdong", "patent-growth", "patent_growth", 15, True),          # 不低于15%
    ("guangdong", "patents-per-10k", "patents_per_10k", 15, True),      # 不低于15个
    ("guangdong", "iip-rate", "iip_rate", 15, True),                    # 不低于15%
    # 陕工信发〔2023〕89号 第十二条
    ("shaanxi", "output-each-year", "total_output", 30, True),          # 均在30亿元以上
    ("shaanxi", "sme-share", "sme_output_share", 70, False),            # 高于70%
    ("shaanxi", "leading-share", "leading_output_share", 70, False),    # 高于70%
    ("shaanxi", "output-growth", "output_growth", 8, False),            # 高于8%
    ("shaanxi", "rd-growth", "rd_growth", 8, False),                    # 高于8%
    ("shaanxi", "patent-growth", "patent_growth", 10, True),            # 不低于10%
    ("shaanxi", "patents-per-10k", "patents_per_10k", 12, True),        # 不低于12个
    ("shaanxi", "iip-rate", "iip_rate", 15, True),                      # 不低于15%
]

SERIES = {"total_output", "sme_output_share", "leading_output_share"}


def _value(fact: str, amount: float, year_position: int = 2):
    """A fact value at `amount`; for a series, that year and comfortable others."""
    if fact not in SERIES:
        return amount
    years = {"2023": 99.0, "2024": 99.0, "2025": 99.0}
    years[("2023", "2024", "2025")[year_position]] = amount
    return years


@pytest.mark.parametrize("jurisdiction,criterion,fact,threshold,includes", LOWER_BOUNDS)
def test_lower_bound_at_below_above(jurisdiction, criterion, fact, threshold, includes):
    drop = ("invention_patents", "sme_employees") if fact == "patents_per_10k" else ()
    at = status_of(jurisdiction, criterion, drop=drop, **{fact: _value(fact, threshold)})
    below = status_of(jurisdiction, criterion, drop=drop, **{fact: _value(fact, round(threshold - 0.01, 2))})
    above = status_of(jurisdiction, criterion, drop=drop, **{fact: _value(fact, round(threshold + 0.01, 2))})
    assert (at, below, above) == ("pass" if includes else "fail", "fail", "pass")


@pytest.mark.parametrize("jurisdiction,criterion,fact,threshold,includes",
                         [row for row in LOWER_BOUNDS if row[2] in SERIES])
@pytest.mark.parametrize("position", [0, 1, 2])
def test_every_year_counts(jurisdiction, criterion, fact, threshold, includes, position):
    """均 / 每年均: one year below the threshold fails the criterion, whichever year it is."""
    result = evaluate_with(jurisdiction, **{fact: _value(fact, threshold - 0.01, position)}).by_id(criterion)
    assert result.status == "fail"
    assert result.outcome.failing_years == [2023 + position]
    assert result.outcome.margin == -0.01


# (jurisdiction, criterion, fact, threshold) for counts: 不少于 / 至少 include the number.
COUNT_BOUNDS = [
    ("jiangsu", "resource-sharing", "resource_sharing_count", 1),   # 至少开展1项
    ("jiangsu", "innovation-platforms", "innovation_platforms", 5),  # 不少于5个
    ("jiangsu", "standards-count", "standards_count", 3),            # 合计不少于3项
    ("jiangsu", "pilot-projects", "pilot_projects", 1),              # 合计不少于1个
]


@pytest.mark.parametrize("jurisdiction,criterion,fact,threshold", COUNT_BOUNDS)
def test_count_at_below_above(jurisdiction, criterion, fact, threshold):
    assert status_of(jurisdiction, criterion, **{fact: threshold}) == "pass"
    assert status_of(jurisdiction, criterion, **{fact: threshold - 1}) == "fail"
    assert status_of(jurisdiction, criterion, **{fact: threshold + 1}) == "pass"


ZERO_ENTERPRISES = dict(champion_count=0, provincial_champion_count=0, leading_provincial_champion_count=0,
                        little_giant_count=0, srdi_sme_count=0,
                        innovative_sme_count=0, hitech_count=0, chain_leader_count=0)


@pytest.mark.parametrize("jurisdiction,first_branch", [
    ("national", 1),   # 不少于1家 单项冠军或小巨人
    ("jiangsu", 3),    # 合计不少于3家
    ("guangdong", 1),  # 不少于1家 国家级单项冠军或小巨人
    ("shaanxi", 1),    # 不少于1家
])
def test_quality_enterprises_first_branch(jurisdiction, first_branch):
    for kind in ("champion_count", "little_giant_count"):
        facts = dict(ZERO_ENTERPRISES, **{kind: first_branch})
        assert status_of(jurisdiction, "quality-enterprises", **facts) == "pass"
        facts = dict(ZERO_ENTERPRISES, **{kind: first_branch - 1})
        assert status_of(jurisdiction, "quality-enterprises", **facts) == "fail"


# The second branch: which kinds count, and how many are needed.
SECOND_BRANCH = [
    ("national", ("srdi_sme_count", "innovative_sme_count", "hitech_count"), 10),
    ("jiangsu", ("srdi_sme_count", "hitech_count"), 15),
    ("guangdong", ("hitech_count", "srdi_sme_count", "innovative_sme_count", "chain_leader_count",
                   "provincial_champion_count"), 10),
    ("shaanxi", ("srdi_sme_count", "innovative_sme_count", "hitech_count"), 8),
]


@pytest.mark.parametrize("jurisdiction,kinds,threshold", SECOND_BRANCH)
def test_quality_enterprises_second_branch(jurisdiction, kinds, threshold):
    def with_total(total):
        facts = dict(ZERO_ENTERPRISES)
        for i in range(total):  # spread the firms over the kinds that count
            facts[kinds[i % len(kinds)]] += 1
        return facts

    assert status_of(jurisdiction, "quality-enterprises", **with_total(threshold)) == "pass"
    assert status_of(jurisdiction, "quality-enterprises", **with_total(threshold - 1)) == "fail"
    assert status_of(jurisdiction, "quality-enterprises", **with_total(threshold + 1)) == "pass"


def test_jiangsu_does_not_count_innovative_smes():
    """第六条（三）: 专精特新中小企业、高新技术企业合计 — innovative SMEs are not in the list."""
    facts = dict(ZERO_ENTERPRISES, innovative_sme_count=100, srdi_sme_count=7, hitech_count=7)
    assert status_of("jiangsu", "quality-enterprises", **facts) == "fail"
    assert status_of("national", "quality-enterprises", **facts) == "pass"


def test_guangdong_counts_chain_leaders_and_provincial_champions():
    facts = dict(ZERO_ENTERPRISES, chain_leader_count=5, provincial_champion_count=5)
    assert status_of("guangdong", "quality-enterprises", **facts) == "pass"
    assert status_of("national", "quality-enterprises", **facts) == "fail"


@pytest.mark.parametrize("jurisdiction,soft", [("national", True), ("jiangsu", True), ("guangdong", False),
                                               ("shaanxi", True)])
def test_area_limit(jurisdiction, soft):
    """一般不超过100平方公里 is a soft limit (warning); Guangdong writes 不超过 (a failure)."""
    assert status_of(jurisdiction, "area", area_km2=100) == "pass"
    assert status_of(jurisdiction, "area", area_km2=99.99) == "pass"
    over = evaluate_with(jurisdiction, area_km2=100.01)
    assert over.by_id("area").status == ("warning" if soft else "fail")
    assert over.verdict == ("eligible" if soft else "not_eligible")


def test_margin_is_reported():
    result = evaluate_with("jiangsu", total_output={"2023": 45, "2024": 48, "2025": 38.5}).by_id("output-each-year")
    assert result.status == "fail"
    assert result.outcome.observed == 38.5
    assert result.outcome.margin == -1.5
    assert result.outcome.failing_years == [2025]


@pytest.mark.parametrize("jurisdiction,rank,expected", [
    ("national", "national", "pass"), ("national", "provincial", "fail"), ("national", "none", "fail"),
    ("jiangsu", "national", "pass"), ("jiangsu", "provincial", "pass"), ("jiangsu", "none", "fail"),
    ("guangdong", "provincial", "pass"), ("guangdong", "none", "fail"),
    ("shaanxi", "provincial", "pass"), ("shaanxi", "none", "fail"),
])
def test_segment_rank(jurisdiction, rank, expected):
    """全国前列 nationally; 全省前列 (全省乃至全国 in Jiangsu) in the provinces."""
    assert status_of(jurisdiction, "segment-rank", segment_rank=rank) == expected
