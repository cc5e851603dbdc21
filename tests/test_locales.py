"""The two languages say the same things: the same message keys, the same fields, the same
templates; every key is a string (YAML reads a bare yes/no key as a boolean)."""

from __future__ import annotations

import datetime as dt
import string

import yaml

import pytest

from locales import HERE, LANGS, load_catalog, messages


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_same_keys_and_fields_in_both_languages():
    zh, en = messages("zh"), messages("en")
    assert set(zh) == set(en), set(zh) ^ set(en)
    # A language may leave out the comparison symbol, word, number or unit where its sentence
    # already carries them (inside {requirement}); Chinese the English reader's gloss of a
    # Chinese quotation printed beside it (a ground for revocation's gist, a criterion's name).
    optional = {"op", "word", "threshold", "unit", "gist", "criterion"}
    for key in zh:
        assert fields(zh[key]) ^ fields(en[key]) <= optional, key


def test_keys_are_strings():
    for path in HERE.glob("*/*.yaml"):
        def walk(node, where):
            for key, value in node.items():
                assert isinstance(key, str), (path, where, key)
                if isinstance(value, dict):
                    walk(value, where + [key])
        walk(yaml.safe_load(path.read_text(encoding="utf-8")), [])


def test_same_templates_in_both_languages():
    names = {lang: {p.name for p in (HERE / folder).glob("*.j2")} for lang, folder in LANGS.items()}
    assert names["zh"] == names["en"]


def test_a_catalog_is_parsed_once_per_version_of_its_files(tmp_path):
    """The merged catalog is kept as JSON beside the files and read from there until a file
    changes; what is kept and what is parsed are the same, a broken copy is parsed again."""
    folder, kept = tmp_path / "zh_CN", tmp_path / "__pycache__" / "zh_CN.json"
    folder.mkdir()
    (folder / "a.yaml").write_text("greeting:\n  hello: 你好，{name}\n", encoding="utf-8")
    (folder / "b.yaml").write_text("bye: 再见\n", encoding="utf-8")
    expected = {"greeting.hello": "你好，{name}", "bye": "再见"}
    assert load_catalog(folder, kept) == expected and kept.exists()
    assert load_catalog(folder, kept) == expected  # from the copy
    (folder / "b.yaml").write_text("bye: 回头见\n", encoding="utf-8")
    assert load_catalog(folder, kept)["bye"] == "回头见"  # a changed file is read again
    kept.write_text("{not json", encoding="utf-8")
    assert load_catalog(folder, kept)["bye"] == "回头见"
    (folder / "c.yaml").write_text("bye: again\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bye defined twice"):
        load_catalog(folder, kept)


def test_a_catalog_loads_where_nothing_can_be_kept(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "a.yaml").write_text("bye: Goodbye\n", encoding="utf-8")
    (tmp_path / "file").write_text("")
    assert load_catalog(folder, tmp_path / "file" / "en.json") == {"bye": "Goodbye"}


