"""The answer parser: lenient forms read exactly; arbitrary text never raises anything but a
refusal, and every refusal names the expected form."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.conversation import Turn
from dialogs.parse import ParseError, parse_answer
from engine import catalogue
from locales import t
from locales.explain import expected_text

CAT = catalogue()


@pytest.mark.parametrize("fact,text,value", [
    ("area_km2", "45", 45.0),
    ("total_output", "2023:45 2024:48 2025:52", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "2023年45.2亿 2024年452000万元 2025年 5200000000元", {"2023": 45.2, "2024": 45.2, "2025": 52.0}),
    ("total_output", "２０２３：４５　２０２４：４８　２０２５：５２", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    # pairs joined by a comma: 45,2024 is not a figure with a thousands separator
    ("total_output", "2023年45，2024年48，2025年50", {"2023": 45.0, "2024": 48.0, "2025": 50.0}),
    ("total_output", "2023:520,000万元,2024:530,000万元,2025:1,000,000万元", {"2023": 52.0, "2024": 53.0, "2025": 100.0}),
    ("iip_rate", "72.5%", 72.5),
    ("iip_rate", "７２．５％", 72.5),
    ("hitech_count", "12家", 12),
    ("sme_employees", "5万人", 50000),
    ("area_km2", "1,200平方公里", 1200.0),
    ("county_level", "是", True), ("county_level", "有", True), ("county_level", "yes", True),
    ("county_level", "否", False), ("county_level", "没有", False), ("county_level", "No", False),
    ("accident_level", "较大", "larger"), ("accident_level", "无", "none"), ("accident_level", "major", "major"),
    # the grades' official English, as the options show them (larger, major: the ids, still read)
    ("accident_level", "Relatively serious", "larger"), ("accident_level", "serious", "major"),
    ("accident_level", "extremely serious", "extraordinary"), ("accident_level", "larger", "larger"),
    ("segment_rank", "全国前列", "national"), ("segment_rank", "都不是", "none"),
    ("rd_growth", "12.5%", 12.5),
    ("rd_growth", "2023:9% 2024:10% 2025:11%", {"2023": 9.0, "2024": 10.0, "2025": 11.0}),
    ("co2_intensity", "是", True),
    ("co2_intensity", "2023:1.2 2024:1.1 2025:1.0", {"2023": 1.2, "2024": 1.1, "2025": 1.0}),
])
def test_lenient_forms(fact, text, value):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and not parsed.assumed_years


@pytest.mark.parametrize("text", ["45, 48, 52", "45 48 52", "45、48、52", "４５，４８，５２"])
def test_three_figures_are_the_three_latest_years_to_confirm(text):
    parsed = parse_answer(CAT["total_output"], text, latest_year=2025)
    assert parsed.value == {"2023": 45.0, "2024": 48.0, "2025": 52.0} and parsed.assumed_years


@pytest.mark.parametrize("fact,text,code", [
    ("area_km2", "很大", "number"), ("area_km2", "-3", "range"), ("iip_rate", "120%", "range"),
    ("hitech_count", "2.5", "count"), ("hitech_count", "十二点五", "count"),
    ("total_output", "45", "series"), ("total_output", "45, 48", "series"), ("total_output", "2023:45 2023:46", "repeated_year"),
    ("total_output", "1850:45 2024:48 2025:52", "series"), ("county_level", "也许", "bool"),
    ("accident_level", "很严重", "choice"), ("rd_growth", "很快", "rate"), ("co2_intensity", "下降了", "trend"),
    ("area_km2", "   ", "empty"),
])
def test_refusals(fact, text, code):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == code


def refusal_text(fact: str, error: ParseError, lang: str) -> str:
    """The message the dialog shows for a refusal (without a database)."""
    turn = Turn.__new__(Turn)
    turn.lang, turn.profile, turn._answers = lang, None, None  # no cluster: no saved answer
    turn.today = dt.date(2026, 6, 1)  # 近三年 2023–2025, the years the examples name
    return turn.refusal(fact, error).text


@settings(max_examples=400, deadline=None)
@given(fact=st.sampled_from(list(CAT.facts)), text=st.text(max_size=40))
def test_arbitrary_text_never_raises_and_refusals_name_the_form(fact, text):
    try:
        parsed = parse_answer(CAT[fact], text, latest_year=2025)
    except ParseError as exc:
        for lang in ("zh", "en"):
            message = refusal_text(fact, exc, lang)
            spec = CAT[fact]
            if spec.type in ("bool", "level", "rank"):
                assert "1. " in message  # the numbered options
            elif exc.code in ("number", "count", "range"):
                assert expected_text(spec, lang, chat=True) in message and '{"' not in message
            elif exc.code == "superscript":
                assert "10000" in message
            elif exc.code == "unit":
                assert CAT.unit_label(fact, lang) in message and exc.details["given"] in message
            elif exc.code == "estimate":  # the words typed, quoted
                assert exc.details["given"] in message and t(lang, f"question.{fact}.example") in message
            elif exc.code == "empty":
                assert t(lang, f"question.{fact}.example") in message and "/skip" in message
            else:
                assert "2023:" in message  # the year form is shown
        return
    # what was accepted is a valid value of the fact
    CAT.field_adapters[fact].validate_python(parsed.value)


@settings(max_examples=200, deadline=None)
@given(st.integers(1990, 2028), st.lists(st.floats(0, 1e4, allow_nan=False).map(lambda x: round(x, 2)),
                                         min_size=3, max_size=5))
def test_series_round_trip(first, figures):
    series = {str(first + i): v for i, v in enumerate(figures)}
    text = " ".join(f"{y}:{v}" for y, v in series.items())
    if first + len(figures) - 1 > 2025:  # a year after 近三年 is refused, naming it
        with pytest.raises(ParseError) as raised:
            parse_answer(CAT["total_output"], text, latest_year=2025)
        assert raised.value.code == "later_year" and raised.value.details["years"] == [y for y in series if int(y) > 2025]
        return
    if any(y not in series for y in ("2023", "2024", "2025")):  # 近三年 must be there, each
        with pytest.raises(ParseError) as raised:
            parse_answer(CAT["total_output"], text, latest_year=2025)
        assert raised.value.code == "missing_years"
        return
    assert parse_answer(CAT["total_output"], text, latest_year=2025).value == {y: float(v) for y, v in sorted(series.items())}


ABC = {"2023": 45.0, "2024": 48.0, "2025": 52.0}


@pytest.mark.parametrize("fact,text,value", [
    # a bare list, converted, is put on the latest years to be confirmed, as any bare list
    ("total_output", "4.5bn, 4.8bn, 5.2bn", ABC),
    ("total_output", "4.5 billion yuan, 4.8 billion yuan, 5.2 billion yuan", ABC),
    ("total_output", "45 亿 48 亿 52 亿", ABC),
    ("total_output", "45 hundred million yuan, 4800 million, 5200m", ABC),
    ("total_output", "2023: 4.5 billion yuan 2024: 4.8 billion yuan 2025: 5.2 billion yuan", ABC),
    ("total_output", "2023:1.1bn 2024:48 million 2025:52亿元人民币", {"2023": 11.0, "2024": 0.48, "2025": 52.0}),
    ("total_output", "2023:3000万元 2024:4800万 2025:52", {"2023": 0.3, "2024": 0.48, "2025": 52.0}),
    # a sum asked in 万元 reads 万元, 亿 and million too
    ("software_purchase", "2023:500万元 2024:6 million 2025:1亿", {"2023": 500.0, "2024": 600.0, "2025": 10000.0}),
    ("software_purchase", "2023:五百万 2024:100000元 2025:0.1bn", {"2023": 500.0, "2024": 10.0, "2025": 10000.0}),
])
def test_amounts_in_other_units_are_converted(fact, text, value):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and parsed.assumed_years == ("2023" not in text) and not parsed.doubt


@pytest.mark.parametrize("fact,text,value", [
    ("hitech_count", "无", 0), ("hitech_count", "没有", 0), ("county_level", "无", False),
    ("hitech_count", "两家", 2), ("hitech_count", "十二", 12), ("sme_employees", "五万人", 50000),
    ("iip_rate", "六成", 60.0), ("iip_rate", "百分之六十", 60.0), ("iip_rate", "-0", 0.0),
    ("total_output", "四十五亿 四十八亿 五十二亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "2023:520,000万元 2024:48亿 2025:52", {"2023": 52.0, "2024": 48.0, "2025": 52.0}),
    # Chinese numerals in year-value pairs, alone or mixed with figures
    ("total_output", "2023:四十亿 2024:四十一亿 2025:四十二亿", {"2023": 40.0, "2024": 41.0, "2025": 42.0}),
    ("total_output", "2023年40亿，2024年四十一亿元，2025年42亿", {"2023": 40.0, "2024": 41.0, "2025": 42.0}),
    ("sme_output_share", "2023:百分之六十 2024:六成 2025:70%", {"2023": 60.0, "2024": 60.0, "2025": 70.0}),
    # a decimal before a scale word (cn2an reads none), a year in Chinese digits
    ("total_output", "2023:45 2024:48 2025:五十二点五亿", {"2023": 45.0, "2024": 48.0, "2025": 52.5}),
    ("total_output", "四十点五亿 四十八亿 五十亿", {"2023": 40.5, "2024": 48.0, "2025": 50.0}),
    ("total_output", "2023:一亿五千万 2024:五千万 2025:五十二亿", {"2023": 1.5, "2024": 0.5, "2025": 52.0}),
    ("sme_employees", "十二点五万人", 125000), ("sme_employees", "两万五千人", 25000),
    ("total_output", "二〇二三年45亿，二〇二四年48亿，二〇二五年52亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "二零二三年四十五亿 二零二四年四十八亿 二零二五年五十二亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("accident_level", "较大事故", "larger"), ("accident_level", "无事故", "none"),
    ("co2_intensity", "持续下降", True), ("co2_intensity", "未持续下降", False),
    ("area_km2", "80km²", 80.0),
    # the ² of an area unit is the unit's, not an exponent; the English names of km²
    ("area_km2", "100千米²", 100.0), ("area_km2", "100公里²", 100.0), ("area_km2", "100 KM²", 100.0),
    ("area_km2", "99.5 sq km", 99.5), ("area_km2", "99.5 sq. km", 99.5), ("area_km2", "99.5 km2", 99.5),
    ("area_km2", "99.5 square kilometres", 99.5), ("area_km2", "99.5 Square Kilometers", 99.5),
])
def test_natural_answers(fact, text, value):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and not parsed.doubt
    assert str(parsed.value) != "-0.0"


@pytest.mark.parametrize("fact,text,value", [
    ("innovative_sme_count", "5 firms", 5), ("innovative_sme_count", "1 firm", 1),
    ("hitech_count", "12 enterprises", 12), ("sme_employees", "1,000,000 persons", 1000000),
    ("sme_employees", "300 people", 300), ("sme_employees", "5万 persons", 50000),
    ("innovation_platforms", "3 platforms", 3), ("resource_sharing_count", "2 items", 2),
    ("area_km2", "99.5 km^2", 99.5), ("area_km2", "99.5 km**2", 99.5),
])
def test_english_unit_words_are_read(fact, text, value):
    assert parse_answer(CAT[fact], text, latest_year=2025).value == value


@pytest.mark.parametrize("fact", [f for f, spec in CAT.facts.items() if spec.type in ("count", "number") and spec.unit])
def test_a_saved_figure_as_shown_is_read_back(fact):
    """What `已保存：… = 5家` / `Saved: … = 5 firms` shows is an answer the question takes."""
    from locales.explain import value_text

    for value in (1, 5):
        value = value if CAT[fact].type == "count" else float(value)
        for lang in ("zh", "en"):
            assert parse_answer(CAT[fact], value_text(fact, value, lang), latest_year=2025).value == value


@pytest.mark.parametrize("fact,text", [("total_output", "2023-45 2024-48 2025-52"), ("area_km2", "80-90"),
                                       ("sme_employees", "1200-1500人")])
def test_figures_run_together_are_a_wrong_form_not_a_wrong_unit(fact, text):
    """2023-45 is no figure with the unit “-45”: the message shows the form expected."""
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    zh, en = refusal_text(fact, raised.value, "zh"), refusal_text(fact, raised.value, "en")
    assert raised.value.code in ("number", "count") and "单位应为" not in zh and "counted in" not in en
    assert t("zh", f"question.{fact}.example") in zh and t("en", f"question.{fact}.example") in en


@pytest.mark.parametrize("fact,text,code,details", [
    ("sme_employees", "1200件", "unit", {"given": "件"}),
    ("area_km2", "10⁴", "superscript", {}), ("area_km2", "5²", "superscript", {}),
    ("area_km2", "10⁴千米²", "superscript", {}),  # the unit's ² excepted, not the exponent's ⁴
    ("hitech_count", "⁴⁵", "superscript", {}),
    ("total_output", "2024:48 2025:52", "missing_years", {"years": ["2023"]}),
    ("total_output", "2023:45 2024:48", "missing_years", {"years": ["2025"]}),
    ("total_output", "2023:45 2023:46 2024:48", "repeated_year", {"year": "2023"}),
    # three years, all before 近三年 (the 2024 round's figures copied): not the three asked
    ("total_output", "2021:30 2022:48 2023:52", "missing_years", {"years": ["2024", "2025"]}),
    # a year not yet complete is refused (the contract), also with the three years given
    ("total_output", "2024:45 2025:48 2026:50", "later_year",
     {"years": ["2026"], "first": "2023", "middle": "2024", "last": "2025"}),
    ("rd_growth", "2023:10 2024:11 2025:12 2027:13", "later_year",
     {"years": ["2027"], "first": "2023", "middle": "2024", "last": "2025"}),
    ("co2_intensity", "2025:1.0 2026:0.9 2027:0.8", "later_year",
     {"years": ["2026", "2027"], "first": "2023", "middle": "2024", "last": "2025"}),
])
def test_refusals_that_say_exactly_what_is_wrong(fact, text, code, details):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == code and raised.value.details == details
    zh, en = refusal_text(fact, raised.value, "zh"), refusal_text(fact, raised.value, "en")
    assert "{" not in zh + en and CAT[fact].label("zh") in zh
    if code == "missing_years":
        assert f"no value for {', '.join(details['years'])}." in en
    if code == "later_year":
        assert f"晚于近三年（2023—2025年）" in zh and "such as 2023:45 2024:48 2025:52" in en


@pytest.mark.parametrize("fact,text,items,zh,en", [
    ("sme_output_share", "2023:80 2024:101 2025:82", [("2024", "101", True)],
     "“集群内中小企业产值占集群总产值比例”中 2024年 的值 101 无效：每年应为0 到 100 之间的数（单位：%）。例如：2023:80.5",
     "not valid for 2024 (101); each year must be a number from 0 to 100 (unit: %). For example: 2023:80.5"),
    ("sme_output_share", "2023:70 2024:170 2025:71", [("2024", "170", True)], "2024年 的值 170 无效", "2024 (170)"),
    ("sme_output_share", "2023:70 2024:71 2025:abc", [("2025", "abc", False)], "2025年 的值 “abc” 无效", "2025 (“abc”)"),
    ("sme_output_share", "80, 101, 82", [("2024", "101", True)], "2024年 的值 101", "2024 (101)"),  # the years put
    ("total_output", "2023:-45 2024:1e30 2025:52", [("2023", "-45", True), ("2024", "1e30", True)],
     "2023年 的值 -45、2024年 的值 1e30 无效", "not valid for 2023 (-45), 2024 (1e30)"),
    ("rd_growth", "2023:10 2024:多 2025:12", [("2024", "多", False)], "2024年 的值 “多” 无效", "2024 (“多”)"),
])
def test_a_series_refused_for_some_years_names_them(fact, text, items, zh, en):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == "year_values" and raised.value.details == {"items": items}
    assert zh in refusal_text(fact, raised.value, "zh") and en in refusal_text(fact, raised.value, "en")


@pytest.mark.parametrize("fact,text,doubt", [
    ("patents_per_10k", "1500", "implausible"), ("iip_rate", "0.85", "fraction"),
    ("sme_output_share", "2023:0.7 2024:0.72 2025:0.75", "fraction"),
])
def test_implausible_figures_are_marked_for_confirmation(fact, text, doubt):
    assert parse_answer(CAT[fact], text, latest_year=2025).doubt == doubt


@pytest.mark.parametrize("fact,text,value,years,meant", [
    ("total_output", "2023:45 2024:48 2025:45万", {"2023": 45.0, "2024": 48.0, "2025": 0.0045}, ("2025",), {"2025": 45.0}),
    ("total_output", "45亿 48亿 四十五万", {"2023": 45.0, "2024": 48.0, "2025": 0.0045}, ("2025",), {"2025": 45.0}),
    ("total_output", "2023:45万 2024:48万 2025:52万", {"2023": 0.0045, "2024": 0.0048, "2025": 0.0052},
     ("2023", "2024", "2025"), {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    # converted exactly all the same, to 6 decimals of the asked unit (123.456万元 is 0.012346 亿元)
    ("total_output", "2023:1.1bn 2024:4.8 million 2025:52亿元人民币", {"2023": 11.0, "2024": 0.048, "2025": 52.0},
     ("2024",), {"2024": 4.8}),
    ("total_output", "2023:1.234567m 2024:123.456万元 2025:52", {"2023": 0.012346, "2024": 0.012346, "2025": 52.0},
     ("2023", "2024"), {"2023": 1.234567, "2024": 123.456}),
    ("total_output", "2023:45 2024:48 2025:1元", {"2023": 45.0, "2024": 48.0, "2025": 0.0}, ("2025",), {"2025": 1.0}),
    ("software_purchase", "2023:五百万 2024:1元 2025:0.1bn", {"2023": 500.0, "2024": 0.0001, "2025": 10000.0},
     ("2024",), {"2024": 1.0}),
    # no other unit to read it in: only confirmed
    ("total_output", "2023:45 2024:48 2025:0.001", {"2023": 45.0, "2024": 48.0, "2025": 0.001}, ("2025",), None),
])
def test_an_amount_far_below_the_others_is_asked_back_as_a_slip_of_unit(fact, text, value, years, meant):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and parsed.years == years
    assert (parsed.doubt, parsed.meant) == (("scale", {**value, **meant}) if meant else ("small", None))


@pytest.mark.parametrize("fact,text,years,meant", [
    ("sme_output_share", "2023:80 2024:0.81 2025:82", ("2024",), {"2023": 80.0, "2024": 81.0, "2025": 82.0}),
    ("sme_output_share", "2023:75 2024:0.72 2025:0.73", ("2024", "2025"), {"2023": 75.0, "2024": 72.0, "2025": 73.0}),
    ("sme_output_share", "2023:0.7 2024:0.72 2025:0.75", ("2023", "2024", "2025"),
     {"2023": 70.0, "2024": 72.0, "2025": 75.0}),
    ("iip_rate", "0.07", (), 7.0),
    # the other years typed with %: the year without it is still asked back
    ("sme_output_share", "2023年约75%，2024年百分之七十二，2025年0.71", ("2025",), {"2023": 75.0, "2024": 72.0, "2025": 71.0}),
    ("sme_output_share", "2023:75% 2024:72% 2025:0.71", ("2025",), {"2023": 75.0, "2024": 72.0, "2025": 71.0}),
    ("sme_output_share", "75%, 72%, 0.71", ("2025",), {"2023": 75.0, "2024": 72.0, "2025": 71.0}),
    # 1 beside fractions is 100 % as a fraction
    ("sme_output_share", "2023:0.8 2024:0.9 2025:1", ("2023", "2024", "2025"), {"2023": 80.0, "2024": 90.0, "2025": 100.0}),
])
def test_a_share_typed_as_a_fraction_in_any_year_is_asked_back_for_those_years(fact, text, years, meant):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert (parsed.doubt, parsed.years, parsed.meant) == ("fraction", years, meant)


@pytest.mark.parametrize("fact,text", [("patents_per_10k", "150"), ("iip_rate", "0.85%"), ("iip_rate", "85"),
                                       ("iip_rate", "百分之0.85"), ("sme_output_share", "2023:75% 2024:72% 2025:0.71%"),
                                       ("sme_output_share", "75,72,0.71（%）"),
                                       ("sme_output_share", "2023:2 2024:0.5 2025:3")])  # 0.5% among 2% and 3%
def test_plausible_figures_are_not_doubted(fact, text):
    assert parse_answer(CAT[fact], text, latest_year=2025).doubt is None


SERIES = {"2023": 45.0, "2024": 48.0, "2025": 52.3}


@pytest.mark.parametrize("fact,text,value", [
    # a unit in brackets after a list is every figure's unit
    ("total_output", "45，48，52.3（亿元）", SERIES),
    ("total_output", "450000，480000，523000（万元）", SERIES),
    ("leading_output_share", "2023:75 2024:76.2 2025:77.1（%）", {"2023": 75.0, "2024": 76.2, "2025": 77.1}),
    # an approximation is read as the figure given
    ("area_km2", "95左右", 95.0), ("area_km2", "约95平方公里", 95.0), ("area_km2", "大约95", 95.0),
    ("area_km2", "近95", 95.0), ("champion_count", "3家左右", 3),
    ("leading_output_share", "85%左右，86%，87%", {"2023": 85.0, "2024": 86.0, "2025": 87.0}),
    ("total_output", "2023年约45亿 2024年48亿 2025年52.3亿", SERIES),
    ("area_km2", "about 95 square kilometers", 95.0), ("area_km2", "approx. 95 km2", 95.0),
    ("area_km2", "around 95 km²", 95.0), ("area_km2", "roughly 95", 95.0),
    # and / 和 / 及 between the figures of a list
    ("total_output", "45, 48 and 52.3", SERIES), ("total_output", "45、48和52.3", SERIES),
    ("total_output", "45，48及52.3亿元", SERIES),
    ("total_output", "4.5 billion, 4.8 billion and 5.23 billion yuan", SERIES),
    ("leading_output_share", "85%, 86% and 88%", {"2023": 85.0, "2024": 86.0, "2025": 88.0}),
    # a count's own noun, percent spelt out
    ("standards_count", "3 standards", 3), ("standards_count", "3 standard", 3), ("standards_count", "3项标准", 3),
    ("iip_rate", "85 percent", 85.0), ("output_growth", "7.1 percent", 7.1), ("output_growth", "7.1 per cent", 7.1),
])
def test_words_that_are_no_unit_are_not_refused_as_one(fact, text, value):
    assert parse_answer(CAT[fact], text, latest_year=2025).value == value


@pytest.mark.parametrize("fact,text,given", [
    ("area_km2", "95件", "件"), ("champion_count", "3人", "人"), ("total_output", "45，48，52（万人）", "万人"),
    ("standards_count", "3 patents", "patents"), ("area_km2", "about 95 people", "people"),
])
def test_a_real_wrong_unit_is_still_refused_as_one(fact, text, given):
    with pytest.raises(ParseError) as exc:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert (exc.value.code, exc.value.details) == ("unit", {"given": given})


@pytest.mark.parametrize("text,value", [
    ("Yes, it was certified in 2023", True), ("Yes, we have", True), ("yeah", True), ("Yep, since 2021", True),
    ("是的，在宜兴市范围内", True), ("对，有", True), ("有，3家", True),
    ("没有", False), ("不是", False), ("No, not yet", False), ("nope", False), ("not", False),
    ("没有，不是", False), ("没有，还在申报中", False), ("否，没有", False),
])
def test_a_yes_or_no_leading_a_sentence_is_the_answer(text, value):
    assert parse_answer(CAT["county_level"], text, latest_year=2025).value is value


@pytest.mark.parametrize("text", [
    "是，不是", "yes but no", "Yes, but only partly", "yes, no violations", "Yes, it is not", "yes, we don't",
    "不是，但有部分在外", "是的，不在范围内", "也许是的，不确定", "No, yes",
])
def test_a_yes_or_no_the_rest_contradicts_is_refused(text):
    with pytest.raises(ParseError) as exc:
        parse_answer(CAT["county_level"], text, latest_year=2025)
    assert exc.value.code == "bool"


@pytest.mark.parametrize("fact,text,value,doubted", [
    # a unit after the last of a bare list is each figure's, as in brackets
    ("total_output", "450000,480000,520000万元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, ()),
    ("total_output", "450000 480000 520000万元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, ()),
    ("total_output", "45、48、52万元", {"2023": 0.0045, "2024": 0.0048, "2025": 0.0052}, ("2023", "2024", "2025")),
    ("leading_output_share", "75, 72, 71%", {"2023": 75.0, "2024": 72.0, "2025": 71.0}, ()),
    # but not when another figure carries its own: each as written
    ("total_output", "45亿,48,52万", {"2023": 45.0, "2024": 48.0, "2025": 0.0052}, ("2025",)),
    ("total_output", "2023:45 2024:48 2025:45万", {"2023": 45.0, "2024": 48.0, "2025": 0.0045}, ("2025",)),
])
def test_a_unit_after_a_list_of_bare_figures_is_each_ones(fact, text, value, doubted):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and parsed.years == doubted


@pytest.mark.parametrize("fact,text,value,assumed", [
    ("champion_count", "暂无", 0, False), ("champion_count", "一家也没有", 0, False),
    ("standards_count", "一项都没有", 0, False),
    ("iip_rate", "三成五", 35.0, False), ("iip_rate", "85.", 85.0, False), ("champion_count", "3 firms.", 3, False),
    ("area_km2", "80.5 km².", 80.5, False),
    ("iip_rate", "85\u200b", 85.0, False), ("iip_rate", "\ufeff85%", 85.0, False),
    ("output_growth", "年均9.5%", 9.5, False), ("output_growth", "年均增速9.5%", 9.5, False),
    ("output_growth", "增速9.5%", 9.5, False), ("output_growth", "近三年年均增速9.5%", 9.5, False),
    ("output_growth", "平均每年增长9.5%", 9.5, False), ("output_growth", "每年增长约9.5%", 9.5, False),
    ("total_output", "近三年分别为45亿、48亿、52亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, True),
    # the years given as a range: the figures are theirs in order, nothing assumed
    ("total_output", "2023-2025年分别为45、48、52亿元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, False),
    ("total_output", "2023年至2025年分别为45，48，52", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, False),
    # the years listed before 分别为: theirs in order
    ("total_output", "2023、2024、2025年分别为45、48、52亿元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, False),
    ("total_output", "2023年、2024年、2025年依次为45亿、48亿、52亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, False),
    # figures between slashes, as a table's cell often has them; a unit's slash stays (吨/万元)
    ("total_output", "45亿/48亿/52亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, True),
    ("total_output", "45/48/52亿元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}, True),
    ("co2_intensity", "1.2/1.1/1.0吨/万元", {"2023": 1.2, "2024": 1.1, "2025": 1.0}, True),
    ("co2_intensity", "2023:1.2吨/万元 2024:1.1吨/万元 2025:1.0吨/万元", {"2023": 1.2, "2024": 1.1, "2025": 1.0}, False),
    # a report's sentence: a verb between each year and its figure
    ("total_output", "2023年为45.2亿元，2024年为48.6亿元，2025年为52.1亿元", {"2023": 45.2, "2024": 48.6, "2025": 52.1}, False),
    ("total_output", "2023年达45.2亿元、2024年实现48.6亿元、2025年达到52.1亿元", {"2023": 45.2, "2024": 48.6, "2025": 52.1},
     False),
    ("output_growth", "2023年为10.5%，2024年为11%，2025年为12%", {"2023": 10.5, "2024": 11.0, "2025": 12.0}, False),
])
def test_natural_answers_read_where_unambiguous(fact, text, value, assumed):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and parsed.assumed_years is assumed


@pytest.mark.parametrize("fact,text,code", [
    ("total_output", "2023-2025年分别为45、48亿元", "series"),    # two figures for three years
    ("total_output", "2024-2026年分别为45、48、52亿元", "later_year"),
    ("output_growth", "年均9.5%、10%", "rate"),
    ("county_level", "暂无", "bool"),                         # only a count reads it as none
    # pasted cells: a header row above which unit? or a label's cell: not guessed
    ("total_output", "年份\t产值（万元）\n2023\t450000\n2024\t480000\n2025\t520000", "series"),
    ("total_output", "集群总产值（万元）\t45\t48\t52", "series"),
    ("total_output", "−45, 48, 52", "year_values"),  # now read as the negative it is: out of range
])
def test_readings_that_stay_refused(fact, text, code):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == code


@pytest.mark.parametrize("fact,text", [
    ("champion_count", "十几家"), ("champion_count", "5家以上"), ("champion_count", "10余家"),
    ("champion_count", "十来家"), ("iip_rate", "三成多"), ("output_growth", "十几%"),
    ("total_output", "2023:45 2024:四十多亿 2025:52"), ("champion_count", "more than 5"),
    # two digits side by side in words are a range, not 23 or 78
    ("champion_count", "两三家"), ("champion_count", "约两三家"), ("hitech_count", "七八个"), ("hitech_count", "一两家"),
    ("iip_rate", "六七成"),
])
def test_an_estimate_is_refused_in_the_words_typed(fact, text):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == "estimate"
    message = refusal_text(fact, raised.value, "zh")
    assert f"“{raised.value.details['given']}”是约数或范围" in message and "不能用" not in message
    assert raised.value.details["given"] in text
    assert "is an estimate or a range" in refusal_text(fact, raised.value, "en")


def test_a_batch_cell_is_read_as_the_chat_reads_a_full_stop_and_an_invisible_character():
    from dialogs.parse import read_figure
    assert read_figure(CAT["iip_rate"], "85.") == 85.0
    assert read_figure(CAT["total_output"], "\ufeff45\u200b亿") == 45.0


@pytest.mark.parametrize("fact,text,value", [
    # cells copied from a spreadsheet: a year and its figure a row, or years over figures
    ("total_output", "2023\t45\n2024\t48\n2025\t52", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "2025\t52\r\n2024\t48\r\n2023\t45\r\n", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "2023年\t2024年\t2025年\n45亿元\t48亿元\t52亿元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("total_output", "2023\t2024\t2025\n450000万元\t480000万元\t520000万元", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
    ("sme_output_share", "２０２３\t80%\n2024\t81%\n2025\t82%", {"2023": 80.0, "2024": 81.0, "2025": 82.0}),
    ("rd_growth", "2023\t10%\n2024\t12%\n2025\t14%", {"2023": 10.0, "2024": 12.0, "2025": 14.0}),
    # a minus sign as Word and Excel write it, and 负 before a figure, as 负三 already was
    ("output_growth", "−3%", -3.0), ("output_growth", "负3%", -3.0), ("output_growth", "负 3.5", -3.5),
    ("output_growth", "负三", -3.0), ("rd_growth", "2023:−2 2024:5 2025:负1", {"2023": -2.0, "2024": 5.0, "2025": -1.0}),
    # ticks as a checklist writes them
    ("management_body", "✓", True), ("management_body", "✔", True), ("management_body", "✗", False),
    ("violations", "✘", False),
])
def test_pasted_cells_minus_signs_and_ticks_are_read(fact, text, value):
    parsed = parse_answer(CAT[fact], text, latest_year=2025)
    assert parsed.value == value and not parsed.assumed_years and parsed.doubt is None


@pytest.mark.parametrize("fact,text", [
    ("total_output", "2023\t2024\t2025"), ("total_output", "2023 2024 2025"), ("total_output", "2023，2024，2025"),
    ("sme_output_share", "2023、2024、2025"), ("rd_growth", "2023 2024 2025"), ("co2_intensity", "2023\t2024\t2025"),
])
def test_a_row_of_years_alone_is_no_figures(fact, text):
    """A table's header pasted alone was read as the figures 2023, 2024 and 2025 (2,023 亿元 a
    year, within the plausible), only the years asked back."""
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT[fact], text, latest_year=2025)
    assert raised.value.code == "years_only" and raised.value.details == {"given": "2023, 2024, 2025"}
    zh, en = refusal_text(fact, raised.value, "zh"), refusal_text(fact, raised.value, "en")
    assert f"“{CAT[fact].label('zh')}”：2023, 2024, 2025 是年份，不是数值" in zh
    assert f"“{CAT[fact].label('en')}”: 2023, 2024, 2025 are years, not figures" in en


@pytest.mark.parametrize("fact,text,value", [
    # an English user's words for the grades, as 无事故 and 较大事故 were read: "No accidents" was refused
    ("accident_level", "No accidents", "none"), ("accident_level", "none at all", "none"),
    ("accident_level", "serious accidents", "major"), ("accident_level", "relatively serious safety accident", "larger"),
    ("cyber_incident_level", "No security incidents", "none"), ("cyber_incident_level", "没有网络安全事件", "none"),
    ("cyber_incident_level", "重大网络安全事件", "major"), ("accident_level", "一般安全事故", "general"),
])
def test_a_grade_followed_by_its_accidents_or_incidents(fact, text, value):
    assert parse_answer(CAT[fact], text, latest_year=2025).value == value


@pytest.mark.parametrize("text", ["事件", "accidents", "some incidents"])
def test_accidents_alone_say_no_grade(text):
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT["cyber_incident_level"], text, latest_year=2025)
    assert raised.value.code == "choice"


@pytest.mark.parametrize("fact,text,value", [
    # 大概、大致、差不多 and 约有/约为 say "about", as 约 does: the figure is read as given
    ("hitech_count", "大概十个", 10), ("hitech_count", "大概10个", 10), ("area_km2", "大致95平方公里", 95.0),
    ("hitech_count", "差不多10个", 10), ("hitech_count", "约有10个", 10),
    ("area_km2", "约为95", 95.0), ("area_km2", "大约有95平方公里", 95.0), ("champion_count", "估计3家", 3),
    ("total_output", "大概45亿、48亿、52.3亿", SERIES),
])
def test_an_approximation_in_other_words_is_read_as_the_figure_given(fact, text, value):
    assert parse_answer(CAT[fact], text, latest_year=2025).value == value


@pytest.mark.parametrize("text", [
    "大前年45亿，前年48亿，去年52.3亿", "2023年45亿，前年48亿，去年为52.3亿", "大前年为45亿元；前年达48亿元；去年实现52.3亿元",
    "2023: 4.5 billion, the year before last: 4.8 billion, last year: 5.23 billion",
])
def test_last_year_and_the_year_before_are_the_years_they_name(text):
    """去年, 前年, 大前年 as an official writes the years of 近三年: counted back from today's year."""
    assert parse_answer(CAT["total_output"], text, latest_year=2025, this_year=2026).value == SERIES


