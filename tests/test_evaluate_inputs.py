"""`clusterbot evaluate` on inputs read in this process (the command's own `run`, standard input
and output as text streams): what a batch is told about a file and its clusters. The real
process is tests/test_cli_evaluate.py's."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest

from tests.conftest import eligible_facts


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def clusterbot(*argv: str, stdin: str = "") -> Run:
    """The command run as bot.cli runs it, here; `stdin` as standard input."""
    from bot.cli import build_parser

    args = build_parser("zh", list(argv)).parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = args.run(args, stdout=out, stderr=err, stdin=io.StringIO(stdin))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("text", ["name: x\n", "null\n", "42\n", '"abc"\n', "hello world\n", "\ufeff\ufeff{}\n"])
def test_text_whose_first_row_names_no_fact_is_refused_not_read_as_no_clusters(text):
    """A line of text, a YAML line or a bare JSON value on standard input is no CSV of clusters:
    refused (status 2) as a file would be, not read as a CSV with no cluster (status 0, nothing)."""
    run = clusterbot("evaluate", "-", "-f", "table", stdin=text)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == "clusterbot evaluate: <stdin>:1: 第一行须为列名（字段 id 或申报表的项目名称）\n"


def test_a_csv_header_with_no_row_is_said():
    run = clusterbot("evaluate", "-", "-f", "csv", "--lang", "en", stdin="name,area_km2\n")
    assert run.returncode == 0 and run.stdout.startswith("\ufeffcluster,jurisdiction")  # the BOM: Excel
    assert run.stderr == "<stdin>: a header and no cluster below it.\n"


def test_a_figure_beyond_any_county_cluster_is_noted_and_evaluated_as_given():
    """45,000亿 is in range but beyond plausible_max (facts.yaml): noted with its 万元 reading, as
    the chat asks it back; evaluated as typed (status 0). A plausible line gets no note."""
    lines = "\n".join(json.dumps(dict(eligible_facts(), name=name, total_output=series), ensure_ascii=False)
                      for name, series in [("甲", {"2023": 92000, "2024": 95000, "2025": 98000}),
                                           ("乙", {"2023": 45, "2024": 48, "2025": 52})]) + "\n"
    run = clusterbot("evaluate", "-", "-j", "jiangsu", "--on", "2026-12-07", "-f", "csv", stdin=lines)
    assert run.returncode == 0
    assert run.stderr == ("甲：“集群总产值”2023年 92000.00亿元、2024年 95000.00亿元、2025年 98000.00亿元 远超县域集群的规模"
                          "（超过 10000亿元），像是按万元填写的：是否应为 9.20亿元、9.50亿元、9.80亿元？按填写的值评估。\n")
    assert "甲,jiangsu,jiangsu-2023,eligible" in run.stdout.replace("\r", "")
    csv_text = "name,patents_per_10k\n丙,1500\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-12-07", "--lang", "en", stdin=csv_text)
    assert run.returncode == 0 and "丙 (line 2): “Valid invention patents per 10,000 employees” 1,500.00" in run.stderr
    assert "far above any usual level (over 1,000" in run.stderr


def test_a_signed_share_typed_as_a_fraction_is_noted_on_a_line_the_fast_reader_takes():
    """co2_reduction may be negative, so the fast types cannot keep out 0.5: the batch looks at
    it on every line that gives it (E's line is read by the fast types, D's is not)."""
    lines = '{"name":"D","co2_reduction":0.5,"iip_rate":0.5}\n{"name":"E","co2_reduction":0.5,"iip_rate":50}\n'
    run = clusterbot("evaluate", "-", "-j", "jiangsu", "--on", "2026-12-07", "-f", "csv", "--lang", "en", stdin=lines)
    assert run.returncode == 0
    assert [line.split(":")[0] + ":" + line.split("”")[0].split("“")[-1] for line in run.stderr.splitlines()] == [
        "D:Industrial internet platform adoption rate", "D:Cumulative fall of CO2 per unit of output over three years",
        "E:Cumulative fall of CO2 per unit of output over three years"]


def test_a_name_that_is_no_text_is_said_as_written_in_json_lines_as_in_an_array(tmp_path):
    lines, array = tmp_path / "n.jsonl", tmp_path / "n.json"
    lines.write_text('{"name":1.0}\n{"name":true}\n{"name":7}\n', encoding="utf-8")
    array.write_text('[{"name":1.0},{"name":true},{"name":7}]', encoding="utf-8")
    names = [[row.split(",")[0] for row in clusterbot("evaluate", str(path), "-j", "national", "-f", "csv",
                                                        "--on", "2026-01-01").stdout.splitlines()[1:]]
             for path in (lines, array)]
    assert names[0] == names[1] == ["1.0", "true", "7"]


def test_a_csv_year_column_twice_in_two_spellings_is_refused():
    run = clusterbot("evaluate", "-", "-f", "csv", stdin="name,total_output.2023,total_output.2023年度\nx,45,30\n")
    assert run.returncode == 2 and "total_output.2023年度" in run.stderr


def test_a_file_with_no_cluster_is_said(tmp_path):
    (tmp_path / "e.json").write_text("[]", encoding="utf-8")
    (tmp_path / "e.jsonl").write_text("", encoding="utf-8")
    for name in ("e.json", "e.jsonl"):
        run = clusterbot("evaluate", str(tmp_path / name), "-f", "csv", "--lang", "en")
        assert run.returncode == 0 and run.stderr == f"{tmp_path / name}: no cluster in it.\n"


@pytest.mark.parametrize("lang,said", [
    ("zh", "B：集群占地面积（area_km2）的值 “value”：80 无效，应为0 到 10万 之间的数（单位：平方公里）。"),
    ("en", "B: Area of the cluster (area_km2) = “value”: 80 is not valid; expected a number from 0 to 100,000 (unit: km²)."),
])
def test_an_object_given_for_a_figure_is_quoted_by_its_keys_not_read_as_years(lang, said):
    """{"value": 80} for an area was quoted as “value年 80”, as if value were a year; a series'
    years are still written as years (2024年, also when given as ２０２４)."""
    lines = ('{"name": "B", "area_km2": {"value": 80}}\n'
             '{"name": "Y", "total_output": {"2023年": "abc", "２０２４": {"x": 1}}}\n')
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-06-01", "-f", "csv", "--lang", lang, stdin=lines)
    assert run.returncode == 1
    assert run.stderr.splitlines()[0] == said
    if lang == "zh":
        assert "2023年 的值 “abc”、2024年 的值 “x”：1 无效" in run.stderr.splitlines()[1]


def test_a_series_refused_in_a_csv_cell_is_told_as_columns_of_the_window_not_as_json():
    """A CSV cell cannot hold {"2023": 45}: a series given one figure (a layout with a year
    column, a 集群总产值 column without years) is told as the columns to give, with the years
    of 近三年 on the date; JSON input keeps its JSON example."""
    csv_text = "集群名称,年份,集群总产值\n甲,2024,45\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2025-06-01", "-f", "csv", stdin=csv_text)
    assert run.returncode == 1 and '{"' not in run.stderr
    assert ("甲（第 2 行）：集群总产值（total_output）的值 “45” 无效，应为每年一列，列名如 集群总产值.2022、集群总产值.2023、"
            "集群总产值.2024（或 total_output.2022），每格为0 到 10万 之间的数（单位：亿元）。") in run.stderr.splitlines()
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-06-01", "-f", "csv", "--lang", "en",
                     stdin="name,rd_growth\nX,abc\n")
    assert "or the annual rates in a column a year, headed such as rd_growth.2023, rd_growth.2024, rd_growth.2025" \
        in run.stderr
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-06-01", "-f", "csv",
                     stdin='{"name": "J", "total_output": 45}\n')
    assert '应为按年份的数值，如 {"2023": 45' in run.stderr


def test_a_heading_with_its_units_other_name_is_read_as_an_answer_with_it_would_be():
    """平方千米 is 平方公里, 亿 and 亿元人民币 are 亿元, 个 counts firms: each such heading was refused as
    another unit (the catalogue's names alone were compared); the chat's reader of units decides,
    so 万元 and 元 are still refused."""
    csv_text = ("name,集群占地面积（平方千米）,集群总产值（亿）.2023,集群总产值（亿元人民币）.2024,专精特新中小企业数（个）,"
                "集群总产值（万元）.2025\n甲,80,45,48,3,1\n")
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-06-01", stdin=csv_text)
    criteria = {c["id"]: c for c in json.loads(run.stdout)[0]["criteria"]}
    assert criteria["area"]["values"] == {"area_km2": 80.0}
    assert criteria["output-each-year"]["values"] == {"total_output": {"2023": 45.0, "2024": 48.0}}
    assert criteria["quality-enterprises"]["values"]["srdi_sme_count"] == 3
    assert run.returncode == 1 and run.stderr.splitlines() == [
        "甲（第 2 行）：列“集群总产值（万元）”标明的单位“万元”不是集群总产值（total_output）的单位亿元，该列未读取："
        "请按亿元填写并把列名写作“集群总产值（亿元）”，或在单元格的数值后写明其单位。"]


def values_by_cluster(run) -> dict[str, dict]:
    """The figures `evaluate` read, by cluster, from its JSON output."""
    values: dict[str, dict] = {}
    for result in json.loads(run.stdout):
        for criterion in result["criteria"]:
            values.setdefault(result["cluster"], {}).update(criterion["values"])
    return values


def test_a_yes_or_no_cell_is_read_as_the_chat_reads_the_answer():
    """A spreadsheet ticks its yes/no columns √ and ×: √ was read and × refused (the batch
    had its own short list of words), nor ✓ ✗ 不是 对. A cell is read as the chat reads the
    same answer (dialogs.parse.yes_or_no); what is neither is still refused, naming the field."""
    text = ("name,county_level,provincial_certified,prohibited_industry,violations,pillar_industry,nonfossil_share_rising\n"
            "甲,√,✓,×,✗,对,不是\n乙,是的,有,x,不是,Y,否\n丙,也许,是,否,否,是,是\n")
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=text)
    values = values_by_cluster(run)
    assert {k: values["甲"].get(k) for k in ("county_level", "provincial_certified", "prohibited_industry", "violations",
                                              "pillar_industry")} == {
        "county_level": True, "provincial_certified": True, "prohibited_industry": False, "violations": False,
        "pillar_industry": True}
    assert values["乙"]["prohibited_industry"] is False and values["乙"]["violations"] is False
    assert run.returncode == 1 and run.stderr == (
        "丙（第 4 行）：集群定位在县级区划范围内（county_level）的值 “也许” 无效，应为是 / 否（true / false）。\n")


def test_a_grade_a_rank_or_a_trend_cell_is_read_as_the_chat_reads_the_answer():
    """较大事故, 未发生, 无事故, 都不是, 持续下降 are answers the chat reads; the batch took only
    the catalogue's own words and refused them."""
    text = ("name,accident_level,cyber_incident_level,segment_rank,co2_intensity\n"
            "甲,较大事故,未发生,都不是,持续下降\n乙,无事故,重大网络安全事件,全省前列,未下降\n丙,很多,无,前三,也许\n")
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=text)
    values = values_by_cluster(run)
    assert [values["甲"].get(k) for k in ("accident_level", "cyber_incident_level", "co2_intensity")] == [
        "larger", "none", True]
    assert [values["乙"].get(k) for k in ("accident_level", "cyber_incident_level", "segment_rank", "co2_intensity")] == [
        "none", "major", "provincial", False]
    refused = run.stderr.splitlines()
    assert run.returncode == 1 and len(refused) == 3 and all(line.startswith("丙（第 4 行）：") for line in refused)
    assert "“很多” 无效，应为事故等级之一" in refused[0] and "“前三” 无效，应为位次之一" in refused[1]


