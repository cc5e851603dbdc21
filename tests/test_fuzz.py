"""Property tests (issue 15 items 8-10): whatever a batch file holds, `clusterbot evaluate`
refuses values per cluster (exit 1) or evaluates them (exit 0), never an internal error, and
its output is always complete; whatever a person types, the dialog's parser returns a value
within the fact's range or raises ParseError. Bounded and derandomized, so CI is fast and
repeatable."""

from __future__ import annotations

import csv
import io
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import build_parser
from dialogs.parse import ParseError, parse_answer
from engine import catalogue

CAT = catalogue()
FACTS = list(CAT.facts)
MEASURES = 4
# CLUSTERBOT_FUZZ=10000 runs the 10,000 inputs per property (minutes, not for CI).
SCALE = int(os.environ.get("CLUSTERBOT_FUZZ", "0")) or None
FUZZ = settings(max_examples=SCALE or 60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- hostile values, as JSON text ------------------------------------------------------------

huge_ints = st.integers(4300, 6000).map(lambda n: "9" * n) | st.just(str(10**400)) | st.just(str(-(10**400)))
huge_floats = st.sampled_from(["1e26", "1e308", "-1e308", "1e300", "1.7976931348623157e308", "1e999", "-0", "0.0"])
plain_numbers = st.floats(allow_nan=False, allow_infinity=False).map(json.dumps) | st.integers(-10**35, 10**35).map(str)
# Text with lone surrogates and any other code point, written as JSON escapes would be.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=12).map(
    lambda s: json.dumps(s, ensure_ascii=True))
deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n) | st.integers(1, 1500).map(
    lambda n: '{"a":' * n + "1" + "}" * n)
scalars = huge_ints | huge_floats | plain_numbers | texts | st.sampled_from(["true", "false", "null", '"是"', '"较大"'])
years = st.sampled_from(["2023", "2024", "2025", "1899", "20x3", "\\ud800", "2100"]).map(lambda y: json.dumps(y))
series = st.lists(st.tuples(years, scalars), min_size=0, max_size=4).map(
    lambda pairs: "{" + ", ".join(f"{y}: {v}" for y, v in pairs) + "}")
values = scalars | series | deep


@st.composite
def clusters(draw) -> str:
    """One JSON object: a name (maybe with a lone surrogate) and some facts, any value."""
    name = draw(texts | huge_ints | st.just('"名\\udc80字"'))
    keys = draw(st.lists(st.sampled_from(FACTS + ["bogus", "\\udfff"]), max_size=6, unique=True))
    fields = [f'"name": {name}'] + [f'"{key}": {draw(values)}' for key in keys]
    return "{" + ", ".join(fields) + "}"


def evaluate(text: str, *options: str) -> tuple[int, str, str]:
    """`clusterbot evaluate - …` in process, stdout strict UTF-8 as a real pipe is."""
    args = build_parser().parse_args(["evaluate", "-", "--on", "2024-06-01", *options])
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", errors="strict", newline="")
    code = args.run(args, stdout=stdout, stderr=err, stdin=io.StringIO(text))
    stdout.flush()
    return code, out.getvalue().decode("utf-8"), err.getvalue()


@FUZZ
@given(st.lists(clusters(), min_size=1, max_size=4), st.sampled_from(["lines", "array"]))
def test_any_json_batch_is_evaluated_or_refused_per_cluster(batch, shape):
    text = "\n".join(batch) if shape == "lines" else "[" + ",\n".join(batch) + "]"
    code, out, err = evaluate(text)
    assert code in (0, 1), err
    results = json.loads(out)
    assert len(results) == len(batch) * MEASURES
    assert (code == 1) == bool(err.strip())
    assert all(line.split("：", 1)[0] for line in err.split("\n") if line)  # each names its cluster, on one line


@FUZZ
@given(clusters(), st.sampled_from(["table", "markdown", "csv"]))
def test_every_format_is_complete(cluster, fmt):
    code, out, err = evaluate(cluster, "-f", fmt)
    assert code in (0, 1), err
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert len(rows) == 1 + MEASURES and all(len(r) == len(rows[0]) for r in rows)
    else:
        assert out.endswith("\n") and ("陕西" in out)


# --- CSV that Python's csv module wrote ------------------------------------------------------

# (fact, year suffix, how the heading names it): every other fact whole, the rest by year, so
# that no two columns give one fact (a header that does is refused whole, tested on its own).
column_specs = st.tuples(
    st.sampled_from(FACTS).flatmap(lambda fact: st.tuples(st.just(fact), st.just("") if FACTS.index(fact) % 2
                                                          else st.sampled_from([".2023", ".2024", ".2025", ".1900"]))),
    st.sampled_from(["id", "zh", "en"]))


def heading(spec) -> str:
    (fact, year), named = spec
    return (fact if named == "id" else getattr(CAT.facts[fact], named)) + year


cells = (st.sampled_from(["1e308", "9" * 5000, "-0", "是", "否", "较大", "", " 45 ", "72.5%", "１２"])
         | st.text(max_size=10) | st.floats().map(repr) | st.integers().map(str))


@settings(FUZZ, max_examples=SCALE or 20)
@given(st.lists(column_specs, min_size=60, max_size=150, unique_by=lambda spec: spec[0]).map(
    lambda specs: [heading(spec) for spec in specs]), st.data())  # a header past any sniffer's sample
def test_any_csv_the_csv_module_writes_reads_back(header, data):
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), min_size=1, max_size=3))
    names = [f"集群{i}, \"{i}\"" for i in range(len(rows))]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["name"] + header] + [[n] + r for n, r in zip(names, rows)])
    code, out, err = evaluate(buffer.getvalue(), "-j", "jiangsu")
    assert code in (0, 1), err
    assert [r["cluster"] for r in json.loads(out)] == names


# --- the dialog's answers --------------------------------------------------------------------

typed_numbers = st.one_of(
    st.integers(-10**40, 10**40).map(str),
    st.floats(allow_nan=False).map(lambda x: f"{x:f}"),
    st.integers(300, 5000).map(lambda n: "9" * n),
    st.sampled_from(["-0", "0", "１２", "45.2亿", "452000万元", "72.5%", "1,200", "5万人", "①", "²", "10⁴", "٣"]),
)
typed_series = st.lists(st.tuples(st.integers(1890, 2110), typed_numbers), max_size=4).map(
    lambda pairs: " ".join(f"{y}:{v}" for y, v in pairs)) | st.lists(typed_numbers, max_size=4).map(", ".join)
typed = typed_numbers | typed_series | st.text(max_size=20)


@settings(FUZZ, max_examples=SCALE or 400)
@given(st.sampled_from(FACTS), typed)
def test_a_typed_answer_is_a_value_in_range_or_a_parse_error(fact, text):
    spec = CAT[fact]
    try:
        parsed = parse_answer(spec, text, latest_year=2025)
    except ParseError as exc:
        assert exc.code
        return
    assert CAT.accepts(fact, parsed.value), (fact, text, parsed.value)
