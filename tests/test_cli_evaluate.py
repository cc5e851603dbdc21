"""`clusterbot evaluate` and `clusterbot rules` as a user runs them: the command's whole main
(tests.conftest.run_cli), and a real process where the process is what is tested (its
entry point, a pipe of bytes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, eligible_facts, run_cli

CRITERION_KEYS = ["id", "status", "citation", "article_text", "explanation", "values"]
RESULT_KEYS = ["cluster", "jurisdiction", "ruleset", "verdict", "criteria", "notices"]


def clusterbot(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_cli(*args, stdin=stdin or "")


def clusterbot_process(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[1])


def test_json_output_has_exactly_the_contract_shape():
    run = clusterbot_process("evaluate", str(DATA / "eligible.json"), "--on", "2026-01-15")
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert [r["jurisdiction"] for r in results] == ["national", "jiangsu", "guangdong", "shaanxi"]
    for r in results:
        assert list(r) == RESULT_KEYS
        assert r["cluster"] == "示例市示例县精密机械产业集群"
        assert r["verdict"] == "eligible"
        assert (r["notices"] != []) == (r["jurisdiction"] == "shaanxi")  # its term ended 2025-04-27
        for c in r["criteria"]:
            assert list(c) == CRITERION_KEYS
            assert c["status"] in ("pass", "not_applicable")


def test_failure_explained_with_margin_and_citation(tmp_path):
    cluster = dict(eligible_facts(), name="乙", total_output={"2023": 45, "2024": 48, "2025": 38.5})
    path = tmp_path / "one.json"
    path.write_text(json.dumps(cluster, ensure_ascii=False), encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "jiangsu", "--on", "2026-01-15")
    (result,) = json.loads(run.stdout)
    assert result["verdict"] == "not_eligible"
    (failed,) = [c for c in result["criteria"] if c["status"] == "fail"]
    assert failed["citation"] == "第六条（二）"
    assert failed["article_text"] == "近三年，集群总产值每年均在40亿元以上"
    assert "2025年 38.50亿元，差 1.50亿元" in failed["explanation"]
    assert failed["values"] == {"total_output": {"2023": 45.0, "2024": 48.0, "2025": 38.5}}
    run = clusterbot("evaluate", str(path), "-j", "jiangsu", "--on", "2026-01-15", "--lang", "en")
    (failed,) = [c for c in json.loads(run.stdout)[0]["criteria"] if c["status"] == "fail"]
    assert "2025: 38.50 hundred million yuan, 1.50 hundred million yuan short" in failed["explanation"]


def test_notice_outside_a_measures_term():
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-j", "guangdong,shaanxi", "--on", "2026-11-23")
    results = json.loads(run.stdout)
    assert "第十九条" in results[0]["notices"][0] and "2026年2月27日" in results[0]["notices"][0]
    assert "第二十一条" in results[1]["notices"][0] and "2025年4月27日" in results[1]["notices"][0]


def test_json_array_json_lines_csv_and_stdin(tmp_path):
    a = dict(eligible_facts(), name="A")
    b = dict(eligible_facts(), name="B", iip_rate=10)
    (tmp_path / "arr.json").write_text(json.dumps([a, b]), encoding="utf-8")
    (tmp_path / "lines.jsonl").write_text(json.dumps(a) + "\n\n" + json.dumps(b) + "\n", encoding="utf-8")
    (tmp_path / "rows.csv").write_text(
        "name,total_output.2023,total_output.2024,total_output.2025,iip_rate,county_level\n"
        "C,45,48,52,25,是\nD,45,48,39,25,否\n", encoding="utf-8")
    for name in ("arr.json", "lines.jsonl"):
        run = clusterbot("evaluate", str(tmp_path / name), "-j", "national", "--on", "2026-01-15")
        assert [(r["cluster"], r["verdict"]) for r in json.loads(run.stdout)] == [
            ("A", "eligible"), ("B", "not_eligible")]
    run = clusterbot("evaluate", str(tmp_path / "rows.csv"), "-j", "national", "--on", "2026-01-15")
    c, d = json.loads(run.stdout)
    assert (c["cluster"], c["verdict"], d["verdict"]) == ("C", "undetermined", "not_eligible")
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=json.dumps(a))
    assert json.loads(run.stdout)[0]["verdict"] == "eligible"
    run = clusterbot("evaluate", str(tmp_path / "arr.json"), "-", "-j", "shaanxi", "--on", "2026-01-15",
                     stdin=json.dumps({"county_level": True}))
    assert [r["cluster"] for r in json.loads(run.stdout)] == ["A", "B", "2"]


def test_table_markdown_and_csv_formats():
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-f", "table", "--on", "2026-01-15")
    assert "国家（工信部）" in run.stdout and "符合条件" in run.stdout
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-f", "markdown", "--on", "2026-01-15", "-j", "jiangsu")
    assert run.stdout.startswith("# 中小企业特色产业集群预审报告") and "苏工信规〔2023〕3号" in run.stdout
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-f", "csv", "--on", "2026-01-15")
    lines = run.stdout.strip().splitlines()
    assert lines[0].startswith("\ufeffcluster,jurisdiction,ruleset,verdict") and len(lines) == 5  # the BOM: Excel


@pytest.mark.parametrize("content,where,before", [
    ('{"name": "x",\n "iip_rate": }', ":2: malformed JSON", []),
    ('{"name": "x"}\n{"name": \n', ":2: malformed JSON", ["x"]),  # JSON Lines: x was printed
    ("[1, 2]", "item 0 is number", []),
])
def test_malformed_input_is_one_line_exit_2(tmp_path, content, where, before):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--lang", "en")
    assert run.returncode == 2
    # JSON Lines stream: what was read before the unreadable line is printed, still valid JSON.
    assert [r["cluster"] for r in json.loads(run.stdout)] == before if before else run.stdout == ""
    assert len(run.stderr.strip().splitlines()) == 1 and where in run.stderr and str(path) in run.stderr
    assert "Traceback" not in run.stderr


def test_missing_file_and_bad_options_exit_2(tmp_path):
    run = clusterbot("evaluate", str(tmp_path / "nope.json"), "--lang", "en")
    assert run.returncode == 2 and "no such file" in run.stderr
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-j", "hubei")
    assert run.returncode == 2 and "hubei" in run.stderr and "Traceback" not in run.stderr
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "--on", "2024-13-01")
    assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr


def test_refused_values_exit_1_and_the_rest_is_evaluated(tmp_path):
    cluster = dict(eligible_facts(), name="丙", hitech_count=-3, sme_output_share={"2023": 120, "2024": 80, "2025": 80},
                   acident_level="none")
    path = tmp_path / "c.json"
    path.write_text(json.dumps(cluster, ensure_ascii=False), encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "jiangsu", "--on", "2026-01-15")
    assert run.returncode == 1
    messages = run.stderr.strip().splitlines()
    assert len(messages) == 3 and all(m.startswith("丙：") for m in messages)
    assert any("accident_level" in m for m in messages)
    (result,) = json.loads(run.stdout)
    assert result["verdict"] == "undetermined"
    statuses = {c["id"]: c["status"] for c in result["criteria"]}
    assert statuses["sme-share"] == "unknown" and statuses["quality-enterprises"] == "pass"


def test_rules_side_by_side():
    run = clusterbot("rules")
    assert run.returncode == 0
    block = run.stdout.split("研发经费年均增长\n", 1)[1].split("\n\n", 1)[0]
    assert "高于10%" in block and "不低于10%" in block and "高于8%" in block
    run = clusterbot("rules", "-j", "jiangsu", "--lang", "en", "-f", "markdown")
    assert run.stdout.startswith("| Criterion | Jiangsu |")


def test_a_measures_chinese_name_is_a_jurisdiction():
    # one parser for every -j: the names the chat takes (江苏, 国家, 工信部), a Chinese comma too
    run = clusterbot("rules", "-j", "江苏", "--lang", "en", "-f", "markdown")
    assert run.returncode == 0 and run.stdout.startswith("| Criterion | Jiangsu |"), run.stderr
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-j", "工信部，陕西", "--on", "2026-01-15")
    assert run.returncode == 0, run.stderr
    assert [r["jurisdiction"] for r in json.loads(run.stdout)] == ["national", "shaanxi"]


@pytest.mark.parametrize("text, names", [
    ("国家", ["national"]), ("工信部", ["national"]), ("江苏", ["jiangsu"]), ("广东省", ["guangdong"]),
    ("陕西", ["shaanxi"]), ("Jiangsu, 国家", ["jiangsu", "national"]), ("国家，江苏", ["national", "jiangsu"]),
    ("国家、广东", ["national", "guangdong"]), ("全部", ["national", "jiangsu", "guangdong", "shaanxi"]),
])
def test_parse_jurisdictions_takes_ids_and_names(text, names):
    from engine import parse_jurisdictions

    assert parse_jurisdictions(text) == names
    with pytest.raises(ValueError, match="海南"):
        parse_jurisdictions(text.replace("全部", "国家") + ",海南")


def test_on_moves_the_last_three_years_and_data_year_moves_them_back(tmp_path):
    """On 2024-06-01 the 近三年 are 2021–2023: the fixture's 2024 and 2025 are refused, naming them."""
    run = clusterbot("evaluate", str(DATA / "eligible.json"), "-j", "jiangsu", "--on", "2024-06-01")
    (result,) = json.loads(run.stdout)
    criterion = next(c for c in result["criteria"] if c["id"] == "output-each-year")
    assert criterion["status"] == "unknown" and result["verdict"] == "undetermined"
    assert "近三年应为2021年、2022年、2023年" in criterion["explanation"] and "2024年、2025年尚未结束" in criterion["explanation"]
    # the contract refuses a later year: said on stderr, naming the fact and the years, exit 1
    assert run.returncode == 1
    refusals = run.stderr.strip().splitlines()
    said = "：集群总产值（total_output）给出了 2024、2025 年的数据，晚于近三年（2021—2023年）的最后一年，不予计入：应为 2021、2022、2023 年的数值。本项按待定处理。"
    assert any(m.endswith(said) for m in refusals), refusals
    assert not any("（sme_employees）" in m for m in refusals)  # a plain number has no years
    cluster = dict(eligible_facts(), name="丁", data_year=2023,
                   total_output={"2021": 45, "2022": 46, "2023": 47})
    path = tmp_path / "d.json"
    path.write_text(json.dumps(cluster, ensure_ascii=False), encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "jiangsu", "--on", "2026-01-15", "--lang", "en")
    (result,) = json.loads(run.stdout)
    criterion = next(c for c in result["criteria"] if c["id"] == "output-each-year")
    assert criterion["status"] == "pass" and "2023: 47.00" in criterion["explanation"]