def test_this_year_is_refused_as_a_year_not_yet_complete():
    with pytest.raises(ParseError) as raised:
        parse_answer(CAT["total_output"], "前年45亿，去年48亿，今年52亿", latest_year=2025, this_year=2026)
    assert raised.value.code == "later_year" and raised.value.details["years"] == ["2026"]


@pytest.mark.parametrize("text,value", [
    ("已设立", True), ("设立了", True), ("已建立", True), ("开展了相关工作", True), ("已经开展", True), ("具备", True),
    ("尚未设立", False), ("没有设立", False), ("未开展", False), ("不具备", False), ("还没有建立", False),
])
def test_a_yes_or_no_said_by_what_was_done(text, value):
    """是否设立了…？ answered 已设立 or 尚未设立, as an official does: they were refused as no yes or no."""
    assert parse_answer(CAT["management_body"], text, latest_year=2025).value is value


@pytest.mark.parametrize("text", ["已设立，但不完善", "已建立，没有专职人员", "设立"])
def test_what_was_done_with_a_but_is_no_yes(text):
    with pytest.raises(ParseError):
        parse_answer(CAT["management_body"], text, latest_year=2025)


@pytest.mark.parametrize("text", [
    "2023年增长10.5%，2024年增长11%，2025年增长12%", "2023年同比增长10.5%，2024年增长了11%，2025年增速为12%",
    "大前年增长10.5%，前年增长11%，去年增长12%",
])
def test_a_rate_of_each_year_with_the_words_of_growth(text):
    """2023年增长10.5%… is each year's rate, as 2023年为10.5% is: it was refused as no rate."""
    value = parse_answer(CAT["output_growth"], text, latest_year=2025, this_year=2026).value
    assert value == {"2023": 10.5, "2024": 11.0, "2025": 12.0}


