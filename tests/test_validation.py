"""Input values outside their type are refused field by field, naming the fact and what is
expected; the rest of the object is still read."""

from __future__ import annotations

import datetime as dt

import pytest

from locales import fmt_large
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import catalogue, validate_facts
from locales.explain import fact_error_text
from tests.conftest import eligible_facts

CAT = catalogue()


@pytest.mark.parametrize("fact,value,code", [
    ("sme_output_share", {"2023": 100.5}, "range"),                           # a share above 100
    ("iip_rate", 101, "range"),
    ("hitech_count", -1, "range"),                                             # a negative count
    ("hitech_count", 2.5, "type"),
    ("area_km2", "big", "type"),                                               # text for a number
    ("total_output", {"20x3": 45}, "year"),                                    # a year that is not a year
    ("total_output", {"1850": 45}, "year"),
    ("total_output", {}, "empty"),
    ("county_level", "maybe", "type"),
    ("accident_level", "huge", "type"),
    ("segment_rank", 3, "type"),
    ("rd_growth", float("nan"), "range"),
    ("area_km2", float("inf"), "range"),
])
def test_a_bad_value_is_refused_and_the_rest_kept(fact, value, code):
    raw = dict(eligible_facts(), **{fact: value})
    facts, errors = validate_facts(raw, CAT)
    assert [(e.fact, e.code) for e in errors] == [(fact, code)]
    assert fact not in facts
    assert len(facts) == len(eligible_facts()) - 1


@pytest.mark.parametrize("value,kept,years", [
    ({"2023": 100.5, "2024": 80, "2025": 80}, {"2024": 80.0, "2025": 80.0}, ("2023",)),
    ({"2023": 80, "2024": "n/a", "2025": -3}, {"2023": 80.0}, ("2024", "2025")),
    ({"2023": 80, "20x4": 81}, {"2023": 80.0}, ("20x4",)),
    ({"2023": "n/a", "2024": None}, None, ("2023", "2024")),
])
def test_of_a_series_only_the_years_refused_are_lost(value, kept, years):
    """A year refused (its figure or the year itself) is said, and the other years stand: a
    year given that already fails is then shown, as with any year missing (facts.md)."""
    facts, errors = validate_facts(dict(eligible_facts(), sme_output_share=value), CAT)
    assert [(e.fact, e.years) for e in errors] == [("sme_output_share", years)]
    assert facts.get("sme_output_share") == kept


def test_a_series_with_a_failing_year_and_a_refused_one_says_the_failure():
    from engine import evaluate, load_rulesets

    facts, _ = validate_facts(dict(eligible_facts(), total_output={"2023": 30, "2024": "n/a", "2025": 45}), CAT)
    result = evaluate(facts, load_rulesets()["national"], dt.date(2026, 1, 15)).by_id("output-each-year")
    assert result.status == "unknown" and result.outcome.failing_years == [2023]


def test_unknown_fact_suggests_the_nearest_id():
    facts, errors = validate_facts({"acident_level": "none", "iip_rat": 20, "name": "x"}, CAT)
    assert [(e.fact, e.code, e.suggestion) for e in errors] == [
        ("acident_level", "unknown_fact", "accident_level"), ("iip_rat", "unknown_fact", "iip_rate")]
    assert facts == {}


def test_people_words_are_read():
    facts, errors = validate_facts({"county_level": "是", "violations": "无", "accident_level": "较大",
                                    "segment_rank": "全省前列", "iip_rate": "２５%", "hitech_count": "12",
                                    "total_output": {"2023": "45", "2024": 48, "2025": "52.5"}}, CAT)
    assert not errors
    assert facts == {"county_level": True, "violations": False, "accident_level": "larger",
                     "segment_rank": "provincial", "iip_rate": 25.0, "hitech_count": 12,
                     "total_output": {"2023": 45.0, "2024": 48.0, "2025": 52.5}}


def test_messages_name_cluster_fact_and_expectation():
    _, errors = validate_facts({"sme_output_share": {"2023": 120, "2024": 80, "2025": 80}}, CAT)
    zh = fact_error_text(errors[0], "甲集群", "zh")
    en = fact_error_text(errors[0], "Cluster A", "en")
    assert "甲集群" in zh and "sme_output_share" in zh and "0 到 100" in zh
    assert "Cluster A" in en and "sme_output_share" in en and "from 0 to 100" in en
    _, errors = validate_facts({"acident_level": "none"}, CAT)
    assert "accident_level" in fact_error_text(errors[0], "A", "zh")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(CAT.facts) + ["name", "bogus"]), json_values, max_size=8))
def test_any_object_validates_without_raising(raw):
    facts, errors = validate_facts(raw, CAT)
    assert set(facts) <= set(CAT.facts)
    for e in errors:
        assert fact_error_text(e, "c", "zh") and fact_error_text(e, "c", "en")
    # what was accepted validates again unchanged (the fast path agrees with the careful one)
    again, errors_again = validate_facts(facts, CAT)
    assert again == facts and not errors_again