HOSTILE = {  # issue 15 item 8: each once sank the whole batch with exit 70 and truncated stdout
    "hitech_count": "9" * 5000,                        # an integer longer than int() reads
    "area_km2": "1e26",                                # a figure Decimal cannot quantize
    "rd_growth": '{"2023": 1e300, "2024": 1e300, "2025": 1e300}',
    "iip_rate": str(10**400),                          # no float holds it
    "total_output": "[" * 1000 + "]" * 1000,           # deeper than the JSON parser recurses
}


@pytest.mark.parametrize("fmt", ["json", "table", "markdown", "csv"])
def test_hostile_values_are_refused_per_cluster_and_the_output_is_complete(tmp_path, fmt):
    good = json.dumps(dict(eligible_facts(), name="好"), ensure_ascii=False)
    lines = [f'{{"name": "坏{fact}", "county_level": true, "{fact}": {value}}}' for fact, value in HOSTILE.items()]
    lines.append('{"name": "名\\ud800字", "county_level": true}')  # a lone surrogate: valid JSON, not Unicode
    for suffix in (".jsonl", ".json"):
        path = tmp_path / f"batch{suffix}"
        text = "\n".join([good] + lines) if suffix == ".jsonl" else "[" + ",\n".join([good] + lines) + "]"
        path.write_text(text, encoding="utf-8")
        run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15", "-f", fmt)
        assert run.returncode == 1, run.stderr
        messages = run.stderr.strip().splitlines()
        assert len(messages) == len(lines) and "Traceback" not in run.stderr
        for fact, message in zip(HOSTILE, messages):
            assert message.startswith(f"坏{fact}：") and f"（{fact}）" in message and len(message) < 400
        assert messages[-1].startswith("名\ufffd字：") and "name" in messages[-1]
        if fmt == "json":
            results = json.loads(run.stdout)
            assert [r["cluster"] for r in results] == ["好"] + [f"坏{f}" for f in HOSTILE] + ["名\ufffd字"]
            assert results[0]["verdict"] == "eligible"
        elif fmt == "csv":
            assert len(run.stdout.strip().splitlines()) == 1 + 1 + len(lines)
        else:
            assert "名\ufffd字" in run.stdout and "坏area_km2" in run.stdout