def test_a_refused_value_names_the_row_of_its_cluster():
    """Two rows of one name (a city sent its cluster twice, a copy-paste) and their refusals
    read alike: which row to correct was not said. A cluster read from a CSV row is named with
    its line (the row number Excel shows), in either language; a note too. JSON is written by
    programs, with names: as before."""
    text = "集群名称,area_km2,sme_output_share.2025\n甲集群,80,90\n乙集群,-5,90\n甲集群,八十平方米,0.9\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", "-f", "csv", stdin=text)
    lines = run.stderr.splitlines()
    assert run.returncode == 1 and len(lines) == 3
    assert lines[0].startswith("乙集群（第 3 行）：集群占地面积（area_km2）的值 “-5” 无效")
    assert lines[1].startswith("甲集群（第 4 行）：集群占地面积（area_km2）的值 “八十平方米” 无效")
    assert lines[2].startswith("甲集群（第 4 行）：“集群内中小企业产值占集群总产值比例”2025年 0.9 像是小数形式的比例")
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", "--lang", "en", stdin=text)
    assert run.returncode == 1 and run.stderr.startswith("乙集群 (line 3): Area of the cluster (area_km2)")
    jsonl = '{"name": "甲"}\n\n{"name": "甲", "area_km2": -1}\n'
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", "--lang", "en", stdin=jsonl)
    assert run.returncode == 1 and run.stderr.startswith("甲: Area of the cluster (area_km2)")