def test_growth_words_are_no_verb_of_a_level():
    with pytest.raises(ParseError):  # an increase of 45亿 is no output of 45亿
        parse_answer(CAT["total_output"], "2023年增长45亿，2024年增长48亿，2025年增长52亿", latest_year=2025)


@pytest.mark.parametrize("fact,text,value", [
    # a total's words before the figure, a count's noun after its unit
    ("hitech_count", "共12家", 12), ("hitech_count", "合计12家", 12), ("hitech_count", "目前有12家", 12),
    ("hitech_count", "总共十二家", 12), ("hitech_count", "12家企业", 12), ("hitech_count", "12个企业", 12),
    ("sme_employees", "约3.5万名员工", 35000),
    # the question's own words before the figure only restate it
    ("area_km2", "占地85平方公里", 85.0), ("area_km2", "面积为85平方公里", 85.0), ("area_km2", "占地面积约85", 85.0),
    ("sme_employees", "从业人员3.5万人", 35000), ("total_output", "总产值分别为45亿、48亿、52亿", {"2023": 45.0, "2024": 48.0, "2025": 52.0}),
])
def test_words_that_restate_the_question_around_a_figure(fact, text, value):
    assert parse_answer(CAT[fact], text, latest_year=2025).value == value


@pytest.mark.parametrize("fact,text", [("area_km2", "耕地85平方公里"), ("hitech_count", "规上企业12家")])
def test_other_words_before_a_figure_are_still_refused(fact, text):
    with pytest.raises(ParseError):
        parse_answer(CAT[fact], text, latest_year=2025)