def test_a_refused_value_is_shown_as_given_never_as_raw_json():
    _, errors = validate_facts({"sme_output_share": {"2023": 120, "2024": 80, "2025": 80}}, CAT)
    zh = fact_error_text(errors[0], "甲集群", "zh")
    assert "2023年 的值 120 无效" in zh and '{"2023": 120' not in zh


@pytest.mark.parametrize("value,years,zh,en", [
    # one bad year of three: that year alone, and what one year's figure must be
    ({"2023": 101, "2024": 80, "2025": 80}, ("2023",),
     "（sme_output_share）2023年 的值 101 无效，应为0 到 100 之间的数（单位：%）。",
     "(sme_output_share) is not valid for 2023 (101); expected a number from 0 to 100 (unit: %)."),
    ({"2023": 101, "2024": "x", "2025": 80}, ("2023", "2024"),
     "（sme_output_share）2023年 的值 101、2024年 的值 “x” 无效，应为0 到 100 之间的数",
     "(sme_output_share) is not valid for 2023 (101), 2024 (“x”); expected a number from 0 to 100"),
    # a year that is not one is named as a year, with the rule for years
    ({"20x3": 70, "2024": 80, "2025": 101}, ("20x3", "2025"),
     "（sme_output_share）年份 “20x3”、2025年 的值 101 无效，应为0 到 100 之间的数（单位：%），年份须为四位数",
     "(sme_output_share) is not valid for the year “20x3”, 2025 (101); expected a number from 0 to 100 (unit: %); "
     "years must have four digits"),
    # as a CSV row gives it: text cells, sme_output_share.2023 …
    ({"2023": "80", "2024": "101", "2025": "80"}, ("2024",), "（sme_output_share）2024年 的值 “101” 无效",
     "(sme_output_share) is not valid for 2024 (“101”); expected"),
], ids=["one-year", "two-years", "a-year-not-one", "text-cells"])
def test_a_series_refused_for_some_years_names_those_years_only(value, years, zh, en):
    """Outside testers saw “的值 2023年 101、2024年 80、2025年 80 无效，应为按年份的数值…” for one
    bad year: the good years were named as if wrong, and the expectation was the whole series'."""
    _, errors = validate_facts({"sme_output_share": value}, CAT)
    (error,) = errors
    assert error.years == years
    zh_text, en_text = fact_error_text(error, "甲", "zh"), fact_error_text(error, "A", "en")
    assert zh in zh_text and en in en_text
    for good in set(value) - set(years):
        assert good not in zh_text and good not in en_text
    assert "如 {" not in zh_text and "e.g. {" not in en_text


def test_a_rate_or_trend_series_names_its_bad_year_and_a_plain_value_none():
    _, errors = validate_facts({"rd_growth": {"2023": 20000, "2024": 5, "2025": 5},
                                "co2_intensity": {"2023": 1, "2024": -1, "2025": 0.5}, "iip_rate": 101}, CAT)
    assert [(e.fact, e.years) for e in errors] == [("rd_growth", ("2023",)), ("co2_intensity", ("2024",)),
                                                   ("iip_rate", ())]
    assert "2023年 的值 20000 无效，应为-100 到 1万 之间的数" in fact_error_text(errors[0], "甲", "zh")
    assert "2024年 的值 -1 无效" in fact_error_text(errors[1], "甲", "zh")
FIGURES = [f for f in CAT.facts.values() if f.type in ("number", "count", "series", "rate", "trend")]


def test_every_figure_has_a_range():
    assert FIGURES and all(f.min is not None and f.max is not None and f.min < f.max for f in FIGURES)
    shares = [f for f in FIGURES if f.unit == "percent" and "share" in f.id or f.id.endswith("_rate")]
    assert shares and all((f.min, f.max) == (0, 100) for f in shares)


def _just_outside(fact):
    over = fact.max + 1
    return {"series": {"2023": over, "2024": 1, "2025": 1}, "trend": {"2023": over, "2024": 1, "2025": 0}}.get(
        fact.type, int(over) if fact.type == "count" else over)


@pytest.mark.parametrize("fact", FIGURES, ids=lambda f: f.id)
def test_each_figure_is_refused_above_its_range_naming_fact_and_range(fact):
    value = _just_outside(fact)
    facts, errors = validate_facts({fact.id: value}, CAT)
    assert [(e.fact, e.code) for e in errors] == [(fact.id, "range")]
    # of a series, only the year refused is lost
    assert facts == ({fact.id: {y: v for y, v in value.items() if y != "2023"}} if isinstance(value, dict) else {})
    zh, en = fact_error_text(errors[0], "甲", "zh"), fact_error_text(errors[0], "A", "en")
    assert fact.id in zh and fact.zh in zh and fmt_large(fact.max, "zh") in zh and "到" in zh
    year = fact.type == "count" and not fact.unit  # data_year: 2099, not 2,099
    assert fact.id in en and fact.en in en and (f"{int(fact.max)}" if year else f"{int(fact.max):,}") in en and " to " in en
    top = int(fact.max) if fact.type == "count" else float(fact.max)
    at_the_limit = {fact.id: {"2023": top, "2024": top, "2025": top} if fact.type in ("series", "trend") else top}
    assert validate_facts(at_the_limit, CAT) == (at_the_limit, [])