def test_a_csv_row_with_nothing_but_a_name_is_noted():
    """Below the clusters a spreadsheet keeps its notes (注：以上数据由各市报送) and a 合计 row: each
    was screened as a cluster, four verdicts of 尚待补充 in the output, and not a word. Such a row
    is still evaluated (a cluster not yet filled in is one), and said, naming its line; not a
    refusal (status 0)."""
    text = "集群名称,area_km2\n甲,80\n注：以上数据由各市报送,\n,\n合计,\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", "-f", "csv", stdin=text)
    assert run.returncode == 0 and run.stdout.count("\n") == 1 + 3
    assert run.stderr.splitlines() == [
        "<stdin>:3：这一行只有名称“注：以上数据由各市报送”，没有任何数据，各项均为待定；若是说明或合计行，请从文件中删去。",
        "<stdin>:5：这一行只有名称“合计”，没有任何数据，各项均为待定；若是说明或合计行，请从文件中删去。"]
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", "--lang", "en", stdin=text)
    assert run.stderr.splitlines()[1] == ("<stdin>:5: this row gives only the name “合计” and no figure: every criterion "
                                          "is unknown; if it is a note or a total, delete it from the file.")


def test_data_year_may_be_written_as_the_form_writes_a_year():
    """填报数据截止年度 written 2024年 or ２０２４年度, as every year of a series may be, was refused
    (and with it 近三年 fell back to the evaluation date's years)."""
    text = "集群名称,填报数据截止年度,集群总产值.2022,集群总产值.2023,集群总产值.2024\n甲,2024年,45,48,52\n乙,２０２４年度,45,48,38\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=text)
    assert run.returncode == 0 and run.stderr == ""
    verdicts = {r["cluster"]: next(c["status"] for c in r["criteria"] if c["id"] == "output-each-year")
                for r in json.loads(run.stdout)}
    assert verdicts == {"甲": "pass", "乙": "fail"}


