"""Batch screening's fast paths give exactly what the reference paths give: the same facts
(values, types, order) and the same errors for every line of JSON, and, for the CSV summary,
the same bytes as the csv module writing the reference rows."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import catalogue, validate_facts
from dialogs.reports import CSV_HEADER, evaluation_csv_row
from engine.facts import _validate_json_reference, validate_json
from tests.conftest import DATA, ON, eligible_facts

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
    '{"total_output": {"1899": 4}}', '{"total_output": {"1900": 4, "2099": 5}}', '{"total_output": {"2100": 4}}',
    '{"total_output": {" 2024": 4}}', '{"total_output": {"2024 ": 4}}', '{"total_output": {"02024": 4}}',
    '{"total_output": {"2024": true}}', '{"total_output": [45]}',
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


# --- the command: fast paths against the reference paths, on a file of tricky clusters ---------

TRICKY = DATA / "tricky_batch.jsonl"  # names with quotes, commas, line breaks, unicode; bad values


def _command(argv: list[str], reference: bool, monkeypatch) -> tuple[int, str, str]:
    """`clusterbot evaluate` in this process; with `reference`, JSON read through pydantic alone
    and the CSV rows written by the csv module from evaluation_csv_row, as before the fast paths."""
    import bot.inputs
    from bot.cli import build_parser
    from bot.commands import evaluate as command

    with monkeypatch.context() as patch:
        if reference:
            patch.setattr(bot.inputs, "read_json", lambda *a: (*_validate_json_reference(*a), False))
            patch.setattr(command, "WRITERS", dict(command.WRITERS, csv=_reference_csv))
        args = build_parser("zh", argv).parse_args(argv)
        out, err = io.StringIO(), io.StringIO()
        code = args.run(args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _reference_csv(evaluated, lang, out) -> None:
    writer = csv.writer(out)
    header = True
    for name, evaluations in evaluated:
        if header:
            out.write("\ufeff")  # Excel's mark of UTF-8, before the header
            writer.writerow(CSV_HEADER)
            header = False
        writer.writerows([evaluation_csv_row(name, ev, lang) for ev in evaluations])
    if header:
        out.write("\ufeff")
        writer.writerow(CSV_HEADER)


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("on", ["2026-01-15", "2026-11-23"])  # the later date adds notices (commas, quotes)
def test_the_command_prints_what_the_reference_paths_print(fmt, lang, on, monkeypatch):
    argv = ["evaluate", str(TRICKY), "-f", fmt, "--lang", lang, "--on", on]
    fast, reference = _command(argv, False, monkeypatch), _command(argv, True, monkeypatch)
    assert fast == reference
    assert fast[0] == 1 and fast[2].count("\n") >= 6  # refused values were said, per cluster


def test_csv_rows_are_the_csv_modules_bytes_on_a_real_stdout(monkeypatch):
    argv = ["evaluate", str(TRICKY), "-f", "csv", "--on", "2026-11-23", "--lang", "en"]
    run = subprocess.run([sys.executable, "-m", "bot.cli", *argv], capture_output=True, timeout=60,
                         cwd=Path(__file__).parents[1])
    code, out, _ = _command(argv, True, monkeypatch)
    assert run.returncode == code == 1
    assert run.stdout == out.encode("utf-8")
    rows = list(csv.reader(io.StringIO(out.removeprefix("\ufeff"), newline="")))
    assert rows[0] == CSV_HEADER and len(rows) == 1 + 4 * len(TRICKY.read_text(encoding="utf-8").splitlines())
    assert {'say "hi"', "a, b", "line\nbreak", "cr\rlf\r\n", '"', ","} <= {row[0] for row in rows}


@pytest.mark.parametrize("cell", ["", " ", "a", "a,b", 'a"b', '"', "a\nb", "a\rb", "\r\n", "é", "名字", "x\t", "'", "a;b",
                                  "\x00", "\u2028", " lead", "trail ", ",", "a, b; c"])
def test_a_row_is_written_as_the_csv_module_writes_it(cell):
    from bot.commands.evaluate import csv_line

    for row in ([cell], [cell, ""], ["", cell], [cell, "x", cell], ["a", "b", cell, "c"]):
        out = io.StringIO()
        csv.writer(out).writerow(row)
        assert csv_line(row) == out.getvalue(), row


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_each_measures_csv_tail_is_the_reference_rows_for_any_statuses(data):
    from bot.commands.evaluate import CsvTails
    from engine import FAIL, NA, PASS, UNKNOWN, WARNING, load_rulesets
    from engine.evaluate import Evaluation

    lang = data.draw(st.sampled_from(["zh", "en"]))
    on = data.draw(st.sampled_from([ON, ON.replace(month=11, day=23)]))
    tails = CsvTails(lang)
    for ruleset in load_rulesets().values():
        statuses = tuple(data.draw(st.lists(st.sampled_from([PASS, FAIL, UNKNOWN, NA, WARNING]),
                                            min_size=len(ruleset.criteria), max_size=len(ruleset.criteria))))
        ev = Evaluation(ruleset, on, statuses, None, 0)
        out = io.StringIO()
        csv.writer(out).writerow(evaluation_csv_row("x", ev, lang))
        assert "x" + tails(ev) == out.getvalue()


# --- the checks: the statuses alone (what a batch computes) agree with the full trace ---------

_figures = st.one_of(st.none(), st.floats(-5, 120), st.integers(0, 30))
_series = st.dictionaries(st.sampled_from(["2021", "2022", "2023", "2024", "2025", "2026"]),
                          st.floats(0, 120), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(CAT.facts)), _figures | _series | st.booleans(), max_size=12),
       st.sampled_from([ON, ON.replace(year=2025), ON.replace(month=11, day=23)]))
def test_a_batchs_statuses_are_those_of_the_full_trace(changes, on):
    from engine import Profile, evaluate_many, load_rulesets

    facts, _ = validate_facts(dict(eligible_facts(), **changes), CAT)
    for ev in evaluate_many(Profile(facts, on), tuple(load_rulesets().values()), on):
        assert ev.statuses == tuple(r.status for r in ev.results)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_line_the_fast_types_take_holds_no_fraction_but_in_a_signed_share(data):
    """The fast types take no share below 1 that starts at 0, so a batch looks only at the signed
    shares of a line they took (bot.inputs): what it finds is what looking at every share finds."""
    from bot.inputs import _fractions, _shares, _signed_shares
    from engine.facts import read_json

    figures = st.sampled_from([0, 0.0, 0.5, 0.81, 0.999, 1, 1.0, 2, 45, 80.5, 100, -0.5, -3])
    line = {}
    for fact_id, fact in data.draw(st.lists(st.sampled_from(sorted(_shares().items())), max_size=4, unique=True)):
        if fact.type == "series":
            years = data.draw(st.lists(st.sampled_from(["2023", "2024", "2025"]), min_size=1, unique=True))
            line[fact_id] = {year: data.draw(figures) for year in sorted(years)}
        else:
            line[fact_id] = data.draw(figures)
    meta, facts, errors, fast = read_json(json.dumps(line), CAT)
    assert (meta, facts, errors) == _validate_json_reference(json.dumps(line), CAT)
    assert _fractions(facts, meta, _signed_shares() if fast else _shares()) == _fractions(facts, meta)
    if fast:
        assert not any(0 < v < 1 for f in facts.keys() - _signed_shares().keys() for v in
                       (facts[f].values() if isinstance(facts[f], dict) else [facts[f]]))