def test_a_csv_cell_of_1e308_is_refused_naming_cluster_and_fact(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("name,area_km2,iip_rate\n甲,1e308,25\n乙,80,25\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 1 and run.stderr.startswith("甲（第 2 行）：") and "area_km2" in run.stderr
    assert "0 到 10万" in run.stderr
    assert [r["cluster"] for r in json.loads(run.stdout)] == ["甲", "乙"]


@pytest.mark.parametrize("lang,said", [
    ("zh", "q{at}：集群内中小企业产值占集群总产值比例（sme_output_share）2023年 的值 {v} 无效，应为0 到 100 之间的数（单位：%）。"),
    ("en", "q{at}: Share of SMEs in the cluster's total output (sme_output_share) is not valid for 2023 ({v}); "
           "expected a number from 0 to 100 (unit: %)."),
], ids=["zh", "en"])
def test_a_series_with_one_bad_year_is_refused_naming_that_year_alone(tmp_path, lang, said):
    """The testers' line: the refusal named 2024年 80、2025年 80 as if wrong too, and asked for a
    whole series; the JSON on stdout keeps its contract shape."""
    (tmp_path / "q.csv").write_text("name,sme_output_share.2023,sme_output_share.2024,sme_output_share.2025\n"
                                    "q,101,80,80\n", encoding="utf-8")
    jsonl = '{"name":"q","sme_output_share":{"2023":101,"2024":80,"2025":80}}\n'
    at = {"zh": "（第 2 行）", "en": " (line 2)"}[lang]  # a CSV row is named with its line too
    for source, stdin, shown, line in (("-", jsonl, "101", ""), (str(tmp_path / "q.csv"), None, "“101”", at)):
        run = clusterbot("evaluate", source, "-j", "jiangsu", "--on", "2026-01-15", "--lang", lang, stdin=stdin)
        assert run.returncode == 1 and run.stderr.strip() == said.format(v=shown, at=line), run.stderr
        (result,) = json.loads(run.stdout)
        assert list(result) == RESULT_KEYS
        assert next(c for c in result["criteria"] if c["id"] == "sme-share")["status"] == "unknown"


def test_a_csv_the_csv_module_wrote_reads_back_with_a_header_longer_than_any_sample(tmp_path):
    import csv
    columns = ["name"] + [f"{fact}.{year}" for fact in ("total_output", "sme_output_share", "leading_output_share",
                                                        "co2_intensity") for year in range(1900, 2026)]
    row = ['甲, "引号"\n集群'] + ["50"] * (len(columns) - 1)
    path = tmp_path / "wide.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([columns, row])
    assert len(path.read_text(encoding="utf-8").split("\n", 1)[0]) > 8192
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)
    assert result["cluster"] == '甲, "引号"\n集群'
    (output,) = [c for c in result["criteria"] if c["id"] == "output-each-year"]
    series = output["values"]["total_output"]
    assert len(series) == 2026 - 1900 and set(series.values()) == {50.0} and output["status"] == "pass"


@pytest.mark.parametrize("content,line,what,before", [
    ('name,iip_rate\n甲,25\n"乙,30\n丙,40\n', 3, "unterminated quote", ["甲"]),
    ("name,iip_rate\n甲,25\n乙,30,7\n", 3, "3 cells but the header names 2 columns", ["甲"]),
    ("name,iip_rate\n甲,25\n乙\n", 3, "1 cells but the header names 2 columns", ["甲"]),
    ('name,iip_rate\n甲,"25"x\n', 2, "malformed CSV", []),
])
def test_bad_csv_is_one_line_naming_file_and_line_exit_2(tmp_path, content, line, what, before):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national")
    assert run.returncode == 2
    # Streamed: the rows before the unreadable one are printed, as valid JSON; nothing after.
    assert [r["cluster"] for r in json.loads(run.stdout)] == before if before else run.stdout == ""
    run = clusterbot("evaluate", str(path), "-j", "national", "-f", "csv", "--lang", "en")
    assert [row.split(",")[0] for row in run.stdout.splitlines()] == (["\ufeffcluster"] if before else []) + before
    (message,) = run.stderr.strip().splitlines()
    assert f"{path}:{line}: " in message and what in message


def test_csv_columns_may_be_the_forms_labels_in_either_language(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("集群名称,集群总产值.2023,集群总产值.2024,Total output of the cluster.2025,"
                    "工业互联网平台应用普及率,hitech_count\n甲,45,48,52,25,\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.stdout)
    values = {k: v for c in result["criteria"] for k, v in c["values"].items()}
    assert result["cluster"] == "甲" and values["total_output"] == {"2023": 45.0, "2024": 48.0, "2025": 52.0}
    assert values["iip_rate"] == 25.0 and "hitech_count" not in values  # an empty cell gives nothing


def test_a_csv_without_a_name_column_is_said_once(tmp_path):
    path = tmp_path / "noname.csv"
    path.write_text("iip_rate\n25\n30\n35\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 0
    (note,) = run.stderr.strip().splitlines()
    assert str(path) in note and "名称" in note
    assert [r["cluster"] for r in json.loads(run.stdout)] == ["0", "1", "2"]
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15", "--lang", "en")
    assert "no name column" in run.stderr


def clusterbot_bytes(*args, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """As `clusterbot`, with standard input as bytes (a pipe carries bytes, not text)."""
    run = subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, timeout=60,
                         cwd=Path(__file__).parents[1])
    run.stdout, run.stderr = run.stdout.decode("utf-8"), run.stderr.decode("utf-8")
    return run


@pytest.mark.parametrize("content", [
    b'\xef\xbb\xbf{"name": "\xe7\x94\xb2", "area_km2": 80}\n',  # Notepad's UTF-8 opens with a BOM
    "\ufeffname,area_km2\n甲,80\n".encode("utf-8"),
])
def test_standard_input_with_a_bom_is_read_as_a_file_is(tmp_path, content):
    path = tmp_path / "bom.txt"
    path.write_bytes(content)
    for argv, stdin in (([str(path)], b""), (["-"], content)):
        run = clusterbot_bytes("evaluate", *argv, "-j", "national", "--on", "2026-01-15", stdin=stdin)
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert [r["cluster"] for r in json.loads(run.stdout)] == ["甲"]


def test_a_gbk_csv_from_excel_is_read_and_what_cannot_be_read_says_save_as_utf8(tmp_path):
    """Excel on a Chinese Windows saves "CSV (逗号分隔)" in GBK (GB18030), its "Unicode text" in
    UTF-16: both read, the first with a note; bytes that are neither are refused, saying how."""
    text = "集群名称,集群占地面积\n甲集群,80\n"
    gbk, utf16 = tmp_path / "gbk.csv", tmp_path / "utf16.csv"
    gbk.write_bytes(text.encode("gbk"))
    utf16.write_bytes(text.encode("utf-16"))
    for argv, stdin in (([str(gbk)], b""), (["-"], gbk.read_bytes()), ([str(utf16)], b"")):
        run = clusterbot_bytes("evaluate", *argv, "-j", "national", "--on", "2026-01-15", stdin=stdin)
        assert run.returncode == 0, run.stderr
        (result,) = json.loads(run.stdout)
        area = next(c for c in result["criteria"] if "area_km2" in c["values"])
        assert result["cluster"] == "甲集群" and area["values"]["area_km2"] == 80
        if "utf16" not in argv[0]:
            (note,) = run.stderr.strip().splitlines()
            assert note == ("<stdin>" if argv == ["-"] else argv[0]) + "：不是 UTF-8 文本，已按 GB18030（GBK）编码读取。"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name,area_km2\n\x80\xff,80\n")
    for lang, expected in (("zh", "既不是 UTF-8 文本，也不能按 GB18030（GBK）读取：请将文件另存为 UTF-8 编码"),
                           ("en", "neither UTF-8 text nor readable as GB18030 (GBK): save the file as UTF-8")):
        run = clusterbot_bytes("evaluate", str(bad), "-j", "national", "--lang", lang)
        assert run.returncode == 2 and run.stdout == ""
        (message,) = run.stderr.strip().splitlines()
        assert message.startswith(f"clusterbot evaluate: {bad}:2: {expected}")


def test_csv_columns_may_be_the_forms_labels_with_their_unit(tmp_path):
    """A heading copied from the form keeps its unit, in full-width or ASCII parentheses; a
    unit that is not the fact's is no fact (its figures would be read in the wrong unit)."""
    path = tmp_path / "units.csv"
    path.write_text("集群名称,集群总产值（亿元）.2023,集群总产值(亿元).2024,"
                    "Total output of the cluster (hundred million yuan).2025,集群占地面积（平方公里）,"
                    "工业互联网平台应用普及率（％）,集群企业数量（万元）.2023\n甲,45,48,52,80,25,3\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    (result,) = json.loads(run.stdout)
    values = {k: v for c in result["criteria"] for k, v in c["values"].items()}
    assert values["total_output"] == {"2023": 45.0, "2024": 48.0, "2025": 52.0}
    assert values["area_km2"] == 80.0 and values["iip_rate"] == 25.0
    # Refused once, its name quoted once, with the fact it meant and the unit expected.
    assert run.returncode == 1 and run.stderr == (
        "甲（第 2 行）：列“集群企业数量（万元）”标明的单位“万元”不是集群企业数量（enterprise_count）的单位家，该列未读取："
        "请按家填写并把列名写作“集群企业数量（家）”，或在单元格的数值后写明其单位。\n")


@pytest.mark.parametrize("heading,first,second,fact", [
    ("name,集群总产值.2025,集群总产值.2025", "集群总产值.2025", "集群总产值.2025", "total_output.2025"),
    ("name,集群占地面积,iip_rate,area_km2", "集群占地面积", "area_km2", "area_km2"),
    ("name,total_output.2024,total_output,iip_rate", "total_output.2024", "total_output", "total_output"),
    ("集群名称,area_km2,name", "集群名称", "name", "name"),
])
def test_two_columns_for_one_fact_refuse_the_file_at_its_header(tmp_path, heading, first, second, fact):
    """Which column holds the figure is the file's to say: the last one won, unsaid. Now the
    header is unreadable input (exit 2, nothing printed), naming both columns."""
    path = tmp_path / "twice.csv"
    path.write_text(f"{heading}\n甲,80,25,45\n", encoding="utf-8")
    for lang, expected in (("zh", f"列“{first}”和列“{second}”都是 {fact}：请只留一列"),
                           ("en", f"the columns “{first}” and “{second}” both give {fact}: keep one of them")):
        run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15", "--lang", lang)
        assert run.returncode == 2 and run.stdout == ""
        assert run.stderr == f"clusterbot evaluate: {path}:1: {expected}\n"


def test_a_name_a_spreadsheet_would_run_as_a_formula_is_text_in_the_csv_summary(tmp_path):
    """CSV injection (OWASP): a cell starting = + - @ (or a tab or CR) gets a leading ' in the
    CSV summary, which Excel shows as text; the other formats keep the name as given."""
    import csv
    import io

    names = ["=1+2", "+1", "-HYPERLINK(\"x\")", "@SUM(A1)", "\tx", "\rx", "a=b", "甲"]
    path = tmp_path / "names.jsonl"
    path.write_text("\n".join(json.dumps({"name": n}) for n in names) + "\n", encoding="utf-8")
    run = clusterbot_bytes("evaluate", str(path), "-j", "national", "-f", "csv")  # its CRs as written
    rows = list(csv.reader(io.StringIO(run.stdout, newline="")))[1:]
    assert [row[0] for row in rows] == ["'" + n for n in names[:6]] + ["a=b", "甲"]
    run = clusterbot("evaluate", str(path), "-j", "national")
    assert [r["cluster"] for r in json.loads(run.stdout)] == names


def test_the_table_keeps_the_text_it_prints_not_the_evaluations(tmp_path):
    """The table prints at the end (its columns fit the widest name), so it keeps each
    cluster until then: the strings it prints, a few hundred bytes, where the evaluations
    kept whole took some 95 KB a cluster (20,000 clusters, 1.9 GB). Peak RSS against the
    CSV summary's, which streams, on the same clusters."""
    n = 2000
    lines = [json.dumps(dict(eligible_facts(), name=f"集群{i}", iip_rate=5 + i % 20,
                             total_output={"2023": 45, "2024": 48, "2025": 30 + i % 20}), ensure_ascii=False)
             for i in range(n)]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    script = ("import re, sys; from bot.cli import main; code = main(sys.argv[1:]); "
              "sys.stderr.write(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
              "sys.exit(code)")

    def peak_kib(fmt: str) -> int:
        run = subprocess.run([sys.executable, "-c", script, "evaluate", str(path), "-f", fmt, "--on", "2026-01-15"],
                             capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[1])
        assert run.returncode == 0, run.stderr
        if fmt == "table":
            assert run.stdout.count("不符合条件") >= n // 2 and "集群1999" in run.stdout
        return int(run.stderr)

    assert peak_kib("table") - peak_kib("csv") < n * 3  # KiB: under 3 KB a cluster


def test_a_name_that_is_not_text_is_shown_as_its_json():
    run = clusterbot("evaluate", "-", "-j", "national", stdin='{"name": ["甲", 1], "area_km2": 80}\n')
    assert json.loads(run.stdout)[0]["cluster"] == '["甲", 1]'


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_a_name_with_line_breaks_or_escapes_stays_on_its_line(fmt):
    run = clusterbot("evaluate", "-", "-j", "national", "-f", fmt,
                     stdin=json.dumps({"name": "甲\n## 乙\r丙\x1b[31m红", "area_km2": 80}) + "\n")
    assert "\x1b" not in run.stdout and "\r" not in run.stdout and "\n## 乙" not in run.stdout
    assert "甲\\n## 乙\\r丙\\x1b[31m红" in run.stdout


def test_a_data_year_not_yet_over_is_refused_as_a_later_year_is():
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-11-23", "--lang", "en",
                     stdin='{"name": "丙", "data_year": 2026, "total_output": {"2024": 45, "2025": 48, "2026": 52}}\n')
    assert run.returncode == 1
    assert run.stderr.strip() == ("丙: data_year (2026) is not over on the evaluation date, and is refused: "
                                  "expected a complete year. The three-year criteria count as unknown.")


def test_share_typed_as_a_fraction_is_noted_and_evaluated_as_given():
    """0.81 for 81%: a note on stderr naming the years and the likely percentage (Fact.fractions,
    as the chat and the form check), not a refusal (status 0), and not converted."""
    line = '{"name":"B","sme_output_share":{"2023":0.81,"2024":0.82,"2025":0.83}}'
    run = clusterbot("evaluate", "-", "-j", "jiangsu", "--on", "2026-12-07", stdin=line)
    assert run.returncode == 0
    assert run.stderr == ("B：“集群内中小企业产值占集群总产值比例”2023年 0.81、2024年 0.82、2025年 0.83 像是小数形式的比例，"
                          "是否应为 81%、82%、83%？按填写的 0.81%、0.82%、0.83% 评估。\n")
    (result,) = json.loads(run.stdout)
    (share,) = [c for c in result["criteria"] if "sme_output_share" in c["values"]]
    assert share["status"] == "fail" and share["values"]["sme_output_share"]["2023"] == 0.81
    csv_text = "name,sme_output_share.2023,sme_output_share.2024,sme_output_share.2025\nC,0.81,80,0.83%\n"
    run = clusterbot("evaluate", "-", "-j", "jiangsu", "--on", "2026-12-07", "--lang", "en", stdin=csv_text)
    assert run.returncode == 0
    assert run.stderr == ("C (line 2): “Share of SMEs in the cluster's total output” 2023: 0.81 looks like a share written as a "
                          "fraction: should it be 81%? Evaluated as given, 0.81%.\n")  # 0.83% is written as a percentage


def test_csv_columns_may_be_the_application_forms_row_labels(tmp_path):
    """The 申报表's own row labels, with or without their unit (full- or half-width brackets),
    name their facts; the 单项冠军 row, which counts every level, names none (still refused)."""
    path = tmp_path / "form-labels.csv"
    path.write_text("集群名称,近三年主导产业产值年均增速(%),主导产业相关的专精特新“小巨人”企业数量,集群内中小企业从业人员数量,"
                    "集群内中小企业有效发明专利拥有量,集群中小企业工业互联网平台应用普及率（％）,"
                    "主导产业相关的制造业单项冠军企业数量\n甲,12,3,45000,1234,55,2\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "jiangsu", "--on", "2026-01-15", "-f", "markdown")
    assert run.stderr == (f"{path}：列“主导产业相关的制造业单项冠军企业数量”不是已知的字段，整列未读取：列名应为字段 id "
                          "或申报表的项目名称，按年的列如 集群总产值.2023。\n")
    for answered in ("近三年主导产业产值年均增速", "专精特新“小巨人”", "每万人有效发明专利", "工业互联网平台应用普及率"):
        assert not any(answered in line for line in run.stdout.splitlines() if "尚未填报" in line), answered


def test_every_row_label_of_the_form_with_a_fact_names_it():
    from bot.inputs import _column
    from engine.form import load_form

    for _, f in load_form("jiangsu-2023").fields():
        if f.fact and not f.total_of and f.kind in ("number", "yearly", "named_count"):
            bare = f.label.split("（")[0] if f.label.endswith("）") else f.label
            for heading in (f.label, bare, f.label.replace("（", "(").replace("）", ")")):
                assert _column(heading) == f.fact, heading


def test_figures_written_with_separators_or_units_are_read_as_the_chat_reads_them():
    """45,000 people, 1,234 patents, 4.5 billion / 450000万元 / 48亿 in a 亿元 column: read in the
    fact's unit (the chat's reader), in CSV and JSON string cells alike; the unreadable refused."""
    import io

    from bot.inputs import read_clusters

    csv_text = ('name,sme_employees,invention_patents,total_output.2023,total_output.2024,total_output.2025,area_km2\n'
                'A,"45,000","1,234",4.5 billion,450000万元,48亿,abc\n')
    json_text = ('{"name": "B", "sme_employees": "45,000", "invention_patents": "1,234", "area_km2": "abc",'
                 ' "total_output": {"2023": "4.5 billion", "2024": "450000万元", "2025": "48亿"}}\n')
    for text in (csv_text, json_text):
        (cluster,) = read_clusters(["-"], io.StringIO(text))
        assert cluster.facts == {"total_output": {"2023": 45.0, "2024": 45.0, "2025": 48.0},
                                 "sme_employees": 45000, "invention_patents": 1234}
        assert [(e.fact, e.value, e.code) for e in cluster.errors] == [("area_km2", "abc", "type")]


@pytest.mark.parametrize("date", ["0001-01-01", "1899-01-01", "2101-01-01"])
def test_an_evaluation_date_outside_any_years_of_a_series_is_refused(date):
    run = clusterbot("evaluate", "-", "--on", date, "--lang", "en", stdin="{}\n")
    assert run.returncode == 2 and run.stdout == ""
    assert f"argument --on: the date {date} is out of range: expected 1903-01-01 to 2100-12-31" in run.stderr


def test_a_derived_figure_beyond_any_real_cluster_is_noted_on_every_path():
    """每万人有效发明专利 made from 150 patents and 15 employees (15万 meant) is 100,000: noted as
    the chat asks it back, from JSON Lines (the fast path), a JSON array and CSV alike, and
    evaluated as computed; not when the counts make a plausible figure or it is given itself."""
    note = ("甲：按“集群中小企业有效发明专利拥有量”、“集群内中小企业从业人员数”计算，“每万人有效发明专利拥有量”为 "
            "100000.00个，远超常见水平（超过 1000个），请核对这两项；按计算值评估。\n")
    for stdin, at in (('{"name": "甲", "invention_patents": 150, "sme_employees": 15}\n', ""),
                      ('[{"name": "甲", "invention_patents": 150, "sme_employees": 15, "area_km2": "80平方公里"}]', ""),
                      ("name,invention_patents,sme_employees\n甲,150,15\n", "（第 2 行）")):  # a CSV row: its line
        run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=stdin)
        assert run.returncode == 0 and run.stderr == note.replace("甲：", f"甲{at}：", 1), run.stderr
        (result,) = json.loads(run.stdout)
        assert next(c for c in result["criteria"] if "每万人" in c["article_text"])["status"] == "pass"
    for stdin in ('{"name": "乙", "invention_patents": 150, "sme_employees": 150000}\n',
                  '{"name": "乙", "invention_patents": 150, "sme_employees": 0}\n',  # no figure made
                  '{"name": "乙", "invention_patents": 150, "sme_employees": 15, "patents_per_10k": 18}\n'):
        assert clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=stdin).stderr == ""


@pytest.mark.parametrize("content,said", [("null", "null"), ('"甲"', "string"), ("42", "number"), ("true", "true/false")])
def test_a_json_file_of_one_bare_value_is_said_to_be_no_object_in_jsons_words(tmp_path, content, said):
    """A .json file of null is no array: "应为 JSON 对象，而不是 null", not "an array's item 0 of
    type NoneType" (Python's name for it)."""
    path = tmp_path / "x.json"
    path.write_text(content + "\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national")
    assert (run.returncode, run.stdout) == (2, "")
    assert run.stderr == f"clusterbot evaluate: {path}: 应为 JSON 对象，而不是 {said}\n"


def test_a_refused_value_is_said_refused_in_the_explanation_not_missing(tmp_path):
    """A value given but refused counts as unknown (exit status 1); the criterion's explanation
    says it was refused, not 缺少/尚未填报 as if the file had none: a reviewer reads the JSON."""
    cluster = dict(eligible_facts(), name="丙", output_growth=-150,
                   total_output={"2023": -5, "2024": 48, "2025": 50})
    path = tmp_path / "one.json"
    path.write_text(json.dumps(cluster, ensure_ascii=False), encoding="utf-8")
    for lang, year_text, whole_text in (
            ("zh", "2023年的值无效，未计入", "集群产值年均增速：所填的值无效，未计入。"),
            ("en", "the value of 2023 was refused as invalid, so the last three years cannot be judged",
             "Average annual growth of the cluster's output: the value given was refused as invalid, so not counted.")):
        run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15", "--lang", lang)
        assert run.returncode == 1
        criteria = {c["id"]: c for c in json.loads(run.stdout)[0]["criteria"]}
        output, growth = criteria["output-each-year"], criteria["output-growth"]
        assert output["status"] == growth["status"] == "unknown"
        assert year_text in output["explanation"] and "缺少" not in output["explanation"], output["explanation"]
        assert growth["explanation"].startswith(whole_text), growth["explanation"]


def test_the_csv_summary_opens_in_excel_as_utf8(tmp_path):
    """Excel (on a Chinese Windows too) opens a CSV as UTF-8 only when it begins with a BOM;
    without one it reads the bytes as GBK and every Chinese name and citation is mojibake.
    The summary begins with one, once, before its header; the product reads it back (its
    own reader drops it), as does the csv module with utf-8-sig."""
    import csv

    path = tmp_path / "two.jsonl"
    path.write_text('{"name": "甲集群, 一区"}\n{"name": "乙\\"集群\\""}\n', encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "evaluate", str(path), "-j", "national", "-f", "csv"],
                         capture_output=True, timeout=60, cwd=Path(__file__).parents[1])
    assert run.stdout.startswith(b"\xef\xbb\xbfcluster,jurisdiction,") and run.stdout.count(b"\xef\xbb\xbf") == 1
    (tmp_path / "out.csv").write_bytes(run.stdout)
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][0] == "cluster" and [r[0] for r in rows[1:]] == ["甲集群, 一区", '乙"集群"']
    again = subprocess.run([sys.executable, "-m", "bot.cli", "evaluate", str(tmp_path / "out.csv"), "-j", "national"],
                           capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1])
    assert again.returncode == 1 and "“cluster”" not in again.stderr  # the BOM is no part of a heading