@pytest.mark.parametrize("lang,said", [
    ("zh", "甲（第 2 行）：填报数据截止年度（data_year）的值 “去年” 无效，应为1900 到 2099 之间的整数。"),
    ("en", "甲 (line 2): Last year of the figures given (data_year) = “去年” is not valid; expected a whole number "
           "from 1900 to 2099."),
])
def test_a_count_without_a_unit_is_expected_without_an_empty_one(lang, said):
    """A whole number with no unit (data_year) was expected as 整数（数） and “(number of)”."""
    run = clusterbot("evaluate", "-", "-j", "national", "--lang", lang, stdin="集群名称,data_year\n甲,去年\n")
    assert run.returncode == 1 and run.stderr.strip() == said


def test_an_unknown_key_of_json_says_what_a_key_is_to_be():
    """A key naming no fact was refused as 未知字段 alone: what it should be was not said."""
    run = clusterbot("evaluate", "-", "-j", "national", stdin='{"name": "甲", "备注": "x", "acident_level": "none"}\n')
    assert run.returncode == 1 and run.stderr.splitlines() == [
        "甲：未知字段“备注”：应为字段 id 或申报表的项目名称（如 total_output、集群总产值）。",
        "甲：未知字段“acident_level”：应为字段 id 或申报表的项目名称（如 total_output、集群总产值）。是否指“accident_level”？"]
    run = clusterbot("evaluate", "-", "-j", "national", "--lang", "en", stdin='{"name": "甲", "备注": "x"}\n')
    assert run.stderr == ("甲: unknown field “备注”: expected a field id or the form's label (such as total_output, "
                          "Total output of the cluster).\n")


def test_a_count_cell_of_none_is_0_as_the_form_asks_it_written():
    """The 申报表 has a count with none written 无; the chat reads 无, 暂无, 没有 as 0 for a count.
    A CSV cell refused them (each a refusal, the criterion unknown). An area of 无 is still refused."""
    text = "集群名称,hitech_count,little_giant_count,champion_count,area_km2\n甲,无,暂无,没有,无\n"
    run = clusterbot("evaluate", "-", "-j", "national", "--on", "2026-01-15", stdin=text)
    values = {k: v for c in json.loads(run.stdout)[0]["criteria"] for k, v in c["values"].items()}
    assert [values.get(k) for k in ("hitech_count", "little_giant_count", "champion_count")] == [0, 0, 0]
    assert run.returncode == 1 and run.stderr.splitlines() == [
        "甲（第 2 行）：集群占地面积（area_km2）的值 “无” 无效，应为0 到 10万 之间的数（单位：平方公里）。"]