def test_the_shipped_catalogs_read_as_their_yaml():
    for lang, folder in LANGS.items():
        parsed = {}

        def walk(prefix, node):
            for key, value in node.items():
                name = f"{prefix}.{key}" if prefix else str(key)
                if isinstance(value, dict):
                    walk(name, value)
                else:
                    parsed[name] = value

        for path in sorted((HERE / folder).glob("*.yaml")):
            walk("", yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        assert messages(lang) == parsed


def test_data_files_read_through_their_json_copy_give_what_yaml_gives(tmp_path):
    """The engine's measures and facts, and a file JSON cannot hold as it is (dates kept,
    a number as a key: not kept), read the same from the copy as parsed."""
    from engine.facts import DATA_DIR, read_yaml
    from locales import parse_yaml, read_kept

    shipped = sorted(DATA_DIR.glob("*.yaml")) + sorted((DATA_DIR / "rulesets").glob("*.yaml"))
    assert len(shipped) >= 5
    for path in shipped:
        parsed = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert read_yaml(path) == parsed and read_yaml(path) == parsed  # parsed or kept, then kept
    source = tmp_path / "data.yaml"
    source.write_text("issued: 2023-02-28\nby_year:\n  2022: 1.5\n", encoding="utf-8")
    kept = tmp_path / "__pycache__" / "data.json"
    expected = yaml.safe_load(source.read_text(encoding="utf-8"))
    assert read_kept([source], kept, lambda contents: parse_yaml(contents[0])) == expected
    assert not kept.exists()  # 2022 as a key would come back as "2022"
    source.write_text("issued: 2023-02-28\nname: 江苏\n", encoding="utf-8")
    for _ in range(2):
        assert read_kept([source], kept, lambda contents: parse_yaml(contents[0])) == {
            "issued": dt.date(2023, 2, 28), "name": "江苏"}
    assert kept.exists()


def _count_clauses():
    """(article clause, count facts it reads): an any_of's checks read its clauses in turn
    (…，或者…), a single check on a count the whole article."""
    from engine import catalogue, load_rulesets

    counts = {f for f, spec in catalogue().facts.items() if spec.type == "count"}
    for ruleset in load_rulesets().values():
        for criterion in ruleset.criteria:
            check = criterion.check
            checks = getattr(check, "checks", None)
            clauses = criterion.article_text.split("，或者") if checks else [criterion.article_text]
            for clause, part in zip(clauses, checks or [check]):
                facts = getattr(part, "facts", None) or [getattr(part, "fact", None)]
                yield clause, [f for f in facts if f in counts]


def test_counts_the_law_restricts_to_the_leading_industry_ask_only_those():
    # 江苏第六条（三）：拥有属于集群主导产业的制造业单项冠军…: a champion of another industry
    # must not be counted, so the question and the label say whose.
    from engine import catalogue

    restricted = {f for clause, facts in _count_clauses() if "主导产业" in clause for f in facts}
    assert {"champion_count", "leading_provincial_champion_count", "little_giant_count", "standards_count"} <= restricted
    assert "provincial_champion_count" not in restricted  # Guangdong's 单项冠军企业: any industry
    zh, en = messages("zh"), messages("en")
    for fact in restricted:
        spec = catalogue().facts[fact]
        assert "主导产业" in zh[f"question.{fact}.text"] and "主导产业" in spec.zh, fact
        assert "leading industry" in en[f"question.{fact}.text"] and "leading industry" in spec.en, fact


@pytest.mark.parametrize("fact, value, en, zh", [
    ("invention_patents", 1234, "1,234 patents", "1234个"),
    ("sme_employees", 45000, "45,000 persons", "45000人"),
    ("area_km2", 1234.0, "1,234.00 km²", "1234.00平方公里"),
    ("total_output", {"2022": 45.0, "2023": 1234.0, "2024": 12345.0},
     "2022: 45.00 hundred million yuan, 2023: 1,234.00 hundred million yuan, 2024: 12,345.00 hundred million yuan",
     "2022年 45.00亿元、2023年 1234.00亿元、2024年 12345.00亿元"),
])
def test_english_figures_have_thousands_separators_that_the_chat_reads_back(fact, value, en, zh):
    from dialogs.parse import parse_answer
    from engine import catalogue
    from locales.explain import value_text

    assert value_text(fact, value, "en") == en
    assert value_text(fact, value, "zh") == zh  # Chinese as it was
    assert parse_answer(catalogue()[fact], en, 2024).value == value


def test_english_thresholds_and_examples_have_thousands_separators():
    from dialogs.parse import parse_answer
    from engine import catalogue
    from locales import fmt_number, t

    assert fmt_number(1234567.891, lang="en") == "1,234,567.89" and fmt_number(1234567.891) == "1234567.89"
    assert fmt_number(1e300, lang="en").endswith(",000.00")  # no error on an absurd figure
    example = t("en", "question.sme_employees.example")
    assert example == "50,000" and parse_answer(catalogue()["sme_employees"], example, 2024).value == 50000


def test_a_list_in_an_english_sentence_is_joined_with_and():
    from locales import fmt_list

    assert fmt_list(["Guangdong"], "en") == "Guangdong"
    assert fmt_list(["Guangdong", "Shaanxi"], "en") == "Guangdong and Shaanxi"
    assert fmt_list(["National (MIIT)", "Guangdong", "Shaanxi"], "en") == "National (MIIT), Guangdong and Shaanxi"
    assert fmt_list(["广东", "陕西"], "zh") == "广东、陕西"