@pytest.mark.parametrize("value", [10**29 * 9 + (10**29 - 1), 10**400, 1e26, 1e308, float("inf"), "9" * 5000,
                                   "1e308", -(10**400)])
@pytest.mark.parametrize("fact", ["hitech_count", "rd_growth", "area_km2", "total_output"])
def test_absurd_figures_are_out_of_range_not_errors(fact, value):
    raw = {fact: {"2023": value, "2024": 1, "2025": 1} if fact == "total_output" else value}
    facts, errors = validate_facts(raw, CAT)
    assert facts == ({fact: {"2024": 1, "2025": 1}} if fact == "total_output" else {})  # a series keeps its other years
    assert [(e.fact, e.code) for e in errors] == [(fact, "range")]
    text = fact_error_text(errors[0], "甲", "zh")
    assert len(text) < 300  # a 5,000-digit value is shown cut


def test_json_with_a_huge_integer_or_deep_nesting_is_read():
    from engine.facts import MAX_DEPTH, load_json, validate_json
    raw, facts, errors = validate_json('{"hitech_count": ' + "9" * 5000 + ', "iip_rate": 20}', CAT)
    assert facts == {"iip_rate": 20} and [(e.fact, e.code) for e in errors] == [("hitech_count", "range")]
    deep = '{"total_output": ' + "[" * 5000 + "]" * 5000 + ', "iip_rate": 20, "name": "[{\\"]"}'
    raw, facts, errors = validate_json(deep, CAT)
    assert facts == {"iip_rate": 20} and [(e.fact, e.code) for e in errors] == [("total_output", "type")]
    assert raw["name"] == '[{"]'  # brackets inside strings are not nesting
    assert str(load_json(deep)["total_output"]).count("[") == MAX_DEPTH - 1  # the object is the first level
    import json
    with pytest.raises(json.JSONDecodeError):
        load_json('{"a": ' + "[" * 5000)


def test_accepts_refuses_what_the_catalogue_no_longer_accepts():
    assert all(CAT.accepts(fact, value) for fact, value in eligible_facts().items())
    stale = dict(eligible_facts(), hitech_count=10**30 - 1, accident_level="huge", removed_fact=1, name="集群")
    assert sorted(f for f, v in stale.items() if not CAT.accepts(f, v)) == [
        "accident_level", "hitech_count", "name", "removed_fact"]


def test_a_percent_sign_is_read_only_on_a_percentage():
    """25% is a share of 25; 99% for an area, 2% firms or 45% 亿元 is no figure of theirs."""
    facts, errors = validate_facts({"iip_rate": "25%", "output_growth": "12％", "area_km2": "99%",
                                    "champion_count": "2%", "total_output": {"2023": "45%", "2024": 48}}, CAT)
    assert facts == {"iip_rate": 25.0, "output_growth": 12.0, "total_output": {"2024": 48.0}}
    assert [(e.fact, e.code, e.years) for e in errors] == [
        ("area_km2", "type", ()), ("champion_count", "type", ()), ("total_output", "type", ("2023",))]


def test_a_year_written_as_the_form_writes_it_is_a_year():
    facts, errors = validate_facts({"total_output": {"2023年": 45, "2024年度": 48, "２０２５": "52"}}, CAT)
    assert not errors and facts == {"total_output": {"2023": 45.0, "2024": 48.0, "2025": 52.0}}


def test_a_refused_year_key_alone_is_told_what_a_year_is_not_a_figures_range():
    _, errors = validate_facts({"total_output": {"20x3": 45, "2024": 48}}, CAT)
    assert fact_error_text(errors[0], "甲", "zh") == "甲：集群总产值（total_output）年份 “20x3” 无效，应为四位数的年份（1900—2099），如 2023。"
    assert fact_error_text(errors[0], "A", "en").endswith("expected a four-digit year (1900–2099), such as 2023.")


def test_a_year_given_twice_in_two_spellings_is_not_read_last_wins():
    """2023 and 2023年 in one series: the plain year stands, the spelled one is refused as written,
    in either order; a refused figure under a spelled year is named by its year."""
    for series in ({"2023": 45, "2023年": 30, "2024": 48}, {"2023年": 30, "2023": 45, "2024": 48}):
        facts, errors = validate_facts({"total_output": series}, CAT)
        assert facts == {"total_output": {"2023": 45.0, "2024": 48.0}}
        assert [(e.fact, e.years) for e in errors] == [("total_output", ("2023年",))]
    _, errors = validate_facts({"total_output": {"2023": 45, "2024年": -48}}, CAT)
    assert "2024年 的值 -48 无效" in fact_error_text(errors[0], "甲", "zh")
    assert "for 2024 (-48)" in fact_error_text(errors[0], "A", "en")
