"""Batch screening's fast paths give exactly what the reference paths give: the same facts
(values, types, order) and the same errors for every line of JSON, and, for the CSV summary,
the same bytes as the csv module writing the reference rows."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import catalogue
from engine.facts import _validate_json_reference, validate_json
from tests.conftest import eligible_facts

CAT = catalogue()

TRICKY_LINES = [
    '{"area_km2": 50}', '{"area_km2": 50.0}', '{"area_km2": -0.0}', '{"area_km2": 0.1e1}', '{"area_km2": 5E1}',
    '{"area_km2": 12.345678901234567890123}', '{"area_km2": 100.00000000000000001}', '{"iip_rate": 1e-400}',
    '{"area_km2": 1e400}', '{"area_km2": NaN}', '{"area_km2": 1.7976931348623157e308}', '{"area_km2": "5"}',
    '{"area_km2": 100000.0}', '{"area_km2": 100000.0000001}', '{"area_km2": 5,}', '{"area_km2": 05}',
    '{"name": true}', '{"name": 1.0}', '{"name": 1.5}', '{"name": null}', '{"name": ""}', '{"name": "a", "name": "b"}',
    '{"name": 12345678901234567890}', '{"name": 123456789012345678901234567890}', '{"name": -9223372036854775809}',
    '{"name": "\\ud800"}', '{"name": "a\\u0000b"}', '{"name":"é\\u00e9"}', '{"name": "\\"quoted\\", comma"}',
    '{"name": "line\\nbreak"}', ' {"name": "x"} \n', '{"name": "x"}\r\n', '\ufeff{"name": "x"}',
    '{"hitech_count": 3.0}', '{"hitech_count": true}', '{"hitech_count": 3, "hitech_count": 4}', '{"hitech_count": null}',
    '{"hitech_count": -0}', '{"hitech_count": 1e2}', '{"hitech_count": 100000}', '{"hitech_count": 100001}',
    '{"champion_count": 9' + "9" * 5000 + "}", '{"data_year": 2024.0}', '{"data_year": 2099}', '{"data_year": 2100}',
    '{"total_output": {"2024": 45, "2024": 46}}', '{"total_output": {"2024": 45, "2023": 40}}', '{"total_output": {}}',
    '{"total_output": {"2024\\n": 45}}', '{"total_output": {"２０２４": 45}}', '{"total_output": {"20٢٤": 45}}',
    '{"total_output": {"1899": 4}}', '{"total_output": {"2024": true}}', '{"total_output": [45]}',
    '{"output_growth": {"2023": 5, "2024": 6, "2025": 7}}', '{"output_growth": 5}', '{"output_growth": "5%"}',
    '{"co2_intensity": true}', '{"co2_intensity": 1}', '{"co2_intensity": {"2023": 1}}', '{"county_level": 1}',
    '{"segment_rank": "top3"}', '{"segment_rank": "TOP3"}', '{"accident_level": "larger"}', '{"accident_level": "较大"}',
    '{"unknown": 1}', '{"hitech_cuont": 1}', '{}', '[1]', '"x"', "   ", "", '{"name": "x"} x', '{"name": "x"}{"name": "y"}',
    '{"a":' * 40 + "1" + "}" * 40, '{"total_output": ' + "[" * 5000 + "]" * 5000 + "}",
    json.dumps(dict(eligible_facts(), name="示例"), ensure_ascii=False),
]


def _outcome(text):
    try:
        return repr(validate_json(text, CAT))
    except Exception as exc:  # the same exception, with the same message
        return f"{type(exc).__name__}: {exc}"


def _reference(text):
    try:
        return repr(_validate_json_reference(text, CAT))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("text", TRICKY_LINES)
def test_the_fast_json_path_agrees_with_the_reference_on_tricky_lines(text):
    assert _outcome(text) == _reference(text)
    assert _outcome(text.encode("utf-8", "surrogatepass")) == _reference(text.encode("utf-8", "surrogatepass"))


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False)
    | st.floats(-200, 200) | st.sampled_from(["none", "general", "larger", "top3", "是", "", "2024"]) | st.text(max_size=5),
    lambda inner: st.dictionaries(st.sampled_from(["2022", "2023", "2024", "2025", "1850", "x"]) | st.text(max_size=4),
                                  inner, max_size=4) | st.lists(inner, max_size=2),
    max_leaves=6)
_keys = st.sampled_from(sorted(CAT.facts) + ["name", "unknown_fact"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=8), st.dictionaries(_keys, _values, max_size=3))
def test_the_fast_json_path_agrees_with_the_reference_on_any_object(changes, more):
    obj = dict(eligible_facts(), **changes)
    obj.update(more)
    text = json.dumps(obj, ensure_ascii=False)
    assert _outcome(text) == _reference(text)