def test_csv_columns_may_give_the_year_before_or_after_the_facts_name(tmp_path):
    """A spreadsheet heads its yearly columns 2023年集群总产值（亿元） or 集群总产值（亿元）2024年 as
    often as 集群总产值.2023: the year written before or after the name (with 年 or 年度, in
    brackets, after _ or -) is the year's column, as .2023 is. Each was an unknown field, every
    figure unread, a line per row. A wrong unit is still refused, naming it; a year twice too."""
    path = tmp_path / "years.csv"
    path.write_text("序号,集群名称,2023年集群总产值（亿元）,集群总产值（亿元）2024年,集群总产值_2025,"
                    "2023年度集群内中小企业产值占集群总产值比例（%）,集群内中小企业产值占集群总产值比例(2024年),"
                    "集群内中小企业产值占集群总产值比例-２０２５\n1,甲,45,48,52,81,82,83\n", encoding="utf-8-sig")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    (result,) = json.loads(run.stdout)
    values = {k: v for c in result["criteria"] for k, v in c["values"].items()}
    assert values["total_output"] == {"2023": 45.0, "2024": 48.0, "2025": 52.0}
    assert values["sme_output_share"] == {"2023": 81.0, "2024": 82.0, "2025": 83.0}
    assert run.stderr.startswith(f"{path}：列“序号”不是已知的字段，整列未读取")
    path.write_text("集群名称,2023年集群总产值（万元）\n甲,450000\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 1 and run.stderr.startswith("甲（第 2 行）：列“集群总产值（万元）”标明的单位“万元”不是集群总产值")
    path.write_text("集群名称,2023年集群总产值,total_output.2023\n甲,45,45\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 2 and "“2023年集群总产值”和列“total_output.2023”都是 total_output.2023" in run.stderr


def test_an_unknown_csv_column_is_said_once_for_the_file_not_once_a_row(tmp_path):
    """序号 and 备注 head a column in nearly every spreadsheet: each was refused again on every
    row (a thousand rows, two thousand lines burying the refusals that matter) and said no
    more than 未知字段. Now once, before the clusters, naming the column, what a heading is to
    be and the nearest id; still a refusal (status 1), every cluster evaluated."""
    path = tmp_path / "many.csv"
    rows = "".join(f"{i},集群{i},80,说明\n" for i in range(1, 501))
    path.write_text("序号,集群名称,area_km2,备注,iip_rat\n".replace(",iip_rat", "") + rows, encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "-f", "csv", "--on", "2026-01-15")
    assert run.returncode == 1 and run.stdout.count("\n") == 1 + 500
    assert run.stderr.splitlines() == [
        f"{path}：列“序号”不是已知的字段，整列未读取：列名应为字段 id 或申报表的项目名称，按年的列如 集群总产值.2023。",
        f"{path}：列“备注”不是已知的字段，整列未读取：列名应为字段 id 或申报表的项目名称，按年的列如 集群总产值.2023。"]
    path.write_text("name,iip_rat.2024,area_km2\nA,25,80\nB,26,81\n", encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15", "--lang", "en")
    assert run.returncode == 1 and len(json.loads(run.stdout)) == 2
    assert run.stderr == (f"{path}: the column “iip_rat.2024” is no known field and was not read: a column is headed "
                          "with a field id or the form's label, a yearly one such as total_output.2023. "
                          "Did you mean “iip_rate”?\n")


def test_csv_headings_broken_over_lines_in_a_cell_are_read_as_one_line(tmp_path):
    """Excel users break a long heading inside its cell (Alt+Enter: 集群内中小企业⏎产值占…比例（%）),
    and the CSV keeps the line break: such a heading named no fact, every figure of its column
    unread, and was quoted back over two lines. A break (and spaces) between Chinese characters
    is no part of the name; between English words it is a space."""
    path = tmp_path / "broken.csv"
    path.write_text('"集群\n名称","集群内中小企业\r\n产值占集群总产值比例（%）.2025","2024年\n集群总产值（亿元）",'
                    '"Total output\nof the cluster.2023","集群占地 面积"\n甲,81,48,45,80\n', encoding="utf-8-sig")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.stderr == "" and run.returncode == 0
    (result,) = json.loads(run.stdout)
    values = {k: v for c in result["criteria"] for k, v in c["values"].items()}
    assert result["cluster"] == "甲" and values["sme_output_share"] == {"2025": 81.0}
    assert values["total_output"] == {"2023": 45.0, "2024": 48.0} and values["area_km2"] == 80.0
    path.write_text('name,"备\n注"\n甲,x\n', encoding="utf-8")
    run = clusterbot("evaluate", str(path), "-j", "national", "--on", "2026-01-15")
    assert run.returncode == 1 and run.stderr.startswith(f"{path}：列“备注”不是已知的字段")
