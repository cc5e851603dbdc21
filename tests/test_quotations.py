"""Every quotation of every ruleset is a passage of the shipped source text (white space
ignored), and the shipped sources are the published texts the project was given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine import load_rulesets
from engine.rules import SOURCE_DIR

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def quotations(ruleset):
    """(where, text) for every verbatim text a ruleset carries."""
    yield "term", ruleset.term.article_text
    d = ruleset.deadlines
    for i, report in enumerate(d.annual_reports):
        yield f"annual_reports[{i}]", report.article_text
    yield "validity", d.validity.article_text
    yield "revocation", d.revocation.article_text
    for ground in d.revocation.grounds:  # missed.* and the standing duties are among them
        yield ground.citation, ground.article_text
    for step in ruleset.application.steps:
        yield f"application {step.citation}", step.article_text

    for c in ruleset.criteria:
        yield c.id, c.article_text, c.source


@pytest.mark.parametrize("jurisdiction", list(load_rulesets()))
def test_every_quotation_is_in_the_source(jurisdiction):
    """Every ruleset file in engine/rulesets/ is checked, a new one without editing this test."""
    ruleset = load_rulesets()[jurisdiction]
    missing = [where for where, text, *source in quotations(ruleset)
               if squeeze(text) not in squeeze(ruleset.source_text(*source))]
    assert not missing, f"{ruleset.id}: not verbatim: {missing}"


def test_quotations_are_not_empty_and_cite_an_article():
    for ruleset in load_rulesets().values():
        for c in ruleset.criteria:
            assert len(squeeze(c.article_text)) >= 6, c.id
            assert re.match(r"^(第[一二三四五六七八九十]+条(（[一二三四五六七八九十]+）)?|认定标准（2022年版）(序言|[一二三四五六七八])"
                            r"|申报表 承诺函)$", c.citation), c.citation


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_shipped_sources_equal_the_seeds():
    for path in SOURCE_DIR.glob("*.txt"):
        assert path.read_bytes() == (SEEDS / path.name).read_bytes(), path.name


def test_every_quotation_of_the_application_form_is_in_its_text():
    """Labels, options, statements and the sentences findings quote (engine/forms/*.yaml)."""
    from engine.form import load_form

    form = load_form()
    source = squeeze(form.source_text())
    quoted = list(form.quotations())
    assert len(quoted) > 150
    missing = [(where, text) for where, text in quoted if squeeze(text) not in source]
    assert not missing, f"{form.id}: not verbatim: {missing}"


NUMERALS = "一二三四五六七八九十"


def articles(text: str) -> tuple[str, list]:
    """The source squeezed, and where each article (第X条 at a line's start), each section of the
    national 认定标准 (一、 at a line's start) and the 认定标准 itself begin in it."""
    squeezed, marks = "", []
    for line in text.split("\n"):
        if m := re.match(rf"^\s*(第[{NUMERALS}]+条)\s", line):
            marks.append((len(squeezed), "article", m.group(1)))
        elif m := re.match(rf"^\s*([{NUMERALS}]+)、", line):
            marks.append((len(squeezed), "section", m.group(1)))
        elif "中小企业特色产业集群认定标准" in line and not line.strip().startswith("附件："):
            marks.append((len(squeezed), "standard", ""))
        squeezed += squeeze(line)
    return squeezed, marks


def citation_at(squeezed: str, marks: list, position: int) -> str:
    """The article, and its item （X） if any, that a position of the squeezed source stands in."""
    article, start, section, standard = None, 0, None, False
    for at, kind, name in marks:
        if at > position:
            break
        if kind == "article":
            article, start, section = name, at, None
        elif kind == "standard":
            article, standard, section = None, True, None
        elif standard:
            section = name
    if standard and article is None:
        return f"认定标准（2022年版）{section or '序言'}"
    items = re.findall(rf"（([{NUMERALS}]+)）", squeezed[start:position])
    return article + (f"（{items[-1]}）" if items else "")


@pytest.mark.parametrize("jurisdiction", list(load_rulesets()))
def test_every_citation_names_the_article_its_quotation_stands_in(jurisdiction):
    """第十三条（二） quoted from 第十三条（二）, not from the item before it: a quotation may be
    verbatim and still cited to the wrong article. A citation without an item (第十二条) may
    quote from any of its items."""
    ruleset = load_rulesets()[jurisdiction]
    squeezed, marks = articles(ruleset.source_text())
    d = ruleset.deadlines
    cited = [(c.citation, c.article_text) for c in ruleset.criteria if not c.source]
    cited += [(r.citation, r.article_text) for r in d.annual_reports]
    cited += [(d.validity.citation, d.validity.article_text), (d.revocation.citation, d.revocation.article_text),
              (ruleset.term.citation, ruleset.term.article_text)]
    cited += [(g.citation, g.article_text) for g in d.revocation.grounds]
    cited += [(s.citation, s.article_text) for s in ruleset.application.steps]
    wrong = []
    for citation, text in cited:
        found = [citation_at(squeezed, marks, m.start()) for m in re.finditer(re.escape(squeeze(text)), squeezed)]
        if not any(f == citation or ("（" not in citation and f.split("（")[0] == citation) for f in found):
            wrong.append((citation, text[:20], found))
    assert len(cited) > 40 and not wrong, wrong
