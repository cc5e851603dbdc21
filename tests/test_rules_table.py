"""`clusterbot rules`: every row says what each measure's own text requires, and every part of
a row says what it is about."""

from __future__ import annotations

import re

import pytest

from dialogs.compare import criteria_side_by_side, criterion_requirement
from engine import catalogue, load_rulesets
from engine.rules import check_facts
from locales import t

RULESETS = list(load_rulesets().values())
LANGS = ("zh", "en")


def clauses(text: str, lang: str) -> list[str]:
    seps = (t(lang, "requirement.any_of_sep"), t(lang, "requirement.all_of_sep"))
    return re.split("|".join(map(re.escape, seps)), text)


@pytest.mark.parametrize("lang", LANGS)
def test_no_row_has_an_empty_or_dangling_clause(lang):
    """国家 符合产业政策 read “须具备（申报方声明）；且须不存在”: what must not exist? Each part of a
    row of several names what it is about (a fact the criterion reads)."""
    cat = catalogue()
    for r in RULESETS:
        for c in r.criteria:
            parts = clauses(criterion_requirement(c, lang), lang)
            assert all(p.strip() for p in parts), (r.id, c.id, parts)
            if len(parts) > 1:
                names = [cat[f].short_label(lang) for f in check_facts(c.check)]
                for p in parts:
                    assert any(n in p for n in names), (r.id, c.id, lang, p)
                assert len(set(parts)) == len(parts), (r.id, c.id, lang, parts)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_the_rendered_rows_as_the_testers_saw_them(lang, fmt):
    text = criteria_side_by_side(RULESETS, lang, fmt)
    bare = [t(lang, f"requirement.{k}") for k in ("declared", "declared_not", "preferred")]
    for sep in (t(lang, "requirement.any_of_sep"), t(lang, "requirement.all_of_sep")):
        for b in bare:
            assert sep + b not in text
    row = next(line for line in text.splitlines() if "第十二条（八）" in line)
    for fact in ("intl_cooperation", "domestic_cooperation"):
        assert catalogue()[fact].short_label(lang) in row


def test_each_measures_rank_wording_follows_its_own_article():
    """粤第十三条（二）、陕第十二条（二）: 全省前列; 江苏第六条（一）: 全省乃至全国前列; 国家: 全国前列."""
    seen = set()
    for r in RULESETS:
        for c in r.criteria:
            if c.check.kind != "rank_at_least":
                continue
            zh, en = criterion_requirement(c, "zh"), criterion_requirement(c, "en")
            assert zh in c.article_text, (r.id, zh)
            assert ("全国" in zh) == ("nation" in en) and ("全省" in zh) == ("province" in en), (r.id, en)
            seen.add((r.jurisdiction, zh))
    assert seen == {("national", "全国前列"), ("jiangsu", "全省乃至全国前列"),
                    ("guangdong", "全省前列"), ("shaanxi", "全省前列")}


def test_an_exclusion_row_names_what_must_not_exist():
    """Jiangsu 第七条（一） read “非禁止、限制和淘汰类产业：须不存在”, a double negative."""
    for r in RULESETS:
        for c in r.criteria:
            if c.check.kind == "declared_not":
                assert not t("zh", f"criterion.{c.id}").startswith("非"), c.id
                assert not t("en", f"criterion.{c.id}").lower().startswith("not "), c.id


@pytest.mark.parametrize("lang", LANGS)
def test_a_row_whose_measures_ask_different_things_says_which(lang):
    """Where one measure declares another fact for the same criterion (陕西 优于行业通用值, not
    高于行业基准值; 江苏 攻关, not 突破), the row's name says which measure differs: their
    cells alike (须具备) would say the four ask the same."""
    by_id: dict[str, dict[str, list[str]]] = {}
    for r in RULESETS:
        for c in r.criteria:
            if c.check.kind == "declared":
                by_id.setdefault(c.id, {}).setdefault(c.check.fact, []).append(r.short.get(lang))
    for cid, groups in by_id.items():
        if len(groups) > 1:
            fewest = min(groups.values(), key=len)
            assert all(m in t(lang, f"criterion.{cid}") for m in fewest), (cid, lang)


def run_cli(capsys, monkeypatch, now: str, *args: str) -> str:
    from bot.cli import main

    monkeypatch.setenv("CLUSTERBOT_FAKE_NOW", now)
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_rules_and_ask_say_a_measure_whose_own_term_has_ended(capsys, monkeypatch):
    """`rules` and `ask 陕西 研发` listed Shaanxi's criteria (its term ended 2025-04-27, 第二十一条
    有效期2年) and Guangdong's (2026-02-27, 第十九条 有效期3年) as law in force, with no word of it,
    where `evaluate` gives the notice."""
    out = run_cli(capsys, monkeypatch, "2026-12-07T10:00:00+08:00", "rules")
    assert ("注意：陕西：该办法（陕工信发〔2023〕89号）按第二十一条“本办法自印发之日起实施，有效期2年。”，"
            "有效期已于2025年4月27日届满（今天为2026年12月7日）；以上仍按其条文列出，仅供参考。") in out
    assert "注意：广东：该办法（粤工信服务函〔2023〕4号）按第十九条“本办法自2023年2月28日起实施，有效期3年。”，有效期已于2026年2月27日届满" in out
    assert "注意：江苏" not in out and "注意：国家" not in out  # no term: in force
    out = run_cli(capsys, monkeypatch, "2026-12-07T10:00:00+08:00", "rules", "-j", "shaanxi", "-f", "markdown", "--lang", "en")
    assert "> Note: Shaanxi: under 第二十一条 of 陕工信发〔2023〕89号 (“本办法自印发之日起实施，有效期2年。”) the measure's term ended on 2025-04-27" in out
    assert "Guangdong" not in out
    # in force then: no note
    assert "注意" not in run_cli(capsys, monkeypatch, "2025-01-10T10:00:00+08:00", "rules")
    out = run_cli(capsys, monkeypatch, "2026-12-07T10:00:00+08:00", "ask", "陕西 研发")
    assert "“近三年中小企业研发经费年均增长高于8%”" in out and "有效期已于2025年4月27日届满" in out
    assert "注意" not in run_cli(capsys, monkeypatch, "2026-12-07T10:00:00+08:00", "ask", "江苏 专利")
    out = run_cli(capsys, monkeypatch, "2026-03-01T10:00:00+08:00", "ask", "江苏和广东有什么区别")
    assert "有效期已于2026年2月27日届满（今天为2026年3月1日）" in out and "注意：陕西" not in out
